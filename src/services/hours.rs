//! Unit leads' use cases: counselling hours, absences and closures. Changes to hours regenerate
//! the unit's slots at once; absences and closures report the bookings they affect.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::ServiceError;
use super::access::deny;
use super::audit::{self, AuditAction, entries};
use super::bookings::Book;
use super::schedule::{Regenerated, regenerate_unit_as_far_as_made, weekly_rule};
use crate::domain::access::{Actor, Role};
use crate::domain::blocking::{Block, BlockedBy};
use crate::domain::citizen::{APPOINTMENT_MINUTES, MAX_APPOINTMENT_MINUTES, MIN_APPOINTMENT_MINUTES};
use crate::domain::clash::Clash;
use crate::domain::ids::{AbsenceId, ClosureId, RuleId, SlotId, StaffId, UnitId};
use crate::domain::missing::Missing;
use crate::domain::page::Page;
use crate::domain::records::RuleFields;
use crate::domain::records::{Absence, Booking, Closure, HoursRule, Unit};
use crate::domain::refusal::Refusal;
use crate::domain::schedule::{Hours, LeftOut, RuleFault, RulePart, WeeklyRule};
use crate::domain::time::{day_bounds, local_date};
use crate::store::bookings::InUnits;
use crate::store::schedule::Scope;
use crate::store::{self, bookings, directory, schedule, slots};

/// Result of a change to counselling hours.
#[derive(Debug, Clone)]
pub struct HoursChange {
    pub rule: Option<HoursRule>,
    /// Hours that new ones follow ([`Target::Follow`]), as ended the day before.
    pub ended: Option<HoursRule>,
    pub regenerated: Regenerated,
    /// The booked appointments the change left outside the hours, read in its transaction (also
    /// one booked by a desk while the change was being made).
    pub affected: Affected,
}

/// Counselling hours of a unit (any member may read them).
///
/// # Errors
/// `Forbidden` for non-members.
pub async fn list_rules(deps: Book<'_>, actor: &Actor, unit: &Unit) -> Result<Vec<HoursRule>, ServiceError> {
    if !actor.can_work_in(unit.id) {
        deny(deps.db, deps.clock, actor, "hours.read", &format!("unit:{}", unit.id)).await?;
    }
    Ok(schedule::list_rules(deps.db, unit.id).await?)
}

/// Which hours a save writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// New hours.
    New,
    /// Hours `id`, replaced at once.
    Replace(RuleId),
    /// New hours that change hours `id` from a later day on: those stay as they are until the
    /// day before the new ones' `valid_from` (they are given that end). Replaced instead, they
    /// would be gone at once, and the counsellor would have none on their weekday until then.
    Follow(RuleId),
}

impl Target {
    /// The hours replaced or followed.
    #[must_use]
    pub const fn id(self) -> Option<RuleId> {
        match self {
            Self::New => None,
            Self::Replace(id) | Self::Follow(id) => Some(id),
        }
    }
}

/// What `valid_from` must be for hours to follow `old` on `today`.
const FOLLOW_FROM: &str =
    "must lie after today and after the first day of the hours it follows, which must not have ended";

