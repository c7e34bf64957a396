//! Benchmarks of the appointment book (see BENCHMARKS.md): free-slot search, booking creation
//! against the raw ceiling of the database, idle memory and time to ready.
//!
//! `cargo bench --bench api` measures SQLite (a temporary file) and, when `BENCH_DATABASE_URL`
//! or `TEST_DATABASE_URL` names a PostgreSQL server, PostgreSQL in a fresh database that is
//! dropped at the end. `BENCH_SEARCH_REQUESTS`, `BENCH_BOOKINGS` and `BENCH_READY_RUNS` scale
//! the runs down (or up). `BENCH_ONLY=login-memory` measures only the memory around 100 parallel
//! logins (`api/login_memory.rs`), on a fresh database; `BENCH_ONLY=bookings` only the booking
//! rounds (for a profiler); `BENCH_ONLY=search` only the free-slot searches (with
//! `BENCH_KEEP_DATABASE=1`, PostgreSQL's database is kept as the searches saw it, and
//! `BENCH_REUSE_DATABASE=<name>` measures such a kept database again, without loading). The bookings
//! take slots the free-slot search listed first, as staff do; `BENCH_LISTED=0` takes slots no
//! search listed. `BENCH_ONLY=to-move` measures only the list of appointments to move
//! (`api/to_move.rs`; a full run measures it last). `BENCH_STORED_BOOKINGS=10000000` stores
//! that many bookings before measuring on PostgreSQL (`api/bulk.rs`; SQLite keeps 100,000).
//! `TERMINBUCH_DB_MAX_CONNECTIONS` sizes the service's pool as it does the server's.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, SubsecRound, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use entity::booking::{self, BookingStatus, Channel};
use entity::booking_event;
use entity::slot::{self, SlotKind};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use terminbuch::clock::Clock;
use terminbuch::config::Settings;
use terminbuch::domain::access::Role;
use terminbuch::domain::holidays::HolidayCalendar;
use terminbuch::domain::ids::{RuleId, SlotId, StaffId, UnitId};
use terminbuch::domain::language::Language;
use terminbuch::domain::reference::{ALPHABET, LENGTH};
use terminbuch::domain::search::SearchKeys;
use terminbuch::domain::time::local_date;
use terminbuch::services::{auth, schedule as schedule_service};
use terminbuch::startup::{Application, Dependencies, bootstrap};
use terminbuch::store::directory::{self, NewLocation, NewStaff, NewUnit};
use terminbuch::store::schedule::{RuleFields, save_rule};
use terminbuch::store::{self, connect};
use tokio::task::JoinHandle;
use uuid::Uuid;

#[path = "api/bare_route.rs"]
mod bare_route;
#[path = "api/bulk.rs"]
mod bulk;
#[path = "api/ceilings.rs"]
mod ceilings;
use bare_route::Hand;
#[path = "api/login_memory.rs"]
mod login_memory;
#[path = "api/to_move.rs"]
mod to_move;

/// Counsellors of the benchmarked unit.
const COUNSELLORS: usize = 20;
/// Bookings stored before measuring (history plus booked future slots).
const STORED_BOOKINGS: usize = 100_000;
/// Weeks of future slots materialised from the counselling hours.
const FUTURE_WEEKS: u64 = 12;
/// Weeks covered by one free-slot search.
const SEARCH_WEEKS: u64 = 8;
/// Requests of the HTTP floor (an unknown API path).
const HTTP_FLOOR_REQUESTS: usize = 2000;
/// Booking runs alternate between the ceilings, the in-stack baseline and HTTP in this many rounds.
const BOOKING_ROUNDS: usize = 5;
/// Share of the future slots booked before measuring, in percent.
const FUTURE_BOOKED_PERCENT: u64 = 30;
/// Counselling hours: Monday to Friday, 09:00–16:00, 30-minute slots.
const DAY_START: (u32, u32) = (9, 0);
const DAY_END: (u32, u32) = (16, 0);
const SLOT_MINUTES: i64 = 30;
/// Second languages of the counsellors, in turn (everybody speaks German).
const LANGUAGES: [&str; 5] = ["tr", "ar", "ru", "fa", "uk"];

const TARGET_SEARCH_P99_MS: f64 = 2.0;
/// The old in-stack ceiling (issue 13 keeps it as an extra line).
const TARGET_BOOKING_RATIO: f64 = 0.70;
/// SQLite at 16 clients against the one-row ceiling (group commit makes it reachable).
const TARGET_SQLITE_ONE_ROW_C16: f64 = 0.70;
/// SQLite against the same-work ceiling: at 16 clients all of it, at one client 70 %.
const TARGET_SQLITE_SAME_WORK_C16: f64 = 1.00;
const TARGET_SQLITE_SAME_WORK_C1: f64 = 0.70;
/// PostgreSQL against the same-work ceiling, at 1 and 16 clients.
const TARGET_PG_SAME_WORK: f64 = 0.80;
const TARGET_IDLE_RSS_MB: f64 = 30.0;
const TARGET_READY_MS: f64 = 300.0;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let mut report = Report::default();
    let started = Instant::now();
    run_engine(Engine::sqlite()?, &config, &mut report).await?;
    eprintln!("[sqlite] done after {:.0} s", started.elapsed().as_secs_f64());
    let pg_url = std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL")).ok();
    match pg_url.filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        Some(url) => {
            let started = Instant::now();
            let engine = match &config.reuse {
                Some(database) => Engine::postgres_kept(&url, database)?,
                None => Engine::postgres(&url).await?,
            };
            let admin = engine.admin.clone();
            let outcome = run_engine(engine, &config, &mut report).await;
            match admin {
                Some(admin) if std::env::var_os("BENCH_KEEP_DATABASE").is_some() => {
                    eprintln!("[postgres] kept database {} (BENCH_KEEP_DATABASE)", admin.database);
                }
                Some(admin) => admin.drop_database().await?,
                None => {}
            }
            outcome?;
            eprintln!("[postgres] done after {:.0} s", started.elapsed().as_secs_f64());
        }
        None => eprintln!("PostgreSQL skipped: set BENCH_DATABASE_URL=postgres://USER@HOST:PORT/DB to measure it"),
    }
    println!("{}", report.render(&config));
    Ok(())
}

/// How many requests and runs; defaults as in BENCHMARKS.md.
struct Config {
    search_requests: usize,
    warmup_requests: usize,
    bookings: usize,
    ready_runs: usize,
    /// `BENCH_STORED_BOOKINGS`: bookings stored before measuring; beyond the 100,000 the bench
    /// writes itself, PostgreSQL bulk-loads the rest (`bulk`).
    stored_bookings: usize,
    /// `BENCH_ONLY`: one part only.
    only: Only,
    /// `BENCH_LISTED=0`: the bookings take slots no search listed first (PostgreSQL: a read of
    /// the slot before its statement, the service's path for a slot it has not listed).
    listed: bool,
    /// `BENCH_REUSE_DATABASE`: a PostgreSQL database an earlier run kept (`BENCH_KEEP_DATABASE=1`),
    /// measured again as it is: nothing is loaded or dropped, and with `BENCH_ONLY=search` nothing
    /// written (a run that books takes about 8,000 of its free slots, so one such run per database).
    reuse: Option<String>,
}

