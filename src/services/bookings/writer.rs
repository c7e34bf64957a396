//! SQLite's booking writer: one task on a connection of its own takes the bookings from a queue
//! and commits those that arrived while the previous commit was in flight together (group
//! commit), each in a savepoint of its own, so that one refusal leaves the others alone; a booking
//! that arrives alone is its transaction, without a savepoint.

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{DatabaseConnection, DbBackend, SqlxSqliteConnector, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::{Book, Created, NewBooking, create_in};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::holidays::HolidayCalendar;
use crate::services::ServiceError;
use crate::services::directory::CounsellorCache;
use crate::store::{self, StoreError, WriteTxn};

/// Most bookings in one commit; more wait for the next.
const MAX_GROUP: usize = 64;
/// Bookings waiting for the writer; a full queue makes callers wait before they are queued.
const QUEUE: usize = 1024;

/// Hands bookings to the writer task; cheap to clone. The task ends with the last handle.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// What the writer needs to write bookings, owned (it outlives every request).
pub struct WriterDeps {
    pub db: DatabaseConnection,
    pub clock: Clock,
    pub calendar: Arc<HolidayCalendar>,
    pub tz: Tz,
    pub mail_domain: String,
    pub counsellors: CounsellorCache,
}

struct Job {
    actor: Actor,
    new: NewBooking,
    answer: oneshot::Sender<Result<Created, ServiceError>>,
}

impl Writer {
    /// Starts the writer on SQLite (in the current tokio runtime); `None` on PostgreSQL, whose
    /// bookings write directly (row locks let them commit side by side).
    pub fn start(deps: WriterDeps) -> Option<Self> {
        if deps.db.get_database_backend() != DbBackend::Sqlite {
            return None;
        }
        let (jobs, queue) = mpsc::channel(QUEUE);
        let connection = own_connection(&deps.db);
        tokio::spawn(run(deps, connection, queue));
        Some(Self { jobs })
    }

    /// Queues the booking and waits until the commit that holds it has returned (or failed).
    pub(super) async fn create(&self, actor: &Actor, new: &NewBooking) -> Result<Created, ServiceError> {
        let (answer, answered) = oneshot::channel();
        let job = Job { actor: actor.clone(), new: new.clone(), answer };
        self.jobs.send(job).await.map_err(|_| ServiceError::Busy)?;
        answered.await.map_err(|_| ServiceError::Busy)?
    }
}

/// A pool of one connection with the server pool's settings (WAL, `synchronous=FULL`, …): the
/// writer's own, so it never waits for a reader's connection and can be replaced after a failure.
fn own_connection(db: &DatabaseConnection) -> DatabaseConnection {
    let options = db.get_sqlite_connection_pool().connect_options();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(30))
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_lazy_with((*options).clone());
    SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
}

async fn run(deps: WriterDeps, mut connection: DatabaseConnection, mut queue: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        if let Err(err) = commit_group(&deps, &connection, &mut queue, &mut group).await {
            tracing::error!(error = ?err, bookings = group.len(), "a group of bookings was not committed");
            for job in group.drain(..) {
                let _ = job.answer.send(Err(ServiceError::Busy));
            }
            // The connection may be left inside a transaction SQLite already ended: start afresh.
            connection.close_by_ref().await.ok();
            connection = own_connection(&deps.db);
        }
    }
}

/// Writes each booking of `group`, and those queued until the write turn was ours, in a savepoint
/// of one transaction and commits. On success every job is answered (and `group` left empty); on
/// a failure of the transaction itself the error is returned with the jobs still in `group`, none
/// answered: nothing of the group is stored.
async fn commit_group(
    deps: &WriterDeps,
    connection: &DatabaseConnection,
    queue: &mut mpsc::Receiver<Job>,
    group: &mut Vec<Job>,
) -> Result<(), StoreError> {
    let book = Book {
        db: &deps.db,
        clock: &deps.clock,
        calendar: &deps.calendar,
        tz: deps.tz,
        // Announced by each caller after its answer (see `Created::announce`).
        mail: &crate::mail::Nudge::default(),
        mail_domain: &deps.mail_domain,
        counsellors: &deps.counsellors,
        writer: None,
    };
    let txn = store::begin_write(connection).await?;
    while group.len() < MAX_GROUP
        && let Ok(job) = queue.try_recv()
    {
        group.push(job);
    }
    if let [job] = group.as_slice() {
        let outcome = alone(book, txn, job).await?;
        if let Some(job) = group.pop() {
            let _ = job.answer.send(outcome);
        }
        return Ok(());
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group.iter() {
        match in_savepoint(book, &txn, job).await {
            Err(err) if breaks_transaction(&err) => {
                tracing::error!(error = ?err, "a booking broke the writer's transaction");
                return Err(StoreError::Io(format!("booking in savepoint: {err}")));
            }
            outcome => outcomes.push(outcome),
        }
    }
    txn.commit().await?;
    for (job, outcome) in group.drain(..).zip(outcomes) {
        let _ = job.answer.send(outcome);
    }
    Ok(())
}

/// A booking that arrived alone needs no savepoint (two statements fewer on the path of every
/// booking at low load): it is the whole transaction, committed when it succeeds and rolled back
/// when it is refused. `Err` as in [`commit_group`]: the transaction itself failed.
async fn alone(book: Book<'_>, txn: WriteTxn, job: &Job) -> Result<Result<Created, ServiceError>, StoreError> {
    let outcome = create_in(book, &txn, &job.actor, &job.new).await;
    match &outcome {
        Err(err) if breaks_transaction(err) => {
            tracing::error!(error = ?err, "a booking broke the writer's transaction");
            return Err(StoreError::Io(format!("booking: {err}")));
        }
        Ok(_) => txn.commit().await?,
        Err(_) => txn.rollback().await?,
    }
    Ok(outcome)
}

async fn in_savepoint(book: Book<'_>, txn: &WriteTxn, job: &Job) -> Result<Created, ServiceError> {
    let savepoint = txn.begin().await?;
    match create_in(book, &savepoint, &job.actor, &job.new).await {
        Ok(created) => {
            savepoint.commit().await?;
            Ok(created)
        }
        Err(err) => {
            savepoint.rollback().await?;
            Err(err)
        }
    }
}

/// A refusal (slot taken, counsellor busy, a rule, a repeated reference) is rolled back to its
/// savepoint; anything else (the disk, the connection) may have ended the whole transaction.
fn breaks_transaction(err: &ServiceError) -> bool {
    matches!(err, ServiceError::Busy | ServiceError::Store(StoreError::Db(_) | StoreError::Io(_) | StoreError::Busy))
}
