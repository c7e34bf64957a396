//! The dispatcher's loops: the server's task that runs until stopped, and one pass that sends
//! everything due (`terminbuch mail dispatch --once`, and tests that drive the steps).

use std::time::Duration;

use tokio::task::JoinSet;

use super::dispatcher::{Dispatcher, Report};
use crate::domain::outbox::{DeliveryState, MailKind};
use crate::mail::{MailError, outbox};
use crate::store::{self, bookings};

/// How many rows one round claims (and sends concurrently).
const BATCH: u64 = 16;

/// How long a stopping dispatcher waits for the deliveries in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl Dispatcher {
    /// Runs forever (a task of the server): starts deliveries of due messages, up to [`BATCH`]
    /// at once, when nudged, every poll interval (which also queues due reminders, and finds
    /// retries and emails other processes queued), and as deliveries finish while more are due.
    /// A slow or hung delivery only holds its own slot; the others go on.
    pub async fn run(self) {
        self.run_until(std::future::pending()).await;
    }

    /// Like [`Dispatcher::run`] until `shutdown` completes; then claims nothing more, waits up to
    /// [`SHUTDOWN_GRACE`] for the deliveries in flight to be sent and recorded, and returns.
    /// Deliveries cut off after that keep their lease until it expires and are sent again later,
    /// with the same Message-ID.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(self.inner.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut in_flight = JoinSet::new();
        // Whether more may be due than the last look took (it filled the batch, or it was
        // skipped because the batch was full): then a finished delivery makes room for the next.
        let mut more_due = false;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {
                    if let Err(err) = self.queue_reminders().await {
                        tracing::error!(error = ?err, "queueing reminders failed");
                    }
                }
                () = self.inner.nudge.0.notified() => {}
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    let _ = tally(done);
                    if !more_due {
                        continue;
                    }
                }
            }
            while let Some(done) = in_flight.try_join_next() {
                let _ = tally(done);
            }
            let free = usize::try_from(BATCH).unwrap_or(16).saturating_sub(in_flight.len());
            if free == 0 {
                more_due = true;
                continue;
            }
            match store::outbox::due(&self.inner.db, self.inner.clock.now(), free as u64).await {
                Ok(due) => {
                    more_due = due.len() == free;
                    for id in due {
                        let this = self.clone();
                        in_flight.spawn(async move { this.deliver(id).await });
                    }
                }
                Err(err) => {
                    more_due = false;
                    tracing::error!(error = ?err, "looking for due emails failed");
                }
            }
        }
        finish(in_flight).await;
    }

    /// Queues due reminders, then sends everything due now until nothing is left.
    ///
    /// # Errors
    /// Database failures (a failed delivery is recorded, not returned).
    pub async fn run_once(&self) -> Result<Report, MailError> {
        let mut report = Report { reminders_queued: self.queue_reminders().await?, ..Report::default() };
        // Each round either records an outcome for every claimed row or leaves it leased, so
        // rows never come back within one run; the bound only guards against surprises.
        for _ in 0..10_000 {
            let due = store::outbox::due(&self.inner.db, self.inner.clock.now(), BATCH).await?;
            if due.is_empty() {
                break;
            }
            let mut tasks = JoinSet::new();
            for id in due {
                let this = self.clone();
                tasks.spawn(async move { this.deliver(id).await });
            }
            while let Some(done) = tasks.join_next().await {
                match tally(done) {
                    Some(DeliveryState::Sent) => report.sent += 1,
                    Some(DeliveryState::Retrying | DeliveryState::Queued) => report.retrying += 1,
                    Some(DeliveryState::Failed) => report.failed += 1,
                    Some(DeliveryState::Skipped) => report.skipped += 1,
                    None => {}
                }
            }
        }
        Ok(report)
    }

    /// Queues a reminder for each booked appointment that starts within the lead time, was
    /// booked (or last moved) at least the lead time ahead, and has none for its current time.
    /// Bookings that already have theirs are not even read, so a quiet poll writes nothing.
    async fn queue_reminders(&self) -> Result<usize, MailError> {
        let (now, lead) = (self.inner.clock.now(), self.inner.reminder_lead);
        let mut queued = 0;
        let mut after = None;
        loop {
            let page = bookings::reminder_candidates(&self.inner.db, now, now + lead, after).await?;
            for booking in &page {
                if booking.updated_at + lead > booking.starts_at {
                    continue;
                }
                // The dedupe key still guards against another dispatcher queueing it meanwhile.
                let domain = outbox::id_domain(&self.inner.from.email);
                if outbox::enqueue(&self.inner.db, booking, MailKind::Reminder, domain, now).await? {
                    queued += 1;
                }
            }
            match page.last() {
                Some(last) if page.len() as u64 == bookings::REMINDER_PAGE => after = Some((last.starts_at, last.id)),
                _ => return Ok(queued),
            }
        }
    }
}

/// Waits up to [`SHUTDOWN_GRACE`] for the deliveries in flight; cuts off the rest.
async fn finish(mut in_flight: JoinSet<Result<Option<DeliveryState>, MailError>>) {
    if in_flight.is_empty() {
        return;
    }
    tracing::info!(in_flight = in_flight.len(), "email sender stopping: waiting for the deliveries in flight");
    let drain = async {
        while let Some(done) = in_flight.join_next().await {
            let _ = tally(done);
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!(
            cut_off = in_flight.len(),
            "email sender stopped with deliveries unfinished; they are sent again once their lease expires"
        );
    }
}

/// The state a finished delivery task recorded, logging what went wrong around it.
fn tally(done: Result<Result<Option<DeliveryState>, MailError>, tokio::task::JoinError>) -> Option<DeliveryState> {
    match done {
        Ok(Ok(state)) => state,
        Ok(Err(err)) => {
            tracing::error!(error = ?err, "recording a delivery failed");
            None
        }
        Err(err) => {
            tracing::error!(error = ?err, "a delivery task panicked");
            None
        }
    }
}
