//! Slots a free-slot search listed lately (PostgreSQL), so that the booking of one of them is one
//! round trip: staff search, the caller picks a time, staff book it; the booking's rows are built
//! from the slot as the search listed it and written in one statement, without reading the slot
//! again (`one_statement::create`).
//!
//! An entry may be stale without harm. The statement takes the seat only if the slot still has
//! the listed unit, counsellor and time (the guard of `take_seat`) and a free seat; and no refusal
//! is decided on a listed entry: if the statement or a check on the listed values refuses, the
//! booking reads the slot afresh and decides on that. An entry leaves the list when a booking of
//! its slot is tried (whatever the outcome: the next search lists it again if it is still free),
//! after [`LIFETIME`], or when the list is full.

use std::time::Duration;

use sea_orm::DbBackend;

use crate::domain::ids::SlotId;
use crate::domain::records::Slot;

/// How long a listed slot is remembered: longer than a phone call from the search to the booking.
pub const LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How many listed slots are remembered at most (the slot's values and the cache's bookkeeping: a
/// few hundred bytes each, so a few megabytes when full).
pub const CAPACITY: u64 = 10_000;

/// The slots listed lately, by id; cheap to clone (one shared list).
#[derive(Clone)]
pub struct ListedSlots(Option<moka::sync::Cache<SlotId, Slot>>);

impl ListedSlots {
    /// A list of [`CAPACITY`] slots kept for [`LIFETIME`].
    pub fn new() -> Self {
        Self(crate::services::short_lived_cache(LIFETIME, CAPACITY))
    }

    /// No list: every booking reads its slot.
    pub fn off() -> Self {
        Self(None)
    }

    /// The list for `backend`: PostgreSQL's bookings use it; SQLite's writer reads the slot
    /// inside its own transaction on the same file, so SQLite has none.
    pub fn for_backend(backend: DbBackend) -> Self {
        if backend == DbBackend::Postgres { Self::new() } else { Self::off() }
    }

    /// Remembers the slots a search listed.
    pub fn remember<'a>(&self, slots: impl IntoIterator<Item = &'a Slot>) {
        if let Some(cache) = &self.0 {
            for slot in slots {
                cache.insert(slot.id, slot.clone());
            }
        }
    }

    /// The slot as listed, if it was, and forgets it.
    pub fn take(&self, id: SlotId) -> Option<Slot> {
        self.0.as_ref().and_then(|cache| cache.remove(&id))
    }
}

impl Default for ListedSlots {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::ids::{StaffId, UnitId};

    fn slot(id: i32) -> Slot {
        let starts_at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).single().expect("a time");
        Slot {
            id: SlotId::new(id),
            unit_id: UnitId::new(1),
            counsellor_id: StaffId::new(2),
            rule_id: None,
            adhoc: false,
            starts_at,
            ends_at: starts_at + chrono::TimeDelta::minutes(45),
            capacity: 1,
            booked_count: 0,
        }
    }

    #[test]
    fn a_listed_slot_is_taken_once() {
        let listed = ListedSlots::new();
        listed.remember(&[slot(1), slot(2)]);
        assert_eq!(listed.take(SlotId::new(1)), Some(slot(1)));
        assert_eq!(listed.take(SlotId::new(1)), None, "a booking tried takes it off the list");
        assert_eq!(listed.take(SlotId::new(3)), None, "never listed");
        assert_eq!(listed.take(SlotId::new(2)), Some(slot(2)));
    }

    #[test]
    fn without_a_list_nothing_is_remembered() {
        let listed = ListedSlots::for_backend(DbBackend::Sqlite);
        listed.remember(&[slot(1)]);
        assert_eq!(listed.take(SlotId::new(1)), None);
    }

    #[test]
    fn the_list_stays_within_its_capacity() {
        let listed = ListedSlots::new();
        let many: Vec<Slot> = (0..i32::try_from(CAPACITY).expect("fits") + 500).map(slot).collect();
        listed.remember(&many);
        let cache = listed.0.as_ref().expect("a list");
        cache.run_pending_tasks();
        assert!(cache.entry_count() <= CAPACITY, "{} entries", cache.entry_count());
    }
}
