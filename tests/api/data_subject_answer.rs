//! What the answer to a request of the person concerned says, and how: every time local with
//! its offset (the export, its download on the page, a booking's history), the units and
//! counsellors named beside their ids, and the printed answer in words, German or English,
//! never a stored code.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, default_now, spawn_app_with_manual_mail};
use crate::retention::{EMAIL, NAME, PHONE, book};
use crate::web_client::{Desk, PASSWORD};

/// The person's history: booked (the confirmation sent), moved to another counsellor's time and
/// cancelled (the change notice superseded, the cancellation sent); on the callback list with a
/// wish for a counsellor and the morning. Returns the booking as booked and as moved.
async fn a_persons_history(app: &TestApp, mail: &terminbuch::mail::Dispatcher) -> (Value, Value) {
    let booked = book(app, "ads", 0).await;
    mail.run_once().await.expect("the confirmation goes out");
    let id = booked["id"].as_str().expect("id");
    let free = app.free_slots("ads", "limit=50").await;
    let other = free.iter().find(|s| s["counsellor"]["id"] != booked["counsellor_id"]).unwrap_or(&free[3]);
    let moved = app.reschedule_booking(id, &json!({ "slot_id": other["slot_id"] })).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.expect("json");
    assert_eq!(app.cancel_booking(id, "Frau ist krank").await.status(), StatusCode::OK);
    mail.run_once().await.expect("the cancellation goes out");
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let wish = json!({
        "citizen": { "name": NAME, "phone": PHONE, "language": "tr" },
        "wish": { "counsellor": counsellor, "time_of_day": "morning" },
        "until": "2026-12-24",
    });
    let added = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &wish).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    (booked, moved)
}

/// Every string of `value` that is an instant, with the path to it.
fn instants(value: &Value, path: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(fields) => fields.iter().for_each(|(key, v)| instants(v, &format!("{path}.{key}"), found)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| instants(v, &format!("{path}[{i}]"), found)),
        Value::String(text) if chrono::DateTime::parse_from_rfc3339(text).is_ok() => {
            found.push((path.to_owned(), text.clone()));
        }
        _ => {}
    }
}

/// Every instant in `bundle` is local, in winter: `+01:00`, none in UTC.
fn assert_every_time_local(bundle: &Value) {
    let mut found = Vec::new();
    instants(bundle, "", &mut found);
    assert!(found.len() >= 15, "the times of bookings, history, emails and callbacks: {found:?}");
    for (path, at) in found {
        assert!(at.ends_with("+01:00"), "{path}: {at}");
    }
}

/// A lead of `ads`, logged in on the pages.
async fn lead(app: &TestApp) -> Desk {
    let lead = Desk::new(&app.address);
    app.add_person("leitung.antwort", "unit_lead", Some("ads")).await;
    assert_eq!(lead.log_in("leitung.antwort", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    lead
}

#[tokio::test]
async fn the_export_gives_every_time_local_and_names_units_and_counsellors() {
    // Arrange
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let (booked, moved) = a_persons_history(&app, &mail).await;
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("json");
    let ads = units.iter().find(|u| u["slug"] == "ads").expect("the unit");
    let counsellors: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/ads/counsellors").await.json().await.expect("json");
    let name_of = |id: &Value| counsellors.iter().find(|c| c["id"] == *id).map(|c| c["name"].clone()).expect("named");

    // Act
    let exported = app.post_as(&app.admin_token, "/api/v1/data-subject/export", &json!({ "phone": PHONE })).await;
    let page = lead(&app).await;
    let downloaded = page.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "export")]).await;
    let booking: Value =
        app.get_booking(booked["id"].as_str().expect("id")).await.json().await.expect("the booking's answer");

    // Assert: times local with their offset, also in the history's details.
    assert_eq!(exported.status(), StatusCode::OK);
    let bundle: Value = exported.json().await.expect("json");
    assert_every_time_local(&bundle);
    let history = &bundle["bookings"][0]["history"];
    let detail = |kind: &str| {
        history.as_array().expect("history").iter().find(|e| e["kind"] == kind).map(|e| e["detail"].clone())
    };
    let created = detail("created").expect("booked");
    assert_eq!(created["starts_at"], booked["starts_at"], "the hour the person was told: {created}");
    assert_eq!(created["ends_at"], booked["ends_at"]);
    let move_ = detail("rescheduled").expect("moved");
    assert_eq!(move_["from"]["starts_at"], booked["starts_at"], "{move_}");
    assert_eq!(move_["to"]["starts_at"], moved["starts_at"], "{move_}");
    assert_eq!(move_["to"]["ends_at"], moved["ends_at"], "{move_}");
    // The same download on the page; a booking's own history in the API too.
    assert_eq!(downloaded.status(), StatusCode::OK);
    let downloaded: Value = downloaded.json().await.expect("the page's JSON");
    assert_every_time_local(&downloaded);
    assert_eq!(downloaded, bundle, "the page's download is the export");
    for event in booking["history"].as_array().expect("history") {
        let mut found = Vec::new();
        instants(&event["detail"], "detail", &mut found);
        assert!(found.iter().all(|(_, at)| at.ends_with("+01:00")), "{event}");
    }
    let created = &booking["history"][0]["detail"];
    assert_eq!(created["starts_at"], booked["starts_at"], "{created}");

    // Assert: names beside the ids.
    let first = &bundle["bookings"][0];
    assert_eq!((&first["unit_id"], &first["unit_name"]), (&ads["id"], &ads["name"]), "{first}");
    assert_eq!(first["counsellor_id"], moved["counsellor_id"]);
    assert_eq!(first["counsellor_name"], name_of(&moved["counsellor_id"]), "{first}");
    assert_eq!(move_["from"]["counsellor_name"], name_of(&booked["counsellor_id"]), "{move_}");
    assert_eq!(move_["to"]["counsellor_name"], name_of(&moved["counsellor_id"]), "{move_}");
    assert!(move_["from"]["counsellor_id"].is_i64(), "the ids stay: {move_}");
    let callback = &bundle["callbacks"][0];
    assert_eq!((&callback["unit_id"], &callback["unit_name"]), (&ads["id"], &ads["name"]), "{callback}");
    assert_eq!(callback["wished_counsellor_name"], "Jana Winterberg", "{callback}");
    assert!(callback["wished_counsellor_id"].is_i64(), "{callback}");
    assert_eq!(callback["wished_time_of_day"], "morning", "codes stay codes in the JSON");
    assert_eq!((&first["channel"], &first["status"]), (&json!("phone"), &json!("cancelled")));
}

