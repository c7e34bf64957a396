//! Emails to citizens, against a real SMTP server on loopback: content, calendar updates,
//! retries, permanent failures, a hung server, and an outage during a burst of bookings.

use std::collections::HashSet;
use std::time::Duration;

use chrono::TimeDelta;
use icalendar::Component;
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::config::SmtpSecurity;
use terminbuch::mail::Dispatcher;
use terminbuch::mail::dispatch::Report;

use crate::helpers::{TestApp, default_now, spawn_app_with, spawn_app_with_manual_mail};
use crate::smtp_sink::{Plan, SmtpSink};

const WAIT: Duration = Duration::from_secs(15);

pub async fn spawn_with_smtp(port: u16) -> TestApp {
    spawn_app_with(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(port);
        settings.mail.smtp_security = SmtpSecurity::None;
    })
    .await
}

/// A server whose dispatcher polls only every ten minutes (after the look at start), so whatever
/// goes out sooner was sent because a booking change woke it.
pub async fn spawn_with_slow_poll(port: u16) -> TestApp {
    spawn_app_with(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(port);
        settings.mail.smtp_security = SmtpSecurity::None;
        settings.mail.mail_poll_ms = 600_000;
    })
    .await
}

async fn first_counsellor(app: &TestApp, unit: &str) -> i64 {
    let response = app.get_as(&app.admin_token, &format!("/api/v1/units/{unit}/counsellors")).await;
    let counsellors: Vec<Value> = response.json().await.expect("json");
    counsellors[0]["id"].as_i64().expect("a counsellor")
}

/// Books an ad-hoc appointment for a citizen who consented to email; returns the booking.
pub async fn book(app: &TestApp, unit: &str, starts_at: &str, email: &str, language: &str) -> Value {
    let counsellor = first_counsellor(app, unit).await;
    let body = json!({
        "unit": unit,
        "counsellor_id": counsellor,
        "starts_at": starts_at,
        "duration_minutes": 45,
        "citizen": { "name": "Ayşe Demir", "email": email, "language": language, "interpreter_language": "tr" },
        "email_consent": true,
        "override_reason": "Test: frei vereinbart",
    });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "booking at {starts_at}");
    response.json().await.expect("json")
}

/// Waits until the booking's email number `index` is in `state`; returns the emails.
pub async fn wait_for_state(app: &TestApp, booking: &Value, index: usize, state: &str) -> Vec<Value> {
    poll_state(app, booking, index, state, None).await
}

/// Polls the booking's emails until number `index` is in `state`, moving the fixed clock on by
/// `advance` between looks when given (so backed-off retries become due); returns the emails.
pub async fn poll_state(
    app: &TestApp,
    booking: &Value,
    index: usize,
    state: &str,
    advance: Option<TimeDelta>,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let emails = emails_of(app, booking).await;
        if emails.get(index).is_some_and(|e| e["state"] == state) {
            return emails;
        }
        assert!(tokio::time::Instant::now() < deadline, "email {index} never became {state}: {emails:?}");
        if let Some(step) = advance {
            app.clock.advance(step);
        }
        tokio::time::sleep(Duration::from_millis(if advance.is_some() { 100 } else { 20 })).await;
    }
}

