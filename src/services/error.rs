//! What a use case can fail with, in terms the caller can act on.

use crate::domain::clash::{Clash, Reserved};
use crate::domain::missing::Missing;
use crate::domain::refusal::Refusal;
use crate::store::{StoreError, Versioned};

/// Errors of the services. The codes of their reasons are stable and reach API clients.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    NotFound(Missing),
    /// Not allowed to this person: in this unit, or at all (a route of admins, of unit leads).
    /// The message names no unit, since many refusals concern none.
    #[error("you may not do this")]
    Forbidden,
    /// Allowed to other roles only (a rule override by someone who does not lead the unit).
    #[error("{0}")]
    NotPermitted(Reserved),
    /// Input that is well-formed but wrong; names the field.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The request clashes with the current state (slot taken, counsellor busy, wrong status);
    /// `message` is the English detail of the API.
    #[error("{message}")]
    Conflict { clash: Clash, message: String },
    /// A rule of the appointment book forbids it (holiday, closure, absence, past).
    #[error("{0}")]
    Rule(Refusal),
    #[error("the database is busy; try again")]
    Busy,
    /// Too many password checks at once: try again after `retry_after_secs`.
    #[error("too many logins at once; try again in a moment")]
    Overloaded { retry_after_secs: u64 },
    /// Too many wrong attempts (a wrong current password): nothing was checked; try again after
    /// `retry_after_secs`.
    #[error("too many wrong attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(StoreError),
}

impl ServiceError {
    pub(crate) fn not_found(missing: Missing) -> Self {
        Self::NotFound(missing)
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    /// A clash with its default English message.
    pub(crate) fn conflict(clash: Clash) -> Self {
        Self::conflict_with(clash, clash.message())
    }

    /// A clash whose English message says more than the default.
    pub(crate) fn conflict_with(clash: Clash, message: impl Into<String>) -> Self {
        Self::Conflict { clash, message: message.into() }
    }

    /// What a change conditional on the version its caller saw wrote: `NotFound(missing)` when
    /// the row is gone, `Conflict { clash: Clash::ConcurrentUpdate, .. }` when it is at another
    /// version.
    pub(crate) fn unless_stale<T>(outcome: Versioned<T>, missing: Missing) -> Result<T, Self> {
        match outcome {
            Versioned::Written(done) => Ok(done),
            Versioned::Missing => Err(Self::not_found(missing)),
            Versioned::Stale => Err(Self::conflict(Clash::ConcurrentUpdate)),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::CounsellorOverlap => Self::conflict(Clash::CounsellorBusy),
            StoreError::Conflict => Self::conflict(Clash::ConcurrentUpdate),
            StoreError::Busy => Self::Busy,
            StoreError::Unstorable(_) => Self::invalid("text", crate::domain::text::NUL_IN_TEXT),
            other => Self::Store(other),
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError::from(err).into()
    }
}