/// `BENCH_ONLY`: everything, or one part alone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    Everything,
    /// `login-memory`: the memory around 100 parallel logins, on a fresh database.
    LoginMemory,
    /// `bookings`: the booking rounds against the ceilings (for a profiler), nothing else.
    Bookings,
    /// `search`: the free-slot searches alone (a kept database stays as they saw it).
    Search,
    /// `to-move`: the list of appointments to move alone (`api/to_move.rs`; records absences).
    ToMove,
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
        let read = |name: &str, default: usize| -> anyhow::Result<usize> {
            match std::env::var(name) {
                Ok(value) => value.parse().with_context(|| format!("{name} must be a positive number")),
                Err(_) => Ok(default),
            }
        };
        let config = Self {
            search_requests: read("BENCH_SEARCH_REQUESTS", 2000)?,
            warmup_requests: 200,
            bookings: read("BENCH_BOOKINGS", 1000)?,
            ready_runs: read("BENCH_READY_RUNS", 10)?,
            stored_bookings: read("BENCH_STORED_BOOKINGS", STORED_BOOKINGS)?,
            only: match std::env::var("BENCH_ONLY").as_deref() {
                Ok("login-memory") => Only::LoginMemory,
                Ok("bookings") => Only::Bookings,
                Ok("search") => Only::Search,
                Ok("to-move") => Only::ToMove,
                Ok(other) => {
                    bail!("BENCH_ONLY knows `login-memory`, `bookings`, `search` and `to-move`, not {other:?}")
                }
                Err(_) => Only::Everything,
            },
            listed: std::env::var("BENCH_LISTED").as_deref() != Ok("0"),
            reuse: std::env::var("BENCH_REUSE_DATABASE").ok(),
        };
        if let Some(database) = &config.reuse {
            ensure!(
                database.starts_with("bench_") && database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "BENCH_REUSE_DATABASE names a database the bench kept (bench_…), not {database:?}"
            );
        }
        ensure!(config.search_requests > 0 && config.bookings > 0 && config.ready_runs > 0, "counts must be positive");
        Ok(config)
    }
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

struct Engine {
    name: &'static str,
    url: String,
    /// Keeps the SQLite file's folder alive.
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL server connection that created (and will drop) the database.
    admin: Option<PgAdmin>,
}

#[derive(Clone)]
struct PgAdmin {
    server: DatabaseConnection,
    database: String,
}

impl PgAdmin {
    async fn drop_database(&self) -> anyhow::Result<()> {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
        self.server.execute_unprepared(&sql).await.with_context(|| format!("dropping {}", self.database))?;
        Ok(())
    }
}

impl Engine {
    /// A new file in a temporary folder, or at `BENCH_SQLITE_PATH` (kept, for inspection).
    fn sqlite() -> anyhow::Result<Self> {
        if let Ok(path) = std::env::var("BENCH_SQLITE_PATH") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            return Ok(Self { name: "sqlite", url: format!("sqlite://{path}?mode=rwc"), _dir: None, admin: None });
        }
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
        Ok(Self { name: "sqlite", url, _dir: Some(dir), admin: None })
    }

    /// Creates `bench_<random>` on the server behind `server_url`.
    async fn postgres(server_url: &str) -> anyhow::Result<Self> {
        let server = Database::connect(server_url).await.context("connecting to the PostgreSQL server")?;
        let database = format!("bench_{}", Uuid::new_v4().simple());
        server.execute_unprepared(&format!("CREATE DATABASE {database}")).await.context("creating the database")?;
        let url = with_database(server_url, &database)?;
        Ok(Self { name: "postgres", url, _dir: None, admin: Some(PgAdmin { server, database }) })
    }

    /// A database an earlier run kept; no admin, so it is never dropped.
    fn postgres_kept(server_url: &str, database: &str) -> anyhow::Result<Self> {
        Ok(Self { name: "postgres", url: with_database(server_url, database)?, _dir: None, admin: None })
    }
}

/// `postgres://u@h:5432/postgres?x=y` → `postgres://u@h:5432/<database>?x=y`.
fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let scheme_end = url.find("://").context("the database URL has no scheme")? + 3;
    let (base, query) = match url.find('?') {
        Some(at) => (&url[..at], &url[at..]),
        None => (url, ""),
    };
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |at| scheme_end + at);
    Ok(format!("{}/{database}{query}", &base[..host_end]))
}

// ---------------------------------------------------------------------------------------------
// Running one engine
// ---------------------------------------------------------------------------------------------

async fn run_engine(engine: Engine, config: &Config, report: &mut Report) -> anyhow::Result<()> {
    let name = engine.name;
    if config.only == Only::LoginMemory {
        return measure_login_memory(name, &engine.url, report).await;
    }
    let settings = Settings::for_tests(&engine.url);
    let pool_size = std::env::var("TERMINBUCH_DB_MAX_CONNECTIONS").ok().map(|size| size.parse()).transpose()?;
    let db = connect(&engine.url, pool_size).await?;
    let deps = Dependencies { db: db.clone(), clock: Clock::System };
    let started = Instant::now();
    let reused = config.reuse.is_some() && db.get_database_backend() == DbBackend::Postgres;
    let mut fixture = if reused { Fixture::read(&settings, &db).await? } else { prepare(&settings, &deps).await? };
    let stored = fixture.history_bookings + fixture.future_bookings;
    if reused {
        let database = config.reuse.as_deref().unwrap_or_default();
        report.notes.push(format!("{name}: the kept database {database} measured again (BENCH_REUSE_DATABASE)"));
    } else if config.stored_bookings > stored {
        if db.get_database_backend() == DbBackend::Postgres {
            let extra = config.stored_bookings - stored;
            let secs = bulk::load(&db, fixture.unit_id.get(), fixture.admin_id.get(), extra as u64).await?;
            let vacuum = Instant::now();
            db.execute_unprepared("VACUUM ANALYZE").await?;
            fixture.history_bookings += extra;
            report.notes.push(format!(
                "{name}: {extra} more past bookings bulk-loaded (BENCH_STORED_BOOKINGS) in {secs:.0} s, \
                 then VACUUM ANALYZE in {:.0} s",
                vacuum.elapsed().as_secs_f64()
            ));
        } else {
            report.notes.push(format!("{name}: BENCH_STORED_BOOKINGS is for PostgreSQL; {stored} bookings stored"));
        }
    }
    eprintln!(
        "[{name}] prepared in {:.1} s: {} stored bookings ({} history, {} future), {} future slots",
        started.elapsed().as_secs_f64(),
        fixture.history_bookings + fixture.future_bookings,
        fixture.history_bookings,
        fixture.future_bookings,
        fixture.future_slots,
    );
    report.notes.push(format!(
        "{name}: {} bookings stored ({} in the past, {} future = {FUTURE_BOOKED_PERCENT} % of {} future slots), \
         {COUNSELLORS} counsellors, prepared in {:.0} s",
        fixture.history_bookings + fixture.future_bookings,
        fixture.history_bookings,
        fixture.future_bookings,
        fixture.future_slots,
        started.elapsed().as_secs_f64()
    ));

    let app = Application::build(settings.clone(), deps).await?;
    let base = format!("http://{}", app.local_addr()?);
    let server: JoinHandle<anyhow::Result<()>> = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let cpu_before = CpuTimes::read();
    let outcome = measure_in_process(name, config, report, (&db, &engine.url), &client, &base, &fixture).await;
    server.abort();
    outcome?;
    if let (Some(before), Some(after)) = (cpu_before, CpuTimes::read()) {
        let steal = after.steal_share_since(&before) * 100.0;
        eprintln!("[{name}] CPU steal during search and bookings: {steal:.1} %");
        report.notes.push(format!(
            "{name}: CPU steal (time the host gave this machine's virtual CPUs to others) during the search \
             and booking measurements: {steal:.1} % (/proc/stat)"
        ));
    }
    db.close().await?;
    if matches!(config.only, Only::Bookings | Only::Search | Only::ToMove) {
        return Ok(());
    }

    let binary = env!("CARGO_BIN_EXE_terminbuch");
    let rss = idle_memory(binary, &engine.url).await?;
    report.at_most(name, "idle memory (VmRSS), MB", rss, TARGET_IDLE_RSS_MB);
    let ready = time_to_ready(binary, &engine.url, config.ready_runs).await?;
    report.at_most(name, &format!("time to ready, ms (median of {})", config.ready_runs), ready, TARGET_READY_MS);
    measure_login_memory(name, &engine.url, report).await
}

