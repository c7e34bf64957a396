//! Database errors, with the constraint violations the services act on named.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr};

/// What went wrong in the database, classified.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The exclusion constraint (PostgreSQL) or trigger (SQLite) on booked slots fired.
    #[error("the counsellor already has an appointment at that time")]
    CounsellorOverlap,
    #[error("a unique value already exists: {0}")]
    Duplicate(String),
    #[error("a referenced row does not exist: {0}")]
    MissingReference(String),
    #[error("a database check failed: {0}")]
    Check(String),
    /// Serialization failure or deadlock: the caller may retry.
    #[error("a concurrent change got in the way")]
    Conflict,
    #[error("the database is busy")]
    Busy,
    /// PostgreSQL's `take_seat` took no seat: the slot is full, no regular slot, or no longer as
    /// it was read (see `bookings::insert_taking_seat`).
    #[error("the slot is not free as it was read")]
    SeatNotAsRead,
    /// PostgreSQL's `take_seat` found a closure or absence overlapping the slot.
    #[error("a closure or absence overlaps the slot")]
    SeatBlocked,
    /// PostgreSQL refused a text it cannot store (U+0000, NUL): the input's fault, not the
    /// database's. The edges refuse NUL before it gets here; this names what slips past them.
    #[error("a text the database cannot store: {0}")]
    Unstorable(String),
    #[error("file system: {0}")]
    Io(String),
    /// No connection could be opened at start (the server not reachable, the database missing,
    /// the login refused): what the database or the network said, once.
    #[error("{0}")]
    CannotConnect(String),
    #[error(transparent)]
    Db(DbErr),
}

/// The name of the guard against overlapping booked slots (PostgreSQL's exclusion constraint,
/// SQLite's triggers raise it as their message).
pub(super) const OVERLAP_GUARD: &str = "slots_no_counsellor_overlap";

/// SQLite result codes (extended or primary) that refuse a write as a whole and may succeed later:
/// busy or locked; the disk full (13) or failing to write (10 and its extended codes). Shared by
/// sqlx's errors and the booking writer's own connection (`super::sqlite_direct`).
pub(super) fn sqlite_write_refused(code: i32) -> bool {
    matches!(code, 5 | 6 | 517 | 13) || code & 0xff == 10
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if err.to_string().contains(OVERLAP_GUARD) {
            return Self::CounsellorOverlap;
        }
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(msg)) => return Self::Duplicate(msg),
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(msg)) => return Self::MissingReference(msg),
            _ => {}
        }
        if let DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) = &err
            && let sea_orm::sqlx::Error::Database(db_err) = e.deref()
        {
            let code = db_err.code().unwrap_or_default();
            match code.deref() {
                "23P01" => return Self::CounsellorOverlap,
                "23514" | "275" => return Self::Check(db_err.message().to_owned()),
                "40001" | "40P01" => return Self::Conflict,
                // character_not_in_repertoire (a NUL byte), untranslatable_character (`\u0000` in JSON)
                "22021" | "22P05" => return Self::Unstorable(db_err.message().to_owned()),
                "TBS01" => return Self::SeatNotAsRead,
                "TBS02" => return Self::SeatBlocked,
                code if code.parse::<i32>().is_ok_and(sqlite_write_refused) => return Self::Busy,
                code if session_ended(code) => return Self::Busy,
                _ => {}
            }
            if db_err.message().contains("CHECK constraint failed") {
                return Self::Check(db_err.message().to_owned());
            }
        }
        if lost_connection(&err) {
            return Self::Busy;
        }
        Self::Db(err)
    }
}

/// Whether PostgreSQL's SQLSTATE `code` says the server ended the session rather than refused the
/// statement: a connection exception (class 08), or operator intervention ending it (`57P..`: a
/// shutdown or restart, a terminated server process, a server still starting, an idle session's
/// timeout). The statement did not commit, and a retry on a new connection usually works.
pub(super) fn session_ended(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P")
}

/// The connection broke or none could be had (the server restarted, the pool timed out): the
/// statement did not commit, and a retry a moment later usually works.
fn lost_connection(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            e.deref(),
            Error::Io(_) | Error::Protocol(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed
        ),
        _ => false,
    }
}

impl StoreError {
    /// A failure to open the first connection, told as what the network or the database said
    /// (a refused connection is no busy database, as [`From<DbErr>`] would classify it for a
    /// request; and the driver's source line is left out).
    pub fn cannot_connect(err: &DbErr) -> Self {
        use sea_orm::sqlx::Error;
        let text = match err {
            DbErr::Conn(RuntimeErr::SqlxError(e))
            | DbErr::Exec(RuntimeErr::SqlxError(e))
            | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.deref() {
                Error::Io(io) => format!("the database server cannot be reached: {io}"),
                Error::Database(db) => db.message().to_owned(),
                Error::PoolTimedOut => {
                    "no connection was opened in time (is the database server running, and reachable at that host \
                     and port?)"
                        .to_owned()
                }
                other => other.to_string(),
            },
            other => other.to_string(),
        };
        Self::CannotConnect(text)
    }
}
