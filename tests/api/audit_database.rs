//! The audit is append-only by the database itself: raw SQL through any connection cannot change
//! or delete a record within the retention period; the retention of audit records removes only
//! older ones, and the server runs it.

use chrono::TimeDelta;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use terminbuch::clock::Clock;
use terminbuch::domain::audit::{AuditAction, AuditActor, AuditEntry};
use terminbuch::services::audit;
use terminbuch::startup::{Application, Dependencies};

use crate::audit::records;
use crate::helpers::{TestApp, spawn_app};
use terminbuch::domain::ids::{StaffId, UnitId};

async fn count(db: &DatabaseConnection) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(backend, "SELECT COUNT(*) AS n FROM audit_events"))
        .await
        .expect("test step")
        .expect("test step");
    row.try_get::<i64>("", "n").expect("test step")
}

/// Records a retention run (`count`: its age in days) `days_ago` days before the real now.
async fn record_aged(app: &TestApp, days_ago: i64) {
    let clock = Clock::fixed(Clock::System.now() - TimeDelta::days(days_ago));
    let entry = AuditEntry::system(AuditAction::RetentionRun).count(usize::try_from(days_ago).expect("test step"));
    audit::record(&app.db, &clock, entry).await.expect("test step");
}

/// Waits until the server's retention run at start has happened, so it does not run amid a test.
async fn started(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while records(app, AuditAction::AuditRetentionRun).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the server's start-up retention run did not happen");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn ages(app: &TestApp) -> Vec<i64> {
    records(app, AuditAction::RetentionRun).await.iter().filter_map(|r| r.item_count).collect()
}

#[tokio::test]
async fn an_update_or_delete_of_audit_records_fails_through_any_connection() {
    let app = spawn_app().await;
    started(&app).await;
    assert_eq!(app.get_as(&app.admin_token, "/api/v1/bookings").await.status(), reqwest::StatusCode::OK);
    let id = records(&app, AuditAction::BookingsListed).await[0].id;
    let before = count(&app.db).await;
    let other = app.another_pool().await;
    for db in [&app.db, &other] {
        for sql in [
            "UPDATE audit_events SET action = 'booking_viewed'".to_owned(),
            format!("UPDATE audit_events SET client_addr = NULL, detail = '{{}}' WHERE id = {id}"),
            "DELETE FROM audit_events".to_owned(),
            format!("DELETE FROM audit_events WHERE id = {id}"),
            "DELETE FROM audit_retention".to_owned(),
            "UPDATE audit_retention SET days = 29".to_owned(),
            "INSERT INTO audit_retention (id, days) VALUES (2, 30)".to_owned(),
        ] {
            let refused = db.execute_unprepared(&sql).await;
            assert!(refused.is_err(), "the database refuses {sql:?}");
            if sql.contains("audit_events") {
                let message = refused.unwrap_err().to_string();
                assert!(message.contains("audit_events_append_only"), "refused by the trigger: {message}");
            }
        }
    }
    let overwrite = if app.is_postgres() {
        vec![
            format!(
                "INSERT INTO audit_events (id, at, actor_kind, action, booking_ids, target, detail) \
                 VALUES ({id}, now(), 'system', 'booking_viewed', '', '', '{{}}') \
                 ON CONFLICT (id) DO UPDATE SET action = excluded.action"
            ),
            "TRUNCATE audit_events".to_owned(),
            "TRUNCATE audit_retention".to_owned(),
        ]
    } else {
        vec![format!(
            "INSERT OR REPLACE INTO audit_events (id, at, actor_kind, action, booking_ids, target, detail) \
             VALUES ({id}, '2020-01-01T00:00:00+00:00', 'system', 'booking_viewed', '', '', '{{}}')"
        )]
    };
    for sql in overwrite {
        let refused = other.execute_unprepared(&sql).await.expect_err("refused");
        assert!(refused.to_string().contains("audit_events_append_only"), "{sql:?}: {refused}");
    }
    assert_eq!(count(&app.db).await, before, "nothing changed");
    assert_eq!(records(&app, AuditAction::BookingsListed).await[0].id, id);
    assert_eq!(records(&app, AuditAction::BookingsListed).await[0].action, AuditAction::BookingsListed);

    // Shortening the period is possible (down to 30 days), and the database records it.
    other.execute_unprepared("UPDATE audit_retention SET days = 30").await.unwrap();
    let changed = records(&app, AuditAction::AuditRetentionChanged).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0].actor, changed[0].detail.clone()),
        (AuditActor::System, json!({ "from_days": 730, "to_days": 30 }))
    );
}

