//! Building and running the application: database, first-start bootstrap, HTTP server, and the
//! background tasks that keep the slot horizon rolling and send emails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::Dispatcher;
use crate::services::{audit, auth, schedule, seed};
use crate::state::AppState;
use crate::store::{self, directory};

/// What the application needs from outside; built by `main`, or by hand in tests.
#[derive(Clone)]
pub struct Dependencies {
    pub db: DatabaseConnection,
    pub clock: Clock,
}

impl Dependencies {
    /// Connects to the configured database with the system clock.
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub async fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let db = store::connect(&settings.database_url, settings.db_max_connections)
            .await
            .with_context(|| format!("cannot open the database (DATABASE_URL={})", redact(&settings.database_url)))?;
        Ok(Self { db, clock: Clock::System })
    }
}

/// The URL without a password, for messages: neither the one in the user part
/// (`USER:PASSWORD@`) nor one given as a query parameter (`?password=`, `?sslpassword=`).
pub fn redact(url: &str) -> String {
    let (address, query) = url.split_once('?').map_or((url, None), |(address, query)| (address, Some(query)));
    let address = match (address.find("://"), address.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match address[scheme + 3..at].split_once(':') {
            Some((user, _)) => format!("{}://{user}:***@{}", &address[..scheme], &address[at + 1..]),
            None => address.to_owned(),
        },
        _ => address.to_owned(),
    };
    let Some(query) = query else { return address };
    let secret = |key: &str| ["password", "sslpassword"].iter().any(|name| key.eq_ignore_ascii_case(name));
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if secret(key) => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{address}?{}", pairs.join("&"))
}

/// A bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    /// The separate listener of `GET /metrics` (`TERMINBUCH_METRICS_LISTEN`).
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// The email sender the server runs; `None` once taken by [`Application::take_dispatcher`].
    dispatcher: Option<Dispatcher>,
    /// How many refreshes of the slot horizon have finished (see [`Application::horizon_refreshes`]).
    horizon_refreshes: tokio::sync::watch::Sender<u64>,
}

/// What first start did, to be printed for the operator.
#[derive(Debug, Default)]
pub struct Bootstrap {
    pub seeded: bool,
    pub first_admin: Option<(String, String)>,
}

/// Applies migrations; seeds demo data into an empty database when asked (by default only with
/// the embedded default database); creates the first admin when there is none.
///
/// # Errors
/// Migration or database failures.
pub async fn bootstrap(settings: &Settings, deps: &Dependencies) -> anyhow::Result<Bootstrap> {
    // Several processes starting at once on one PostgreSQL (a rolling deploy) take turns, so
    // they neither apply a migration twice nor create two first admins; the lock is held by a
    // transaction of its own and released when it ends.
    // Everything runs on the turn's own connection: no second connection is opened at start.
    match store::bootstrap_turn(&deps.db).await.context("waiting for other processes' start-up")? {
        Some(turn) => {
            Migrator::up(&turn, None).await.context("applying database migrations")?;
            let report = seed_and_first_admin(settings, &deps.clock, &turn).await?;
            turn.commit().await.context("ending the start-up turn")?;
            Ok(report)
        }
        None => {
            migrate_sqlite(&deps.db).await?;
            seed_and_first_admin(settings, &deps.clock, &deps.db).await
        }
    }
}

/// Applies migrations, on PostgreSQL in the start-up turn every server process and command takes
/// (a `terminbuch migrate` beside a starting server, or one per replica, would otherwise apply
/// the same migration twice and fail).
///
/// # Errors
/// Migration or database failures.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    match store::bootstrap_turn(db).await.context("waiting for other processes' start-up")? {
        Some(turn) => {
            Migrator::up(&turn, None).await.context("applying database migrations")?;
            turn.commit().await.context("ending the start-up turn")
        }
        None => migrate_sqlite(db).await,
    }
}

/// Applies the pending migrations on SQLite, each in a write transaction of its own
/// (sea-orm-migration wraps a migration in a transaction on PostgreSQL only): a migration that
/// fails, or a process killed during one, leaves nothing of it behind, where a part of it would
/// stop every later start ("table … already exists"). Each migration reads what is pending
/// inside its write lock, so processes upgrading one file at once take turns.
///
/// # Errors
/// Migration or database failures (the failing migration rolled back).
async fn migrate_sqlite(db: &DatabaseConnection) -> anyhow::Result<()> {
    loop {
        let txn = store::begin_write(db).await.context("beginning a migration")?;
        let pending = match Migrator::get_pending_migrations(&*txn).await {
            Ok(pending) => pending,
            Err(err) => {
                txn.rollback().await.ok();
                return Err(anyhow::Error::new(err).context("reading the pending database migrations"));
            }
        };
        if pending.is_empty() {
            // Keeps the migrations table a new database has just been given.
            return txn.commit().await.context("ending the migrations");
        }
        if let Err(err) = Migrator::up(&*txn, Some(1)).await {
            txn.rollback().await.ok();
            return Err(anyhow::Error::new(err).context(format!("applying database migration {}", pending[0].name())));
        }
        txn.commit().await.with_context(|| format!("committing database migration {}", pending[0].name()))?;
    }
}

