//! Browsers in which a person completed a login (`login_devices`), by the digest of the token in
//! their cookie: a login attempt from such a browser for its person counts against the browser's
//! own throttle key instead of its address's (`services::login`).

use chrono::{DateTime, Utc};
use entity::login_device::{self, Column};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::StoreError;
use crate::domain::ids::StaffId;

/// The most browsers kept per person: the least recently used beyond it are forgotten.
pub const KEPT_PER_PERSON: usize = 20;

/// Of `digests`, the first that is a browser of `staff` (as they are ordered in the cookie).
///
/// # Errors
/// Database failures.
pub async fn of_person<C: ConnectionTrait>(
    db: &C,
    staff: StaffId,
    digests: &[String],
) -> Result<Option<String>, StoreError> {
    if digests.is_empty() {
        return Ok(None);
    }
    let rows = login_device::Entity::find()
        .filter(Column::StaffId.eq(staff.get()))
        .filter(Column::Digest.is_in(digests.iter().map(String::as_str)))
        .all(db)
        .await?;
    Ok(digests.iter().find(|d| rows.iter().any(|r| &r.digest == *d)).cloned())
}

/// Of `digests`, those stored, each with the person it belongs to.
///
/// # Errors
/// Database failures.
pub async fn owners<C: ConnectionTrait>(db: &C, digests: &[String]) -> Result<Vec<(String, StaffId)>, StoreError> {
    if digests.is_empty() {
        return Ok(Vec::new());
    }
    let rows =
        login_device::Entity::find().filter(Column::Digest.is_in(digests.iter().map(String::as_str))).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.digest, StaffId::new(r.staff_id))).collect())
}

/// Stores the browser `digest` of `staff` as used at `now` (a new one, or one known already),
/// and forgets the person's least recently used browsers beyond [`KEPT_PER_PERSON`].
///
/// # Errors
/// Database failures.
pub async fn remember<C: ConnectionTrait>(
    db: &C,
    staff: StaffId,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = login_device::ActiveModel {
        digest: Set(digest.to_owned()),
        staff_id: Set(staff.get()),
        created_at: Set(now),
        used_at: Set(now),
    };
    login_device::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Digest).update_column(Column::UsedAt).to_owned())
        .exec_without_returning(db)
        .await?;
    // A person has a few browsers: read them all, keep the most recent (SQLite has no OFFSET
    // without a LIMIT).
    let theirs: Vec<String> = login_device::Entity::find()
        .select_only()
        .column(Column::Digest)
        .filter(Column::StaffId.eq(staff.get()))
        .order_by_desc(Column::UsedAt)
        .order_by_desc(Column::Digest)
        .into_tuple()
        .all(db)
        .await?;
    let beyond: Vec<String> = theirs.into_iter().skip(KEPT_PER_PERSON).collect();
    if !beyond.is_empty() {
        login_device::Entity::delete_many().filter(Column::Digest.is_in(beyond)).exec(db).await?;
    }
    Ok(())
}

/// Forgets every browser of `staff` (deactivated: nothing of theirs is kept to lean on); how many.
///
/// # Errors
/// Database failures.
pub async fn forget_person<C: ConnectionTrait>(db: &C, staff: StaffId) -> Result<u64, StoreError> {
    let done = login_device::Entity::delete_many().filter(Column::StaffId.eq(staff.get())).exec(db).await?;
    Ok(done.rows_affected)
}

/// Forgets the browsers not used for a login since `before`; how many.
///
/// # Errors
/// Database failures.
pub async fn delete_unused<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = login_device::Entity::delete_many().filter(Column::UsedAt.lt(before)).exec(db).await?;
    Ok(done.rows_affected)
}
