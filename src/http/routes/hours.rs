//! Counselling hours, absences and closures of a unit: read for members, write for unit leads.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::citizen::{MAX_APPOINTMENT_MINUTES, MIN_APPOINTMENT_MINUTES};
use crate::domain::ids::{AbsenceId, ClosureId, RuleId, StaffId, UnitId};
use crate::domain::records::RuleFields;
use crate::domain::records::{Absence, Closure, HoursRule};
use crate::domain::time::{day_bounds, local_date, parse_local_time};
use crate::http::dto::{DATE_EXPECTED, date_range, local, parse_date, parse_instant};
use crate::http::error::{ApiError, ApiResult, FieldError, Problem, field_errors};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::http::paging::{self, Next, Paged};
use crate::services::ServiceError;
use crate::services::hours::{self, Affected, HoursChange, SpanPage, Target};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hours, create_hours))
        .routes(routes!(update_hours, delete_hours))
        .routes(routes!(follow_hours))
        .routes(routes!(list_absences, create_absence))
        .routes(routes!(delete_absence))
        .routes(routes!(list_closures, create_closure))
        .routes(routes!(delete_closure))
}

/// Weekly counselling hours of one counsellor.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursRequest {
    #[garde(skip)]
    pub counsellor_id: i32,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    #[garde(range(min = 1, max = 7))]
    pub weekday: u8,
    /// Local start `HH:MM`.
    #[garde(length(min = 4, max = 5))]
    pub start: String,
    /// Local end `HH:MM`.
    #[garde(length(min = 4, max = 5))]
    pub end: String,
    #[garde(range(min = MIN_APPOINTMENT_MINUTES as i32, max = MAX_APPOINTMENT_MINUTES as i32))]
    pub slot_minutes: i32,
    #[garde(range(min = 0, max = 240))]
    #[serde(default)]
    pub buffer_minutes: i32,
    /// Seats per slot (group sessions > 1).
    #[garde(range(min = 1, max = 100))]
    #[serde(default = "one")]
    pub capacity: i32,
    /// `YYYY-MM-DD`; default today.
    #[garde(skip)]
    pub valid_from: Option<String>,
    #[garde(skip)]
    pub valid_until: Option<String>,
    /// On a replacement (PUT): the hours' `updated_at` as last read. When given and the hours
    /// were saved since (another lead changed them meanwhile), nothing is written: 409
    /// `concurrent_update`. Without it the replacement is made whatever changed since.
    #[garde(skip)]
    pub updated_at: Option<String>,
}

fn one() -> i32 {
    1
}

/// Stored counselling hours.
#[derive(Serialize, ToSchema)]
pub struct HoursResponse {
    pub id: i32,
    pub counsellor_id: i32,
    pub weekday: u8,
    pub start: String,
    pub end: String,
    pub slot_minutes: i32,
    pub buffer_minutes: i32,
    pub capacity: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// When they were last saved (UTC): send it back with a replacement to have it refused when
    /// someone changed them since.
    pub updated_at: DateTime<Utc>,
}

impl From<HoursRule> for HoursResponse {
    fn from(r: HoursRule) -> Self {
        Self {
            id: r.id.get(),
            counsellor_id: r.counsellor_id.get(),
            weekday: r.weekday,
            start: r.start_local.format("%H:%M").to_string(),
            end: r.end_local.format("%H:%M").to_string(),
            slot_minutes: r.slot_minutes,
            buffer_minutes: r.buffer_minutes,
            capacity: r.capacity,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            updated_at: r.updated_at,
        }
    }
}

/// A change to counselling hours and what it did to the stored slots.
#[derive(Serialize, ToSchema)]
pub struct HoursChangeResponse {
    pub rule: Option<HoursResponse>,
    /// The hours that the new ones follow (`POST …/{id}/successor`), as ended the day before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<HoursResponse>,
    /// Slots the unit's hours now produce within the horizon.
    pub slots_wanted: usize,
    /// Unbooked slots removed; booked slots are never removed.
    pub slots_removed: u64,
    /// Booked appointments the change left outside the hours (their slot left the offer): to be
    /// moved or told. The soonest 500 (`affected_total` says how many there are).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected_bookings: Vec<AffectedBooking>,
    /// How many booked appointments the change left outside the hours (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_total: Option<u64>,
}

