//! Two admins with the same form open: the second save, made from what the page showed before the
//! first was stored, is refused (409, the page showing what is stored now and saying so) instead
//! of silently undoing the first; through the API, a change sent with a `version` that is no
//! longer the record's is refused as `concurrent_update`. Locations (change and delete), a unit's
//! self-service settings and its retention.

use reqwest::StatusCode;
use serde_json::{Value, json};

use terminbuch::domain::accounts::RequireMfa;

use crate::helpers::{TestApp, assert_problem, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, csrf_of, hidden, location};

/// The message at a form saved from an older reading (German, the pages' default).
const CHANGED_MEANWHILE: &str = "Jemand hat diese Angaben inzwischen geändert";

/// An app with two admins, each logged in on a desk of their own.
async fn two_admins() -> (TestApp, Desk, Desk) {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let mut desks = Vec::new();
    for login in ["chefin", "kollege"] {
        app.add_person(login, "admin", None).await;
        let desk = Desk::new(&app.address);
        assert_eq!(desk.log_in(login, PASSWORD).await.status(), StatusCode::SEE_OTHER, "{login} logs in");
        desks.push(desk);
    }
    let second = desks.pop().expect("the second admin");
    let first = desks.pop().expect("the first admin");
    (app, first, second)
}

/// A page as opened: its CSRF token and its HTML.
async fn open(desk: &Desk, path: &str) -> (String, String) {
    let (status, html) = desk.text(path).await;
    assert_eq!(status, StatusCode::OK, "{path} opens");
    (csrf_of(&html), html)
}

/// Asserts that `saved` went on (303) and `refused` answered 409 with the message and `shown` (an
/// input holding the stored value) in its page; returns that page.
async fn assert_refused_showing(saved: reqwest::Response, refused: reqwest::Response, shown: &str) -> String {
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "the first save goes through");
    assert_eq!(refused.status(), StatusCode::CONFLICT, "the second is refused");
    let html = refused.text().await.expect("html");
    assert!(html.contains(CHANGED_MEANWHILE), "the message: {html:.4000}");
    assert!(html.contains(shown), "the stored value {shown}: {html:.6000}");
    html
}

/// A new location no unit uses, through the API; its id.
async fn new_location(app: &TestApp) -> i64 {
    let body = json!({
        "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover", "floor": "EG",
    });
    let created = app.post_as(&app.admin_token, "/api/v1/locations", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["version"], 1, "a new location's first version: {created}");
    created["id"].as_i64().expect("an id")
}

/// The location form's fields with `floor`.
fn location_form<'a>(floor: &'a str, version: &'a str) -> [(&'a str, &'a str); 7] {
    [
        ("name", "Außenstelle"),
        ("street", "Am Markt 1"),
        ("postal_code", "30159"),
        ("city", "Hannover"),
        ("floor", floor),
        ("accessibility_notes", ""),
        ("version", version),
    ]
}

