//! The audit of every access to personal data: what was done ([`AuditAction`]), by whom
//! ([`AuditActor`]), from where, and to what ([`AuditEntry`]); and what a record holds when it is
//! read back ([`AuditRecord`]). Records never hold a citizen's name, contact or search term.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::Actor;
use super::ids::{StaffId, UnitId};

mod actions;
mod target;

pub use actions::AuditAction;
pub use target::{Area, AuditTarget};

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    /// A staff member (for a failed login: the account the attempt named).
    Staff(StaffId),
    /// A citizen through the link of their booking (the booking is among the record's bookings).
    Citizen,
    /// The service itself: scheduled jobs, the command line, the database.
    System,
    /// Someone not identified, e.g. a failed login with an unknown name.
    Anonymous,
}

/// The kinds of actor, as stored in `actor_kind` and used in filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Staff,
    Citizen,
    System,
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Citizen => "citizen",
            Self::System => "system",
            Self::Anonymous => "anonymous",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Staff, Self::Citizen, Self::System, Self::Anonymous].into_iter().find(|k| k.as_str() == value)
    }
}

impl AuditActor {
    pub fn kind(self) -> ActorKind {
        match self {
            Self::Staff(_) => ActorKind::Staff,
            Self::Citizen => ActorKind::Citizen,
            Self::System => ActorKind::System,
            Self::Anonymous => ActorKind::Anonymous,
        }
    }

    pub fn staff_id(self) -> Option<StaffId> {
        match self {
            Self::Staff(id) => Some(id),
            _ => None,
        }
    }

    /// The actor of a stored `(actor_kind, actor_id)`; a staff kind without id reads as anonymous.
    pub fn from_parts(kind: ActorKind, staff_id: Option<StaffId>) -> Self {
        match (kind, staff_id) {
            (ActorKind::Staff, Some(id)) => Self::Staff(id),
            (ActorKind::Citizen, _) => Self::Citizen,
            (ActorKind::System, _) => Self::System,
            _ => Self::Anonymous,
        }
    }
}

/// One access to record. Build it with [`AuditEntry::by`] (a staff member, with the address
/// their request came from), [`AuditEntry::citizen`] or [`AuditEntry::system`], then add what it
/// was about:
///
/// ```
/// # use terminbuch::domain::audit::{AuditAction, AuditEntry};
/// let entry = AuditEntry::system(AuditAction::RetentionRun).count(12).detail(serde_json::json!({ "bookings": 12 }));
/// assert_eq!(entry.item_count(), Some(12));
/// ```
///
/// Never put a citizen's name, contact details or search term into `target` or `detail`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    action: AuditAction,
    actor: AuditActor,
    client: Option<IpAddr>,
    unit_id: Option<UnitId>,
    booking_ids: Vec<Uuid>,
    item_count: Option<i64>,
    target: String,
    detail: serde_json::Value,
}

impl AuditEntry {
    fn new(action: AuditAction, actor: AuditActor, client: Option<IpAddr>) -> Self {
        Self {
            action,
            actor,
            // A citizen's address is never recorded (see [`AuditEntry::citizen`]).
            client: client.filter(|_| actor != AuditActor::Citizen),
            unit_id: None,
            booking_ids: Vec::new(),
            item_count: None,
            target: String::new(),
            detail: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// `action` by a logged-in staff member, from the address their request came from.
    pub fn by(actor: &Actor, action: AuditAction) -> Self {
        Self::new(action, AuditActor::Staff(actor.staff_id()), actor.client())
    }

    /// `action` by a citizen through the link of booking `booking_id`. Without the client's
    /// address: the records name no citizen, and an address would identify one (kept longer than
    /// the booking's personal data, and out of reach of a request of the person concerned).
    pub fn citizen(action: AuditAction, booking_id: Uuid) -> Self {
        Self::new(action, AuditActor::Citizen, None).bookings([booking_id])
    }

    /// `action` by the service itself (scheduled jobs, the command line).
    pub fn system(action: AuditAction) -> Self {
        Self::new(action, AuditActor::System, None)
    }

    /// `action` by `actor` from `client`, for what no [`Actor`] exists yet (a login attempt).
    pub fn attempt(action: AuditAction, actor: AuditActor, client: Option<IpAddr>) -> Self {
        Self::new(action, actor, client)
    }

    /// The unit the data belongs to.
    pub fn unit(mut self, unit_id: UnitId) -> Self {
        self.unit_id = Some(unit_id);
        self
    }

    /// The bookings whose data was seen or changed (added to those given before, without repeats).
    pub fn bookings(mut self, ids: impl IntoIterator<Item = Uuid>) -> Self {
        for id in ids {
            if !self.booking_ids.contains(&id) {
                self.booking_ids.push(id);
            }
        }
        self
    }

    /// How many items were seen, exported or removed.
    pub fn count(mut self, count: usize) -> Self {
        self.item_count = Some(i64::try_from(count).unwrap_or(i64::MAX));
        self
    }

    /// Another object the action concerned, e.g. `staff:12`, `slot:40`, `absence:3`.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// Further facts (filters used, old and new values of a setting); no personal data of citizens.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn action(&self) -> AuditAction {
        self.action
    }

    pub fn actor(&self) -> AuditActor {
        self.actor
    }

    pub fn client(&self) -> Option<IpAddr> {
        self.client
    }

    pub fn unit_id(&self) -> Option<UnitId> {
        self.unit_id
    }

    pub fn booking_ids(&self) -> &[Uuid] {
        &self.booking_ids
    }

    pub fn item_count(&self) -> Option<i64> {
        self.item_count
    }

    pub fn target_text(&self) -> &str {
        &self.target
    }

    pub fn detail_value(&self) -> &serde_json::Value {
        &self.detail
    }
}

/// A stored audit record as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i32,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// The client address the request came from, as recorded.
    pub client: Option<String>,
    pub action: AuditAction,
    pub unit_id: Option<UnitId>,
    pub booking_ids: Vec<Uuid>,
    pub item_count: Option<i64>,
    pub target: String,
    pub detail: serde_json::Value,
}

