//! The outcome of a change written only to the version of a row its caller saw (an admin's form,
//! an API client's read): the version is the UPDATE's (or DELETE's) own condition, so of two
//! changes made from the same version only the first is written.

/// What a change conditional on a row's version found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versioned<T> {
    /// Written; what the change reports (such as the values it replaced).
    Written(T),
    /// There is no such row.
    Missing,
    /// The row is at another version than the one seen: nothing was written.
    Stale,
}
