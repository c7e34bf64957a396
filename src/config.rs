//! Settings from command-line flags and the environment, typed and validated at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::Args;
use lettre::message::Mailbox;

use crate::domain::accounts::RequireMfa;
use crate::domain::holidays::{HolidayCalendar, MonthDay};

mod parse;

pub use parse::TrustedProxies;
use parse::{
    parse_extra_days, parse_listen, parse_mailbox_from, parse_mailbox_reply_to, parse_metrics_listen, parse_public_url,
    parse_require_mfa, parse_run_at, parse_smtp_host, parse_trusted_proxies, parse_tz,
};

/// The embedded default database: a SQLite file under `data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/terminbuch.db?mode=rwc";

/// How far ahead slots are ever stored, in weeks: the longest rolling horizon, and the limit of
/// `terminbuch slots generate --until`.
pub const MAX_SLOT_HORIZON_WEEKS: u32 = 104;

/// Every setting of the service. Built by clap from flags and environment variables.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    /// (A password in it is not shown by `--help`.)
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Address the HTTP server listens on (host:port).
    #[arg(long, env = "TERMINBUCH_LISTEN", default_value = "127.0.0.1:3000", global = true,
          value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// Base URL printed for people and used in links; defaults to `http://LISTEN`.
    #[arg(long, env = "TERMINBUCH_PUBLIC_URL", global = true, value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// IANA time zone all local times are shown and entered in.
    #[arg(long, env = "TERMINBUCH_TIME_ZONE", default_value = "Europe/Berlin", global = true,
          value_parser = parse_tz)]
    pub time_zone: Tz,

    /// How many weeks ahead counselling hours are materialised as slots.
    #[arg(long, env = "TERMINBUCH_SLOT_HORIZON_WEEKS", default_value_t = 12, global = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SLOT_HORIZON_WEEKS)))]
    pub slot_horizon_weeks: u32,

    /// Closure days every year besides public holidays, as `MM-DD` list (e.g. `12-24,12-31`).
    #[arg(long, env = "TERMINBUCH_EXTRA_CLOSURE_DAYS", default_value = "12-24,12-31", global = true,
          value_parser = parse_extra_days)]
    pub extra_closure_days: ExtraDays,

    /// Largest number of pooled database connections.
    #[arg(long, env = "TERMINBUCH_DB_MAX_CONNECTIONS", global = true,
          value_parser = clap::value_parser!(u32).range(1..=200))]
    pub db_max_connections: Option<u32>,

    /// Folder for files the service writes (emails written as files under `mail/`). The default
    /// SQLite database is `data/terminbuch.db` relative to the working directory whatever this
    /// says: set `DATABASE_URL` to put it elsewhere.
    #[arg(long, env = "TERMINBUCH_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Seed demo data into an empty database at start (default: only for the embedded default).
    #[arg(long, env = "TERMINBUCH_DEMO_SEED", global = true)]
    pub demo_seed: Option<bool>,

    /// How long staff data is kept in memory, in milliseconds: a valid API token with its owner's
    /// roles, and each unit's counsellors (0: read them on every request). A revoked token, a
    /// changed role or staff added by another process take effect after it.
    #[arg(long, env = "TERMINBUCH_TOKEN_CACHE_MS", default_value_t = 2000, global = true,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub token_cache_ms: u64,

    /// Send the session cookie with `Secure`. Unset: yes when `TERMINBUCH_PUBLIC_URL` is https, or
    /// (without a public URL) when listening on anything but loopback; see [`Settings::secure_cookies`].
    #[arg(long = "secure-cookies", env = "TERMINBUCH_SECURE_COOKIES", global = true)]
    pub secure_cookies_setting: Option<bool>,

    /// Separate address serving `GET /metrics` without a token (host:port); unset: `/metrics` is
    /// on the main address and needs an administrator's bearer token.
    #[arg(long, env = "TERMINBUCH_METRICS_LISTEN", global = true, value_parser = parse_metrics_listen)]
    pub metrics_listen: Option<SocketAddr>,

    /// Log lines as `text` (human-readable; colours only on a terminal) or `json` (one object per line).
    #[arg(long, env = "TERMINBUCH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Who must log in with a second factor (TOTP): `none`, `admin`, `lead` (admins and unit
    /// leads) or `all`. Such a person without one enrols at login before using the desk.
    #[arg(long, env = "TERMINBUCH_REQUIRE_MFA", default_value = "admin", global = true,
          value_parser = parse_require_mfa)]
    pub require_mfa: RequireMfa,
    /// Days audit records are kept (at least 30); the server stores the period in the database,
    /// whose triggers refuse to delete younger records, and removes older ones daily.
    #[arg(long, env = "TERMINBUCH_AUDIT_RETENTION_DAYS", default_value_t = 730, global = true,
          value_parser = clap::value_parser!(u32).range(30..=36_500))]
    pub audit_retention_days: u32,
    /// Local time of day (`HH:MM`) of the daily retention run, which removes the personal data
    /// of bookings past their unit's retention (`terminbuch retention run` does it at once).
    #[arg(long, env = "TERMINBUCH_RETENTION_RUN_AT", default_value = "03:00", global = true,
          value_parser = parse_run_at)]
    pub retention_run_at: chrono::NaiveTime,
    /// How long after start the server makes a retention run it missed (it was not running at
    /// the last run time); not a setting of its own (tests shorten it).
    #[arg(skip = std::time::Duration::from_secs(600))]
    pub retention_catch_up_after: std::time::Duration,
    /// How long after a failed retention run it is tried again, four times longer after each
    /// further failure (at most an hour); not a setting of its own (tests shorten it).
    #[arg(skip = std::time::Duration::from_secs(60))]
    pub retention_retry_after: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed: comma-separated IP addresses or CIDR
    /// ranges (e.g. `127.0.0.1,10.20.0.0/16`); default none (the connecting address counts).
    #[arg(long, env = "TERMINBUCH_TRUSTED_PROXIES", default_value = "", global = true,
          value_parser = parse_trusted_proxies)]
    pub trusted_proxies: TrustedProxies,

    /// How long a client may take to send a request's headers, in milliseconds; a connection
    /// that has not sent them by then (also an idle kept-alive one) is closed. A reverse proxy
    /// that keeps connections to the service open should close idle ones sooner.
    #[arg(long, env = "TERMINBUCH_HEADER_READ_TIMEOUT_MS", default_value_t = 30_000, global = true,
          value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub header_read_timeout_ms: u64,

    #[command(flatten)]
    pub mail: MailSettings,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How emails to citizens are sent. Without `TERMINBUCH_SMTP_HOST` they are written as `.eml`