#[tokio::test]
async fn audit_retention_removes_only_records_older_than_the_period() {
    let app = spawn_app().await;
    started(&app).await;
    for days_ago in [800, 731, 729, 10] {
        record_aged(&app, days_ago).await;
    }
    let recent = records(&app, AuditAction::RetentionRun).await.iter().find(|r| r.item_count == Some(729)).unwrap().id;
    let refused = app.db.execute_unprepared(&format!("DELETE FROM audit_events WHERE id = {recent}")).await;
    assert!(refused.is_err(), "a record 729 days old is within the 730 days");

    let removed = audit::remove_expired(&app.db, &app.clock).await.unwrap();
    assert_eq!(removed, 2);
    assert_eq!(ages(&app).await, [10, 729]);
    let run = records(&app, AuditAction::AuditRetentionRun).await;
    assert_eq!(run.iter().map(|r| r.item_count).collect::<Vec<_>>(), [Some(2), Some(0)], "each run with its count");
    assert_eq!(run[0].detail, json!({ "retention_days": 730 }));

    assert!(audit::apply_retention_period(&app.db, 365).await.unwrap());
    assert!(!audit::apply_retention_period(&app.db, 365).await.unwrap(), "unchanged");
    assert!(audit::apply_retention_period(&app.db, 29).await.is_err());
    assert_eq!(audit::remove_expired(&app.db, &app.clock).await.unwrap(), 1);
    assert_eq!(ages(&app).await, [10]);
    assert_eq!(records(&app, AuditAction::AuditRetentionChanged).await.len(), 1);
}

#[tokio::test]
async fn the_server_removes_old_audit_records_when_it_starts() {
    let app = spawn_app().await;
    record_aged(&app, 900).await;
    record_aged(&app, 20).await;
    let deps = Dependencies { db: app.db.clone(), clock: app.clock.clone() };
    let server = Application::build(app.settings.clone(), deps).await.unwrap();
    tokio::spawn(server.run_until_stopped());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while ages(&app).await != [20] {
        assert!(std::time::Instant::now() < deadline, "the old record is still there: {:?}", ages(&app).await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_refusals_recorded_before_the_upgrade_are_carried_over() {
    use migration::{Migrator, MigratorTrait};
    let db = crate::test_db::TestDb::create().await;
    Migrator::up(&db.conn, Some(7)).await.expect("the migrations released before the audit's");
    let booking = uuid::Uuid::now_v7();
    db.conn
        .execute_unprepared(&format!(
            "INSERT INTO audit_events (at, actor_id, action, target, detail) VALUES \
             ('2026-11-20T10:00:00+00:00', 5, 'denied:booking.read', 'booking:{booking}', '{{}}'), \
             ('2026-11-20T10:01:00+00:00', 6, 'denied:hours.write', 'unit:3', '{{}}'), \
             ('2026-11-20T10:02:00+00:00', 6, 'denied:staff.create', 'staff', '{{}}')"
        ))
        .await
        .unwrap();
    Migrator::up(&db.conn, None).await.expect("the audit's migrations");
    let filter = terminbuch::domain::audit::AuditFilter::newest(10);
    let carried = terminbuch::store::audit::list(&db.conn, &filter).await.unwrap();
    let summary: Vec<_> = carried
        .iter()
        .map(|r| (r.actor, r.action, r.unit_id, r.booking_ids.clone(), r.target.as_str(), r.detail.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                AuditActor::Staff(StaffId::new(6)),
                AuditAction::AccessDenied,
                None,
                vec![],
                "staff",
                json!({ "attempted": "staff.create" })
            ),
            (
                AuditActor::Staff(StaffId::new(6)),
                AuditAction::AccessDenied,
                Some(UnitId::new(3)),
                vec![],
                "",
                json!({ "attempted": "hours.write" })
            ),
            (
                AuditActor::Staff(StaffId::new(5)),
                AuditAction::AccessDenied,
                None,
                vec![booking],
                "",
                json!({ "attempted": "booking.read" })
            ),
        ]
    );
    assert_eq!(carried[2].at.to_rfc3339(), "2026-11-20T10:00:00+00:00");
}