/// Waits until the outbox holds exactly `expected` rows per state (as recorded by the sender,
/// not as seen by the mail server); returns the counts of all states.
pub async fn wait_for_outbox_states(app: &TestApp, expected: &[(&str, usize)]) -> Vec<(String, usize)> {
    use sea_orm::EntityTrait;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let rows = entity::outbox_message::Entity::find().all(&app.db).await.expect("outbox rows");
        let mut counts: Vec<(String, usize)> = Vec::new();
        for row in &rows {
            let state = format!("{:?}", row.state).to_lowercase();
            match counts.iter_mut().find(|(s, _)| *s == state) {
                Some((_, n)) => *n += 1,
                None => counts.push((state, 1)),
            }
        }
        let count = |state: &str| counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        if expected.iter().all(|(state, n)| count(state) == *n) {
            return counts;
        }
        assert!(tokio::time::Instant::now() < deadline, "outbox states {counts:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn emails_of(app: &TestApp, booking: &Value) -> Vec<Value> {
    let id = booking["id"].as_str().expect("id");
    let details: Value = app.get_booking(id).await.json().await.expect("json");
    details["emails"].as_array().expect("an emails list").clone()
}

/// Moves the fixed clock on until `done` holds, so backed-off retries become due.
async fn advance_until(app: &TestApp, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "condition not reached in time");
        // Small steps: retries in tests back off at most 1 s, while a dispatcher's lease on a
        // message in flight lasts longer than any SMTP attempt may take.
        app.clock.advance(TimeDelta::seconds(1));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_confirmation_arrives_with_headers_local_time_and_a_calendar_entry() {
    // Arrange
    let sink = SmtpSink::start().await;
    let app = spawn_with_smtp(sink.addr.port()).await;

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;

    // Assert
    let received = sink.wait_for(1, WAIT).await;
    let mail = &received[0];
    assert_eq!(mail.rcpt_to, vec!["ayse@example.org".to_owned()]);
    assert!(mail.mail_from.contains("<terminbuch@example.org>"), "envelope sender {}", mail.mail_from);
    let parsed = mail.parsed();
    let to = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).expect("To");
    assert_eq!(to, "ayse@example.org");
    let from = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("terminbuch@example.org"));
    assert!(from.name().expect("a sender name").contains("Südosteuropa"), "{:?}", from.name());
    let subject = parsed.subject().expect("Subject");
    assert!(subject.starts_with("Terminbestätigung"), "{subject}");
    assert!(parsed.date().is_some(), "Date header");
    let text = mail.text();
    assert!(text.contains("Dienstag, 1. Dezember 2026, 10:00 Uhr"), "{text}");
    assert!(text.contains(booking["reference"].as_str().expect("reference")), "reference in {text}");
    assert!(text.contains("11."), "floor in {text}");
    let calendar = mail.calendar();
    for expected in ["METHOD:REQUEST", "SEQUENCE:0", "DTSTART;TZID=Europe/Berlin:20261201T100000"] {
        assert!(calendar.contains(expected), "{expected} in {calendar}");
    }
    let parsed_calendar: icalendar::Calendar = calendar.parse().expect("the ICS parses");
    assert_eq!(parsed_calendar.events().count(), 1);

    let emails = wait_for_state(&app, &booking, 0, "sent").await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["kind"], "confirmation");
    let message_id = parsed.message_id().expect("Message-ID");
    assert_eq!(format!("<{message_id}>"), emails[0]["message_id"].as_str().expect("message id"));
}

