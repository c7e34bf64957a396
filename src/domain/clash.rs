//! Why a request clashes with the current state, or is reserved to other roles. The edges
//! translate each reason (`code()` in problem+json, a sentence at the form), so a new one cannot
//! be forgotten.

use std::fmt;

/// The request clashes with the current state (HTTP 409 in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// The slot is booked up (or was taken a moment ago).
    SlotTaken,
    /// The counsellor already has an appointment at that time.
    CounsellorBusy,
    /// A concurrent change got in the way.
    ConcurrentUpdate,
    /// The status of the booking or callback entry does not allow the change.
    InvalidStatus,
    /// No free slot matches a callback entry's wish.
    NoOffer,
    /// Someone else is booking for the same caller right now.
    CallbackBusy,
    /// The unit's callback list holds as many open entries as it may.
    CallbackListFull,
    /// The citizen gave no email address or no consent to email.
    NoEmailConsent,
    /// The change would leave no active admin.
    LastAdmin,
    /// A staff member with this login exists.
    LoginTaken,
    /// A unit with this short name exists.
    SlugTaken,
    /// The person holds as many valid API tokens as they may.
    TooManyTokens,
    /// Units receive citizens at the location: it cannot be deleted.
    LocationInUse,
    /// An email of the same kind for the booking is still waiting to be sent.
    EmailQueued,
    /// The counsellor has counselling hours that overlap these (the same weekday, overlapping
    /// times, validity periods sharing a day).
    HoursOverlap,
}

impl Clash {
    /// Every clash, for the tests that check each is translated.
    pub const ALL: [Self; 15] = [
        Self::SlotTaken,
        Self::CounsellorBusy,
        Self::ConcurrentUpdate,
        Self::InvalidStatus,
        Self::NoOffer,
        Self::CallbackBusy,
        Self::CallbackListFull,
        Self::NoEmailConsent,
        Self::LastAdmin,
        Self::LoginTaken,
        Self::SlugTaken,
        Self::TooManyTokens,
        Self::LocationInUse,
        Self::EmailQueued,
        Self::HoursOverlap,
    ];

    /// The stable code API clients see.
    pub fn code(self) -> &'static str {
        match self {
            Self::SlotTaken => "slot_taken",
            Self::CounsellorBusy => "counsellor_busy",
            Self::ConcurrentUpdate => "concurrent_update",
            Self::InvalidStatus => "invalid_status",
            Self::NoOffer => "no_offer",
            Self::CallbackBusy => "callback_busy",
            Self::CallbackListFull => "callback_list_full",
            Self::NoEmailConsent => "no_email_consent",
            Self::LastAdmin => "last_admin",
            Self::LoginTaken => "login_taken",
            Self::SlugTaken => "slug_taken",
            Self::TooManyTokens => "too_many_tokens",
            Self::LocationInUse => "location_in_use",
            Self::EmailQueued => "email_queued",
            Self::HoursOverlap => "hours_overlap",
        }
    }

    /// The English detail of the API's problem document, unless the service says more.
    pub fn message(self) -> &'static str {
        match self {
            Self::SlotTaken => "the slot has just been taken; choose another",
            Self::CounsellorBusy => "the counsellor already has an appointment at that time",
            Self::ConcurrentUpdate => "a concurrent change got in the way; try again",
            Self::InvalidStatus => "the current status does not allow this change",
            Self::NoOffer => "no free slot matches the wish yet",
            Self::CallbackBusy => "someone is booking for this caller right now",
            Self::CallbackListFull => "the unit's callback list is full; book or withdraw entries first",
            Self::NoEmailConsent => "the citizen gave no email address or no consent",
            Self::LastAdmin => "the last active admin cannot be deactivated or lose the admin role",
            Self::LoginTaken => "this login exists already",
            Self::SlugTaken => "a unit with this short name exists",
            Self::TooManyTokens => "the person holds as many valid API tokens as allowed; revoke one first",
            Self::LocationInUse => "units receive citizens at this location; give them another one first",
            Self::EmailQueued => "this email is still waiting to be sent; it goes out on its own",
            Self::HoursOverlap => {
                "the counsellor has counselling hours on that weekday at an overlapping time, valid on a day \
                 these are too: change or end those first"
            }
        }
    }
}

/// Something other roles may do, refused to this one (HTTP 403 in the API, with its own code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// Overriding a booking rule: unit leads and admins only.
    RuleOverride,
}

impl Reserved {
    /// Every reserved action, for the tests that check each is translated.
    pub const ALL: [Self; 1] = [Self::RuleOverride];

    /// The stable code API clients see.
    pub fn code(self) -> &'static str {
        match self {
            Self::RuleOverride => "override_not_permitted",
        }
    }
}

/// The English detail of the API's problem document.
impl fmt::Display for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RuleOverride => f.write_str("only the unit's leads and admins may override a booking rule"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_those_the_api_gave_before_and_unique() {
        assert_eq!(Clash::SlotTaken.code(), "slot_taken");
        assert_eq!(Clash::ConcurrentUpdate.code(), "concurrent_update");
        assert_eq!(Reserved::RuleOverride.code(), "override_not_permitted");
        for (i, clash) in Clash::ALL.iter().enumerate() {
            assert!(Clash::ALL[i + 1..].iter().all(|other| other.code() != clash.code()), "{clash:?}");
        }
    }
}
