//! Retention and erasure of personal data: which bookings expired, and the statements that
//! remove a booking's personal data (citizen, free text, history details, its emails) while
//! keeping its anonymous columns.

use chrono::{DateTime, Utc};
use entity::booking::{self, BookingStatus as StatusRow};
use entity::outbox_message;
use entity::{booking_event, unit};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{StoreError, Versioned};
use crate::domain::ids::UnitId;
use crate::domain::retention::Erased;

/// Every unit with its retention in days.
///
/// # Errors
/// Database failures.
pub async fn unit_retention<C: ConnectionTrait>(db: &C) -> Result<Vec<(i32, i32)>, StoreError> {
    Ok(unit::Entity::find()
        .select_only()
        .columns([unit::Column::Id, unit::Column::RetentionDays])
        .into_tuple()
        .all(db)
        .await?)
}

/// The retention of one unit.
///
/// # Errors
/// Database failures.
pub async fn retention_days<C: ConnectionTrait>(db: &C, unit_id: UnitId) -> Result<Option<i32>, StoreError> {
    Ok(unit::Entity::find_by_id(unit_id).select_only().column(unit::Column::RetentionDays).into_tuple().one(db).await?)
}

/// The retention of one unit, its row locked against a change until the caller's transaction
/// ends (PostgreSQL `FOR SHARE`; a SQLite write transaction holds the database): what a
/// retention part erases by is the retention when it commits.
///
/// # Errors
/// Database failures.
pub async fn retention_days_locked<C: ConnectionTrait>(db: &C, unit_id: UnitId) -> Result<Option<i32>, StoreError> {
    Ok(unit::Entity::find_by_id(unit_id)
        .select_only()
        .column(unit::Column::RetentionDays)
        .lock_shared()
        .into_tuple()
        .one(db)
        .await?)
}

/// Sets a unit's retention inside the caller's transaction and raises the unit's version,
/// provided it is still the version `seen` (any, when `None`): the version is the UPDATE's own
/// condition. Returns the previous value and the unit's new version.
///
/// # Errors
/// Database failures.
pub async fn set_retention_days<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    days: i32,
    now: DateTime<Utc>,
    seen: Option<i32>,
) -> Result<Versioned<(i32, i32)>, StoreError> {
    // Read locked (PostgreSQL `FOR UPDATE`; a SQLite write transaction holds the database): of
    // two changes at once, the second reads the first's value, so the audit's "before" is true.
    let before: Option<(i32, i32)> = unit::Entity::find_by_id(unit_id)
        .select_only()
        .column(unit::Column::RetentionDays)
        .column(unit::Column::Version)
        .lock_exclusive()
        .into_tuple()
        .one(db)
        .await?;
    let Some((before, version)) = before else { return Ok(Versioned::Missing) };
    let mut update = unit::Entity::update_many()
        .col_expr(unit::Column::RetentionDays, Expr::value(days))
        .col_expr(unit::Column::UpdatedAt, Expr::value(now))
        .col_expr(unit::Column::Version, Expr::col(unit::Column::Version).add(1))
        .filter(unit::Column::Id.eq(unit_id));
    if let Some(seen) = seen {
        update = update.filter(unit::Column::Version.eq(seen));
    }
    if update.exec(db).await?.rows_affected != 1 {
        return Ok(Versioned::Stale);
    }
    Ok(Versioned::Written((before, version + 1)))
}

/// Bookings of `unit_id` not yet erased whose appointment ended before `cutoff`, or that were
/// cancelled before it (a cancelled booking's last change is its cancellation): id and stored
/// reference.
///
/// # Errors
/// Database failures.
pub async fn expired<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    cutoff: DateTime<Utc>,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    Ok(booking::Entity::find()
        .select_only()
        .columns([booking::Column::Id, booking::Column::Reference])
        .filter(booking::Column::UnitId.eq(unit_id))
        .filter(booking::Column::ErasedAt.is_null())
        .filter(expired_by(cutoff))
        .into_tuple()
        .all(db)
        .await?)
}

/// Those of the bookings `ids` (of `unit_id`) that are still expired at `cutoff`, locked (an
/// erasing transaction's read: PostgreSQL `FOR UPDATE`; a SQLite write transaction holds the
/// database). A booking moved to a later time, or whose unit's retention was raised, since the
/// ids were listed is left out.
///
/// # Errors
/// Database failures.
pub async fn still_expired<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    cutoff: DateTime<Utc>,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    // Locked in the order of their ids, as an erasure on request locks a person's bookings
    // (`of_person`): two transactions locking rows in opposite orders could deadlock.
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut still = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let found: Vec<Uuid> = booking::Entity::find()
            .select_only()
            .column(booking::Column::Id)
            .filter(booking::Column::Id.is_in(chunk.iter().copied()))
            .filter(booking::Column::UnitId.eq(unit_id))
            .filter(booking::Column::ErasedAt.is_null())
            .filter(expired_by(cutoff))
            .order_by_asc(booking::Column::Id)
            .lock_exclusive()
            .into_tuple()
            .all(db)
            .await?;
        still.extend(found);
    }
    Ok(still)
}

/// An appointment that ended before `cutoff`, or a booking cancelled before it.
fn expired_by(cutoff: DateTime<Utc>) -> Condition {
    let ended =
        Condition::all().add(booking::Column::Status.ne(StatusRow::Cancelled)).add(booking::Column::EndsAt.lt(cutoff));
    let cancelled = Condition::all()
        .add(booking::Column::Status.eq(StatusRow::Cancelled))
        .add(booking::Column::UpdatedAt.lt(cutoff));
    Condition::any().add(ended).add(cancelled)
}

