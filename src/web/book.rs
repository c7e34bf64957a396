//! The phone booking flow: unit → next free slots (filtered) → a slot or "other time" →
//! the citizen's details → book → the read-back screen. Keyboard-only, no JavaScript.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use super::adhoc;
use super::auth::FieldError;
use super::error::{WebError, WebResult};
use super::i18n::{Lang, service_message};
use super::page::{CsrfForm, Page, Staff};
use super::views::{Choice, SlotView, language_choices, language_name};
use crate::domain::access::Actor;
use crate::domain::booking::{Channel, Citizen};
use crate::domain::citizen::{self, CitizenField, CitizenText};
use crate::domain::clash::Clash;
use crate::domain::ids::{SlotId, StaffId, UnitId};
use crate::domain::language::Language;
use crate::domain::missing::Missing;
use crate::domain::records::Unit;
use crate::domain::time::local_date;
use crate::services::availability::{self, FreeSlotQuery};
use crate::services::bookings::{NewBooking, Target};
use crate::services::submissions::{self, Sending, Submission};
use crate::services::{ServiceError, desk, directory};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/book", get(choose_slot).post(book)).route("/book/details", get(details))
}

/// How many free slots one list shows.
const SHOWN_SLOTS: usize = 8;
/// How far ahead the slot search looks without a chosen day.
const SEARCH_DAYS: u64 = 90;

#[derive(Debug, Default, Deserialize)]
pub struct SlotFilter {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub counsellor: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub daypart: String,
}

