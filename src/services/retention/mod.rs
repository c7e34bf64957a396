//! Retention of personal data (Löschfrist): the daily run (and `terminbuch retention run`)
//! removes the personal data of every booking whose unit's retention has passed, the same
//! anonymisation an erasure on request uses ([`erase_bookings`]), and the ended entries of the
//! callback list. On SQLite the removed bytes are overwritten (`secure_delete`, set on every
//! connection) and the write-ahead log is emptied afterwards ([`compact`]).

mod files;
mod units;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use uuid::Uuid;

pub use self::files::{lost_in_restore, remove_eml_files, sweep_forgotten};
pub use self::units::{Shortened, keep_the_shorter_after_restore, set_retention_days};
use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use crate::clock::Clock;
use crate::domain::ids::UnitId;
use crate::domain::reference::Reference;
pub use crate::domain::retention::Erased;
use crate::domain::retention::cutoff;
use crate::store::{self, retention};

/// What a run is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct RetentionRun<'a> {
    /// The local day the run acts for (normally today).
    pub as_of: NaiveDate,
    /// List what would go, change nothing.
    pub dry_run: bool,
    pub tz: Tz,
    /// The data folder whose `mail/` holds `.eml` files.
    pub data_dir: &'a Path,
}

/// One expired booking, as the dry run lists it (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub id: Uuid,
    pub unit_id: UnitId,
    /// The booking number staff read (not personal: it names no one).
    pub reference: Reference,
}

/// What a run found and did.
#[derive(Debug, Clone, Default)]
pub struct RetentionReport {
    pub expired: Vec<Expired>,
    pub erased: Erased,
    pub callbacks: u64,
    pub files: u64,
}

/// Bookings a run erases per transaction. A first run over years of bookings (an upgrade from
/// a release without retention) would otherwise hold SQLite's write lock, and every booking
/// waiting for it, for as long as the whole run takes, and redo it all after a failure.
pub const RUN_BATCH: usize = 1_000;

/// Runs the retention for `run.as_of`: finds the expired bookings of every unit and, unless a
/// dry run, erases them [`RUN_BATCH`] at a time, each part in one transaction with its audit
/// record (counts only, and which part of how many; the first part also erases the ended
/// callback entries), then removes their `.eml` files (and those of other forgotten emails) and
/// compacts SQLite.
///
/// # Errors
/// Database failures: the parts committed before stay erased and recorded; the next run erases
/// the rest.
pub async fn run(
    db: &DatabaseConnection,
    clock: &Clock,
    run: RetentionRun<'_>,
) -> Result<RetentionReport, ServiceError> {
    run_in_parts(db, clock, run, RUN_BATCH).await
}

/// Runs [`run`] unless a whole run for `due` or a later day is recorded already (by another
/// process, or before a restart): `None` then.
///
/// # Errors
/// As [`run`].
pub async fn run_unless_recorded(
    db: &DatabaseConnection,
    clock: &Clock,
    run: RetentionRun<'_>,
    due: NaiveDate,
) -> Result<Option<RetentionReport>, ServiceError> {
    if recorded_for(db, due).await? {
        return Ok(None);
    }
    self::run(db, clock, run).await.map(Some)
}

/// Records that the run as of `as_of` failed at its `attempt` and when it is tried again (none:
/// at the next run time). The error itself is not recorded: it may quote a stored value.
///
/// # Errors
/// Database failures.
pub async fn record_failed_run(
    db: &DatabaseConnection,
    clock: &Clock,
    as_of: NaiveDate,
    attempt: u32,
    next_try: Option<std::time::Duration>,
) -> Result<(), ServiceError> {
    let entry = AuditEntry::system(AuditAction::RetentionRunFailed).detail(serde_json::json!({
        "as_of": as_of,
        "attempt": attempt,
        "next_try_in_seconds": next_try.map(|wait| wait.as_secs()),
    }));
    audit::record(db, clock, entry).await
}

/// The newest run records looked at for a whole run.
const RECENT_RUNS: u64 = 200;

/// The bookings of `listed` that are still expired, read again in the erasing part's own
/// transaction with each unit's retention as it is now: the run lists its bookings before its
/// parts, and a booking moved to a later time, or a unit whose retention was raised, meanwhile
/// keeps its data.
async fn still_expired<C: ConnectionTrait>(
    txn: &C,
    listed: &[Expired],
    run: &RetentionRun<'_>,
) -> Result<Vec<Uuid>, ServiceError> {
    let mut by_unit: std::collections::BTreeMap<UnitId, Vec<Uuid>> = std::collections::BTreeMap::new();
    for expired in listed {
        by_unit.entry(expired.unit_id).or_default().push(expired.id);
    }
    let mut still = Vec::with_capacity(listed.len());
    for (unit_id, ids) in by_unit {
        if let Some(days) = retention::retention_days_locked(txn, unit_id).await? {
            still.extend(retention::still_expired(txn, unit_id, cutoff(run.as_of, days, run.tz), &ids).await?);
        }
    }
    Ok(still)
}

