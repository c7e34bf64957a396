//! Booking use cases: create (from a slot or ad hoc), look up, list; cancel, reschedule, record
//! the outcome (`change`, by staff or by the citizen through their link). Every change is one
//! transaction with its history event.

mod change;
mod listed;
mod one_statement;
mod rows;
mod writer;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use uuid::Uuid;

use super::ServiceError;
use super::access::deny;
use super::audit::{self, AuditAction, entries};
use super::booking_rules::{check_within_hours, ensure_may_override};
use super::schedule::{check_bookable, check_calendar, check_unblocked};
use crate::clock::Clock;
use crate::domain::access::{Actor, Role};
use crate::domain::booking::{Channel, Citizen};
use crate::domain::clash::Clash;
use crate::domain::holidays::HolidayCalendar;
use crate::domain::ids::{SlotId, StaffId, UnitId};
use crate::domain::missing::Missing;
use crate::domain::outbox::OutboxMessage;
use crate::domain::records::BookingFilter;
use crate::domain::records::{Booking, BookingEvent, Slot};
use crate::domain::reference::{Reference, looks_like_reference};
use crate::domain::time::TimeSlot;
use crate::mail;
use crate::store::schedule::{self, Scope};
use crate::store::{self, StoreError, bookings, directory, slots};

pub(crate) use self::change::outdone;
pub use self::change::{By, cancel, cancel_booking, correct_contact, move_booking, record_outcome, reschedule};
pub use self::listed::ListedSlots;
use self::rows::NewRows;
pub use self::writer::{Writer, WriterDeps};

/// What the booking use cases need besides the caller.
#[derive(Clone, Copy)]
pub struct Book<'a> {
    pub db: &'a DatabaseConnection,
    /// Where the free-slot search's page statement runs: on PostgreSQL a pool of its own that
    /// plans it generically ([`crate::store::search_pool`]), otherwise `db`.
    pub search_db: &'a DatabaseConnection,
    pub clock: &'a Clock,
    pub calendar: &'a HolidayCalendar,
    pub tz: Tz,
    /// Woken after a commit that queued emails, so they go out now rather than at the next poll.
    pub mail: &'a mail::Nudge,
    /// What queued emails' Message-IDs end in ([`mail::outbox::id_domain`] of the sender).
    pub mail_domain: &'a str,
    /// Units' counsellors as read in the last moments (the free-slot search).
    pub counsellors: &'a super::directory::CounsellorCache,
    /// Slots the free-slot search listed lately (PostgreSQL: their booking is one round trip).
    pub listed: &'a ListedSlots,
    /// SQLite: the one writer that commits concurrent bookings together; `None` writes directly.
    pub writer: Option<&'a Writer>,
    /// PostgreSQL: the connections of the one-statement booking
    /// ([`crate::store::booking_pool`]); `None` runs it on `db`.
    pub booking_pool: Option<&'a crate::store::booking_pool::BookingPool>,
}

/// Where an appointment goes: a stored slot, or a freely arranged time with a counsellor.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Slot(SlotId),
    Adhoc { unit_id: UnitId, counsellor_id: StaffId, time: TimeSlot },
}

/// Where a booking moves to. Parts of an ad-hoc time left unset keep the booking's counsellor
/// and length.
#[derive(Debug, Clone, Copy)]
pub enum Move {
    Slot(SlotId),
    Adhoc { starts_at: DateTime<Utc>, duration: Option<TimeDelta>, counsellor_id: Option<StaffId> },
}

/// An ad-hoc target; without a duration the unit's default appointment length applies.
///
/// # Errors
/// `NotFound` for an unknown unit, `Invalid` for an empty duration.
pub async fn adhoc_target(
    db: &DatabaseConnection,
    unit_id: UnitId,
    counsellor_id: StaffId,
    starts_at: DateTime<Utc>,
    duration: Option<TimeDelta>,
) -> Result<Target, ServiceError> {
    let duration = match duration {
        Some(duration) => duration,
        None => {
            let unit =
                directory::find_unit_by_id(db, unit_id).await?.ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
            TimeDelta::minutes(i64::from(unit.default_slot_minutes))
        }
    };
    Ok(Target::Adhoc { unit_id, counsellor_id, time: adhoc_time(starts_at, duration)? })
}

