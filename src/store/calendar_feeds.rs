//! Counsellors' calendar subscriptions: one per staff member, found by the hash of its secret.

use chrono::{DateTime, TimeDelta, Utc};
use entity::calendar_feed;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;
use crate::domain::ids::StaffId;

/// A subscription as its owner sees it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub id: i32,
    pub staff_id: StaffId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The API token it was made with, if any: it ends with that token.
    pub token_id: Option<i32>,
}

/// How stale `last_used_at` may get before a fetch writes it again (calendar programs poll
/// every few minutes; one write an hour is enough to tell whether a feed is in use).
const TOUCH_EVERY: TimeDelta = TimeDelta::hours(1);

/// Replaces the staff member's subscription (if any) by one with `secret_hash`, made with the
/// API token `token_id` (`None`: on the pages).
///
/// # Errors
/// Database failures.
pub async fn replace<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    secret_hash: String,
    now: DateTime<Utc>,
    token_id: Option<i32>,
) -> Result<Feed, StoreError> {
    delete_for_staff(db, staff_id).await?;
    let row = calendar_feed::ActiveModel {
        staff_id: Set(staff_id.get()),
        secret_hash: Set(secret_hash),
        created_at: Set(now),
        last_used_at: Set(None),
        token_id: Set(token_id),
        ..Default::default()
    };
    Ok(feed(row.insert(db).await?))
}

/// # Errors
/// Database failures.
pub async fn of_staff<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<Option<Feed>, StoreError> {
    let row = calendar_feed::Entity::find().filter(calendar_feed::Column::StaffId.eq(staff_id)).one(db).await?;
    Ok(row.map(feed))
}

/// # Errors
/// Database failures.
pub async fn find_by_hash<C: ConnectionTrait>(db: &C, secret_hash: &str) -> Result<Option<Feed>, StoreError> {
    let row = calendar_feed::Entity::find().filter(calendar_feed::Column::SecretHash.eq(secret_hash)).one(db).await?;
    Ok(row.map(feed))
}

/// Revokes the staff member's subscription; returns whether there was one.
///
/// # Errors
/// Database failures.
pub async fn delete_for_staff<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<bool, StoreError> {
    let result =
        calendar_feed::Entity::delete_many().filter(calendar_feed::Column::StaffId.eq(staff_id)).exec(db).await?;
    Ok(result.rows_affected > 0)
}

/// Records a fetch, at most once an hour.
///
/// # Errors
/// Database failures.
pub async fn touch<C: ConnectionTrait>(db: &C, id: i32, now: DateTime<Utc>) -> Result<(), StoreError> {
    calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::LastUsedAt, Expr::value(now))
        .filter(calendar_feed::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(calendar_feed::Column::LastUsedAt.is_null())
                .add(calendar_feed::Column::LastUsedAt.lt(now - TOUCH_EVERY)),
        )
        .exec(db)
        .await?;
    Ok(())
}

fn feed(row: calendar_feed::Model) -> Feed {
    Feed {
        id: row.id,
        staff_id: StaffId::new(row.staff_id),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        token_id: row.token_id,
    }
}
