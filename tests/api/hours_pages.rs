//! The unit leads' hours page as a browser uses it: editing the hours of someone who left, the
//! preview of hours that start later, and what a reload after a change does.

use reqwest::StatusCode;
use serde_json::Value;
use terminbuch::domain::accounts::RequireMfa;
use terminbuch::domain::ids::StaffId;

use crate::helpers::{TestApp, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, csrf_of};

/// The server and a unit lead of the anti-discrimination office logged in on the pages.
pub(crate) async fn lead_of_ads() -> (TestApp, Desk) {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("leitung", "unit_lead", Some("ads")).await;
    let lead = Desk::new(&app.address);
    assert_eq!(lead.log_in("leitung", PASSWORD).await.status(), StatusCode::SEE_OTHER, "the lead logs in");
    (app, lead)
}

/// The unit's rules as the API lists them.
pub(crate) async fn rules_of(app: &TestApp, unit: &str) -> Vec<Value> {
    let response = app.get_as(&app.admin_token, &format!("/api/v1/units/{unit}/counselling-hours")).await;
    response.json().await.expect("the rules")
}

/// The value and label of the option the select with `id` has selected (as a browser would send
/// it: the first option when none is).
fn selected_option(html: &str, id: &str) -> (String, String) {
    let select = html.split(&format!("<select id=\"{id}\"")).nth(1).expect("the select");
    let select = select.split("</select>").next().expect("its end");
    let options: Vec<&str> = select.split("<option value=\"").skip(1).collect();
    let chosen = options.iter().find(|o| o.contains("\" selected>")).or(options.first()).expect("an option");
    let value = chosen.split('"').next().expect("value").to_owned();
    let label = chosen.split('>').nth(1).expect("label").split('<').next().expect("label").to_owned();
    (value, label)
}

/// The value of the input with `id`.
pub(crate) fn input_value(html: &str, id: &str) -> String {
    let input = html.split(&format!("<input id=\"{id}\"")).nth(1).expect("the input");
    input.split("value=\"").nth(1).expect("a value").split('"').next().expect("value").to_owned()
}

/// The rule form as a browser sends it from `html`, with `action`.
pub(crate) fn rule_form_of(html: &str, action: &'static str) -> Vec<(&'static str, String)> {
    let id = html.split("name=\"id\" value=\"").nth(1).expect("the id").split('"').next().expect("id").to_owned();
    let mut fields = vec![("id", id), ("counsellor", selected_option(html, "rule-counsellor").0)];
    fields.push(("weekday", selected_option(html, "rule-weekday").0));
    for (name, input) in [
        ("start", "rule-start"),
        ("end", "rule-end"),
        ("slot", "rule-slot"),
        ("buffer", "rule-buffer"),
        ("capacity", "rule-capacity"),
        ("from", "rule-from"),
        ("until", "rule-until"),
    ] {
        fields.push((name, input_value(html, input)));
    }
    fields.push(("action", action.to_owned()));
    let seen = html.split("name=\"seen\" value=\"").nth(1).expect("the reading").split('"').next().expect("seen");
    fields.push(("seen", seen.to_owned()));
    fields
}

pub(crate) fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A counsellor who left (deactivated) keeps their hours until the lead changes them: the edit
/// form shows them chosen and marked, and saving it as the browser sends it never hands their hours
/// to the colleague listed first; the service names the counsellor field instead.
#[tokio::test]
async fn editing_the_hours_of_a_counsellor_who_left_never_hands_them_to_a_colleague() {
    // Arrange: Jana Winterberg's hours, and Jana deactivated.
    let (app, lead) = lead_of_ads().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let rule = rules_of(&app, "ads").await.into_iter().find(|r| r["counsellor_id"] == jana).expect("a rule of Jana");
    let member = terminbuch::store::directory::find_staff(&app.db, StaffId::new(i32::try_from(jana).expect("id")))
        .await
        .expect("db")
        .expect("Jana");
    let response = app
        .post_as(&app.admin_token, &format!("/api/v1/staff/{}/deactivate", member.login), &serde_json::json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "Jana deactivated");

    // Act: the lead opens the edit form of Jana's rule.
    let (status, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;

    // Assert: Jana is chosen and marked; the rules list names her.
    assert_eq!(status, StatusCode::OK);
    let (value, label) = selected_option(&html, "rule-counsellor");
    assert_eq!(value, jana.to_string(), "the rule's counsellor is chosen");
    assert_eq!(label, "Jana Winterberg (berät hier nicht mehr)", "and marked as gone");
    let listed = html.split("id=\"rules-title\"").nth(1).expect("the rules");
    assert!(listed.contains("<td>Jana Winterberg (berät hier nicht mehr)</td>"), "the list names her: {listed:.600}");
    assert!(!listed.contains(&format!("#{jana}")), "never by her number");
    let absences = html.split("<select id=\"absence-counsellor\"").nth(1).expect("the absence form");
    assert!(!absences.split("</select>").next().expect("select").contains("Jana"), "no new absence for her");

    // Act: saved as the browser sends the form.
    let fields = rule_form_of(&html, "save");
    let response = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;

    // Assert: refused at the counsellor's field, the form still showing her; the rule is hers.
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(html.contains("href=\"#rule-counsellor\""), "named at the counsellor's field");
    assert_eq!(selected_option(&html, "rule-counsellor").0, jana.to_string(), "she is still chosen");
    let after = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == rule["id"]).expect("the rule");
    assert_eq!(after["counsellor_id"], jana, "the hours stay hers");
    // The preview says the same.
    let fields = rule_form_of(&html, "preview");
    let response = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "the preview too");
}

