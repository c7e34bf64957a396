//! SQLite's booking writer: one thread with a synchronous connection of its own
//! (`store::sqlite_direct`) takes the bookings of stored slots from a queue and commits those that
//! arrived while the previous commit was in flight together (group commit), each in a savepoint
//! of its own, so that one refusal leaves the others alone; a booking that arrives alone is its
//! transaction, without a savepoint. A statement is a call into the sqlite3 C library on the
//! writer's thread, not a hop to sqlx's worker thread and back: per booking, the request hands
//! its job over and is woken with the answer, nothing more.
//!
//! The writer takes the file's write turn (`store::write_turn`) for each group like every other
//! writer of the process, so it queues with them instead of racing them in SQLite's busy handler.

use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{mpsc, oneshot};

use super::rows::NewRows;
use super::{Book, By, Created, NewBooking, no_seat, slot_time};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::holidays::HolidayCalendar;
use crate::domain::ids::SlotId;
use crate::services::ServiceError;
use crate::services::directory::CounsellorCache;
use crate::services::schedule::check_calendar;
use crate::store::sqlite_direct::DirectSqlite;
use crate::store::{self, StoreError};

/// Most bookings in one commit; more wait for the next.
const MAX_GROUP: usize = 64;
/// Bookings waiting for the writer; a full queue makes callers wait before they are queued.
const QUEUE: usize = 1024;

/// Hands bookings to the writer thread; cheap to clone. The thread ends with the last handle.
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
    slot_id: SlotId,
    answer: oneshot::Sender<Outcome>,
}

/// What became of one booking in the writer.
enum Outcome {
    /// Written, and the commit holding it returned.
    Created(Box<Created>),
    /// No seat was taken (the slot full, in a closure or absence, no regular slot): the request
    /// finds out why on its own connection (see [`Writer::create`]).
    NoSeat { now: DateTime<Utc> },
    /// Refused by a rule or the actor's units (rolled back), or the transaction failed.
    Failed(ServiceError),
}

impl Writer {
    /// Starts the writer thread on a SQLite file; `None` on PostgreSQL, whose bookings write
    /// directly (row locks let them commit side by side), and on an in-memory database (another
    /// connection would not see it), whose bookings write in a transaction of the pool.
    ///
    /// # Errors
    /// When the operating system refuses a thread.
    pub fn start(deps: WriterDeps) -> std::io::Result<Option<Self>> {
        if deps.db.get_database_backend() != DbBackend::Sqlite || in_memory(&deps.db) {
            return Ok(None);
        }
        let (jobs, queue) = mpsc::channel(QUEUE);
        thread::Builder::new().name("booking-writer".into()).spawn(move || run(&deps, queue))?;
        Ok(Some(Self { jobs }))
    }

    /// Queues the booking of a stored slot and waits until the commit that holds it has
    /// returned (or failed); a slot without a free seat is explained from `deps.db`.
    pub(super) async fn create(
        &self,
        deps: Book<'_>,
        actor: &Actor,
        new: &NewBooking,
        slot_id: SlotId,
    ) -> Result<Created, ServiceError> {
        let (answer, answered) = oneshot::channel();
        let job = Job { actor: actor.clone(), new: new.clone(), slot_id, answer };
        self.jobs.send(job).await.map_err(|_| ServiceError::Busy)?;
        match answered.await.map_err(|_| ServiceError::Busy)? {
            Outcome::Created(created) => Ok(*created),
            Outcome::NoSeat { now } => {
                // Read after the refusal's rollback, like PostgreSQL's one statement: the slot as
                // it is now names the reason (full, a closure, an absence), else it was taken.
                let overridden = new.override_reason.is_some();
                Err(no_seat(deps, deps.db, By::Staff(actor), slot_id, overridden, now).await)
            }
            Outcome::Failed(err) => Err(err),
        }
    }
}

fn in_memory(db: &DatabaseConnection) -> bool {
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename().to_string_lossy();
    file.is_empty()
        || file.contains(":memory:")
        || file.contains("mode=memory")
        || file.starts_with("file:sqlx-in-memory")
}

