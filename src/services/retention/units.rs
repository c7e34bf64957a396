//! A unit's retention of personal data, set by admins.

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::missing::Missing;
use crate::domain::records::Unit;
use crate::services::ServiceError;
use crate::services::audit::{self, AuditAction, AuditEntry};
use crate::store;

/// Sets how many days `unit` keeps its bookings' personal data (admins only); audited with the
/// old and new value.
///
/// # Errors
/// `Forbidden`, `Invalid { field: "retention_days" }`, `NotFound`.
pub async fn set_retention_days(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    unit: &Unit,
    days: i32,
) -> Result<Unit, ServiceError> {
    crate::services::directory::require_admin(db, clock, actor, "unit.change").await?;
    crate::domain::retention::check_days(days).map_err(|message| ServiceError::invalid("retention_days", message))?;
    let txn = store::begin_write(db).await?;
    let before = store::retention::set_retention_days(&txn, unit.id, days, clock.now())
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    let entry = AuditEntry::by(actor, AuditAction::UnitChanged)
        .unit(unit.id)
        .detail(serde_json::json!({ "retention_days": { "old": before, "new": days } }));
    audit::record(&txn, clock, entry).await?;
    txn.commit().await?;
    Ok(Unit { retention_days: days, ..unit.clone() })
}