/// Saves weekly hours as `target` says and regenerates the unit's slots. `seen` is the replaced
/// (or followed) rule's `updated_at` as the caller read it: when given and the rule was saved
/// since (another lead changed it meanwhile), nothing is written.
///
/// # Errors
/// `Forbidden`, `Invalid` (bad rule, not a counsellor of the unit; for `Follow`, naming
/// `valid_from` when it is not after today and after the rule's first day, or the rule has
/// ended), `NotFound`, `Conflict { clash: Clash::ConcurrentUpdate, .. }` (changed since `seen`),
/// `Conflict { clash: Clash::HoursOverlap, .. }`.
pub async fn save_rule(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    target: Target,
    seen: Option<DateTime<Utc>>,
    fields: RuleFields,
    horizon_until: NaiveDate,
) -> Result<HoursChange, ServiceError> {
    let (id, follow) = (target.id(), matches!(target, Target::Follow(_)));
    lead(deps, actor, unit, "hours.write").await?;
    if let Some(id) = id {
        schedule::find_rule(deps.db, id)
            .await?
            .filter(|rule| rule.unit_id == unit.id)
            .ok_or_else(|| ServiceError::not_found(Missing::Rule))?;
    }
    validate_rule(&fields)?;
    check_counsellor(deps, fields.counsellor_id, unit).await?;
    let now = deps.clock.now();
    let txn = store::begin_write(deps.db).await?;
    // The unit's slot lock first, in the order every regeneration takes it (see `delete_rule`).
    schedule::lock_unit_slots(&txn, unit.id).await?;
    // The rule as it was, read under the lock every change of the unit's hours takes.
    let old = match id {
        // Checked again under the lock: the rule written is one of this unit's.
        Some(id) => Some(
            schedule::find_rule(&txn, id)
                .await?
                .filter(|rule| rule.unit_id == unit.id)
                .ok_or_else(|| ServiceError::not_found(Missing::Rule))?,
        ),
        None => None,
    };
    if let (Some(seen), Some(old)) = (seen, &old)
        && old.updated_at != seen
    {
        return Err(ServiceError::conflict(Clash::ConcurrentUpdate));
    }
    let today = local_date(now, deps.tz);
    // Followed: the hours as they are end the day before the new ones begin, and the new ones
    // are hours of their own (the rule replaced is none).
    let (id, ended) = match (follow, &old) {
        (true, Some(old)) => (None, Some(end_before(&txn, actor, old, &fields, today, now).await?)),
        (true, None) => return Err(ServiceError::not_found(Missing::Rule)),
        (false, _) => (id, None),
    };
    check_until(&fields, if follow { None } else { old.as_ref() }, today)?;
    // Overlapping hours of one counsellor would offer each time twice (a form sent twice made
    // them); checked under the person's lock, which a lead of another unit saving their hours at
    // the same moment waits for.
    schedule::lock_counsellor_hours(&txn, fields.counsellor_id).await?;
    if overlaps_others(&txn, id, &fields).await? {
        return Err(ServiceError::conflict(Clash::HoursOverlap));
    }
    // Deleted by another lead since the check above: nothing is written.
    let rule = schedule::save_rule(&txn, id, fields, actor.staff_id(), now)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Rule))?;
    // The followed hours' slots from the new hours' first day are the new hours' now: those at
    // times the new hours give stay, with their bookings (a booked one left with the ended hours
    // was retired, its booking listed as outside the hours, and a new slot made beside it).
    if let Some(ended) = &ended {
        slots::hand_over(&txn, ended.id, rule.id, day_bounds(rule.valid_from, deps.tz).0).await?;
    }
    let regenerated = regenerate(deps, &txn, unit, horizon_until, now).await?;
    let affected = Affected::of(bookings::booked_in_slots(&txn, &regenerated.stranded).await?);
    if let (Some(old), Some(ended)) = (&old, &ended) {
        let entry = entries::schedule_changed(actor, AuditAction::HoursSaved, unit.id, format!("rule:{}", ended.id));
        let detail = serde_json::json!({ "old": rule_detail(old), "new": rule_detail(ended), "followed_by": rule.id });
        audit::record(&txn, deps.clock, entry.detail(detail)).await?;
    }
    let replaced = if follow { None } else { old.as_ref().map(rule_detail) };
    let entry = entries::schedule_changed(actor, AuditAction::HoursSaved, unit.id, format!("rule:{}", rule.id));
    audit::record(&txn, deps.clock, entry.detail(serde_json::json!({ "old": replaced, "new": rule_detail(&rule) })))
        .await?;
    affected_shown_in(&txn, deps, actor, unit, &affected.listed).await?;
    txn.commit().await?;
    Ok(HoursChange { rule: Some(rule), ended, regenerated, affected })
}

/// Ends `old` the day before `fields` begin (or leaves its earlier end), for new hours to follow
/// it: refused unless it runs on or after `today` and `fields` begin after `today` and after its
/// first day.
async fn end_before<C: sea_orm::ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    old: &HoursRule,
    fields: &RuleFields,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<HoursRule, ServiceError> {
    let running = old.valid_until.is_none_or(|until| until >= today);
    if fields.valid_from <= today.max(old.valid_from) || !running {
        return Err(ServiceError::invalid("valid_from", FOLLOW_FROM));
    }
    let until = LeftOut::kept_until(old.valid_until, fields.valid_from);
    let kept = RuleFields {
        unit_id: old.unit_id,
        counsellor_id: old.counsellor_id,
        weekday: old.weekday,
        start_local: old.start_local,
        end_local: old.end_local,
        slot_minutes: old.slot_minutes,
        buffer_minutes: old.buffer_minutes,
        capacity: old.capacity,
        valid_from: old.valid_from,
        valid_until: Some(until),
    };
    schedule::save_rule(txn, Some(old.id), kept, actor.staff_id(), now)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Rule))
}

/// Whether `fields` (of rule `id`, or new hours) overlap other hours of the same counsellor, in
/// any unit.
///
/// # Errors
/// A failed read.
pub(crate) async fn overlaps_others<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: Option<RuleId>,
    fields: &RuleFields,
) -> Result<bool, ServiceError> {
    let others = schedule::rules_of_counsellor(db, fields.counsellor_id).await?;
    Ok(others.iter().any(|other| Some(other.id) != id && overlapping(fields, other)))
}

/// Whether `fields` and `other` (one counsellor's) would give overlapping slots: the same weekday,
/// times that overlap (touching ends do not), validity periods that share a day.
fn overlapping(fields: &RuleFields, other: &HoursRule) -> bool {
    let last = |until: Option<NaiveDate>| until.unwrap_or(NaiveDate::MAX);
    other.weekday == fields.weekday
        && fields.start_local < other.end_local
        && other.start_local < fields.end_local
        && fields.valid_from <= last(other.valid_until)
        && other.valid_from <= last(fields.valid_until)
}

