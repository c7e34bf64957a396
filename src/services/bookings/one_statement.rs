//! PostgreSQL: a booking of a stored slot in one statement. The rows are built from the slot, and
//! one statement takes the seat, checks closures and absences after the seat's row lock (the
//! `take_seat` function) and inserts the booking, its event, the audit record and the
//! confirmation email: one implicit transaction, so the slot's row lock is held for the time of
//! one statement.
//!
//! The slot comes from the free-slot search that listed it ([`super::ListedSlots`]): then the
//! booking is that one statement, one round trip. Otherwise, or when the slot as listed does not
//! hold (taken, changed, blocked, or refused on its listed values), the slot is read first and
//! the booking decided on that: a read and the statement. If the slot changed between the read
//! and the statement (another booking took its last seat, a lead's change of hours gave it
//! another counsellor), the statement takes nothing and the booking is tried again from the read,
//! a few times.

use super::rows::NewRows;
use super::{Book, Created, NewBooking, bookable_slot, slot_time};
use crate::domain::access::Actor;
use crate::domain::clash::Clash;
use crate::domain::ids::SlotId;
use crate::domain::records::Slot;
use crate::services::ServiceError;
use crate::services::schedule::{check_calendar, check_unblocked};
use crate::store::StoreError;
use crate::store::bookings::{self, Seat};

/// Reads and statements before a slot that keeps changing is reported as taken.
const ATTEMPTS: usize = 3;

/// Books the slot `slot_id` in one statement. `Forbidden` (not yet audited) for a slot of a unit
/// the actor does not work in; the refusals of [`super::create`] otherwise.
pub(super) async fn create(
    deps: Book<'_>,
    actor: &Actor,
    new: &NewBooking,
    slot_id: SlotId,
) -> Result<Created, ServiceError> {
    if let Some(listed) = deps.listed.take(slot_id) {
        match write(deps, actor, new, &listed).await {
            Ok(created) => return Ok(created),
            // Whatever refused may be the listing's age: decide on the slot as it is now.
            Err(Attempt::Refused(_) | Attempt::NotAsRead | Attempt::Blocked) => {}
            Err(Attempt::Failed(err)) => return Err(err),
        }
    }
    for _ in 0..ATTEMPTS {
        let slot = bookable_slot(deps.db, slot_id).await?;
        // Full: said only to whoever may work in its unit (`write` refuses the others).
        if slot.booked_count >= slot.capacity && actor.can_work_in(slot.unit_id) {
            return Err(ServiceError::conflict(Clash::SlotTaken));
        }
        match write(deps, actor, new, &slot).await {
            Ok(created) => return Ok(created),
            Err(Attempt::Refused(err) | Attempt::Failed(err)) => return Err(err),
            // Taken meanwhile, or changed: the next read tells which.
            Err(Attempt::NotAsRead) => {}
            // Say which closure or absence; if it is gone by now, try again.
            Err(Attempt::Blocked) => {
                check_unblocked(deps.db, slot.unit_id, slot.counsellor_id, slot_time(&slot)?).await?
            }
        }
    }
    Err(ServiceError::conflict(Clash::SlotTaken))
}

/// Why one statement did not book.
enum Attempt {
    /// A refusal for the slot as given: its unit, its time, the counsellor busy then.
    Refused(ServiceError),
    /// No seat taken: full, or not as given.
    NotAsRead,
    /// A closure or absence overlaps the slot.
    Blocked,
    /// The database failed (the statement may or may not have committed: not to be tried again).
    Failed(ServiceError),
}

/// Checks the booking against `slot` (the actor's unit, the calendar) and writes it in one
/// statement guarded by `slot`.
async fn write(deps: Book<'_>, actor: &Actor, new: &NewBooking, slot: &Slot) -> Result<Created, Attempt> {
    if !actor.can_work_in(slot.unit_id) {
        return Err(Attempt::Refused(ServiceError::Forbidden));
    }
    let overridden = new.override_reason.is_some();
    let now = deps.clock.now();
    let time = slot_time(slot).map_err(Attempt::Refused)?;
    if !overridden {
        check_calendar(deps.calendar, deps.tz, now, time).map_err(Attempt::Refused)?;
    }
    let rows = NewRows::of(deps, actor, new, slot, now);
    let seat = Seat { slot, check_unblocked: !overridden };
    let written = match deps.booking_pool {
        Some(pool) => bookings::insert_taking_seat_on(pool, seat, &rows.booking, rows.created, rows.more).await,
        None => bookings::insert_taking_seat(deps.db, seat, &rows.booking, rows.created, rows.more).await,
    };
    match written {
        Ok(()) => Ok(Created { booking: rows.booking, queued: rows.queued }),
        Err(StoreError::SeatNotAsRead) => Err(Attempt::NotAsRead),
        Err(StoreError::SeatBlocked) => Err(Attempt::Blocked),
        // Nothing of the statement is stored after these.
        Err(
            err @ (StoreError::CounsellorOverlap
            | StoreError::MissingReference(_)
            | StoreError::Check(_)
            | StoreError::Conflict),
        ) => Err(Attempt::Refused(err.into())),
        Err(other) => Err(Attempt::Failed(other.into())),
    }
}
