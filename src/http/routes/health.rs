//! `GET /health`: 200 when the database answers, 503 when it does not.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Health of the service.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    pub database: &'static str,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    // A database that hangs (or a pool with no free connection) answers 503 within seconds,
    // not after the pool's 30 s acquire timeout.
    let ping = tokio::time::timeout(HEALTH_TIMEOUT, state.db.ping()).await;
    match ping {
        Ok(Ok(())) => (StatusCode::OK, Json(Health { status: "ok", database: "ok" })),
        Ok(Err(err)) => unavailable(&err.to_string()),
        Err(_) => unavailable("no answer within the health check's timeout"),
    }
}

/// How long `/health` waits for the database.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

fn unavailable(reason: &str) -> (StatusCode, Json<Health>) {
    tracing::warn!(error = %reason, "health check: database unreachable");
    (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable", database: "unreachable" }))
}
