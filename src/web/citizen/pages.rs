//! The handlers of the citizen's page: each opens the booking by its token (or answers the one
//! 404), then shows a step (the appointment, the cancel confirmation, the free slots, the move
//! confirmation) or does what the confirmed form asks and sends the citizen back to the
//! appointment with a notice.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_cookies::Cookies;

use super::not_found;
use super::refusal::Visitor;
use super::texts::{self, Texts};
use crate::domain::booking::BookingStatus;
use crate::domain::citizen_link::{NoMove, Offer};
use crate::domain::clash::Clash;
use crate::domain::ids::SlotId;
use crate::mail::dates;
use crate::mail::messages::AppointmentMail;
use crate::services::ServiceError;
use crate::services::availability::FreeSlot;
use crate::services::citizen_link::{self as link, EntryDeps, Opened};
use crate::state::AppState;
use crate::web::error::WebError;
use crate::web::forms::{Checked, form_token};

/// A free slot as the move list shows it.
pub(super) struct SlotView {
    id: i32,
    when: String,
    /// The slot's length: the appointment's after the move.
    minutes: i64,
    counsellor: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/citizen.html")]
pub(super) struct CitizenPage {
    tx: &'static Texts,
    /// Every language of the page, to switch to (its code, its own name, whether it is shown).
    languages: Vec<(&'static str, &'static str, bool)>,
    title: String,
    step: &'static str,
    mail: AppointmentMail,
    base: String,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    status: String,
    status_class: &'static str,
    info: String,
    /// The calendar link then offers the entry's cancellation (`STATUS:CANCELLED`).
    cancelled: bool,
    can_cancel: bool,
    can_move: bool,
    tel: String,
    reason: String,
    same: Vec<SlotView>,
    others: Vec<SlotView>,
    chosen_id: i32,
    chosen_when: String,
    chosen_minutes: i64,
    /// The booking's sequence as shown: a form sent after staff changed the booking is refused.
    version: i32,
}

type PageResult = Result<Response, WebError>;

/// The cookie holding the language a visitor chose on the page (for every link: the choice is
/// the reader's, the booking keeps its language for the emails).
pub(super) const LANG_COOKIE: &str = "terminbuch_citizen_lang";

/// The language the visitor chose on the page, if one of the page's.
fn chosen_language(cookies: &Cookies) -> Option<&'static str> {
    cookies.get(LANG_COOKIE).and_then(|c| texts::page_language(c.value())).map(|tx| tx.lang)
}

fn page(state: &AppState, opened: &Opened, token: &str, cookies: &Cookies, step: &'static str) -> CitizenPage {
    let booking = &opened.booking;
    let (tx, mail, title) = texts::appointment(opened, state.settings.time_zone, chosen_language(cookies));
    let languages = texts::every_language().map(|l| (l.lang, l.t("language.self"), l.lang == tx.lang)).collect();
    let (status, status_class) = match booking.status {
        BookingStatus::Booked if booking.starts_at > state.clock.now() => ("status.booked", "booked"),
        BookingStatus::Cancelled => ("status.cancelled", "cancelled"),
        _ => ("status.over", "over"),
    };
    let info = match opened.offer {
        Offer::Change { may_move: false } => tx.t(no_move_text(opened.no_move())),
        Offer::CallUs => tx.t("call_us"),
        Offer::Nothing if booking.status == BookingStatus::Cancelled => tx.t("cancelled.info"),
        Offer::Nothing => tx.t("over.info"),
        Offer::Change { may_move: true } => "",
    };
    CitizenPage {
        tx,
        languages,
        title,
        step,
        tel: mail.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect(),
        mail,
        base: format!("/t/{token}"),
        csrf: form_token(cookies, state),
        notice: None,
        error: None,
        status: tx.t(status).to_owned(),
        status_class,
        info: info.to_owned(),
        cancelled: booking.status == BookingStatus::Cancelled,
        can_cancel: matches!(opened.offer, Offer::Change { .. }),
        can_move: matches!(opened.offer, Offer::Change { may_move: true }),
        reason: String::new(),
        same: Vec::new(),
        others: Vec::new(),
        chosen_id: 0,
        chosen_when: String::new(),
        chosen_minutes: 0,
        version: booking.sequence,
    }
}

/// The text saying why the page offers no move (and to call).
fn no_move_text(why: Option<NoMove>) -> &'static str {
    match why {
        Some(NoMove::NotOffered) => "moves_none",
        Some(NoMove::Interpreter) => "moves_interpreter",
        Some(NoMove::MovesUsed) | None => "moves_used",
    }
}

/// The refusal of a change the page no longer offers: why no move, where that is the reason.
fn closed_text(opened: &Opened) -> &'static str {
    opened.no_move().map_or("err.closed", |why| no_move_text(Some(why)))
}