/// An ad-hoc appointment's time. Its start lies within the dates every input may have (1900 to
/// 9999, `domain::time::YEARS`); so must its end, with a day to spare for any zone's local time:
/// an end in the year 10000 is no RFC 3339 time and breaks SQLite's text order.
fn adhoc_time(starts_at: DateTime<Utc>, duration: TimeDelta) -> Result<TimeSlot, ServiceError> {
    let ends_at = starts_at + duration;
    ends_in_range(ends_at)?;
    TimeSlot::new(starts_at, ends_at).map_err(|err| ServiceError::invalid("duration_minutes", err.to_string()))
}

/// The end check of [`adhoc_time`], also for an ad-hoc time built elsewhere (a page's fields).
fn ends_in_range(ends_at: DateTime<Utc>) -> Result<(), ServiceError> {
    let last_day = (ends_at + TimeDelta::days(1)).date_naive();
    if crate::domain::time::date_in_range(last_day) {
        Ok(())
    } else {
        Err(ServiceError::invalid("starts_at", "the appointment must end before 9999-12-31"))
    }
}

/// A booking as staff entered it.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub target: Target,
    pub citizen: Citizen,
    pub channel: Channel,
    pub note: Option<String>,
    /// Books despite a holiday, closure, absence, past time or (ad hoc) a time outside the
    /// counselling hours; unit leads and admins only. Recorded with the booking.
    pub override_reason: Option<String>,
}

/// A booking with its history and the emails it caused.
#[derive(Debug, Clone)]
pub struct BookingDetails {
    pub booking: Booking,
    pub events: Vec<BookingEvent>,
    pub emails: Vec<OutboxMessage>,
}

/// Books an appointment. A slot is taken with a conditional update, so of concurrent callers
/// at most its capacity succeed; the others get `Conflict { clash: Clash::SlotTaken, .. }`.
///
/// # Errors
/// `NotFound`, `Forbidden`, `NotPermitted` (an override by someone who does not lead the unit),
/// `Rule` (holiday, closure, absence, past, ad hoc outside the counselling hours), `Conflict`
/// (slot taken, counsellor busy).
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn create(deps: Book<'_>, actor: &Actor, new: NewBooking) -> Result<Booking, ServiceError> {
    // A slot's unit is checked inside the transaction, on the row the seat is taken from.
    if let Target::Adhoc { unit_id, counsellor_id, time } = new.target {
        // Whoever built the time (the API through `adhoc_target`, a page from its fields).
        ends_in_range(time.ends_at())?;
        // Access first: who counsels in a unit is nothing for staff of other units to probe.
        authorize(deps, actor, unit_id, "booking.create", &format!("unit:{unit_id}")).await?;
        ensure_counsellor(deps.db, unit_id, counsellor_id).await?;
    }
    if new.override_reason.is_some() {
        ensure_may_override(deps, actor, new.target).await?;
    }
    // A reference collision is astronomically rare but possible: try again with a new code.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match try_create(deps, actor, &new).await {
            Err(ServiceError::Store(StoreError::Duplicate(msg))) if msg.contains("reference") && attempts < 5 => {}
            other => return other,
        }
    }
}

