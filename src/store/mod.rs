//! sea-orm queries and row ↔ record conversion; the only user of the `entity` crate.

pub mod audit;
pub mod blocking;
mod booking_insert;
pub mod booking_pool;
pub mod booking_search;
pub mod bookings;
pub mod calendar_feeds;
pub mod callbacks;
pub mod citizen_links;
pub mod devices;
pub mod directory;
mod error;
mod ids;
pub mod mfa;
pub mod monitoring;
pub mod outbox;
pub mod resets;
pub mod restore_access;
pub mod retention;
pub mod schedule;
pub mod sessions;
pub mod slots;
pub mod sqlite_direct;
pub mod statistics;
pub mod submissions;
pub mod throttle;
mod versioned;
mod write_turn;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};

pub use error::StoreError;
pub use versioned::Versioned;
pub use write_turn::{WriteTxn, begin_write, write_turn, writers_waiting};

/// A pooled connection idle this long is pinged before use; a busier one is not.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// How long a pooled SQLite connection waits for a lock before it gives up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens the pool with settings chosen for each engine.
///
/// SQLite: WAL, `synchronous=FULL` (an acknowledged booking survives a power cut), foreign keys
/// on, a busy timeout so writers queue instead of failing.
///
/// # Errors
/// When the database cannot be reached or opened.
pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<DatabaseConnection, StoreError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(5))
        // A connection is pinged before use only after it has idled for a while (a dropped
        // connection is caught then); pinging on every checkout cost a round trip per query.
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE);
    if url.starts_with("sqlite:") {
        create_private_sqlite_file(url).map_err(|err| StoreError::Io(err.to_string()))?;
        options.max_connections(max_connections.unwrap_or(8)).min_connections(1).map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // 512 KiB page cache per connection instead of 2 MiB: the OS caches the file
                // anyway, and idle memory stays low with several pooled connections.
                .pragma("cache_size", "-512")
                // Deleted and overwritten content is zeroed in the file, so erased personal
                // data leaves no bytes behind in free space (see services::retention).
                .pragma("secure_delete", "on")
        });
    } else {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            return Err(StoreError::CannotConnect(format!(
                "DATABASE_URL must begin with `sqlite:` or `postgres://`; `{scheme}:` is not supported"
            )));
        }
        first_postgres_connection(url).await?;
        options.max_connections(max_connections.unwrap_or_else(postgres_pool_size)).min_connections(1);
    }
    Database::connect(options).await.map_err(|err| StoreError::cannot_connect(&err))
}

/// PostgreSQL: one connection opened and closed before the pool is built, so that a server that
/// cannot be reached, or refuses the login, is reported at once with its reason. The pool itself
/// retries such failures until its acquire timeout (30 s) and then reports only that it timed out.
async fn first_postgres_connection(url: &str) -> Result<(), StoreError> {
    use sea_orm::sqlx::Connection;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
    let options: PgConnectOptions =
        url.parse().map_err(|err: sea_orm::sqlx::Error| StoreError::CannotConnect(err.to_string()))?;
    // Without a database name the driver takes the user's (often `postgres`, the maintenance
    // database), and the schema would be created there.
    if options.get_database().is_none_or(str::is_empty) {
        return Err(StoreError::CannotConnect(
            "DATABASE_URL names no database: add it, e.g. postgres://USER@HOST:5432/terminbuch".to_owned(),
        ));
    }
    let opened = tokio::time::timeout(FIRST_CONNECTION_TIMEOUT, PgConnection::connect_with(&options)).await;
    let Ok(opened) = opened else {
        return Err(StoreError::CannotConnect(format!(
            "the database server did not answer within {} s",
            FIRST_CONNECTION_TIMEOUT.as_secs()
        )));
    };
    let connection = opened
        .map_err(|err| StoreError::cannot_connect(&sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into()))))?;
    // Closing politely is a courtesy to the server; its failure changes nothing here.
    let _ = connection.close().await;
    Ok(())
}

/// How long the first connection to PostgreSQL may take before the server counts as unreachable.
const FIRST_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// What the free-slot search's connections call themselves on PostgreSQL (`application_name`,
/// seen in `pg_stat_activity`).
pub const SEARCH_APPLICATION_NAME: &str = "terminbuch free-slot search";

