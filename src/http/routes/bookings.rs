//! Bookings: create, read, list and search, cancel, reschedule, record the outcome, correct the
//! citizen's details.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use chrono_tz::Tz;
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::booking::{BookingStatus, Channel, Outcome};
use crate::domain::citizen::{MAX_APPOINTMENT_MINUTES, MIN_APPOINTMENT_MINUTES, OVERRIDE_REASON_CHARS};
use crate::domain::ids::{SlotId, StaffId};
use crate::domain::records::BookingFilter;
use crate::domain::records::{Booking, BookingEvent};
use crate::http::dto::{date_range, local, parse_instant};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiJsonBody, ApiPath, ApiQuery, Auth, canonical_json};
use crate::http::input::{CitizenInput, FREE_TEXT_RULE, all_fields};
use crate::http::routes::emails::{EmailResponse, email_response};
use crate::services::bookings::{self, Move, NewBooking, Target};
use crate::services::submissions::{self, Sending, Submission};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(reschedule_booking))
        .routes(routes!(record_outcome))
        .routes(routes!(correct_citizen))
}

/// Either `slot_id`, or for an ad-hoc appointment `unit`, `counsellor`, `starts_at` and
/// `duration_minutes`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingRequest {
    #[garde(skip)]
    pub slot_id: Option<i32>,
    /// Unit slug or id (ad-hoc appointments).
    #[garde(skip)]
    pub unit: Option<String>,
    /// Counsellor's staff id (ad-hoc appointments); `counsellor_id` is accepted too.
    #[garde(skip)]
    #[serde(rename = "counsellor", alias = "counsellor_id")]
    pub counsellor_id: Option<i32>,
    /// RFC 3339, or local `YYYY-MM-DDTHH:MM` in the service's zone.
    #[garde(skip)]
    pub starts_at: Option<String>,
    #[garde(inner(range(min = MIN_APPOINTMENT_MINUTES, max = MAX_APPOINTMENT_MINUTES)))]
    pub duration_minutes: Option<i64>,
    #[garde(skip)]
    pub citizen: CitizenInput,
    #[garde(skip)]
    #[serde(default)]
    pub email_consent: bool,
    #[garde(skip)]
    #[serde(default)]
    pub channel: Channel,
    /// At most 500 characters after trimming (a line break counts as one, `\r\n` too); blank is none.
    #[garde(inner(custom(crate::http::input::free_text)))]
    pub note: Option<String>,
    /// Books despite a holiday, closure, absence, past time or (ad hoc) a time outside the unit's
    /// counselling hours; unit leads and admins only (else 403 `override_not_permitted`); recorded.
    /// 3 to 500 characters after trimming (a line break counts as one); blank is none. Checked
    /// by `domain::citizen::override_reason`, as the pages check it.
    #[garde(skip)]
    pub override_reason: Option<String>,
}

/// A booking.
#[derive(Serialize, ToSchema)]
pub struct BookingResponse {
    pub id: uuid::Uuid,
    /// Code to read out on the phone, e.g. `K7M4-Q9TX`.
    pub reference: String,
    pub status: BookingStatus,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub unit_id: i32,
    pub counsellor_id: i32,
    pub slot_id: i32,
    /// The booking's version: it rises with every move, with the cancellation and when the
    /// citizen's email address (or consent) is corrected. Sent back as `version` with a
    /// cancellation, a move or a correction, it makes the change happen only to this version (409
    /// `concurrent_update` if someone changed the booking meanwhile).
    pub version: i32,
    pub channel: Channel,
    pub citizen: CitizenResponse,
    /// A short digest of the citizen's details and consent. Sent back as `citizen_tag` with a
    /// correction, it makes the correction happen only if nobody changed the details meanwhile
    /// (409 `concurrent_update`): a correction that keeps the recipient leaves `version` as it is.
    pub citizen_tag: String,
    pub email_consent: bool,
    pub note: Option<String>,
    pub override_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub created_by: Option<i32>,
    pub updated_at: DateTime<FixedOffset>,
    pub updated_by: Option<i32>,
    /// When the citizen's personal data were erased (after the retention period, or earlier on
    /// the person's request); absent while they are kept. An erased booking's name is empty and
    /// its contact details, note and reasons are gone; a booked one still takes place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<FixedOffset>>,
}

