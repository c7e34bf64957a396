//! Plain records of the appointment book as the services see them (no invariants of their own
//! beyond their types, hence public fields). `store` builds them from database rows.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::access::Role;
use super::booking::{BookingStatus, Channel, Citizen};
use super::history::HistoryEvent;
use super::ids::{AbsenceId, ClosureId, LocationId, RuleId, SlotId, StaffId, UnitId};
use super::language::Language;
use super::reference::Reference;

/// Where counselling takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// In German, as every text of the location without a translation.
    pub floor: String,
    /// In German; empty when there are none.
    pub accessibility_notes: String,
    /// The floor and notes in other languages, by language code (`domain::location`).
    pub translations: Vec<super::location::LocationText>,
    /// Rises with every change: a change made from an older version is refused.
    pub version: i32,
}

impl Location {
    /// The floor in `lang` (a language code), or in German where it has none.
    pub fn floor_in(&self, lang: &str) -> &str {
        self.translated(lang).map(|t| t.floor.as_str()).filter(|floor| !floor.is_empty()).unwrap_or(&self.floor)
    }

    /// The accessibility notes in `lang`, or in German where it has none.
    pub fn accessibility_notes_in(&self, lang: &str) -> &str {
        self.translated(lang)
            .map(|t| t.accessibility_notes.as_str())
            .filter(|notes| !notes.is_empty())
            .unwrap_or(&self.accessibility_notes)
    }

    fn translated(&self, lang: &str) -> Option<&super::location::LocationText> {
        self.translations.iter().find(|t| t.language == lang)
    }
}

/// An office that gives counselling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    pub slug: String,
    pub name: String,
    pub short_name: String,
    pub phone: String,
    pub email: String,
    pub location_id: LocationId,
    pub default_slot_minutes: i32,
    pub languages: Vec<Language>,
    /// Units such as the anti-discrimination office: neutral email subjects, minimal data.
    pub confidential: bool,
    /// Days a booking's personal data is kept after the appointment or cancellation.
    pub retention_days: i32,
    /// Rises with every change of the unit's settings (retention, self-service): a change made
    /// from an older version is refused. As read: a unit from the process's cache may hold an
    /// older one, so a change's check reads it afresh.
    pub version: i32,
}

/// A staff member (without secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: StaffId,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub languages: Vec<Language>,
    pub is_admin: bool,
    pub active: bool,
    pub memberships: Vec<(UnitId, Role)>,
}

/// Weekly counselling hours of one counsellor in one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursRule {
    pub id: RuleId,
    pub unit_id: UnitId,
    pub counsellor_id: StaffId,
    /// ISO weekday, 1 = Monday.
    pub weekday: u8,
    pub start_local: NaiveTime,
    pub end_local: NaiveTime,
    pub slot_minutes: i32,
    pub buffer_minutes: i32,
    pub capacity: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// When it was last saved: a change made from an older reading is refused (another lead
    /// changed it meanwhile).
    pub updated_at: DateTime<Utc>,
}

/// A counsellor is away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absence {
    pub id: AbsenceId,
    pub staff_id: StaffId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: String,
}

/// A unit (or with `unit_id: None` the whole department) is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub id: ClosureId,
    pub unit_id: Option<UnitId>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: String,
}

/// A stored bookable time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub id: SlotId,
    pub unit_id: UnitId,
    pub counsellor_id: StaffId,
    pub rule_id: Option<RuleId>,
    pub adhoc: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    pub booked_count: i32,
}

/// One citizen's appointment with one counsellor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: Uuid,
    /// The booking number: shown with its dash (`Display`), stored without (`as_str`).
    pub reference: Reference,
    pub unit_id: UnitId,
    pub counsellor_id: StaffId,
    pub slot_id: SlotId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: BookingStatus,
    pub channel: Channel,
    pub citizen: Citizen,
    pub note: Option<String>,
    pub override_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<StaffId>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<StaffId>,
    /// When its personal data were erased (retention or a request of the person concerned).
    pub erased_at: Option<DateTime<Utc>>,
}

impl Booking {
    /// Whether the citizen's details may be corrected: a booked appointment whose personal data
    /// were not erased.
    pub fn contact_correctable(&self) -> bool {
        self.status.allows(super::booking::BookingAction::CorrectContact) && self.erased_at.is_none()
    }

    /// Whether the desk may print a confirmation with a new citizen's link at `now`: booked, not
    /// yet begun, its personal data not erased. The paper of a cancelled, begun or past
    /// appointment would read like a confirmation of it; an erased one's link opens nothing.
    pub fn confirmation_printable(&self, now: DateTime<Utc>) -> bool {
        self.status == BookingStatus::Booked && self.starts_at > now && self.erased_at.is_none()
    }
}

/// One entry of a booking's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingEvent {
    pub at: DateTime<Utc>,
    pub actor_id: Option<StaffId>,
    pub what: HistoryEvent,
}

/// Filters of a booking list; `unit_ids` is always set (the units the caller may see).
#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub unit_ids: Vec<UnitId>,
    pub counsellor_id: Option<StaffId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<BookingStatus>,
    /// Matches the reference, or a part of the citizen's name or phone number as people spell
    /// them (`domain::search`); cancelled bookings come after the others.
    pub search: Option<String>,
    /// With a search: the bookings from this instant on first (soonest first), then the earlier
    /// ones (latest first), so that the caller's next appointment is never cut off by old ones.
    pub upcoming_first: Option<DateTime<Utc>>,
    pub limit: u64,
}

/// Fields of a weekly rule (new or replacing an existing one).
#[derive(Debug, Clone)]
pub struct RuleFields {
    pub unit_id: UnitId,
    pub counsellor_id: StaffId,
    pub weekday: u8,
    pub start_local: NaiveTime,
    pub end_local: NaiveTime,
    pub slot_minutes: i32,
    pub buffer_minutes: i32,
    pub capacity: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}
