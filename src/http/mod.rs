//! The HTTP layer (axum only): routes, extractors, errors, OpenAPI, and the layers every request
//! passes (request log and metrics, limits, timeout, security headers).

pub mod client_ip;
pub mod dto;
pub mod error;
pub mod extract;
pub mod input;
pub mod observe;
pub mod openapi;
pub mod paging;
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
        .merge(routes::locations::router())
        .merge(routes::self_service::router())
        .merge(routes::bookings::router())
        .merge(routes::emails::router())
        .merge(routes::citizen_links::router())
        .merge(routes::to_move::router())
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
    // Kept as its JSON text (about 100 KB), not as the document's structure (megabytes on the heap).
    let document = openapi::serve(&openapi);
    drop(openapi);
    let routes: Router = api
        .route(openapi::DOCUMENT_PATH, document)
        .merge(SwaggerUi::new("/api/docs").config(utoipa_swagger_ui::Config::from(openapi::DOCUMENT_PATH)))
        .merge(crate::web::router(&state))
        .merge(metrics)
        .fallback(|| async { error::ApiError::not_found("not_found", "no such resource") })
        .with_state(state);
    around_every_request(routes, REQUEST_TIMEOUT)
}

/// How long a request may take before it is answered 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `routes` inside the layers every request passes: the request log and metrics, problem
/// documents for bare errors, the panic guard, the `timeout`, the body limit and the security
/// headers every answer carries. They wrap the router once. Layered onto the router, axum would wrap each route in all
/// of them and clone that whole stack for every request (about a tenth of a booking's
/// instructions in the service: BENCHMARKS.md, "what one booking costs in instructions"); only
/// the route's template needs the routing, and `observe::route_template`, inside the router,
/// hands it out to `observe::observe`.
fn around_every_request(routes: Router, timeout: Duration) -> Router {
    // The headers outside the panic guard and the timeout, so that their answers carry them too.
    let every_request = ServiceBuilder::new()
        .layer(from_fn(observe::observe))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // The pages' own headers for every other answer too (a 404 of no route, the API's docs,
        // the JSON): none is to be framed, leak its address or ask for the camera.
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(crate::web::PERMISSIONS),
        ))
        .layer(from_fn(observe::bare_errors_as_problems))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .service(routes.layer(from_fn(observe::route_template)));
    Router::new().fallback_service(every_request)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::telemetry::metrics;

    #[tokio::test]
    async fn a_request_that_panics_or_times_out_gets_a_problem_and_is_counted_under_its_route() {
        // Arrange: routes that fail after the routing, outside the handler's own error handling.
        let routes = Router::new()
            .route(
                "/api/v1/test-only/panics/{id}",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("a bug");
                    }
                    StatusCode::OK
                }),
            )
            .route("/api/v1/test-only/hangs/{id}", get(std::future::pending::<StatusCode>));
        let app = around_every_request(routes, Duration::from_millis(50));
        let scrape = metrics::handle();

        for (path, template, status) in [
            ("/api/v1/test-only/panics/7", "/api/v1/test-only/panics/{id}", StatusCode::INTERNAL_SERVER_ERROR),
            ("/api/v1/test-only/hangs/7", "/api/v1/test-only/hangs/{id}", StatusCode::SERVICE_UNAVAILABLE),
        ] {
            // Act
            let request = Request::get(path).body(Body::empty()).expect("request");
            let response = app.clone().oneshot(request).await.expect("infallible");

            // Assert: a problem document with the layers' headers, counted under the route's
            // template (not as unmatched, and never under the raw path).
            assert_eq!(response.status(), status, "{path}");
            let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert_eq!(header(header::CONTENT_TYPE), "application/problem+json", "{path}");
            assert_eq!(header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
            assert_eq!(header(header::CACHE_CONTROL), "no-store", "{path}");
            let rendered = scrape.render();
            let counted = rendered.lines().any(|line| {
                line.starts_with(metrics::HTTP_REQUESTS)
                    && line.contains(&format!("route=\"{template}\""))
                    && line.contains(&format!("status=\"{}\"", status.as_u16()))
            });
            assert!(counted, "{template} {status} in:\n{rendered}");
            assert!(!rendered.contains(path), "the raw path is never a label");
        }
    }
}
