//! The audit entries the use cases record, built in one place so each use case adds one line.

use chrono::NaiveDate;

use super::{AuditAction, AuditEntry, AuditTarget};
use crate::domain::access::Actor;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::records::{Booking, StaffMember};
use crate::domain::reference::looks_like_reference;

/// A change of, or a look at, one booking.
pub fn booking(actor: &Actor, action: AuditAction, booking: &Booking) -> AuditEntry {
    AuditEntry::by(actor, action).unit(booking.unit_id).bookings([booking.id])
}

/// A list of bookings (of one unit, or of all the actor's when `unit_id` is `None`); with a search
/// term, a search: whether the term looked like a reference is recorded, never the term.
pub fn bookings_listed(actor: &Actor, unit_id: Option<UnitId>, search: Option<&str>, found: &[Booking]) -> AuditEntry {
    let (action, detail) = match search {
        Some(term) => {
            let kind = if looks_like_reference(term.trim()) { "reference" } else { "text" };
            (AuditAction::BookingsSearched, serde_json::json!({ "search": kind }))
        }
        None => (AuditAction::BookingsListed, serde_json::json!({})),
    };
    let entry = AuditEntry::by(actor, action).bookings(found.iter().map(|b| b.id)).count(found.len()).detail(detail);
    match unit_id {
        Some(unit_id) => entry.unit(unit_id),
        None => entry,
    }
}

/// A day or week list of a unit from `on` (optionally of one counsellor).
pub fn list_viewed<'a>(
    actor: &Actor,
    action: AuditAction,
    unit_id: UnitId,
    on: NaiveDate,
    counsellor_id: Option<StaffId>,
    found: impl IntoIterator<Item = &'a Booking>,
) -> AuditEntry {
    let ids: Vec<_> = found.into_iter().map(|b| b.id).collect();
    AuditEntry::by(actor, action)
        .unit(unit_id)
        .count(ids.len())
        .bookings(ids)
        .detail(serde_json::json!({ "from": on, "counsellor_id": counsellor_id }))
}

/// Bookings of a unit shown for another reason (`what`: the failed emails, the bookings a change
/// of hours, an absence or a closure affects); `None` when nothing was shown.
pub fn bookings_shown<'a>(
    actor: &Actor,
    action: AuditAction,
    unit_id: UnitId,
    found: impl IntoIterator<Item = &'a Booking>,
) -> Option<AuditEntry> {
    let ids: Vec<_> = found.into_iter().map(|b| b.id).collect();
    if ids.is_empty() && action == AuditAction::AffectedBookingsViewed {
        return None;
    }
    Some(AuditEntry::by(actor, action).unit(unit_id).count(ids.len()).bookings(ids))
}

/// A change of a unit's counsellings hours, absences or closures (`target`: `rule:3`, …).
pub fn schedule_changed(actor: &Actor, action: AuditAction, unit_id: UnitId, target: String) -> AuditEntry {
    AuditEntry::by(actor, action).unit(unit_id).target(target)
}

/// A staff member added, or a role given to one, by an admin.
pub fn staff_added(actor: &Actor, member: &StaffMember, role: crate::services::directory::StaffRole) -> AuditEntry {
    let role = match role {
        crate::services::directory::StaffRole::Admin => "admin",
        crate::services::directory::StaffRole::InUnit(role) => role.as_str(),
    };
    AuditEntry::by(actor, AuditAction::StaffAdded)
        .target(AuditTarget::Staff(member.id))
        .detail(serde_json::json!({ "role": role }))
}
