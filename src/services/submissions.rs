//! A booking form sent twice books once: the desk's form carries a random id, claimed when it is
//! sent. A second sending of it (a double click, Enter pressed twice, the browser's back button)
//! waits while the first is handled and then leads to the booking the first made; when the first
//! made none, the second is handled as the first was.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::ServiceError;
use crate::clock::Clock;
use crate::domain::ids::StaffId;
use crate::store::submissions::{self, Claim};

/// How long a second sending waits for the first to be handled.
const WAIT: Duration = Duration::from_secs(10);
/// How often it looks meanwhile.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// A new form id (for the page that shows the form).
pub fn new_id() -> String {
    super::auth::random_secret(24)
}

/// What to do with a sent form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Handle it (and then [`finish`] or [`release`] it).
    Handle,
    /// It was handled already and made this booking (its reference).
    Booked(String),
    /// Its first sending is still being handled after [`WAIT`].
    StillBusy,
    /// Handle it, but it has no usable id (a page from an earlier release, a made-up one).
    Unclaimed,
}

/// Claims the form `id` for `staff`, waiting while another sending of it is handled.
///
/// # Errors
/// Database failures.
pub async fn claim(db: &DatabaseConnection, clock: &Clock, id: &str, staff: StaffId) -> Result<Sent, ServiceError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(Sent::Unclaimed);
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // Read first: a sending that waits for the first one does not write every time it looks.
        let found = match submissions::look(db, id, staff).await? {
            Some(found) => found,
            None => submissions::claim(db, id, staff, clock.now()).await?,
        };
        match found {
            Claim::New => return Ok(Sent::Handle),
            Claim::Done(reference) => return Ok(Sent::Booked(reference)),
            Claim::Foreign => return Ok(Sent::Unclaimed),
            Claim::Busy if tokio::time::Instant::now() >= deadline => return Ok(Sent::StillBusy),
            Claim::Busy => tokio::time::sleep(LOOK_EVERY).await,
        }
    }
}

/// Notes the booking a claimed form made.
///
/// # Errors
/// Database failures.
pub async fn finish(db: &DatabaseConnection, id: &str, reference: &str) -> Result<(), ServiceError> {
    Ok(submissions::finish(db, id, reference).await?)
}

/// Gives a claimed form up (it made no booking): sent again, it is handled anew.
///
/// # Errors
/// Database failures.
pub async fn release(db: &DatabaseConnection, id: &str) -> Result<(), ServiceError> {
    Ok(submissions::release(db, id).await?)
}