async fn try_create(deps: Book<'_>, actor: &Actor, new: &NewBooking) -> Result<Booking, ServiceError> {
    let created = match (deps.writer, new.target) {
        // SQLite: the writer commits it together with the bookings that arrive meanwhile.
        (Some(writer), Target::Slot(slot_id)) => writer.create(deps, actor, new, slot_id).await,
        // PostgreSQL: a stored slot in one statement.
        (None, Target::Slot(slot_id)) if deps.db.get_database_backend() == DbBackend::Postgres => {
            one_statement::create(deps, actor, new, slot_id).await
        }
        // An ad-hoc time (its slot is created with it), or SQLite without the writer.
        _ => {
            let txn = store::begin_write(deps.db).await?;
            match create_in(deps, &txn, actor, new).await {
                Ok(created) => {
                    txn.commit().await?;
                    Ok(created)
                }
                Err(err) => {
                    txn.rollback().await?;
                    Err(err)
                }
            }
        }
    };
    let created = match created {
        Err(ServiceError::Forbidden) => return refuse(deps, actor, "booking.create", new.target).await,
        other => other?,
    };
    created.announce(deps);
    Ok(created.booking)
}

/// A booking written but not yet announced: it counts once the transaction holding it commits.
struct Created {
    booking: Booking,
    /// Whether a confirmation email was queued with it.
    queued: bool,
}

impl Created {
    /// After the commit: wake the email sender, count and log the booking.
    fn announce(&self, deps: Book<'_>) {
        if self.queued {
            deps.mail.nudge();
        }
        crate::telemetry::metrics::booking_created();
        tracing::info!(booking = %self.booking.id, slot = self.booking.slot_id.get(), "booking created");
    }
}

/// Writes a booking inside `txn` (a write transaction, or the writer's savepoint): the seat, the
/// booking with its `created` event, the audit entry and the confirmation email. `Forbidden` (not
/// yet audited) for a slot of a unit the actor does not work in.
async fn create_in<C: ConnectionTrait>(
    deps: Book<'_>,
    txn: &C,
    actor: &Actor,
    new: &NewBooking,
) -> Result<Created, ServiceError> {
    let now = deps.clock.now();
    let slot = take(deps, txn, By::Staff(actor), new.target, new.override_reason.is_some(), now).await?;
    let rows = NewRows::of(deps, actor, new, &slot, now);
    // The booking, its event, the audit record and the confirmation in one round trip.
    bookings::insert_created_with(txn, &rows.booking, rows.created, rows.more).await?;
    Ok(Created { booking: rows.booking, queued: rows.queued })
}

/// Takes a seat in the target inside `txn`, then checks the booking rules unless overridden (a
/// refusal rolls the seat back with the transaction). `Forbidden` (not yet audited) when the slot
/// belongs to a unit the actor does not work in.
async fn take<C: ConnectionTrait>(
    deps: Book<'_>,
    txn: &C,
    actor: By<'_>,
    target: Target,
    overridden: bool,
    now: DateTime<Utc>,
) -> Result<Slot, ServiceError> {
    match target {
        Target::Slot(id) => {
            let Some(taken) = slots::take_regular_seat(txn, id, !overridden).await? else {
                return Err(no_seat(deps, txn, actor, id, overridden, now).await);
            };
            let slot = taken.slot;
            if !actor.can_work_in(slot.unit_id) {
                return Err(ServiceError::Forbidden);
            }
            if !overridden {
                let time = slot_time(&slot)?;
                check_calendar(deps.calendar, deps.tz, now, time)?;
                if !taken.unblocked_checked {
                    check_unblocked(txn, slot.unit_id, slot.counsellor_id, time).await?;
                }
            }
            Ok(slot)
        }
        Target::Adhoc { unit_id, counsellor_id, time } => {
            schedule::lock_scope(txn, Scope::Counsellor(counsellor_id), None).await?;
            schedule::lock_scope(txn, Scope::Unit(unit_id), None).await?;
            if !overridden {
                check_bookable(txn, deps.calendar, deps.tz, now, unit_id, counsellor_id, time).await?;
                check_within_hours(txn, deps.tz, unit_id, time).await?;
            }
            Ok(slots::insert_adhoc(txn, unit_id, counsellor_id, time, now).await?)
        }
    }
}

