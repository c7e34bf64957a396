//! One parser for the citizen's details (`domain::citizen`): the JSON API and the booking form
//! refuse the same input alike, each naming the field, and accept the same supported languages.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::web::{WebClient, add_member};

/// (what is wrong, the API's field, the form's field, the detail as the API sends it, as the form does)
type Case = (&'static str, &'static str, &'static str, (&'static str, Value), (&'static str, String));

fn cases() -> Vec<Case> {
    let long_name = "n".repeat(201);
    let long_text = "x".repeat(501);
    vec![
        ("blank name", "citizen.name", "name", ("name", json!("   ")), ("name", "   ".into())),
        ("name too long", "citizen.name", "name", ("name", json!(long_name)), ("name", long_name.clone())),
        (
            "name with a line break",
            "citizen.name",
            "name",
            ("name", json!("Ayla\r\nBcc: x@example.org")),
            ("name", "Ayla\r\nBcc: x@example.org".into()),
        ),
        ("name with a tab", "citizen.name", "name", ("name", json!("Ayla\tKaya")), ("name", "Ayla\tKaya".into())),
        (
            "name reversing what follows it",
            "citizen.name",
            "name",
            ("name", json!("Ayla \u{202E}ayaK")),
            ("name", "Ayla \u{202E}ayaK".into()),
        ),
        (
            "email without dotted domain",
            "citizen.email",
            "email",
            ("email", json!("a@localhost")),
            ("email", "a@localhost".into()),
        ),
        (
            "email the mail transport cannot send to (two dots in a row)",
            "citizen.email",
            "email",
            ("email", json!("a..b@example.org")),
            ("email", "a..b@example.org".into()),
        ),
        ("phone in words", "citizen.phone", "phone", ("phone", json!("ruf an")), ("phone", "ruf an".into())),
        ("unsupported language", "citizen.language", "language", ("language", json!("xx")), ("language", "xx".into())),
        (
            "unsupported interpreter language",
            "citizen.interpreter_language",
            "interpreter",
            ("interpreter_language", json!("Turkish")),
            ("interpreter", "Turkish".into()),
        ),
        (
            "accessibility needs too long",
            "citizen.accessibility_needs",
            "access",
            ("accessibility_needs", json!(long_text)),
            ("access", long_text.clone()),
        ),
    ]
}

async fn desk(app: &TestApp) -> WebClient {
    add_member(app, "empfang", "front_desk", Some("ads")).await;
    WebClient::logged_in(app, "empfang").await
}

#[tokio::test]
async fn the_api_and_the_booking_form_refuse_the_same_citizen_details() {
    // Arrange
    let app = spawn_app().await;
    let web = desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let slot_id = slot["slot_id"].to_string();
    for (case, api_field, form_field, (key, api_value), (name, form_value)) in cases() {
        let mut body =
            json!({ "slot_id": slot["slot_id"], "citizen": { "name": "Ayla Kaya", "phone": "0511 123456" } });
        body["citizen"][key] = api_value;
        let mut form =
            vec![("slot", slot_id.clone()), ("name", "Ayla Kaya".to_owned()), ("phone", "0511 123456".into())];
        form.retain(|(field, _)| *field != name);
        form.push((name, form_value));

        // Act
        let api = app.post_booking(&body).await;
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = web.post_form("/book", &fields).await;

        // Assert
        let problem = assert_problem(api, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let named: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(named, [api_field], "API, {case}");
        assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY, "form, {case}");
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("id=\"{form_field}-error\"")), "form names {form_field}: {case}");
    }
    assert!(app.list_bookings("").await.is_empty(), "nothing was booked");
}

#[tokio::test]
async fn consent_to_email_without_an_address_is_refused_at_both_edges() {
    let app = spawn_app().await;
    let web = desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let body = json!({ "slot_id": slot["slot_id"], "citizen": { "name": "Ayla Kaya" }, "email_consent": true });
    let problem =
        assert_problem(app.post_booking(&body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "email_consent");
    let slot_id = slot["slot_id"].to_string();
    let page = web.post_form("/book", &[("slot", &slot_id), ("name", "Ayla Kaya"), ("consent", "1")]).await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().await.unwrap().contains("id=\"consent-error\""));
}

#[tokio::test]
async fn a_language_of_the_list_beyond_the_former_form_is_accepted_at_both_edges() {
    let app = spawn_app().await;
    let web = desk(&app).await;
    let slots = app.free_slots("ads", "limit=2").await;
    let body = json!({ "slot_id": slots[0]["slot_id"], "citizen": { "name": "Rojda", "language": "ku", "interpreter_language": "ti" } });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.unwrap();
    assert_eq!(
        (&booking["citizen"]["language"], &booking["citizen"]["interpreter_language"]),
        (&json!("ku"), &json!("ti"))
    );
    let slot_id = slots[1]["slot_id"].to_string();
    let page = web
        .post_form("/book", &[("slot", &slot_id), ("name", "Rojda"), ("language", "ku"), ("interpreter", "ti")])
        .await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "booked from the form");
}