/// Resident memory of the binary before, at the peak of and 10 s after 100 parallel logins.
async fn measure_login_memory(name: &str, url: &str, report: &mut Report) -> anyhow::Result<()> {
    let n = login_memory::ATTEMPTS;
    let burst = login_memory::measure(env!("CARGO_BIN_EXE_terminbuch"), url).await?;
    report.info(name, &format!("memory before {n} parallel logins (VmRSS), MB"), burst.before_mb);
    report.info(name, &format!("memory at the peak of {n} parallel logins (VmHWM), MB"), burst.peak_mb);
    let after = format!("memory {} s after {n} parallel logins (VmRSS), MB", login_memory::SETTLE.as_secs());
    report.at_most(name, &after, burst.after_mb, login_memory::TARGET_AFTER_MB);
    report.notes.push(format!(
        "{name}: {n} parallel logins (each its own login and address): {} answered \"wrong password\", \
         {} refused with 503 while every hashing thread was busy, {} other",
        burst.wrong, burst.refused, burst.other
    ));
    Ok(())
}

async fn measure_in_process(
    name: &str,
    config: &Config,
    report: &mut Report,
    (db, url): (&DatabaseConnection, &str),
    client: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
) -> anyhow::Result<()> {
    if config.only == Only::ToMove {
        return to_move::measure(name, report, db, client, base, fixture).await;
    }
    // Free-slot search (also the URL the search under load uses).
    let today = fixture.today;
    let to = today + Days::new(SEARCH_WEEKS * 7 - 1);
    let search = format!("{base}/api/v1/units/{}/free-slots?from={today}&to={to}&limit=20", fixture.unit_slug);
    let variants = [
        ("free-slot search", search.clone()),
        ("free-slot search, language=fa", format!("{search}&language=fa")),
        ("free-slot search, counsellor", format!("{search}&counsellor={}", fixture.counsellor_ids[7])),
    ];
    // Not with BENCH_ONLY=bookings.
    if config.only != Only::Bookings {
        for (label, url) in &variants {
            let stats = measure_search(client, &fixture.token, url, config).await?;
            eprintln!("[{name}] {label}: {}", stats.describe());
            report.info(name, &format!("{label}: p50, ms"), stats.p50_ms());
            report.info(name, &format!("{label}: p90, ms"), stats.percentile_ms(0.90));
            report.at_most(name, &format!("{label}: p99, ms"), stats.p99_ms(), TARGET_SEARCH_P99_MS);
            report.info(name, &format!("{label}: max, ms"), stats.max_ms());
        }
    }
    if config.only == Only::Search {
        return Ok(());
    }

    // The floor under every request: an HTTP round trip through all layers, no database.
    let floor = http_floor(client, base, &fixture.token, HTTP_FLOOR_REQUESTS).await?;
    eprintln!("[{name}] HTTP round trip, unknown API path (404): {}", floor.latencies.describe());
    report.info(
        name,
        "HTTP round trip floor (404 of an unknown API path, 1 client): p50, ms",
        floor.latencies.p50_ms(),
    );

    // Booking creation against the ceilings, at concurrency 1 and 16.
    let mut free = free_future_slots(db, fixture, config.bookings * 8).await?;
    // Staff book a slot the search listed: list them as the desk does, day by day, untimed.
    let listed = if config.listed { list_through_search(client, base, fixture, &free).await? } else { 0 };
    report.notes.push(format!(
        "{name}: {listed} of the {} free slots the bookings take were listed by the free-slot search before the \
         booking rounds (as the desk shows them; PostgreSQL books a listed slot in one round trip; BENCH_LISTED=0 \
         lists none)",
        free.len()
    ));
    for concurrency in [1, 16] {
        // Interleaved rounds of the in-stack baseline and the service, so drift (the WAL's growth,
        // checkpoints, the host's other load) hits both alike. SQLite's ceilings take their turn
        // in each round too; pgbench's runs need their length (each starts its clients and ends
        // with a tail of clients finishing alone: at 16 clients, rounds of 200 transactions
        // halved its figures in a trial), so PostgreSQL's ceilings run once, before the rounds.
        let actor = fixture.admin_id.get();
        let per_round_ceilings = db.get_database_backend() == DbBackend::Sqlite;
        let (mut one_row, mut same_work) = (Run::default(), Run::default());
        if !per_round_ceilings {
            let once = ceilings::measure(url, db, free.drain(..config.bookings).collect(), actor, concurrency).await?;
            (one_row, same_work) = (once.one_row, once.same_work);
        }
        let (mut baseline, mut http) = (Run::default(), Run::default());
        // One client: the same-work booking behind a bare HTTP route (`bare_route`); on SQLite
        // handed to a writer thread and run in the request, on PostgreSQL run in the request.
        let bare = concurrency == 1;
        let (mut bare_writer, mut bare_request) = (Run::default(), Run::default());
        let per_round = config.bookings.div_ceil(BOOKING_ROUNDS);
        let mut left = config.bookings;
        while left > 0 {
            let n = per_round.min(left);
            left -= n;
            if per_round_ceilings {
                let round = ceilings::measure(url, db, free.drain(..n).collect(), actor, concurrency).await?;
                one_row.absorb(round.one_row);
                same_work.absorb(round.same_work);
            }
            let for_baseline: Vec<slot::Model> = free.drain(..n).collect();
            let for_http: Vec<SlotId> = free.drain(..n).map(|s| SlotId::new(s.id)).collect();
            baseline.absorb(baseline_bookings(db, fixture, for_baseline, concurrency).await?);
            http.absorb(http_bookings(client, base, &fixture.token, for_http, concurrency).await?);
            if bare && per_round_ceilings {
                let file = ceilings::sqlite_path(url)?;
                let (for_writer, for_request) = (free.drain(..n / 2).collect(), free.drain(..n / 2).collect());
                bare_writer.absorb(bare_route::measure(&file, for_writer, actor, Hand::Writer).await?);
                bare_request.absorb(bare_route::measure(&file, for_request, actor, Hand::Request).await?);
            } else if bare {
                let slots = free.drain(..n).collect();
                bare_request.absorb(bare_route::measure_pg(db, url, slots, actor).await?);
            }
        }
        let ceilings = ceilings::Ceilings { one_row: one_row.finish(), same_work: same_work.finish() };
        let (baseline, http) = (baseline.finish(), http.finish());
        eprintln!(
            "[{name}] bookings c={concurrency}: HTTP {:.0}/s ({}); one-row ceiling {:.0}/s ({}); same-work ceiling \
             {:.0}/s ({}); in-stack ceiling {:.0}/s ({})",
            http.throughput(),
            http.latencies.describe(),
            ceilings.one_row.throughput(),
            ceilings.one_row.latencies.describe(),
            ceilings.same_work.throughput(),
            ceilings.same_work.latencies.describe(),
            baseline.throughput(),
            baseline.latencies.describe()
        );
        ceilings::report(report, name, concurrency, &http, &ceilings, &baseline);
        if bare {
            let (writer, request) = (bare_writer.finish(), bare_request.finish());
            let mut ways = vec![("in the request", &request)];
            if per_round_ceilings {
                ways.insert(0, ("on a writer thread", &writer));
            }
            for (way, run) in &ways {
                let (rate, latencies) = (run.throughput(), run.latencies.describe());
                eprintln!(
                    "[{name}] bookings c=1 through a bare HTTP route with the same-work SQL, {way}: {rate:.0}/s ({latencies})"
                );
            }
            bare_route::report(report, name, &http, &ceilings.same_work, &ways);
        }
    }

    if config.only == Only::Bookings {
        return Ok(());
    }
    // The free-slot search while 16 clients book at full speed.
    let for_load: Vec<SlotId> = free.drain(..config.bookings).map(|s| SlotId::new(s.id)).collect();
    let (during, load) = search_while_booking(client, base, fixture, &search, for_load).await?;
    eprintln!("[{name}] free-slot search while 16 clients book ({:.0}/s): {}", load.throughput(), during.describe());
    report.info(name, "free-slot search while 16 clients book: p50, ms", during.p50_ms());
    report.info(name, "free-slot search while 16 clients book: p99, ms", during.p99_ms());
    report.info(name, "bookings/s meanwhile (16 clients)", load.throughput());
    // Last: its absences take slots from the search.
    to_move::measure(name, report, db, client, base, fixture).await
}

