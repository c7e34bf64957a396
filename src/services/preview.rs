//! What a change to counselling hours would do, before it is saved: the slots a rule would
//! produce, and the booked appointments that would no longer lie within the unit's hours.

use std::collections::HashSet;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

use super::ServiceError;
use super::bookings::Book;
use super::hours::{
    Affected, active_bookings, affected_shown, check_counsellor, check_range, check_until, counsels_in, lead,
    may_change, overlaps_others, validate_rule,
};
use crate::domain::access::Actor;
use crate::domain::blocking::{Block, BlockedBy};
use crate::domain::clash::Clash;
use crate::domain::ids::{RuleId, SlotId, StaffId};
use crate::domain::missing::Missing;
use crate::domain::records::{RuleFields, Unit};
use crate::domain::schedule::{LeftOut, WeeklyRule};
use crate::domain::time::{day_bounds, local_date};
use crate::store::{bookings, schedule, slots};

/// How far ahead booked slots are looked for: as far as slots are ever made.
const LOOK_AHEAD: TimeDelta = TimeDelta::weeks(crate::config::MAX_SLOT_HORIZON_WEEKS as i64 + 1);

/// The slots a rule would produce and the bookings a change would leave outside the hours.
#[derive(Debug, Clone)]
pub struct RulePreview {
    /// Starts of the slots in the first `days` days from today or, for hours valid from a later
    /// day, from that day (public holidays and closure days left out).
    pub starts: Vec<DateTime<Utc>>,
    /// Booked future appointments of the changed rule that the new rule no longer produces.
    pub affected: Affected,
    /// A change to begin later: the days of its weekday the rule as it is would lose until then
    /// (saved as a plain change; [`super::hours::Target::Follow`] keeps them).
    pub left_out: Option<LeftOut>,
    /// Future times of the changed rule, kept by the change, that have more seats booked than
    /// the new capacity: their bookings stay, and they take no more until below it.
    pub fuller: u64,
    /// With `left_out`: how many appointments are booked on the days left out (a plain change
    /// would leave them outside the hours; `affected` lists those the hours kept until then
    /// would, from the new hours' first day on).
    pub left_out_booked: u64,
}

/// Previews a new (`id: None`) or changed rule without saving it: the slots of its first `days`
/// days (from today, or from its first valid day when that is later).
///
/// # Errors
/// `Forbidden` (leads only, recorded), `Invalid` (as when saving), `NotFound` (rule).
pub async fn preview_rule(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    id: Option<RuleId>,
    fields: &RuleFields,
    days: u64,
) -> Result<RulePreview, ServiceError> {
    lead(deps, actor, unit, "hours.preview").await?;
    let weekly = validate_rule(fields)?;
    check_counsellor(deps, fields.counsellor_id, unit).await?;
    let now = deps.clock.now();
    // Hours valid only in the past are refused as saving refuses them.
    let old = match id {
        Some(id) => schedule::find_rule(deps.db, id).await?.filter(|rule| rule.unit_id == unit.id),
        None => None,
    };
    check_until(fields, old.as_ref(), local_date(now, deps.tz))?;
    // Hours that overlap others of the person are refused here as saving refuses them, before
    // the lead takes a list of times for good that could not be saved.
    if overlaps_others(deps.db, id, fields).await? {
        return Err(ServiceError::conflict(Clash::HoursOverlap));
    }
    // Hours that begin later are shown from their first day, not as two empty weeks.
    let first = local_date(now, deps.tz).max(fields.valid_from);
    let starts = weekly
        .expand(first, first.checked_add_days(Days::new(days)).unwrap_or(NaiveDate::MAX), deps.tz, |day| {
            deps.calendar.closed_reason(day).is_some()
        })
        .into_iter()
        .map(|time| time.starts_at())
        .filter(|at| *at >= now)
        .collect();
    let today = local_date(now, deps.tz);
    let left_out =
        old.and_then(|old| LeftOut::of(old.weekday, old.valid_from, old.valid_until, fields.valid_from, today));
    // Hours that would leave days out are shown as kept until then (the choice offered first).
    let since = if left_out.is_some() { day_bounds(fields.valid_from, deps.tz).0 } else { now };
    let new = Some((&weekly, fields.counsellor_id, fields.capacity));
    let (affected, fuller, left_out_booked) = match id {
        Some(id) => no_longer_matching(deps, unit, id, new, since).await?,
        None => (Affected::default(), 0, 0),
    };
    affected_shown(deps, actor, unit, &affected.listed).await?;
    Ok(RulePreview { starts, affected, left_out, fuller, left_out_booked })
}

