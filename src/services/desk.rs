//! Read models of the staff desk: the units a staff member works in, a slot offered to a
//! caller, names of counsellors, and a unit's bookings of one day.

use chrono::{Datelike, Days, NaiveDate};

use super::ServiceError;
use super::audit::{self, AuditAction, entries};
use super::bookings::{Book, authorize};
use crate::domain::access::{Actor, Role};
use crate::domain::booking::BookingStatus;
use crate::domain::ids::{SlotId, StaffId};
use crate::domain::missing::Missing;
use crate::domain::records::BookingFilter;
use crate::domain::records::{Booking, Location, Slot, StaffMember, Unit};
use crate::domain::time::day_bounds;
use crate::store::{bookings, directory, slots};

/// Why a unit offers nothing on a whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedAllDay {
    /// A public holiday, with its German name.
    Holiday(&'static str),
    /// A closure day of the whole administration (e.g. Christmas Eve).
    Administration,
    /// A closure of the unit (or of every unit) that covers the day.
    Unit,
    /// Beyond the unit's stored slots: its hours are not yet opened that far ahead (the last day
    /// with a slot).
    NotYetOpen(NaiveDate),
}

/// Whether `unit` offers nothing all of `day` for a reason of the day, and which (the finder says
/// so instead of "nothing free"): closed, or beyond the slots opened so far.
///
/// # Errors
/// Database failures.
pub async fn closed_all_day(deps: Book<'_>, unit: &Unit, day: NaiveDate) -> Result<Option<ClosedAllDay>, ServiceError> {
    use crate::domain::holidays::ClosedDay;
    match deps.calendar.closed_reason(day) {
        Some(ClosedDay::PublicHoliday(name)) => return Ok(Some(ClosedAllDay::Holiday(name))),
        Some(ClosedDay::ExtraClosureDay) => return Ok(Some(ClosedAllDay::Administration)),
        None => {}
    }
    let (from, to) = day_bounds(day, deps.tz);
    let closures = crate::store::schedule::closures_overlapping(deps.db, unit.id, from, to).await?;
    if closures.iter().any(|c| c.starts_at <= from && c.ends_at >= to) {
        return Ok(Some(ClosedAllDay::Unit));
    }
    // A unit without any slot has no hours yet: nothing to say about how far they reach.
    let last =
        slots::latest_regular_start(deps.db, unit.id).await?.map(|at| crate::domain::time::local_date(at, deps.tz));
    Ok(last.filter(|last| *last < day).map(ClosedAllDay::NotYetOpen))
}

/// The units the actor may book for, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn units_for(deps: Book<'_>, actor: &Actor) -> Result<Vec<Unit>, ServiceError> {
    let units = directory::list_units(deps.db, None).await?;
    Ok(units.into_iter().filter(|u| actor.can_work_in(u.id)).collect())
}

/// A unit the actor works in, by slug or id.
///
/// # Errors
/// `NotFound`, `Forbidden` (recorded).
pub async fn unit_for(deps: Book<'_>, actor: &Actor, key: &str) -> Result<Unit, ServiceError> {
    let unit = super::directory::find_unit(deps.db, key).await?;
    authorize(deps, actor, unit.id, "unit.read", &format!("unit:{}", unit.id)).await?;
    Ok(unit)
}

/// A regular slot with its unit, location and counsellor, as offered to a caller.
#[derive(Debug, Clone)]
pub struct SlotOffer {
    pub slot: Slot,
    pub unit: Unit,
    pub location: Location,
    pub counsellor: StaffMember,
}

/// The slot `id` if the actor works in its unit.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn slot_offer(deps: Book<'_>, actor: &Actor, id: SlotId) -> Result<SlotOffer, ServiceError> {
    let slot =
        slots::find(deps.db, id).await?.filter(|s| !s.adhoc).ok_or_else(|| ServiceError::not_found(Missing::Slot))?;
    authorize(deps, actor, slot.unit_id, "slot.read", &format!("slot:{id}")).await?;
    let unit = directory::find_unit_by_id(deps.db, slot.unit_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    let location = super::directory::location_of(deps.db, &unit).await?;
    let counsellor = directory::find_staff(deps.db, slot.counsellor_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Counsellor))?;
    Ok(SlotOffer { slot, unit, location, counsellor })
}

