//! Bookings and their history.

use chrono::{DateTime, Utc};
use entity::booking::{self, BookingStatus as StatusRow, Channel as ChannelRow};
use entity::booking_event;
use entity::outbox_message::{self, MailKind as KindRow};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::booking::{BookingStatus, Channel, Citizen};
use crate::domain::history::HistoryEvent;
use crate::domain::ids::{SlotId, StaffId, UnitId};
use crate::domain::language::Language;
use crate::domain::records::{Booking, BookingEvent, Slot};
use crate::domain::reference::Reference;
use crate::domain::search::SearchQuery;
use crate::store::booking_search;

pub use super::booking_insert::{Seat, insert_created, insert_created_with, insert_taking_seat, insert_taking_seat_on};
pub use crate::domain::records::BookingFilter;

/// # Errors
/// Database failures.
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Booking>, StoreError> {
    Ok(booking::Entity::find_by_id(id).one(db).await?.map(booking_record))
}

/// The bookings `ids` that exist, in no particular order.
///
/// # Errors
/// Database failures.
pub async fn find_many<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Booking>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    // Chunks keep each statement far below the engines' limits on bound values.
    for chunk in ids.chunks(500) {
        let rows = booking::Entity::find().filter(booking::Column::Id.is_in(chunk.iter().copied())).all(db).await?;
        found.extend(rows.into_iter().map(booking_record));
    }
    Ok(found)
}

/// # Errors
/// Database failures.
pub async fn find_by_reference<C: ConnectionTrait>(db: &C, reference: &str) -> Result<Option<Booking>, StoreError> {
    let row = booking::Entity::find().filter(booking::Column::Reference.eq(reference)).one(db).await?;
    Ok(row.map(booking_record))
}

/// Bookings matching the filter, soonest first.
///
/// # Errors
/// Database failures.
pub async fn list<C: ConnectionTrait>(db: &C, filter: &BookingFilter) -> Result<Vec<Booking>, StoreError> {
    let mut query = booking::Entity::find().filter(booking::Column::UnitId.is_in(filter.unit_ids.iter().copied()));
    if let Some(counsellor) = filter.counsellor_id {
        query = query.filter(booking::Column::CounsellorId.eq(counsellor));
    }
    if let Some(from) = filter.from {
        query = query.filter(booking::Column::StartsAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(booking::Column::StartsAt.lt(to));
    }
    if let Some(status) = filter.status {
        query = query.filter(booking::Column::Status.eq(status_row(status)));
    }
    if let Some(search) = &filter.search {
        // A text that is no search (only punctuation, too long) finds nothing.
        let Ok(search) = SearchQuery::parse(search) else { return Ok(Vec::new()) };
        query = query
            .filter(booking_search::condition(&search))
            .order_by(booking_search::heard_only_last(&search), Order::Asc)
            .order_by(booking_search::cancelled_last(), Order::Asc);
        if let Some(now) = filter.upcoming_first {
            // Upcoming first, soonest first; then the earlier ones, latest first. The second key
            // is NULL for every earlier one, so where an engine puts NULLs does not matter.
            let upcoming = || booking::Column::StartsAt.gte(now);
            let earlier_last: Expr = Expr::case(upcoming(), 0).finally(1).into();
            let soonest: Expr = Expr::case(upcoming(), Expr::col(booking::Column::StartsAt))
                .finally(Expr::value(Option::<DateTime<Utc>>::None))
                .into();
            query = query
                .order_by(earlier_last, Order::Asc)
                .order_by(soonest, Order::Asc)
                .order_by_desc(booking::Column::StartsAt);
        }
    }
    let rows = query
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Reference)
        .limit(filter.limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(booking_record).collect())
}

/// Where [`booked_overlapping`] looks.
#[derive(Debug, Clone, Copy)]
pub enum InUnits {
    Only(UnitId),
    Except(UnitId),
}

