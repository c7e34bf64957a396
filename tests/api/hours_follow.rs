//! Hours changed to begin later: saved as a plain change they end at once and leave the days until
//! then without hours, so the page asks first and offers to keep them until then (the API's
//! `POST …/counselling-hours/{id}/successor`); and the preview's note on a capacity below the seats
//! already booked.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem};
use crate::hours_pages::{borrowed, input_value, lead_of_ads, rule_form_of, rules_of};
use crate::web_client::csrf_of;

/// Jana Winterberg's Tuesday hours (14:00–17:00, one-hour slots with a 15-minute break), as listed.
async fn janas_tuesdays(app: &TestApp) -> Value {
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let rules = rules_of(app, "ads").await;
    rules.into_iter().find(|r| r["counsellor_id"] == jana && r["weekday"] == 2).expect("Jana's Tuesdays")
}

/// Books Jana's free slot that starts at `local` (`YYYY-MM-DDTHH:MM`); its reference.
async fn book_janas(app: &TestApp, local: &str) -> String {
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let day = &local[..10];
    let free = app.free_slots("ads", &format!("counsellor={jana}&from={day}&to={day}&limit=50")).await;
    let slot = free.iter().find(|s| s["starts_at"].as_str().is_some_and(|at| at.starts_with(local))).expect("the slot");
    let booking = app.book_slot(slot["slot_id"].as_i64().expect("id")).await;
    booking["reference"].as_str().expect("reference").to_owned()
}

/// The lead changes Jana's Tuesdays to end at 15:00 from Tuesday 15 December, three weeks after
/// "today" (Tuesday 24 November 2026). Saving asks first, naming the three Tuesdays the hours
/// would lose and the appointment booked on them, and previews the change as kept until then;
/// nothing is written. Keeping the hours until then ends them on 14 December and adds the changed
/// hours from the 15th: the appointment on 1 December keeps its hours, so does the one on
/// 22 December at 14:00 (a time the changed hours still give: its slot stays, with its booking),
/// and the one on 22 December at 15:15 (a time they no longer give) is listed as affected.
#[tokio::test]
async fn hours_changed_to_begin_later_are_asked_about_first_and_can_keep_the_days_until_then() {
    // Arrange
    let (app, lead) = lead_of_ads().await;
    let rule = janas_tuesdays(&app).await;
    let in_between = book_janas(&app, "2026-12-01T14:00").await;
    let after = book_janas(&app, "2026-12-22T15:15").await;
    let kept = book_janas(&app, "2026-12-22T14:00").await;
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    let mut fields = rule_form_of(&html, "save");
    for (name, value) in &mut fields {
        match *name {
            "end" => *value = "15:00".to_owned(),
            "from" => *value = "2026-12-15".to_owned(),
            _ => {}
        }
    }

    // Act: saved as a change.
    let asked = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;

    // Assert: asked, with the days named and the entries kept; nothing written.
    assert_eq!(asked.status(), StatusCode::OK);
    let page = asked.text().await.expect("page");
    let question = page.split("id=\"rule-left-out\"").nth(1).expect("the question").split("</div>\n  </div>").next();
    let question = question.expect("its end");
    assert!(
        question.contains(
            "die geänderte beginnt erst am Di, 15.12.2026. An 3 Dienstagen, vom 24.11.2026 bis zum 08.12.2026, \
             hätte Jana Winterberg dann keine Beratungszeit."
        ),
        "{question}"
    );
    assert!(question.contains("In dieser Zeit ist ein Termin gebucht"), "{question}");
    assert!(question.contains("Bisherige Zeit bis Mo, 14.12.2026 behalten, Änderung ab Di, 15.12.2026"), "{question}");
    // The preview beside it: the changed hours as kept until then, and what that would affect.
    assert!(page.contains("id=\"preview\""), "the changed hours' times are shown");
    let shown = page.split("id=\"affected\"").nth(1).expect("what keeping them until then affects");
    assert!(shown.contains(&after) && !shown.contains(&kept) && !shown.contains(&in_between), "{shown:.1500}");
    assert!(!page.contains("id=\"rule-save\""), "the two choices stand instead of the plain save");
    assert_eq!(input_value(&page, "rule-end"), "15:00", "the entries are kept");
    assert_eq!(janas_tuesdays(&app).await, rule, "nothing written");

    // Act: the hours kept until then.
    let follow = rule_form_of(&page, "follow");
    let saved = lead.post(&csrf_of(&page), "/hours/ads/rules", &borrowed(&follow)).await;

    // Assert: the hours end on the 14th, the changed ones follow; only the appointment at a time
    // the changed hours do not give is affected.
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let ended = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == rule["id"]).expect("the hours");
    assert_eq!((ended["end"].clone(), ended["valid_until"].clone()), (rule["end"].clone(), "2026-12-14".into()));
    let jana = &rule["counsellor_id"];
    let rules = rules_of(&app, "ads").await;
    let new: Vec<&Value> =
        rules.iter().filter(|r| r["counsellor_id"] == *jana && r["valid_from"] == "2026-12-15").collect();
    assert_eq!(new.len(), 1, "{rules:?}");
    assert_eq!((new[0]["weekday"].clone(), new[0]["end"].clone()), (2.into(), "15:00".into()));
    let (_, done) = lead.text(&crate::web_client::location(&saved)).await;
    let affected = done.split("id=\"affected\"").nth(1).expect("the affected appointments");
    assert!(affected.contains(&after) && !affected.contains(&in_between), "{affected:.1500}");
    assert!(!affected.contains(&kept), "a time the changed hours still give keeps its booking: {affected:.1500}");
    let stored = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'hours_saved'";
    assert_eq!(app.count(stored).await, 2, "both changes are audited");
    let regular = format!(
        "SELECT COUNT(*) AS n FROM bookings b JOIN slots s ON s.id = b.slot_id \
         WHERE b.reference = '{}' AND s.rule_id = {} AND s.kind = 'regular'",
        kept.replace('-', ""),
        new[0]["id"]
    );
    assert_eq!(app.count(&regular).await, 1, "its slot is the changed hours' now");

    // The ended hours edited to run again from January overlap the changed ones: refused at the
    // form, as saving would refuse it, not asked about.
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    let mut again = rule_form_of(&html, "save");
    for (name, value) in &mut again {
        match *name {
            "from" => *value = "2027-01-05".to_owned(),
            "until" => *value = String::new(),
            _ => {}
        }
    }
    let refused = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&again)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("page");
    assert!(page.contains("überschneiden") && !page.contains("id=\"rule-left-out\""), "{page:.2000}");
}

