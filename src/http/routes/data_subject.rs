//! Requests of the person concerned: export (`POST /api/v1/data-subject/export`, or
//! `GET /api/v1/data-subject` with the identifier in the address) and erasure
//! (`POST /api/v1/data-subject/erase`), for admins and unit leads (their units).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::audit::AuditAction;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, Auth};
use crate::services::data_subject::{self, Bundle, ErasureCounts, ErasureReason, Person};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export)).routes(routes!(export_posted)).routes(routes!(erase))
}

/// Whom the request concerns: exactly one of the three.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonParams {
    /// The person's email address (case and surrounding spaces do not matter).
    pub email: Option<String>,
    /// The person's phone number (spaces, dashes, `+49` or a leading 0 do not matter).
    pub phone: Option<String>,
    /// A booking's reference (with or without dash): that booking.
    pub reference: Option<String>,
}

/// Everything the service holds about a person (Art. 15 GDPR): every booking with all its
/// fields, history and emails, and callback-list entries. Recorded in the audit (booking ids
/// and counts). The identifier travels in the address here (and so into access logs): prefer
/// `POST /api/v1/data-subject/export`.
#[utoipa::path(get, path = "/api/v1/data-subject", tag = "data protection", security(("bearer" = [])),
    params(PersonParams),
    responses((status = 200, body = Bundle), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn export(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<PersonParams>,
) -> ApiResult<Json<Bundle>> {
    exported(&state, &actor, params.email.as_deref(), params.phone.as_deref(), params.reference.as_deref()).await
}

/// The export for the person named by `email`, `phone` or `reference` (exactly one).
async fn exported(
    state: &AppState,
    actor: &crate::domain::access::Actor,
    email: Option<&str>,
    phone: Option<&str>,
    reference: Option<&str>,
) -> ApiResult<Json<Bundle>> {
    let person = Person::of(email, phone, reference)?;
    let tz = state.settings.time_zone;
    let bundle =
        data_subject::find(&state.db, &state.clock, actor, &person, AuditAction::DataSubjectExported, tz).await?;
    Ok(Json(bundle))
}

/// Whom an export concerns: exactly one of the three.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The person's email address (case and surrounding spaces do not matter).
    pub email: Option<String>,
    /// The person's phone number (spaces, dashes, `+49` or a leading 0 do not matter).
    pub phone: Option<String>,
    /// A booking's reference (with or without dash): that booking, for a person whose address
    /// and number changed or who gave neither.
    pub reference: Option<String>,
}

/// The export of `GET /api/v1/data-subject`, the person named in the body: their email address
/// or phone number then reaches no access log, proxy log or browser history on its way.
#[utoipa::path(post, path = "/api/v1/data-subject/export", tag = "data protection", security(("bearer" = [])),
    request_body = ExportRequest,
    responses((status = 200, body = Bundle), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn export_posted(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ExportRequest>,
) -> ApiResult<Json<Bundle>> {
    exported(&state, &actor, body.email.as_deref(), body.phone.as_deref(), body.reference.as_deref()).await
}

/// An erasure before the retention time.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub email: Option<String>,
    pub phone: Option<String>,
    /// A booking's reference: that booking.
    pub reference: Option<String>,
    /// Why (recorded in the audit).
    pub reason: ErasureReason,
}

/// Erases every piece of personal data held about a person (Art. 17 GDPR), the anonymisation
/// of the retention; anonymous facts for the statistics stay. Returns the counts erased.
#[utoipa::path(post, path = "/api/v1/data-subject/erase", tag = "data protection", security(("bearer" = [])),
    request_body = EraseRequest,
    responses((status = 200, body = ErasureCounts), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "`callback_busy`: a desk is booking from one of the person's callback entries; nothing was erased"),
        (status = 422, body = Problem)))]
async fn erase(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<EraseRequest>,
) -> ApiResult<Json<ErasureCounts>> {
    let person = Person::of(body.email.as_deref(), body.phone.as_deref(), body.reference.as_deref())?;
    let counts =
        data_subject::erase(&state.db, &state.clock, &actor, &person, body.reason, &state.settings.data_dir).await?;
    Ok(Json(counts))
}
