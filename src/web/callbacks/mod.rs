//! The callback list page (Rückrufliste): callers waiting for an earlier time, another
//! counsellor or a language; "Rückruf möglich" with one button that books the offered slot; and
//! the closed entries, a page at a time ([`closed`]).

mod closed;
mod form;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use self::form::CallbackForm;
use super::auth::FieldError;
use super::error::{WebError, WebResult};
use super::format;
use super::i18n::{Lang, service_message};
use super::page::{CsrfForm, Page, Staff};
use super::views::{Choice, language_choices, language_name, time_of_day_key};
use crate::domain::callback::CallbackRequest;
use crate::domain::clash::Clash;
use crate::domain::ids::CallbackId;
use crate::domain::missing::Missing;
use crate::domain::records::{StaffMember, Unit};
use crate::domain::time::local_date;
use crate::services::bookings::Book;
use crate::services::callbacks::{self, Entry, Way};
use crate::services::{ServiceError, desk};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/callbacks", get(show).post(add))
        .route("/callbacks/closed", get(closed::closed))
        .route("/callbacks/{id}/book", post(book))
        .route("/callbacks/{id}/withdraw", post(withdraw))
}

/// An entry as listed.
struct EntryView {
    id: i32,
    name: String,
    phone: String,
    wish: String,
    until: String,
    note: String,
    /// "Di, 01.12.2026, 10:00 bei Deniz Aydın" when a slot matches.
    offer: Option<String>,
    offer_slot: i32,
    /// The caller's appointments to come in the unit (found by the phone number).
    appointments: Vec<CallerAppointment>,
}

/// An appointment the caller has already, as listed beside the entry.
struct CallerAppointment {
    id: String,
    reference: String,
    /// "Do, 17.12.2026, 10:00 bei Jana Winterberg".
    when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/callbacks.html")]
struct CallbacksPage {
    p: Page,
    units: Vec<Choice>,
    unit: String,
    unit_name: String,
    entries: Vec<EntryView>,
    counsellors: Vec<Choice>,
    languages: Vec<Choice>,
    f: CallbackForm,
    errors: Vec<FieldError>,
    /// A notice after an action (text key), or the reason an action was refused.
    notice: Option<&'static str>,
    refused: Option<&'static str>,
}

impl CallbacksPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    unit: String,
    done: String,
}

async fn show(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> WebResult<CallbacksPage> {
    let notice = match q.done.as_str() {
        "added" => Some("cb.added"),
        "withdrawn" => Some("cb.withdrawn"),
        _ => None,
    };
    let mut page = list_page(&state, staff, &q.unit, None).await?;
    page.notice = notice;
    Ok(page)
}

/// The page of the chosen unit (or the actor's first), with `form` (and its errors) if given.
async fn list_page(
    state: &AppState,
    staff: Staff,
    unit_key: &str,
    form: Option<(CallbackForm, Vec<FieldError>)>,
) -> WebResult<CallbacksPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let (choices, key) = unit_choices(&desk::units_for(deps, &staff.actor).await?, unit_key);
    let today = local_date(deps.clock.now(), deps.tz);
    let (f, errors) = form.unwrap_or_else(|| (CallbackForm::fresh(&key, today), Vec::new()));
    let mut page = CallbacksPage {
        p: staff.page.titled("cb.title"),
        units: choices,
        unit: key.clone(),
        unit_name: String::new(),
        entries: Vec::new(),
        counsellors: Vec::new(),
        languages: language_choices(lang),
        f,
        errors,
        notice: None,
        refused: None,
    };
    if key.is_empty() {
        return Ok(page);
    }
    let unit = desk::unit_for(deps, &staff.actor, &key).await?;
    let members = desk::unit_staff(deps, &unit).await?;
    let entries = callbacks::list(deps, &staff.actor, &unit).await?;
    let theirs: Vec<_> = entries.iter().flat_map(|e| e.appointments.iter().map(|b| b.counsellor_id)).collect();
    let counsellors = desk::unit_staff_and(deps, &unit, theirs).await?;
    page.entries = entries
        .iter()
        .map(|e| {
            let mut view = entry_view(e, &members, deps, lang);
            view.appointments = e
                .appointments
                .iter()
                .map(|b| CallerAppointment {
                    id: b.id.to_string(),
                    reference: b.reference.to_string(),
                    when: format!(
                        "{} {} {}",
                        format::short(b.starts_at, deps.tz, lang),
                        lang.t("book.with"),
                        super::views::counsellor_name(&counsellors, b.counsellor_id)
                    ),
                })
                .collect();
            view
        })
        .collect();
    page.counsellors =
        members.iter().map(|m| Choice { value: m.id.to_string(), label: m.display_name.clone() }).collect();
    page.unit_name = unit.name;
    Ok(page)
}

/// The units the actor may choose from, and the one asked for (`asked`, a slug), else the first.
fn unit_choices(units: &[Unit], asked: &str) -> (Vec<Choice>, String) {
    let choices = units.iter().map(|u| Choice { value: u.slug.clone(), label: u.name.clone() }).collect();
    let key =
        if asked.is_empty() { units.first().map(|u| u.slug.clone()).unwrap_or_default() } else { asked.to_owned() };
    (choices, key)
}