/// The citizen's details.
#[derive(Serialize, ToSchema)]
pub struct CitizenResponse {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub interpreter_language: Option<String>,
    pub accessibility_needs: Option<String>,
}

/// One event of a booking's history.
#[derive(Serialize, ToSchema)]
pub struct EventResponse {
    pub at: DateTime<FixedOffset>,
    pub actor_id: Option<i32>,
    pub kind: String,
    /// What happened; its times (`starts_at`, `ends_at`, a move's `from` and `to`) local with
    /// their offset, as every time of an answer.
    pub detail: serde_json::Value,
}

/// A booking with its history and the emails it caused.
#[derive(Serialize, ToSchema)]
pub struct BookingDetailResponse {
    #[serde(flatten)]
    pub booking: BookingResponse,
    pub history: Vec<EventResponse>,
    /// Emails to the citizen, oldest first, with their delivery state.
    pub emails: Vec<EmailResponse>,
}

fn booking_response(b: Booking, tz: Tz) -> BookingResponse {
    let reference = b.reference.to_string();
    BookingResponse {
        id: b.id,
        reference,
        status: b.status,
        starts_at: local(b.starts_at, tz),
        ends_at: local(b.ends_at, tz),
        unit_id: b.unit_id.get(),
        counsellor_id: b.counsellor_id.get(),
        slot_id: b.slot_id.get(),
        version: b.sequence,
        channel: b.channel,
        citizen_tag: b.citizen.fingerprint(),
        email_consent: b.citizen.email_consent,
        citizen: CitizenResponse {
            name: b.citizen.name,
            email: b.citizen.email,
            phone: b.citizen.phone,
            language: b.citizen.language.code().to_owned(),
            interpreter_language: b.citizen.interpreter_language.map(|l| l.code().to_owned()),
            accessibility_needs: b.citizen.accessibility_needs,
        },
        note: b.note,
        override_reason: b.override_reason,
        cancel_reason: b.cancel_reason,
        created_at: local(b.created_at, tz),
        created_by: b.created_by.map(i32::from),
        updated_at: local(b.updated_at, tz),
        updated_by: b.updated_by.map(i32::from),
        erased_at: b.erased_at.map(|at| local(at, tz)),
    }
}

fn event_response(e: BookingEvent, tz: Tz) -> EventResponse {
    EventResponse {
        at: local(e.at, tz),
        actor_id: e.actor_id.map(i32::from),
        kind: e.what.kind().to_owned(),
        detail: e.what.detail_in(tz),
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The time chosen in a booking or move request.
enum Chosen {
    Slot(SlotId),
    /// An ad-hoc start with an optional length.
    At(DateTime<Utc>, Option<TimeDelta>),
}

/// Reads the time of a booking or a move: a slot, or an ad-hoc start (and optional length).
fn choice(
    tz: Tz,
    slot_id: Option<SlotId>,
    starts_at: Option<&str>,
    duration_minutes: Option<i64>,
) -> ApiResult<Chosen> {
    match (slot_id, starts_at) {
        (Some(_), Some(_)) => Err(ApiError::field("slot_id", "give either slot_id or starts_at, not both")),
        (Some(id), None) => Ok(Chosen::Slot(id)),
        (None, Some(starts_at)) => {
            Ok(Chosen::At(parse_instant("starts_at", starts_at, tz)?, duration_minutes.map(TimeDelta::minutes)))
        }
        (None, None) => Err(ApiError::field("slot_id", "give slot_id, or starts_at for an ad-hoc appointment")),
    }
}

/// Books an appointment in a slot, or at a freely arranged time. With an `Idempotency-Key`, the
/// same request sent again (a retry after a timeout) books once and is answered with the booking
/// the first made.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", security(("bearer" = [])), request_body = CreateBookingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Optional. A key of the caller's choosing (1 to 255 visible ASCII characters, bare or as a quoted string, e.g. a UUID), remembered for 24 hours: the same key with the same body books once, and a repetition is answered 201 with the booking the first request made (header `Idempotent-Replayed: true`; the booking as it stands now); while the first is still being handled, 409 `idempotency_key_in_use` with `Retry-After`; when the first was interrupted more than a minute ago with its outcome unknown, 409 `idempotency_key_unresolved` (look the booking up); the same key with another body, 422 `idempotency_key_reused`. Keys are per person: a colleague's equal key is another key.")),
    responses((status = 201, body = BookingResponse), (status = 409, body = Problem, description = "slot taken or counsellor busy; `idempotency_key_in_use`, `idempotency_key_unresolved`"),
        (status = 422, body = Problem, description = "invalid input (an invalid `Idempotency-Key` too), `idempotency_key_reused`, or a rule refuses the time (`in_the_past`, `public_holiday`, `closure_day`, `unit_closed`, `counsellor_absent`, `outside_hours`)"),
        (status = 403, body = Problem, description = "not a unit the caller works in (`forbidden`), or an `override_reason` from someone who does not lead the unit (`override_not_permitted`)")))]
