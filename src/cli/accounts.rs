//! `terminbuch user …` and `terminbuch token …`: the operator's side of the staff lifecycle. The
//! operator acts with every right an admin has; each change is audited as the operator's.

use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::Subcommand;

use crate::config::Settings;
use crate::domain::accounts::{DEFAULT_TOKEN_DAYS, StaffAccount, TokenInfo};
use crate::domain::holidays::HolidayCalendar;
use crate::domain::ids::UnitId;
use crate::domain::language::Language;
use crate::services::accounts::{self, Accounts, ByWhom};
use crate::services::directory::{self, CounsellorCache, StaffInput, StaffRole};
use crate::services::schedule::SlotPlan;
use crate::services::tokens::{self, TokenCache, TokenSpec};
use crate::services::{mfa, passwords};
use crate::startup::Dependencies;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff member, or add a role to an existing one (its password stays as it is).
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// admin, unit_lead, counsellor or front_desk.
        #[arg(long)]
        role: String,
        /// Unit slug or id (required except for admin).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Comma-separated language codes, e.g. de,tr.
        #[arg(long, value_delimiter = ',', value_parser = parse_language)]
        languages: Vec<Language>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List staff: login, name, roles, active, second factor, last login.
    List,
    /// Deactivate a person: their sessions and API tokens end.
    Deactivate {
        #[arg(long)]
        login: String,
    },
    /// Reactivate a person (their API tokens stay revoked).
    Activate {
        #[arg(long)]
        login: String,
    },
    /// Take a role away: admin, or a role in a unit.
    RemoveRole {
        #[arg(long)]
        login: String,
        /// admin, unit_lead, counsellor or front_desk.
        #[arg(long)]
        role: String,
        /// Unit slug or id (required except for admin).
        #[arg(long)]
        unit: Option<String>,
    },
    /// Print a one-time password reset link for a person (valid 24 hours).
    ResetPassword {
        #[arg(long)]
        login: String,
    },
    /// Remove a person's second factor (they enrol again at the next login).
    ResetMfa {
        #[arg(long)]
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a staff member; prints only the token.
    Create {
        #[arg(long)]
        login: String,
        /// Name or purpose of the token.
        #[arg(long, alias = "name", default_value = "cli")]
        label: String,
        /// Days until the token expires (1 to 365).
        #[arg(long, default_value_t = DEFAULT_TOKEN_DAYS)]
        expires_in_days: u32,
    },
    /// List a staff member's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        login: String,
    },
    /// Revoke one token by id, or all tokens of a staff member.
    /// (`--id ID`, or `--login LOGIN --all`: checked by the command, which says which to give).
    Revoke {
        #[arg(long)]
        id: Option<i32>,
        #[arg(long)]
        login: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

/// This process's caches (none: the command reads the database and exits), and what the slots
/// of a person who stops or starts counselling again need.
struct Caches {
    tokens: TokenCache,
    counsellors: CounsellorCache,
    calendar: HolidayCalendar,
    tz: Tz,
    horizon_weeks: u32,
}

impl Caches {
    fn new(settings: &Settings, deps: &Dependencies) -> Self {
        Self {
            tokens: TokenCache::new(Duration::ZERO, deps.clock.clone()),
            counsellors: CounsellorCache::off(),
            calendar: settings.holiday_calendar(),
            tz: settings.time_zone,
            horizon_weeks: settings.slot_horizon_weeks,
        }
    }

    fn accounts<'a>(&'a self, deps: &'a Dependencies) -> Accounts<'a> {
        Accounts {
            db: &deps.db,
            clock: &deps.clock,
            tokens: &self.tokens,
            counsellors: &self.counsellors,
            slots: SlotPlan { calendar: &self.calendar, tz: self.tz, horizon_weeks: self.horizon_weeks },
        }
    }
}

/// `login` as stored (it may be typed in any case), for what a command prints.
async fn stored_login(deps: &Dependencies, login: String) -> anyhow::Result<String> {
    Ok(crate::store::directory::find_login_ignoring_case(&deps.db, &login).await?.unwrap_or(login))
}

/// A supported language code of `--languages`.
fn parse_language(code: &str) -> Result<Language, String> {
    Language::parse(code.trim()).map_err(|err| err.to_string())
}

fn parse_role(role: &str) -> anyhow::Result<StaffRole> {
    StaffRole::parse(role)
        .with_context(|| format!("--role must be admin, unit_lead, counsellor or front_desk (got {role:?})"))
}

/// Runs a `user` command.
///
/// # Errors
/// What the command failed with.
pub async fn run_user(settings: &Settings, deps: &Dependencies, command: UserCommand) -> anyhow::Result<()> {
    let caches = Caches::new(settings, deps);
    let a = caches.accounts(deps);
    let by = ByWhom::Operator;
    match command {
        UserCommand::Add { login, name, role, unit, email, languages, password_stdin } => {
            let role = parse_role(&role)?;
            if let (StaffRole::Admin, Some(unit)) = (&role, &unit) {
                eprintln!("note: --unit {unit} is left aside: an admin works in every unit");
            }
            let password = if password_stdin { Some(read_password()?) } else { None };
            let input = StaffInput { login, display_name: name, email, languages, role, unit, password };
            let added = directory::add_staff(&deps.db, &deps.clock, input).await?;
            let member = &added.member;
            match (added.created, added.role_added) {
                (true, _) => {
                    eprintln!("staff member {} ({}) added as {}", member.login, member.display_name, role.as_str())
                }
                (false, true) => {
                    eprintln!("role {} added to {}; the password is unchanged", role.as_str(), member.login)
                }
                (false, false) => eprintln!("{} has the role {} already; nothing changed", member.login, role.as_str()),
            }
            if let Some(password) = added.password {
                eprintln!("the generated password must be changed at the first login:");
                println!("{password}");
            }
        }
        UserCommand::List => {
            let units = directory::list_units(&deps.db).await?;
            let slugs: HashMap<UnitId, String> = units.into_iter().map(|u| (u.id, u.slug)).collect();
            print_accounts(&accounts::list(a, by).await?, &slugs, settings.time_zone);
        }
        UserCommand::Deactivate { login } => {
            let was_active = accounts::find(a, by, &login).await?.member.active;
            let login = accounts::deactivate(a, by, &login).await?.member.login;
            if was_active {
                eprintln!(
                    "{login} deactivated: web sessions, API tokens, reset links, the calendar subscription and \
                     known browsers ended"
                );
            } else {
                eprintln!("{login} was deactivated already; nothing changed");
            }
        }
        UserCommand::Activate { login } => {
            let was_active = accounts::find(a, by, &login).await?.member.active;
            let login = accounts::activate(a, by, &login).await?.member.login;
            if was_active {
                eprintln!("{login} is active already; nothing changed");
            } else {
                eprintln!(
                    "{login} active again: must choose a new password at the next login (API tokens stay revoked)"
                );
            }
        }
        UserCommand::RemoveRole { login, role, unit } => {
            let role = parse_role(&role)?;
            let account = accounts::remove_role(a, by, &login, role, unit.as_deref()).await?;
            eprintln!("role {} taken from {}", role.as_str(), account.member.login);
        }
        UserCommand::ResetPassword { login } => {
            let link = passwords::create_reset_link(a, by, &login).await?;
            let login = stored_login(deps, login).await?;
            let base = settings.public_url_for(settings.listen);
            eprintln!("one-time link for {login}, valid until {}:", local(link.expires_at, settings.time_zone));
            println!("{}", link.url(&base));
            if link.password_cleared {
                eprintln!("{login} is inactive: the current password no longer works; only this link lets them in");
            }
        }
        UserCommand::ResetMfa { login } => {
            let reset = mfa::reset(a, by, &login).await?;
            let login = stored_login(deps, login).await?;
            match reset.link {
                Some(link) => {
                    let base = settings.public_url_for(settings.listen);
                    eprintln!(
                        "{login}: second factor removed; sessions ended; the password no longer works. One-time \
                         link, valid until {} (a new password, then a new second factor):",
                        local(link.expires_at, settings.time_zone)
                    );
                    println!("{}", link.url(&base));
                }
                None => eprintln!("{login}: had no second factor; sessions ended"),
            }
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("reading the password from stdin")?;
    Ok(input.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs a `token` command.
///
/// # Errors
/// What the command failed with.
pub async fn run_token(settings: &Settings, deps: &Dependencies, command: TokenCommand) -> anyhow::Result<()> {
    let caches = Caches::new(settings, deps);
    match command {
        TokenCommand::Create { login, label, expires_in_days } => {
            let spec = TokenSpec { label, days: expires_in_days };
            let created = tokens::create_for_login(&deps.db, &deps.clock, &login, &spec).await?;
            println!("{}", created.token);
        }
        TokenCommand::List { login } => {
            let now = deps.clock.now();
            // Read first: an unknown login is an error, not an empty table.
            let listed = tokens::list_for_login(&deps.db, &login).await?;
            println!("{:<6} {:<24} {:<17} {:<17} {:<17} state", "id", "name", "created", "expires", "last used");
            for token in listed {
                print_token(&token, now, settings.time_zone);
            }
        }
        TokenCommand::Revoke { id: Some(id), login: None, all: false } => {
            let by = crate::services::accounts::ChangedBy::operator();
            let (_, made_with_it) = tokens::revoke(&deps.db, &deps.clock, &caches.tokens, by, id).await?;
            match made_with_it.as_slice() {
                [] => eprintln!("token {id} revoked"),
                more => {
                    let ids: Vec<String> = more.iter().map(ToString::to_string).collect();
                    eprintln!("token {id} revoked, and the token(s) made with it: {}", ids.join(", "));
                }
            }
        }
        TokenCommand::Revoke { id: None, login: Some(login), all: true } => {
            let account = accounts::find(caches.accounts(deps), ByWhom::Operator, &login).await?;
            let revoked = tokens::revoke_all(
                &deps.db,
                &deps.clock,
                &caches.tokens,
                crate::services::accounts::ChangedBy::operator(),
                &account.member,
            )
            .await?;
            let feed = if revoked.calendar_feed { ", the calendar subscription deleted" } else { "" };
            eprintln!("{} token(s) of {} revoked{feed}", revoked.tokens, account.member.login);
        }
        TokenCommand::Revoke { .. } => bail!(
            "name what to revoke: --id ID (one token, and those made with it), or --login LOGIN --all (every token \
             of a person); not both"
        ),
    }
    Ok(())
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn print_accounts(list: &[StaffAccount], slugs: &HashMap<UnitId, String>, tz: Tz) {
    println!("{:<20} {:<28} {:<40} {:<6} {:<4} last login", "login", "name", "roles", "active", "mfa");
    for account in list {
        let member = &account.member;
        let mut roles: Vec<String> = member
            .memberships
            .iter()
            .map(|(unit, role)| format!("{}@{}", role.as_str(), slugs.get(unit).map_or("?", String::as_str)))
            .collect();
        if member.is_admin {
            roles.insert(0, "admin".to_owned());
        }
        let roles = if roles.is_empty() { "-".to_owned() } else { roles.join(",") };
        let last = account.last_login_at.map_or_else(|| "-".to_owned(), |at| local(at, tz));
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        println!(
            "{:<20} {:<28} {:<40} {:<6} {:<4} {last}",
            member.login,
            member.display_name,
            roles,
            yes_no(member.active),
            yes_no(account.mfa_enabled)
        );
    }
}

fn print_token(token: &TokenInfo, now: DateTime<Utc>, tz: Tz) {
    let state = match (token.revoked_at, token.is_valid_at(now)) {
        (Some(_), _) => "revoked",
        (None, true) => "valid",
        (None, false) => "expired",
    };
    let expires = token.expires_at.map_or_else(|| "-".to_owned(), |at| local(at, tz));
    let used = token.last_used_at.map_or_else(|| "-".to_owned(), |at| local(at, tz));
    println!(
        "{:<6} {:<24} {:<17} {expires:<17} {used:<17} {state}",
        token.id,
        token.label,
        local(token.created_at, tz)
    );
}
