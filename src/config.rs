//! Settings from command-line flags and the environment, typed and validated at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::Args;

use crate::domain::holidays::{HolidayCalendar, MonthDay};

/// The embedded default database: a SQLite file under `data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/terminbuch.db?mode=rwc";

/// Every setting of the service. Built by clap from flags and environment variables.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Address the HTTP server listens on (host:port).
    #[arg(long, env = "TERMINBUCH_LISTEN", default_value = "127.0.0.1:3000", global = true,
          value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// Base URL printed for people and used in links; defaults to `http://LISTEN`.
    #[arg(long, env = "TERMINBUCH_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// IANA time zone all local times are shown and entered in.
    #[arg(long, env = "TERMINBUCH_TIME_ZONE", default_value = "Europe/Berlin", global = true,
          value_parser = parse_tz)]
    pub time_zone: Tz,

    /// How many weeks ahead counselling hours are materialised as slots.
    #[arg(long, env = "TERMINBUCH_SLOT_HORIZON_WEEKS", default_value_t = 12, global = true,
          value_parser = clap::value_parser!(u32).range(1..=104))]
    pub slot_horizon_weeks: u32,

    /// Closure days every year besides public holidays, as `MM-DD` list (e.g. `12-24,12-31`).
    #[arg(long, env = "TERMINBUCH_EXTRA_CLOSURE_DAYS", default_value = "12-24,12-31", global = true,
          value_parser = parse_extra_days)]
    pub extra_closure_days: ExtraDays,

    /// Largest number of pooled database connections.
    #[arg(long, env = "TERMINBUCH_DB_MAX_CONNECTIONS", global = true,
          value_parser = clap::value_parser!(u32).range(1..=200))]
    pub db_max_connections: Option<u32>,

    /// Folder for files the service writes (e.g. the default SQLite database, mail files).
    #[arg(long, env = "TERMINBUCH_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Seed demo data into an empty database at start (default: only for the embedded default).
    #[arg(long, env = "TERMINBUCH_DEMO_SEED", global = true)]
    pub demo_seed: Option<bool>,

    /// Send `Secure` cookies (turn off only for plain-http development).
    #[arg(long, env = "TERMINBUCH_SECURE_COOKIES", default_value_t = false, global = true)]
    pub secure_cookies: bool,
}

/// The validated list of extra closure days.
#[derive(Debug, Clone)]
pub struct ExtraDays(pub Vec<MonthDay>);

impl Settings {
    /// Settings for tests: an ephemeral port and the given database.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            time_zone: chrono_tz::Europe::Berlin,
            slot_horizon_weeks: 12,
            extra_closure_days: ExtraDays(HolidayCalendar::parse_extra_days("12-24,12-31").unwrap_or_default()),
            db_max_connections: None,
            data_dir: std::env::temp_dir(),
            demo_seed: Some(false),
            secure_cookies: false,
        }
    }

    /// The public holidays plus the configured extra closure days.
    pub fn holiday_calendar(&self) -> HolidayCalendar {
        HolidayCalendar::new(self.extra_closure_days.0.clone())
    }

    /// Whether the database URL is the embedded default (a SQLite file).
    pub fn uses_embedded_default(&self) -> bool {
        self.database_url == DEFAULT_DATABASE_URL
    }

    /// The URL people open, e.g. `http://127.0.0.1:3000`.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| format!("TERMINBUCH_LISTEN must be host:port, e.g. 127.0.0.1:3000 (got {value:?})"))
}

fn parse_tz(value: &str) -> Result<Tz, String> {
    value
        .parse()
        .map_err(|_| format!("TERMINBUCH_TIME_ZONE must be an IANA zone such as Europe/Berlin (got {value:?})"))
}

fn parse_extra_days(value: &str) -> Result<ExtraDays, String> {
    HolidayCalendar::parse_extra_days(value)
        .map(ExtraDays)
        .map_err(|err| format!("TERMINBUCH_EXTRA_CLOSURE_DAYS: {err}"))
}
