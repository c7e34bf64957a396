//! A unit's self-service settings: what citizens may do through their own link.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::citizen_link::SelfService;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiPath, Auth};
use crate::services::citizen_link;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_self_service, set_self_service))
}

/// The unit's self-service settings (staff of the unit, admins).
#[utoipa::path(get, path = "/api/v1/units/{unit}/self-service", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")),
    responses((status = 200, body = SelfService), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_self_service(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<SelfService>> {
    let unit = state.unit(&unit).await?;
    Ok(Json(citizen_link::self_service(&state.db, &state.clock, &actor, &unit).await?))
}

/// Replaces the unit's self-service settings (admins only): `self_service_cutoff_hours` 0–672,
/// `self_service_max_moves` 0–20, `self_service_shows_counsellor`.
#[utoipa::path(put, path = "/api/v1/units/{unit}/self-service", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")), request_body = SelfService,
    responses((status = 200, body = SelfService), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn set_self_service(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<SelfService>,
) -> ApiResult<Json<SelfService>> {
    let unit = state.unit(&unit).await?;
    Ok(Json(citizen_link::set_self_service(&state.db, &state.clock, &actor, &unit, body).await?))
}
