//! PostgreSQL: the connections of the one-statement booking
//! ([`super::bookings::insert_taking_seat_on`]), in a pool of their own that hands out the
//! connection returned last and checks a connection only after it has been idle.
//!
//! The service's sea-orm pool is sqlx's, which does two things a booking pays for at low load:
//! it hands out the connection that has waited longest, so one client's consecutive bookings
//! visit every server process in turn, each with cold caches; and it checks every connection
//! returned to it with a round trip (sqlx 0.9 does that unconditionally). Measured on 2 cores,
//! the booking statement took 0.35 ms on the server over that pool and 0.22 ms on one
//! connection (BENCHMARKS.md, "why PostgreSQL's one booking statement takes longer than
//! pgbench's"). This pool (deadpool, last in, first out) keeps one client on one warm server
//! process and spends no round trip on a return.
//!
//! A connection whose statement failed other than with the database's refusal (the socket, the
//! protocol) is not returned; the next booking opens a new one. Nor is a connection whose
//! statement's request was cancelled before the answer came (sqlx's pool checks every returned
//! connection for that case; here only such a connection is concerned). The booking statement is
//! one implicit transaction, so no transaction is ever left open on a returned connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;

use super::error::session_ended;
use super::{PING_AFTER_IDLE, StoreError};

/// What the booking connections call themselves on PostgreSQL (`application_name`, seen in
/// `pg_stat_activity`).
pub const BOOKING_APPLICATION_NAME: &str = "terminbuch bookings";

/// A connection not handed out this long is closed (sqlx's default idle timeout).
const CLOSE_AFTER_IDLE: Duration = Duration::from_secs(600);

/// How long a booking waits for a connection (all in use) or for a new one to open.
const WAIT: Duration = Duration::from_secs(30);

/// The one-statement booking's connections; cheap to clone.
#[derive(Clone)]
pub struct BookingPool {
    pool: managed::Pool<Opener>,
}

/// Opens and checks the pool's connections.
struct Opener {
    options: PgConnectOptions,
}

impl managed::Manager for Opener {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.options.connect().await
    }

    /// Called when a connection is handed out: a round trip only after `PING_AFTER_IDLE`.
    async fn recycle(&self, connection: &mut PgConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.last_used() < PING_AFTER_IDLE {
            return Ok(());
        }
        connection.ping().await.map_err(RecycleError::Backend)
    }
}

impl BookingPool {
    /// PostgreSQL: a pool as large as `db`'s (connections opened when needed) on the same
    /// server, database and schema; `None` on SQLite.
    ///
    /// # Errors
    /// When `db` cannot tell its `search_path`.
    pub async fn for_db(db: &DatabaseConnection) -> Result<Option<Self>, StoreError> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let main = db.get_postgres_connection_pool();
        let search_path = super::search_path(db).await?;
        let options = (*main.connect_options())
            .clone()
            .application_name(BOOKING_APPLICATION_NAME)
            .options([("search_path", search_path.as_str())]);
        let size = usize::try_from(main.options().get_max_connections()).unwrap_or(usize::MAX);
        let pool = managed::Pool::builder(Opener { options })
            .max_size(size)
            .queue_mode(managed::QueueMode::Lifo)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|err| StoreError::Io(format!("the booking pool: {err}")))?;
        close_idle(&pool);
        Ok(Some(Self { pool }))
    }

    /// Runs `statement` (one statement, outside a transaction) and discards its rows.
    ///
    /// # Errors
    /// The database's refusal as sea-orm would report it; `Busy` when no connection could be had.
    pub async fn run(&self, statement: Statement) -> Result<(), StoreError> {
        let connection = self.pool.get().await.map_err(|err| {
            tracing::warn!(error = %err, "no connection for a booking");
            StoreError::Busy
        })?;
        let mut lent = Lent(Some(connection));
        let values = statement.values.unwrap_or_else(|| Values(Vec::new()));
        let query = sqlx::query_with(sqlx::AssertSqlSafe(statement.sql.as_str()), SqlxValues(values));
        let outcome = match lent.0.as_deref_mut() {
            Some(connection) => query.fetch_optional(connection).await.map(drop),
            None => Err(sqlx::Error::PoolClosed),
        };
        // Answered: the connection goes back (or is closed below), not dropped as cancelled.
        let connection = lent.0.take();
        match outcome {
            Ok(()) => Ok(()),
            Err(err) => {
                if connection_lost(&err) {
                    // Closed, not returned; and the idle ones are likely gone too (a server
                    // restart ends them all), so they are closed rather than each failing a
                    // booking of its own.
                    drop(connection.map(Object::take));
                    drop(self.pool.retain(|_, _| false));
                }
                Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(err))).into())
            }
        }
    }

    /// Connections open now (in use or idle).
    pub fn open_connections(&self) -> usize {
        self.pool.status().size
    }

    /// Closes the idle connections last handed out before `cutoff` (or, never handed out again,
    /// opened before it); returns how many. The pool does this once a minute with a cutoff
    /// `CLOSE_AFTER_IDLE` ago.
    pub async fn close_unused_since(&self, cutoff: Instant) -> usize {
        close_unused_since(&self.pool, cutoff).await
    }
}

/// Takes the idle connections unused since `cutoff` out of `pool` and ends their sessions (a
/// `Terminate` message, so the server logs no lost client).
async fn close_unused_since(pool: &managed::Pool<Opener>, cutoff: Instant) -> usize {
    let unused = pool.retain(|_, metrics| metrics.recycled.unwrap_or(metrics.created) >= cutoff).removed;
    let closed = unused.len();
    for connection in unused {
        if let Err(err) = connection.close().await {
            tracing::debug!(error = %err, "closing an unused booking connection");
        }
    }
    closed
}

/// A connection while its statement runs. Dropped before the statement has answered (the
/// request was cancelled: its client went away), the connection is closed rather than returned
/// with an answer still unread on it.
struct Lent(Option<Object<Opener>>);

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            drop(Object::take(connection));
        }
    }
}

/// Closes connections not handed out for `CLOSE_AFTER_IDLE`, once a minute, as sqlx's pool does
/// after its idle timeout: a burst's connections do not stay open on the server for good. The
/// task ends with the pool.
fn close_idle(pool: &managed::Pool<Opener>) {
    let pool = pool.weak();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            let Some(pool) = pool.upgrade() else { return };
            if let Some(cutoff) = Instant::now().checked_sub(CLOSE_AFTER_IDLE) {
                close_unused_since(&pool, cutoff).await;
            }
        }
    });
}

/// Whether `err` means the connection is of no further use: not the database's answer to the
/// statement but the socket or the protocol, or the server ending the session.
fn connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db_err) => db_err.code().is_some_and(|code| session_ended(&code)),
        _ => true,
    }
}
