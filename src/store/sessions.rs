//! Staff web sessions (the rows behind `services::sessions`, so sessions survive restarts and are
//! shared by several server processes) and failed login attempts.

use chrono::{DateTime, Utc};
use entity::{login_failure, session};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::StoreError;
use crate::clock::Clock;

/// A stored session: its id, the JSON of its values and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id: String,
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

fn active_model(stored: &StoredSession) -> session::ActiveModel {
    session::ActiveModel {
        id: Set(stored.id.clone()),
        data: Set(stored.data.clone()),
        expires_at: Set(stored.expires_at),
    }
}

/// Inserts a new session.
///
/// # Errors
/// `Duplicate` when the id exists already.
pub async fn insert<C: ConnectionTrait>(db: &C, stored: &StoredSession) -> Result<(), StoreError> {
    active_model(stored).insert(db).await?;
    Ok(())
}

/// Replaces the values and expiry of a session that exists; a session deleted meanwhile (logged
/// out, ended, expired) stays deleted: a request that loaded it before must not bring it back.
///
/// # Errors
/// Database failures.
pub async fn update<C: ConnectionTrait>(db: &C, stored: &StoredSession) -> Result<(), StoreError> {
    session::Entity::update_many()
        .col_expr(session::Column::Data, sea_orm::sea_query::Expr::value(stored.data.clone()))
        .col_expr(session::Column::ExpiresAt, sea_orm::sea_query::Expr::value(stored.expires_at))
        .filter(session::Column::Id.eq(stored.id.clone()))
        .exec(db)
        .await?;
    Ok(())
}

/// The session with `id` if it has not expired at `now`.
///
/// # Errors
/// Database failures.
pub async fn find_live<C: ConnectionTrait>(
    db: &C,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<StoredSession>, StoreError> {
    let row = session::Entity::find_by_id(id.to_owned()).filter(session::Column::ExpiresAt.gt(now)).one(db).await?;
    Ok(row.map(|m| StoredSession { id: m.id, data: m.data, expires_at: m.expires_at }))
}

/// Deletes a session (no error when it does not exist).
///
/// # Errors
/// Database failures.
pub async fn delete<C: ConnectionTrait>(db: &C, id: &str) -> Result<(), StoreError> {
    session::Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Deletes a session; returns whether it still existed (a renewal claims its session this way:
/// one deleted meanwhile, by a logout in another tab, is not made again under a new id).
///
/// # Errors
/// Database failures.
pub async fn take<C: ConnectionTrait>(db: &C, id: &str) -> Result<bool, StoreError> {
    Ok(session::Entity::delete_by_id(id.to_owned()).exec(db).await?.rows_affected > 0)
}

/// Deletes sessions expired at `now` and login failures older than `failures_before`.
///
/// # Errors
/// Database failures.
pub async fn delete_expired<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    failures_before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let sessions = session::Entity::delete_many().filter(session::Column::ExpiresAt.lte(now)).exec(db).await?;
    login_failure::Entity::delete_many().filter(login_failure::Column::At.lt(failures_before)).exec(db).await?;
    Ok(sessions.rows_affected)
}

/// Records a failed login for `login` from `ip`.
///
/// # Errors
/// Database failures.
pub async fn record_login_failure<C: ConnectionTrait>(
    db: &C,
    login: &str,
    ip: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    login_failure::ActiveModel {
        login: Set(login.to_owned()),
        ip: Set(ip.to_owned()),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Failed logins for `login` from `ip` since `since`.
///
/// # Errors
/// Database failures.
pub async fn count_login_failures<C: ConnectionTrait>(
    db: &C,
    login: &str,
    ip: &str,
    since: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(login_failure::Entity::find()
        .filter(login_failure::Column::Login.eq(login))
        .filter(login_failure::Column::Ip.eq(ip))
        .filter(login_failure::Column::At.gte(since))
        .count(db)
        .await?)
}

/// Forgets the failed logins for `login` from `ip` (after a successful login).
///
/// # Errors
/// Database failures.
pub async fn clear_login_failures<C: ConnectionTrait>(db: &C, login: &str, ip: &str) -> Result<(), StoreError> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Login.eq(login))
        .filter(login_failure::Column::Ip.eq(ip))
        .exec(db)
        .await?;
    Ok(())
}

/// tower-sessions computes expiry from the real time, so sessions are compared with the real
/// time too (not a test's fixed clock).
pub fn real_now() -> DateTime<Utc> {
    Clock::System.now()
}
