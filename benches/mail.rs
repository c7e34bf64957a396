//! Benchmark of email delivery (see BENCHMARKS.md, "Emails"): time from a booking's commit to
//! its confirmation being accepted by an SMTP server on loopback, and how many messages per
//! second the dispatcher delivers from a backlog.
//!
//! `cargo bench --bench mail` measures SQLite (a temporary file) and, when `BENCH_DATABASE_URL`
//! or `TEST_DATABASE_URL` names a PostgreSQL server, PostgreSQL in a fresh database dropped at
//! the end. Mail settings are the production defaults (`TERMINBUCH_MAIL_POLL_MS` etc. are read
//! from the environment like the server does). `BENCH_MAIL_LATENCY` (default 300) and
//! `BENCH_MAIL_BACKLOG` (default 1000) scale the runs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{Days, TimeDelta, Utc};
use clap::Parser;
use entity::slot::{self, SlotKind};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use terminbuch::clock::Clock;
use terminbuch::config::{MailSettings, Settings, SmtpSecurity};
use terminbuch::domain::time::local_date;
use terminbuch::services::{auth, schedule, seed};
use terminbuch::startup::{Application, Dependencies, bootstrap};
use terminbuch::store::connect;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

/// Bookings made (unmeasured) before measuring, to warm up pools and caches.
const WARMUP: usize = 20;
/// How long one message may take before the bench gives up.
const PATIENCE: Duration = Duration::from_secs(120);

/// The mail settings of a server started without mail variables, with the environment applied.
#[derive(Parser)]
struct MailDefaults {
    #[command(flatten)]
    mail: MailSettings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let read = |name: &str, default: usize| -> anyhow::Result<usize> {
        std::env::var(name).map_or(Ok(default), |v| v.parse().with_context(|| format!("{name} must be a number")))
    };
    let (latency_runs, backlog) = (read("BENCH_MAIL_LATENCY", 300)?, read("BENCH_MAIL_BACKLOG", 1000)?);
    ensure!(latency_runs > 0 && backlog > 0, "counts must be positive");
    let mail = MailDefaults::try_parse_from(["bench"]).context("mail settings from the environment")?.mail;
    let mut rows = Vec::new();

    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    rows.extend(run_engine("sqlite", &sqlite, &mail, latency_runs, backlog).await?);

    let pg_url = std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL")).ok();
    match pg_url.filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        Some(url) => {
            let server = Database::connect(&url).await.context("connecting to the PostgreSQL server")?;
            let database = format!("bench_mail_{}", Uuid::new_v4().simple());
            server.execute_unprepared(&format!("CREATE DATABASE {database}")).await?;
            let outcome = run_engine("postgres", &with_database(&url, &database)?, &mail, latency_runs, backlog).await;
            server.execute_unprepared(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await?;
            rows.extend(outcome?);
        }
        None => eprintln!("PostgreSQL skipped: set BENCH_DATABASE_URL=postgres://USER@HOST:PORT/DB to measure it"),
    }

    println!("\nmail poll interval {} ms, SMTP timeout {} s\n", mail.mail_poll_ms, mail.smtp_timeout_secs);
    println!("| engine | figure | measured |\n|---|---|---:|");
    for (engine, figure, value) in rows {
        println!("| {engine} | {figure} | {value} |");
    }
    Ok(())
}

/// `postgres://u@h:5432/postgres?x=y` → `postgres://u@h:5432/<database>?x=y`.
fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let scheme_end = url.find("://").context("the database URL has no scheme")? + 3;
    let (base, query) = url.find('?').map_or((url, ""), |at| (&url[..at], &url[at..]));
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |at| scheme_end + at);
    Ok(format!("{}/{database}{query}", &base[..host_end]))
}

