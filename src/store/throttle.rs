//! The login throttle's counters: an attempt is reserved against every key in one write
//! transaction with one conditional `UPDATE` per key (so of parallel attempts, on SQLite as on
//! PostgreSQL and across server processes, only as many pass as the rules allow), and cleared
//! after a success.

use chrono::{DateTime, Utc};
use entity::login_throttle::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::StoreError;
use crate::domain::throttle::Key;

/// What a reservation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt is counted as a failure on every key until a success clears them.
    Reserved,
    /// A key is locked: nothing was counted. `until` is when that key opens again; `first`: this
    /// is the first refusal of this lock (of this key) that the reservation noted, so the one to
    /// record; `kind`: which kind of key held it (`pair`, `login`, `address`, `site`, `device`,
    /// …: its name up to the colon, never the address or login in it).
    Locked { until: Option<DateTime<Utc>>, first: bool, kind: &'static str },
}

/// Reserves one attempt at `now` against all `keys` (in their order), or none when any is locked.
/// Failures whose last attempt is older than `forget_before` start again from one.
///
/// # Errors
/// Database failures.
pub async fn reserve(
    db: &DatabaseConnection,
    keys: &[Key],
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<Reservation, StoreError> {
    // A key locked already is refused on a plain read, without a write turn: anyone can send
    // attempts, and on SQLite each write transaction waits for the process's one writer, in turn
    // with the bookings. The transaction below decides for attempts at once and for keys that
    // lock with this attempt. "Locked" here is the negation of `reserve_one`'s `allowed`.
    let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    let rows = login_throttle::Entity::find().filter(Column::Key.is_in(names)).all(db).await?;
    for key in keys {
        if let Some(row) = rows.iter().find(|r| r.key == key.key)
            && row.failures >= key.rule.free
            && row.locked_until.is_some_and(|until| until > now)
            && row.attempted_at >= forget_before
        {
            return locked(db, &key.key, Some(row.clone())).await;
        }
    }
    let txn = super::begin_write(db).await?;
    for key in keys {
        ensure_row(&txn, &key.key, now).await?;
        if !reserve_one(&txn, key, now, forget_before).await? {
            let row = login_throttle::Entity::find_by_id(key.key.clone()).one(&txn).await?;
            txn.rollback().await?;
            return locked(db, &key.key, row).await;
        }
    }
    txn.commit().await?;
    Ok(Reservation::Reserved)
}

/// The refusal of `key`, locked as `row` says.
async fn locked(
    db: &DatabaseConnection,
    key: &str,
    row: Option<login_throttle::Model>,
) -> Result<Reservation, StoreError> {
    let until = row.as_ref().and_then(|r| r.locked_until);
    // Once this lock's refusal is noted, a flood of further refusals writes nothing.
    let first = match row {
        Some(row) if row.refusal_noted_until != row.locked_until => match row.locked_until {
            Some(until) => note_refusal(db, key, until).await?,
            None => false,
        },
        _ => false,
    };
    Ok(Reservation::Locked { until, first, kind: kind_of(key) })
}

/// The kind of a key, by its prefix.
fn kind_of(key: &str) -> &'static str {
    const KINDS: [&str; 7] = ["pair", "login", "address", "site", "device", "password", "second_factor"];
    let prefix = key.split(':').next().unwrap_or_default();
    KINDS.into_iter().find(|kind| *kind == prefix).unwrap_or("other")
}

