//! The checks of the unit leads' hours page as QA found them wanting: every wrong field named at
//! once and for its reason, hours valid only in the past refused (page and API), whole days
//! listed as days, deletions asked first and harmless when sent twice, and the small ones (the
//! break listed, an empty break as none, the hints).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem};
use crate::hours_pages::{borrowed, input_value, lead_of_ads, rule_form_of, rules_of};
use crate::web_client::{Desk, csrf_of, location, text_of_id};

/// The rule form for Jana Winterberg's Saturday hours (a day the unit has none), 08:00–10:00 in
/// appointments of an hour, from Monday 30 November 2026, with `changes` applied.
fn saturday(jana: &str, changes: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = [
        ("counsellor", jana),
        ("weekday", "6"),
        ("start", "08:00"),
        ("end", "10:00"),
        ("slot", "60"),
        ("buffer", "0"),
        ("capacity", "1"),
        ("from", "2026-11-30"),
        ("until", ""),
        ("action", "save"),
    ]
    .iter()
    .map(|(k, v)| (*k, (*v).to_owned()))
    .collect();
    for (name, value) in changes {
        fields.iter_mut().find(|(k, _)| k == name).expect("a field of the form").1 = (*value).to_owned();
    }
    fields
}

/// The API's body for the same hours.
fn saturday_body(jana: &str, changes: Value) -> Value {
    let mut body = json!({ "counsellor_id": jana.parse::<i64>().expect("id"), "weekday": 6, "start": "08:00",
        "end": "10:00", "slot_minutes": 60, "valid_from": "2026-11-30" });
    for (key, value) in changes.as_object().expect("changes") {
        body[key] = value.clone();
    }
    body
}

/// The inputs the error summary links to, in its order.
fn summary_links(html: &str) -> Vec<String> {
    let summary = html.split("id=\"error-summary\"").nth(1).expect("an error summary");
    let summary = summary.split("</div>").next().expect("its end");
    summary.split("<a href=\"#").skip(1).map(|a| a.split('"').next().expect("link").to_owned()).collect()
}

/// The opening tag of the input with `id`.
fn input_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let tag = html.split(&format!("<input id=\"{id}\"")).nth(1).expect("the input");
    tag.split('>').next().expect("its end")
}

async fn jana_of(app: &TestApp) -> String {
    app.counsellor_id("ads", "Jana Winterberg").await.to_string()
}

/// Saturdays of Jana's, as the API lists them.
async fn saturdays(app: &TestApp, jana: &str) -> Vec<Value> {
    let rules = rules_of(app, "ads").await;
    let jana: i64 = jana.parse().expect("id");
    rules.into_iter().filter(|r| r["weekday"] == 6 && r["counsellor_id"] == jana).collect()
}

#[tokio::test]
async fn hours_with_several_wrong_fields_name_every_one_at_its_field_at_once() {
    // Arrange
    let (app, lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;

    for action in ["preview", "save"] {
        // Act: a slot of 0 minutes, a break of -5, no seats.
        let fields = saturday(&jana, &[("slot", "0"), ("buffer", "-5"), ("capacity", "0"), ("action", action)]);
        let response = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&fields)).await;

        // Assert: all three, in the order of the form, each at its field; the typed values kept.
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        let html = response.text().await.expect("page");
        assert_eq!(summary_links(&html), ["rule-slot", "rule-buffer", "rule-capacity"], "{action}");
        for (input, said) in [
            ("rule-slot", "Termindauer zwischen 5 und"),
            ("rule-buffer", "0 bis 239 Minuten"),
            ("rule-capacity", "1 bis 100 Plätze"),
        ] {
            assert!(text_of_id(&html, &format!("{input}-error")).contains(said), "{input}: {action}");
            assert!(input_tag(&html, input).contains("aria-invalid=\"true\""), "{input} marked");
        }
        assert_eq!(input_value(&html, "rule-buffer"), "-5", "what was typed is kept");
    }
    assert!(saturdays(&app, &jana).await.is_empty(), "nothing saved");
}

