//! Moving an appointment like booking one: the booking page's finder (counsellor, language,
//! day, time of day, soonest first) with the booking's counsellor and language preselected, and
//! "other time" (ad hoc, with an override reason for unit leads); the current appointment shown
//! beside the choice as "Bisheriger Termin"; after the move, the read-back of the new time. The
//! move forms carry the finder's filters in their address: a refused move shows the same list.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::adhoc;
use super::auth::FieldError;
use super::book::{BookForm, SlotFilter, free_slots};
use super::error::{WebError, WebResult, Worded};
use super::format;
use super::i18n::service_message;
use super::page::{CsrfForm, Page, Staff};
use super::views::{Choice, SlotView, language_choices};
use crate::domain::clash::Clash;
use crate::domain::ids::{SlotId, StaffId};
use crate::domain::missing::Missing;
use crate::domain::records::Booking;
use crate::services::bookings::{self, Move};
use crate::services::{ServiceError, desk, directory};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/bookings/{key}/reschedule", get(show).post(reschedule))
}

/// How many free slots the move page lists.
const SHOWN_SLOTS: usize = 8;

/// The finder's filters as asked; a filter that is absent (first arrival) takes the booking's
/// counsellor and language, one present but empty means "any".
#[derive(Debug, Default, Deserialize)]
struct FinderQuery {
    counsellor: Option<String>,
    language: Option<String>,
    #[serde(default)]
    day: String,
    #[serde(default)]
    daypart: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/reschedule.html")]
struct ReschedulePage {
    p: Page,
    key: String,
    /// The booking's `sequence`, sent back with the move.
    version: i32,
    /// The appointment as it stands ("Bisheriger Termin").
    current: String,
    current_counsellor: String,
    counsellors: Vec<Choice>,
    languages: Vec<Choice>,
    q: SlotFilter,
    /// The finder's filters as a query string, carried by the move forms so that a refused
    /// move shows the same list again.
    finder: String,
    fid: &'static str,
    /// Today (`YYYY-MM-DD`), the finder's least day.
    today: String,
    /// The finder's day problem; the list is not searched while there is one.
    day_error: Option<String>,
    slots: Vec<SlotView>,
    /// The "other time" form as typed.
    f: BookForm,
    may_override: bool,
    errors: Vec<FieldError>,
}

impl ReschedulePage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    Query(query): Query<FinderQuery>,
) -> WebResult<ReschedulePage> {
    view(&state, staff, &key, query, None, Vec::new()).await
}

/// The move page for the booking `key`, with the finder's result and the "other time" form.
async fn view(
    state: &AppState,
    staff: Staff,
    key: &str,
    query: FinderQuery,
    form: Option<BookForm>,
    errors: Vec<FieldError>,
) -> WebResult<ReschedulePage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let booking = bookings::get(deps, &staff.actor, key).await?.booking;
    // A cancelled (or past and recorded) appointment says so at once, not after a time was chosen.
    if !booking.status.allows(crate::domain::booking::BookingAction::Reschedule) {
        return Err(WebError::Refused { status: StatusCode::CONFLICT, message: Worded::text("move.not_booked") });
    }
    let unit = directory::find_unit(deps.db, &booking.unit_id.to_string()).await?;
    let members = desk::unit_staff(deps, &unit).await?;
    // Preselected: the booking's counsellor while they still counsel in the unit, and the
    // citizen's language only where the preselected counsellor (or, for any, one of the unit's)
    // counsels in it: a booking with an interpreter, or of a counsellor who left, would otherwise
    // open on an empty list (and a departed counsellor shows as "any" in the list).
    let counsellor = members.iter().find(|m| m.id == booking.counsellor_id);
    let speaks = |m: &&crate::domain::records::StaffMember| m.languages.contains(&booking.citizen.language);
    let spoken = counsellor.map_or_else(|| members.iter().any(|m| speaks(&m)), |m| speaks(&m));
    let mut q = SlotFilter {
        unit: unit.slug.clone(),
        counsellor: query.counsellor.unwrap_or_else(|| counsellor.map(|m| m.id.to_string()).unwrap_or_default()),
        language: query
            .language
            .unwrap_or_else(|| if spoken { booking.citizen.language.code().to_owned() } else { String::new() }),
        day: query.day,
        daypart: query.daypart,
    };
    let counsellors: Vec<Choice> =
        members.iter().map(|m| Choice { value: m.id.to_string(), label: m.display_name.clone() }).collect();
    let languages = language_choices(lang);
    let today = crate::domain::time::local_date(deps.clock.now(), deps.tz);
    let day_error = q.checked(&counsellors, &languages, today, "f-day", &staff.page);
    let finder = serde_urlencoded::to_string([
        ("counsellor", &q.counsellor),
        ("language", &q.language),
        ("day", &q.day),
        ("daypart", &q.daypart),
    ])
    .unwrap_or_default();
    let found = if day_error.is_some() { Vec::new() } else { free_slots(state, &unit, &q, SHOWN_SLOTS + 1).await? };
    let slots = found
        .iter()
        .filter(|f| f.slot.id != booking.slot_id)
        .take(SHOWN_SLOTS)
        .map(|f| SlotView::new(f, deps.tz, lang))
        .collect();
    let f = form.unwrap_or_else(|| other_time_defaults(&booking, deps.tz));
    // The booking's counsellor by name, also one deactivated since (not offered for new times).
    let departed = desk::unit_staff_and(deps, &unit, [booking.counsellor_id]).await?;
    let current_counsellor = super::views::counsellor_name(&departed, booking.counsellor_id);
    Ok(ReschedulePage {
        key: booking.reference.to_string(),
        version: booking.sequence,
        current: format::when_spoken(booking.starts_at, deps.tz, lang),
        current_counsellor,
        counsellors,
        languages,
        q,
        finder,
        fid: "f-",
        today: today.format("%Y-%m-%d").to_string(),
        day_error: day_error.as_ref().map(|e| e.message.clone()),
        slots,
        f,
        may_override: staff.actor.can_lead(unit.id),
        errors: errors.into_iter().chain(day_error).collect(),
        p: staff.page.titled("b.reschedule"),
    })
}

