//! Emails a booking change causes: their kind, their delivery state, and the retry schedule.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::booking::BookingStatus;
use super::ids::StaffId;

/// Which email a booking event causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
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

/// Where an email is on its way. `skipped`: no longer sent, for the [`Obsolete`] reason its
/// `last_error` names (e.g. a reminder whose booking was moved, a notice a newer one replaced).
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
    pub counsellor_id: StaffId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub sequence: i32,
    /// A [`MailKind::Change`] about the place (the location's address or floor changed), not
    /// about the time: the email says so in its own words.
    pub place_changed: bool,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Why a queued email is no longer sent when its turn comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obsolete {
    /// A reminder for a time the booking no longer has (moved, cancelled, or its outcome recorded).
    MovedOrCancelled,
    /// A confirmation or change notice of an earlier version of the booking: a newer notice was
    /// queued, and this one must not arrive after it.
    Superseded,
    /// The appointment has already begun: a reminder or notice would come too late.
    Begun,
}

impl Obsolete {
    pub const ALL: [Self; 3] = [Self::MovedOrCancelled, Self::Superseded, Self::Begun];

    /// The reason staff see in the email's state (`last_error` of a `skipped` email).
    pub const fn reason(self) -> &'static str {
        match self {
            Self::MovedOrCancelled => "the appointment was moved or cancelled",
            Self::Superseded => "superseded: the booking changed again and a newer notice was queued",
            Self::Begun => "too late: the appointment had already begun",
        }
    }
}

/// Why a queued email was not sent: the reason the service writes as the `last_error` of a
/// `skipped` email (English, as the log and the API give it; the pages word it by this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// No longer due when its turn came.
    Obsolete(Obsolete),
    /// Staff corrected the citizen's address after it was queued.
    AddressCorrected,
    /// The citizen withdrew their consent to emails after it was queued.
    ConsentWithdrawn,
    /// The booking's personal data were erased after it was queued.
    Erased,
}

impl Skipped {
    pub const ALL: [Self; 6] = [
        Self::Obsolete(Obsolete::MovedOrCancelled),
        Self::Obsolete(Obsolete::Superseded),
        Self::Obsolete(Obsolete::Begun),
        Self::AddressCorrected,
        Self::ConsentWithdrawn,
        Self::Erased,
    ];

    /// The stored reason.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Obsolete(why) => why.reason(),
            Self::AddressCorrected => "the citizen's address was corrected since",
            Self::ConsentWithdrawn => "the citizen withdrew their consent to emails since",
            Self::Erased => "the booking's personal data were erased",
        }
    }

    /// The reason a stored `last_error` is, if the service wrote it (else it is a mail server's).
    pub fn of_reason(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|why| why.reason() == text)
    }
}

/// Whether `message` should no longer be sent at `now`, given the booking's current status and
/// sequence and whether a confirmation, change or cancellation with a higher sequence than the
/// message's was queued for it (`newer_notice`). Cancellations always go out.
pub fn obsolete(
    message: &OutboxMessage,
    status: BookingStatus,
    sequence: i32,
    newer_notice: bool,
    now: DateTime<Utc>,
) -> Option<Obsolete> {
    let begun = message.starts_at <= now;
    match message.kind {
        MailKind::Reminder if status != BookingStatus::Booked || sequence != message.sequence => {
            Some(Obsolete::MovedOrCancelled)
        }
        MailKind::Confirmation | MailKind::Change if sequence > message.sequence && newer_notice => {
            Some(Obsolete::Superseded)
        }
        MailKind::Reminder | MailKind::Confirmation | MailKind::Change if begun => Some(Obsolete::Begun),
        _ => None,
    }
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

/// What a failed or retried delivery's reason (the mail server's reply, or why the email could not
/// be written) means for the desk, in classes staff can act on: the reason itself is the mail
/// server's English and is shown beside it for the IT operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The address cannot be written in an email at all: correct it.
    AddressInvalid,
    /// The receiving server knows no such mailbox (most often a typo): correct the address.
    NoSuchMailbox,
    /// The mailbox is full or over its quota.
    MailboxFull,
    /// The receiving server refused the email for another reason.
    Refused,
    /// The email could not be written (a template, a missing record): a matter for IT.
    NotWritten,
    /// Not delivered yet (no connection, a temporary refusal): it is tried again.
    NotYet,
}

