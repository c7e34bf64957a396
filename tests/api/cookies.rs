//! The names and attributes of the desk's cookies: with `Secure` the session cookie and the
//! anonymous forms' cookie carry the `__Host-` prefix (so a sibling subdomain cannot plant them),
//! the login cookie of a known browser the `__Secure-` prefix; over plain HTTP to loopback the
//! names without it.

use reqwest::StatusCode;

use crate::helpers::{TestApp, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, csrf_of, location, set_cookie};

async fn app_with_secure_cookies(secure: bool) -> TestApp {
    let app = spawn_app_with(default_now(), |s| s.secure_cookies_setting = Some(secure)).await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    app
}

#[tokio::test]
async fn secure_cookies_are_named_with_the_host_prefix_and_a_login_works_with_them() {
    // Arrange
    let app = app_with_secure_cookies(true).await;
    let desk = Desk::new(&app.address);

    // Act
    let form = desk.get("/login").await;
    let login = desk.log_in("empfang", PASSWORD).await;

    // Assert: both cookies are __Host- cookies (Secure, Path=/, no Domain) and come back.
    let form_cookie = set_cookie(&form, "__Host-terminbuch_form").expect("the form's cookie");
    let session_cookie = set_cookie(&login, "__Host-terminbuch_session").expect("the session cookie");
    for cookie in [&form_cookie, &session_cookie] {
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("; Path=/;") || cookie.ends_with("; Path=/"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    assert_eq!(set_cookie(&form, "terminbuch_form"), None, "no cookie without the prefix");
    let device = set_cookie(&login, "__Secure-terminbuch_device").expect("the login cookie, prefixed");
    assert!(device.contains("; Secure") && device.contains("Path=/login"), "{device}");
    assert_eq!(set_cookie(&login, "terminbuch_device"), None, "no login cookie without the prefix");
    assert_eq!(location(&login), "/", "the form's cookie was sent back and accepted");
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK, "the session cookie was sent back");
}

#[tokio::test]
async fn with_secure_cookies_a_form_token_planted_without_the_prefix_is_refused() {
    // Arrange: a cookie a sibling subdomain could set (no prefix), and the form repeating it.
    let app = app_with_secure_cookies(true).await;
    let (_, page) = Desk::new(&app.address).text("/login").await;
    let token = csrf_of(&page);

    // Act
    let response = reqwest::Client::new()
        .post(format!("{}/login", app.address))
        .header("cookie", format!("terminbuch_form={token}"))
        .form(&[("csrf", token.as_str()), ("login", "empfang"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login request");

    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn over_plain_http_to_loopback_the_cookies_keep_names_without_the_prefix() {
    // Arrange
    let app = app_with_secure_cookies(false).await;
    let desk = Desk::new(&app.address);

    // Act
    let form = desk.get("/login").await;
    let login = desk.log_in("empfang", PASSWORD).await;

    // Assert
    let form_cookie = set_cookie(&form, "terminbuch_form").expect("the form's cookie");
    let session_cookie = set_cookie(&login, "terminbuch_session").expect("the session cookie");
    for cookie in [&form_cookie, &session_cookie] {
        assert!(!cookie.contains("Secure"), "{cookie}");
    }
    assert_eq!(location(&login), "/");
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK);
}

/// Reached through HTTPS (the public URL says so), every page, the staff's and the citizens',
/// tells the browser to come back only through HTTPS; over plain HTTP to loopback nothing does.
#[tokio::test]
async fn pages_served_through_https_tell_the_browser_to_keep_to_https() {
    let https = spawn_app_with(default_now(), |s| s.public_url = Some("https://termine.example".to_owned())).await;
    let plain = spawn_app_with(default_now(), |_| {}).await;
    for path in ["/login", "/t/AAAAAAAAAAAAAAAAAAAAAAAA", "/static/terminbuch.css"] {
        let answer = Desk::new(&https.address).get(path).await;
        let hsts = answer.headers().get(reqwest::header::STRICT_TRANSPORT_SECURITY);
        assert_eq!(hsts.and_then(|v| v.to_str().ok()), Some("max-age=31536000"), "{path}");
        let answer = Desk::new(&plain.address).get(path).await;
        assert!(answer.headers().get(reqwest::header::STRICT_TRANSPORT_SECURITY).is_none(), "{path} over http");
    }
}

/// The session is stored under the digest of its cookie's value, never the value itself: whoever
/// reads the database or a backup finds no id a browser could present.
#[tokio::test]
async fn the_session_cookie_is_stored_only_as_its_digest() {
    use sha2::{Digest, Sha256};
    let app = app_with_secure_cookies(false).await;
    let login = Desk::new(&app.address).log_in("empfang", PASSWORD).await;
    let cookie = set_cookie(&login, "terminbuch_session").expect("the session cookie");
    let value = cookie.split(';').next().and_then(|pair| pair.split_once('=')).map(|(_, v)| v).expect("a value");
    let digest = hex::encode(Sha256::digest(value.as_bytes()));
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM sessions WHERE id = '{value}'")).await, 0);
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM sessions WHERE id = '{digest}'")).await, 1);
}
