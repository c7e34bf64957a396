//! Pure domain layer: time slots, weekly schedules, public holidays, booking references,
//! booking lifecycle and access rules. Nothing in here performs I/O or depends on the web or
//! database layers.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod blocking;
pub mod booking;
pub mod callback;
pub mod citizen;
pub mod citizen_link;
pub mod clash;
pub mod history;
pub mod holidays;
pub mod hours_window;
pub mod ids;
pub mod language;
pub mod location;
pub mod missing;
pub mod outbox;
pub mod page;
pub mod password;
pub mod records;
pub mod reference;
pub mod refusal;
pub mod retention;
pub mod schedule;
pub mod search;
pub mod spelling;
pub mod statistics;
pub mod text;
pub mod throttle;
pub mod time;

mod error;

pub use error::DomainError;
