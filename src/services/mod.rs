//! Use cases, one async function per user intent; they own the transactions.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod availability;
mod booking_rules;
pub mod bookings;
pub mod calendar_feed;
pub mod callbacks;
pub mod citizen_link;
pub(crate) mod csv;
pub mod data_subject;
pub mod desk;
pub mod directory;
pub mod emails;
mod error;
pub mod hashing;
pub mod hours;
pub mod locations;
pub mod login;
pub mod mfa;
pub mod monitoring;
pub mod own_absences;
pub mod passwords;
pub mod preview;
pub mod retention;
pub mod schedule;
pub mod seed;
pub mod sessions;
pub mod statistics;
pub mod submissions;
pub mod to_move;
pub mod tokens;
pub mod week_view;

pub use error::ServiceError;

/// An in-memory cache whose entries live for `lifetime`, or none at all for zero (the caches
/// that `TERMINBUCH_TOKEN_CACHE_MS` governs).
fn short_lived_cache<K, V>(lifetime: std::time::Duration, capacity: u64) -> Option<moka::sync::Cache<K, V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    (!lifetime.is_zero()).then(|| moka::sync::Cache::builder().max_capacity(capacity).time_to_live(lifetime).build())
}