/// "Change at once anyway" saves the plain change the lead chose knowingly: the same hours, from
/// the later day, and the days until then without them.
#[tokio::test]
async fn hours_changed_to_begin_later_can_still_be_changed_at_once() {
    let (app, lead) = lead_of_ads().await;
    let rule = janas_tuesdays(&app).await;
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    let mut fields = rule_form_of(&html, "replace");
    fields.iter_mut().find(|(name, _)| *name == "from").expect("from").1 = "2026-12-15".to_owned();

    let saved = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;

    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let changed = janas_tuesdays(&app).await;
    assert_eq!((changed["id"].clone(), changed["valid_from"].clone()), (rule["id"].clone(), "2026-12-15".into()));
    assert_eq!(rules_of(&app, "ads").await.len(), 9, "no hours added");
    // A change that does not begin later is saved at once, unasked.
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    let mut fields = rule_form_of(&html, "save");
    fields.iter_mut().find(|(name, _)| *name == "end").expect("end").1 = "16:00".to_owned();
    let saved = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "hours not running yet lose no day");
    // Hours that have not begun yet, begun later still: a plain change, unasked.
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    let mut fields = rule_form_of(&html, "save");
    fields.iter_mut().find(|(name, _)| *name == "from").expect("from").1 = "2027-01-05".to_owned();
    let saved = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "not asked");
    assert_eq!(janas_tuesdays(&app).await["valid_from"], "2027-01-05");
}