/// One client searches (sequentially, like a phone desk) while 16 others book `slots` through
/// HTTP; the search's latencies while the bookings last, and the bookings' run.
async fn search_while_booking(
    client: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
    url: &str,
    slots: Vec<SlotId>,
) -> anyhow::Result<(Latencies, Run)> {
    let done = Arc::new(AtomicBool::new(false));
    let searcher = {
        let (client, token, url, done) = (client.clone(), fixture.token.clone(), url.to_owned(), done.clone());
        tokio::spawn(async move {
            let mut all = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                get_ok(&client, &token, &url).await?;
                all.push(started.elapsed());
            }
            anyhow::Ok(all)
        })
    };
    let booked = http_bookings(client, base, &fixture.token, slots, 16).await;
    done.store(true, Ordering::Relaxed);
    let searched = searcher.await??;
    ensure!(!searched.is_empty(), "no search finished while the bookings ran");
    let mut run = Run::default();
    run.absorb(booked?);
    Ok((Latencies::new(searched), run.finish()))
}

// ---------------------------------------------------------------------------------------------
// Preparing the data
// ---------------------------------------------------------------------------------------------

struct Fixture {
    today: NaiveDate,
    tz: Tz,
    unit_id: UnitId,
    unit_slug: String,
    counsellor_ids: Vec<StaffId>,
    admin_id: StaffId,
    token: String,
    history_bookings: usize,
    future_bookings: usize,
    future_slots: usize,
}

