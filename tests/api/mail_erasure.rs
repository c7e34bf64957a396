//! An email in flight while its booking is erased: the sender's outcome (sent, a refusal that
//! quotes the address, a retry) is dropped instead of writing the address back or queueing the
//! row again, and an email claimed before the erasure is not sent after it. The steps are driven
//! one by one (claim, erase, record), without waiting.

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use terminbuch::domain::outbox::{DeliveryState, OutboxMessage};
use terminbuch::mail::Dispatcher;
use terminbuch::services::retention::{self, RetentionRun};
use terminbuch::store::outbox::{self, Recorded};
use uuid::Uuid;

use crate::helpers::{TestApp, default_now, spawn_app_with_manual_mail};
use crate::retention::{EMAIL, NAME, PHONE, book, eml_files};

/// The booking's one email, claimed by an attempt as the sender claims it.
async fn claim_confirmation(app: &TestApp, booking: &Value) -> OutboxMessage {
    let id = Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    let emails = outbox::for_booking(&app.db, id).await.expect("emails");
    assert_eq!(emails.len(), 1, "one confirmation: {emails:?}");
    let now = app.clock.now();
    outbox::claim(&app.db, emails[0].id, now, now + TimeDelta::minutes(5))
        .await
        .expect("claim")
        .expect("the attempt has the row")
}

async fn erase_by_email(app: &TestApp) {
    let body = json!({ "email": EMAIL, "reason": "request" });
    let response = app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &body).await;
    assert_eq!(response.status(), StatusCode::OK, "erasure");
}

/// The row as stored now.
async fn stored(app: &TestApp, message: &OutboxMessage) -> OutboxMessage {
    let emails = outbox::for_booking(&app.db, message.booking_id).await.expect("emails");
    emails.into_iter().find(|m| m.id == message.id).expect("the row")
}

/// The server with its `.eml` files in a folder of the test's and the sender driven by the test.
async fn spawn_with_files() -> (tempfile::TempDir, TestApp, Dispatcher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    (dir, app, mail)
}

#[tokio::test]
async fn an_outcome_recorded_after_an_erasure_is_dropped_and_writes_no_address_back() {
    // Arrange: three confirmations to the same person, each claimed by an attempt in flight.
    let (dir, app, mail) = spawn_with_files().await;
    let mut claimed = Vec::new();
    for nth in 0..3 {
        let booking = book(&app, "ads", nth).await;
        claimed.push(claim_confirmation(&app, &booking).await);
    }
    let later = app.clock.now() + TimeDelta::minutes(1);
    let outcomes = [
        (
            "a permanent refusal quoting the address",
            DeliveryState::Failed,
            None,
            Some(format!("permanent error (550): 5.1.1 <{EMAIL}> recipient unknown")),
        ),
        ("a retry", DeliveryState::Retrying, Some(later), Some(format!("temporary error (451): <{EMAIL}> try later"))),
        ("sent", DeliveryState::Sent, None, None),
    ];

    // Act: the erasure commits while the three are in flight; then their outcomes come in.
    erase_by_email(&app).await;
    for (message, (case, state, next, error)) in claimed.iter().zip(outcomes) {
        let sent_at = (state == DeliveryState::Sent).then(|| app.clock.now());
        let recorded = outbox::record_outcome(&app.db, message, state, next, error, sent_at).await.expect("record");

        // Assert: dropped; the row stays skipped and blank.
        assert_eq!(recorded, Recorded::Erased, "{case}");
        let row = stored(&app, message).await;
        assert_eq!(row.state, DeliveryState::Skipped, "{case}: state");
        assert_eq!(row.recipient, "", "{case}: recipient");
        assert_eq!(row.last_error, None, "{case}: error text");
        assert_eq!(row.sent_at, None, "{case}: sent_at");
    }
    let far = app.clock.now() + TimeDelta::days(3);
    assert!(outbox::due(&app.db, far, 100).await.expect("due").is_empty(), "nothing queued again");
    let report = mail.run_once().await.expect("dispatch");
    assert_eq!((report.sent, report.retrying, report.failed), (0, 0, 0), "{report:?}");
    assert!(eml_files(dir.path()).is_empty(), "no email written");
    let export = app.get_as(&app.admin_token, &format!("/api/v1/data-subject?email={EMAIL}")).await;
    let export: Value = export.json().await.expect("json");
    assert_eq!(export["bookings"].as_array().map(Vec::len), Some(0), "nothing of the person is found: {export}");
    let rows = entity::outbox_message::Entity::find().all(&app.db).await.expect("rows");
    assert!(!format!("{rows:?}").contains(EMAIL), "the address is in no email row: {rows:?}");
}

