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
    /// Correct the citizen's contact details (name, address, phone, language, needs, consent).
    CorrectContact,
}

impl BookingStatus {
    /// Whether `action` is allowed in this status. An outcome may be corrected
    /// (attended ↔ no-show); a cancelled booking stays cancelled.
    pub fn allows(self, action: BookingAction) -> bool {
        match action {
            BookingAction::Cancel | BookingAction::Reschedule | BookingAction::CorrectContact => self == Self::Booked,
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

    /// The address emails about the booking go to, if any.
    pub fn recipient(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_consent)
    }

    /// Whether emails to `address` reach the citizen's recipient now (addresses compared as mail
    /// servers do in practice: without regard to case).
    pub fn is_recipient(&self, address: &str) -> bool {
        same_address(self.recipient(), Some(address))
    }

    /// Whether `address` is the citizen's address, with or without their consent to emails.
    pub fn holds_address(&self, address: &str) -> bool {
        same_address(self.email.as_deref(), Some(address))
    }

    /// What a correction from `self` to `new` changes.
    pub fn correction(&self, new: &Self) -> Correction {
        let fields = [
            ("name", self.name != new.name),
            ("email", self.email != new.email),
            ("phone", self.phone != new.phone),
            ("language", self.language != new.language),
            ("interpreter_language", self.interpreter_language != new.interpreter_language),
            ("accessibility_needs", self.accessibility_needs != new.accessibility_needs),
            ("email_consent", self.email_consent != new.email_consent),
        ];
        Correction {
            fields: fields.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect(),
            recipient_changed: !same_address(self.recipient(), new.recipient()),
            // An address without consent now may have had it before, and its emails their links.
            links_sent_elsewhere: self.email.is_some() && !same_address(self.email.as_deref(), new.email.as_deref()),
        }
    }

    /// A short digest of every detail, for a form to send back what it showed: a correction
    /// made from an older showing is refused rather than undoing one saved meanwhile.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let optional = |text: Option<&str>| text.map_or_else(|| "-".to_owned(), |t| format!("+{t}"));
        let parts = [
            self.name.clone(),
            optional(self.email.as_deref()),
            optional(self.phone.as_deref()),
            self.language.code().to_owned(),
            optional(self.interpreter_language.as_ref().map(Language::code)),
            optional(self.accessibility_needs.as_deref()),
            self.email_consent.to_string(),
        ];
        let digest = Sha256::new().chain_update(parts.join("\0")).finalize();
        hex::encode(&digest[..12])
    }
}

/// Whether two addresses (or their absence) are the same mailbox, as mail servers treat them in
/// practice: without regard to case.
fn same_address(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// What a correction of the citizen's details changes. The emails follow the address: when it
/// changes, emails queued for the old one are not sent and the new address gets a confirmation
/// of its own; when the address itself changes or goes, the booking's links (which went to the
/// old one) stop working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The changed fields' names (the API's names), none when nothing changed.
    pub fields: Vec<&'static str>,
    /// Emails now go to another address, or no longer, or now at all (a change of case alone
    /// is the same address).
    pub recipient_changed: bool,
    /// Emails with the citizen's links may have gone to an address that is no longer the
    /// citizen's (a withdrawn consent leaves the address theirs, and their links working).
    pub links_sent_elsewhere: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citizen(email: Option<&str>, consent: bool) -> Citizen {
        Citizen {
            name: "A. K.".to_owned(),
            email: email.map(str::to_owned),
            phone: Some("0511 123456".to_owned()),
            language: Language::from_stored("de"),
            interpreter_language: None,
            accessibility_needs: None,
            email_consent: consent,
        }
    }

    #[test]
    fn a_correction_names_its_fields_and_whether_the_emails_follow_another_address() {
        let old = citizen(Some("a@example.org"), true);
        assert_eq!(
            old.correction(&old),
            Correction { fields: vec![], recipient_changed: false, links_sent_elsewhere: false }
        );
        let phone = Citizen { phone: None, ..old.clone() };
        assert_eq!(old.correction(&phone).fields, vec!["phone"]);
        assert!(!old.correction(&phone).recipient_changed);
        let moved = citizen(Some("b@example.org"), true);
        assert_eq!(
            old.correction(&moved),
            Correction { fields: vec!["email"], recipient_changed: true, links_sent_elsewhere: true }
        );
        let withdrawn = citizen(Some("a@example.org"), false);
        assert_eq!(
            old.correction(&withdrawn),
            Correction { fields: vec!["email_consent"], recipient_changed: true, links_sent_elsewhere: false }
        );
        let removed = Citizen { email: None, email_consent: false, ..old.clone() };
        assert!(old.correction(&removed).links_sent_elsewhere, "an address taken away may have been wrong");
        let capitals = citizen(Some("A@Example.org"), true);
        assert_eq!(
            old.correction(&capitals),
            Correction { fields: vec!["email"], recipient_changed: false, links_sent_elsewhere: false }
        );
        assert!(capitals.is_recipient("a@example.ORG") && !withdrawn.is_recipient("a@example.org"));
        // An address without consent never got an email: giving consent sends the first one.
        let unsent = citizen(Some("a@example.org"), false);
        assert_eq!(
            unsent.correction(&old),
            Correction { fields: vec!["email_consent"], recipient_changed: true, links_sent_elsewhere: false }
        );
        // Without consent, a new address changes nothing about where emails go; but the earlier
        // address may have had consent before (and emails with links): they end.
        let other = citizen(Some("b@example.org"), false);
        assert_eq!(
            unsent.correction(&other),
            Correction { fields: vec!["email"], recipient_changed: false, links_sent_elsewhere: true }
        );
    }

    #[test]
    fn a_fingerprint_tells_every_detail_apart() {
        let base = citizen(Some("a@example.org"), true);
        let variants = [
            Citizen { name: "A. K ".to_owned(), ..base.clone() },
            Citizen { email: None, ..base.clone() },
            Citizen { phone: None, ..base.clone() },
            Citizen { phone: Some("-".to_owned()), ..base.clone() },
            Citizen { language: Language::from_stored("tr"), ..base.clone() },
            Citizen { interpreter_language: Some(Language::from_stored("de")), ..base.clone() },
            Citizen { accessibility_needs: Some(String::new()), ..base.clone() },
            Citizen { email_consent: false, ..base.clone() },
        ];
        assert_eq!(base.fingerprint(), base.clone().fingerprint());
        for variant in variants {
            assert_ne!(variant.fingerprint(), base.fingerprint(), "{variant:?}");
        }
    }

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
