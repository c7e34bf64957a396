//! What a request names but the appointment book does not hold (HTTP 404 in the API).

use std::fmt;

/// The thing that was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Unit,
    Location,
    StaffMember,
    /// A staff member named as the counsellor of a booking.
    Counsellor,
    Role,
    Token,
    Slot,
    /// A unit's counselling hours (a weekly rule).
    Rule,
    Absence,
    Closure,
    Callback,
    Booking,
    /// A password reset link that is unknown, used or expired.
    ResetLink,
}

impl Missing {
    /// Every kind, for the tests.
    pub const ALL: [Self; 13] = [
        Self::Unit,
        Self::Location,
        Self::StaffMember,
        Self::Counsellor,
        Self::Role,
        Self::Token,
        Self::Slot,
        Self::Rule,
        Self::Absence,
        Self::Closure,
        Self::Callback,
        Self::Booking,
        Self::ResetLink,
    ];

    /// The stable code API clients see.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unit => "unit_not_found",
            Self::Location => "location_not_found",
            Self::StaffMember | Self::Counsellor => "staff_not_found",
            Self::Role => "role_not_found",
            Self::Token => "token_not_found",
            Self::Slot => "slot_not_found",
            Self::Rule => "rule_not_found",
            Self::Absence => "absence_not_found",
            Self::Closure => "closure_not_found",
            Self::Callback => "callback_not_found",
            Self::Booking => "booking_not_found",
            Self::ResetLink => "reset_link_invalid",
        }
    }

    /// What was not found, in English.
    pub fn what(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Location => "location",
            Self::StaffMember => "staff member",
            Self::Counsellor => "counsellor",
            Self::Role => "role",
            Self::Token => "token",
            Self::Slot => "slot",
            Self::Rule => "counselling hours",
            Self::Absence => "absence",
            Self::Closure => "closure",
            Self::Callback => "callback entry",
            Self::Booking => "booking",
            Self::ResetLink => "reset link",
        }
    }
}

/// The English detail of the API's problem document.
impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} not found", self.what())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_details_are_those_the_api_gave_before() {
        assert_eq!((Missing::Unit.code(), Missing::Unit.to_string()), ("unit_not_found", "unit not found".into()));
        assert_eq!(Missing::Counsellor.code(), Missing::StaffMember.code());
        assert_eq!(Missing::Rule.to_string(), "counselling hours not found");
        assert_eq!(Missing::ResetLink.code(), "reset_link_invalid");
        assert!(
            Missing::ALL
                .iter()
                .all(|missing| missing.code().ends_with("_not_found") != (*missing == Missing::ResetLink))
        );
    }
}
