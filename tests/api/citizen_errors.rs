//! The citizen's pages that show no appointment (the one 404, a failure of the service) speak the
//! visitor's language: the booking's once the link opened it, else the one the browser asks for
//! among the page's seven, else all seven, German first. No cause of a failure is shown.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;

use crate::citizen_link::{book_with_email, spawn_citizen_app, token_in};
use crate::helpers::{TestApp, spawn_app};
use crate::smtp_sink::SmtpSink;

/// A token no link has.
const UNKNOWN: &str = "0123456789abcdef0123456789abcdef01234567";

/// Status, the `<html …>` tag and the whole page of `GET path` with `Accept-Language: asks`.
async fn get(app: &TestApp, path: &str, asks: &str) -> (StatusCode, String, String) {
    let mut request = app.client.get(format!("{}{path}", app.address));
    if !asks.is_empty() {
        request = request.header("accept-language", asks);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert_eq!(content_type, "text/html; charset=utf-8", "{path} {asks}");
    let html = response.text().await.expect("body");
    let start = html.find("<html").expect("an html element");
    let tag = html[start..=start + html[start..].find('>').expect("its end")].to_owned();
    (status, tag, html)
}

/// Nothing of the database or its error in a page.
fn assert_no_cause(html: &str) {
    for inner in ["citizen_links", "audit_events", "SQL", "sql", "relation", "no such table", "Error", "error:"] {
        assert!(!html.contains(inner), "{inner} in {html}");
    }
}

#[tokio::test]
async fn an_unknown_link_speaks_the_language_the_browser_asks_for() {
    let app = spawn_app().await;
    let path = format!("/t/{UNKNOWN}");
    for (asks, tag, says, not) in [
        ("tr-TR,tr;q=0.9,en;q=0.8", r#"<html lang="tr" dir="ltr">"#, "Bu bağlantı geçersiz", "Dieser Link"),
        ("ar", r#"<html lang="ar" dir="rtl">"#, "هذا الرابط غير صالح", "Dieser Link"),
        ("fa-AF,fa;q=0.9,de;q=0.5", r#"<html lang="fa" dir="rtl">"#, "این لینک معتبر نیست", "Dieser Link"),
        ("fr-FR, uk;q=0.5", r#"<html lang="uk" dir="ltr">"#, "Це посилання недійсне", "This link"),
        ("en-GB", r#"<html lang="en" dir="ltr">"#, "This link is not valid", "Dieser Link"),
    ] {
        let (status, html_tag, html) = get(&app, &path, asks).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{asks}");
        assert_eq!(html_tag, tag, "{asks}");
        assert!(html.contains(says), "{asks}: {html}");
        assert!(!html.contains(not), "{asks}: one language only: {html}");
    }
    // A language the page does not have, or none: every language, German first, English second.
    for asks in ["fr", ""] {
        let (status, html_tag, html) = get(&app, &path, asks).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{asks}");
        assert_eq!(html_tag, r#"<html lang="de" dir="ltr">"#, "{asks}");
        let german = html.find(r#"<div lang="de" dir="ltr">"#).expect("a German block");
        let english = html.find(r#"<div lang="en" dir="ltr">"#).expect("an English block");
        assert!(german < english, "{asks}: German first: {html}");
        assert!(html.contains(r#"<div lang="ar" dir="rtl">"#), "{asks}: {html}");
        assert!(html.contains(r#"<div lang="fa" dir="rtl">"#), "{asks}: {html}");
    }
}

#[tokio::test]
async fn a_failure_before_the_link_opens_a_booking_speaks_the_browsers_language_without_its_cause() {
    let app = spawn_app().await;
    app.db.execute_unprepared("ALTER TABLE citizen_links RENAME TO citizen_links_away").await.expect("away");
    let path = format!("/t/{UNKNOWN}");

    let (status, tag, html) = get(&app, &path, "tr").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(tag, r#"<html lang="tr" dir="ltr">"#);
    assert!(html.contains("Maalesef olmadı"), "{html}");
    assert!(!html.contains("Das hat leider nicht geklappt"), "not the German page: {html}");
    assert_no_cause(&html);

    let (status, tag, html) = get(&app, &format!("{path}/termin.ics"), "ar-SA,ar;q=0.9").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(tag, r#"<html lang="ar" dir="rtl">"#);
    assert!(html.contains("للأسف لم ينجح ذلك"), "{html}");
    assert_no_cause(&html);

    // Asking for no language of the page: every one, German first (not the staff's error page).
    let (status, tag, html) = get(&app, &path, "").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(tag, r#"<html lang="de" dir="ltr">"#);
    assert!(html.contains("Das hat leider nicht geklappt") && html.contains("Sorry, that did not work"), "{html}");
    assert!(!html.contains("terminbuch.css"), "the citizen's page, not the staff's: {html}");
    assert_no_cause(&html);
}

#[tokio::test]
async fn a_failure_after_the_link_opened_the_booking_speaks_the_bookings_language() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (_, email) = book_with_email(&app, &dispatcher, &sink, "sdr", 0, "ar").await;
    let token = token_in(&email.text());
    // The look at the booking is recorded after it opened: that write fails.
    app.db.execute_unprepared("ALTER TABLE audit_events RENAME TO audit_events_away").await.expect("away");

    let (status, tag, html) = get(&app, &format!("/t/{token}"), "tr").await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(tag, r#"<html lang="ar" dir="rtl">"#, "the booking's language, not the browser's");
    assert!(html.contains("للأسف لم ينجح ذلك"), "{html}");
    assert_no_cause(&html);
}