/// Deletes a weekly rule; its unbooked future slots go, booked ones stay.
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn delete_rule(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    id: RuleId,
    horizon_until: NaiveDate,
) -> Result<HoursChange, ServiceError> {
    lead(deps, actor, unit, "hours.write").await?;
    schedule::find_rule(deps.db, id)
        .await?
        .filter(|rule| rule.unit_id == unit.id)
        .ok_or_else(|| ServiceError::not_found(Missing::Rule))?;
    let now = deps.clock.now();
    let txn = store::begin_write(deps.db).await?;
    // The unit's slot lock before the delete, whose `ON DELETE SET NULL` locks the rule's slots:
    // a regeneration holding the unit's lock and waiting for those slots would deadlock with it.
    schedule::lock_unit_slots(&txn, unit.id).await?;
    let old = schedule::find_rule(&txn, id)
        .await?
        .filter(|rule| rule.unit_id == unit.id)
        .ok_or_else(|| ServiceError::not_found(Missing::Rule))?;
    schedule::delete_rule(&txn, id).await?;
    let regenerated = regenerate(deps, &txn, unit, horizon_until, now).await?;
    let affected = Affected::of(bookings::booked_in_slots(&txn, &regenerated.stranded).await?);
    let entry = entries::schedule_changed(actor, AuditAction::HoursDeleted, unit.id, format!("rule:{id}"));
    audit::record(&txn, deps.clock, entry.detail(serde_json::json!({ "old": rule_detail(&old) }))).await?;
    affected_shown_in(&txn, deps, actor, unit, &affected.listed).await?;
    txn.commit().await?;
    Ok(HoursChange { rule: None, ended: None, regenerated, affected })
}

/// Refuses hours of someone who is not an active counsellor of the unit: also the counsellor of
/// an existing rule who has left since (deactivated, or their role here taken away), so a rule
/// is never handed to anyone unasked and a departed person's hours are not made again.
///
/// # Errors
/// `Invalid` naming `counsellor_id`.
pub(crate) async fn check_counsellor(deps: Book<'_>, counsellor_id: StaffId, unit: &Unit) -> Result<(), ServiceError> {
    let counsellor = directory::find_staff(deps.db, counsellor_id).await?;
    if !counsellor.is_some_and(|c| c.active && c.memberships.contains(&(unit.id, Role::Counsellor))) {
        return Err(ServiceError::invalid("counsellor_id", "not an active counsellor of this unit"));
    }
    Ok(())
}

async fn regenerate(
    deps: Book<'_>,
    txn: &sea_orm::DatabaseTransaction,
    unit: &Unit,
    horizon_until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Regenerated, ServiceError> {
    regenerate_unit_as_far_as_made(txn, deps.calendar, deps.tz, unit.id, horizon_until, now).await
}

/// A rule's fields as the audit records a change of them (local times and dates as typed).
fn rule_detail(rule: &HoursRule) -> serde_json::Value {
    serde_json::json!({
        "counsellor_id": rule.counsellor_id,
        "weekday": rule.weekday,
        "start": rule.start_local.format("%H:%M").to_string(),
        "end": rule.end_local.format("%H:%M").to_string(),
        "slot_minutes": rule.slot_minutes,
        "buffer_minutes": rule.buffer_minutes,
        "capacity": rule.capacity,
        "valid_from": rule.valid_from,
        "valid_until": rule.valid_until,
    })
}

/// Which page of a unit's absences or closures to read: those overlapping `range`, soonest first
/// (by start, then id), `limit` of them, those after the one with id `after` only.
#[derive(Debug, Clone, Copy)]
pub struct SpanPage<Id> {
    pub range: (DateTime<Utc>, DateTime<Utc>),
    pub after: Option<Id>,
    pub limit: u64,
}

/// Absences of the unit's counsellors overlapping `page.range`, a page at a time.
///
/// # Errors
/// `Forbidden` for non-members; `Invalid` naming `after` when it is no absence the unit lists
/// (also one removed since).
pub async fn absences_page(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    SpanPage { range, after, limit }: SpanPage<AbsenceId>,
) -> Result<Page<Absence>, ServiceError> {
    let ids = absent_ones(deps, actor, unit).await?;
    let after = match after {
        Some(id) => Some(
            schedule::find_absence(deps.db, id)
                .await?
                .filter(|absence| ids.contains(&absence.staff_id))
                .ok_or_else(|| ServiceError::invalid("after", NOT_LISTED))?,
        ),
        None => None,
    };
    let read =
        schedule::absences_overlapping_after(deps.db, &ids, range, after.as_ref(), limit.saturating_add(1)).await?;
    Ok(Page::from_one_more(read, limit))
}

/// The refusal of a cursor naming nothing the list holds.
const NOT_LISTED: &str = "not in this list (removed since?): list again from the start";

/// The counsellors whose absences the unit lists, once the actor may read them.
async fn absent_ones(deps: Book<'_>, actor: &Actor, unit: &Unit) -> Result<Vec<StaffId>, ServiceError> {
    if !actor.can_work_in(unit.id) {
        deny(deps.db, deps.clock, actor, "absence.read", &format!("unit:{}", unit.id)).await?;
    }
    Ok(directory::list_unit_staff(deps.db, unit.id, Some(Role::Counsellor)).await?.iter().map(|c| c.id).collect())
}

/// Records an absence of a counsellor of the unit and returns it with the active bookings it
/// affects (to be moved).
///
/// # Errors
/// `Forbidden` (leads for anyone, counsellors for themselves), `Invalid` (also: not a counsellor
/// of the unit).
pub async fn add_absence(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    staff_id: StaffId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: &str,
) -> Result<(Absence, Affected), ServiceError> {
    may_change(deps, actor, unit, Some(staff_id), "absence.write").await?;
    check_range(starts_at, ends_at)?;
    not_over(ends_at, deps.clock.now())?;
    let reason = period_reason(reason)?;
    if !counsels_in(deps, staff_id, unit).await? {
        return Err(ServiceError::invalid("counsellor_id", "not a counsellor of this unit"));
    }
    let txn = store::begin_write(deps.db).await?;
    schedule::lock_scope(&txn, Scope::Counsellor(staff_id), Some((starts_at, ends_at))).await?;
    let absence =
        schedule::insert_absence(&txn, staff_id, starts_at, ends_at, reason, actor.staff_id(), deps.clock.now())
            .await?;
    let entry = entries::schedule_changed(actor, AuditAction::AbsenceAdded, unit.id, format!("absence:{}", absence.id));
    audit::record(&txn, deps.clock, entry.detail(serde_json::json!({ "staff_id": staff_id }))).await?;
    // Read and recorded before the commit: a failure after it would answer an error for an
    // absence that was stored, and a retry would store it twice.
    let affected = active_bookings_in(&txn, unit.id, Block::from(&absence)).await?;
    affected_shown_in(&txn, deps, actor, unit, &affected.listed).await?;
    txn.commit().await?;
    Ok((absence, affected))
}

/// An absence of a counsellor of the unit that the actor may remove (to be named before it is
/// removed), with the checks of `delete_absence`.
///
/// # Errors
/// `Forbidden`, `NotFound` (also for an absence of someone outside the unit).
pub async fn absence_to_delete(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    id: AbsenceId,
) -> Result<Absence, ServiceError> {
    // Refused (and recorded) before the absence is looked up: someone outside the unit learns
    // nothing of which absences exist.
    if !actor.can_work_in(unit.id) {
        deny(deps.db, deps.clock, actor, "absence.write", &format!("unit:{}", unit.id)).await?;
    }
    let absence =
        schedule::find_absence(deps.db, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Absence))?;
    if !counsels_in(deps, absence.staff_id, unit).await? {
        return Err(ServiceError::not_found(Missing::Absence));
    }
    may_change(deps, actor, unit, Some(absence.staff_id), "absence.write").await?;
    Ok(absence)
}

