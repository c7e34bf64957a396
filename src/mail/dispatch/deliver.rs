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
                    let logged = without_addresses(&reason);
                    tracing::error!(outbox = %message.id, reason = logged, "the mail server refuses the configured setup");
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
                // The reply often quotes the recipient ("550 <name@example.org>: unknown"): the
                // stored error keeps it for staff (and goes with the booking's personal data),
                // the log, kept apart from that, does not.
                let reason = without_addresses(reason);
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

/// `text` with every email address in it (a word with an `@`) replaced by `[address]`.
fn without_addresses(text: &str) -> String {
    let is_boundary = |c: char| c.is_whitespace() || "<>()[]{}\"',;".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(if word.contains('@') { "[address]" } else { word });
        word.clear();
    };
    for c in text.chars() {
        if is_boundary(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::without_addresses;

    #[test]
    fn addresses_in_a_server_reply_are_left_out_of_the_log() {
        for (reply, logged) in [
            (
                "permanent error (550): 5.1.1 <ayse.demir@example.org>: Recipient address rejected",
                "permanent error (550): 5.1.1 <[address]>: Recipient address rejected",
            ),
            ("550 user Ayse.Demir@Example.org unknown", "550 user [address] unknown"),
            ("451 4.3.0 try later", "451 4.3.0 try later"),
            ("", ""),
        ] {
            assert_eq!(without_addresses(reply), logged, "{reply}");
        }
    }
}
