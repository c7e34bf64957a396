//! API tests through HTTP against the real server on 127.0.0.1:0, each with its own database
//! (SQLite file by default, a PostgreSQL schema when `TEST_DATABASE_URL` is set).

// Until this branch meets main's other resource tests, parts of the harness are unused here.
#[allow(dead_code)]
mod helpers;
mod mail;
mod smtp_sink;
mod test_db;