impl HoursChangeResponse {
    fn of(c: HoursChange, tz: chrono_tz::Tz) -> Self {
        Self {
            rule: c.rule.map(HoursResponse::from),
            ended: c.ended.map(HoursResponse::from),
            slots_wanted: c.regenerated.slots_wanted,
            slots_removed: c.regenerated.slots_removed,
            affected_total: (c.affected.total > 0).then_some(c.affected.total),
            affected_bookings: affected_bookings(c.affected, tz),
        }
    }
}

/// The listed bookings of `hit` as the API names them.
fn affected_bookings(hit: Affected, tz: chrono_tz::Tz) -> Vec<AffectedBooking> {
    hit.listed
        .into_iter()
        .map(|b| AffectedBooking { id: b.id, reference: b.reference.to_string(), starts_at: local(b.starts_at, tz) })
        .collect()
}

impl HoursRequest {
    /// The hours' fields, or every field that is wrong in one 422: what is out of range, what
    /// cannot be read, and what the values break together (an end before the start, a slot longer
    /// than the hours); a problem judged against a field that could not be read is left out.
    /// What needs the stored state (the counsellor, an end in the past, overlaps) the service
    /// checks after.
    fn into_fields(self, unit_id: UnitId, today: NaiveDate) -> ApiResult<RuleFields> {
        let mut errors = self.validate().err().map(|report| field_errors(&report)).unwrap_or_default();
        let mut read = |field: &'static str, parsed: Result<NaiveTime, String>| match parsed {
            Ok(value) => value,
            Err(message) => {
                if !errors.iter().any(|e| e.field == field) {
                    errors.push(FieldError { field: field.to_owned(), message });
                }
                NaiveTime::MIN
            }
        };
        let start_local = read("start", parse_local_time(&self.start).map_err(|e| e.to_string()));
        let end_local = read("end", parse_local_time(&self.end).map_err(|e| e.to_string()));
        let mut date = |field: &'static str, value: Option<&str>| match value.map(crate::domain::time::parse_date) {
            None => None,
            Some(Ok(date)) => Some(date),
            Some(Err(_)) => {
                errors.push(FieldError { field: field.to_owned(), message: DATE_EXPECTED.to_owned() });
                None
            }
        };
        let valid_from = date("valid_from", self.valid_from.as_deref()).unwrap_or(today);
        let valid_until = date("valid_until", self.valid_until.as_deref());
        let fields = RuleFields {
            unit_id,
            counsellor_id: StaffId::new(self.counsellor_id),
            weekday: self.weekday,
            start_local,
            end_local,
            slot_minutes: self.slot_minutes,
            buffer_minutes: self.buffer_minutes,
            capacity: self.capacity,
            valid_from,
            valid_until,
        };
        let unread: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let problems = hours::rule_problems_beside(&fields, &unread);
        errors.extend(problems.into_iter().map(|problem| match problem.into_error() {
            ServiceError::Invalid { field, message } => FieldError { field: field.to_owned(), message },
            other => FieldError { field: problem.field().to_owned(), message: other.to_string() },
        }));
        if errors.is_empty() {
            return Ok(fields);
        }
        errors.sort_by_key(|e| hours::rule_field_rank(&e.field));
        Err(ApiError::validation(errors))
    }
}

/// Counselling hours of a unit.
#[utoipa::path(get, path = "/api/v1/units/{unit}/counselling-hours", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path)), responses((status = 200, body = Vec<HoursResponse>), (status = 403, body = Problem)))]
async fn list_hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<Vec<HoursResponse>>> {
    let unit = state.unit(&unit).await?;
    let rules = hours::list_rules(state.book(), &actor, &unit).await?;
    Ok(Json(rules.into_iter().map(HoursResponse::from).collect()))
}