/// Booked appointments in `units` (of `counsellor_id`, if given) overlapping `[from, to)`: the
/// soonest `limit` of them (none for 0), and how many there are in all.
///
/// # Errors
/// Database failures.
pub async fn booked_overlapping<C: ConnectionTrait>(
    db: &C,
    units: InUnits,
    counsellor_id: Option<StaffId>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    limit: u64,
) -> Result<(Vec<Booking>, u64), StoreError> {
    let mut query = booking::Entity::find()
        .filter(booking::Column::Status.eq(StatusRow::Booked))
        // No appointment is longer than a slot may be: the lower bound keeps to the start index.
        .filter(booking::Column::StartsAt.gte(from - super::slots::MAX_SLOT_LENGTH))
        .filter(booking::Column::StartsAt.lt(to))
        .filter(booking::Column::EndsAt.gt(from));
    query = match units {
        InUnits::Only(unit) => query.filter(booking::Column::UnitId.eq(unit)),
        InUnits::Except(unit) => query.filter(booking::Column::UnitId.ne(unit)),
    };
    if let Some(counsellor) = counsellor_id {
        query = query.filter(booking::Column::CounsellorId.eq(counsellor));
    }
    let listed = if limit == 0 {
        Vec::new()
    } else {
        let rows = query
            .clone()
            .order_by_asc(booking::Column::StartsAt)
            .order_by_asc(booking::Column::Reference)
            .limit(limit)
            .all(db)
            .await?;
        rows.into_iter().map(booking_record).collect::<Vec<_>>()
    };
    // Two reads: a booking made between them must not make the count smaller than the list.
    let total = Ord::max(query.count(db).await?, listed.len() as u64);
    Ok((listed, total))
}

/// When the unit's latest booked appointment starting at or after `from` starts.
///
/// # Errors
/// Database failures.
pub async fn latest_booked_start<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    from: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let latest = booking::Entity::find()
        .select_only()
        .column(booking::Column::StartsAt)
        .filter(booking::Column::UnitId.eq(unit_id))
        .filter(booking::Column::Status.eq(StatusRow::Booked))
        .filter(booking::Column::StartsAt.gte(from))
        .order_by_desc(booking::Column::StartsAt)
        .limit(1)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?;
    Ok(latest)
}

/// The booked appointments of `units` that start after `now`, soonest first, locked until the
/// transaction ends (PostgreSQL `FOR UPDATE`: a move or cancellation at the same moment either
/// waits for this transaction or is waited for and then seen; a SQLite write transaction holds
/// the database). Locked in the order of their ids, as erasures and retention runs lock
/// bookings (two transactions locking in opposite orders could deadlock), then sorted.
///
/// # Errors
/// Database failures.
pub async fn upcoming_in_units_locked<C: ConnectionTrait>(
    db: &C,
    units: &[UnitId],
    now: DateTime<Utc>,
) -> Result<Vec<Booking>, StoreError> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let rows = booking::Entity::find()
        .filter(booking::Column::Status.eq(StatusRow::Booked))
        .filter(booking::Column::UnitId.is_in(units.iter().copied()))
        .filter(booking::Column::StartsAt.gt(now))
        .order_by_asc(booking::Column::Id)
        .lock_exclusive()
        .all(db)
        .await?;
    let mut upcoming: Vec<Booking> = rows.into_iter().map(booking_record).collect();
    upcoming.sort_by_key(|booking| (booking.starts_at, booking.id));
    Ok(upcoming)
}

/// Booked appointments of `unit_id` still to come after `now` whose citizen's phone has one of
/// the search keys `phone_keys`, soonest first: those of callers who phone again. (Numbers of two
/// lines can share a key: the caller tells them apart.)
///
/// # Errors
/// Database failures.
pub async fn upcoming_of_phones<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    phone_keys: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<Booking>, StoreError> {
    let mut found = Vec::new();
    for chunk in phone_keys.chunks(500) {
        let rows = booking::Entity::find()
            .filter(booking::Column::Status.eq(StatusRow::Booked))
            .filter(booking::Column::UnitId.eq(unit_id))
            .filter(booking::Column::SearchPhone.is_in(chunk.iter().cloned()))
            .filter(booking::Column::StartsAt.gt(now))
            .filter(booking::Column::ErasedAt.is_null())
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(booking_record));
    }
    found.sort_by_key(|booking| (booking.starts_at, booking.id));
    Ok(found)
}