/// The API: `POST …/{id}/successor` ends the hours the day before and adds the new ones in one
/// change (201 with both); a `valid_from` of today, hours that have ended, a stale `updated_at`
/// and hours overlapping the counsellor's others are refused, nothing written.
#[tokio::test]
async fn the_api_adds_hours_that_follow_others_from_a_later_day() {
    use chrono::TimeDelta;
    let (app, _lead) = lead_of_ads().await;
    let rule = janas_tuesdays(&app).await;
    let path = format!("/api/v1/units/ads/counselling-hours/{}/successor", rule["id"]);
    let body = |from: &str, change: &dyn Fn(&mut Value)| {
        let mut body = serde_json::json!({
            "counsellor_id": rule["counsellor_id"], "weekday": 2, "start": "14:00", "end": "15:00",
            "slot_minutes": 60, "buffer_minutes": 15, "capacity": 2, "valid_from": from,
        });
        change(&mut body);
        body
    };

    // Refused: from today (nothing to keep), and a stale reading; nothing written.
    let today = app.post_as(&app.admin_token, &path, &body("2026-11-24", &|_| {})).await;
    let problem = assert_problem(today, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(problem.to_string().contains("valid_from"), "{problem}");
    app.clock.advance(TimeDelta::minutes(1));
    let stale = body("2027-01-05", &|b| b["updated_at"] = "2026-11-01T00:00:00Z".into());
    assert_problem(app.post_as(&app.admin_token, &path, &stale).await, StatusCode::CONFLICT, "concurrent_update").await;
    assert_eq!(janas_tuesdays(&app).await, rule, "nothing written");

    // Made, with the reading.
    let fresh = body("2027-01-05", &|b| b["updated_at"] = rule["updated_at"].clone());
    let made = app.post_as(&app.admin_token, &path, &fresh).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let change: Value = made.json().await.expect("json");
    assert_eq!(change["ended"]["id"], rule["id"]);
    assert_eq!(change["ended"]["valid_until"], "2027-01-04");
    assert_eq!(
        (change["rule"]["valid_from"].clone(), change["rule"]["capacity"].clone()),
        ("2027-01-05".into(), 2.into())
    );
    assert_ne!(change["rule"]["id"], rule["id"], "new hours");

    // The ended hours once more: their end is already before a later start, and they overlap
    // the new hours from the 5th on.
    let again = app.post_as(&app.admin_token, &path, &body("2027-01-12", &|_| {})).await;
    assert_problem(again, StatusCode::CONFLICT, "hours_overlap").await;
    assert_eq!(rules_of(&app, "ads").await.len(), 10, "one more hours entry, no other");
}

/// The preview names the times the change keeps that have more seats booked than the new
/// capacity: their bookings stay.
#[tokio::test]
async fn the_preview_says_when_a_capacity_falls_below_the_seats_already_booked() {
    let (app, lead) = lead_of_ads().await;
    let rule = janas_tuesdays(&app).await;
    let put = format!("/api/v1/units/ads/counselling-hours/{}", rule["id"]);
    let body = serde_json::json!({
        "counsellor_id": rule["counsellor_id"], "weekday": 2, "start": "14:00", "end": "17:00",
        "slot_minutes": 60, "buffer_minutes": 15, "capacity": 3, "valid_from": rule["valid_from"],
    });
    assert_eq!(app.put_as(&app.admin_token, &put, &body).await.status(), StatusCode::OK, "a group of three");
    book_janas(&app, "2026-12-01T14:00").await;
    book_janas(&app, "2026-12-01T14:00").await;
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    assert!(!html.contains("id=\"rule-fuller\""), "nothing to say before a preview");

    for (capacity, said) in
        [("2", None), ("1", Some("Ein Termin dieser Beratungszeit ist schon mit mehr Personen belegt"))]
    {
        let mut fields = rule_form_of(&html, "preview");
        fields.iter_mut().find(|(name, _)| *name == "capacity").expect("capacity").1 = capacity.to_owned();
        let response = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.expect("page");
        let note = page.split("id=\"rule-fuller\">").nth(1).map(|n| n.split('<').next().expect("text"));
        assert_eq!(
            note.map(|n| n.starts_with(said.unwrap_or("?"))),
            said.map(|_| true),
            "capacity {capacity}: {note:?}"
        );
    }
}
