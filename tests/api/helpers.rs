//! `spawn_app()` and `TestApp`: the real server with demo data, a fixed clock and typed calls.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use terminbuch::clock::Clock;
use terminbuch::config::Settings;
use terminbuch::mail::Dispatcher;
use terminbuch::services::directory::{StaffInput, StaffRole};
use terminbuch::services::{auth, directory, schedule, seed};
use terminbuch::startup::{Application, Dependencies, bootstrap};

use crate::serve::serve;
use crate::test_db::TestDb;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        terminbuch::telemetry::init("info,sqlx=warn", terminbuch::config::LogFormat::Text).expect("a valid RUST_LOG");
    }
});

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub db: sea_orm::DatabaseConnection,
    pub clock: Clock,
    pub settings: Settings,
    _db_guard: TestDb,
}

/// Tuesday 24 November 2026, 08:00 in Hannover.
pub fn default_now() -> DateTime<Utc> {
    Berlin.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).single().expect("valid instant").with_timezone(&Utc)
}

/// The server with demo data at the default "now".
pub async fn spawn_app() -> TestApp {
    spawn_app_at(default_now()).await
}

/// The server with demo data and its clock fixed at `now`; slots for 12 weeks.
pub async fn spawn_app_at(now: DateTime<Utc>) -> TestApp {
    spawn_app_with(now, |_| {}).await
}

/// Like [`spawn_app_at`], with settings changed first (e.g. the SMTP server of a mail test).
pub async fn spawn_app_with(now: DateTime<Utc>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(now, configure, false).await.0
}

/// Like [`spawn_app_with`], but the server runs no email sender: the test drives the returned
/// one step by step (`run_once`), so what was sent, retried or left alone is known after each
/// step without waiting.
pub async fn spawn_app_with_manual_mail(
    now: DateTime<Utc>,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, Dispatcher) {
    let (app, dispatcher) = spawn(now, configure, true).await;
    (app, dispatcher.expect("the server's email sender"))
}

async fn spawn(
    now: DateTime<Utc>,
    configure: impl FnOnce(&mut Settings),
    manual_mail: bool,
) -> (TestApp, Option<Dispatcher>) {
    spawn_on(TestDb::create().await, now, configure, manual_mail).await
}

/// The server with demo data at the default "now" on the given database.
pub async fn spawn_app_on(test_db: TestDb) -> TestApp {
    spawn_on(test_db, default_now(), |_| {}, false).await.0
}

async fn spawn_on(
    test_db: TestDb,
    now: DateTime<Utc>,
    configure: impl FnOnce(&mut Settings),
    manual_mail: bool,
) -> (TestApp, Option<Dispatcher>) {
    LazyLock::force(&TRACING);
    let mut settings = Settings::for_tests(&test_db.url);
    settings.data_dir = test_db.data_dir().to_owned();
    configure(&mut settings);
    let clock = Clock::fixed(now);
    let deps = Dependencies { db: test_db.conn.clone(), clock: clock.clone() };
    bootstrap(&settings, &deps).await.expect("migrations and first admin");
    let today = now.with_timezone(&Berlin).date_naive();
    seed::demo(&deps.db, &clock, today).await.expect("demo data");
    let until = today + chrono::Days::new(12 * 7);
    schedule::regenerate_all(&deps.db, &settings.holiday_calendar(), Berlin, until, now).await.expect("slots");
    let admin_token = auth::create_token(&deps.db, &clock, "admin", "test").await.expect("admin token");
    let mut app = Application::build(settings.clone(), deps).await.expect("build the application");
    let dispatcher = if manual_mail { app.take_dispatcher() } else { None };
    let address = serve(app).await;
    let app = TestApp {
        address,
        client: reqwest::Client::new(),
        admin_token,
        db: test_db.conn.clone(),
        clock,
        settings,
        _db_guard: test_db,
    };
    (app, dispatcher)
}

