//! Refusals: every denied access is logged and written to the audit log before it is refused.

use sea_orm::DatabaseConnection;

use super::ServiceError;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::store::audit;

/// Records a denied access in the audit log and the service log, then refuses.
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
    tracing::warn!(actor = actor.staff_id(), action, target, "access denied");
    audit::record(db, clock.now(), Some(actor.staff_id()), &format!("denied:{action}"), target, "{}").await?;
    Err(ServiceError::Forbidden)
}