/// Whether the form was made from the booking as it is now.
fn current(opened: &Opened, version: &str) -> bool {
    version.trim().parse::<i32>().ok() == Some(opened.booking.sequence)
}

/// Whether the booking's last change was the one a form of `version` asked for: its version is
/// the next one, and the change was the citizen's through a link (not staff's meanwhile).
fn made_by_this_form(opened: &Opened, version: &str) -> bool {
    version.trim().parse::<i32>().ok().and_then(|v| v.checked_add(1)) == Some(opened.booking.sequence)
        && opened.booking.updated_by.is_none()
}

/// Opens the booking (recording the look as `what`), or `None` for the one 404.
async fn opened(state: &AppState, visitor: &Visitor, token: &str, what: &str) -> Result<Option<Opened>, WebError> {
    let Some(opened) = open(state, visitor, token).await? else { return Ok(None) };
    shown(state, &opened, what).await?;
    Ok(Some(opened))
}

/// Opens the booking without recording a look, or `None` for the one 404. From here on a
/// failure's page is in the booking's language.
async fn open(state: &AppState, visitor: &Visitor, token: &str) -> Result<Option<Opened>, WebError> {
    let opened = link::open(state.book(), token).await?;
    if let Some(opened) = &opened {
        visitor.opened(opened);
    }
    Ok(opened)
}

/// Records the look at a booking a form's answer shows (opened without recording, since a form
/// that succeeds shows nothing but a redirect).
async fn shown(state: &AppState, opened: &Opened, what: &str) -> Result<(), WebError> {
    Ok(link::record_view(state.book(), opened, what).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ShowQuery {
    done: String,
    /// A language of the page the visitor switches to.
    lang: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    visitor: Visitor,
    cookies: Cookies,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    if let Some(chosen) = texts::page_language(&q.lang) {
        // Only the switch: the page that follows records the look.
        if open(&state, &visitor, &token).await?.is_none() {
            return Ok(not_found());
        }
        // Kept for this browser's visits of citizens' pages; the page's address stays without it.
        let mut cookie = super::super::page::site_cookie(
            LANG_COOKIE,
            chosen.lang.to_owned(),
            &state,
            tower_sessions::cookie::SameSite::Lax,
        );
        cookie.set_path("/t");
        cookie.set_max_age(time::Duration::days(365));
        cookies.add(cookie);
        return Ok(Redirect::to(&format!("/t/{token}")).into_response());
    }
    let Some(opened) = opened(&state, &visitor, &token, "page").await? else { return Ok(not_found()) };
    let mut view = page(&state, &opened, &token, &cookies, "view");
    // The change queued an email only for a citizen with an address and consent; the others
    // (who mostly hold a printed link) are told none follows and pointed to the calendar file.
    // Said only while it is true of the appointment: a tab restored later, or an address that
    // names an outcome, must not tell the citizen the opposite of its state.
    let emailed = opened.booking.citizen.may_be_emailed();
    let cancelled = opened.booking.status == BookingStatus::Cancelled;
    let notice = match (q.done.as_str(), emailed) {
        ("cancelled", true) if cancelled => Some("cancelled.notice"),
        ("cancelled", false) if cancelled => Some("cancelled.notice.no_email"),
        ("moved", true) if opened.booking.status == BookingStatus::Booked => Some("moved.notice"),
        ("moved", false) if opened.booking.status == BookingStatus::Booked => Some("moved.notice.no_email"),
        _ => None,
    };
    view.notice = notice.map(|key| view.tx.t(key).to_owned());
    Ok(view.into_response())
}

pub(super) async fn calendar(State(state): State<AppState>, Path(token): Path<String>, visitor: Visitor) -> PageResult {
    let Some(opened) = opened(&state, &visitor, &token, "calendar").await? else { return Ok(not_found()) };
    let deps = EntryDeps {
        db: &state.db,
        templates: &state.citizen.templates,
        tz: state.settings.time_zone,
        from: &state.settings.mail.mail_from,
    };
    let text = link::calendar(deps, &opened).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"termin.ics\""),
    ];
    Ok((headers, text).into_response())
}

pub(super) async fn cancel_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    visitor: Visitor,
    cookies: Cookies,
) -> PageResult {
    let Some(opened) = opened(&state, &visitor, &token, "cancel").await? else { return Ok(not_found()) };
    Ok(cancel_step(&state, &opened, &token, &cookies, None))
}

/// The cancel confirmation (`again` for a form whose check failed, with the reason it carried),
/// or the appointment saying it can no longer be cancelled here.
fn cancel_step(state: &AppState, opened: &Opened, token: &str, cookies: &Cookies, again: Option<String>) -> Response {
    if !matches!(opened.offer, Offer::Change { .. }) {
        return refused(state, opened, token, cookies, "err.closed");
    }
    let mut view = page(state, opened, token, cookies, "cancel");
    match again {
        Some(reason) => {
            view.reason = reason;
            press_again(view)
        }
        None => view.into_response(),
    }
}

