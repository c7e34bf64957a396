//! Nothing a client sends reaches the log unescaped: the login name, whose line break once
//! forged log lines (and which, naming no account, is now logged as `unknown`). No link token
//! (a citizen's, a password reset's) reaches it at all.

use std::sync::{Arc, LazyLock, Mutex};

use crate::EXCLUSIVE;
use crate::helpers::{booking_body, default_now, spawn_app, spawn_app_with_manual_mail};
use crate::smtp_sink::{Plan, SmtpSink};
use crate::web::{Attempt, WebClient, add_member};

/// Collects the process's formatted log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log, formatted as the service formats it (without times).
static LOG: LazyLock<Captured> = LazyLock::new(|| {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only log subscriber of this process");
    captured
});

#[tokio::test]
async fn a_login_name_with_a_line_break_does_not_forge_a_log_line() {
    // Arrange
    let _exclusive = EXCLUSIVE.lock().await;
    let log = LazyLock::force(&LOG);
    // Only this test's lines (the buffer is the process's; the tests take turns).
    log.0.lock().expect("log buffer").clear();
    let app = spawn_app().await;
    let web = WebClient::open(&app).await;
    // A name no other test uses, so that its absence below is this test's.
    let forged = "zq.forger\nINFO terminbuch::services::login: staff logged in login=\"admin\"";

    // Act
    assert_eq!(web.log_in(forged, "falsch", None).await, Attempt::Wrong);

    // Assert
    let text = String::from_utf8(log.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(text.contains("login failed") && text.contains("login=unknown"), "logged as unknown:\n{text}");
    assert!(!text.contains("zq.forger"), "text that names no account is not logged:\n{text}");
    for line in text.lines() {
        let level = line.trim_start().split(' ').next().unwrap_or_default();
        assert!(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level), "a line of its own: {line:?}");
        assert!(!line.starts_with("INFO terminbuch::services::login: staff logged in"), "forged: {line:?}");
    }
}

#[tokio::test]
async fn the_citizens_link_token_never_reaches_the_log() {
    // Arrange
    let _exclusive = EXCLUSIVE.lock().await;
    let log = LazyLock::force(&LOG);
    // Only this test's lines (the buffer is the process's; the tests take turns).
    log.0.lock().expect("log buffer").clear();
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let id = uuid::Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    let token = terminbuch::domain::citizen_link::new_token();
    let hash = terminbuch::domain::citizen_link::token_hash(&token);
    let emailed = terminbuch::domain::citizen_link::Origin::Email(uuid::Uuid::now_v7());
    terminbuch::store::citizen_links::insert(&app.db, id, hash, emailed, app.clock.now()).await.expect("a link");

    // Act
    for path in ["", "/termin.ics", "/cancel", "/move"] {
        let response = app.client.get(format!("{}/t/{token}{path}", app.address)).send().await.expect("request");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
    }
    let wrong = app.client.get(format!("{}/t/{}", app.address, "0".repeat(40))).send().await.expect("request");
    assert_eq!(wrong.status(), reqwest::StatusCode::NOT_FOUND);

    // Assert
    let text = String::from_utf8(log.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(text.contains("/t/{token}/cancel"), "the request log names the route template:\n{text}");
    assert!(!text.contains(&token) && !text.contains(&"0".repeat(40)), "no token in the log:\n{text}");
}

#[tokio::test]
async fn a_password_reset_links_token_never_reaches_the_log() {
    // Arrange: a reset link made by the admin.
    let _exclusive = EXCLUSIVE.lock().await;
    let log = LazyLock::force(&LOG);
    // Only this test's lines (the buffer is the process's; the tests take turns).
    log.0.lock().expect("log buffer").clear();
    let app = spawn_app().await;
    add_member(&app, "empfang", "front_desk", Some("ads")).await;
    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang/password-reset", &serde_json::json!({})).await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let url: serde_json::Value = response.json().await.expect("json");
    let url = url["reset_url"].as_str().expect("a reset URL").to_owned();
    let token = url.rsplit('/').next().expect("the token").to_owned();
    assert!(token.len() >= 20, "{url}");

    // Act: the page, a refused password, the new password, and the used link again.
    let web = WebClient::open(&app).await;
    let path = format!("/reset/{token}");
    assert_eq!(web.get(&path).await.status(), reqwest::StatusCode::OK);
    let weak = web.post_form(&path, &[("new", "passwort12345"), ("repeat", "passwort12345")]).await;
    assert_eq!(weak.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let new = "Sonnenblumen über dem Maschsee";
    assert_eq!(web.post_form(&path, &[("new", new), ("repeat", new)]).await.status(), reqwest::StatusCode::OK);
    assert_eq!(web.get(&path).await.status(), reqwest::StatusCode::NOT_FOUND);

    // Assert
    let text = String::from_utf8(log.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(text.contains("route=/reset/{token}"), "the request log names the route template:\n{text}");
    assert!(!text.contains(&token), "no token in the log:\n{text}");
}

#[tokio::test]
async fn a_mail_servers_refusal_quoting_the_citizens_address_does_not_log_it() {
    // Arrange: a mail server whose refusal quotes the recipient, as Postfix's do.
    let _exclusive = EXCLUSIVE.lock().await;
    let log = LazyLock::force(&LOG);
    // Only this test's lines (the buffer is the process's; the tests take turns).
    log.0.lock().expect("log buffer").clear();
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("550 5.1.1 <ayse.demir@example.org>: Recipient address rejected: User unknown"));
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |settings| {
        settings.mail.smtp_host = Some("127.0.0.1".to_owned());
        settings.mail.smtp_port = Some(sink.addr.port());
        settings.mail.smtp_security = terminbuch::config::SmtpSecurity::None;
    })
    .await;
    let slots = app.free_slots("suedosteuropa", "from=2026-12-01&limit=1").await;
    let mut body = booking_body(slots[0]["slot_id"].as_i64().expect("slot"));
    body["citizen"]["email"] = "ayse.demir@example.org".into();
    body["email_consent"] = true.into();
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let booking: serde_json::Value = response.json().await.expect("json");

    // Act
    let pass = mail.run_once().await.expect("a pass");

    // Assert: refused, the reply kept for staff, the address not in the log.
    assert_eq!(pass.failed, 1, "{pass:?}");
    let details: serde_json::Value =
        app.get_booking(booking["id"].as_str().expect("id")).await.json().await.expect("json");
    let error = details["emails"][0]["last_error"].as_str().expect("the reply");
    assert!(error.contains("ayse.demir@example.org"), "staff see the server's reply: {error}");
    let text = String::from_utf8(log.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(text.contains("email not delivered") && text.contains("Recipient address rejected"), "{text}");
    assert!(!text.to_lowercase().contains("ayse.demir@example.org"), "no citizen address in the log:\n{text}");
}
