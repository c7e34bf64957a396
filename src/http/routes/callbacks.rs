//! The callback list (Rückrufliste) of a unit: put a caller on it, see which entries can be
//! called back ("Rückruf möglich"), book the offered slot for them, take them off the list.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::callback::{CallbackRequest, CallbackStatus, NewCallback, TimeOfDay, Wish};
use crate::domain::ids::{CallbackId, SlotId, StaffId};
use crate::domain::language::Language;
use crate::http::dto::{CounsellorRef, local, parse_date};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::http::input::{citizen_name, phone_number};
use crate::http::paging::{self, Next, Paged};
use crate::services::ServiceError;
use crate::services::callbacks::{self, Entry, Way};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_callbacks, create_callback))
        .routes(routes!(get_callback, withdraw_callback))
        .routes(routes!(book_callback))
}

/// The caller: name (or pseudonym), phone number to call back, language.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerInput {
    /// 1–200 characters on one line.
    #[garde(custom(citizen_name))]
    pub name: String,
    /// 3–40 digits, spaces and `+ ( ) / . -`.
    #[garde(custom(phone_number))]
    #[schema(pattern = r"^[0-9+()/ .-]{3,40}$")]
    pub phone: String,
    /// Default `de`.
    #[garde(skip)]
    pub language: Option<Language>,
}

/// What the caller waits for; every part optional.
#[derive(Deserialize, Serialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WishBody {
    /// A counsellor's staff id.
    #[garde(skip)]
    pub counsellor: Option<i32>,
    /// Counselling in this language.
    #[garde(skip)]
    pub language: Option<Language>,
    #[garde(skip)]
    pub time_of_day: Option<TimeOfDay>,
    /// A time before this local day `YYYY-MM-DD` (an earlier appointment).
    #[garde(skip)]
    pub before: Option<String>,
}

/// A caller to put on the list.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCallbackRequest {
    #[garde(dive)]
    pub citizen: CallerInput,
    #[garde(dive)]
    #[serde(default)]
    pub wish: WishBody,
    /// Last local day `YYYY-MM-DD` the caller waits (at most a year ahead).
    #[garde(skip)]
    pub until: String,
    #[garde(inner(custom(crate::http::input::free_text)))]
    pub note: Option<String>,
}

/// A slot offered to an entry.
#[derive(Serialize, ToSchema)]
pub struct OfferResponse {
    pub slot_id: i32,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub counsellor: CounsellorRef,
}

/// The caller as entered.
#[derive(Serialize, ToSchema)]
pub struct CallerResponse {
    pub name: String,
    pub phone: String,
    pub language: String,
}