#[tokio::test]
async fn a_wrong_rule_is_named_for_its_reason_at_the_field_that_is_wrong_on_the_page_and_in_the_api() {
    let (app, lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;
    // The form's changes, the input named and what it says, the API's changes and field.
    type Case<'a> = (&'a [(&'static str, &'a str)], &'a str, &'a str, Value, &'a str);
    let cases: [Case; 3] = [
        (
            &[("from", "2026-12-01"), ("until", "2026-11-30")],
            "rule-until",
            "„Gültig bis“ darf nicht vor „Gültig ab“ liegen.",
            json!({ "valid_from": "2026-12-01", "valid_until": "2026-11-30" }),
            "valid_until",
        ),
        (
            &[("start", "12:00"), ("end", "10:00")],
            "rule-end",
            "Das Ende muss nach dem Beginn liegen.",
            json!({ "start": "12:00", "end": "10:00" }),
            "end",
        ),
        (
            &[("start", "10:00"), ("end", "10:30"), ("slot", "60")],
            "rule-slot",
            "Die Termindauer ist länger als die Zeit von Beginn bis Ende: So passt kein Termin hinein.",
            json!({ "start": "10:00", "end": "10:30", "slot_minutes": 60 }),
            "slot_minutes",
        ),
    ];
    for (changes, input, said, api_changes, api_field) in cases {
        for action in ["preview", "save"] {
            // Act
            let mut fields = saturday(&jana, changes);
            fields.iter_mut().find(|(k, _)| *k == "action").expect("action").1 = action.to_owned();
            let response = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&fields)).await;

            // Assert: the one wrong field, for its reason; never the catch-all.
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{input} {action}");
            let html = response.text().await.expect("page");
            assert_eq!(summary_links(&html), [input], "{action}");
            assert_eq!(text_of_id(&html, &format!("{input}-error")), said, "{action}");
            assert!(!html.contains("Bitte prüfen Sie die Zeiten"), "not the catch-all: {input} {action}");
        }
        // The API names the same field (its request's name).
        let refused = app
            .post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &saturday_body(&jana, api_changes))
            .await;
        let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], api_field, "{problem}");
    }
    assert!(saturdays(&app, &jana).await.is_empty(), "nothing saved");
}

/// The API names every wrong field of the hours in one 422, as the page does: out of range,
/// unreadable and wrong together; a problem judged against an unreadable field is left out.
#[tokio::test]
async fn the_api_names_every_wrong_field_of_the_hours_at_once() {
    let (app, _lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;
    let fields_of = |problem: &Value| -> Vec<String> {
        problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_owned())
            .collect()
    };
    let cases = [
        // The end cannot be judged against a start that cannot be read: only the start is named.
        (
            json!({ "weekday": 9, "start": "25:00", "end": "07:00", "capacity": 0,
                "valid_from": "2026-12-01", "valid_until": "2026-11-30" }),
            vec!["weekday", "start", "capacity", "valid_until"],
        ),
        (
            json!({ "start": "12:00", "end": "10:00", "slot_minutes": 30, "buffer_minutes": 500 }),
            vec!["end", "buffer_minutes"],
        ),
        (json!({ "valid_from": "2026-13-01", "valid_until": "morgen" }), vec!["valid_from", "valid_until"]),
    ];
    for (changes, expected) in cases {
        // Act
        let refused = app
            .post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &saturday_body(&jana, changes.clone()))
            .await;

        // Assert
        let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(fields_of(&problem), expected, "{changes}: {problem}");
        for error in problem["errors"].as_array().expect("errors") {
            assert!(!error["message"].as_str().expect("message").is_empty(), "each says why: {problem}");
        }
    }
    assert!(saturdays(&app, &jana).await.is_empty(), "nothing saved");
}

