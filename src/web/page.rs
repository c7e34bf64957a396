//! What every page needs: the visitor's language and CSRF token, the logged-in staff member
//! (extractors that send visitors without a valid session to the login page and people with a
//! step still due to that step), and the login's states in the session.
//!
//! No session row is written before a login succeeds: anonymous pages keep the language and
//! their form token in cookies (see `forms`), and the session is created when the password was
//! right (holding the step to the second factor) or the login complete.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use tower_cookies::{Cookie, Cookies};
use tower_sessions::Session;
use tower_sessions::cookie::SameSite;

use super::error::WebError;
use super::i18n::Lang;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::accounts::Gate;
use crate::domain::ids::StaffId;
use crate::domain::throttle::DEVICE_KEPT_FOR;
pub use crate::http::client_ip::ClientIp;
use crate::services::accounts;
use crate::services::auth::random_secret;
use crate::services::login::DeviceCookie;
use crate::state::AppState;

pub use super::forms::{AnonForm, CsrfForm};

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(30);
/// A session ends this long after login, however active.
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(10);
/// How long the step from a right password to the second factor may take.
pub const PENDING_TIMEOUT: TimeDelta = TimeDelta::minutes(10);

pub(super) const KEY_CSRF: &str = "csrf";
const KEY_LOGIN: &str = "login";
const KEY_PENDING: &str = "pending";
/// The secret of a second factor being enrolled, until it is confirmed.
pub(super) const KEY_ENROL: &str = "enrol";
const LANG_COOKIE: &str = "terminbuch_lang";
/// Paths whose next segment is a secret: a password reset link's token, a citizen's link.
const SECRET_PATHS: &[&str] = &["/reset/", "/t/"];

/// Who is logged in, stored in the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionLogin {
    pub staff_id: StaffId,
    /// Unix seconds of the login (real time, like the session expiry).
    pub at: i64,
    /// The person's session epoch at login; a later one (password changed, deactivated, second
    /// factor reset) ends this session. Sessions from before epochs existed carry 0.
    #[serde(default)]
    pub epoch: i32,
}

/// A right password whose second factor is still due, stored in the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub staff_id: StaffId,
    pub at: i64,
    pub epoch: i32,
}

/// The frame of every page: language, CSRF token, who is logged in.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Lang,
    pub csrf: String,
    pub user: Option<String>,
    pub title: String,
    /// The path, to come back to after switching the language.
    pub path: String,
    /// Shows the links to the unit leads' pages.
    pub lead: bool,
    /// Shows the link to one's own absences (someone who counsels).
    pub counsels: bool,
    /// Shows the links to the admins' pages.
    pub admin: bool,
    /// A step is due before the desk opens (no navigation but logout).
    pub gated: bool,
}

impl Page {
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::De => "en",
            Lang::En => "de",
        }
    }

    /// Whether the page's own path holds a secret (a reset link's token): its language switch
    /// then sends the path in a form's body, never in an address that proxies log and browsers
    /// keep in their history.
    pub fn path_is_secret(&self) -> bool {
        SECRET_PATHS.iter().any(|prefix| self.path.starts_with(prefix))
    }

    /// The same page with a title.
    pub fn titled(mut self, key: &str) -> Self {
        self.title = self.lang.t(key).to_owned();
        self
    }
}

/// A visitor, logged in or not; `page.csrf` is the anonymous forms' token (a cookie).
pub struct Visitor {
    pub session: Session,
    pub cookies: Cookies,
    pub page: Page,
}

/// A logged-in person, with a step possibly still due (for the pages of those steps).
pub struct SignedIn {
    pub actor: Actor,
    pub page: Page,
    pub session: Session,
    pub gate: Option<Gate>,
    /// The person's session epoch this session was checked against.
    pub epoch: i32,
}

/// A logged-in staff member with nothing due: the desk.
pub struct Staff {
    pub actor: Actor,
    pub page: Page,
}