/// An entry of the callback list.
#[derive(Serialize, ToSchema)]
pub struct CallbackResponse {
    pub id: i32,
    pub unit_id: i32,
    pub status: CallbackStatus,
    pub citizen: CallerResponse,
    pub wish: WishBody,
    pub until: NaiveDate,
    pub note: Option<String>,
    /// "Rückruf möglich": a free slot matches the wish now.
    pub callback_possible: bool,
    pub offer: Option<OfferResponse>,
    /// Since when the offered slot has been marked.
    pub offered_at: Option<DateTime<FixedOffset>>,
    /// The booking made for the caller.
    pub booking_id: Option<uuid::Uuid>,
    /// An open entry's caller's appointments still to come in the unit, found by the entry's
    /// phone number however it is written (soonest first, three at most): a caller waiting for an
    /// earlier time usually has one, and booking with `move_booking_id` moves it instead of
    /// booking a second. In the list and one entry's answer (recorded as seen with them); empty
    /// for closed entries and in the answer to a new entry.
    pub appointments: Vec<CallerAppointment>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

/// An appointment the caller has already.
#[derive(Serialize, ToSchema)]
pub struct CallerAppointment {
    pub booking_id: uuid::Uuid,
    /// To read out on the phone, e.g. `K7M4-Q9TX`.
    pub reference: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub counsellor_id: i32,
}

fn callback_response(entry: Entry, tz: chrono_tz::Tz) -> CallbackResponse {
    let Entry { request: r, offer, appointments } = entry;
    let appointments = appointments
        .into_iter()
        .map(|b| CallerAppointment {
            booking_id: b.id,
            reference: b.reference.to_string(),
            starts_at: local(b.starts_at, tz),
            ends_at: local(b.ends_at, tz),
            counsellor_id: b.counsellor_id.get(),
        })
        .collect();
    let offer = offer.map(|free| OfferResponse {
        slot_id: free.slot.id.get(),
        starts_at: local(free.slot.starts_at, tz),
        ends_at: local(free.slot.ends_at, tz),
        counsellor: CounsellorRef::from(&free.counsellor),
    });
    CallbackResponse {
        id: r.id.get(),
        unit_id: r.unit_id.get(),
        status: r.status,
        citizen: CallerResponse {
            name: r.citizen_name,
            phone: r.citizen_phone,
            language: r.citizen_language.code().to_owned(),
        },
        wish: WishBody {
            counsellor: r.wish.counsellor_id.map(i32::from),
            language: r.wish.language,
            time_of_day: r.wish.time_of_day,
            before: r.wish.before.map(|d| d.to_string()),
        },
        until: r.until,
        note: r.note,
        callback_possible: offer.is_some(),
        offer,
        offered_at: r.offered_at.map(|at| local(at, tz)),
        booking_id: r.booking_id,
        appointments,
        created_at: local(r.created_at, tz),
        updated_at: local(r.updated_at, tz),
    }
}

fn closed_response(request: CallbackRequest, tz: chrono_tz::Tz) -> CallbackResponse {
    callback_response(Entry { request, offer: None, appointments: Vec::new() }, tz)
}

/// Which entries to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackListParams {
    /// `open` (default): waiting, marked when a slot matches; `closed`: booked, withdrawn, expired.
    #[param(inline)]
    pub state: Option<ListState>,
    /// Closed entries only: those entered after the entry with this id (the `X-Next-After` of the
    /// previous page).
    pub after: Option<i32>,
    /// Closed entries only: at most this many (default 100, at most 1000); `X-Next-After` says
    /// when more follow.
    pub limit: Option<u64>,
}

/// Open or closed entries.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ListState {
    Open,
    Closed,
}

/// The unit's callback list, oldest first; open entries are marked with a matching free slot.
/// The open ones come whole (a unit holds at most 300); the closed ones a page at a time, in the
/// order they were entered.
#[utoipa::path(get, path = "/api/v1/units/{unit}/callbacks", tag = "callbacks", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id"), CallbackListParams),
    responses((status = 200, body = Vec<CallbackResponse>, headers(("X-Next-After" = i32,
            description = "closed entries: more follow; send it as `after` for the next page"))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_callbacks(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiQuery(params): ApiQuery<CallbackListParams>,
) -> ApiResult<Paged<CallbackResponse>> {
    let (unit, tz) = (state.unit(&unit).await?, state.settings.time_zone);
    match params.state.unwrap_or(ListState::Open) {
        ListState::Open => {
            let listed = callbacks::list(state.book(), &actor, &unit).await?;
            Ok(Paged::whole(listed.into_iter().map(|e| callback_response(e, tz)).collect()))
        }
        ListState::Closed => {
            let (after, limit) = (params.after.map(CallbackId::new), paging::limit(params.limit)?);
            let page = callbacks::closed(state.book(), &actor, &unit, after, limit).await?;
            Ok(Paged::of(page, |last| Next::After(last.id.get()), |r| closed_response(r, tz)))
        }
    }
}

/// Puts a caller on the unit's callback list.
#[utoipa::path(post, path = "/api/v1/units/{unit}/callbacks", tag = "callbacks", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")), request_body = CreateCallbackRequest,
    responses((status = 201, body = CallbackResponse), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_callback(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
    ApiJson(body): ApiJson<CreateCallbackRequest>,
) -> ApiResult<(StatusCode, Json<CallbackResponse>)> {
    body.validate()?;
    let unit = state.unit(&unit).await?;
    let new = NewCallback {
        unit_id: unit.id,
        citizen_name: body.citizen.name.trim().to_owned(),
        citizen_phone: body.citizen.phone.trim().to_owned(),
        citizen_language: body.citizen.language.unwrap_or(Language::GERMAN),
        wish: Wish {
            counsellor_id: body.wish.counsellor.map(StaffId::new),
            language: body.wish.language,
            time_of_day: body.wish.time_of_day,
            before: body.wish.before.as_deref().map(|d| parse_date("wish.before", d)).transpose()?,
        },
        until: parse_date("until", &body.until)?,
        note: crate::domain::citizen::free_text(body.note.as_deref())
            .map_err(|_| ApiError::field("note", crate::http::input::FREE_TEXT_RULE))?,
    };
    let entry = callbacks::add(state.book(), &actor, &unit, new).await.map_err(refusal_as_sent)?;
    Ok((StatusCode::CREATED, Json(callback_response(entry, state.settings.time_zone))))
}

/// The service's refusal of a new entry at the path the request sent the field at: the service
/// names a wish's parts as the pages do (`counsellor`, `before`), the request has them under
/// `wish`.
fn refusal_as_sent(err: ServiceError) -> ApiError {
    match err {
        ServiceError::Invalid { field: "counsellor", message } => ApiError::field("wish.counsellor", message),
        ServiceError::Invalid { field: "before", message } => ApiError::field("wish.before", message),
        other => other.into(),
    }
}

/// One entry of a callback list.
#[utoipa::path(get, path = "/api/v1/callbacks/{id}", tag = "callbacks", security(("bearer" = [])),
    params(("id" = i32, Path)), responses((status = 200, body = CallbackResponse), (status = 404, body = Problem)))]
async fn get_callback(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<CallbackResponse>> {
    let entry = callbacks::get(state.book(), &actor, CallbackId::new(id)).await?;
    Ok(Json(callback_response(entry, state.settings.time_zone)))
}

/// Takes an open entry off the list (the caller no longer waits).
#[utoipa::path(delete, path = "/api/v1/callbacks/{id}", tag = "callbacks", security(("bearer" = [])),
    params(("id" = i32, Path)), responses((status = 200, body = CallbackResponse), (status = 409, body = Problem)))]
