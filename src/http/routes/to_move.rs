//! The appointments of a unit to move: booked, from now on, and unable to take place as booked.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::local;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiPath, Auth};
use crate::services::to_move;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_bookings_to_move))
}

/// The appointments to move, the soonest first.
#[derive(Serialize, ToSchema)]
pub struct ToMoveResponse {
    /// The soonest 500 of them.
    pub bookings: Vec<BookingToMove>,
    /// How many there are in all.
    pub total: u64,
}

/// A booked appointment that cannot take place as booked: call the citizen, then move or cancel it.
#[derive(Serialize, ToSchema)]
pub struct BookingToMove {
    pub booking_id: uuid::Uuid,
    pub reference: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub counsellor_id: i32,
    pub citizen_name: String,
    pub citizen_phone: Option<String>,
    /// Why, at least one of: `closure` (of the unit or the department), `absence` (of the
    /// counsellor), `closed_day` (a public holiday or extra closure day), `no_counsellor` (the
    /// counsellor was deactivated or no longer counsels in the unit).
    pub reasons: Vec<&'static str>,
    /// Why a lead placed it by overriding a rule (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

/// The unit's booked appointments from now on that a closure, an absence of their counsellor, a
/// closed day or a counsellor who left strands, also those a lead placed there by overriding a
/// rule (with `override_reason`).
#[utoipa::path(get, path = "/api/v1/units/{unit}/bookings-to-move", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")),
    responses((status = 200, body = ToMoveResponse), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn list_bookings_to_move(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<ToMoveResponse>> {
    let tz = state.settings.time_zone;
    let found = to_move::for_unit(state.book(), &actor, &unit).await?;
    let bookings = found
        .listed
        .into_iter()
        .map(|(b, why)| BookingToMove {
            booking_id: b.id,
            reference: b.reference.to_string(),
            starts_at: local(b.starts_at, tz),
            ends_at: local(b.ends_at, tz),
            counsellor_id: b.counsellor_id.get(),
            citizen_name: b.citizen.name,
            citizen_phone: b.citizen.phone,
            reasons: why.into_iter().map(|w| w.as_str()).collect(),
            override_reason: b.override_reason,
        })
        .collect();
    Ok(Json(ToMoveResponse { bookings, total: found.total }))
}
