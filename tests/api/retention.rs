//! Retention of personal data (Löschfrist): the run for a day before, at and after a unit's
//! limit; what stays (statistics, capacity) and what goes (citizen, history details, emails,
//! `.eml` files, search keys); the dry run; the audit; the bytes of the SQLite file.

use chrono::{NaiveDate, TimeDelta, TimeZone};
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use terminbuch::domain::audit::AuditAction;
use terminbuch::domain::retention::last_due_day;
use terminbuch::services::retention::{self, RetentionReport, RetentionRun};

use crate::audit::records;
use crate::helpers::{TestApp, default_now, spawn_app_with_manual_mail};

pub const NAME: &str = "Zeynep Löschtest";
pub const PHONE: &str = "0511 4455667";
pub const EMAIL: &str = "zeynep.loeschtest@example.org";

/// A booking of `slot_id` with every piece of personal data the API takes.
pub fn personal_booking(slot_id: i64) -> Value {
    json!({
        "slot_id": slot_id,
        "citizen": { "name": NAME, "phone": PHONE, "email": EMAIL, "language": "tr",
                     "interpreter_language": "ku", "accessibility_needs": "Rollstuhl, Begleitperson" },
        "email_consent": true,
        "channel": "phone",
        "note": "Vorfall am Arbeitsplatz",
    })
}

pub async fn book(app: &TestApp, unit: &str, nth: usize) -> Value {
    let slots = app.free_slots(unit, "limit=10").await;
    let response = app.post_booking(&personal_booking(slots[nth]["slot_id"].as_i64().expect("test step"))).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("test step")
}

async fn run(app: &TestApp, dir: &std::path::Path, as_of: NaiveDate, dry_run: bool) -> RetentionReport {
    let run = RetentionRun { as_of, dry_run, tz: Berlin, data_dir: dir };
    retention::run(&app.db, &app.clock, run).await.expect("retention run")
}

async fn booking(app: &TestApp, id: &str) -> Value {
    let response = app.get_booking(id).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("test step")
}

pub fn local_day(value: &Value) -> NaiveDate {
    let at: chrono::DateTime<chrono::FixedOffset> = value.as_str().expect("test step").parse().expect("test step");
    at.with_timezone(&Berlin).date_naive()
}

pub fn eml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(dir.join("mail")) {
        Ok(entries) => entries.map(|e| e.expect("test step").path()).collect(),
        Err(_) => Vec::new(),
    }
}

pub fn assert_nothing_personal(booking: &Value) {
    let text = booking.to_string();
    for personal in [NAME, PHONE, EMAIL, "Rollstuhl", "Vorfall", "krank", "\"ku\""] {
        assert!(!text.contains(personal), "{personal} left in {text}");
    }
}

async fn statistics(app: &TestApp) -> Value {
    let response = app.get_as(&app.admin_token, "/api/v1/statistics?from=2026-11&to=2027-03").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("test step")
}

