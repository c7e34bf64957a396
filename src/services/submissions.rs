//! A booking form sent twice books once: the desk's form carries a random id, claimed when it is
//! sent. A second sending of it (a double click, Enter pressed twice, a retry from the same page)
//! waits while the first is handled and then leads to the booking the first made; when the first
//! made none, the second is handled as the first was. An API request with an `Idempotency-Key`
//! is claimed the same way, under a digest of its caller and key, together with a digest of its
//! body: the key sent again with another body is refused.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

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
/// A claim this old with nothing noted will not end: its request stopped between booking and
/// noting (the process ended, the note failed). Far beyond any request's own time limit.
const ABANDONED_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// The longest id claimed (a form's 24 letters and digits, an API key's `api` and 64 hex digits).
const MAX_ID_LEN: usize = 80;

/// A new form id (for the page that shows the form).
pub fn new_id() -> String {
    super::auth::random_secret(24)
}

/// A sent booking request to claim: the desk's form by its id, or an API request by its
/// caller's idempotency key.
#[derive(Debug, Clone)]
pub struct Submission {
    id: String,
    digest: Option<String>,
}

impl Submission {
    /// The desk's form with the id it carried (a form without one is simply booked).
    pub fn form(id: &str) -> Self {
        Self { id: id.to_owned(), digest: None }
    }

    /// An API request of `staff` with the idempotency key `key` and the body `body` (in a
    /// canonical form: the same booking asked for twice has the same body). Keys are the
    /// caller's own: two people's equal keys are two claims.
    pub fn keyed(staff: StaffId, key: &str, body: &[u8]) -> Self {
        let keyed = Sha256::new().chain_update(staff.get().to_be_bytes()).chain_update(key.as_bytes());
        let id = keyed.clone().finalize();
        // The body (the citizen's details) digested with the key: without the key, the stored
        // digest does not tell whose details a guess would match.
        let digest = keyed.chain_update([0]).chain_update(body).finalize();
        Self { id: format!("api{}", hex::encode(id)), digest: Some(hex::encode(digest)) }
    }

    /// The id claimed in `form_submissions`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The digest of an API request's key and body (`None` for a form).
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

/// What sending a booking form came to.
#[derive(Debug)]
pub enum Sending {
    /// An earlier sending of the form made this booking (its stored reference).
    Booked(String),
    /// An earlier sending is still being handled after [`WAIT`].
    StillBusy,
    /// The id was claimed by a request with another body (an idempotency key used again).
    Reused,
    /// The first sending's claim has stood for more than a minute with nothing noted: whether
    /// it booked is unknown (its process stopped between booking and noting, or the note failed).
    Unresolved,
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
    submission: &Submission,
    new: NewBooking,
) -> Result<Sending, ServiceError> {
    let claimed = match claim(deps.db, deps.clock, submission, actor.staff_id()).await? {
        Ok(claimed) => claimed,
        Err(answered) => return Ok(answered),
    };
    let submission = submission.id.as_str();
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

/// Claims `submission` for `staff`, waiting while another sending of it is handled: `Ok(true)`
/// claimed (handle it, then finish or release it), `Ok(false)` no usable id (handle it
/// unclaimed), `Err` what an earlier sending came to (the answer instead of handling it).
async fn claim(
    db: &DatabaseConnection,
    clock: &Clock,
    submission: &Submission,
    staff: StaffId,
) -> Result<Result<bool, Sending>, ServiceError> {
    let (id, digest) = (submission.id.as_str(), submission.digest.as_deref());
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(Ok(false));
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // Read first: a sending that waits for the first one does not write every time it looks.
        let found = match submissions::look(db, id, staff, digest).await? {
            Some(found) => found,
            None => submissions::claim(db, id, staff, digest, clock.now()).await?,
        };
        match found {
            Claim::New => return Ok(Ok(true)),
            Claim::Done(reference) => return Ok(Err(Sending::Booked(reference))),
            Claim::Foreign => return Ok(Ok(false)),
            Claim::Reused => return Ok(Err(Sending::Reused)),
            Claim::Busy(since) if since < clock.now() - ABANDONED_AFTER => return Ok(Err(Sending::Unresolved)),
            Claim::Busy(_) if tokio::time::Instant::now() >= deadline => return Ok(Err(Sending::StillBusy)),
            Claim::Busy(_) => tokio::time::sleep(LOOK_EVERY).await,
        }
    }
}
