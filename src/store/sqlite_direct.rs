//! The SQLite booking writer's own connection, synchronous: the sqlite3 C library through
//! rusqlite, on the writer's thread. Through sqlx every statement is a hop to the connection's
//! worker thread and back (four per booking); here it is a function call. It runs the statements
//! the store builds for sea-orm (`slots::seat_update`, `booking_insert::sqlite_inserts`): the
//! same SQL, with the values encoded as sqlx encodes them, so rows written here read back through
//! sea-orm unchanged (tested below).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use entity::slot::{self, SlotKind};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, ErrorCode, OpenFlags, Row};
use sea_orm::sea_query::{InsertStatement, OptionEnum, Query, SqliteQueryBuilder, Value, Values};
use sea_orm::{DatabaseConnection, Iterable, QueryTrait};

use super::StoreError;
use super::slots::{TakenSeat, seat_update, slot_record};
use crate::domain::history::Created;
use crate::domain::ids::SlotId;
use crate::domain::records::Booking;

/// A synchronous connection to the server's SQLite file with the pool's settings.
pub struct DirectSqlite {
    connection: Connection,
}

impl DirectSqlite {
    /// Opens the file of the pool `db` with the pool's settings (see `store::connect`; a test
    /// compares the two).
    ///
    /// # Errors
    /// When the file cannot be opened or a setting is refused.
    pub fn open(db: &DatabaseConnection) -> Result<Self, StoreError> {
        let file = db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(file, flags).map_err(store_error)?;
        connection.busy_timeout(Duration::from_secs(30)).map_err(store_error)?;
        for (pragma, value) in [
            ("journal_mode", "WAL"),
            ("synchronous", "FULL"),
            ("foreign_keys", "ON"),
            ("cache_size", "-512"),
            ("secure_delete", "ON"),
        ] {
            // `journal_mode` answers with a row, which `pragma_update` tolerates.
            connection.pragma_update(None, pragma, value).map_err(store_error)?;
        }
        Ok(Self { connection })
    }

    /// Runs statements without values (`BEGIN IMMEDIATE`, `SAVEPOINT b`, `COMMIT`, …).
    ///
    /// # Errors
    /// What the database reports (a failed `COMMIT` among them).
    pub fn run(&self, sql: &str) -> Result<(), StoreError> {
        self.connection.execute_batch(sql).map_err(store_error)
    }

    /// Whether a transaction is open (after a failure SQLite may have rolled it back itself).
    pub fn in_transaction(&self) -> bool {
        !self.connection.is_autocommit()
    }

    /// [`super::slots::take_regular_seat`] on this connection (SQLite: the closure and absence
    /// check rides along when `check_unblocked`).
    ///
    /// # Errors
    /// `CounsellorOverlap` when the counsellor is booked at an overlapping time.
    pub fn take_regular_seat(&self, slot_id: SlotId, check_unblocked: bool) -> Result<Option<TakenSeat>, StoreError> {
        let (sql, values) = seat_update(slot_id, check_unblocked)
            .into_query()
            .returning(Query::returning().columns(slot::Column::iter()))
            .build(SqliteQueryBuilder);
        let mut statement = self.connection.prepare_cached(&sql).map_err(store_error)?;
        let mut rows = statement.query(rusqlite::params_from_iter(sql_values(&values)?)).map_err(store_error)?;
        let Some(row) = rows.next().map_err(store_error)? else {
            return Ok(None);
        };
        let slot = slot_record(slot_model(row)?);
        // Step the statement to its end, so the update is complete before the next statement.
        while rows.next().map_err(store_error)?.is_some() {}
        Ok(Some(TakenSeat { slot, unblocked_checked: check_unblocked }))
    }

    /// [`super::bookings::insert_created_with`] on this connection.
    ///
    /// # Errors
    /// `Duplicate` on a reference collision; what the other inserts violate.
    pub fn insert_created_with(
        &self,
        booking: &Booking,
        created: Created,
        more: Vec<InsertStatement>,
    ) -> Result<(), StoreError> {
        for (sql, values) in super::booking_insert::sqlite_inserts(booking, created, more) {
            let mut statement = self.connection.prepare_cached(&sql).map_err(store_error)?;
            statement.execute(rusqlite::params_from_iter(sql_values(&values)?)).map_err(store_error)?;
        }
        Ok(())
    }
}

/// The values as sqlx binds them on SQLite (`sea-query-sqlx`, `sqlx-sqlite`'s encoders), so that
/// a row stored here is the row sqlx would have stored: times as RFC 3339 text, UUIDs as 16-byte
/// blobs, booleans as 0 or 1, JSON as text.
fn sql_values(values: &Values) -> Result<Vec<Sql>, StoreError> {
    values.0.iter().map(sql_value).collect()
}

