//! Staff accounts as admins see them: who has a second factor and when they last logged in, their
//! API tokens, and who must use a second factor (`TERMINBUCH_REQUIRE_MFA`).

use chrono::{DateTime, TimeDelta, Utc};

use super::access::Actor;
use super::ids::StaffId;
use super::records::StaffMember;

/// How long a password reset link stays valid.
pub const RESET_LINK_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// The lifetime of an API token when none is given.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;
/// The longest lifetime an API token may get.
pub const MAX_TOKEN_DAYS: u32 = 365;
/// Most valid (unrevoked, unexpired) API tokens a person may hold at once, those made with
/// tokens included: each costs an audit record, and revoking a token revokes those made with it.
pub const MAX_VALID_TOKENS: u64 = 50;
/// A token's last use is written at most this often.
pub const TOKEN_USE_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

/// Who must log in with a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequireMfa {
    /// Nobody (a second factor stays possible).
    None,
    /// Admins.
    #[default]
    Admin,
    /// Admins and unit leads.
    Lead,
    /// Everyone.
    All,
}

impl RequireMfa {
    /// Parses `none`, `admin`, `lead` or `all`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "admin" => Some(Self::Admin),
            "lead" => Some(Self::Lead),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    /// Whether `actor` must have a second factor before using the desk.
    pub fn applies_to(self, actor: &Actor) -> bool {
        match self {
            Self::None => false,
            Self::Admin => actor.is_admin(),
            Self::Lead => actor.leads_any_unit(),
            Self::All => true,
        }
    }
}

/// A staff member with what the account pages and `user list` show besides the roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub member: StaffMember,
    pub mfa_enabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// An API token as listed (never the token itself: only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i32,
    pub staff_id: StaffId,
    /// Name or purpose given at creation.
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// `None` only for a token created by a process older than expiries.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenInfo {
    /// Whether the token is accepted at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_some_and(|at| at > now)
    }
}

/// A person's enrolled TOTP second factor.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// The shared secret, base32.
    pub secret: String,
    /// The last time step whose code was accepted.
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor").field("secret", &"***").field("last_step", &self.last_step).finish()
    }
}

/// What a staff session must still do before the desk opens (checked on every page request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The password was not chosen by its holder: set a new one first.
    ChangePassword,
    /// A second factor is required and none is enrolled.
    EnrolSecondFactor,
}

/// A logged-in person's account state as each page request reads it.
#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub actor: Actor,
    /// Must equal the epoch stamped into the session at login, or the session has ended.
    pub epoch: i32,
    pub must_change_password: bool,
    pub mfa_enabled: bool,
}

impl SessionAccount {
    /// The first step still due under `policy`, if any.
    pub fn gate(&self, policy: RequireMfa) -> Option<Gate> {
        if self.must_change_password {
            Some(Gate::ChangePassword)
        } else if !self.mfa_enabled && policy.applies_to(&self.actor) {
            Some(Gate::EnrolSecondFactor)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Role;
    use crate::domain::ids::UnitId;

    #[test]
    fn the_mfa_policy_names_who_needs_a_second_factor() {
        let admin = Actor::new(StaffId::new(1), "a".into(), true, vec![]);
        let lead = Actor::new(StaffId::new(2), "l".into(), false, vec![(UnitId::new(1), Role::UnitLead)]);
        let desk = Actor::new(StaffId::new(3), "d".into(), false, vec![(UnitId::new(1), Role::FrontDesk)]);
        let needs = |policy: RequireMfa| [&admin, &lead, &desk].map(|a| policy.applies_to(a));
        assert_eq!(needs(RequireMfa::None), [false, false, false]);
        assert_eq!(needs(RequireMfa::Admin), [true, false, false]);
        assert_eq!(needs(RequireMfa::Lead), [true, true, false]);
        assert_eq!(needs(RequireMfa::All), [true, true, true]);
    }

    #[test]
    fn a_forced_password_change_comes_before_the_enrolment() {
        let account = |must_change, mfa_enabled| SessionAccount {
            actor: Actor::new(StaffId::new(1), "a".into(), true, vec![]),
            epoch: 0,
            must_change_password: must_change,
            mfa_enabled,
        };
        assert_eq!(account(true, false).gate(RequireMfa::Admin), Some(Gate::ChangePassword));
        assert_eq!(account(false, false).gate(RequireMfa::Admin), Some(Gate::EnrolSecondFactor));
        assert_eq!(account(false, false).gate(RequireMfa::None), None);
        assert_eq!(account(false, true).gate(RequireMfa::All), None);
    }

    #[test]
    fn revoked_expired_and_undated_tokens_are_not_valid() {
        let now = Utc::now();
        let token = TokenInfo {
            id: 1,
            staff_id: StaffId::new(1),
            label: "x".into(),
            created_at: now,
            expires_at: Some(now + TimeDelta::days(1)),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(token.is_valid_at(now));
        assert!(!token.is_valid_at(now + TimeDelta::days(1)));
        assert!(!TokenInfo { revoked_at: Some(now), ..token.clone() }.is_valid_at(now));
        assert!(!TokenInfo { expires_at: None, ..token }.is_valid_at(now));
    }
}