/// Adds counselling hours and materialises their slots (unit leads).
#[utoipa::path(post, path = "/api/v1/units/{unit}/counselling-hours", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path)), request_body = HoursRequest,
    responses((status = 201, body = HoursChangeResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<HoursRequest>,
) -> ApiResult<(StatusCode, Json<HoursChangeResponse>)> {
    let unit = state.unit(&unit).await?;
    let fields = body.into_fields(unit.id, local_date(state.clock.now(), state.settings.time_zone))?;
    let change =
        hours::save_rule(state.book(), &actor, &unit, Target::New, None, fields, state.horizon_until()).await?;
    Ok((StatusCode::CREATED, Json(HoursChangeResponse::of(change, state.settings.time_zone))))
}

/// Replaces counselling hours; unbooked slots follow, booked ones stay (unit leads): those the new
/// hours no longer hold are named in `affected_bookings`.
#[utoipa::path(put, path = "/api/v1/units/{unit}/counselling-hours/{id}", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), ("id" = i32, Path)), request_body = HoursRequest,
    responses((status = 200, body = HoursChangeResponse), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "changed since `updated_at`"), (status = 422, body = Problem)))]
async fn update_hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((unit, id)): ApiPath<(String, i32)>,
    ApiJson(body): ApiJson<HoursRequest>,
) -> ApiResult<Json<HoursChangeResponse>> {
    let unit = state.unit(&unit).await?;
    let tz = state.settings.time_zone;
    let seen = body.updated_at.as_deref().map(|at| parse_instant("updated_at", at, tz)).transpose()?;
    let fields = body.into_fields(unit.id, local_date(state.clock.now(), tz))?;
    let rule = Target::Replace(RuleId::new(id));
    let change = hours::save_rule(state.book(), &actor, &unit, rule, seen, fields, state.horizon_until()).await?;
    Ok(Json(HoursChangeResponse::of(change, state.settings.time_zone)))
}

/// Changes hours from a later day on: the hours `{id}` stay as they are until the day before
/// `valid_from` (they are given that end, unless they end earlier) and the request's hours are new
/// hours from that day, in one change. A replacement (PUT) with a later `valid_from` ends the
/// hours at once, and the counsellor has none on their weekday until then. `updated_at` as for a
/// replacement (unit leads).
#[utoipa::path(post, path = "/api/v1/units/{unit}/counselling-hours/{id}/successor", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), ("id" = i32, Path)), request_body = HoursRequest,
    responses((status = 201, body = HoursChangeResponse, description = "`rule`: the new hours; `ended`: the hours they follow"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "changed since `updated_at`, or overlapping other hours of the counsellor"),
        (status = 422, body = Problem, description = "`valid_from` not after today and the hours' first day, or the hours have ended")))]
async fn follow_hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((unit, id)): ApiPath<(String, i32)>,
    ApiJson(body): ApiJson<HoursRequest>,
) -> ApiResult<(StatusCode, Json<HoursChangeResponse>)> {
    let unit = state.unit(&unit).await?;
    let tz = state.settings.time_zone;
    let seen = body.updated_at.as_deref().map(|at| parse_instant("updated_at", at, tz)).transpose()?;
    let fields = body.into_fields(unit.id, local_date(state.clock.now(), tz))?;
    let rule = Target::Follow(RuleId::new(id));
    let change = hours::save_rule(state.book(), &actor, &unit, rule, seen, fields, state.horizon_until()).await?;
    Ok((StatusCode::CREATED, Json(HoursChangeResponse::of(change, tz))))
}

