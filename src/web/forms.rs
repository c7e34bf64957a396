//! Forms refused without their CSRF token. A logged-in person's forms carry the session's token
//! (`CsrfForm`). Anonymous forms (login, reset link) carry a token that needs no stored row
//! (`AnonForm`): a double-submit cookie, `HttpOnly` and `SameSite=Strict`, whose value the form
//! repeats; a cross-site request is refused outright (`Sec-Fetch-Site`), and a cross-site form
//! cannot read or set the cookie. The citizen's page reads its forms as `Checked` and answers a
//! failed check itself, with the step again in the citizen's language.

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

/// The cookie of the anonymous forms' token without `Secure` (plain HTTP to loopback).
pub const FORM_COOKIE: &str = "terminbuch_form";
/// The cookie of the anonymous forms' token when cookies are `Secure` (see `SECURE_SESSION_COOKIE`).
pub const SECURE_FORM_COOKIE: &str = "__Host-terminbuch_form";

fn form_cookie(state: &AppState) -> &'static str {
    super::cookie_name(state.settings.secure_cookies(), FORM_COOKIE, SECURE_FORM_COOKIE)
}

/// The anonymous forms' token: the cookie's, or a new one set as the cookie.
pub(super) fn form_token(cookies: &Cookies, state: &AppState) -> String {
    if let Some(cookie) = cookies.get(form_cookie(state)).filter(|c| c.value().len() == 32) {
        return cookie.value().to_owned();
    }
    let token = random_secret(32);
    cookies.add(site_cookie(form_cookie(state), token.clone(), state, SameSite::Strict));
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
    match read_form(body, state, expected).await? {
        Checked::Passed(form) => Ok(form),
        Checked::Failed(_) => Err(WebError::Csrf),
    }
}

/// Reads a url-encoded form and compares its `csrf` field with `expected`; a form that fails the
/// check is still read (`None` where its fields do not parse), for a page that shows it again.
async fn read_form<T: DeserializeOwned>(
    body: Request,
    state: &AppState,
    expected: Option<String>,
) -> Result<Checked<T>, WebError> {
    let bytes = Bytes::from_request(body, state).await.map_err(|err| match err.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => WebError::TooLarge,
        _ => WebError::BadRequest,
    })?;
    // U+0000 is typed by no keyboard and cannot be stored by PostgreSQL: refused with the form.
    if form_urlencoded::parse(&bytes).any(|(_, value)| value.contains('\0')) {
        tracing::info!("form with a NUL character refused");
        return Err(WebError::BadRequest);
    }
    // Bytes that are no UTF-8 (`%C3` alone) would be read as U+FFFD and stored so: a browser
    // sends none, so the form is refused rather than stored mangled.
    if !is_utf8_form(&bytes) {
        tracing::info!("form with bytes that are no UTF-8 refused");
        return Err(WebError::BadRequest);
    }
    let given: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadRequest)?;
    if !same_token(expected.as_deref(), &given.csrf) {
        tracing::warn!("form without a valid CSRF token refused");
        return Ok(Checked::Failed(serde_urlencoded::from_bytes(&bytes).ok()));
    }
    serde_urlencoded::from_bytes(&bytes).map(Checked::Passed).map_err(|err| {
        tracing::info!(error = ?err, "malformed form");
        WebError::BadRequest
    })
}

/// Whether every name and value of the url-encoded `body` decodes to UTF-8.
fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|&b| b == b'&').all(|pair| {
        let spaced: Vec<u8> = pair.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        percent_encoding::percent_decode(&spaced).decode_utf8().is_ok()
    })
}

/// A url-encoded form that must carry the session's CSRF token in the field `csrf`.
pub struct CsrfForm<T>(pub T);

/// A delete button's form: empty when pressed (asked first), `confirm` when confirmed.
#[derive(Deserialize)]
pub(super) struct DeleteForm {
    #[serde(default)]
    pub(super) confirm: String,
}

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
        match Checked::from_request(req, state).await? {
            Checked::Passed(form) => Ok(Self(form)),
            Checked::Failed(_) => Err(WebError::Csrf),
        }
    }
}

/// An anonymous form checked as [`AnonForm`] is, but handed to the handler whether or not the
/// check passed, for a page that answers a failed check itself: the citizen's page shows the step
/// again, since a lost form cookie (the browser closed) or a replaced one (the link opened again
/// in another tab) is no attack, and a refused form does nothing but show the page once more.
pub enum Checked<T> {
    Passed(T),
    /// A cross-site request, or a `csrf` field that does not repeat the cookie; the form's
    /// fields as sent (`None` where they do not parse), to be shown, never acted on.
    Failed(Option<T>),
}

impl<T: DeserializeOwned> FromRequest<AppState> for Checked<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let cross_site = parts.headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
        let expected = if cross_site {
            tracing::warn!("cross-site form refused");
            None
        } else {
            cookies_of(&parts)?.get(form_cookie(state)).map(|c| c.value().to_owned())
        };
        read_form(Request::from_parts(parts, body), state, expected).await
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

    #[test]
    fn a_form_with_bytes_that_are_no_utf8_is_told_apart() {
        assert!(is_utf8_form(b"name=J%C3%BCrgen+M%C3%BCller&csrf=abc"));
        assert!(is_utf8_form(b"name=%D8%B3%D9%84%D8%A7%D9%85&x="));
        assert!(is_utf8_form(b""));
        assert!(!is_utf8_form(b"name=Jana%C3&csrf=abc"), "a lone lead byte");
        assert!(!is_utf8_form(b"name=%FF"), "no UTF-8 byte at all");
        assert!(!is_utf8_form(b"na%C3me=x"), "in a name too");
        assert!(!is_utf8_form(b"name=\xff"), "raw, not percent-encoded");
    }
}
