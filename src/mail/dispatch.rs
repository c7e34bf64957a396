//! The dispatcher: queues due reminders, claims due outbox rows with a lease, composes and sends
//! them, and records the outcome. Several may run against one database; each row goes to one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use rand::RngExt;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::ics::{self, Invite, Method};
use super::messages::{AppointmentMail, MailFacts};
use super::transport::SendError;
use super::{MailError, Templates, Transport, outbox};
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::outbox::{DeliveryState, MailKind, OutboxMessage, backoff, obsolete};
use crate::store::{self, bookings, directory};

/// How many rows one round claims (and sends concurrently).
const BATCH: u64 = 16;

/// How long a stopping dispatcher waits for the deliveries in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub reminders_queued: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Tells the server's dispatcher that emails were queued, so it looks at once instead of at its
/// next poll. Cheap to clone; nudges while the dispatcher is busy fold into one.
#[derive(Clone, Default)]
pub struct Nudge(Arc<Notify>);

impl Nudge {
    /// Wakes the dispatcher (call after the transaction that queued emails has committed).
    pub fn nudge(&self) {
        self.0.notify_one();
    }
}

/// Everything the dispatcher needs; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    clock: Clock,
    transport: Transport,
    templates: Templates,
    tz: Tz,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    max_backoff: TimeDelta,
    horizon: TimeDelta,
    reminder_lead: TimeDelta,
    lease: TimeDelta,
    poll: Duration,
    nudge: Nudge,
}

