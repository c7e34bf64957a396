//! Races: many staff members booking the same time at once.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{adhoc_body, booking_body, spawn_app};

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
    let bodies: Vec<_> = (0..20).map(|i| adhoc_body("ads", counsellor, starts[i % starts.len()], 45)).collect();
    let responses = join_all(bodies.iter().map(|body| app.post_booking(body))).await;
    let created = responses.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    let conflicts = responses.iter().filter(|r| r.status() == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 19));
    assert_eq!(app.list_bookings("unit=ads").await.len(), 1);
}
