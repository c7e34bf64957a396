//! What the audit records of a change to the counselling hours, absences and closures (what
//! changed, not only which row), and that a new unit is never stored without its record.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The detail of the latest audit record with `action`.
async fn latest_detail(app: &TestApp, action: &str) -> Value {
    let sql = format!("SELECT detail FROM audit_events WHERE action = '{action}' ORDER BY id DESC");
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("a record of {action}"));
    serde_json::from_str(&row.try_get::<String>("", "detail").expect("detail")).expect("JSON")
}

#[tokio::test]
async fn a_change_of_hours_is_recorded_with_the_rules_fields_before_and_after() {
    // Arrange: the ESF's hours, Tuesdays 10:00–12:00.
    let app = spawn_app().await;
    let rules: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/esf/counselling-hours").await.json().await.expect("rules");
    let rule = &rules[0];
    let url = format!("/api/v1/units/esf/counselling-hours/{}", rule["id"]);
    let body = json!({ "counsellor_id": rule["counsellor_id"], "weekday": rule["weekday"], "start": "13:00",
        "end": "15:00", "slot_minutes": 30, "capacity": 2, "valid_from": "2026-12-01", "valid_until": "2027-06-30" });

    // Act
    assert_eq!(app.put_as(&app.admin_token, &url, &body).await.status(), StatusCode::OK, "changed");
    let changed = latest_detail(&app, "hours_saved").await;
    assert_eq!(app.delete_as(&app.admin_token, &url).await.status(), StatusCode::OK, "deleted");
    let deleted = latest_detail(&app, "hours_deleted").await;

    // Assert
    let old = &changed["old"];
    assert_eq!(
        (&old["start"], &old["end"], &old["counsellor_id"], &old["weekday"]),
        (&rule["start"], &rule["end"], &rule["counsellor_id"], &rule["weekday"]),
        "the rule as it was: {changed}"
    );
    assert_eq!(old["valid_until"], Value::Null, "{changed}");
    let new = &changed["new"];
    assert_eq!(
        (&new["start"], &new["end"], &new["slot_minutes"], &new["capacity"], &new["valid_from"], &new["valid_until"]),
        (&json!("13:00"), &json!("15:00"), &json!(30), &json!(2), &json!("2026-12-01"), &json!("2027-06-30")),
        "the rule as it is now: {changed}"
    );
    assert_eq!(deleted["old"], changed["new"], "the deleted rule's fields: {deleted}");
    let created = json!({ "counsellor_id": rule["counsellor_id"], "weekday": 3, "start": "08:00", "end": "09:00",
        "slot_minutes": 60 });
    let response = app.post_as(&app.admin_token, "/api/v1/units/esf/counselling-hours", &created).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let added = latest_detail(&app, "hours_saved").await;
    assert_eq!((&added["old"], &added["new"]["weekday"]), (&Value::Null, &json!(3)), "a new rule: {added}");
}

#[tokio::test]
async fn a_removed_absence_or_closure_is_recorded_with_its_times_and_reason() {
    // Arrange
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let absence = json!({ "counsellor_id": counsellor, "starts_at": "2027-01-12T09:00", "ends_at": "2027-01-12T12:00",
        "reason": "Fortbildung" });
    let absence: Value =
        app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await.json().await.expect("absence");
    let closure = json!({ "from_date": "2027-01-13", "reason": "Betriebsausflug" });
    let closure: Value =
        app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure).await.json().await.expect("closure");

    // Act
    let path = format!("/api/v1/units/ads/absences/{}", absence["id"]);
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::NO_CONTENT);
    let path = format!("/api/v1/units/ads/closures/{}", closure["id"]);
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::NO_CONTENT);

    // Assert: the instants in UTC (09:00 and 12:00 in Hannover in winter), the reason as typed.
    let removed = latest_detail(&app, "absence_removed").await;
    assert_eq!(
        (&removed["staff_id"], &removed["starts_at"], &removed["ends_at"], &removed["reason"]),
        (&json!(counsellor), &json!("2027-01-12T08:00:00Z"), &json!("2027-01-12T11:00:00Z"), &json!("Fortbildung")),
        "{removed}"
    );
    let removed = latest_detail(&app, "closure_removed").await;
    assert_eq!(
        (&removed["starts_at"], &removed["ends_at"], &removed["reason"]),
        (&json!("2027-01-12T23:00:00Z"), &json!("2027-01-13T23:00:00Z"), &json!("Betriebsausflug")),
        "{removed}"
    );
}

/// The unit and its audit record are written together: when the record cannot be written, no
/// unit is left behind without it.
#[tokio::test]
async fn a_unit_whose_audit_record_cannot_be_written_is_not_created() {
    // Arrange: the database refuses the record of a new unit.
    let app = spawn_app().await;
    let refuse = if app.is_postgres() {
        vec![
            "CREATE FUNCTION refuse_unit_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.action = 'unit_created' THEN RAISE EXCEPTION 'no record'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_unit_record BEFORE INSERT ON audit_events FOR EACH ROW \
             EXECUTE FUNCTION refuse_unit_record()",
        ]
    } else {
        vec![
            "CREATE TRIGGER refuse_unit_record BEFORE INSERT ON audit_events WHEN NEW.action = 'unit_created' \
             BEGIN SELECT RAISE(ABORT, 'no record'); END",
        ]
    };
    for sql in refuse {
        app.db.execute_unprepared(sql).await.expect("the obstacle");
    }
    let location = app.count("SELECT CAST(MIN(id) AS BIGINT) AS n FROM locations").await;
    let unit = json!({ "slug": "neu", "name": "Neue Stelle", "short_name": "NEU", "phone": "0511 168-1",
        "email": "neu@hannover-stadt.de", "location_id": location, "default_appointment_minutes": 60 });

    // Act
    let response = app.post_as(&app.admin_token, "/api/v1/units", &unit).await;

    // Assert
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "the record failed");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM units WHERE slug = 'neu'").await, 0, "no unit without its record");
}