/// "Today" is Tuesday 24 November 2026.
#[tokio::test]
async fn hours_valid_only_in_the_past_are_refused_but_running_hours_may_end_yesterday() {
    use chrono::TimeDelta;
    let (app, lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;

    // New hours of two weeks ago, on the page (check and save) and through the API: refused at
    // "Gültig bis", nothing saved.
    for action in ["preview", "save"] {
        let fields = saturday(&jana, &[("from", "2026-11-09"), ("until", "2026-11-20"), ("action", action)]);
        let response = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&fields)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        let html = response.text().await.expect("page");
        assert_eq!(summary_links(&html), ["rule-until"], "{action}");
        assert!(text_of_id(&html, "rule-until-error").contains("liegt in der Vergangenheit"), "{action}");
    }
    let past = saturday_body(&jana, json!({ "valid_from": "2026-11-09", "valid_until": "2026-11-20" }));
    let refused = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &past).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "valid_until", "{problem}");
    assert!(saturdays(&app, &jana).await.is_empty(), "nothing saved");

    // Hours until today are saved.
    let today =
        saturday(&jana, &[("start", "12:00"), ("end", "14:00"), ("from", "2026-11-09"), ("until", "2026-11-24")]);
    let saved = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&today)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "until today");

    // Hours that have run since 9 November: ended yesterday on the page, so none are left today.
    let running = saturday_body(&jana, json!({ "valid_from": "2026-11-09" }));
    let created = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &running).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["rule"]["id"].clone();
    let edit = format!("/hours?unit=ads&edit={id}");
    let with_until = |html: &str, until: &str| {
        let mut fields = rule_form_of(html, "save");
        fields.iter_mut().find(|(k, _)| *k == "until").expect("until").1 = until.to_owned();
        fields
    };
    let (_, html) = lead.text(&edit).await;
    let refused = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&with_until(&html, "2026-11-16"))).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "ended a week ago: the past rewritten");
    assert_eq!(summary_links(&refused.text().await.expect("page")), ["rule-until"]);
    let (_, html) = lead.text(&edit).await;
    let ended = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&with_until(&html, "2026-11-23"))).await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER, "ended yesterday");
    let rule = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == id).expect("the rule");
    assert_eq!(rule["valid_until"], "2026-11-23");

    // A week later its end lies in the past: left as it is, the rest of it may be corrected; an
    // end moved elsewhere into the past is refused (API as page).
    app.clock.advance(TimeDelta::days(7));
    let (_, html) = lead.text(&edit).await;
    let mut fields = rule_form_of(&html, "save");
    fields.iter_mut().find(|(k, _)| *k == "capacity").expect("capacity").1 = "2".to_owned();
    let corrected = lead.post(&csrf_of(&html), "/hours/ads/rules", &borrowed(&fields)).await;
    assert_eq!(corrected.status(), StatusCode::SEE_OTHER, "an ended rule corrected, its end untouched");
    let moved = saturday_body(&jana, json!({ "valid_from": "2026-11-09", "valid_until": "2026-11-25" }));
    let refused = app.put_as(&app.admin_token, &format!("/api/v1/units/ads/counselling-hours/{id}"), &moved).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "valid_until", "{problem}");
    let rule = rules_of(&app, "ads").await.into_iter().find(|r| r["id"] == id).expect("the rule");
    assert_eq!((rule["valid_until"].clone(), rule["capacity"].clone()), (json!("2026-11-23"), json!(2)));
}

/// The absences (and closures) list of the hours page, the periods typed on the page.
async fn listed(lead: &Desk, list: &str) -> String {
    let (_, html) = lead.text("/hours?unit=ads").await;
    let table = html.split(&format!("id=\"{list}\"")).nth(1).expect("the list");
    table.split("</table>").next().expect("its end").to_owned()
}