/// The fields a problem names, sorted.
fn named_fields(problem: &Value) -> Vec<String> {
    let errors = problem["errors"].as_array().expect("a list of errors");
    let mut fields: Vec<String> = errors.iter().map(|e| e["field"].as_str().expect("a field").to_owned()).collect();
    fields.sort();
    fields
}

/// U+0000 is typed by no keyboard and PostgreSQL cannot store it in text (it answered 500 before):
/// in any string of a body, a query parameter or a form it is refused before the database, naming
/// the field where the edge can, and nothing is written. A backslash followed by `u0000` is text.
#[tokio::test]
async fn a_nul_character_is_refused_at_every_edge_and_nothing_is_written() {
    // Arrange
    let app = spawn_app().await;
    let web = desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let day = &slot["starts_at"].as_str().unwrap()[..10];
    let token = &app.admin_token;

    // Act
    let booking = app
        .post_booking(&json!({ "slot_id": slot["slot_id"], "citizen": { "name": "Ayla\u{0}Kaya" }, "note": "a\u{0}" }))
        .await;
    let caller = json!({ "citizen": { "name": "Ayla\u{0}", "phone": "0511 123456" }, "until": day });
    let callback = app.post_as(token, "/api/v1/units/ads/callbacks", &caller).await;
    let closure = json!({ "from_date": day, "reason": "Betriebs\u{0}ausflug" });
    let closure = app.post_as(token, "/api/v1/units/ads/closures", &closure).await;
    let query = app.get_as(token, "/api/v1/audit?actor=ad%00min").await;
    let path = app.get_as(token, "/api/v1/units/ad%00s/free-slots").await;
    let slot_id = slot["slot_id"].to_string();
    let form = web.post_form("/book", &[("slot", &slot_id), ("name", "Ayla\u{0}Kaya")]).await;
    // Bytes that are no UTF-8 (a lone `%C3`) would be stored as U+FFFD: refused alike.
    let mangled = web.post_encoded("/book", &format!("unit=ads&slot={slot_id}&name=Ayla%C3")).await;

    // Assert
    let booking = assert_problem(booking, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(named_fields(&booking), ["citizen.name", "note"]);
    let callback = assert_problem(callback, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(named_fields(&callback), ["citizen.name"]);
    let closure = assert_problem(closure, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(named_fields(&closure), ["reason"]);
    let query = assert_problem(query, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert_eq!(named_fields(&query), ["actor"]);
    assert!(path.status().is_client_error(), "a unit key with NUL: {}", path.status());
    assert_eq!(form.status(), StatusCode::BAD_REQUEST, "the booking form");
    assert_eq!(mangled.status(), StatusCode::BAD_REQUEST, "the booking form with a byte that is no UTF-8");
    assert!(app.list_bookings("").await.is_empty(), "nothing was booked");
    let listed = app.get_as(token, "/api/v1/units/ads/callbacks").await.json::<Value>().await.unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "no caller was listed: {listed}");
    assert!(!app.free_slots("ads", &format!("from={day}&to={day}")).await.is_empty(), "no closure was stored");

    // A backslash and `u0000` typed as text are stored as typed.
    let body = json!({ "slot_id": slot["slot_id"], "citizen": { "name": "Ayla Kaya" }, "note": "C:\\u0000" });
    let created = app.post_booking(&body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.unwrap()["note"], "C:\\u0000");
}

/// A cancellation's reason of spaces only passed the length check and was stored empty.
#[tokio::test]
async fn a_blank_cancellation_reason_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");
    let reference = app.book_slot(slot).await["reference"].as_str().expect("reference").to_owned();
    let problem = assert_problem(
        app.cancel_booking(&reference, "   ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    let booking: Value = app.get_booking(&reference).await.json().await.expect("json");
    assert_eq!(booking["status"], "booked");
}

/// A line break counts one character through the API as at the desk, however it is sent: texts
/// of 12 lines of 40 characters (491 characters with `\n`, 502 with `\r\n` as a browser's text
/// area sends them) are accepted and stored with `\n`; one character more is refused, naming the field.
#[tokio::test]
async fn a_line_break_counts_once_in_every_text_however_it_is_sent() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let lines = vec!["x".repeat(40); 12];
    let (typed, sent) = (lines.join("\n"), lines.join("\r\n"));
    let body = |slot: &Value, text: &str| {
        json!({ "slot_id": slot["slot_id"], "citizen": { "name": "Ayla Kaya", "accessibility_needs": text },
                "note": text, "override_reason": text })
    };

    let created = app.post_booking(&body(&slots[0], &sent)).await;
    let refused = app.post_booking(&body(&slots[1], &format!("{sent}{}", "x".repeat(10)))).await;

    assert_eq!(created.status(), StatusCode::CREATED);
    let booking: Value = created.json().await.expect("json");
    assert_eq!(booking["note"], typed.as_str());
    assert_eq!(booking["override_reason"], typed.as_str());
    assert_eq!(booking["citizen"]["accessibility_needs"], typed.as_str());
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(named_fields(&problem), ["citizen.accessibility_needs", "note"], "{problem}");
    let reference = booking["reference"].as_str().expect("reference");
    let cancelled = app.cancel_booking(reference, &sent).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(cancelled.json::<Value>().await.expect("json")["cancel_reason"], typed.as_str());
}
