//! Reminders and emails that are no longer sent when their turn comes: reminders only for the
//! booking's current time and only when booked the lead time ahead, no notice after a newer one,
//! nothing about an appointment that has already begun. Against the SMTP sink on loopback; the
//! tests drive the email sender pass by pass, so each pass's report says what happened.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::mail::Dispatcher;
use terminbuch::mail::dispatch::Report;
use terminbuch::store::bookings;

use crate::helpers::TestApp;
use crate::mail::{book, emails_of, spawn_with_manual_mail, spawn_with_slow_poll, summary};
use crate::smtp_sink::{Plan, Received, SmtpSink};

const WAIT: Duration = Duration::from_secs(15);

/// One pass of the email sender: queue due reminders, send what is due.
async fn pass(mail: &Dispatcher) -> Report {
    mail.run_once().await.expect("a pass of the email sender")
}

fn kinds(emails: &[Value]) -> Vec<Value> {
    emails.iter().map(|e| e["kind"].clone()).collect()
}

fn states(emails: &[Value]) -> Vec<Value> {
    emails.iter().map(|e| e["state"].clone()).collect()
}

fn subjects(received: &[Received]) -> Vec<String> {
    received.iter().map(|m| m.parsed().subject().unwrap_or_default().to_owned()).collect()
}

fn is_reminder(mail: &Received) -> bool {
    mail.parsed().subject().is_some_and(|s| s.starts_with("Terminerinnerung"))
}

fn id(booking: &Value) -> String {
    booking["id"].as_str().expect("id").to_owned()
}

async fn move_booking(app: &TestApp, booking: &Value, starts_at: &str) {
    let body = json!({ "starts_at": starts_at, "override_reason": "Test: verlegt" });
    assert_eq!(app.reschedule_booking(&id(booking), &body).await.status(), StatusCode::OK, "move to {starts_at}");
}

#[tokio::test]
async fn the_link_in_a_reminder_inside_the_cutoff_promises_no_change_the_page_would_refuse() {
    // Arrange: booked on Tuesday 24 November for Tuesday 1 December, 10:00; the unit's page takes
    // changes until 24 hours before (the default), as long as the reminder's lead time.
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    assert_eq!(pass(&mail).await.sent, 1, "the confirmation");

    // Act: the reminder, 23 hours before.
    app.clock.advance(TimeDelta::days(6) + TimeDelta::hours(3));
    let reminded = pass(&mail).await;

    // Assert: the confirmation offers cancelling through the link (not moving: an interpreter is
    // arranged for the time); the reminder only seeing it and the calendar entry, and the phone
    // for a change.
    assert_eq!((reminded.reminders_queued, reminded.sent), (1, 1), "{reminded:?}");
    let received = sink.received();
    let (confirmation, reminder) = (received[0].text(), received[1].text());
    assert!(
        confirmation.contains("in den Kalender übernehmen oder absagen können Sie auch über Ihren persönlichen Link"),
        "{confirmation}"
    );
    assert!(
        reminder.contains("ansehen und in den Kalender übernehmen können Sie auch über Ihren persönlichen Link"),
        "{reminder}"
    );
    assert!(!reminder.contains("verschieben können Sie auch"), "{reminder}");
    assert!(reminder.contains("rufen Sie uns bitte an"), "{reminder}");
    assert!(reminder.contains("/t/"), "the link itself is still there: {reminder}");
}

