//! Units, their counsellors and free slots; units for admins (staff: `staff.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::citizen::{MAX_APPOINTMENT_MINUTES, MIN_APPOINTMENT_MINUTES};
use crate::domain::ids::{LocationId, StaffId};
use crate::domain::language::Language;
use crate::domain::records::{Location, Unit};
use crate::http::dto::{CounsellorRef, codes, local, parse_date};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::services::availability::{self, Daypart, FreeSlotQuery};
use crate::services::bookings::authorize;
use crate::services::{directory, retention};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(update_unit))
        .routes(routes!(list_counsellors))
        .routes(routes!(list_free_slots))
}

/// Where a unit receives citizens.
#[derive(Serialize, ToSchema)]
pub struct LocationResponse {
    /// The location's id (`/api/v1/locations/{id}`), as a new unit names it.
    pub id: i32,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub floor: String,
    pub accessibility_notes: String,
}

impl From<Location> for LocationResponse {
    fn from(l: Location) -> Self {
        Self {
            id: l.id.get(),
            street: l.street,
            postal_code: l.postal_code,
            city: l.city,
            floor: l.floor,
            accessibility_notes: l.accessibility_notes,
        }
    }
}

/// A counselling unit.
#[derive(Serialize, ToSchema)]
pub struct UnitResponse {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub short_name: String,
    pub phone: String,
    pub email: String,
    pub default_appointment_minutes: i32,
    pub languages: Vec<String>,
    pub confidential: bool,
    /// Days a booking's personal data is kept after the appointment (or its cancellation).
    pub retention_days: i32,
    pub location: Option<LocationResponse>,
    /// The unit's version: it rises with every change of the unit's settings (its retention, its
    /// self-service settings). Sent back as `version` with a change, it makes the change happen
    /// only to this version (409 `concurrent_update` when another change came first).
    pub version: i32,
}

fn unit_response(unit: Unit, location: Option<Location>) -> UnitResponse {
    UnitResponse {
        id: unit.id.get(),
        slug: unit.slug,
        name: unit.name,
        short_name: unit.short_name,
        phone: unit.phone,
        email: unit.email,
        default_appointment_minutes: unit.default_slot_minutes,
        languages: codes(&unit.languages),
        confidential: unit.confidential,
        retention_days: unit.retention_days,
        location: location.map(LocationResponse::from),
        version: unit.version,
    }
}

/// The units of the department the caller works in (admins: all), as the desk offers them.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", security(("bearer" = [])),
    responses((status = 200, body = Vec<UnitResponse>), (status = 401, body = Problem)))]
async fn list_units(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Vec<UnitResponse>>> {
    let mut out = Vec::new();
    for unit in directory::list_units(&state.db).await?.into_iter().filter(|unit| actor.can_work_in(unit.id)) {
        let location = directory::location_of(&state.db, &unit).await.ok();
        out.push(unit_response(unit, location));
    }
    Ok(Json(out))
}

/// A new unit.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    #[garde(length(min = 2, max = 40), pattern(r"^[a-z0-9-]+$"))]
    pub slug: String,
    #[garde(length(chars, min = 1, max = 200))]
    pub name: String,
    #[garde(length(chars, min = 1, max = 60))]
    pub short_name: String,
    #[garde(length(chars, min = 3, max = 60))]
    pub phone: String,
    #[garde(email)]
    pub email: String,
    #[garde(skip)]
    pub location_id: i32,
    #[garde(range(min = MIN_APPOINTMENT_MINUTES as i32, max = MAX_APPOINTMENT_MINUTES as i32))]
    pub default_appointment_minutes: i32,
    #[garde(skip)]
    #[serde(default)]
    pub languages: Vec<Language>,
    #[garde(skip)]
    #[serde(default)]
    pub confidential: bool,
    /// Days a booking's personal data is kept after the appointment or cancellation (1–3650,
    /// default 90).
    #[garde(inner(range(min = 1, max = 3650)))]
    #[serde(default)]
    pub retention_days: Option<i32>,
}

/// Adds a unit (admins only).
#[utoipa::path(post, path = "/api/v1/units", tag = "units", security(("bearer" = [])), request_body = CreateUnitRequest,
    responses((status = 201, body = UnitResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_unit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateUnitRequest>,
) -> ApiResult<(StatusCode, Json<UnitResponse>)> {
    body.validate()?;
    let new = directory::UnitInput {
        slug: &body.slug,
        name: &body.name,
        short_name: &body.short_name,
        phone: &body.phone,
        email: &body.email,
        location_id: LocationId::new(body.location_id),
        default_slot_minutes: body.default_appointment_minutes,
        languages: &body.languages,
        confidential: body.confidential,
        retention_days: body.retention_days.unwrap_or(crate::domain::retention::DEFAULT_RETENTION_DAYS),
    };
    let unit = directory::create_unit(&state.db, &state.clock, &actor, new).await?;
    let location = directory::location_of(&state.db, &unit).await.ok();
    Ok((StatusCode::CREATED, Json(unit_response(unit, location))))
}

/// A change of a unit's settings.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    /// Days a booking's personal data is kept after the appointment or cancellation (1–3650).
    #[garde(range(min = 1, max = 3650))]
    pub retention_days: i32,
    /// The unit's `version` as the caller saw it: the change is made only if the unit is still
    /// that version (else 409 `concurrent_update`). Without it, whatever the unit is now.
    #[garde(skip)]
    pub version: Option<i32>,
}

