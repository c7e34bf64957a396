//! The desk's printable confirmation: the booking with the facts of its emails (the counsellor
//! too, as the email names them: not for confidential units) and a new link of the citizen's own
//! (its hash stored, the token only on the paper), recorded in the audit; and the desk's way to
//! end every link issued so far.

use super::{Opened, open_booking};
use crate::domain::access::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::booking::BookingStatus;
use crate::domain::citizen_link::{new_token, token_hash};
use crate::domain::clash::Clash;
use crate::domain::missing::Missing;
use crate::services::ServiceError;
use crate::services::audit::{self, entries};
use crate::services::bookings::{Book, authorize, find};
use crate::store::{self, citizen_links};

/// The booking `key` for printing, with a new link token, if the actor works in its unit and the
/// appointment may have a confirmation (`Booking::confirmation_printable`: booked, not begun, its
/// personal data not erased): a cancelled, begun or past one's paper would read like a
/// confirmation, and an erased one's link would open nothing.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Conflict { clash: Clash::InvalidStatus, .. }`.
pub async fn printable(deps: Book<'_>, actor: &Actor, key: &str) -> Result<(Opened, String), ServiceError> {
    let booking = find(deps.db, key).await?;
    authorize(deps, actor, booking.unit_id, "booking.print", &format!("booking:{}", booking.id)).await?;
    printable_now(&booking, deps)?;
    let token = new_token();
    let txn = store::begin_write(deps.db).await?;
    // Read again, locked, and checked again: a cancellation or an erasure committed since the
    // check above puts nothing on paper (the page is made from this copy).
    let booking = store::bookings::find_locked(&txn, booking.id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Booking))?;
    printable_now(&booking, deps)?;
    let origin = crate::domain::citizen_link::Origin::Printed(actor.staff_id());
    citizen_links::insert(&txn, booking.id, token_hash(&token), origin, deps.clock.now()).await?;
    audit::record(&txn, deps.clock, entries::booking(actor, AuditAction::ConfirmationPrinted, &booking)).await?;
    txn.commit().await?;
    Ok((open_booking(deps, booking).await?, token))
}

/// Refuses a booking that may have no confirmation now.
fn printable_now(booking: &crate::domain::records::Booking, deps: Book<'_>) -> Result<(), ServiceError> {
    if booking.confirmation_printable(deps.clock.now()) {
        return Ok(());
    }
    let state = if booking.erased_at.is_some() {
        "whose personal data were erased".to_owned()
    } else if booking.status == BookingStatus::Booked {
        "that has begun".to_owned()
    } else {
        format!("that is {}", booking.status.as_str())
    };
    Err(ServiceError::conflict_with(Clash::InvalidStatus, format!("a booking {state} has no confirmation to print")))
}

/// Ends every link of the citizen's to booking `key` issued so far, emailed and printed, if the
/// actor works in its unit: for a paper handed to the wrong person, or a mailbox someone else
/// reads. A link in an email or print made afterwards works (withdraw the email consent or
/// correct the address first if the mailbox is the problem). Returns how many links ended; the
/// audit records the count.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn revoke_links(deps: Book<'_>, actor: &Actor, key: &str) -> Result<u64, ServiceError> {
    let booking = find(deps.db, key).await?;
    authorize(deps, actor, booking.unit_id, "booking.revoke_links", &format!("booking:{}", booking.id)).await?;
    let txn = store::begin_write(deps.db).await?;
    let revoked = citizen_links::revoke_all(&txn, booking.id).await?;
    let entry = entries::booking(actor, AuditAction::CitizenLinksRevoked, &booking)
        .count(usize::try_from(revoked).unwrap_or(usize::MAX));
    audit::record(&txn, deps.clock, entry).await?;
    txn.commit().await?;
    Ok(revoked)
}