/// Deletes counselling hours; their unbooked future slots go (unit leads); the booked ones stay,
/// named in `affected_bookings`.
#[utoipa::path(delete, path = "/api/v1/units/{unit}/counselling-hours/{id}", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), ("id" = i32, Path)), responses((status = 200, body = HoursChangeResponse), (status = 404, body = Problem)))]
async fn delete_hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((unit, id)): ApiPath<(String, i32)>,
) -> ApiResult<Json<HoursChangeResponse>> {
    let unit = state.unit(&unit).await?;
    let change = hours::delete_rule(state.book(), &actor, &unit, RuleId::new(id), state.horizon_until()).await?;
    Ok(Json(HoursChangeResponse::of(change, state.settings.time_zone)))
}

/// Date range of a list (`from`, `to` inclusive local days; default: today + 90 days), read a
/// page at a time.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only those listed after the one with this id (the `X-Next-After` of the previous page).
    pub after: Option<i32>,
    /// At most this many (default 100, at most 1000); `X-Next-After` says when more follow.
    pub limit: Option<u64>,
}

/// A counsellor's absence: `starts_at`/`ends_at` (RFC 3339 or local), or whole local days
/// `from_date`..=`until_date`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceRequest {
    /// Whose absence.
    #[garde(skip)]
    pub counsellor_id: Option<i32>,
    #[garde(skip)]
    pub starts_at: Option<String>,
    #[garde(skip)]
    pub ends_at: Option<String>,
    #[garde(skip)]
    pub from_date: Option<String>,
    #[garde(skip)]
    pub until_date: Option<String>,
    /// Why: 1 to 200 characters on one line, counted after leading and trailing spaces are
    /// trimmed (checked by the service, as for the pages).
    #[garde(skip)]
    pub reason: String,
}

/// A closure of the whole unit: `starts_at`/`ends_at` (RFC 3339 or local), or whole local days
/// `from_date`..=`until_date`. It names no counsellor: one counsellor away is an absence, and a
/// closure body with `counsellor_id` is refused as any unknown field (before, it was dropped and
/// the whole unit closed).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureRequest {
    #[garde(skip)]
    pub starts_at: Option<String>,
    #[garde(skip)]
    pub ends_at: Option<String>,
    #[garde(skip)]
    pub from_date: Option<String>,
    #[garde(skip)]
    pub until_date: Option<String>,
    /// Why: 1 to 200 characters on one line, counted after leading and trailing spaces are
    /// trimmed (checked by the service, as for the pages).
    #[garde(skip)]
    pub reason: String,
}

/// The span fields of an absence or closure as sent.
struct SpanFields<'a> {
    starts_at: Option<&'a str>,
    ends_at: Option<&'a str>,
    from_date: Option<&'a str>,
    until_date: Option<&'a str>,
}

impl SpanFields<'_> {
    /// The span in UTC. A whole-day span ends with the end of `until_date` (default: `from_date`).
    fn span(&self, tz: chrono_tz::Tz) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
        match (self.starts_at, self.ends_at, self.from_date) {
            (Some(s), Some(e), None) if self.until_date.is_none() => {
                Ok((parse_instant("starts_at", s, tz)?, parse_instant("ends_at", e, tz)?))
            }
            (None, None, Some(from)) => {
                let from = parse_date("from_date", from)?;
                let until = self.until_date.map(|v| parse_date("until_date", v)).transpose()?.unwrap_or(from);
                Ok((day_bounds(from, tz).0, day_bounds(until, tz).1))
            }
            (_, _, None) if self.until_date.is_some() => {
                Err(ApiError::field("until_date", "goes with from_date, not with starts_at and ends_at"))
            }
            _ => Err(ApiError::field("starts_at", "give starts_at and ends_at, or from_date (and until_date)")),
        }
    }

    /// The service's refusal of the span, at the field the client sent: the service checks
    /// instants and names `ends_at`, which a whole-day span states as `until_date` (or, without
    /// one, `from_date`).
    fn refusal_as_sent(&self, err: ServiceError) -> ApiError {
        match err {
            ServiceError::Invalid { field: "ends_at", message } if self.from_date.is_some() => {
                let field = if self.until_date.is_some() { "until_date" } else { "from_date" };
                ApiError::field(field, message)
            }
            other => other.into(),
        }
    }
}