/// A citizen who chose Persian gets the confirmation in Persian, right to left (on the content too,
/// as webmail drops the attributes of `<html>`), with the Persian weekday and month, the reference
/// isolated left to right, and the calendar entry's title in Persian.
#[tokio::test]
async fn a_persian_confirmation_is_in_persian_right_to_left_with_the_persian_date() {
    // Arrange
    let sink = SmtpSink::start().await;
    let app = spawn_with_smtp(sink.addr.port()).await;

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "mina@example.org", "fa").await;

    // Assert
    let received = sink.wait_for(1, WAIT).await;
    let parsed = received[0].parsed();
    let date = "سه\u{200c}شنبه، 1 دسامبر 2026";
    let subject = parsed.subject().expect("Subject");
    assert_eq!(subject, format!("تأیید نوبت: Koordinierungsstelle Südosteuropa، {date}"));
    let reference = booking["reference"].as_str().expect("reference");
    let text = received[0].text();
    assert!(text.contains(&format!("زمان: {date}، ساعت 10:00")), "{text}");
    assert!(text.contains(&format!("شماره نوبت: \u{2066}{reference}\u{2069}")), "{text}");
    assert!(text.contains("مترجم شفاهی برای زبان Türkçe"), "the interpreter: {text}");
    assert!(!text.contains("Guten Tag") && !text.contains("Buchungsnummer"), "not German: {text}");
    let html = parsed.body_html(0).expect("an html part");
    assert!(html.contains(r#"<html lang="fa" dir="rtl">"#), "{html}");
    assert!(html.contains(r#"<div dir="rtl" lang="fa" style="direction: rtl; text-align: right;">"#), "{html}");
    assert!(html.contains(&format!(r#"<bdi dir="ltr">{reference}</bdi>"#)), "{html}");
    assert_eq!(summary(&received[0].calendar()), "نوبت مشاوره: Koordinierungsstelle Südosteuropa");
}

#[tokio::test]
async fn reschedule_and_cancel_update_the_same_calendar_entry() {
    // Arrange
    let sink = SmtpSink::start().await;
    let app = spawn_with_smtp(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "en").await;
    let id = booking["id"].as_str().expect("id").to_owned();
    sink.wait_for(1, WAIT).await;

    // Act
    let moved = app
        .reschedule_booking(&id, &json!({ "starts_at": "2026-12-02T11:30", "override_reason": "Test: verlegt" }))
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    sink.wait_for(2, WAIT).await;
    assert_eq!(app.cancel_booking(&id, "citizen called").await.status(), StatusCode::OK);

    // Assert
    let received = sink.wait_for(3, WAIT).await;
    let uid = format!("UID:{id}@example.org");
    assert!(received[0].calendar().contains(&uid), "{uid} in {}", received[0].calendar());
    let change = received[1].calendar();
    for expected in ["METHOD:REQUEST", "SEQUENCE:1", "DTSTART;TZID=Europe/Berlin:20261202T113000", uid.as_str()] {
        assert!(change.contains(expected), "{expected} in {change}");
    }
    assert!(received[1].text().contains("Wednesday, 2 December 2026, 11:30"), "{}", received[1].text());
    let previous = "Previously: Tuesday, 1 December 2026, 10:00 (no longer valid)";
    assert!(received[1].text().contains(previous), "the time it was moved from: {}", received[1].text());
    let cancel = received[2].calendar();
    for expected in ["METHOD:CANCEL", "SEQUENCE:2", "STATUS:CANCELLED", uid.as_str()] {
        assert!(cancel.contains(expected), "{expected} in {cancel}");
    }
    let kinds: Vec<Value> = emails_of(&app, &booking).await.iter().map(|e| e["kind"].clone()).collect();
    assert_eq!(kinds, vec![json!("confirmation"), json!("change"), json!("cancellation")]);
}

#[tokio::test]
async fn a_change_notice_names_the_time_the_citizen_was_last_told_of_by_email() {
    // Arrange: a booking whose confirmation was sent.
    let sink = SmtpSink::start().await;
    let app = spawn_with_smtp(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    let id = booking["id"].as_str().expect("id").to_owned();
    wait_for_state(&app, &booking, 0, "sent").await;

    // Act: moved twice, each change notice sent before the next move.
    for (index, to) in [(1, "2026-12-02T11:30"), (2, "2026-12-03T09:00")] {
        let body = json!({ "starts_at": to, "override_reason": "Test: verlegt" });
        assert_eq!(app.reschedule_booking(&id, &body).await.status(), StatusCode::OK, "moved to {to}");
        wait_for_state(&app, &booking, index, "sent").await;
    }

    // Assert: each notice names the time before it; the HTML part too.
    let received = sink.wait_for(3, WAIT).await;
    let first = received[1].text();
    assert!(first.contains("Bisher: Dienstag, 1. Dezember 2026, 10:00 Uhr (entfällt)"), "{first}");
    let second = received[2].text();
    assert!(second.contains("Bisher: Mittwoch, 2. Dezember 2026, 11:30 Uhr (entfällt)"), "{second}");
    assert!(second.contains("Wann: Donnerstag, 3. Dezember 2026, 09:00 Uhr"), "{second}");
    let html = received[2].parsed().body_html(0).expect("an html part").into_owned();
    assert!(
        html.contains(
            ">Bisher</th><td style=\"padding: 4px 0;\">Mittwoch, 2. Dezember 2026, 11:30 Uhr (entfällt)</td>"
        ),
        "{html}"
    );
    assert!(!received[0].text().contains("Bisher"), "the confirmation names no earlier time");
}

#[tokio::test]
async fn a_move_before_the_confirmation_went_out_is_told_as_the_confirmation() {
    // Arrange: the confirmation's first attempt is refused for now.
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    let app = spawn_with_smtp(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    let id = booking["id"].as_str().expect("id").to_owned();
    wait_for_state(&app, &booking, 0, "retrying").await;

    // Act: moved while the confirmation waits for its retry.
    let body = json!({ "starts_at": "2026-12-02T11:30", "override_reason": "Test: verlegt" });
    assert_eq!(app.reschedule_booking(&id, &body).await.status(), StatusCode::OK);
    advance_until(&app, || !sink.received().is_empty()).await;
    let emails = wait_for_state(&app, &booking, 1, "sent").await;

    // Assert: one email reached the citizen, the confirmation of the new time, not "moved".
    assert_eq!(emails[0]["state"], "skipped", "the old confirmation is superseded: {emails:?}");
    let received = sink.received();
    assert_eq!(received.len(), 1, "one email");
    let text = received[0].text();
    assert!(
        text.contains("Ihr Termin ist gebucht:") && text.contains("Mittwoch, 2. Dezember 2026, 11:30 Uhr"),
        "{text}"
    );
    assert!(!text.contains("verlegt") && !text.contains("Bisher"), "no move they never heard of: {text}");
    let subject = received[0].parsed().subject().expect("a subject").to_owned();
    assert!(subject.starts_with("Terminbestätigung"), "{subject}");
    assert!(received[0].calendar().contains("SEQUENCE:1"), "the calendar entry as the booking is now");
}

/// The SUMMARY (title) of the calendar entry in `calendar`.
pub fn summary(calendar: &str) -> String {
    let parsed: icalendar::Calendar = calendar.parse().expect("the ICS parses");
    parsed.events().next().and_then(|event| event.get_summary()).expect("a SUMMARY").to_owned()
}

#[tokio::test]
async fn the_calendar_entry_keeps_its_title_on_a_change_and_is_neutral_for_a_confidential_unit() {
    // Arrange
    let sink = SmtpSink::start().await;
    let app = spawn_with_smtp(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    sink.wait_for(1, WAIT).await;

    // Act
    let id = booking["id"].as_str().expect("id");
    let moved = app
        .reschedule_booking(id, &json!({ "starts_at": "2026-12-02T11:30", "override_reason": "Test: verlegt" }))
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    sink.wait_for(2, WAIT).await;
    book(&app, "ads", "2026-12-04T10:00", "person@example.org", "de").await;

    // Assert
    let received = sink.wait_for(3, WAIT).await;
    let (confirmation, change) = (summary(&received[0].calendar()), summary(&received[1].calendar()));
    assert_eq!(confirmation, "Beratungstermin: Koordinierungsstelle Südosteuropa");
    assert_eq!(change, confirmation, "the entry is not renamed by the change notice");
    assert_ne!(received[1].parsed().subject(), received[0].parsed().subject(), "the subjects do differ");
    assert_eq!(received[2].rcpt_to, vec!["person@example.org".to_owned()]);
    let confidential = summary(&received[2].calendar());
    assert!(!confidential.contains("Antidiskriminierungsstelle") && !confidential.contains("ADS"), "{confidential}");
    assert_eq!(confidential, "Termin");
}

#[tokio::test]
async fn a_confidential_units_subject_and_sender_are_neutral() {
    // Arrange
    let sink = SmtpSink::start().await;
    let app = spawn_with_smtp(sink.addr.port()).await;

    // Act
    book(&app, "ads", "2026-12-01T10:00", "person@example.org", "de").await;

    // Assert
    let received = sink.wait_for(1, WAIT).await;
    let parsed = received[0].parsed();
    assert_eq!(parsed.subject(), Some("Ihr Termin bei der Stadt Hannover"));
    let from = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.name(), Some("Landeshauptstadt Hannover"));
    assert!(received[0].text().contains("Antidiskriminierungsstelle"), "the body may name the unit");
}

#[tokio::test]
async fn a_4xx_reply_is_retried() {
    // Arrange
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    let app = spawn_with_smtp(sink.addr.port()).await;

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while sink.transactions() < 1 {
        assert!(tokio::time::Instant::now() < deadline, "the first attempt happens");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let emails = wait_for_state(&app, &booking, 0, "retrying").await;
    assert!(emails[0]["last_error"].as_str().expect("an error").contains("451"), "{emails:?}");
    advance_until(&app, || !sink.received().is_empty()).await;

    // Assert
    assert_eq!(sink.transactions(), 2);
    let emails = wait_for_state(&app, &booking, 0, "sent").await;
    assert_eq!(emails[0]["attempts"], 2);
    assert_eq!(emails[0]["last_error"], Value::Null, "delivered: the first attempt's reply is gone");
}

#[tokio::test]
async fn the_message_id_ends_in_the_senders_domain_and_stays_the_same_on_a_retry() {
    // Arrange: the sender is terminbuch@example.org; the first attempt is refused for now.
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("451 4.3.0 please try again later"));
    let app = spawn_with_smtp(sink.addr.port()).await;

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    wait_for_state(&app, &booking, 0, "retrying").await;
    advance_until(&app, || !sink.received().is_empty()).await;

    // Assert
    let refused = sink.refused();
    assert_eq!(refused.len(), 1);
    let first = refused[0].parsed().message_id().expect("Message-ID").to_owned();
    let delivered = sink.received()[0].parsed().message_id().expect("Message-ID").to_owned();
    assert!(first.ends_with("@example.org"), "{first}");
    assert_eq!(delivered, first, "the retry carries the same Message-ID");
    let emails = wait_for_state(&app, &booking, 0, "sent").await;
    assert_eq!(emails[0]["message_id"], format!("<{first}>"));
}

/// Like [`spawn_with_smtp`], logging in to the server.
async fn spawn_with_smtp_login(port: u16) -> TestApp {
    spawn_app_with(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(port);
        settings.mail.smtp_security = SmtpSecurity::None;
        settings.mail.smtp_user = Some("terminbuch".to_owned());
        settings.mail.smtp_password = Some("secret".to_owned());
    })
    .await
}

#[tokio::test]
async fn a_5xx_reply_to_the_login_or_the_greeting_is_retried_not_failed() {
    let cases = [
        ("login", Plan::RefuseAuth("535 5.7.8 authentication credentials invalid"), "535", "AUTH"),
        ("greeting", Plan::Greet("554 5.3.2 no service for you"), "554", "greeting"),
    ];
    for (case, plan, code, step) in cases {
        // Arrange: the mail server refuses the setup once, not the message.
        let sink = SmtpSink::start().await;
        sink.plan(plan);
        let app = spawn_with_smtp_login(sink.addr.port()).await;

        // Act
        let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
        let emails = wait_for_state(&app, &booking, 0, "retrying").await;
        advance_until(&app, || !sink.received().is_empty()).await;

        // Assert
        let error = emails[0]["last_error"].as_str().expect("an error");
        assert!(error.contains(code) && error.contains(step), "{case}: {error}");
        assert!(error.contains("TERMINBUCH_SMTP_"), "{case}: the error points at the settings: {error}");
        assert_eq!(sink.transactions(), 1, "{case}: no transaction before the retry");
        let emails = wait_for_state(&app, &booking, 0, "sent").await;
        assert_eq!(emails[0]["attempts"], 2, "{case}");
    }
}

#[tokio::test]
async fn a_relay_refusal_by_policy_is_a_setup_problem_retried_not_a_failed_email() {
    // Arrange: the mail server does not let this service relay, once.
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("554 5.7.1 Relay access denied"));
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;

    // Act: the attempt, then the next one after the settings were fixed.
    let first = mail.run_once().await.expect("a pass");
    let refused = emails_of(&app, &booking).await;
    app.clock.advance(TimeDelta::hours(1));
    let second = mail.run_once().await.expect("a pass");

    // Assert: not failed for good (every email would be), but retried and then sent.
    assert_eq!((first.sent, first.retrying, first.failed), (0, 1, 0), "{first:?}");
    assert_eq!(refused[0]["state"], "retrying");
    let error = refused[0]["last_error"].as_str().expect("an error");
    assert!(error.contains("5.7.1") && error.contains("TERMINBUCH_SMTP_"), "{error}");
    assert_eq!(second.sent, 1, "{second:?}");
    assert_eq!(emails_of(&app, &booking).await[0]["state"], "sent");
}

/// A server with the SMTP server on `port` whose email sender the test drives step by step.
pub async fn spawn_with_manual_mail(port: u16) -> (TestApp, Dispatcher) {
    spawn_app_with_manual_mail(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(port);
        settings.mail.smtp_security = SmtpSecurity::None;
    })
    .await
}

#[tokio::test]
async fn a_550_reply_fails_at_once_and_the_unit_sees_it() {
    // Arrange
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("550 5.1.1 no such mailbox"));
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "nobody@example.org", "de").await;

    // Act: the attempt, then five more passes an hour apart each.
    let first = mail.run_once().await.expect("a pass");
    let mut later = Vec::new();
    for _ in 0..5 {
        app.clock.advance(TimeDelta::hours(1));
        later.push(mail.run_once().await.expect("a pass"));
    }

    // Assert
    assert_eq!((first.sent, first.retrying, first.failed), (0, 0, 1), "{first:?}");
    assert!(later.iter().all(|pass| *pass == Report::default()), "a permanent failure is not retried: {later:?}");
    assert_eq!(sink.transactions(), 1);
    let emails = emails_of(&app, &booking).await;
    assert_eq!(emails[0]["state"], "failed");
    assert_eq!(emails[0]["attempts"], 1);
    assert!(emails[0]["last_error"].as_str().expect("the reply").contains("no such mailbox"), "{emails:?}");
    let failed: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/suedosteuropa/failed-emails").await.json().await.expect("json");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["reference"], booking["reference"]);

    // A resend with the address fixed by phone is queued again and goes out.
    let resent = app
        .post_as(
            &app.admin_token,
            &format!("/api/v1/bookings/{}/resend", booking["id"].as_str().expect("id")),
            &json!({}),
        )
        .await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    // Pressed again while that one waits: refused, nothing more queued; the citizen gets one.
    let resend = format!("/api/v1/bookings/{}/resend", booking["id"].as_str().expect("id"));
    let again = app.post_as(&app.admin_token, &resend, &json!({})).await;
    crate::helpers::assert_problem(again, StatusCode::CONFLICT, "email_queued").await;
    assert_eq!(emails_of(&app, &booking).await.len(), 2, "the failed one and one resent");
    let pass = mail.run_once().await.expect("a pass");
    assert_eq!(pass.sent, 1, "{pass:?}");
    assert_eq!(sink.received().len(), 1);
    // Once it went out, it may be sent again.
    let after = app.post_as(&app.admin_token, &resend, &json!({})).await;
    assert_eq!(after.status(), StatusCode::ACCEPTED);
}

async fn listed_failed(app: &TestApp) -> Vec<Value> {
    let failed: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/suedosteuropa/failed-emails").await.json().await.expect("json");
    failed.iter().map(|f| f["reference"].clone()).collect()
}

/// The failed-email list names appointments still to come: once one has begun, calling about
/// it is too late and it leaves the list; each booking is listed once, with its failed email.
#[tokio::test]
async fn an_appointment_that_has_begun_leaves_the_failed_email_list() {
    // Arrange: two bookings whose confirmations fail, a week apart.
    let sink = SmtpSink::start().await;
    for _ in 0..2 {
        sink.plan(Plan::Reply("550 5.1.1 no such mailbox"));
    }
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let sooner = book(&app, "suedosteuropa", "2026-12-01T10:00", "nobody@example.org", "de").await;
    let later = book(&app, "suedosteuropa", "2026-12-08T10:00", "niemand@example.org", "de").await;
    assert_eq!(mail.run_once().await.expect("a pass").failed, 2);
    // Both failed at the same moment (the fixed clock): their order is no part of this test.
    let mut both = listed_failed(&app).await;
    both.sort_by_key(Value::to_string);
    let mut expected = vec![sooner["reference"].clone(), later["reference"].clone()];
    expected.sort_by_key(Value::to_string);
    assert_eq!(both, expected);

    // Act: the first appointment begins.
    app.clock.advance(TimeDelta::days(7) + TimeDelta::hours(2));

    // Assert
    assert_eq!(listed_failed(&app).await, vec![later["reference"].clone()]);
}

#[tokio::test]
async fn a_server_that_never_answers_does_not_stall_the_next_message() {
    // Arrange: the first connection hangs after accept; later ones work.
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Hang);
    let app = spawn_with_smtp(sink.addr.port()).await;

    // Act
    let first = book(&app, "suedosteuropa", "2026-12-01T10:00", "first@example.org", "de").await;
    let second = book(&app, "suedosteuropa", "2026-12-01T11:00", "second@example.org", "de").await;

    // Assert: the dispatcher sends both at once; whichever connection the sink accepted first
    // hangs, and the other message goes out while that connection is still held (a dispatcher
    // that waited would send it only after the hung attempt gave up and closed it). The hung one
    // arrives once retried.
    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1, "one message delivered while the other connection hangs");
    assert_eq!(received[0].hung_open, 1, "accepted while the hung connection was still open");
    advance_until(&app, || sink.received().len() >= 2).await;
    let mut to: Vec<String> = sink.received().iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["first@example.org".to_owned(), "second@example.org".to_owned()]);
    for booking in [&first, &second] {
        wait_for_state(&app, booking, 0, "sent").await;
    }
}

