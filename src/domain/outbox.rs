//! Emails a booking change causes: their kind, their delivery state, and the retry schedule.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Which email a booking event causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Confirmation,
    Change,
    Cancellation,
    Reminder,
}

impl MailKind {
    pub const ALL: [Self; 4] = [Self::Confirmation, Self::Change, Self::Cancellation, Self::Reminder];

    /// The folder name under `templates/email/`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Change => "change",
            Self::Cancellation => "cancellation",
            Self::Reminder => "reminder",
        }
    }
}

/// Where an email is on its way. `skipped`: a reminder whose booking was moved or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Queued,
    Retrying,
    Sent,
    Failed,
    Skipped,
}

/// One email in the outbox, with the booking as it was when the email was caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub kind: MailKind,
    pub state: DeliveryState,
    pub recipient: String,
    pub language: String,
    /// `<…@…>` form, fixed when the row is written.
    pub message_id: String,
    pub dedupe_key: Option<String>,
    pub counsellor_id: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub sequence: i32,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// When to try again after `attempts` failed tries: doubling from 30 s, capped at `max`, with
/// "equal jitter" (`jitter` in `[0, 1)` picks a point in the upper half), whole seconds, at least 1 s.
pub fn backoff(attempts: i32, max: TimeDelta, jitter: f64) -> TimeDelta {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let full = TimeDelta::seconds(30i64.saturating_mul(1i64 << exponent)).min(max);
    let secs = full.num_seconds() as f64;
    let jittered = (secs / 2.0 + secs / 2.0 * jitter.clamp(0.0, 1.0)).round() as i64;
    TimeDelta::seconds(jittered.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_in_the_upper_half() {
        let max = TimeDelta::minutes(30);
        for (attempts, full) in [(1, 30), (2, 60), (3, 120), (7, 1800), (40, 1800)] {
            let low = backoff(attempts, max, 0.0).num_seconds();
            let high = backoff(attempts, max, 0.999).num_seconds();
            assert_eq!(low, (full + 1) / 2, "attempt {attempts}");
            assert!(high <= full && high >= low, "attempt {attempts}: {high}");
        }
    }

    #[test]
    fn backoff_is_at_least_one_second() {
        assert_eq!(backoff(1, TimeDelta::seconds(1), 0.0), TimeDelta::seconds(1));
        assert_eq!(backoff(1, TimeDelta::zero(), 0.5), TimeDelta::seconds(1));
    }
}