/// A right password, the second factor still due.
pub struct Pending {
    pub session: Session,
    pub cookies: Cookies,
    pub login: PendingLogin,
    pub page: Page,
}

async fn session_of(parts: &mut Parts, state: &AppState) -> Result<Session, WebError> {
    Session::from_request_parts(parts, state).await.map_err(|(_, msg)| WebError::Internal(anyhow::anyhow!(msg)))
}

pub(super) fn cookies_of(parts: &Parts) -> Result<Cookies, WebError> {
    parts.extensions.get::<Cookies>().cloned().ok_or_else(|| WebError::Internal(anyhow::anyhow!("no cookie layer")))
}

/// A cookie of this site: whole site, HTTP only, `Secure` as the session cookie is.
pub(super) fn site_cookie(name: &'static str, value: String, state: &AppState, same_site: SameSite) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(same_site)
        .build()
}

fn lang_of(cookies: &Cookies) -> Lang {
    cookies.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())).unwrap_or_default()
}

/// The language the person chose, from a request's `Cookie` header itself (for answers made
/// outside the cookie layer).
pub(super) fn lang_of_cookie_header(header: Option<&axum::http::HeaderValue>) -> Lang {
    let text = header.and_then(|v| v.to_str().ok()).unwrap_or_default();
    Cookie::split_parse(text)
        .filter_map(Result::ok)
        .find(|c| c.name() == LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_default()
}

/// The values of every cookie named `name` in a request's `Cookie` headers, in their order (the
/// cookie layer's jar keeps one per name: a copy planted by a sibling subdomain could hide this
/// site's).
pub(super) fn cookie_values(headers: &axum::http::HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|header| Cookie::split_parse(header.to_owned()).filter_map(Result::ok))
        .filter(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .collect()
}

/// The language the person chose, from a request's extensions as the pages read it (the default
/// where the cookie layer is not in front).
pub(super) fn chosen_lang(extensions: &axum::http::Extensions) -> Lang {
    extensions.get::<Cookies>().map_or_else(Lang::default, lang_of)
}

/// Remembers the language in a cookie for a year (not in the session: no row for a visitor).
/// The browser's login cookie (`services::login::DeviceCookie`): sent only to the login's pages.
const DEVICE_COOKIE: &str = "terminbuch_device";
/// Its name when cookies are `Secure`: browsers take a `__Secure-` cookie only with `Secure`
/// (its path, `/login`, rules out the `__Host-` prefix).
const SECURE_DEVICE_COOKIE: &str = "__Secure-terminbuch_device";

fn device_cookie_name(state: &AppState) -> &'static str {
    super::cookie_name(state.settings.secure_cookies(), DEVICE_COOKIE, SECURE_DEVICE_COOKIE)
}

/// The login cookie the browser presented, every copy of it: a cookie of the same name planted
/// by a sibling subdomain (a `__Secure-` cookie may name a `Domain`) is sent beside this site's,
/// and must not hide it (the cookie jar would keep only one of them).
pub struct KnownBrowser(pub DeviceCookie);

impl FromRequestParts<AppState> for KnownBrowser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let values = cookie_values(&parts.headers, device_cookie_name(state));
        Ok(Self(DeviceCookie::parse_all(values.iter().map(String::as_str))))
    }
}

/// After a completed login of `staff_id`: the browser is remembered as theirs, and its login
/// cookie renewed (kept for [`DEVICE_KEPT_FOR`] after the last login in it); not while a new
/// password is still due.
///
/// # Errors
/// Database failures.
pub async fn remember_device(
    cookies: &Cookies,
    state: &AppState,
    staff_id: StaffId,
    presented: &DeviceCookie,
) -> Result<(), WebError> {
    let Some(cookie) = crate::services::login::remember_device(&state.db, &state.clock, staff_id, presented).await?
    else {
        return Ok(());
    };
    let mut cookie = site_cookie(device_cookie_name(state), cookie.value(), state, SameSite::Strict);
    cookie.set_path("/login");
    cookie.set_max_age(time::Duration::seconds(DEVICE_KEPT_FOR.num_seconds()));
    cookies.add(cookie);
    Ok(())
}

