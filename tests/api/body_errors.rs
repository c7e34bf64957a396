//! How a JSON body that does not fit its request is refused, whatever the endpoint: the field is
//! named by the path the client sent it at, once; a body that is no JSON object says so without
//! naming a Rust type; nothing is written.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, booking_body, spawn_app};

/// Asserts a 422 naming exactly `field` (first and only error) and a detail that starts with it.
async fn refused_at(response: reqwest::Response, field: &str, what: &str) -> Value {
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let errors = problem["errors"].as_array().expect("a list of errors");
    assert_eq!(errors.len(), 1, "{what}: {problem}");
    assert_eq!(errors[0]["field"], field, "{what}: {problem}");
    let detail = problem["detail"].as_str().expect("a detail");
    assert!(detail.starts_with(&format!("{field}: ")), "{what}: {detail}");
    problem
}

async fn post_raw(app: &TestApp, path: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.address))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

/// How many rows `table` (with a condition, if given) holds.
async fn rows(app: &TestApp, table: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) AS n FROM {table}")).await
}

fn callback_body() -> Value {
    json!({ "citizen": { "name": "Ayşe Demir", "phone": "0511 987654" }, "until": "2026-12-04" })
}

#[tokio::test]
async fn an_unknown_field_is_named_once_by_its_own_path_and_a_missing_one_by_its_path() {
    // Before, an unknown field's name was appended to a path that already ended with it:
    // `emailConsent.emailConsent`, `citizen.mail.mail`, `versoin.versoin`.
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let slot_id = slots[0]["slot_id"].as_i64().expect("slot");
    let booked = app.book_slot(slots[1]["slot_id"].as_i64().expect("slot")).await;
    let cancel = format!("/api/v1/bookings/{}/cancel", booked["id"].as_str().expect("id"));
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let with = |mut body: Value, pointer: &str, key: &str, value: Value| {
        body.pointer_mut(pointer).expect("an object of the body")[key] = value;
        body
    };
    let without = |mut body: Value, pointer: &str, key: &str| {
        body.pointer_mut(pointer).expect("an object of the body").as_object_mut().expect("object").remove(key);
        body
    };
    let absence = json!({ "counsellor_id": jana, "from_date": "2027-01-11", "reason": "Kur" });
    let closure = json!({ "from_date": "2027-01-11", "reason": "Betriebsausflug" });
    let cases = [
        // Unknown, top level and nested.
        ("/api/v1/bookings", with(booking_body(slot_id), "", "emailConsent", json!(true)), "emailConsent"),
        ("/api/v1/bookings", with(booking_body(slot_id), "/citizen", "mail", json!("a@example.org")), "citizen.mail"),
        (cancel.as_str(), json!({ "reason": "verlegt", "versoin": 1 }), "versoin"),
        ("/api/v1/units/ads/callbacks", with(callback_body(), "", "name", json!("Ayşe")), "name"),
        ("/api/v1/units/ads/callbacks", with(callback_body(), "/citizen", "mail", json!("a@b.de")), "citizen.mail"),
        ("/api/v1/units/ads/absences", with(absence.clone(), "", "from", json!("2027-01-11")), "from"),
        ("/api/v1/units/ads/closures", with(closure.clone(), "", "from", json!("2027-01-11")), "from"),
        // Missing, top level and nested.
        ("/api/v1/bookings", without(booking_body(slot_id), "", "citizen"), "citizen"),
        ("/api/v1/bookings", without(booking_body(slot_id), "/citizen", "name"), "citizen.name"),
        (cancel.as_str(), json!({ "version": 1 }), "reason"),
        ("/api/v1/units/ads/callbacks", without(callback_body(), "", "until"), "until"),
        ("/api/v1/units/ads/callbacks", without(callback_body(), "/citizen", "phone"), "citizen.phone"),
        ("/api/v1/units/ads/absences", without(absence, "", "reason"), "reason"),
        ("/api/v1/units/ads/closures", without(closure, "", "reason"), "reason"),
    ];

    for (path, body, field) in cases {
        let problem = refused_at(app.post_as(&app.admin_token, path, &body).await, field, path).await;
        let message = problem["errors"][0]["message"].as_str().expect("a message");
        if body.pointer(&format!("/{}", field.replace('.', "/"))).is_some() {
            assert!(message.starts_with(&format!("unknown field `{}`", field.rsplit('.').next().expect("name"))));
        } else {
            assert_eq!(message, "is required", "{path}: {problem}");
        }
    }

    assert_eq!(rows(&app, "bookings").await, 1, "no booking added");
    assert_eq!(rows(&app, "bookings WHERE status = 'booked'").await, 1, "none cancelled");
    assert_eq!(rows(&app, "callback_requests").await, 0, "no callback entry");
    assert_eq!(rows(&app, "absences").await, 0, "no absence");
    assert_eq!(rows(&app, "closures").await, 0, "no closure");
}