async fn stored_location(app: &TestApp, id: i64) -> Value {
    let response = app.get_as(&app.admin_token, &format!("/api/v1/locations/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// Two admins, a new location and its edit page opened by each: the app, the location's id, the
/// page's path, and each admin's desk with the page's CSRF token and HTML.
async fn a_location_opened_twice() -> (TestApp, i64, String, [(Desk, String, String); 2]) {
    let (app, first, second) = two_admins().await;
    let id = new_location(&app).await;
    let edit = format!("/admin/locations/{id}");
    let (first_csrf, first_page) = open(&first, &edit).await;
    let (second_csrf, second_page) = open(&second, &edit).await;
    (app, id, edit, [(first, first_csrf, first_page), (second, second_csrf, second_page)])
}

#[tokio::test]
async fn a_location_saved_from_a_form_read_before_a_colleagues_save_is_refused_and_theirs_kept() {
    // Arrange: both admins open the same location's form.
    let (app, id, edit, [(first, first_csrf, first_form), (second, second_csrf, second_form)]) =
        a_location_opened_twice().await;
    assert_eq!(hidden(&first_form, "version"), "1");

    // Act: the first saves, then the second from the form they read before.
    let saved = first.post(&first_csrf, &edit, &location_form("1. OG", &hidden(&first_form, "version"))).await;
    let refused = second.post(&second_csrf, &edit, &location_form("2. OG", &hidden(&second_form, "version"))).await;

    // Assert: the second is refused with the stored values in the form and the message at it.
    let html = assert_refused_showing(saved, refused, r#"id="loc-floor" name="floor" type="text" value="1. OG""#).await;
    assert_eq!(hidden(&html, "version"), "2", "the form now carries the stored version");
    let stored = stored_location(&app, id).await;
    assert_eq!((&stored["floor"], &stored["version"]), (&json!("1. OG"), &json!(2)), "nothing overwritten");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'location_changed'").await, 1);

    // Act and assert: saved again from the refusal's page (what is stored now), knowingly.
    let again = second.post(&csrf_of(&html), &edit, &location_form("2. OG", &hidden(&html, "version"))).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored_location(&app, id).await["floor"], "2. OG");
}

#[tokio::test]
async fn a_location_deleted_from_a_page_read_before_a_colleagues_change_is_kept() {
    // Arrange: both admins open the location's page; the first then changes it.
    let (app, id, edit, [(first, first_csrf, first_form), (second, second_csrf, second_page)]) =
        a_location_opened_twice().await;
    let saved = first.post(&first_csrf, &edit, &location_form("1. OG", &hidden(&first_form, "version"))).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    // Act: the second deletes it from the page read before the change.
    let delete = format!("{edit}/delete");
    let refused = second.post(&second_csrf, &delete, &[("version", &hidden(&second_page, "version"))]).await;

    // Assert: refused, the location as changed still there and shown.
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("html");
    assert!(html.contains(CHANGED_MEANWHILE) && html.contains(r#"value="1. OG""#), "{html:.4000}");
    assert_eq!(stored_location(&app, id).await["floor"], "1. OG", "not deleted");

    // Act and assert: deleted from the page as it is now.
    let deleted = second.post(&csrf_of(&html), &delete, &[("version", &hidden(&html, "version"))]).await;
    assert_eq!((deleted.status(), location(&deleted)), (StatusCode::SEE_OTHER, "/admin/locations?done=deleted".into()));
    let gone = app.get_as(&app.admin_token, &format!("/api/v1/locations/{id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_changes_and_deletes_a_location_only_at_the_version_sent_and_without_one_as_before() {
    // Arrange
    let (app, _, _) = two_admins().await;
    let id = new_location(&app).await;
    let path = format!("/api/v1/locations/{id}");
    let body = |floor: &str, version: Option<i64>| {
        let mut body = json!({
            "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover", "floor": floor,
        });
        if let Some(version) = version {
            body["version"] = json!(version);
        }
        body
    };

    // Act
    let current = app.put_as(&app.admin_token, &path, &body("1. OG", Some(1))).await;
    let stale = app.put_as(&app.admin_token, &path, &body("2. OG", Some(1))).await;
    let unversioned = app.put_as(&app.admin_token, &path, &body("3. OG", None)).await;
    let stale_delete = app.delete_as(&app.admin_token, &format!("{path}?version=2")).await;

    // Assert
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(current.json::<Value>().await.expect("json")["version"], 2);
    let problem = assert_problem(stale, StatusCode::CONFLICT, "concurrent_update").await;
    assert!(problem["detail"].is_string(), "{problem}");
    assert_eq!(unversioned.status(), StatusCode::OK, "without a version, whatever is stored is replaced");
    assert_eq!(unversioned.json::<Value>().await.expect("json")["version"], 3);
    assert_problem(stale_delete, StatusCode::CONFLICT, "concurrent_update").await;
    assert_eq!(stored_location(&app, id).await["floor"], "3. OG", "the stale change and delete wrote nothing");
    let deleted = app.delete_as(&app.admin_token, &format!("{path}?version=3")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let post = json!({
        "name": "Neu", "street": "Am Markt 2", "postal_code": "30159", "city": "Hannover", "floor": "EG", "version": 1,
    });
    let refused = app.post_as(&app.admin_token, "/api/v1/locations", &post).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "version", "a new location has no version to send: {problem}");
}

#[tokio::test]
async fn of_two_changes_of_a_location_sent_at_once_from_the_same_version_one_is_written() {
    // Arrange
    let (app, _, _) = two_admins().await;
    let id = new_location(&app).await;
    let path = format!("/api/v1/locations/{id}");
    let body = |floor: &str| {
        json!({
            "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover",
            "floor": floor, "version": 1,
        })
    };
    let (one, two) = (body("1. OG"), body("2. OG"));

    // Act
    let (one, two) = tokio::join!(app.put_as(&app.admin_token, &path, &one), app.put_as(&app.admin_token, &path, &two));

    // Assert: one written, the other refused; the stored floor is the winner's.
    let mut statuses = [one.status(), two.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let winner = if one.status() == StatusCode::OK { "1. OG" } else { "2. OG" };
    let stored = stored_location(&app, id).await;
    assert_eq!((&stored["floor"], &stored["version"]), (&json!(winner), &json!(2)));
}

#[tokio::test]
async fn self_service_settings_saved_from_a_form_read_before_a_colleagues_save_are_refused_and_theirs_kept() {
    // Arrange: both admins open the unit's self-service settings.
    let (app, first, second) = two_admins().await;
    let page = "/admin/units/ads/self-service";
    let (first_csrf, first_form) = open(&first, page).await;
    let (second_csrf, second_form) = open(&second, page).await;
    let (first_seen, second_seen) = (hidden(&first_form, "version"), hidden(&second_form, "version"));

    // Act: the first saves a cutoff of 48 hours, then the second 12 from the form read before.
    let form = [("cutoff_hours", "48"), ("max_moves", "2"), ("version", first_seen.as_str())];
    let saved = first.post(&first_csrf, page, &form).await;
    let form = [("cutoff_hours", "12"), ("max_moves", "2"), ("version", second_seen.as_str())];
    let refused = second.post(&second_csrf, page, &form).await;

    // Assert: refused with the stored settings in the form and the message at it.
    assert_refused_showing(saved, refused, r#"id="ss-cutoff" name="cutoff_hours" type="number" value="48""#).await;
    let stored: Value =
        app.get_as(&app.admin_token, "/api/v1/units/ads/self-service").await.json().await.expect("json");
    assert_eq!(stored["self_service_cutoff_hours"], 48, "nothing overwritten: {stored}");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'unit_self_service_changed'").await, 1);
}

#[tokio::test]
async fn the_api_replaces_self_service_settings_only_at_the_version_sent_and_without_one_as_before() {
    // Arrange
    let (app, _, _) = two_admins().await;
    let path = "/api/v1/units/ads/self-service";
    let read: Value = app.get_as(&app.admin_token, path).await.json().await.expect("json");
    let version = read["version"].as_i64().expect("a version");
    let body = |cutoff: i64, version: Option<i64>| {
        let mut body = json!({
            "self_service_cutoff_hours": cutoff, "self_service_max_moves": 2, "self_service_shows_counsellor": false,
        });
        if let Some(version) = version {
            body["version"] = json!(version);
        }
        body
    };

    // Act
    let current = app.put_as(&app.admin_token, path, &body(48, Some(version))).await;
    let stale = app.put_as(&app.admin_token, path, &body(12, Some(version))).await;
    let unversioned = app.put_as(&app.admin_token, path, &body(36, None)).await;

    // Assert
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(current.json::<Value>().await.expect("json")["version"], version + 1);
    assert_problem(stale, StatusCode::CONFLICT, "concurrent_update").await;
    assert_eq!(unversioned.status(), StatusCode::OK, "without a version, whatever is stored is replaced");
    let stored: Value = app.get_as(&app.admin_token, path).await.json().await.expect("json");
    assert_eq!((&stored["self_service_cutoff_hours"], &stored["version"]), (&json!(36), &json!(version + 2)));
}

#[tokio::test]
async fn a_retention_saved_from_a_page_read_before_a_colleagues_save_is_refused_and_theirs_kept() {
    // Arrange: both admins open the units' page.
    let (app, first, second) = two_admins().await;
    let page = "/admin/units";
    let action = "/admin/units/retention";
    let (first_csrf, first_page) = open(&first, page).await;
    let (second_csrf, second_page) = open(&second, page).await;

    // Act: the first sets 30 days for one unit, then the second 60 from the page read before.
    let seen = hidden(&first_page, "seen");
    let saved = first.post(&first_csrf, action, &[("unit", "ads"), ("retention_days", "30"), ("seen", &seen)]).await;
    let seen = hidden(&second_page, "seen");
    let refused =
        second.post(&second_csrf, action, &[("unit", "ads"), ("retention_days", "60"), ("seen", &seen)]).await;

    // Assert: refused, the stored days in the form and the message at it.
    let shown = r#"id="ret-days" name="retention_days" type="number" value="30""#;
    let html = assert_refused_showing(saved, refused, shown).await;
    assert_eq!(app.count("SELECT CAST(retention_days AS BIGINT) AS n FROM units WHERE slug = 'ads'").await, 30);

    // Act and assert: another unit's retention, from the same old page, is not refused.
    let other = second
        .post(&csrf_of(&html), action, &[("unit", "suedosteuropa"), ("retention_days", "60"), ("seen", &seen)])
        .await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER, "only the unit changed meanwhile is refused");
}

#[tokio::test]
async fn the_api_changes_a_units_retention_only_at_the_version_sent_and_without_one_as_before() {
    // Arrange
    let (app, _, _) = two_admins().await;
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("json");
    let ads = units.iter().find(|u| u["slug"] == "ads").expect("the unit");
    let version = ads["version"].as_i64().expect("a version");

    // Act
    let current =
        app.patch_as(&app.admin_token, "/api/v1/units/ads", &json!({ "retention_days": 30, "version": version })).await;
    let stale =
        app.patch_as(&app.admin_token, "/api/v1/units/ads", &json!({ "retention_days": 60, "version": version })).await;
    let unversioned = app.patch_as(&app.admin_token, "/api/v1/units/ads", &json!({ "retention_days": 45 })).await;

    // Assert
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(current.json::<Value>().await.expect("json")["version"], version + 1);
    assert_problem(stale, StatusCode::CONFLICT, "concurrent_update").await;
    assert_eq!(unversioned.status(), StatusCode::OK, "without a version, whatever is stored is replaced");
    let body: Value = unversioned.json().await.expect("json");
    assert_eq!((&body["retention_days"], &body["version"]), (&json!(45), &json!(version + 2)));
}

#[tokio::test]
async fn the_migration_gives_existing_locations_and_units_their_first_version() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Statement};
    use terminbuch::domain::ids::{LocationId, UnitId};
    use terminbuch::store::{Versioned, directory, retention};

    // Arrange: the schema before the versions, with a location and a unit in it.
    let db = crate::test_db::TestDb::create().await;
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name().starts_with("m20261210_100000"))
        .expect("the versions' migration is listed");
    Migrator::up(&db.conn, Some(u32::try_from(before).expect("a count"))).await.expect("migrated before it");
    let backend = db.conn.get_database_backend();
    for sql in [
        "INSERT INTO locations (name, street, postal_code, city, floor, accessibility_notes) \
         VALUES ('Alt', 'Am Markt 1', '30159', 'Hannover', 'EG', '')",
        "INSERT INTO units (slug, name, short_name, phone, email, location_id, default_slot_minutes, languages, \
         confidential, retention_days, created_at, updated_at) \
         SELECT 'alt', 'Alte Stelle', 'AS', '0511 1', 'alt@example.org', id, 60, 'de', false, 90, $1, $1 \
         FROM locations WHERE name = 'Alt'",
    ] {
        let statement = Statement::from_sql_and_values(backend, sql, [default_now().into()]);
        db.conn.execute_raw(statement).await.expect("an old row");
    }

    // Act
    Migrator::up(&db.conn, None).await.expect("migrated");

    // Assert: both at version 1; a change from it is written, a second from it is not.
    let location = directory::find_location_by_name(&db.conn, "Alt").await.expect("read").expect("the location");
    let unit = directory::find_unit(&db.conn, "alt").await.expect("read").expect("the unit");
    assert_eq!((location.version, unit.version), (1, 1));
    let fields = terminbuch::domain::location::LocationFields::from(location.clone());
    let changed = directory::update_location(&db.conn, location.id, &fields, Some(1)).await.expect("written");
    assert!(matches!(changed, Versioned::Written(ref l) if l.version == 2), "{changed:?}");
    let again = directory::update_location(&db.conn, location.id, &fields, Some(1)).await.expect("no error");
    assert_eq!(again, Versioned::Stale);
    let gone = directory::update_location(&db.conn, LocationId::new(999_999), &fields, Some(1)).await.expect("ok");
    assert_eq!(gone, Versioned::Missing);
    let now = default_now();
    let written = retention::set_retention_days(&db.conn, unit.id, 30, now, Some(1)).await.expect("written");
    assert_eq!(written, Versioned::Written((90, 2)), "the old retention and the new version");
    let stale = retention::set_retention_days(&db.conn, unit.id, 60, now, Some(1)).await.expect("no error");
    assert_eq!(stale, Versioned::Stale);
    let missing = retention::set_retention_days(&db.conn, UnitId::new(999_999), 60, now, None).await.expect("ok");
    assert_eq!(missing, Versioned::Missing);
    // A new row read back after the migration has its version.
    for name in ["Neu 1", "Neu 2", "Neu 3"] {
        let new = directory::NewLocation {
            name,
            street: "Am Markt 2",
            postal_code: "30159",
            city: "Hannover",
            floor: "EG",
            accessibility_notes: "",
        };
        assert_eq!(directory::insert_location(&db.conn, new).await.expect("inserted").version, 1, "{name}");
    }
}
