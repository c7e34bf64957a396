//! Races: many staff members booking the same time at once.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{adhoc_anyway, adhoc_body, booking_body, spawn_app};

#[tokio::test]
async fn fifty_concurrent_bookings_of_one_slot_give_one_201_and_49_409s() {
    // Arrange
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let slot_id = slot["slot_id"].as_i64().unwrap();
    // Act
    let body = booking_body(slot_id);
    let responses = join_all((0..50).map(|_| app.post_booking(&body))).await;
    // Assert
    let created = responses.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    let conflicts = responses.iter().filter(|r| r.status() == StatusCode::CONFLICT).count();
    assert_eq!(
        (created, conflicts),
        (1, 49),
        "statuses: {:?}",
        responses.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    for response in responses.into_iter().filter(|r| r.status() == StatusCode::CONFLICT) {
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "slot_taken");
    }
    let rows = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT booked_count, (SELECT COUNT(*) FROM bookings WHERE slot_id = {slot_id}) AS n FROM slots WHERE id = {slot_id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i32>("", "booked_count").unwrap(), 1);
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 1);
}

#[tokio::test]
async fn concurrent_overlapping_adhoc_bookings_of_one_counsellor_leave_exactly_one() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Samira Haddad").await;
    let starts = ["2026-11-25T14:00", "2026-11-25T14:10", "2026-11-25T14:20", "2026-11-25T14:30", "2026-11-25T14:40"];
    let bodies: Vec<_> = (0..20).map(|i| adhoc_anyway("ads", counsellor, starts[i % starts.len()], 45)).collect();
    let responses = join_all(bodies.iter().map(|body| app.post_booking(body))).await;
    let created = responses.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    let conflicts = responses.iter().filter(|r| r.status() == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 19));
    assert_eq!(app.list_bookings("unit=ads").await.len(), 1);
}

#[tokio::test]
async fn bookings_racing_a_new_absence_are_either_refused_or_reported_as_affected() {
    // Arrange: six free slots and four ad-hoc times of one counsellor, all inside the absence.
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let slots = app.free_slots("ads", &format!("counsellor={counsellor}&to=2026-12-04&limit=6")).await;
    let mut bodies: Vec<serde_json::Value> =
        slots.iter().map(|s| booking_body(s["slot_id"].as_i64().unwrap())).collect();
    // Tuesday 1 December, within the counselling hours (14–17) but after the six slots.
    for hour in ["14:00", "14:45", "15:30", "16:15"] {
        bodies.push(adhoc_body("ads", counsellor, &format!("2026-12-01T{hour}"), 45));
    }
    let absence = serde_json::json!({
        "counsellor_id": counsellor, "from_date": "2026-11-24", "until_date": "2026-12-04", "reason": "krank",
    });
    // Act: the absence and the bookings race.
    let (absence, responses) = tokio::join!(
        app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence),
        join_all(bodies.iter().map(|body| app.post_booking(body))),
    );
    // Assert: every booking that exists in the absence was reported to the lead; the others were refused.
    assert_eq!(absence.status(), StatusCode::CREATED);
    let absence: serde_json::Value = absence.json().await.unwrap();
    let affected: Vec<&str> = absence["affected_bookings"]
        .as_array()
        .map(|a| a.iter().map(|b| b["id"].as_str().unwrap()).collect())
        .unwrap_or_default();
    for response in responses {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        match status {
            StatusCode::CREATED => {
                assert!(affected.contains(&body["id"].as_str().unwrap()), "unreported booking {body}")
            }
            StatusCode::UNPROCESSABLE_ENTITY => assert_eq!(body["code"], "counsellor_absent"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let booked = app.list_bookings(&format!("unit=ads&counsellor={counsellor}&status=booked")).await;
    assert_eq!(booked.len(), affected.len(), "exactly the reported bookings exist");
}