pub fn set_lang(cookies: &Cookies, state: &AppState, lang: Lang) {
    let mut cookie = site_cookie(LANG_COOKIE, lang.code().to_owned(), state, SameSite::Lax);
    cookie.set_max_age(time::Duration::days(365));
    cookies.add(cookie);
}

async fn session_csrf(session: &Session) -> Result<String, WebError> {
    match session.get::<String>(KEY_CSRF).await? {
        Some(token) => Ok(token),
        None => {
            let token = random_secret(32);
            session.insert(KEY_CSRF, &token).await?;
            Ok(token)
        }
    }
}

fn blank_page(lang: Lang, csrf: String, parts: &Parts) -> Page {
    Page {
        lang,
        csrf,
        user: None,
        title: String::new(),
        path: back_path(&parts.method, &parts.uri),
        lead: false,
        counsels: false,
        admin: false,
        gated: false,
    }
}

/// Where the language switch leads back to: the page itself for a GET (with its query, so
/// `/book/details?slot=…` stays that page), and for a form's answer a page that answers GET (a
/// POST route cannot be opened again by a link): the page the form belongs to (a booking's, a
/// unit's hours, a person's), else its section's page, and the start page for a path of no
/// section named here, so that a form added later leads to a page, never to a 405. A test checks
/// every POST route of the desk's sources against their GET routes.
fn back_path(method: &axum::http::Method, uri: &axum::http::Uri) -> String {
    if method == axum::http::Method::GET {
        return uri.path_and_query().map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    }
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["bookings", key, ..] => format!("/bookings/{key}"),
        ["hours", unit, ..] => format!("/hours?unit={unit}"),
        ["absences", ..] => "/absences".to_owned(),
        ["admin", "staff", login, ..] => format!("/admin/staff/{login}"),
        ["admin", "units", unit, "self-service"] => format!("/admin/units/{unit}/self-service"),
        ["admin", "locations", id] => format!("/admin/locations/{id}"),
        ["admin", section @ ("units" | "staff" | "locations"), ..] => format!("/admin/{section}"),
        ["account", ..] => "/account".to_owned(),
        ["callbacks", ..] => "/callbacks".to_owned(),
        ["me", "calendar", ..] => "/me/calendar".to_owned(),
        ["book", ..] => "/book".to_owned(),
        ["data-subject", ..] => "/data-subject".to_owned(),
        ["login", "code"] => "/login/code".to_owned(),
        ["login" | "logout", ..] => "/login".to_owned(),
        ["reset", token] => format!("/reset/{token}"),
        _ => "/".to_owned(),
    }
}

/// Whether `back` is a path on this site (not `//host`, `/\host` or a scheme), so the language
/// switch cannot be used to send someone elsewhere.
pub fn is_local_path(back: &str) -> bool {
    back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') && !back.chars().any(char::is_control)
}

fn now_secs() -> i64 {
    Clock::System.now().timestamp()
}

