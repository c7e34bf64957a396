//! Bookings and their history.

use chrono::{DateTime, Utc};
use entity::booking::{self, BookingStatus as StatusRow, Channel as ChannelRow};
use entity::booking_event;
use entity::outbox_message::{self, MailKind as KindRow};
use sea_orm::sea_query::{
    CommonTableExpression, Expr, ExprTrait, Func, InsertStatement, PostgresQueryBuilder, Query, SqliteQueryBuilder,
    WithClause,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement, UpdateMany,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::booking::{BookingStatus, Channel, Citizen};
use crate::domain::history::{Created, HistoryEvent};
use crate::domain::ids::{SlotId, StaffId, UnitId};
use crate::domain::language::Language;
use crate::domain::records::{Booking, BookingEvent, Slot};
use crate::domain::reference::Reference;
use crate::domain::search::{SearchKeys, SearchQuery};
use crate::store::booking_search;

pub use crate::domain::records::BookingFilter;

/// Inserts a new booking together with the event recording its creation (by the booking's
/// creator, at its creation time), in one round trip to the database: on SQLite the two
/// `INSERT`s are sent as one batch, on PostgreSQL the booking's `INSERT` is a data-modifying
/// `WITH` of the event's.
///
/// # Errors
/// `Duplicate` on a reference collision.
pub async fn insert_created<C: ConnectionTrait>(db: &C, booking: &Booking, created: Created) -> Result<(), StoreError> {
    insert_created_with(db, booking, created, Vec::new()).await
}

/// [`insert_created`] with more inserts in the same round trip (the audit record, the
/// confirmation email): on PostgreSQL each a data-modifying `WITH` of its own, on SQLite one
/// more statement of the batch.
///
/// # Errors
/// `Duplicate` on a reference collision; what the other inserts violate.
pub async fn insert_created_with<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    created: Created,
    more: Vec<InsertStatement>,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let [insert_booking, insert_event] = created_rows(booking, created);
    let statement = if backend == DbBackend::Postgres {
        let (sql, values) = insert_event.with(inserts_with(insert_booking, more)).build(PostgresQueryBuilder);
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        let (mut sql, mut values) = insert_booking.build(SqliteQueryBuilder);
        for insert in std::iter::once(insert_event).chain(more) {
            let (next, more_values) = insert.build(SqliteQueryBuilder);
            sql = format!("{sql}; {next}");
            values.0.extend(more_values.0);
        }
        Statement::from_sql_and_values(backend, sql, values)
    };
    db.execute_raw(statement).await?;
    Ok(())
}

/// The seat a booking takes in one statement with its rows ([`insert_taking_seat`]): the slot as
/// it was read (the rows were built from it), and whether closures and absences are checked.
#[derive(Debug, Clone, Copy)]
pub struct Seat<'a> {
    pub slot: &'a Slot,
    pub check_unblocked: bool,
}

/// PostgreSQL: takes a seat of `seat.slot` and inserts the booking, its `created` event and
/// `more` (the audit record, the confirmation email) in one statement, so in one round trip and
/// one implicit transaction (run it outside a transaction): `WITH` the inserts `SELECT
/// take_seat(…)` (the function of migration `m20261203_300000_take_seat_function`, which takes the
/// seat guarded by the slot as read and then checks closures and absences).
///
/// # Errors
/// `SeatNotAsRead` when no seat was taken (full, no regular slot, or changed since read),
/// `SeatBlocked` for a closure or absence, `CounsellorOverlap`, `Duplicate` on a reference
/// collision: nothing of the statement is stored then.
pub async fn insert_taking_seat<C: ConnectionTrait>(
    db: &C,
    seat: Seat<'_>,
    booking: &Booking,
    created: Created,
    more: Vec<InsertStatement>,
) -> Result<(), StoreError> {
    let [insert_booking, insert_event] = created_rows(booking, created);
    let mut with = inserts_with(insert_booking, more);
    with.cte(CommonTableExpression::new().query(insert_event).table_name("created_event").to_owned());
    let slot = seat.slot;
    let take = Func::cust("take_seat").args([
        Expr::val(slot.id),
        Expr::val(slot.unit_id),
        Expr::val(slot.counsellor_id),
        Expr::val(slot.starts_at),
        Expr::val(slot.ends_at),
        Expr::val(seat.check_unblocked),
    ]);
    let (sql, values) = Query::select().expr(take).to_owned().with(with).build(PostgresQueryBuilder);
    db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    Ok(())
}

