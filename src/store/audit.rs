//! The audit log: denials and changes to sensitive data.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

use super::StoreError;

/// Appends one audit entry.
///
/// # Errors
/// Database failures.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    actor_id: Option<i32>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    audit_event::ActiveModel {
        at: Set(at),
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        target: Set(target.to_owned()),
        detail: Set(detail.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