/// "Other time" starts with the booking's counsellor, day and length.
fn other_time_defaults(booking: &Booking, tz: chrono_tz::Tz) -> BookForm {
    BookForm {
        adhoc: "1".to_owned(),
        counsellor: booking.counsellor_id.to_string(),
        date: format::local_date(booking.starts_at, tz).format("%Y-%m-%d").to_string(),
        duration: (booking.ends_at - booking.starts_at).num_minutes().to_string(),
        ..BookForm::default()
    }
}

async fn reschedule(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    Query(finder): Query<FinderQuery>,
    CsrfForm(form): CsrfForm<BookForm>,
) -> WebResult<Response> {
    let tz = state.book().tz;
    let mut errors = Vec::new();
    let (to, override_reason) = if form.adhoc.is_empty() {
        match form.slot.parse::<i32>() {
            Ok(id) => (Some(Move::Slot(SlotId::new(id))), None),
            Err(_) => {
                errors.push(FieldError::new("slots", staff.page.t("err.slot")));
                (None, None)
            }
        }
    } else {
        let chosen = adhoc::parse(&form, &staff.page, tz, &mut errors);
        let reason = adhoc::override_reason(&form, &staff.page, &mut errors);
        let to = chosen.map(|(counsellor, time)| Move::Adhoc {
            starts_at: time.starts_at(),
            duration: Some(time.ends_at() - time.starts_at()),
            counsellor_id: Some(StaffId::new(counsellor)),
        });
        (to, reason)
    };
    let (Some(to), true) = (to, errors.is_empty()) else {
        let typed = Some(form).filter(|f| !f.adhoc.is_empty());
        let page = view(&state, staff, &key, finder, typed, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let seen = super::bookings::seen_version(&form.version);
    match bookings::reschedule(state.book(), &staff.actor, &key, to, override_reason, seen).await {
        Ok(booking) => Ok(Redirect::to(&format!("/bookings/{}/moved", booking.reference)).into_response()),
        Err(
            err @ (ServiceError::Conflict { .. }
            | ServiceError::Rule(_)
            | ServiceError::Invalid { .. }
            | ServiceError::NotPermitted(_)
            // Gone since the page was shown (the lead changed the hours).
            | ServiceError::NotFound(Missing::Slot)),
        ) => {
            let field = if form.adhoc.is_empty() { "slots" } else { "time" };
            let status =
                if matches!(err, ServiceError::NotPermitted(_)) { StatusCode::FORBIDDEN } else { StatusCode::CONFLICT };
            // The new time is refused ("cannot be booked at this time"), or the move itself (a
            // colleague changed or cancelled the booking meanwhile).
            let about_the_booking = matches!(
                err,
                ServiceError::Conflict { clash: Clash::ConcurrentUpdate | Clash::InvalidStatus, .. }
            );
            let prefix = if about_the_booking { "b.refused.move" } else { "err.rule" };
            let message = format!("{}: {}", staff.page.t(prefix), service_message(staff.page.lang, &err));
            let errors = vec![FieldError::new(field, message)];
            let typed = Some(form).filter(|f| !f.adhoc.is_empty());
            let page = view(&state, staff, &key, finder, typed, errors).await?;
            Ok((status, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}