#[tokio::test]
async fn whole_day_absences_and_closures_are_listed_by_their_days_and_times_only_when_typed() {
    // Arrange
    let (app, lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;
    let absence = |from: &'static str, from_time: &'static str, to: &'static str, to_time: &'static str| {
        vec![
            ("counsellor", jana.clone()),
            ("from", from.to_owned()),
            ("from_time", from_time.to_owned()),
            ("to", to.to_owned()),
            ("to_time", to_time.to_owned()),
            ("reason", "Fortbildung".to_owned()),
            ("action", "save".to_owned()),
        ]
    };

    // Act: one whole day, three whole days, two hours; a closure of one day.
    for fields in [
        absence("2026-12-08", "", "2026-12-08", ""),
        absence("2026-12-15", "", "2026-12-17", ""),
        absence("2026-12-21", "10:00", "2026-12-21", "12:00"),
    ] {
        let saved = lead.submit("/hours?unit=ads", "/hours/ads/absences", &borrowed(&fields)).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    }
    let closure = [("from", "2026-12-22"), ("to", "2026-12-22"), ("reason", "Betriebsausflug"), ("action", "save")];
    assert_eq!(lead.submit("/hours?unit=ads", "/hours/ads/closures", &closure).await.status(), StatusCode::SEE_OTHER);

    // Assert
    let absences = listed(&lead, "absences-list").await;
    for when in
        ["Di, 08.12.2026 (ganztägig)", "Di, 15.12.2026 – Do, 17.12.2026 (ganztägig)", "Mo, 21.12.2026, 10:00–12:00"]
    {
        assert!(absences.contains(&format!("<td>{when}</td>")), "{when}: {absences}");
    }
    assert!(!absences.contains("00:00"), "no midnight shown for whole days: {absences}");
    let closures = listed(&lead, "closures-list").await;
    assert!(closures.contains("<td>Di, 22.12.2026 (ganztägig)</td>"), "{closures}");
}

#[tokio::test]
async fn deleting_hours_asks_first_and_a_deletion_sent_twice_leads_back_to_the_page() {
    // Arrange: Saturday hours of Jana's, an absence and a closure.
    let (app, lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;
    let created =
        app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &saturday_body(&jana, json!({}))).await;
    let rule = created.json::<Value>().await.expect("json")["rule"]["id"].clone();
    let delete = format!("/hours/ads/rules/{rule}/delete");

    // Act: "Löschen" pressed.
    let asked = lead.submit("/hours?unit=ads", &delete, &[]).await;

    // Assert: asked, naming the hours; nothing deleted yet.
    assert_eq!(asked.status(), StatusCode::OK);
    let html = asked.text().await.expect("page");
    assert_eq!(text_of_id(&html, "rule-delete-what"), "Jana Winterberg, Samstag 08:00–10:00, Gültig ab 30.11.2026");
    assert!(html.contains("id=\"rule-delete-confirm\"") && html.contains("id=\"rule-delete-keep\""));
    assert_eq!(saturdays(&app, &jana).await.len(), 1, "not deleted by the first press");

    // Act: confirmed, then the confirmation sent again (the back button, a double click).
    let confirmed = lead.post(&csrf_of(&html), &delete, &[("confirm", "1")]).await;
    let again = lead.post(&csrf_of(&html), &delete, &[("confirm", "1")]).await;
    let asked_again = lead.post(&csrf_of(&html), &delete, &[]).await;

    // Assert: deleted once; the second sending leads back to the page, which says so.
    assert!(location(&confirmed).starts_with("/hours?unit=ads&done=deleted&change="), "{}", location(&confirmed));
    assert!(saturdays(&app, &jana).await.is_empty(), "deleted");
    for response in [again, asked_again] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let to = location(&response);
        assert!(to.starts_with("/hours?unit=ads&done=gone_rule&change="), "{to}");
        let (status, html) = lead.text(&to).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            text_of_id(&html, "saved"),
            "Diese Beratungszeit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde."
        );
    }

    // The same for an absence and a closure.
    let absence =
        json!({ "counsellor_id": jana.parse::<i64>().expect("id"), "from_date": "2026-12-08", "reason": "Urlaub" });
    let absence = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await;
    let absence = absence.json::<Value>().await.expect("json")["id"].clone();
    let closure = json!({ "from_date": "2026-12-22", "reason": "Betriebsausflug" });
    let closure = app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure).await;
    let closure = closure.json::<Value>().await.expect("json")["id"].clone();
    let absences = "SELECT COUNT(*) AS n FROM absences";
    let closures = "SELECT COUNT(*) AS n FROM closures WHERE reason = 'Betriebsausflug'";
    for (kind, path, count, title, what, gone, said) in [
        (
            "absences",
            format!("/hours/ads/absences/{absence}/delete"),
            absences,
            "Abwesenheit löschen?",
            "Jana Winterberg, Di, 08.12.2026 (ganztägig), Urlaub",
            "gone_absence",
            "Diese Abwesenheit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde.",
        ),
        (
            "closures",
            format!("/hours/ads/closures/{closure}/delete"),
            closures,
            "Schließzeit löschen?",
            "Antidiskriminierungsstelle, Di, 22.12.2026 (ganztägig), Betriebsausflug",
            "gone_closure",
            "Diese Schließzeit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde.",
        ),
    ] {
        // "Löschen" asks, naming it, and deletes nothing.
        let asked = lead.submit("/hours?unit=ads", &path, &[]).await;
        assert_eq!(asked.status(), StatusCode::OK, "{path}");
        let html = asked.text().await.expect("page");
        assert_eq!(text_of_id(&html, &format!("{kind}-delete-title")), title);
        assert_eq!(text_of_id(&html, &format!("{kind}-delete-what")), what);
        assert!(html.contains(&format!("id=\"{kind}-delete-confirm\">Ja, löschen</button>")), "{path}");
        assert!(html.contains(&format!(
            "href=\"/hours?unit=ads\" class=\"button secondary\" id=\"{kind}-delete-keep\">Nicht löschen"
        )));
        assert_eq!(app.count(count).await, 1, "not deleted by the first press: {path}");
        // Confirmed: deleted; confirmed again (and pressed again): back to the page, told so.
        let first = lead.post(&csrf_of(&html), &path, &[("confirm", "1")]).await;
        assert!(location(&first).starts_with("/hours?unit=ads&done=deleted&change="), "{path}");
        assert_eq!(app.count(count).await, 0, "deleted: {path}");
        for second in
            [lead.post(&csrf_of(&html), &path, &[("confirm", "1")]).await, lead.post(&csrf_of(&html), &path, &[]).await]
        {
            assert_eq!(second.status(), StatusCode::SEE_OTHER, "{path}");
            let to = location(&second);
            assert!(to.starts_with(&format!("/hours?unit=ads&done={gone}&change=")), "{to}");
            assert_eq!(text_of_id(&lead.text(&to).await.1, "saved"), said);
        }
    }
}

