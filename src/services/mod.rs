//! Use cases, one async function per user intent; they own the transactions.

pub mod access;
pub mod auth;
pub mod availability;
pub mod bookings;
pub mod desk;
pub mod directory;
pub mod emails;
mod error;
pub mod hours;
pub mod login;
pub mod preview;
pub mod schedule;
pub mod seed;

pub use error::ServiceError;
