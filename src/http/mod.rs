//! The HTTP layer (axum only): routes, extractors, errors, OpenAPI, and the layers every request
//! passes (request log and metrics, limits, timeout, security headers).

pub mod client_ip;
pub mod dto;
pub mod error;
pub mod extract;
pub mod input;
pub mod observe;
pub mod openapi;
pub mod routes;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// The whole application: API, OpenAPI document and docs page, health, staff desk pages, and
/// `/metrics` for administrators unless it has an address of its own.
pub fn router(state: AppState) -> Router {
    let metrics = match state.settings.metrics_listen {
        None => routes::metrics::router(),
        Some(_) => Router::new(),
    };
    let (api, mut openapi) = OpenApiRouter::with_openapi(openapi::base())
        .merge(routes::health::router())
        .merge(routes::units::router())
        .merge(routes::self_service::router())
        .merge(routes::bookings::router())
        .merge(routes::emails::router())
        .merge(routes::hours::router())
        .merge(routes::staff::router())
        .merge(routes::me::router())
        .merge(routes::audit::router())
        .merge(routes::statistics::router())
        .merge(routes::callbacks::router())
        .merge(routes::calendar::router())
        .merge(routes::data_subject::router())
        .split_for_parts();
    openapi::complete(&mut openapi);
    let routes = api
        .merge(SwaggerUi::new("/api/docs").url(openapi::DOCUMENT_PATH, openapi))
        .merge(crate::web::router(&state))
        .merge(metrics)
        .fallback(|| async { error::ApiError::not_found("not_found", "no such resource") })
        .layer(from_fn(observe::route_template))
        .with_state(state);
    // The layers every request passes wrap the router once. Layered onto the router, axum would
    // wrap each route in all of them and clone that whole stack for every request (about a tenth
    // of a booking's instructions in the service: BENCHMARKS.md, "what one booking costs in
    // instructions"); only the route's template needs the routing, and `route_template` hands it
    // out to `observe`.
    let every_request = ServiceBuilder::new()
        .layer(from_fn(observe::observe))
        .layer(from_fn(observe::bare_errors_as_problems))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .service(routes);
    Router::new().fallback_service(every_request)
}