#[tokio::test]
async fn the_hours_list_shows_the_break_an_empty_break_is_none_and_the_hints_fit_their_fields() {
    // Arrange
    let (app, lead) = lead_of_ads().await;
    let jana = jana_of(&app).await;

    // Act: Saturday hours with the break left empty, Sunday hours with a break of 15 minutes.
    let empty = saturday(&jana, &[("buffer", "")]);
    let saved = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&empty)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "an empty break is none");
    let sunday = saturday(&jana, &[("weekday", "7"), ("end", "12:00"), ("buffer", "15")]);
    let saved = lead.submit("/hours?unit=ads", "/hours/ads/rules", &borrowed(&sunday)).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    // Assert
    assert_eq!(saturdays(&app, &jana).await[0]["buffer_minutes"], 0);
    let (_, html) = lead.text("/hours?unit=ads").await;
    let list = html.split("id=\"rules-title\"").nth(1).expect("the rules").split("</table>").next().expect("end");
    assert!(list.contains("<th scope=\"col\">Pause in Minuten</th>"), "a column for the break");
    assert!(list.contains("<td>Samstag</td><td>08:00–10:00</td><td>60</td><td>0</td><td>1</td>"), "{list}");
    assert!(list.contains("<td>Sonntag</td><td>08:00–12:00</td><td>60</td><td>15</td><td>1</td>"), "{list}");
    assert_eq!(text_of_id(&html, "rule-start-hint"), "Uhrzeit, z. B. 09:00");
    assert_eq!(text_of_id(&html, "rule-end-hint"), "Uhrzeit, z. B. 12:00");
    for reason in ["absence-reason-hint", "closure-reason-hint"] {
        assert!(text_of_id(&html, reason).starts_with("Pflichtfeld"), "{reason}");
        let input = input_tag(&html, &reason.replace("-hint", ""));
        assert!(input.contains(&format!("aria-describedby=\"{reason}\"")), "the hint is read with the field");
    }
}

