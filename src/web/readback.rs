//! The read-back after booking or moving: what the staff member reads aloud before hanging up
//! (date, time, counsellor, duration, place, the Buchungsnummer spelled with the spelling
//! alphabet) and what catches typos: the email address as entered and whether an email goes
//! out, with a warning when an address was entered without consent; an interpreter arranged is
//! said aloud too.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::error::{WebError, WebResult};
use super::format;
use super::i18n::Lang;
use super::page::{Page, Staff};
use crate::domain::history::HistoryEvent;
use crate::domain::spelling::SpellingAlphabet;
use crate::services::bookings::{self, BookingDetails};
use crate::services::{desk, directory};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/bookings/{key}/booked", get(booked)).route("/bookings/{key}/moved", get(moved))
}

/// Whether and where the citizen is emailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailPlan {
    /// An address and consent: the email goes to the address.
    Sent,
    /// An address without consent: nothing is sent (the page warns).
    NoConsent,
    /// No address.
    NoAddress,
}

impl EmailPlan {
    pub fn of(citizen: &crate::domain::booking::Citizen) -> Self {
        match (&citizen.email, citizen.email_consent) {
            (Some(_), true) => Self::Sent,
            (Some(_), false) => Self::NoConsent,
            (None, _) => Self::NoAddress,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/booked.html")]
struct ReadBackPage {
    p: Page,
    reference: String,
    spelled: String,
    date: String,
    time: String,
    minutes: i64,
    unit: String,
    place: String,
    counsellor: String,
    email: String,
    plan: EmailPlan,
    /// The caller's language, when the emails are not written in it (they go out in German):
    /// said aloud with the email, so that no caller waits for a letter in their language.
    mail_not_in: Option<String>,
    /// After a move: the appointment's earlier time ("Bisheriger Termin").
    previous: Option<String>,
    /// The language an interpreter is arranged for, named in the page's language: said aloud,
    /// so that the caller knows one will be there (and a wrong choice is heard before hanging up).
    interpreter: Option<String>,
    /// The accessibility needs as noted: said aloud too, so that a need misheard is corrected on
    /// the phone, not at the door.
    access: Option<String>,
}

async fn booked(State(state): State<AppState>, staff: Staff, Path(key): Path<String>) -> WebResult<ReadBackPage> {
    read_back(&state, staff, &key, false).await
}

async fn moved(State(state): State<AppState>, staff: Staff, Path(key): Path<String>) -> WebResult<ReadBackPage> {
    read_back(&state, staff, &key, true).await
}

/// The earlier time of the booking's latest move, from its history.
fn previous_start(details: &BookingDetails) -> Option<DateTime<Utc>> {
    details.events.iter().rev().find_map(|e| match e.what {
        HistoryEvent::Rescheduled { from, by_citizen: false, .. } => Some(from.starts_at),
        _ => None,
    })
}

async fn read_back(state: &AppState, staff: Staff, key: &str, after_move: bool) -> WebResult<ReadBackPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let details = bookings::get(deps, &staff.actor, key).await?;
    let previous = if after_move { previous_start(&details) } else { None };
    let booking = &details.booking;
    let unit = directory::find_unit(deps.db, &booking.unit_id.to_string()).await?;
    let location = directory::location_of(deps.db, &unit).await?;
    let counsellor = desk::staff_member(deps, booking.counsellor_id).await?.ok_or(WebError::NotFound)?;
    let alphabet = match lang {
        Lang::De => SpellingAlphabet::German,
        Lang::En => SpellingAlphabet::English,
    };
    let spelled = alphabet.spell(&booking.reference);
    Ok(ReadBackPage {
        p: staff.page.titled(if after_move { "rb.moved.title" } else { "done.title" }),
        reference: booking.reference.to_string(),
        spelled,
        date: format::date_long(format::local_date(booking.starts_at, deps.tz), lang),
        time: format::time_spoken(booking.starts_at, deps.tz, lang),
        minutes: (booking.ends_at - booking.starts_at).num_minutes(),
        unit: unit.name,
        // Read aloud in the page's language, as the date and the spelling are: the floor too (the
        // caller's emails give it in theirs).
        place: format!(
            "{}, {}, {} {}",
            location.street,
            location.floor_in(lang.code()),
            location.postal_code,
            location.city
        ),
        counsellor: counsellor.display_name,
        email: booking.citizen.email.clone().unwrap_or_default(),
        plan: EmailPlan::of(&booking.citizen),
        mail_not_in: mail_not_in(state, &booking.citizen.language, lang),
        previous: previous.map(|at| format::when_spoken(at, deps.tz, lang)),
        interpreter: booking.citizen.interpreter_language.as_ref().map(|l| super::views::language_name(l, lang)),
        access: booking.citizen.accessibility_needs.clone().filter(|needs| !needs.trim().is_empty()),
    })
}

/// The name of `language` (in the page's language) when the emails have no templates in it.
fn mail_not_in(state: &AppState, language: &crate::domain::language::Language, lang: Lang) -> Option<String> {
    let written = state.citizen.templates.language_for(language.code());
    (written != language.code()).then(|| super::views::language_name(language, lang))
}