/// The booked appointments in `slots`, soonest first.
///
/// # Errors
/// Database failures.
pub async fn booked_in_slots<C: ConnectionTrait>(db: &C, slots: &[SlotId]) -> Result<Vec<Booking>, StoreError> {
    // Chunks keep each statement far below the engines' limits on bound values.
    const CHUNK: usize = 500;
    let mut found = Vec::with_capacity(slots.len());
    for chunk in slots.chunks(CHUNK) {
        let rows = booking::Entity::find()
            .filter(booking::Column::Status.eq(StatusRow::Booked))
            .filter(booking::Column::SlotId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(booking_record));
    }
    found.sort_by(|a, b| (a.starts_at, a.reference.as_str()).cmp(&(b.starts_at, b.reference.as_str())));
    Ok(found)
}

/// Sets the status (and reason, for cancellations) and who changed it, provided the booking is
/// still as `booking` describes it (same status and sequence). Returns whether it was.
///
/// # Errors
/// Database failures.
pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    status: BookingStatus,
    cancel_reason: Option<String>,
    actor_id: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(status_row(status)))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .col_expr(booking::Column::UpdatedBy, Expr::value(actor_id));
    if status == BookingStatus::Cancelled {
        update = update
            .col_expr(booking::Column::CancelReason, Expr::value(cancel_reason))
            .col_expr(booking::Column::Sequence, Expr::value(booking.sequence + 1));
    }
    let result = unchanged_since(update, booking).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Moves a booking to another slot (the citizen-visible sequence goes up), provided it is
/// still as `booking` describes it. Returns whether it was. The override reason is the move's:
/// an earlier one justified the earlier time (the history keeps it), so a move that needs none
/// clears it.
///
/// # Errors
/// Database failures.
pub async fn move_to<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    slot: &Slot,
    override_reason: Option<String>,
    actor_id: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let update = booking::Entity::update_many()
        .col_expr(booking::Column::SlotId, Expr::value(slot.id))
        .col_expr(booking::Column::CounsellorId, Expr::value(slot.counsellor_id))
        .col_expr(booking::Column::StartsAt, Expr::value(slot.starts_at))
        .col_expr(booking::Column::EndsAt, Expr::value(slot.ends_at))
        .col_expr(booking::Column::OverrideReason, Expr::value(override_reason))
        .col_expr(booking::Column::Sequence, Expr::value(booking.sequence + 1))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .col_expr(booking::Column::UpdatedBy, Expr::value(actor_id));
    let result = unchanged_since(update, booking).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Makes the booking a new version (the sequence goes up: its calendar entry is replaced, and
/// notices and reminders of the earlier version are no longer sent) without moving it, provided
/// it is still as `booking` describes it. Returns whether it was.
///
/// # Errors
/// Database failures.
pub async fn new_version<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    actor_id: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let update = booking::Entity::update_many()
        .col_expr(booking::Column::Sequence, Expr::value(booking.sequence + 1))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .col_expr(booking::Column::UpdatedBy, Expr::value(actor_id));
    let result = unchanged_since(update, booking).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// The booking, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a SQLite write
/// transaction holds the database already).
///
/// # Errors
/// Database failures.
pub async fn find_locked<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Booking>, StoreError> {
    Ok(booking::Entity::find_by_id(id).lock_exclusive().one(db).await?.map(booking_record))
}

/// Writes the citizen's corrected details and their search keys, provided the booking is still
/// as `booking` describes it; `new_version` raises the sequence and sets `updated_at` (the emails
/// go to another address, so notices and reminders of the earlier version are not sent). Returns
/// whether it was.
///
/// # Errors
/// Database failures.
pub async fn set_citizen<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    citizen: &Citizen,
    new_version: bool,
    actor_id: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let keys = crate::domain::search::SearchKeys::of(&citizen.name, citizen.phone.as_deref());
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::CitizenName, Expr::value(citizen.name.clone()))
        .col_expr(booking::Column::CitizenEmail, Expr::value(citizen.email.clone()))
        .col_expr(booking::Column::CitizenPhone, Expr::value(citizen.phone.clone()))
        .col_expr(booking::Column::CitizenLanguage, Expr::value(citizen.language.code().to_owned()))
        .col_expr(
            booking::Column::InterpreterLanguage,
            Expr::value(citizen.interpreter_language.as_ref().map(|l| l.code().to_owned())),
        )
        .col_expr(booking::Column::AccessibilityNeeds, Expr::value(citizen.accessibility_needs.clone()))
        .col_expr(booking::Column::EmailConsent, Expr::value(citizen.email_consent))
        .col_expr(booking::Column::SearchName, Expr::value(keys.name))
        .col_expr(booking::Column::SearchPhone, Expr::value(keys.phone));
    // `updated_at` stays the last change of the appointment itself or of where its emails go:
    // the reminder is left out for bookings changed within its lead time (the history records
    // every correction).
    if new_version {
        update = update
            .col_expr(booking::Column::Sequence, Expr::value(booking.sequence + 1))
            .col_expr(booking::Column::UpdatedAt, Expr::value(now))
            .col_expr(booking::Column::UpdatedBy, Expr::value(actor_id));
    }
    // An erasure that came first is final: nothing is written back into its booking.
    let result = unchanged_since(update, booking).filter(booking::Column::ErasedAt.is_null()).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Optimistic concurrency: the update applies only if nobody changed the booking meanwhile,
