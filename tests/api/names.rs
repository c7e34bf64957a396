//! Names of units and staff are one line: control characters are refused with 422 naming the
//! field (API) and a message at the field (admin pages); a name stored with a line break by an
//! earlier release fails its unit's emails clearly (never a panic, never queued forever), and the
//! upgrade makes such names one line.

use migration::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;

use crate::helpers::{TestApp, assert_problem, default_now, spawn_app, spawn_app_with};
use crate::mail::{book, wait_for_state};
use crate::web::{WebClient, add_member};

async fn location_id(app: &TestApp) -> i32 {
    let locations = terminbuch::services::directory::list_locations(&app.db).await.expect("locations");
    (locations.first().expect("a location").id).get()
}

/// Sets `column` of the rows of `table` where `key` = `value` (as an earlier release could).
async fn store_raw(app: &TestApp, table: &str, column: &str, text: &str, key: (&str, &str)) {
    let mut update = Query::update();
    update.table(Alias::new(table)).value(Alias::new(column), text).and_where(Expr::col(Alias::new(key.0)).eq(key.1));
    app.db.execute(&update).await.expect("update");
}

#[tokio::test]
async fn the_api_refuses_unit_and_staff_names_with_control_characters_naming_the_field() {
    // Arrange
    let app = spawn_app().await;
    let location = location_id(&app).await;
    let unit = |name: &str, short: &str| {
        json!({ "slug": "neu", "name": name, "short_name": short, "phone": "0511 168-0", "email": "neu@example.org",
                "location_id": location, "default_appointment_minutes": 60 })
    };
    let cases = [
        ("CR LF in the name", "/api/v1/units", unit("Neue Stelle\r\nBcc: alle@example.org", "Neu"), "name"),
        ("NUL in the name", "/api/v1/units", unit("Neue\0Stelle", "Neu"), "name"),
        ("tab in the short name", "/api/v1/units", unit("Neue Stelle", "N\tS"), "short_name"),
        (
            "LF in a staff name",
            "/api/v1/staff",
            json!({ "login": "neu", "name": "Neu\nINFO forged", "role": "admin" }),
            "name",
        ),
    ];
    for (case, path, body, field) in cases {
        // Act
        let response = app.post_as(&app.admin_token, path, &body).await;

        // Assert
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{case}: {problem}");
    }
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("json");
    assert!(units.iter().all(|u| u["slug"] != "neu"), "nothing was written");
}

#[tokio::test]
async fn the_admin_pages_show_a_message_at_a_name_with_control_characters() {
    // Arrange: an admin without a second factor (this test is about the forms, not the login).
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    add_member(&app, "verwaltung", "admin", None).await;
    let web = WebClient::logged_in(&app, "verwaltung").await;
    let location = location_id(&app).await.to_string();

    // Act
    let unit = web
        .post_form(
            "/admin/units",
            &[
                ("slug", "neu"),
                ("name", "Neue\r\nStelle"),
                ("short_name", "Neu"),
                ("phone", "0511 168-0"),
                ("email", "neu@example.org"),
                ("location", &location),
                ("minutes", "60"),
            ],
        )
        .await;
    let staff = web
        .post_form("/admin/staff", &[("login", "neu"), ("name", "Neu\nForged"), ("role", "admin"), ("lang_de", "1")])
        .await;

    // Assert
    for (page, response, field) in [("units", unit, "unit-name"), ("staff", staff, "staff-name")] {
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        let html = response.text().await.expect("page");
        let at_field = format!("id=\"{field}-error\">Bitte ohne Zeilenumbrüche");
        assert!(html.contains(&at_field), "{page}: message at {field}");
    }
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("json");
    assert!(units.iter().all(|u| u["slug"] != "neu"), "nothing was written");
}