/// Removes an absence of a counsellor of the unit.
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn delete_absence(deps: Book<'_>, actor: &Actor, unit: &Unit, id: AbsenceId) -> Result<(), ServiceError> {
    let absence = absence_to_delete(deps, actor, unit, id).await?;
    let txn = store::begin_write(deps.db).await?;
    // Removed meanwhile (by another lead): nothing to record.
    if !schedule::delete_absence(&txn, id, absence.staff_id).await? {
        return Err(ServiceError::not_found(Missing::Absence));
    }
    let entry = entries::schedule_changed(actor, AuditAction::AbsenceRemoved, unit.id, format!("absence:{id}"));
    let detail = serde_json::json!({
        "staff_id": absence.staff_id,
        "starts_at": absence.starts_at,
        "ends_at": absence.ends_at,
        "reason": absence.reason,
    });
    audit::record(&txn, deps.clock, entry.detail(detail)).await?;
    Ok(txn.commit().await?)
}

/// Whether `staff_id` counsels in the unit: the people whose absences the unit lists, and the
/// only ones its lead may record or remove absences of (an absence blocks a person's appointments
/// in every unit, so a lead must not reach one of another unit's counsellors by typing an id).
pub(crate) async fn counsels_in(deps: Book<'_>, staff_id: StaffId, unit: &Unit) -> Result<bool, ServiceError> {
    let member = directory::find_staff(deps.db, staff_id).await?;
    Ok(member.is_some_and(|m| m.memberships.contains(&(unit.id, Role::Counsellor))))
}

/// Closures of the unit (and the whole department) overlapping `page.range`, a page at a time.
///
/// # Errors
/// `Forbidden` for non-members; `Invalid` naming `after` when it is no closure the unit lists
/// (also one removed since).
pub async fn closures_page(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    SpanPage { range, after, limit }: SpanPage<ClosureId>,
) -> Result<Page<Closure>, ServiceError> {
    may_read_closures(deps, actor, unit).await?;
    let after = match after {
        Some(id) => Some(
            schedule::find_closure(deps.db, id)
                .await?
                .filter(|closure| closure.unit_id.is_none_or(|of| of == unit.id))
                .ok_or_else(|| ServiceError::invalid("after", NOT_LISTED))?,
        ),
        None => None,
    };
    let read =
        schedule::closures_overlapping_after(deps.db, unit.id, range, after.as_ref(), limit.saturating_add(1)).await?;
    Ok(Page::from_one_more(read, limit))
}

async fn may_read_closures(deps: Book<'_>, actor: &Actor, unit: &Unit) -> Result<(), ServiceError> {
    if !actor.can_work_in(unit.id) {
        deny(deps.db, deps.clock, actor, "closure.read", &format!("unit:{}", unit.id)).await?;
    }
    Ok(())
}

