//! The desk's printable confirmation: the booking with the facts of its emails (the counsellor
//! too, as the email names them: not for confidential units) and a new link of the citizen's own
//! (its hash stored, the token only on the paper), recorded in the audit.

use super::{Opened, open_booking};
use crate::domain::access::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::booking::BookingStatus;
use crate::domain::citizen_link::{new_token, token_hash};
use crate::domain::clash::Clash;
use crate::services::ServiceError;
use crate::services::audit::{self, entries};
use crate::services::bookings::{Book, authorize, find};
use crate::store::{self, citizen_links};

/// The booking `key` for printing, with a new link token, if the actor works in its unit and the
/// appointment is still booked (a cancelled or past one's paper would read like a confirmation).
///
/// # Errors
/// `NotFound`, `Forbidden`, `Conflict { clash: Clash::InvalidStatus, .. }`.
pub async fn printable(deps: Book<'_>, actor: &Actor, key: &str) -> Result<(Opened, String), ServiceError> {
    let booking = find(deps.db, key).await?;
    authorize(deps, actor, booking.unit_id, "booking.print", &format!("booking:{}", booking.id)).await?;
    if booking.status != BookingStatus::Booked {
        return Err(ServiceError::conflict_with(
            Clash::InvalidStatus,
            format!("a booking that is {} has no confirmation to print", booking.status.as_str()),
        ));
    }
    let token = new_token();
    let txn = store::begin_write(deps.db).await?;
    citizen_links::insert(&txn, booking.id, token_hash(&token), deps.clock.now()).await?;
    audit::record(&txn, deps.clock, entries::booking(actor, AuditAction::ConfirmationPrinted, &booking)).await?;
    txn.commit().await?;
    Ok((open_booking(deps, booking).await?, token))
}
