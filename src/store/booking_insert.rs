//! Writing a new booking: its row and the event recording its creation, with more inserts (the
//! audit record, the confirmation email) in the same round trip; on PostgreSQL also in one
//! statement with the seat ([`insert_taking_seat`]).

use entity::booking;
use entity::booking_event;
use sea_orm::sea_query::{
    CommonTableExpression, Expr, Func, InsertStatement, PostgresQueryBuilder, Query, SqliteQueryBuilder,
    SubQueryStatement, Values, WithClause, WithQuery,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Statement};

use super::StoreError;
use super::booking_pool::BookingPool;
use super::bookings::{channel_row, event_row, status_row};
use crate::domain::history::{Created, HistoryEvent};
use crate::domain::records::{Booking, Slot};
use crate::domain::search::SearchKeys;

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
    let statement = if backend == DbBackend::Postgres {
        let [insert_booking, insert_event] = created_rows(booking, created);
        let (sql, values) = with_query(inserts_with(insert_booking, more), insert_event).build(PostgresQueryBuilder);
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        let (mut sql, mut values) = (String::new(), Values(Vec::new()));
        for (next, more_values) in sqlite_inserts(booking, created, more) {
            sql = if sql.is_empty() { next } else { format!("{sql}; {next}") };
            values.0.extend(more_values.0);
        }
        Statement::from_sql_and_values(backend, sql, values)
    };
    db.execute_raw(statement).await?;
    Ok(())
}

/// SQLite: the `INSERT`s of a new booking, its `created` event and `more`, each as SQL and its
/// values (sent as one batch by [`insert_created_with`], one by one by the booking writer's own
/// connection, `super::sqlite_direct`).
pub(super) fn sqlite_inserts(
    booking: &Booking,
    created: Created,
    more: Vec<InsertStatement>,
) -> impl Iterator<Item = (String, Values)> {
    created_rows(booking, created).into_iter().chain(more).map(|insert| insert.build(SqliteQueryBuilder))
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
    db.query_one_raw(taking_seat_statement(seat, booking, created, more)).await?;
    Ok(())
}

/// [`insert_taking_seat`] on a connection of the bookings' own pool.
///
/// # Errors
/// Those of [`insert_taking_seat`]; `Busy` when no connection could be had.
pub async fn insert_taking_seat_on(
    pool: &BookingPool,
    seat: Seat<'_>,
    booking: &Booking,
    created: Created,
    more: Vec<InsertStatement>,
) -> Result<(), StoreError> {
    pool.run(taking_seat_statement(seat, booking, created, more)).await
}

/// The one statement of [`insert_taking_seat`]. Built on every booking, so built without
/// copies: sea-query's `to_owned` and `with` clone a statement with all its values (which made
/// building this statement 40 % of a booking's instructions in the service).
fn taking_seat_statement(seat: Seat<'_>, booking: &Booking, created: Created, more: Vec<InsertStatement>) -> Statement {
    let [insert_booking, insert_event] = created_rows(booking, created);
    let mut with = inserts_with(insert_booking, more);
    with.cte(named(insert_event, "created_event"));
    let slot = seat.slot;
    let take = Func::cust("take_seat").args([
        Expr::val(slot.id),
        Expr::val(slot.unit_id),
        Expr::val(slot.counsellor_id),
        Expr::val(slot.starts_at),
        Expr::val(slot.ends_at),
        Expr::val(seat.check_unblocked),
    ]);
    let mut select = Query::select();
    select.expr(take);
    let (sql, values) = with_query(with, select).build(PostgresQueryBuilder);
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
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
    insert_booking.returning_col(booking::Column::Id);
    let mut with = WithClause::new();
    with.cte(named(insert_booking, "created_booking"));
    for (i, insert) in more.into_iter().enumerate() {
        with.cte(named(insert, format!("also_{i}")));
    }
    with
}

/// `query` as the common table expression `name`.
fn named(query: impl Into<SubQueryStatement>, name: impl Into<String>) -> CommonTableExpression {
    let mut cte = CommonTableExpression::new();
    cte.query(query).table_name(name.into());
    cte
}

/// `query` run `with` (sea-query's `with` methods clone both).
fn with_query(with: WithClause, query: impl Into<SubQueryStatement>) -> WithQuery {
    let mut with_query = WithQuery::new();
    with_query.with_clause(with).query(query);
    with_query
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