/// Closes the unit for a time; returns the closure and the active bookings it affects.
///
/// # Errors
/// `Forbidden` (leads only), `Invalid`.
pub async fn add_closure(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: &str,
) -> Result<(Closure, Affected), ServiceError> {
    lead(deps, actor, unit, "closure.write").await?;
    check_range(starts_at, ends_at)?;
    not_over(ends_at, deps.clock.now())?;
    let reason = period_reason(reason)?;
    let txn = store::begin_write(deps.db).await?;
    schedule::lock_scope(&txn, Scope::Unit(unit.id), Some((starts_at, ends_at))).await?;
    let closure =
        schedule::insert_closure(&txn, Some(unit.id), starts_at, ends_at, reason, actor.staff_id(), deps.clock.now())
            .await?;
    let entry = entries::schedule_changed(actor, AuditAction::ClosureAdded, unit.id, format!("closure:{}", closure.id));
    audit::record(&txn, deps.clock, entry).await?;
    let affected = active_bookings_in(&txn, unit.id, Block::from(&closure)).await?;
    affected_shown_in(&txn, deps, actor, unit, &affected.listed).await?;
    txn.commit().await?;
    Ok((closure, affected))
}

/// A closure of the unit (not one of the whole department) that the lead may remove, to be named
/// before it is removed, with the checks of `delete_closure`.
///
/// # Errors
/// `Forbidden` (leads only), `NotFound`.
pub async fn closure_to_delete(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    id: ClosureId,
) -> Result<Closure, ServiceError> {
    lead(deps, actor, unit, "closure.write").await?;
    schedule::find_closure(deps.db, id)
        .await?
        .filter(|c| c.unit_id == Some(unit.id))
        .ok_or_else(|| ServiceError::not_found(Missing::Closure))
}

/// Removes a closure of the unit.
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn delete_closure(deps: Book<'_>, actor: &Actor, unit: &Unit, id: ClosureId) -> Result<(), ServiceError> {
    let closure = closure_to_delete(deps, actor, unit, id).await?;
    let txn = store::begin_write(deps.db).await?;
    if !schedule::delete_closure(&txn, id, unit.id).await? {
        return Err(ServiceError::not_found(Missing::Closure));
    }
    let entry = entries::schedule_changed(actor, AuditAction::ClosureRemoved, unit.id, format!("closure:{id}"));
    let detail =
        serde_json::json!({ "starts_at": closure.starts_at, "ends_at": closure.ends_at, "reason": closure.reason });
    audit::record(&txn, deps.clock, entry.detail(detail)).await?;
    Ok(txn.commit().await?)
}

/// Records that the bookings an absence, closure or change of hours affects were shown (if any).
pub(crate) async fn affected_shown(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    affected: &[Booking],
) -> Result<(), ServiceError> {
    affected_shown_in(deps.db, deps, actor, unit, affected).await
}

/// [`affected_shown`] inside the change's own transaction: the bookings a change of hours left
/// outside the hours are answered (API) and shown (the lead's page) with their details.
async fn affected_shown_in<C: sea_orm::ConnectionTrait>(
    db: &C,
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    affected: &[Booking],
) -> Result<(), ServiceError> {
    match entries::bookings_shown(actor, AuditAction::AffectedBookingsViewed, unit.id, affected) {
        Some(entry) => audit::record(db, deps.clock, entry).await,
        None => Ok(()),
    }
}

/// A unit the actor leads, by slug or id (the pages of unit leads).
///
/// # Errors
/// `NotFound`, `Forbidden` (recorded).
pub async fn unit_to_lead(deps: Book<'_>, actor: &Actor, key: &str) -> Result<Unit, ServiceError> {
    let unit = super::directory::find_unit(deps.db, key).await?;
    lead(deps, actor, &unit, "hours.manage").await?;
    Ok(unit)
}

/// The first unit (by name) the actor leads; refused and recorded when there is none.
///
/// # Errors
/// `Forbidden` (recorded).
pub async fn first_unit_to_lead(deps: Book<'_>, actor: &Actor) -> Result<Unit, ServiceError> {
    match units_to_lead(deps, actor).await?.into_iter().next() {
        Some(unit) => Ok(unit),
        None => {
            deny(deps.db, deps.clock, actor, "hours.manage", "units").await?;
            Err(ServiceError::Forbidden)
        }
    }
}

/// The units the actor may lead, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn units_to_lead(deps: Book<'_>, actor: &Actor) -> Result<Vec<Unit>, ServiceError> {
    let units = directory::list_units(deps.db, None).await?;
    Ok(units.into_iter().filter(|u| actor.can_lead(u.id)).collect())
}

pub(crate) async fn lead(deps: Book<'_>, actor: &Actor, unit: &Unit, action: &str) -> Result<(), ServiceError> {
    if actor.can_lead(unit.id) {
        return Ok(());
    }
    deny(deps.db, deps.clock, actor, action, &format!("unit:{}", unit.id)).await
}

/// Lets through who may make a change of `unit`: with `counsellor`, an absence of that person
/// (the unit's leads, or the person themselves); without, a closure or a change of the hours
/// (leads only).
///
/// # Errors
/// `Forbidden` (recorded as an attempt of `action`).
pub(crate) async fn may_change(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    counsellor: Option<StaffId>,
    action: &str,
) -> Result<(), ServiceError> {
    match counsellor {
        Some(staff_id) if actor.can_set_absence(unit.id, staff_id) => Ok(()),
        Some(_) => deny(deps.db, deps.clock, actor, action, &format!("unit:{}", unit.id)).await,
        None => lead(deps, actor, unit, action).await,
    }
}

