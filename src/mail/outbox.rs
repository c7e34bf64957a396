//! Writing emails into the outbox, inside the caller's transaction: if the booking change rolls
//! back, the email never existed.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::outbox::{DeliveryState, MailKind, OutboxMessage};
use crate::domain::records::Booking;
use crate::store::{StoreError, outbox};

/// Queues `kind` for the booking as it is now, if the citizen has an address and consented.
/// Reminders are queued at most once per booking and sequence. Returns whether a row was written.
///
/// # Errors
/// Database failures.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    kind: MailKind,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(recipient) = booking.citizen.email.clone().filter(|_| booking.citizen.may_be_emailed()) else {
        return Ok(false);
    };
    let id = Uuid::now_v7();
    let message = OutboxMessage {
        id,
        booking_id: booking.id,
        kind,
        state: DeliveryState::Queued,
        recipient,
        language: booking.citizen.language.clone(),
        message_id: format!("<{}@terminbuch>", id.simple()),
        dedupe_key: (kind == MailKind::Reminder).then(|| format!("reminder:{}:{}", booking.id, booking.sequence)),
        counsellor_id: booking.counsellor_id,
        starts_at: booking.starts_at,
        ends_at: booking.ends_at,
        sequence: booking.sequence,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    };
    outbox::insert(db, &message).await
}