/// Whom [`of_person`] looks for: any of these that is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Who<'a> {
    pub email: Option<&'a str>,
    pub phone_key: Option<&'a str>,
    /// With `phone_key`: only numbers naming this line ([`fold::phone_identity`]), since numbers
    /// of two lines can share a search key.
    pub phone_identity: Option<&'a str>,
    /// A booking's reference in its stored form.
    pub reference: Option<&'a str>,
}

/// Bookings (of `unit_ids`) of a person: by email (compared without case and surrounding
/// spaces), by the search key of a phone number (and, given, the line it names) or by a
/// booking's reference, locked with `lock`. Erased bookings are not found.
///
/// # Errors
/// Database failures.
pub async fn of_person<C: ConnectionTrait>(
    db: &C,
    unit_ids: Option<&[UnitId]>,
    person: Who<'_>,
    lock: bool,
) -> Result<Vec<Uuid>, StoreError> {
    let Who { email, phone_key, phone_identity, reference } = person;
    let mut who = Condition::any();
    if let Some(email) = email {
        let lower = Expr::expr(Func::lower(Expr::col(booking::Column::CitizenEmail)));
        who = who.add(lower.eq(email.trim().to_lowercase()));
    }
    if let Some(key) = phone_key {
        who = who.add(booking::Column::SearchPhone.eq(key));
    }
    if let Some(reference) = reference {
        who = who.add(booking::Column::Reference.eq(reference));
    }
    if email.is_none() && phone_key.is_none() && reference.is_none() {
        return Ok(Vec::new());
    }
    let mut query = booking::Entity::find()
        .select_only()
        .column(booking::Column::Id)
        .column(booking::Column::CitizenPhone)
        .filter(who)
        .filter(booking::Column::ErasedAt.is_null());
    if let Some(units) = unit_ids {
        query = query.filter(booking::Column::UnitId.is_in(units.iter().copied()));
    }
    // `lock` (an erasure's transaction; PostgreSQL `FOR UPDATE`, a SQLite write transaction holds
    // the database): a booking whose address is corrected meanwhile is read again after that
    // commits, and left out when it is no longer the person's.
    // Locked in the order of their ids, as a retention run locks them (`still_expired`).
    query = if lock {
        query.order_by_asc(booking::Column::Id).lock_exclusive()
    } else {
        query.order_by_asc(booking::Column::StartsAt)
    };
    let rows: Vec<(Uuid, Option<String>)> = query.into_tuple().all(db).await?;
    let same_line = |stored: Option<&str>| {
        phone_identity.is_none_or(|line| stored.and_then(fold::phone_identity).as_deref() == Some(line))
    };
    Ok(rows.into_iter().filter(|(_, phone)| same_line(phone.as_deref())).map(|(id, _)| id).collect())
}

/// Removes the personal data of the bookings `ids` inside the caller's transaction: the
/// citizen's name, email, phone, interpreter wish, accessibility needs, note, override and
/// cancellation reasons, consent; the personal parts of their history; their emails'
/// recipients and errors (emails not yet sent are skipped). Returns the counts and the ids of
/// the emails (whose `.eml` files the caller removes).
///
/// # Errors
/// Database failures.
pub async fn erase<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(Erased, Vec<Uuid>), StoreError> {
    let mut erased = Erased::default();
    let mut emails = Vec::new();
    for chunk in ids.chunks(500) {
        erased.bookings += erase_bookings(db, chunk, now).await?;
        erased.history_events += anonymise_history(db, chunk).await?;
        let found: Vec<Uuid> = outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::Id)
            .filter(outbox_message::Column::BookingId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        super::outbox::forget_recipients(db, chunk, None, None).await?;
        erased.emails += found.len() as u64;
        emails.extend(found);
    }
    super::booking_search::clear_search_keys(db, ids).await?;
    Ok((erased, emails))
}

async fn erase_bookings<C: ConnectionTrait>(db: &C, ids: &[Uuid], now: DateTime<Utc>) -> Result<u64, StoreError> {
    let none = || Expr::value(Option::<String>::None);
    let result = booking::Entity::update_many()
        .col_expr(booking::Column::CitizenName, Expr::value(""))
        .col_expr(booking::Column::CitizenEmail, none())
        .col_expr(booking::Column::CitizenPhone, none())
        .col_expr(booking::Column::InterpreterLanguage, none())
        .col_expr(booking::Column::AccessibilityNeeds, none())
        .col_expr(booking::Column::Note, none())
        .col_expr(booking::Column::OverrideReason, none())
        .col_expr(booking::Column::CancelReason, none())
        .col_expr(booking::Column::EmailConsent, Expr::value(false))
        .col_expr(booking::Column::ErasedAt, Expr::value(now))
        .filter(booking::Column::Id.is_in(ids.iter().copied()))
        .filter(booking::Column::ErasedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Rewrites each history event of the bookings to its anonymous detail.
async fn anonymise_history<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<u64, StoreError> {
    let events: Vec<(i32, String)> = booking_event::Entity::find()
        .select_only()
        .columns([booking_event::Column::Id, booking_event::Column::Detail])
        .filter(booking_event::Column::BookingId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut changed = 0;
    for (id, detail) in events {
        let anonymous = crate::domain::retention::anonymous_detail(&detail);
        if anonymous != detail {
            let row = booking_event::ActiveModel { id: Set(id), detail: Set(anonymous), ..Default::default() };
            booking_event::Entity::update(row).exec(db).await?;
            changed += 1;
        }
    }
    Ok(changed)
}
