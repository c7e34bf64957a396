//! Handling booked appointments: details with history, cancel, reschedule, attendance, and the
//! printable day list (the search is `web::search`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::auth::FieldError;
use super::error::WebResult;
use super::format;
use super::history;
use super::i18n::service_message;
use super::page::{CsrfForm, Page, Staff};
use super::readback::EmailPlan;
use super::views::{BookingRow, Choice, EmailView, language_name, reference_display, status_key};
use super::week_items::{self, GridRow, ItemKind};
use crate::domain::booking::{BookingStatus, Outcome};
use crate::domain::clash::Clash;
use crate::domain::outbox::MailKind;
use crate::domain::reference::Reference;
use crate::domain::time::local_date;
use crate::services::bookings;
use crate::services::{ServiceError, desk, directory, emails};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bookings/{key}", get(show))
        .route("/bookings/{key}/outcome", post(outcome))
        .route("/bookings/{key}/resend", post(resend))
        .route("/day", get(day))
}

/// One history entry as shown.
struct EventView {
    when: String,
    what: String,
    by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/booking.html")]
pub(super) struct BookingPage {
    p: Page,
    key: String,
    row: BookingRow,
    unit: String,
    place: String,
    date: String,
    email: String,
    language: String,
    interpreter: String,
    access: String,
    consent: bool,
    note: String,
    cancel_reason: String,
    can_record: bool,
    /// Booked, not begun and not erased: a confirmation with the citizen's link may be printed.
    can_print: bool,
    events: Vec<EventView>,
    emails: Vec<EmailView>,
    can_resend: bool,
    errors: Vec<FieldError>,
    saved: bool,
    resent: bool,
    /// The citizen's links were just revoked: how many.
    links_revoked: Option<u64>,
    /// Just cancelled: say whether the citizen is told.
    cancelled: bool,
    /// The citizen's details were just corrected: the texts that say what follows.
    corrected: Vec<&'static str>,
    /// Booked and not erased: the details may be corrected.
    can_correct: bool,
    /// When the personal data were erased (retention or the person's request), as shown.
    erased: Option<String>,
    plan: EmailPlan,
    override_reason: String,
    /// Which notice the resend button sends (`mail.confirmation`, `mail.change`, `mail.cancellation`).
    resend_key: &'static str,
    /// A cancellation's reason as typed, shown again when it was refused.
    typed_reason: String,
}

impl BookingPage {
    /// The page with the cancellation's reason as typed (refused: blank, too long, or the
    /// booking changed before the confirmation), to be sent again.
    pub(super) fn with_cancel_reason(mut self, reason: String) -> Self {
        self.typed_reason = reason;
        self
    }
}

#[derive(Deserialize)]
struct ShowQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    resent: String,
    #[serde(default)]
    links_revoked: String,
    #[serde(default)]
    cancelled: String,
    /// After a correction of the citizen's details: `saved`, `new` (the emails go to a new
    /// recipient) or `none` (no more emails), with `-revoked` when earlier links stopped working.
    #[serde(default)]
    corrected: String,
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    Query(query): Query<ShowQuery>,
) -> WebResult<BookingPage> {
    let mut page = booking_page(&state, staff, &key, Vec::new()).await?;
    page.saved = !query.saved.is_empty();
    page.resent = !query.resent.is_empty();
    page.links_revoked = query.links_revoked.parse().ok();
    page.cancelled = !query.cancelled.is_empty() && page.row.status_key == status_key(BookingStatus::Cancelled);
    page.corrected = super::contact::outcome_texts(&query.corrected);
    Ok(page)
}

