//! Overriding a booking rule is for unit leads and admins only (403 `override_not_permitted` for
//! anyone else, recorded in the audit, nothing written), always recorded with its reason; ad-hoc
//! times outside the unit's counselling hours need such an override (422 `outside_hours`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, adhoc_body, assert_problem, booking_body, spawn_app};

/// Demo hours of the anti-discrimination office: Mon 9–12, Tue 14–17, Thu 9–12.
const SUNDAY: &str = "2026-11-29T10:00";
const LATE: &str = "2026-12-01T23:00";
const WEDNESDAY: &str = "2026-11-25T15:00";
const TUESDAY_AFTERNOON: &str = "2026-12-01T16:00";

fn overridden(mut body: Value, reason: &str) -> Value {
    body["override_reason"] = json!(reason);
    body
}

async fn denials(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied'").await
}

async fn bookings(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) AS n FROM bookings").await
}

#[tokio::test]
async fn adhoc_times_outside_the_counselling_hours_are_refused_without_an_override() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    for at in [SUNDAY, LATE, WEDNESDAY, "2026-12-01T13:30"] {
        let response = app.post_booking_as(&desk, &adhoc_body("ads", aydin, at, 60)).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "outside_hours").await;
        assert!(problem["detail"].as_str().unwrap().contains("counselling hours"), "{at}: {problem}");
    }
    assert_eq!(bookings(&app).await, 0, "nothing written");
    let inside = app.post_booking_as(&desk, &adhoc_body("ads", aydin, TUESDAY_AFTERNOON, 60)).await;
    assert_eq!(inside.status(), StatusCode::CREATED, "an ad-hoc time within the hours needs no override");
}

#[tokio::test]
async fn a_front_desk_may_not_override_a_rule_and_the_refusal_is_audited() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0)["slot_id"].as_i64().unwrap();
    let before = denials(&app).await;
    for body in [
        overridden(adhoc_body("ads", aydin, SUNDAY, 60), "Sonntagstermin"),
        overridden(adhoc_body("ads", aydin, "2026-11-23T10:00", 60), "Nachtrag"),
        overridden(adhoc_body("ads", aydin, TUESDAY_AFTERNOON, 60), "ohne Not"),
        overridden(booking_body(slot), "Nachtrag"),
    ] {
        let response = app.post_booking_as(&desk, &body).await;
        let problem = assert_problem(response, StatusCode::FORBIDDEN, "override_not_permitted").await;
        assert!(problem["detail"].as_str().unwrap().contains("leads"), "{problem}");
    }
    assert_eq!(bookings(&app).await, 0, "nothing written");
    assert_eq!(denials(&app).await, before + 4, "each refusal is in the audit");

    // Moving with an override is refused alike; the booking stays where it was.
    let booked: Value = app.post_booking_as(&desk, &booking_body(slot)).await.json().await.unwrap();
    let id = booked["id"].as_str().unwrap();
    let path = format!("/api/v1/bookings/{id}/reschedule");
    let body = json!({ "starts_at": SUNDAY, "override_reason": "Sonntag" });
    assert_problem(app.post_as(&desk, &path, &body).await, StatusCode::FORBIDDEN, "override_not_permitted").await;
    let without = json!({ "starts_at": SUNDAY });
    assert_problem(app.post_as(&desk, &path, &without).await, StatusCode::UNPROCESSABLE_ENTITY, "outside_hours").await;
    let details: Value = app.get_booking(id).await.json().await.unwrap();
    assert_eq!(details["slot_id"], slot, "not moved");
}

#[tokio::test]
async fn unit_leads_and_admins_override_with_a_reason_recorded_in_the_booking() {
    let app = spawn_app().await;
    let lead = app.token_for("leitung", "unit_lead", Some("ads")).await;
    let other_lead = app.token_for("leitung.sdr", "unit_lead", Some("sdr")).await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;

    let response =
        app.post_booking_as(&lead, &overridden(adhoc_body("ads", aydin, SUNDAY, 60), "Sonntagstermin")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.unwrap();
    assert_eq!(booking["override_reason"], "Sonntagstermin");
    let details: Value = app.get_booking(booking["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(details["history"][0]["detail"]["override_reason"], "Sonntagstermin");

    let response = app.post_booking(&overridden(adhoc_body("ads", aydin, LATE, 30), "Notfall")).await;
    assert_eq!(response.status(), StatusCode::CREATED, "an admin may override");

    // A lead of another unit is no lead here.
    let response = app.post_booking_as(&other_lead, &overridden(adhoc_body("ads", aydin, WEDNESDAY, 60), "x-y")).await;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;

    // The lead moves the Sunday appointment to a Wednesday evening, again with a reason.
    let id = booking["id"].as_str().unwrap();
    let body = json!({ "starts_at": "2026-11-25T19:00", "override_reason": "Abendtermin auf Wunsch" });
    let moved = app.post_as(&lead, &format!("/api/v1/bookings/{id}/reschedule"), &body).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["override_reason"], "Abendtermin auf Wunsch");

    // Moved again into the counselling hours, it overrides nothing: the reason goes, the history keeps each.
    let body = json!({ "starts_at": TUESDAY_AFTERNOON });
    let moved = app.post_as(&lead, &format!("/api/v1/bookings/{id}/reschedule"), &body).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["override_reason"], Value::Null, "a time inside the rules needs no reason");
    let details: Value = app.get_booking(id).await.json().await.unwrap();
    let reasons: Vec<&Value> =
        details["history"].as_array().unwrap().iter().map(|e| &e["detail"]["override_reason"]).collect();
    assert_eq!(reasons[..2], [&json!("Sonntagstermin"), &json!("Abendtermin auf Wunsch")]);
}

/// The API reads an override reason as the pages do: trimmed, so spaces around one letter are no
/// reason of 3 characters (refused at the field, nothing written), and a reason with spaces
/// around it is stored without them.
#[tokio::test]
async fn an_override_reason_is_counted_without_the_spaces_around_it() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let before = bookings(&app).await;
    for reason in [" a ", "  ab  "] {
        let response = app.post_booking(&overridden(adhoc_body("ads", aydin, SUNDAY, 60), reason)).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "override_reason", "{reason:?}: {problem}");
    }
    assert_eq!(bookings(&app).await, before, "nothing written");
    let response = app.post_booking(&overridden(adhoc_body("ads", aydin, SUNDAY, 60), "  Notfall  ")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.expect("test step");
    assert_eq!(booking["override_reason"], "Notfall");
}
