//! Writing emails into the outbox, inside the caller's transaction: if the booking change rolls
//! back, the email never existed.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::outbox::{DeliveryState, MailKind, OutboxMessage};
use crate::domain::records::Booking;
use crate::store::{StoreError, outbox};

/// The right-hand side of Message-IDs when the sender's domain is no public name.
pub const FALLBACK_DOMAIN: &str = "terminbuch.invalid";

/// The domain Message-IDs and calendar UIDs end in: the sender address's (`TERMINBUCH_MAIL_FROM`),
/// or [`FALLBACK_DOMAIN`] when that is no public ASCII name (`localhost`, an address literal, a
/// name without a dot, an internationalised name).
pub fn id_domain(sender: &lettre::Address) -> &str {
    let domain = sender.domain();
    let public = domain.contains('.') && domain.is_ascii() && !domain.starts_with('[');
    if public { domain } else { FALLBACK_DOMAIN }
}

/// The domain a stored `<left@domain>` Message-ID ends in.
pub fn domain_of(message_id: &str) -> Option<&str> {
    let (_, domain) = message_id.strip_suffix('>')?.rsplit_once('@')?;
    (!domain.is_empty()).then_some(domain)
}

/// Queues `kind` for the booking as it is now, if the citizen has an address and consented.
/// Reminders are queued at most once per booking and sequence. The Message-ID, `<id@domain>`
/// with `domain` from [`id_domain`], is fixed here so that a resend after a crash carries the
/// same one. Returns whether a row was written.
///
/// # Errors
/// Database failures.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    kind: MailKind,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    match message(booking, kind, domain, now) {
        Some(message) => outbox::insert(db, &message).await,
        None => Ok(false),
    }
}

/// Queues the change notice that tells the citizen the place of the appointment changed (its
/// location's address or floor), for the booking as it is now; as [`enqueue`] otherwise.
///
/// The new notice supersedes every earlier confirmation or change notice not yet sent (they are
/// skipped when their turn comes). When one is still waiting, the citizen has not heard of the
/// booking or of its move yet, so what is queued is that notice again (a confirmation, or a
/// change notice of a move), with the new place, not one saying only the place changed and the
/// time stayed.
///
/// # Errors
/// Database failures.
pub async fn enqueue_place_notice<C: ConnectionTrait>(
    db: &C,
    booking: &Booking,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let waiting: Vec<OutboxMessage> = outbox::for_booking(db, booking.id)
        .await?
        .into_iter()
        .filter(|m| matches!(m.state, DeliveryState::Queued | DeliveryState::Retrying))
        .filter(|m| matches!(m.kind, MailKind::Confirmation | MailKind::Change) && m.sequence < booking.sequence)
        .collect();
    let (kind, place_changed) = if waiting.iter().any(|m| m.kind == MailKind::Confirmation) {
        (MailKind::Confirmation, false)
    } else if waiting.iter().any(|m| m.kind == MailKind::Change && !m.place_changed) {
        (MailKind::Change, false)
    } else {
        (MailKind::Change, true)
    };
    match message(booking, kind, domain, now) {
        Some(message) => outbox::insert(db, &OutboxMessage { place_changed, ..message }).await,
        None => Ok(false),
    }
}

/// The message [`enqueue`] queues, or `None` when the citizen has no address or did not consent.
pub fn message(booking: &Booking, kind: MailKind, domain: &str, now: DateTime<Utc>) -> Option<OutboxMessage> {
    let recipient = booking.citizen.email.clone().filter(|_| booking.citizen.may_be_emailed())?;
    let id = Uuid::now_v7();
    Some(OutboxMessage {
        id,
        booking_id: booking.id,
        kind,
        state: DeliveryState::Queued,
        recipient,
        language: booking.citizen.language.code().to_owned(),
        message_id: format!("<{}@{domain}>", id.simple()),
        dedupe_key: (kind == MailKind::Reminder).then(|| format!("reminder:{}:{}", booking.id, booking.sequence)),
        counsellor_id: booking.counsellor_id,
        starts_at: booking.starts_at,
        ends_at: booking.ends_at,
        sequence: booking.sequence,
        place_changed: false,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_end_in_the_senders_domain_unless_it_is_no_public_name() {
        for (sender, expected) in [
            ("termine@hannover-stadt.de", "hannover-stadt.de"),
            ("terminbuch@localhost", FALLBACK_DOMAIN),
            ("terminbuch@[127.0.0.1]", FALLBACK_DOMAIN),
            ("termine@bücher.example", FALLBACK_DOMAIN),
        ] {
            let address: lettre::Address = sender.parse().expect("a valid address");
            assert_eq!(id_domain(&address), expected, "{sender}");
        }
    }

    #[test]
    fn the_domain_of_a_stored_message_id() {
        assert_eq!(domain_of("<0190abc@hannover-stadt.de>"), Some("hannover-stadt.de"));
        assert_eq!(domain_of("<0190abc@terminbuch>"), Some("terminbuch"));
        assert_eq!(domain_of("<0190abc>"), None);
        assert_eq!(domain_of("0190abc@x"), None);
    }
}
