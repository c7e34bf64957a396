//! The ceilings a booking is measured against, outside the service's stack: (a) one-row
//! transactions (SQLite through the sqlite3 C library, PostgreSQL through pgbench) and (b) the
//! booking's own SQL run directly (SQLite: one connection, sequential; PostgreSQL: pgbench with
//! the booking transaction of `benches/pgbench_booking.sql`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::Utc;
use entity::slot;
use rusqlite::{Connection, params};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{
    Latencies, Report, Run, TARGET_BOOKING_RATIO, TARGET_PG_SAME_WORK, TARGET_SQLITE_ONE_ROW_C16,
    TARGET_SQLITE_SAME_WORK_C1, TARGET_SQLITE_SAME_WORK_C16,
};

/// The pgbench scripts, kept beside the bench.
const PGBENCH_ONE_ROW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pgbench_one_row.sql");
const PGBENCH_BOOKING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pgbench_booking.sql");

/// `sqlite:///tmp/x/bench.db?mode=rwc` → `/tmp/x/bench.db`.
pub fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let path = url.strip_prefix("sqlite://").context("not a sqlite:// URL")?;
    Ok(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

/// The service's pragmas (see `store::connect`).
pub fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -512)?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(Duration::from_secs(30))?;
    Ok(conn)
}

/// (a) SQLite: `n` transactions of one one-row insert each, through the sqlite3 C library on one
/// connection, in a file of its own beside the service's (same file system, same pragmas).
pub fn sqlite_one_row(service_db: &Path, n: usize) -> anyhow::Result<Run> {
    let path = service_db.with_file_name("one_row.db");
    let conn = open(&path)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS one_row (id INTEGER PRIMARY KEY, at TEXT NOT NULL, payload TEXT NOT NULL)",
    )?;
    let mut insert = conn.prepare_cached("INSERT INTO one_row (at, payload) VALUES (?1, ?2)")?;
    sequential(n, |i| {
        conn.execute_batch("BEGIN")?;
        insert.execute(params![Utc::now().to_rfc3339(), format!("row {i}")])?;
        conn.execute_batch("COMMIT")?;
        Ok(())
    })
}

/// (b) SQLite: per booking what the service's writer runs for it (the seat update with the
/// closure and absence check and its overlap trigger, the booking and its `created` event, the
/// audit record), one transaction each, sequential, on one connection to the service's file.
pub fn sqlite_same_work(service_db: &Path, slots: &[slot::Model], actor: i32) -> anyhow::Result<Run> {
    let conn = open(service_db)?;
    sequential(slots.len(), |i| same_work_booking(&conn, &slots[i], actor).map(drop))
}

/// One booking of the same-work ceiling on `conn`, its own transaction; the booking's id.
pub fn same_work_booking(conn: &Connection, slot: &slot::Model, actor: i32) -> anyhow::Result<String> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let taken: Option<(i32, i32, String, String)> = conn
        .prepare_cached(SQLITE_TAKE_SEAT)?
        .query_row(params![slot.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .ok();
    let Some((unit_id, counsellor_id, starts_at, ends_at)) = taken else {
        conn.execute_batch("ROLLBACK")?;
        bail!("slot {} was not free", slot.id)
    };
    let (id, now) = (uuid::Uuid::now_v7().to_string(), Utc::now().to_rfc3339());
    let reference = format!("S{:07}", 1_000_000 + slot.id);
    let values = params![id, reference, unit_id, counsellor_id, slot.id, starts_at, ends_at, now, actor];
    conn.prepare_cached(SQLITE_INSERT_BOOKING)?.execute(values)?;
    let detail = format!(
        r#"{{"slot_id":{},"starts_at":"{starts_at}","ends_at":"{ends_at}","adhoc":false,"channel":"phone","override_reason":null}}"#,
        slot.id
    );
    conn.prepare_cached(
        "INSERT INTO booking_events (booking_id, at, actor_id, kind, detail) VALUES (?1, ?2, ?3, 'created', ?4)",
    )?
    .execute(params![id, now, actor, detail])?;
    conn.prepare_cached(SQLITE_INSERT_AUDIT)?.execute(params![now, actor, unit_id, id, format!("booking:{id}")])?;
    conn.execute_batch("COMMIT")?;
    Ok(id)
}

const SQLITE_TAKE_SEAT: &str = "UPDATE slots SET booked_count = booked_count + 1 \
    WHERE id = ?1 AND kind = 'regular' AND booked_count < capacity \
    AND NOT EXISTS (SELECT 1 FROM closures WHERE (closures.unit_id = slots.unit_id OR closures.unit_id IS NULL) \
        AND closures.starts_at < slots.ends_at AND closures.ends_at > slots.starts_at) \
    AND NOT EXISTS (SELECT 1 FROM absences WHERE absences.staff_id = slots.counsellor_id \
        AND absences.starts_at < slots.ends_at AND absences.ends_at > slots.starts_at) \
    RETURNING unit_id, counsellor_id, starts_at, ends_at";

const SQLITE_INSERT_BOOKING: &str = "INSERT INTO bookings (id, reference, unit_id, counsellor_id, slot_id, \
    starts_at, ends_at, status, channel, citizen_name, citizen_email, citizen_phone, citizen_language, \
    interpreter_language, accessibility_needs, email_consent, note, override_reason, cancel_reason, sequence, \
    created_at, created_by, updated_at, updated_by, search_name, search_phone, erased_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'booked', 'phone', 'Bench Citizen', NULL, '0511 123456', 'tr', NULL, NULL, \
    0, NULL, NULL, NULL, 0, ?8, ?9, ?8, ?9, 'bench citizen', '0511123456', NULL)";

const SQLITE_INSERT_AUDIT: &str = "INSERT INTO audit_events (at, actor_id, actor_kind, client_addr, action, \
    unit_id, booking_ids, item_count, target, detail) \
    VALUES (?1, ?2, 'staff', NULL, 'booking_created', ?3, ?4, NULL, ?5, '{}')";

/// Runs `work` `n` times one after the other, timing each.
fn sequential(n: usize, mut work: impl FnMut(usize) -> anyhow::Result<()>) -> anyhow::Result<Run> {
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let at = Instant::now();
        work(i)?;
        latencies.push(at.elapsed());
    }
    Ok(Run { bookings: n, elapsed: started.elapsed(), latencies: Latencies::new(latencies) })
}

