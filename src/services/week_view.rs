//! What blocks a day of a unit, for the week at a glance: a public holiday or closure day, the
//! unit's (and the department's) closures and its counsellors' absences, and which bookings they
//! strand (by id). No citizen data (the bookings come from [`super::desk::week_list`], which
//! records the access).

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::ServiceError;
use super::bookings::{Book, authorize};
use crate::domain::access::Actor;
use crate::domain::blocking::{Stranding, closed_spans};
use crate::domain::holidays::ClosedDay;
use crate::domain::ids::StaffId;
use crate::domain::records::{Absence, Booking, Closure, Unit};
use crate::domain::time::day_bounds;
use crate::store::blocking::StrandedQuery;
use crate::store::{self, schedule};

/// A day's blocks.
#[derive(Debug, Clone, Default)]
pub struct DayBlocks {
    /// The public holiday's name, or `None` for an extra closure day (see `closed`).
    pub holiday: Option<String>,
    /// A public holiday or closure day: nothing is bookable.
    pub closed: bool,
    pub closures: Vec<Closure>,
    pub absences: Vec<Absence>,
    /// The day's booked appointments that cannot take place as booked, by booking id, with the
    /// first reason (the rule of the list to move: [`crate::store::blocking::stranded`]).
    pub stranded: HashMap<Uuid, Stranding>,
}

impl DayBlocks {
    /// Why `booking` cannot take place as booked, if it cannot.
    #[must_use]
    pub fn strands(&self, booking: &Booking) -> Option<Stranding> {
        self.stranded.get(&booking.id).copied()
    }
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
    // What has begun cannot be moved any more: only from now on.
    let closed_days = closed_spans(deps.calendar, deps.tz, day, day);
    let (starts, counsellors) = (from.max(deps.clock.now()), Some(staff_ids));
    let query = StrandedQuery { unit_id: unit.id, from: starts, to: Some(to), counsellors, closed_days: &closed_days };
    let (stranded, _) = store::blocking::stranded(deps.db, query, u64::MAX).await?;
    Ok(DayBlocks {
        stranded: stranded.into_iter().filter_map(|(b, why)| Some((b.id, *why.first()?))).collect(),
        holiday,
        closed,
        closures: schedule::closures_overlapping(deps.db, unit.id, from, to).await?,
        absences: schedule::absences_overlapping(deps.db, staff_ids, from, to).await?,
    })
}