/// an erasure of its personal data included (which keeps status and sequence): what was decided
/// on the booking as read, a reason to store say, may not hold for the erased one.
fn unchanged_since(update: UpdateMany<booking::Entity>, booking: &Booking) -> UpdateMany<booking::Entity> {
    let erased = match booking.erased_at {
        None => booking::Column::ErasedAt.is_null(),
        Some(_) => booking::Column::ErasedAt.is_not_null(),
    };
    update
        .filter(booking::Column::Id.eq(booking.id))
        .filter(booking::Column::Status.eq(status_row(booking.status)))
        .filter(booking::Column::Sequence.eq(booking.sequence))
        .filter(erased)
}

/// Appends an event to a booking's history.
///
/// # Errors
/// Database failures.
pub async fn add_event<C: ConnectionTrait>(
    db: &C,
    booking_id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<StaffId>,
    what: &HistoryEvent,
) -> Result<(), StoreError> {
    event_row(booking_id, at, actor_id, what).insert(db).await?;
    Ok(())
}

pub(super) fn event_row(
    booking_id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<StaffId>,
    what: &HistoryEvent,
) -> booking_event::ActiveModel {
    let (kind, detail) = what.stored();
    booking_event::ActiveModel {
        booking_id: Set(booking_id),
        at: Set(at),
        actor_id: Set(actor_id.map(i32::from)),
        kind: Set(kind),
        detail: Set(detail),
        ..Default::default()
    }
}

/// The history of a booking, oldest first.
///
/// # Errors
/// Database failures.
pub async fn events<C: ConnectionTrait>(db: &C, booking_id: Uuid) -> Result<Vec<BookingEvent>, StoreError> {
    let rows = booking_event::Entity::find()
        .filter(booking_event::Column::BookingId.eq(booking_id))
        .order_by_asc(booking_event::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| BookingEvent {
            at: row.at,
            actor_id: row.actor_id.map(StaffId::new),
            what: HistoryEvent::from_stored(row.kind, row.detail),
        })
        .collect())
}

pub(super) fn status_row(status: BookingStatus) -> StatusRow {
    match status {
        BookingStatus::Booked => StatusRow::Booked,
        BookingStatus::Cancelled => StatusRow::Cancelled,
        BookingStatus::Attended => StatusRow::Attended,
        BookingStatus::NoShow => StatusRow::NoShow,
    }
}

