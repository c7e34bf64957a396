//! Forms refused without their CSRF token. A logged-in person's forms carry the session's token
//! (`CsrfForm`). Anonymous forms (login, reset link) carry a token that needs no stored row
//! (`AnonForm`): a double-submit cookie, `HttpOnly` and `SameSite=Strict`, whose value the form
//! repeats; a cross-site request is refused outright (`Sec-Fetch-Site`), and a cross-site form
//! cannot read or set the cookie.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use tower_cookies::Cookies;
use tower_sessions::Session;
use tower_sessions::cookie::SameSite;

use super::error::WebError;
use super::page::{KEY_CSRF, cookies_of, site_cookie};
use crate::services::auth::random_secret;
use crate::state::AppState;

/// The cookie of the anonymous forms' token.
pub const FORM_COOKIE: &str = "terminbuch_form";

/// The anonymous forms' token: the cookie's, or a new one set as the cookie.
pub(super) fn form_token(cookies: &Cookies, state: &AppState) -> String {
    if let Some(cookie) = cookies.get(FORM_COOKIE).filter(|c| c.value().len() == 32) {
        return cookie.value().to_owned();
    }
    let token = random_secret(32);
    cookies.add(site_cookie(FORM_COOKIE, token.clone(), state, SameSite::Strict));
    token
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

fn same_token(expected: Option<&str>, given: &str) -> bool {
    expected.is_some_and(|token| !token.is_empty() && bool::from(token.as_bytes().ct_eq(given.as_bytes())))
}

/// Reads a url-encoded form whose `csrf` field must equal `expected`.
async fn checked_form<T: DeserializeOwned>(
    body: Request,
    state: &AppState,
    expected: Option<String>,
) -> Result<T, WebError> {
    let bytes = Bytes::from_request(body, state).await.map_err(|_| WebError::BadRequest)?;
    // U+0000 is typed by no keyboard and cannot be stored by PostgreSQL: refused with the form.
    if form_urlencoded::parse(&bytes).any(|(_, value)| value.contains('\0')) {
        tracing::info!("form with a NUL character refused");
        return Err(WebError::BadRequest);
    }
    let given: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadRequest)?;
    if !same_token(expected.as_deref(), &given.csrf) {
        tracing::warn!("form without a valid CSRF token refused");
        return Err(WebError::Csrf);
    }
    serde_urlencoded::from_bytes(&bytes).map_err(|err| {
        tracing::info!(error = ?err, "malformed form");
        WebError::BadRequest
    })
}

/// A url-encoded form that must carry the session's CSRF token in the field `csrf`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(|(_, msg)| WebError::Internal(anyhow::anyhow!(msg)))?;
        let expected = session.get::<String>(KEY_CSRF).await?;
        checked_form(Request::from_parts(parts, body), state, expected).await.map(Self)
    }
}

/// A url-encoded form of a visitor who is not logged in: its `csrf` field must repeat the form
/// cookie, and the request must not come from another site.
pub struct AnonForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AnonForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let cross_site = parts.headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
        if cross_site {
            tracing::warn!("cross-site form refused");
            return Err(WebError::Csrf);
        }
        let expected = cookies_of(&parts)?.get(FORM_COOKIE).map(|c| c.value().to_owned());
        checked_form(Request::from_parts(parts, body), state, expected).await.map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_be_present_and_equal() {
        assert!(same_token(Some("abc"), "abc"));
        assert!(!same_token(Some("abc"), "abd"));
        assert!(!same_token(Some("abc"), ""));
        assert!(!same_token(Some(""), ""), "an empty cookie is no token");
        assert!(!same_token(None, ""));
    }
}