/// After the migrations: the demo data when asked for, the first admin, the audit retention.
async fn seed_and_first_admin<C: sea_orm::ConnectionTrait>(
    settings: &Settings,
    clock: &Clock,
    db: &C,
) -> anyhow::Result<Bootstrap> {
    let mut report = Bootstrap::default();
    let seed_demo = settings.demo_seed.unwrap_or_else(|| settings.uses_embedded_default());
    if seed_demo && directory::count_units(db).await? == 0 {
        let today = crate::domain::time::local_date(clock.now(), settings.time_zone);
        seed::demo(db, clock, today).await.context("seeding demo data")?;
        report.seeded = true;
    }
    report.first_admin = auth::ensure_first_admin(db, clock).await.context("creating the first admin")?;
    audit::apply_retention_period(db, settings.audit_retention_days)
        .await
        .context("storing TERMINBUCH_AUDIT_RETENTION_DAYS")?;
    Ok(report)
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the state.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn build(settings: Settings, deps: Dependencies) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (TERMINBUCH_LISTEN)", settings.listen))?;
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (TERMINBUCH_METRICS_LISTEN)"))?,
            ),
            None => None,
        };
        crate::telemetry::metrics::handle();
        let bound = listener.local_addr().context("the bound address")?;
        let dispatcher = Dispatcher::new(deps.db.clone(), deps.clock.clone(), &settings)
            .context("setting up email")?
            .with_link_base(&settings.public_url_for(bound));
        if dispatcher.writes_files() {
            tracing::info!(folder = %settings.data_dir.join("mail").display(), "no TERMINBUCH_SMTP_HOST: emails are written as .eml files");
        }
        if settings.secure_cookies() && !settings.served_over_https() {
            tracing::warn!(listen = %settings.listen, "session cookies are sent with Secure: browsers keep them only over HTTPS; \
                serve the desk through HTTPS (and set TERMINBUCH_PUBLIC_URL=https://…) or set TERMINBUCH_SECURE_COOKIES=false");
        }
        let calendar = Arc::new(settings.holiday_calendar());
        let mail = dispatcher.nudge();
        let cache_lifetime = Duration::from_millis(settings.token_cache_ms);
        let base_url = settings.public_url_for(listener.local_addr().context("the bound address")?).into();
        let counsellors = crate::services::directory::CounsellorCache::new(cache_lifetime);
        let writer = crate::services::bookings::Writer::start(crate::services::bookings::WriterDeps {
            db: deps.db.clone(),
            clock: deps.clock.clone(),
            calendar: calendar.clone(),
            tz: settings.time_zone,
            mail_domain: crate::mail::outbox::id_domain(&settings.mail.mail_from.email).to_owned(),
            counsellors: counsellors.clone(),
        })
        .context("the booking writer's thread")?;
        let listed = crate::services::bookings::ListedSlots::for_backend(deps.db.get_database_backend());
        let search_db = crate::store::search_pool(&deps.db).await.context("the free-slot search's pool")?;
        let booking_pool =
            crate::store::booking_pool::BookingPool::for_db(&deps.db).await.context("the bookings' pool")?;
        let state = AppState {
            db: deps.db,
            search_db,
            clock: deps.clock.clone(),
            base_url,
            settings: Arc::new(settings),
            calendar,
            mail,
            tokens: auth::TokenCache::new(cache_lifetime, deps.clock.clone()),
            units: Default::default(),
            counsellors,
            listed,
            writer,
            booking_pool,
            citizen: crate::services::citizen_link::Shared {
                limiter: Default::default(),
                templates: dispatcher.templates(),
            },
            feed_limiter: crate::services::calendar_feed::limiter(),
        };
        let horizon_refreshes = tokio::sync::watch::Sender::new(0);
        Ok(Self { listener, metrics_listener, state, dispatcher: Some(dispatcher), horizon_refreshes })
    }

    /// The bound address.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound address of `GET /metrics` when it has one of its own.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn metrics_addr(&self) -> std::io::Result<Option<SocketAddr>> {
        self.metrics_listener.as_ref().map(TcpListener::local_addr).transpose()
    }

    /// Takes the email sender out, so the server does not run it: whoever takes it drives it
    /// (tests call [`Dispatcher::run_once`] step by step). Booking changes still queue emails.
    pub fn take_dispatcher(&mut self) -> Option<Dispatcher> {
        self.dispatcher.take()
    }

    /// Counts the finished refreshes of the slot horizon (the first right after start, then every
    /// six hours): a test that edits slots waits for the first, which would otherwise redo them
    /// under it.
    pub fn horizon_refreshes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.horizon_refreshes.subscribe()
    }

    /// The shared state (tests use its database and clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C / SIGTERM, keeping the slot horizon rolling and sending emails in the
    /// background.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let horizon = tokio::spawn(keep_horizon(self.state.clone(), self.horizon_refreshes));
        let sweeper = tokio::spawn(sweep_sessions(self.state.db.clone(), self.state.clock.clone()));
        let upkeep = tokio::spawn(crate::telemetry::metrics::keep_up());
        let metrics = self.metrics_listener.map(|listener| {
            let app = crate::http::routes::metrics::standalone(self.state.clone());
            let timeout = Duration::from_millis(self.state.settings.header_read_timeout_ms);
            tokio::spawn(crate::server::serve(listener, app, timeout, std::future::pending()))
        });
        let audit_retention = tokio::spawn(keep_audit_retention(self.state.db.clone(), self.state.clock.clone()));
        let retention = tokio::spawn(keep_retention(self.state.clone()));
        // The email sender stops after the HTTP server (whose last requests may queue emails),
        // and is given time to finish the deliveries it has begun.
        let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
        let mail = tokio::spawn(async move {
            let stopped = async {
                let _ = mail_stopped.await;
            };
            match self.dispatcher {
                Some(dispatcher) => dispatcher.run_until(stopped).await,
                None => stopped.await,
            }
        });
        let header_read_timeout = Duration::from_millis(self.state.settings.header_read_timeout_ms);
        let app = crate::http::router(self.state);
        let served = crate::server::serve(self.listener, app, header_read_timeout, shutdown_signal()).await;
        horizon.abort();
        sweeper.abort();
        upkeep.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        audit_retention.abort();
        retention.abort();
        let _ = stop_mail.send(());
        if let Err(err) = mail.await {
            tracing::error!(error = ?err, "the email sender failed while stopping");
        }
        served.context("HTTP server failed")
    }
}