#[tokio::test]
async fn a_reminder_goes_out_once_the_lead_time_before_and_not_for_a_moved_time() {
    // Arrange: booked on Tuesday 24 November for Tuesday 1 December, 10:00, then moved to
    // Thursday 3 December, 10:00 (both more than the lead time of 24 hours ahead).
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "tr").await;
    assert_eq!(pass(&mail).await.sent, 1);
    move_booking(&app, &booking, "2026-12-03T10:00").await;
    assert_eq!(pass(&mail).await.sent, 1);

    // Act: 23 hours before the old time, then 23 hours before the new one, then an hour later.
    app.clock.advance(TimeDelta::days(6) + TimeDelta::hours(3));
    let at_the_old_time = pass(&mail).await;
    app.clock.advance(TimeDelta::days(2));
    let at_the_new_time = pass(&mail).await;
    app.clock.advance(TimeDelta::hours(1));
    let an_hour_later = pass(&mail).await;

    // Assert
    assert_eq!(at_the_old_time, Report::default(), "no reminder for the old time");
    assert_eq!((at_the_new_time.reminders_queued, at_the_new_time.sent), (1, 1), "{at_the_new_time:?}");
    assert_eq!(an_hour_later, Report::default(), "a reminder is sent once");
    let received = sink.received();
    assert_eq!(received.len(), 3, "{:?}", subjects(&received));
    let reminder = &received[2];
    assert!(reminder.parsed().subject().expect("subject").contains("hatırlatma"), "Turkish reminder");
    assert!(reminder.text().contains("3 Aralık 2026 Perşembe, 10:00"), "the new time: {}", reminder.text());
    assert!(!reminder.text().contains("1 Aralık"), "not the old time: {}", reminder.text());
    let calendar = reminder.calendar();
    for expected in ["SEQUENCE:1", "DTSTART;TZID=Europe/Berlin:20261203T100000"] {
        assert!(calendar.contains(expected), "{expected} in {calendar}");
    }
    assert_eq!(summary(&calendar), summary(&received[0].calendar()), "the entry keeps its title");
    let emails = emails_of(&app, &booking).await;
    assert_eq!(kinds(&emails), vec![json!("confirmation"), json!("change"), json!("reminder")]);
}

/// A booking of Tuesday 1 December 2026, 10:00 whose confirmation went out and whose reminder
/// is queued and waiting to be retried: the mail server asked to try again later.
async fn reminder_retrying() -> (SmtpSink, TestApp, Dispatcher, Value) {
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    assert_eq!(pass(&mail).await.sent, 1);
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    app.clock.advance(TimeDelta::days(6) + TimeDelta::hours(3));
    let queued = pass(&mail).await;
    assert_eq!((queued.reminders_queued, queued.retrying), (1, 1), "{queued:?}");
    assert_eq!(emails_of(&app, &booking).await[1]["state"], "retrying");
    (sink, app, mail, booking)
}

/// Makes the retries of the last pass due (they back off at most 1 s in tests).
fn let_retries_come_due(app: &TestApp) {
    app.clock.advance(TimeDelta::seconds(2));
}

#[tokio::test]
async fn a_reminder_queued_for_the_old_time_is_skipped_and_the_new_time_gets_its_own() {
    // Arrange: the reminder for Tuesday 1 December, 10:00 is queued but the mail server asks to
    // try again later.
    let (sink, app, mail, booking) = reminder_retrying().await;

    // Act: moved meanwhile to Thursday 3 December, 10:00 (still more than 24 hours ahead).
    move_booking(&app, &booking, "2026-12-03T10:00").await;
    let moved = pass(&mail).await;
    let_retries_come_due(&app);
    let retried = pass(&mail).await;
    let skipped_after = sink.received().len();
    app.clock.advance(TimeDelta::days(2));
    let new_time = pass(&mail).await;

    // Assert
    assert_eq!(moved.sent, 1, "the change notice: {moved:?}");
    assert_eq!((retried.sent, retried.skipped), (0, 1), "the old reminder is skipped: {retried:?}");
    assert_eq!(skipped_after, 2, "the old reminder is not sent: {:?}", subjects(&sink.received()));
    assert_eq!((new_time.reminders_queued, new_time.sent), (1, 1), "{new_time:?}");
    let received = sink.received();
    assert!(
        received[1].parsed().subject().expect("subject").starts_with("Terminänderung"),
        "{:?}",
        subjects(&received)
    );
    let reminder = &received[2];
    assert!(reminder.parsed().subject().expect("subject").starts_with("Terminerinnerung"));
    assert!(reminder.text().contains("Donnerstag, 3. Dezember 2026, 10:00 Uhr"), "{}", reminder.text());
    let reminders = subjects(&received).into_iter().filter(|s| s.starts_with("Terminerinnerung")).count();
    assert_eq!(reminders, 1, "{:?}", subjects(&received));
    let emails = emails_of(&app, &booking).await;
    assert!(emails[1]["last_error"].as_str().expect("a reason").contains("moved or cancelled"), "{emails:?}");
    assert_eq!(kinds(&emails), vec![json!("confirmation"), json!("reminder"), json!("change"), json!("reminder")]);
    assert_eq!(states(&emails), vec![json!("sent"), json!("skipped"), json!("sent"), json!("sent")]);
}

