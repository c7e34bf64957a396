//! The staff desk: server-rendered pages (askama templates under `templates/web/`) for login,
//! the phone booking flow, booking details, search and day lists. Works without JavaScript.

mod account;
mod adhoc;
mod admin;
mod audit;
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
mod hours;
mod i18n;
mod lists;
mod page;
mod print;
mod readback;
mod reschedule;
mod reset;
mod statistics;
mod texts;
mod texts_accounts;
mod texts_audit;
mod texts_citizen;
mod texts_desk;
mod texts_desk2;
mod texts_harden;
mod texts_privacy;
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

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "terminbuch_session";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The web pages with their session and security-header layers.
pub fn router(state: &AppState) -> Router<AppState> {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
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
        .merge(bookings::router())
        .merge(print::router())
        .merge(cancel::router())
        .merge(contact::router())
        .merge(reschedule::router())
        .merge(hours::router())
        .merge(lists::router())
        .merge(audit::router())
        .merge(statistics::router())
        .merge(callbacks::router())
        .merge(data_subject::router())
        .merge(calendar::router())
        .layer(sessions)
        .merge(calendar::feed_router())
        .merge(citizen::router(state))
        .route("/static/terminbuch.css", get(stylesheet))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}

/// The one stylesheet, compiled in; it holds no personal data, so it may be cached.
async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/terminbuch.css"),
    )
}
