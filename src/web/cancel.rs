//! Cancelling at the desk, in two steps: the reason is asked on the booking's page, then a
//! confirmation page says what will happen (and whether the citizen is told by email) before
//! anything changes; after the cancellation the booking's page says what happened. No script:
//! two plain forms, the second with `confirm=1`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use super::auth::FieldError;
use super::bookings::{Change, booking_page, refused, shown_at_status};
use super::error::WebResult;
use super::format;
use super::page::{CsrfForm, Page, Staff};
use super::readback::EmailPlan;
use crate::domain::booking::BookingStatus;
use crate::domain::citizen::{self, ReasonRefusal};
use crate::domain::clash::Clash;
use crate::services::{ServiceError, bookings};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/bookings/{key}/cancel", post(cancel))
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    reason: String,
    /// `1` on the confirmation page's form; without it the confirmation is shown.
    #[serde(default)]
    confirm: String,
    /// The booking's `sequence` the confirmation page showed: a booking changed since is not
    /// cancelled (the page is shown again with the change).
    #[serde(default)]
    version: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/cancel.html")]
struct ConfirmPage {
    p: Page,
    key: String,
    when: String,
    citizen: String,
    reason: String,
    version: i32,
    email: String,
    plan: EmailPlan,
    /// An interpreter arranged for the appointment (in the page's language): to be called off.
    interpreter: Option<String>,
}

async fn cancel(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> WebResult<Response> {
    // Read as the service reads it (a line break counts once, however the browser sent it).
    let reason = match citizen::cancel_reason(&form.reason) {
        Ok(reason) => reason,
        Err(refusal) => {
            let message = staff.page.t(match refusal {
                ReasonRefusal::Missing => "err.reason",
                ReasonRefusal::TooLong => "cx.reason.long",
            });
            let errors = vec![FieldError::new("reason", message)];
            let page = booking_page(&state, staff, &key, errors).await?.with_cancel_reason(form.reason.clone());
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    if form.confirm != "1" {
        return Ok(confirm_page(&state, staff, &key, &reason).await?.into_response());
    }
    let seen = super::bookings::seen_version(&form.version);
    match bookings::cancel(state.book(), &staff.actor, &key, &reason, seen).await {
        Ok(booking) => Ok(Redirect::to(&format!("/bookings/{}?cancelled=1", booking.reference)).into_response()),
        // This confirmation sent twice at once (a double press): the other request cancelled it
        // for the same person from the same version, so this one leads to what it says too.
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. })
            if let Some(reference) = cancelled_by_twin(&state, &staff, &key, seen).await? =>
        {
            Ok(Redirect::to(&format!("/bookings/{reference}?cancelled=1")).into_response())
        }
        // Changed meanwhile (a colleague moved it, or this confirmation was sent twice): the
        // booking as it is now says why, and a booking still to cancel has the reason typed again.
        Err(err) if shown_at_status(&err) => {
            let page =
                refused(&state, staff, &key, Change::Cancel, &err).await?.with_cancel_reason(form.reason.clone());
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// The reference of the booking `key` if it was cancelled by `staff` from the version `seen`
/// (the change right after it): the twin of a confirmation sent twice.
async fn cancelled_by_twin(
    state: &AppState,
    staff: &Staff,
    key: &str,
    seen: Option<i32>,
) -> WebResult<Option<crate::domain::reference::Reference>> {
    let booking = bookings::find(state.book().db, key).await?;
    let twin = booking.status == BookingStatus::Cancelled
        && seen.and_then(|v| v.checked_add(1)) == Some(booking.sequence)
        && booking.updated_by == Some(staff.actor.staff_id());
    Ok(twin.then_some(booking.reference))
}

async fn confirm_page(state: &AppState, staff: Staff, key: &str, reason: &str) -> WebResult<ConfirmPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let booking = bookings::get(deps, &staff.actor, key).await?.booking;
    Ok(ConfirmPage {
        key: booking.reference.to_string(),
        when: format::when_spoken(booking.starts_at, deps.tz, lang),
        citizen: booking.citizen.name.clone(),
        reason: reason.to_owned(),
        version: booking.sequence,
        email: booking.citizen.email.clone().unwrap_or_default(),
        plan: EmailPlan::of(&booking.citizen),
        interpreter: booking.citizen.interpreter_language.as_ref().map(|l| super::views::language_name(l, lang)),
        p: staff.page.titled("cx.title"),
    })
}