/// Changes a unit's retention of personal data (admins only); with `version`, only if the unit is
/// still that version.
#[utoipa::path(patch, path = "/api/v1/units/{unit}", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")), request_body = UpdateUnitRequest,
    responses((status = 200, body = UnitResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`concurrent_update`: the unit is no longer the `version` sent"),
        (status = 422, body = Problem)))]
async fn update_unit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUnitRequest>,
) -> ApiResult<Json<UnitResponse>> {
    body.validate()?;
    let unit = directory::find_unit(&state.db, &unit).await?;
    let unit = retention::set_retention_days(&state.db, &state.clock, &actor, &unit, body.retention_days, body.version)
        .await?;
    state.units.forget_all();
    let location = directory::location_of(&state.db, &unit).await.ok();
    Ok(Json(unit_response(unit, location)))
}

/// Counsellors of a unit (staff of the unit and admins).
#[utoipa::path(get, path = "/api/v1/units/{unit}/counsellors", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")),
    responses((status = 200, body = Vec<CounsellorRef>), (status = 404, body = Problem)))]
async fn list_counsellors(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<Vec<CounsellorRef>>> {
    let unit = state.unit(&unit).await?;
    authorize(state.book(), &actor, unit.id, "unit.read", &format!("unit:{}", unit.id)).await?;
    let counsellors = directory::counsellors(&state.db, &unit).await?;
    Ok(Json(counsellors.iter().map(CounsellorRef::from).collect()))
}

/// Query of a free-slot search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreeSlotParams {
    /// First local day, `YYYY-MM-DD` (default: today).
    pub from: Option<String>,
    /// Last local day, inclusive (default: `from` + 27 days).
    pub to: Option<String>,
    /// Only this counsellor (id).
    pub counsellor: Option<i32>,
    /// Only counsellors who speak this language (a supported ISO 639 code, e.g. `tr`).
    #[param(value_type = Option<Language>)]
    pub language: Option<Language>,
    /// Only slots starting in the `morning` (before 12:00) or the `afternoon` (local time).
    pub daypart: Option<String>,
    /// At most this many slots (default 20, at most 500).
    pub limit: Option<u32>,
}

fn parse_daypart(value: &str) -> Result<Daypart, ApiError> {
    Daypart::parse(value).ok_or_else(|| ApiError::field("daypart", "must be `morning` or `afternoon`"))
}

/// A free slot.
#[derive(Serialize, ToSchema)]
pub struct FreeSlotResponse {
    pub slot_id: i32,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub duration_minutes: i64,
    pub seats_left: i32,
    pub counsellor: CounsellorRef,
}

/// The next free slots of a unit, soonest first (staff of the unit and admins).
#[utoipa::path(get, path = "/api/v1/units/{unit}/free-slots", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id"), FreeSlotParams),
    responses((status = 200, body = Vec<FreeSlotResponse>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_free_slots(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiQuery(params): ApiQuery<FreeSlotParams>,
) -> ApiResult<Json<Vec<FreeSlotResponse>>> {
    let tz = state.settings.time_zone;
    let unit = state.unit(&unit).await?;
    // Staff see the units they work in: another unit's free and taken times tell its
    // counsellors' days (and their absences).
    authorize(state.book(), &actor, unit.id, "slot.list", &format!("unit:{}", unit.id)).await?;
    let today = crate::domain::time::local_date(state.clock.now(), tz);
    let from = params.from.as_deref().map(|v| parse_date("from", v)).transpose()?.unwrap_or(today);
    let to = match params.to.as_deref() {
        Some(v) => parse_date("to", v)?,
        None => from + chrono::Days::new(27),
    };
    let query = FreeSlotQuery {
        from,
        to,
        counsellor_id: params.counsellor.map(StaffId::new),
        language: params.language,
        daypart: params.daypart.as_deref().map(parse_daypart).transpose()?,
        limit: params.limit.unwrap_or(20),
    };
    let slots = availability::free_slots(state.book(), &unit, &query).await?;
    let out = slots
        .iter()
        .map(|free| FreeSlotResponse {
            slot_id: free.slot.id.get(),
            starts_at: local(free.slot.starts_at, tz),
            ends_at: local(free.slot.ends_at, tz),
            duration_minutes: (free.slot.ends_at - free.slot.starts_at).num_minutes(),
            seats_left: free.slot.capacity - free.slot.booked_count,
            counsellor: CounsellorRef::from(&free.counsellor),
        })
        .collect();
    Ok(Json(out))
}