pub(super) async fn booking_page(
    state: &AppState,
    staff: Staff,
    key: &str,
    errors: Vec<FieldError>,
) -> WebResult<BookingPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let details = bookings::get(deps, &staff.actor, key).await?;
    let b = &details.booking;
    let unit = directory::find_unit(deps.db, &b.unit_id.to_string()).await?;
    let location = directory::location_of(deps.db, &unit).await?;
    let members = desk::unit_staff_and(deps, &unit, [b.counsellor_id]).await?;
    let mut events = Vec::new();
    for e in &details.events {
        let by = match e.actor_id {
            Some(id) => desk::staff_member(deps, id).await?.map_or_else(|| format!("#{id}"), |s| s.display_name),
            None if e.what.by_citizen() => lang.t("ev.by_citizen").to_owned(),
            None => String::new(),
        };
        events.push(EventView {
            when: format::short(e.at, deps.tz, lang),
            what: history::event_text(&e.what, deps.tz, lang),
            by,
        });
    }
    let c = &b.citizen;
    Ok(BookingPage {
        key: b.reference.to_string(),
        row: BookingRow::new(b, &members, deps.tz, lang),
        unit: unit.name.clone(),
        place: format!("{}, {}", location.street, location.floor_in(lang.code())),
        date: format::when_spoken(b.starts_at, deps.tz, lang),
        email: c.email.clone().unwrap_or_default(),
        language: language_name(&c.language, lang),
        interpreter: c.interpreter_language.as_ref().map(|l| language_name(l, lang)).unwrap_or_default(),
        access: c.accessibility_needs.clone().unwrap_or_default(),
        consent: c.email_consent,
        note: b.note.clone().unwrap_or_default(),
        cancel_reason: b.cancel_reason.clone().unwrap_or_default(),
        can_record: b.status != BookingStatus::Cancelled && b.starts_at <= deps.clock.now(),
        can_print: b.confirmation_printable(deps.clock.now()),
        events,
        emails: details.emails.iter().map(|e| EmailView::new(e, deps.tz, lang)).collect(),
        can_resend: c.may_be_emailed()
            && emails::may_resend(b, emails::resend_kind(b, &details.events), deps.clock.now()),
        errors,
        saved: false,
        resent: false,
        links_revoked: None,
        cancelled: false,
        corrected: Vec::new(),
        can_correct: b.contact_correctable(),
        erased: b.erased_at.map(|at| format::short(at, deps.tz, lang)),
        plan: EmailPlan::of(c),
        override_reason: b.override_reason.clone().unwrap_or_default(),
        resend_key: match emails::resend_kind(b, &details.events) {
            MailKind::Cancellation => "email.resend.cancellation",
            MailKind::Change => "email.resend.change",
            _ => "email.resend",
        },
        typed_reason: String::new(),
        p: staff.page.titled("b.title"),
    })
}

fn saved(reference: &Reference) -> Response {
    Redirect::to(&format!("/bookings/{reference}?saved=1")).into_response()
}

#[derive(Deserialize)]
struct Empty {}

