//! Sent booking forms (`form_submissions`): a form's id is claimed when it is sent, so the same
//! form sent twice books once; an API request's idempotency key likewise, with its body's digest.

use chrono::{DateTime, Utc};
use entity::form_submission;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;
use crate::domain::ids::StaffId;

/// What claiming a form's id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Claimed now: this request handles the form.
    New,
    /// Another request of the same person is handling it, claimed at this time.
    Busy(DateTime<Utc>),
    /// It made this booking (its reference).
    Done(String),
    /// Someone else's id: not this person's form.
    Foreign,
    /// This person's id, claimed by a request with another body (an idempotency key used again
    /// for another booking).
    Reused,
}

/// Claims `id` for `staff`, for a request whose body has the digest `digest` (API requests;
/// forms: `None`).
///
/// # Errors
/// Database failures.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: &str,
    staff: StaffId,
    digest: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let row = form_submission::ActiveModel {
        id: Set(id.to_owned()),
        staff_id: Set(staff.get()),
        booking_reference: Set(None),
        request_digest: Set(digest.map(str::to_owned)),
        created_at: Set(now),
    };
    match row.insert(db).await.map_err(StoreError::from) {
        Ok(_) => return Ok(Claim::New),
        Err(StoreError::Duplicate(_)) => {}
        Err(other) => return Err(other),
    }
    // Released between the insert and this read: the next try claims it.
    Ok(look(db, id, staff, digest).await?.unwrap_or(Claim::Busy(now)))
}

/// What claiming `id` for `staff` (with `digest`) would find, read only: `None` when nobody claims it (a claim
/// may then be tried).
///
/// # Errors
/// Database failures.
pub async fn look<C: ConnectionTrait>(
    db: &C,
    id: &str,
    staff: StaffId,
    digest: Option<&str>,
) -> Result<Option<Claim>, StoreError> {
    Ok(form_submission::Entity::find_by_id(id.to_owned()).one(db).await?.map(|row| {
        if row.staff_id != staff.get() {
            Claim::Foreign
        } else if row.request_digest.as_deref() != digest {
            Claim::Reused
        } else {
            row.booking_reference.map_or(Claim::Busy(row.created_at), Claim::Done)
        }
    }))
}

/// Notes the booking the form `id` made.
///
/// # Errors
/// Database failures.
pub async fn finish<C: ConnectionTrait>(db: &C, id: &str, reference: &str) -> Result<(), StoreError> {
    form_submission::Entity::update_many()
        .col_expr(form_submission::Column::BookingReference, Expr::value(reference.to_owned()))
        .filter(form_submission::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives the form `id` up (it made no booking): sent again, it is handled anew.
///
/// # Errors
/// Database failures.
pub async fn release<C: ConnectionTrait>(db: &C, id: &str) -> Result<(), StoreError> {
    form_submission::Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Deletes the ids of forms sent before `before`.
///
/// # Errors
/// Database failures.
pub async fn delete_before<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done =
        form_submission::Entity::delete_many().filter(form_submission::Column::CreatedAt.lt(before)).exec(db).await?;
    Ok(done.rows_affected)
}