/// The writer thread: a group at a time until the last handle is gone. The connection is opened
/// for the first group (no memory while idle) and again after a failed group.
fn run(deps: &WriterDeps, mut queue: mpsc::Receiver<Job>) {
    let turn = store::write_turn(&deps.db);
    let mut connection: Option<DirectSqlite> = None;
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(job) = queue.blocking_recv() {
        group.push(job);
        let held = turn.as_ref().map(|turn| Arc::clone(turn).blocking_lock_owned());
        while group.len() < MAX_GROUP
            && let Ok(job) = queue.try_recv()
        {
            group.push(job);
        }
        let open = match connection.take() {
            Some(open) => Ok(open),
            None => DirectSqlite::open(&deps.db),
        };
        // A panic (a bug) fails its group like a failed commit, and the thread goes on.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            open.and_then(|open| commit_group(deps, &open, &group).map(|outcomes| (open, outcomes)))
        }))
        .unwrap_or_else(|_| Err(StoreError::Io("the booking writer panicked".into())));
        // The transaction has ended either way: the next writer may go while the answers go out.
        drop(held);
        match result {
            Ok((open, outcomes)) => {
                connection = Some(open);
                for (job, outcome) in group.drain(..).zip(outcomes) {
                    let _ = job.answer.send(outcome);
                }
            }
            Err(err) => {
                // The connection is dropped: whatever SQLite left open is rolled back with it.
                tracing::error!(error = ?err, bookings = group.len(), "a group of bookings was not committed");
                for job in group.drain(..) {
                    let _ = job.answer.send(Outcome::Failed(ServiceError::Busy));
                }
            }
        }
    }
}

/// Writes each booking of `group` in one transaction (in a savepoint of its own unless it is
/// alone) and commits. `Ok` holds every job's outcome, in order; `Err` means the transaction
/// itself failed (the disk, the connection): nothing of the group is stored.
fn commit_group(deps: &WriterDeps, db: &DirectSqlite, group: &[Job]) -> Result<Vec<Outcome>, StoreError> {
    let book = Book {
        db: &deps.db,
        search_db: &deps.db,
        clock: &deps.clock,
        calendar: &deps.calendar,
        tz: deps.tz,
        // Announced by each caller after its answer (see `Created::announce`).
        mail: &crate::mail::Nudge::default(),
        mail_domain: &deps.mail_domain,
        counsellors: &deps.counsellors,
        // SQLite has no list of listed slots: the writer reads each slot in its transaction.
        listed: &super::ListedSlots::off(),
        writer: None,
        booking_pool: None,
    };
    db.run("BEGIN IMMEDIATE")?;
    let alone = group.len() == 1;
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        if !alone {
            db.run("SAVEPOINT booking")?;
        }
        let outcome = book_one(book, db, job).map_err(|err| {
            tracing::error!(error = ?err, "a booking broke the writer's transaction");
            err
        })?;
        match (&outcome, alone) {
            (Outcome::Created(_), false) => db.run("RELEASE booking")?,
            (_, false) => db.run("ROLLBACK TO booking; RELEASE booking")?,
            (Outcome::Created(_), true) => {}
            (_, true) => db.run("ROLLBACK")?,
        }
        outcomes.push(outcome);
    }
    if db.in_transaction() {
        db.run("COMMIT")?;
    }
    Ok(outcomes)
}

/// One booking: the seat, the rules, the rows. `Err` only for a failure that may have ended the
/// transaction; refusals are outcomes (rolled back by the caller).
fn book_one(book: Book<'_>, db: &DirectSqlite, job: &Job) -> Result<Outcome, StoreError> {
    let now = book.clock.now();
    let overridden = job.new.override_reason.is_some();
    let taken = match db.take_regular_seat(job.slot_id, !overridden) {
        Ok(Some(taken)) => taken,
        Ok(None) => return Ok(Outcome::NoSeat { now }),
        Err(err) => return refused(err),
    };
    let slot = taken.slot;
    if !job.actor.can_work_in(slot.unit_id) {
        return Ok(Outcome::Failed(ServiceError::Forbidden));
    }
    if !overridden && let Err(err) = slot_time(&slot).and_then(|time| check_calendar(book.calendar, book.tz, now, time))
    {
        return Ok(Outcome::Failed(err));
    }
    let rows = NewRows::of(book, &job.actor, &job.new, &slot, now);
    if let Err(err) = db.insert_created_with(&rows.booking, rows.created, rows.more) {
        return refused(err);
    }
    Ok(Outcome::Created(Box::new(Created { booking: rows.booking, queued: rows.queued })))
}

/// A constraint's refusal (an overlap, a repeated reference) is the booking's outcome; anything
/// else (the disk, the connection) may have ended the whole transaction.
fn refused(err: StoreError) -> Result<Outcome, StoreError> {
    match err {
        StoreError::Busy | StoreError::Io(_) | StoreError::Db(_) => Err(err),
        refusal => Ok(Outcome::Failed(refusal.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another connection would open a database of its own: such bookings stay on the pool.
    #[tokio::test]
    async fn only_a_database_file_gets_the_writer_thread() {
        let memory = store::connect("sqlite::memory:", Some(1)).await.unwrap();
        assert!(in_memory(&memory));
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        assert!(!in_memory(&store::connect(&url, Some(1)).await.unwrap()));
    }
}