async fn withdraw_callback(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<CallbackResponse>> {
    let request = callbacks::withdraw(state.book(), &actor, CallbackId::new(id)).await?;
    Ok(Json(closed_response(request, state.settings.time_zone)))
}

/// Which slot to book; without one, the slot the list offers.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct BookCallbackRequest {
    pub slot_id: Option<i32>,
    /// One of the entry's `appointments`: moved to the slot (its details and email stay, the
    /// citizen is told of the change) instead of a new appointment. Not one of them: 422 at
    /// `move_booking_id`; changed since it was read: 409 `concurrent_update`.
    pub move_booking_id: Option<uuid::Uuid>,
}

/// The booking made for a caller of the list.
#[derive(Serialize, ToSchema)]
pub struct BookedCallbackResponse {
    pub callback_id: i32,
    pub booking_id: uuid::Uuid,
    /// To read out on the phone, e.g. `K7M4-Q9TX`.
    pub reference: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub counsellor_id: i32,
}

/// Books the offered (or the given) slot for the caller, with every rule of a booking.
#[utoipa::path(post, path = "/api/v1/callbacks/{id}/book", tag = "callbacks", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = BookCallbackRequest,
    responses((status = 201, body = BookedCallbackResponse), (status = 409, body = Problem, description = "no offer, slot taken, entry closed or busy")))]
async fn book_callback(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
    ApiJson(body): ApiJson<BookCallbackRequest>,
) -> ApiResult<(StatusCode, Json<BookedCallbackResponse>)> {
    // In a task of its own: a request dropped meanwhile (the client gave up, the request's
    // timeout) still closes the entry or undoes its booking.
    let task = {
        let (state, actor, slot_id) = (state.clone(), actor.clone(), body.slot_id.map(SlotId::new));
        let way = body.move_booking_id.map_or(Way::New, Way::Move);
        tokio::spawn(async move { callbacks::book(state.book(), &actor, CallbackId::new(id), slot_id, way).await })
    };
    let booking = task.await.map_err(|err| ApiError::Internal(err.into()))?.map_err(|err| match err {
        ServiceError::Invalid { field: "move", message } => ApiError::field("move_booking_id", message),
        other => other.into(),
    })?;
    let tz = state.settings.time_zone;
    let reference = booking.reference.to_string();
    Ok((
        StatusCode::CREATED,
        Json(BookedCallbackResponse {
            callback_id: id,
            booking_id: booking.id,
            reference,
            starts_at: local(booking.starts_at, tz),
            ends_at: local(booking.ends_at, tz),
            counsellor_id: booking.counsellor_id.get(),
        }),
    ))
}
