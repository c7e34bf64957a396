//! PostgreSQL: a booking of a stored slot in one statement. The slot is read first (a plain read
//! on the pool), the rows are built from it, and one statement takes the seat, checks closures
//! and absences after the seat's row lock (the `take_seat` function) and inserts the booking, its
//! event, the audit record and the confirmation email: one round trip and one implicit
//! transaction, so the slot's row lock is held for the time of one statement instead of five round
//! trips. If the slot changed between the read and the statement (another booking took its last
//! seat, a lead's change of hours gave it another counsellor), the statement takes nothing and the
//! booking is tried again from the read, a few times.

use super::rows::NewRows;
use super::{Book, Created, NewBooking, bookable_slot, slot_time};
use crate::domain::access::Actor;
use crate::domain::clash::Clash;
use crate::domain::ids::SlotId;
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
    let overridden = new.override_reason.is_some();
    for _ in 0..ATTEMPTS {
        let slot = bookable_slot(deps.db, slot_id).await?;
        if !actor.can_work_in(slot.unit_id) {
            return Err(ServiceError::Forbidden);
        }
        if slot.booked_count >= slot.capacity {
            return Err(ServiceError::conflict(Clash::SlotTaken));
        }
        let now = deps.clock.now();
        let time = slot_time(&slot)?;
        if !overridden {
            check_calendar(deps.calendar, deps.tz, now, time)?;
        }
        let rows = NewRows::of(deps, actor, new, &slot, now);
        let seat = Seat { slot: &slot, check_unblocked: !overridden };
        match bookings::insert_taking_seat(deps.db, seat, &rows.booking, rows.created, rows.more).await {
            Ok(()) => return Ok(Created { booking: rows.booking, queued: rows.queued }),
            // Taken meanwhile, or changed: the next read tells which.
            Err(StoreError::SeatNotAsRead) => {}
            // Say which closure or absence; if it is gone by now, try again.
            Err(StoreError::SeatBlocked) => check_unblocked(deps.db, slot.unit_id, slot.counsellor_id, time).await?,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ServiceError::conflict(Clash::SlotTaken))
}
