//! The callback list (Rückrufliste): entries, their offered slot, the claim of whoever books for
//! them, and their removal for retention.

use chrono::{DateTime, NaiveDate, Utc};
use entity::callback_request::{self, CallbackStatus as StatusRow};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::callback::{CallbackRequest, CallbackStatus, NewCallback, TimeOfDay, Wish};
use crate::domain::ids::{CallbackId, SlotId, StaffId, UnitId};
use crate::domain::language::Language;

/// Inserts an open entry.
///
/// # Errors
/// Database failures.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    new: NewCallback,
    actor_id: StaffId,
    now: DateTime<Utc>,
) -> Result<CallbackRequest, StoreError> {
    let row = callback_request::ActiveModel {
        unit_id: Set(new.unit_id.get()),
        citizen_name: Set(new.citizen_name),
        citizen_phone: Set(new.citizen_phone),
        citizen_language: Set(new.citizen_language.code().to_owned()),
        counsellor_id: Set(new.wish.counsellor_id.map(i32::from)),
        language: Set(new.wish.language.as_ref().map(|l| l.code().to_owned())),
        daypart: Set(new.wish.time_of_day.map(|part| part.as_str().to_owned())),
        before_on: Set(new.wish.before),
        until_on: Set(new.until),
        note: Set(new.note),
        status: Set(StatusRow::Open),
        offered_slot_id: Set(None),
        offered_at: Set(None),
        claimed_until: Set(None),
        booking_id: Set(None),
        created_at: Set(now),
        created_by: Set(Some(actor_id.get())),
        updated_at: Set(now),
        updated_by: Set(Some(actor_id.get())),
        ..Default::default()
    };
    Ok(record(row.insert(db).await?))
}

/// # Errors
/// Database failures.
pub async fn find<C: ConnectionTrait>(db: &C, id: CallbackId) -> Result<Option<CallbackRequest>, StoreError> {
    Ok(callback_request::Entity::find_by_id(id).one(db).await?.map(record))
}

/// How many open entries the unit's list holds that are not past their last day (`today`), with
/// the unit's row locked until the transaction ends: two desks adding at once take turns, so the
/// count they check holds when they write (on SQLite the write transaction itself takes turns).
///
/// # Errors
/// Database failures.
pub async fn count_open_locked<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    today: NaiveDate,
) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    entity::unit::Entity::find_by_id(unit_id.get()).lock_exclusive().one(db).await?;
    Ok(callback_request::Entity::find()
        .filter(callback_request::Column::UnitId.eq(unit_id))
        .filter(callback_request::Column::Status.eq(status_row(CallbackStatus::Open)))
        .filter(callback_request::Column::UntilOn.gte(today))
        .count(db)
        .await?)
}

/// The unit's entries in one of `statuses`, oldest first (the order callers are served in).
///
/// # Errors
/// Database failures.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    statuses: &[CallbackStatus],
) -> Result<Vec<CallbackRequest>, StoreError> {
    let rows = callback_request::Entity::find()
        .filter(callback_request::Column::UnitId.eq(unit_id))
        .filter(callback_request::Column::Status.is_in(statuses.iter().map(|s| status_row(*s))))
        .order_by_asc(callback_request::Column::CreatedAt)
        .order_by_asc(callback_request::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(record).collect())
}

/// Up to `limit` of the unit's entries in one of `statuses` in the order they were entered (by
/// id), those after the entry `after` only. An id keeps its place while entries are added, closed
/// and deleted, so a list read in these pieces shows none twice; an entry that closes after the
/// pages have passed its place is on none of them (read the list again from the start for it).
///
/// # Errors
/// Database failures.
pub async fn list_after<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    statuses: &[CallbackStatus],
    after: Option<CallbackId>,
    limit: u64,
) -> Result<Vec<CallbackRequest>, StoreError> {
    let mut query = callback_request::Entity::find()
        .filter(callback_request::Column::UnitId.eq(unit_id))
        .filter(callback_request::Column::Status.is_in(statuses.iter().map(|s| status_row(*s))));
    if let Some(after) = after {
        query = query.filter(callback_request::Column::Id.gt(after.get()));
    }
    let rows = query.order_by_asc(callback_request::Column::Id).limit(limit).all(db).await?;
    Ok(rows.into_iter().map(record).collect())
}

