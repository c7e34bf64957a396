//! The citizen's own page behind the link in their emails (`/t/{token}`): the appointment in the
//! booking's language, its calendar entry, cancel and move. No login and no session: the token
//! is the key. Every answer is `noindex`, not stored by caches, and (like every page) sent with
//! `Referrer-Policy: no-referrer`; an unknown, expired or foreign token gets one and the same 404;
//! requests are limited per client address and per token. Pages without an appointment (that
//! 404, a failure) speak the visitor's language: see [`refusal`].

mod pages;
mod refusal;
pub(super) use refusal::in_every_language;
pub(super) mod texts;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::domain::citizen_link::canonical_token;
use crate::http::client_ip::ClientIp;
use crate::services::citizen_link::Verdict;
use crate::state::AppState;
use refusal::Unopened;

/// The citizen's routes, with their own cookie layer (the forms' double-submit cookie), the rate
/// limit and the headers that keep the page out of search engines and caches.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        // Without a token (cut off when copied): the citizens' 404 in their language, not the staff's.
        .route("/t", get(nothing))
        .route("/t/", get(nothing))
        .route("/t/{token}", get(pages::show))
        .route("/t/{token}/termin.ics", get(pages::calendar))
        .route("/t/{token}/cancel", get(pages::cancel_page).post(pages::cancel))
        .route("/t/{token}/move", get(pages::move_page).post(pages::move_to))
        .layer(middleware::from_fn_with_state(state.clone(), limit))
        .layer(middleware::from_fn(refusal::in_visitor_language))
        .layer(tower_cookies::CookieManagerLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .route("/static/citizen.css", get(stylesheet))
}

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLESHEET)
}

const STYLESHEET: &str = include_str!("../../../static/citizen.css");

/// Counts the request against its client address and its token; over either limit, a 429.
async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(ClientIp(client)) = ClientIp::from_request_parts(&mut parts, &state).await;
    // Counted under the token the page will open, not the path's spelling of it: `%61` and `a`
    // are one token to the router, so they are one to the limit.
    let token = canonical_token(parts.uri.path().split('/').nth(2).unwrap_or_default());
    match state.citizen.limiter.check(&client, token.as_deref()) {
        Verdict::Allowed => next.run(Request::from_parts(parts, body)).await,
        Verdict::Limited { retry_after_secs, first } => {
            // One warning per counter and window; the rest of a flood at debug level.
            if first {
                tracing::warn!("citizen link: too many requests");
            } else {
                tracing::debug!("citizen link: too many requests, again");
            }
            let mut response = Unopened::TooMany.response(StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            response
        }
    }
}

async fn nothing() -> Response {
    not_found()
}

/// The one answer to every token that opens nothing: unknown, tampered, expired or foreign.
pub(super) fn not_found() -> Response {
    Unopened::NotFound.response(StatusCode::NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use super::STYLESHEET;

    /// The colour `value` names in the stylesheet (`#rrggbb`, or `var(--name)` of `:root`) as
    /// red, green and blue.
    fn colour(value: &str) -> [u8; 3] {
        let hex = match value.strip_prefix("var(").and_then(|v| v.strip_suffix(')')) {
            Some(name) => {
                let start = STYLESHEET.find(&format!("{name}:")).expect("the variable") + name.len() + 1;
                STYLESHEET[start..].split(';').next().expect("its value").trim()
            }
            None => value,
        };
        let hex = hex.strip_prefix('#').filter(|h| h.len() == 6).unwrap_or_else(|| panic!("#rrggbb: {hex}"));
        [0, 2, 4].map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
    }

    /// WCAG 2.1's contrast ratio of two colours.
    fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
        let luminance = |c: [u8; 3]| {
            let [r, g, b] = c.map(|v| {
                let v = f64::from(v) / 255.0;
                if v <= 0.040_45 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
            });
            0.2126 * r + 0.7152 * g + 0.0722 * b
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn the_focus_ring_contrasts_at_least_3_to_1_with_the_page() {
        let rule = STYLESHEET.lines().find(|l| l.contains(":focus") && l.contains("outline:")).expect("the focus rule");
        let ring = rule.split("solid ").nth(1).and_then(|r| r.split(';').next()).expect("the ring's colour");
        let page = colour("var(--bg)");
        assert!(contrast(colour(ring), page) >= 3.0, "{ring}: {:.2}", contrast(colour(ring), page));
        assert!(contrast(colour("#f2a900"), page) < 3.0, "the former amber ring: about 2:1");
    }
}