/// The booked future appointments of rule `id` that would be left without counselling hours
/// if the rule were deleted.
///
/// # Errors
/// `Forbidden` (leads only, recorded), `NotFound` (rule).
pub async fn affected_by_deletion(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    id: RuleId,
) -> Result<Affected, ServiceError> {
    lead(deps, actor, unit, "hours.preview").await?;
    let (affected, _, _) = no_longer_matching(deps, unit, id, None, deps.clock.now()).await?;
    affected_shown(deps, actor, unit, &affected.listed).await?;
    Ok(affected)
}

/// The booked appointments an absence (of `counsellor_id`) or a closure (`None`: the whole
/// unit) in `[from, to)` would affect, before it is recorded.
///
/// # Errors
/// `Forbidden` (leads, or for their own absence the person themselves, as when recording;
/// recorded), `Invalid` (`ends_at`, and a `counsellor_id` who does not counsel in the unit, as
/// when recording).
pub async fn affected_by_period(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    counsellor_id: Option<StaffId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Affected, ServiceError> {
    may_change(deps, actor, unit, counsellor_id, "hours.preview").await?;
    check_range(from, to)?;
    // As when recording: an absence counts the person's appointments in every unit, so the lead
    // of one unit must not reach another unit's people by typing an id.
    if let Some(staff_id) = counsellor_id
        && !counsels_in(deps, staff_id, unit).await?
    {
        return Err(ServiceError::invalid("counsellor_id", "not a counsellor of this unit"));
    }
    let by = match counsellor_id {
        Some(staff_id) => BlockedBy::Absence { staff_id },
        None => BlockedBy::Closure { unit_id: Some(unit.id) },
    };
    let affected = active_bookings(deps, unit.id, Block { by, starts_at: from, ends_at: to }).await?;
    affected_shown(deps, actor, unit, &affected.listed).await?;
    Ok(affected)
}

/// Booked appointments of rule `id` from `since` on in slots that `new` (rule, counsellor,
/// capacity) does not produce, how many of those it keeps have more seats booked than its
/// capacity, and how many booked slots lie between now and `since`.
async fn no_longer_matching(
    deps: Book<'_>,
    unit: &Unit,
    id: RuleId,
    new: Option<(&WeeklyRule, StaffId, i32)>,
    since: DateTime<Utc>,
) -> Result<(Affected, u64, u64), ServiceError> {
    let old = schedule::find_rule(deps.db, id)
        .await?
        .filter(|rule| rule.unit_id == unit.id)
        .ok_or_else(|| ServiceError::not_found(Missing::Rule))?;
    let now = deps.clock.now();
    let (before, booked): (Vec<_>, Vec<_>) = slots::of_rule(deps.db, id, now, since.max(now) + LOOK_AHEAD)
        .await?
        .into_iter()
        .filter(|s| s.booked_count > 0)
        .partition(|s| s.starts_at < since);
    let before = before.iter().map(|s| u64::try_from(s.booked_count).unwrap_or(0)).sum();
    let Some(last) = booked.last().map(|s| local_date(s.starts_at, deps.tz)) else {
        return Ok((Affected::default(), 0, before));
    };
    let still_produced: HashSet<(DateTime<Utc>, DateTime<Utc>)> = match new {
        Some((rule, counsellor_id, _)) if counsellor_id == old.counsellor_id => rule
            .expand(local_date(now, deps.tz), last, deps.tz, |_| false)
            .into_iter()
            .map(|t| (t.starts_at(), t.ends_at()))
            .collect(),
        _ => HashSet::new(),
    };
    let (kept, lost): (Vec<_>, Vec<_>) =
        booked.iter().partition(|s| still_produced.contains(&(s.starts_at, s.ends_at)));
    let capacity = new.map_or(i32::MAX, |(_, _, capacity)| capacity);
    let fuller = kept.iter().filter(|s| s.booked_count > capacity).count() as u64;
    let lost: Vec<SlotId> = lost.iter().map(|s| s.id).collect();
    // By the slots themselves: a counsellor's other bookings, however many, take no room here.
    Ok((Affected::of(bookings::booked_in_slots(deps.db, &lost).await?), fuller, before))
}
