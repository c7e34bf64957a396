//! Tests that need this process to themselves, so they run in a test binary of their own and one
//! after the other: one holds every password hashing thread of the process (other tests' logins
//! would be refused meanwhile), one installs the process's log subscriber.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod logs;
mod overload;
#[path = "../api/serve.rs"]
mod serve;
#[allow(dead_code)]
#[path = "../api/smtp_sink.rs"]
mod smtp_sink;
#[allow(dead_code)]
#[path = "../api/test_db.rs"]
mod test_db;
#[allow(dead_code)]
#[path = "../api/web.rs"]
mod web;

/// Held by each test for its whole run: the resources above are the process's, not a test's.
pub static EXCLUSIVE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
