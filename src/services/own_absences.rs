//! A counsellor's own absences: the units they counsel in, their absences from now on, and the
//! removal of one of them. Recording one is `hours::add_absence`, which lets the person record
//! their own.

use super::ServiceError;
use super::access::deny;
use super::bookings::Book;
use super::hours;
use crate::domain::access::Actor;
use crate::domain::ids::AbsenceId;
use crate::domain::missing::Missing;
use crate::domain::records::{Absence, Unit};
use crate::store::{directory, schedule};

/// What a refusal records as attempted.
const ATTEMPT: &str = "absence.own";

/// The units the actor counsels in, by name: where their absences keep appointments from being
/// booked.
///
/// # Errors
/// `Forbidden` (recorded) for someone who counsels nowhere.
pub async fn units(deps: Book<'_>, actor: &Actor) -> Result<Vec<Unit>, ServiceError> {
    let units: Vec<Unit> =
        directory::list_units(deps.db, None).await?.into_iter().filter(|u| actor.counsels_in(u.id)).collect();
    if units.is_empty() {
        deny(deps.db, deps.clock, actor, ATTEMPT, "units").await?;
    }
    Ok(units)
}

/// A unit the actor counsels in, by slug or id.
///
/// # Errors
/// `NotFound`, `Forbidden` (recorded) for a unit they do not counsel in.
pub async fn unit(deps: Book<'_>, actor: &Actor, key: &str) -> Result<Unit, ServiceError> {
    let unit = super::directory::find_unit(deps.db, key).await?;
    if !actor.counsels_in(unit.id) {
        deny(deps.db, deps.clock, actor, ATTEMPT, &format!("unit:{}", unit.id)).await?;
    }
    Ok(unit)
}

/// The actor's absences that have not ended yet, the soonest first (with their reasons: they
/// are the person's own).
///
/// # Errors
/// Database failures.
pub async fn list(deps: Book<'_>, actor: &Actor) -> Result<Vec<Absence>, ServiceError> {
    Ok(schedule::absences_of_from(deps.db, actor.staff_id(), deps.clock.now()).await?)
}

/// Removes one of the actor's own absences (audited `absence_removed`, under the first unit they
/// counsel in: an absence is the person's, in all their units).
///
/// # Errors
/// `Forbidden` (recorded) for someone who counsels nowhere, `NotFound` for an absence of someone
/// else (nothing is removed).
pub async fn delete(deps: Book<'_>, actor: &Actor, id: AbsenceId) -> Result<(), ServiceError> {
    let (unit, _) = own_absence(deps, actor, id).await?;
    hours::delete_absence(deps, actor, &unit, id).await
}

/// One of the actor's own absences (to be named before it is removed), with the first unit they
/// counsel in (under which its removal is audited).
///
/// # Errors
/// `Forbidden` (recorded) for someone who counsels nowhere, `NotFound` for an absence of someone
/// else or one removed before.
pub async fn own_absence(deps: Book<'_>, actor: &Actor, id: AbsenceId) -> Result<(Unit, Absence), ServiceError> {
    let units = units(deps, actor).await?;
    let absence = schedule::find_absence(deps.db, id).await?.filter(|a| a.staff_id == actor.staff_id());
    match (units.into_iter().next(), absence) {
        (Some(unit), Some(absence)) => Ok((unit, absence)),
        _ => Err(ServiceError::not_found(Missing::Absence)),
    }
}
