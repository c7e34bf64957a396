//! What every request leaves behind: one log line (method, route template, status, duration;
//! never the raw path, which may hold a citizen's link token, nor query values) and the request
//! metrics. Also turns the bare error responses of the layers (405, 413, a timeout's 503, a
//! panic's 500) under `/api` into problem documents like every other API error.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::error::ApiError;
use crate::telemetry::metrics;

/// Where [`route_template`] leaves the template of the route a request was routed to, for
/// [`observe`], which runs outside the router and so before the routing.
#[derive(Clone, Default)]
struct RouteTemplate(Arc<OnceLock<MatchedPath>>);

/// Logs and measures the request under its route template.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let template = RouteTemplate::default();
    request.extensions_mut().insert(template.clone());
    let span = tracing::info_span!("request", %method, route = tracing::field::Empty);
    let response = next.run(request).instrument(span).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = template.0.get().map_or(metrics::UNMATCHED_ROUTE, MatchedPath::as_str);
    tracing::info!(%method, %route, status, duration_ms = elapsed.as_secs_f64() * 1000.0, "request");
    metrics::http_request(method, route, status, elapsed);
    response
}

/// Inside the router, once a route is chosen: tells [`observe`] (and the request's span) the
/// route's template.
pub async fn route_template(request: Request, next: Next) -> Response {
    if let (Some(template), Some(matched)) =
        (request.extensions().get::<RouteTemplate>(), request.extensions().get::<MatchedPath>())
    {
        tracing::Span::current().record("route", matched.as_str());
        let _ = template.0.set(matched.clone());
    }
    next.run(request).await
}

/// An error response of `/api/…`, `/health` or `/metrics` without a JSON body becomes a problem
/// document with the same status (and headers, e.g. `Allow`).
///
/// On any other path (the pages) such a response without a page becomes the error page
/// (`web::bare_error_as_page`).
pub async fn bare_errors_as_problems(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/api/") || path == "/health" || path == "/metrics";
    if !api {
        let (path, cookies) = (path.to_owned(), request.headers().get(header::COOKIE).cloned());
        let response = next.run(request).await;
        return crate::web::bare_error_as_page(&path, cookies.as_ref(), response);
    }
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = ApiError::new(status, code(status), reason(status)).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &problem_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// The method as a label: the standard ones by name, any other as `OTHER` (a client may send
/// any token as a method, and each new label value would be a new series kept in memory).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.into_iter().find(|known| *known == method.as_str()).unwrap_or("OTHER")
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value: &HeaderValue| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json") || value.starts_with("application/problem+json"))
}

fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => "timed_out",
        StatusCode::INTERNAL_SERVER_ERROR => "internal_error",
        _ => "request_refused",
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("the request was refused")
}
