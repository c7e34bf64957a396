//! A unit's self-service settings: what citizens may do through their own link.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::citizen_link::SelfService;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiPath, Auth};
use crate::services::citizen_link::{self, VersionedSettings};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_self_service, set_self_service))
}

/// A unit's self-service settings, with the unit's version. Its fields are spelled out, not
/// `SelfService` flattened: that schema allows no other property, so the OpenAPI document would
/// have refused `version` (schemathesis found the answers violating their own schema).
#[derive(Serialize, ToSchema)]
pub struct SelfServiceResponse {
    /// Closer to the appointment than this, the page asks the citizen to call (default 24).
    pub self_service_cutoff_hours: i32,
    /// How often a citizen may move an appointment themselves (default 2).
    pub self_service_max_moves: i32,
    /// Whether the page names the counsellor (default off: the citizen did not give that name).
    pub self_service_shows_counsellor: bool,
    /// The unit's version: it rises with every change of the unit's settings (these, its
    /// retention). Sent back as `version` with a change, it makes the change happen only to this
    /// version (409 `concurrent_update` when another change came first).
    pub version: i32,
}

impl From<VersionedSettings> for SelfServiceResponse {
    fn from(read: VersionedSettings) -> Self {
        let SelfService { self_service_cutoff_hours, self_service_max_moves, self_service_shows_counsellor } =
            read.settings;
        Self { self_service_cutoff_hours, self_service_max_moves, self_service_shows_counsellor, version: read.version }
    }
}

/// The unit's new self-service settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfServiceRequest {
    /// 0–672.
    pub self_service_cutoff_hours: i32,
    /// 0–20.
    pub self_service_max_moves: i32,
    pub self_service_shows_counsellor: bool,
    /// The unit's `version` as the caller saw it: the settings are replaced only if the unit is
    /// still that version (else 409 `concurrent_update`). Without it, whatever they are now.
    pub version: Option<i32>,
}

/// The unit's self-service settings (staff of the unit, admins).
#[utoipa::path(get, path = "/api/v1/units/{unit}/self-service", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")),
    responses((status = 200, body = SelfServiceResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_self_service(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<SelfServiceResponse>> {
    let unit = state.unit(&unit).await?;
    Ok(Json(citizen_link::self_service(&state.db, &state.clock, &actor, &unit).await?.into()))
}

/// Replaces the unit's self-service settings (admins only): `self_service_cutoff_hours` 0–672,
/// `self_service_max_moves` 0–20, `self_service_shows_counsellor`; with `version`, only if the
/// unit is still that version.
#[utoipa::path(put, path = "/api/v1/units/{unit}/self-service", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")), request_body = SelfServiceRequest,
    responses((status = 200, body = SelfServiceResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`concurrent_update`: the unit is no longer the `version` sent"),
        (status = 422, body = Problem)))]
async fn set_self_service(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<SelfServiceRequest>,
) -> ApiResult<Json<SelfServiceResponse>> {
    let unit = state.unit(&unit).await?;
    let settings = SelfService {
        self_service_cutoff_hours: body.self_service_cutoff_hours,
        self_service_max_moves: body.self_service_max_moves,
        self_service_shows_counsellor: body.self_service_shows_counsellor,
    };
    let saved = citizen_link::set_self_service(&state.db, &state.clock, &actor, &unit, settings, body.version).await?;
    Ok(Json(saved.into()))
}