pub(super) fn channel_row(channel: Channel) -> ChannelRow {
    match channel {
        Channel::Phone => ChannelRow::Phone,
        Channel::WalkIn => ChannelRow::WalkIn,
        Channel::Email => ChannelRow::Email,
        Channel::Other => ChannelRow::Other,
    }
}

pub(super) fn booking_record(row: booking::Model) -> Booking {
    Booking {
        id: row.id,
        reference: Reference::from_stored(&row.reference),
        unit_id: UnitId::new(row.unit_id),
        counsellor_id: StaffId::new(row.counsellor_id),
        slot_id: SlotId::new(row.slot_id),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        status: match row.status {
            StatusRow::Booked => BookingStatus::Booked,
            StatusRow::Cancelled => BookingStatus::Cancelled,
            StatusRow::Attended => BookingStatus::Attended,
            StatusRow::NoShow => BookingStatus::NoShow,
        },
        channel: match row.channel {
            ChannelRow::Phone => Channel::Phone,
            ChannelRow::WalkIn => Channel::WalkIn,
            ChannelRow::Email => Channel::Email,
            ChannelRow::Other => Channel::Other,
        },
        citizen: Citizen {
            name: row.citizen_name,
            email: row.citizen_email,
            phone: row.citizen_phone,
            language: Language::from_stored(&row.citizen_language),
            interpreter_language: row.interpreter_language.as_deref().map(Language::from_stored),
            accessibility_needs: row.accessibility_needs,
            email_consent: row.email_consent,
        },
        note: row.note,
        override_reason: row.override_reason,
        cancel_reason: row.cancel_reason,
        sequence: row.sequence,
        created_at: row.created_at,
        created_by: row.created_by.map(StaffId::new),
        updated_at: row.updated_at,
        updated_by: row.updated_by.map(StaffId::new),
        erased_at: row.erased_at,
    }
}

/// How many reminder candidates one query returns; callers page through with `after`.
pub const REMINDER_PAGE: u64 = 1000;

/// Booked appointments with email consent that start in `(from, to]` and have no reminder row
/// for their current sequence yet: reminder candidates, by start then id. `after` is the start
/// and id of the last candidate of the previous page, so a window with more than one page of
/// bookings (or with candidates the caller passes over) is walked to its end.
///
/// # Errors
/// Database failures.
pub async fn reminder_candidates<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> Result<Vec<Booking>, StoreError> {
    // Served by the outbox's (booking_id, created_at) index; a poll with nothing new writes nothing.
    let reminded = Query::select()
        .expr(Expr::val(1))
        .from(outbox_message::Entity)
        .and_where(
            Expr::col((outbox_message::Entity, outbox_message::Column::BookingId))
                .equals((booking::Entity, booking::Column::Id)),
        )
        .and_where(Expr::col((outbox_message::Entity, outbox_message::Column::Kind)).eq(KindRow::Reminder))
        .and_where(
            Expr::col((outbox_message::Entity, outbox_message::Column::Sequence))
                .equals((booking::Entity, booking::Column::Sequence)),
        )
        .to_owned();
    let mut query = booking::Entity::find()
        .filter(booking::Column::Status.eq(StatusRow::Booked))
        .filter(booking::Column::EmailConsent.eq(true))
        .filter(booking::Column::CitizenEmail.is_not_null())
        .filter(booking::Column::StartsAt.gt(from))
        .filter(booking::Column::StartsAt.lte(to))
        .filter(Expr::not_exists(reminded));
    if let Some((starts_at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(booking::Column::StartsAt.gt(starts_at))
                .add(Condition::all().add(booking::Column::StartsAt.eq(starts_at)).add(booking::Column::Id.gt(id))),
        );
    }
    let rows = query
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Id)
        .limit(REMINDER_PAGE)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(booking_record).collect())
}
