//! Admins read the audit through `GET /api/v1/audit` (filters, pages, problems for bad filters)
//! and download it as CSV with cells that cannot start a formula.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::audit::{AuditAction, AuditEntry};
use terminbuch::services::auth;
use terminbuch::services::directory::{self, StaffInput, StaffRole};

use crate::audit::records;
use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn audit(app: &TestApp, query: &str) -> Value {
    let response = app.get_as(&app.admin_token, &format!("/api/v1/audit?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "audit?{query}");
    response.json().await.expect("test step")
}

fn actions(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .expect("test step")
        .iter()
        .map(|r| r["action"].as_str().expect("test step").to_owned())
        .collect()
}

/// Books two slots of ADS as the admin and views the first.
async fn two_bookings(app: &TestApp) -> (Value, Value) {
    let slots = app.free_slots("ads", "limit=2").await;
    let first = app.book_slot(slots[0]["slot_id"].as_i64().expect("test step")).await;
    let second = app.book_slot(slots[1]["slot_id"].as_i64().expect("test step")).await;
    assert_eq!(app.get_booking(first["id"].as_str().expect("test step")).await.status(), StatusCode::OK);
    (first, second)
}

#[tokio::test]
async fn admins_filter_the_audit_by_action_actor_booking_and_days_and_page_through_it() {
    let app = spawn_app().await;
    let (first, second) = two_bookings(&app).await;
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    assert_eq!(app.get_as(&desk, "/api/v1/bookings").await.status(), StatusCode::OK);

    let viewed = audit(&app, "action=booking_viewed").await;
    assert_eq!(actions(&viewed), ["booking_viewed"]);
    let record = &viewed["records"][0];
    assert_eq!(record["actor"]["login"], "admin");
    assert_eq!(record["actor"]["kind"], "staff");
    assert_eq!(record["client_addr"], "127.0.0.1");
    assert_eq!(record["unit"], "ads");
    assert_eq!(record["bookings"], json!([{ "id": first["id"], "reference": first["reference"] }]));
    assert!(record["at"].as_str().unwrap().starts_with("2026-11-24T08:00:00+01:00"), "{record}");

    let by_desk = audit(&app, "actor=empfang.ads").await;
    assert_eq!(actions(&by_desk), ["bookings_listed"]);
    let desk_id = by_desk["records"][0]["actor"]["staff_id"].clone();
    assert_eq!(audit(&app, &format!("actor={desk_id}")).await["records"], by_desk["records"]);
    assert!(actions(&audit(&app, "actor=system").await).iter().all(|a| a != "booking_viewed"));

    let reference = second["reference"].as_str().unwrap();
    let about_second = audit(&app, &format!("booking={reference}")).await;
    assert_eq!(actions(&about_second), ["bookings_listed", "booking_created"], "the desk's list showed it too");
    let by_id = audit(&app, &format!("booking={}", second["id"].as_str().unwrap())).await;
    assert_eq!(by_id["records"], about_second["records"]);

    assert_eq!(
        audit(&app, "from=2026-11-24&to=2026-11-24&action=booking_created").await["records"].as_array().unwrap().len(),
        2
    );
    assert!(audit(&app, "from=2026-11-25").await["records"].as_array().unwrap().is_empty());

    let first_page = audit(&app, "limit=2").await;
    assert_eq!(first_page["records"].as_array().unwrap().len(), 2);
    let next = first_page["next_before"].as_i64().expect("more records");
    let second_page = audit(&app, &format!("limit=2&before={next}")).await;
    let ids = |page: &Value| {
        page["records"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert!(ids(&second_page).iter().all(|id| *id < next));
    assert!(ids(&first_page).iter().all(|id| *id >= next));
    assert!(!records(&app, AuditAction::AuditViewed).await.is_empty(), "reading the audit is recorded");
}

#[tokio::test]
async fn bad_audit_filters_are_problems_and_only_admins_read_the_audit() {
    let app = spawn_app().await;
    for (query, status, code, field) in [
        ("action=peeked", StatusCode::BAD_REQUEST, "invalid_query", "action"),
        ("before=abc", StatusCode::BAD_REQUEST, "invalid_query", "before"),
        ("from=2026-13-01", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "from"),
        ("actor=nobody", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "actor"),
        ("booking=ZZZZ-ZZZZ", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "booking"),
        ("booking=%27%20OR%201%3D1", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "booking"),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "limit"),
        ("limit=501", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "limit"),
        ("from=2026-11-25&to=2026-11-20", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "to"),
    ] {
        let response = app.get_as(&app.admin_token, &format!("/api/v1/audit?{query}")).await;
        let problem = assert_problem(response, status, code).await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let lead = app.token_for("leitung", "unit_lead", Some("ads")).await;
    for path in ["/api/v1/audit", "/api/v1/audit.csv"] {
        assert_problem(app.get_as(&lead, path).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let denials = records(&app, AuditAction::AccessDenied).await;
    assert_eq!(denials.len(), 2, "both refusals are recorded");
    assert_problem(app.get_unauthenticated("/api/v1/audit").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn the_audit_csv_holds_the_filtered_records_and_no_cell_starts_a_formula() {
    let app = spawn_app().await;
    let (first, _) = two_bookings(&app).await;
    for (login, name) in [("-cmd", "=HYPERLINK(\"http://evil.example\")"), ("plus", "+49 511"), ("at", "@SUM(A1)")] {
        let input = StaffInput {
            login: login.to_owned(),
            display_name: name.to_owned(),
            email: None,
            languages: vec![],
            role: StaffRole::parse("front_desk").unwrap(),
            unit: Some("ads".to_owned()),
            password: None,
        };
        directory::add_staff(&app.db, &app.clock, input).await.unwrap();
        let token = auth::create_token(&app.db, &app.clock, login, "test").await.unwrap();
        let path = format!("/api/v1/bookings/{}", first["id"].as_str().unwrap());
        assert_eq!(app.get_as(&token, &path).await.status(), StatusCode::OK);
    }
    let response = app.get_as(&app.admin_token, "/api/v1/audit.csv?action=booking_viewed").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(response.headers().get("x-next-before").is_none());
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header[..8],
        ["id", "at", "actor_kind", "actor_id", "actor_login", "actor_name", "client_addr", "action"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "{text}");
    let actors: Vec<(&str, &str)> = rows.iter().map(|r| (&r[4], &r[5])).collect();
    assert_eq!(
        actors,
        [
            ("at", "'@SUM(A1)"),
            ("plus", "'+49 511"),
            ("'-cmd", "'=HYPERLINK(\"http://evil.example\")"),
            ("admin", "Administration")
        ]
    );
    assert!(rows.iter().all(|r| &r[7] == "booking_viewed" && &r[8] == "ads" && &r[2] == "staff"));
    assert_eq!(&rows[3][9], first["reference"].as_str().unwrap());
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?} could start a formula");
        }
    }
    let exported = records(&app, AuditAction::AuditExported).await;
    assert_eq!(exported[0].item_count, Some(4));

    let limited = app.get_as(&app.admin_token, "/api/v1/audit.csv?action=booking_viewed&limit=2").await;
    let next = limited.headers()["x-next-before"].to_str().unwrap().to_owned();
    assert_eq!(next, rows[1][0], "the rest begins before the last record of this download");
    assert_eq!(limited.text().await.unwrap().lines().count(), 3, "header and two records");
}

#[tokio::test]
async fn the_openapi_document_lists_the_audit_and_statistics_routes() {
    let app = spawn_app().await;
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.unwrap();
    for path in ["/api/v1/audit", "/api/v1/audit.csv", "/api/v1/statistics", "/api/v1/statistics.csv"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is documented");
    }
    let actions = &doc["components"]["schemas"]["AuditAction"]["enum"];
    assert_eq!(actions.as_array().map(Vec::len), Some(AuditAction::ALL.len()), "{actions}");
}

#[tokio::test]
async fn records_naming_more_bookings_than_one_query_takes_are_read_page_by_page() {
    // Arrange: 60 `bookings_listed` records of 1,000 bookings each (what 60 lists of 1,000 write;
    // 33 of them already named more bookings than SQLite takes variables), the newest naming a
    // real booking among them.
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=1").await;
    let real = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let real_id = uuid::Uuid::parse_str(real["id"].as_str().expect("id")).expect("uuid");
    for n in 0..60 {
        let mut ids: Vec<uuid::Uuid> = (0..1000).map(|_| uuid::Uuid::now_v7()).collect();
        if n == 59 {
            ids[500] = real_id;
        }
        let entry = AuditEntry::system(AuditAction::BookingsListed).bookings(ids).count(1000);
        terminbuch::services::audit::record(&app.db, &app.clock, entry).await.expect("record");
    }

    // Act and assert: every page the issue named answers, a page holds at most 50,000 bookings
    // and says where the rest begins, and the pages together hold every record once.
    for query in ["", "limit=500", "action=bookings_listed&limit=500"] {
        let page = audit(&app, query).await;
        assert!(page["records"].as_array().is_some_and(|r| !r.is_empty()), "audit?{query}");
    }
    let first = audit(&app, "action=bookings_listed&limit=500").await;
    let records_of = |page: &Value| page["records"].as_array().expect("records").clone();
    assert_eq!(records_of(&first).len(), 50, "50,000 bookings on the first page");
    let newest = &records_of(&first)[0];
    let named = newest["bookings"].as_array().expect("bookings");
    assert_eq!(named.len(), 1000);
    assert_eq!(named[500]["reference"], real["reference"], "the real booking is named by its reference");
    assert!(named[0]["reference"].is_null(), "an id no booking has");
    let before = first["next_before"].as_i64().expect("more records");
    let second = audit(&app, &format!("action=bookings_listed&limit=500&before={before}")).await;
    assert_eq!(records_of(&second).len(), 10);
    assert!(second["next_before"].is_null(), "the last page");
    let mut ids: Vec<i64> =
        records_of(&first).iter().chain(&records_of(&second)).map(|r| r["id"].as_i64().expect("id")).collect();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every record once");

    let csv = app.get_as(&app.admin_token, "/api/v1/audit.csv?action=bookings_listed").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let next = csv.headers()["x-next-before"].to_str().expect("header").to_owned();
    assert_eq!(next, before.to_string(), "the download stops where the page does");
    let text = csv.text().await.expect("csv");
    assert_eq!(csv::Reader::from_reader(text.as_bytes()).records().count(), 50);
    assert!(text.contains(real["reference"].as_str().expect("reference")));
}

/// The desk's CSV download holds every record matching the filters, also beyond one part of
/// 10,000 (the API's CSV ends there with `X-Next-Before`); each part is recorded as an export.
#[tokio::test]
async fn the_desks_audit_download_holds_every_matching_record_in_parts() {
    use sea_orm::TransactionTrait;
    let app = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| {
        s.require_mfa = terminbuch::domain::accounts::RequireMfa::None;
    })
    .await;
    crate::web::add_member(&app, "verwaltung", "admin", None).await;
    let web = crate::web::WebClient::logged_in(&app, "verwaltung").await;
    let max = usize::try_from(terminbuch::services::audit::EXPORT_MAX).expect("test step");
    let many = max + 50;
    let txn = app.db.begin().await.expect("test step");
    for n in 0..many {
        let entry = AuditEntry::system(AuditAction::RetentionRun).detail(json!({ "n": n }));
        terminbuch::store::audit::insert(&txn, app.clock.now(), &entry).await.expect("test step");
    }
    txn.commit().await.expect("test step");

    let response = web.get("/admin/audit.csv?action=retention_run").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let text = response.text().await.expect("test step");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a whole CSV row")).collect();
    assert_eq!(rows.len(), many, "every matching record, in one file with one header");
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().expect("an id")).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, none twice");
    let mut numbers: Vec<i64> = rows
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r[12]).expect("detail")["n"].as_i64().expect("test step"))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..i64::try_from(many).expect("test step")).collect::<Vec<_>>());
    let mut parts: Vec<Option<i64>> =
        records(&app, AuditAction::AuditExported).await.iter().map(|r| r.item_count).collect();
    parts.sort_unstable();
    assert_eq!(parts, [Some(50), Some(i64::try_from(max).expect("test step"))]);
}