/// One page of the unit's entries in `statuses`, the last changed first: at most `limit`,
/// after skipping `offset`.
///
/// # Errors
/// Database failures.
pub async fn list_newest<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    statuses: &[CallbackStatus],
    limit: u64,
    offset: u64,
) -> Result<Vec<CallbackRequest>, StoreError> {
    let rows = callback_request::Entity::find()
        .filter(callback_request::Column::UnitId.eq(unit_id))
        .filter(callback_request::Column::Status.is_in(statuses.iter().map(|s| status_row(*s))))
        .order_by_desc(callback_request::Column::UpdatedAt)
        .order_by_desc(callback_request::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(record).collect())
}

/// Marks the unit's open entries whose last day is before `today` as expired (their offer goes).
///
/// # Errors
/// Database failures.
pub async fn expire<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = callback_request::Entity::update_many()
        .col_expr(callback_request::Column::Status, Expr::value(StatusRow::Expired))
        .col_expr(callback_request::Column::OfferedSlotId, Expr::value(Option::<i32>::None))
        .col_expr(callback_request::Column::OfferedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(callback_request::Column::UpdatedAt, Expr::value(now))
        .filter(callback_request::Column::UnitId.eq(unit_id))
        .filter(callback_request::Column::Status.eq(StatusRow::Open))
        .filter(callback_request::Column::UntilOn.lt(today))
        .filter(unclaimed(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Sets (or with `None` clears) the slot offered to an open entry.
///
/// # Errors
/// Database failures.
pub async fn set_offer<C: ConnectionTrait>(
    db: &C,
    id: CallbackId,
    offer: Option<(SlotId, DateTime<Utc>)>,
) -> Result<(), StoreError> {
    callback_request::Entity::update_many()
        .col_expr(callback_request::Column::OfferedSlotId, Expr::value(offer.map(|o| o.0)))
        .col_expr(callback_request::Column::OfferedAt, Expr::value(offer.map(|o| o.1)))
        .filter(callback_request::Column::Id.eq(id))
        .filter(callback_request::Column::Status.eq(StatusRow::Open))
        .exec(db)
        .await?;
    Ok(())
}

/// Claims an open entry for booking until `until`, unless another claim is still running.
/// Returns whether this caller got it.
///
/// # Errors
/// Database failures.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: CallbackId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = callback_request::Entity::update_many()
        .col_expr(callback_request::Column::ClaimedUntil, Expr::value(until))
        .filter(callback_request::Column::Id.eq(id))
        .filter(callback_request::Column::Status.eq(StatusRow::Open))
        .filter(unclaimed(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends the claim made with `until` without booking. A claim made since by another desk (this
/// one's ran out: its booking took longer than the claim) is theirs and stays.
///
/// # Errors
/// Database failures.
pub async fn release<C: ConnectionTrait>(db: &C, id: CallbackId, until: DateTime<Utc>) -> Result<(), StoreError> {
    callback_request::Entity::update_many()
        .col_expr(callback_request::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(callback_request::Column::Id.eq(id))
        // The value is bound as the claim bound it: the same text on SQLite, the same
        // microseconds on PostgreSQL.
        .filter(callback_request::Column::ClaimedUntil.eq(until))
        .exec(db)
        .await?;
    Ok(())
}

/// Closes an open entry that no other desk is booking for: its claim ended or there is none, or
/// it is `claim`, the closing desk's own (booked, with its booking). A desk whose claim ran out
/// while it booked and was taken by another desk since closes nothing: the other desk books.
/// Returns whether it was closed.
///
/// # Errors
/// Database failures.
pub async fn close<C: ConnectionTrait>(
    db: &C,
    id: CallbackId,
    status: CallbackStatus,
    booking_id: Option<Uuid>,
    claim: Option<DateTime<Utc>>,
    actor_id: StaffId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut free = unclaimed(now);
    if let Some(until) = claim {
        // Bound as `claim` bound it (see `release`).
        free = free.add(callback_request::Column::ClaimedUntil.eq(until));
    }
    let update = callback_request::Entity::update_many()
        .col_expr(callback_request::Column::Status, Expr::value(status_row(status)))
        .col_expr(callback_request::Column::BookingId, Expr::value(booking_id))
        .col_expr(callback_request::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(callback_request::Column::UpdatedAt, Expr::value(now))
        .col_expr(callback_request::Column::UpdatedBy, Expr::value(actor_id))
        .filter(callback_request::Column::Id.eq(id))
        .filter(callback_request::Column::Status.eq(StatusRow::Open))
        .filter(free);
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// No desk holds the entry's claim at `now`.
fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(callback_request::Column::ClaimedUntil.is_null())
        .add(callback_request::Column::ClaimedUntil.lte(now))
}

/// Deletes entries that ended (booked, withdrawn, expired) before `cutoff`, and open ones whose
/// last day is before `cutoff`'s day: the retention of the callback list. Returns how many.
///
/// # Errors
/// Database failures.
pub async fn delete_ended_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
    cutoff_day: NaiveDate,
) -> Result<u64, StoreError> {
    let result = callback_request::Entity::delete_many().filter(ended_before(cutoff, cutoff_day)).exec(db).await?;
    Ok(result.rows_affected)
}

/// How many entries [`delete_ended_before`] would delete.
///
/// # Errors
/// Database failures.
pub async fn count_ended_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
    cutoff_day: NaiveDate,
) -> Result<u64, StoreError> {
    Ok(callback_request::Entity::find().filter(ended_before(cutoff, cutoff_day)).count(db).await?)
}

/// Entries that ended before `cutoff`, or open ones whose last day is before `cutoff_day`.
fn ended_before(cutoff: DateTime<Utc>, cutoff_day: NaiveDate) -> Condition {
    let ended = Condition::all()
        .add(callback_request::Column::Status.ne(StatusRow::Open))
        .add(callback_request::Column::UpdatedAt.lt(cutoff));
    Condition::any().add(ended).add(callback_request::Column::UntilOn.lt(cutoff_day))
}

/// Deletes those of the entries `ids` that no desk is booking from right now (open with a claim
/// that has not ended), in one statement: on PostgreSQL a claim committed meanwhile is seen by
/// the delete's own check. Returns how many were deleted.
///
/// # Errors
/// Database failures.
pub async fn delete_unclaimed<C: ConnectionTrait>(
    db: &C,
    ids: &[CallbackId],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    // `IS NOT NULL` first: without a claim the comparison is NULL, and NOT NULL deletes nothing.
    let claimed = Condition::all()
        .add(callback_request::Column::Status.eq(StatusRow::Open))
        .add(callback_request::Column::ClaimedUntil.is_not_null())
        .add(callback_request::Column::ClaimedUntil.gt(now));
    let result = callback_request::Entity::delete_many()
        .filter(callback_request::Column::Id.is_in(ids.iter().copied()))
        .filter(claimed.not())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes the entries `ids` (erasure on request).
///
/// # Errors
/// Database failures.
pub async fn delete<C: ConnectionTrait>(db: &C, ids: &[CallbackId]) -> Result<u64, StoreError> {
    let result = callback_request::Entity::delete_many()
        .filter(callback_request::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

fn status_row(status: CallbackStatus) -> StatusRow {
    match status {
        CallbackStatus::Open => StatusRow::Open,
        CallbackStatus::Booked => StatusRow::Booked,
        CallbackStatus::Withdrawn => StatusRow::Withdrawn,
        CallbackStatus::Expired => StatusRow::Expired,
    }
}

fn record(row: callback_request::Model) -> CallbackRequest {
    CallbackRequest {
        id: CallbackId::new(row.id),
        unit_id: UnitId::new(row.unit_id),
        citizen_name: row.citizen_name,
        citizen_phone: row.citizen_phone,
        citizen_language: Language::from_stored(&row.citizen_language),
        wish: Wish {
            counsellor_id: row.counsellor_id.map(StaffId::new),
            language: row.language.as_deref().map(Language::from_stored),
            time_of_day: row.daypart.as_deref().and_then(TimeOfDay::parse),
            before: row.before_on,
        },
        until: row.until_on,
        note: row.note,
        status: match row.status {
            StatusRow::Open => CallbackStatus::Open,
            StatusRow::Booked => CallbackStatus::Booked,
            StatusRow::Withdrawn => CallbackStatus::Withdrawn,
            StatusRow::Expired => CallbackStatus::Expired,
        },
        offered_slot_id: row.offered_slot_id.map(SlotId::new),
        offered_at: row.offered_at,
        claimed_until: row.claimed_until,
        booking_id: row.booking_id,
        created_at: row.created_at,
        created_by: row.created_by.map(StaffId::new),
        updated_at: row.updated_at,
        updated_by: row.updated_by.map(StaffId::new),
    }
}