/// Hours that begin after the next two weeks are previewed from their first day: the lead sees
/// the slots they will give, not "no slots".
#[tokio::test]
async fn the_preview_of_hours_that_begin_later_shows_their_first_slots() {
    // Arrange: Saturdays (a day she has no hours) 08:00–10:00 from Saturday 9 January 2027,
    // six weeks after "today".
    let (app, lead) = lead_of_ads().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await.to_string();
    let fields = [
        ("counsellor", jana.as_str()),
        ("weekday", "6"),
        ("start", "08:00"),
        ("end", "10:00"),
        ("slot", "60"),
        ("buffer", "0"),
        ("capacity", "1"),
        ("from", "2027-01-09"),
        ("action", "preview"),
    ];

    // Act
    let response = lead.submit("/hours?unit=ads", "/hours/ads/rules", &fields).await;

    // Assert: the first two Saturdays, two slots each, and nothing saved.
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("page");
    let preview = html.split("id=\"preview\"").nth(1).expect("the preview").split("</section>").next().expect("end");
    let listed: Vec<&str> = preview.split("<li>").skip(1).map(|li| li.split('<').next().expect("text")).collect();
    assert_eq!(
        listed,
        ["Sa, 09.01.2027, 08:00", "Sa, 09.01.2027, 09:00", "Sa, 16.01.2027, 08:00", "Sa, 16.01.2027, 09:00"],
        "{preview}"
    );
    assert!(rules_of(&app, "ads").await.iter().all(|r| r["valid_from"] != "2027-01-09"), "nothing saved");
}

/// A period's reason is trimmed, then counted, through the API as on the page: 199 characters
/// with spaces around them are taken (and stored trimmed) by both; 201 are refused by both.
#[tokio::test]
async fn a_period_reason_is_trimmed_then_counted_by_the_api_as_by_the_page() {
    // Arrange
    let (app, lead) = lead_of_ads().await;
    let padded = format!("  {}  ", "R".repeat(199));
    let overlong = "R".repeat(201);

    // Act: closures through the API and through the page, on days of their own.
    let closure = |day: &str, reason: &str| serde_json::json!({ "from_date": day, "reason": reason });
    let api_taken = app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure("2027-01-05", &padded)).await;
    let api_refused =
        app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure("2027-01-06", &overlong)).await;
    let form = |day: &str, reason: &str| {
        vec![("from", day.to_owned()), ("to", day.to_owned()), ("reason", reason.to_owned()), ("action", "save".into())]
    };
    let page_taken =
        lead.submit("/hours?unit=ads", "/hours/ads/closures", &borrowed(&form("2027-01-07", &padded))).await;
    let page_refused =
        lead.submit("/hours?unit=ads", "/hours/ads/closures", &borrowed(&form("2027-01-08", &overlong))).await;

    // Assert
    assert_eq!(api_taken.status(), StatusCode::CREATED, "the API takes what the page takes");
    let taken: Value = api_taken.json().await.expect("json");
    assert_eq!(taken["reason"], "R".repeat(199), "stored trimmed");
    let problem =
        crate::helpers::assert_problem(api_refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "reason", "{problem}");
    assert!(page_taken.status().is_success() || page_taken.status().is_redirection(), "{}", page_taken.status());
    assert_eq!(page_refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_refused.text().await.expect("page").contains("href=\"#closure-reason\""), "at the reason");
    let stored = app.count(&format!("SELECT COUNT(*) AS n FROM closures WHERE reason = '{}'", "R".repeat(199))).await;
    assert_eq!(stored, 2, "one from each edge, both trimmed");
}

