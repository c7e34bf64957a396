//! The command line: `serve` (default), `migrate`, `seed --demo`, `user add|list|deactivate|
//! activate|remove-role|reset-password|reset-mfa`, `token create|list|revoke`, `slots generate`,
//! `mail dispatch [--once]`, `retention run [--as-of] [--dry-run]`, `backup --to`, `restore --from` (`restore --carry-from` for PostgreSQL). Operators' scripts rely on these names; see README.md.

mod accounts;
mod privacy;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::time::{horizon_until, local_date};
use crate::mail::Dispatcher;
use crate::services::{schedule, seed};
use crate::startup::{Application, Dependencies, bootstrap};

/// terminbuch: appointment book for public counselling services.
#[derive(Debug, Parser)]
#[command(name = "terminbuch", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses flags and environment; a bad value exits with clap's message, which names the
    /// environment variable too when the value came from one (clap itself names only the flag).
    pub fn parse_or_exit() -> Self {
        match Self::try_parse() {
            Ok(cli) => cli,
            Err(err) => {
                if let Some(variable) = variable_of(&err) {
                    let message = err.to_string();
                    let message = message.trim_end();
                    eprintln!("error: {variable} (environment variable): {}", message.trim_start_matches("error: "));
                    std::process::exit(2);
                }
                err.exit()
            }
        }
    }
}

