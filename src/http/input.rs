//! Request parts the API shares with the pages: the citizen's details, read as text and parsed by
//! `domain::citizen` (the pages call the same parser), with the API's field names and messages.

use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, FieldError};
use crate::domain::booking::Citizen;
use crate::domain::citizen::{CitizenField, CitizenText, is_name, is_phone};
use crate::domain::language::Language;

/// The citizen: a name or pseudonym (1–200 characters, one line); email and phone optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenInput {
    pub name: String,
    /// An address with a dotted domain, at most 254 characters.
    pub email: Option<String>,
    /// 3–40 digits, spaces and `+ ( ) / . -`.
    #[schema(pattern = r"^[0-9+()/ .-]{3,40}$")]
    pub phone: Option<String>,
    /// Preferred language (default `de`).
    #[schema(value_type = Option<Language>)]
    pub language: Option<String>,
    /// Set when an interpreter is needed: the language to interpret.
    #[schema(value_type = Option<Language>)]
    pub interpreter_language: Option<String>,
    /// At most 500 characters.
    pub accessibility_needs: Option<String>,
}

impl CitizenInput {
    /// The citizen, or an error per field (`citizen.name`, …; `email_consent`).
    ///
    /// # Errors
    /// The fields `domain::citizen` refuses.
    pub fn parse(&self, email_consent: bool) -> Result<Citizen, Vec<FieldError>> {
        Citizen::parse(CitizenText {
            name: &self.name,
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            language: self.language.as_deref(),
            interpreter_language: self.interpreter_language.as_deref(),
            accessibility_needs: self.accessibility_needs.as_deref(),
            email_consent,
        })
        .map_err(|fields| fields.into_iter().map(citizen_error).collect())
    }
}

/// The API's name and message of a refused detail.
fn citizen_error(field: CitizenField) -> FieldError {
    let (field, message) = match field {
        CitizenField::Name => ("citizen.name", NAME_RULE),
        CitizenField::Email => ("citizen.email", "must be an email address, at most 254 characters"),
        CitizenField::Phone => ("citizen.phone", "must be 3 to 40 digits, spaces and + ( ) / . -"),
        CitizenField::Language => ("citizen.language", "must be a supported language code"),
        CitizenField::InterpreterLanguage => ("citizen.interpreter_language", "must be a supported language code"),
        CitizenField::AccessibilityNeeds => ("citizen.accessibility_needs", "must be at most 500 characters"),
        CitizenField::Consent => ("email_consent", "needs an email address"),
    };
    FieldError { field: field.to_owned(), message: message.to_owned() }
}

/// One 422 naming every wrong field: those garde found in the rest of the body and the citizen's.
///
/// # Errors
/// `validation_failed` when either found one.
pub fn all_fields<T>(rest: Result<(), garde::Report>, parsed: Result<T, Vec<FieldError>>) -> Result<T, ApiError> {
    match (rest, parsed) {
        (Ok(()), Ok(value)) => Ok(value),
        (rest, parsed) => {
            let mut errors = match rest {
                Err(report) => super::error::field_errors(&report),
                Ok(()) => Vec::new(),
            };
            errors.extend(parsed.err().unwrap_or_default());
            Err(ApiError::validation(errors))
        }
    }
}

/// What is wrong with a citizen's or caller's name.
const NAME_RULE: &str =
    "must be 1 to 200 characters on one line, with a letter or digit, without tabs or control characters";

/// garde's check of a caller's name, by the rule of `domain::citizen` (trimmed).
///
/// # Errors
/// When the trimmed name is empty, longer than 200 characters or not one line.
pub fn citizen_name(name: &str, _context: &()) -> garde::Result {
    if is_name(name.trim()) { Ok(()) } else { Err(garde::Error::new(NAME_RULE)) }
}

/// What is wrong with a free text (a note).
pub const FREE_TEXT_RULE: &str = "must be at most 500 characters (a line break counts as one)";

/// garde's check of a free text (a note), by the rule of `domain::citizen` (trimmed, a line
/// break counted once however it was sent, as the pages count it).
///
/// # Errors
/// When the text is longer than 500 characters.
pub fn free_text(text: &str, _context: &()) -> garde::Result {
    crate::domain::citizen::free_text(Some(text)).map(drop).map_err(|_| garde::Error::new(FREE_TEXT_RULE))
}

/// garde's check of a phone number, by the limits of `domain::citizen` (trimmed).
///
/// # Errors
/// When it is not 3 to 40 digits, spaces and `+ ( ) / . -`.
pub fn phone_number(phone: &str, _context: &()) -> garde::Result {
    if is_phone(phone.trim()) {
        Ok(())
    } else {
        Err(garde::Error::new("must be 3 to 40 digits, spaces and + ( ) / . -"))
    }
}