/// Why no seat of slot `id` was taken: full, or (where the update checked it) in a closure or
/// absence; `Forbidden` (not yet audited) for a slot of a unit the actor does not work in.
async fn no_seat<C: ConnectionTrait>(
    deps: Book<'_>,
    db: &C,
    actor: By<'_>,
    id: SlotId,
    overridden: bool,
    now: DateTime<Utc>,
) -> ServiceError {
    let slot = match bookable_slot(db, id).await {
        Ok(slot) => slot,
        Err(err) => return err,
    };
    if !actor.can_work_in(slot.unit_id) {
        return ServiceError::Forbidden;
    }
    if slot.booked_count < slot.capacity && !overridden {
        let checked = match slot_time(&slot) {
            Ok(time) => check_bookable(db, deps.calendar, deps.tz, now, slot.unit_id, slot.counsellor_id, time).await,
            Err(err) => Err(err),
        };
        if let Err(err) = checked {
            return err;
        }
    }
    ServiceError::conflict(Clash::SlotTaken)
}

/// Records the denied access after the refused transaction ended (the audit row must neither
/// wait for nor vanish with it) and refuses.
async fn refuse<T>(deps: Book<'_>, actor: &Actor, action: &str, target: Target) -> Result<T, ServiceError> {
    let target = match target {
        Target::Slot(id) => format!("slot:{id}"),
        Target::Adhoc { unit_id, .. } => format!("unit:{unit_id}"),
    };
    deny(deps.db, deps.clock, actor, action, &target).await?;
    Err(ServiceError::Forbidden)
}

/// A booking by id or reference, with its history, if the actor may see it.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn get(deps: Book<'_>, actor: &Actor, key: &str) -> Result<BookingDetails, ServiceError> {
    let booking = find(deps.db, key).await?;
    authorize(deps, actor, booking.unit_id, "booking.read", &format!("booking:{}", booking.id)).await?;
    let events = bookings::events(deps.db, booking.id).await?;
    let emails = store::outbox::for_booking(deps.db, booking.id).await?;
    audit::record(deps.db, deps.clock, entries::booking(actor, AuditAction::BookingViewed, &booking)).await?;
    Ok(BookingDetails { booking, events, emails })
}

/// Bookings of the units the actor belongs to (or of `unit_id`, if given and allowed).
///
/// # Errors
/// `Forbidden` for a unit the actor does not belong to.
pub async fn list(
    deps: Book<'_>,
    actor: &Actor,
    unit_id: Option<UnitId>,
    mut filter: BookingFilter,
) -> Result<Vec<Booking>, ServiceError> {
    filter.search = searched(filter.search.take())?;
    filter.unit_ids = listed_units(deps, actor, unit_id).await?;
    let found = bookings::list(deps.db, &filter).await?;
    let entry = entries::bookings_listed(actor, unit_id, filter.search.as_deref(), &found);
    audit::record(deps.db, deps.clock, entry).await?;
    Ok(found)
}

/// A search text as both edges take it: trimmed, blank as none; one that is no search (longer
/// than `MAX_QUERY_CHARS`, no letter or digit) is refused naming `q` rather than finding nothing.
fn searched(text: Option<String>) -> Result<Option<String>, ServiceError> {
    let Some(text) = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else { return Ok(None) };
    crate::domain::search::SearchQuery::parse(&text).map_err(|err| ServiceError::invalid("q", err.to_string()))?;
    Ok(Some(text))
}

/// The units a list looks in: `unit_id` if the actor works there, else all the actor sees.
async fn listed_units(deps: Book<'_>, actor: &Actor, unit_id: Option<UnitId>) -> Result<Vec<UnitId>, ServiceError> {
    Ok(match unit_id {
        Some(unit_id) => {
            authorize(deps, actor, unit_id, "booking.list", &format!("unit:{unit_id}")).await?;
            vec![unit_id]
        }
        None if actor.sees_all_units() => directory::list_units(deps.db, None).await?.iter().map(|u| u.id).collect(),
        None => actor.unit_ids(),
    })
}

