//! API tests through HTTP against the real server on 127.0.0.1:0, each with its own database
//! (SQLite file by default, a PostgreSQL schema when `TEST_DATABASE_URL` is set).

mod access;
mod accounts;
mod accounts_login;
mod accounts_tokens;
mod audit;
mod audit_api;
mod audit_database;
mod bookings;
mod calendar_feed;
mod callbacks;
mod cli;
mod cli_accounts;
mod concurrency;
mod helpers;
mod login;
mod mail;
mod mail_outbox;
mod mail_reminders;
mod names;
mod observe;
mod overrides;
mod schedule;
mod search;
mod service;
mod slow_clients;
mod smtp_sink;
mod statistics;
mod test_db;
mod web;
mod web_client;