impl SlotFilter {
    /// Fits the filters to the lists the page offers and checks the day. A counsellor who does
    /// not counsel in the unit (the unit was changed with them chosen), a language or a time of
    /// day not offered become "any", which is what the lists then show. The day is named at its
    /// field (`day_field`, the id with the page's prefix) when it is no date or already past:
    /// the finder would otherwise list from today, unasked.
    pub(super) fn checked(
        &mut self,
        counsellors: &[Choice],
        languages: &[Choice],
        today: NaiveDate,
        day_field: &'static str,
        page: &Page,
    ) -> Option<FieldError> {
        if !counsellors.iter().any(|c| c.value == self.counsellor) {
            self.counsellor.clear();
        }
        if !languages.iter().any(|l| l.value == self.language) {
            self.language.clear();
        }
        if availability::Daypart::parse(&self.daypart).is_none() {
            self.daypart.clear();
        }
        self.day = self.day.trim().to_owned();
        if self.day.is_empty() {
            return None;
        }
        match crate::domain::time::parse_date(&self.day) {
            Ok(day) if day >= today => None,
            Ok(_) => Some(FieldError::new(day_field, page.t("book.day_past"))),
            Err(_) => Some(FieldError::new(day_field, page.t("book.day_invalid"))),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/book.html")]
struct BookPage {
    p: Page,
    units: Vec<Choice>,
    unit: Option<Unit>,
    counsellors: Vec<Choice>,
    languages: Vec<Choice>,
    q: SlotFilter,
    slots: Vec<SlotView>,
    /// Prefix of the filter fields' ids (none here; the move page has two forms).
    fid: &'static str,
    /// Today (`YYYY-MM-DD`), the day field's least value.
    today: String,
    /// The day filter's problem; the list is not searched while there is one.
    day_error: Option<String>,
    errors: Vec<FieldError>,
    /// The language filter names a language no counsellor of the unit counsels in (named in the
    /// page's language): the empty list says so, not "nothing free".
    unspoken: Option<String>,
    /// The day chosen is closed all day (a holiday, a closure), said instead of "nothing free".
    closed: Option<String>,
}

/// The unit to show: the one asked for, else the staff member's first unit.
fn unit_key(actor: &Actor, asked: &str) -> Option<String> {
    if asked.is_empty() { actor.unit_ids().first().map(UnitId::to_string) } else { Some(asked.to_owned()) }
}

async fn choose_slot(State(state): State<AppState>, staff: Staff, Query(q): Query<SlotFilter>) -> WebResult<BookPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let units = desk::units_for(deps, &staff.actor).await?;
    // Admins belong to no unit: they start with the first unit they may book for.
    let key = unit_key(&staff.actor, &q.unit).or_else(|| units.first().map(|u| u.slug.clone()));
    let unit = match key {
        Some(key) => Some(desk::unit_for(deps, &staff.actor, &key).await?),
        None => None,
    };
    let today = local_date(deps.clock.now(), deps.tz);
    let languages = language_choices(lang);
    let (mut counsellors, mut slots, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let (mut unspoken, mut closed) = (None, None);
    let mut q = q;
    if let Some(unit) = &unit {
        let members = desk::unit_staff(deps, unit).await?;
        counsellors =
            members.iter().map(|c| Choice { value: c.id.to_string(), label: c.display_name.clone() }).collect();
        let problem = q.checked(&counsellors, &languages, today, "day", &staff.page);
        unspoken = Language::parse(&q.language)
            .ok()
            .filter(|language| !members.iter().any(|m| m.languages.contains(language)))
            .map(|language| language_name(&language, lang));
        match problem {
            Some(problem) => errors.push(problem),
            None => {
                slots = free_slots(&state, unit, &q, SHOWN_SLOTS)
                    .await?
                    .iter()
                    .map(|f| SlotView::new(f, deps.tz, lang))
                    .collect();
                if let (true, Ok(day)) = (slots.is_empty(), crate::domain::time::parse_date(&q.day)) {
                    closed = desk::closed_all_day(deps, unit, day).await?.map(|why| closed_words(why, lang));
                }
            }
        }
        q.unit.clone_from(&unit.slug);
    }
    Ok(BookPage {
        p: staff.page.titled("book.title"),
        units: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
        unit,
        counsellors,
        languages,
        q,
        slots,
        fid: "",
        today: today.format("%Y-%m-%d").to_string(),
        day_error: errors.first().map(|e| e.message.clone()),
        errors,
        unspoken,
        closed,
    })
}

/// Why a day offers nothing, in the page's language.
fn closed_words(why: desk::ClosedAllDay, lang: Lang) -> String {
    match why {
        desk::ClosedAllDay::Holiday(name) => lang.t("book.closed.holiday").replace("{name}", name),
        desk::ClosedAllDay::Administration => lang.t("book.closed.administration").to_owned(),
        desk::ClosedAllDay::Unit => lang.t("book.closed.unit").to_owned(),
        desk::ClosedAllDay::NotYetOpen(last) => {
            lang.t("book.closed.not_yet").replace("{last}", &super::format::date_long(last, lang))
        }
    }
}

/// The unit's next free slots matching the filter, soonest first.
pub(super) async fn free_slots(
    state: &AppState,
    unit: &Unit,
    q: &SlotFilter,
    shown: usize,
) -> Result<Vec<availability::FreeSlot>, ServiceError> {
    let deps = state.book();
    let today = local_date(deps.clock.now(), deps.tz);
    let day = crate::domain::time::parse_date(&q.day).ok().filter(|d| *d >= today);
    let query = FreeSlotQuery {
        from: day.unwrap_or(today),
        to: day.unwrap_or(today + chrono::Days::new(SEARCH_DAYS)),
        counsellor_id: q.counsellor.parse().ok(),
        language: Some(q.language.as_str()).filter(|l| !l.is_empty()).map(Language::from_stored),
        daypart: availability::Daypart::parse(&q.daypart),
        limit: u32::try_from(shown).unwrap_or(u32::MAX),
    };
    availability::free_slots(deps, unit, &query).await
}

/// What the staff member typed; kept as typed so a failed attempt shows it again.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct BookForm {
    #[serde(default)]
    pub slot: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub adhoc: String,
    #[serde(default)]
    pub counsellor: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub interpreter: String,
    #[serde(default)]
    pub access: String,
    #[serde(default)]
    pub consent: String,
    #[serde(default)]
    pub note: String,
    /// Why a rule is overridden (unit leads and admins only).
    #[serde(default, rename = "override")]
    pub override_reason: String,
    /// Booking: the form's id, so that sending it twice books once.
    #[serde(default)]
    pub submission: String,
    /// Moving and correcting: the booking's `sequence` the page showed (a booking changed since
    /// is not moved).
    #[serde(default)]
    pub version: String,
    /// Correcting the citizen's details: the fingerprint of the details the form showed.
    #[serde(default)]
    pub shown: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/details.html")]
struct DetailsPage {
    p: Page,
    unit: Unit,
    place: String,
    slot: Option<SlotView>,
    counsellors: Vec<Choice>,
    languages: Vec<Choice>,
    f: BookForm,
    errors: Vec<FieldError>,
    taken: bool,
    alternatives: Vec<SlotView>,
    /// The staff member leads the unit (or is admin): may override a rule with a reason.
    may_override: bool,
}

impl DetailsPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

#[derive(Deserialize)]
struct DetailsQuery {
    #[serde(default)]
    slot: String,
    #[serde(default)]
    unit: String,
    /// The finder's language filter: the caller's language, most likely.
    #[serde(default)]
    language: String,
    /// "Other time" from the finder: its counsellor and day, as the first guess.
    #[serde(default)]
    counsellor: String,
    #[serde(default)]
    day: String,
}

async fn details(State(state): State<AppState>, staff: Staff, Query(q): Query<DetailsQuery>) -> WebResult<DetailsPage> {
    // The caller's language starts as the one the slot was looked for in, else German.
    let language = Language::parse(&q.language).map_or_else(|_| "de".to_owned(), |l| l.code().to_owned());
    let form =
        BookForm { slot: q.slot, unit: q.unit, language, counsellor: q.counsellor, date: q.day, ..BookForm::default() };
    details_page(&state, staff.page, &staff.actor, form, Vec::new(), false).await
}

/// Builds the details page for the form's slot (or ad-hoc unit).
async fn details_page(
    state: &AppState,
    page: Page,
    actor: &Actor,
    mut form: BookForm,
    errors: Vec<FieldError>,
    taken: bool,
) -> WebResult<DetailsPage> {
    let deps = state.book();
    let lang = page.lang;
    let (unit, slot) = match form.slot.parse::<i32>() {
        Ok(id) if !taken => {
            let offer = desk::slot_offer(deps, actor, SlotId::new(id)).await?;
            let free = availability::FreeSlot { slot: offer.slot, counsellor: offer.counsellor };
            (offer.unit, Some(SlotView::new(&free, deps.tz, lang)))
        }
        _ => (desk::unit_for(deps, actor, &form.unit).await?, None),
    };
    form.unit.clone_from(&unit.slug);
    if form.submission.is_empty() {
        form.submission = submissions::new_id();
    }
    if form.duration.is_empty() {
        form.duration = unit.default_slot_minutes.to_string();
    }
    let location = directory::location_of(deps.db, &unit).await?;
    let members = desk::unit_staff(deps, &unit).await?;
    let alternatives = if taken {
        // The caller's language, where one of the unit's counsellors speaks it (else the caller
        // comes with an interpreter, and any counsellor will do).
        let spoken = Language::parse(&form.language)
            .ok()
            .filter(|language| members.iter().any(|m| m.languages.contains(language)));
        let filter = SlotFilter {
            unit: unit.slug.clone(),
            language: spoken.map(|l| l.code().to_owned()).unwrap_or_default(),
            ..SlotFilter::default()
        };
        free_slots(state, &unit, &filter, 5).await?.iter().map(|f| SlotView::new(f, deps.tz, lang)).collect()
    } else {
        Vec::new()
    };
    let counsellors = members.into_iter().map(|c| Choice { value: c.id.to_string(), label: c.display_name }).collect();
    Ok(DetailsPage {
        may_override: actor.can_lead(unit.id),
        p: page.titled("details.title"),
        place: format!("{}, {}", location.street, location.floor_in(lang.code())),
        unit,
        slot,
        counsellors,
        languages: language_choices(lang),
        f: form,
        errors,
        taken,
        alternatives,
    })
}

/// Turns the typed form into a booking, or the errors to show at the fields.
fn parse_booking(form: &BookForm, unit: &Unit, page: &Page, tz: chrono_tz::Tz) -> Result<NewBooking, Vec<FieldError>> {
    let citizen = parse_citizen(form, page);
    let mut errors: Vec<FieldError> = citizen.as_ref().err().cloned().unwrap_or_default();
    let override_reason = adhoc::override_reason(form, page, &mut errors);
    let note = citizen::free_text(Some(&form.note)).unwrap_or_else(|_| {
        errors.push(FieldError::new("note", page.t("err.long")));
        None
    });
    let target = match form.slot.parse::<i32>() {
        Ok(id) => Some(Target::Slot(SlotId::new(id))),
        Err(_) if form.adhoc.is_empty() => {
            errors.push(FieldError::new("slot", page.t("err.slot")));
            None
        }
        Err(_) => adhoc::parse(form, page, tz, &mut errors).map(|(counsellor_id, time)| Target::Adhoc {
            unit_id: unit.id,
            counsellor_id: StaffId::new(counsellor_id),
            time,
        }),
    };
    match (target, citizen) {
        (Some(target), Ok(citizen)) if errors.is_empty() => {
            Ok(NewBooking { target, citizen, channel: Channel::Phone, note, override_reason })
        }
        _ => Err(errors),
    }
}

/// The citizen's details as typed in the form's citizen fields (`web/citizen_fields.html`), or
/// the errors to show at them.
pub(super) fn parse_citizen(form: &BookForm, page: &Page) -> Result<Citizen, Vec<FieldError>> {
    Citizen::parse(CitizenText {
        name: &form.name,
        email: Some(&form.email),
        phone: Some(&form.phone),
        language: Some(&form.language),
        interpreter_language: Some(&form.interpreter),
        accessibility_needs: Some(&form.access),
        email_consent: !form.consent.is_empty(),
    })
    .map_err(|fields| fields.iter().map(|f| citizen_error(*f, page)).collect())
}

/// The page's field and message of a refused detail of the citizen.
fn citizen_error(field: CitizenField, page: &Page) -> FieldError {
    let (id, key) = match field {
        CitizenField::Name => ("name", "err.name"),
        CitizenField::Email => ("email", "err.email"),
        CitizenField::Phone => ("phone", "err.phone"),
        CitizenField::Language => ("language", "err.language"),
        CitizenField::InterpreterLanguage => ("interpreter", "err.language"),
        CitizenField::AccessibilityNeeds => ("access", "err.long"),
        CitizenField::Consent => ("consent", "err.consent"),
    };
    FieldError::new(id, page.t(key))
}

async fn book(State(state): State<AppState>, staff: Staff, CsrfForm(form): CsrfForm<BookForm>) -> WebResult<Response> {
    let deps = state.book();
    let Staff { actor, page } = staff;
    let unit = match form.slot.parse::<i32>() {
        Ok(id) => match desk::slot_offer(deps, &actor, SlotId::new(id)).await {
            Ok(offer) => offer.unit,
            // Gone since the page was shown (the lead changed the hours): like a taken slot.
            Err(ServiceError::NotFound(Missing::Slot)) if !form.unit.is_empty() => {
                return slot_gone(&state, page, &actor, form, "details.gone").await;
            }
            Err(err) => return Err(err.into()),
        },
        Err(_) => desk::unit_for(deps, &actor, &form.unit).await?,
    };
    let new = match parse_booking(&form, &unit, &page, deps.tz) {
        Ok(new) => new,
        Err(errors) => {
            let taken = form.slot.is_empty() && form.adhoc.is_empty();
            let shown = details_page(&state, page, &actor, form, errors, taken).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, shown).into_response());
        }
    };
    // The same form sent twice books once: the second sending leads to the first's booking.
    // Claimed, booked and noted in a task of its own: a request dropped meanwhile (the browser
    // gave up on the first of two sendings, the request timeout) still notes its booking or gives
    // the form up, so the second sending is not left waiting for nothing.
    let task = {
        let (state, actor, submission) = (state.clone(), actor.clone(), Submission::form(&form.submission));
        tokio::spawn(async move { submissions::book_once(state.book(), &actor, &submission, new).await })
    };
    let made = match task.await.map_err(|err| WebError::Internal(err.into()))?? {
        Sending::Booked(stored) => {
            let reference = crate::domain::reference::Reference::from_stored(&stored);
            return Ok(Redirect::to(&format!("/bookings/{reference}/booked")).into_response());
        }
        // A form's claim carries no digest, so it is never refused as reused; were it, it would be
        // told as still being handled.
        Sending::StillBusy | Sending::Reused | Sending::Unresolved => {
            let errors = vec![FieldError::refusal("submit", page.t("details.busy"))];
            let shown = details_page(&state, page, &actor, form, errors, false).await?;
            return Ok((StatusCode::CONFLICT, shown).into_response());
        }
        Sending::Made(made) => *made,
    };
    match made {
        Ok(booking) => Ok(Redirect::to(&format!("/bookings/{}/booked", booking.reference)).into_response()),
        Err(ServiceError::Conflict { clash: Clash::SlotTaken, .. }) => {
            // Taken by this desk a moment ago (the form sent again after "Back" to mend a typo):
            // said so with the booking's number, not as someone else's, which would invite a
            // second booking of the same caller at another time.
            match own_recent_booking(&state, &actor, &form.slot, &form.phone).await? {
                Some(reference) => {
                    let message = page.t("details.taken.own").replace("{reference}", &reference);
                    let errors = vec![FieldError::new("slot", message)];
                    let form = BookForm { slot: String::new(), ..form };
                    let shown = details_page(&state, page, &actor, form, errors, true).await?;
                    Ok((StatusCode::CONFLICT, shown).into_response())
                }
                None => slot_gone(&state, page, &actor, form, "details.taken").await,
            }
        }
        Err(ServiceError::NotFound(Missing::Slot)) if !form.slot.is_empty() => {
            slot_gone(&state, page, &actor, form, "details.gone").await
        }
        Err(
            err @ (ServiceError::Rule(_)
            | ServiceError::Conflict { .. }
            | ServiceError::Invalid { .. }
            | ServiceError::NotPermitted(_)),
        ) => {
            // A refused override (someone who does not lead the unit) is named where the time is.
            let field = if form.adhoc.is_empty() { "slot" } else { "time" };
            let status = if matches!(err, ServiceError::NotPermitted(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let errors =
                vec![FieldError::new(field, format!("{}: {}", page.t("err.rule"), service_message(page.lang, &err)))];
            let shown = details_page(&state, page, &actor, form, errors, false).await?;
            Ok((status, shown).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// How long a booking of one's own counts as just made, for a form sent again after it.
const JUST_BOOKED: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// The reference of a booking `actor` made in `slot` within [`JUST_BOOKED`] for the caller
/// with the number `phone` as typed (however written; both without one count as the same), if
/// any: in a group's slot the desk's booking of another caller is not this caller's.
async fn own_recent_booking(state: &AppState, actor: &Actor, slot: &str, phone: &str) -> WebResult<Option<String>> {
    let Ok(id) = slot.parse::<i32>() else { return Ok(None) };
    let since = state.clock.now() - JUST_BOOKED;
    let booked =
        crate::store::bookings::booked_in_slots(&state.db, &[SlotId::new(id)]).await.map_err(ServiceError::from)?;
    let caller = fold::phone_key(phone);
    Ok(booked
        .into_iter()
        .filter(|b| b.created_by == Some(actor.staff_id()) && b.created_at >= since)
        .filter(|b| b.citizen.phone.as_deref().and_then(fold::phone_key) == caller)
        .max_by_key(|b| b.created_at)
        .map(|b| b.reference.to_string()))
}

/// The chosen slot was taken or is gone: the form again as typed, the message (`key`) at the
/// slot, and the next free slots to choose from (409).
async fn slot_gone(state: &AppState, page: Page, actor: &Actor, form: BookForm, key: &str) -> WebResult<Response> {
    let errors = vec![FieldError::new("slot", page.t(key))];
    let form = BookForm { slot: String::new(), ..form };
    let shown = details_page(state, page, actor, form, errors, true).await?;
    Ok((StatusCode::CONFLICT, shown).into_response())
}