#[tokio::test]
async fn with_smtp_down_during_100_bookings_all_confirmations_arrive_exactly_once() {
    // Arrange: nobody listens on the configured port yet; a pass while it is down.
    let held = SmtpSink::hold_port();
    let (app, mail) = spawn_with_manual_mail(held.port).await;
    let mut references = HashSet::new();
    for i in 0..100 {
        let day = 1 + i / 8;
        let hour = 8 + i % 8;
        let starts_at = format!("2026-12-{day:02}T{hour:02}:00");
        let booking = book(&app, "suedosteuropa", &starts_at, &format!("person{i}@example.org"), "de").await;
        references.insert(booking["reference"].as_str().expect("reference").to_owned());
    }
    let down = mail.run_once().await.expect("a pass while the mail server is down");

    // Act: the server comes up; the retries are due after the (1 s) backoff; then an hour later.
    let sink = SmtpSink::start_held(held);
    app.clock.advance(TimeDelta::seconds(2));
    let up = mail.run_once().await.expect("the pass that delivers");
    app.clock.advance(TimeDelta::hours(1));
    let after = mail.run_once().await.expect("a later pass");

    // Assert
    assert_eq!((down.sent, down.retrying), (0, 100), "{down:?}");
    assert_eq!((up.sent, up.retrying, up.failed), (100, 0, 0), "{up:?}");
    assert_eq!(after, Report::default(), "nothing left to send");
    let received = sink.received();
    assert_eq!(received.len(), 100, "each confirmation exactly once");
    let message_ids: HashSet<String> =
        received.iter().map(|m| m.parsed().message_id().expect("Message-ID").to_owned()).collect();
    assert_eq!(message_ids.len(), 100);
    let recipients: HashSet<String> = received.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(recipients.len(), 100);
    let mentioned = references.iter().filter(|r| received.iter().any(|m| m.text().contains(r.as_str()))).count();
    assert_eq!(mentioned, 100);
}