/// Whether the login is older than [`ABSOLUTE_TIMEOUT`]: its session has ended, however active.
fn past_absolute_limit(login: &SessionLogin) -> bool {
    now_secs() - login.at > ABSOLUTE_TIMEOUT.num_seconds()
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, state).await?;
        // A login past its absolute limit ends here too: every request through the session
        // layer moves the row's expiry on, and a browser that only opened the pages of visitors
        // (the login, the language switch) would otherwise keep it, with the desk's last
        // searches, past the limit.
        if session.get::<SessionLogin>(KEY_LOGIN).await?.is_some_and(|login| past_absolute_limit(&login)) {
            session.flush().await?;
        }
        let cookies = cookies_of(parts)?;
        let csrf = super::forms::form_token(&cookies, state);
        let page = blank_page(lang_of(&cookies), csrf, parts);
        Ok(Self { session, cookies, page })
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // A form sent without a live session is told on the login page: what it held is lost.
        let required =
            if parts.method == axum::http::Method::POST { WebError::SessionEnded } else { WebError::LoginRequired };
        let session = session_of(parts, state).await?;
        let Some(login) = session.get::<SessionLogin>(KEY_LOGIN).await? else {
            return Err(required);
        };
        let account = if past_absolute_limit(&login) {
            None
        } else {
            accounts::session_account(&state.db, login.staff_id).await?.filter(|a| a.epoch == login.epoch)
        };
        let Some(account) = account else {
            session.flush().await?;
            return Err(required);
        };
        let gate = account.gate(state.settings.require_mfa);
        let client = ClientIp::from_request_parts(parts, state).await.ok().and_then(|ip| ip.addr());
        let actor = account.actor.with_client(client);
        let csrf = session_csrf(&session).await?;
        let mut page = blank_page(lang_of(&cookies_of(parts)?), csrf, parts);
        page.user = Some(actor.login().to_owned());
        page.lead = actor.leads_any_unit();
        page.counsels = actor.counsels_anywhere();
        page.admin = actor.is_admin();
        page.gated = gate.is_some();
        Ok(Self { actor, page, session, gate, epoch: login.epoch })
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        match signed_in.gate {
            None => Ok(Self { actor: signed_in.actor, page: signed_in.page }),
            Some(Gate::ChangePassword) => Err(Redirect::to("/account/password").into_response()),
            Some(Gate::EnrolSecondFactor) => Err(Redirect::to("/account/mfa").into_response()),
        }
    }
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, state).await?;
        let login = session.get::<PendingLogin>(KEY_PENDING).await?;
        let Some(login) = login.filter(|l| now_secs() - l.at <= PENDING_TIMEOUT.num_seconds()) else {
            return Err(WebError::LoginRequired);
        };
        let csrf = session_csrf(&session).await?;
        let cookies = cookies_of(parts)?;
        let page = blank_page(lang_of(&cookies), csrf, parts);
        Ok(Self { session, cookies, login, page })
    }
}

/// After a right password with a second factor due: a new session (new id) holding the step and
/// nothing of the browser's earlier session (a second factor someone else began to set up).
pub async fn start_pending(session: &Session, staff_id: StaffId, epoch: i32) -> Result<(), WebError> {
    session.cycle_id().await?;
    session.clear().await;
    session.insert(KEY_PENDING, PendingLogin { staff_id, at: now_secs(), epoch }).await?;
    session.insert(KEY_CSRF, random_secret(32)).await?;
    Ok(())
}

/// A completed login: a new session id (defeats session fixation) holding nothing of the
/// browser's earlier session (the pending step, a second factor someone else began to set up),
/// the login with the person's session epoch, a new CSRF token.
pub async fn complete_login(session: &Session, staff_id: StaffId, epoch: i32) -> Result<(), WebError> {
    session.cycle_id().await?;
    session.clear().await;
    session.insert(KEY_LOGIN, SessionLogin { staff_id, at: now_secs(), epoch }).await?;
    session.insert(KEY_CSRF, random_secret(32)).await?;
    Ok(())
}

/// Who this session is logged in as, if anyone.
pub async fn logged_in_as(session: &Session) -> Result<Option<StaffId>, WebError> {
    Ok(session.get::<SessionLogin>(KEY_LOGIN).await?.map(|login| login.staff_id))
}

/// Keeps this session after the person's own change (a password, a second factor) moved their
/// epoch on (every other session has ended): a new id, the new epoch and a new CSRF token, which
/// `page` takes, so the forms of the page answered next carry it. A session that ended while
/// the change ran (a logout in another tab) stays ended: `LoginRequired`, and nothing is stored.
pub async fn renew_login(
    db: &sea_orm::DatabaseConnection,
    session: &Session,
    page: &mut Page,
    epoch: i32,
) -> Result<(), WebError> {
    if let Some(csrf) = renew_session(db, session, epoch).await? {
        page.csrf = csrf;
    }
    Ok(())
}

