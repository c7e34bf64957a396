//! terminbuch: the appointment book of the counselling units of Hannover's "Migration und
//! Integration" department. Staff find free slots and book phoned-in appointments; the database
//! guarantees that nothing is double-booked. Layers: `http` → `services` → (`domain`, `store`).

pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod mail;
pub mod privacy_fs;
pub mod server;
pub mod services;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
