//! Write transactions: on SQLite every writer of the process takes a turn from one in-process
//! queue per database file before `BEGIN IMMEDIATE`, so writers wait in line instead of sleeping
//! in SQLite's busy handler (see `services::bookings::writer`, which takes the same turn).

use std::collections::HashMap;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

use super::StoreError;

/// One write turn per SQLite file in this process (weak, so a closed database's entry goes).
type Turns = Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>;

// A lock table, not configuration: it mirrors SQLite's own file lock inside the process, so it is
// keyed by the file, and every pool opened on that file (the server's, a bench's) shares it.
static TURNS: std::sync::LazyLock<Turns> = std::sync::LazyLock::new(Turns::default);

/// How many [`begin_write`] calls of this process wait for each file's write turn (an entry
/// goes when none waits).
static WAITING: std::sync::LazyLock<Mutex<HashMap<PathBuf, usize>>> = std::sync::LazyLock::new(Mutex::default);

/// The SQLite file of `db`; `None` on PostgreSQL.
fn file_of(db: &DatabaseConnection) -> Option<PathBuf> {
    (db.get_database_backend() == DbBackend::Sqlite)
        .then(|| db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf())
}

/// One [`begin_write`] waiting for its turn, counted in [`WAITING`] until it has the turn or
/// its future is dropped.
struct Waiting(PathBuf);

impl Waiting {
    fn new(file: PathBuf) -> Self {
        *WAITING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(file.clone()).or_default() += 1;
        Self(file)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut waiting = WAITING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = waiting.get_mut(&self.0) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                waiting.remove(&self.0);
            }
        }
    }
}

/// How many write transactions of this process wait for the write turn of `db`'s file right
/// now (0 on PostgreSQL). What a test reads to see a writer queued behind a transaction it
/// holds, instead of sleeping and hoping.
pub fn writers_waiting(db: &DatabaseConnection) -> usize {
    let Some(file) = file_of(db) else { return 0 };
    WAITING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&file).copied().unwrap_or(0)
}

/// The write turn of the database's file; `None` on PostgreSQL, which has row locks.
pub fn write_turn(db: &DatabaseConnection) -> Option<Arc<tokio::sync::Mutex<()>>> {
    file_of(db).map(turn_of)
}

/// The write turn of the SQLite file `file`.
fn turn_of(file: PathBuf) -> Arc<tokio::sync::Mutex<()>> {
    // A poisoned table only means another thread panicked while inserting: the map is still whole.
    let mut turns = TURNS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(turn) = turns.get(&file).and_then(Weak::upgrade) {
        return turn;
    }
    turns.retain(|_, turn| turn.strong_count() > 0);
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    turns.insert(file, Arc::downgrade(&turn));
    turn
}

/// A write transaction holding the process's write turn (SQLite) until it commits or rolls back.
/// Queries run on it like on the transaction it wraps.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

/// Begins a write transaction. On SQLite it first waits for the write turn of the file, then
/// takes the write lock at once (`BEGIN IMMEDIATE`), so writers queue in the process and never
/// fail on lock upgrade.
///
/// # Errors
/// When the database refuses the transaction.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, StoreError> {
    let turn = match file_of(db) {
        Some(file) => {
            let turn = turn_of(file.clone());
            let _waiting = Waiting::new(file);
            Some(turn.lock_owned().await)
        }
        None => None,
    };
    let options = TransactionOptions {
        sqlite_transaction_mode: turn.is_some().then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.begin_with_options(options).await?;
    Ok(WriteTxn { txn, _turn: turn })
}

impl WriteTxn {
    /// Commits, then gives the turn to the next writer.
    ///
    /// # Errors
    /// When the commit fails (then nothing of the transaction is stored).
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back, then gives the turn to the next writer.
    ///
    /// # Errors
    /// When the database reports an error while rolling back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}
