//! Absences and closures through the API: each takes its own fields, and a span it refuses is
//! named at the field the client sent.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

const ABSENCES: &str = "/api/v1/units/ads/absences";
const CLOSURES: &str = "/api/v1/units/ads/closures";

/// How many rows `table` (with a condition, if given) holds.
async fn rows(app: &TestApp, table: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) AS n FROM {table}")).await
}

/// Asserts a 422 naming exactly `field`.
async fn refused_at(response: reqwest::Response, field: &str, what: &str) -> Value {
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let errors = problem["errors"].as_array().expect("a list of errors");
    assert_eq!(errors.len(), 1, "{what}: {problem}");
    assert_eq!(errors[0]["field"], field, "{what}: {problem}");
    problem
}

#[tokio::test]
async fn a_closure_naming_a_counsellor_is_refused_and_closes_nothing() {
    // Before, `counsellor_id` was dropped and the whole unit closed: a client meaning one
    // counsellor's absence closed the unit.
    let app = spawn_app().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let body = json!({ "from_date": "2026-12-20", "until_date": "2026-12-20", "reason": "x", "counsellor_id": jana });

    let refused = app.post_as(&app.admin_token, CLOSURES, &body).await;

    let problem = refused_at(refused, "counsellor_id", "closure with a counsellor").await;
    let message = problem["errors"][0]["message"].as_str().expect("a message");
    let (unknown, expected) = message.split_once(", expected").expect("the fields a closure takes");
    assert_eq!(unknown, "unknown field `counsellor_id`", "{problem}");
    assert!(expected.contains("`from_date`") && !expected.contains("counsellor_id"), "{problem}");
    assert_eq!(rows(&app, "closures").await, 0, "no closure");
    assert_eq!(rows(&app, "absences").await, 0, "no absence either");
    // The same body is an absence of that counsellor.
    let absence = app.post_as(&app.admin_token, ABSENCES, &body).await;
    assert_eq!(absence.status(), StatusCode::CREATED);
    let absence: Value = absence.json().await.expect("json");
    assert_eq!(absence["counsellor_id"], json!(jana));
    // The published schemas say the same: a closure takes no counsellor, an absence does.
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.expect("openapi");
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["ClosureRequest"]["properties"].get("counsellor_id").is_none(), "{}", schemas["ClosureRequest"]);
    assert!(schemas["AbsenceRequest"]["properties"].get("counsellor_id").is_some(), "{}", schemas["AbsenceRequest"]);
    for name in ["ClosureRequest", "AbsenceRequest"] {
        assert_eq!(schemas[name]["additionalProperties"], json!(false), "{name}");
    }
}

#[tokio::test]
async fn a_span_an_absence_or_closure_refuses_is_named_at_the_field_the_client_sent() {
    // Before, `until_date` before `from_date` was reported at `ends_at`, a field the client never
    // sent, and an `until_date` sent with `starts_at` and `ends_at` was dropped.
    let app = spawn_app().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let cases = [
        (json!({ "from_date": "2026-12-20", "until_date": "2026-12-19" }), "until_date"),
        (json!({ "from_date": "2027-01-01", "until_date": "2028-06-01" }), "until_date"),
        (json!({ "starts_at": "2026-12-20T12:00", "ends_at": "2026-12-20T11:00" }), "ends_at"),
        (
            json!({ "starts_at": "2026-12-20T09:00", "ends_at": "2026-12-20T11:00", "until_date": "2026-12-22" }),
            "until_date",
        ),
    ];

    for (path, extra) in [(ABSENCES, json!({ "counsellor_id": jana })), (CLOSURES, json!({}))] {
        for (span, field) in &cases {
            let mut body = span.clone();
            body["reason"] = json!("Fortbildung");
            for (key, value) in extra.as_object().expect("object") {
                body[key] = value.clone();
            }
            refused_at(app.post_as(&app.admin_token, path, &body).await, field, &format!("{path} {body}")).await;
        }
    }

    assert_eq!(rows(&app, "absences").await, 0, "no absence");
    assert_eq!(rows(&app, "closures").await, 0, "no closure");
    // The same spans the right way round are taken.
    let closure = json!({ "from_date": "2026-12-19", "until_date": "2026-12-20", "reason": "Fortbildung" });
    assert_eq!(app.post_as(&app.admin_token, CLOSURES, &closure).await.status(), StatusCode::CREATED);
    let absence = json!({ "counsellor_id": jana, "starts_at": "2026-12-21T09:00", "ends_at": "2026-12-21T11:00",
        "reason": "Fortbildung" });
    assert_eq!(app.post_as(&app.admin_token, ABSENCES, &absence).await.status(), StatusCode::CREATED);
}

/// Absences and closures a page at a time: soonest first (spans starting together by id),
/// `X-Next-After` naming where the next page starts until the last; a `limit` out of range or an
/// `after` the list does not hold is a 422 naming it.
#[tokio::test]
async fn absences_and_closures_are_listed_a_page_at_a_time_soonest_first_with_the_next_page_named() {
    let app = spawn_app().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let days = ["2026-12-21", "2026-12-20", "2026-12-20", "2026-12-22", "2026-12-20"];

    for (path, extra) in [(ABSENCES, json!({ "counsellor_id": jana })), (CLOSURES, json!({}))] {
        // Arrange: five spans, three of them on the same day.
        let mut made = Vec::new();
        for day in days {
            let mut body = json!({ "from_date": day, "until_date": day, "reason": "Fortbildung" });
            for (key, value) in extra.as_object().expect("object") {
                body[key] = value.clone();
            }
            let created: Value = app.post_as(&app.admin_token, path, &body).await.json().await.expect("json");
            made.push((day, created["id"].as_i64().expect("an id")));
        }
        made.sort();
        let soonest_first: Vec<i64> = made.iter().map(|(_, id)| *id).collect();

        // Act: pages of two, each following the last one's `X-Next-After`.
        let (mut seen, mut pages, mut query) = (Vec::new(), 0, format!("{path}?to=2026-12-31&limit=2"));
        loop {
            let response = app.get_as(&app.admin_token, &query).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            let next = response.headers().get("x-next-after").map(|v| v.to_str().expect("ascii").to_owned());
            let page: Vec<Value> = response.json().await.expect("a bare list");
            assert!(page.len() <= 2, "{query}: {page:?}");
            seen.extend(page.iter().map(|span| span["id"].as_i64().expect("an id")));
            pages += 1;
            match next {
                Some(after) => query = format!("{path}?to=2026-12-31&limit=2&after={after}"),
                None => break,
            }
        }
        let whole = app.get_as(&app.admin_token, path).await;
        let no_next = whole.headers().get("x-next-after").is_none();
        let whole: Vec<Value> = whole.json().await.expect("a bare list");
        let bad_limit = app.get_as(&app.admin_token, &format!("{path}?limit=1001")).await;
        let bad_after = app.get_as(&app.admin_token, &format!("{path}?after=999999")).await;

        // Assert
        assert_eq!((seen, pages), (soonest_first.clone(), 3), "{path}: every span once, soonest first, in three pages");
        let whole: Vec<i64> = whole.iter().map(|span| span["id"].as_i64().expect("an id")).collect();
        assert_eq!(whole, soonest_first, "{path}: without parameters as before (up to 100)");
        assert!(no_next, "{path}: no next page");
        refused_at(bad_limit, "limit", path).await;
        refused_at(bad_after, "after", path).await;
    }
}
