//! `GET /metrics` in the Prometheus text format: on the main address for administrators' bearer
//! tokens, or open on the separate address `TERMINBUCH_METRICS_LISTEN`. Not part of the API
//! document: it is for monitoring, not for clients.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::error::ApiResult;
use crate::http::extract::Auth;
use crate::services::monitoring;
use crate::state::AppState;
use crate::telemetry::metrics;

/// The Prometheus text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics` on the main address, for administrators.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(for_admin))
}

/// `/metrics` alone, open: the separate listener's whole application.
pub fn standalone(state: AppState) -> Router {
    Router::new().route("/metrics", get(open)).with_state(state)
}

async fn for_admin(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Response> {
    if !actor.is_admin() {
        // Recorded as every refusal is (`access_denied`); answers 403.
        crate::services::access::deny(&state.db, &state.clock, &actor, "metrics.read", "admin").await?;
    }
    render(&state).await
}

async fn open(State(state): State<AppState>) -> ApiResult<Response> {
    render(&state).await
}

async fn render(state: &AppState) -> ApiResult<Response> {
    let snapshot = monitoring::snapshot(&state.db, state.clock.now()).await?;
    Ok(([(header::CONTENT_TYPE, TEXT_FORMAT)], metrics::render(&snapshot)).into_response())
}