/// (a) PostgreSQL: pgbench with `clients` connections, `per_client` one-row inserts each, each
/// its own transaction, into a table with a primary key (prepared statements).
pub async fn pg_one_row(db: &DatabaseConnection, url: &str, clients: usize, total: usize) -> anyhow::Result<Run> {
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS bench_one_row (id bigserial PRIMARY KEY, at timestamptz NOT NULL, payload text NOT NULL)",
    )
    .await?;
    pgbench(url, PGBENCH_ONE_ROW, clients, total, &[]).await
}

/// (b) PostgreSQL: pgbench running the booking transaction of `benches/pgbench_booking.sql` on
/// the given free slots (each taken once, through a numbered list and a sequence).
pub async fn pg_same_work(
    db: &DatabaseConnection,
    url: &str,
    slots: &[slot::Model],
    actor: i32,
    clients: usize,
) -> anyhow::Result<Run> {
    load_free_slots(db, slots).await?;
    pgbench(url, PGBENCH_BOOKING, clients, slots.len(), &[format!("actor={actor}")]).await
}

/// PostgreSQL: `slots` as the numbered list `bench_free_slots` that the same-work statement takes
/// its next slot from (through the sequence `bench_pick`, started anew).
pub async fn load_free_slots(db: &DatabaseConnection, slots: &[slot::Model]) -> anyhow::Result<()> {
    db.execute_unprepared(
        "DROP TABLE IF EXISTS bench_free_slots; DROP SEQUENCE IF EXISTS bench_pick; \
         CREATE TABLE bench_free_slots (n bigint PRIMARY KEY, slot_id integer NOT NULL, unit_id integer NOT NULL, \
         counsellor_id integer NOT NULL, starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL); \
         CREATE SEQUENCE bench_pick;",
    )
    .await?;
    let rows: Vec<String> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (starts, ends) = (s.starts_at.to_rfc3339(), s.ends_at.to_rfc3339());
            format!("({}, {}, {}, {}, '{starts}', '{ends}')", i + 1, s.id, s.unit_id, s.counsellor_id)
        })
        .collect();
    db.execute_unprepared(&format!("INSERT INTO bench_free_slots VALUES {}", rows.join(","))).await?;
    Ok(())
}

/// PostgreSQL: the same-work statement of `benches/pgbench_booking.sql` with the staff member who
/// books as its one parameter (`$1` for pgbench's `:actor`).
pub fn pg_same_work_statement() -> anyhow::Result<String> {
    let script = std::fs::read_to_string(PGBENCH_BOOKING)?;
    let statement: Vec<&str> = script.lines().filter(|line| !line.trim_start().starts_with("--")).collect();
    Ok(statement.join("\n").replace(":actor", "$1"))
}