/// Whether a whole run for `day` or a later day is recorded: its last part committed (a run that
/// stopped halfway counts as not made). Runs recorded before runs had parts count as whole.
///
/// # Errors
/// Database failures.
pub async fn recorded_for(db: &DatabaseConnection, day: NaiveDate) -> Result<bool, store::StoreError> {
    let filter = crate::domain::audit::AuditFilter {
        action: Some(AuditAction::RetentionRun),
        ..crate::domain::audit::AuditFilter::newest(RECENT_RUNS)
    };
    let runs = store::audit::list(db, &filter).await?;
    Ok(runs.iter().any(|record| {
        let whole = record.detail.get("part").is_none_or(|part| Some(part) == record.detail.get("parts"));
        let as_of = record.detail["as_of"].as_str().and_then(|d| d.parse::<NaiveDate>().ok());
        whole && as_of.is_some_and(|as_of| as_of >= day)
    }))
}

/// [`run`] with `batch` bookings per transaction.
///
/// # Errors
/// As [`run`].
#[tracing::instrument(skip_all, fields(as_of = %run.as_of, dry_run = run.dry_run))]
pub async fn run_in_parts(
    db: &DatabaseConnection,
    clock: &Clock,
    run: RetentionRun<'_>,
    batch: usize,
) -> Result<RetentionReport, ServiceError> {
    let listed = list_expired(db, &run).await?;
    if run.dry_run {
        let callbacks = match shortest_cutoff(db, &run).await? {
            Some(cutoff) => super::callbacks::count_ended_before(db, cutoff, run.tz).await?,
            None => 0,
        };
        return Ok(RetentionReport { expired: listed, callbacks, ..RetentionReport::default() });
    }
    erase_listed(db, clock, run, listed, batch).await
}

/// The bookings whose retention has ended on `run.as_of`, by unit.
async fn list_expired(db: &DatabaseConnection, run: &RetentionRun<'_>) -> Result<Vec<Expired>, ServiceError> {
    let mut listed = Vec::new();
    for (unit_id, days) in retention::unit_retention(db).await? {
        let found = retention::expired(db, UnitId::new(unit_id), cutoff(run.as_of, days, run.tz)).await?;
        listed.extend(found.into_iter().map(|(id, reference)| Expired {
            id,
            unit_id: UnitId::new(unit_id),
            reference: Reference::from_stored(&reference),
        }));
    }
    Ok(listed)
}

/// The erasing half of [`run_in_parts`]: the bookings `listed` (by a dry run for the same day,
/// or just before) in parts of `batch`. Each part reads its bookings again in its own transaction
/// and erases only those still expired: one moved to a later time, or whose unit's retention was
/// raised, since the listing keeps its data.
///
/// # Errors
/// As [`run`].
pub async fn erase_listed(
    db: &DatabaseConnection,
    clock: &Clock,
    run: RetentionRun<'_>,
    listed: Vec<Expired>,
    batch: usize,
) -> Result<RetentionReport, ServiceError> {
    let mut report = RetentionReport { expired: listed, ..RetentionReport::default() };
    let batch = batch.max(1);
    // One part at least: a run that erases nothing is recorded too.
    let parts = report.expired.len().div_ceil(batch).max(1);
    let mut chunks = report.expired.chunks(batch);
    for part in 1..=parts {
        let listed = chunks.next().unwrap_or_default();
        let txn = store::begin_write(db).await?;
        let chunk = &still_expired(&txn, listed, &run).await?;
        // Ended callback entries go after the shortest retention of any unit, with the first
        // part, in the transaction its audit record commits with (all of it or none).
        let mut callbacks = 0;
        if part == 1
            && let Some(cutoff) = shortest_cutoff(&txn, &run).await?
        {
            callbacks = super::callbacks::erase_ended_before(&txn, cutoff, run.tz).await?;
        }
        let (erased, emails) = retention::erase(&txn, chunk, clock.now()).await?;
        let entry = AuditEntry::system(AuditAction::RetentionRun).count(chunk.len()).detail(serde_json::json!({
            "as_of": run.as_of,
            "bookings": erased.bookings,
            "history_events": erased.history_events,
            "emails": erased.emails,
            "callbacks": callbacks,
            "part": part,
            "parts": parts,
        }));
        audit::record(&txn, clock, entry).await?;
        txn.commit().await?;
        report.callbacks += callbacks;
        report.erased += erased;
        report.files += remove_eml_files(run.data_dir, &emails).await;
    }
    match sweep_forgotten(db, run.data_dir).await {
        Ok(swept) => report.files += swept,
        Err(err) => tracing::warn!(error = %err, "the .eml files of forgotten emails were not all looked at"),
    }
    compact(db).await;
    tracing::info!(
        bookings = report.erased.bookings,
        callbacks = report.callbacks,
        files = report.files,
        "retention run"
    );
    Ok(report)
}