/// Everyone of the unit who counsels, for names in lists.
///
/// # Errors
/// Database failures.
pub async fn unit_staff(deps: Book<'_>, unit: &Unit) -> Result<Vec<StaffMember>, ServiceError> {
    Ok(directory::list_unit_staff(deps.db, unit.id, Some(Role::Counsellor)).await?)
}

/// [`unit_staff`], and after them the staff of `also` who are not among them (counsellors of the
/// bookings shown: one deactivated, or no longer counselling in the unit, keeps their name on
/// their bookings and their column in the day's grid).
///
/// # Errors
/// Database failures.
pub async fn unit_staff_and(
    deps: Book<'_>,
    unit: &Unit,
    also: impl IntoIterator<Item = StaffId>,
) -> Result<Vec<StaffMember>, ServiceError> {
    let mut members = unit_staff(deps, unit).await?;
    for id in also {
        if !members.iter().any(|m| m.id == id)
            && let Some(member) = directory::find_staff(deps.db, id).await?
        {
            members.push(member);
        }
    }
    Ok(members)
}

/// A staff member by id (for names in booking details).
///
/// # Errors
/// Database failures.
pub async fn staff_member(deps: Book<'_>, id: StaffId) -> Result<Option<StaffMember>, ServiceError> {
    Ok(directory::find_staff(deps.db, id).await?)
}

/// The unit's bookings starting on the local day `on` (optionally of one counsellor), by time.
///
/// # Errors
/// `Forbidden` (recorded).
pub async fn day_list(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    on: NaiveDate,
    counsellor_id: Option<StaffId>,
) -> Result<Vec<Booking>, ServiceError> {
    let found = day_bookings(deps, actor, unit, on, counsellor_id).await?;
    let entry = entries::list_viewed(actor, AuditAction::DayListViewed, unit.id, on, counsellor_id, &found);
    audit::record(deps.db, deps.clock, entry).await?;
    Ok(found)
}

async fn day_bookings(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    on: NaiveDate,
    counsellor_id: Option<StaffId>,
) -> Result<Vec<Booking>, ServiceError> {
    authorize(deps, actor, unit.id, "booking.list", &format!("unit:{}", unit.id)).await?;
    let (from, to) = day_bounds(on, deps.tz);
    let filter = BookingFilter {
        unit_ids: vec![unit.id],
        counsellor_id,
        from: Some(from),
        to: Some(to),
        status: None,
        search: None,
        upcoming_first: None,
        limit: 500,
    };
    let mut found = bookings::list(deps.db, &filter).await?;
    found.retain(|b| b.starts_at >= from && b.starts_at < to);
    found.sort_by_key(|b| (b.status == BookingStatus::Cancelled, b.starts_at));
    Ok(found)
}

/// The unit's bookings of the week that contains `on`, day by day: Monday to Friday always,
/// Saturday and Sunday when something is booked then (ad-hoc appointments may be).
///
/// # Errors
/// `Forbidden` (recorded).
pub async fn week_list(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    on: NaiveDate,
    counsellor_id: Option<StaffId>,
) -> Result<Vec<(NaiveDate, Vec<Booking>)>, ServiceError> {
    let monday = on - Days::new(u64::from(on.weekday().num_days_from_monday()));
    let mut week = Vec::with_capacity(7);
    for offset in 0..7 {
        let day = monday + Days::new(offset);
        let bookings = day_bookings(deps, actor, unit, day, counsellor_id).await?;
        if offset < 5 || !bookings.is_empty() {
            week.push((day, bookings));
        }
    }
    let seen = week.iter().flat_map(|(_, bookings)| bookings);
    let entry = entries::list_viewed(actor, AuditAction::WeekListViewed, unit.id, monday, counsellor_id, seen);
    audit::record(deps.db, deps.clock, entry).await?;
    Ok(week)
}
