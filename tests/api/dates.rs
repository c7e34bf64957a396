//! Dates outside 1900–9999 (and signed or longer years such as `+262142-12-31`) are refused
//! wherever a client sends one: 422 naming the parameter in the API, a message at the field on the
//! pages, and never a 500 on a page that navigates by date.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;

use crate::helpers::{TestApp, default_now, spawn_app, spawn_app_with};
use crate::web::{WebClient, add_member};

const EXTREME: [&str; 4] = ["+262142-12-31", "10000-01-01", "1899-12-31", "-0001-01-01"];

/// Asserts a 422 problem naming `field`.
async fn refused_naming(response: reqwest::Response, field: &str, what: &str) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
    let problem: Value = response.json().await.expect("problem json");
    let named = problem["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == field))
        || problem["detail"].as_str().is_some_and(|d| d.contains(field));
    assert!(named, "{what}: names {field}: {problem}");
}

fn encoded(date: &str) -> String {
    date.replace('+', "%2B")
}

#[tokio::test]
async fn the_api_refuses_extreme_dates_in_queries_naming_the_parameter() {
    let app = spawn_app().await;
    for date in EXTREME {
        let d = encoded(date);
        for (path, field) in [
            (format!("/api/v1/units/ads/free-slots?from={d}"), "from"),
            (format!("/api/v1/units/ads/free-slots?to={d}"), "to"),
            (format!("/api/v1/bookings?unit=ads&from={d}"), "from"),
            (format!("/api/v1/units/ads/absences?to={d}"), "to"),
            (format!("/api/v1/audit?from={d}"), "from"),
        ] {
            refused_naming(app.get_as(&app.admin_token, &path).await, field, &path).await;
        }
    }
}

#[tokio::test]
async fn a_to_before_from_is_refused_alike_by_every_list_naming_to() {
    // Before, the bookings and the absences and closures answered an empty list, which reads as
    // "none", while the free-slot search and the audit refused it.
    let app = spawn_app().await;
    for path in [
        "/api/v1/units/ads/free-slots?from=2026-12-10&to=2026-12-01",
        "/api/v1/bookings?unit=ads&from=2026-12-10&to=2026-12-01",
        "/api/v1/units/ads/absences?from=2026-12-10&to=2026-12-01",
        "/api/v1/units/ads/closures?from=2026-12-10&to=2026-12-01",
        "/api/v1/audit?from=2026-12-10&to=2026-12-01",
    ] {
        refused_naming(app.get_as(&app.admin_token, path).await, "to", path).await;
    }
    // One day (`to` is inclusive) is a range.
    let one_day = app.get_as(&app.admin_token, "/api/v1/units/ads/closures?from=2026-12-10&to=2026-12-10").await;
    assert_eq!(one_day.status(), StatusCode::OK);
}

async fn slot_and_counsellor(app: &TestApp) -> i64 {
    let slots = app.free_slots("ads", "limit=1").await;
    slots[0]["counsellor"]["id"].as_i64().expect("counsellor id")
}

#[tokio::test]
async fn the_api_refuses_extreme_dates_in_bodies_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let counsellor = slot_and_counsellor(&app).await;
    let before: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/bookings?unit=ads").await.json().await.unwrap();
    for date in EXTREME {
        let booking = json!({ "unit": "ads", "counsellor_id": counsellor, "starts_at": format!("{date}T10:00"),
            "duration_minutes": 30, "citizen": { "name": "Ayla Kaya", "phone": "0511 123456", "language": "de" } });
        refused_naming(app.post_as(&app.admin_token, "/api/v1/bookings", &booking).await, "starts_at", date).await;
        let absence = json!({ "counsellor_id": counsellor, "from_date": date, "reason": "Urlaub" });
        refused_naming(app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await, "from_date", date)
            .await;
        let hours = json!({ "counsellor_id": counsellor, "weekday": 1, "start": "09:00", "end": "10:00",
            "slot_minutes": 30, "valid_until": date });
        let response = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &hours).await;
        refused_naming(response, "valid_until", date).await;
    }
    // A start on the last day whose end would fall into the year 10000 (a 500 on SQLite, a time
    // that is no RFC 3339 on PostgreSQL), even with a rule overridden; as a move too.
    let late = json!({ "unit": "ads", "counsellor_id": counsellor, "starts_at": "9999-12-31T23:00",
        "duration_minutes": 480, "citizen": { "name": "Ayla Kaya" }, "override_reason": "Nachtrag" });
    refused_naming(app.post_as(&app.admin_token, "/api/v1/bookings", &late).await, "starts_at", "late").await;
    let after: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/bookings?unit=ads").await.json().await.unwrap();
    assert_eq!(after.len(), before.len(), "nothing was booked");
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let reference = booking["reference"].as_str().unwrap();
    let moved = json!({ "starts_at": "9999-12-31T23:00", "duration_minutes": 480, "override_reason": "Nachtrag" });
    refused_naming(app.reschedule_booking(reference, &moved).await, "starts_at", "late move").await;
    let kept: Value = app.get_booking(reference).await.json().await.unwrap();
    assert_eq!(kept["starts_at"], booking["starts_at"], "the booking kept its time");
}

#[tokio::test]
async fn the_pages_never_fail_on_extreme_dates_and_show_a_message_at_a_date_field() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    add_member(&app, "verwaltung", "admin", None).await;
    let web = WebClient::logged_in(&app, "verwaltung").await;
    let counsellor = slot_and_counsellor(&app).await.to_string();
    for date in EXTREME {
        let d = encoded(date);
        for path in
            [format!("/week?unit=ads&date={d}"), format!("/day?unit=ads&date={d}"), format!("/book?unit=ads&day={d}")]
        {
            let response = web.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path} shows today instead");
        }
        let response = web.get(&format!("/admin/audit?from={d}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "audit filter {date}");
        let fields = [
            ("unit", "ads"),
            ("adhoc", "1"),
            ("counsellor", counsellor.as_str()),
            ("date", date),
            ("time", "10:00"),
            ("duration", "60"),
            ("name", "Ayla Kaya"),
            ("phone", "0511 123456"),
            ("language", "de"),
        ];
        let response = web.post_form("/book", &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "ad-hoc booking on {date}");
        assert!(response.text().await.expect("page").contains("id=\"date-error\""), "a message at the date: {date}");
    }
}
