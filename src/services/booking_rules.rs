//! Who may override a booking rule, and the rule that ad-hoc times lie within the unit's
//! counselling hours. An override (a holiday, closure, absence, past time or a time outside the
//! counselling hours, booked anyway with a reason) is for the unit's leads and admins only.

use chrono_tz::Tz;
use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::access::deny;
use super::bookings::{Book, Target};
use super::schedule::weekly_rule;
use crate::domain::access::Actor;
use crate::domain::clash::Reserved;
use crate::domain::hours_window::within_counselling_hours;
use crate::domain::ids::UnitId;
use crate::domain::missing::Missing;
use crate::domain::refusal::Refusal;
use crate::domain::time::TimeSlot;
use crate::store::{schedule, slots};

/// Refuses (and records the refusal in the audit) an override by someone who does not lead the
/// unit of `target`.
///
/// # Errors
/// `NotPermitted(Reserved::RuleOverride)`; `NotFound` for an unknown slot.
pub(super) async fn ensure_may_override(deps: Book<'_>, actor: &Actor, target: Target) -> Result<(), ServiceError> {
    let unit_id = match target {
        Target::Slot(id) => {
            slots::find(deps.db, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Slot))?.unit_id
        }
        Target::Adhoc { unit_id, .. } => unit_id,
    };
    if actor.can_lead(unit_id) {
        return Ok(());
    }
    match deny(deps.db, deps.clock, actor, "booking.override", &format!("unit:{unit_id}")).await {
        Ok(()) | Err(ServiceError::Forbidden) => Err(ServiceError::NotPermitted(Reserved::RuleOverride)),
        Err(other) => Err(other),
    }
}

/// Refuses an ad-hoc time that does not lie within the unit's counselling hours of its day.
///
/// # Errors
/// `Rule(Refusal::OutsideHours)`; database failures.
pub(super) async fn check_within_hours<C: ConnectionTrait>(
    db: &C,
    tz: Tz,
    unit_id: UnitId,
    time: TimeSlot,
) -> Result<(), ServiceError> {
    let rules = schedule::list_rules(db, unit_id).await?.iter().map(weekly_rule).collect::<Result<Vec<_>, _>>()?;
    let start = time.starts_at().with_timezone(&tz).naive_local();
    let end = time.ends_at().with_timezone(&tz).naive_local();
    if within_counselling_hours(&rules, start, end) { Ok(()) } else { Err(ServiceError::Rule(Refusal::OutsideHours)) }
}