#[tokio::test]
async fn a_body_that_is_no_json_object_is_refused_as_such_without_naming_a_rust_type() {
    // Before, `[]` answered "invalid length 0, expected struct CreateBookingRequest with 10
    // elements", and an array holding every field in order was taken as the object.
    let app = spawn_app().await;
    let slot_id = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("slot");
    let booked = app.book_slot(slot_id).await;
    let cancel = format!("/api/v1/bookings/{}/cancel", booked["id"].as_str().expect("id"));
    let paths = [
        "/api/v1/bookings",
        cancel.as_str(),
        "/api/v1/units/ads/callbacks",
        "/api/v1/units/ads/absences",
        "/api/v1/units/ads/closures",
        "/api/v1/locations",
    ];
    let bodies = ["[]", " [\"fehlt\", 1]", "\"text\"", "42", "null", "true"];

    for path in paths {
        for body in bodies {
            let what = format!("{path} {body}");
            let problem = refused_at(post_raw(&app, path, body).await, "body", &what).await;
            assert_eq!(problem["errors"][0]["message"], "expected a JSON object", "{what}: {problem}");
        }
    }
    // The fields of a cancellation, in order, as an array: not taken for the object.
    let problem = refused_at(post_raw(&app, &cancel, r#"["verlegt", 1]"#).await, "body", "cancel as array").await;
    assert_eq!(problem["detail"], "body: expected a JSON object");
    // Nested: a citizen that is no object is named at its path, in the same words.
    let mut body = booking_body(slot_id);
    for citizen in [json!([]), json!("Ayşe Demir"), json!(["Ayşe Demir", "0511 987654"])] {
        body["citizen"] = citizen;
        let problem = refused_at(app.post_booking(&body).await, "citizen", "citizen").await;
        assert_eq!(problem["errors"][0]["message"], "expected a JSON object", "{problem}");
    }
    // Broken JSON stays a 400.
    assert_problem(post_raw(&app, "/api/v1/bookings", "[1,").await, StatusCode::BAD_REQUEST, "malformed_json").await;

    assert_eq!(rows(&app, "bookings WHERE status = 'booked'").await, 1, "nothing booked or cancelled");
    assert_eq!(rows(&app, "callback_requests").await, 0, "no callback entry");
    assert_eq!(rows(&app, "absences").await, 0, "no absence");
    assert_eq!(rows(&app, "closures").await, 0, "no closure");
    assert_eq!(rows(&app, "locations").await, 1, "no location added");
}

#[tokio::test]
async fn a_number_of_the_wrong_kind_or_size_is_told_in_words_without_a_rust_type() {
    // Before, a slot id sent as text answered "invalid type: string \"12\", expected i32".
    let app = spawn_app().await;
    let slot_id = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("slot");
    let whole = "a whole number from -2147483648 to 2147483647";
    let cases = [
        (json!(slot_id.to_string()), format!("invalid type: string \"{slot_id}\", expected {whole}")),
        (json!(1.5), format!("invalid type: floating point `1.5`, expected {whole}")),
        (json!(4_294_967_296_i64), format!("invalid value: integer `4294967296`, expected {whole}")),
    ];
    for (value, message) in cases {
        let mut body = booking_body(slot_id);
        body["slot_id"] = value;
        let problem = refused_at(app.post_booking(&body).await, "slot_id", "slot id").await;
        assert_eq!(problem["errors"][0]["message"], message.as_str(), "{problem}");
    }
    assert_eq!(rows(&app, "bookings").await, 0, "nothing booked");
}