#[tokio::test]
async fn personal_data_goes_on_the_day_the_units_retention_ends_and_the_figures_stay() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let ads = book(&app, "ads", 0).await; // 30 days
    let sdr = book(&app, "sdr", 0).await; // 90 days
    let cancelled = book(&app, "ads", 1).await;
    let id = cancelled["id"].as_str().expect("test step");
    assert_eq!(app.cancel_booking(id, "Frau ist krank").await.status(), StatusCode::OK);
    mail.run_once().await.expect("test step");
    let files = eml_files(dir.path());
    assert_eq!(files.len(), 3, "two confirmations and a cancellation (the cancelled one's confirmation is skipped)");
    #[cfg(unix)]
    for file in &files {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(file).expect("test step").permissions().mode() & 0o777, 0o600, "{file:?}");
        assert!(!file.to_string_lossy().contains("Antidiskriminierung"));
    }
    let figures = statistics(&app).await;
    let ads_day = local_day(&ads["ends_at"]);

    // The day before the limit: nothing goes.
    let before = run(&app, dir.path(), ads_day + TimeDelta::days(29), false).await;
    assert!(before.expired.iter().all(|e| e.id.to_string() != ads["id"]), "{before:?}");
    assert_eq!(booking(&app, ads["id"].as_str().expect("test step")).await["citizen"]["name"], NAME);

    // At the limit: the ADS booking (and the cancellation of 24 November) goes, SDR stays.
    let at = run(&app, dir.path(), ads_day + TimeDelta::days(30), false).await;
    let erased: Vec<String> = at.expired.iter().map(|e| e.id.to_string()).collect();
    assert!(erased.contains(&ads["id"].as_str().expect("test step").to_owned()), "{at:?}");
    assert!(erased.contains(&id.to_owned()), "cancelled on 24 Nov, 30 days passed");
    assert!(!erased.contains(&sdr["id"].as_str().expect("test step").to_owned()));
    for key in [ads["id"].as_str().expect("test step"), id] {
        let gone = booking(&app, key).await;
        assert_nothing_personal(&gone);
        assert_eq!(gone["citizen"]["language"], "tr", "anonymous facts stay");
        assert!(gone["erased_at"].is_string(), "said erased: {gone}");
    }
    let kept = booking(&app, sdr["id"].as_str().expect("test step")).await;
    assert_eq!(kept["citizen"]["name"], NAME);
    assert!(kept.get("erased_at").is_none(), "{kept}");
    assert_eq!(eml_files(dir.path()).len(), 1, "only the SDR confirmation is left");
    assert_eq!(app.list_bookings(&format!("q={}", "0511 4455667")).await.len(), 1, "search keys cleared");

    // After the limit: the next run finds nothing new; the figures never changed.
    let after = run(&app, dir.path(), ads_day + TimeDelta::days(31), false).await;
    assert!(after.expired.is_empty() && after.erased.bookings == 0, "{after:?}");
    assert_eq!(statistics(&app).await, figures);

    let runs = records(&app, AuditAction::RetentionRun).await;
    assert_eq!(runs.len(), 3, "every run is recorded");
    let recorded = runs.iter().find(|r| r.item_count == Some(2)).expect("the run at the limit");
    assert_eq!(recorded.detail["bookings"], 2);
    let text = format!("{runs:?}");
    for personal in [NAME, PHONE, EMAIL] {
        assert!(!text.contains(personal));
    }
}

#[tokio::test]
async fn a_dry_run_lists_what_would_go_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let ads = book(&app, "ads", 0).await;
    mail.run_once().await.expect("test step");
    let before = booking(&app, ads["id"].as_str().expect("test step")).await;
    let late = local_day(&ads["ends_at"]) + TimeDelta::days(400);
    let report = run(&app, dir.path(), late, true).await;
    assert_eq!(report.expired.len(), 1);
    assert_eq!(report.erased.bookings, 0);
    assert_eq!(booking(&app, ads["id"].as_str().expect("test step")).await, before);
    assert_eq!(eml_files(dir.path()).len(), 1);
    assert!(records(&app, AuditAction::RetentionRun).await.is_empty());
}

#[tokio::test]
async fn erased_names_and_phone_numbers_are_gone_from_the_database_file() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let ads = book(&app, "ads", 0).await;
    let id = ads["id"].as_str().expect("test step").to_owned();
    assert_eq!(app.cancel_booking(&id, "Frau ist krank").await.status(), StatusCode::OK);
    run(&app, dir.path(), local_day(&ads["ends_at"]) + TimeDelta::days(60), false).await;
    if app.is_postgres() {
        // PostgreSQL keeps dead row versions until VACUUM (README): the live rows hold nothing.
        for sql in [
            "SELECT count(*) FROM bookings WHERE citizen_name LIKE '%Löschtest%' OR citizen_phone IS NOT NULL",
            "SELECT count(*) FROM outbox_messages WHERE recipient LIKE '%loeschtest%'",
            "SELECT count(*) FROM booking_events WHERE detail LIKE '%krank%'",
        ] {
            let row = app.db.query_one_raw(Statement::from_string(app.db.get_database_backend(), sql)).await;
            let count: i64 = row.expect("test step").expect("test step").try_get_by_index(0).expect("test step");
            assert_eq!(count, 0, "{sql}");
        }
        return;
    }
    // The run emptied the write-ahead log; nobody reads now, so another checkpoint reports it
    // done (SQLite answers one blocked by a reader with a row, not an error).
    assert!(terminbuch::services::retention::compact(&app.db).await, "the log is emptied");
    let file =
        app.settings.database_url.trim_start_matches("sqlite://").split('?').next().expect("test step").to_owned();
    let mut bytes = std::fs::read(&file).expect("test step");
    bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(bytes.len() > 10_000, "the database was read");
    assert!(contains("Antidiskriminierungsstelle"), "the file is readable as bytes");
    for erased in [NAME, "Löschtest", "loschtest", "loeschtest", PHONE, "4455667", EMAIL, "Frau ist krank", "Rollstuhl"]
    {
        assert!(!contains(erased), "{erased} is still in the SQLite file or its WAL");
    }
}