impl AbsenceRequest {
    fn fields(&self) -> SpanFields<'_> {
        SpanFields {
            starts_at: self.starts_at.as_deref(),
            ends_at: self.ends_at.as_deref(),
            from_date: self.from_date.as_deref(),
            until_date: self.until_date.as_deref(),
        }
    }
}

impl ClosureRequest {
    fn fields(&self) -> SpanFields<'_> {
        SpanFields {
            starts_at: self.starts_at.as_deref(),
            ends_at: self.ends_at.as_deref(),
            from_date: self.from_date.as_deref(),
            until_date: self.until_date.as_deref(),
        }
    }
}

/// An absence or closure, with the active bookings it affects.
#[derive(Serialize, ToSchema)]
pub struct SpanResponse {
    pub id: i32,
    pub counsellor_id: Option<i32>,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    /// Why. An absence's reason (it may be an illness) is shown only to the unit's leads, admins
    /// and the absent counsellor; to the rest of the unit an absence says who and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Ids and references of active bookings inside the span: to be moved or cancelled. The
    /// soonest 500 (`affected_total` says how many there are).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected_bookings: Vec<AffectedBooking>,
    /// How many active bookings of the unit the span strands in all (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_total: Option<u64>,
    /// An absence: how many of the counsellor's active bookings in other units it strands too,
    /// only counted (absent when none). Those units' staff see them marked in the week view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_in_other_units: Option<u64>,
}

/// A booking an absence or closure collides with.
#[derive(Serialize, ToSchema)]
pub struct AffectedBooking {
    pub id: uuid::Uuid,
    pub reference: String,
    pub starts_at: DateTime<FixedOffset>,
}

fn span_response(id: i32, counsellor_id: Option<i32>, span: Span, tz: chrono_tz::Tz, hit: Affected) -> SpanResponse {
    SpanResponse {
        id,
        counsellor_id,
        starts_at: local(span.starts_at, tz),
        ends_at: local(span.ends_at, tz),
        reason: Some(span.reason),
        affected_total: (hit.total > 0).then_some(hit.total),
        affected_in_other_units: (hit.elsewhere > 0).then_some(hit.elsewhere),
        affected_bookings: affected_bookings(hit, tz),
    }
}

/// What an absence and a closure share.
struct Span {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: String,
}

fn absence_response(a: Absence, tz: chrono_tz::Tz, hit: Affected) -> SpanResponse {
    let span = Span { starts_at: a.starts_at, ends_at: a.ends_at, reason: a.reason };
    span_response(a.id.get(), Some(a.staff_id.get()), span, tz, hit)
}

fn closure_response(c: Closure, tz: chrono_tz::Tz, hit: Affected) -> SpanResponse {
    let span = Span { starts_at: c.starts_at, ends_at: c.ends_at, reason: c.reason };
    span_response(c.id.get(), None, span, tz, hit)
}

fn range(state: &AppState, params: &RangeParams) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = state.settings.time_zone;
    let (from, to) = date_range(params.from.as_deref(), params.to.as_deref(), tz)?;
    let from = from.unwrap_or_else(|| day_bounds(local_date(state.clock.now(), tz), tz).0);
    Ok((from, to.unwrap_or(from + chrono::TimeDelta::days(90))))
}

/// Absences of the unit's counsellors, soonest first.
#[utoipa::path(get, path = "/api/v1/units/{unit}/absences", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), RangeParams),
    responses((status = 200, body = Vec<SpanResponse>, headers(("X-Next-After" = i32,
            description = "more follow; send it as `after` for the next page"))),
        (status = 422, body = Problem)))]
async fn list_absences(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiQuery(params): ApiQuery<RangeParams>,
) -> ApiResult<Paged<SpanResponse>> {
    let unit = state.unit(&unit).await?;
    let part = SpanPage {
        range: range(&state, &params)?,
        after: params.after.map(AbsenceId::new),
        limit: paging::limit(params.limit)?,
    };
    let page = hours::absences_page(state.book(), &actor, &unit, part).await?;
    let tz = state.settings.time_zone;
    let shown = |a: Absence| {
        let may_know_why = actor.can_set_absence(unit.id, a.staff_id);
        let mut shown = absence_response(a, tz, Affected::default());
        if !may_know_why {
            shown.reason = None;
        }
        shown
    };
    Ok(Paged::of(page, |last| Next::After(last.id.get()), shown))
}

