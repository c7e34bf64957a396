//! Health, OpenAPI, unknown routes, units.

use reqwest::StatusCode;
use serde_json::Value;

use terminbuch::clock::Clock;
use terminbuch::config::Settings;
use terminbuch::startup::{Dependencies, bootstrap};

use crate::helpers::{assert_problem, default_now, spawn_app};
use crate::test_db::TestDb;

#[tokio::test]
async fn health_is_ok_and_turns_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    let response = app.get_unauthenticated("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["database"], "ok");
    app.db.close_by_ref().await.unwrap();
    let response = app.get_unauthenticated("/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_openapi_document_describes_the_api_and_the_docs_page_is_served() {
    let app = spawn_app().await;
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/units",
        "/api/v1/units/{unit}/counsellors",
        "/api/v1/units/{unit}/free-slots",
        "/api/v1/bookings",
        "/api/v1/bookings/{booking}",
        "/api/v1/bookings/{booking}/cancel",
        "/api/v1/bookings/{booking}/reschedule",
        "/api/v1/bookings/{booking}/outcome",
        "/api/v1/units/{unit}/counselling-hours",
        "/api/v1/units/{unit}/absences",
        "/api/v1/units/{unit}/closures",
        "/health",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let docs = app.get_unauthenticated("/api/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn unknown_routes_get_a_problem_document() {
    let app = spawn_app().await;
    assert_problem(app.get_unauthenticated("/api/v1/nothing").await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn units_show_address_floor_and_languages() {
    let app = spawn_app().await;
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.unwrap();
    let ads = units.iter().find(|u| u["slug"] == "ads").expect("the anti-discrimination office");
    assert_eq!(ads["confidential"], true);
    assert_eq!(ads["location"]["street"], "Hamburger Allee 25");
    assert_eq!(ads["location"]["floor"], "11. Stock");
    assert!(ads["languages"].as_array().unwrap().iter().any(|l| l == "tr"));
    let turkish = app.free_slots("ads", "language=tr&limit=50").await;
    assert!(!turkish.is_empty());
    assert!(turkish.iter().all(|s| s["counsellor"]["languages"].as_array().unwrap().iter().any(|l| l == "tr")));
    assert_problem(
        app.get_as(&app.admin_token, "/api/v1/units/nope/free-slots").await,
        StatusCode::NOT_FOUND,
        "unit_not_found",
    )
    .await;
    let bad = app.get_as(&app.admin_token, "/api/v1/units/ads/free-slots?from=2026-13-01").await;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn free_slots_can_be_narrowed_to_the_morning_or_the_afternoon() {
    let app = spawn_app().await;
    let hour = |slot: &Value| slot["starts_at"].as_str().unwrap()[11..13].parse::<u32>().unwrap();
    let all = app.free_slots("ads", "limit=200").await;
    assert!(all.iter().any(|s| hour(s) < 12) && all.iter().any(|s| hour(s) >= 12), "the demo hours have both");
    for (part, wanted) in [("morning", 0..12), ("afternoon", 12..24)] {
        let found = app.free_slots("ads", &format!("daypart={part}&to=2027-01-15&limit=30")).await;
        assert_eq!(found.len(), 30, "{part}: the limit counts matching slots only");
        assert!(found.iter().all(|s| wanted.contains(&hour(s))), "{part}: {found:?}");
    }
    let bad = app.get_as(&app.admin_token, "/api/v1/units/ads/free-slots?daypart=abends").await;
    let problem = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "daypart");
}

#[tokio::test]
async fn two_processes_starting_at_once_migrate_once_and_create_one_first_admin() {
    let db = TestDb::create().await;
    let mut settings = Settings::for_tests(&db.url);
    settings.data_dir = db.data_dir().to_owned();
    let clock = Clock::fixed(default_now());
    let first = Dependencies { db: db.conn.clone(), clock: clock.clone() };
    let second = Dependencies { db: db.another_pool().await, clock };
    // On PostgreSQL both start at the same moment, as two server processes of a rolling deploy
    // do. A SQLite file belongs to one server process, so there the second start follows the first.
    let (a, b) = if db.is_postgres() {
        tokio::join!(bootstrap(&settings, &first), bootstrap(&settings, &second))
    } else {
        (bootstrap(&settings, &first).await, bootstrap(&settings, &second).await)
    };
    let (a, b) = (a.expect("first start"), b.expect("second start"));
    let created = [&a, &b].iter().filter(|report| report.first_admin.is_some()).count();
    assert_eq!(created, 1, "exactly one start creates the first admin and prints its password");
    let admins = terminbuch::store::directory::count_admins(&db.conn).await.expect("count");
    assert_eq!(admins, 1);
}
