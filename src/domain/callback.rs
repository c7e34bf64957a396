//! The callback list (Rückrufliste): a caller who wants an earlier time, another counsellor or a
//! language not free now waits on the unit's list with a wish, until a day of their choosing.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids::{CallbackId, SlotId, StaffId, UnitId};
use super::language::Language;

/// Longest a caller may wait on the list, in days from today.
pub const MAX_WAIT_DAYS: u64 = 366;

/// Where an entry stands: `open` → `booked` | `withdrawn` | `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    /// Waiting; a matching free slot may be offered.
    Open,
    /// A slot was booked for the caller.
    Booked,
    /// Taken off the list by staff (the caller no longer waits).
    Withdrawn,
    /// Its last day has passed.
    Expired,
}

impl CallbackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Booked => "booked",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }
}

/// The part of the day the caller prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeOfDay {
    Morning,
    Afternoon,
}

impl TimeOfDay {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
        }
    }

    /// Parses `morning` or `afternoon`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "morning" => Some(Self::Morning),
            "afternoon" => Some(Self::Afternoon),
            _ => None,
        }
    }
}

/// What the caller waits for; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wish {
    pub counsellor_id: Option<StaffId>,
    /// Counselling in this language.
    pub language: Option<Language>,
    pub time_of_day: Option<TimeOfDay>,
    /// A time before this local day (an earlier appointment).
    pub before: Option<NaiveDate>,
}

impl Wish {
    /// The local days whose slots match: from `today` to the day before `before`, or without
    /// one to the entry's last day `until`. `None` when that range is empty.
    pub fn days(&self, today: NaiveDate, until: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let last = match self.before {
            Some(before) => before.pred_opt()?,
            None => until,
        };
        let last = last.min(today.checked_add_days(Days::new(MAX_WAIT_DAYS))?);
        (last >= today).then_some((today, last))
    }
}

/// A new entry as staff entered it (the service sets `unit_id` to the unit it is added to).
#[derive(Debug, Clone)]
pub struct NewCallback {
    pub unit_id: UnitId,
    pub citizen_name: String,
    pub citizen_phone: String,
    pub citizen_language: Language,
    pub wish: Wish,
    pub until: NaiveDate,
    pub note: Option<String>,
}

/// One entry of a unit's callback list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRequest {
    pub id: CallbackId,
    pub unit_id: UnitId,
    pub citizen_name: String,
    pub citizen_phone: String,
    pub citizen_language: Language,
    pub wish: Wish,
    /// The entry stays open until the end of this local day.
    pub until: NaiveDate,
    pub note: Option<String>,
    pub status: CallbackStatus,
    /// A free slot matching the wish, marked when the list was last looked at.
    pub offered_slot_id: Option<SlotId>,
    pub offered_at: Option<DateTime<Utc>>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub booking_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<StaffId>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<StaffId>,
}

impl CallbackRequest {
    /// Whether someone is booking for this entry at `now`.
    pub fn is_claimed(&self, now: DateTime<Utc>) -> bool {
        self.claimed_until.is_some_and(|until| until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("valid date")
    }

    #[test]
    fn a_wish_matches_the_days_before_its_date_or_until_the_last_day() {
        let any = Wish::default();
        assert_eq!(any.days(day(1), day(20)), Some((day(1), day(20))));
        let earlier = Wish { before: Some(day(10)), ..Wish::default() };
        assert_eq!(earlier.days(day(1), day(20)), Some((day(1), day(9))));
        assert_eq!(earlier.days(day(10), day(20)), None, "the wished date has come");
        assert_eq!(any.days(day(21), day(20)), None, "expired");
    }

    #[test]
    fn names_round_trip() {
        for part in [TimeOfDay::Morning, TimeOfDay::Afternoon] {
            assert_eq!(TimeOfDay::parse(part.as_str()), Some(part));
        }
        assert_eq!(CallbackStatus::Expired.as_str(), "expired");
    }
}