impl Fixture {
    /// The fixture `prepare` stored in a kept database (`BENCH_REUSE_DATABASE`), with a new token.
    async fn read(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<Self> {
        let now = Utc::now().trunc_subsecs(0);
        let unit = entity::unit::Entity::find()
            .filter(entity::unit::Column::Slug.eq("bench"))
            .one(db)
            .await?
            .context("the database holds no bench unit: is it one the bench kept?")?;
        let admin = directory::find_staff_by_login(db, "admin").await?.context("the database holds no admin")?;
        let mut counsellor_ids = Vec::with_capacity(COUNSELLORS);
        for i in 0..COUNSELLORS {
            let member = directory::find_staff_by_login(db, &format!("counsellor{i:02}"))
                .await?
                .with_context(|| format!("the database holds no counsellor{i:02}"))?;
            counsellor_ids.push(member.id);
        }
        let bookings = |future: bool| {
            let column = booking::Column::StartsAt;
            let filter = if future { column.gte(now) } else { column.lt(now) };
            booking::Entity::find().filter(booking::Column::UnitId.eq(unit.id)).filter(filter).count(db)
        };
        let (history_bookings, future_bookings) = (bookings(false).await?, bookings(true).await?);
        let future_slots = slot::Entity::find()
            .filter(slot::Column::UnitId.eq(unit.id))
            .filter(slot::Column::StartsAt.gte(now))
            .count(db)
            .await?;
        Ok(Self {
            today: local_date(now, settings.time_zone),
            tz: settings.time_zone,
            unit_id: UnitId::new(unit.id),
            unit_slug: unit.slug,
            counsellor_ids,
            admin_id: admin.id,
            token: auth::create_token(db, &Clock::System, "admin", "bench").await?,
            history_bookings: usize::try_from(history_bookings)?,
            future_bookings: usize::try_from(future_bookings)?,
            future_slots: usize::try_from(future_slots)?,
        })
    }
}

/// One unit with 20 counsellors and their weekly hours, 12 weeks of future slots of which 30 %
/// are booked, and as much booking history as brings the total to 100,000 bookings.
async fn prepare(settings: &Settings, deps: &Dependencies) -> anyhow::Result<Fixture> {
    let db = &deps.db;
    let tz = settings.time_zone;
    let calendar = settings.holiday_calendar();
    bootstrap(settings, deps).await?;
    let now = Utc::now().trunc_subsecs(0);
    let today = local_date(now, tz);
    let admin = directory::find_staff_by_login(db, "admin").await?.context("bootstrap made no admin")?;

    let location = directory::insert_location(
        db,
        NewLocation {
            name: "Bench location",
            street: "Hamburger Allee 25",
            postal_code: "30161",
            city: "Hannover",
            floor: "1",
            accessibility_notes: "",
        },
    )
    .await?;
    let unit_languages: Vec<Language> = std::iter::once("de").chain(LANGUAGES).map(Language::from_stored).collect();
    let unit = directory::insert_unit(
        db,
        NewUnit {
            slug: "bench",
            name: "Benchmark counselling unit",
            short_name: "Bench",
            phone: "0511 000000",
            email: "bench@example.invalid",
            location_id: location.id.get(),
            default_slot_minutes: 30,
            languages: &unit_languages,
            confidential: false,
            retention_days: 90,
        },
        now,
    )
    .await?;

    let history_days = history_days(today, &calendar, STORED_BOOKINGS);
    let valid_from = history_days.last().copied().unwrap_or(today);
    let mut counsellor_ids = Vec::with_capacity(COUNSELLORS);
    let mut rule_of = HashMap::new();
    for i in 0..COUNSELLORS {
        let login = format!("counsellor{i:02}");
        let languages = vec![Language::GERMAN, Language::from_stored(LANGUAGES[i % LANGUAGES.len()])];
        let member = directory::insert_staff(
            db,
            NewStaff {
                login: &login,
                display_name: &format!("Counsellor {i:02}"),
                email: None,
                languages: &languages,
                is_admin: false,
                password_hash: None,
            },
            now,
        )
        .await?;
        directory::add_membership(db, member.id, unit.id, Role::Counsellor).await?;
        for weekday in 1..=5u8 {
            let fields = RuleFields {
                unit_id: unit.id,
                counsellor_id: member.id,
                weekday,
                start_local: time(DAY_START),
                end_local: time(DAY_END),
                slot_minutes: SLOT_MINUTES as i32,
                buffer_minutes: 0,
                capacity: 1,
                valid_from,
                valid_until: None,
            };
            let rule = save_rule(db, None, fields, admin.id, now).await?.context("a new rule is saved")?;
            rule_of.insert((member.id, weekday), rule.id);
        }
        counsellor_ids.push(member.id);
    }
    schedule_service::regenerate_unit(db, &calendar, tz, unit.id, today, today + Days::new(FUTURE_WEEKS * 7), now)
        .await?;

    let references = Arc::new(AtomicU64::new(0));
    let mut fixture = Fixture {
        today,
        tz,
        unit_id: unit.id,
        unit_slug: unit.slug.clone(),
        counsellor_ids,
        admin_id: admin.id,
        token: auth::create_token(db, &Clock::System, "admin", "bench").await?,
        history_bookings: 0,
        future_bookings: 0,
        future_slots: 0,
    };
    // Future bookings first, then the history newest first: the SQLite overlap trigger then
    // only ever scans a few rows while loading.
    let (future_slots, future_bookings) = book_future_share(db, &fixture, now, &references).await?;
    fixture.future_slots = future_slots;
    fixture.future_bookings = future_bookings;
    let wanted = STORED_BOOKINGS.saturating_sub(future_bookings);
    fixture.history_bookings = load_history(db, &fixture, tz, &history_days, &rule_of, wanted, &references).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // What autovacuum does within a minute of a bulk load on a real server: without
        // statistics the planner scans all future slots of the unit instead of the index. Done
        // here, before measuring, so that autovacuum does not start on the loaded tables while
        // the search is measured.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    Ok(fixture)
}

fn time((hour, minute): (u32, u32)) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

fn slots_per_day() -> usize {
    let minutes = i64::from((DAY_END.0 * 60 + DAY_END.1) - (DAY_START.0 * 60 + DAY_START.1));
    usize::try_from(minutes / SLOT_MINUTES).unwrap_or(0)
}

/// Working days before today, newest first, enough for `bookings` history rows.
fn history_days(today: NaiveDate, calendar: &HolidayCalendar, bookings: usize) -> Vec<NaiveDate> {
    let per_day = slots_per_day() * COUNSELLORS;
    let mut days = Vec::new();
    let mut day = today;
    while days.len() * per_day < bookings {
        let Some(previous) = day.pred_opt() else { break };
        day = previous;
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !calendar.is_closed(day) {
            days.push(day);
        }
    }
    days
}

/// A small deterministic pseudo-random sequence (splitmix64), so runs store the same data.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A unique reference from a counter, spelled in the reference alphabet.
fn reference(counter: u64) -> String {
    let base = ALPHABET.len() as u64;
    let mut n = counter;
    let mut code = vec![ALPHABET[0]; LENGTH];
    for place in code.iter_mut().rev() {
        *place = ALPHABET[usize::try_from(n % base).unwrap_or(0)];
        n /= base;
    }
    String::from_utf8_lossy(&code).into_owned()
}

#[allow(clippy::too_many_arguments)]
fn booking_row(
    id: Uuid,
    reference: String,
    fixture: &Fixture,
    slot: (i32, i32, DateTime<Utc>, DateTime<Utc>),
    status: BookingStatus,
    language: &str,
    created_at: DateTime<Utc>,
    n: u64,
) -> booking::ActiveModel {
    let (slot_id, counsellor_id, starts_at, ends_at) = slot;
    let name = format!("Citizen {n}");
    let phone = format!("0511 {:06}", n % 1_000_000);
    let keys = SearchKeys::of(&name, Some(&phone));
    booking::ActiveModel {
        id: Set(id),
        reference: Set(reference),
        unit_id: Set(fixture.unit_id.get()),
        counsellor_id: Set(counsellor_id),
        slot_id: Set(slot_id),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        status: Set(status),
        channel: Set(if n.is_multiple_of(4) { Channel::WalkIn } else { Channel::Phone }),
        citizen_name: Set(name),
        citizen_email: Set(None),
        citizen_phone: Set(Some(phone)),
        citizen_language: Set(language.to_owned()),
        interpreter_language: Set(None),
        accessibility_needs: Set(None),
        email_consent: Set(false),
        note: Set(None),
        override_reason: Set(None),
        cancel_reason: Set((status == BookingStatus::Cancelled).then(|| "citizen called".to_owned())),
        sequence: Set(i32::from(status == BookingStatus::Cancelled)),
        created_at: Set(created_at),
        created_by: Set(Some(fixture.admin_id.get())),
        updated_at: Set(created_at),
        updated_by: Set(Some(fixture.admin_id.get())),
        search_name: Set(keys.name),
        search_phone: Set(keys.phone),
        erased_at: Set(None),
    }
}

/// A `created` event with the details the service records.
fn event_row(
    booking_id: Uuid,
    at: DateTime<Utc>,
    actor_id: i32,
    (slot_id, starts_at, ends_at): (i32, DateTime<Utc>, DateTime<Utc>),
) -> booking_event::ActiveModel {
    let detail = serde_json::json!({
        "slot_id": slot_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "adhoc": false,
        "channel": "phone",
        "override_reason": null,
    });
    booking_event::ActiveModel {
        booking_id: Set(booking_id),
        at: Set(at),
        actor_id: Set(Some(actor_id)),
        kind: Set("created".to_owned()),
        detail: Set(detail.to_string()),
        ..Default::default()
    }
}

/// Inserts bookings and their `created` events in chunks.
async fn insert_bookings<C: ConnectionTrait>(
    db: &C,
    rows: Vec<(booking::ActiveModel, booking_event::ActiveModel)>,
) -> anyhow::Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let (bookings, events): (Vec<_>, Vec<_>) = rows.by_ref().take(500).unzip();
        booking::Entity::insert_many(bookings).exec_without_returning(db).await?;
        booking_event::Entity::insert_many(events).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Books 30 % of the future slots directly. Returns (future slots, bookings made).
async fn book_future_share(
    db: &DatabaseConnection,
    fixture: &Fixture,
    now: DateTime<Utc>,
    references: &AtomicU64,
) -> anyhow::Result<(usize, usize)> {
    let future = slot::Entity::find()
        .filter(slot::Column::UnitId.eq(fixture.unit_id))
        .filter(slot::Column::StartsAt.gt(now))
        .order_by_asc(slot::Column::StartsAt)
        .all(db)
        .await?;
    let mut mix = Mix(1);
    let chosen: Vec<&slot::Model> = future.iter().filter(|_| mix.next() % 100 < FUTURE_BOOKED_PERCENT).collect();
    let txn = store::begin_write(db).await?;
    for ids in chosen.chunks(500) {
        slot::Entity::update_many()
            .col_expr(slot::Column::BookedCount, Expr::value(1))
            .filter(slot::Column::Id.is_in(ids.iter().map(|s| s.id)))
            .exec(&txn)
            .await?;
    }
    let rows = chosen
        .iter()
        .map(|s| {
            let n = references.fetch_add(1, Ordering::Relaxed);
            let id = Uuid::new_v4();
            let created = now - TimeDelta::days(1);
            let language = LANGUAGES[usize::try_from(n).unwrap_or(0) % LANGUAGES.len()];
            let row = booking_row(
                id,
                reference(n),
                fixture,
                (s.id, s.counsellor_id, s.starts_at, s.ends_at),
                BookingStatus::Booked,
                language,
                created,
                n,
            );
            (row, event_row(id, created, fixture.admin_id.get(), (s.id, s.starts_at, s.ends_at)))
        })
        .collect();
    insert_bookings(&txn, rows).await?;
    txn.commit().await?;
    Ok((future.len(), chosen.len()))
}

/// Stores `wanted` past bookings on past slots (newest first), one transaction, bulk inserts.
/// One in ten is cancelled (its slot is free again), the rest attended or missed.
async fn load_history(
    db: &DatabaseConnection,
    fixture: &Fixture,
    tz: Tz,
    days: &[NaiveDate],
    rule_of: &HashMap<(StaffId, u8), RuleId>,
    wanted: usize,
    references: &AtomicU64,
) -> anyhow::Result<usize> {
    struct Past {
        counsellor_id: i32,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        status: BookingStatus,
    }
    let mut past = Vec::with_capacity(wanted);
    let mut mix = Mix(2);
    'days: for day in days {
        for slot in (0..slots_per_day()).rev() {
            let start = day.and_time(time(DAY_START)) + TimeDelta::minutes(SLOT_MINUTES * slot as i64);
            let Some(starts_at) = tz.from_local_datetime(&start).single() else { continue };
            let starts_at = starts_at.with_timezone(&Utc);
            for &counsellor_id in &fixture.counsellor_ids {
                if past.len() == wanted {
                    break 'days;
                }
                let status = match mix.next() % 10 {
                    0 => BookingStatus::Cancelled,
                    1 => BookingStatus::NoShow,
                    _ => BookingStatus::Attended,
                };
                let ends_at = starts_at + TimeDelta::minutes(SLOT_MINUTES);
                past.push(Past { counsellor_id: counsellor_id.get(), starts_at, ends_at, status });
            }
        }
    }
    let txn = store::begin_write(db).await?;
    for chunk in past.chunks(1000) {
        let rows = chunk.iter().map(|p| {
            let weekday = u8::try_from(tz.from_utc_datetime(&p.starts_at.naive_utc()).weekday().number_from_monday())
                .unwrap_or(1);
            slot::ActiveModel {
                unit_id: Set(fixture.unit_id.get()),
                counsellor_id: Set(p.counsellor_id),
                rule_id: Set((rule_of.get(&(StaffId::new(p.counsellor_id), weekday)).copied()).map(i32::from)),
                kind: Set(SlotKind::Regular),
                starts_at: Set(p.starts_at),
                ends_at: Set(p.ends_at),
                capacity: Set(1),
                booked_count: Set(i32::from(p.status != BookingStatus::Cancelled)),
                created_at: Set(p.starts_at - TimeDelta::days(30)),
                ..Default::default()
            }
        });
        slot::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    }
    let oldest = past.last().map_or_else(Utc::now, |p| p.starts_at);
    let ids: HashMap<(i32, DateTime<Utc>), i32> = slot::Entity::find()
        .select_only()
        .columns([slot::Column::Id, slot::Column::CounsellorId, slot::Column::StartsAt])
        .filter(slot::Column::UnitId.eq(fixture.unit_id))
        .filter(slot::Column::StartsAt.gte(oldest))
        .filter(slot::Column::StartsAt.lt(day_start(fixture.today, tz)))
        .into_tuple::<(i32, i32, DateTime<Utc>)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(id, counsellor, starts_at)| ((counsellor, starts_at), id))
        .collect();
    let rows = past
        .iter()
        .map(|p| {
            let slot_id = ids.get(&(p.counsellor_id, p.starts_at)).copied().context("history slot not found")?;
            let n = references.fetch_add(1, Ordering::Relaxed);
            let id = Uuid::new_v4();
            let created = p.starts_at - TimeDelta::days(i64::try_from(n % 20).unwrap_or(0) + 1);
            let language = match usize::try_from(n % 6).unwrap_or(0) {
                0 => "de",
                i => LANGUAGES[i - 1],
            };
            let row = booking_row(
                id,
                reference(n),
                fixture,
                (slot_id, p.counsellor_id, p.starts_at, p.ends_at),
                p.status,
                language,
                created,
                n,
            );
            Ok((row, event_row(id, created, fixture.admin_id.get(), (slot_id, p.starts_at, p.ends_at))))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    insert_bookings(&txn, rows).await?;
    txn.commit().await?;
    Ok(past.len())
}

fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    terminbuch::domain::time::day_bounds(day, tz).0
}