#[tokio::test]
async fn a_booking_made_less_than_the_lead_time_ahead_gets_no_reminder() {
    // Arrange: on Tuesday 24 November, 08:00, one appointment 23 hours ahead and one 25 hours
    // ahead (which shows that reminders do go out in this test).
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let short = book(&app, "suedosteuropa", "2026-11-25T07:00", "short@example.org", "de").await;
    book(&app, "suedosteuropa", "2026-11-25T09:00", "long@example.org", "de").await;
    assert_eq!(pass(&mail).await.sent, 2);

    // Act: both are within the lead time from 10:00 on; then until just before the first begins.
    app.clock.advance(TimeDelta::hours(2));
    let within = pass(&mail).await;
    app.clock.advance(TimeDelta::hours(20) + TimeDelta::minutes(30));
    let later = pass(&mail).await;

    // Assert
    assert_eq!((within.reminders_queued, within.sent), (1, 1), "{within:?}");
    assert_eq!(later, Report::default());
    let emails = emails_of(&app, &short).await;
    assert_eq!(kinds(&emails), vec![json!("confirmation")], "no reminder for the short-notice booking");
    let reminded: Vec<Vec<String>> =
        sink.received().iter().filter(|m| is_reminder(m)).map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(reminded, vec![vec!["long@example.org".to_owned()]]);
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test]
async fn a_cancelled_booking_gets_no_reminder_nor_one_queued_before_the_cancellation() {
    // Arrange: two appointments on Tuesday 1 December; the first is cancelled at once.
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let early = book(&app, "suedosteuropa", "2026-12-01T10:00", "early@example.org", "de").await;
    let late = book(&app, "suedosteuropa", "2026-12-01T11:00", "late@example.org", "de").await;
    assert_eq!(pass(&mail).await.sent, 2);
    assert_eq!(app.cancel_booking(&id(&early), "Bürgerin hat abgesagt").await.status(), StatusCode::OK);
    assert_eq!(pass(&mail).await.sent, 1);

    // Act: within the lead time of both; the second's reminder meets a busy mail server, and the
    // second is cancelled before it is retried.
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    app.clock.advance(TimeDelta::days(6) + TimeDelta::hours(4));
    let reminded = pass(&mail).await;
    assert_eq!(app.cancel_booking(&id(&late), "Bürger hat abgesagt").await.status(), StatusCode::OK);
    let cancelled = pass(&mail).await;
    let_retries_come_due(&app);
    let retried = pass(&mail).await;
    let last = pass(&mail).await;

    // Assert
    assert_eq!((reminded.reminders_queued, reminded.retrying), (1, 1), "only the second's: {reminded:?}");
    assert_eq!(cancelled.sent, 1, "{cancelled:?}");
    assert_eq!((retried.sent, retried.skipped), (0, 1), "{retried:?}");
    assert_eq!(last, Report::default());
    let early_emails = emails_of(&app, &early).await;
    assert_eq!(kinds(&early_emails), vec![json!("confirmation"), json!("cancellation")]);
    let emails = emails_of(&app, &late).await;
    assert_eq!(kinds(&emails), vec![json!("confirmation"), json!("reminder"), json!("cancellation")]);
    assert_eq!(states(&emails), vec![json!("sent"), json!("skipped"), json!("sent")]);
    assert_eq!(sink.received().len(), 4, "two confirmations, two cancellations: {:?}", subjects(&sink.received()));
    assert!(!sink.received().iter().any(is_reminder));
}

#[tokio::test]
async fn a_confirmation_is_not_sent_after_the_change_notice_that_replaced_it() {
    // Arrange: the confirmation meets a busy mail server.
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    assert_eq!(pass(&mail).await.retrying, 1);

    // Act: the booking is moved before the confirmation is retried.
    move_booking(&app, &booking, "2026-12-02T11:30").await;
    let moved = pass(&mail).await;
    let_retries_come_due(&app);
    let retried = pass(&mail).await;
    app.clock.advance(TimeDelta::hours(1));
    let later = pass(&mail).await;

    // Assert
    assert_eq!(moved.sent, 1, "the change notice: {moved:?}");
    assert_eq!((retried.sent, retried.skipped), (0, 1), "{retried:?}");
    assert_eq!(later, Report::default());
    let emails = emails_of(&app, &booking).await;
    assert_eq!(kinds(&emails), vec![json!("confirmation"), json!("change")]);
    assert_eq!(states(&emails), vec![json!("skipped"), json!("sent")]);
    assert!(emails[0]["last_error"].as_str().expect("a reason").contains("superseded"), "{emails:?}");
    let received = sink.received();
    assert_eq!(received.len(), 1, "only the change notice: {:?}", subjects(&received));
    assert!(received[0].calendar().contains("SEQUENCE:1"));
    assert!(received[0].text().contains("Mittwoch, 2. Dezember 2026, 11:30 Uhr"), "{}", received[0].text());
}

