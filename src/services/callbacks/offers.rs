//! Marking the callback list: expired entries close, and each open entry is offered the first
//! free slot that matches its wish, oldest entries first, never more offers of a slot than it has
//! free seats. Runs whenever the list is read, so every way a seat frees up counts (a
//! cancellation, a move, new counselling hours, a lifted absence or closure, another server).

use std::collections::HashMap;

use super::super::ServiceError;
use super::super::availability::{self, Daypart, FreeSlot, FreeSlotQuery};
use super::super::bookings::Book;
use crate::domain::callback::{CallbackRequest, CallbackStatus, TimeOfDay};
use crate::domain::ids::SlotId;
use crate::domain::records::Unit;
use crate::domain::time::local_date;
use crate::store::callbacks;

/// Free slots looked at per entry.
const CANDIDATES: u32 = 20;

/// An entry with the slot offered to it, if one matches its wish now.
#[derive(Debug, Clone)]
pub struct Entry {
    pub request: CallbackRequest,
    pub offer: Option<FreeSlot>,
}

/// Expires the unit's entries past their last day, then marks each open entry with a matching
/// free slot (or clears a mark whose slot is gone); returns the open entries, oldest first.
///
/// # Errors
/// Database failures.
pub async fn refresh(deps: Book<'_>, unit: &Unit) -> Result<Vec<Entry>, ServiceError> {
    let now = deps.clock.now();
    let today = local_date(now, deps.tz);
    callbacks::expire(deps.db, unit.id, today, now).await?;
    let mut seats_offered: HashMap<SlotId, i32> = HashMap::new();
    let mut entries = Vec::new();
    for request in callbacks::list(deps.db, unit.id, &[CallbackStatus::Open]).await? {
        let candidates = match request.wish.days(today, request.until) {
            Some((from, to)) => {
                let query = FreeSlotQuery {
                    from,
                    to,
                    counsellor_id: request.wish.counsellor_id,
                    language: request.wish.language.clone(),
                    daypart: request.wish.time_of_day.map(daypart),
                    limit: CANDIDATES,
                };
                availability::free_slots(deps, unit, &query).await?
            }
            None => Vec::new(),
        };
        let has_seat = |free: &FreeSlot, offered: &HashMap<SlotId, i32>| {
            offered.get(&free.slot.id).copied().unwrap_or(0) < free.slot.capacity - free.slot.booked_count
        };
        // Keep the slot already offered while it is still free: the desk may be calling about it.
        let kept =
            candidates.iter().find(|f| Some(f.slot.id) == request.offered_slot_id && has_seat(f, &seats_offered));
        let offer = kept.or_else(|| candidates.iter().find(|f| has_seat(f, &seats_offered))).cloned();
        if let Some(free) = &offer {
            *seats_offered.entry(free.slot.id).or_insert(0) += 1;
        }
        let mut request = request;
        let offered_slot_id = offer.as_ref().map(|f| f.slot.id);
        if offered_slot_id != request.offered_slot_id && !request.is_claimed(now) {
            let at = offered_slot_id.map(|id| (id, now));
            callbacks::set_offer(deps.db, request.id, at).await?;
            request.offered_slot_id = offered_slot_id;
            request.offered_at = at.map(|a| a.1);
        }
        entries.push(Entry { request, offer });
    }
    Ok(entries)
}

fn daypart(part: TimeOfDay) -> Daypart {
    match part {
        TimeOfDay::Morning => Daypart::Morning,
        TimeOfDay::Afternoon => Daypart::Afternoon,
    }
}