/// files under `DATA_DIR/mail/`.
#[derive(Debug, Clone, Args)]
pub struct MailSettings {
    /// SMTP server; unset: write `.eml` files under the data folder instead of sending.
    #[arg(long, env = "TERMINBUCH_SMTP_HOST", global = true, value_parser = parse_smtp_host)]
    pub smtp_host: Option<String>,

    /// SMTP port (default: 587 for starttls, 465 for tls, 25 for none).
    #[arg(long, env = "TERMINBUCH_SMTP_PORT", global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub smtp_port: Option<u16>,

    /// `starttls`, `tls` (implicit TLS) or `none` (plain; only for a loopback host).
    #[arg(long, env = "TERMINBUCH_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurity::Starttls, global = true)]
    pub smtp_security: SmtpSecurity,

    #[arg(long, env = "TERMINBUCH_SMTP_USER", global = true)]
    pub smtp_user: Option<String>,

    #[arg(long, env = "TERMINBUCH_SMTP_PASSWORD", hide_env_values = true, global = true)]
    pub smtp_password: Option<String>,

    /// Sender, e.g. `Landeshauptstadt Hannover <termine@example.org>`; the display name is what
    /// confidential units' emails show.
    #[arg(long, env = "TERMINBUCH_MAIL_FROM", default_value = "Landeshauptstadt Hannover <terminbuch@localhost>",
          global = true, value_parser = parse_mailbox_from)]
    pub mail_from: Mailbox,

    /// Optional Reply-To address.
    #[arg(long, env = "TERMINBUCH_MAIL_REPLY_TO", global = true, value_parser = parse_mailbox_reply_to)]
    pub mail_reply_to: Option<Mailbox>,

    /// Longest wait between two delivery attempts, in seconds.
    #[arg(long, env = "TERMINBUCH_MAIL_MAX_BACKOFF_SECS", default_value_t = 1800, global = true,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub mail_max_backoff_secs: u32,

    /// How long after it was queued an email is still retried, in hours; then it is marked failed.
    #[arg(long, env = "TERMINBUCH_MAIL_RETRY_HORIZON_HOURS", default_value_t = 48, global = true,
          value_parser = clap::value_parser!(u32).range(1..=720))]
    pub mail_retry_horizon_hours: u32,

    /// Reminders go out this many hours before the appointment.
    #[arg(long, env = "TERMINBUCH_REMINDER_LEAD_HOURS", default_value_t = 24, global = true,
          value_parser = clap::value_parser!(u32).range(1..=336))]
    pub reminder_lead_hours: u32,

    /// Connection and per-command timeout towards the SMTP server, in seconds.
    #[arg(long, env = "TERMINBUCH_SMTP_TIMEOUT_SECS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u32).range(1..=600))]
    pub smtp_timeout_secs: u32,

    /// How often the dispatcher looks for due emails, in milliseconds.
    #[arg(long, env = "TERMINBUCH_MAIL_POLL_MS", default_value_t = 2000, global = true,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub mail_poll_ms: u64,
}

/// Transport security towards the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

impl MailSettings {
    /// Defaults for tests: `.eml` files, a short timeout and a fast poll.
    pub fn for_tests() -> Self {
        Self {
            smtp_host: None,
            smtp_port: None,
            smtp_security: SmtpSecurity::None,
            smtp_user: None,
            smtp_password: None,
            mail_from: "Landeshauptstadt Hannover <terminbuch@example.org>".parse().expect("a valid test sender"),
            mail_reply_to: None,
            mail_max_backoff_secs: 1,
            mail_retry_horizon_hours: 48,
            reminder_lead_hours: 24,
            smtp_timeout_secs: 2,
            mail_poll_ms: 50,
        }
    }

