//! What `GET /metrics` reports of the database: the outbox's backlog and age, and the pool.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::ServiceError;
use crate::domain::outbox::DeliveryState;
use crate::store::monitoring;
use crate::telemetry::metrics::Snapshot;

/// Reads the database's state for the metrics at `now`.
///
/// # Errors
/// Database failures.
pub async fn snapshot(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Snapshot, ServiceError> {
    let backlog = monitoring::outbox_backlog(db).await?;
    let oldest = monitoring::oldest_pending(db).await?;
    let (pool_in_use, pool_idle) = monitoring::pool_connections(db);
    let outbox = backlog.into_iter().map(|(state, count)| (state_label(state), count)).collect();
    let oldest_queued_age_secs = oldest.map_or(0.0, |at| (now - at).num_milliseconds().max(0) as f64 / 1000.0);
    Ok(Snapshot { outbox, oldest_queued_age_secs, pool_in_use, pool_idle })
}

fn state_label(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Queued => "queued",
        DeliveryState::Retrying => "retrying",
        DeliveryState::Sent => "sent",
        DeliveryState::Failed => "failed",
        DeliveryState::Skipped => "skipped",
    }
}