/// [`renew_login`]'s part in the session; returns the new CSRF token (`None`: not logged in).
async fn renew_session(
    db: &sea_orm::DatabaseConnection,
    session: &Session,
    epoch: i32,
) -> Result<Option<String>, WebError> {
    if let Some(mut login) = session.get::<SessionLogin>(KEY_LOGIN).await? {
        // The stored session is claimed (deleted) first: only a renewal that deleted it stores
        // the session again, under its new id.
        let live = match session.id() {
            Some(id) => crate::services::sessions::take_for_renewal(db, &id)
                .await
                .map_err(crate::services::ServiceError::from)?,
            None => false,
        };
        if !live {
            session.flush().await?;
            return Err(WebError::LoginRequired);
        }
        login.epoch = epoch;
        session.cycle_id().await?;
        session.insert(KEY_LOGIN, login).await?;
        let csrf = random_secret(32);
        session.insert(KEY_CSRF, csrf.clone()).await?;
        return Ok(Some(csrf));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::{Method, Uri};
    use migration::{Migrator, MigratorTrait};
    use tower_sessions::SessionStore;

    use super::*;
    use crate::services::sessions::DbSessionStore;

    /// A stored logged-in session, and the same session as a request loaded it.
    async fn loaded_session() -> (sea_orm::DatabaseConnection, Arc<DbSessionStore>, Session) {
        let db = crate::store::connect("sqlite::memory:", Some(1)).await.expect("database");
        Migrator::up(&db, None).await.expect("migrations");
        let store = Arc::new(DbSessionStore::new(db.clone()));
        let first = Session::new(None, store.clone(), None);
        let login = SessionLogin { staff_id: StaffId::new(1), at: 0, epoch: 1 };
        first.insert(KEY_LOGIN, login).await.expect("logged in");
        first.save().await.expect("stored");
        let request = Session::new(first.id(), store.clone(), None);
        request.get::<SessionLogin>(KEY_LOGIN).await.expect("loaded").expect("logged in");
        (db, store, request)
    }

    async fn stored_sessions(db: &sea_orm::DatabaseConnection) -> i64 {
        let sql = "SELECT COUNT(*) AS n FROM sessions";
        let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql);
        let row = sea_orm::ConnectionTrait::query_one_raw(db, statement).await.expect("count").expect("a row");
        row.try_get::<i64>("", "n").expect("a number")
    }

    #[tokio::test]
    async fn a_renewal_of_a_session_ended_meanwhile_does_not_bring_it_back() {
        // Arrange: a request loaded the session, then a logout in another tab ended it.
        let (db, store, request) = loaded_session().await;
        store.delete(&request.id().expect("an id")).await.expect("logged out");

        // Act: the request's password change renews it.
        let renewed = renew_session(&db, &request, 2).await;
        if !request.is_empty().await {
            request.save().await.expect("saved as the session layer would");
        }

        // Assert
        assert_eq!(stored_sessions(&db).await, 0, "no session row came back");
        assert!(matches!(renewed, Err(WebError::LoginRequired)), "to the login");
    }

    #[tokio::test]
    async fn a_renewal_of_a_live_session_keeps_it_under_a_new_id() {
        let (db, _, request) = loaded_session().await;
        let old = request.id().expect("an id");
        assert!(renew_session(&db, &request, 2).await.expect("renewed").is_some(), "a new CSRF token");
        request.save().await.expect("saved");
        assert_ne!(request.id(), Some(old), "a new id");
        assert_eq!(stored_sessions(&db).await, 1, "the one session");
    }

    #[test]
    fn the_language_switch_leads_back_to_a_page_that_can_be_opened() {
        let back = |method: Method, uri: &str| back_path(&method, &uri.parse::<Uri>().expect("uri"));
        assert_eq!(back(Method::GET, "/book/details?slot=12"), "/book/details?slot=12");
        assert_eq!(back(Method::POST, "/bookings/K7M4Q9TX/cancel"), "/bookings/K7M4Q9TX");
        assert_eq!(back(Method::POST, "/hours/ads/absences"), "/hours?unit=ads");
        assert_eq!(back(Method::POST, "/absences/7/delete"), "/absences");
        assert_eq!(back(Method::POST, "/book"), "/book");
        assert_eq!(back(Method::POST, "/admin/staff/jana/deactivate"), "/admin/staff/jana");
        assert_eq!(back(Method::POST, "/callbacks/5/book"), "/callbacks");
        assert_eq!(back(Method::POST, "/admin/units/retention"), "/admin/units");
        assert_eq!(back(Method::POST, "/logout"), "/login");
        assert_eq!(back(Method::POST, "/a/form/added/later"), "/");
    }

    /// Every route in the sources under `src/web`: its path and whether it answers GET and POST
    /// (read from the calls of `Router::route` with their handlers, so that a route added later is
    /// checked too).
    fn desk_routes() -> Vec<(String, bool, bool)> {
        fn files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("the sources") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    files(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    found.push(path);
                }
            }
        }
        let mut sources = Vec::new();
        files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"), &mut sources);
        let mut routes = Vec::new();
        for source in sources {
            let text = std::fs::read_to_string(&source).expect("a source");
            for call in text.split(".route(\"").skip(1) {
                let Some((path, rest)) = call.split_once('"') else { continue };
                // The handlers: up to the parenthesis that closes `.route(`.
                let mut depth = 1;
                let handlers: String = rest
                    .chars()
                    .take_while(|c| {
                        depth += match c {
                            '(' => 1,
                            ')' => -1,
                            _ => 0,
                        };
                        depth > 0
                    })
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let answers = |method: &str| {
                    handlers.starts_with(&format!(",{method}(")) || handlers.contains(&format!(".{method}("))
                };
                routes.push((path.to_owned(), answers("get"), answers("post")));
            }
        }
        routes
    }

    /// Whether `path` is one of the `patterns` (`{…}` a segment of any value).
    fn matches_any(path: &str, patterns: &[&str]) -> bool {
        let segments: Vec<&str> = path.split('/').collect();
        patterns.iter().any(|pattern| {
            let parts: Vec<&str> = pattern.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| part.starts_with('{') || part == segment)
        })
    }

    #[test]
    fn after_every_form_of_the_desk_the_language_switch_leads_to_a_page_that_answers_get() {
        let routes = desk_routes();
        let pages: Vec<&str> = routes.iter().filter(|(_, get, _)| *get).map(|(path, ..)| path.as_str()).collect();
        let forms: Vec<&str> = routes.iter().filter(|(.., post)| *post).map(|(path, ..)| path.as_str()).collect();
        assert!(pages.contains(&"/") && pages.contains(&"/bookings/{key}"), "pages found: {pages:?}");
        for named in ["/callbacks/{id}/book", "/admin/units/retention", "/bookings/{key}/cancel", "/logout"] {
            assert!(forms.contains(&named), "{named} in {forms:?}");
        }
        for form in forms {
            let sample = form.split('/').map(|s| if s.starts_with('{') { "x1" } else { s }).collect::<Vec<_>>();
            let back = back_path(&Method::POST, &sample.join("/").parse::<Uri>().expect("uri"));
            let page = back.split('?').next().expect("a path");
            assert!(matches_any(page, &pages), "POST {form} leads back to {back}, which answers no GET");
        }
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert!(is_local_path("/book?unit=ads"));
        for foreign in ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a\nb", ""] {
            assert!(!is_local_path(foreign), "{foreign:?}");
        }
    }
}
