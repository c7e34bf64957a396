//! Bookings: status lifecycle, channels and the citizen's details.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::language::Language;

/// Lifecycle of a booking: `booked` → `cancelled` | `attended` | `no_show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    Cancelled,
    Attended,
    NoShow,
}

/// What staff may do to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingAction {
    Cancel,
    Reschedule,
    RecordOutcome,
}

impl BookingStatus {
    /// Whether `action` is allowed in this status. An outcome may be corrected
    /// (attended ↔ no-show); a cancelled booking stays cancelled.
    pub fn allows(self, action: BookingAction) -> bool {
        match action {
            BookingAction::Cancel | BookingAction::Reschedule => self == Self::Booked,
            BookingAction::RecordOutcome => self != Self::Cancelled,
        }
    }

    /// Whether the booking still occupies its slot.
    pub fn occupies_slot(self) -> bool {
        self != Self::Cancelled
    }

    /// The snake_case name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
            Self::Attended => "attended",
            Self::NoShow => "no_show",
        }
    }
}

/// The outcome staff record after the appointment time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Attended,
    NoShow,
}

impl From<Outcome> for BookingStatus {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Attended => Self::Attended,
            Outcome::NoShow => Self::NoShow,
        }
    }
}

/// How the appointment was arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Phone,
    WalkIn,
    Email,
    Other,
}

/// The citizen's details as staff entered them; already validated at the edge.
/// Name may be a pseudonym; email and phone are optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Preferred language.
    pub language: Language,
    /// Language an interpreter is needed for, if any.
    pub interpreter_language: Option<Language>,
    pub accessibility_needs: Option<String>,
    /// The citizen agreed to receive email about this booking.
    pub email_consent: bool,
}

impl Citizen {
    /// Whether the citizen may be emailed (an address and consent).
    pub fn may_be_emailed(&self) -> bool {
        self.email_consent && self.email.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_booked_bookings_can_be_cancelled_or_moved() {
        for (status, cancel) in [
            (BookingStatus::Booked, true),
            (BookingStatus::Cancelled, false),
            (BookingStatus::Attended, false),
            (BookingStatus::NoShow, false),
        ] {
            assert_eq!(status.allows(BookingAction::Cancel), cancel, "{status:?}");
            assert_eq!(status.allows(BookingAction::Reschedule), cancel, "{status:?}");
        }
    }

    #[test]
    fn outcomes_can_be_corrected_but_not_on_cancelled_bookings() {
        assert!(BookingStatus::Attended.allows(BookingAction::RecordOutcome));
        assert!(BookingStatus::NoShow.allows(BookingAction::RecordOutcome));
        assert!(!BookingStatus::Cancelled.allows(BookingAction::RecordOutcome));
    }
}
