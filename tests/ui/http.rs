//! Sessions, CSRF and security headers, checked through HTTP with a cookie-keeping client.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::app::{LOGIN, PASSWORD, UiApp, spawn};

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client")
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..].split('"').next().expect("token").to_owned()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("terminbuch_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

async fn login_page(app: &UiApp, client: &reqwest::Client) -> (Option<String>, String) {
    let response = client.get(format!("{}/login", app.address)).send().await.expect("login page");
    let cookie = session_cookie(&response);
    (cookie, csrf_of(&response.text().await.expect("body")))
}

async fn log_in(app: &UiApp, client: &reqwest::Client) -> reqwest::Response {
    let (_, csrf) = login_page(app, client).await;
    client
        .post(format!("{}/login", app.address))
        .form(&[("csrf", csrf.as_str()), ("login", LOGIN), ("password", PASSWORD)])
        .send()
        .await
        .expect("login")
}

#[tokio::test]
async fn start_page_without_session_redirects_to_login() {
    let app = spawn().await;
    let response = client().get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn().await;
    let client = client();
    log_in(&app, &client).await;
    for path in ["/login", "/book", "/bookings", "/day"] {
        let response = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
}

fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .unwrap_or_else(|| panic!("a {name} cookie is set"))
        .to_owned()
}

#[tokio::test]
async fn cookies_are_http_only_and_secure_unless_served_over_plain_http_on_loopback() {
    let app = spawn().await;
    let form = client().get(format!("{}/login", app.address)).send().await.unwrap();
    let raw = set_cookie(&form, "terminbuch_form");
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Strict"), "the login form's token: {raw}");
    assert!(!raw.contains("Secure"), "plain HTTP on loopback: no Secure, or the browser would drop it: {raw}");
    let raw = set_cookie(&log_in(&app, &client()).await, "terminbuch_session");
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Lax"), "{raw}");
    assert!(!raw.contains("Secure"), "{raw}");
    let behind_tls = crate::app::spawn_with(|s| s.public_url = Some("https://termine.hannover.example".into())).await;
    let response = client().get(format!("{}/login", behind_tls.address)).send().await.unwrap();
    // With Secure cookies the names carry the `__Host-` prefix (Path=/, no Domain).
    let raw = set_cookie(&response, "__Host-terminbuch_form");
    assert!(raw.contains("Secure") && raw.contains("HttpOnly"), "people come through HTTPS: {raw}");
    assert!(raw.contains("Path=/") && !raw.contains("Domain"), "{raw}");
}

#[tokio::test]
async fn the_session_id_changes_at_login() {
    let app = spawn().await;
    let client = client();
    let (before, csrf) = login_page(&app, &client).await;
    let response = client
        .post(format!("{}/login", app.address))
        .form(&[("csrf", csrf.as_str()), ("login", LOGIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = session_cookie(&response).expect("a new session cookie");
    assert_ne!(Some(after), before);
}

#[tokio::test]
async fn logout_invalidates_the_session_on_the_server() {
    let app = spawn().await;
    let client = client();
    let cookie = session_cookie(&log_in(&app, &client).await).expect("session cookie");
    let page = client.get(format!("{}/book", app.address)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let response =
        client.post(format!("{}/logout", app.address)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // Replaying the old cookie must not work any more.
    let replay = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let response = replay.get(format!("{}/book", app.address)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn posts_without_or_with_a_wrong_csrf_token_are_refused() {
    let app = spawn().await;
    let client = client();
    log_in(&app, &client).await;
    for (case, form) in [
        ("no token", vec![("slot", "1"), ("name", "Forged")]),
        ("wrong token", vec![("csrf", "not-the-token"), ("slot", "1"), ("name", "Forged")]),
    ] {
        let response = client.post(format!("{}/book", app.address)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
    }
    let login = reqwest::Client::new()
        .post(format!("{}/login", app.address))
        .form(&[("login", LOGIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN, "login without token");
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_even_with_the_right_password() {
    let app = spawn().await;
    let client = client();
    for _ in 0..5 {
        let (_, csrf) = login_page(&app, &client).await;
        let body = client
            .post(format!("{}/login", app.address))
            .form(&[("csrf", csrf.as_str()), ("login", LOGIN), ("password", "falsch")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Kennung oder Passwort ist falsch"));
    }
    let (_, csrf) = login_page(&app, &client).await;
    let response = client
        .post(format!("{}/login", app.address))
        .form(&[("csrf", csrf.as_str()), ("login", LOGIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "no redirect: still on the login page");
    assert!(response.headers().contains_key("retry-after"), "says how long to wait");
    assert!(response.text().await.unwrap().contains("Zu viele Fehlversuche"));
}

/// Rewrites the stored session behind `cookie` (`terminbuch_session=ID`): its values with
/// `change`, and its expiry when `expires_at` is given.
/// The key the session of `cookie` is stored under: the digest of its id, never the id.
fn stored_key(cookie: &str) -> String {
    use sha2::{Digest, Sha256};
    let id = cookie.trim_start_matches("terminbuch_session=");
    hex::encode(Sha256::digest(id.as_bytes()))
}

async fn change_stored_session(
    app: &UiApp,
    cookie: &str,
    change: impl FnOnce(&mut serde_json::Value),
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
    let row = entity::session::Entity::find_by_id(stored_key(cookie)).one(&app.db).await.expect("query");
    let row = row.expect("the session is stored");
    let mut data: serde_json::Value = serde_json::from_str(&row.data).expect("json");
    change(&mut data);
    let expires_at = expires_at.unwrap_or(row.expires_at);
    let mut update = row.into_active_model();
    update.data = Set(data.to_string());
    update.expires_at = Set(expires_at);
    update.update(&app.db).await.expect("update the session");
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes() {
    let app = spawn().await;
    let client = client();
    let cookie = session_cookie(&log_in(&app, &client).await).expect("session cookie");
    assert_eq!(client.get(format!("{}/book", app.address)).send().await.unwrap().status(), StatusCode::OK);
    // The last request was 31 minutes ago: the expiry it set lies a minute in the past.
    let expired = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    change_stored_session(&app, &cookie, |_| {}, Some(expired)).await;
    let response = client.get(format!("{}/book", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn a_session_ends_ten_hours_after_login_even_when_in_use() {
    let app = spawn().await;
    let client = client();
    let cookie = session_cookie(&log_in(&app, &client).await).expect("session cookie");
    assert_eq!(client.get(format!("{}/book", app.address)).send().await.unwrap().status(), StatusCode::OK);
    // Logged in ten hours and a minute ago, active until now.
    let at = (chrono::Utc::now() - chrono::TimeDelta::minutes(10 * 60 + 1)).timestamp();
    change_stored_session(&app, &cookie, |data| data["login"]["at"] = serde_json::json!(at), None).await;
    let response = client.get(format!("{}/book", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
}

/// A login past its ten hours ends also when only visitors' pages are opened (the login page, the
/// language switch): those move the row's expiry on, and the row, with the desk's last searches,
/// would otherwise outlive the limit.
#[tokio::test]
async fn a_login_past_ten_hours_ends_on_a_visitors_page_too_and_its_row_goes() {
    use sea_orm::EntityTrait;
    let app = spawn().await;
    let client = client();
    let cookie = session_cookie(&log_in(&app, &client).await).expect("session cookie");
    let at = (chrono::Utc::now() - chrono::TimeDelta::minutes(10 * 60 + 1)).timestamp();
    change_stored_session(&app, &cookie, |data| data["login"]["at"] = serde_json::json!(at), None).await;

    let login_page = client.get(format!("{}/login", app.address)).send().await.expect("login page");

    assert_eq!(login_page.status(), StatusCode::OK);
    let row = entity::session::Entity::find_by_id(stored_key(&cookie)).one(&app.db).await.expect("query");
    assert!(row.is_none(), "the ended login's row is deleted");
    let desk = client.get(format!("{}/book", app.address)).send().await.expect("desk");
    assert_eq!(desk.headers()["location"], "/login", "and the desk asks for a login");
}

/// A form sent after the session ended (logged out elsewhere, timed out while the caller talked)
/// leads to the login page, which says that nothing was saved; a page opened without a session
/// leads there without that.
#[tokio::test]
async fn a_form_sent_after_the_session_ended_is_told_on_the_login_page() {
    let app = spawn().await;
    let client = client();
    log_in(&app, &client).await;
    let page = client.get(format!("{}/book", app.address)).send().await.expect("book").text().await.expect("page");
    let csrf = csrf_of(&page);
    let other = client.post(format!("{}/logout", app.address)).form(&[("csrf", csrf.as_str())]).send().await;
    assert_eq!(other.expect("logged out").status(), StatusCode::SEE_OTHER, "the session ends");

    let form = [("csrf", csrf.as_str()), ("unit", "ads"), ("name", "Frau Verloren")];
    let sent = client.post(format!("{}/book", app.address)).form(&form).send().await.expect("sent");

    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    assert_eq!(sent.headers()["location"], "/login?expired=1");
    let login = client.get(format!("{}/login?expired=1", app.address)).send().await.expect("login");
    let text = login.text().await.expect("page");
    assert!(text.contains("id=\"session-ended\"") && text.contains("wurde nicht gespeichert"), "{text}");
    let opened = client.get(format!("{}/book", app.address)).send().await.expect("opened");
    assert_eq!(opened.headers()["location"], "/login", "a page opened anew is no lost form");
    let plain = client.get(format!("{}/login", app.address)).send().await.expect("login").text().await.expect("page");
    assert!(!plain.contains("id=\"session-ended\""));
}

/// The read-back says when the confirmation goes out in German because there are no emails in
/// the caller's language (Polish), and says nothing more where there are (Turkish).
#[tokio::test]
async fn the_read_back_says_when_the_email_is_in_german_which_interpreter_is_arranged_and_the_needs_noted() {
    let app = spawn().await;
    let client = client();
    log_in(&app, &client).await;
    let finder = client.get(format!("{}/book?unit=ads", app.address)).send().await.expect("finder");
    let finder = finder.text().await.expect("page");
    let csrf = csrf_of(&finder);
    let slots: Vec<&str> =
        finder.split("/book/details?slot=").skip(1).map(|s| s.split(['"', '&']).next().expect("id")).collect();
    let cases = [
        (slots[0], "pl", true, "s-pl-000000000000000000", "", ""),
        (slots[1], "tr", false, "s-tr-000000000000000000", "ar", "Rollstuhl"),
    ];
    for (slot, language, in_german, submission, interpreter, access) in cases {
        let form = [
            ("csrf", csrf.as_str()),
            ("unit", "ads"),
            ("slot", slot),
            ("submission", submission),
            ("name", "Frau Sprache"),
            ("email", "sprache@example.org"),
            ("consent", "1"),
            ("language", language),
            ("interpreter", interpreter),
            ("access", access),
        ];
        let booked = client.post(format!("{}/book", app.address)).form(&form).send().await.expect("booked");
        assert_eq!(booked.status(), StatusCode::SEE_OTHER, "{language}");
        let location = booked.headers()["location"].to_str().expect("a path").to_owned();
        let read_back = client.get(format!("{}{location}", app.address)).send().await.expect("read-back");
        let text = read_back.text().await.expect("page");
        assert_eq!(text.contains("id=\"mail-in-german\""), in_german, "{language}: said aloud");
        assert_eq!(text.contains("id=\"rb-mail-language\""), in_german, "{language}: in the facts");
        if in_german {
            assert!(text.contains("auf Deutsch</strong>") && text.contains("(Polnisch)"), "{text}");
        }
        assert!(!text.contains("id=\"rb-add-email\""), "{language}: an address was given");
        // The interpreter arranged is said aloud and listed; none, nothing.
        let said = "Eine Dolmetscherin oder ein Dolmetscher für Arabisch ist bestellt.";
        assert_eq!(text.contains(said), !interpreter.is_empty(), "{language}: {text}");
        assert_eq!(text.contains(r#"id="rb-interpreter">Arabisch</dd>"#), !interpreter.is_empty(), "{language}");
        // So are the accessibility needs noted (a need misheard is corrected on the phone).
        assert_eq!(text.contains("Wir haben notiert: Rollstuhl."), !access.is_empty(), "{language}: {text}");
        assert_eq!(text.contains(r#"id="rb-access">Rollstuhl</dd>"#), !access.is_empty(), "{language}");
    }
}
