//! The mail outbox: insert, claim with a lease (a conditional UPDATE that works on SQLite and
//! PostgreSQL alike), record outcomes, and the queries staff views need.

use chrono::{DateTime, Utc};
use entity::booking;
use entity::outbox_message::{self, DeliveryState as StateRow, MailKind as KindRow};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::outbox::{DeliveryState, MailKind, OutboxMessage, Skipped};

/// Inserts a message. With a `dedupe_key` that exists already, inserts nothing and returns false.
///
/// # Errors
/// Database failures.
pub async fn insert<C: ConnectionTrait>(db: &C, message: &OutboxMessage) -> Result<bool, StoreError> {
    let inserted = outbox_message::Entity::insert(row(message))
        .on_conflict(OnConflict::column(outbox_message::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The `INSERT` of a message without a dedupe key (a confirmation), to be sent together with
/// others (see [`super::bookings::insert_created_with`]).
pub fn insert_statement(message: &OutboxMessage) -> sea_orm::sea_query::InsertStatement {
    sea_orm::QueryTrait::into_query(outbox_message::Entity::insert(row(message)))
}

fn row(message: &OutboxMessage) -> outbox_message::ActiveModel {
    outbox_message::ActiveModel {
        id: Set(message.id),
        booking_id: Set(message.booking_id),
        kind: Set(kind_row(message.kind)),
        state: Set(state_row(message.state)),
        recipient: Set(message.recipient.clone()),
        language: Set(message.language.clone()),
        message_id: Set(message.message_id.clone()),
        dedupe_key: Set(message.dedupe_key.clone()),
        counsellor_id: Set(message.counsellor_id.get()),
        starts_at: Set(message.starts_at),
        ends_at: Set(message.ends_at),
        sequence: Set(message.sequence),
        place_changed: Set(message.place_changed),
        attempts: Set(message.attempts),
        next_attempt_at: Set(message.next_attempt_at),
        locked_until: Set(None),
        last_error: Set(message.last_error.clone()),
        created_at: Set(message.created_at),
        sent_at: Set(message.sent_at),
    }
}

/// Ids of messages due at `now` and not leased, oldest first.
///
/// # Errors
/// Database failures.
pub async fn due<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, limit: u64) -> Result<Vec<Uuid>, StoreError> {
    let ids = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::Id)
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying]))
        .filter(outbox_message::Column::NextAttemptAt.lte(now))
        .filter(unleased(now))
        .order_by_asc(outbox_message::Column::NextAttemptAt)
        .order_by_asc(outbox_message::Column::Id)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    Ok(ids)
}

/// Takes the lease on a due message until `lease_until` and counts the attempt. Of concurrent
/// dispatchers exactly one gets `Some`.
///
/// # Errors
/// Database failures.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<OutboxMessage>, StoreError> {
    let result = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::LockedUntil, Expr::value(lease_until))
        .col_expr(outbox_message::Column::Attempts, Expr::col(outbox_message::Column::Attempts).add(1))
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying]))
        .filter(outbox_message::Column::NextAttemptAt.lte(now))
        .filter(unleased(now))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    Ok(outbox_message::Entity::find_by_id(id).one(db).await?.map(message_record))
}

fn unleased(now: DateTime<Utc>) -> Condition {
    Condition::any().add(outbox_message::Column::LockedUntil.is_null()).add(outbox_message::Column::LockedUntil.lt(now))
}

/// What became of an attempt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored, and the lease released.
    Stored,
    /// Dropped: the lease expired and another attempt took the row over.
    Stale,
    /// Dropped: the booking's personal data were erased meanwhile (the row is skipped and
    /// blank; the outcome would write the address back, e.g. in an SMTP reply).
    Erased,
}

