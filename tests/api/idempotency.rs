//! `POST /api/v1/bookings` with an `Idempotency-Key`: the same request sent again (a retry after
//! a timeout, or two at once) books once and is answered with the first request's booking; the
//! key with another body is refused; a refused booking leaves the key free; keys are per person.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use terminbuch::domain::ids::StaffId;
use terminbuch::services::submissions::Submission;

use crate::helpers::{TestApp, assert_problem, booking_body, spawn_app};

async fn post_keyed(app: &TestApp, token: &str, key: &str, body: &Value) -> Response {
    app.client
        .post(format!("{}/api/v1/bookings", app.address))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn first_free_slot(app: &TestApp) -> i64 {
    app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("slot id")
}

async fn bookings_of_slot(app: &TestApp, slot: i64) -> i64 {
    app.count(&format!("SELECT COUNT(*) AS n FROM bookings WHERE slot_id = {slot}")).await
}

/// The rows the creation of the one booking of `slot` wrote besides it: its history and emails.
fn written(slot: i64) -> String {
    let booking = format!("(SELECT id FROM bookings WHERE slot_id = {slot})");
    format!(
        "SELECT (SELECT COUNT(*) FROM booking_events WHERE booking_id = {booking}) \
         + (SELECT COUNT(*) FROM outbox_messages WHERE booking_id = {booking}) AS n"
    )
}

#[tokio::test]
async fn a_request_sent_again_with_its_key_books_once_and_is_answered_with_the_first_booking() {
    // Arrange
    let app = spawn_app().await;
    let slot = first_free_slot(&app).await;
    let body = booking_body(slot);
    let first = post_keyed(&app, &app.admin_token, "3f1c9a52-retry", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let made: Value = first.json().await.expect("json");
    let rows_after_first = app.count(&written(slot)).await;
    assert!(rows_after_first > 0, "the booking's history is written");

    // Act: the client did not get the answer and sends the same request again, its members in
    // another order and spaced otherwise, the key quoted as a structured-field string.
    let reordered = serde_json::to_string_pretty(&json!({
        "channel": body["channel"], "email_consent": body["email_consent"], "citizen": body["citizen"],
        "slot_id": body["slot_id"] }))
    .expect("json");
    let again = app
        .client
        .post(format!("{}/api/v1/bookings", app.address))
        .bearer_auth(&app.admin_token)
        .header("Idempotency-Key", "\"3f1c9a52-retry\"")
        .header("Content-Type", "application/json")
        .body(reordered)
        .send()
        .await
        .expect("request");

    // Assert
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let replayed: Value = again.json().await.expect("json");
    assert_eq!(replayed["id"], made["id"]);
    assert_eq!(replayed["reference"], made["reference"]);
    assert_eq!(bookings_of_slot(&app, slot).await, 1, "booked once");
    assert_eq!(app.count(&written(slot)).await, rows_after_first, "nothing written again (history, emails)");
}

#[tokio::test]
async fn two_requests_with_one_key_at_once_book_once() {
    let app = spawn_app().await;
    let slot = first_free_slot(&app).await;
    let body = booking_body(slot);

    let (one, two) = tokio::join!(
        post_keyed(&app, &app.admin_token, "both-at-once", &body),
        post_keyed(&app, &app.admin_token, "both-at-once", &body)
    );

    assert_eq!(bookings_of_slot(&app, slot).await, 1, "booked once");
    let mut ids = Vec::new();
    for response in [one, two] {
        match response.status() {
            StatusCode::CREATED => ids.push(response.json::<Value>().await.expect("json")["id"].clone()),
            other => {
                let problem = assert_problem(response, other, "idempotency_key_in_use").await;
                assert_eq!(other, StatusCode::CONFLICT, "{problem}");
            }
        }
    }
    assert!(!ids.is_empty(), "one of them booked");
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "both answered with the one booking: {ids:?}");
}

#[tokio::test]
async fn the_key_sent_with_another_body_is_refused_and_books_nothing() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let (first, second) = (slots[0]["slot_id"].as_i64().unwrap(), slots[1]["slot_id"].as_i64().unwrap());
    let made = post_keyed(&app, &app.admin_token, "order-17", &booking_body(first)).await;
    assert_eq!(made.status(), StatusCode::CREATED);

    let reused = post_keyed(&app, &app.admin_token, "order-17", &booking_body(second)).await;

    assert_problem(reused, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    assert_eq!(bookings_of_slot(&app, second).await, 0, "nothing booked");
}

#[tokio::test]
async fn a_refused_booking_leaves_its_key_free_for_the_same_request_later() {
    // Arrange: the slot is taken by someone else.
    let app = spawn_app().await;
    let slot = first_free_slot(&app).await;
    let other = app.book_slot(slot).await;
    let body = booking_body(slot);
    let refused = post_keyed(&app, &app.admin_token, "after-a-refusal", &body).await;
    assert_problem(refused, StatusCode::CONFLICT, "slot_taken").await;

    // Act: the other booking is cancelled, and the client tries again with its key.
    let cancel = json!({ "reason": "verhindert" });
    let path = format!("/api/v1/bookings/{}/cancel", other["id"].as_str().unwrap());
    assert_eq!(app.post_as(&app.admin_token, &path, &cancel).await.status(), StatusCode::OK);
    let again = post_keyed(&app, &app.admin_token, "after-a-refusal", &body).await;

    // Assert: booked now, not a replay of the refusal.
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(again.headers().get("idempotent-replayed").is_none());
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) AS n FROM bookings WHERE slot_id = {slot} AND status = 'booked'")).await,
        1
    );
}