/// What is wrong with a rule's fields, each named at the field to correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleProblem {
    /// Not 1 (Monday) to 7 (Sunday).
    Weekday,
    /// Outside the limits every appointment keeps to.
    SlotMinutes,
    /// Negative, or four hours or more.
    BufferMinutes,
    /// Not 1 to 100 seats.
    Capacity,
    /// The hours themselves: their times, the slot length against them, their validity.
    Hours(RuleFault),
    /// Valid only before today: hours that would never give an appointment.
    UntilInThePast,
}

impl RuleProblem {
    /// The field it is named at: the API's request field, and the service's `Invalid` field.
    #[must_use]
    pub const fn field(self) -> &'static str {
        match self {
            Self::Weekday => "weekday",
            Self::SlotMinutes => "slot_minutes",
            Self::BufferMinutes => "buffer_minutes",
            Self::Capacity => "capacity",
            Self::Hours(fault) => match fault.part() {
                RulePart::Start => "start",
                RulePart::End => "end",
                RulePart::SlotLength => "slot_minutes",
                RulePart::Buffer => "buffer_minutes",
                RulePart::ValidUntil => "valid_until",
            },
            Self::UntilInThePast => "valid_until",
        }
    }

    /// The other fields it judges the field against: a value there that could not be read makes
    /// the problem moot.
    #[must_use]
    pub const fn judged_against(self) -> &'static [&'static str] {
        match self {
            Self::Hours(RuleFault::EndNotAfterStart) => &["start"],
            Self::Hours(RuleFault::SlotLongerThanHours) => &["start", "end"],
            Self::Hours(RuleFault::UntilBeforeFrom) => &["valid_from"],
            _ => &[],
        }
    }

    /// The refusal, in English for the API.
    #[must_use]
    pub fn into_error(self) -> ServiceError {
        let message = match self {
            Self::Weekday => "must be 1 (Monday) to 7 (Sunday)".to_owned(),
            Self::SlotMinutes => format!("must be between {MIN_APPOINTMENT_MINUTES} and {MAX_APPOINTMENT_MINUTES}"),
            Self::BufferMinutes => {
                format!("must be between 0 and {}", crate::domain::schedule::MAX_BUFFER.num_minutes() - 1)
            }
            Self::Capacity => "must be between 1 and 100".to_owned(),
            Self::Hours(fault) => fault.message().to_owned(),
            Self::UntilInThePast => {
                "must not be in the past (today or later; yesterday only to end hours that ran until then)".to_owned()
            }
        };
        ServiceError::invalid(self.field(), message)
    }
}

/// Every problem of a rule's fields, at most one per field (the first found), in the order of
/// the fields; empty when they make a rule. Whether the hours lie in the past is
/// [`until_in_the_past`]'s to say.
#[must_use]
pub fn rule_problems(fields: &RuleFields) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    if !(1..=7).contains(&fields.weekday) {
        problems.push(RuleProblem::Weekday);
    }
    if !APPOINTMENT_MINUTES.contains(&i64::from(fields.slot_minutes)) {
        problems.push(RuleProblem::SlotMinutes);
    }
    let max_buffer = crate::domain::schedule::MAX_BUFFER.num_minutes();
    if !(0..max_buffer).contains(&i64::from(fields.buffer_minutes)) {
        problems.push(RuleProblem::BufferMinutes);
    }
    if !(1..=100).contains(&fields.capacity) {
        problems.push(RuleProblem::Capacity);
    }
    let hours = Hours {
        start_local: fields.start_local,
        end_local: fields.end_local,
        slot_length: TimeDelta::minutes(i64::from(fields.slot_minutes)),
        buffer: TimeDelta::minutes(i64::from(fields.buffer_minutes)),
        valid_from: fields.valid_from,
        valid_until: fields.valid_until,
    };
    for fault in hours.faults() {
        let problem = RuleProblem::Hours(fault);
        if !problems.iter().any(|p| p.field() == problem.field()) {
            problems.push(problem);
        }
    }
    problems.sort_by_key(|p| rule_field_rank(p.field()));
    problems
}

/// The fields of hours in the order of the form, by the service's (and the API's) names.
const RULE_FIELD_ORDER: [&str; 9] = [
    "counsellor_id",
    "weekday",
    "start",
    "end",
    "slot_minutes",
    "buffer_minutes",
    "capacity",
    "valid_from",
    "valid_until",
];

/// Where `field` stands among the fields of hours (an unknown field after them all), to name
/// the problems in the order of the form.
#[must_use]
pub fn rule_field_rank(field: &str) -> usize {
    RULE_FIELD_ORDER.iter().position(|f| *f == field).unwrap_or(RULE_FIELD_ORDER.len())
}

/// [`rule_problems`] beside the fields that could not be read (`unread`, by field name): a
/// problem at one of those, or judged against one, is left out (the field's own refusal says
/// what is wrong there).
#[must_use]
pub fn rule_problems_beside(fields: &RuleFields, unread: &[&str]) -> Vec<RuleProblem> {
    let mut problems = rule_problems(fields);
    problems.retain(|p| !unread.contains(&p.field()) && !p.judged_against().iter().any(|f| unread.contains(f)));
    problems
}