    /// Checks what clap cannot: plain SMTP only towards a loopback host.
    ///
    /// # Errors
    /// A message naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(host), SmtpSecurity::None) = (&self.smtp_host, self.smtp_security) {
            let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(format!(
                    "TERMINBUCH_SMTP_SECURITY=none is allowed only for a loopback TERMINBUCH_SMTP_HOST \
                     (got {host:?}); use starttls or tls"
                ));
            }
        }
        if self.smtp_user.is_some() != self.smtp_password.is_some() {
            return Err("TERMINBUCH_SMTP_USER and TERMINBUCH_SMTP_PASSWORD must be set together".to_owned());
        }
        Ok(())
    }
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
            secure_cookies_setting: None,
            token_cache_ms: 2000,
            metrics_listen: None,
            log_format: LogFormat::Text,
            require_mfa: RequireMfa::Admin,
            audit_retention_days: 730,
            retention_run_at: chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap_or_default(),
            retention_catch_up_after: std::time::Duration::from_secs(600),
            retention_retry_after: std::time::Duration::from_secs(60),
            trusted_proxies: TrustedProxies::default(),
            header_read_timeout_ms: 30_000,
            mail: MailSettings::for_tests(),
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

    /// Whether the session cookie carries `Secure`: as `TERMINBUCH_SECURE_COOKIES` says; unset, when
    /// people reach the service through HTTPS (`TERMINBUCH_PUBLIC_URL` is `https://…`), or, without
    /// a public URL, when it listens on anything but loopback (a browser keeps `Secure` cookies
    /// over plain HTTP only from loopback, so the default `http://127.0.0.1:3000` keeps working).
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies_setting.unwrap_or_else(|| match &self.public_url {
            Some(_) => self.served_over_https(),
            None => !self.listen.ip().is_loopback(),
        })
    }

    /// Whether `TERMINBUCH_PUBLIC_URL` is an `https://` URL.
    pub fn served_over_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"))
    }

    /// The URL people open, e.g. `http://127.0.0.1:3000`, without a trailing `/` (paths are
    /// put after it: one typed with it gave `//api/docs`).
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url.as_deref().map_or_else(|| format!("http://{bound}"), |url| url.trim_end_matches('/').to_owned())
    }

    /// The base of links given out for use elsewhere (a calendar subscription): the public URL
    /// without a trailing `/`, or without one `http://` and the `Host` the request was sent to
    /// (only if it looks like a host name or address with a port), or nothing (a path only).
    pub fn link_base(&self, request_host: Option<&str>) -> String {
        match (&self.public_url, request_host) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(host))
                if !host.is_empty()
                    && host.len() <= 255
                    && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)) =>
            {
                format!("http://{host}")
            }
            (None, _) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_secure_unless_people_come_over_plain_http_to_loopback() {
        let secure = |listen: [u8; 4], public_url: Option<&str>, setting: Option<bool>| {
            let mut settings = Settings::for_tests("sqlite::memory:");
            settings.listen = SocketAddr::from((listen, 3000));
            settings.public_url = public_url.map(str::to_owned);
            settings.secure_cookies_setting = setting;
            settings.secure_cookies()
        };
        assert!(!secure([127, 0, 0, 1], None, None), "the default http://127.0.0.1:3000 keeps working");
        assert!(secure([0, 0, 0, 0], None, None), "reachable from other machines");
        assert!(secure([127, 0, 0, 1], Some("https://termine.hannover.example"), None), "behind a TLS proxy");
        assert!(!secure([10, 0, 0, 5], Some("http://termine.intranet"), None), "a plain-http public URL");
        assert!(!secure([0, 0, 0, 0], None, Some(false)), "explicitly off");
        assert!(secure([127, 0, 0, 1], None, Some(true)), "explicitly on");
    }

    #[test]
    fn links_use_the_public_url_or_a_plausible_host() {
        let mut settings = Settings::for_tests("sqlite::memory:");
        settings.public_url = None;
        assert_eq!(settings.link_base(Some("127.0.0.1:3000")), "http://127.0.0.1:3000");
        assert_eq!(settings.link_base(Some("[::1]:3000")), "http://[::1]:3000");
        assert_eq!(settings.link_base(Some("evil.example/x?y")), "", "not a host");
        assert_eq!(settings.link_base(None), "");
        settings.public_url = Some("https://termine.hannover.example/".into());
        assert_eq!(settings.link_base(Some("other.example")), "https://termine.hannover.example");
        let bound = "127.0.0.1:3000".parse().expect("address");
        assert_eq!(settings.public_url_for(bound), "https://termine.hannover.example", "no // before a path");
        settings.public_url = None;
        assert_eq!(settings.public_url_for(bound), "http://127.0.0.1:3000");
    }
}
