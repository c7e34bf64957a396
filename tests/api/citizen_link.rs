//! The citizen's own link, through HTTP with a real SMTP server on loopback: the link in the
//! emails, the page, its calendar entry, the one 404, the rate limit, and the token kept out of
//! the audit and the logs. Cancel, move and the races are in `citizen_link_actions.rs`.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use terminbuch::config::SmtpSecurity;
use terminbuch::mail::Dispatcher;

use crate::helpers::{TestApp, default_now, spawn_app_with_manual_mail};
use crate::smtp_sink::{Received, SmtpSink};

/// A server whose emails go to `sink` when the test runs the dispatcher.
pub async fn spawn_citizen_app(sink: &SmtpSink, trusted_proxies: bool) -> (TestApp, Dispatcher) {
    spawn_app_with_manual_mail(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(sink.addr.port());
        settings.mail.smtp_security = SmtpSecurity::None;
        if trusted_proxies {
            settings.trusted_proxies = terminbuch::config::TrustedProxies::parse("127.0.0.1").expect("proxies");
        }
    })
    .await
}

/// Books the `nth` free slot of `unit` from 1 December on for a citizen with email (in
/// `language`) and sends the confirmation; returns the booking and the email.
pub async fn book_with_email(
    app: &TestApp,
    dispatcher: &Dispatcher,
    sink: &SmtpSink,
    unit: &str,
    nth: usize,
    language: &str,
) -> (Value, Received) {
    let slots = app.free_slots(unit, "from=2026-12-01&limit=20").await;
    let body = json!({
        "slot_id": slots[nth]["slot_id"],
        "citizen": { "name": "Ayşe Demir", "email": "ayse@example.org", "language": language },
        "email_consent": true,
        "channel": "phone",
    });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.expect("json");
    let before = sink.received().len();
    dispatcher.run_once().await.expect("dispatch");
    sink.wait_for(before + 1, Duration::from_secs(10)).await;
    // The same run may send earlier bookings' notices too: the confirmation names this reference.
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    let confirmation = sink.received()[before..]
        .iter()
        .find(|r| r.text().contains(&reference) && r.text().contains("/t/"))
        .cloned()
        .expect("the confirmation");
    (booking, confirmation)
}

/// The token of the link in an email's text.
pub fn token_in(text: &str) -> String {
    let start = text.find("/t/").expect("a link in the email") + 3;
    let token: String = text[start..].chars().take_while(char::is_ascii_alphanumeric).collect();
    assert_eq!(token.len(), 40, "{token}");
    token
}

