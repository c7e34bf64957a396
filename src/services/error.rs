//! What a use case can fail with, in terms the caller can act on.

use crate::domain::refusal::Refusal;
use crate::store::StoreError;

/// Errors of the services. `code`s are stable and reach API clients.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{what} not found")]
    NotFound { code: &'static str, what: &'static str },
    #[error("you may not do this for this unit")]
    Forbidden,
    /// Allowed to other roles only (a rule override by someone who does not lead the unit).
    #[error("{message}")]
    NotPermitted { code: &'static str, message: String },
    /// Input that is well-formed but wrong; names the field.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The request clashes with the current state (slot taken, counsellor busy, wrong status).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A rule of the appointment book forbids it (holiday, closure, absence, past).
    #[error("{0}")]
    Rule(Refusal),
    #[error("the database is busy; try again")]
    Busy,
    /// Too many password checks at once: try again after `retry_after_secs`.
    #[error("too many logins at once; try again in a moment")]
    Overloaded { retry_after_secs: u64 },
    #[error(transparent)]
    Store(StoreError),
}

impl ServiceError {
    pub(crate) fn not_found(code: &'static str, what: &'static str) -> Self {
        Self::NotFound { code, what }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::CounsellorOverlap => {
                Self::conflict("counsellor_busy", "the counsellor already has an appointment at that time")
            }
            StoreError::Conflict => {
                Self::conflict("concurrent_update", "a concurrent change got in the way; try again")
            }
            StoreError::Busy => Self::Busy,
            other => Self::Store(other),
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError::from(err).into()
    }
}
