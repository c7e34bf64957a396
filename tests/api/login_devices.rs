//! Browsers in which a person logged in before, on both engines: a login attempt from such a
//! browser for its person counts against the browser's own throttle key, so a stranger guessing
//! behind the office's shared address (or at the login from elsewhere) does not hold back the
//! colleagues who logged in there before; the browser's cookie helps no one else, and guesses
//! made with it lock that browser alone.

use reqwest::Response;
use terminbuch::config::TrustedProxies;

use crate::helpers::{TestApp, default_now, spawn_app_with};
use crate::web::{Attempt, PASSWORD, WebClient, add_member};

/// The office's one address to the outside (a shared NAT), as the reverse proxy forwards it.
const OFFICE: Option<&str> = Some("203.0.113.7");

/// A server behind a reverse proxy on loopback, with the colleagues `mueller` and `schulz`.
async fn office() -> TestApp {
    let app = spawn_app_with(default_now(), |settings| {
        settings.trusted_proxies = TrustedProxies::parse("127.0.0.1").expect("trusted proxy");
    })
    .await;
    add_member(&app, "mueller", "front_desk", Some("ads")).await;
    add_member(&app, "schulz", "front_desk", Some("ads")).await;
    app
}

/// A stranger in the office tries one password against 20 logins: the address is held back.
async fn spray_from_the_office(app: &TestApp) {
    let stranger = WebClient::open(app).await;
    for n in 0..20 {
        assert_eq!(stranger.log_in(&format!("kollege{n}"), "Sommer2026!", OFFICE).await, Attempt::Wrong, "login {n}");
    }
    let new_browser = WebClient::open(app).await;
    assert_eq!(new_browser.log_in("mueller", PASSWORD, OFFICE).await, Attempt::Throttled, "the address is held back");
    let held = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'login_throttled' \
                AND detail LIKE '%\"held_by\":\"address\"%'";
    assert_eq!(app.count(held).await, 1, "the audit says the address's failures held it");
}

/// The login cookie a response sets, with its attributes.
fn device_cookie_set(response: &Response) -> Option<String> {
    crate::web_client::set_cookie(response, "terminbuch_device")
}

/// `mueller`'s browser after a login in it (from the office).
async fn muellers_browser(app: &TestApp) -> WebClient {
    muellers_browser_and_token(app).await.0
}

/// `mueller`'s browser after a login in it, and the token its cookie holds.
async fn muellers_browser_and_token(app: &TestApp) -> (WebClient, String) {
    let mut browser = WebClient::open(app).await;
    let response = browser.log_in_answer("mueller", PASSWORD, OFFICE).await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "logged in");
    let cookie = device_cookie_set(&response).expect("a login cookie");
    let token = cookie.trim_start_matches("terminbuch_device=").split(';').next().expect("value").to_owned();
    browser.reopen().await;
    (browser, token)
}

