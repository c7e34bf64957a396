//! What operators watch: `GET /metrics` (Prometheus text, parsed with a Prometheus parser), the
//! request log (route templates only, JSON or plain text without colours), and the problem
//! documents of errors the layers answer themselves.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use prometheus_parse::{Sample, Scrape, Value as Metric};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, default_now, spawn_app, spawn_app_with_manual_mail};
use crate::mail::book;

const WAIT: Duration = Duration::from_secs(20);

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text format")
}

/// The value of the counter or gauge `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.samples.iter().filter(|s| s.metric == name && has_labels(s, labels)).find_map(|s| match s.value {
        Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => Some(v),
        _ => None,
    })
}

fn has_labels(sample: &Sample, labels: &[(&str, &str)]) -> bool {
    labels.iter().all(|(name, value)| sample.labels.get(name) == Some(*value))
}

async fn scrape_as(app: &TestApp, token: &str) -> Scrape {
    let response = app.get_as(token, "/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse(&response.text().await.expect("text"))
}

#[tokio::test]
async fn metrics_on_the_main_address_need_an_administrators_token() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;

    assert_problem(app.get_unauthenticated("/metrics").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_problem(app.get_as(&desk, "/metrics").await, StatusCode::FORBIDDEN, "forbidden").await;
    let denied =
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied' AND detail LIKE '%metrics.read%'";
    assert_eq!(app.count(denied).await, 1, "the refusal is recorded as every refusal is");
    let scrape = scrape_as(&app, &app.admin_token).await;

    let families: Vec<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for family in [
        "terminbuch_http_requests_total",
        "terminbuch_http_request_duration_seconds",
        "terminbuch_bookings_created_total",
        "terminbuch_bookings_cancelled_total",
        "terminbuch_outbox_messages",
        "terminbuch_outbox_oldest_queued_age_seconds",
        "terminbuch_mail_delivery_failures_total",
        "terminbuch_db_pool_connections",
    ] {
        assert!(families.contains(&family), "{family} in {families:?}");
    }
    let denied = [("method", "GET"), ("route", "/metrics"), ("status", "403")];
    assert!(value(&scrape, "terminbuch_http_requests_total", &denied).is_some_and(|n| n >= 1.0));
    let latency = scrape
        .samples
        .iter()
        .find(|s| s.metric == "terminbuch_http_request_duration_seconds" && has_labels(s, &denied));
    assert!(matches!(latency.map(|s| &s.value), Some(Metric::Histogram(buckets)) if !buckets.is_empty()));
    for state in ["in_use", "idle"] {
        assert!(value(&scrape, "terminbuch_db_pool_connections", &[("state", state)]).is_some(), "{state}");
    }
}

#[tokio::test]
async fn the_outbox_gauges_show_the_backlog_and_the_age_of_the_oldest_email() {
    // Arrange: nobody sends (the test would drive the sender), so the confirmations wait.
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |_| {}).await;
    let empty = scrape_as(&app, &app.admin_token).await;
    book(&app, "suedosteuropa", "2026-12-01T10:00", "first@example.org", "de").await;
    app.clock.advance(TimeDelta::seconds(30));
    book(&app, "suedosteuropa", "2026-12-01T11:00", "second@example.org", "de").await;

    // Act
    app.clock.advance(TimeDelta::seconds(90));
    let scrape = scrape_as(&app, &app.admin_token).await;

    // Assert
    let queued = |s: &Scrape| value(s, "terminbuch_outbox_messages", &[("state", "queued")]);
    assert_eq!(queued(&empty), Some(0.0));
    assert_eq!(value(&empty, "terminbuch_outbox_oldest_queued_age_seconds", &[]), Some(0.0));
    assert_eq!(queued(&scrape), Some(2.0));
    assert_eq!(value(&scrape, "terminbuch_outbox_messages", &[("state", "failed")]), Some(0.0));
    assert_eq!(value(&scrape, "terminbuch_outbox_oldest_queued_age_seconds", &[]), Some(120.0));
}