#[tokio::test]
async fn admins_set_a_units_retention_and_the_change_is_recorded() {
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |_| {}).await;
    let units: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/units").await.json().await.expect("test step");
    let days = |slug: &str| units.iter().find(|u| u["slug"] == slug).expect("test step")["retention_days"].clone();
    assert_eq!((days("ads"), days("sdr")), (json!(30), json!(90)), "the demo's retention");
    let patch = |token: String, body: Value| {
        let request = app.client.patch(format!("{}/api/v1/units/sdr", app.address)).bearer_auth(token).json(&body);
        async move { request.send().await.expect("test step") }
    };
    let changed = patch(app.admin_token.clone(), json!({ "retention_days": 60 })).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.json::<Value>().await.expect("test step")["retention_days"], 60);
    let zero = patch(app.admin_token.clone(), json!({ "retention_days": 0 })).await;
    crate::helpers::assert_problem(zero, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let lead = app.token_for("leitung", "unit_lead", Some("sdr")).await;
    crate::helpers::assert_problem(
        patch(lead, json!({ "retention_days": 5 })).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let recorded = records(&app, AuditAction::UnitChanged).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].detail["retention_days"], json!({ "old": 90, "new": 60 }));
    let created = app
        .post_as(
            &app.admin_token,
            "/api/v1/units",
            &json!({ "slug": "neu", "name": "Neue Stelle", "short_name": "NS",
            "phone": "0511 1", "email": "neu@example.org", "location_id": 1, "default_appointment_minutes": 30,
            "retention_days": 14 }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.expect("test step")["retention_days"], 14);
}

/// A run erases its bookings a part at a time, each part one transaction with its audit record
/// (which part of how many, its counts): a first run over years of bookings holds the write lock
/// for one part at a time, and a run that stops keeps what its parts committed.
#[tokio::test]
async fn a_run_erases_in_parts_each_with_its_audit_record() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let mut booked = Vec::new();
    for nth in 0..3 {
        booked.push(book(&app, "ads", nth).await);
    }
    let last = booked.iter().map(|b| local_day(&b["ends_at"])).max().expect("test step");
    let run = RetentionRun { as_of: last + TimeDelta::days(60), dry_run: false, tz: Berlin, data_dir: dir.path() };

    let report = retention::run_in_parts(&app.db, &app.clock, run, 2).await.expect("retention run");

    assert_eq!(report.erased.bookings, 3);
    for b in &booked {
        assert_nothing_personal(&booking(&app, b["id"].as_str().expect("test step")).await);
    }
    let mut parts: Vec<(Option<i64>, Value, Value, Value)> = records(&app, AuditAction::RetentionRun)
        .await
        .into_iter()
        .map(|r| (r.item_count, r.detail["part"].clone(), r.detail["parts"].clone(), r.detail["bookings"].clone()))
        .collect();
    parts.sort_by_key(|p| p.1.as_i64());
    assert_eq!(parts, [(Some(2), json!(1), json!(2), json!(2)), (Some(1), json!(2), json!(2), json!(1))]);
}