/// Leads of two units saving hours for the same counsellor at the same moment, the same weekday
/// and time: the second save waits for the first (which holds the person's hours while it writes
/// them) and is refused as overlapping, instead of both getting in. The first is the test's own
/// transaction, held open; on PostgreSQL the second waits for the person's lock, on SQLite for
/// the write turn.
#[tokio::test]
async fn hours_of_one_counsellor_saved_at_once_in_two_units_do_not_both_get_in() {
    use crate::helpers::spawn_app;
    use terminbuch::domain::ids::StaffId;
    use terminbuch::domain::records::RuleFields;
    use terminbuch::store::schedule;

    // Arrange: a counsellor of two units.
    let app = spawn_app().await;
    app.add_person("zwei.einheiten", "counsellor", Some("ads")).await;
    app.add_person("zwei.einheiten", "counsellor", Some("sdr")).await;
    let person = terminbuch::store::directory::find_staff_by_login(&app.db, "zwei.einheiten")
        .await
        .expect("db")
        .expect("the counsellor");
    let sdr = terminbuch::services::directory::find_unit(&app.db, "sdr").await.expect("sdr");
    let time = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).expect("time");
    let fields = RuleFields {
        unit_id: sdr.id,
        counsellor_id: StaffId::new(person.id.get()),
        weekday: 6,
        start_local: time(9),
        end_local: time(11),
        slot_minutes: 60,
        buffer_minutes: 0,
        capacity: 1,
        valid_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 4).expect("date"),
        valid_until: None,
    };

    // Act: the SDR lead's save holds the person's hours, its rule written, not yet committed.
    let first = terminbuch::store::begin_write(&app.db).await.expect("a write transaction");
    schedule::lock_counsellor_hours(&first, person.id).await.expect("the person's lock");
    schedule::save_rule(&first, None, fields, person.id, app.clock.now()).await.expect("written").expect("a rule");
    // Meanwhile the ADS lead saves the same Saturday morning.
    let body = serde_json::json!({ "counsellor_id": person.id.get(), "weekday": 6, "start": "10:00", "end": "12:00",
        "slot_minutes": 60, "valid_from": "2027-01-04" });
    let (client, url, token) =
        (app.client.clone(), format!("{}/api/v1/units/ads/counselling-hours", app.address), app.admin_token.clone());
    let second = tokio::spawn(async move { client.post(url).bearer_auth(token).json(&body).send().await });
    if app.is_postgres() {
        app.until_waiting_for_a_lock("%pg_advisory_xact_lock(4%", &second).await;
    } else {
        app.until_waiting_for_the_write_turn(&second).await;
    }
    first.commit().await.expect("the first save commits");

    // Assert: the second is refused; the person has one Saturday.
    let refused = second.await.expect("the task").expect("an answer");
    assert_problem(refused, StatusCode::CONFLICT, "hours_overlap").await;
    let saturdays = app
        .count(&format!(
            "SELECT COUNT(*) AS n FROM counselling_hours WHERE counsellor_id = {} AND weekday = 6",
            person.id
        ))
        .await;
    assert_eq!(saturdays, 1);
}