/// The `INSERT`s of a new booking and of the event recording its creation (by the booking's
/// creator, at its creation time).
fn created_rows(booking: &Booking, created: Created) -> [InsertStatement; 2] {
    let insert_booking = booking::Entity::insert(booking_row(booking)).into_query();
    let created = HistoryEvent::Created(created);
    let event = event_row(booking.id, booking.created_at, booking.created_by, &created);
    [insert_booking, booking_event::Entity::insert(event).into_query()]
}

/// PostgreSQL: the booking's insert and `more` as data-modifying `WITH`s.
fn inserts_with(mut insert_booking: InsertStatement, more: Vec<InsertStatement>) -> WithClause {
    let created = CommonTableExpression::new()
        .query(insert_booking.returning_col(booking::Column::Id).to_owned())
        .table_name("created_booking")
        .to_owned();
    let mut with = WithClause::new().cte(created).to_owned();
    for (i, insert) in more.into_iter().enumerate() {
        with.cte(CommonTableExpression::new().query(insert).table_name(format!("also_{i}")).to_owned());
    }
    with
}

fn booking_row(booking: &Booking) -> booking::ActiveModel {
    let keys = SearchKeys::of(&booking.citizen.name, booking.citizen.phone.as_deref());
    booking::ActiveModel {
        id: Set(booking.id),
        reference: Set(booking.reference.as_str().to_owned()),
        unit_id: Set(booking.unit_id.get()),
        counsellor_id: Set(booking.counsellor_id.get()),
        slot_id: Set(booking.slot_id.get()),
        starts_at: Set(booking.starts_at),
        ends_at: Set(booking.ends_at),
        status: Set(status_row(booking.status)),
        channel: Set(channel_row(booking.channel)),
        citizen_name: Set(booking.citizen.name.clone()),
        citizen_email: Set(booking.citizen.email.clone()),
        citizen_phone: Set(booking.citizen.phone.clone()),
        citizen_language: Set(booking.citizen.language.code().to_owned()),
        interpreter_language: Set(booking.citizen.interpreter_language.as_ref().map(|l| l.code().to_owned())),
        accessibility_needs: Set(booking.citizen.accessibility_needs.clone()),
        email_consent: Set(booking.citizen.email_consent),
        note: Set(booking.note.clone()),
        override_reason: Set(booking.override_reason.clone()),
        cancel_reason: Set(booking.cancel_reason.clone()),
        sequence: Set(booking.sequence),
        created_at: Set(booking.created_at),
        created_by: Set(booking.created_by.map(i32::from)),
        updated_at: Set(booking.updated_at),
        updated_by: Set(booking.updated_by.map(i32::from)),
        search_name: Set(keys.name),
        search_phone: Set(keys.phone),
        erased_at: Set(None),
    }
}

/// # Errors
/// Database failures.
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Booking>, StoreError> {
    Ok(booking::Entity::find_by_id(id).one(db).await?.map(booking_record))
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
        query = query.filter(booking_search::condition(&search)).order_by(booking_search::cancelled_last(), Order::Asc);
    }
    let rows = query
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Reference)
        .limit(filter.limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(booking_record).collect())
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
/// still as `booking` describes it. Returns whether it was.
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
        .col_expr(
            booking::Column::OverrideReason,
            Expr::value(override_reason.or_else(|| booking.override_reason.clone())),
        )
        .col_expr(booking::Column::Sequence, Expr::value(booking.sequence + 1))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .col_expr(booking::Column::UpdatedBy, Expr::value(actor_id));
    let result = unchanged_since(update, booking).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Optimistic concurrency: the update applies only if nobody changed the booking meanwhile.
fn unchanged_since(update: UpdateMany<booking::Entity>, booking: &Booking) -> UpdateMany<booking::Entity> {
    update
        .filter(booking::Column::Id.eq(booking.id))
        .filter(booking::Column::Status.eq(status_row(booking.status)))
        .filter(booking::Column::Sequence.eq(booking.sequence))
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

fn event_row(
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

fn status_row(status: BookingStatus) -> StatusRow {
    match status {
        BookingStatus::Booked => StatusRow::Booked,
        BookingStatus::Cancelled => StatusRow::Cancelled,
        BookingStatus::Attended => StatusRow::Attended,
        BookingStatus::NoShow => StatusRow::NoShow,
    }
}

fn channel_row(channel: Channel) -> ChannelRow {
    match channel {
        Channel::Phone => ChannelRow::Phone,
        Channel::WalkIn => ChannelRow::WalkIn,
        Channel::Email => ChannelRow::Email,
        Channel::Other => ChannelRow::Other,
    }
}

fn booking_record(row: booking::Model) -> Booking {
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
