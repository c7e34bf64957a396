//! Materialising counselling hours into stored slots, and the rules on when a booking may land.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use crate::domain::access::Role;
use crate::domain::blocking::closed_day;
use crate::domain::holidays::{ClosedDay, HolidayCalendar};
use crate::domain::ids::{SlotId, StaffId, UnitId};
use crate::domain::records::{HoursRule, Slot};
use crate::domain::refusal::Refusal;
use crate::domain::schedule::WeeklyRule;
use crate::domain::time::{TimeSlot, day_bounds, horizon_until, local_date};
use crate::store::{self, directory, schedule, slots};

/// The last day a slot can start on (dates are kept to four-digit years).
const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

/// What one regeneration did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Regenerated {
    pub rules: usize,
    pub slots_wanted: usize,
    pub slots_removed: u64,
    /// Booked slots it took out of the offer: their appointments now lie outside the hours.
    pub stranded: Vec<SlotId>,
}

/// Turns a stored rule into the domain rule.
///
/// # Errors
/// `Invalid` when the stored values do not form a valid rule.
pub fn weekly_rule(rule: &HoursRule) -> Result<WeeklyRule, ServiceError> {
    let weekday = rule
        .weekday
        .checked_sub(1)
        .and_then(|index| Weekday::try_from(index).ok())
        .ok_or_else(|| ServiceError::invalid("weekday", "must be 1 (Monday) to 7 (Sunday)"))?;
    WeeklyRule::new(
        weekday,
        rule.start_local,
        rule.end_local,
        TimeDelta::minutes(i64::from(rule.slot_minutes)),
        TimeDelta::minutes(i64::from(rule.buffer_minutes)),
        rule.valid_from,
        rule.valid_until,
    )
    .map_err(|err| ServiceError::invalid("counselling_hours", err.to_string()))
}