/// What a lead saves is on the lead's page however far ahead it lies (a closure in two years was
/// saved, blocked its days, and was listed nowhere); a span that has already ended, or a reason of
/// invisible characters alone, is refused at its field, by the page as by the API.
#[tokio::test]
async fn a_closure_far_ahead_is_listed_and_one_already_over_or_without_a_visible_reason_is_refused() {
    // Arrange
    let (app, lead) = lead_of_ads().await;
    let form = |day: &str, reason: &str| {
        vec![("from", day.to_owned()), ("to", day.to_owned()), ("reason", reason.to_owned()), ("action", "save".into())]
    };

    // Act
    let far = lead.submit("/hours?unit=ads", "/hours/ads/closures", &borrowed(&form("2028-02-08", "Umzug"))).await;
    let over = lead.submit("/hours?unit=ads", "/hours/ads/closures", &borrowed(&form("2025-02-08", "Umzug"))).await;
    let invisible =
        lead.submit("/hours?unit=ads", "/hours/ads/closures", &borrowed(&form("2027-02-08", "\u{200b}\u{200b}"))).await;
    let closure = |day: &str, reason: &str| serde_json::json!({ "from_date": day, "reason": reason });
    let api_over = app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure("2025-02-08", "Umzug")).await;

    // Assert
    assert!(far.status().is_success() || far.status().is_redirection(), "{}", far.status());
    let (_, page) = lead.text("/hours?unit=ads").await;
    let listed = page.split("id=\"closures-list\"").nth(1).expect("the closures' list");
    assert!(listed.contains("08.02.2028"), "listed however far ahead: {listed}");
    for (what, refused, text) in [("over", over, "Vergangenheit"), ("invisible", invisible, "href=\"#closure-reason\"")]
    {
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let html = refused.text().await.expect("page");
        assert!(html.contains(text), "{what}: at its field: {html}");
    }
    assert_eq!(api_over.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM closures").await, 1, "the one far ahead alone");
}

/// A change on the hours page leads on to the page (303): the appointments it left in the
/// absence are listed there, and again on a reload, which does not make the change again.
#[tokio::test]
async fn a_change_on_the_hours_page_leads_on_to_the_page_with_the_appointments_it_affects() {
    // Arrange: an appointment with Jana, and her absence on its day typed on the page.
    let (app, lead) = lead_of_ads().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let slot = app.free_slots("ads", &format!("counsellor={jana}&limit=1")).await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().expect("slot")).await;
    let reference = booking["reference"].as_str().expect("reference");
    let day = &slot["starts_at"].as_str().expect("start")[..10];
    let jana = jana.to_string();
    let fields =
        [("counsellor", jana.as_str()), ("from", day), ("to", day), ("reason", "Fortbildung"), ("action", "save")];

    // Act
    let response = lead.submit("/hours?unit=ads", "/hours/ads/absences", &fields).await;

    // Assert: on to the page, which lists the appointment, also when reloaded.
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = crate::web_client::location(&response);
    assert!(to.starts_with("/hours?unit=ads&done=saved&change="), "{to}");
    for _ in 0..2 {
        let (status, html) = lead.text(&to).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("id=\"saved\""), "the notice");
        let affected = html.split("id=\"affected\"").nth(1).expect("the affected appointments");
        assert!(affected.contains(reference), "the appointment in the absence is listed");
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 1, "recorded once");

    // A rule saved and then deleted on the page: each leads on, and a reload stores nothing again.
    let rule = [
        ("counsellor", jana.as_str()),
        ("weekday", "6"),
        ("start", "08:00"),
        ("end", "10:00"),
        ("slot", "60"),
        ("buffer", "0"),
        ("capacity", "1"),
        ("from", "2026-11-24"),
        ("action", "save"),
    ];
    let saved = lead.submit("/hours?unit=ads", "/hours/ads/rules", &rule).await;
    let after_rule = crate::web_client::location(&saved);
    assert!(after_rule.starts_with("/hours?unit=ads&done=saved&change=") && after_rule != to, "{after_rule}");
    let (_, html) = lead.text(&after_rule).await;
    assert!(!html.contains("id=\"affected\""), "a new rule strands nothing");
    // The absence's address, opened again from the history, no longer lists its appointments.
    let (_, html) = lead.text(&to).await;
    assert!(!html.contains("id=\"affected\""), "an earlier change's list is not shown again");
    let rules = rules_of(&app, "ads").await;
    assert_eq!(rules.iter().filter(|r| r["weekday"] == 6).count(), 1, "saved once");
    let id = rules.iter().find(|r| r["weekday"] == 6).expect("the new rule")["id"].to_string();
    let deleted = lead.submit("/hours?unit=ads", &format!("/hours/ads/rules/{id}/delete"), &[("confirm", "1")]).await;
    assert!(crate::web_client::location(&deleted).starts_with("/hours?unit=ads&done=deleted&change="));
    assert!(rules_of(&app, "ads").await.iter().all(|r| r["weekday"] != 6), "deleted");
}