#[tokio::test]
async fn a_confirmation_that_could_not_go_out_before_the_appointment_began_is_skipped() {
    // Arrange: on Tuesday 24 November, 08:00, an appointment at 10:00; the mail server is busy.
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-11-24T10:00", "ayse@example.org", "de").await;
    assert_eq!(pass(&mail).await.retrying, 1);

    // Act: the retry comes after the appointment has begun.
    app.clock.advance(TimeDelta::hours(2) + TimeDelta::minutes(5));
    let retried = pass(&mail).await;
    let later = pass(&mail).await;

    // Assert
    assert_eq!((retried.sent, retried.skipped), (0, 1), "{retried:?}");
    assert_eq!(later, Report::default());
    let emails = emails_of(&app, &booking).await;
    assert!(emails[0]["last_error"].as_str().expect("a reason").contains("already begun"), "{emails:?}");
    assert!(sink.received().is_empty(), "{:?}", subjects(&sink.received()));
    assert_eq!(sink.transactions(), 1);
    let failed: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/suedosteuropa/failed-emails").await.json().await.expect("json");
    assert!(failed.is_empty(), "nobody needs to call about an appointment that has begun: {failed:?}");
}

#[tokio::test]
async fn a_reminder_that_could_not_go_out_before_the_appointment_began_is_skipped() {
    // Arrange: the reminder of Tuesday 1 December, 10:00 meets a busy mail server.
    let (sink, app, mail, booking) = reminder_retrying().await;

    // Act: the retry comes after the appointment has begun.
    app.clock.advance(TimeDelta::days(1));
    let retried = pass(&mail).await;
    let later = pass(&mail).await;

    // Assert
    assert_eq!((retried.sent, retried.skipped), (0, 1), "{retried:?}");
    assert_eq!(later, Report::default());
    let emails = emails_of(&app, &booking).await;
    assert!(emails[1]["last_error"].as_str().expect("a reason").contains("already begun"), "{emails:?}");
    assert_eq!(sink.received().len(), 1, "only the confirmation: {:?}", subjects(&sink.received()));
    assert_eq!(sink.transactions(), 2);
}

#[tokio::test]
async fn a_second_pass_over_the_lead_window_queues_and_reads_no_reminder_again() {
    // Arrange: two appointments on Tuesday 1 December; the server's own dispatcher polls only
    // at start, so the passes below are the only ones queueing reminders.
    let sink = SmtpSink::start().await;
    let app = spawn_with_slow_poll(sink.addr.port()).await;
    book(&app, "suedosteuropa", "2026-12-01T10:00", "first@example.org", "de").await;
    book(&app, "suedosteuropa", "2026-12-01T11:00", "second@example.org", "de").await;
    sink.wait_for(2, WAIT).await;
    app.clock.advance(TimeDelta::days(6) + TimeDelta::hours(4));
    let dispatcher = Dispatcher::new(app.db.clone(), app.clock.clone(), &app.settings).expect("a dispatcher");

    // Act
    let first = dispatcher.run_once().await.expect("first pass");
    let second = dispatcher.run_once().await.expect("second pass");

    // Assert
    assert_eq!((first.reminders_queued, first.sent), (2, 2), "{first:?}");
    assert_eq!(second.reminders_queued, 0, "{second:?}");
    let now = app.clock.now();
    let lead = TimeDelta::hours(i64::from(app.settings.mail.reminder_lead_hours));
    let left = bookings::reminder_candidates(&app.db, now, now + lead, None).await.expect("candidates");
    assert!(left.is_empty(), "bookings reminded already are no candidates: {left:?}");
    let after = Some((now, uuid::Uuid::nil()));
    let next_page = bookings::reminder_candidates(&app.db, now, now + lead, after).await.expect("a later page");
    assert!(next_page.is_empty(), "{next_page:?}");
    assert_eq!(sink.received().iter().filter(|m| is_reminder(m)).count(), 2);
}
