//! What keeps a counsellor of a unit from an appointment at a time: the one definition.
//!
//! A time `[starts_at, ends_at)` wanted with a counsellor of a unit is blocked by
//! - a public holiday or an extra closure day on any local day it touches ([`closed_day`]);
//! - a closure of that unit, or of the whole department, overlapping it;
//! - an absence of that counsellor overlapping it;
//! - another booked slot of that counsellor overlapping it (the database also enforces this one:
//!   the exclusion constraint or triggers of the migrations);
//! - outside the counselling hours, for an ad hoc time (see [`super::hours_window`]).
//!
//! Intervals are half-open: a closure ending at 10:00 does not block a slot starting at 10:00.
//! The free-slot search, the week view, the previews and the bookings' check use [`Block::blocks`]
//! and [`closed_day`]; the SQL that must decide inside a booking's statement
//! (`store::blocking`) is built from the same parts and checked against this definition by the
//! test `blocking_rule` on both engines.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::holidays::{ClosedDay, HolidayCalendar};
use super::ids::{SlotId, StaffId, UnitId};
use super::records::{Absence, Booking, Closure};
use super::time::{day_bounds, local_date, overlapping};

/// Something that keeps counsellors from appointments in `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub by: BlockedBy,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Who or what a [`Block`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedBy {
    /// A closure of one unit, or with `None` of the whole department.
    Closure { unit_id: Option<UnitId> },
    /// An absence of one staff member.
    Absence { staff_id: StaffId },
    /// A booked slot (its id) of a counsellor.
    Booking { slot_id: SlotId, counsellor_id: StaffId },
}

/// The time someone wants to book: with a counsellor of a unit, in a stored slot (or ad hoc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub unit_id: UnitId,
    pub counsellor_id: StaffId,
    /// The slot the time is booked in: its own seats do not block it.
    pub slot_id: Option<SlotId>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Block {
    /// The rule: whether this block keeps `wanted` from being booked.
    #[must_use]
    pub fn blocks(&self, wanted: &Wanted) -> bool {
        overlapping(self.starts_at, self.ends_at, wanted.starts_at, wanted.ends_at) && self.concerns(wanted)
    }

    /// Whether the block applies to the unit, counsellor and slot of `wanted` (at any time).
    #[must_use]
    pub fn concerns(&self, wanted: &Wanted) -> bool {
        match self.by {
            BlockedBy::Closure { unit_id } => unit_id.is_none_or(|unit| unit == wanted.unit_id),
            BlockedBy::Absence { staff_id } => staff_id == wanted.counsellor_id,
            BlockedBy::Booking { slot_id, counsellor_id } => {
                counsellor_id == wanted.counsellor_id && wanted.slot_id != Some(slot_id)
            }
        }
    }
}

impl From<&Closure> for Block {
    fn from(closure: &Closure) -> Self {
        Self {
            by: BlockedBy::Closure { unit_id: closure.unit_id },
            starts_at: closure.starts_at,
            ends_at: closure.ends_at,
        }
    }
}

impl From<&Absence> for Block {
    fn from(absence: &Absence) -> Self {
        Self {
            by: BlockedBy::Absence { staff_id: absence.staff_id },
            starts_at: absence.starts_at,
            ends_at: absence.ends_at,
        }
    }
}

impl Wanted {
    /// The time a booking holds, as if it were booked anew (its own slot does not block it).
    #[must_use]
    pub fn of_booking(booking: &Booking) -> Self {
        Self {
            unit_id: booking.unit_id,
            counsellor_id: booking.counsellor_id,
            slot_id: Some(booking.slot_id),
            starts_at: booking.starts_at,
            ends_at: booking.ends_at,
        }
    }
}

/// Why a booked appointment cannot take place as booked (the desk's list of appointments to move).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stranding {
    /// A closure of its unit or of the whole department overlaps it.
    Closure,
    /// An absence of its counsellor overlaps it.
    Absence,
    /// It touches a public holiday or an extra closure day.
    ClosedDay,
    /// Its counsellor no longer counsels in the unit (deactivated, or the role taken away).
    NoCounsellor,
}

impl Stranding {
    /// The name in the API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closure => "closure",
            Self::Absence => "absence",
            Self::ClosedDay => "closed_day",
            Self::NoCounsellor => "no_counsellor",
        }
    }
}

/// The first block in `blocks` that keeps `wanted` from being booked.
#[must_use]
pub fn first_blocking<'a>(blocks: &'a [Block], wanted: &Wanted) -> Option<&'a Block> {
    blocks.iter().find(|block| block.blocks(wanted))
}