fn entry_view(entry: &Entry, members: &[StaffMember], deps: Book<'_>, lang: Lang) -> EntryView {
    let r = &entry.request;
    let offer = entry.offer.as_ref().map(|free| {
        let when = format::short(free.slot.starts_at, deps.tz, lang);
        format!("{when} {} {}", lang.t("book.with"), free.counsellor.display_name)
    });
    EntryView {
        id: r.id.get(),
        name: r.citizen_name.clone(),
        phone: r.citizen_phone.clone(),
        wish: wish_text(r, members, lang),
        until: format::date_long(r.until, lang),
        note: r.note.clone().unwrap_or_default(),
        offer,
        offer_slot: entry.offer.as_ref().map_or(0, |free| free.slot.id.get()),
        appointments: Vec::new(),
    }
}

/// "bei Deniz Aydın · Türkisch · nachmittags · vor Dienstag, 1. Dezember 2026", or "egal".
fn wish_text(r: &CallbackRequest, members: &[StaffMember], lang: Lang) -> String {
    let mut parts = Vec::new();
    if let Some(id) = r.wish.counsellor_id {
        let name = members.iter().find(|m| m.id == id).map_or_else(|| format!("#{id}"), |m| m.display_name.clone());
        parts.push(format!("{} {name}", lang.t("book.with")));
    }
    if let Some(code) = &r.wish.language {
        parts.push(language_name(code, lang));
    }
    if let Some(part) = r.wish.time_of_day {
        parts.push(lang.t(time_of_day_key(part)).to_owned());
    }
    if let Some(before) = r.wish.before {
        parts.push(format!("{} {}", lang.t("cb.before.short"), format::date_long(before, lang)));
    }
    if parts.is_empty() { lang.t("cb.wish.any").to_owned() } else { parts.join(" · ") }
}

async fn add(
    State(state): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<CallbackForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let lang = staff.page.lang;
    let new = match form.parse(lang) {
        Ok(new) => new,
        Err(errors) => {
            let page = list_page(&state, staff, &form.unit.clone(), Some((form, errors))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let unit: Unit = desk::unit_for(deps, &staff.actor, &form.unit).await?;
    match callbacks::add(deps, &staff.actor, &unit, new).await {
        Ok(_) => Ok(Redirect::to(&format!("/callbacks?unit={}&done=added", unit.slug)).into_response()),
        Err(ServiceError::Invalid { field, .. }) => {
            let (id, key) = match field {
                "until" => ("cb-until", "cb.err.until"),
                "before" => ("cb-before", "cb.err.before"),
                _ => ("cb-counsellor", "err.counsellor"),
            };
            let errors = vec![FieldError::new(id, lang.t(key))];
            let page = list_page(&state, staff, &unit.slug, Some((form, errors))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        // Said at the form's first field: no entry can be added until the list is worked through.
        Err(err @ ServiceError::Conflict { clash: Clash::CallbackListFull, .. }) => {
            let errors = vec![FieldError::new("cb-name", service_message(lang, &err))];
            let page = list_page(&state, staff, &unit.slug, Some((form, errors))).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    slot: String,
    /// The id of the caller's appointment to move to the slot; empty: a new appointment.
    #[serde(default, rename = "move")]
    moving: String,
}

async fn book(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> WebResult<Response> {
    let lang = staff.page.lang;
    // In a task of its own: a request dropped meanwhile (the browser gave up, the request's
    // timeout) still closes the entry or undoes its booking.
    let task = {
        let (state, actor, slot_id) = (state.clone(), staff.actor.clone(), form.slot.parse().ok());
        // An id that is none is no appointment of the caller's: refused as such.
        let way = match form.moving.trim() {
            "" => Way::New,
            id => Way::Move(id.parse().unwrap_or_default()),
        };
        tokio::spawn(async move { callbacks::book(state.book(), &actor, CallbackId::new(id), slot_id, way).await })
    };
    let moving = !form.moving.trim().is_empty();
    match task.await.map_err(|err| WebError::Internal(err.into()))? {
        Ok(booking) if moving => Ok(Redirect::to(&format!("/bookings/{}/moved", booking.reference)).into_response()),
        Ok(booking) => Ok(Redirect::to(&format!("/bookings/{}/booked", booking.reference)).into_response()),
        Err(ServiceError::Invalid { field: "move", .. }) => {
            let mut page = list_page(&state, staff, &form.unit, None).await?;
            page.refused = Some(lang.t("cb.err.move"));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(
            err @ (ServiceError::Conflict { .. }
            | ServiceError::Rule(_)
            | ServiceError::Invalid { .. }
            // The offered slot is gone since the list was shown (the lead changed the hours).
            | ServiceError::NotFound(Missing::Slot)),
        ) => {
            let status = refusal_status(&err);
            let mut page = list_page(&state, staff, &form.unit, None).await?;
            page.refused = Some(service_message(lang, &err));
            Ok((status, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let lang = staff.page.lang;
    match callbacks::withdraw(deps, &staff.actor, CallbackId::new(id)).await {
        // The unit's stored slug, not the form's text, goes into the Location header.
        Ok(request) => {
            let unit = state.unit(&request.unit_id.to_string()).await?;
            Ok(Redirect::to(&format!("/callbacks?unit={}&done=withdrawn", unit.slug)).into_response())
        }
        Err(err @ ServiceError::Conflict { .. }) => {
            let mut page = list_page(&state, staff, &form.unit, None).await?;
            page.refused = Some(service_message(lang, &err));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// A clash answers 409, a refused rule or value 422 (the page says which).
fn refusal_status(err: &ServiceError) -> StatusCode {
    if matches!(err, ServiceError::Conflict { .. } | ServiceError::NotFound(Missing::Slot)) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}