/// A run lists its bookings before it erases them a part at a time; a booking moved to a later
/// time, or whose unit's retention was raised, in between keeps its data: each part reads its
/// bookings again in its own transaction, with the retention as it is then.
#[tokio::test]
async fn a_booking_moved_or_a_retention_raised_after_the_run_listed_it_keeps_its_data() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let moved = book(&app, "ads", 0).await; // 30 days
    let expired = book(&app, "ads", 1).await;
    let raised = book(&app, "suedosteuropa", 0).await;
    let unit = terminbuch::services::directory::find_unit(&app.db, "suedosteuropa").await.expect("unit");
    terminbuch::store::retention::set_retention_days(&app.db, unit.id, 14, app.clock.now(), None)
        .await
        .expect("14 days");
    let last = [&moved, &expired, &raised].iter().map(|b| local_day(&b["ends_at"])).max().expect("test step");
    let as_of = last + TimeDelta::days(31);
    let run = RetentionRun { as_of, dry_run: true, tz: Berlin, data_dir: dir.path() };
    let listed = retention::run_in_parts(&app.db, &app.clock, run, 2).await.expect("listed").expired;
    let ids: Vec<String> = listed.iter().map(|e| e.id.to_string()).collect();
    for b in [&moved, &expired, &raised] {
        assert!(ids.contains(&b["id"].as_str().expect("id").to_owned()), "listed: {ids:?}");
    }

    // Meanwhile a colleague moves one to a time after the cutoff, and the lead of another unit
    // raises its retention back to 90 days.
    let later = (local_day(&moved["starts_at"]) + TimeDelta::days(45)).format("%Y-%m-%d");
    let slots = app.free_slots("ads", &format!("from={later}&limit=1")).await;
    let id = moved["id"].as_str().expect("id");
    let response = app.reschedule_booking(id, &json!({ "slot_id": slots[0]["slot_id"] })).await;
    assert_eq!(response.status(), StatusCode::OK);
    terminbuch::store::retention::set_retention_days(&app.db, unit.id, 90, app.clock.now(), None)
        .await
        .expect("90 days");

    let run = RetentionRun { as_of, dry_run: false, tz: Berlin, data_dir: dir.path() };
    let report = retention::erase_listed(&app.db, &app.clock, run, listed, 2).await.expect("erased");

    assert_eq!(report.erased.bookings, 1, "{report:?}");
    assert_nothing_personal(&booking(&app, expired["id"].as_str().expect("id")).await);
    for kept in [&moved, &raised] {
        let shown = booking(&app, kept["id"].as_str().expect("id")).await;
        assert_eq!(shown["citizen"]["name"], NAME, "kept: {shown}");
        assert_eq!(shown["citizen"]["phone"], PHONE);
    }
    let recorded: i64 = records(&app, AuditAction::RetentionRun).await.iter().filter_map(|r| r.item_count).sum();
    assert_eq!(recorded, 1, "the audit counts what was erased");
}

/// A service that was not running at the run time (a machine switched off at night) makes the
/// missed run after it starts; one whose last run due is recorded whole does not run again, and
/// a run that stopped halfway (its last part not recorded) counts as not made.
#[tokio::test]
async fn a_run_missed_while_the_service_was_down_is_made_after_it_starts() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let ads = book(&app, "ads", 0).await; // 30 days
    let id = ads["id"].as_str().expect("test step");
    let ads_day = local_day(&ads["ends_at"]);
    // The last run made: the day after the appointment (nothing of it expired then).
    run(&app, dir.path(), ads_day + TimeDelta::days(1), false).await;
    let at = app.settings.retention_run_at;
    let due_at = |clock_day: NaiveDate| {
        let now = app.clock.now();
        let target = Berlin.from_local_datetime(&clock_day.and_hms_opt(8, 0, 0).expect("test step"));
        app.clock.advance(target.single().expect("test step").with_timezone(&chrono::Utc) - now);
        retention::recorded_for(&app.db, last_due_day(app.clock.now(), at, Berlin))
    };
    assert!(due_at(ads_day + TimeDelta::days(1)).await.expect("test step"), "that day's run is recorded");

    // Down across the runs of the 30th and 31st day; started on the 31st at 08:00.
    assert!(!due_at(ads_day + TimeDelta::days(31)).await.expect("test step"), "the run due is missing");
    let _restarted = app.another_process(|s| s.retention_catch_up_after = std::time::Duration::ZERO).await;
    let mut waited = 0;
    while booking(&app, id).await["citizen"]["name"] == NAME {
        waited += 1;
        assert!(waited < 400, "the missed run was not made within 20 s of the start");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_nothing_personal(&booking(&app, id).await);
    let today = ads_day + TimeDelta::days(31);
    let runs = records(&app, AuditAction::RetentionRun).await;
    assert!(
        runs.iter().any(|r| r.detail["as_of"] == json!(today) && r.detail["bookings"].as_u64() >= Some(1)),
        "{runs:?}"
    );
    assert!(retention::recorded_for(&app.db, today).await.expect("test step"));

    // Recorded whole: a further start leaves it (nothing to run); a run whose last part is
    // missing is made again.
    let again = RetentionRun { as_of: today, dry_run: false, tz: Berlin, data_dir: dir.path() };
    assert!(retention::run_unless_recorded(&app.db, &app.clock, again, today).await.expect("test step").is_none());
    let halfway = terminbuch::domain::audit::AuditEntry::system(AuditAction::RetentionRun)
        .detail(json!({ "as_of": today + TimeDelta::days(1), "part": 1, "parts": 2 }));
    terminbuch::services::audit::record(&app.db, &app.clock, halfway).await.expect("test step");
    assert!(!retention::recorded_for(&app.db, today + TimeDelta::days(1)).await.expect("test step"));
    let next = RetentionRun { as_of: today + TimeDelta::days(1), ..again };
    let made = retention::run_unless_recorded(&app.db, &app.clock, next, today + TimeDelta::days(1)).await;
    assert!(made.expect("test step").is_some(), "a run that stopped halfway is made again");
    assert!(retention::recorded_for(&app.db, today + TimeDelta::days(1)).await.expect("test step"));
}