#[tokio::test]
async fn a_unit_name_with_a_line_break_stored_earlier_fails_its_emails_clearly() {
    // Arrange: a name as an earlier release accepted it (emails go to .eml files here).
    let data_dir = tempfile::tempdir().expect("temp dir");
    let folder = data_dir.path().to_owned();
    let app = spawn_app_with(default_now(), move |settings| settings.data_dir = folder).await;
    store_raw(&app, "units", "name", "Südosteuropa\r\nBcc: alle@example.org", ("slug", "suedosteuropa")).await;

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;

    // Assert
    let emails = wait_for_state(&app, &booking, 0, "failed").await;
    let reason = emails[0]["last_error"].as_str().expect("a reason");
    assert!(reason.contains("line break") && reason.contains("unit's name"), "{reason}");
    let failed: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/suedosteuropa/failed-emails").await.json().await.expect("json");
    assert_eq!(failed.len(), 1, "on the failed-email list");
    assert_eq!(failed[0]["reference"], booking["reference"]);
    assert!(
        !data_dir.path().join("mail").exists()
            || std::fs::read_dir(data_dir.path().join("mail")).expect("dir").count() == 0,
        "nothing sent"
    );
}

#[tokio::test]
async fn the_upgrade_makes_names_stored_with_control_characters_one_line() {
    // Arrange: names as an earlier release let them in, and this upgrade's migration not applied.
    let app = spawn_app().await;
    store_raw(&app, "units", "name", "Südosteuropa\r\nBcc: alle@example.org", ("slug", "suedosteuropa")).await;
    store_raw(&app, "units", "short_name", "SOE\t", ("slug", "suedosteuropa")).await;
    store_raw(&app, "staff", "display_name", "Admin\u{7}istration", ("login", "admin")).await;
    let mut forget = Query::delete();
    forget
        .from_table(Alias::new("seaql_migrations"))
        .and_where(Expr::col(Alias::new("version")).eq("m20261202_110100_names_without_control_characters"));
    app.db.execute(&forget).await.expect("forget the migration");

    // Act
    Migrator::up(&app.db, None).await.expect("the upgrade applies");

    // Assert
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("json");
    let unit = units.iter().find(|u| u["slug"] == "suedosteuropa").expect("the unit");
    assert_eq!(unit["name"], "Südosteuropa  Bcc: alle@example.org");
    assert_eq!(unit["short_name"], "SOE");
    let admin = terminbuch::store::directory::find_staff_by_login(&app.db, "admin").await.expect("db").expect("admin");
    assert_eq!(admin.display_name, "Admin istration");
}

/// A unit's slug of digits alone would be read as another unit's id in every URL: refused,
/// naming the field, nothing written.
#[tokio::test]
async fn a_unit_slug_of_digits_alone_is_refused() {
    let app = spawn_app().await;
    let location = location_id(&app).await;
    for slug in ["12", "1-2"] {
        let body = json!({ "slug": slug, "name": "Neue Stelle", "short_name": "NS", "phone": "0511 168-0",
                           "email": "neu@example.org", "location_id": location, "default_appointment_minutes": 60 });
        let response = app.post_as(&app.admin_token, "/api/v1/units", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "slug", "{slug}: {problem}");
    }
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("json");
    assert!(units.iter().all(|u| u["name"] != "Neue Stelle"), "nothing was written");
}

/// A caller's name of invisible characters alone (direction marks, a zero-width space) is refused
/// at the name on the API, the booking form and the callback list, and nothing is written: it
/// would be blank on every list and no search would find the booking.
#[tokio::test]
async fn a_name_of_invisible_characters_alone_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("slot");
    let before = app.list_bookings("unit=ads").await.len();
    for invisible in ["\u{200F}\u{200E}", "\u{200B}", "\u{FEFF}\u{200F}"] {
        let mut body = crate::helpers::booking_body(slot);
        body["citizen"]["name"] = json!(invisible);
        let problem =
            assert_problem(app.post_booking(&body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "citizen.name", "{invisible:?}: {problem}");
        let entry = json!({
            "citizen": { "name": invisible, "phone": "0511 987654", "language": "tr" },
            "wish": {}, "until": "2026-12-04",
        });
        let refused = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &entry).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{invisible:?}");
    }
    assert_eq!(app.list_bookings("unit=ads").await.len(), before, "nothing booked");
    let open: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/ads/callbacks").await.json().await.expect("json");
    assert!(open.is_empty(), "nothing on the callback list");
}