/// Free regular slots starting from tomorrow on, soonest first.
async fn free_future_slots(
    db: &DatabaseConnection,
    fixture: &Fixture,
    count: usize,
) -> anyhow::Result<Vec<slot::Model>> {
    let from = Utc::now() + TimeDelta::days(1);
    let free = slot::Entity::find()
        .filter(slot::Column::UnitId.eq(fixture.unit_id))
        .filter(slot::Column::Kind.eq(SlotKind::Regular))
        .filter(slot::Column::BookedCount.eq(0))
        .filter(slot::Column::StartsAt.gt(from))
        .order_by_asc(slot::Column::StartsAt)
        .order_by_asc(slot::Column::Id)
        .limit(count as u64)
        .all(db)
        .await?;
    ensure!(free.len() == count, "only {} free future slots for {count} bookings: lower BENCH_BOOKINGS", free.len());
    Ok(free)
}

/// Lists `slots` through the free-slot search, day by day (the search of the desk before a
/// booking). Returns how many of them the search listed.
async fn list_through_search(
    client: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
    slots: &[slot::Model],
) -> anyhow::Result<usize> {
    let days: std::collections::BTreeSet<NaiveDate> =
        slots.iter().map(|s| s.starts_at.with_timezone(&fixture.tz).date_naive()).collect();
    let wanted: std::collections::HashSet<i64> = slots.iter().map(|s| i64::from(s.id)).collect();
    let mut listed = 0;
    for day in days {
        let url = format!("{base}/api/v1/units/{}/free-slots?from={day}&to={day}&limit=500", fixture.unit_slug);
        let response = client.get(url).bearer_auth(&fixture.token).send().await?.error_for_status()?;
        let found: Vec<serde_json::Value> = response.json().await?;
        listed += found.iter().filter(|f| f["slot_id"].as_i64().is_some_and(|id| wanted.contains(&id))).count();
    }
    Ok(listed)
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/// Latencies of one run, sorted.
#[derive(Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    fn new(mut all: Vec<Duration>) -> Self {
        all.sort_unstable();
        Self(all)
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1].as_secs_f64() * 1e3
    }

    fn p50_ms(&self) -> f64 {
        self.percentile_ms(0.50)
    }

    fn p99_ms(&self) -> f64 {
        self.percentile_ms(0.99)
    }

    fn max_ms(&self) -> f64 {
        self.percentile_ms(1.0)
    }

    fn describe(&self) -> String {
        format!(
            "n={} p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            self.0.len(),
            self.p50_ms(),
            self.percentile_ms(0.90),
            self.p99_ms(),
            self.max_ms()
        )
    }
}

