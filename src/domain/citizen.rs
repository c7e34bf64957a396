//! The citizen's details and the other things staff type into a booking, parsed once with the
//! same limits for the JSON API and the pages; the edges only name the fields and translate. A
//! text's line breaks count one character each, however they were sent
//! ([`normalise_line_breaks`]), and are stored as `\n`.

use std::ops::RangeInclusive;

use chrono::TimeDelta;

use super::booking::Citizen;
use super::language::Language;
use super::text::normalise_line_breaks;

/// Characters of a citizen's name or pseudonym.
pub const NAME_CHARS: RangeInclusive<usize> = 1..=200;
/// Characters of an email address.
pub const EMAIL_MAX_CHARS: usize = 254;
/// Characters of a phone number (digits, spaces and `+ ( ) / . -`).
pub const PHONE_CHARS: RangeInclusive<usize> = 3..=40;
/// Characters of a free text: accessibility needs, a note.
pub const TEXT_MAX_CHARS: usize = 500;
/// Characters of the reason a rule is overridden.
pub const OVERRIDE_REASON_CHARS: RangeInclusive<usize> = 3..=500;
/// Characters of a staff member's reason for cancelling an appointment.
pub const CANCEL_REASON_CHARS: RangeInclusive<usize> = 1..=500;
/// Shortest appointment in minutes.
pub const MIN_APPOINTMENT_MINUTES: i64 = 5;
/// Longest appointment in minutes.
pub const MAX_APPOINTMENT_MINUTES: i64 = 480;
/// Length of an appointment in minutes (ad-hoc times, slots of the counselling hours, a unit's default).
pub const APPOINTMENT_MINUTES: RangeInclusive<i64> = MIN_APPOINTMENT_MINUTES..=MAX_APPOINTMENT_MINUTES;

/// A text or number outside its limits (the caller names the field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfLimits;

/// Why a required reason is refused; each has its own message at the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonRefusal {
    /// Blank.
    Missing,
    /// Longer than its limit.
    TooLong,
}

/// The citizen's details as typed, before parsing (`None` and blank are the same).
#[derive(Debug, Clone, Copy, Default)]
pub struct CitizenText<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub language: Option<&'a str>,
    pub interpreter_language: Option<&'a str>,
    pub accessibility_needs: Option<&'a str>,
    pub email_consent: bool,
}

/// A detail of the citizen that is not acceptable; each has one rule, so the field says what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitizenField {
    /// Empty, longer than [`NAME_CHARS`], or not one line (a line break or another control
    /// character: the name heads emails and lists).
    Name,
    /// Not an address, or longer than [`EMAIL_MAX_CHARS`].
    Email,
    /// Other characters, or a length outside [`PHONE_CHARS`].
    Phone,
    /// Not a supported language.
    Language,
    /// Not a supported language.
    InterpreterLanguage,
    /// Longer than [`TEXT_MAX_CHARS`] (a line break counts once).
    AccessibilityNeeds,
    /// Consent to email without an address.
    Consent,
}

impl Citizen {
    /// The citizen's details from what staff typed: trimmed, blanks as none, German by default.
    ///
    /// # Errors
    /// Every field that is not acceptable, in the order of [`CitizenField`].
    pub fn parse(text: CitizenText<'_>) -> Result<Self, Vec<CitizenField>> {
        let mut wrong = Vec::new();
        let name = text.name.trim();
        if !is_name(name) {
            wrong.push(CitizenField::Name);
        }
        let email = optional(text.email);
        if email.is_some_and(|e| !is_email(e)) {
            wrong.push(CitizenField::Email);
        }
        let phone = optional(text.phone);
        if phone.is_some_and(|p| !is_phone(p)) {
            wrong.push(CitizenField::Phone);
        }
        let language = optional(text.language).map_or(Ok(Language::GERMAN), Language::parse);
        if language.is_err() {
            wrong.push(CitizenField::Language);
        }
        let interpreter_language = optional(text.interpreter_language).map(Language::parse).transpose();
        if interpreter_language.is_err() {
            wrong.push(CitizenField::InterpreterLanguage);
        }
        let accessibility_needs = optional(text.accessibility_needs).map(normalise_line_breaks);
        if accessibility_needs.as_ref().is_some_and(|a| a.chars().count() > TEXT_MAX_CHARS) {
            wrong.push(CitizenField::AccessibilityNeeds);
        }
        if text.email_consent && email.is_none() {
            wrong.push(CitizenField::Consent);
        }
        match (language, interpreter_language) {
            (Ok(language), Ok(interpreter_language)) if wrong.is_empty() => Ok(Self {
                name: name.to_owned(),
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
                language,
                interpreter_language,
                accessibility_needs: accessibility_needs.map(std::borrow::Cow::into_owned),
                email_consent: text.email_consent,
            }),
            _ => Err(wrong),
        }
    }
}

/// The trimmed text, `None` when blank.
pub fn optional(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// What makes a (trimmed) name of a person (a citizen, a caller, a staff member) unusable, in the
/// order it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameFault {
    Empty,
    /// Longer than [`NAME_CHARS`].
    TooLong,
    /// A line break or another control character.
    NotOneLine,
    /// No letter or digit: a name of invisible characters alone (the direction marks U+200E and
    /// U+200F, a zero-width space) is blank on every list and found by no search.
    NoLetterOrDigit,
}