/// The cutoff of the shortest retention of any unit, which the callback list's entries keep;
/// `None` without units.
async fn shortest_cutoff<C: ConnectionTrait>(
    db: &C,
    run: &RetentionRun<'_>,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let shortest = retention::unit_retention(db).await?.iter().map(|&(_, days)| days).min();
    Ok(shortest.map(|days| cutoff(run.as_of, days, run.tz)))
}

/// Erases the personal data of `ids` inside `txn` (see [`retention::erase`]); the caller
/// commits, then removes the `.eml` files of the returned emails and calls [`compact`].
///
/// # Errors
/// Database failures.
pub async fn erase_bookings<C: ConnectionTrait>(
    txn: &C,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(Erased, Vec<Uuid>), ServiceError> {
    Ok(retention::erase(txn, ids, now).await?)
}

/// How long one checkpoint may wait for the readers still using the write-ahead log. While it
/// waits it holds SQLite's write lock, so this is also the longest a booking waits for it.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(250);
/// Pauses between checkpoints that found a reader: doubling from the first, at most the last.
const CHECKPOINT_PAUSES: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));
/// Checkpoints tried before giving up until the next run (about four minutes in all).
const CHECKPOINT_TRIES: u32 = 12;

/// On SQLite, moves the write-ahead log into the database file and empties it, so that no
/// copy of erased data stays in the log (erased cells and pages are already overwritten by
/// `secure_delete`). Returns whether the log was emptied (always on PostgreSQL, which has no such
/// log to empty).
///
/// A checkpoint that empties the log must wait for every reader still using it, and holds
/// SQLite's write lock meanwhile. With the pool's busy timeout (30 s) one slow reader (a large
/// list, an audit export) would hold every booking for as long. So each try waits at most
/// [`CHECKPOINT_WAIT`], on a connection of its own whose timeout is set for it, and a try that
/// finds a reader is repeated after a pause, [`CHECKPOINT_TRIES`] times; then a warning is logged
/// and the next run tries again.
pub async fn compact(db: &DatabaseConnection) -> bool {
    if db.get_database_backend() != DbBackend::Sqlite {
        return true;
    }
    let pool = db.get_sqlite_connection_pool();
    let mut pause = CHECKPOINT_PAUSES.0;
    for tried in 1..=CHECKPOINT_TRIES {
        match checkpoint(pool).await {
            Ok(true) => return true,
            Ok(false) => tracing::debug!(tried, "a reader still used the SQLite write-ahead log"),
            Err(err) => tracing::debug!(tried, error = %err, "emptying the SQLite write-ahead log failed"),
        }
        if tried < CHECKPOINT_TRIES {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(CHECKPOINT_PAUSES.1);
        }
    }
    tracing::warn!(
        "the SQLite write-ahead log could not be emptied (a reader kept using it); it may hold erased data until the next run"
    );
    false
}

/// Runs `compact` in the background, for a request that should not wait for it (an erasure on
/// request: its answer does not depend on the log, and a reader could hold it for minutes).
pub fn compact_later(db: &DatabaseConnection) {
    let db = db.clone();
    tokio::spawn(async move { compact(&db).await });
}

/// One checkpoint on one pooled connection, with its busy timeout lowered to
/// [`CHECKPOINT_WAIT`] for it and set back afterwards; a connection whose timeout could not be
/// set back is closed rather than returned to the pool.
async fn checkpoint(pool: &sea_orm::sqlx::SqlitePool) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::{self, AssertSqlSafe, Row};
    // Both values are this crate's constants, not input.
    let busy_timeout = |wait: Duration| AssertSqlSafe(format!("PRAGMA busy_timeout = {}", wait.as_millis()));
    let mut conn = pool.acquire().await?;
    sqlx::query(busy_timeout(CHECKPOINT_WAIT)).execute(&mut *conn).await?;
    let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await
        .map(|row| row.try_get::<i32, _>(0).is_ok_and(|busy| busy == 0));
    let restored = sqlx::query(busy_timeout(store::SQLITE_BUSY_TIMEOUT)).execute(&mut *conn).await;
    if restored.is_err() {
        conn.detach();
    }
    done
}

/// The local day of `now`, the day a run without `--as-of` acts for.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    crate::domain::time::local_date(now, tz)
}