#[tokio::test]
async fn an_email_claimed_before_the_retention_run_is_not_sent_after_it() {
    // Arrange: a confirmation claimed by the sender; then the retention run erases its booking.
    let (dir, app, mail) = spawn_with_files().await;
    let booking = book(&app, "ads", 0).await;
    let message = claim_confirmation(&app, &booking).await;
    let as_of = NaiveDate::from_ymd_opt(2027, 3, 1).expect("day");
    let run = RetentionRun { as_of, dry_run: false, tz: Berlin, data_dir: dir.path() };
    let report = retention::run(&app.db, &app.clock, run).await.expect("retention run");
    assert_eq!(report.erased.bookings, 1, "the booking is erased");

    // Act: the attempt goes on with the copy it claimed (which still holds the address).
    let state = mail.attempt(&message).await.expect("attempt");

    // Assert: nothing sent or written, the row skipped and blank, nothing left to send.
    assert_eq!(state, DeliveryState::Skipped);
    assert!(eml_files(dir.path()).is_empty(), "no .eml file: {:?}", eml_files(dir.path()));
    let row = stored(&app, &message).await;
    assert_eq!((row.state, row.recipient.as_str(), row.last_error.as_deref()), (DeliveryState::Skipped, "", None));
    let links = entity::citizen_link::Entity::find().all(&app.db).await.expect("links");
    assert!(links.is_empty(), "no link made for an erased booking: {links:?}");
    let report = mail.run_once().await.expect("dispatch");
    assert_eq!((report.sent, report.retrying, report.failed), (0, 0, 0), "{report:?}");
}

/// A reminder (or a resend) queued from a copy of the booking read before its erasure lands
/// after the erasure forgot the booking's addresses: its first attempt skips it and forgets its
/// address, and it is not claimed again.
#[tokio::test]
async fn an_email_queued_from_a_copy_read_before_the_erasure_is_forgotten_at_its_first_attempt() {
    // Arrange: the reminder's candidate as the sender read it; then the erasure commits.
    let (_dir, app, mail) = spawn_with_files().await;
    let booking = book(&app, "ads", 0).await;
    let id = Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    let stale = terminbuch::store::bookings::find(&app.db, id).await.expect("db").expect("booking");
    mail.run_once().await.expect("the confirmation goes out");
    erase_by_email(&app).await;
    let queued = terminbuch::mail::outbox::enqueue(
        &app.db,
        &stale,
        terminbuch::domain::outbox::MailKind::Reminder,
        "example.org",
        app.clock.now(),
    )
    .await
    .expect("queued");
    assert!(queued, "queued from the copy");
    let reminder = outbox::for_booking(&app.db, id)
        .await
        .expect("emails")
        .into_iter()
        .find(|m| m.kind == terminbuch::domain::outbox::MailKind::Reminder)
        .expect("the reminder");
    assert_eq!(reminder.recipient, EMAIL, "the copy's address, for now");

    // Act: the sender's next round, and one after the lease would have ended.
    mail.run_once().await.expect("a round");
    app.clock.advance(TimeDelta::minutes(30));
    let report = mail.run_once().await.expect("another round");

    // Assert
    let after = stored(&app, &reminder).await;
    assert_eq!(after.state, DeliveryState::Skipped);
    assert_eq!(after.recipient, "", "the address is forgotten");
    assert_eq!(after.last_error, None);
    assert_eq!((report.sent, report.retrying, report.skipped), (0, 0, 0), "not claimed again: {report:?}");
    for message in outbox::for_booking(&app.db, id).await.expect("emails") {
        assert_eq!(message.recipient, "", "{message:?}");
    }
}

