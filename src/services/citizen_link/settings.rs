//! A unit's self-service settings: read by staff of the unit, changed by admins (audited).

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::citizen_link::SelfService;
use crate::domain::missing::Missing;
use crate::domain::records::Unit;
use crate::services::{ServiceError, access, audit};
use crate::store::citizen_links;

/// A unit's self-service settings as read, with the unit's version that a change made from them
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionedSettings {
    pub settings: SelfService,
    pub version: i32,
}

/// The unit's settings (for anyone who works in it, and admins).
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn self_service(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    unit: &Unit,
) -> Result<VersionedSettings, ServiceError> {
    if !actor.can_work_in(unit.id) {
        access::deny(db, clock, actor, "unit.self_service.read", &format!("unit:{}", unit.id)).await?;
    }
    let (settings, version) = citizen_links::settings_and_version(db, unit.id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    Ok(VersionedSettings { settings, version })
}

/// Replaces the unit's settings (admins only), recording old and new values. `seen` is the unit's
/// version as the caller read it: when given and the unit changed since (another admin saved
/// meanwhile), nothing is written.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid` (naming the field out of range),
/// `Conflict { clash: Clash::ConcurrentUpdate, .. }` (changed since `seen`).
pub async fn set_self_service(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    unit: &Unit,
    new: SelfService,
    seen: Option<i32>,
) -> Result<VersionedSettings, ServiceError> {
    if !actor.is_admin() {
        access::deny(db, clock, actor, "unit.self_service.change", &format!("unit:{}", unit.id)).await?;
    }
    new.check().map_err(|field| ServiceError::invalid(field, "out of range"))?;
    let txn = crate::store::begin_write(db).await?;
    let (old, _) = citizen_links::settings_for_update(&txn, unit.id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    // Written only to the version `seen` (the UPDATE's own condition, not this read's).
    let version =
        ServiceError::unless_stale(citizen_links::set_settings(&txn, unit.id, new, seen).await?, Missing::Unit)?;
    let entry = AuditEntry::by(actor, AuditAction::UnitSelfServiceChanged)
        .unit(unit.id)
        .detail(serde_json::json!({ "old": old, "new": new }));
    audit::record(&txn, clock, entry).await?;
    txn.commit().await?;
    Ok(VersionedSettings { settings: new, version })
}