/// Whether `fields` are hours valid only before `today` (refused: they would never give an
/// appointment, and a lead who typed a wrong year is told). Allowed, replacing `old`: an end
/// already in the past left as it was (other fields of ended hours corrected), and the end set
/// to yesterday of hours that ran until then (ended so that none are left today).
#[must_use]
pub fn until_in_the_past(fields: &RuleFields, old: Option<&HoursRule>, today: NaiveDate) -> bool {
    let Some(until) = fields.valid_until.filter(|until| *until < today) else {
        return false;
    };
    let Some(old) = old else {
        return true;
    };
    let yesterday = today.pred_opt().unwrap_or(NaiveDate::MIN);
    let ran_until_yesterday =
        old.valid_from <= yesterday && old.valid_until.is_none_or(|old_until| old_until >= yesterday);
    let unchanged = old.valid_until == Some(until);
    !(unchanged || (until == yesterday && ran_until_yesterday))
}

/// [`until_in_the_past`] as a refusal naming `valid_until`.
///
/// # Errors
/// `Invalid` naming `valid_until`.
pub(crate) fn check_until(fields: &RuleFields, old: Option<&HoursRule>, today: NaiveDate) -> Result<(), ServiceError> {
    if until_in_the_past(fields, old, today) {
        return Err(RuleProblem::UntilInThePast.into_error());
    }
    Ok(())
}

/// The domain rule the fields describe, or the first field that is wrong.
///
/// # Errors
/// `Invalid` naming the field (see [`RuleProblem::field`]).
pub(crate) fn validate_rule(fields: &RuleFields) -> Result<WeeklyRule, ServiceError> {
    if let Some(problem) = rule_problems(fields).into_iter().next() {
        return Err(problem.into_error());
    }
    let probe = HoursRule {
        id: RuleId::new(0),
        unit_id: fields.unit_id,
        counsellor_id: fields.counsellor_id,
        weekday: fields.weekday,
        start_local: fields.start_local,
        end_local: fields.end_local,
        slot_minutes: fields.slot_minutes,
        buffer_minutes: fields.buffer_minutes,
        capacity: fields.capacity,
        valid_from: fields.valid_from,
        valid_until: fields.valid_until,
        updated_at: DateTime::UNIX_EPOCH,
    };
    weekly_rule(&probe)
}

/// Longest reason of an absence or closure.
pub const PERIOD_REASON_CHARS: usize = 200;

/// The reason of an absence or closure, trimmed: 1 to [`PERIOD_REASON_CHARS`] characters on one
/// line (it is shown in lists and in the desk's refusals), for the API and the pages alike.
///
/// # Errors
/// `Invalid` naming `reason`.
pub(crate) fn period_reason(reason: &str) -> Result<&str, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > PERIOD_REASON_CHARS {
        return Err(ServiceError::invalid("reason", format!("must have 1 to {PERIOD_REASON_CHARS} characters")));
    }
    crate::domain::text::check_name(reason).map_err(|message| ServiceError::invalid("reason", message))?;
    // Invisible characters alone (a zero-width space) read as no reason in every list.
    if !reason.chars().any(char::is_alphanumeric) {
        return Err(ServiceError::invalid("reason", "needs a letter or digit"));
    }
    Ok(reason)
}