/// The environment variable that supplied the value `err` complains about, if one did.
fn variable_of(err: &clap::Error) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(err.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        return None;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else { return None };
    let long = arg.trim_start_matches('-').split([' ', '=']).next()?;
    let command = Cli::command();
    let variable = command.get_arguments().find(|a| a.get_long() == Some(long))?.get_env()?.to_str()?.to_owned();
    std::env::var_os(&variable).is_some().then_some(variable)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default): migrate, bootstrap, serve.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load data into the database.
    Seed {
        /// The department's units with invented counsellors and counselling hours (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Manage staff logins.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage stored slots.
    Slots {
        #[command(subcommand)]
        command: SlotsCommand,
    },
    /// Emails to citizens.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Retention of personal data.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Write a consistent copy of the running SQLite database to a new file.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Replace the SQLite database by a backup (refused while a server uses it); or, for
    /// PostgreSQL, after `pg_restore` filled `DATABASE_URL` from a dump, carry the audit and the
    /// erasures on request made since the dump over from the database it replaced.
    Restore {
        /// SQLite: the backup file.
        #[arg(long, required_unless_present = "carry_from", conflicts_with = "carry_from")]
        from: Option<std::path::PathBuf>,
        /// PostgreSQL: the URL of the replaced database (renamed, kept until this ran).
        #[arg(long)]
        carry_from: Option<String>,
        /// SQLite: restore where there is no database to replace (it was lost, or moved away
        /// because it could not be read). Nothing recorded since the backup is carried over then.
        #[arg(long, requires = "from")]
        without_replaced: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send due emails (and queue due reminders); with `--once`, one pass and exit.
    Dispatch {
        /// One pass over the due emails, then exit (for a timer instead of a running sender).
        #[arg(long)]
        once: bool,
    },
}

pub use accounts::{TokenCommand, UserCommand};
pub use privacy::RetentionCommand;

#[derive(Debug, Subcommand)]
pub enum SlotsCommand {
    /// Materialise slots of all units up to a date (beyond the rolling horizon).
    Generate {
        /// Last local day, YYYY-MM-DD, at most 104 weeks ahead.
        #[arg(long, value_parser = parse_cli_date)]
        until: NaiveDate,
    },
}

/// A date argument, read like every date a client sends (`domain::time::parse_date`).
pub fn parse_cli_date(value: &str) -> Result<NaiveDate, String> {
    crate::domain::time::parse_date(value).map_err(|err| err.to_string())
}

/// Runs one command.
///
/// # Errors
/// Whatever the command failed with, for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    let command = cli.command.unwrap_or(Command::Serve);
    // A restore must not open the database it replaces.
    match &command {
        Command::Restore { from: Some(from), without_replaced, .. } => {
            return privacy::restore(&settings, from, *without_replaced).await;
        }
        Command::Restore { carry_from: Some(replaced), .. } => {
            return privacy::carry_after_restore(&settings, replaced).await;
        }
        _ => {}
    }
    // A backup or retention run of a SQLite file that is not there would create it empty first.
    if let Command::Backup { .. } | Command::Retention { .. } = &command {
        privacy::require_existing_database(
            &settings,
            if matches!(command, Command::Backup { .. }) { "backup" } else { "retention" },
        )?;
    }
    // Held while this process has the database open: `terminbuch restore` refuses to replace a
    // SQLite file under it, and nothing opens the file while a restore replaces it.
    let _in_use = match privacy::use_sqlite(&settings.database_url) {
        Ok(lock) => lock,
        Err(err) if err.root_cause().is::<privacy::Busy>() => return Err(err),
        Err(err) => {
            tracing::warn!(error = %err, "cannot hold the SQLite lock file; `terminbuch restore` cannot tell this process uses the database");
            None
        }
    };
    let deps = Dependencies::from_settings(&settings).await?;
    match command {
        Command::Restore { .. } => unreachable!("handled above"),
        Command::Backup { to } => privacy::backup(&settings, &deps, &to).await,
        Command::Retention { command } => {
            crate::startup::migrate(&deps.db).await?;
            privacy::run_retention(&settings, &deps, command).await
        }
        Command::Serve => serve(settings, deps).await,
        Command::Migrate => {
            crate::startup::migrate(&deps.db).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Seed { demo } => {
            if !demo {
                bail!("nothing to seed: use `terminbuch seed --demo`");
            }
            crate::startup::migrate(&deps.db).await?;
            let today = local_date(deps.clock.now(), settings.time_zone);
            let seeded = seed::demo(&deps.db, &deps.clock, today).await?;
            let calendar = settings.holiday_calendar();
            let until = horizon_until(deps.clock.now(), settings.time_zone, settings.slot_horizon_weeks);
            schedule::regenerate_all(&deps.db, &calendar, settings.time_zone, until, deps.clock.now()).await?;
            eprintln!(
                "demo data: {} units, {} staff, {} counselling hours added",
                seeded.units, seeded.staff, seeded.rules
            );
            Ok(())
        }
        Command::User { command } => {
            crate::startup::migrate(&deps.db).await?;
            accounts::run_user(&settings, &deps, command).await
        }
        Command::Token { command } => {
            crate::startup::migrate(&deps.db).await?;
            accounts::run_token(&settings, &deps, command).await
        }
        Command::Mail { command: MailCommand::Dispatch { once } } => dispatch_mail(&settings, deps, once).await,
        Command::Slots { command: SlotsCommand::Generate { until } } => {
            // A typo (2207 for 2027) would store a slot per hour for centuries, and each later
            // refresh and change of hours would walk them all.
            let weeks = crate::config::MAX_SLOT_HORIZON_WEEKS;
            let limit = horizon_until(deps.clock.now(), settings.time_zone, weeks);
            if until > limit {
                bail!("--until {until} is more than {weeks} weeks ahead (at most {limit}); nothing was generated");
            }
            // A past day (a typo of the year) would generate nothing and say so as if done.
            let today = local_date(deps.clock.now(), settings.time_zone);
            if until < today {
                bail!("--until {until} is in the past (today is {today}); nothing was generated");
            }
            let calendar = settings.holiday_calendar();
            let done =
                schedule::regenerate_all(&deps.db, &calendar, settings.time_zone, until, deps.clock.now()).await?;
            eprintln!(
                "slots up to {until}: {} rules, {} slots wanted, {} unbooked removed",
                done.rules, done.slots_wanted, done.slots_removed
            );
            Ok(())
        }
    }
}

async fn dispatch_mail(settings: &Settings, deps: Dependencies, once: bool) -> anyhow::Result<()> {
    crate::startup::migrate(&deps.db).await?;
    let dispatcher = Dispatcher::new(deps.db, deps.clock, settings).context("setting up email")?;
    if !once {
        dispatcher.run_until(crate::startup::shutdown_signal()).await;
        return Ok(());
    }
    let report = dispatcher.run_once().await?;
    eprintln!(
        "mail: {} sent, {} to retry, {} failed, {} skipped, {} reminders queued",
        report.sent, report.retrying, report.failed, report.skipped, report.reminders_queued
    );
    Ok(())
}

async fn serve(settings: Settings, deps: Dependencies) -> anyhow::Result<()> {
    // Held while the server runs: `terminbuch restore` refuses to replace the file meanwhile.
    let _lock = match privacy::lock_sqlite(&settings.database_url) {
        Ok(lock) => lock,
        // A second server on the file would go on after the first stopped, unseen by
        // `terminbuch restore`, which would then replace the file under it.
        Err(err) if err.is::<privacy::InUse>() => {
            return Err(err.context("a SQLite database belongs to one server process; not started"));
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot hold the SQLite lock file; `terminbuch restore` cannot tell this server runs");
            None
        }
    };
    // Bind first: if the port is taken, nothing is created whose one-time password is lost.
    let app = Application::build(settings.clone(), deps.clone()).await?;
    let report = bootstrap(&settings, &deps).await?;
    let url = settings.public_url_for(app.local_addr()?);
    eprintln!("terminbuch läuft / is running: {url}");
    eprintln!("API docs: {url}/api/docs");
    match app.metrics_addr()? {
        Some(addr) => eprintln!("Metrics: http://{addr}/metrics"),
        None => eprintln!("Metrics: {url}/metrics (an administrator's API token)"),
    }
    if report.seeded {
        eprintln!("Demo-Daten angelegt / demo data loaded");
    }
    if let Some((login, password)) = &report.first_admin {
        eprintln!("Erster Start / first start: administrator created, shown only once:");
        eprintln!("  Login: {login}");
        eprintln!("  Passwort / password: {password}");
        eprintln!("  API token: terminbuch token create --login {login}");
    }
    app.run_until_stopped().await
}