/// Records the outcome of the attempt `message` was claimed for and releases the lease, only while
/// the row is still claimed by this attempt (still due to be sent, leased, and with this attempt's
/// count) and its booking not erased. Otherwise it records nothing: a stale attempt (whose lease
/// expired and which another dispatcher took over) or one whose booking was erased meanwhile
/// (the erasure skipped the row and blanked its recipient and error).
///
/// # Errors
/// Database failures.
pub async fn record_outcome<C: ConnectionTrait>(
    db: &C,
    message: &OutboxMessage,
    state: DeliveryState,
    next_attempt_at: Option<DateTime<Utc>>,
    error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
) -> Result<Recorded, StoreError> {
    let mut update = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::State, Expr::value(state_row(state)))
        .col_expr(outbox_message::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox_message::Column::SentAt, Expr::value(sent_at));
    if let Some(at) = next_attempt_at {
        update = update.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(at));
    }
    if state == DeliveryState::Skipped && error.as_deref() == Some(ADDRESS_CORRECTED) {
        // Queued from a copy of the booking read before its address was corrected: the address
        // is no longer the citizen's, so it is not kept with their booking either.
        update = update.col_expr(outbox_message::Column::Recipient, Expr::value(""));
    }
    if state == DeliveryState::Sent {
        // Delivered: an earlier attempt's reply no longer says anything about this email.
        update = update.col_expr(outbox_message::Column::LastError, Expr::value(Option::<String>::None));
    }
    if error.is_some() {
        // A row whose address was forgotten meanwhile (a correction) keeps no reply quoting it.
        let kept = Expr::case(outbox_message::Column::Recipient.eq(""), Expr::value(Option::<String>::None))
            .finally(Expr::value(error));
        update = update.col_expr(outbox_message::Column::LastError, kept.into());
    }
    let live_bookings = Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::ErasedAt.is_null())
        .to_owned();
    let result = update
        .filter(outbox_message::Column::Id.eq(message.id))
        .filter(outbox_message::Column::Attempts.eq(message.attempts))
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying]))
        .filter(outbox_message::Column::LockedUntil.is_not_null())
        .filter(outbox_message::Column::BookingId.in_subquery(live_bookings))
        .exec(db)
        .await?;
    if result.rows_affected == 1 {
        return Ok(Recorded::Stored);
    }
    let erased_at: Option<Option<DateTime<Utc>>> = booking::Entity::find_by_id(message.booking_id)
        .select_only()
        .column(booking::Column::ErasedAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(match erased_at {
        Some(None) => Recorded::Stale,
        // Erased, or the booking (and with it the row) is gone. A row queued from a copy of the
        // booking read before its erasure (a reminder, a resend) came after the erasure forgot
        // the booking's addresses: it is forgotten and skipped now, as the erasure would have,
        // instead of staying queued with the address and claimed again after every lease.
        Some(Some(_)) => {
            forget_recipients(db, &[message.booking_id], None, None).await?;
            Recorded::Erased
        }
        None => Recorded::Erased,
    })
}

/// The emails of a booking, oldest first.
///
/// # Errors
/// Database failures.
pub async fn for_booking<C: ConnectionTrait>(db: &C, booking_id: Uuid) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = outbox_message::Entity::find()
        .filter(outbox_message::Column::BookingId.eq(booking_id))
        .order_by_asc(outbox_message::Column::CreatedAt)
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(message_record).collect())
}

/// The emails of the bookings `ids`, oldest first.
///
/// # Errors
/// Database failures.
pub async fn for_bookings<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut found = Vec::new();
    // Chunks keep each statement far below the engines' limits on bound values.
    for chunk in ids.chunks(500) {
        let rows = outbox_message::Entity::find()
            .filter(outbox_message::Column::BookingId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(message_record));
    }
    found.sort_by_key(|m| (m.created_at, m.id));
    Ok(found)
}

/// The Message-ID of the booking's first email, if it has any.
///
/// # Errors
/// Database failures.
pub async fn first_message_id<C: ConnectionTrait>(db: &C, booking_id: Uuid) -> Result<Option<String>, StoreError> {
    let first = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::MessageId)
        .filter(outbox_message::Column::BookingId.eq(booking_id))
        .order_by_asc(outbox_message::Column::CreatedAt)
        .order_by_asc(outbox_message::Column::Id)
        .into_tuple::<String>()
        .one(db)
        .await?;
    Ok(first)
}

/// Why an email to an address corrected since is not sent (the sender says the same).
pub const ADDRESS_CORRECTED: &str = Skipped::AddressCorrected.reason();
/// Why an email queued before the citizen withdrew their consent to emails was not sent.
pub const CONSENT_WITHDRAWN: &str = Skipped::ConsentWithdrawn.reason();

/// Forgets the addresses and error texts of the emails of `booking_ids`, but for those to
/// `keep`: an erasure forgets them all; a correction of the citizen's address forgets the
/// previous one, a mistyped address being no one's business here, nor anyone's to find in a
/// request of the person concerned. Emails not sent yet are skipped (`skipped_because` their
/// reason; the sender would skip them too); forgotten failures leave the list of emails to call
/// back about. Returns how many were forgotten.
///
/// # Errors
/// Database failures.
pub async fn forget_recipients<C: ConnectionTrait>(
    db: &C,
    booking_ids: &[Uuid],
    keep: Option<&str>,
    skipped_because: Option<&str>,
) -> Result<u64, StoreError> {
    let mut forget = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Recipient, Expr::value(""))
        .col_expr(outbox_message::Column::LastError, Expr::value(Option::<String>::None))
        .filter(outbox_message::Column::BookingId.is_in(booking_ids.iter().copied()));
    if let Some(keep) = keep {
        let lower = |e: Expr| Expr::expr(Func::lower(e));
        forget =
            forget.filter(ExprTrait::ne(lower(Expr::col(outbox_message::Column::Recipient)), lower(Expr::val(keep))));
    }
    let forgotten = forget.exec(db).await?;
    outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::State, Expr::value(StateRow::Skipped))
        .col_expr(outbox_message::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox_message::Column::LastError, Expr::value(skipped_because.map(str::to_owned)))
        .filter(outbox_message::Column::BookingId.is_in(booking_ids.iter().copied()))
        .filter(outbox_message::Column::Recipient.eq(""))
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying]))
        .exec(db)
        .await?;
    Ok(forgotten.rows_affected)
}