/// A span that has ended by `now` is refused: it blocks nothing, and no list of spans to come
/// would show it (one typed with a wrong year was saved as done and seen nowhere).
fn not_over(ends_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ServiceError> {
    if ends_at <= now { Err(ServiceError::Rule(Refusal::InThePast)) } else { Ok(()) }
}

pub(crate) fn check_range(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<(), ServiceError> {
    if ends_at <= starts_at {
        return Err(ServiceError::invalid("ends_at", "must be after the start"));
    }
    if ends_at - starts_at > TimeDelta::days(366) {
        return Err(ServiceError::invalid("ends_at", "may be at most a year after the start"));
    }
    Ok(())
}

/// How many stranded appointments a change lists at most, the soonest first (the rest are
/// counted).
pub const AFFECTED_LISTED: u64 = 500;

/// The booked appointments a change to the hours would strand (or has stranded).
#[derive(Debug, Clone, Default)]
pub struct Affected {
    /// The soonest of the unit's, at most [`AFFECTED_LISTED`].
    pub listed: Vec<Booking>,
    /// How many of the unit's in all.
    pub total: u64,
    /// An absence: how many of the counsellor's appointments in other units it strands too. Only
    /// counted: this unit's lead may not read other units' bookings (once the absence is
    /// recorded, those units' week views mark them).
    pub elsewhere: u64,
}

impl Affected {
    /// The unit's appointments in `all`, the soonest [`AFFECTED_LISTED`] listed.
    pub(crate) fn of(mut all: Vec<Booking>) -> Self {
        let total = all.len() as u64;
        all.truncate(usize::try_from(AFFECTED_LISTED).unwrap_or(usize::MAX));
        Self { listed: all, total, elsewhere: 0 }
    }

    /// How many of the unit's there are in all, when more than are listed.
    #[must_use]
    pub fn beyond(&self) -> Option<u64> {
        (self.total > self.listed.len() as u64).then_some(self.total)
    }

    /// Whether nothing is stranded, here or elsewhere.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total == 0 && self.elsewhere == 0
    }
}

/// The unit's booked appointments in `slots` (those a change of the hours, an absence or a
/// closure affected), read again for the page the change led to and recorded as shown;
/// `elsewhere` as the change counted it. With `counsellor` (an absence of that person), only
/// their appointments.
///
/// # Errors
/// `Forbidden` (leads, or for their own absence the person themselves; recorded).
pub async fn affected_again(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    slots: &[SlotId],
    elsewhere: u64,
    counsellor: Option<StaffId>,
) -> Result<Affected, ServiceError> {
    may_change(deps, actor, unit, counsellor, "hours.manage").await?;
    let mut listed = bookings::booked_in_slots(deps.db, slots).await?;
    listed.retain(|b| b.unit_id == unit.id && counsellor.is_none_or(|id| b.counsellor_id == id));
    affected_shown(deps, actor, unit, &listed).await?;
    Ok(Affected { total: listed.len() as u64, listed, elsewhere })
}

/// The booked appointments that `block` (a new absence or closure of `unit_id`) strands.
pub(crate) async fn active_bookings(deps: Book<'_>, unit_id: UnitId, block: Block) -> Result<Affected, ServiceError> {
    active_bookings_in(deps.db, unit_id, block).await
}

/// [`active_bookings`] read through `db` (the change's own transaction).
async fn active_bookings_in<C: sea_orm::ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    block: Block,
) -> Result<Affected, ServiceError> {
    let span = (block.starts_at, block.ends_at);
    let counsellor_id = match block.by {
        BlockedBy::Absence { staff_id } => Some(staff_id),
        BlockedBy::Closure { .. } | BlockedBy::Booking { .. } => None,
    };
    let (listed, total) =
        bookings::booked_overlapping(db, InUnits::Only(unit_id), counsellor_id, span, AFFECTED_LISTED).await?;
    // An absence is the person's, in every unit they counsel in.
    let elsewhere = match counsellor_id {
        Some(staff_id) => bookings::booked_overlapping(db, InUnits::Except(unit_id), Some(staff_id), span, 0).await?.1,
        None => 0,
    };
    Ok(Affected { listed, total, elsewhere })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::ids::{StaffId, UnitId};
    use chrono::NaiveTime;

    fn fields() -> RuleFields {
        let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("time");
        RuleFields {
            unit_id: UnitId::new(1),
            counsellor_id: StaffId::new(3),
            weekday: 2,
            start_local: hm(9),
            end_local: hm(12),
            slot_minutes: 60,
            buffer_minutes: 0,
            capacity: 1,
            valid_from: day(1),
            valid_until: None,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    #[test]
    fn the_slot_length_is_refused_naming_the_limits_it_keeps_to() {
        let max = i32::try_from(MAX_APPOINTMENT_MINUTES).expect("small");
        let late = NaiveTime::from_hms_opt(23, 0, 0).expect("time");
        assert!(rule_problems(&RuleFields { slot_minutes: max, end_local: late, ..fields() }).is_empty());
        let too_long = RuleFields { slot_minutes: max + 1, ..fields() };
        let Err(ServiceError::Invalid { field, message }) = validate_rule(&too_long) else { panic!("accepted") };
        assert_eq!(field, "slot_minutes");
        assert_eq!(message, format!("must be between {MIN_APPOINTMENT_MINUTES} and {MAX_APPOINTMENT_MINUTES}"));
    }

    #[test]
    fn every_wrong_field_is_named_once_in_the_order_of_the_form() {
        let wrong = RuleFields { slot_minutes: 0, buffer_minutes: -5, capacity: 0, ..fields() };
        let named: Vec<_> = rule_problems(&wrong).iter().map(|p| p.field()).collect();
        assert_eq!(named, ["slot_minutes", "buffer_minutes", "capacity"]);
        let swapped = RuleFields { start_local: fields().end_local, end_local: fields().start_local, ..fields() };
        assert_eq!(rule_problems(&swapped), [RuleProblem::Hours(RuleFault::EndNotAfterStart)]);
        let before = RuleFields { valid_until: Some(day(1).pred_opt().expect("day")), ..fields() };
        assert_eq!(rule_problems(&before).iter().map(|p| p.field()).collect::<Vec<_>>(), ["valid_until"]);
    }

    #[test]
    fn hours_valid_only_in_the_past_are_refused_unless_ending_running_hours_or_left_as_they_were() {
        let today = day(7);
        let past = RuleFields { valid_from: day(1), valid_until: Some(day(5)), ..fields() };
        assert!(until_in_the_past(&past, None, today), "new hours that ended before today");
        assert!(!until_in_the_past(&RuleFields { valid_until: Some(today), ..past.clone() }, None, today), "today");
        let stored = |until: Option<NaiveDate>| HoursRule {
            id: RuleId::new(7),
            unit_id: past.unit_id,
            counsellor_id: past.counsellor_id,
            weekday: 2,
            start_local: past.start_local,
            end_local: past.end_local,
            slot_minutes: 60,
            buffer_minutes: 0,
            capacity: 1,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            valid_until: until,
            updated_at: DateTime::UNIX_EPOCH,
        };
        let running = stored(None);
        let yesterday = RuleFields { valid_until: Some(day(6)), ..past.clone() };
        assert!(!until_in_the_past(&yesterday, Some(&running), today), "running hours ended yesterday");
        assert!(until_in_the_past(&past, Some(&running), today), "nor ended days ago");
        assert!(until_in_the_past(&yesterday, None, today), "new hours until yesterday");
        let ended = stored(Some(day(5)));
        assert!(!until_in_the_past(&past, Some(&ended), today), "an end in the past left as it was");
        assert!(until_in_the_past(&yesterday, Some(&ended), today), "ended hours are not lengthened into the past");
    }
}