#[tokio::test]
async fn keys_are_each_persons_own() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let desk = app.token_for("empfang.zwei", "front_desk", Some("ads")).await;

    let mine = post_keyed(&app, &app.admin_token, "1", &booking_body(slots[0]["slot_id"].as_i64().unwrap())).await;
    let theirs = post_keyed(&app, &desk, "1", &booking_body(slots[1]["slot_id"].as_i64().unwrap())).await;

    assert_eq!(mine.status(), StatusCode::CREATED);
    assert_eq!(theirs.status(), StatusCode::CREATED, "a colleague's equal key is another key");
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM form_submissions").await, 2, "two claims");
    // Each one's retry leads to their own booking.
    let theirs: Value = theirs.json().await.expect("json");
    let again = post_keyed(&app, &desk, "1", &booking_body(slots[1]["slot_id"].as_i64().unwrap())).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.expect("json")["id"], theirs["id"]);
}

/// Claims the key `key` of the admin's request `body` at `at` in the store, as a first request
/// still being handled (or cut off) has claimed it.
async fn claim_as_admin(
    app: &TestApp,
    key: &str,
    body: &Value,
    at: chrono::DateTime<chrono::Utc>,
) -> terminbuch::store::submissions::Claim {
    let admin = app.count("SELECT CAST(id AS BIGINT) AS n FROM staff WHERE login = 'admin'").await;
    let admin = StaffId::new(i32::try_from(admin).expect("an id"));
    let claim = Submission::keyed(admin, key, &serde_json::to_vec(body).expect("json"));
    terminbuch::store::submissions::claim(&app.db, claim.id(), admin, claim.digest(), at).await.expect("claim")
}

#[tokio::test]
async fn a_key_whose_first_request_never_ended_is_answered_409_with_retry_after() {
    // Arrange: the first request's claim stands without a booking noted (the process stopped
    // between its booking and the note, or it is still being handled).
    let app = spawn_app().await;
    let slot = first_free_slot(&app).await;
    let body = booking_body(slot);
    let claimed = claim_as_admin(&app, "interrupted", &body, app.clock.now()).await;
    assert_eq!(claimed, terminbuch::store::submissions::Claim::New);

    // Act
    let busy = post_keyed(&app, &app.admin_token, "interrupted", &body).await;

    // Assert
    assert_eq!(busy.headers()["retry-after"], "1");
    assert_problem(busy, StatusCode::CONFLICT, "idempotency_key_in_use").await;
    assert_eq!(bookings_of_slot(&app, slot).await, 0, "nothing booked under the key");
}

#[tokio::test]
async fn a_key_whose_first_request_was_abandoned_long_ago_is_answered_409_unresolved_at_once() {
    // Arrange: a claim of two minutes ago with nothing noted (its process stopped between the
    // booking and the note): whether it booked is unknown.
    let app = spawn_app().await;
    let slot = first_free_slot(&app).await;
    let body = booking_body(slot);
    claim_as_admin(&app, "abandoned", &body, app.clock.now() - chrono::TimeDelta::minutes(2)).await;

    // Act
    let unresolved = post_keyed(&app, &app.admin_token, "abandoned", &body).await;

    // Assert: told to look, not to retry, and nothing booked under the key.
    assert!(unresolved.headers().get("retry-after").is_none());
    assert_problem(unresolved, StatusCode::CONFLICT, "idempotency_key_unresolved").await;
    assert_eq!(bookings_of_slot(&app, slot).await, 0);
}

#[tokio::test]
async fn an_invalid_key_is_refused_at_its_field_and_books_nothing() {
    let app = spawn_app().await;
    let slot = first_free_slot(&app).await;
    let long = "k".repeat(256);
    for key in ["", "two words", long.as_str(), "\"\"", "a\"b"] {
        let refused = post_keyed(&app, &app.admin_token, key, &booking_body(slot)).await;
        let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key", "{key:?}: {problem}");
    }
    let twice = app
        .client
        .post(format!("{}/api/v1/bookings", app.address))
        .bearer_auth(&app.admin_token)
        .header("Idempotency-Key", "one")
        .header("Idempotency-Key", "two")
        .json(&booking_body(slot))
        .send()
        .await
        .expect("request");
    assert_problem(twice, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(bookings_of_slot(&app, slot).await, 0);
}