impl NameFault {
    /// What is wrong, in English (the API's message).
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => "must not be empty",
            Self::TooLong => "use 1 to 200 characters",
            Self::NotOneLine => super::text::CONTROL_CHARACTERS,
            Self::NoLetterOrDigit => "needs at least one letter or digit",
        }
    }
}

/// The first fault of a (trimmed) name, `None` for a usable one: 1 to 200 characters on one line,
/// with at least one letter or digit.
pub fn name_fault(name: &str) -> Option<NameFault> {
    let count = name.chars().count();
    if count == 0 {
        Some(NameFault::Empty)
    } else if !NAME_CHARS.contains(&count) {
        Some(NameFault::TooLong)
    } else if super::text::check_name(name).is_err() {
        Some(NameFault::NotOneLine)
    } else if !name.chars().any(char::is_alphanumeric) {
        Some(NameFault::NoLetterOrDigit)
    } else {
        None
    }
}

/// Whether a (trimmed) name of a citizen or caller is usable (see [`name_fault`]).
pub fn is_name(name: &str) -> bool {
    name_fault(name).is_none()
}

/// Whether a (trimmed) phone number has only digits, spaces and `+ ( ) / . -`, 3 to 40 of them.
pub fn is_phone(phone: &str) -> bool {
    PHONE_CHARS.contains(&phone.chars().count()) && phone.chars().all(|c| c.is_ascii_digit() || " +()/.-".contains(c))
}

/// Whether a (trimmed) text is an email address with a dotted domain, at most [`EMAIL_MAX_CHARS`],
/// that the mail transport can also send to: `lettre` refuses some addresses the general rules
/// pass (two dots in a row, a dot at either end of the part before the `@`), and such an address
/// was accepted at the desk, read back to the caller, and its confirmation then failed at once.
pub fn is_email(email: &str) -> bool {
    email.chars().count() <= EMAIL_MAX_CHARS
        && garde::rules::email::parse_email(email).is_ok()
        && email.parse::<lettre::Address>().is_ok()
        && email.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.'))
}

/// A free text (a note) as typed: trimmed, `None` when blank.
///
/// # Errors
/// The text when it is longer than [`TEXT_MAX_CHARS`].
pub fn free_text(text: Option<&str>) -> Result<Option<String>, OutOfLimits> {
    match optional(text).map(normalise_line_breaks) {
        Some(t) if t.chars().count() > TEXT_MAX_CHARS => Err(OutOfLimits),
        t => Ok(t.map(std::borrow::Cow::into_owned)),
    }
}

/// The reason a rule is overridden, as typed: trimmed, `None` when blank.
///
/// # Errors
/// When it is shorter or longer than [`OVERRIDE_REASON_CHARS`].
pub fn override_reason(text: Option<&str>) -> Result<Option<String>, OutOfLimits> {
    match optional(text).map(normalise_line_breaks) {
        Some(t) if !OVERRIDE_REASON_CHARS.contains(&t.chars().count()) => Err(OutOfLimits),
        t => Ok(t.map(std::borrow::Cow::into_owned)),
    }
}

/// A staff member's reason for cancelling an appointment, as typed: trimmed.
///
/// # Errors
/// `Missing` when it is blank, `TooLong` beyond [`CANCEL_REASON_CHARS`].
pub fn cancel_reason(text: &str) -> Result<String, ReasonRefusal> {
    let reason = optional(Some(text)).map(normalise_line_breaks).ok_or(ReasonRefusal::Missing)?;
    if reason.chars().count() > *CANCEL_REASON_CHARS.end() {
        return Err(ReasonRefusal::TooLong);
    }
    Ok(reason.into_owned())
}