/// The API's replacement body of the hours `rule` (as listed), with `change` applied.
fn hours_body(rule: &Value, change: impl FnOnce(&mut Value)) -> Value {
    let mut body = serde_json::json!({
        "counsellor_id": rule["counsellor_id"], "weekday": rule["weekday"], "start": rule["start"],
        "end": rule["end"], "slot_minutes": rule["slot_minutes"], "buffer_minutes": rule["buffer_minutes"],
        "capacity": rule["capacity"], "valid_from": rule["valid_from"],
    });
    change(&mut body);
    body
}

/// Two leads change the same hours: the one who saves from a form filled before the other saved
/// is told, and nothing of theirs is saved (before, it silently undid the other's change); the
/// form keeps their entries, and saving it again replaces the other's knowingly. The API does
/// the same with the `updated_at` it read sent back (409 `concurrent_update`).
#[tokio::test]
async fn a_change_of_hours_made_from_an_older_reading_is_refused_not_lost() {
    use chrono::TimeDelta;
    // Arrange: the lead opens the edit form of a rule; a minute later another lead (through the
    // API, with the reading it made) doubles its seats.
    let (app, lead) = lead_of_ads().await;
    let rule = rules_of(&app, "ads").await.into_iter().next().expect("a rule");
    let path = format!("/api/v1/units/ads/counselling-hours/{}", rule["id"]);
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    app.clock.advance(TimeDelta::minutes(1));
    let body = hours_body(&rule, |b| {
        b["capacity"] = serde_json::json!(2);
        b["updated_at"] = rule["updated_at"].clone();
    });
    let other = app.put_as(&app.admin_token, &path, &body).await;
    assert_eq!(other.status(), StatusCode::OK, "the other lead's change");

    // Act: the lead saves a later end from the form filled before.
    app.clock.advance(TimeDelta::minutes(1));
    let mut fields = rule_form_of(&html, "save");
    let end = fields.iter_mut().find(|(name, _)| *name == "end").expect("end");
    end.1 = "17:30".to_owned();
    let refused = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;

    // Assert: refused and told, nothing saved: the other lead's seats stand, the end is as it was.
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("page");
    assert!(html.contains("inzwischen jemand anderes geändert"), "told: {html:.2000}");
    assert_eq!(input_value(&html, "rule-end"), "17:30", "the lead's entry is kept in the form");
    let after = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == rule["id"]).expect("the rule");
    assert_eq!((after["capacity"].clone(), after["end"].clone()), (serde_json::json!(2), rule["end"].clone()));

    // Saving the kept form again replaces the other's change knowingly.
    let fields = rule_form_of(&html, "save");
    let saved = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "saved the second time");
    let last = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == rule["id"]).expect("the rule");
    assert_eq!((last["capacity"].clone(), last["end"].clone()), (rule["capacity"].clone(), serde_json::json!("17:30")));

    // The API: a replacement with the reading from before the page's save is refused, nothing
    // written; without `updated_at` it is made.
    app.clock.advance(TimeDelta::minutes(1));
    let stale = hours_body(&rule, |b| b["updated_at"] = after["updated_at"].clone());
    crate::helpers::assert_problem(
        app.put_as(&app.admin_token, &path, &stale).await,
        StatusCode::CONFLICT,
        "concurrent_update",
    )
    .await;
    let unchanged = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == rule["id"]).expect("the rule");
    assert_eq!(unchanged, last, "nothing written");
    let blind = app.put_as(&app.admin_token, &path, &hours_body(&rule, |_| {})).await;
    assert_eq!(blind.status(), StatusCode::OK, "without a reading, as before");
}

