//! Access control: no personal data without a token; staff see only their units.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::{assert_problem, booking_body, spawn_app};

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    let response = app.get_unauthenticated("/api/v1/bookings").await;
    assert_eq!(response.headers().get("www-authenticate").unwrap(), "Bearer");
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_problem(app.get_as("tb_forged", "/api/v1/units").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_problem(app.get_as("", "/api/v1/units/ads/free-slots").await, StatusCode::UNAUTHORIZED, "unauthenticated")
        .await;
}

#[tokio::test]
async fn staff_of_one_unit_cannot_see_or_change_another_units_bookings() {
    let app = spawn_app().await;
    let ads_desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    let sdr_desk = app.token_for("empfang.sdr", "front_desk", Some("sdr")).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let response = app.post_booking_as(&ads_desk, &booking_body(slot["slot_id"].as_i64().unwrap())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: serde_json::Value = response.json().await.unwrap();
    let id = booking["id"].as_str().unwrap();

    assert_problem(app.get_as(&sdr_desk, &format!("/api/v1/bookings/{id}")).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    let cancel = app.post_as(&sdr_desk, &format!("/api/v1/bookings/{id}/cancel"), &json!({ "reason": "x" })).await;
    assert_problem(cancel, StatusCode::FORBIDDEN, "forbidden").await;
    let other_slot = app.free_slots("ads", "limit=1").await.remove(0);
    let book = app.post_booking_as(&sdr_desk, &booking_body(other_slot["slot_id"].as_i64().unwrap())).await;
    assert_problem(book, StatusCode::FORBIDDEN, "forbidden").await;
    let list = app.get_as(&sdr_desk, "/api/v1/bookings?unit=ads").await;
    assert_problem(list, StatusCode::FORBIDDEN, "forbidden").await;
    let own: Vec<serde_json::Value> = app.get_as(&sdr_desk, "/api/v1/bookings").await.json().await.unwrap();
    assert!(own.is_empty(), "the SDR desk sees no ADS bookings");
    let visible = app.get_as(&ads_desk, &format!("/api/v1/bookings/{id}")).await;
    assert_eq!(visible.status(), StatusCode::OK);

    let denials = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(denials.try_get::<i64>("", "n").unwrap(), 4, "every denial is audited");
}

#[tokio::test]
async fn only_unit_leads_change_counselling_hours_and_only_admins_add_staff() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let lead = app.token_for("leitung", "unit_lead", Some("ads")).await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let hours =
        json!({ "counsellor_id": counsellor, "weekday": 5, "start": "09:00", "end": "11:00", "slot_minutes": 60 });
    let path = "/api/v1/units/ads/counselling-hours";
    assert_problem(app.post_as(&desk, path, &hours).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.post_as(&lead, path, &hours).await.status(), StatusCode::CREATED);
    assert_problem(
        app.post_as(&lead, "/api/v1/units/sdr/counselling-hours", &hours).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let staff = json!({ "login": "neu", "name": "Neue Kollegin", "role": "front_desk", "unit": "ads" });
    assert_problem(app.post_as(&lead, "/api/v1/staff", &staff).await, StatusCode::FORBIDDEN, "forbidden").await;
    let created = app.post_as(&app.admin_token, "/api/v1/staff", &staff).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: serde_json::Value = created.json().await.unwrap();
    assert!(body["generated_password"].as_str().unwrap().len() >= 10);
}

/// A refusal says what is true of every refusal: routes of admins concern no unit, so the
/// message names none (the code stays `forbidden`).
#[tokio::test]
async fn a_refusal_names_no_unit_where_the_route_concerns_none() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let sdr_desk = app.token_for("empfang.sdr", "front_desk", Some("sdr")).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booked = app.post_booking_as(&desk, &booking_body(slot["slot_id"].as_i64().expect("slot"))).await;
    let booked: serde_json::Value = booked.json().await.expect("json");
    let another_units = format!("/api/v1/bookings/{}", booked["id"].as_str().expect("id"));
    let refused = [
        (&desk, "/api/v1/staff"),
        (&desk, "/api/v1/audit"),
        (&desk, "/api/v1/statistics"),
        (&desk, "/metrics"),
        (&sdr_desk, another_units.as_str()),
    ];
    for (token, path) in refused {
        let problem = assert_problem(app.get_as(token, path).await, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(problem["detail"], "you may not do this", "{path}: {problem}");
    }
}

#[tokio::test]
async fn a_deactivated_staff_members_token_stops_working_once_the_token_cache_expires() {
    let app = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| s.token_cache_ms = 300).await;
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    assert_eq!(app.get_as(&desk, "/api/v1/bookings?unit=ads").await.status(), StatusCode::OK);
    let backend = app.db.get_database_backend();
    let sql = "UPDATE staff SET active = false WHERE login = 'empfang.ads'";
    app.db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    // Within the cache's lifetime (300 ms) the token may still be served; after it, it is not.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let refused = loop {
        let response = app.get_as(&desk, "/api/v1/bookings?unit=ads").await;
        if response.status() != StatusCode::OK {
            break response;
        }
        assert!(tokio::time::Instant::now() < deadline, "the token still works long after the cache's lifetime");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_problem(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let strict = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| s.token_cache_ms = 0).await;
    let desk = strict.token_for("empfang.ads", "front_desk", Some("ads")).await;
    assert_eq!(strict.get_as(&desk, "/api/v1/bookings?unit=ads").await.status(), StatusCode::OK);
    strict.db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    let refused = strict.get_as(&desk, "/api/v1/bookings?unit=ads").await;
    assert_problem(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

/// Another unit's free and taken times tell its counsellors' days and absences: the free-slot
/// search and the counsellor list are for the unit's own staff (and admins), and a refusal is
/// recorded.
#[tokio::test]
async fn another_units_free_slots_and_counsellors_are_refused_and_recorded_and_it_is_not_listed() {
    let app = spawn_app().await;
    let sdr_desk = app.token_for("empfang.sdr", "front_desk", Some("sdr")).await;
    for path in ["/api/v1/units/ads/free-slots?limit=500", "/api/v1/units/ads/counsellors"] {
        assert_problem(app.get_as(&sdr_desk, path).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    assert_eq!(app.get_as(&sdr_desk, "/api/v1/units/sdr/free-slots?limit=1").await.status(), StatusCode::OK);
    assert_eq!(app.get_as(&sdr_desk, "/api/v1/units/sdr/counsellors").await.status(), StatusCode::OK);
    let units: Vec<serde_json::Value> = app.get_as(&sdr_desk, "/api/v1/units").await.json().await.expect("json");
    let slugs: Vec<&str> = units.iter().filter_map(|u| u["slug"].as_str()).collect();
    assert_eq!(slugs, ["sdr"], "the units listed are the desk's own, as on the page");
    let denied = app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied'").await;
    assert_eq!(denied, 2, "each refusal recorded");
}

/// Another page (of the city's own domain, whose loads carry the `Lax` session cookie, or one
/// that navigates the window) cannot make a logged-in colleague's browser load a booking's page
/// unseen or unasked and so plant "viewed" records in their name; a link the person clicks in an
/// email or on another site still opens it.
#[tokio::test]
async fn another_site_cannot_load_a_staff_page_unseen() {
    let app = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| {
        s.require_mfa = terminbuch::domain::accounts::RequireMfa::None;
    })
    .await;
    crate::web::add_member(&app, "verwaltung", "admin", None).await;
    let web = crate::web::WebClient::logged_in(&app, "verwaltung").await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().expect("slot id")).await;
    let path = format!("{}/bookings/{}", app.address, booking["reference"].as_str().expect("reference"));
    let viewed = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'booking_viewed'";
    let before = app.count(viewed).await;
    let load = |site: &'static str, mode: &'static str, dest: &'static str, user: Option<&'static str>| {
        let request = web
            .client
            .get(&path)
            .header("sec-fetch-site", site)
            .header("sec-fetch-mode", mode)
            .header("sec-fetch-dest", dest);
        match user {
            Some(user) => request.header("sec-fetch-user", user),
            None => request,
        }
        .send()
    };

    for (site, mode, dest, user) in [
        ("same-site", "no-cors", "image", None),
        ("same-site", "navigate", "iframe", None),
        ("cross-site", "no-cors", "image", None),
        ("cross-site", "cors", "empty", None),
        ("cross-site", "navigate", "document", None),
        ("same-site", "navigate", "document", None),
    ] {
        let status = load(site, mode, dest, user).await.expect("sent").status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{site} {mode} {dest} {user:?}");
    }

    assert_eq!(app.count(viewed).await, before, "nothing recorded in the colleague's name");
    for (site, mode, dest, user) in [
        ("cross-site", "navigate", "document", Some("?1")),
        ("none", "navigate", "document", Some("?1")),
        ("same-origin", "no-cors", "image", None),
    ] {
        let status = load(site, mode, dest, user).await.expect("sent").status();
        assert_eq!(status, StatusCode::OK, "{site} {mode} {dest} {user:?}");
    }
    assert_eq!(app.count(viewed).await, before + 3);
}