/// Brings the stored slots of one unit in line with its counselling hours for the local days
/// `from..=until`: missing slots are added, slots no rule produces any more leave the offer
/// (deleted, or kept without a rule for the bookings that refer to them: `slots::retire`), and
/// the others take their rule's counsellor and capacity. Idempotent; bookings are never touched.
///
/// # Errors
/// Database failures.
pub async fn regenerate_unit(
    db: &DatabaseConnection,
    calendar: &HolidayCalendar,
    tz: Tz,
    unit_id: UnitId,
    from: NaiveDate,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Regenerated, ServiceError> {
    let txn = store::begin_write(db).await?;
    let result = regenerate_unit_in(&txn, calendar, tz, unit_id, from, until, now).await?;
    txn.commit().await?;
    Ok(result)
}

/// [`regenerate_unit`] inside the caller's write transaction (a lead's change of hours, or a
/// test holding a regeneration open). Waits for any other regeneration of the unit first.
///
/// # Errors
/// Database failures.
pub async fn regenerate_unit_in<C: ConnectionTrait>(
    db: &C,
    calendar: &HolidayCalendar,
    tz: Tz,
    unit_id: UnitId,
    from: NaiveDate,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Regenerated, ServiceError> {
    let (range_start, _) = day_bounds(from, tz);
    let (_, range_end) = day_bounds(until, tz);
    let range_start = range_start.max(now);
    let mut report = Regenerated::default();
    schedule::lock_unit_slots(db, unit_id).await?;
    let counsellors: Vec<StaffId> =
        directory::list_unit_staff(db, unit_id, Some(Role::Counsellor)).await?.iter().map(|c| c.id).collect();
    // First every rule's slots at times it no longer wants leave the offer, and the slots of
    // deleted rules; then each rule makes its times: a group another rule retired in the same
    // change (one rule handing a time over to another) is then there to come back.
    let mut plans = Vec::new();
    for rule in schedule::list_rules(db, unit_id).await? {
        // The hours of someone who no longer counsels here (deactivated, or the role taken away)
        // produce nothing, however far ahead their slots were made: not one stays bookable. They
        // come back when the person does.
        let counselling = counsellors.contains(&rule.counsellor_id);
        let wanted: Vec<TimeSlot> = if counselling {
            weekly_rule(&rule)?
                .expand(from, until, tz, |day| calendar.closed_reason(day).is_some())
                .into_iter()
                .filter(|time| time.starts_at() >= range_start)
                .collect()
        } else {
            Vec::new()
        };
        // The end of the dates any time here can have (a bound that compares right as SQLite's
        // stored text too, unlike `DateTime::MAX_UTC`'s six-digit year).
        let reach = if counselling { range_end } else { LAST_DAY.and_time(NaiveTime::MIN).and_utc() };
        let existing = slots::of_rule(db, rule.id, range_start, reach).await?;
        // A slot at a time the rule no longer produces goes out of the offer, booked or not (its
        // bookings stay, outside the hours until moved), and so does a booked one whose
        // counsellor the rule no longer names (the time is the new counsellor's now). The others
        // stay and follow the rule (`slots::follow_rule`), keeping their ids.
        let (obsolete, kept): (Vec<Slot>, Vec<Slot>) = existing.into_iter().partition(|slot| {
            !at_a_wanted_time(&wanted, slot) || (slot.booked_count > 0 && slot.counsellor_id != rule.counsellor_id)
        });
        let obsolete: Vec<SlotId> = obsolete.iter().map(|slot| slot.id).collect();
        report.slots_removed += slots::retire(db, &obsolete).await?;
        report.stranded.extend(obsolete);
        plans.push((rule, counselling, wanted, kept));
    }
    let orphans = slots::orphaned(db, unit_id, range_start).await?;
    report.slots_removed += slots::retire(db, &orphans).await?;
    report.stranded.extend(orphans);
    for (rule, counselling, wanted, kept) in plans {
        if counselling {
            // A group whose seats were taken when it was retired (its counsellor left, or the
            // hours went) comes back as it was, with its bookings, when a rule wants its time
            // again: left retired, it would block the new slot made at its time, and its free
            // seats would not be offered until its last booking was gone. A free slot of the
            // rule at that time (made by an earlier release beside it) makes way. Its bookings
            // are not stranded after all.
            let back: Vec<Slot> = slots::retired_groups(db, rule.unit_id, rule.counsellor_id, range_start, range_end)
                .await?
                .into_iter()
                .filter(|slot| at_a_wanted_time(&wanted, slot))
                .collect();
            if !back.is_empty() {
                let in_the_way: Vec<SlotId> = kept
                    .iter()
                    .filter(|slot| back.iter().any(|group| group.starts_at == slot.starts_at))
                    .map(|slot| slot.id)
                    .collect();
                slots::retire_free(db, &in_the_way).await?;
                let ids: Vec<SlotId> = back.iter().map(|slot| slot.id).collect();
                let revived = slots::revive(db, &rule, &ids).await?;
                report.stranded.retain(|id| !revived.contains(id));
            }
            slots::follow_rule(db, &rule, range_start).await?;
            slots::insert_regular(db, &rule, &wanted, now).await?;
        }
        report.rules += 1;
        report.slots_wanted += wanted.len();
    }
    Ok(report)
}

/// Whether `slot` lies exactly at one of the `wanted` times.
fn at_a_wanted_time(wanted: &[TimeSlot], slot: &Slot) -> bool {
    wanted.iter().any(|t| t.starts_at() == slot.starts_at && t.ends_at() == slot.ends_at)
}

/// [`regenerate_unit_in`] from today to `horizon_until`, or as far as the unit's slots were made
/// (`terminbuch slots generate --until`) if that is further.
///
/// # Errors
/// Database failures.
pub async fn regenerate_unit_as_far_as_made<C: ConnectionTrait>(
    db: &C,
    calendar: &HolidayCalendar,
    tz: Tz,
    unit_id: UnitId,
    horizon_until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Regenerated, ServiceError> {
    let today = local_date(now, tz);
    let until = match slots::latest_regular_start(db, unit_id).await? {
        Some(latest) => horizon_until.max(local_date(latest, tz)),
        None => horizon_until,
    };
    regenerate_unit_in(db, calendar, tz, unit_id, today, until, now).await
}

/// What the slots of a unit depend on besides its hours: the calendar, the zone and the horizon.
/// Account changes use it to take a person's slots out of the offer, or back in, at once.
#[derive(Clone, Copy)]
pub struct SlotPlan<'a> {
    pub calendar: &'a HolidayCalendar,
    pub tz: Tz,
    /// Weeks of the rolling horizon (`TERMINBUCH_SLOT_HORIZON_WEEKS`).
    pub horizon_weeks: u32,
}

impl SlotPlan<'_> {
    /// Brings the slots of `units` in line with who counsels there now, after a person was
    /// deactivated, reactivated or lost a role, inside the caller's write transaction: the
    /// slots of hours whose counsellor no longer counsels in the unit leave the offer (booked
    /// ones stay with their bookings, as when hours are removed), and come back with them.
    ///
    /// # Errors
    /// Database failures.
    pub async fn follow_staff<C: ConnectionTrait>(
        self,
        db: &C,
        units: &[UnitId],
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let horizon_until = horizon_until(now, self.tz, self.horizon_weeks);
        for unit_id in units {
            regenerate_unit_as_far_as_made(db, self.calendar, self.tz, *unit_id, horizon_until, now).await?;
        }
        Ok(())
    }
}

/// Regenerates every unit up to `until`, each in a transaction of its own: a unit that fails is
/// logged and the others are still brought up to date.
///
/// # Errors
/// Database failures; when a unit failed, the first of its errors after every unit was tried.
pub async fn regenerate_all(
    db: &DatabaseConnection,
    calendar: &HolidayCalendar,
    tz: Tz,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Regenerated, ServiceError> {
    let today = local_date(now, tz);
    let mut total = Regenerated::default();
    let mut first_failure = None;
    for unit in directory::list_units(db, None).await? {
        match regenerate_unit(db, calendar, tz, unit.id, today, until, now).await {
            Ok(one) => {
                total.rules += one.rules;
                total.slots_wanted += one.slots_wanted;
                total.slots_removed += one.slots_removed;
                total.stranded.extend(one.stranded);
            }
            Err(err) => {
                tracing::error!(unit = %unit.slug, error = ?err, "the unit's slots could not be brought up to date");
                first_failure.get_or_insert(err);
            }
        }
    }
    first_failure.map_or(Ok(total), Err)
}

/// Refuses a time that lies in the past, on a public holiday or extra closure day, in a closure
/// of the unit or department, or in an absence of the counsellor.
///
/// # Errors
/// `Rule` with a stable code: `in_the_past`, `public_holiday`, `closure_day`, `unit_closed`,
/// `counsellor_absent`.
pub async fn check_bookable<C: ConnectionTrait>(
    db: &C,
    calendar: &HolidayCalendar,
    tz: Tz,
    now: DateTime<Utc>,
    unit_id: UnitId,
    counsellor_id: StaffId,
    time: TimeSlot,
) -> Result<(), ServiceError> {
    check_calendar(calendar, tz, now, time)?;
    check_unblocked(db, unit_id, counsellor_id, time).await
}

/// The part of [`check_bookable`] that needs no database: not in the past, not on a public
/// holiday or closure day.
///
/// # Errors
/// `Rule` naming the reason.
pub fn check_calendar(
    calendar: &HolidayCalendar,
    tz: Tz,
    now: DateTime<Utc>,
    time: TimeSlot,
) -> Result<(), ServiceError> {
    if time.starts_at() < now {
        return Err(ServiceError::Rule(Refusal::InThePast));
    }
    match closed_day(calendar, tz, time.starts_at(), time.ends_at()) {
        Some((day, ClosedDay::PublicHoliday(name))) => {
            Err(ServiceError::Rule(Refusal::PublicHoliday { day, name: name.to_string() }))
        }
        Some((day, ClosedDay::ExtraClosureDay)) => Err(ServiceError::Rule(Refusal::ClosureDay { day })),
        None => Ok(()),
    }
}

/// The part of [`check_bookable`] in the database: no closure of the unit or the department and
/// no absence of the counsellor overlaps the time.
///
/// # Errors
/// `Rule` naming the reason; database failures.
pub async fn check_unblocked<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    counsellor_id: StaffId,
    time: TimeSlot,
) -> Result<(), ServiceError> {
    let blocking = store::blocking::blocking(db, unit_id, counsellor_id, time.starts_at(), time.ends_at()).await?;
    if let Some(reason) = blocking.closure {
        return Err(ServiceError::Rule(Refusal::UnitClosed { reason }));
    }
    if blocking.absent {
        return Err(ServiceError::Rule(Refusal::CounsellorAbsent));
    }
    Ok(())
}
