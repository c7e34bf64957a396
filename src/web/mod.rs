//! The staff desk: server-rendered pages (askama templates under `templates/web/`) for login,
//! the phone booking flow, booking details, search and day lists. Works without JavaScript.

mod absences;
mod account;
mod adhoc;
mod admin;
mod audit;
mod audit_detail;
mod auth;
mod book;
mod bookings;
mod calendar;
mod callbacks;
mod cancel;
mod charts;
mod citizen;
mod contact;
mod data_subject;
mod error;
mod format;
mod forms;
mod history;
mod hours;
mod i18n;
mod lists;
mod page;
mod periods;
mod print;
mod readback;
mod reschedule;
mod reset;
mod search;
mod statistics;
mod texts;
mod texts_accounts;
mod texts_audit;
mod texts_audit_detail;
mod texts_citizen;
mod texts_desk;
mod texts_desk2;
mod texts_harden;
mod texts_hours2;
mod texts_hours3;
mod texts_places;
mod texts_privacy;
mod texts_stale;
mod texts_subject;
pub mod views;
mod week_items;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::services::sessions::DbSessionStore;
use crate::state::AppState;

pub use page::{ABSOLUTE_TIMEOUT, ClientIp, IDLE_TIMEOUT};

/// Name of the session cookie without `Secure` (plain HTTP to loopback).
pub const SESSION_COOKIE: &str = "terminbuch_session";
/// Name of the session cookie when cookies are `Secure`: the `__Host-` prefix makes browsers take
/// it only with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-terminbuch_session";

/// The name of a cookie of this site: with `Secure`, the `__Host-` name (`secure_name`).
pub(crate) fn cookie_name(secure: bool, plain_name: &'static str, secure_name: &'static str) -> &'static str {
    if secure { secure_name } else { plain_name }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The web pages with their session and security-header layers.
pub fn router(state: &AppState) -> Router<AppState> {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(cookie_name(state.settings.secure_cookies(), SESSION_COOKIE, SECURE_SESSION_COOKIE))
        .with_secure(state.settings.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(IDLE_TIMEOUT.num_seconds())));
    Router::new()
        .merge(auth::router())
        .merge(account::router())
        .merge(reset::router())
        .merge(admin::router())
        .merge(book::router())
        .merge(readback::router())
        .merge(search::router())
        .merge(bookings::router())
        .merge(print::router())
        .merge(cancel::router())
        .merge(contact::router())
        .merge(reschedule::router())
        .merge(hours::router())
        .merge(absences::router())
        .merge(lists::router())
        .merge(audit::router())
        .merge(statistics::router())
        .merge(callbacks::router())
        .merge(data_subject::router())
        .merge(calendar::router())
        .layer(axum::middleware::from_fn(error::in_chosen_language))
        .layer(sessions)
        .layer(axum::middleware::from_fn(refuse_foreign_loads))
        .merge(calendar::feed_router())
        .merge(citizen::router(state))
        .route("/static/terminbuch.css", get(stylesheet))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // No page uses the camera, microphone, location, payments or USB: a script that got in
        // (or a page framed despite the above) cannot ask the person for them.
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::map_response(https_only(state.settings.served_over_https())))
}

/// The browser features no page may use.
pub const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

/// How long a browser that reached the service through HTTPS keeps to HTTPS for it (one year).
const HSTS: &str = "max-age=31536000";

/// Served through HTTPS (`TERMINBUCH_PUBLIC_URL` is `https://…`): every page tells the browser to
/// come back only through HTTPS (`Strict-Transport-Security`), so a network on the way cannot turn
/// a later visit into plain HTTP and read the session cookie's first request; else nothing added.
fn https_only(
    https: bool,
) -> impl Fn(axum::response::Response) -> std::future::Ready<axum::response::Response> + Clone {
    move |mut response: axum::response::Response| {
        if https {
            response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
        std::future::ready(response)
    }
}

/// An error of a page's path answered by the layers around every request without a page (a body
/// over the limit before it is read, a timeout, a panic: `http::around_every_request`): the staff's
/// error page in the language of their cookie (`cookies`: the request's `Cookie` header), and on
/// a citizen's page (`/t/…`) the citizen's page in every language (which of their bookings, and
/// so which language, is not known out there). The calendar feed's answers are for calendar
/// programs and stay as they are, as does any answer that is a page already.
pub fn bare_error_as_page(
    path: &str,
    cookies: Option<&HeaderValue>,
    response: axum::response::Response,
) -> axum::response::Response {
    let status = response.status();
    let html = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || html || path.starts_with("/calendar/") {
        return response;
    }
    if path.starts_with("/t/") {
        return citizen::in_every_language(response);
    }
    error::as_page(response, page::lang_of_cookie_header(cookies))
}

/// Staff pages are loaded by the service's own pages or opened by the person, nothing else: the
/// session cookie is `Lax`, which a browser sends along with loads from another site of the same
/// registrable domain (another page of the city's) and with top-level navigations another site
/// starts, so such a page could make a logged-in colleague's browser request `/bookings/{ref}`
/// unseen (an image, a frame, a script) or without their doing, and plant "viewed" records in
/// their name. A request from another origin passes only as a top-level navigation the person
/// started (a link clicked in an email or on another site: `Sec-Fetch-User: ?1`); one typed or
/// bookmarked (`Sec-Fetch-Site: none`) and one without fetch metadata (older browsers, scripts)
/// pass, as the CSRF tokens guard every change. Refused before the session is read.
async fn refuse_foreign_loads(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let refused = {
        let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
        let foreign = header("sec-fetch-site").is_some_and(|site| site != "same-origin" && site != "none");
        let opened = header("sec-fetch-mode") == Some("navigate")
            && header("sec-fetch-dest").is_none_or(|dest| dest == "document")
            && header("sec-fetch-user") == Some("?1");
        foreign && !opened
    };
    if refused {
        return axum::http::StatusCode::FORBIDDEN.into_response();
    }
    next.run(request).await
}

/// The one stylesheet, compiled in; it holds no personal data, so it may be cached.
async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/terminbuch.css"),
    )
}