enum Composed {
    Send(Box<Message>),
    Skip(&'static str),
}

impl Dispatcher {
    /// Loads the templates and builds the transport.
    ///
    /// # Errors
    /// `MailError::Config` or `MailError::Template`: the service should not start.
    pub fn new(db: DatabaseConnection, clock: Clock, settings: &Settings) -> Result<Self, MailError> {
        let mail = &settings.mail;
        let transport = Transport::from_settings(mail, &settings.data_dir)?;
        let timeout = i64::from(mail.smtp_timeout_secs);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                transport,
                templates: Templates::load()?,
                tz: settings.time_zone,
                from: mail.mail_from.clone(),
                reply_to: mail.mail_reply_to.clone(),
                max_backoff: TimeDelta::seconds(i64::from(mail.mail_max_backoff_secs)),
                horizon: TimeDelta::hours(i64::from(mail.mail_retry_horizon_hours)),
                reminder_lead: TimeDelta::hours(i64::from(mail.reminder_lead_hours)),
                lease: TimeDelta::seconds(timeout * 8 + 60),
                poll: Duration::from_millis(mail.mail_poll_ms),
                nudge: Nudge::default(),
            }),
        })
    }

    /// Whether messages only go to `.eml` files.
    pub fn writes_files(&self) -> bool {
        self.inner.transport.is_files()
    }

    /// What wakes this dispatcher when emails were queued (see [`Nudge`]).
    pub fn nudge(&self) -> Nudge {
        self.inner.nudge.clone()
    }

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

    /// Claims one row, sends it and records the outcome; `None` if another dispatcher had it.
    #[tracing::instrument(skip(self), fields(kind, attempt))]
    async fn deliver(&self, id: uuid::Uuid) -> Result<Option<DeliveryState>, MailError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let Some(message) = store::outbox::claim(&inner.db, id, now, now + inner.lease).await? else {
            return Ok(None);
        };
        tracing::Span::current().record("kind", message.kind.as_str()).record("attempt", message.attempts);
        let outcome = match self.compose(&message, now).await {
            Ok(Composed::Skip(why)) => Outcome::Skipped(why.to_owned()),
            Ok(Composed::Send(email)) => match inner.transport.send(&email, &message.id.to_string()).await {
                Ok(()) => Outcome::Sent,
                Err(SendError::Permanent(reply)) => Outcome::Failed(reply),
                Err(SendError::Transient(reason)) => self.retry_or_give_up(&message, reason),
                Err(SendError::Setup(reason)) => {
                    tracing::error!(outbox = %message.id, reason, "the mail server refuses the configured setup");
                    self.retry_or_give_up(&message, reason)
                }
            },
            Err(MailError::Store(err)) => return Err(err.into()),
            Err(err) => Outcome::Failed(err.to_string()),
        };
        let done_at = inner.clock.now();
        let (state, next, error, sent_at) = match outcome {
            Outcome::Sent => (DeliveryState::Sent, None, None, Some(done_at)),
            Outcome::Retry(at, reason) => (DeliveryState::Retrying, Some(at), Some(reason), None),
            Outcome::Failed(reason) => (DeliveryState::Failed, None, Some(reason), None),
            Outcome::Skipped(reason) => (DeliveryState::Skipped, None, Some(reason), None),
        };
        match &error {
            Some(reason) if state != DeliveryState::Skipped => {
                tracing::warn!(outbox = %message.id, ?state, reason, "email not delivered");
            }
            _ => tracing::info!(outbox = %message.id, ?state, "email handled"),
        }
        store::outbox::record_outcome(&inner.db, &message, state, next, error, sent_at).await?;
        Ok(Some(state))
    }

    fn retry_or_give_up(&self, message: &OutboxMessage, reason: String) -> Outcome {
        let jitter = rand::rng().random::<f64>();
        let next = self.inner.clock.now() + backoff(message.attempts, self.inner.max_backoff, jitter);
        if next > message.created_at + self.inner.horizon {
            Outcome::Failed(format!("gave up after {} attempts: {reason}", message.attempts))
        } else {
            Outcome::Retry(next, reason)
        }
    }

    /// Builds the email from the row's snapshot and the booking's current details.
    async fn compose(&self, message: &OutboxMessage, now: DateTime<Utc>) -> Result<Composed, MailError> {
        let inner = &self.inner;
        let db = &inner.db;
        let missing = |what: &str| MailError::Compose(format!("the {what} no longer exists"));
        let booking = bookings::find(db, message.booking_id).await?.ok_or_else(|| missing("booking"))?;
        // The booking's sequence goes up in the same transaction that queues the next notice, so
        // the outbox is only read when the booking has moved on since this row was written.
        let newer_notice = matches!(message.kind, MailKind::Confirmation | MailKind::Change)
            && booking.sequence > message.sequence
            && store::outbox::for_booking(db, booking.id).await?.iter().any(|other| {
                other.kind != MailKind::Reminder && other.sequence > message.sequence && other.id != message.id
            });
        if let Some(why) = obsolete(message, booking.status, booking.sequence, newer_notice, now) {
            return Ok(Composed::Skip(why.reason()));
        }
        let unit = directory::find_unit_by_id(db, booking.unit_id).await?.ok_or_else(|| missing("unit"))?;
        let location = directory::find_location(db, unit.location_id).await?;
        let counsellor = directory::find_staff(db, message.counsellor_id).await?;
        let lang = inner.templates.language_for(&message.language);
        let facts = MailFacts {
            citizen_name: &booking.citizen.name,
            starts_at: message.starts_at,
            ends_at: message.ends_at,
            unit: &unit,
            location: location.as_ref(),
            counsellor_name: counsellor.as_ref().map(|c| c.display_name.as_str()),
            reference: &booking.reference,
            interpreter_language: booking.citizen.interpreter_language.as_deref(),
        };
        let mail = AppointmentMail::new(&facts, lang, inner.tz);
        let rendered = inner.templates.render(message.kind, lang, &mail)?;
        let method = if message.kind == MailKind::Cancellation { Method::Cancel } else { Method::Request };
        // Confidential units: the sender's display name stays the neutral configured one.
        let sender_name = match (&inner.from.name, unit.confidential) {
            (Some(name), true) => name.clone(),
            (Some(name), false) => format!("{} – {name}", unit.name),
            (None, _) => "Landeshauptstadt Hannover".to_owned(),
        };
        // The entry's UID keeps the domain of the booking's first email, so calendars update
        // the same entry even after the sender's domain changed (or ids ended in `@terminbuch`).
        let first = store::outbox::first_message_id(db, booking.id).await?;
        let uid_domain = first.as_deref().and_then(outbox::domain_of).unwrap_or(outbox::FALLBACK_DOMAIN);
        let invite = Invite {
            uid: ics::uid(booking.id, uid_domain),
            sequence: message.sequence,
            method,
            starts_at: message.starts_at,
            ends_at: message.ends_at,
            tz: inner.tz,
            summary: &rendered.calendar_summary,
            location: &mail.location_line(),
            description: &format!("{} {}", mail.reference, mail.phone),
            organizer_name: &sender_name,
            organizer_email: inner.from.email.as_ref(),
            attendee_email: &message.recipient,
            stamp: message.created_at,
        };
        let calendar = ics::calendar(&invite);
        let to: lettre::Address =
            message.recipient.parse().map_err(|err| MailError::Compose(format!("recipient address: {err}")))?;
        let calendar_type = |mime: &str| {
            ContentType::parse(&format!("{mime}; charset=utf-8; method={}", method.as_str()))
                .map_err(|err| MailError::Compose(err.to_string()))
        };
        let body = MultiPart::alternative()
            .singlepart(SinglePart::plain(rendered.text))
            .singlepart(SinglePart::html(rendered.html))
            .singlepart(SinglePart::builder().header(calendar_type("text/calendar")?).body(calendar.clone()));
        let mut builder = Message::builder()
            .message_id(Some(message.message_id.clone()))
            .from(Mailbox::new(Some(sender_name.clone()), inner.from.email.clone()))
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .date(std::time::SystemTime::from(now));
        if let Some(reply_to) = &inner.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let attachment = Attachment::new("termin.ics".to_owned()).body(calendar, calendar_type("application/ics")?);
        let email = builder
            .multipart(MultiPart::mixed().multipart(body).singlepart(attachment))
            .map_err(|err| MailError::Compose(err.to_string()))?;
        Ok(Composed::Send(Box::new(email)))
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

enum Outcome {
    Sent,
    Retry(DateTime<Utc>, String),
    Failed(String),
    Skipped(String),
}