#[tokio::test]
async fn errors_the_layers_answer_are_problem_documents_too() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/units", app.address);

    let response = app.client.delete(&url).bearer_auth(&app.admin_token).send().await.expect("request");
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap_or_default().to_owned());
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert!(allow.is_some_and(|a| a.contains("GET") && a.contains("POST")), "Allow kept");

    let big = "x".repeat(70 * 1024);
    let response = app.client.post(&url).bearer_auth(&app.admin_token).json(&json!({ "name": big })).send().await;
    assert_problem(response.expect("request"), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

/// The binary serving on free ports of loopback, with its stderr read line by line.
struct Server {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    _dir: tempfile::TempDir,
    db_url: String,
}

impl Server {
    fn start(envs: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("metrics.db").display());
        let mut command = Command::new(env!("CARGO_BIN_EXE_terminbuch"));
        command
            .env("DATABASE_URL", &db_url)
            .env("TERMINBUCH_LISTEN", "127.0.0.1:0")
            .env("TERMINBUCH_DEMO_SEED", "true")
            .env("TERMINBUCH_DATA_DIR", dir.path())
            .env("RUST_LOG", "info")
            .env_remove("TERMINBUCH_METRICS_LISTEN")
            .env_remove("TERMINBUCH_LOG_FORMAT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start terminbuch");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, lines, seen: Vec::new(), _dir: dir, db_url }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    fn wait_for_line(&mut self, needle: &str) -> String {
        self.wait_for(needle, |line| line.contains(needle))
    }

    /// Waits for a stderr line that `wanted` accepts and returns it.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| wanted(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("no line with {what} on stderr: {:#?}", self.seen)
                }
            }
        }
    }

    /// The `http://host:port` after `prefix` in the start-up lines.
    fn url_after(&mut self, prefix: &str) -> String {
        let line = self.wait_for_line(prefix);
        let url = line.split_once(prefix).map(|(_, rest)| rest.trim()).expect("a URL");
        url.split_whitespace().next().expect("a URL").trim_end_matches("/metrics").to_owned()
    }

    fn token(&self) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
            .args(["token", "create", "--login", "admin"])
            .env("DATABASE_URL", &self.db_url)
            .output()
            .expect("token create");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn scrape_open(client: &reqwest::Client, metrics: &str) -> Scrape {
    let response = client.get(format!("{metrics}/metrics")).send().await.expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    parse(&response.text().await.expect("text"))
}

