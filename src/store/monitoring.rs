//! What operators watch of the database: the outbox's backlog and the pool's connections.

use chrono::{DateTime, Utc};
use entity::outbox_message::{self, DeliveryState as StateRow};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::StoreError;
use crate::domain::outbox::DeliveryState;

/// The states an email waits in or ends in without being delivered (the sent and skipped ones
/// are history and only grow).
const BACKLOG: [DeliveryState; 3] = [DeliveryState::Queued, DeliveryState::Retrying, DeliveryState::Failed];

/// How many emails are in each of the states queued, retrying and failed (0 for an empty one).
///
/// # Errors
/// Database failures.
pub async fn outbox_backlog(db: &DatabaseConnection) -> Result<Vec<(DeliveryState, u64)>, StoreError> {
    let rows: Vec<(StateRow, i64)> = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::State)
        .column_as(Expr::from(Func::count(Expr::col(outbox_message::Column::Id))), "count")
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying, StateRow::Failed]))
        .group_by(outbox_message::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    Ok(BACKLOG
        .iter()
        .map(|state| {
            let count = rows.iter().find(|(row, _)| same(*state, row)).map_or(0, |(_, n)| *n);
            (*state, u64::try_from(count).unwrap_or(0))
        })
        .collect())
}

fn same(state: DeliveryState, row: &StateRow) -> bool {
    matches!(
        (state, row),
        (DeliveryState::Queued, StateRow::Queued)
            | (DeliveryState::Retrying, StateRow::Retrying)
            | (DeliveryState::Failed, StateRow::Failed)
    )
}

/// When the oldest email still to be sent (queued or retrying) was queued.
///
/// # Errors
/// Database failures.
pub async fn oldest_pending(db: &DatabaseConnection) -> Result<Option<DateTime<Utc>>, StoreError> {
    let oldest: Option<Option<DateTime<Utc>>> = outbox_message::Entity::find()
        .select_only()
        .column_as(Expr::from(Func::min(Expr::col(outbox_message::Column::CreatedAt))), "oldest")
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying]))
        .into_tuple()
        .one(db)
        .await?;
    Ok(oldest.flatten())
}

/// The pool's connections: `(in use, idle)`.
pub fn pool_connections(db: &DatabaseConnection) -> (u64, u64) {
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u64::try_from(idle).unwrap_or(u64::MAX);
    (u64::from(size).saturating_sub(idle), idle)
}
