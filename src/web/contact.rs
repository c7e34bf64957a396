//! Correcting the citizen's details of a booked appointment ("Kontaktdaten ändern"): the caller
//! phones with a new number, spells the address again, wants another language. The form is the
//! booking form's citizen part, filled with the stored details; the service records which
//! details changed and, when the emails follow another address, sends the confirmation there.

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
use super::views::{Choice, language_choices, language_name};
use crate::domain::booking::Correction;
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
    /// After a refusal because someone changed the details meanwhile: what is stored now.
    stored_now: Option<StoredNow>,
}

/// The stored details as shown beside the typed ones.
struct StoredNow {
    name: String,
    phone: String,
    email: String,
    language: String,
    interpreter: String,
    access: String,
    consent: bool,
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
        shown: c.fingerprint(),
        ..BookForm::default()
    }
}

fn page(state: &AppState, page: Page, booking: &Booking, f: BookForm, errors: Vec<FieldError>) -> ContactPage {
    let tz = state.book().tz;
    let lang = page.lang;
    // A language stored by an earlier release that the lists no longer offer is shown as it is,
    // so that saving another detail does not change it unseen (it is refused at its field).
    let mut languages = language_choices(lang);
    let c = &booking.citizen;
    for stored in [Some(&c.language), c.interpreter_language.as_ref()].into_iter().flatten() {
        if !languages.iter().any(|l| l.value == stored.code()) {
            languages.push(Choice { value: stored.code().to_owned(), label: language_name(stored, lang) });
        }
    }
    ContactPage {
        key: booking.reference.to_string(),
        when: format::when_spoken(booking.starts_at, tz, lang),
        f,
        errors,
        languages,
        stored_now: None,
        p: page.titled("contact.title"),
    }
}

/// The texts the booking's page shows after a correction (`?corrected=`, see [`outcome`]).
pub(super) fn outcome_texts(code: &str) -> Vec<&'static str> {
    let (emails, revoked) = code.strip_suffix("-revoked").map_or((code, false), |rest| (rest, true));
    let mut texts = match emails {
        "saved" => vec!["contact.done"],
        "new" => vec!["contact.done", "contact.done.new"],
        "none" => vec!["contact.done", "contact.done.none"],
        _ => return Vec::new(),
    };
    if revoked {
        texts.push("contact.done.revoked");
    }
    texts
}

/// What a correction did to the emails, as `?corrected=` says it.
fn outcome(booking: &Booking, correction: &Correction) -> String {
    let emails = match (correction.recipient_changed, booking.citizen.recipient()) {
        (false, _) => "saved",
        (true, Some(_)) => "new",
        (true, None) => "none",
    };
    if correction.links_sent_elsewhere { format!("{emails}-revoked") } else { emails.to_owned() }
}

async fn show(State(state): State<AppState>, staff: Staff, Path(key): Path<String>) -> WebResult<Response> {
    let booking = bookings::get(state.book(), &staff.actor, &key).await?.booking;
    if !booking.contact_correctable() {
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
    let seen = super::bookings::seen_version(&form.version);
    let shown = Some(form.shown.as_str()).filter(|shown| !shown.is_empty());
    match bookings::correct_contact(state.book(), &actor, &key, citizen, seen, shown).await {
        Ok((booking, correction)) => {
            let code = outcome(&booking, &correction);
            Ok(Redirect::to(&format!("/bookings/{}?corrected={code}", booking.reference)).into_response())
        }
        // Changed meanwhile: the typed details stay, the stored ones are shown above them, and
        // the form now carries the stored version, to compare and save again.
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
            let booking = bookings::get(state.book(), &actor, &key).await?.booking;
            let now = stored(&booking);
            let form = BookForm { version: now.version.clone(), shown: now.shown.clone(), ..form };
            let errors = vec![FieldError::new("stored-now", p.t("contact.changed_meanwhile"))];
            let lang = p.lang;
            let mut shown_page = page(&state, p, &booking, form, errors);
            let c = &booking.citizen;
            shown_page.stored_now = Some(StoredNow {
                name: now.name,
                phone: now.phone,
                email: now.email,
                language: language_name(&c.language, lang),
                interpreter: c.interpreter_language.as_ref().map(|l| language_name(l, lang)).unwrap_or_default(),
                access: now.access,
                consent: c.email_consent,
            });
            Ok((StatusCode::CONFLICT, shown_page).into_response())
        }
        // No longer booked (cancelled or its attendance recorded meanwhile) or erased: nothing to
        // correct; said at the form, whose typed details stay to be noted elsewhere.
        Err(ServiceError::Conflict { clash: Clash::InvalidStatus, .. }) => {
            let booking = bookings::get(state.book(), &actor, &key).await?.booking;
            let errors = vec![FieldError::refusal("when", p.t("contact.not_booked"))];
            Ok((StatusCode::CONFLICT, page(&state, p, &booking, form, errors)).into_response())
        }
        Err(err) => Err(err.into()),
    }
}
