//! The callback list (Rückrufliste) of a unit: callers waiting for an earlier time, another
//! counsellor or a language not free now. The list marks an entry once a matching slot is free
//! ("Rückruf möglich", see [`offers`]); one action books that slot for the caller through the
//! normal booking service, so every rule of a booking holds. Entries expire after their last day
//! and are personal data: [`erase_ended_before`] and [`erase`] serve retention and erasure.

mod offers;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use std::collections::HashMap;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use super::bookings::{self, Book, NewBooking, Target, authorize};
use crate::domain::access::{Actor, Role};
use crate::domain::booking::{Channel, Citizen};
use crate::domain::callback::{CallbackRequest, CallbackStatus, MAX_WAIT_DAYS, NewCallback};
use crate::domain::clash::Clash;
use crate::domain::ids::{CallbackId, SlotId, UnitId};
use crate::domain::missing::Missing;
use crate::domain::page::Page;
use crate::domain::records::{Booking, Unit};
use crate::domain::time::local_date;
use crate::store::callbacks;
use crate::store::{self, directory, slots};

pub use offers::Entry;

/// How long one desk may take to book an entry before another may try.
const CLAIM: TimeDelta = TimeDelta::seconds(60);

/// The most open entries a unit's list holds. Every look at the list searches a free slot for each
/// entry; a list past this is no longer worked through on the phone anyway, and one request
/// could make the desk search for thousands.
pub const MAX_OPEN: u64 = 300;

/// Puts a caller on the unit's list.
///
/// # Errors
/// `Forbidden` (recorded), `Invalid` for a last day in the past or more than a year ahead, a wished
/// date not after today, or a counsellor who does not counsel in the unit.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get(), unit = unit.id.get()))]
pub async fn add(deps: Book<'_>, actor: &Actor, unit: &Unit, new: NewCallback) -> Result<Entry, ServiceError> {
    authorize(deps, actor, unit.id, "callback.create", &format!("unit:{}", unit.id)).await?;
    let today = local_date(deps.clock.now(), deps.tz);
    let latest = today.checked_add_days(Days::new(MAX_WAIT_DAYS)).unwrap_or(NaiveDate::MAX);
    if new.until < today || new.until > latest {
        return Err(ServiceError::invalid("until", "must be between today and a year from now"));
    }
    if new.wish.before.is_some_and(|before| before <= today || before > latest) {
        return Err(ServiceError::invalid("before", "must be after today and within a year"));
    }
    if let Some(counsellor_id) = new.wish.counsellor_id {
        let member = directory::find_staff(deps.db, counsellor_id).await?;
        if !member.is_some_and(|m| m.active && m.memberships.contains(&(unit.id, Role::Counsellor))) {
            return Err(ServiceError::invalid("counsellor", "not a counsellor of this unit"));
        }
    }
    // The entry and its record, all or nothing: an error after a committed insert would make the
    // desk add the caller again.
    let txn = crate::store::begin_write(deps.db).await?;
    let waiting = callbacks::count_open_locked(&txn, unit.id, today).await?;
    // The same caller with the same wishes sent twice (a double click, a form sent again, a
    // client's retry): the open entry is the answer, not a second one that could be offered and
    // booked on its own. Read under the unit's lock taken above, so two at once find each other.
    let open = callbacks::list(&txn, unit.id, &[CallbackStatus::Open]).await?;
    let created = if let Some(same) = open.into_iter().find(|entry| same_request(entry, &new)) {
        // The open entry is shown again (its times, its offer): a read of it, recorded as one.
        let entry = AuditEntry::by(actor, AuditAction::CallbackViewed)
            .unit(unit.id)
            .target(format!("callback:{}", same.id))
            .detail(serde_json::json!({ "sent_again": true }));
        audit::record(&txn, deps.clock, entry).await?;
        txn.commit().await?;
        tracing::info!(callback = same.id.get(), "callback entry sent again: the open one stands");
        same
    } else if waiting >= MAX_OPEN {
        return Err(ServiceError::conflict(Clash::CallbackListFull));
    } else {
        let created =
            callbacks::insert(&txn, NewCallback { unit_id: unit.id, ..new }, actor.staff_id(), deps.clock.now())
                .await?;
        let entry =
            AuditEntry::by(actor, AuditAction::CallbackAdded).unit(unit.id).target(format!("callback:{}", created.id));
        audit::record(&txn, deps.clock, entry).await?;
        txn.commit().await?;
        tracing::info!(callback = created.id.get(), "caller put on the callback list");
        created
    };
    // The entry is stored: a failed search for its offer must not answer an error (the desk
    // would add the caller again); the next look at the list offers it.
    let listed = match offers::refresh(deps, unit).await {
        Ok(listed) => listed,
        Err(err) => {
            tracing::warn!(error = %err, "the callback list's offers could not be refreshed after an entry was added");
            Vec::new()
        }
    };
    let fallback = Entry { request: created.clone(), offer: None, appointments: Vec::new() };
    Ok(listed.into_iter().find(|e| e.request.id == created.id).unwrap_or(fallback))
}

