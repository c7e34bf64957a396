//! The outbox without a mail server in the loop: `.eml` files when no SMTP host is configured,
//! `terminbuch mail dispatch --once` for operators, and no email from a change that rolled back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{SubsecRound, TimeDelta, Utc};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;
use terminbuch::clock::Clock;
use terminbuch::domain::booking::{Channel, Citizen};
use terminbuch::domain::outbox::MailKind;
use terminbuch::domain::time::TimeSlot;
use terminbuch::services::bookings::{self, NewBooking, Target};
use terminbuch::store::{self, directory};

use crate::helpers::{adhoc_body, assert_problem, default_now, spawn_app, spawn_app_with};
use crate::mail::{book, wait_for_state};
use crate::smtp_sink::{Received, SmtpSink};

/// Waits for the single `.eml` file in `dir`.
async fn single_eml(dir: &Path) -> PathBuf {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if let [file] = files.as_slice() {
            return file.clone();
        }
        assert!(files.len() <= 1, "one file expected in {}: {files:?}", dir.display());
        assert!(tokio::time::Instant::now() < deadline, "no .eml file in {}", dir.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn without_an_smtp_host_a_booking_writes_a_readable_eml_with_local_time_and_calendar() {
    // Arrange: no TERMINBUCH_SMTP_HOST (the test default), a data folder of its own.
    let data_dir = tempfile::tempdir().expect("temp dir");
    let folder = data_dir.path().to_owned();
    let app = spawn_app_with(default_now(), move |settings| settings.data_dir = folder).await;
    assert!(app.settings.mail.smtp_host.is_none());

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;

    // Assert
    let file = single_eml(&data_dir.path().join("mail")).await;
    assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
    let emails = wait_for_state(&app, &booking, 0, "sent").await;
    let data = std::fs::read_to_string(&file).expect("a text file");
    let mail = Received { mail_from: String::new(), rcpt_to: Vec::new(), data, hung_open: 0 };
    let parsed = mail.parsed();
    let to = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).expect("To");
    assert_eq!(to, "ayse@example.org");
    let subject = parsed.subject().expect("Subject");
    assert!(subject.starts_with("Terminbestätigung"), "{subject}");
    let message_id = parsed.message_id().expect("Message-ID");
    assert_eq!(format!("<{message_id}>"), emails[0]["message_id"].as_str().expect("message id"));
    let text = mail.text();
    assert!(text.contains("Dienstag, 1. Dezember 2026, 10:00 Uhr"), "local time in {text}");
    assert!(text.contains(booking["reference"].as_str().expect("reference")), "reference in {text}");
    let calendar = mail.calendar();
    for expected in ["METHOD:REQUEST", "SEQUENCE:0", "DTSTART;TZID=Europe/Berlin:20261201T100000"] {
        assert!(calendar.contains(expected), "{expected} in {calendar}");
    }
    let parsed_calendar: icalendar::Calendar = calendar.parse().expect("the ICS parses");
    assert_eq!(parsed_calendar.events().count(), 1);
}

#[tokio::test]
async fn a_refused_booking_queues_no_email() {
    // Arrange
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let with_email = |mut body: serde_json::Value, email: &str| {
        body["citizen"] = json!({ "name": "Ayşe Demir", "email": email, "language": "de" });
        body["email_consent"] = json!(true);
        body
    };
    let slot_body = json!({ "slot_id": slot["slot_id"], "channel": "phone" });
    let first = app.post_booking(&with_email(slot_body.clone(), "first@example.org")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let counsellor = app.counsellor_id("ads", "Deniz Aydın").await;

    // Act
    let taken = app.post_booking(&with_email(slot_body, "taken@example.org")).await;
    let past = adhoc_body("ads", counsellor, "2026-11-23T10:00", 60);
    let past = app.post_booking(&with_email(past, "past@example.org")).await;
    let holiday = adhoc_body("ads", counsellor, "2026-12-25T10:00", 60);
    let holiday = app.post_booking(&with_email(holiday, "holiday@example.org")).await;

    // Assert
    assert_problem(taken, StatusCode::CONFLICT, "slot_taken").await;
    assert_problem(past, StatusCode::UNPROCESSABLE_ENTITY, "in_the_past").await;
    assert_problem(holiday, StatusCode::UNPROCESSABLE_ENTITY, "public_holiday").await;
    let rows = entity::outbox_message::Entity::find().all(&app.db).await.expect("outbox rows");
    let recipients: Vec<&str> = rows.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(recipients, vec!["first@example.org"], "only the booking that was made has an email");
}

#[tokio::test]
async fn an_email_queued_in_a_transaction_that_rolls_back_does_not_exist() {
    // Arrange
    let app = spawn_app().await;
    let created = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    let id = created["id"].as_str().expect("id").parse().expect("a uuid");
    let booking = store::bookings::find(&app.db, id).await.expect("db").expect("the booking");

    // Act: queue a change notice, then roll back as a failed change would.
    let txn = store::begin_write(&app.db).await.expect("begin");
    let queued =
        terminbuch::mail::outbox::enqueue(&txn, &booking, MailKind::Change, "example.org", app.clock.now()).await;
    assert!(queued.expect("enqueue"), "a row was written inside the transaction");
    txn.rollback().await.expect("rollback");

    // Assert
    let emails = store::outbox::for_booking(&app.db, id).await.expect("emails");
    let kinds: Vec<MailKind> = emails.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![MailKind::Confirmation]);
}

/// Runs the binary against `db_url`, sending through the sink on `smtp_port`.
async fn terminbuch(db_url: &str, smtp_port: u16, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("TERMINBUCH_SMTP_HOST", "127.0.0.1")
        .env("TERMINBUCH_SMTP_PORT", smtp_port.to_string())
        .env("TERMINBUCH_SMTP_SECURITY", "none")
        .env_remove("TERMINBUCH_LISTEN")
        .output()
        .await
        .expect("run terminbuch");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test]
async fn mail_dispatch_once_sends_due_emails_and_prints_the_summary() {
    // Arrange: a database prepared by the binary, with a booking queued by the library as the
    // server would (a running server would send it at once).
    let sink = SmtpSink::start().await;
    let port = sink.addr.port();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    for args in
        [&["migrate"][..], &["seed", "--demo"], &["user", "add", "--login", "chef", "--name", "C", "--role", "admin"]]
    {
        let (ok, stderr) = terminbuch(&url, port, args).await;
        assert!(ok, "{args:?}: {stderr}");
    }
    let db = store::connect(&url, None).await.expect("open the database");
    let staff = directory::find_staff_by_login(&db, "chef").await.expect("db").expect("chef");
    let actor = directory::actor_for_staff(&db, staff.id).await.expect("db").expect("actor");
    let unit = directory::find_unit(&db, "ads").await.expect("db").expect("ads");
    let counsellor = directory::list_unit_staff(&db, unit.id, None).await.expect("db").remove(0);
    let starts_at = Utc::now().trunc_subsecs(0) + TimeDelta::days(3);
    let parts = crate::helpers::ServiceParts::new(Clock::System);
    let deps = parts.book(&db);
    let new = NewBooking {
        target: Target::Adhoc {
            unit_id: unit.id,
            counsellor_id: counsellor.id,
            time: TimeSlot::new(starts_at, starts_at + TimeDelta::minutes(45)).expect("a time"),
        },
        citizen: Citizen {
            name: "Olena K.".into(),
            email: Some("olena@example.org".into()),
            phone: None,
            language: terminbuch::domain::language::Language::from_stored("uk"),
            interpreter_language: None,
            accessibility_needs: None,
            email_consent: true,
        },
        channel: Channel::Phone,
        note: None,
        override_reason: Some("Test: frei vereinbart".into()),
    };
    let booking = bookings::create(deps, &actor, new).await.expect("booking");
    db.close().await.expect("close");

    // Act
    let (ok, stderr) = terminbuch(&url, port, &["mail", "dispatch", "--once"]).await;
    let (ok_again, stderr_again) = terminbuch(&url, port, &["mail", "dispatch", "--once"]).await;

    // Assert
    assert!(ok, "{stderr}");
    assert!(stderr.contains("mail: 1 sent, 0 to retry, 0 failed, 0 skipped, 0 reminders queued"), "{stderr}");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, vec!["olena@example.org".to_owned()]);
    let text = received[0].text();
    let spelled = booking.reference.to_string();
    assert!(text.contains(&format!("Номер запису: {spelled}")), "reference in the Ukrainian confirmation: {text}");
    assert!(ok_again, "{stderr_again}");
    assert!(stderr_again.contains("mail: 0 sent, 0 to retry"), "nothing left: {stderr_again}");
    assert_eq!(sink.received().len(), 1);
}
