//! Prometheus metrics: the names, how each is recorded, and the text rendering for `GET /metrics`.
//! Counters and histograms are recorded where things happen (through the `metrics` facade);
//! gauges of the database's state are set from a [`Snapshot`] just before each rendering.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests by `method`, `route` (the route template, never the raw path) and `status`.
pub const HTTP_REQUESTS: &str = "terminbuch_http_requests_total";
/// Their latency in seconds, with the same labels.
pub const HTTP_DURATION: &str = "terminbuch_http_request_duration_seconds";
/// Bookings created (any channel, API or desk).
pub const BOOKINGS_CREATED: &str = "terminbuch_bookings_created_total";
/// Bookings cancelled.
pub const BOOKINGS_CANCELLED: &str = "terminbuch_bookings_cancelled_total";
/// Emails waiting or given up, by `state` (`queued`, `retrying`, `failed`).
pub const OUTBOX_MESSAGES: &str = "terminbuch_outbox_messages";
/// Age in seconds of the oldest email still to be sent (queued or retrying); 0 when none.
pub const OUTBOX_OLDEST_AGE: &str = "terminbuch_outbox_oldest_queued_age_seconds";
/// Delivery attempts that did not deliver, by `outcome` (`retrying` or `failed`).
pub const MAIL_FAILURES: &str = "terminbuch_mail_delivery_failures_total";
/// Pooled database connections by `state` (`in_use`, `idle`).
pub const DB_POOL_CONNECTIONS: &str = "terminbuch_db_pool_connections";

/// Route label of requests that matched no route (a fixed value: raw paths would let anyone
/// create label values at will, and carry tokens).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Histogram buckets of request latency, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder once (the `metrics` facade has one per process) and returns
/// the handle that renders it. Later calls return the same handle.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a library user's): ours still renders what it got.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route template and status");
    metrics::describe_histogram!(HTTP_DURATION, metrics::Unit::Seconds, "HTTP request latency");
    metrics::describe_counter!(BOOKINGS_CREATED, "bookings created");
    metrics::describe_counter!(BOOKINGS_CANCELLED, "bookings cancelled");
    metrics::describe_gauge!(OUTBOX_MESSAGES, "emails queued, waiting for a retry, or failed");
    metrics::describe_gauge!(OUTBOX_OLDEST_AGE, metrics::Unit::Seconds, "age of the oldest email still to be sent");
    metrics::describe_counter!(MAIL_FAILURES, "delivery attempts that did not deliver, by outcome");
    metrics::describe_gauge!(DB_POOL_CONNECTIONS, "pooled database connections by state");
    // Counters appear in the output from the start, at 0, rather than after their first event.
    metrics::counter!(BOOKINGS_CREATED).absolute(0);
    metrics::counter!(BOOKINGS_CANCELLED).absolute(0);
    for outcome in ["retrying", "failed"] {
        metrics::counter!(MAIL_FAILURES, "outcome" => outcome).absolute(0);
    }
}

/// Drains recorded histogram samples into their buckets every few seconds, so memory stays
/// bounded between scrapes (or when nobody scrapes). Runs forever: a task of the server.
pub async fn keep_up() {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle().run_upkeep();
    }
}

/// One HTTP request has been answered.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// A booking was created (after its transaction committed).
pub fn booking_created() {
    metrics::counter!(BOOKINGS_CREATED).increment(1);
}

/// A booking was cancelled (after its transaction committed).
pub fn booking_cancelled() {
    metrics::counter!(BOOKINGS_CANCELLED).increment(1);
}

/// A delivery attempt did not deliver; `outcome` is `retrying` or `failed`.
pub fn delivery_failed(outcome: &'static str) {
    metrics::counter!(MAIL_FAILURES, "outcome" => outcome).increment(1);
}

/// The database's state at scrape time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// `(state, count)` for `queued`, `retrying` and `failed`.
    pub outbox: Vec<(&'static str, u64)>,
    /// Seconds since the oldest email still to be sent was queued; 0 when none is.
    pub oldest_queued_age_secs: f64,
    pub pool_in_use: u64,
    pub pool_idle: u64,
}

/// Sets the gauges from `snapshot` and renders everything in the Prometheus text format. One
/// scrape at a time: the gauges are the process's, so two scrapes at once (or two services in one
/// process, as in the tests) must not render each other's snapshot.
pub fn render(snapshot: &Snapshot) -> String {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let handle = handle();
    for (state, count) in &snapshot.outbox {
        metrics::gauge!(OUTBOX_MESSAGES, "state" => *state).set(*count as f64);
    }
    metrics::gauge!(OUTBOX_OLDEST_AGE).set(snapshot.oldest_queued_age_secs);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(snapshot.pool_in_use as f64);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(snapshot.pool_idle as f64);
    handle.render()
}