/// The length of an appointment from minutes.
///
/// # Errors
/// When the minutes lie outside [`APPOINTMENT_MINUTES`].
pub fn appointment_length(minutes: i64) -> Result<TimeDelta, OutOfLimits> {
    if APPOINTMENT_MINUTES.contains(&minutes) { Ok(TimeDelta::minutes(minutes)) } else { Err(OutOfLimits) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str) -> CitizenText<'_> {
        CitizenText { name, ..CitizenText::default() }
    }

    #[test]
    fn a_forms_line_breaks_are_stored_as_the_apis_are() {
        let from_form = Citizen::parse(CitizenText { accessibility_needs: Some("Rollstuhl\r\nAufzug"), ..text("A") });
        let from_api = Citizen::parse(CitizenText { accessibility_needs: Some("Rollstuhl\nAufzug"), ..text("A") });
        assert_eq!(from_form.expect("valid"), from_api.expect("valid"));
    }

    #[test]
    fn details_are_trimmed_blanks_are_none_and_german_is_the_default() {
        let citizen = Citizen::parse(CitizenText {
            email: Some(" a@example.org "),
            phone: Some(""),
            interpreter_language: Some(" "),
            ..text("  Ayşe Demir ")
        })
        .expect("valid");
        assert_eq!(citizen.name, "Ayşe Demir");
        assert_eq!(citizen.email.as_deref(), Some("a@example.org"));
        assert_eq!((citizen.phone, citizen.interpreter_language), (None, None));
        assert_eq!(citizen.language, Language::GERMAN);
    }

    #[test]
    fn every_wrong_field_is_named() {
        let long = "x".repeat(501);
        let wrong = Citizen::parse(CitizenText {
            name: "   ",
            email: Some("not-an-address"),
            phone: Some("call me"),
            language: Some("Turkish"),
            interpreter_language: Some("xx"),
            accessibility_needs: Some(&long),
            email_consent: false,
        })
        .expect_err("invalid");
        use CitizenField::*;
        assert_eq!(wrong, [Name, Email, Phone, Language, InterpreterLanguage, AccessibilityNeeds]);
        let consent = Citizen::parse(CitizenText { email_consent: true, ..text("A") }).expect_err("no address");
        assert_eq!(consent, [Consent]);
    }

    #[test]
    fn limits_hold_at_their_edges() {
        let name = "n".repeat(200);
        assert!(Citizen::parse(text(&name)).is_ok(), "200 characters");
        for one_line in ["Ayla\r\nBcc: x@example.org", "Ayla\nKaya", "Ayla\tKaya", "Ayla\u{0}", "Ayla\u{2028}Kaya"] {
            assert!(!is_name(one_line), "{one_line:?}");
            assert_eq!(Citizen::parse(text(one_line)).unwrap_err(), [CitizenField::Name], "{one_line:?}");
        }
        assert!(is_name("Ayşe Ünal-O'Brien"));
        for invisible in ["\u{200F}\u{200E}", "\u{200B}", "\u{FEFF}", "-", "..."] {
            assert!(!is_name(invisible), "no letter or digit: {invisible:?}");
        }
        assert!(is_name("\u{200F}أحمد") && is_name("日本語") && is_name("K."), "letters of any script");
        assert!(Citizen::parse(text(&format!("{name}n"))).is_err(), "201 characters");
        for (phone, ok) in [("051", true), ("05", false), ("+49 (511) 123/45-6.7", true), ("0511 x", false)] {
            assert_eq!(is_phone(phone), ok, "{phone}");
        }
        for (email, ok) in
            [("a@example.org", true), ("a@localhost", false), ("a b@example.org", false), ("@x.de", false)]
                .into_iter()
                .chain([("a.b@example.org", true), ("a..b@example.org", false), (".a@example.org", false)])
                .chain([("a.@example.org", false), ("ayse.demir+termin@example.net", true)])
        {
            assert_eq!(is_email(email), ok, "{email}");
        }
        assert_eq!(appointment_length(5), Ok(TimeDelta::minutes(5)));
        assert!(appointment_length(4).is_err() && appointment_length(481).is_err());
        assert_eq!(override_reason(Some(" ab ")), Err(OutOfLimits));
        assert_eq!(override_reason(Some(" abc ")), Ok(Some("abc".to_owned())));
        assert_eq!(free_text(Some(&"x".repeat(501))), Err(OutOfLimits));
        assert_eq!(cancel_reason(" \r\n "), Err(ReasonRefusal::Missing));
        assert_eq!(cancel_reason(&"x".repeat(501)), Err(ReasonRefusal::TooLong));
        assert_eq!(cancel_reason(" krank "), Ok("krank".to_owned()));
    }

    #[test]
    fn a_line_break_counts_once_however_a_browser_sent_it() {
        // 12 lines of 40 characters: 491 characters with LF (the API), 502 with CRLF (a browser).
        let lines = vec!["x".repeat(40); 12];
        let (api, web) = (lines.join("\n"), lines.join("\r\n"));
        assert_eq!(free_text(Some(&web)), Ok(Some(api.clone())), "a note");
        assert_eq!(override_reason(Some(&web)), Ok(Some(api.clone())), "an override's reason");
        assert_eq!(cancel_reason(&web), Ok(api.clone()), "a cancellation's reason");
        let needs = Citizen::parse(CitizenText { accessibility_needs: Some(&web), ..text("A") }).expect("valid");
        assert_eq!(needs.accessibility_needs, Some(api.clone()), "accessibility needs");
        // 500 characters with a last line break are fine, one more is too long, on both edges alike.
        let (api, web) = (format!("{api}xxxxxxx\nx"), format!("{web}xxxxxxx\r\nx"));
        assert_eq!(cancel_reason(&web), Ok(api.clone()), "500 characters");
        assert_eq!(free_text(Some(&web)).map(|t| t.map(|t| t.chars().count())), Ok(Some(500)));
        let (api, web) = (format!("{api}x"), format!("{web}x"));
        for over in [&api, &web] {
            assert_eq!(over.replace("\r\n", "\n").chars().count(), 501);
            assert_eq!(free_text(Some(over)), Err(OutOfLimits));
            assert_eq!(override_reason(Some(over)), Err(OutOfLimits));
            assert_eq!(cancel_reason(over), Err(ReasonRefusal::TooLong));
        }
    }
}