async fn resend(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    match emails::resend(state.book(), &staff.actor, &key).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/bookings/{}?resent=1#emails-title", reference_display(&key))).into_response())
        }
        Err(err @ (ServiceError::Conflict { .. } | ServiceError::Rule(_))) => {
            let errors = vec![FieldError::refusal("emails-title", service_message(staff.page.lang, &err))];
            let status = if matches!(err, ServiceError::Rule(_)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            let page = booking_page(&state, staff, &key, errors).await?;
            Ok((status, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct OutcomeForm {
    /// `attended` or `no_show`; anything else is a malformed form (400).
    outcome: Outcome,
}

async fn outcome(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<OutcomeForm>,
) -> WebResult<Response> {
    match bookings::record_outcome(state.book(), &staff.actor, &key, form.outcome).await {
        Ok(booking) => Ok(saved(&booking.reference)),
        Err(err) if shown_at_status(&err) => {
            let page = refused(&state, staff, &key, Change::Outcome, &err).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// The booking version a change form was made from. The form always carries it; one without it
/// (or with garbage) was not made by a page of ours as it stands, and counts as made from a
/// version that never was, so the change is refused as "changed meanwhile" and the page shows
/// the booking as it is now, rather than changing whatever is stored without the check.
pub(super) fn seen_version(raw: &str) -> Option<i32> {
    Some(raw.trim().parse().unwrap_or(-1))
}

/// A change of a booking made on its page (not a booking of a time: the booking form words its
/// own refusals), named in the page's message when it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Cancel,
    Outcome,
}

impl Change {
    /// What did not happen, said before the reason.
    fn not_done(self) -> &'static str {
        match self {
            Self::Cancel => "b.refused.cancel",
            Self::Outcome => "b.refused.outcome",
        }
    }
}

/// Whether a change's refusal is said on the booking's page (a conflict, a rule, a value);
/// anything else is an error page.
pub(super) fn shown_at_status(err: &ServiceError) -> bool {
    matches!(err, ServiceError::Conflict { .. } | ServiceError::Rule(_) | ServiceError::Invalid { .. })
}

/// The booking's page as it is now, saying at its status why `change` was refused: what did not
/// happen, then why. A cancellation refused because the booking is cancelled already (the
/// confirmation pressed twice, or a colleague was quicker) says just that.
pub(super) async fn refused(
    state: &AppState,
    staff: Staff,
    key: &str,
    change: Change,
    err: &ServiceError,
) -> WebResult<BookingPage> {
    let mut page = booking_page(state, staff, key, Vec::new()).await?;
    let lang = page.p.lang;
    let cancelled_already = change == Change::Cancel
        && matches!(err, ServiceError::Conflict { clash: Clash::InvalidStatus, .. })
        && page.row.status_key == status_key(BookingStatus::Cancelled);
    let message = if cancelled_already {
        lang.t("b.refused.cancelled_already").to_owned()
    } else {
        format!("{}: {}", lang.t(change.not_done()), service_message(lang, err))
    };
    page.errors.push(FieldError::refusal("status", message));
    Ok(page)
}

#[derive(Deserialize)]
struct DayQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    counsellor: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/day.html")]
struct DayPage {
    p: Page,
    units: Vec<Choice>,
    counsellors: Vec<Choice>,
    unit: String,
    unit_name: String,
    date: String,
    date_long: String,
    counsellor: String,
    rows: Vec<BookingRow>,
    /// The day as a grid with the counsellors as columns (wide screens).
    grid_heads: Vec<String>,
    grid: Vec<GridRow>,
}

async fn day(State(state): State<AppState>, staff: Staff, Query(q): Query<DayQuery>) -> WebResult<DayPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let units = desk::units_for(deps, &staff.actor).await?;
    let key = if q.unit.is_empty() { units.first().map(|u| u.slug.clone()).unwrap_or_default() } else { q.unit };
    let on = crate::domain::time::parse_date(&q.date).unwrap_or_else(|_| local_date(deps.clock.now(), deps.tz));
    let (mut rows, mut counsellors, mut unit_name) = (Vec::new(), Vec::new(), String::new());
    let (mut grid_heads, mut grid) = (Vec::new(), Vec::new());
    if !key.is_empty() {
        let unit = desk::unit_for(deps, &staff.actor, &key).await?;
        let chosen = q.counsellor.parse().ok();
        let found = desk::day_list(deps, &staff.actor, &unit, on, chosen).await?;
        let members =
            desk::unit_staff_and(deps, &unit, found.iter().map(|b| b.counsellor_id).collect::<Vec<_>>()).await?;
        rows = found.iter().map(|b| BookingRow::new(b, &members, deps.tz, lang)).collect();
        (grid_heads, grid) =
            week_items::day_grid(deps, &staff.actor, &unit, &members, on, &found, chosen, lang).await?;
        // The grid's warning of an appointment that cannot take place as booked (an absence, a
        // closure) goes into the list too: the list is what is printed.
        let flags: std::collections::HashMap<&str, &'static str> = grid
            .iter()
            .flat_map(|row| row.cells.iter().flatten())
            .filter_map(|item| item.stranded_key.map(|key| (item.href.as_str(), key)))
            .collect();
        for row in &mut rows {
            row.flag = flags.get(format!("/bookings/{}", row.reference).as_str()).copied();
        }
        counsellors = members.into_iter().map(|m| Choice { value: m.id.to_string(), label: m.display_name }).collect();
        unit_name = unit.name;
    }
    Ok(DayPage {
        p: staff.page.titled("day.title"),
        units: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
        counsellors,
        unit: key,
        unit_name,
        date: on.format("%Y-%m-%d").to_string(),
        date_long: format::date_long(on, lang),
        counsellor: q.counsellor,
        rows,
        grid_heads,
        grid,
    })
}