fn sql_value(value: &Value) -> Result<Sql, StoreError> {
    fn or_null<T>(value: Option<T>, into: impl FnOnce(T) -> Sql) -> Sql {
        value.map_or(Sql::Null, into)
    }
    Ok(match value {
        Value::Bool(v) => or_null(*v, |v| Sql::Integer(i64::from(v))),
        Value::TinyInt(v) => or_null(*v, |v| Sql::Integer(v.into())),
        Value::SmallInt(v) => or_null(*v, |v| Sql::Integer(v.into())),
        Value::Int(v) => or_null(*v, |v| Sql::Integer(v.into())),
        Value::BigInt(v) => or_null(*v, Sql::Integer),
        Value::TinyUnsigned(v) => or_null(*v, |v| Sql::Integer(v.into())),
        Value::SmallUnsigned(v) => or_null(*v, |v| Sql::Integer(v.into())),
        Value::Unsigned(v) => or_null(*v, |v| Sql::Integer(v.into())),
        Value::Float(v) => or_null(*v, |v| Sql::Real(v.into())),
        Value::Double(v) => or_null(*v, Sql::Real),
        Value::String(v) => or_null(v.clone(), Sql::Text),
        Value::Char(v) => or_null(*v, |v| Sql::Text(v.to_string())),
        Value::Enum(OptionEnum::Some(v)) => Sql::Text(v.value.to_string()),
        Value::Enum(OptionEnum::None(_)) => Sql::Null,
        Value::Bytes(v) => or_null(v.clone(), Sql::Blob),
        Value::ChronoDateTimeUtc(v) => or_null(*v, |v| Sql::Text(v.to_rfc3339_opts(SecondsFormat::AutoSi, false))),
        Value::ChronoDate(v) => or_null(*v, |v| Sql::Text(v.format("%F").to_string())),
        Value::ChronoDateTime(v) => or_null(*v, |v| Sql::Text(v.format("%F %T%.f").to_string())),
        Value::Uuid(v) => or_null(*v, |v| Sql::Blob(v.as_bytes().to_vec())),
        Value::Json(v) => or_null(v.as_deref(), |v| Sql::Text(v.to_string())),
        other => return Err(StoreError::Io(format!("a value the booking writer does not bind: {other:?}"))),
    })
}

fn slot_model(row: &Row<'_>) -> Result<slot::Model, StoreError> {
    let kind: String = row.get("kind").map_err(store_error)?;
    Ok(slot::Model {
        id: row.get("id").map_err(store_error)?,
        unit_id: row.get("unit_id").map_err(store_error)?,
        counsellor_id: row.get("counsellor_id").map_err(store_error)?,
        rule_id: row.get("rule_id").map_err(store_error)?,
        kind: if kind == "adhoc" { SlotKind::Adhoc } else { SlotKind::Regular },
        starts_at: time(row, "starts_at")?,
        ends_at: time(row, "ends_at")?,
        capacity: row.get("capacity").map_err(store_error)?,
        booked_count: row.get("booked_count").map_err(store_error)?,
        created_at: time(row, "created_at")?,
    })
}

/// A time column as sqlx reads it: RFC 3339 as written, or one of SQLite's own text formats.
fn time(row: &Row<'_>, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = row.get(column).map_err(store_error)?;
    if let Ok(time) = DateTime::parse_from_rfc3339(&text) {
        return Ok(time.to_utc());
    }
    for format in ["%F %T%.f%:z", "%F %T%.fZ", "%FT%T%.fZ"] {
        if let Ok(time) = DateTime::parse_from_str(&text, format) {
            return Ok(time.to_utc());
        }
    }
    for format in ["%F %T%.f", "%FT%T%.f"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(&text, format) {
            return Ok(time.and_utc());
        }
    }
    Err(StoreError::Io(format!("slots.{column} is no time: {text:?}")))
}

/// The classification of `StoreError::from(DbErr)` for rusqlite's errors.
fn store_error(err: rusqlite::Error) -> StoreError {
    let message = err.to_string();
    if message.contains(super::error::OVERLAP_GUARD) {
        return StoreError::CounsellorOverlap;
    }
    let Some(failure) = err.sqlite_error() else {
        return StoreError::Io(message);
    };
    match (failure.code, failure.extended_code) {
        // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        (ErrorCode::ConstraintViolation, 2067 | 1555) => StoreError::Duplicate(message),
        // SQLITE_CONSTRAINT_FOREIGNKEY
        (ErrorCode::ConstraintViolation, 787) => StoreError::MissingReference(message),
        // SQLITE_CONSTRAINT_CHECK
        (ErrorCode::ConstraintViolation, 275) => StoreError::Check(message),
        (_, code) if super::error::sqlite_write_refused(code) => StoreError::Busy,
        _ => StoreError::Io(message),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn values_are_bound_as_sqlx_binds_them() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap();
        let id = uuid::Uuid::now_v7();
        assert_eq!(sql_value(&Value::from(at)).unwrap(), Sql::Text("2026-12-03T09:30:00+00:00".into()));
        assert_eq!(sql_value(&Value::from(id)).unwrap(), Sql::Blob(id.as_bytes().to_vec()));
        assert_eq!(sql_value(&Value::from(true)).unwrap(), Sql::Integer(1));
        assert_eq!(sql_value(&Value::from(None::<String>)).unwrap(), Sql::Null);
        let json = serde_json::json!({"a": 1});
        assert_eq!(sql_value(&Value::from(json)).unwrap(), Sql::Text(r#"{"a":1}"#.into()));
    }

    #[tokio::test]
    async fn the_writer_connection_has_the_pool_settings() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let pool = super::super::connect(&url, Some(1)).await.unwrap();
        let direct = DirectSqlite::open(&pool).unwrap();
        for pragma in ["journal_mode", "synchronous", "foreign_keys", "cache_size", "secure_delete", "busy_timeout"] {
            let sql = format!("SELECT CAST((SELECT * FROM pragma_{pragma}) AS TEXT) AS v");
            let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql.clone());
            let pooled = sea_orm::ConnectionTrait::query_one_raw(&pool, statement).await.unwrap().unwrap();
            let pooled: String = pooled.try_get("", "v").unwrap();
            let own: String = direct.connection.query_row(&sql, [], |row| row.get(0)).unwrap();
            assert_eq!(own, pooled, "{pragma}");
        }
    }
}