/// Whether the open entry `entry` is the request `new` again: the same caller, number, language,
/// wishes, last day and note.
fn same_request(entry: &CallbackRequest, new: &NewCallback) -> bool {
    entry.citizen_name == new.citizen_name
        && entry.citizen_phone == new.citizen_phone
        && entry.citizen_language == new.citizen_language
        && entry.wish == new.wish
        && entry.until == new.until
        && entry.note == new.note
}

/// The unit's open entries, oldest first, each marked with a matching free slot if there is one.
///
/// # Errors
/// `Forbidden` (recorded).
pub async fn list(deps: Book<'_>, actor: &Actor, unit: &Unit) -> Result<Vec<Entry>, ServiceError> {
    authorize(deps, actor, unit.id, "callback.list", &format!("unit:{}", unit.id)).await?;
    let mut listed = offers::refresh(deps, unit).await?;
    let requests: Vec<CallbackRequest> = listed.iter().map(|e| e.request.clone()).collect();
    let mut theirs = appointments_of_callers(deps, unit.id, &requests).await?;
    for entry in &mut listed {
        entry.appointments = theirs.remove(&entry.request.id).unwrap_or_default();
    }
    let shown: Vec<CallbackId> = listed.iter().map(|e| e.request.id).collect();
    let appointments: Vec<Uuid> = listed.iter().flat_map(|e| e.appointments.iter().map(|b| b.id)).collect();
    record_list(deps, actor, unit, &shown, appointments).await?;
    Ok(listed)
}

/// Records which entries of the unit's list were shown (so that "who saw entry X" has an
/// answer, as for bookings), with the callers' appointments shown beside them.
async fn record_list(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    shown: &[CallbackId],
    appointments: Vec<Uuid>,
) -> Result<(), ServiceError> {
    let ids: Vec<i32> = shown.iter().map(|id| id.get()).collect();
    let entry = AuditEntry::by(actor, AuditAction::CallbacksListed)
        .unit(unit.id)
        .count(shown.len())
        .bookings(appointments)
        .detail(serde_json::json!({ "callback_ids": ids }));
    audit::record(deps.db, deps.clock, entry).await
}

/// The unit's entries that are no longer open (booked, withdrawn, expired), in the order they were
/// entered: `limit` of them, those after the entry `after` only; recorded as listed like the open
/// ones (a page at a time, so a long list is never one large record).
///
/// # Errors
/// `Forbidden` (recorded).
pub async fn closed(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    after: Option<CallbackId>,
    limit: u64,
) -> Result<Page<CallbackRequest>, ServiceError> {
    authorize(deps, actor, unit.id, "callback.list", &format!("unit:{}", unit.id)).await?;
    let read = callbacks::list_after(deps.db, unit.id, &ENDED, after, limit.saturating_add(1)).await?;
    let page = Page::from_one_more(read, limit);
    let shown: Vec<CallbackId> = page.items().iter().map(|request| request.id).collect();
    record_list(deps, actor, unit, &shown, Vec::new()).await?;
    Ok(page)
}

