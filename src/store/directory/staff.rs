//! Staff members: finding, adding and listing them with their memberships, and the actor a
//! login acts as.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{membership, staff};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::super::StoreError;
use super::{role_record, staff_record};
use crate::domain::access::{Actor, Role};
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::language::Language;
use crate::domain::records::StaffMember;

/// Fields of a new staff member.
pub struct NewStaff<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub languages: &'a [Language],
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

/// # Errors
/// Database failures.
pub async fn find_staff_by_login<C: ConnectionTrait>(db: &C, login: &str) -> Result<Option<StaffMember>, StoreError> {
    let Some(row) = staff::Entity::find().filter(staff::Column::Login.eq(login)).one(db).await? else {
        return Ok(None);
    };
    let memberships = memberships_of(db, StaffId::new(row.id)).await?;
    Ok(Some(staff_record(row, memberships)))
}

/// The person an admin or operator names by `login`: the login itself, else the one login that
/// differs from it only in case (`Mueller` for `mueller`), as a login takes it. Two logins that
/// differ only in case (made before such were refused) are each found only as written.
///
/// # Errors
/// Database failures.
pub async fn find_staff_meant<C: ConnectionTrait>(db: &C, login: &str) -> Result<Option<StaffMember>, StoreError> {
    if let Some(member) = find_staff_by_login(db, login).await? {
        return Ok(Some(member));
    }
    match logins_ignoring_case(db, login).await?.as_slice() {
        [only] => find_staff_by_login(db, only).await,
        _ => Ok(None),
    }
}

/// The stored login that equals `login` but for the case of its letters (logins are ASCII), if any.
///
/// # Errors
/// Database failures.
pub async fn find_login_ignoring_case<C: ConnectionTrait>(db: &C, login: &str) -> Result<Option<String>, StoreError> {
    Ok(logins_ignoring_case(db, login).await?.into_iter().next())
}

/// Until the transaction `db` ends, holds the turn to add a login that equals `login` but for its
/// case: on PostgreSQL a transaction-scoped advisory lock on the lower-case login, so two requests
/// adding `Mueller` and `mueller` at once check one after the other; on SQLite nothing (a write
/// transaction holds the whole database).
///
/// # Errors
/// Database failures.
pub async fn lock_login_ignoring_case<C: ConnectionTrait>(db: &C, login: &str) -> Result<(), StoreError> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // The first key names this lock's class ("tb_l"), so other advisory locks cannot collide.
    let sql = "SELECT pg_advisory_xact_lock(1952669548, hashtext($1))";
    let statement =
        sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, [login.to_ascii_lowercase().into()]);
    db.execute_raw(statement).await?;
    Ok(())
}

/// The stored logins that equal `login` but for the case of its letters, at most two: one names
/// the account meant; two (made before such near-duplicates were refused) name none.
///
/// # Errors
/// Database failures.
pub async fn logins_ignoring_case<C: ConnectionTrait>(db: &C, login: &str) -> Result<Vec<String>, StoreError> {
    let lower = Expr::expr(Func::lower(Expr::col(staff::Column::Login)));
    let found = staff::Entity::find()
        .select_only()
        .column(staff::Column::Login)
        .filter(ExprTrait::eq(lower, login.to_ascii_lowercase()))
        .limit(2)
        .into_tuple::<String>()
        .all(db)
        .await?;
    Ok(found)
}

/// The stored password hash of a staff member, active or not (a deactivated person's right
/// password is refused, and told apart in the audit, by the caller), with the member and the
/// session epoch read in the same row (a login checked against this hash carries this epoch).
///
/// # Errors
/// Database failures.
pub async fn find_login_credentials<C: ConnectionTrait>(
    db: &C,
    login: &str,
) -> Result<Option<(StaffMember, Option<String>, i32)>, StoreError> {
    let Some(row) = staff::Entity::find().filter(staff::Column::Login.eq(login)).one(db).await? else {
        return Ok(None);
    };
    let (hash, epoch) = (row.password_hash.clone(), row.session_epoch);
    let memberships = memberships_of(db, StaffId::new(row.id)).await?;
    Ok(Some((staff_record(row, memberships), hash, epoch)))
}

/// The stored password hash of an active staff member by id.
///
/// # Errors
/// Database failures.
pub async fn password_hash_of<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<Option<String>, StoreError> {
    let row = staff::Entity::find_by_id(staff_id).filter(staff::Column::Active.eq(true)).one(db).await?;
    Ok(row.and_then(|row| row.password_hash))
}

