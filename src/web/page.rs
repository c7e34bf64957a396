//! What every page needs: the visitor's language and CSRF token, the logged-in staff member
//! (an extractor that sends visitors without a session to the login page), and forms that are
//! refused without the session's CSRF token.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use chrono::TimeDelta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::error::WebError;
use super::i18n::Lang;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::services::auth::random_secret;
use crate::services::login;
use crate::state::AppState;

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(30);
/// A session ends this long after login, however active.
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(10);

const KEY_CSRF: &str = "csrf";
const KEY_LANG: &str = "lang";
const KEY_LOGIN: &str = "login";

/// Who is logged in, stored in the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionLogin {
    pub staff_id: i32,
    /// Unix seconds of the login (real time, like the session expiry).
    pub at: i64,
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
    /// Shows the links to the admins' pages.
    pub admin: bool,
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

    /// The same page with a title.
    pub fn titled(mut self, key: &str) -> Self {
        self.title = self.lang.t(key).to_owned();
        self
    }
}

/// A visitor, logged in or not.
pub struct Visitor {
    pub session: Session,
    pub page: Page,
}

/// A logged-in staff member.
pub struct Staff {
    pub actor: Actor,
    pub page: Page,
}

async fn session_of(parts: &mut Parts, state: &AppState) -> Result<Session, WebError> {
    Session::from_request_parts(parts, state).await.map_err(|(_, msg)| WebError::Internal(anyhow::anyhow!(msg)))
}

async fn csrf_token(session: &Session) -> Result<String, WebError> {
    match session.get::<String>(KEY_CSRF).await? {
        Some(token) => Ok(token),
        None => {
            let token = random_secret(32);
            session.insert(KEY_CSRF, &token).await?;
            Ok(token)
        }
    }
}

/// Gives a new CSRF token (at login, so a token seen before login is useless after it).
pub async fn renew_csrf(session: &Session) -> Result<(), WebError> {
    session.insert(KEY_CSRF, random_secret(32)).await?;
    Ok(())
}

/// Stores the login in the (already cycled) session.
pub async fn remember_login(session: &Session, staff_id: i32) -> Result<(), WebError> {
    let at = Clock::System.now().timestamp();
    session.insert(KEY_LOGIN, SessionLogin { staff_id, at }).await?;
    Ok(())
}

pub async fn set_lang(session: &Session, lang: Lang) -> Result<(), WebError> {
    session.insert(KEY_LANG, lang).await?;
    Ok(())
}

async fn page_for(session: &Session, parts: &Parts) -> Result<Page, WebError> {
    let lang = session.get::<Lang>(KEY_LANG).await?.unwrap_or_default();
    let csrf = csrf_token(session).await?;
    Ok(Page {
        lang,
        csrf,
        user: None,
        title: String::new(),
        path: back_path(&parts.method, &parts.uri),
        lead: false,
        admin: false,
    })
}

/// Where the language switch leads back to: the page itself for a GET (with its query, so
/// `/book/details?slot=…` stays that page), and for a form's answer the page the form belongs to
/// (a POST route cannot be opened again by a link).
fn back_path(method: &axum::http::Method, uri: &axum::http::Uri) -> String {
    if method == axum::http::Method::GET {
        return uri.path_and_query().map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    }
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["bookings", key, ..] => format!("/bookings/{key}"),
        ["hours", unit, ..] => format!("/hours?unit={unit}"),
        ["logout"] => "/login".to_owned(),
        _ => uri.path().to_owned(),
    }
}

/// Whether `back` is a path on this site (not `//host`, `/\host` or a scheme), so the language
/// switch cannot be used to send someone elsewhere.
pub fn is_local_path(back: &str) -> bool {
    back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') && !back.chars().any(char::is_control)
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, state).await?;
        let page = page_for(&session, parts).await?;
        Ok(Self { session, page })
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, state).await?;
        let Some(login) = session.get::<SessionLogin>(KEY_LOGIN).await? else {
            return Err(WebError::LoginRequired);
        };
        if Clock::System.now().timestamp() - login.at > ABSOLUTE_TIMEOUT.num_seconds() {
            session.flush().await?;
            return Err(WebError::LoginRequired);
        }
        let Some(actor) = login::actor(&state.db, login.staff_id).await? else {
            session.flush().await?;
            return Err(WebError::LoginRequired);
        };
        let actor = actor.with_client(ClientIp::from_request_parts(parts, state).await.ok().and_then(|ip| ip.addr()));
        let mut page = page_for(&session, parts).await?;
        page.user = Some(actor.login().to_owned());
        page.lead = actor.leads_any_unit();
        page.admin = actor.is_admin();
        Ok(Self { actor, page })
    }
}

/// The client's address as the server saw it (`unknown` without connect info).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
        Ok(Self(ip.unwrap_or_else(|| "unknown".to_owned())))
    }
}

impl ClientIp {
    /// The address, if it is one (for the audit).
    pub fn addr(&self) -> Option<std::net::IpAddr> {
        self.0.parse().ok()
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A url-encoded form that must carry the session's CSRF token in the field `csrf`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = session_of(&mut parts, state).await?;
        let expected = session.get::<String>(KEY_CSRF).await?;
        let bytes =
            Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(|_| WebError::BadRequest)?;
        let given: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadRequest)?;
        let valid = expected.is_some_and(|token| bool::from(token.as_bytes().ct_eq(given.csrf.as_bytes())));
        if !valid {
            tracing::warn!("form without a valid CSRF token refused");
            return Err(WebError::Csrf);
        }
        serde_urlencoded::from_bytes(&bytes).map(Self).map_err(|err| {
            tracing::info!(error = %err, "malformed form");
            WebError::BadRequest
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, Uri};

    use super::*;

    #[test]
    fn the_language_switch_leads_back_to_a_page_that_can_be_opened() {
        let back = |method: Method, uri: &str| back_path(&method, &uri.parse::<Uri>().expect("uri"));
        assert_eq!(back(Method::GET, "/book/details?slot=12"), "/book/details?slot=12");
        assert_eq!(back(Method::POST, "/bookings/K7M4Q9TX/cancel"), "/bookings/K7M4Q9TX");
        assert_eq!(back(Method::POST, "/hours/ads/absences"), "/hours?unit=ads");
        assert_eq!(back(Method::POST, "/book"), "/book");
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert!(is_local_path("/book?unit=ads"));
        for foreign in ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a\nb", ""] {
            assert!(!is_local_path(foreign), "{foreign:?}");
        }
    }
}
