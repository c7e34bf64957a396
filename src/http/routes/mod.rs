//! One module per resource, each with its handlers and DTOs.

pub mod audit;
pub mod bookings;
pub mod calendar;
pub mod callbacks;
pub mod citizen_links;
pub mod data_subject;
pub mod emails;
pub mod health;
pub mod hours;
pub mod locations;
pub mod me;
pub mod metrics;
pub mod self_service;
pub mod staff;
pub mod statistics;
pub mod to_move;
pub mod units;
