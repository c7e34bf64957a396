//! The citizen's own page behind the link in their emails (`/t/{token}`): the appointment in the
//! booking's language, its calendar entry, cancel and move. No login and no session: the token
//! is the key. Every answer is `noindex`, not stored by caches, and (like every page) sent with
//! `Referrer-Policy: no-referrer`; an unknown, expired or foreign token gets one and the same 404;
//! requests are limited per client address and per token.

mod pages;
pub(super) mod texts;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::domain::citizen_link::canonical_token;
use crate::http::client_ip::ClientIp;
use crate::services::citizen_link::Verdict;
use crate::state::AppState;

/// The citizen's routes, with their own cookie layer (the forms' double-submit cookie), the rate
/// limit and the headers that keep the page out of search engines and caches.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/t/{token}", get(pages::show))
        .route("/t/{token}/termin.ics", get(pages::calendar))
        .route("/t/{token}/cancel", get(pages::cancel_page).post(pages::cancel))
        .route("/t/{token}/move", get(pages::move_page).post(pages::move_to))
        .layer(middleware::from_fn_with_state(state.clone(), limit))
        .layer(tower_cookies::CookieManagerLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .route("/static/citizen.css", get(stylesheet))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../../static/citizen.css"),
    )
}

/// Counts the request against its client address and its token; over either limit, a 429.
async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(ClientIp(client)) = ClientIp::from_request_parts(&mut parts, &state).await;
    // Counted under the token the page will open, not the path's spelling of it: `%61` and `a`
    // are one token to the router, so they are one to the limit.
    let token = canonical_token(parts.uri.path().split('/').nth(2).unwrap_or_default());
    match state.citizen.limiter.check(&client, token.as_deref()) {
        Verdict::Allowed => next.run(Request::from_parts(parts, body)).await,
        Verdict::Limited { retry_after_secs } => {
            tracing::warn!("citizen link: too many requests");
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Html(TOO_MANY)).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            response
        }
    }
}

/// The one answer to every token that opens nothing: unknown, tampered, expired or foreign.
pub(super) fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(NOT_FOUND)).into_response()
}

const NOT_FOUND: &str = r#"<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Link ungültig – Link not valid</title>
<link rel="stylesheet" href="/static/citizen.css"></head>
<body><main id="main"><h1>Dieser Link ist nicht (mehr) gültig.</h1>
<p>Bitte rufen Sie die Stelle an, bei der Sie den Termin haben. Die Nummer steht in Ihrer E-Mail.</p>
<div lang="en"><h2>This link is not valid (any more).</h2>
<p>Please call the office you have the appointment with. The number is in your email.</p></div>
</main></body></html>
"#;

const TOO_MANY: &str = r#"<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Zu viele Anfragen – Too many requests</title>
<link rel="stylesheet" href="/static/citizen.css"></head>
<body><main id="main"><h1>Zu viele Anfragen</h1><p>Bitte versuchen Sie es in einer Minute noch einmal.</p>
<div lang="en"><h2>Too many requests</h2><p>Please try again in a minute.</p></div>
</main></body></html>
"#;