#[tokio::test]
async fn a_booking_change_wakes_the_dispatcher_instead_of_waiting_for_the_poll() {
    // Arrange
    let sink = SmtpSink::start().await;
    // The dispatcher's look at start happens while the test's first requests wait for their
    // answers; the cancellation below comes long after it, so only a nudge can send it in time.
    let app = spawn_with_slow_poll(sink.addr.port()).await;

    // Act
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    let confirmed = sink.wait_for(1, Duration::from_secs(60)).await;
    let id = booking["id"].as_str().expect("id");
    assert_eq!(app.cancel_booking(id, "Bürgerin hat abgesagt").await.status(), StatusCode::OK);

    // Assert: both went out within seconds, although the next poll is ten minutes away.
    let received = sink.wait_for(2, Duration::from_secs(60)).await;
    assert!(confirmed[0].calendar().contains("METHOD:REQUEST"));
    assert!(received[1].calendar().contains("METHOD:CANCEL"));
}

#[tokio::test]
async fn a_backlog_larger_than_one_batch_drains_without_waiting_for_the_poll() {
    // Arrange: the first 16 connections (a full batch of deliveries) hang until each attempt is
    // cut off after 3 × 2 s, so the emails booked meanwhile queue up behind them.
    let sink = SmtpSink::start().await;
    for _ in 0..16 {
        sink.plan(Plan::Hang);
    }
    let app = spawn_with_slow_poll(sink.addr.port()).await;

    // Act
    for i in 0..40 {
        let starts_at = format!("2026-12-{:02}T{:02}:00", 1 + i / 8, 8 + i % 8);
        book(&app, "suedosteuropa", &starts_at, &format!("person{i}@example.org"), "de").await;
    }

    // Assert: as the hung attempts give up, the 24 queued emails go out, long before the next
    // poll; the 16 hung ones wait for their retry (the test clock stands still).
    let received = sink.wait_for(24, Duration::from_secs(20)).await;
    let states = wait_for_outbox_states(&app, &[("sent", 24), ("retrying", 16)]).await;
    assert_eq!(received.len(), 24);
    assert_eq!(sink.received().len(), 24, "nothing twice: {states:?}");
}