/// The states of a closed entry.
const ENDED: [CallbackStatus; 3] = [CallbackStatus::Booked, CallbackStatus::Withdrawn, CallbackStatus::Expired];

/// Closed entries the page lists at once.
pub const CLOSED_PAGE: u64 = 50;
/// The last page number read: past it, the offset would leave the engines' range (and no unit
/// has 50 million closed entries).
pub const LAST_CLOSED_PAGE: u64 = 1_000_000;

/// Page `page` (from 0) of the unit's closed entries, the last closed first, [`CLOSED_PAGE`] to a
/// page, recorded as listed like the open ones; and whether an older page follows.
///
/// # Errors
/// `Forbidden` (recorded).
pub async fn closed_page(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    page: u64,
) -> Result<(Vec<CallbackRequest>, bool), ServiceError> {
    authorize(deps, actor, unit.id, "callback.list", &format!("unit:{}", unit.id)).await?;
    let offset = page.min(LAST_CLOSED_PAGE) * CLOSED_PAGE;
    let read = callbacks::list_newest(deps.db, unit.id, &ENDED, CLOSED_PAGE + 1, offset).await?;
    let (listed, more) = Page::from_one_more(read, CLOSED_PAGE).into_parts();
    let shown: Vec<CallbackId> = listed.iter().map(|request| request.id).collect();
    record_list(deps, actor, unit, &shown, Vec::new()).await?;
    Ok((listed, more))
}

/// One entry, with its offer if it is open.
///
/// # Errors
/// `NotFound`, `Forbidden` (recorded).
pub async fn get(deps: Book<'_>, actor: &Actor, id: CallbackId) -> Result<Entry, ServiceError> {
    let request = visible(deps, actor, id, "callback.read").await?;
    let record = |appointments: &[Booking]| {
        let ids: Vec<Uuid> = appointments.iter().map(|b| b.id).collect();
        AuditEntry::by(actor, AuditAction::CallbackViewed)
            .unit(request.unit_id)
            .target(format!("callback:{id}"))
            .bookings(ids)
    };
    if request.status != CallbackStatus::Open {
        audit::record(deps.db, deps.clock, record(&[])).await?;
        return Ok(Entry { request, offer: None, appointments: Vec::new() });
    }
    let unit = super::directory::find_unit(deps.db, &request.unit_id.to_string()).await?;
    let listed = offers::refresh(deps, &unit).await?;
    // Refreshing may have expired it.
    let Some(mut entry) = listed.into_iter().find(|e| e.request.id == id) else {
        audit::record(deps.db, deps.clock, record(&[])).await?;
        return Ok(Entry { request: found(deps.db, id).await?, offer: None, appointments: Vec::new() });
    };
    entry.appointments = appointments_of(deps, &entry.request).await?;
    audit::record(deps.db, deps.clock, record(&entry.appointments)).await?;
    Ok(entry)
}

/// How many of a caller's appointments to come [`appointments_of`] names.
pub const APPOINTMENTS_NAMED: u64 = 3;

/// The caller's appointments still to come in the entry's unit, found by the entry's phone
/// number however it is written (soonest first, [`APPOINTMENTS_NAMED`] at most): a caller who
/// waits for an earlier time usually has one, and moving it is what they asked for.
///
/// # Errors
/// Database failures.
pub async fn appointments_of(deps: Book<'_>, request: &CallbackRequest) -> Result<Vec<Booking>, ServiceError> {
    let mut found = appointments_of_callers(deps, request.unit_id, std::slice::from_ref(request)).await?;
    Ok(found.remove(&request.id).unwrap_or_default())
}