async fn create_booking(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    ApiJsonBody(body, bytes): ApiJsonBody<CreateBookingRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let citizen = all_fields(body.validate(), body.citizen.parse(body.email_consent))?;
    let tz = state.settings.time_zone;
    let target = match choice(tz, body.slot_id.map(SlotId::new), body.starts_at.as_deref(), body.duration_minutes)? {
        Chosen::Slot(slot_id) => Target::Slot(slot_id),
        Chosen::At(starts_at, duration) => {
            let unit =
                body.unit.as_deref().ok_or_else(|| ApiError::field("unit", "required for an ad-hoc appointment"))?;
            let counsellor_id = body
                .counsellor_id
                .ok_or_else(|| ApiError::field("counsellor", "required for an ad-hoc appointment"))?;
            let unit_id = state.unit(unit).await?.id;
            bookings::adhoc_target(&state.db, unit_id, StaffId::new(counsellor_id), starts_at, duration).await?
        }
    };
    let new = NewBooking {
        target,
        citizen,
        channel: body.channel,
        note: crate::domain::citizen::free_text(body.note.as_deref())
            .map_err(|_| ApiError::field("note", FREE_TEXT_RULE))?,
        override_reason: override_reason(body.override_reason.as_deref())?,
    };
    let Some(key) = key else {
        let booking = bookings::create(state.book(), &actor, new).await?;
        return Ok(created(booking, tz, false));
    };
    let canonical = canonical_json(&bytes).unwrap_or_else(|| bytes.to_vec());
    let submission = Submission::keyed(actor.staff_id(), &key, &canonical);
    // In a task of its own: a client that gives up waiting (the usual reason for a retry) does
    // not leave its key claimed with nothing noted.
    let task = {
        let (state, actor) = (state.clone(), actor.clone());
        tokio::spawn(async move { submissions::book_once(state.book(), &actor, &submission, new).await })
    };
    match task.await.map_err(|err| ApiError::Internal(err.into()))?? {
        Sending::Made(made) => Ok(created((*made)?, tz, false)),
        Sending::Booked(reference) => {
            let booking = bookings::get(state.book(), &actor, &reference).await?.booking;
            Ok(created(booking, tz, true))
        }
        Sending::StillBusy => Err(ApiError::RetryLater {
            status: StatusCode::CONFLICT,
            code: "idempotency_key_in_use",
            detail: "a request with this Idempotency-Key is still being handled; send it again shortly".to_owned(),
            retry_after_secs: 1,
        }),
        Sending::Unresolved => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_unresolved",
            "the first request with this Idempotency-Key was interrupted and whether it booked is unknown: look the \
             booking up (GET /api/v1/bookings?q=…) before booking again under a new key",
        )),
        Sending::Reused => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was sent with another request body; use a new key for another booking",
        )),
    }
}

