//! A cookie-keeping HTTP client for the staff desk's pages (no redirects followed), the account
//! helpers the accounts tests share, and TOTP codes computed from a shared secret as an app does.

use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::helpers::TestApp;

/// A chosen password that passes the rules.
pub const PASSWORD: &str = "Kastanienallee im Herbstlaub";

/// One browser's worth of cookies.
#[derive(Clone)]
pub struct Desk {
    client: reqwest::Client,
    base: String,
}

/// The `csrf` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..].split('"').next().expect("token").to_owned()
}

/// The value of the hidden field `name` of a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("a {name} field")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

/// The text of the element with `id` (up to its first tag), e.g. `<code id="secret">X</code>`.
pub fn text_of_id(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} in the page"));
    let after = &html[start..];
    let open_end = after.find('>').expect("end of the tag") + 1;
    after[open_end..].split('<').next().expect("text").trim().to_owned()
}

impl Desk {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { client, base: base.to_owned() }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("page request")
    }

    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.expect("page body"))
    }

    /// Opens `page`, then posts `fields` with its CSRF token to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let (_, html) = self.text(page).await;
        self.post(&csrf_of(&html), action, fields).await
    }

    /// Posts `fields` with the CSRF token `csrf` (of a page opened before) to `action`.
    pub async fn post(&self, csrf: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
        form.extend_from_slice(fields);
        self.client.post(format!("{}{action}", self.base)).form(&form).send().await.expect("form request")
    }

    /// Posts the login form; returns the answer (a redirect when the password was right).
    pub async fn log_in(&self, login: &str, password: &str) -> Response {
        self.submit("/login", "/login", &[("login", login), ("password", password)]).await
    }

    /// Where a redirect leads (empty when the answer is no redirect).
    pub async fn location(&self, path: &str) -> String {
        location(&self.get(path).await)
    }

    /// The session cookie's value as the server last set it.
    pub async fn session_id(&self, response: &Response) -> Option<String> {
        set_cookie(response, "terminbuch_session")
            .map(|v| v.trim_start_matches("terminbuch_session=").split(';').next().unwrap_or_default().to_owned())
    }
}

/// The `Set-Cookie` header of `response` for the cookie `name`, whole (value and attributes).
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .map(str::to_owned)
}

/// The `Location` of a redirect, or an empty string.
pub fn location(response: &Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The current TOTP code of `secret` at `unix_seconds`, as an authenticator app computes it.
pub fn totp_code(secret: &str, unix_seconds: i64) -> String {
    let bytes = Secret::try_from_base32(secret).expect("a base32 secret").as_bytes().to_vec();
    let totp = Builder::new().with_secret(bytes).build().expect("a TOTP");
    totp.generate(u64::try_from(unix_seconds).expect("after 1970")).to_string()
}

impl TestApp {
    /// Adds a person with a role (and unit) and the password they chose, through the API.
    pub async fn add_person(&self, login: &str, role: &str, unit: Option<&str>) -> Value {
        let body = json!({ "login": login, "name": format!("{login} Test"), "role": role, "unit": unit, "password": PASSWORD });
        let response = self.post_as(&self.admin_token, "/api/v1/staff", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "adding {login}");
        response.json().await.expect("json")
    }

    /// A number from a `SELECT COUNT(*) AS n …`.
    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql.to_owned()))
            .await
            .expect("query")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("a count")
    }

    /// The audit entries with `action` about staff `login`.
    pub async fn audited(&self, action: &str, login: &str) -> i64 {
        self.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events a JOIN staff s ON a.target = 'staff:' || CAST(s.id AS TEXT) \
             WHERE a.action = '{action}' AND s.login = '{login}'"
        ))
        .await
    }

    /// The app clock's now in Unix seconds.
    pub fn unix_now(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

/// Enrols a second factor for the logged-in `desk` through the pages; returns the secret and the
/// recovery codes.
pub async fn enrol(app: &TestApp, desk: &Desk) -> (String, Vec<String>) {
    let (status, html) = desk.text("/account/mfa").await;
    assert_eq!(status, StatusCode::OK, "the enrolment page");
    assert!(html.contains("<svg"), "the QR code is inline SVG");
    let secret = text_of_id(&html, "secret");
    let code = totp_code(&secret, app.unix_now());
    let response = desk.submit("/account/mfa", "/account/mfa", &[("code", &code)]).await;
    assert_eq!(response.status(), StatusCode::OK, "enrolled");
    let html = response.text().await.expect("body");
    let codes: Vec<String> =
        html.split("<li><code>").skip(1).map(|part| part.split('<').next().expect("code").to_owned()).collect();
    assert_eq!(codes.len(), 10, "ten recovery codes");
    (secret, codes)
}