/// [`appointments_of`] for each of the entries `requests` of the unit `unit_id`, in one read.
///
/// # Errors
/// Database failures.
pub async fn appointments_of_callers(
    deps: Book<'_>,
    unit_id: UnitId,
    requests: &[CallbackRequest],
) -> Result<HashMap<CallbackId, Vec<Booking>>, ServiceError> {
    let mut keys: Vec<String> = requests.iter().filter_map(|r| fold::phone_key(&r.citizen_phone)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut by_caller = HashMap::new();
    if keys.is_empty() {
        return Ok(by_caller);
    }
    let upcoming = store::bookings::upcoming_of_phones(deps.db, unit_id, &keys, deps.clock.now()).await?;
    for request in requests {
        let Some(line) = fold::phone_identity(&request.citizen_phone) else { continue };
        let same_line =
            |b: &&Booking| b.citizen.phone.as_deref().and_then(fold::phone_identity).as_deref() == Some(line.as_str());
        let limit = usize::try_from(APPOINTMENTS_NAMED).unwrap_or(usize::MAX);
        let theirs: Vec<Booking> = upcoming.iter().filter(same_line).take(limit).cloned().collect();
        if !theirs.is_empty() {
            by_caller.insert(request.id, theirs);
        }
    }
    Ok(by_caller)
}

/// What booking for a caller of the list does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// A new appointment.
    New,
    /// The caller's appointment to come (one of [`appointments_of`]) moves to the slot: its
    /// details and email stay, the citizen is told of the change.
    Move(Uuid),
}

/// Books a slot for the caller of an open entry: `slot_id`, or the slot the list offers, as a
/// new appointment or by moving the caller's appointment to come (`way`). The booking goes
/// through [`bookings::create`] or [`bookings::reschedule`] (so every rule holds); the entry is
/// claimed while that runs, so two desks cannot book twice for one caller, and closes as booked.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Conflict` (`invalid_status`, `no_offer`, `callback_busy`, and every
/// refusal of a booking such as `slot_taken`, `concurrent_update` for an appointment changed
/// meanwhile), `Invalid` for a slot of another unit or an appointment to move that is not the
/// caller's one to come.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get(), callback = id.get()))]
pub async fn book(
    deps: Book<'_>,
    actor: &Actor,
    id: CallbackId,
    slot_id: Option<SlotId>,
    way: Way,
) -> Result<Booking, ServiceError> {
    let Entry { request, offer, appointments } = get(deps, actor, id).await?;
    if request.status != CallbackStatus::Open {
        return Err(ServiceError::conflict_with(
            Clash::InvalidStatus,
            format!("the entry is {}", request.status.as_str()),
        ));
    }
    let slot_id = slot_id.or(offer.map(|free| free.slot.id)).ok_or_else(|| ServiceError::conflict(Clash::NoOffer))?;
    let slot = slots::find(deps.db, slot_id).await?.ok_or_else(|| ServiceError::not_found(Missing::Slot))?;
    if slot.unit_id != request.unit_id {
        return Err(ServiceError::invalid("slot_id", "the slot belongs to another unit"));
    }
    let moved = match way {
        Way::New => None,
        // One of those the entry's read found (and recorded as seen).
        Way::Move(booking_id) => Some(
            appointments
                .into_iter()
                .find(|b| b.id == booking_id)
                .ok_or_else(|| ServiceError::invalid("move", "not an appointment to come of this caller"))?,
        ),
    };
    let now = deps.clock.now();
    let claimed_until = now + CLAIM;
    if !callbacks::claim(deps.db, id, now, claimed_until).await? {
        return Err(ServiceError::conflict(Clash::CallbackBusy));
    }
    if let Some(old) = moved {
        // Moved from the version read above: a change made meanwhile is refused, not overwritten.
        let key = old.id.to_string();
        let to = bookings::Move::Slot(slot_id);
        return match bookings::reschedule(deps, actor, &key, to, None, Some(old.sequence)).await {
            Ok(booking) => close_moved(deps, actor, id, claimed_until, booking).await,
            Err(err) => {
                callbacks::release(deps.db, id, claimed_until).await?;
                Err(err)
            }
        };
    }
    let booked = bookings::create(deps, actor, booking_for(&request, slot_id)).await;
    let booking = match booked {
        Ok(booking) => booking,
        Err(err) => {
            callbacks::release(deps.db, id, claimed_until).await?;
            return Err(err);
        }
    };
    settle(deps, actor, id, claimed_until, booking).await
}