/// The first local day of `[starts_at, ends_at)` that is a public holiday or an extra closure day.
#[must_use]
pub fn closed_day(
    calendar: &HolidayCalendar,
    tz: Tz,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Option<(NaiveDate, ClosedDay)> {
    let mut day = local_date(starts_at, tz);
    let last_day = local_date(ends_at - TimeDelta::seconds(1), tz).max(day);
    loop {
        if let Some(closed) = calendar.closed_reason(day) {
            return Some((day, closed));
        }
        if day >= last_day {
            return None;
        }
        day = day.succ_opt()?;
    }
}

/// The public holidays and extra closure days that times starting on `first..=last` may touch
/// (up to the day after `last`: a time may run past midnight), as UTC spans, consecutive days as
/// one: what [`closed_day`] looks for, for a query over many times at once.
#[must_use]
pub fn closed_spans(
    calendar: &HolidayCalendar,
    tz: Tz,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let last = last.succ_opt().unwrap_or(last);
    for day in first.iter_days().take_while(|day| *day <= last) {
        if calendar.closed_reason(day).is_none() {
            continue;
        }
        let (from, to) = day_bounds(day, tz);
        match spans.last_mut() {
            Some(span) if span.1 == from => span.1 = to,
            _ => spans.push((from, to)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 2, 1, hour, minute, 0).unwrap()
    }

    fn wanted(unit_id: UnitId, counsellor_id: StaffId, slot_id: Option<i32>) -> Wanted {
        Wanted { unit_id, counsellor_id, slot_id: slot_id.map(SlotId::new), starts_at: at(9, 0), ends_at: at(9, 30) }
    }

    fn block(by: BlockedBy, from: (u32, u32), to: (u32, u32)) -> Block {
        Block { by, starts_at: at(from.0, from.1), ends_at: at(to.0, to.1) }
    }

    #[test]
    fn a_closure_blocks_its_own_unit_and_a_department_closure_every_unit() {
        let own = block(BlockedBy::Closure { unit_id: Some(UnitId::new(1)) }, (8, 0), (12, 0));
        let department = block(BlockedBy::Closure { unit_id: None }, (8, 0), (12, 0));
        assert!(own.blocks(&wanted(UnitId::new(1), StaffId::new(5), Some(9))));
        assert!(!own.blocks(&wanted(UnitId::new(2), StaffId::new(5), Some(9))));
        assert!(department.blocks(&wanted(UnitId::new(2), StaffId::new(5), Some(9))));
    }

    #[test]
    fn an_absence_blocks_only_its_counsellor_and_a_booking_not_its_own_slot() {
        let absence = block(BlockedBy::Absence { staff_id: StaffId::new(5) }, (9, 15), (9, 20));
        assert!(absence.blocks(&wanted(UnitId::new(1), StaffId::new(5), None)));
        assert!(!absence.blocks(&wanted(UnitId::new(1), StaffId::new(6), None)));
        let booked =
            block(BlockedBy::Booking { slot_id: SlotId::new(9), counsellor_id: StaffId::new(5) }, (9, 0), (9, 30));
        assert!(!booked.blocks(&wanted(UnitId::new(1), StaffId::new(5), Some(9))), "a group slot's own seats");
        assert!(booked.blocks(&wanted(UnitId::new(1), StaffId::new(5), Some(10))));
        assert!(booked.blocks(&wanted(UnitId::new(1), StaffId::new(5), None)));
        assert!(!booked.blocks(&wanted(UnitId::new(1), StaffId::new(6), None)));
    }

    #[test]
    fn touching_intervals_do_not_block() {
        let before = block(BlockedBy::Closure { unit_id: None }, (8, 0), (9, 0));
        let after = block(BlockedBy::Closure { unit_id: None }, (9, 30), (10, 0));
        assert!(!before.blocks(&wanted(UnitId::new(1), StaffId::new(5), None)));
        assert!(!after.blocks(&wanted(UnitId::new(1), StaffId::new(5), None)));
        assert!(block(BlockedBy::Closure { unit_id: None }, (8, 0), (9, 1)).blocks(&wanted(
            UnitId::new(1),
            StaffId::new(5),
            None
        )));
    }

    #[test]
    fn closed_spans_join_consecutive_days_and_reach_the_day_after_the_last() {
        let calendar = HolidayCalendar::new(HolidayCalendar::parse_extra_days("12-24").unwrap());
        let tz = chrono_tz::Europe::Berlin;
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let start = |d: u32| day_bounds(day(d), tz).0;
        // 23 December is open; its next day, the closure day 24 December, is looked at.
        assert_eq!(closed_spans(&calendar, tz, day(23), day(23)), [(start(24), start(25))]);
        // 24 (closure day), 25 and 26 (public holidays) are one span.
        assert_eq!(closed_spans(&calendar, tz, day(22), day(26)), [(start(24), start(27))]);
        assert!(closed_spans(&calendar, tz, day(21), day(22)).is_empty());
    }

    #[test]
    fn a_time_over_midnight_is_closed_when_its_second_day_is_a_holiday() {
        let calendar = HolidayCalendar::new(Vec::new());
        let tz = chrono_tz::Europe::Berlin;
        let eve = tz.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap().with_timezone(&Utc);
        let (day, _) = closed_day(&calendar, tz, eve, eve + TimeDelta::hours(2)).expect("new year");
        assert_eq!(day, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert!(closed_day(&calendar, tz, eve, eve + TimeDelta::hours(1)).is_none());
    }
}