/// Materialises slots up to the horizon now, then every six hours.
async fn keep_horizon(state: AppState, refreshes: tokio::sync::watch::Sender<u64>) {
    let mut tick = tokio::time::interval(Duration::from_secs(6 * 3600));
    loop {
        tick.tick().await;
        let result = schedule::regenerate_all(
            &state.db,
            &state.calendar,
            state.settings.time_zone,
            state.horizon_until(),
            state.clock.now(),
        )
        .await;
        match result {
            Ok(done) => tracing::info!(rules = done.rules, slots = done.slots_wanted, "slot horizon refreshed"),
            Err(err) => tracing::error!(error = ?err, "refreshing the slot horizon failed"),
        }
        refreshes.send_modify(|count| *count += 1);
    }
}

/// Deletes expired web sessions and old failed logins every ten minutes. Sessions expire in real
/// time (tower-sessions sets their expiry); failed logins are recorded and counted with the
/// service's clock, so they are aged by it too.
async fn sweep_sessions(db: DatabaseConnection, clock: Clock) {
    use crate::store::sessions;
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let failures_before = clock.now() - chrono::TimeDelta::days(1);
        if let Err(err) = sessions::delete_expired(&db, sessions::real_now(), failures_before).await {
            tracing::error!(error = ?err, "deleting expired sessions failed");
        }
        if let Err(err) = crate::store::submissions::delete_before(&db, clock.now() - chrono::TimeDelta::days(1)).await
        {
            tracing::error!(error = ?err, "deleting the ids of sent booking forms failed");
        }
        let throttles_before = clock.now() - crate::domain::throttle::KNOWN_ADDRESS_FOR;
        if let Err(err) = crate::store::throttle::delete_stale(&db, throttles_before).await {
            tracing::error!(error = ?err, "deleting old login throttle counters failed");
        }
        let devices_before = clock.now() - crate::domain::throttle::DEVICE_KEPT_FOR;
        if let Err(err) = crate::store::devices::delete_unused(&db, devices_before).await {
            tracing::error!(error = ?err, "deleting browsers unused for logins failed");
        }
        // SQLite: a session row is written anew on every request, and ended ones are deleted
        // (here, and at logout); `secure_delete` clears the database file, but the row's earlier
        // versions (with the searches the desk typed) stay in the write-ahead log until it is
        // emptied. Emptied here, every ten minutes (PostgreSQL: a no-op; README, VACUUM).
        crate::services::retention::compact(&db).await;
    }
}