impl Failure {
    /// The class of `reason`, the stored reason of a failed (`retrying` false) or retried attempt.
    pub fn of(reason: &str, retrying: bool) -> Self {
        if retrying {
            return Self::NotYet;
        }
        let lower = reason.to_ascii_lowercase();
        // As `MailError` words them: the address refused when the email was written, or another
        // reason it could not be written.
        if lower.starts_with("cannot compose the email: recipient address") {
            return Self::AddressInvalid;
        }
        if lower.starts_with("cannot compose the email") || lower.starts_with("email template") {
            return Self::NotWritten;
        }
        // The reply's code: the first three digits 4xx or 5xx standing alone ("550 …", "(550)").
        let code = reason
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| part.len() == 3 && (part.starts_with('4') || part.starts_with('5')));
        match code {
            Some("552") => Self::MailboxFull,
            _ if lower.contains("quota") || lower.contains("mailbox full") => Self::MailboxFull,
            Some("550" | "551" | "553") if !lower.contains("spam") && !lower.contains("policy") => Self::NoSuchMailbox,
            _ if lower.contains("user unknown") || lower.contains("no such user") => Self::NoSuchMailbox,
            Some(code) if code.starts_with('4') => Self::NotYet,
            _ => Self::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A skipped email's stored reason reads back as what it is, each one distinct; a mail
    /// server's answer is none of them.
    #[test]
    fn every_reason_of_a_skip_reads_back() {
        for why in Skipped::ALL {
            assert_eq!(Skipped::of_reason(why.reason()), Some(why), "{why:?}");
        }
        for why in Obsolete::ALL {
            assert!(Skipped::ALL.contains(&Skipped::Obsolete(why)), "{why:?}");
        }
        assert_eq!(Skipped::of_reason("550 5.1.1 mailbox unavailable"), None);
    }

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

    fn message(kind: MailKind, sequence: i32, starts_at: DateTime<Utc>) -> OutboxMessage {
        let queued_at = starts_at - TimeDelta::days(7);
        OutboxMessage {
            id: Uuid::nil(),
            booking_id: Uuid::nil(),
            kind,
            state: DeliveryState::Queued,
            recipient: "person@example.org".into(),
            language: "de".into(),
            message_id: "<x@terminbuch>".into(),
            dedupe_key: None,
            counsellor_id: StaffId::new(1),
            starts_at,
            ends_at: starts_at + TimeDelta::minutes(45),
            sequence,
            place_changed: false,
            attempts: 1,
            next_attempt_at: queued_at,
            last_error: None,
            created_at: queued_at,
            sent_at: None,
        }
    }

    #[test]
    fn obsolete_emails_are_told_apart_from_current_ones() {
        use BookingStatus::{Booked, Cancelled};
        use MailKind::{Cancellation, Change, Confirmation, Reminder};
        let starts_at = DateTime::<Utc>::from_timestamp(1_796_115_600, 0).expect("an instant");
        let (before, after) = (starts_at - TimeDelta::hours(1), starts_at + TimeDelta::minutes(1));
        // (kind, row sequence, booking status, booking sequence, newer notice, now, expected)
        let cases = [
            (Reminder, 0, Booked, 0, false, before, None),
            (Reminder, 0, Booked, 1, true, before, Some(Obsolete::MovedOrCancelled)),
            (Reminder, 0, Cancelled, 1, true, before, Some(Obsolete::MovedOrCancelled)),
            (Reminder, 0, Booked, 0, false, after, Some(Obsolete::Begun)),
            (Reminder, 0, Booked, 0, false, starts_at, Some(Obsolete::Begun)),
            (Confirmation, 0, Booked, 0, false, before, None),
            (Confirmation, 0, Booked, 1, true, before, Some(Obsolete::Superseded)),
            (Confirmation, 0, Cancelled, 1, true, before, Some(Obsolete::Superseded)),
            (Confirmation, 0, Booked, 1, false, before, None),
            (Change, 1, Booked, 2, true, after, Some(Obsolete::Superseded)),
            (Change, 1, Booked, 1, false, after, Some(Obsolete::Begun)),
            (Cancellation, 1, Cancelled, 1, false, after, None),
        ];
        for (kind, row_sequence, status, sequence, newer, now, expected) in cases {
            let found = obsolete(&message(kind, row_sequence, starts_at), status, sequence, newer, now);
            assert_eq!(found, expected, "{kind:?} seq {row_sequence} for {status:?} seq {sequence}, newer {newer}");
        }
    }

    #[test]
    fn backoff_is_at_least_one_second() {
        assert_eq!(backoff(1, TimeDelta::seconds(1), 0.0), TimeDelta::seconds(1));
        assert_eq!(backoff(1, TimeDelta::zero(), 0.5), TimeDelta::seconds(1));
    }

    #[test]
    fn a_failure_is_told_in_classes_the_desk_can_act_on() {
        let cases = [
            ("cannot compose the email: recipient address: Invalid email user", Failure::AddressInvalid),
            (
                "permanent error (550): 5.1.1 <x@example.org>: Recipient address rejected: User unknown",
                Failure::NoSuchMailbox,
            ),
            ("550 mailbox unavailable", Failure::NoSuchMailbox),
            ("permanent error (552): 5.2.2 mailbox full", Failure::MailboxFull),
            ("permanent error (554): 5.7.1 Message rejected as spam", Failure::Refused),
            ("permanent error (550): 5.7.1 rejected by policy", Failure::Refused),
            ("cannot compose the email: the booking no longer exists", Failure::NotWritten),
        ];
        for (reason, class) in cases {
            assert_eq!(Failure::of(reason, false), class, "{reason}");
        }
        assert_eq!(Failure::of("Connection error: connection refused", true), Failure::NotYet);
    }
}