/// A reminder (or a resend) queued from a copy of the booking read before a correction of its
/// address lands after the correction forgot the old address: its first attempt skips it and
/// forgets the old address too, so the new person's export does not show it.
#[tokio::test]
async fn an_email_queued_from_a_copy_read_before_an_address_correction_forgets_the_old_address() {
    // Arrange: the reminder's candidate as the sender read it; then the correction commits.
    let (_dir, app, mail) = spawn_with_files().await;
    let booking = book(&app, "ads", 0).await;
    let id = Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    let stale = terminbuch::store::bookings::find(&app.db, id).await.expect("db").expect("booking");
    mail.run_once().await.expect("the confirmation goes out");
    let citizen = json!({ "name": "Ayşe Demir", "email": "neu@example.net", "language": "de" });
    let body = json!({ "citizen": citizen, "email_consent": true, "version": booking["version"] });
    let path = format!("/api/v1/bookings/{id}/citizen");
    assert_eq!(app.put_as(&app.admin_token, &path, &body).await.status(), StatusCode::OK);
    let kind = terminbuch::domain::outbox::MailKind::Reminder;
    let queued = terminbuch::mail::outbox::enqueue(&app.db, &stale, kind, "example.org", app.clock.now());
    assert!(queued.await.expect("queued"), "queued from the copy");
    let emails = outbox::for_booking(&app.db, id).await.expect("emails");
    let reminder = emails.into_iter().find(|m| m.kind == kind).expect("the reminder");
    assert_eq!(reminder.recipient, EMAIL, "the copy's address, for now");

    // Act
    let report = mail.run_once().await.expect("a round");

    // Assert
    let after = stored(&app, &reminder).await;
    assert_eq!(after.state, DeliveryState::Skipped, "{report:?}");
    assert_eq!(after.recipient, "", "the old address is forgotten");
    assert_eq!(after.last_error.as_deref(), Some(terminbuch::store::outbox::ADDRESS_CORRECTED));
    for message in outbox::for_booking(&app.db, id).await.expect("emails") {
        assert_ne!(message.recipient, EMAIL, "{message:?}");
    }
}

/// A withdrawn consent keeps the address (it is still the citizen's): an email queued before it is
/// skipped naming the withdrawal, and its address is not forgotten as a corrected one would be.
#[tokio::test]
async fn an_email_queued_before_consent_was_withdrawn_is_skipped_and_keeps_the_address() {
    let (_dir, app, mail) = spawn_with_files().await;
    let booking = book(&app, "ads", 0).await;
    let id = Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    mail.run_once().await.expect("the confirmation goes out");
    let kind = terminbuch::domain::outbox::MailKind::Reminder;
    let current = terminbuch::store::bookings::find(&app.db, id).await.expect("db").expect("booking");
    let queued = terminbuch::mail::outbox::enqueue(&app.db, &current, kind, "example.org", app.clock.now());
    assert!(queued.await.expect("queued"), "a reminder is queued");
    let citizen = json!({ "name": NAME, "email": EMAIL, "phone": PHONE, "language": "tr",
                          "interpreter_language": "ku", "accessibility_needs": "Rollstuhl, Begleitperson" });
    let body = json!({ "citizen": citizen, "email_consent": false, "version": booking["version"] });
    let path = format!("/api/v1/bookings/{id}/citizen");
    assert_eq!(app.put_as(&app.admin_token, &path, &body).await.status(), StatusCode::OK);

    mail.run_once().await.expect("a round");

    let emails = outbox::for_booking(&app.db, id).await.expect("emails");
    let reminder = emails.into_iter().find(|m| m.kind == kind).expect("the reminder");
    assert_eq!(reminder.state, DeliveryState::Skipped);
    assert_eq!(reminder.recipient, EMAIL, "the address is still the citizen's");
    assert_eq!(reminder.last_error.as_deref(), Some(terminbuch::store::outbox::CONSENT_WITHDRAWN));
}