#[tokio::test]
async fn a_stopping_dispatcher_finishes_the_delivery_in_flight_before_it_returns() {
    // Arrange: the server's own sender finds no mail server and leaves the confirmation to be
    // retried; it polls only every ten minutes, so the dispatcher below is the one to send it,
    // through a mail server that takes a second to accept.
    let held = SmtpSink::hold_port();
    let app = spawn_app_with(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(held.port);
        settings.mail.smtp_security = SmtpSecurity::None;
        settings.mail.mail_poll_ms = 600_000;
    })
    .await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "de").await;
    wait_for_state(&app, &booking, 0, "retrying").await;
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Slow(Duration::from_secs(1)));
    let mut settings = app.settings.clone();
    settings.mail.smtp_port = Some(sink.addr.port());
    let dispatcher = Dispatcher::new(app.db.clone(), app.clock.clone(), &settings).expect("a dispatcher");
    app.clock.advance(TimeDelta::seconds(2));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(dispatcher.run_until(async {
        let _ = stopped.await;
    }));
    let deadline = tokio::time::Instant::now() + WAIT;
    while sink.transactions() < 1 {
        assert!(tokio::time::Instant::now() < deadline, "the delivery starts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: stop while the mail server has not yet accepted the message.
    assert!(sink.received().is_empty(), "the delivery is in flight");
    stop.send(()).expect("the dispatcher listens");
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("it stops in time").expect("no panic");

    // Assert
    assert_eq!(sink.received().len(), 1, "the delivery in flight was finished");
    let emails = emails_of(&app, &booking).await;
    assert_eq!(emails[0]["state"], "sent", "and recorded: {emails:?}");
}

/// A cancellation that cannot be delivered puts its appointment, still to come, on the unit's
/// list of failed emails (the citizen would come for nothing); once the time is past, it leaves.
#[tokio::test]
async fn a_failed_cancellation_of_an_appointment_still_to_come_is_on_the_failed_list() {
    // Arrange: the confirmation went out; the mailbox is gone when the cancellation follows.
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "bald.weg@example.org", "de").await;
    assert_eq!(mail.run_once().await.expect("a pass").sent, 1);
    sink.plan(Plan::Reply("550 5.1.1 no such mailbox"));
    let id = booking["id"].as_str().expect("id");
    assert_eq!(app.cancel_booking(id, "Beraterin krank").await.status(), StatusCode::OK);

    // Act
    let pass = mail.run_once().await.expect("a pass");

    // Assert
    assert_eq!(pass.failed, 1, "{pass:?}");
    let failed = || async {
        let list: Vec<Value> =
            app.get_as(&app.admin_token, "/api/v1/units/suedosteuropa/failed-emails").await.json().await.expect("json");
        list
    };
    let listed = failed().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["reference"], booking["reference"]);
    assert_eq!(listed[0]["email"]["kind"], "cancellation");
    app.clock.advance(TimeDelta::days(8));
    assert!(failed().await.is_empty(), "past appointments need no call");
}