/// The last step of [`book`]: closes the entry as booked by `booking`, made under the claim
/// `claimed_until`. The claim keeps the entry open meanwhile (a withdrawal or expiry waits for it
/// to end). A claim that ran out while the booking was made (a database that kept it waiting)
/// closes the entry only if no other desk took it since; else that desk books (or the entry was
/// settled otherwise), and this booking is cancelled again, so the caller is booked once.
///
/// # Errors
/// `Conflict` (`callback_busy`, `invalid_status`) or `NotFound` when the booking was undone;
/// database failures (the booking undone too).
pub async fn settle(
    deps: Book<'_>,
    actor: &Actor,
    id: CallbackId,
    claimed_until: DateTime<Utc>,
    booking: Booking,
) -> Result<Booking, ServiceError> {
    match close_as_booked(deps, actor, id, claimed_until, &booking).await {
        Ok(true) => {
            tracing::info!(booking = %booking.id, "callback booked");
            Ok(booking)
        }
        Ok(false) => {
            undo(deps, actor, &booking).await;
            Err(settled_otherwise(deps, id).await)
        }
        Err(err) => {
            // The entry stays open with a booking made for it: undone, so that nobody books the
            // caller twice once the claim runs out.
            undo(deps, actor, &booking).await;
            Err(err.into())
        }
    }
}

/// The last step of [`book`] that moved the caller's appointment: closes the entry as booked by
/// it. The move stays whatever happens to the entry: it is what the caller asked for, and it
/// keeps one appointment (a desk that took the entry after the claim ran out sees the moved one
/// when it books).
///
/// # Errors
/// `Conflict` (`callback_busy`, `invalid_status`) when another desk took the entry meanwhile;
/// database failures.
async fn close_moved(
    deps: Book<'_>,
    actor: &Actor,
    id: CallbackId,
    claimed_until: DateTime<Utc>,
    booking: Booking,
) -> Result<Booking, ServiceError> {
    if close_as_booked(deps, actor, id, claimed_until, &booking).await? {
        tracing::info!(booking = %booking.id, "callback booked by moving the caller's appointment");
        return Ok(booking);
    }
    tracing::warn!(booking = %booking.id, "a callback entry was settled otherwise while its caller's appointment moved");
    Err(settled_otherwise(deps, id).await)
}

/// Closes the entry as booked by `booking` if the claim `claimed_until` still holds it (or no
/// other desk took it since); whether it did.
async fn close_as_booked(
    deps: Book<'_>,
    actor: &Actor,
    id: CallbackId,
    claimed_until: DateTime<Utc>,
    booking: &Booking,
) -> Result<bool, store::StoreError> {
    let (status, by, now) = (CallbackStatus::Booked, actor.staff_id(), deps.clock.now());
    callbacks::close(deps.db, id, status, Some(booking.id), Some(claimed_until), by, now).await
}

/// Why an entry could not be closed by this desk's booking: another desk holds it now
/// (`callback_busy`), or it was settled otherwise (`invalid_status`).
async fn settled_otherwise(deps: Book<'_>, id: CallbackId) -> ServiceError {
    match found(deps.db, id).await {
        Ok(now) if now.status == CallbackStatus::Open => ServiceError::conflict(Clash::CallbackBusy),
        Ok(now) => ServiceError::conflict_with(Clash::InvalidStatus, format!("the entry is {}", now.status.as_str())),
        Err(err) => err,
    }
}