/// A hours form whose reading was changed by hand (or lost) is refused as changed meanwhile, not
/// let past the check; one whose hours another lead deleted meanwhile keeps the entries and says
/// so (it was a bare "not found" page), and saving them again adds them as new hours.
#[tokio::test]
async fn a_hours_form_without_its_reading_or_of_hours_deleted_meanwhile_is_refused_keeping_the_entries() {
    // Arrange: the lead opens the edit form of a rule.
    let (app, lead) = lead_of_ads().await;
    let rule = rules_of(&app, "ads").await.into_iter().next().expect("a rule");
    let (_, html) = lead.text(&format!("/hours?unit=ads&edit={}", rule["id"])).await;
    let mut fields = rule_form_of(&html, "save");
    fields.iter_mut().find(|(name, _)| *name == "end").expect("end").1 = "17:30".to_owned();

    // Act / Assert: the reading replaced by garbage.
    let mut garbled = fields.clone();
    garbled.iter_mut().find(|(name, _)| *name == "seen").expect("the reading").1 = "garbage".to_owned();
    let refused = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&garbled)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("page").contains("inzwischen jemand anderes geändert"));
    let unchanged = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == rule["id"]).expect("the rule");
    assert_eq!(unchanged["end"], rule["end"], "nothing written");

    // Another lead deletes the rule; the form is saved.
    let path = format!("/api/v1/units/ads/counselling-hours/{}", rule["id"]);
    assert!(app.delete_as(&app.admin_token, &path).await.status().is_success(), "deleted");
    let refused = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("page");
    assert!(page.contains("inzwischen jemand anderes gelöscht"), "told: {page:.2000}");
    assert_eq!(input_value(&page, "rule-end"), "17:30", "the entries are kept");

    // Saved again from there: new hours.
    let again = rule_form_of(&page, "save");
    let saved = lead.post(&csrf_of(&page), "/hours/ads/rules", &borrowed(&again)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "saved as new hours");
    let rules = rules_of(&app, "ads").await;
    assert!(rules.iter().any(|r| r["end"] == "17:30" && r["id"] != rule["id"]), "{rules:?}");
}

/// The hours form sent twice (a double click, a reload) saves the hours once: the second sending
/// overlaps the first's hours of the same counsellor and is refused at the form, as are hours that
/// overlap another entry of the person in part; touching hours are fine. The API answers 409
/// `hours_overlap`, nothing written.
#[tokio::test]
async fn hours_sent_twice_or_overlapping_a_counsellors_other_hours_are_refused() {
    let (app, lead) = lead_of_ads().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await.to_string();
    let form = |start: &'static str, end: &'static str| {
        vec![
            ("counsellor", jana.clone()),
            ("weekday", "6".to_owned()),
            ("start", start.to_owned()),
            ("end", end.to_owned()),
            ("slot", "60".to_owned()),
            ("buffer", "0".to_owned()),
            ("capacity", "1".to_owned()),
            ("from", "2027-01-04".to_owned()),
            ("action", "save".to_owned()),
        ]
    };
    let saturdays = || async {
        rules_of(&app, "ads")
            .await
            .iter()
            .filter(|r| r["counsellor_id"].as_i64().is_some_and(|id| id.to_string() == jana) && r["weekday"] == 6)
            .count()
    };
    let first = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&form("09:00", "11:00"))).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER, "saved");

    let again = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&form("09:00", "11:00"))).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.expect("page").contains("überschneiden"), "told at the form");
    let partly = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&form("10:00", "12:00"))).await;
    assert_eq!(partly.status(), StatusCode::UNPROCESSABLE_ENTITY, "overlapping in part");
    // The preview says so too, instead of a list of times that could not be saved.
    let mut preview = form("10:00", "12:00");
    preview.iter_mut().find(|(k, _)| *k == "action").expect("action").1 = "preview".to_owned();
    let previewed = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&preview)).await;
    assert_eq!(previewed.status(), StatusCode::UNPROCESSABLE_ENTITY, "the preview refuses it");
    let html = previewed.text().await.expect("page");
    assert!(html.contains("überschneiden") && !html.contains("id=\"preview\""), "told at the form, no times");
    assert_eq!(saturdays().await, 1, "saved once");

    let touching = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&form("11:00", "12:00"))).await;
    assert_eq!(touching.status(), StatusCode::SEE_OTHER, "hours that only touch are saved");
    let body = serde_json::json!({ "counsellor_id": jana.parse::<i64>().expect("id"), "weekday": 6, "start": "09:30",
        "end": "10:30", "slot_minutes": 60, "valid_from": "2027-01-04" });
    let refused = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &body).await;
    crate::helpers::assert_problem(refused, StatusCode::CONFLICT, "hours_overlap").await;
    assert_eq!(saturdays().await, 2);
}