/// Runs pgbench (`-M prepared`, `-j` up to 2 threads) for `total` transactions over `clients`
/// connections; throughput from pgbench's own figure, latencies from its per-transaction log.
async fn pgbench(url: &str, script: &str, clients: usize, total: usize, defines: &[String]) -> anyhow::Result<Run> {
    ensure!(total.is_multiple_of(clients), "{total} transactions do not divide among {clients} clients");
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("log");
    let (url, script) = (url.to_owned(), script.to_owned());
    let defines: Vec<String> = defines.iter().flat_map(|d| ["-D".to_owned(), d.clone()]).collect();
    let threads = clients.min(2);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-l", "--log-prefix"])
            .arg(&prefix)
            .args(&defines)
            .args(["-c", &clients.to_string(), "-j", &threads.to_string(), "-t", &(total / clients).to_string()])
            .arg("-f")
            .arg(&script)
            .arg(&url)
            .output()
    })
    .await?
    .context("running pgbench (is it installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(output.status.success(), "pgbench failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let failed = stdout.lines().find(|l| l.starts_with("number of failed transactions"));
    ensure!(failed.is_none_or(|l| l.contains(": 0 ")), "pgbench: {}", failed.unwrap_or_default());
    let tps: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .context("no tps in pgbench's output")?
        .parse()?;
    let mut latencies = Vec::with_capacity(total);
    for entry in std::fs::read_dir(dir.path())? {
        for line in std::fs::read_to_string(entry?.path())?.lines() {
            // client transaction latency_us script epoch epoch_us
            let micros: u64 = line.split_whitespace().nth(2).context("a pgbench log line")?.parse()?;
            latencies.push(Duration::from_micros(micros));
        }
    }
    ensure!(latencies.len() == total, "pgbench logged {} of {total} transactions", latencies.len());
    Ok(Run {
        bookings: total,
        elapsed: Duration::from_secs_f64(total as f64 / tps),
        latencies: Latencies::new(latencies),
    })
}

/// Both ceilings of one engine, measured one after the other.
pub struct Ceilings {
    pub one_row: Run,
    pub same_work: Run,
}

/// Measures (a) with `slots.len()` one-row transactions (PostgreSQL: 16 clients) and (b) with a
/// booking of each of `slots` (PostgreSQL: `clients` clients; SQLite: one connection).
pub async fn measure(
    url: &str,
    db: &DatabaseConnection,
    mut slots: Vec<slot::Model>,
    actor: i32,
    clients: usize,
) -> anyhow::Result<Ceilings> {
    if url.starts_with("sqlite:") {
        let path = sqlite_path(url)?;
        return tokio::task::spawn_blocking(move || {
            let one_row = sqlite_one_row(&path, slots.len())?;
            let same_work = sqlite_same_work(&path, &slots, actor)?;
            Ok(Ceilings { one_row, same_work })
        })
        .await?;
    }
    let one_row = pg_one_row(db, url, 16, slots.len() - slots.len() % 16).await?;
    slots.truncate(slots.len() - slots.len() % clients);
    let same_work = pg_same_work(db, url, &slots, actor, clients).await?;
    Ok(Ceilings { one_row, same_work })
}

/// The service's bookings against the one-row and same-work ceilings, and the old in-stack one.
pub fn report(report: &mut Report, name: &str, concurrency: usize, http: &Run, ceilings: &Ceilings, in_stack: &Run) {
    let label = format!("booking creation c={concurrency}");
    let rate = http.throughput();
    let (one_row, same_work) = (ceilings.one_row.throughput(), ceilings.same_work.throughput());
    let sqlite = name == "sqlite";
    let one_row_target = (sqlite && concurrency == 16).then_some(TARGET_SQLITE_ONE_ROW_C16);
    let same_work_target = match (sqlite, concurrency) {
        (true, 1) => TARGET_SQLITE_SAME_WORK_C1,
        (true, _) => TARGET_SQLITE_SAME_WORK_C16,
        (false, _) => TARGET_PG_SAME_WORK,
    };
    report.info(name, &format!("{label}: service (HTTP), bookings/s"), rate);
    report.info(name, &format!("{label}: service p50, ms"), http.latencies.p50_ms());
    report.info(name, &format!("{label}: service p99, ms"), http.latencies.p99_ms());
    match one_row_target {
        Some(target) => {
            report.of_baseline(name, &format!("{label}: share of the one-row ceiling"), rate, one_row, target)
        }
        None => report.share(name, &format!("{label}: share of the one-row ceiling"), rate, one_row),
    }
    report.of_baseline(name, &format!("{label}: share of the same-work ceiling"), rate, same_work, same_work_target);
    let (one, same) = (&ceilings.one_row.latencies, &ceilings.same_work.latencies);
    report.info(name, &format!("{label}: one-row ceiling, transactions/s"), one_row);
    report.info(name, &format!("{label}: one-row ceiling p50, ms"), one.p50_ms());
    report.info(name, &format!("{label}: one-row ceiling p99, ms"), one.p99_ms());
    report.info(name, &format!("{label}: same-work ceiling, bookings/s"), same_work);
    report.info(name, &format!("{label}: same-work ceiling p50, ms"), same.p50_ms());
    report.info(name, &format!("{label}: same-work ceiling p99, ms"), same.p99_ms());
    let old = format!("{label}: share of the in-stack ceiling (old method, {:.0}/s)", in_stack.throughput());
    report.of_baseline(name, &old, rate, in_stack.throughput(), TARGET_BOOKING_RATIO);
}