/// A client with a cookie store, as a browser keeps the form cookie.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The value of `name="csrf"` in a page.
pub fn csrf_of(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// The value of `name="version"` in a page (the booking's sequence the form was made from).
pub fn version_of(html: &str) -> String {
    let start = html.find(r#"name="version" value=""#).expect("a version field") + r#"name="version" value=""#.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// The booking as the API shows it, with its history.
pub async fn booking_now(app: &TestApp, id: &Value) -> Value {
    let response = app.get_booking(id.as_str().expect("id")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn calendar_line<'a>(ics: &'a str, name: &str) -> &'a str {
    ics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {ics}")).trim_end()
}

#[tokio::test]
async fn the_confirmation_carries_a_link_to_a_page_in_the_bookings_language_and_its_calendar_entry() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "tr").await;
    let text = email.text();
    assert!(text.contains(&format!("{}/t/", app.address)), "the link starts with the public URL: {text}");
    let token = token_in(&text);
    let stored = entity::citizen_link::Entity::find().all(&app.db).await.expect("links");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token, "only the hash is stored");
    assert!(!stored.iter().any(|l| l.token_hash.contains(&token)));

    let page = app.client.get(format!("{}/t/{token}", app.address)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let header = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(header("x-robots-tag"), "noindex");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    assert!(header("content-security-policy").contains("default-src 'self'"));
    assert_eq!(header("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<html lang="tr" dir="ltr">"#), "{html}");
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
    assert!(html.contains("Randevunuz"), "Turkish texts");
    let reference = booking["reference"].as_str().expect("reference");
    let shown =
        if reference.contains('-') { reference.to_owned() } else { format!("{}-{}", &reference[..4], &reference[4..]) };
    assert!(html.contains(&shown), "the reference {shown}");
    assert!(html.contains("11. Stock") && html.contains("Aufzug"), "floor and accessibility");
    assert!(!html.contains("Ayşe"), "the page does not repeat the name");
    assert!(!html.contains("http://") && !html.contains("https://"), "no third-party resources");

    let ics = app.client.get(format!("{}/t/{token}/termin.ics", app.address)).send().await.expect("ics");
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(ics.headers()["content-type"].to_str().expect("type").starts_with("text/calendar"));
    let ics = ics.text().await.expect("text");
    let attachment = email.calendar();
    for name in ["UID:", "SEQUENCE:", "DTSTART", "STATUS:"] {
        assert_eq!(calendar_line(&ics, name), calendar_line(&attachment, name), "{name}");
    }
    // The email invites its recipient; the download names no attendee, so it is published.
    assert_eq!(calendar_line(&attachment, "METHOD:"), "METHOD:REQUEST");
    assert_eq!(calendar_line(&ics, "METHOD:"), "METHOD:PUBLISH");
    assert_eq!(calendar_line(&ics, "STATUS:"), "STATUS:CONFIRMED");
}

#[tokio::test]
async fn unknown_tampered_foreign_and_expired_tokens_all_get_the_same_404() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "sdr", 0, "de").await;
    let token = token_in(&email.text());
    let last = token.chars().last().expect("a character");
    let tampered = format!("{}{}", &token[..39], if last == '0' { '1' } else { '0' });
    let fetch = |path: String| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.address);
        async move {
            let response = client.get(url).send().await.expect("request");
            (response.status(), response.text().await.expect("body"))
        }
    };
    let (status, not_found) = fetch("/t/0123456789abcdef0123456789abcdef01234567".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The page knows no booking, so no language: it says it in all seven, each marked as such.
    for (lang, dir, says) in [
        ("de", "ltr", "Dieser Link ist nicht (mehr) gültig."),
        ("en", "ltr", "This link is not valid (any more)."),
        ("tr", "ltr", "Bu bağlantı geçersiz"),
        ("ar", "rtl", "هذا الرابط غير صالح"),
        ("fa", "rtl", "این لینک معتبر نیست"),
        ("ru", "ltr", "Эта ссылка недействительна"),
        ("uk", "ltr", "Це посилання недійсне"),
    ] {
        let block = format!(r#"<div lang="{lang}" dir="{dir}">"#);
        let at = not_found.find(&block).unwrap_or_else(|| panic!("{lang}: its own block: {not_found}"));
        let text = &not_found[at..];
        assert!(text[..text.find("</div>").expect("the block's end")].contains(says), "{lang}: {not_found}");
    }
    for path in [
        format!("/t/{tampered}"),
        format!("/t/{tampered}/termin.ics"),
        format!("/t/{tampered}/move"),
        "/t/abc".to_owned(),
        "/t".to_owned(),
        "/t/".to_owned(),
        format!("/t/{}", app.admin_token),
        format!("/t/{}", token.to_uppercase()),
    ] {
        assert_eq!(fetch(path.clone()).await, (StatusCode::NOT_FOUND, not_found.clone()), "{path}");
    }
    assert_eq!(fetch(format!("/t/{token}")).await.0, StatusCode::OK);
    // A day after the appointment's end the link stops working.
    let ends_at: chrono::DateTime<chrono::Utc> = booking["ends_at"].as_str().expect("end").parse().expect("instant");
    app.clock.advance(ends_at - app.clock.now() + TimeDelta::days(1));
    assert_eq!(fetch(format!("/t/{token}")).await, (StatusCode::NOT_FOUND, not_found.clone()), "expired");
    assert_eq!(fetch(format!("/t/{token}/termin.ics")).await, (StatusCode::NOT_FOUND, not_found), "expired");
}

#[tokio::test]
async fn requests_are_limited_per_address_and_per_token() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, true).await;
    let (_, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let token = token_in(&email.text());
    let get = |path: String, from: &'static str| {
        let request = app.client.get(format!("{}{path}", app.address)).header("x-forwarded-for", from);
        async move { request.send().await.expect("request") }
    };
    // One address guessing tokens is stopped after 60 requests.
    for i in 0..60 {
        let status = get(format!("/t/{:040x}", i), "10.0.0.1").await.status();
        assert_eq!(status, StatusCode::NOT_FOUND, "guess {i}");
    }
    let limited = get(format!("/t/{token}"), "10.0.0.1").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "60");
    let html = limited.text().await.expect("html");
    for says in [
        "Zu viele Anfragen",
        "Too many requests",
        "Çok fazla istek",
        "طلبات كثيرة جدًا",
        "درخواست\u{200c}ها بیش از حد زیاد است",
        "Слишком много",
        "Забагато",
    ] {
        assert!(html.contains(says), "{says}: {html}");
    }
    assert!(html.contains(r#"<div lang="ar" dir="rtl">"#), "{html}");
    assert!(html.contains(r#"<div lang="fa" dir="rtl">"#), "{html}");
    assert_eq!(get(format!("/t/{token}"), "10.0.0.2").await.status(), StatusCode::OK, "another address");
    // One token is stopped after 30 requests, from whichever addresses.
    for i in 0..28 {
        let from: &'static str = if i % 2 == 0 { "10.0.1.1" } else { "10.0.1.2" };
        assert_eq!(get(format!("/t/{token}"), from).await.status(), StatusCode::OK, "request {i}");
    }
    assert_eq!(get(format!("/t/{token}"), "10.0.2.1").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_citizens_looks_and_changes_are_audited_without_the_token_or_the_address() {
    // Arrange: the citizen's requests come through the trusted proxy from their own address.
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, true).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 1, "en").await;
    let token = token_in(&email.text());
    const CITIZEN: &str = "203.0.113.77";
    let client = browser();
    let get = |path: String| client.get(format!("{}{path}", app.address)).header("x-forwarded-for", CITIZEN).send();

    // Act: the page, the calendar entry, the cancel step and the cancellation.
    assert_eq!(get(format!("/t/{token}")).await.expect("page").status(), StatusCode::OK);
    assert_eq!(get(format!("/t/{token}/termin.ics")).await.expect("ics").status(), StatusCode::OK);
    let html = get(format!("/t/{token}/cancel")).await.expect("page").text().await.expect("html");
    let (csrf, version) = (csrf_of(&html), version_of(&html));
    let done = client
        .post(format!("{}/t/{token}/cancel", app.address))
        .header("x-forwarded-for", CITIZEN)
        .form(&[("csrf", csrf.as_str()), ("version", &version), ("reason", "")])
        .send()
        .await
        .expect("cancel");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    // Assert: each look and the change recorded with the citizen and the booking, nothing more.
    let audit = entity::audit_event::Entity::find().all(&app.db).await.expect("audit");
    let citizen: Vec<_> = audit.iter().filter(|r| r.actor_kind == "citizen").collect();
    let views: Vec<_> = citizen.iter().filter(|r| r.action == "booking_viewed").collect();
    assert_eq!(views.len(), 3, "page, calendar, cancel step: {citizen:?}");
    let cancelled = citizen.iter().find(|r| r.action == "booking_cancelled").expect("the cancel in the audit");
    assert_eq!(cancelled.booking_ids, booking["id"].as_str().expect("id"));
    assert_eq!(cancelled.actor_id, None);
    assert!(citizen.iter().all(|r| r.client_addr.is_none()), "no citizen's address: {citizen:?}");
    assert!(!format!("{audit:?}").contains(&token), "no token in the audit");
    assert!(!format!("{audit:?}").contains(CITIZEN), "the address nowhere in the audit");
}

#[tokio::test]
async fn a_citizens_address_recorded_before_the_change_is_not_shown() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let sink = SmtpSink::start().await;
    let (app, _dispatcher) = spawn_citizen_app(&sink, false).await;
    let old = entity::audit_event::ActiveModel {
        at: Set(app.clock.now()),
        actor_kind: Set("citizen".to_owned()),
        client_addr: Set(Some("198.51.100.23".to_owned())),
        action: Set("booking_viewed".to_owned()),
        booking_ids: Set(uuid::Uuid::now_v7().to_string()),
        target: Set(String::new()),
        detail: Set(r#"{"via":"citizen_link","what":"page"}"#.to_owned()),
        ..Default::default()
    };
    old.insert(&app.db).await.expect("a record as written before");
    for path in ["/api/v1/audit?actor=citizen", "/api/v1/audit.csv?actor=citizen"] {
        let response = app.get_as(&app.admin_token, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.text().await.expect("body");
        assert!(body.contains("booking_viewed"), "{path}: {body}");
        assert!(!body.contains("198.51.100.23"), "{path}: {body}");
    }
}

#[tokio::test]
async fn a_token_spelled_with_percent_escapes_counts_as_the_token() {
    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, true).await;
    let (_, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let token = token_in(&email.text());
    let get = |path: String, from: String| {
        let request = app.client.get(format!("{}{path}", app.address)).header("x-forwarded-for", from);
        async move { request.send().await.expect("request") }
    };

    // Act: 30 requests (the token's limit), each spelling the token differently (one character
    // escaped: `%61` for `a`), from addresses of their own.
    for i in 0..30 {
        let escaped = format!("{}%{:02x}{}", &token[..i], token.as_bytes()[i], &token[i + 1..]);
        let response = get(format!("/t/{escaped}"), format!("10.0.3.{i}")).await;
        assert_eq!(response.status(), StatusCode::OK, "the page opens however the token is spelled ({escaped})");
    }

    // Assert: the token is used up, in every spelling.
    for path in [format!("/t/{token}"), format!("/t/%{:02x}{}/termin.ics", token.as_bytes()[0], &token[1..])] {
        let response = get(path.clone(), "10.0.4.1".to_owned()).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
}

#[tokio::test]
async fn a_unit_name_with_double_quotes_gives_valid_calendar_entries() {
    // Arrange: a unit whose name holds double quotes.
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    entity::unit::Entity::update_many()
        .col_expr(entity::unit::Column::Name, Expr::value(r#"Büro "Vielfalt""#))
        .filter(entity::unit::Column::Slug.eq("suedosteuropa"))
        .exec(&app.db)
        .await
        .expect("rename the unit");

    // Act: the confirmation's calendar entry and the one of the citizen's page.
    let (_, email) = book_with_email(&app, &dispatcher, &sink, "suedosteuropa", 0, "de").await;
    let token = token_in(&email.text());
    let page = app.client.get(format!("{}/t/{token}/termin.ics", app.address)).send().await.expect("ics");
    assert_eq!(page.status(), StatusCode::OK);
    let from_page = page.text().await.expect("ics");

    // Assert: the organizer's name is one parameter value without DQUOTE inside, and both parse.
    for (source, ics) in [("email", email.calendar()), ("page", from_page)] {
        let unfolded = ics.replace("\r\n ", "");
        let organizer = calendar_line(&unfolded, "ORGANIZER");
        let value = organizer.strip_prefix("ORGANIZER;CN=").expect("a CN");
        let (name, address) = match value.strip_prefix('"') {
            Some(quoted) => quoted.split_once("\":").expect("the closing quote"),
            None => value.split_once(':').expect("the address"),
        };
        assert!(name.starts_with("Büro 'Vielfalt'") && !name.contains('"'), "{source}: {organizer}");
        assert!(address.starts_with("mailto:"), "{source}: nothing after the value but the address: {organizer}");
        let parsed: icalendar::Calendar = ics.parse().expect("the entry parses");
        assert_eq!(parsed.events().count(), 1, "{source}");
    }
}

#[tokio::test]
async fn the_link_of_an_erased_booking_answers_as_an_unknown_one() {
    // Arrange: a working link, then the person's data are erased on request.
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (_, email) = book_with_email(&app, &dispatcher, &sink, "sdr", 0, "de").await;
    let token = token_in(&email.text());
    let client = browser();
    let cancel_step = client.get(format!("{}/t/{token}/cancel", app.address)).send().await.expect("page");
    assert_eq!(cancel_step.status(), StatusCode::OK);
    let html = cancel_step.text().await.expect("html");
    let (csrf, version) = (csrf_of(&html), version_of(&html));
    let unknown = client.get(format!("{}/t/{:040x}", app.address, 7)).send().await.expect("page");
    let not_found = unknown.text().await.expect("html");
    let erase = json!({ "email": "ayse@example.org", "reason": "request" });
    let erased = app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &erase).await;
    assert_eq!(erased.status(), StatusCode::OK);
    let views_before = entity::audit_event::Entity::find().all(&app.db).await.expect("audit").len();

    // Act and assert: every page of the link is the one 404, and the cancel does nothing.
    for path in ["", "/termin.ics", "/cancel", "/move"] {
        let response = client.get(format!("{}/t/{token}{path}", app.address)).send().await.expect("page");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.text().await.expect("html"), not_found, "{path}");
    }
    let cancel = client
        .post(format!("{}/t/{token}/cancel", app.address))
        .form(&[("csrf", csrf.as_str()), ("version", &version), ("reason", "")])
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    let bookings = entity::booking::Entity::find().all(&app.db).await.expect("bookings");
    let booked = entity::booking::BookingStatus::Booked;
    assert!(bookings.iter().all(|b| b.status == booked && b.erased_at.is_some()), "still booked, erased");
    let audit = entity::audit_event::Entity::find().all(&app.db).await.expect("audit");
    assert_eq!(audit.len(), views_before, "no look recorded");
}

/// A print handed to the wrong person, a mailbox someone else reads: the desk ends every link of
/// the booking issued so far, the emailed and the printed one alike (the API too); another
/// unit's staff may not; the audit records it with the count; a link made afterwards works.
#[tokio::test]
async fn the_desk_revokes_every_link_of_a_booking_issued_so_far() {
    use crate::web_client::{Desk, PASSWORD, location};
    use terminbuch::domain::audit::AuditAction;

    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let emailed = token_in(&email.text());
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    app.add_person("empfang.links", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.links", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let page = format!("/bookings/{reference}");
    let printed = desk.submit(&page, &format!("{page}/print"), &[]).await;
    assert_eq!(printed.status(), StatusCode::OK);
    let printed = token_in(&printed.text().await.expect("the print"));
    let opens = |token: String| {
        let url = format!("{}/t/{token}", app.address);
        let client = app.client.clone();
        async move { client.get(url).send().await.expect("the link").status() }
    };
    assert_eq!((opens(emailed.clone()).await, opens(printed.clone()).await), (StatusCode::OK, StatusCode::OK));

    // Another unit's staff may not.
    let stranger = app.token_for("empfang.sdr", "front_desk", Some("sdr")).await;
    let revoke = format!("/api/v1/bookings/{reference}/citizen-links/revoke");
    let refused = app.post_as(&stranger, &revoke, &json!({})).await;
    crate::helpers::assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(opens(emailed.clone()).await, StatusCode::OK, "still open");

    // The desk's form.
    let (_, html) = desk.text(&page).await;
    assert!(html.contains("id=\"revoke-links\""), "the form is on the booking's page");
    let revoked = desk.submit(&page, &format!("{page}/links/revoke"), &[]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let back = location(&revoked);
    assert!(back.contains("links_revoked=2"), "{back}");
    let (_, html) = desk.text(&back).await;
    assert_eq!(crate::web_client::text_of_id(&html, "links-revoked"), "Gesperrte Links: 2");
    assert_eq!(
        (opens(emailed.clone()).await, opens(printed.clone()).await),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    let recorded = crate::audit::records(&app, AuditAction::CitizenLinksRevoked).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].item_count, Some(2));
    assert_eq!(recorded[0].booking_ids, [uuid::Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid")]);

    // A link made afterwards works; the API ends it too.
    let again = desk.submit(&page, &format!("{page}/print"), &[]).await;
    let again = token_in(&again.text().await.expect("the print"));
    assert_eq!(opens(again.clone()).await, StatusCode::OK);
    let answer = app.post_as(&app.admin_token, &revoke, &json!({})).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.expect("json"), json!({ "revoked": 1 }));
    assert_eq!(opens(again).await, StatusCode::NOT_FOUND);
}

/// The printed confirmation shows the link as text, not as a hyperlink: printing is a POST so that
/// the link is in no address bar or history, and one click on the desk's PC would open the
/// citizen's page there and put the token into the shared browser's history.
#[tokio::test]
async fn the_printed_link_is_text_the_desks_browser_cannot_follow() {
    use crate::web_client::{Desk, PASSWORD, text_of_id};

    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, _) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let reference = booking["reference"].as_str().expect("reference");
    app.add_person("empfang.druck", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.druck", PASSWORD).await.status(), StatusCode::SEE_OTHER);

    // Act
    let page = format!("/bookings/{reference}");
    let printed = desk.submit(&page, &format!("{page}/print"), &[]).await;

    // Assert
    assert_eq!(printed.status(), StatusCode::OK);
    let html = printed.text().await.expect("the print");
    let token = token_in(&html);
    assert_eq!(text_of_id(&html, "link"), format!("{}/t/{token}", app.address), "the link, written out");
    let hrefs: Vec<&str> = html.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(hrefs.iter().all(|href| !href.contains("/t/")), "no hyperlink to the citizen's page: {hrefs:?}");
}

/// The calendar entry the page serves names no attendee: whoever holds the link (a forwarded
/// email, a print handed to the wrong person) does not learn the citizen's email address, which
/// the page does not show either. The email's invitation still names its recipient. Neither
/// entry's description names a confidential unit's direct number.
#[tokio::test]
async fn the_pages_calendar_entry_names_no_attendee_and_no_email_address() {
    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let token = token_in(&email.text());

    // Act
    let ics = app.client.get(format!("{}/t/{token}/termin.ics", app.address)).send().await.expect("ics");

    // Assert (lines unfolded: a folded line could split the address)
    assert_eq!(ics.status(), StatusCode::OK);
    let ics = ics.text().await.expect("text").replace("\r\n ", "");
    assert!(!ics.contains("ATTENDEE"), "{ics}");
    assert!(!ics.contains("ayse@example.org") && !ics.contains("ayse"), "no trace of the address: {ics}");
    assert!(email.calendar().replace("\r\n ", "").contains("ATTENDEE"), "the email's invitation names its recipient");
    // `ads` is confidential: its direct number would name the office the entry keeps neutral.
    for (source, ics) in [("page", ics), ("email", email.calendar().replace("\r\n ", ""))] {
        let description = calendar_line(&ics, "DESCRIPTION");
        let reference = booking["reference"].as_str().expect("reference").replace('-', "");
        assert!(description.replace('-', "").contains(&reference), "{source}: the reference stays: {description}");
        assert!(!ics.contains("168-49001"), "{source}: no unit phone: {ics}");
    }
}

/// What is done through a citizen's link names the link in the audit (its id, never the token),
/// and the link's row says where it came from: the email it was sent in, or who printed it.
#[tokio::test]
async fn the_audit_names_the_link_used_and_the_link_where_it_came_from() {
    use crate::web_client::{Desk, PASSWORD};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

    // Arrange: one link by email, one printed at the desk.
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let emailed = token_in(&email.text());
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    app.add_person("empfang.druck", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.druck", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let page = format!("/bookings/{reference}");
    let printed = desk.submit(&page, &format!("{page}/print"), &[]).await;
    let printed = token_in(&printed.text().await.expect("the print"));
    let desk_id = terminbuch::store::directory::find_staff_by_login(&app.db, "empfang.druck")
        .await
        .expect("db")
        .expect("the desk")
        .id;

    // Act: the page through each link.
    for token in [&emailed, &printed] {
        let opened = app.client.get(format!("{}/t/{token}", app.address)).send().await.expect("page");
        assert_eq!(opened.status(), StatusCode::OK);
    }

    // Assert
    let links = entity::citizen_link::Entity::find().all(&app.db).await.expect("links");
    let by_hash = |token: &str| {
        let hash = terminbuch::domain::citizen_link::token_hash(token);
        links.iter().find(|l| l.token_hash == hash).expect("the link's row").clone()
    };
    let (by_email, by_print) = (by_hash(&emailed), by_hash(&printed));
    let sent = entity::outbox_message::Entity::find()
        .filter(entity::outbox_message::Column::BookingId.eq(by_email.booking_id))
        .all(&app.db)
        .await
        .expect("emails");
    assert!(by_email.message_id.is_some_and(|id| sent.iter().any(|m| m.id == id)), "{by_email:?}");
    assert_eq!(by_email.issued_by, None);
    assert_eq!((by_print.issued_by, by_print.message_id), (Some(desk_id.get()), None));
    let looks: Vec<serde_json::Value> = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::ActorKind.eq("citizen"))
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.db)
        .await
        .expect("audit")
        .iter()
        .map(|r| serde_json::from_str(&r.detail).expect("json"))
        .collect();
    let named: Vec<&serde_json::Value> = looks.iter().map(|d| &d["link"]).collect();
    assert_eq!(named, [&json!(by_email.id), &json!(by_print.id)], "{looks:?}");
    // The origin is kept with the record itself: revoking the links deletes their rows.
    assert_eq!(looks[0]["link_from"], "email");
    assert_eq!(looks[0]["message_id"], json!(by_email.message_id.expect("the email").to_string()));
    assert_eq!((&looks[1]["link_from"], &looks[1]["printed_by"]), (&json!("print"), &json!(desk_id.get())));
}

/// On the right-to-left (Arabic and Persian) page and printed confirmation the address, floor and
/// accessibility notes, stored in German, are isolated left to right as in the emails: without,
/// "11. Stock" reads "Stock .11".
#[tokio::test]
async fn the_arabic_and_persian_page_and_print_isolate_the_address_floor_and_accessibility_notes() {
    use crate::web_client::{Desk, PASSWORD};

    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    app.add_person("empfang.druck", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.druck", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    for (nth, lang, reference) in [(0, "ar", "رقم الموعد"), (1, "fa", "شماره نوبت")] {
        let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", nth, lang).await;
        let token = token_in(&email.text());

        // Act
        let page = app.client.get(format!("{}/t/{token}", app.address)).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.expect("html");
        assert!(page.contains(reference), "{lang}: the page speaks the booking's language: {page}");
        let desk_page = format!("/bookings/{}", booking["reference"].as_str().expect("reference"));
        let printed = desk.submit(&desk_page, &format!("{desk_page}/print"), &[]).await;
        assert_eq!(printed.status(), StatusCode::OK);
        let printed = printed.text().await.expect("the print");

        // Assert
        for (what, html) in [("page", &page), ("print", &printed)] {
            assert!(html.contains(&format!(r#"<html lang="{lang}" dir="rtl">"#)), "{lang} {what}: {html}");
            let address = r#"<bdi dir="ltr">Hamburger Allee 25, 30161 Hannover"#;
            assert!(html.contains(address), "{lang} {what}: the address isolated left to right: {html}");
            // The floor and the notes, German here (the location has no text in the language),
            // are isolated with the direction of their own first letter, so a text in the
            // language reads right to left.
            for text in ["11. Stock", "Aufzug vorhanden"] {
                assert!(html.contains(&format!("<bdi>{text}")), "{lang} {what}: {text} isolated: {html}");
            }
            assert!(html.contains("<bdi>11. Stock</bdi>"), "{lang} {what}: the floor alone: {html}");
        }
    }
}

/// The booking was entered in Arabic, but the citizen reads Persian: the page offers every
/// language in its own name, and the one chosen holds for this browser's further pages (the
/// steps too), while the booking keeps its language for the emails. The switch itself records no
/// look; one that is not a language of the page changes nothing.
#[tokio::test]
async fn the_citizen_reads_the_page_in_another_language_they_choose() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 1, "ar").await;
    let token = token_in(&email.text());
    let client = browser();
    let (_, arabic) = crate::citizen_link_actions::page(&client, &app, &format!("/t/{token}")).await;
    assert!(arabic.contains(r#"<html lang="ar" dir="rtl">"#), "the booking's language first");
    assert!(
        arabic.contains(&format!(r#"<a href="/t/{token}?lang=fa" lang="fa" hreflang="fa" id="lang-fa">فارسی</a>"#))
    );
    assert!(arabic.contains(r#"<strong lang="ar" aria-current="true">العربية</strong>"#), "{arabic}");
    let looks = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'booking_viewed'";
    let before = app.count(looks).await;

    // Act
    let switched = client.get(format!("{}/t/{token}?lang=fa", app.address)).send().await.expect("switch");

    // Assert
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(switched.headers()["location"], format!("/t/{token}").as_str(), "the address stays without it");
    let cookie = crate::web_client::set_cookie(&switched, "terminbuch_citizen_lang").expect("the choice kept");
    assert!(cookie.contains("Path=/t") && cookie.starts_with("terminbuch_citizen_lang=fa;"), "{cookie}");
    assert_eq!(app.count(looks).await, before, "the switch is no look");
    let (_, persian) = crate::citizen_link_actions::page(&client, &app, &format!("/t/{token}")).await;
    assert!(persian.contains(r#"<html lang="fa" dir="rtl">"#), "{persian:.300}");
    let (_, step) = crate::citizen_link_actions::page(&client, &app, &format!("/t/{token}/cancel")).await;
    assert!(step.contains(r#"<html lang="fa" dir="rtl">"#), "the steps too");
    let (_, unknown) = crate::citizen_link_actions::page(&client, &app, &format!("/t/{token}?lang=xx")).await;
    assert!(unknown.contains(r#"<html lang="fa" dir="rtl">"#), "an unknown language changes nothing");
    let (status, gone) = crate::citizen_link_actions::page(&client, &app, "/t/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(gone.contains(r#"<html lang="fa" dir="rtl">"#), "the 404 in the language chosen: {gone:.300}");
    assert_eq!(booking_now(&app, &booking["id"]).await["citizen"]["language"], "ar", "the booking's stays");
}