#[tokio::test]
async fn a_separate_metrics_address_is_open_and_a_booking_moves_its_counter() {
    // Arrange: a process of its own (metrics are per process), JSON logs.
    let mut server = Server::start(&[("TERMINBUCH_METRICS_LISTEN", "127.0.0.1:0"), ("TERMINBUCH_LOG_FORMAT", "json")]);
    let metrics = server.url_after("Metrics: ");
    let base = server.url_after("is running: ");
    let token = server.token();
    let client = reqwest::Client::new();
    let before = scrape_open(&client, &metrics).await;
    let slots: Vec<Value> = client
        .get(format!("{base}/api/v1/units/ads/free-slots?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("free slots")
        .json()
        .await
        .expect("json");

    // Act
    let body = json!({ "slot_id": slots[0]["slot_id"], "citizen": { "name": "Ayşe Demir" }, "channel": "phone" });
    let created = client.post(format!("{base}/api/v1/bookings")).bearer_auth(&token).json(&body).send().await;
    assert_eq!(created.expect("booking").status(), StatusCode::CREATED);
    let after = scrape_open(&client, &metrics).await;
    let on_main = client.get(format!("{base}/metrics")).bearer_auth(&token).send().await.expect("request");

    // Assert
    let created_total = |s: &Scrape| value(s, "terminbuch_bookings_created_total", &[]);
    assert_eq!(created_total(&before), Some(0.0));
    assert_eq!(created_total(&after), Some(1.0));
    let booked = [("method", "POST"), ("route", "/api/v1/bookings"), ("status", "201")];
    assert_eq!(value(&after, "terminbuch_http_requests_total", &booked), Some(1.0));
    assert_eq!(on_main.status(), StatusCode::NOT_FOUND, "not on the main address when it has its own");
}

#[tokio::test]
async fn each_request_is_logged_once_by_route_template_without_path_or_query_values() {
    // Arrange: JSON lines, and plain text into a pipe.
    let mut json_server = Server::start(&[("TERMINBUCH_LOG_FORMAT", "json")]);
    let mut text_server = Server::start(&[]);
    let client = reqwest::Client::new();

    // Act: a reference and a name that must not reach the log.
    let base = json_server.url_after("is running: ");
    let token = json_server.token();
    let url = format!("{base}/api/v1/bookings/ZZZZ-QQQQ?q=Geheimname");
    let missing = client.get(&url).bearer_auth(&token).send().await.expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let text_base = text_server.url_after("is running: ");
    client.get(format!("{text_base}/health?probe=Geheimname")).send().await.expect("health");

    // Assert
    let is_request_line = |line: &str| {
        serde_json::from_str::<Value>(line)
            .is_ok_and(|e| e["message"] == "request" && e["route"] == "/api/v1/bookings/{booking}")
    };
    let line = json_server.wait_for("the request's line", is_request_line);
    let entry: Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["status"], 404);
    assert!(entry["duration_ms"].as_f64().is_some(), "{entry}");
    // A later request's line read too: a second line of the first request would be read by then.
    client.get(format!("{base}/health")).send().await.expect("health");
    json_server.wait_for("the next request's line", |l| {
        serde_json::from_str::<Value>(l).is_ok_and(|e| e["message"] == "request" && e["route"] == "/health")
    });
    assert_eq!(json_server.seen.iter().filter(|l| is_request_line(l)).count(), 1, "one line per request");
    let text_line =
        text_server.wait_for("the request's line", |l| l.contains(" request ") && l.contains("route=/health"));
    assert!(text_line.contains("status=200"), "{text_line}");
    for server in [&json_server, &text_server] {
        let log = server.seen.join("\n");
        assert!(!log.contains("Geheimname") && !log.contains("ZZZZ"), "no path or query values: {log}");
        assert!(!log.contains('\u{1b}'), "no colour codes into a pipe: {log}");
    }
}

#[tokio::test]
async fn a_login_that_names_no_account_never_reaches_the_log_and_a_known_one_is_named() {
    // Arrange
    let mut server = Server::start(&[]);
    let base = server.url_after("is running: ");
    let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let page = client.get(format!("{base}/login")).send().await.expect("login page").text().await.expect("page");
    let csrf = crate::web_client::csrf_of(&page);

    // Act: a password typed as the login, 60 KB of text, and a known login with a wrong password.
    let long = format!("Geheimtext{}", "x".repeat(60 * 1024));
    for login in ["Geheim-Sommer2026!", long.as_str(), "admin"] {
        let form = [("csrf", csrf.as_str()), ("login", login), ("password", "falsch")];
        let response = client.post(format!("{base}/login")).form(&form).send().await.expect("login");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "the login page again");
    }

    // Assert
    server.wait_for("the known login's warning", |l| l.contains("login failed") && l.contains("admin"));
    let failed: Vec<&String> = server.seen.iter().filter(|l| l.contains("login failed")).collect();
    assert_eq!(failed.iter().filter(|l| l.contains("login=unknown")).count(), 2, "{failed:#?}");
    assert!(failed.iter().any(|l| l.contains("login=admin")), "named unquoted: {failed:#?}");
    let log = server.seen.join("\n");
    assert!(!log.contains("Geheim"), "no typed text in the log");
    assert!(server.seen.iter().all(|l| l.len() < 1000), "no line carries the 60 KB");
}