/// A confirmation of an appointment that has begun is not sent (the sender skips it): "send
/// again" is not offered on its page, and a request for it is refused instead of saying it is on
/// its way (found by a QA walk: the page said "sent again" and the email showed "entfallen").
#[tokio::test]
async fn a_confirmation_of_an_appointment_begun_is_not_sent_again() {
    use crate::web_client::{Desk, PASSWORD};
    let app = crate::helpers::spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");
    let mut body = crate::helpers::booking_body(slot);
    body["citizen"]["email"] = json!("ayse@example.org");
    body["email_consent"] = json!(true);
    let booked: Value = app.post_booking(&body).await.json().await.expect("json");
    let resend = format!("/api/v1/bookings/{}/resend", booked["id"].as_str().expect("id"));
    app.add_person("empfang.nochmal", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.nochmal", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let page = format!("/bookings/{}", booked["reference"].as_str().expect("reference"));
    assert!(desk.text(&page).await.1.contains("id=\"resend\""), "offered before the appointment");

    app.clock.advance(chrono::TimeDelta::days(30));

    crate::helpers::assert_problem(
        app.post_as(&app.admin_token, &resend, &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "in_the_past",
    )
    .await;
    assert!(!desk.text(&page).await.1.contains("id=\"resend\""), "not offered once it has begun");
    let queued = app.count("SELECT COUNT(*) AS n FROM outbox_messages WHERE recipient = 'ayse@example.org'").await;
    assert_eq!(queued, 1, "only the first confirmation");
}
