//! Nothing a client sends reaches the log unescaped: the login name, whose line break once
//! forged log lines.

use std::sync::{Arc, LazyLock, Mutex};

use crate::EXCLUSIVE;
use crate::helpers::spawn_app;
use crate::web::{Attempt, WebClient};

/// Collects the process's formatted log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log, formatted as the service formats it (without times).
static LOG: LazyLock<Captured> = LazyLock::new(|| {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only log subscriber of this process");
    captured
});

#[tokio::test]
async fn a_login_name_with_a_line_break_does_not_forge_a_log_line() {
    // Arrange
    let _exclusive = EXCLUSIVE.lock().await;
    let log = LazyLock::force(&LOG);
    let app = spawn_app().await;
    let web = WebClient::open(&app).await;
    let forged = "mueller\nINFO terminbuch::services::login: staff logged in login=\"admin\"";

    // Act
    assert_eq!(web.log_in(forged, "falsch", None).await, Attempt::Wrong);

    // Assert
    let text = String::from_utf8(log.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(text.contains("login failed") && text.contains(r"mueller\nINFO"), "logged, escaped:\n{text}");
    for line in text.lines() {
        let level = line.trim_start().split(' ').next().unwrap_or_default();
        assert!(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level), "a line of its own: {line:?}");
        assert!(!line.starts_with("INFO terminbuch::services::login: staff logged in"), "forged: {line:?}");
    }
}