#[tokio::test]
async fn a_completed_login_gives_the_browser_a_cookie_only_for_the_login_pages() {
    // Arrange
    let app = office().await;
    let browser = WebClient::open(&app).await;

    // Act
    let response = browser.log_in_answer("mueller", PASSWORD, OFFICE).await;

    // Assert: a random token, sent only to the login's pages, not readable by scripts, kept 90
    // days; stored only as its digest.
    let cookie = device_cookie_set(&response).expect("a login cookie");
    let token = cookie.trim_start_matches("terminbuch_device=").split(';').next().expect("value").to_owned();
    assert_eq!(token.len(), 32, "{cookie}");
    for attribute in ["Path=/login", "HttpOnly", "SameSite=Strict", "Max-Age=7776000"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let stored = app.count("SELECT COUNT(*) AS n FROM login_devices").await;
    assert_eq!(stored, 1, "one browser stored");
    let clear = app.count(&format!("SELECT COUNT(*) AS n FROM login_devices WHERE digest = '{token}'")).await;
    assert_eq!(clear, 0, "the token itself is stored nowhere");
    let wrong = WebClient::open(&app).await.log_in_answer("schulz", "falsch", OFFICE).await;
    assert_eq!(device_cookie_set(&wrong), None, "a failed login gives no cookie");
}

#[tokio::test]
async fn a_colleague_who_logged_in_in_this_browser_before_gets_in_while_the_office_address_is_held_back() {
    // Arrange
    let app = office().await;
    let browser = muellers_browser(&app).await;

    // Act
    spray_from_the_office(&app).await;

    // Assert
    assert_eq!(browser.log_in("mueller", PASSWORD, OFFICE).await, Attempt::LoggedIn, "in the known browser");
}

#[tokio::test]
async fn a_browser_known_for_one_colleague_is_no_help_for_another() {
    // Arrange: schulz sits at mueller's computer.
    let app = office().await;
    let browser = muellers_browser(&app).await;
    spray_from_the_office(&app).await;

    // Act
    let other = browser.log_in("schulz", PASSWORD, OFFICE).await;

    // Assert
    assert_eq!(other, Attempt::Throttled, "the cookie is mueller's alone");
}

#[tokio::test]
async fn a_made_up_cookie_is_no_known_browser() {
    // Arrange
    let app = office().await;
    let _ = muellers_browser(&app).await;
    spray_from_the_office(&app).await;
    let forged = WebClient::open_with_device_cookie(&app, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;

    // Act
    let attempt = forged.log_in("mueller", PASSWORD, OFFICE).await;

    // Assert
    assert_eq!(attempt, Attempt::Throttled);
}

#[tokio::test]
async fn guesses_in_a_known_browser_hold_back_that_browser_alone() {
    // Arrange: mueller's browser is left unlocked in the office.
    let app = office().await;
    let browser = muellers_browser(&app).await;

    // Act: a passer-by guesses mueller's password in it.
    for n in 1..=5 {
        assert_eq!(browser.log_in("mueller", "falsch", OFFICE).await, Attempt::Wrong, "guess {n}");
    }

    // Assert: that browser is held back for mueller; the office's address and mueller's login
    // elsewhere are not (the guesses counted against the browser only).
    assert_eq!(browser.log_in("mueller", PASSWORD, OFFICE).await, Attempt::Throttled, "the browser");
    let held = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'login_throttled' \
                AND detail LIKE '%\"held_by\":\"device\"%'";
    assert_eq!(app.count(held).await, 1, "the audit says the browser's guesses held it");
    let elsewhere = WebClient::open(&app).await;
    assert_eq!(elsewhere.log_in("mueller", PASSWORD, Some("198.51.100.4")).await, Attempt::LoggedIn, "elsewhere");
    for n in 0..19 {
        let other = WebClient::open(&app).await;
        assert_eq!(other.log_in(&format!("kollege{n}"), "x", OFFICE).await, Attempt::Wrong, "login {n}");
    }
    let colleague = WebClient::open(&app).await;
    assert_eq!(colleague.log_in("schulz", PASSWORD, OFFICE).await, Attempt::LoggedIn, "19 + 0 from the address");
}

#[tokio::test]
async fn colleagues_sharing_a_computer_each_keep_their_browser() {
    // Arrange: mueller, then schulz log in at one computer.
    let app = office().await;
    let mut browser = muellers_browser(&app).await;
    assert_eq!(browser.log_in("schulz", PASSWORD, OFFICE).await, Attempt::LoggedIn);
    browser.reopen().await;

    // Act
    spray_from_the_office(&app).await;

    // Assert
    assert_eq!(browser.log_in("mueller", PASSWORD, OFFICE).await, Attempt::LoggedIn, "mueller");
    browser.reopen().await;
    assert_eq!(browser.log_in("schulz", PASSWORD, OFFICE).await, Attempt::LoggedIn, "schulz");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM login_devices").await, 2, "one row each");
}

#[tokio::test]
async fn a_deactivated_persons_browsers_are_forgotten() {
    // Arrange
    let app = office().await;
    let _ = muellers_browser(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM login_devices").await, 1);

    // Act
    let response = app.post_as(&app.admin_token, "/api/v1/staff/mueller/deactivate", &serde_json::json!({})).await;

    // Assert
    assert!(response.status().is_success(), "deactivated: {}", response.status());
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM login_devices").await, 0);
}

#[tokio::test]
async fn with_a_second_factor_the_browser_is_known_only_after_the_code() {
    use crate::web_client::{Desk, enrol, location, totp_code};
    // Arrange: an admin with a second factor.
    let app = office().await;
    app.add_person("verwaltung", "admin", None).await;
    let first = Desk::new(&app.address);
    assert_eq!(location(&first.log_in("verwaltung", crate::web_client::PASSWORD).await), "/");
    let (secret, _) = enrol(&app, &first).await;
    let before = app.count("SELECT COUNT(*) AS n FROM login_devices").await;

    // Act
    let desk = Desk::new(&app.address);
    let password = desk.log_in("verwaltung", crate::web_client::PASSWORD).await;
    let password_cookie = device_cookie_set(&password);
    let stored_after_password = app.count("SELECT COUNT(*) AS n FROM login_devices").await;
    // The next code (the enrolment's is used up).
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let code = totp_code(&secret, app.unix_now());
    let response = desk.submit("/login/code", "/login/code", &[("code", &code)]).await;

    // Assert
    assert_eq!(location(&password), "/login/code");
    assert_eq!(password_cookie, None, "the right password alone makes no known browser");
    assert_eq!(stored_after_password, before);
    assert_eq!(location(&response), "/", "logged in");
    assert!(device_cookie_set(&response).is_some(), "known after the code");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM login_devices").await, before + 1);
}

/// A sibling subdomain plants a second login cookie of the same name (a browser sends both): the
/// colleague's own token still counts, whichever copy comes first.
#[tokio::test]
async fn a_planted_copy_of_the_cookie_does_not_hide_the_browsers_own() {
    // Arrange
    let app = office().await;
    let (_, token) = muellers_browser_and_token(&app).await;
    spray_from_the_office(&app).await;
    let planted = "terminbuch_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    for cookie in [format!("{planted}; terminbuch_device={token}"), format!("terminbuch_device={token}; {planted}")] {
        // Act
        let attempt = WebClient::open(&app).await.log_in_with_cookie("mueller", "203.0.113.7", &cookie).await;

        // Assert
        assert_eq!(attempt, Attempt::LoggedIn, "{cookie}");
    }
}

/// A login with a password the person did not choose (or one from before a deactivation) makes
/// no known browser: the browser becomes theirs at the first login with their own password.
#[tokio::test]
async fn a_login_that_must_choose_a_new_password_makes_no_known_browser() {
    // Arrange: mueller was away and is back.
    let app = office().await;
    let admin = &app.admin_token;
    let none = serde_json::json!({});
    assert!(app.post_as(admin, "/api/v1/staff/mueller/deactivate", &none).await.status().is_success());
    assert!(app.post_as(admin, "/api/v1/staff/mueller/activate", &none).await.status().is_success());

    // Act
    let response = WebClient::open(&app).await.log_in_answer("mueller", PASSWORD, OFFICE).await;

    // Assert
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "logged in, a new password next");
    assert_eq!(device_cookie_set(&response), None, "no known browser yet");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM login_devices").await, 0);
}
