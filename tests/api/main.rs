//! API tests through HTTP against the real server on 127.0.0.1:0, each with its own database
//! (SQLite file by default, a PostgreSQL schema when `TEST_DATABASE_URL` is set).

mod access;
mod bookings;
mod calendar_feed;
mod callbacks;
mod cli;
mod concurrency;
mod helpers;
mod mail;
mod mail_outbox;
mod mail_reminders;
mod schedule;
mod search;
mod service;
mod smtp_sink;
mod test_db;
