//! One delivery: claim the row, compose, send, record the outcome (and count what failed).

use chrono::{DateTime, Utc};
use rand::RngExt;

use super::compose::Composed;
use super::dispatcher::Dispatcher;
use crate::domain::outbox::{DeliveryState, OutboxMessage, backoff};
use crate::mail::MailError;
use crate::mail::transport::SendError;
use crate::store;
use crate::store::outbox::Recorded;
use crate::telemetry::metrics;

/// How an attempt ended.
enum Outcome {
    Sent,
    Retry(DateTime<Utc>, String),
    Failed(String),
    Skipped(String),
}

impl Dispatcher {
    /// Claims one row, sends it and records the outcome; `None` if another dispatcher had it.
    #[tracing::instrument(skip(self), fields(kind, attempt))]
    pub(super) async fn deliver(&self, id: uuid::Uuid) -> Result<Option<DeliveryState>, MailError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let Some(message) = store::outbox::claim(&inner.db, id, now, now + inner.lease).await? else {
            return Ok(None);
        };
        tracing::Span::current().record("kind", message.kind.as_str()).record("attempt", message.attempts);
        self.attempt(&message).await.map(Some)
    }

    /// Composes and sends `message`, which this dispatcher claimed (`store::outbox::claim`), and
    /// records the outcome; returns the state recorded. An outcome that comes after the row's
    /// booking was erased is dropped (nothing written back, its `.eml` file removed) and reads
    /// as `Skipped`. Public so tests can drive the steps: claim, (erase,) attempt.
    ///
    /// # Errors
    /// Database failures.
    pub async fn attempt(&self, message: &OutboxMessage) -> Result<DeliveryState, MailError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let outcome = match self.compose(message, now).await {
            Ok(Composed::Skip(why)) => Outcome::Skipped(why.to_owned()),
            Ok(Composed::Send(email)) => match inner.transport.send(&email, &message.id.to_string()).await {
                Ok(()) => Outcome::Sent,
                Err(SendError::Permanent(reply)) => Outcome::Failed(reply),
                Err(SendError::Transient(reason)) => self.retry_or_give_up(message, reason),
                Err(SendError::Setup(reason)) => {
                    tracing::error!(outbox = %message.id, reason, "the mail server refuses the configured setup");
                    self.retry_or_give_up(message, reason)
                }
            },
            Err(MailError::Store(err)) => return Err(err.into()),
            Err(err) => Outcome::Failed(err.to_string()),
        };
        self.record(message, outcome).await
    }

    /// Stores the outcome of the attempt, logs it, and counts a failed one.
    async fn record(&self, message: &OutboxMessage, outcome: Outcome) -> Result<DeliveryState, MailError> {
        let done_at = self.inner.clock.now();
        let (state, next, error, sent_at) = match outcome {
            Outcome::Sent => (DeliveryState::Sent, None, None, Some(done_at)),
            Outcome::Retry(at, reason) => (DeliveryState::Retrying, Some(at), Some(reason), None),
            Outcome::Failed(reason) => (DeliveryState::Failed, None, Some(reason), None),
            Outcome::Skipped(reason) => (DeliveryState::Skipped, None, Some(reason), None),
        };
        let recorded =
            store::outbox::record_outcome(&self.inner.db, message, state, next, error.clone(), sent_at).await?;
        if recorded == Recorded::Erased {
            // The erasure removed the `.eml` files it knew of; one written by this attempt after
            // that would keep the address.
            self.inner.transport.discard(&message.id.to_string()).await;
            tracing::info!(outbox = %message.id, "email's booking erased meanwhile: outcome dropped");
            return Ok(DeliveryState::Skipped);
        }
        match &error {
            Some(reason) if state != DeliveryState::Skipped => {
                tracing::warn!(outbox = %message.id, ?state, reason, "email not delivered");
            }
            _ => tracing::info!(outbox = %message.id, ?state, "email handled"),
        }
        match state {
            DeliveryState::Retrying => metrics::delivery_failed("retrying"),
            DeliveryState::Failed => metrics::delivery_failed("failed"),
            _ => {}
        }
        Ok(state)
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
}
