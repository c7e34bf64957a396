//! What blocks a day of a unit, for the week at a glance: a public holiday or closure day, the
//! unit's (and the department's) closures and its counsellors' absences. No citizen data (the
//! bookings come from [`super::desk::week_list`], which records the access).

use chrono::NaiveDate;

use super::ServiceError;
use super::bookings::{Book, authorize};
use crate::domain::access::Actor;
use crate::domain::blocking::{Block, Wanted};
use crate::domain::holidays::ClosedDay;
use crate::domain::ids::StaffId;
use crate::domain::records::{Absence, Booking, Closure, Unit};
use crate::domain::time::day_bounds;
use crate::store::schedule;

/// A day's blocks.
#[derive(Debug, Clone, Default)]
pub struct DayBlocks {
    /// The public holiday's name, or `None` for an extra closure day (see `closed`).
    pub holiday: Option<String>,
    /// A public holiday or closure day: nothing is bookable.
    pub closed: bool,
    pub closures: Vec<Closure>,
    pub absences: Vec<Absence>,
}

impl DayBlocks {
    /// What strands `booking` (a booked appointment in a closure or its counsellor's absence).
    #[must_use]
    pub fn strands(&self, booking: &Booking) -> Option<Stranded> {
        if booking.status != crate::domain::booking::BookingStatus::Booked {
            return None;
        }
        let wanted = Wanted::of_booking(booking);
        if self.closures.iter().any(|c| Block::from(c).blocks(&wanted)) {
            return Some(Stranded::Closure);
        }
        self.absences.iter().any(|a| Block::from(a).blocks(&wanted)).then_some(Stranded::Absence)
    }
}

/// Why a booking cannot take place as booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stranded {
    Closure,
    Absence,
}

/// The blocks of `day` in `unit` for the counsellors `staff_ids`.
///
/// # Errors
/// `Forbidden` (recorded) for a unit the actor does not work in.
pub async fn day_blocks(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    day: NaiveDate,
    staff_ids: &[StaffId],
) -> Result<DayBlocks, ServiceError> {
    authorize(deps, actor, unit.id, "schedule.read", &format!("unit:{}", unit.id)).await?;
    let (from, to) = day_bounds(day, deps.tz);
    let (holiday, closed) = match deps.calendar.closed_reason(day) {
        Some(ClosedDay::PublicHoliday(name)) => (Some(name.to_string()), true),
        Some(ClosedDay::ExtraClosureDay) => (None, true),
        None => (None, false),
    };
    Ok(DayBlocks {
        holiday,
        closed,
        closures: schedule::closures_overlapping(deps.db, unit.id, from, to).await?,
        absences: schedule::absences_overlapping(deps.db, staff_ids, from, to).await?,
    })
}