/// The retention run removes every `.eml` file whose email no longer knows its recipient: one an
/// erasure's own removal missed (the process ended between the commit and the removal), and
/// one written to an address corrected since. The current address's file and files of other
/// names stay.
#[tokio::test]
async fn the_retention_run_removes_the_eml_files_of_forgotten_addresses() {
    // Arrange: two bookings with their confirmations written as files.
    let (dir, app, mail) = spawn_with_files().await;
    let erased = book(&app, "ads", 0).await;
    let corrected = book(&app, "ads", 1).await;
    mail.run_once().await.expect("the confirmations are written");
    let erased_file = eml_files_of(&app, dir.path(), &erased).await.remove(0);
    let old_address_file = eml_files_of(&app, dir.path(), &corrected).await.remove(0);
    let left_behind = std::fs::read(&erased_file).expect("the erased booking's email");
    // The second one's address is corrected; its new confirmation is written too.
    let citizen = json!({ "name": "Ayşe Demir", "email": "neu@example.net", "language": "de" });
    let body = json!({ "citizen": citizen, "email_consent": true, "version": corrected["version"] });
    let path = format!("/api/v1/bookings/{}/citizen", corrected["id"].as_str().expect("id"));
    assert_eq!(app.put_as(&app.admin_token, &path, &body).await.status(), StatusCode::OK);
    mail.run_once().await.expect("the new confirmation is written");
    let new_address_file = eml_files_of(&app, dir.path(), &corrected)
        .await
        .into_iter()
        .find(|f| *f != old_address_file)
        .expect("the new confirmation");
    // The first one's person is erased; the erasure's removal of its file was missed.
    erase_by_email(&app).await;
    std::fs::write(&erased_file, left_behind).expect("a file the removal missed");
    let other = dir.path().join("mail").join("notes.txt");
    std::fs::write(&other, b"not an email").expect("another file");
    // Another instance's email in a shared folder: no row of this database.
    let foreign = dir.path().join("mail").join(format!("{}.eml", Uuid::now_v7()));
    std::fs::write(&foreign, b"To: someone else").expect("another instance's email");
    assert!(old_address_file.exists() && erased_file.exists() && new_address_file.exists());

    // Act: a run with nothing expired.
    let today = app.clock.now().with_timezone(&Berlin).date_naive();
    let run = RetentionRun { as_of: today, dry_run: false, tz: Berlin, data_dir: dir.path() };
    let report = retention::run(&app.db, &app.clock, run).await.expect("retention run");

    // Assert
    assert_eq!(report.erased.bookings, 0, "nothing expired");
    assert!(!erased_file.exists(), "the erased email's file");
    assert!(!old_address_file.exists(), "the corrected address's file");
    assert!(new_address_file.exists(), "the current address's file stays");
    assert!(other.exists(), "other files stay");
    assert!(foreign.exists(), "emails this database does not hold stay");
    assert_eq!(report.files, 2);
}

/// The paths of the `.eml` files of `booking`'s emails (written or not).
async fn eml_files_of(app: &TestApp, dir: &std::path::Path, booking: &Value) -> Vec<std::path::PathBuf> {
    let id = Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    let emails = outbox::for_booking(&app.db, id).await.expect("emails");
    emails.iter().map(|m| dir.join("mail").join(format!("{}.eml", m.id))).collect()
}
