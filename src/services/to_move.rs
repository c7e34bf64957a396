//! The desk's list of appointments to move: a unit's booked appointments from now on that cannot
//! take place as booked (a closure, an absence of the counsellor, a closed day, a counsellor who
//! no longer counsels in the unit). It stays in step with what is recorded: an appointment moved
//! or cancelled leaves it, and an absence recorded by another unit's lead shows here too.

use chrono::{DateTime, Days, Utc};

use super::ServiceError;
use super::audit::{self, AuditAction, entries};
use super::bookings::{Book, authorize};
use super::directory::find_unit;
use super::hours::AFFECTED_LISTED;
use crate::domain::access::Actor;
use crate::domain::blocking::{Stranding, closed_spans};
use crate::domain::records::Booking;
use crate::domain::time::local_date;
use crate::store::blocking::StrandedQuery;
use crate::store::{self, bookings};

/// How far ahead closed days are looked for at most (an appointment later than that is checked
/// for closures, absences and its counsellor only).
const CLOSED_DAYS_AHEAD: u64 = 3_660;

/// The appointments to move of one unit.
#[derive(Debug, Clone)]
pub struct ToMove {
    /// The soonest of them, at most [`AFFECTED_LISTED`], each with why (never empty).
    pub listed: Vec<(Booking, Vec<Stranding>)>,
    /// How many there are in all.
    pub total: u64,
}

impl ToMove {
    /// How many there are in all, when more than are listed.
    #[must_use]
    pub fn beyond(&self) -> Option<u64> {
        (self.total > self.listed.len() as u64).then_some(self.total)
    }
}

/// The appointments of the unit `unit_key` to move, soonest first. The bookings listed are
/// recorded in the audit (`affected_bookings_viewed`, `"via": "to_move"`).
///
/// # Errors
/// `NotFound`, `Forbidden` (recorded) for a unit the actor does not work in.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn for_unit(deps: Book<'_>, actor: &Actor, unit_key: &str) -> Result<ToMove, ServiceError> {
    let unit = find_unit(deps.db, unit_key).await?;
    authorize(deps, actor, unit.id, "booking.list_to_move", &format!("unit:{}", unit.id)).await?;
    let now = deps.clock.now();
    let closed = closed_days(deps, unit.id, now).await?;
    let query = StrandedQuery { unit_id: unit.id, from: now, to: None, counsellors: None, closed_days: &closed };
    let (listed, total) = store::blocking::stranded(deps.db, query, AFFECTED_LISTED).await?;
    let shown = listed.iter().map(|(booking, _)| booking);
    if let Some(entry) = entries::bookings_shown(actor, AuditAction::AffectedBookingsViewed, unit.id, shown) {
        audit::record(deps.db, deps.clock, entry.detail(serde_json::json!({ "via": "to_move" }))).await?;
    }
    Ok(ToMove { listed, total })
}

/// The public holidays and extra closure days from today to the unit's latest booked
/// appointment (at most [`CLOSED_DAYS_AHEAD`] days).
async fn closed_days(
    deps: Book<'_>,
    unit_id: crate::domain::ids::UnitId,
    now: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, ServiceError> {
    let Some(latest) = bookings::latest_booked_start(deps.db, unit_id, now).await? else {
        return Ok(Vec::new());
    };
    let first = local_date(now, deps.tz);
    let horizon = first.checked_add_days(Days::new(CLOSED_DAYS_AHEAD)).unwrap_or(first);
    let last = local_date(latest, deps.tz).min(horizon);
    Ok(closed_spans(deps.calendar, deps.tz, first, last))
}