/// # Errors
/// Database failures.
pub async fn find_staff<C: ConnectionTrait>(db: &C, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
    let Some(row) = staff::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let memberships = memberships_of(db, StaffId::new(row.id)).await?;
    Ok(Some(staff_record(row, memberships)))
}

/// A staff member, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a SQLite write
/// transaction holds the whole database): a deactivation waits for what is made for them.
///
/// # Errors
/// Database failures.
pub async fn lock_staff<C: ConnectionTrait>(db: &C, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
    let Some(row) = staff::Entity::find_by_id(id).lock_exclusive().one(db).await? else {
        return Ok(None);
    };
    let memberships = memberships_of(db, StaffId::new(row.id)).await?;
    Ok(Some(staff_record(row, memberships)))
}

/// Inserts a staff member. `must_change_password` marks a password its holder did not choose.
///
/// # Errors
/// `Duplicate` when the login is taken.
pub async fn insert_staff<C: ConnectionTrait>(
    db: &C,
    new: NewStaff<'_>,
    now: DateTime<Utc>,
) -> Result<StaffMember, StoreError> {
    insert_staff_with(db, new, false, now).await
}

/// [`insert_staff`], marking whether the password must be changed at the first login.
///
/// # Errors
/// `Duplicate` when the login is taken.
pub async fn insert_staff_with<C: ConnectionTrait>(
    db: &C,
    new: NewStaff<'_>,
    must_change_password: bool,
    now: DateTime<Utc>,
) -> Result<StaffMember, StoreError> {
    let row = staff::ActiveModel {
        login: Set(new.login.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        email: Set(new.email.map(str::to_owned)),
        languages: Set(Language::join_stored(new.languages)),
        is_admin: Set(new.is_admin),
        password_hash: Set(new.password_hash),
        active: Set(true),
        created_at: Set(now),
        session_epoch: Set(0),
        must_change_password: Set(must_change_password),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(staff_record(row, Vec::new()))
}

/// A person's name, email and languages as given (the caller has checked them). Returns whether
/// the person exists.
///
/// # Errors
/// Database failures.
pub async fn update_details<C: ConnectionTrait>(
    db: &C,
    id: StaffId,
    display_name: &str,
    email: Option<&str>,
    languages: &[Language],
) -> Result<bool, StoreError> {
    let result = staff::Entity::update_many()
        .col_expr(staff::Column::DisplayName, Expr::value(display_name))
        .col_expr(staff::Column::Email, Expr::value(email.map(str::to_owned)))
        .col_expr(staff::Column::Languages, Expr::value(Language::join_stored(languages)))
        .filter(staff::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Every staff member (active or not) with memberships, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_staff<C: ConnectionTrait>(db: &C) -> Result<Vec<StaffMember>, StoreError> {
    let rows = staff::Entity::find().order_by_asc(staff::Column::DisplayName).all(db).await?;
    let mut memberships: HashMap<i32, Vec<(UnitId, Role)>> = HashMap::new();
    for m in membership::Entity::find().order_by_asc(membership::Column::UnitId).all(db).await? {
        memberships.entry(m.staff_id).or_default().push((UnitId::new(m.unit_id), role_record(m.role)));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_member = memberships.remove(&row.id).unwrap_or_default();
            staff_record(row, of_member)
        })
        .collect())
}

/// Admins (active or not).
///
/// # Errors
/// Database failures.
pub async fn count_admins<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    Ok(staff::Entity::find().filter(staff::Column::IsAdmin.eq(true)).count(db).await?)
}

/// The actor for an active staff member.
///
/// # Errors
/// Database failures.
pub async fn actor_for_staff<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<Option<Actor>, StoreError> {
    let Some(member) = staff::Entity::find_by_id(staff_id).one(db).await?.filter(|s| s.active) else {
        return Ok(None);
    };
    let memberships = memberships_of(db, StaffId::new(member.id)).await?;
    Ok(Some(Actor::new(StaffId::new(member.id), member.login, member.is_admin, memberships)))
}

pub(super) async fn memberships_of<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
) -> Result<Vec<(UnitId, Role)>, StoreError> {
    let rows = membership::Entity::find()
        .filter(membership::Column::StaffId.eq(staff_id))
        .order_by_asc(membership::Column::UnitId)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (UnitId::new(m.unit_id), role_record(m.role))).collect())
}
