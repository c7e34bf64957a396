//! Staff's view of the emails to citizens: resend the latest notice of a booking, and list the
//! bookings of a unit whose confirmation could not be delivered (someone should call).

use std::collections::HashMap;

use uuid::Uuid;

use super::ServiceError;
use super::audit::{self, AuditAction, entries};
use super::bookings::{Book, authorize, find};
use super::directory::find_unit;
use crate::domain::access::Actor;
use crate::domain::booking::BookingStatus;
use crate::domain::clash::Clash;
use crate::domain::history::HistoryEvent;
use crate::domain::outbox::{MailKind, OutboxMessage};
use crate::domain::records::{Booking, BookingEvent};
use crate::mail;
use crate::store::{self, bookings};

/// A booking whose confirmation (or change notice) failed, with that email.
#[derive(Debug, Clone)]
pub struct FailedEmail {
    pub booking: Booking,
    pub email: OutboxMessage,
}

/// The notice [`resend`] sends for the booking as it stands, from its history `events`: the
/// cancellation of a cancelled booking, the change notice of a moved one, else the confirmation
/// (a correction of the address raises the version too, but moves nothing).
pub fn resend_kind(booking: &Booking, events: &[BookingEvent]) -> MailKind {
    // By the stored kind, so that a move whose detail this release cannot read counts too.
    let moved = events.iter().any(|e| e.what.kind().starts_with("rescheduled"));
    match booking.status {
        BookingStatus::Cancelled => MailKind::Cancellation,
        _ if moved => MailKind::Change,
        _ => MailKind::Confirmation,
    }
}

/// Whether the notice `kind` of `booking` may be sent again at `now`: a confirmation or change
/// notice only before the appointment begins; a cancellation any time.
pub fn may_resend(booking: &Booking, kind: MailKind, now: chrono::DateTime<chrono::Utc>) -> bool {
    kind == MailKind::Cancellation || booking.starts_at > now
}

/// Queues the booking's current notice again (confirmation, change or cancellation, as the
/// booking now stands) with a new Message-ID. Returns the booking's emails.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Conflict { clash: Clash::NoEmailConsent, .. }`,
/// `Rule(Refusal::InThePast)` for a confirmation or change notice of an appointment begun.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn resend(deps: Book<'_>, actor: &Actor, key: &str) -> Result<Vec<OutboxMessage>, ServiceError> {
    let booking = find(deps.db, key).await?;
    authorize(deps, actor, booking.unit_id, "booking.resend", &format!("booking:{}", booking.id)).await?;
    if !booking.citizen.may_be_emailed() {
        return Err(ServiceError::conflict(Clash::NoEmailConsent));
    }
    let kind = resend_kind(&booking, &bookings::events(deps.db, booking.id).await?);
    let now = deps.clock.now();
    // A confirmation or change notice of an appointment that has begun is not sent (the sender
    // skips it as "entfallen"): refused here instead of saying it is on its way.
    if !may_resend(&booking, kind, now) {
        return Err(ServiceError::Rule(crate::domain::refusal::Refusal::InThePast));
    }
    let txn = store::begin_write(deps.db).await?;
    // One waiting email of a kind is enough: pressing "send again" while it waits (the mail
    // server down, the button pressed twice) would queue one more email to the citizen, history
    // event and audit record each time.
    let waiting = store::outbox::for_booking(&txn, booking.id).await?.into_iter().any(|m| {
        m.kind == kind
            && matches!(
                m.state,
                crate::domain::outbox::DeliveryState::Queued | crate::domain::outbox::DeliveryState::Retrying
            )
    });
    if waiting {
        return Err(ServiceError::conflict(Clash::EmailQueued));
    }
    mail::outbox::enqueue(&txn, &booking, kind, deps.mail_domain, now).await?;
    let event = HistoryEvent::EmailResent(kind);
    bookings::add_event(&txn, booking.id, now, Some(actor.staff_id()), &event).await?;
    audit::record(&txn, deps.clock, entries::booking(actor, AuditAction::EmailResent, &booking)).await?;
    txn.commit().await?;
    deps.mail.nudge();
    Ok(store::outbox::for_booking(deps.db, booking.id).await?)
}

/// Appointments still to come of a unit whose citizen an email failed to reach: a booked one
/// whose latest confirmation or change notice failed, a cancelled one whose cancellation failed.
/// Three reads however long the list.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn failed_for_unit(deps: Book<'_>, actor: &Actor, unit_key: &str) -> Result<Vec<FailedEmail>, ServiceError> {
    let unit = find_unit(deps.db, unit_key).await?;
    authorize(deps, actor, unit.id, "email.list_failed", &format!("unit:{}", unit.id)).await?;
    let failed = store::outbox::failed_for_unit(deps.db, unit.id, deps.clock.now()).await?;
    let mut ids: Vec<Uuid> = failed.iter().map(|email| email.booking_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut emails: HashMap<Uuid, Vec<OutboxMessage>> = HashMap::new();
    for email in store::outbox::for_bookings(deps.db, &ids).await? {
        emails.entry(email.booking_id).or_default().push(email);
    }
    let mut booked: HashMap<Uuid, Booking> =
        bookings::find_many(deps.db, &ids).await?.into_iter().map(|booking| (booking.id, booking)).collect();
    let mut found: Vec<FailedEmail> = Vec::new();
    for email in failed {
        let all = emails.get(&email.booking_id).map_or(&[][..], Vec::as_slice);
        if delivered_later(all, &email) {
            continue;
        }
        // The first failure not delivered since names the booking; it is listed once.
        if let Some(booking) = booked.remove(&email.booking_id) {
            found.push(FailedEmail { booking, email });
        }
    }
    let shown = found.iter().map(|f| &f.booking);
    if let Some(entry) = entries::bookings_shown(actor, AuditAction::FailedEmailsViewed, unit.id, shown) {
        audit::record(deps.db, deps.clock, entry).await?;
    }
    Ok(found)
}

/// Whether a later email of the same sort got through (e.g. a resend): a confirmation or change
/// notice after a failed one of those, a cancellation after a failed cancellation.
/// `emails` are all of the booking's.
fn delivered_later(emails: &[OutboxMessage], failed: &OutboxMessage) -> bool {
    let cancellation = |kind: MailKind| kind == MailKind::Cancellation;
    emails.iter().any(|e| {
        !matches!(e.kind, MailKind::Reminder)
            && cancellation(e.kind) == cancellation(failed.kind)
            && e.created_at >= failed.created_at
            && e.id != failed.id
            && e.state == crate::domain::outbox::DeliveryState::Sent
    })
}
