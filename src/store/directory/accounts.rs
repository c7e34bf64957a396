//! Account state of staff: active or not, the session epoch, passwords, last login, and the
//! account views (with second factor and last login) built from them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{staff, staff_totp};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::super::StoreError;
use super::staff::{find_staff, find_staff_meant, list_staff, memberships_of};
use crate::domain::access::Actor;
use crate::domain::accounts::{SessionAccount, StaffAccount};
use crate::domain::ids::StaffId;
use crate::domain::records::StaffMember;

/// Activates or deactivates a staff member; deactivating also bumps the session epoch, which
/// ends every web session of the person. Returns whether anything changed.
///
/// # Errors
/// Database failures.
pub async fn set_active<C: ConnectionTrait>(db: &C, staff_id: StaffId, active: bool) -> Result<bool, StoreError> {
    let mut update = staff::Entity::update_many().col_expr(staff::Column::Active, Expr::value(active));
    if !active {
        update = update.col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1));
    }
    let result =
        update.filter(staff::Column::Id.eq(staff_id)).filter(staff::Column::Active.eq(!active)).exec(db).await?;
    Ok(result.rows_affected > 0)
}

/// Ends every web session of the person (their session epoch moves on). Returns the new epoch.
///
/// # Errors
/// Database failures.
pub async fn bump_epoch<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<i32, StoreError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(db)
        .await?;
    epoch_of(db, staff_id).await
}

/// The person's session epoch (read in the transaction that moved it on, or that holds the row).
pub async fn epoch_of<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<i32, StoreError> {
    let epoch: Option<i32> = staff::Entity::find_by_id(staff_id)
        .select_only()
        .column(staff::Column::SessionEpoch)
        .into_tuple()
        .one(db)
        .await?;
    Ok(epoch.unwrap_or_default())
}

/// Replaces the password hash, records whether its holder must change it, and ends every web
/// session of the person. Returns the new session epoch.
///
/// # Errors
/// Database failures.
pub async fn set_password<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    hash: String,
    must_change: bool,
) -> Result<i32, StoreError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(hash))
        .col_expr(staff::Column::MustChangePassword, Expr::value(must_change))
        .col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(db)
        .await?;
    epoch_of(db, staff_id).await
}

/// Asks the person to choose a new password at their next login (their password stays valid
/// until then).
///
/// # Errors
/// Database failures.
pub async fn require_password_change<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<(), StoreError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::MustChangePassword, Expr::value(true))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the password away (no password then matches) and ends every web session of the
/// person: a reset link made after a suspected compromise is then the only way back in.
///
/// # Errors
/// Database failures.
pub async fn clear_password<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<(), StoreError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(Option::<String>::None))
        .col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Notes a completed login.
///
/// # Errors
/// Database failures.
pub async fn record_login<C: ConnectionTrait>(db: &C, staff_id: StaffId, at: DateTime<Utc>) -> Result<(), StoreError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::LastLoginAt, Expr::value(at))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The account state a page request checks, for an active staff member.
///
/// # Errors
/// Database failures.
pub async fn session_account<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
) -> Result<Option<SessionAccount>, StoreError> {
    let Some(row) = staff::Entity::find_by_id(staff_id).one(db).await?.filter(|s| s.active) else {
        return Ok(None);
    };
    let memberships = memberships_of(db, StaffId::new(row.id)).await?;
    let mfa_enabled = staff_totp::Entity::find_by_id(row.id).one(db).await?.is_some();
    Ok(Some(SessionAccount {
        epoch: row.session_epoch,
        must_change_password: row.must_change_password,
        mfa_enabled,
        actor: Actor::new(StaffId::new(row.id), row.login, row.is_admin, memberships),
    }))
}

/// Every staff member with second factor and last login, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_accounts<C: ConnectionTrait>(db: &C) -> Result<Vec<StaffAccount>, StoreError> {
    let members = list_staff(db).await?;
    let with_mfa: HashSet<i32> = staff_totp::Entity::find()
        .select_only()
        .column(staff_totp::Column::StaffId)
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let last_logins: Vec<(i32, Option<DateTime<Utc>>)> = staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .column(staff::Column::LastLoginAt)
        .into_tuple()
        .all(db)
        .await?;
    let last_logins: std::collections::HashMap<i32, Option<DateTime<Utc>>> = last_logins.into_iter().collect();
    Ok(members
        .into_iter()
        .map(|member| StaffAccount {
            mfa_enabled: with_mfa.contains(&member.id.get()),
            last_login_at: last_logins.get(&member.id.get()).copied().flatten(),
            member,
        })
        .collect())
}

/// One staff member's account by login.
///
/// # Errors
/// Database failures.
pub async fn find_account<C: ConnectionTrait>(db: &C, login: &str) -> Result<Option<StaffAccount>, StoreError> {
    let Some(member) = find_staff_meant(db, login).await? else {
        return Ok(None);
    };
    account_of(db, member).await.map(Some)
}

/// One staff member's account by id.
///
/// # Errors
/// Database failures.
pub async fn find_account_by_id<C: ConnectionTrait>(db: &C, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
    let Some(member) = find_staff(db, id).await? else {
        return Ok(None);
    };
    account_of(db, member).await.map(Some)
}

async fn account_of<C: ConnectionTrait>(db: &C, member: StaffMember) -> Result<StaffAccount, StoreError> {
    let mfa_enabled = staff_totp::Entity::find_by_id(member.id).one(db).await?.is_some();
    let last_login_at: Option<Option<DateTime<Utc>>> = staff::Entity::find_by_id(member.id)
        .select_only()
        .column(staff::Column::LastLoginAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(StaffAccount { member, mfa_enabled, last_login_at: last_login_at.flatten() })
}
