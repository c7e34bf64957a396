//! Marking the callback list: expired entries close, and each open entry is offered the first
//! free slot that matches its wish, oldest entries first, never more offers of a slot than it has
//! free seats. Runs whenever the list is read, so every way a seat frees up counts (a
//! cancellation, a move, new counselling hours, a lifted absence or closure, another server).

use std::collections::HashMap;

use chrono::NaiveDate;

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

/// What a search for an entry depends on besides its last day: the counsellor, the language and
/// the part of the day wished for (every entry's first day is today).
type WishKey = (Option<crate::domain::ids::StaffId>, Option<crate::domain::language::Language>, Option<TimeOfDay>);

fn wish_key(request: &CallbackRequest) -> WishKey {
    (request.wish.counsellor_id, request.wish.language.clone(), request.wish.time_of_day)
}

/// An entry with the slot offered to it, if one matches its wish now.
#[derive(Debug, Clone)]
pub struct Entry {
    pub request: CallbackRequest,
    pub offer: Option<FreeSlot>,
    /// An open entry's caller's appointments to come in the unit, as the list or the entry's
    /// read found them (`super::appointments_of`), recorded as seen with that read; else none.
    pub appointments: Vec<crate::domain::records::Booking>,
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
    let open = callbacks::list(deps.db, unit.id, &[CallbackStatus::Open]).await?;
    // One search per wish, to the latest day an entry with that wish accepts, with room for a
    // candidate per entry beyond the usual ones: the slots come in time order, so an entry's own
    // candidates are those up to its last day. (Before, one search per entry: up to 300 a read.)
    let mut wishes: HashMap<WishKey, (NaiveDate, u32)> = HashMap::new();
    for request in &open {
        if let Some((_, last)) = request.wish.days(today, request.until) {
            let wish = wishes.entry(wish_key(request)).or_insert((last, 0));
            *wish = (wish.0.max(last), wish.1 + 1);
        }
    }
    let mut found: HashMap<WishKey, Vec<FreeSlot>> = HashMap::new();
    for (key, (last, entries)) in wishes {
        let query = FreeSlotQuery {
            from: today,
            to: last,
            counsellor_id: key.0,
            language: key.1.clone(),
            daypart: key.2.map(daypart),
            limit: (CANDIDATES + entries).min(availability::MAX_LIMIT),
        };
        found.insert(key, availability::free_slots(deps, unit, &query).await?);
    }
    let mut seats_offered: HashMap<SlotId, i32> = HashMap::new();
    let mut entries = Vec::new();
    for request in open {
        let candidates: Vec<&FreeSlot> = match (request.wish.days(today, request.until), found.get(&wish_key(&request)))
        {
            (Some((_, last)), Some(slots)) => {
                slots.iter().filter(|free| local_date(free.slot.starts_at, deps.tz) <= last).collect()
            }
            _ => Vec::new(),
        };
        let has_seat = |free: &FreeSlot, offered: &HashMap<SlotId, i32>| {
            offered.get(&free.slot.id).copied().unwrap_or(0) < free.slot.capacity - free.slot.booked_count
        };
        // Keep the slot already offered while it is still free: the desk may be calling about it.
        let kept =
            candidates.iter().find(|f| Some(f.slot.id) == request.offered_slot_id && has_seat(f, &seats_offered));
        let offer = kept.or_else(|| candidates.iter().find(|f| has_seat(f, &seats_offered))).map(|f| (*f).clone());
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
        entries.push(Entry { request, offer, appointments: Vec::new() });
    }
    Ok(entries)
}

fn daypart(part: TimeOfDay) -> Daypart {
    match part {
        TimeOfDay::Morning => Daypart::Morning,
        TimeOfDay::Afternoon => Daypart::Afternoon,
    }
}
