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

/// The unit's settings (for anyone who works in it, and admins).
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn self_service(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    unit: &Unit,
) -> Result<SelfService, ServiceError> {
    if !actor.can_work_in(unit.id) {
        access::deny(db, clock, actor, "unit.self_service.read", &format!("unit:{}", unit.id)).await?;
    }
    citizen_links::settings(db, unit.id).await?.ok_or_else(|| ServiceError::not_found(Missing::Unit))
}

/// Replaces the unit's settings (admins only), recording old and new values.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid` (naming the field out of range).
pub async fn set_self_service(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    unit: &Unit,
    new: SelfService,
) -> Result<SelfService, ServiceError> {
    if !actor.is_admin() {
        access::deny(db, clock, actor, "unit.self_service.change", &format!("unit:{}", unit.id)).await?;
    }
    new.check().map_err(|field| ServiceError::invalid(field, "out of range"))?;
    let txn = crate::store::begin_write(db).await?;
    let old = citizen_links::settings_for_update(&txn, unit.id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    citizen_links::set_settings(&txn, unit.id, new).await?;
    let entry = AuditEntry::by(actor, AuditAction::UnitSelfServiceChanged)
        .unit(unit.id)
        .detail(serde_json::json!({ "old": old, "new": new }));
    audit::record(&txn, clock, entry).await?;
    txn.commit().await?;
    Ok(new)
}
