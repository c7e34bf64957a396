//! Refusals: every denied access is logged and written to the audit log before it is refused.

use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use crate::clock::Clock;
use crate::domain::access::Actor;

/// Records a denied access in the audit log and the service log, then refuses. `action` names
/// what was attempted (`booking.read`); `target` is `unit:<id>`, `booking:<id>` or another object.
///
/// # Errors
/// Always `Forbidden` (or a database failure while recording it).
pub async fn deny(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    action: &str,
    target: &str,
) -> Result<(), ServiceError> {
    tracing::warn!(actor = actor.staff_id().get(), action, target, "access denied");
    let entry = AuditEntry::by(actor, AuditAction::AccessDenied).detail(serde_json::json!({ "attempted": action }));
    audit::record(db, clock, about(entry, target)).await?;
    Err(ServiceError::Forbidden)
}

/// The entry with the unit or booking `target` names in their fields, else `target` as is.
fn about(entry: AuditEntry, target: &str) -> AuditEntry {
    if let Some(unit_id) = target.strip_prefix("unit:").and_then(|id| id.parse().ok()) {
        return entry.unit(unit_id);
    }
    if let Some(booking_id) = target.strip_prefix("booking:").and_then(|id| uuid::Uuid::parse_str(id).ok()) {
        return entry.bookings([booking_id]);
    }
    entry.target(target)
}
