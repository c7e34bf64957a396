//! One-time password reset links, stored as SHA-256 hashes of their tokens.

use chrono::{DateTime, Utc};
use entity::password_reset;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;
use crate::domain::ids::StaffId;

/// A new reset link's hash and who made it.
pub struct NewReset {
    pub staff_id: StaffId,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<StaffId>,
}

/// Stores a reset link and voids the person's earlier unused ones (only the newest link works).
///
/// # Errors
/// Database failures.
pub async fn insert_reset<C: ConnectionTrait>(db: &C, new: NewReset) -> Result<(), StoreError> {
    void_unused(db, new.staff_id, new.created_at).await?;
    password_reset::ActiveModel {
        staff_id: Set(new.staff_id.get()),
        token_hash: Set(new.token_hash),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        created_by: Set(new.created_by.map(i32::from)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks every unused, unexpired link of a staff member as used at `at` (they stop working);
/// returns how many there were.
///
/// # Errors
/// Database failures.
pub async fn void_unused<C: ConnectionTrait>(db: &C, staff_id: StaffId, at: DateTime<Utc>) -> Result<u64, StoreError> {
    let result = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(at))
        .filter(password_reset::Column::StaffId.eq(staff_id))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(at))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The id and staff member of the unused, unexpired link with this hash.
///
/// # Errors
/// Database failures.
pub async fn find_live_reset<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i32, i32)>, StoreError> {
    let row = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(token_hash))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(row.map(|row| (row.id, row.staff_id)))
}

/// Uses up the link if it is still unused and unexpired (one statement, so two requests with the
/// same link cannot both succeed); returns whether it was.
///
/// # Errors
/// Database failures.
pub async fn consume_reset<C: ConnectionTrait>(db: &C, id: i32, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let result = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::Id.eq(id))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