/// Notes that a refusal of `key`'s lock until `until` is recorded; whether it was the first (one
/// conditional update, so of parallel refusals exactly one is).
async fn note_refusal(db: &DatabaseConnection, key: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
    let txn = super::begin_write(db).await?;
    let noted = login_throttle::Entity::update_many()
        .col_expr(Column::RefusalNotedUntil, Expr::value(until))
        .filter(Column::Key.eq(key))
        .filter(Column::LockedUntil.eq(until))
        .filter(Condition::any().add(Column::RefusalNotedUntil.is_null()).add(Column::RefusalNotedUntil.ne(until)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(noted.rows_affected == 1)
}

async fn ensure_row<C: ConnectionTrait>(db: &C, key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let row = login_throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(0),
        locked_until: Set(None),
        attempted_at: Set(now),
        succeeded_at: Set(None),
        updated_at: Set(now),
        refusal_noted_until: Set(None),
    };
    login_throttle::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One conditional update: counts the attempt and sets the lock its count calls for, only when
/// the key is not locked. The new count and lock are computed in SQL from the row as it is when
/// the update runs (on PostgreSQL after any concurrent update of the row committed).
async fn reserve_one<C: ConnectionTrait>(
    db: &C,
    key: &Key,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let forgotten = Expr::col(Column::AttemptedAt).lt(forget_before);
    let count: Expr = Expr::case(forgotten.clone(), 1).finally(Expr::col(Column::Failures).add(1)).into();
    let steps = key.rule.lock_steps(now);
    let mut lock = Expr::case(count.clone().lt(key.rule.free), Expr::value(Option::<DateTime<Utc>>::None));
    for (failures, (index, until)) in (key.rule.free..).zip(steps.iter().enumerate()) {
        lock = if index + 1 == steps.len() {
            lock.case(count.clone().gte(failures), *until)
        } else {
            lock.case(count.clone().eq(failures), *until)
        };
    }
    let allowed =
        Condition::any().add(Column::Failures.lt(key.rule.free)).add(Column::LockedUntil.lte(now)).add(forgotten);
    let result = login_throttle::Entity::update_many()
        .col_expr(Column::Failures, count)
        .col_expr(Column::LockedUntil, lock.into())
        .col_expr(Column::AttemptedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Key.eq(&key.key))
        .filter(allowed)
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes back an attempt reserved at `now` whose password could not be checked (the server was
/// too busy): one failure less on every key; a key that falls below its free failures is
/// unlocked, any other opens again now.
///
/// # Errors
/// Database failures.
pub async fn release(db: &DatabaseConnection, keys: &[Key], now: DateTime<Utc>) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    for key in keys {
        let count = Expr::col(Column::Failures).sub(1);
        let lock = Expr::case(count.clone().lt(key.rule.free), Expr::value(Option::<DateTime<Utc>>::None))
            .finally(Expr::value(now));
        login_throttle::Entity::update_many()
            .col_expr(Column::Failures, count)
            .col_expr(Column::LockedUntil, lock.into())
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Key.eq(&key.key))
            .filter(Column::Failures.gt(0))
            .exec(&txn)
            .await?;
    }
    Ok(txn.commit().await?)
}

/// After a successful login: `shared` (the keys of the address and its IPv6 site for every login)
/// each lose the failures `succeeded` (the pair of login and address) counted, the person's own
/// typos; the failures of
/// `cleared` keys (the pair among them) are forgotten; and the pair is marked as having
/// succeeded at `now`. So the typos of an office's staff behind one address do not add up to a
/// lock, while a colleague logging in between guesses at other logins does not undo them.
///
/// # Errors
/// Database failures.
pub async fn record_success(
    db: &DatabaseConnection,
    cleared: &[String],
    succeeded: &str,
    shared: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    // Locked (PostgreSQL): two successes of one person at once take their typos off only once.
    let own = login_throttle::Entity::find_by_id(succeeded.to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?
        .map_or(0, |row| row.failures);
    if own > 0 && !shared.is_empty() {
        // In one statement: a failure another attempt counts meanwhile is kept (PostgreSQL
        // re-reads the row it waited for).
        let fewer = Expr::case(Expr::col(Column::Failures).gt(own), Expr::col(Column::Failures).sub(own)).finally(0);
        login_throttle::Entity::update_many()
            .col_expr(Column::Failures, fewer.into())
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Key.is_in(shared.iter().map(String::as_str)))
            .exec(&txn)
            .await?;
    }
    login_throttle::Entity::update_many()
        .col_expr(Column::Failures, Expr::value(0))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Key.is_in(cleared.iter().cloned()))
        .exec(&txn)
        .await?;
    login_throttle::Entity::update_many()
        .col_expr(Column::SucceededAt, Expr::value(now))
        .filter(Column::Key.eq(succeeded))
        .exec(&txn)
        .await?;
    Ok(txn.commit().await?)
}

/// The attempts counted on `key` since its last success (0 for a key never counted or swept).
///
/// # Errors
/// Database failures.
pub async fn failures<C: ConnectionTrait>(db: &C, key: &str) -> Result<i32, StoreError> {
    Ok(login_throttle::Entity::find_by_id(key.to_owned()).one(db).await?.map_or(0, |row| row.failures))
}

/// Forgets `key` altogether (its count, lock and last success).
///
/// # Errors
/// Database failures.
pub async fn forget<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), StoreError> {
    login_throttle::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}

/// Forgets the failures counted for `login` (its own key, and its pairs with every address): the
/// person chose a new password with an admin's reset link, so what was counted against the old
/// one (a guesser's, or their own forgetting) no longer holds them back. The keys of addresses
/// for every login stay.
///
/// # Errors
/// Database failures.
pub async fn forget_login<C: ConnectionTrait>(db: &C, login: &str) -> Result<(), StoreError> {
    use sea_orm::sea_query::LikeExpr;
    let escaped: String = crate::domain::throttle::cut(login)
        .chars()
        .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
        .collect();
    let pairs = LikeExpr::new(format!("pair:% {escaped}")).escape('\\');
    let theirs = sea_orm::Condition::any()
        .add(Column::Key.eq(crate::domain::throttle::login_key(login)))
        .add(Column::Key.like(pairs));
    login_throttle::Entity::delete_many().filter(theirs).exec(db).await?;
    Ok(())
}

/// When a login last succeeded with `key`, if ever (and the row has not been swept).
///
/// # Errors
/// Database failures.
pub async fn succeeded_at<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(login_throttle::Entity::find_by_id(key.to_owned()).one(db).await?.and_then(|row| row.succeeded_at))
}

/// Deletes keys untouched since `before`.
///
/// # Errors
/// Database failures.
pub async fn delete_stale<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = login_throttle::Entity::delete_many().filter(Column::UpdatedAt.lt(before)).exec(db).await?;
    Ok(done.rows_affected)
}