/// The answer to a booking request: 201 with the booking; `replayed` when an earlier request
/// with the same idempotency key made it.
fn created(booking: Booking, tz: Tz, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(booking_response(booking, tz))).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The `Idempotency-Key` request header, if sent: one key of 1 to 255 visible ASCII characters,
/// bare or as a structured-field string (`"…"`).
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else { return Ok(None) };
    let invalid =
        || ApiError::field("Idempotency-Key", "one key of 1 to 255 visible ASCII characters, bare or in double quotes");
    if values.next().is_some() {
        return Err(invalid());
    }
    let text = value.to_str().map_err(|_| invalid())?;
    let key = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let visible = |b: u8| b.is_ascii_graphic() && b != b'"' && b != b'\\';
    if key.is_empty() || key.len() > 255 || !key.bytes().all(visible) {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

/// A booking by id or reference, with its history.
#[utoipa::path(get, path = "/api/v1/bookings/{booking}", tag = "bookings", security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")),
    responses((status = 200, body = BookingDetailResponse), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn get_booking(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<BookingDetailResponse>> {
    let tz = state.settings.time_zone;
    let details = bookings::get(state.book(), &actor, &key).await?;
    Ok(Json(BookingDetailResponse {
        booking: booking_response(details.booking, tz),
        history: details.events.into_iter().map(|e| event_response(e, tz)).collect(),
        emails: details.emails.iter().map(|e| email_response(e, tz)).collect(),
    }))
}

/// Filters of the booking list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingListParams {
    /// Unit slug or id (default: all units of the caller).
    pub unit: Option<String>,
    /// First local day `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local day, inclusive.
    pub to: Option<String>,
    pub counsellor: Option<i32>,
    pub status: Option<BookingStatus>,
    /// Reference (with or without dash), or part of the citizen's name (case, accents and
    /// special letters ignored: "yilmaz" finds "Yılmaz", "Mueller" finds "Müller") or phone
    /// number (digits only; spaces, dashes, `+49` and the leading 0 ignored); cancelled bookings
    /// come last. At most 200 characters.
    pub q: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u64>,
}

/// Bookings of the caller's units, soonest first.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", security(("bearer" = [])), params(BookingListParams),
    responses((status = 200, body = Vec<BookingResponse>), (status = 403, body = Problem)))]
async fn list_bookings(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<BookingListParams>,
) -> ApiResult<Json<Vec<BookingResponse>>> {
    let tz = state.settings.time_zone;
    let (from, to) = date_range(params.from.as_deref(), params.to.as_deref(), tz)?;
    let unit_id = match params.unit.as_deref() {
        Some(key) => Some(state.unit(key).await?.id),
        None => None,
    };
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let filter = BookingFilter {
        from,
        to,
        counsellor_id: params.counsellor.map(StaffId::new),
        status: params.status,
        search: blank_to_none(params.q),
        limit,
        ..Default::default()
    };
    let found = bookings::list(state.book(), &actor, unit_id, filter).await?;
    Ok(Json(found.into_iter().map(|b| booking_response(b, tz)).collect()))
}

/// Why a booking is cancelled.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// 1 to 500 characters (the spaces around it not counted, a line break counted as one).
    #[garde(skip)]
    pub reason: String,
    /// The booking's `version` as the caller saw it: the booking is cancelled only if it is still
    /// that version (else 409 `concurrent_update`). Without it, whatever the booking is now.
    #[garde(skip)]
    pub version: Option<i32>,
}

/// Cancels a booking and frees its slot.
#[utoipa::path(post, path = "/api/v1/bookings/{booking}/cancel", tag = "bookings", security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")), request_body = CancelRequest,
    responses((status = 200, body = BookingResponse), (status = 409, body = Problem), (status = 404, body = Problem)))]
async fn cancel_booking(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CancelRequest>,
) -> ApiResult<Json<BookingResponse>> {
    body.validate()?;
    let booking = bookings::cancel(state.book(), &actor, &key, &body.reason, body.version).await?;
    Ok(Json(booking_response(booking, state.settings.time_zone)))
}

/// The new time: `slot_id`, or `starts_at` (+ `duration_minutes`, `counsellor`) ad hoc.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    #[garde(skip)]
    pub slot_id: Option<i32>,
    #[garde(skip)]
    pub starts_at: Option<String>,
    #[garde(inner(range(min = MIN_APPOINTMENT_MINUTES, max = MAX_APPOINTMENT_MINUTES)))]
    pub duration_minutes: Option<i64>,
    /// Default: the booking's counsellor; `counsellor_id` is accepted too.
    #[garde(skip)]
    #[serde(rename = "counsellor", alias = "counsellor_id")]
    pub counsellor_id: Option<i32>,
    /// 3 to 500 characters after trimming (a line break counts as one); blank is none.
    #[garde(skip)]
    pub override_reason: Option<String>,
    /// The booking's `version` as the caller saw it: the booking is moved only if it is still that
    /// version (else 409 `concurrent_update`). Without it, whatever the booking is now.
    #[garde(skip)]
    pub version: Option<i32>,
}

