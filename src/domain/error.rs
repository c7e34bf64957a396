//! Typed errors of the domain layer.

use chrono::NaiveDateTime;

/// Everything that can go wrong when building or validating domain values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The wall-clock time falls into a daylight saving gap and never happens.
    #[error("local time {0} does not exist (daylight saving change)")]
    NonexistentLocalTime(NaiveDateTime),
    /// The wall-clock time happens twice because the clocks are turned back.
    #[error("local time {0} exists twice (daylight saving change); choose another time")]
    AmbiguousLocalTime(NaiveDateTime),
    /// A time interval whose end is not after its start.
    #[error("time interval is empty: the end must be after the start")]
    EmptyInterval,
    /// A date or time computation left the range chrono can represent.
    #[error("date or time is out of the supported range")]
    OutOfRange,
    /// A string that is not a valid booking reference.
    #[error("invalid booking reference")]
    InvalidReference,
    /// A weekly schedule rule that violates a constraint; the text says which.
    #[error("invalid schedule rule: {0}")]
    InvalidRule(&'static str),
    /// A string that is not a valid month and day (expected "MM-DD" or "DD.MM.").
    #[error("invalid month and day {0:?}: expected \"MM-DD\" or \"DD.MM.\"")]
    InvalidMonthDay(String),
    /// A string that is not a valid wall-clock time (expected "HH:MM").
    #[error("invalid time of day {0:?}: expected \"HH:MM\"")]
    InvalidTime(String),
    /// A string that is not a date `YYYY-MM-DD` between 1900 and 9999.
    #[error("invalid date {0:?}: expected YYYY-MM-DD between 1900-01-01 and 9999-12-31")]
    InvalidDate(String),
    /// A language code not on the supported list (`domain::language`).
    #[error("unsupported language {0:?}")]
    UnsupportedLanguage(String),
}
