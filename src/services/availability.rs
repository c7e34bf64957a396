//! Finding free counselling slots: what the person on the phone needs in one view.

use chrono::{NaiveDate, Timelike};

use super::ServiceError;
use super::bookings::Book;
use crate::domain::blocking::{Wanted, closed_day, first_blocking};
use crate::domain::ids::StaffId;
use crate::domain::language::Language;
use crate::domain::records::{Slot, StaffMember, Unit};
use crate::domain::time::day_bounds;
use crate::services::directory;
use crate::store::blocking::{self, FreePage, PageQuery};

/// Largest number of slots one search returns.
pub const MAX_LIMIT: u32 = 500;
/// Longest date range of one search, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A free-slot search.
#[derive(Debug, Clone)]
pub struct FreeSlotQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub counsellor_id: Option<StaffId>,
    /// Only counsellors who counsel in this language.
    pub language: Option<Language>,
    /// Only slots starting in this part of the (local) day.
    pub daypart: Option<Daypart>,
    pub limit: u32,
}

/// The part of the day a caller prefers: "vormittags" starts before 12:00 local time,
/// "nachmittags" at 12:00 or later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daypart {
    Morning,
    Afternoon,
}

impl Daypart {
    /// Parses `morning` or `afternoon`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "morning" => Some(Self::Morning),
            "afternoon" => Some(Self::Afternoon),
            _ => None,
        }
    }

    /// Whether a slot starting at local `hour` lies in this part of the day.
    pub fn contains(self, hour: u32) -> bool {
        match self {
            Self::Morning => hour < 12,
            Self::Afternoon => hour >= 12,
        }
    }
}

/// A free slot with its counsellor.
#[derive(Debug, Clone)]
pub struct FreeSlot {
    pub slot: Slot,
    pub counsellor: StaffMember,
}

/// Free slots of the unit in the local days `from..=to`, soonest first: not full, not in the
/// past, not overlapping another booking of the counsellor, an absence, a closure or a holiday.
/// They are remembered as listed ([`super::bookings::ListedSlots`]).
///
/// # Errors
/// `Invalid` for a bad range or limit.
pub async fn free_slots(deps: Book<'_>, unit: &Unit, query: &FreeSlotQuery) -> Result<Vec<FreeSlot>, ServiceError> {
    let limit = u64::from(query.limit);
    search(deps, unit, query, &|_| true, (limit + limit / 4 + 5).min(MAX_PAGE)).await
}

/// The free slots of [`free_slots`] that `fits` accepts: up to `query.limit` of them (the slots
/// it refuses do not count against the limit).
///
/// # Errors
/// `Invalid` for a bad range or limit.
pub async fn free_slots_where(
    deps: Book<'_>,
    unit: &Unit,
    query: &FreeSlotQuery,
    fits: &(dyn Fn(&Slot) -> bool + Sync),
) -> Result<Vec<FreeSlot>, ServiceError> {
    // Larger pages than an unfiltered search's: most candidates may not fit.
    search(deps, unit, query, fits, FILTERED_PAGE).await
}

/// Candidates read per query by [`free_slots_where`].
const FILTERED_PAGE: u64 = 200;

/// The most candidates read per query.
const MAX_PAGE: u64 = 1000;

/// The size of the page after one of `size` that did not fill the answer: four times larger, up
/// to [`MAX_PAGE`]. The first page is sized for the usual search, which it answers; a search most
/// candidates fail (a part of the day nobody offers, a long closure) reads the rest of the range
/// in a few large pages rather than one query per handful of slots.
fn next_page(size: u64) -> u64 {
    size.saturating_mul(4).min(MAX_PAGE).max(size)
}

async fn search(
    deps: Book<'_>,
    unit: &Unit,
    query: &FreeSlotQuery,
    fits: &(dyn Fn(&Slot) -> bool + Sync),
    mut page_size: u64,
) -> Result<Vec<FreeSlot>, ServiceError> {
    if query.to < query.from {
        return Err(ServiceError::invalid("to", "must not be before `from`"));
    }
    if (query.to - query.from).num_days() > MAX_RANGE_DAYS {
        return Err(ServiceError::invalid("to", format!("the range may span at most {MAX_RANGE_DAYS} days")));
    }
    if query.limit == 0 || query.limit > MAX_LIMIT {
        return Err(ServiceError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let all = directory::counsellors_cached(deps.db, deps.counsellors, unit.id).await?;
    let counsellors: Vec<&StaffMember> = all
        .iter()
        .filter(|c| query.counsellor_id.is_none_or(|id| c.id == id))
        .filter(|c| query.language.as_ref().is_none_or(|lang| c.languages.contains(lang)))
        .collect();
    if counsellors.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<StaffId> = counsellors.iter().map(|c| c.id).collect();
    let now = deps.clock.now();
    let window_from = day_bounds(query.from, deps.tz).0.max(now);
    let window_to = day_bounds(query.to, deps.tz).1;
    let limit = query.limit as usize;
    let mut found = Vec::with_capacity(limit);
    let mut after = None;
    loop {
        let page_query = PageQuery {
            unit_id: unit.id.get(),
            counsellor_ids: &ids,
            from: window_from,
            to: window_to,
            after,
            page: page_size,
        };
        let FreePage { candidates: page, blocks } = blocking::free_page(deps.search_db, page_query).await?;
        let Some(last) = page.last() else { break };
        for slot in &page {
            let in_hours =
                query.daypart.is_none_or(|part| part.contains(slot.starts_at.with_timezone(&deps.tz).hour()));
            let wanted = Wanted {
                unit_id: unit.id,
                counsellor_id: slot.counsellor_id,
                slot_id: Some(slot.id),
                starts_at: slot.starts_at,
                ends_at: slot.ends_at,
            };
            let free = in_hours
                && fits(slot)
                && closed_day(deps.calendar, deps.tz, slot.starts_at, slot.ends_at).is_none()
                && first_blocking(&blocks, &wanted).is_none();
            if free && let Some(counsellor) = counsellors.iter().find(|c| c.id == slot.counsellor_id) {
                found.push(FreeSlot { slot: slot.clone(), counsellor: (*counsellor).clone() });
                if found.len() == limit {
                    break;
                }
            }
        }
        if found.len() == limit || (page.len() as u64) < page_size {
            break;
        }
        after = Some((last.starts_at, last.id.get()));
        page_size = next_page(page_size);
    }
    // Staff book one of these next, mostly: its booking need not read it again.
    deps.listed.remember(found.iter().map(|free| &free.slot));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_most_candidates_fail_reads_a_long_range_in_few_pages() {
        // A search for one slot starts with a page of 6; a unit's two years of slots (every
        // weekday, 8 a day, 10 counsellors: about 42,000) are then read in a few dozen queries,
        // not one per 6 slots.
        let (mut size, mut read, mut queries) = (6, 0_u64, 0); // limit 1: 1 + 1 / 4 + 5
        while read < 42_000 {
            read += size;
            queries += 1;
            size = next_page(size);
        }
        assert!(queries <= 50, "{queries} queries");
        assert_eq!(next_page(MAX_PAGE), MAX_PAGE);
        assert_eq!(next_page(6), 24);
    }
}
