//! A unit's retention of personal data, set by admins.

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::ids::UnitId;
use crate::domain::missing::Missing;
use crate::domain::records::Unit;
use crate::services::ServiceError;
use crate::services::audit::{self, AuditAction, AuditEntry};
use crate::store;

/// Sets how many days `unit` keeps its bookings' personal data (admins only); audited with the
/// old and new value. `seen` is the unit's version as the caller read it: when given and the unit
/// changed since (another admin saved meanwhile), nothing is written.
///
/// # Errors
/// `Forbidden`, `Invalid { field: "retention_days" }`, `NotFound`,
/// `Conflict { clash: Clash::ConcurrentUpdate, .. }` (changed since `seen`).
pub async fn set_retention_days(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    unit: &Unit,
    days: i32,
    seen: Option<i32>,
) -> Result<Unit, ServiceError> {
    crate::services::directory::require_admin(db, clock, actor, "unit.change").await?;
    crate::domain::retention::check_days(days).map_err(|message| ServiceError::invalid("retention_days", message))?;
    let txn = store::begin_write(db).await?;
    let written = store::retention::set_retention_days(&txn, unit.id, days, clock.now(), seen).await?;
    let (before, version) = ServiceError::unless_stale(written, Missing::Unit)?;
    let entry = AuditEntry::by(actor, AuditAction::UnitChanged)
        .unit(unit.id)
        .detail(serde_json::json!({ "retention_days": { "old": before, "new": days } }));
    audit::record(&txn, clock, entry).await?;
    txn.commit().await?;
    Ok(Unit { retention_days: days, version, ..unit.clone() })
}

/// A unit's retention changed by [`keep_the_shorter_after_restore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortened {
    pub unit_id: UnitId,
    pub restored: i32,
    pub replaced: i32,
}

/// After a restore: each unit keeps the shorter of its retention in the restored database (`db`)
/// and in the replaced one (`replaced`: unit id and days, as [`store::retention::unit_retention`]
/// reads them). A retention shortened after the backup, whose runs erased what it no longer
/// allowed, would otherwise come back with the backup and keep the restored personal data longer
/// than either database said. One transaction, each change audited by the service
/// (`unit_changed`, `"after_restore": true`). A longer retention set after the backup is not
/// carried: the restore says so, and an admin sets it again.
///
/// # Errors
/// Database failures (nothing is changed then).
pub async fn keep_the_shorter_after_restore(
    db: &DatabaseConnection,
    clock: &Clock,
    replaced: &[(i32, i32)],
) -> Result<Vec<Shortened>, ServiceError> {
    let txn = store::begin_write(db).await?;
    let mut shortened = Vec::new();
    for (id, restored) in store::retention::unit_retention(&txn).await? {
        let Some(&(_, days)) = replaced.iter().find(|(unit, _)| *unit == id) else { continue };
        if days >= restored {
            continue;
        }
        let unit_id = UnitId::new(id);
        store::retention::set_retention_days(&txn, unit_id, days, clock.now(), None).await?;
        let entry = AuditEntry::system(AuditAction::UnitChanged).unit(unit_id).detail(serde_json::json!({
            "retention_days": { "old": restored, "new": days },
            "after_restore": true,
        }));
        audit::record(&txn, clock, entry).await?;
        shortened.push(Shortened { unit_id, restored, replaced: days });
    }
    txn.commit().await?;
    Ok(shortened)
}