async fn measure_search(
    client: &reqwest::Client,
    token: &str,
    url: &str,
    config: &Config,
) -> anyhow::Result<Latencies> {
    let first: Vec<serde_json::Value> =
        client.get(url).bearer_auth(token).send().await?.error_for_status()?.json().await?;
    ensure!(first.len() == 20, "the search found {} slots instead of 20: {url}", first.len());
    for _ in 0..config.warmup_requests {
        get_ok(client, token, url).await?;
    }
    let mut all = Vec::with_capacity(config.search_requests);
    for _ in 0..config.search_requests {
        let started = Instant::now();
        get_ok(client, token, url).await?;
        all.push(started.elapsed());
    }
    Ok(Latencies::new(all))
}

async fn get_ok(client: &reqwest::Client, token: &str, url: &str) -> anyhow::Result<()> {
    let response = client.get(url).bearer_auth(token).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    ensure!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    Ok(())
}

/// A booking run: its wall time and per-booking latencies.
#[derive(Default)]
struct Run {
    bookings: usize,
    elapsed: Duration,
    latencies: Latencies,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.bookings as f64 / self.elapsed.as_secs_f64()
    }

    /// Adds another round of the same kind.
    fn absorb(&mut self, round: Self) {
        self.bookings += round.bookings;
        self.elapsed += round.elapsed;
        self.latencies.0.extend(round.latencies.0);
    }

    /// Sorts the latencies of all rounds.
    fn finish(self) -> Self {
        Self { latencies: Latencies::new(self.latencies.0), ..self }
    }
}