/// Moves a booking, keeping its reference. Atomic: the old time is freed only if the new one is taken.
#[utoipa::path(post, path = "/api/v1/bookings/{booking}/reschedule", tag = "bookings", security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")), request_body = RescheduleRequest,
    responses((status = 200, body = BookingResponse), (status = 409, body = Problem),
        (status = 422, body = Problem, description = "invalid input, or a rule refuses the time (`in_the_past`, `public_holiday`, `closure_day`, `unit_closed`, `counsellor_absent`, `outside_hours`)"),
        (status = 403, body = Problem, description = "not a unit the caller works in (`forbidden`), or an `override_reason` from someone who does not lead the unit (`override_not_permitted`)")))]
async fn reschedule_booking(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RescheduleRequest>,
) -> ApiResult<Json<BookingResponse>> {
    body.validate()?;
    let to = match choice(
        state.settings.time_zone,
        body.slot_id.map(SlotId::new),
        body.starts_at.as_deref(),
        body.duration_minutes,
    )? {
        Chosen::Slot(slot_id) => Move::Slot(slot_id),
        Chosen::At(starts_at, duration) => {
            Move::Adhoc { starts_at, duration, counsellor_id: body.counsellor_id.map(StaffId::new) }
        }
    };
    let booking = bookings::reschedule(
        state.book(),
        &actor,
        &key,
        to,
        override_reason(body.override_reason.as_deref())?,
        body.version,
    )
    .await?;
    Ok(Json(booking_response(booking, state.settings.time_zone)))
}

/// Whether the citizen came.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    #[garde(skip)]
    pub outcome: Outcome,
}

/// Records attended or no-show.
#[utoipa::path(post, path = "/api/v1/bookings/{booking}/outcome", tag = "bookings", security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")), request_body = OutcomeRequest,
    responses((status = 200, body = BookingResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_outcome(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<OutcomeRequest>,
) -> ApiResult<Json<BookingResponse>> {
    let booking = bookings::record_outcome(state.book(), &actor, &key, body.outcome).await?;
    Ok(Json(booking_response(booking, state.settings.time_zone)))
}

/// The citizen's details as they should be now: all of them, as when booking.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectCitizenRequest {
    pub citizen: CitizenInput,
    /// The citizen agrees to receive emails about the booking (needs an address).
    pub email_consent: bool,
    /// The booking's `version` as the caller saw it: the details are corrected only if it is
    /// still that version (else 409 `concurrent_update`). Without it, whatever the booking is now.
    pub version: Option<i32>,
    /// The booking's `citizen_tag` as the caller saw it: the details are corrected only if nobody
    /// changed them meanwhile (else 409 `concurrent_update`), also by a correction that left
    /// `version` as it was. Without it, the correction replaces whatever is stored.
    pub citizen_tag: Option<String>,
}

/// Corrects the citizen's details of a booked appointment (all of them, as when booking). The
/// history and the audit name the changed fields, not their values. When emails go to another
/// address (or no longer, or now at all): the version rises, nothing queued for the old address
/// is sent, and a new address gets a confirmation; when the address itself changed or was
/// removed, the citizen's earlier links stop working too.
#[utoipa::path(put, path = "/api/v1/bookings/{booking}/citizen", tag = "bookings", security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")), request_body = CorrectCitizenRequest,
    responses((status = 200, body = BookingResponse),
        (status = 409, body = Problem, description = "the booking is not booked (`invalid_status`), or changed meanwhile (`concurrent_update`)"),
        (status = 404, body = Problem)))]
async fn correct_citizen(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CorrectCitizenRequest>,
) -> ApiResult<Json<BookingResponse>> {
    let citizen = all_fields(Ok(()), body.citizen.parse(body.email_consent))?;
    let (booking, _) =
        bookings::correct_contact(state.book(), &actor, &key, citizen, body.version, body.citizen_tag.as_deref())
            .await?;
    Ok(Json(booking_response(booking, state.settings.time_zone)))
}

/// An override reason as the pages read it (`domain::citizen::override_reason`): trimmed, blank is
/// none, else 3 to 500 characters (a reason of spaces around one letter is refused, not stored).
fn override_reason(text: Option<&str>) -> Result<Option<String>, ApiError> {
    crate::domain::citizen::override_reason(text).map_err(|_| {
        let (min, max) = (OVERRIDE_REASON_CHARS.start(), OVERRIDE_REASON_CHARS.end());
        ApiError::field("override_reason", format!("must be {min} to {max} characters, not counting spaces around it"))
    })
}