/// PostgreSQL: a second pool, half as large as `db`'s (at least 2 connections, opened when
/// needed) and on the same server, database and schema, for the free-slot search's page
/// statement ([`blocking::free_page`]) alone; `None` on SQLite.
///
/// Its connections plan prepared statements generically (`plan_cache_mode =
/// force_generic_plan`): the page statement is prepared once per connection and its plan then
/// reused. Left to itself, PostgreSQL plans each execution for its values once the table holds
/// millions of past slots (their estimates beat the generic plan's), and planning the page's
/// four branches takes longer than running them (BENCHMARKS.md, "why the counsellor-restricted
/// search slows down with ten million bookings"). The service's other statements keep the
/// default on `db`: several of them need plans for their values.
///
/// # Errors
/// When `db` cannot tell its `search_path`.
pub async fn search_pool(db: &DatabaseConnection) -> Result<Option<DatabaseConnection>, StoreError> {
    use sea_orm::sqlx::postgres::PgPoolOptions;
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let main = db.get_postgres_connection_pool();
    let search_path = search_path(db).await?;
    let options = (*main.connect_options())
        .clone()
        .application_name(SEARCH_APPLICATION_NAME)
        .options([("plan_cache_mode", "force_generic_plan"), ("search_path", search_path.as_str())]);
    let pool = PgPoolOptions::new()
        .max_connections((main.options().get_max_connections() / 2).max(2))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(30))
        // As `connect`: a ping before use only after PING_AFTER_IDLE, not a round trip per search.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for < PING_AFTER_IDLE {
                    return Ok(true);
                }
                sea_orm::sqlx::Connection::ping(conn).await.map(|()| true)
            })
        })
        .connect_lazy_with(options);
    Ok(Some(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)))
}

/// PostgreSQL: the schema `db`'s connections work in (an operator's or a test's), to be passed on
/// to the pools of its own that a statement gets (the free-slot search's, the bookings').
async fn search_path(db: &DatabaseConnection) -> Result<String, StoreError> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('search_path') AS path",
        ))
        .await?;
    let Some(row) = row else { return Err(StoreError::Io("the server did not tell its search_path".to_owned())) };
    Ok(row.try_get("", "path")?)
}

/// PostgreSQL's pool without `TERMINBUCH_DB_MAX_CONNECTIONS`: four connections per CPU core,
/// 4 to 16. sqlx hands out the idle connection that waited longest, so with more connections than
/// the load needs, consecutive statements go to different server processes in turn; on 2 cores, 8
/// connections booked faster than 16 at one client and at 16 (BENCHMARKS.md, 2026-12-03 evening).
fn postgres_pool_size() -> u32 {
    pool_size_for(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
}

fn pool_size_for(cores: usize) -> u32 {
    u32::try_from(cores.saturating_mul(4)).unwrap_or(u32::MAX).clamp(4, 16)
}

/// On PostgreSQL, waits until no other process is starting on the same schema and returns the
/// transaction that holds the turn (an advisory lock, released when the transaction ends). On
/// SQLite, `None`: one file database belongs to one server process.
///
/// # Errors
/// When the database refuses the lock.
pub async fn bootstrap_turn(db: &DatabaseConnection) -> Result<Option<DatabaseTransaction>, StoreError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(1952805748, hashtext(current_schema()))").await?;
    Ok(Some(txn))
}

/// Creates the folder (mode 0700) and, when the URL may create it (`mode=rwc`), the empty file
/// (mode 0600) of a SQLite database that does not exist yet, so that the citizens' data are no
/// more readable than their `.eml` files and backups: SQLite would create the file, and its
/// `-wal` and `-shm` after it, with the process's umask (usually readable by every local user).
/// An existing database (and its `-wal` and `-shm`) that other local users may read, as earlier
/// releases left it, loses their permissions ([`crate::privacy_fs::deny_others`]); its owner's
/// and group's stay, and so does the folder's (it may not be the service's own).
fn create_private_sqlite_file(url: &str) -> std::io::Result<()> {
    let Some(path) = sqlite_path(url) else { return Ok(()) };
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        file.mode(0o600);
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        folder.create(dir)?;
    }
    let creates = url.split_once('?').is_some_and(|(_, query)| query.split('&').any(|pair| pair == "mode=rwc"));
    if creates {
        match file.open(path) {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    for file in sqlite_files(path) {
        crate::privacy_fs::deny_others(&file);
    }
    Ok(())
}

/// A SQLite database file and its write-ahead log and index beside it: `[file, -wal, -shm]`.
pub fn sqlite_files(path: &std::path::Path) -> [std::path::PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    })
}

/// The file of a `sqlite:` URL; `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(std::path::Path::new(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_pools_have_four_connections_per_core_within_4_to_16() {
        assert_eq!([1, 2, 3, 4, 64].map(pool_size_for), [4, 8, 12, 16, 16]);
    }

    #[test]
    fn sqlite_urls_name_their_folder() {
        let parent = |url| sqlite_path(url).and_then(std::path::Path::parent).map(std::path::Path::to_path_buf);
        assert_eq!(parent("sqlite://data/t.db?mode=rwc"), Some("data".into()));
        assert_eq!(parent("sqlite::memory:"), None);
        assert_eq!(parent("sqlite://t.db"), Some("".into()));
    }
}