/// Whose records to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorFilter {
    Staff(StaffId),
    Kind(ActorKind),
}

/// Filters and page of a read of the audit records, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor: Option<ActorFilter>,
    pub booking: Option<Uuid>,
    pub action: Option<AuditAction>,
    /// Only records about this staff member (target [`AuditTarget::Staff`]).
    pub subject: Option<StaffId>,
    /// Only records with a smaller id (the next page after the record with this id).
    pub before: Option<i32>,
    pub limit: u64,
}

impl AuditFilter {
    /// Every record, newest first, at most `limit`; narrow it with the struct update syntax:
    /// `AuditFilter { action: Some(action), ..AuditFilter::newest(10) }`.
    pub fn newest(limit: u64) -> Self {
        Self { from: None, to: None, actor: None, booking: None, action: None, subject: None, before: None, limit }
    }
}

/// The stored form of a record's bookings: hyphenated ids separated by spaces.
pub fn join_booking_ids(ids: &[Uuid]) -> String {
    ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(" ")
}

/// Reads the stored form of a record's bookings, skipping anything that is no id.
pub fn split_booking_ids(stored: &str) -> Vec<Uuid> {
    stored.split_whitespace().filter_map(|id| Uuid::parse_str(id).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_serde_names_and_unique() {
        for action in AuditAction::ALL {
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json, action.as_str(), "{action:?}");
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
        }
        let mut names: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::parse("denied:booking.read"), None);
    }

    #[test]
    fn an_entry_by_staff_carries_their_address_and_each_booking_once() {
        let actor =
            Actor::new(StaffId::new(7), "a".into(), false, vec![]).with_client(Some("10.0.0.5".parse().unwrap()));
        let id = Uuid::now_v7();
        let entry = AuditEntry::by(&actor, AuditAction::DayListViewed).unit(UnitId::new(3)).bookings([id, id]).count(1);
        assert_eq!(entry.actor(), AuditActor::Staff(StaffId::new(7)));
        assert_eq!(entry.client(), Some("10.0.0.5".parse().unwrap()));
        assert_eq!(entry.booking_ids(), &[id]);
        assert_eq!((entry.unit_id(), entry.item_count()), (Some(UnitId::new(3)), Some(1)));
    }

    #[test]
    fn booking_ids_round_trip_through_their_stored_form() {
        let ids = vec![Uuid::now_v7(), Uuid::now_v7()];
        assert_eq!(split_booking_ids(&join_booking_ids(&ids)), ids);
        assert_eq!(split_booking_ids(""), Vec::<Uuid>::new());
        assert_eq!(split_booking_ids("booking:x"), Vec::<Uuid>::new());
    }

    #[test]
    fn actors_round_trip_through_kind_and_id() {
        for actor in
            [AuditActor::Staff(StaffId::new(4)), AuditActor::Citizen, AuditActor::System, AuditActor::Anonymous]
        {
            assert_eq!(AuditActor::from_parts(actor.kind(), actor.staff_id()), actor);
            assert_eq!(ActorKind::parse(actor.kind().as_str()), Some(actor.kind()));
        }
    }
}