/// The answer to a form whose check failed (its cookie lost when the browser closed, or replaced
/// when the link was opened again in another tab): nothing is done, and the step is shown again,
/// its form carrying the token of the browser's cookie now, with a request to press once more.
fn press_again(mut view: CitizenPage) -> Response {
    view.error = Some(view.tx.t("err.again").to_owned());
    (StatusCode::FORBIDDEN, view).into_response()
}

#[derive(Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
    visitor: Visitor,
    cookies: Cookies,
    form: Checked<CancelForm>,
) -> PageResult {
    let form = match form {
        Checked::Passed(form) => form,
        Checked::Failed(form) => {
            let Some(opened) = opened(&state, &visitor, &token, "cancel").await? else { return Ok(not_found()) };
            let reason = form.map(|f| f.reason.chars().take(500).collect()).unwrap_or_default();
            return Ok(cancel_step(&state, &opened, &token, &cookies, Some(reason)));
        }
    };
    let Some(opened) = open(&state, &visitor, &token).await? else { return Ok(not_found()) };
    if !current(&opened, &form.version) {
        // The same form sent again (a double click, a reload): its cancellation was made, and
        // the citizen is led to what it says, as after the first.
        if opened.booking.status == BookingStatus::Cancelled && made_by_this_form(&opened, &form.version) {
            return Ok(Redirect::to(&format!("/t/{token}?done=cancelled")).into_response());
        }
        shown(&state, &opened, "cancel").await?;
        return Ok(refused(&state, &opened, &token, &cookies, "err.changed"));
    }
    // A line break counts once, however the browser sent it (as the service counts it). A
    // control character, or a bidirectional override that turns the staff's history line
    // around after it ("(ni/regrüB)"), is refused as in a name.
    let bad_reason = crate::domain::text::normalise_line_breaks(&form.reason).chars().count() > 500
        || form
            .reason
            .chars()
            .any(|c| crate::domain::text::is_forbidden_in_name(c) && !matches!(c, '\n' | '\r' | '\t'));
    if bad_reason {
        shown(&state, &opened, "cancel").await?;
        let mut view = page(&state, &opened, &token, &cookies, "cancel");
        view.error = Some(view.tx.t("err.reason").to_owned());
        view.reason = form.reason.chars().take(500).collect();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    }
    match link::cancel(state.book(), &opened, Some(form.reason)).await {
        Ok(_) => Ok(Redirect::to(&format!("/t/{token}?done=cancelled")).into_response()),
        Err(err) => after_failure(&state, &visitor, &token, &cookies, err, "cancel").await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct MoveQuery {
    slot: String,
}

pub(super) async fn move_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    visitor: Visitor,
    cookies: Cookies,
    Query(q): Query<MoveQuery>,
) -> PageResult {
    let Some(opened) = opened(&state, &visitor, &token, "move").await? else { return Ok(not_found()) };
    move_step(&state, &opened, &token, &cookies, &q.slot, false).await
}

/// The move step for `slot` as the query (or a form whose check failed: `again`) names it: the
/// confirmation of an offered slot, else the free slots (asking to choose one where a slot was
/// named that is not offered, or the form failed its check); the appointment saying it can no
/// longer be moved here.
async fn move_step(
    state: &AppState,
    opened: &Opened,
    token: &str,
    cookies: &Cookies,
    slot: &str,
    again: bool,
) -> PageResult {
    if !matches!(opened.offer, Offer::Change { may_move: true }) {
        return Ok(refused(state, opened, token, cookies, closed_text(opened)));
    }
    // Offered by the list's rules, though perhaps no longer among the first it shows.
    let chosen = match slot.parse::<i32>() {
        Ok(id) => link::move_option(state.book(), opened, SlotId::new(id)).await?,
        Err(_) => None,
    };
    let mut view = match chosen {
        Some(free) => {
            let mut confirm = page(state, opened, token, cookies, "confirm");
            let chosen = slot_view(state, opened, confirm.tx, &free);
            confirm.chosen_id = chosen.id;
            confirm.chosen_when = chosen.when;
            confirm.chosen_minutes = chosen.minutes;
            return Ok(if again { press_again(confirm) } else { confirm.into_response() });
        }
        None => move_list(state, opened, token, cookies).await?,
    };
    if slot.is_empty() && !again {
        return Ok(view.into_response());
    }
    view.error = Some(view.tx.t("err.choose").to_owned());
    Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
}

fn slot_view(state: &AppState, opened: &Opened, tx: &Texts, free: &FreeSlot) -> SlotView {
    SlotView {
        id: free.slot.id.get(),
        when: dates::spell_out(free.slot.starts_at.with_timezone(&state.settings.time_zone), tx.lang),
        minutes: (free.slot.ends_at - free.slot.starts_at).num_minutes(),
        counsellor: opened.counsellor_name.as_ref().map(|_| free.counsellor.display_name.clone()),
    }
}

async fn move_list(state: &AppState, opened: &Opened, token: &str, cookies: &Cookies) -> Result<CitizenPage, WebError> {
    let mut view = page(state, opened, token, cookies, "move");
    for free in link::move_options(state.book(), opened).await? {
        let slot = slot_view(state, opened, view.tx, &free);
        if free.counsellor.id == opened.booking.counsellor_id {
            view.same.push(slot);
        } else {
            view.others.push(slot);
        }
    }
    Ok(view)
}

#[derive(Deserialize)]
pub(super) struct MoveForm {
    #[serde(default)]
    slot: String,
    #[serde(default)]
    version: String,
}

pub(super) async fn move_to(
    State(state): State<AppState>,
    Path(token): Path<String>,
    visitor: Visitor,
    cookies: Cookies,
    form: Checked<MoveForm>,
) -> PageResult {
    let form = match form {
        Checked::Passed(form) => form,
        Checked::Failed(form) => {
            let Some(opened) = opened(&state, &visitor, &token, "move").await? else { return Ok(not_found()) };
            let slot = form.map(|f| f.slot).unwrap_or_default();
            return move_step(&state, &opened, &token, &cookies, &slot, true).await;
        }
    };
    let Some(opened) = open(&state, &visitor, &token).await? else { return Ok(not_found()) };
    if !current(&opened, &form.version) {
        // The same form sent again: its move was made, to the slot it names.
        let same_slot = form.slot.trim().parse::<i32>().ok() == Some(opened.booking.slot_id.get());
        if opened.booking.status == BookingStatus::Booked && same_slot && made_by_this_form(&opened, &form.version) {
            return Ok(Redirect::to(&format!("/t/{token}?done=moved")).into_response());
        }
        shown(&state, &opened, "move").await?;
        return Ok(refused(&state, &opened, &token, &cookies, "err.changed"));
    }
    let Ok(slot_id) = form.slot.parse::<i32>() else {
        shown(&state, &opened, "move").await?;
        let mut view = move_list(&state, &opened, &token, &cookies).await?;
        view.error = Some(view.tx.t("err.choose").to_owned());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    };
    match link::move_to(state.book(), &opened, SlotId::new(slot_id)).await {
        Ok(_) => Ok(Redirect::to(&format!("/t/{token}?done=moved")).into_response()),
        Err(
            err @ (ServiceError::Conflict { clash: Clash::SlotTaken | Clash::CounsellorBusy, .. }
            | ServiceError::Rule(_)),
        ) if matches!(opened.offer, Offer::Change { may_move: true }) => {
            // Erased or ended meanwhile: the link opens nothing any more.
            let Some(fresh) = open(&state, &visitor, &token).await? else { return Ok(not_found()) };
            shown(&state, &fresh, "move").await?;
            let mut view = move_list(&state, &fresh, &token, &cookies).await?;
            // Taken by someone else, or no longer to be had (the day closed, the counsellor away
            // meanwhile): either way another time, but said as it is.
            let why = if matches!(err, ServiceError::Rule(_)) { "err.unavailable" } else { "err.taken" };
            view.error = Some(view.tx.t(why).to_owned());
            Ok((StatusCode::CONFLICT, view).into_response())
        }
        Err(err) => after_failure(&state, &visitor, &token, &cookies, err, "move").await,
    }
}

/// After a change that lost (staff changed the booking first, or the cutoff passed): the
/// appointment as it is now (the look recorded as `what`), with a message that says what happened.
async fn after_failure(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    cookies: &Cookies,
    err: ServiceError,
    what: &str,
) -> PageResult {
    let changed = match err {
        ServiceError::Conflict { .. } => true,
        ServiceError::Rule(_) => false,
        other => return Err(other.into()),
    };
    let Some(fresh) = opened(state, visitor, token, what).await? else { return Ok(not_found()) };
    let key = if changed { "err.changed" } else { closed_text(&fresh) };
    Ok(refused(state, &fresh, token, cookies, key))
}

fn refused(state: &AppState, opened: &Opened, token: &str, cookies: &Cookies, key: &str) -> Response {
    let mut view = page(state, opened, token, cookies, "view");
    let error = view.tx.t(key).to_owned();
    // The refusal says why: the same text again below the facts would say nothing new.
    if view.info == error {
        view.info.clear();
    }
    view.error = Some(error);
    (StatusCode::CONFLICT, view).into_response()
}
