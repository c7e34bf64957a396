//! The audit of accesses to personal data, for admins: filtered and paged, or as CSV.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain::audit::{ActorKind, AuditAction};
use crate::http::dto::{date_range, local};
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiQuery, Auth};
use crate::services::audit::{self, AuditLine, AuditQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit)).routes(routes!(export_audit))
}

/// Filters of the audit; every one is optional.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// First local day `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local day, inclusive.
    pub to: Option<String>,
    /// Who acted: a staff id or login, or `system`, `citizen`, `anonymous`, `staff`.
    pub actor: Option<String>,
    /// The person concerned: a staff id or login; the records whose `target` is `staff:<id>`
    /// (their account, roles, password, second factor and API tokens changed, by anyone).
    pub subject: Option<String>,
    /// A booking id or reference: the records that concern it.
    pub booking: Option<String>,
    pub action: Option<AuditAction>,
    /// Records older than the one with this id (`next_before` of the previous page).
    pub before: Option<i32>,
    /// Records per page (default 50, at most 500); per CSV download (default and at most 10,000).
    pub limit: Option<u64>,
}

impl AuditParams {
    fn into_query(self, tz: Tz) -> ApiResult<AuditQuery> {
        let (from, to) = date_range(self.from.as_deref(), self.to.as_deref(), tz)?;
        Ok(AuditQuery {
            from,
            to,
            actor: self.actor,
            subject: self.subject,
            booking: self.booking,
            action: self.action,
            before: self.before,
            limit: self.limit,
        })
    }
}

/// Who acted.
#[derive(Serialize, ToSchema)]
pub struct AuditActorResponse {
    pub kind: ActorKind,
    pub staff_id: Option<i32>,
    pub login: Option<String>,
    pub name: Option<String>,
}

/// A booking an audit record concerns.
#[derive(Serialize, ToSchema)]
pub struct AuditBookingResponse {
    pub id: Uuid,
    /// `None` when no booking has this id any more.
    pub reference: Option<String>,
}

/// One audit record.
#[derive(Serialize, ToSchema)]
pub struct AuditRecordResponse {
    pub id: i32,
    pub at: DateTime<FixedOffset>,
    pub actor: AuditActorResponse,
    /// The address the request came from; none for a citizen (their use of their link is recorded without it).
    pub client_addr: Option<String>,
    pub action: AuditAction,
    /// Slug of the unit concerned.
    pub unit: Option<String>,
    pub bookings: Vec<AuditBookingResponse>,
    /// How many items were seen, exported or removed.
    pub count: Option<i64>,
    /// Another object concerned, e.g. `staff:12`, `slot:40`.
    pub target: String,
    pub detail: serde_json::Value,
}

/// A page of audit records, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPageResponse {
    pub records: Vec<AuditRecordResponse>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i32>,
}

fn record_response(line: AuditLine, tz: Tz) -> AuditRecordResponse {
    let r = line.record;
    AuditRecordResponse {
        id: r.id,
        at: local(r.at, tz),
        actor: AuditActorResponse {
            kind: r.actor.kind(),
            staff_id: r.actor.staff_id().map(i32::from),
            login: line.actor_login,
            name: line.actor_name,
        },
        client_addr: r.client,
        action: r.action,
        unit: line.unit.map(|(slug, _)| slug),
        bookings: line.bookings.into_iter().map(|(id, reference)| AuditBookingResponse { id, reference }).collect(),
        count: r.item_count,
        target: r.target,
        detail: r.detail,
    }
}

/// The audit records (admins only; the read is itself recorded).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditPageResponse), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn list_audit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPageResponse>> {
    let tz = state.settings.time_zone;
    let page = audit::read(&state.db, &state.clock, &actor, params.into_query(tz)?).await?;
    let records = page.lines.into_iter().map(|line| record_response(line, tz)).collect();
    Ok(Json(AuditPageResponse { records, next_before: page.next_before }))
}

/// The audit records as CSV, up to 10,000 (admins only; recorded). `X-Next-Before` names the
/// `before` of the rest when more match.
#[utoipa::path(get, path = "/api/v1/audit.csv", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn export_audit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    let tz = state.settings.time_zone;
    let csv = audit::export(&state.db, &state.clock, &actor, params.into_query(tz)?, tz).await?;
    Ok(csv_response("audit.csv", csv.text, csv.next_before))
}

/// A CSV attachment named `filename`, with `X-Next-Before` when more rows match.
pub fn csv_response(filename: &str, text: String, next_before: Option<i32>) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        text,
    )
        .into_response();
    if let Some(before) = next_before {
        response.headers_mut().insert(HeaderName::from_static("x-next-before"), HeaderValue::from(before));
    }
    response
}
