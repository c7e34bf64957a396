//! Who may do what: roles per unit, and admins.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::{StaffId, UnitId};

/// A staff member's role in one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    FrontDesk,
    Counsellor,
    UnitLead,
}

impl Role {
    /// Parses `front_desk`, `counsellor` or `unit_lead`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "front_desk" => Some(Self::FrontDesk),
            "counsellor" => Some(Self::Counsellor),
            "unit_lead" => Some(Self::UnitLead),
            _ => None,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FrontDesk => "front_desk",
            Self::Counsellor => "counsellor",
            Self::UnitLead => "unit_lead",
        }
    }
}

/// The authenticated staff member a request acts for, and the address the request came from
/// (for the audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    staff_id: StaffId,
    login: String,
    is_admin: bool,
    memberships: Vec<(UnitId, Role)>,
    client: Option<std::net::IpAddr>,
}

impl Actor {
    /// An actor with its unit memberships `(unit_id, role)`.
    pub fn new(staff_id: StaffId, login: String, is_admin: bool, memberships: Vec<(UnitId, Role)>) -> Self {
        Self { staff_id, login, is_admin, memberships, client: None }
    }

    /// The same actor acting from `client` (the request's address, as the audit records it).
    pub fn with_client(mut self, client: Option<std::net::IpAddr>) -> Self {
        self.client = client;
        self
    }

    /// The address the request came from, if known.
    pub fn client(&self) -> Option<std::net::IpAddr> {
        self.client
    }

    pub fn staff_id(&self) -> StaffId {
        self.staff_id
    }

    pub fn login(&self) -> &str {
        &self.login
    }

    pub fn is_admin(&self) -> bool {
        self.is_admin
    }

    /// The units this actor belongs to (admins: see [`Actor::sees_all_units`]).
    pub fn unit_ids(&self) -> Vec<UnitId> {
        let mut ids: Vec<UnitId> = self.memberships.iter().map(|(unit, _)| *unit).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Admins see every unit.
    pub fn sees_all_units(&self) -> bool {
        self.is_admin
    }

    /// May see and book appointments of the unit (any role in it, or admin).
    pub fn can_work_in(&self, unit_id: UnitId) -> bool {
        self.is_admin || self.memberships.iter().any(|(unit, _)| *unit == unit_id)
    }

    /// May change counselling hours, absences and closures of the unit.
    pub fn can_lead(&self, unit_id: UnitId) -> bool {
        self.is_admin || self.memberships.contains(&(unit_id, Role::UnitLead))
    }

    /// Leads at least one unit (or is admin): may open the unit leads' pages.
    pub fn leads_any_unit(&self) -> bool {
        self.is_admin || self.memberships.iter().any(|(_, role)| *role == Role::UnitLead)
    }

    /// May record an absence for `staff_id` in the unit: leads for anyone, counsellors for themselves.
    pub fn can_set_absence(&self, unit_id: UnitId, staff_id: StaffId) -> bool {
        self.can_lead(unit_id) || (staff_id == self.staff_id && self.can_work_in(unit_id))
    }

    /// Counsels in the unit (a role of its own: being its lead or an admin is not counselling).
    pub fn counsels_in(&self, unit_id: UnitId) -> bool {
        self.memberships.contains(&(unit_id, Role::Counsellor))
    }

    /// Counsels in at least one unit: has appointments, and absences of their own to keep.
    pub fn counsels_anywhere(&self) -> bool {
        self.memberships.iter().any(|(_, role)| *role == Role::Counsellor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_access_per_unit_only() {
        let front_desk = Actor::new(StaffId::new(1), "a".into(), false, vec![(UnitId::new(10), Role::FrontDesk)]);
        assert!(front_desk.can_work_in(UnitId::new(10)));
        assert!(!front_desk.can_work_in(UnitId::new(11)));
        assert!(!front_desk.can_lead(UnitId::new(10)));
        let lead = Actor::new(StaffId::new(2), "b".into(), false, vec![(UnitId::new(10), Role::UnitLead)]);
        assert!(lead.can_lead(UnitId::new(10)));
        assert!(!lead.can_lead(UnitId::new(11)));
        let admin = Actor::new(StaffId::new(3), "c".into(), true, vec![]);
        assert!(admin.can_work_in(UnitId::new(99)) && admin.can_lead(UnitId::new(99)));
    }

    #[test]
    fn counsellors_may_record_their_own_absences_only() {
        let counsellor = Actor::new(StaffId::new(5), "d".into(), false, vec![(UnitId::new(10), Role::Counsellor)]);
        assert!(counsellor.can_set_absence(UnitId::new(10), StaffId::new(5)));
        assert!(!counsellor.can_set_absence(UnitId::new(10), StaffId::new(6)));
    }

    #[test]
    fn counselling_is_a_role_of_its_own_per_unit() {
        let counsellor = Actor::new(StaffId::new(5), "d".into(), false, vec![(UnitId::new(10), Role::Counsellor)]);
        assert!(counsellor.counsels_in(UnitId::new(10)) && counsellor.counsels_anywhere());
        assert!(!counsellor.counsels_in(UnitId::new(11)));
        let lead = Actor::new(StaffId::new(2), "b".into(), false, vec![(UnitId::new(10), Role::UnitLead)]);
        let admin = Actor::new(StaffId::new(3), "c".into(), true, vec![(UnitId::new(10), Role::FrontDesk)]);
        for other in [lead, admin] {
            assert!(!other.counsels_in(UnitId::new(10)) && !other.counsels_anywhere(), "{}", other.login());
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::FrontDesk, Role::Counsellor, Role::UnitLead] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