/// A run the database refuses (busy or away at the run time) is recorded as failed and tried
/// again soon, not a day later; once the database takes it, the run is made.
#[tokio::test]
async fn a_failed_run_is_recorded_and_tried_again_until_it_is_made() {
    // Arrange: an appointment whose data are due for erasure, on the 31st day at 08:00, and a
    // table the run needs away.
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let ads = book(&app, "ads", 0).await; // 30 days
    let id = ads["id"].as_str().expect("test step");
    let today = local_day(&ads["ends_at"]) + TimeDelta::days(31);
    let target = Berlin.from_local_datetime(&today.and_hms_opt(8, 0, 0).expect("test step"));
    app.clock.advance(target.single().expect("test step").with_timezone(&chrono::Utc) - app.clock.now());
    app.db.execute_unprepared("ALTER TABLE callback_requests RENAME TO callback_requests_away").await.expect("away");

    // Act: a server starts and makes the missed run, which fails.
    let _started = app
        .another_process(|s| {
            s.retention_catch_up_after = std::time::Duration::ZERO;
            s.retention_retry_after = std::time::Duration::from_millis(300);
        })
        .await;
    let mut waited = 0;
    while records(&app, AuditAction::RetentionRunFailed).await.is_empty() {
        waited += 1;
        assert!(waited < 400, "no failed run recorded within 20 s of the start");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Assert: recorded with when it is tried again; nothing erased yet.
    let failed = records(&app, AuditAction::RetentionRunFailed).await;
    let first = failed.iter().find(|r| r.detail["attempt"] == 1).expect("the first attempt's record");
    assert!(first.detail["next_try_in_seconds"].is_u64(), "{failed:?}");
    assert_eq!(first.detail["as_of"], json!(today));
    assert_eq!(booking(&app, id).await["citizen"]["name"], NAME, "nothing erased by the failed run");
    // The table back: the next try makes the run.
    app.db.execute_unprepared("ALTER TABLE callback_requests_away RENAME TO callback_requests").await.expect("back");
    let mut waited = 0;
    while booking(&app, id).await["citizen"]["name"] == NAME {
        waited += 1;
        assert!(waited < 800, "the run was not tried again within 40 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_nothing_personal(&booking(&app, id).await);
    assert!(retention::recorded_for(&app.db, today).await.expect("test step"));
}

/// Two admins changing a unit's retention at the same moment: the second change reads the first
/// one's value, so the audit records chain (90 → a → b), never two changes from 90. On PostgreSQL
/// a trigger holds each unit update open a moment, so that the second request reads meanwhile.
#[tokio::test]
async fn two_retention_changes_at_once_are_audited_one_after_the_other() {
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |_| {}).await;
    if app.is_postgres() {
        for sql in [
            "CREATE FUNCTION test_slow_update() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$",
            "CREATE TRIGGER units_slow AFTER UPDATE ON units FOR EACH ROW EXECUTE FUNCTION test_slow_update()",
        ] {
            app.db.execute_unprepared(sql).await.expect("a slow update trigger");
        }
    }
    let patch = |days: i64| {
        let request = app
            .client
            .patch(format!("{}/api/v1/units/sdr", app.address))
            .bearer_auth(&app.admin_token)
            .json(&json!({ "retention_days": days }));
        async move { request.send().await.expect("test step").status() }
    };
    let (first, second) = tokio::join!(patch(60), patch(30));
    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    let mut changes: Vec<(i64, i64)> = records(&app, AuditAction::UnitChanged)
        .await
        .iter()
        .map(|r| {
            let change = &r.detail["retention_days"];
            (change["old"].as_i64().expect("old"), change["new"].as_i64().expect("new"))
        })
        .collect();
    changes.sort_by_key(|&(old, _)| i64::from(old != 90));
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0].0, 90, "the first change starts from the stored value: {changes:?}");
    assert_eq!(changes[1].0, changes[0].1, "the second starts from the first one's value: {changes:?}");
}
