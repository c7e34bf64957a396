//! A booking form sent twice books once: the desk's form carries a random id, claimed when it is
//! sent. A second sending of it (a double click, Enter pressed twice, a retry from the same page)
//! waits while the first is handled and then leads to the booking the first made; when the first
//! made none, the second is handled as the first was.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::bookings::{self, Book, NewBooking};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::ids::StaffId;
use crate::domain::records::Booking;
use crate::store::submissions::{self, Claim};

/// How long a second sending waits for the first to be handled.
const WAIT: Duration = Duration::from_secs(10);
/// How often it looks meanwhile.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// A new form id (for the page that shows the form).
pub fn new_id() -> String {
    super::auth::random_secret(24)
}

/// What sending a booking form came to.
#[derive(Debug)]
pub enum Sending {
    /// An earlier sending of the form made this booking (its stored reference).
    Booked(String),
    /// An earlier sending is still being handled after [`WAIT`].
    StillBusy,
    /// This sending was handled: the booking, or why not.
    Made(Box<Result<Booking, ServiceError>>),
}

/// Books `new` for the form `submission` once: claims the form's id (waiting while another
/// sending of it is handled), books, and notes the booking or gives the form up. A form without
/// a usable id (a page of an earlier release, a made-up or someone else's id) is simply booked.
///
/// # Errors
/// Database failures of the claim; the booking's own refusals are in [`Sending::Made`].
pub async fn book_once(
    deps: Book<'_>,
    actor: &Actor,
    submission: &str,
    new: NewBooking,
) -> Result<Sending, ServiceError> {
    let claimed = match claim(deps.db, deps.clock, submission, actor.staff_id()).await? {
        Sent::Booked(stored) => return Ok(Sending::Booked(stored)),
        Sent::StillBusy => return Ok(Sending::StillBusy),
        Sent::Handle => true,
        Sent::Unclaimed => false,
    };
    let made = bookings::create(deps, actor, new).await;
    if claimed {
        let noted = match &made {
            Ok(booking) => submissions::finish(deps.db, submission, booking.reference.as_str()).await,
            Err(_) => submissions::release(deps.db, submission).await,
        };
        // The booking stands either way; a second sending then waits and is told to look.
        if let Err(err) = noted {
            tracing::warn!(error = ?err, "the sent booking form was not noted");
        }
    }
    Ok(Sending::Made(Box::new(made)))
}

/// What to do with a sent form.
enum Sent {
    /// Handle it (and then finish or release it).
    Handle,
    /// It was handled already and made this booking (its reference).
    Booked(String),
    /// Its first sending is still being handled after [`WAIT`].
    StillBusy,
    /// Handle it, but it has no usable id.
    Unclaimed,
}

/// Claims the form `id` for `staff`, waiting while another sending of it is handled.
async fn claim(db: &DatabaseConnection, clock: &Clock, id: &str, staff: StaffId) -> Result<Sent, ServiceError> {
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