impl TestApp {
    /// PostgreSQL: returns once a session of this database waits for a lock while running a
    /// statement whose text is `LIKE query_like`; fails if `task` ends first or nothing waits
    /// within 10 s.
    pub async fn until_waiting_for_a_lock<T>(&self, query_like: &str, task: &tokio::task::JoinHandle<T>) {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                       AND wait_event_type = 'Lock' AND query LIKE $1";
        for _ in 0..2000 {
            let poll = Statement::from_sql_and_values(DbBackend::Postgres, waiting, [query_like.into()]);
            let row = self.db.query_one_raw(poll).await.expect("poll");
            if row.and_then(|r| r.try_get::<i64>("", "n").ok()).unwrap_or(0) > 0 {
                return;
            }
            assert!(!task.is_finished(), "the task finished instead of waiting for the lock");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("no session waits for a lock running {query_like}");
    }

    /// Waits until `task` is queued for the SQLite write turn of this process (behind a write
    /// transaction the test holds); asserts it has not finished meanwhile.
    pub async fn until_waiting_for_the_write_turn<T>(&self, task: &tokio::task::JoinHandle<T>) {
        for _ in 0..2000 {
            if terminbuch::store::writers_waiting(&self.db) > 0 {
                return;
            }
            assert!(!task.is_finished(), "the task finished instead of waiting for the write turn");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("no write transaction waits for the write turn");
    }

    /// A second pool on the test database, as another process (or an operator's client) has.
    pub async fn another_pool(&self) -> sea_orm::DatabaseConnection {
        self._db_guard.another_pool().await
    }

    pub fn is_postgres(&self) -> bool {
        self._db_guard.is_postgres()
    }

    /// A token for a new staff member with `role` (`admin`, `unit_lead`, …) in `unit`.
    pub async fn token_for(&self, login: &str, role: &str, unit: Option<&str>) -> String {
        let input = StaffInput {
            login: login.to_owned(),
            display_name: login.to_owned(),
            email: None,
            languages: vec![terminbuch::domain::language::Language::GERMAN],
            role: StaffRole::parse(role).expect("known role"),
            unit: unit.map(str::to_owned),
            password: None,
        };
        directory::add_staff(&self.db, &self.clock, input).await.expect("add staff");
        auth::create_token(&self.db, &self.clock, login, "test").await.expect("token")
    }

    /// A second server process on the same database (its own pool and caches), with the settings
    /// changed by `configure`; returns its address.
    pub async fn another_process(&self, configure: impl FnOnce(&mut Settings)) -> String {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let deps = Dependencies { db: self._db_guard.another_pool().await, clock: self.clock.clone() };
        let app = Application::build(settings, deps).await.expect("build the second application");
        serve(app).await
    }

    /// A second server on the same database with a pool of its own and this app's settings.
    pub async fn second_server(&self) -> String {
        self.another_process(|_| {}).await
    }

    /// Materialises slots of all units up to `until` (what `terminbuch slots generate` does).
    pub async fn generate_slots_until(&self, until: NaiveDate) {
        schedule::regenerate_all(&self.db, &self.settings.holiday_calendar(), Berlin, until, self.clock.now())
            .await
            .expect("generate slots");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn put_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client.put(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn patch_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client.patch(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn get_unauthenticated(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn free_slots(&self, unit: &str, query: &str) -> Vec<Value> {
        let response = self.get_as(&self.admin_token, &format!("/api/v1/units/{unit}/free-slots?{query}")).await;
        assert_eq!(response.status(), StatusCode::OK, "free slots of {unit}?{query}");
        response.json().await.expect("json")
    }

    pub async fn post_booking_as(&self, token: &str, body: &Value) -> Response {
        self.post_as(token, "/api/v1/bookings", body).await
    }

    pub async fn post_booking(&self, body: &Value) -> Response {
        self.post_booking_as(&self.admin_token, body).await
    }

    /// Books `slot_id` for a plain citizen and returns the created booking.
    pub async fn book_slot(&self, slot_id: i64) -> Value {
        let response = self.post_booking(&booking_body(slot_id)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "booking slot {slot_id}");
        response.json().await.expect("json")
    }

    pub async fn get_booking(&self, key: &str) -> Response {
        self.get_as(&self.admin_token, &format!("/api/v1/bookings/{key}")).await
    }

    pub async fn list_bookings(&self, query: &str) -> Vec<Value> {
        let response = self.get_as(&self.admin_token, &format!("/api/v1/bookings?{query}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    pub async fn cancel_booking(&self, key: &str, reason: &str) -> Response {
        self.post_as(&self.admin_token, &format!("/api/v1/bookings/{key}/cancel"), &json!({ "reason": reason })).await
    }

    pub async fn reschedule_booking(&self, key: &str, body: &Value) -> Response {
        self.post_as(&self.admin_token, &format!("/api/v1/bookings/{key}/reschedule"), body).await
    }

    pub async fn record_outcome(&self, key: &str, outcome: &str) -> Response {
        self.post_as(&self.admin_token, &format!("/api/v1/bookings/{key}/outcome"), &json!({ "outcome": outcome }))
            .await
    }

    /// Id of a counsellor of the unit, by display name.
    pub async fn counsellor_id(&self, unit: &str, name: &str) -> i64 {
        let response = self.get_as(&self.admin_token, &format!("/api/v1/units/{unit}/counsellors")).await;
        let counsellors: Vec<Value> = response.json().await.expect("json");
        counsellors.iter().find(|c| c["name"] == name).and_then(|c| c["id"].as_i64()).expect("counsellor exists")
    }
}

/// A minimal valid booking of a slot.
pub fn booking_body(slot_id: i64) -> Value {
    json!({
        "slot_id": slot_id,
        "citizen": { "name": "Ayşe Demir", "phone": "0511 987654", "language": "tr" },
        "email_consent": false,
        "channel": "phone",
    })
}

/// An ad-hoc booking body for `unit` with `counsellor` at local `starts_at`.
pub fn adhoc_body(unit: &str, counsellor: i64, starts_at: &str, minutes: i64) -> Value {
    json!({
        "unit": unit,
        "counsellor": counsellor,
        "starts_at": starts_at,
        "duration_minutes": minutes,
        "citizen": { "name": "Pseudonym K." },
    })
}

/// [`adhoc_body`] with an override reason: booked even outside the counselling hours (the admin
/// token may override rules).
pub fn adhoc_anyway(unit: &str, counsellor: i64, starts_at: &str, minutes: i64) -> Value {
    let mut body = adhoc_body(unit, counsellor, starts_at, minutes);
    body["override_reason"] = json!("Test: außerhalb der Beratungszeiten");
    body
}

/// Asserts a problem document with `status` and `code`; returns it.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

/// What a service call outside a server needs besides the database: a clock, no extra closure
/// days, a mail nudge nobody listens to, no caches, no writer thread.
pub struct ServiceParts {
    pub clock: Clock,
    calendar: terminbuch::domain::holidays::HolidayCalendar,
    nudge: terminbuch::mail::Nudge,
    counsellors: terminbuch::services::directory::CounsellorCache,
    listed: terminbuch::services::bookings::ListedSlots,
}

impl ServiceParts {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            calendar: terminbuch::domain::holidays::HolidayCalendar::new(vec![]),
            nudge: terminbuch::mail::Nudge::default(),
            counsellors: terminbuch::services::directory::CounsellorCache::off(),
            listed: terminbuch::services::bookings::ListedSlots::off(),
        }
    }

    /// The booking services' dependencies on `db`.
    pub fn book<'a>(&'a self, db: &'a sea_orm::DatabaseConnection) -> terminbuch::services::bookings::Book<'a> {
        terminbuch::services::bookings::Book {
            db,
            search_db: db,
            clock: &self.clock,
            calendar: &self.calendar,
            tz: Berlin,
            mail: &self.nudge,
            mail_domain: "example.org",
            counsellors: &self.counsellors,
            listed: &self.listed,
            writer: None,
            booking_pool: None,
        }
    }
}
