//! Second factors: TOTP secrets with the last accepted time step (wrong codes are counted by the
//! login throttle's store, `store::throttle`), and one-time recovery codes (SHA-256 hashes). Every "use once" is one conditional statement,
//! so two requests with the same code cannot both succeed.

use chrono::{DateTime, Utc};
use entity::{recovery_code, staff_totp};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use super::StoreError;
use crate::domain::accounts::TotpFactor;
use crate::domain::ids::StaffId;

/// # Errors
/// Database failures.
pub async fn find_totp<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<Option<TotpFactor>, StoreError> {
    let row = staff_totp::Entity::find_by_id(staff_id).one(db).await?;
    Ok(row.map(|row| TotpFactor { secret: row.secret, last_step: row.last_step }))
}

/// Stores a confirmed TOTP secret, the step of the confirming code counting as used.
///
/// # Errors
/// `Duplicate` when the person has one already.
pub async fn insert_totp<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    secret: &str,
    used_step: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    staff_totp::ActiveModel {
        staff_id: Set(staff_id.get()),
        secret: Set(secret.to_owned()),
        enabled_at: Set(now),
        last_step: Set(Some(used_step)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Removes a person's second factor and recovery codes; returns whether there was one.
///
/// # Errors
/// Database failures.
pub async fn delete_second_factor<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<bool, StoreError> {
    recovery_code::Entity::delete_many().filter(recovery_code::Column::StaffId.eq(staff_id)).exec(db).await?;
    let deleted = staff_totp::Entity::delete_by_id(staff_id).exec(db).await?;
    Ok(deleted.rows_affected > 0)
}

/// Accepts the code of time step `step` unless that step or a later one was accepted before;
/// returns whether it was accepted.
///
/// # Errors
/// Database failures.
pub async fn accept_step<C: ConnectionTrait>(db: &C, staff_id: StaffId, step: i64) -> Result<bool, StoreError> {
    let result = staff_totp::Entity::update_many()
        .col_expr(staff_totp::Column::LastStep, Expr::value(step))
        .filter(staff_totp::Column::StaffId.eq(staff_id))
        .filter(Condition::any().add(staff_totp::Column::LastStep.is_null()).add(staff_totp::Column::LastStep.lt(step)))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Replaces a person's recovery codes with these hashes.
///
/// # Errors
/// Database failures.
pub async fn replace_recovery_codes<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    hashes: &[String],
) -> Result<(), StoreError> {
    recovery_code::Entity::delete_many().filter(recovery_code::Column::StaffId.eq(staff_id)).exec(db).await?;
    let rows = hashes.iter().map(|hash| recovery_code::ActiveModel {
        staff_id: Set(staff_id.get()),
        code_hash: Set(hash.clone()),
        used_at: Set(None),
        ..Default::default()
    });
    recovery_code::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// Uses up the unused recovery code with this hash; returns whether there was one.
///
/// # Errors
/// Database failures.
pub async fn use_recovery_code<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .filter(recovery_code::Column::StaffId.eq(staff_id))
        .filter(recovery_code::Column::CodeHash.eq(hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// How many unused recovery codes a person has.
///
/// # Errors
/// Database failures.
pub async fn recovery_codes_left<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<u64, StoreError> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::StaffId.eq(staff_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}