/// Removes audit records past the audit retention period now, then daily (the database itself
/// refuses to delete younger ones).
async fn keep_audit_retention(db: DatabaseConnection, clock: Clock) {
    let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        tick.tick().await;
        if let Err(err) = audit::remove_expired(&db, &clock).await {
            tracing::error!(error = ?err, "removing old audit records failed");
        }
    }
}

/// Removes expired personal data daily at `TERMINBUCH_RETENTION_RUN_AT` (local time), and once
/// shortly after start when the last run due was not made (the service was not running then: a
/// machine switched off at night, a restart across the run time). Waits in real time; the day
/// it acts for is the service clock's. A run another process recorded already is not made again.
async fn keep_retention(state: AppState) {
    let settings = &state.settings;
    tokio::time::sleep(settings.retention_catch_up_after).await;
    let due = crate::domain::retention::last_due_day(state.clock.now(), settings.retention_run_at, settings.time_zone);
    retain_or_retry(&state, due).await;
    loop {
        let now = chrono::Utc::now();
        let next = crate::domain::retention::next_run(now, settings.retention_run_at, settings.time_zone);
        tokio::time::sleep((next - now).to_std().unwrap_or(Duration::from_secs(60))).await;
        retain_or_retry(&state, crate::services::retention::today(state.clock.now(), settings.time_zone)).await;
    }
}

/// How many times a failed retention run is tried again before the next run time.
const RETENTION_RETRIES: u32 = 6;

/// [`retain`], tried again after a failure (the database busy or away at 03:00): after
/// `retention_retry_after`, then four times as long each time, at most an hour, so a day's
/// erasure is not put off to the next day. Each failure is recorded in the audit.
async fn retain_or_retry(state: &AppState, due: chrono::NaiveDate) {
    let mut wait = state.settings.retention_retry_after;
    for attempt in 1..=RETENTION_RETRIES + 1 {
        let Err(err) = retain(state, due).await else { return };
        let again = (attempt <= RETENTION_RETRIES).then_some(wait);
        tracing::error!(error = ?err, attempt, next_try_in_seconds = again.map(|w| w.as_secs()), "the retention run failed");
        let as_of = crate::services::retention::today(state.clock.now(), state.settings.time_zone);
        if let Err(err) =
            crate::services::retention::record_failed_run(&state.db, &state.clock, as_of, attempt, again).await
        {
            tracing::warn!(error = ?err, "the failed retention run could not be recorded");
        }
        let Some(wait_now) = again else { return };
        tokio::time::sleep(wait_now).await;
        wait = (wait * 4).min(Duration::from_secs(3600));
    }
}

/// The retention run for today, unless one for `due` or later is recorded.
async fn retain(state: &AppState, due: chrono::NaiveDate) -> Result<(), crate::services::ServiceError> {
    let settings = &state.settings;
    let run = crate::services::retention::RetentionRun {
        as_of: crate::services::retention::today(state.clock.now(), settings.time_zone),
        dry_run: false,
        tz: settings.time_zone,
        data_dir: &settings.data_dir,
    };
    match crate::services::retention::run_unless_recorded(&state.db, &state.clock, run, due).await? {
        Some(_) => {}
        None => tracing::debug!(%due, "the retention run due was made already"),
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_password_is_never_shown_in_either_form() {
        assert_eq!(redact("postgres://tb:Secret9@db:5432/tb"), "postgres://tb:***@db:5432/tb");
        assert_eq!(
            redact("postgres://tb@db:5432/tb?sslmode=require&password=Secret9&PASSWORD=x&sslpassword=k"),
            "postgres://tb@db:5432/tb?sslmode=require&password=***&PASSWORD=***&sslpassword=***"
        );
        assert_eq!(redact("postgres://tb:a@b@db/tb?password=c"), "postgres://tb:***@db/tb?password=***");
        assert_eq!(redact("sqlite://data/terminbuch.db?mode=rwc"), "sqlite://data/terminbuch.db?mode=rwc");
    }
}