/// The items of the list `<ul class="{class}">` of the printed answer.
fn items(html: &str, class: &str) -> Vec<String> {
    let list = &html[html.find(&format!(r#"<ul class="{class}">"#)).expect("the list")..];
    let list = &list[..list.find("</ul>").expect("its end")];
    list.split("<li>").skip(1).map(|item| item.trim_end_matches("</li>").to_owned()).collect()
}

/// The printed answer goes to the person: every stored code is in words (German, or English on
/// the English page), and an email's line says once where it is.
#[tokio::test]
async fn the_printed_answer_says_every_stored_code_in_words() {
    // Arrange
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    a_persons_history(&app, &mail).await;
    let lead = lead(&app).await;

    // Act
    let german = lead.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "print")]).await;
    let overview = lead.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "search")]).await;
    lead.get("/lang?to=en&back=/data-subject").await;
    let english = lead.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "print")]).await;

    // Assert
    assert_eq!(german.status(), StatusCode::OK);
    let html = german.text().await.expect("page");
    for said in [
        "<dt>Vereinbart über</dt><dd>Telefon</dd>",
        "<dt>Stand</dt><dd>abgesagt</dd>",
        "<dt>Stand</dt><dd>wartet auf der Liste auf einen Rückruf</dd>",
        "<dt>Gewünschte Tageszeit</dt><dd>vormittags</dd>",
        "<dt>Gewünschte Beratung bei</dt><dd>Jana Winterberg</dd>",
    ] {
        assert!(html.contains(said), "{said} in the printed answer: {html}");
    }
    let emails = items(&html, "dsp-emails");
    let sent = emails.iter().find(|e| e.contains("Terminbestätigung")).expect("the confirmation");
    let to = format!("Terminbestätigung an {EMAIL} (Türkisch), gesendet am ");
    assert!(sent.contains(&to), "{sent}");
    assert_eq!(sent.matches("gesendet").count(), 1, "said once: {sent}");
    let skipped = emails.iter().find(|e| e.contains("Terminänderung")).expect("the change notice");
    assert!(skipped.contains("entfallen (Grund: der Termin hatte sich wieder geändert"), "in words: {skipped}");
    let answer = &html[html.find("<main").expect("the answer")..html.find("</main>").expect("its end")];
    for code in ["phone", "booked", "open", "morning", "superseded", ">sent", ", sent"] {
        assert!(!answer.contains(code), "no stored code ({code}) in the printed answer: {answer}");
    }
    let overview = overview.text().await.expect("page");
    let table = &overview[overview.find("id=\"ds-bookings\"").expect("the table")..];
    assert!(table.contains("Kurdisch") && !table.contains("; ku<"), "the interpreter's language by name: {table}");

    let html = english.text().await.expect("page");
    for said in [
        "<dt>Arranged by</dt><dd>Phone</dd>",
        "<dt>Status</dt><dd>waiting on the list for a callback</dd>",
        "<dt>Time of day asked for</dt><dd>morning</dd>",
    ] {
        assert!(html.contains(said), "{said} in the English answer: {html}");
    }
    let emails = items(&html, "dsp-emails");
    let sent = emails.iter().find(|e| e.contains("Confirmation")).expect("the confirmation");
    assert!(sent.contains(&format!("Confirmation to {EMAIL} (Turkish), sent on ")), "{sent}");
    assert_eq!(sent.matches("sent").count(), 1, "said once: {sent}");
}
