//! A browser-like client of the staff pages (cookies, CSRF token, no redirects followed), and
//! staff members with a known password.

use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use terminbuch::services::directory::{self, StaffInput, StaffRole};

use crate::helpers::TestApp;

/// The password of every member made by [`add_member`].
pub const PASSWORD: &str = "richtig-pferd-batterie-42";

/// Adds a staff member with [`PASSWORD`] (`role` as in `terminbuch user add`).
pub async fn add_member(app: &TestApp, login: &str, role: &str, unit: Option<&str>) {
    let input = StaffInput {
        login: login.to_owned(),
        display_name: format!("{login} Test"),
        email: None,
        languages: vec![terminbuch::domain::language::Language::GERMAN],
        role: StaffRole::parse(role).expect("known role"),
        unit: unit.map(str::to_owned),
        password: Some(PASSWORD.to_owned()),
    };
    directory::add_staff(&app.db, &app.clock, input).await.expect("add staff");
}

/// One visitor of the pages with a session of their own.
pub struct WebClient {
    pub client: reqwest::Client,
    address: String,
    csrf: String,
}

impl WebClient {
    /// Opens the login page (a session and its CSRF token).
    pub async fn open(app: &TestApp) -> Self {
        Self::open_at(&app.address).await
    }

    /// Opens the login page of the server at `address`.
    pub async fn open_at(address: &str) -> Self {
        let client = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client");
        let mut web = Self { client, address: address.to_owned(), csrf: String::new() };
        web.csrf = web.csrf_of("/login").await;
        web
    }

    /// Opens the login page of `app` in a browser whose login cookie holds `device` (as a browser
    /// that was given it, or one whose cookie was made up).
    pub async fn open_with_device_cookie(app: &TestApp, device: &str) -> Self {
        let jar = reqwest::cookie::Jar::default();
        let url: reqwest::Url = app.address.parse().expect("the server's address");
        jar.add_cookie_str(&format!("terminbuch_device={device}; Path=/login"), &url);
        let client = reqwest::Client::builder()
            .cookie_provider(std::sync::Arc::new(jar))
            .redirect(Policy::none())
            .build()
            .expect("client");
        let mut web = Self { client, address: app.address.clone(), csrf: String::new() };
        web.csrf = web.csrf_of("/login").await;
        web
    }

    /// Takes the CSRF token of the login page again (after a login, which starts a new session).
    pub async fn reopen(&mut self) {
        self.csrf = self.csrf_of("/login").await;
    }

    /// The CSRF token in the page at `path`.
    pub async fn csrf_of(&self, path: &str) -> String {
        let response = self.get(path).await;
        let status = response.status();
        let html = response.text().await.expect("page");
        let Some(at) = html.find("name=\"csrf\" value=\"") else {
            panic!("no csrf field in {path} ({status}): {}", html.chars().take(300).collect::<String>());
        };
        let start = at + 19;
        html[start..].split('"').next().expect("token").to_owned()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request")
    }

    /// Posts the login form, as from `forwarded_for` (an `X-Forwarded-For` header) when given.
    pub async fn log_in(&self, login: &str, password: &str, forwarded_for: Option<&str>) -> Attempt {
        Attempt::of(self.log_in_answer(login, password, forwarded_for).await).await
    }

    /// Posts the login form as [`Self::log_in`] does, and returns the answer itself.
    pub async fn log_in_answer(&self, login: &str, password: &str, forwarded_for: Option<&str>) -> Response {
        let mut request = self.client.post(format!("{}/login", self.address)).form(&[
            ("csrf", self.csrf.as_str()),
            ("login", login),
            ("password", password),
        ]);
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        request.send().await.expect("login request")
    }

    /// Posts the login form as [`Self::log_in`] does, with `cookie` in a `Cookie` header of its
    /// own beside the form's cookie (copies of a cookie a sibling subdomain planted).
    pub async fn log_in_with_cookie(&self, login: &str, forwarded_for: &str, cookie: &str) -> Attempt {
        let request = self
            .client
            .post(format!("{}/login", self.address))
            .form(&[("csrf", self.csrf.as_str()), ("login", login), ("password", PASSWORD)])
            .header("x-forwarded-for", forwarded_for)
            .header("cookie", format!("terminbuch_form={}; {cookie}", self.csrf));
        Attempt::of(request.send().await.expect("login request")).await
    }

    /// Logs in (which must succeed) and takes the new session's CSRF token.
    pub async fn logged_in(app: &TestApp, login: &str) -> Self {
        let mut web = Self::open(app).await;
        assert_eq!(web.log_in(login, PASSWORD, None).await, Attempt::LoggedIn, "{login} logs in");
        web.csrf = web.csrf_of("/book").await;
        web
    }

    /// Posts `encoded` (url-encoded fields, as typed, after the session's CSRF token) as a form.
    pub async fn post_encoded(&self, path: &str, encoded: &str) -> Response {
        let body = format!("csrf={}&{encoded}", self.csrf);
        let request = self.client.post(format!("{}{path}", self.address));
        request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("form request")
    }

    /// Posts a form of the pages with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client.post(format!("{}{path}", self.address)).form(&form).send().await.expect("form request")
    }
}

/// What the login page answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    LoggedIn,
    Wrong,
    Throttled,
    /// Anything else: the status and the start of the body.
    Other(StatusCode, String),
}

impl Attempt {
    async fn of(response: Response) -> Self {
        let status = response.status();
        if status == StatusCode::SEE_OTHER {
            return Self::LoggedIn;
        }
        // A refusal by the throttle says how long to wait (`Retry-After`, whole seconds).
        let waits = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|secs| secs >= 1));
        let body = response.text().await.unwrap_or_default();
        match status {
            StatusCode::UNPROCESSABLE_ENTITY if body.contains("Kennung oder Passwort ist falsch") => Self::Wrong,
            StatusCode::TOO_MANY_REQUESTS if waits && body.contains("Zu viele Fehlversuche") => Self::Throttled,
            _ => Self::Other(status, body.chars().take(300).collect()),
        }
    }
}
