//! Correcting the citizen's details of a booked appointment ("Kontaktdaten ändern"): the caller
//! phones with a new number, spells the address again, wants another language. The form is the
//! booking form's citizen part, filled with the stored details; the service writes only what
//! changed and, when the emails follow another address, sends the confirmation there.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::auth::FieldError;
use super::book::{BookForm, parse_citizen};
use super::error::WebResult;
use super::format;
use super::page::{CsrfForm, Page, Staff};
use super::views::{Choice, language_choices};
use crate::domain::booking::BookingStatus;
use crate::domain::clash::Clash;
use crate::domain::records::Booking;
use crate::services::{ServiceError, bookings};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/bookings/{key}/contact", get(show).post(save))
}

#[derive(Template, WebTemplate)]
#[template(path = "web/contact.html")]
struct ContactPage {
    p: Page,
    key: String,
    when: String,
    f: BookForm,
    errors: Vec<FieldError>,
    languages: Vec<Choice>,
}

impl ContactPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// The stored details as the form shows them, with the version they belong to.
fn stored(booking: &Booking) -> BookForm {
    let c = &booking.citizen;
    BookForm {
        name: c.name.clone(),
        phone: c.phone.clone().unwrap_or_default(),
        email: c.email.clone().unwrap_or_default(),
        language: c.language.code().to_owned(),
        interpreter: c.interpreter_language.as_ref().map(|l| l.code().to_owned()).unwrap_or_default(),
        access: c.accessibility_needs.clone().unwrap_or_default(),
        consent: if c.email_consent { "1".to_owned() } else { String::new() },
        version: booking.sequence.to_string(),
        ..BookForm::default()
    }
}

fn page(state: &AppState, page: Page, booking: &Booking, f: BookForm, errors: Vec<FieldError>) -> ContactPage {
    let tz = state.book().tz;
    let lang = page.lang;
    ContactPage {
        key: booking.reference.to_string(),
        when: format!(
            "{}, {}",
            format::date_long(format::local_date(booking.starts_at, tz), lang),
            format::time_spoken(booking.starts_at, tz, lang)
        ),
        f,
        errors,
        languages: language_choices(lang),
        p: page.titled("contact.title"),
    }
}

async fn show(State(state): State<AppState>, staff: Staff, Path(key): Path<String>) -> WebResult<Response> {
    let booking = bookings::get(state.book(), &staff.actor, &key).await?.booking;
    if booking.status != BookingStatus::Booked || booking.erased_at.is_some() {
        return Ok(Redirect::to(&format!("/bookings/{}", booking.reference)).into_response());
    }
    let form = stored(&booking);
    Ok(page(&state, staff.page, &booking, form, Vec::new()).into_response())
}

async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<BookForm>,
) -> WebResult<Response> {
    let Staff { actor, page: p } = staff;
    let citizen = match parse_citizen(&form, &p) {
        Ok(citizen) => citizen,
        Err(errors) => {
            let booking = bookings::get(state.book(), &actor, &key).await?.booking;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, p, &booking, form, errors)).into_response());
        }
    };
    let seen: Option<i32> = form.version.parse().ok();
    match bookings::correct_contact(state.book(), &actor, &key, citizen, seen).await {
        Ok(booking) => {
            let moved = seen.is_some_and(|seen| booking.sequence > seen);
            let flag = if moved { 2 } else { 1 };
            Ok(Redirect::to(&format!("/bookings/{}?corrected={flag}", booking.reference)).into_response())
        }
        // Changed meanwhile: the typed details stay, with the version now stored, to check and
        // save again.
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
            let booking = bookings::get(state.book(), &actor, &key).await?.booking;
            let form = BookForm { version: booking.sequence.to_string(), ..form };
            let errors = vec![FieldError::new("name", p.t("contact.changed_meanwhile"))];
            Ok((StatusCode::CONFLICT, page(&state, p, &booking, form, errors)).into_response())
        }
        Err(err) => Err(err.into()),
    }
}