/// [`list`] of at most `shown` bookings, and whether more match; only those shown are recorded.
///
/// # Errors
/// As [`list`].
pub async fn list_shown(
    deps: Book<'_>,
    actor: &Actor,
    unit_id: Option<UnitId>,
    mut filter: BookingFilter,
    shown: usize,
) -> Result<(Vec<Booking>, bool), ServiceError> {
    filter.limit = u64::try_from(shown).unwrap_or(u64::MAX).saturating_add(1);
    filter.search = searched(filter.search.take())?;
    filter.unit_ids = listed_units(deps, actor, unit_id).await?;
    let mut found = bookings::list(deps.db, &filter).await?;
    let more = found.len() > shown;
    found.truncate(shown);
    let entry = entries::bookings_listed(actor, unit_id, filter.search.as_deref(), &found);
    audit::record(deps.db, deps.clock, entry).await?;
    Ok((found, more))
}

pub(crate) async fn find(db: &DatabaseConnection, key: &str) -> Result<Booking, ServiceError> {
    let found = if let Ok(id) = Uuid::parse_str(key) {
        bookings::find(db, id).await?
    } else if looks_like_reference(key) {
        match Reference::parse(key) {
            Ok(reference) => bookings::find_by_reference(db, reference.as_str()).await?,
            Err(_) => None,
        }
    } else {
        None
    };
    found.ok_or_else(|| ServiceError::not_found(Missing::Booking))
}

fn slot_time(slot: &Slot) -> Result<TimeSlot, ServiceError> {
    TimeSlot::new(slot.starts_at, slot.ends_at).map_err(|err| ServiceError::invalid("slot_id", err.to_string()))
}

/// Why slot `id`, not full, can no longer be booked: the rule it breaks now (the day closed, the
/// counsellor away, a holiday, too late), if any. `None` for a full, unknown or ad-hoc slot, and
/// for one that breaks no rule.
///
/// # Errors
/// Database failures.
pub(crate) async fn rule_against(deps: Book<'_>, id: SlotId) -> Result<Option<ServiceError>, ServiceError> {
    let Some(slot) = slots::find(deps.db, id).await?.filter(|s| !s.adhoc && s.booked_count < s.capacity) else {
        return Ok(None);
    };
    let time = slot_time(&slot)?;
    let now = deps.clock.now();
    match check_bookable(deps.db, deps.calendar, deps.tz, now, slot.unit_id, slot.counsellor_id, time).await {
        Ok(()) => Ok(None),
        Err(rule @ ServiceError::Rule(_)) => Ok(Some(rule)),
        Err(other) => Err(other),
    }
}

async fn bookable_slot<C: ConnectionTrait>(db: &C, id: SlotId) -> Result<Slot, ServiceError> {
    slots::find(db, id).await?.filter(|slot| !slot.adhoc).ok_or_else(|| ServiceError::not_found(Missing::Slot))
}

async fn ensure_counsellor(
    db: &DatabaseConnection,
    unit_id: UnitId,
    counsellor_id: StaffId,
) -> Result<(), ServiceError> {
    directory::find_unit_by_id(db, unit_id).await?.ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    let member = directory::find_staff(db, counsellor_id).await?;
    if member.is_some_and(|m| m.active && m.memberships.contains(&(unit_id, Role::Counsellor))) {
        Ok(())
    } else {
        Err(ServiceError::invalid("counsellor_id", "not a counsellor of this unit"))
    }
}

/// Lets the actor work in the unit, or records the denial and refuses.
///
/// # Errors
/// `Forbidden` when the actor does not belong to the unit.
pub async fn authorize(
    deps: Book<'_>,
    actor: &Actor,
    unit_id: UnitId,
    action: &str,
    target: &str,
) -> Result<(), ServiceError> {
    if actor.can_work_in(unit_id) {
        return Ok(());
    }
    deny(deps.db, deps.clock, actor, action, target).await
}