type Row = (&'static str, String, String);

async fn run_engine(
    name: &'static str,
    url: &str,
    mail: &MailSettings,
    latency_runs: usize,
    backlog: usize,
) -> anyhow::Result<Vec<Row>> {
    let (sink, mut events) = Sink::start().await?;
    let mut settings = Settings::for_tests(url);
    settings.mail = MailSettings {
        smtp_host: Some("127.0.0.1".to_owned()),
        smtp_port: Some(sink.addr.port()),
        smtp_security: SmtpSecurity::None,
        ..mail.clone()
    };
    let db = connect(url, None).await?;
    let deps = Dependencies { db: db.clone(), clock: Clock::System };
    bootstrap(&settings, &deps).await?;
    let now = Utc::now();
    let today = local_date(now, settings.time_zone);
    seed::demo(&db, &deps.clock, today).await?;
    // Enough weeks of the demo units' hours for all bookings of the run.
    let until = today + Days::new(52 * 7);
    schedule::regenerate_all(&db, &settings.holiday_calendar(), settings.time_zone, until, now).await?;
    let token = auth::create_token(&db, &deps.clock, "admin", "bench").await?;
    let mut slots = free_slots(&db, WARMUP + latency_runs + backlog).await?.into_iter();

    let app = Application::build(settings, deps).await?;
    let booker =
        Booker { client: reqwest::Client::new(), url: format!("http://{}/api/v1/bookings", app.local_addr()?), token };
    let server = tokio::spawn(app.run_until_stopped());

    // Latency: one booking at a time, each waiting for its confirmation.
    let mut from_commit = Vec::with_capacity(latency_runs);
    let mut from_request = Vec::with_capacity(latency_runs);
    for i in 0..WARMUP + latency_runs {
        let recipient = format!("latency-{i}@example.org");
        let started = Instant::now();
        let committed = booker.book(&mut slots, &recipient).await?;
        let accepted = wait_for(&mut events, &recipient).await?;
        if i >= WARMUP {
            from_commit.push(accepted.saturating_duration_since(committed));
            from_request.push(accepted.saturating_duration_since(started));
        }
    }
    let (from_commit, from_request) = (Latencies::new(from_commit), Latencies::new(from_request));
    eprintln!("[{name}] 201 → accepted: {}", from_commit.describe());
    eprintln!("[{name}] request → accepted: {}", from_request.describe());

    // Throughput: the server stalls (withholds its greeting) while the backlog is booked, then
    // answers; the clock runs from then until the last message is accepted.
    sink.gate.send_replace(false);
    let booked_at = Instant::now();
    for i in 0..backlog {
        booker.book(&mut slots, &format!("backlog-{i}@example.org")).await?;
    }
    let booking_time = booked_at.elapsed();
    let opened = Instant::now();
    sink.gate.send_replace(true);
    let mut last = opened;
    for _ in 0..backlog {
        let (_, at) = tokio::time::timeout(PATIENCE, events.recv()).await?.context("the sink stopped")?;
        last = last.max(at);
    }
    let drain = last.saturating_duration_since(opened);
    let rate = backlog as f64 / drain.as_secs_f64();
    eprintln!(
        "[{name}] backlog of {backlog} (booked in {:.1} s) delivered in {:.2} s: {rate:.0}/s",
        booking_time.as_secs_f64(),
        drain.as_secs_f64()
    );
    server.abort();
    db.close().await?;

    let ms = |v: f64| format!("{v:.1}");
    Ok(vec![
        (
            name,
            format!("201 → accepted by SMTP: p50 / p99, ms (n={latency_runs}, max {:.0})", from_commit.max_ms()),
            format!("{} / {}", ms(from_commit.p50_ms()), ms(from_commit.p99_ms())),
        ),
        (
            name,
            "request sent → accepted: p50 / p99, ms".to_owned(),
            format!("{} / {}", ms(from_request.p50_ms()), ms(from_request.p99_ms())),
        ),
        (name, format!("backlog of {backlog} after an SMTP stall: messages/s"), format!("{rate:.0}")),
        (name, format!("backlog of {backlog}: time to deliver all, s"), format!("{:.2}", drain.as_secs_f64())),
    ])
}

/// Free regular slots starting two days from now on (no reminder falls due during the run).
async fn free_slots(db: &DatabaseConnection, count: usize) -> anyhow::Result<Vec<i32>> {
    let from = Utc::now() + TimeDelta::days(2);
    let free = slot::Entity::find()
        .filter(slot::Column::Kind.eq(SlotKind::Regular))
        .filter(slot::Column::BookedCount.eq(0))
        .filter(slot::Column::StartsAt.gt(from))
        .order_by_asc(slot::Column::StartsAt)
        .order_by_asc(slot::Column::Id)
        .all(db)
        .await?;
    ensure!(free.len() >= count, "only {} free slots for {count} bookings", free.len());
    Ok(free.into_iter().map(|s| s.id).collect())
}

struct Booker {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Booker {
    /// Books the next bookable slot for a citizen who consented to email; returns when the 201
    /// arrived. Slots the rules refuse (a demo absence, say) are skipped.
    async fn book(&self, slots: &mut impl Iterator<Item = i32>, email: &str) -> anyhow::Result<Instant> {
        for slot_id in slots.by_ref() {
            let body = serde_json::json!({
                "slot_id": slot_id,
                "citizen": { "name": "Bench Citizen", "email": email, "language": "de" },
                "email_consent": true,
                "channel": "phone",
            });
            let response = self.client.post(&self.url).bearer_auth(&self.token).json(&body).send().await?;
            let status = response.status();
            let at = Instant::now();
            let text = response.text().await?;
            match status.as_u16() {
                201 => return Ok(at),
                409 | 422 => continue,
                _ => bail!("POST /api/v1/bookings (slot {slot_id}): {status}: {text}"),
            }
        }
        bail!("no free slots left")
    }
}

/// Waits for the message to `recipient`; returns when the sink accepted it.
async fn wait_for(events: &mut mpsc::UnboundedReceiver<(String, Instant)>, recipient: &str) -> anyhow::Result<Instant> {
    loop {
        let (to, at) = tokio::time::timeout(PATIENCE, events.recv())
            .await
            .with_context(|| format!("no message to {recipient} within {PATIENCE:?}"))?
            .context("the sink stopped")?;
        if to == recipient {
            return Ok(at);
        }
    }
}

/// A minimal SMTP server: accepts every message and reports (recipient, when accepted). While
/// the gate is shut it accepts connections but withholds the greeting, as a stalled server does.
struct Sink {
    addr: SocketAddr,
    gate: watch::Sender<bool>,
}

impl Sink {
    /// The sink and the stream of accepted messages.
    async fn start() -> anyhow::Result<(Self, mpsc::UnboundedReceiver<(String, Instant)>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (gate, open) = watch::channel(true);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tx, mut open) = (tx.clone(), open.clone());
                tokio::spawn(async move {
                    if open.wait_for(|open| *open).await.is_ok() {
                        let _ = session(stream, tx).await;
                    }
                });
            }
        });
        Ok((Self { addr, gate }, rx))
    }
}

async fn session(stream: TcpStream, events: mpsc::UnboundedSender<(String, Instant)>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 bench ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-bench\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 20000000\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line.trim_end()[8..].trim().trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
            }
            write.write_all(b"250 OK queued\r\n").await?;
            let at = Instant::now();
            for recipient in to.drain(..) {
                let _ = events.send((recipient, at));
            }
            continue;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// Latencies of one run, sorted.
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
            "n={} p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.0.len(),
            self.p50_ms(),
            self.percentile_ms(0.90),
            self.p99_ms(),
            self.max_ms()
        )
    }
}