/// Records an absence; answers with the bookings it affects.
#[utoipa::path(post, path = "/api/v1/units/{unit}/absences", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path)), request_body = AbsenceRequest,
    responses((status = 201, body = SpanResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_absence(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<AbsenceRequest>,
) -> ApiResult<(StatusCode, Json<SpanResponse>)> {
    body.validate()?;
    let tz = state.settings.time_zone;
    let unit = state.unit(&unit).await?;
    let sent = body.fields();
    let (starts_at, ends_at) = sent.span(tz)?;
    let staff_id = body.counsellor_id.ok_or_else(|| ApiError::field("counsellor_id", "required"))?;
    let (absence, hit) =
        hours::add_absence(state.book(), &actor, &unit, StaffId::new(staff_id), starts_at, ends_at, body.reason.trim())
            .await
            .map_err(|err| sent.refusal_as_sent(err))?;
    Ok((StatusCode::CREATED, Json(absence_response(absence, tz, hit))))
}

/// Removes an absence.
#[utoipa::path(delete, path = "/api/v1/units/{unit}/absences/{id}", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), ("id" = i32, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_absence(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((unit, id)): ApiPath<(String, i32)>,
) -> ApiResult<StatusCode> {
    let unit = state.unit(&unit).await?;
    hours::delete_absence(state.book(), &actor, &unit, AbsenceId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closures of the unit and of the whole department, soonest first.
#[utoipa::path(get, path = "/api/v1/units/{unit}/closures", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), RangeParams),
    responses((status = 200, body = Vec<SpanResponse>, headers(("X-Next-After" = i32,
            description = "more follow; send it as `after` for the next page"))),
        (status = 422, body = Problem)))]
async fn list_closures(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiQuery(params): ApiQuery<RangeParams>,
) -> ApiResult<Paged<SpanResponse>> {
    let unit = state.unit(&unit).await?;
    let part = SpanPage {
        range: range(&state, &params)?,
        after: params.after.map(ClosureId::new),
        limit: paging::limit(params.limit)?,
    };
    let page = hours::closures_page(state.book(), &actor, &unit, part).await?;
    let tz = state.settings.time_zone;
    Ok(Paged::of(page, |last| Next::After(last.id.get()), |c| closure_response(c, tz, Affected::default())))
}

/// Closes the unit for a time (unit leads); answers with the bookings it affects.
#[utoipa::path(post, path = "/api/v1/units/{unit}/closures", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path)), request_body = ClosureRequest,
    responses((status = 201, body = SpanResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_closure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<ClosureRequest>,
) -> ApiResult<(StatusCode, Json<SpanResponse>)> {
    body.validate()?;
    let tz = state.settings.time_zone;
    let unit = state.unit(&unit).await?;
    let sent = body.fields();
    let (starts_at, ends_at) = sent.span(tz)?;
    let (closure, hit) = hours::add_closure(state.book(), &actor, &unit, starts_at, ends_at, body.reason.trim())
        .await
        .map_err(|err| sent.refusal_as_sent(err))?;
    Ok((StatusCode::CREATED, Json(closure_response(closure, tz, hit))))
}

/// Removes a closure (unit leads).
#[utoipa::path(delete, path = "/api/v1/units/{unit}/closures/{id}", tag = "counselling hours", security(("bearer" = [])),
    params(("unit" = String, Path), ("id" = i32, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_closure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((unit, id)): ApiPath<(String, i32)>,
) -> ApiResult<StatusCode> {
    let unit = state.unit(&unit).await?;
    hours::delete_closure(state.book(), &actor, &unit, ClosureId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