/// Runs `work` over `items` with `concurrency` workers taking the next item in turn.
async fn run_concurrently<T, F, Fut>(items: Vec<T>, concurrency: usize, work: F) -> anyhow::Result<Run>
where
    T: Send + Sync + 'static,
    F: Fn(&T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let bookings = items.len();
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let started = Instant::now();
    let workers: Vec<JoinHandle<anyhow::Result<Vec<Duration>>>> = (0..concurrency)
        .map(|_| {
            let (items, next, work) = (Arc::clone(&items), Arc::clone(&next), Arc::clone(&work));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let started = Instant::now();
                    work(item).await?;
                    latencies.push(started.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(bookings);
    for worker in workers {
        all.extend(worker.await??);
    }
    Ok(Run { bookings, elapsed: started.elapsed(), latencies: Latencies::new(all) })
}

async fn http_bookings(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    slot_ids: Vec<SlotId>,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let url = format!("{base}/api/v1/bookings");
    let (client, token) = (client.clone(), token.to_owned());
    run_concurrently(slot_ids, concurrency, move |&slot_id| {
        let request = client.post(&url).bearer_auth(&token).json(&booking_body(slot_id));
        async move {
            let response = request.send().await?;
            let status = response.status();
            let text = response.text().await?;
            if status != reqwest::StatusCode::CREATED {
                bail!("POST /api/v1/bookings (slot {slot_id}): {status}: {text}");
            }
            Ok(())
        }
    })
    .await
}

/// The body of the bench's `POST /api/v1/bookings` (and of the bare route's, so both parse the
/// same bytes).
fn booking_body(slot_id: impl serde::Serialize) -> serde_json::Value {
    serde_json::json!({
        "slot_id": slot_id,
        "citizen": { "name": "Bench Citizen", "phone": "0511 123456", "language": "tr" },
        "channel": "phone",
    })
}

/// `n` requests of an API path no route matches, one after the other with a valid token: the
/// HTTP round trip through every layer (and the bench's own client), without the database.
async fn http_floor(client: &reqwest::Client, base: &str, token: &str, n: usize) -> anyhow::Result<Run> {
    let url = format!("{base}/api/v1/no-such-path");
    let (client, token) = (client.clone(), token.to_owned());
    run_concurrently(vec![(); n], 1, move |()| {
        let request = client.get(&url).bearer_auth(&token);
        async move {
            let response = request.send().await?;
            let status = response.status();
            response.bytes().await?;
            ensure!(status == reqwest::StatusCode::NOT_FOUND, "GET of an unknown API path: {status}");
            Ok(())
        }
    })
    .await
}

/// The raw ceiling: per booking one transaction with the seat update and plain inserts (no
/// `RETURNING`) of the booking row and its event row, one statement each, through the same pool,
/// without HTTP, authentication or rule checks.
async fn baseline_bookings(
    db: &DatabaseConnection,
    fixture: &Fixture,
    slots: Vec<slot::Model>,
    concurrency: usize,
) -> anyhow::Result<Run> {
    static COUNTER: AtomicU64 = AtomicU64::new(50_000_000);
    let (db, unit_id, actor) = (db.clone(), fixture.unit_id, fixture.admin_id);
    run_concurrently(slots, concurrency, move |slot| {
        let db = db.clone();
        let slot = slot.clone();
        async move {
            let now = Utc::now().trunc_subsecs(0);
            let txn = store::begin_write(&db).await?;
            let taken = slot::Entity::update_many()
                .col_expr(slot::Column::BookedCount, Expr::col(slot::Column::BookedCount).add(1))
                .filter(slot::Column::Id.eq(slot.id))
                .filter(Expr::col(slot::Column::BookedCount).lt(Expr::col(slot::Column::Capacity)))
                .exec(&txn)
                .await?;
            ensure!(taken.rows_affected == 1, "slot {} was not free", slot.id);
            let id = Uuid::now_v7();
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            // The columns the service writes, search keys included.
            let keys = SearchKeys::of("Bench Citizen", Some("0511 123456"));
            let row = booking::ActiveModel {
                id: Set(id),
                reference: Set(reference(n)),
                unit_id: Set(unit_id.get()),
                counsellor_id: Set(slot.counsellor_id),
                slot_id: Set(slot.id),
                starts_at: Set(slot.starts_at),
                ends_at: Set(slot.ends_at),
                status: Set(BookingStatus::Booked),
                channel: Set(Channel::Phone),
                citizen_name: Set("Bench Citizen".to_owned()),
                citizen_email: Set(None),
                citizen_phone: Set(Some("0511 123456".to_owned())),
                citizen_language: Set("tr".to_owned()),
                interpreter_language: Set(None),
                accessibility_needs: Set(None),
                email_consent: Set(false),
                note: Set(None),
                override_reason: Set(None),
                cancel_reason: Set(None),
                sequence: Set(0),
                created_at: Set(now),
                created_by: Set(Some(actor.get())),
                updated_at: Set(now),
                updated_by: Set(Some(actor.get())),
                search_name: Set(keys.name),
                search_phone: Set(keys.phone),
                erased_at: Set(None),
            };
            booking::Entity::insert(row).exec_without_returning(&txn).await?;
            let event = event_row(id, now, actor.get(), (slot.id, slot.starts_at, slot.ends_at));
            booking_event::Entity::insert(event).exec_without_returning(&txn).await?;
            txn.commit().await?;
            Ok(())
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The real binary: idle memory and time to ready
// ---------------------------------------------------------------------------------------------

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = StdListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

fn spawn_binary(
    binary: &str,
    database_url: &str,
    listen: SocketAddr,
    extra_env: &[(&str, &str)],
) -> anyhow::Result<tokio::process::Child> {
    tokio::process::Command::new(binary)
        .envs(extra_env.iter().copied())
        .env("DATABASE_URL", database_url)
        .env("TERMINBUCH_LISTEN", listen.to_string())
        .env("TERMINBUCH_DATA_DIR", std::env::temp_dir())
        .env("TERMINBUCH_DEMO_SEED", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {binary}"))
}

/// Polls `/health` every 2 ms until it answers 200; fails after 30 s.
async fn wait_ready(
    client: &reqwest::Client,
    listen: SocketAddr,
    child: &mut tokio::process::Child,
) -> anyhow::Result<()> {
    let url = format!("http://{listen}/health");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(&url).send().await
            && response.status() == reqwest::StatusCode::OK
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the binary exited before it was ready: {status}");
        }
        ensure!(Instant::now() < deadline, "the binary was not ready within 30 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn probe_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(2)).build()?)
}

/// VmRSS of the binary 2 s after it first answered `/health`, in MB (MiB).
async fn idle_memory(binary: &str, database_url: &str) -> anyhow::Result<f64> {
    let listen = free_port()?;
    let mut child = spawn_binary(binary, database_url, listen, &[])?;
    wait_ready(&probe_client()?, listen, &mut child).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.id().context("the binary has no pid")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    child.kill().await?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .context("no VmRSS in /proc/PID/status")?
        .parse()?;
    Ok(kb / 1024.0)
}

/// Median time from spawn to the first 200 from `/health`, in ms.
async fn time_to_ready(binary: &str, database_url: &str, runs: usize) -> anyhow::Result<f64> {
    let client = probe_client()?;
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        let listen = free_port()?;
        let started = Instant::now();
        let mut child = spawn_binary(binary, database_url, listen, &[])?;
        wait_ready(&client, listen, &mut child).await?;
        all.push(started.elapsed());
        child.kill().await?;
    }
    Ok(Latencies::new(all).p50_ms())
}

/// The machine's CPU time counters (`/proc/stat`, in clock ticks): all of it, and the part the
/// hypervisor gave to other guests while this machine wanted to run (steal). None off Linux.
struct CpuTimes {
    total: u64,
    steal: u64,
}

impl CpuTimes {
    fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().find(|line| line.starts_with("cpu "))?;
        let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
        // counted in user and nice.
        let steal = *fields.get(7)?;
        Some(Self { total: fields.iter().take(8).sum(), steal })
    }

    fn steal_share_since(&self, before: &Self) -> f64 {
        let total = self.total.saturating_sub(before.total);
        if total == 0 { 0.0 } else { self.steal.saturating_sub(before.steal) as f64 / total as f64 }
    }
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/// One line of the table. `ratio` is measured/target, or measured/baseline for bookings.
struct Row {
    engine: String,
    figure: String,
    measured: f64,
    target: String,
    ratio: Option<f64>,
    met: Option<bool>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    /// A figure shown for information, without a target.
    fn info(&mut self, engine: &str, figure: &str, measured: f64) {
        self.push(engine, figure, measured, String::new(), None, None);
    }

    /// A figure that should be at most `target`.
    fn at_most(&mut self, engine: &str, figure: &str, measured: f64, target: f64) {
        let ratio = measured / target;
        self.push(engine, figure, measured, format!("≤ {}", fmt(target)), Some(ratio), Some(measured <= target));
    }

    /// A share of a baseline measured in the same run, shown without a target.
    fn share(&mut self, engine: &str, figure: &str, measured: f64, baseline: f64) {
        let target = format!("(of {})", fmt(baseline));
        self.push(engine, figure, measured, target, Some(measured / baseline), None);
    }

    /// A figure that should reach `share` of the baseline measured in the same run.
    fn of_baseline(&mut self, engine: &str, figure: &str, measured: f64, baseline: f64, share: f64) {
        let ratio = measured / baseline;
        let target = format!("≥ {:.0} % of {}", share * 100.0, fmt(baseline));
        self.push(engine, figure, measured, target, Some(ratio), Some(ratio >= share));
    }

    fn push(
        &mut self,
        engine: &str,
        figure: &str,
        measured: f64,
        target: String,
        ratio: Option<f64>,
        met: Option<bool>,
    ) {
        let (engine, figure) = (engine.to_owned(), figure.to_owned());
        self.rows.push(Row { engine, figure, measured, target, ratio, met });
    }

    fn render(&self, config: &Config) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nterminbuch benchmarks, {} ({} cores); searches: {} sequential requests after {} warm-up; \
             bookings: {} per run; time to ready: {} runs",
            Utc::now().format("%Y-%m-%d %H:%M UTC"),
            std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            config.search_requests,
            config.warmup_requests,
            config.bookings,
            config.ready_runs
        );
        for note in &self.notes {
            let _ = writeln!(out, "  {note}");
        }
        let _ = writeln!(out, "\n| engine | figure | measured | target | ratio | |");
        let _ = writeln!(out, "|---|---|---:|---|---:|---|");
        for row in &self.rows {
            let ratio = row.ratio.map(|r| format!("{r:.2}")).unwrap_or_default();
            let verdict = row.met.map(met).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {ratio} | {verdict} |",
                row.engine,
                row.figure,
                fmt(row.measured),
                row.target
            );
        }
        let _ = writeln!(out);
        for row in &self.rows {
            if let Some(ok) = row.met {
                let _ = writeln!(out, "target {} / {} ({}): {}", row.engine, row.figure, row.target, met(ok));
            }
        }
        out
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "not met" }
}

fn fmt(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.3}"),
    }
}