/// Cancels a booking made for an entry that could not be closed as booked by it. A failure is
/// logged: the booking then stands beside the entry (the desk sees both).
async fn undo(deps: Book<'_>, actor: &Actor, booking: &Booking) {
    let reason = "Automatisch storniert: der Rückrufeintrag wurde inzwischen anders erledigt / \
                  cancelled automatically: the callback entry was settled otherwise meanwhile";
    match bookings::cancel_booking(deps, bookings::By::Staff(actor), booking, Some(reason.to_owned())).await {
        Ok(_) => {
            tracing::warn!(booking = %booking.id, "a callback booking was undone: the entry was settled meanwhile")
        }
        Err(err) => tracing::error!(
            booking = %booking.id,
            error = ?err,
            "a callback booking whose entry was settled meanwhile could not be undone"
        ),
    }
}

fn booking_for(request: &CallbackRequest, slot_id: SlotId) -> NewBooking {
    NewBooking {
        target: Target::Slot(slot_id),
        citizen: Citizen {
            name: request.citizen_name.clone(),
            email: None,
            phone: Some(request.citizen_phone.clone()),
            language: request.citizen_language.clone(),
            interpreter_language: None,
            accessibility_needs: None,
            email_consent: false,
        },
        channel: Channel::Phone,
        note: request.note.clone(),
        override_reason: None,
    }
}

/// Takes an open entry off the list (the caller no longer waits).
///
/// # Errors
/// `NotFound`, `Forbidden`, `Conflict { clash: Clash::InvalidStatus, .. }`.
pub async fn withdraw(deps: Book<'_>, actor: &Actor, id: CallbackId) -> Result<CallbackRequest, ServiceError> {
    let request = visible(deps, actor, id, "callback.change").await?;
    let closed =
        callbacks::close(deps.db, id, CallbackStatus::Withdrawn, None, None, actor.staff_id(), deps.clock.now())
            .await?;
    if !closed {
        // Still open: a desk is booking a time for the caller right now.
        let now = found(deps.db, id).await?;
        if now.status == CallbackStatus::Open {
            return Err(ServiceError::conflict(Clash::CallbackBusy));
        }
        return Err(ServiceError::conflict_with(Clash::InvalidStatus, format!("the entry is {}", now.status.as_str())));
    }
    let entry =
        AuditEntry::by(actor, AuditAction::CallbackWithdrawn).unit(request.unit_id).target(format!("callback:{id}"));
    audit::record(deps.db, deps.clock, entry).await?;
    found(deps.db, id).await
}

/// Retention: deletes entries that ended (booked, withdrawn, expired) before `cutoff`, and open
/// ones whose last day lies before it. Returns how many were deleted.
///
/// # Errors
/// Database failures.
pub async fn erase_ended_before<C: sea_orm::ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<u64, ServiceError> {
    Ok(callbacks::delete_ended_before(db, cutoff, local_date(cutoff, tz)).await?)
}

/// How many entries [`erase_ended_before`] would delete (a dry run of the retention).
///
/// # Errors
/// Database failures.
pub async fn count_ended_before<C: sea_orm::ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<u64, ServiceError> {
    Ok(callbacks::count_ended_before(db, cutoff, local_date(cutoff, tz)).await?)
}

/// Erasure on request: deletes the entries `ids`, whatever their state.
///
/// # Errors
/// Database failures.
pub async fn erase(db: &DatabaseConnection, ids: &[CallbackId]) -> Result<u64, ServiceError> {
    Ok(callbacks::delete(db, ids).await?)
}

async fn found(db: &DatabaseConnection, id: CallbackId) -> Result<CallbackRequest, ServiceError> {
    callbacks::find(db, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Callback))
}

/// An entry the actor may see (any role in its unit).
async fn visible(deps: Book<'_>, actor: &Actor, id: CallbackId, action: &str) -> Result<CallbackRequest, ServiceError> {
    let request = found(deps.db, id).await?;
    authorize(deps, actor, request.unit_id, action, &format!("callback:{id}")).await?;
    Ok(request)
}