/// Which of `ids` are emails of this database whose recipient was forgotten (by an erasure or a
/// correction of the address).
///
/// # Errors
/// Database failures.
pub async fn forgotten<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
    Ok(among(ids).filter(outbox_message::Column::Recipient.eq("")).into_tuple().all(db).await?)
}

/// Those of `ids` that are emails of this database.
///
/// # Errors
/// Database failures.
pub async fn held<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
    Ok(among(ids).into_tuple().all(db).await?)
}

/// The ids of the emails among `ids`.
fn among(ids: &[Uuid]) -> sea_orm::Select<outbox_message::Entity> {
    outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::Id)
        .filter(outbox_message::Column::Id.is_in(ids.iter().copied()))
}

/// Sets the language of the emails of `booking_id` not sent yet (they are written in the
/// citizen's language as it is when sent).
///
/// # Errors
/// Database failures.
pub async fn set_pending_language<C: ConnectionTrait>(db: &C, booking_id: Uuid, code: &str) -> Result<(), StoreError> {
    outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Language, Expr::value(code.to_owned()))
        .filter(outbox_message::Column::BookingId.eq(booking_id))
        .filter(outbox_message::Column::State.is_in([StateRow::Queued, StateRow::Retrying]))
        .exec(db)
        .await?;
    Ok(())
}

/// Failed emails of a unit that leave a citizen wrongly informed about an appointment still to
/// come, oldest first: confirmations and change notices of booked appointments (the citizen does
/// not know the time), and cancellations (the citizen would come for nothing). One that has
/// begun is past calling about.
///
/// # Errors
/// Database failures.
pub async fn failed_for_unit<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let of_unit = |status: booking::BookingStatus| {
        Query::select()
            .column(booking::Column::Id)
            .from(booking::Entity)
            .and_where(booking::Column::UnitId.eq(unit_id))
            .and_where(booking::Column::Status.eq(status))
            .and_where(booking::Column::StartsAt.gt(now))
            .to_owned()
    };
    let booked = Condition::all()
        .add(outbox_message::Column::BookingId.in_subquery(of_unit(booking::BookingStatus::Booked)))
        .add(outbox_message::Column::Kind.is_in([KindRow::Confirmation, KindRow::Change]));
    let cancelled = Condition::all()
        .add(outbox_message::Column::BookingId.in_subquery(of_unit(booking::BookingStatus::Cancelled)))
        .add(outbox_message::Column::Kind.eq(KindRow::Cancellation));
    let rows = outbox_message::Entity::find()
        .filter(Condition::any().add(booked).add(cancelled))
        .filter(outbox_message::Column::State.eq(StateRow::Failed))
        // Failures to an address corrected since (forgotten) are no reason to call back.
        .filter(outbox_message::Column::Recipient.ne(""))
        .order_by_asc(outbox_message::Column::CreatedAt)
        // The same order on both engines when two failed emails were made at the same moment.
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(message_record).collect())
}

fn kind_row(kind: MailKind) -> KindRow {
    match kind {
        MailKind::Confirmation => KindRow::Confirmation,
        MailKind::Change => KindRow::Change,
        MailKind::Cancellation => KindRow::Cancellation,
        MailKind::Reminder => KindRow::Reminder,
    }
}

fn state_row(state: DeliveryState) -> StateRow {
    match state {
        DeliveryState::Queued => StateRow::Queued,
        DeliveryState::Retrying => StateRow::Retrying,
        DeliveryState::Sent => StateRow::Sent,
        DeliveryState::Failed => StateRow::Failed,
        DeliveryState::Skipped => StateRow::Skipped,
    }
}

fn message_record(row: outbox_message::Model) -> OutboxMessage {
    OutboxMessage {
        id: row.id,
        booking_id: row.booking_id,
        kind: match row.kind {
            KindRow::Confirmation => MailKind::Confirmation,
            KindRow::Change => MailKind::Change,
            KindRow::Cancellation => MailKind::Cancellation,
            KindRow::Reminder => MailKind::Reminder,
        },
        state: match row.state {
            StateRow::Queued => DeliveryState::Queued,
            StateRow::Retrying => DeliveryState::Retrying,
            StateRow::Sent => DeliveryState::Sent,
            StateRow::Failed => DeliveryState::Failed,
            StateRow::Skipped => DeliveryState::Skipped,
        },
        recipient: row.recipient,
        language: row.language,
        message_id: row.message_id,
        dedupe_key: row.dedupe_key,
        counsellor_id: StaffId::new(row.counsellor_id),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        sequence: row.sequence,
        place_changed: row.place_changed,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_error: row.last_error,
        created_at: row.created_at,
        sent_at: row.sent_at,
    }
}
