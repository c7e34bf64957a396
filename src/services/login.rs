//! Staff login for the web interface: each attempt is first reserved against the throttle's keys
//! (the login from this address, the login from everywhere, this address for every login; see
//! `domain::throttle`), atomically in the database, and only then is the password checked. With
//! a second factor the login is complete only after the code ([`second_factor`]): only then is
//! it recorded as a success and are the throttle's keys cleared.

use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::audit::{AuditAction, AuditActor, AuditEntry, AuditTarget};
use super::auth::{Checked, authenticate_password};
use super::mfa::{self, MfaError, SecondFactor, Verified};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::ids::StaffId;
use crate::domain::throttle::{self, FORGET_AFTER, KNOWN_ADDRESS_FOR};
use crate::services::auth::random_secret;
use crate::services::tokens::token_hash as digest;
use crate::store::throttle::Reservation;
use crate::store::{self, directory, sessions};

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Logged in; the session starts with the person's session `epoch`.
    LoggedIn {
        actor: Actor,
        epoch: i32,
    },
    /// The password was right, and the person has a second factor: the login completes with the
    /// code ([`second_factor`]). Nothing is recorded as a success yet.
    CodeNeeded {
        staff_id: StaffId,
        epoch: i32,
    },
    WrongCredentials,
    /// Too many failures recently: the password was not even checked. Another attempt is
    /// reserved again after `retry_after_secs` (at least one).
    Throttled {
        retry_after_secs: u64,
    },
}

/// The tokens of a browser's login cookie: one per person who completed a login in it (the most
/// recent first, at most [`DeviceCookie::MAX_TOKENS`]). Each names a row of `login_devices` by its
/// digest; an attempt for one of those persons from this browser counts against the browser's
/// own throttle key instead of the keys of the address, the login and the pair
/// (`domain::throttle::DEVICE`). A token is no credential: it only lets its holder's guesses count
/// apart from everyone else's, and a login still needs the password (and the second factor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceCookie {
    tokens: Vec<String>,
}

impl DeviceCookie {
    /// The most tokens one browser keeps (colleagues sharing a computer each have one).
    pub const MAX_TOKENS: usize = 5;
    const TOKEN_LEN: usize = 32;

    /// The most tokens read from what a browser sends (every copy of the cookie together): a
    /// copy planted beside this site's must not push its tokens out, nor may a long cookie cost
    /// more than a few lookups.
    const MAX_PRESENTED: usize = 20;

    /// The tokens of every copy of the cookie a browser sent, in their order, each once; anything
    /// not shaped like a token is left out.
    pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tokens: Vec<String> = Vec::new();
        let shaped = |t: &&str| t.len() == Self::TOKEN_LEN && t.bytes().all(|b| b.is_ascii_alphanumeric());
        for token in values.into_iter().flat_map(|value| value.split('.')).filter(shaped) {
            if tokens.len() == Self::MAX_PRESENTED {
                break;
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_owned());
            }
        }
        Self { tokens }
    }

    /// The cookie's value (empty: no tokens).
    pub fn value(&self) -> String {
        self.tokens.join(".")
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    fn digests(&self) -> Vec<String> {
        self.tokens.iter().map(|t| digest(t)).collect()
    }
}

/// Of the browsers the cookie names, the one in which `staff` completed a login before (its digest).
async fn device_of(
    db: &DatabaseConnection,
    staff: Option<StaffId>,
    cookie: &DeviceCookie,
) -> Result<Option<String>, ServiceError> {
    match staff {
        Some(staff) if !cookie.is_empty() => Ok(store::devices::of_person(db, staff, &cookie.digests()).await?),
        _ => Ok(None),
    }
}

/// After `staff` completed a login in the browser that presented `cookie`: the browser is known as
/// theirs from now on (a token of theirs it holds is used again, else a new one is made), and
/// the cookie to give it back: their token first, then the tokens of others it held that are
/// still stored, at most [`DeviceCookie::MAX_TOKENS`]. `None` (nothing remembered, the cookie
/// left as it is) while the person must still choose a new password: the password that logged
/// them in was given to them or is one from before a deactivation, and the browser becomes
/// theirs at the first login with their own.
///
/// # Errors
/// Database failures.
pub async fn remember_device(
    db: &DatabaseConnection,
    clock: &Clock,
    staff: StaffId,
    cookie: &DeviceCookie,
) -> Result<Option<DeviceCookie>, ServiceError> {
    if directory::session_account(db, staff).await?.is_none_or(|account| account.must_change_password) {
        return Ok(None);
    }
    let digests = cookie.digests();
    // Whose each stored token is, in one read: the person's own, and the others' to keep.
    let owners = store::devices::owners(db, &digests).await?;
    let owner_of = |d: &String| owners.iter().find(|(stored, _)| stored == d).map(|(_, owner)| *owner);
    let own = cookie.tokens.iter().zip(&digests).find(|(_, d)| owner_of(d) == Some(staff));
    let (own_token, own_digest) = match own {
        Some((token, digest)) => (token.clone(), digest.clone()),
        None => {
            let token = random_secret(DeviceCookie::TOKEN_LEN);
            let stored = digest(&token);
            (token, stored)
        }
    };
    store::devices::remember(db, staff, &own_digest, clock.now()).await?;
    let others = cookie
        .tokens
        .iter()
        .zip(&digests)
        .filter(|(_, d)| **d != own_digest && owner_of(d).is_some())
        .map(|(t, _)| t.clone());
    let tokens = std::iter::once(own_token).chain(others).take(DeviceCookie::MAX_TOKENS).collect();
    Ok(Some(DeviceCookie { tokens }))
}

/// Checks a login unless the throttle holds it back. `ip` is the client's address; `cookie` the
/// browser's login cookie (an attempt for a person who logged in in this browser before counts
/// against the browser's key alone).
///
/// # Errors
/// Database failures; `Overloaded` when too many passwords are being checked (the attempt is
/// then not counted).
#[tracing::instrument(skip_all, fields(login = tracing::field::Empty, ip = %ip))]
pub async fn login(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    password: &str,
    ip: &str,
    cookie: &DeviceCookie,
) -> Result<LoginOutcome, ServiceError> {
    let now = clock.now();
    let (login, named) = account_meant(db, login.trim()).await?;
    let login = login.as_str();
    // Text that names no account is neither logged nor stored: people type passwords there.
    let shown = if named.is_some() { throttle::cut(login) } else { throttle::UNKNOWN_LOGIN };
    // Shown as it is, not quoted (a JSON log had `"\"admin\""`): a known login is stored in
    // letters, digits, dots, dashes and underscores only, and anything else is `unknown`.
    tracing::Span::current().record("login", tracing::field::display(shown));
    let key_login = throttle::key_login(login, named.is_some());
    let device = device_of(db, named, cookie).await?;
    let keys = match &device {
        Some(device) => vec![throttle::device_key(device)],
        None => {
            let pair = throttle::pair_key(&key_login, ip);
            let known = store::throttle::succeeded_at(db, &pair).await?.is_some_and(|at| at > now - KNOWN_ADDRESS_FOR);
            throttle::keys(&key_login, ip, known)
        }
    };
    if let Reservation::Locked { until, first, kind } =
        store::throttle::reserve(db, &keys, now, now - FORGET_AFTER).await?
    {
        let throttled = LoginOutcome::Throttled { retry_after_secs: throttle::retry_after_secs(until, now) };
        // A flood of attempts against a locked key writes one record and one warning per lock.
        if !first {
            tracing::debug!(?until, kind, "login throttled again");
            return Ok(throttled);
        }
        tracing::warn!(?until, kind, "login throttled");
        // Which key held it tells the admins whose guesses these were: a browser's (someone at a
        // colleague's computer), an address's (a spray), a login's (guesses from everywhere).
        super::audit::login_attempt(db, clock, named, ip, &throttled, Some(serde_json::json!({ "held_by": kind })))
            .await?;
        return Ok(throttled);
    }
    let checked = match authenticate_password(db, login, password).await {
        Err(err @ ServiceError::Overloaded { .. }) => {
            store::throttle::release(db, &keys, now).await?;
            return Err(err);
        }
        other => other?,
    };
    let account = match &checked {
        Checked::Right(actor, _) => directory::session_account(db, actor.staff_id()).await?,
        _ => None,
    };
    // The password was checked against the hash read with `epoch`: an epoch moved on since (a new
    // password, a reset, deactivation committed during the check) refuses the login.
    match (checked, account) {
        (Checked::Right(actor, epoch), Some(account)) if account.epoch == epoch && account.mfa_enabled => {
            tracing::info!("password right, second factor next");
            Ok(LoginOutcome::CodeNeeded { staff_id: actor.staff_id(), epoch })
        }
        (Checked::Right(actor, epoch), Some(account)) if account.epoch == epoch => {
            completed(db, clock, login, ip, &actor, None, device.as_deref()).await?;
            Ok(LoginOutcome::LoggedIn { actor, epoch })
        }
        (checked, _) => {
            // Refused alike; the audit tells the admins when the password was a deactivated
            // person's own.
            let inactive = matches!(checked, Checked::Inactive);
            sessions::record_login_failure(db, shown, ip, now).await?;
            tracing::warn!(inactive, "login failed");
            let detail = inactive.then(|| serde_json::json!({ "account_inactive": true }));
            super::audit::login_attempt(db, clock, named, ip, &LoginOutcome::WrongCredentials, detail).await?;
            Ok(LoginOutcome::WrongCredentials)
        }
    }
}

/// The login as stored and its account, for what was typed: the login itself, else the one
/// login that differs from it only in case (`Mueller` for `mueller`), so that its attempts count
/// against that account's throttle too. Two logins that differ only in case (made before such
/// were refused) are each reached only as written.
async fn account_meant(db: &DatabaseConnection, typed: &str) -> Result<(String, Option<StaffId>), ServiceError> {
    if let Some(member) = directory::find_staff_by_login(db, typed).await? {
        return Ok((typed.to_owned(), Some(member.id)));
    }
    if let [only] = directory::logins_ignoring_case(db, typed).await?.as_slice()
        && let Some(member) = directory::find_staff_by_login(db, only).await?
    {
        return Ok((only.clone(), Some(member.id)));
    }
    Ok((typed.to_owned(), None))
}

/// What the second step of a login came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    /// The login is complete.
    LoggedIn,
    /// The account changed since the password step (deactivated, its password or second factor
    /// reset: its session epoch moved on): the login starts again.
    Ended,
}

/// The second step of a login with a second factor: the code is checked (with its own throttle
/// per person, `services::mfa`); a right one completes the login of `staff_id` begun with the
/// session `epoch` (the throttle's keys of the login from `ip` are cleared, `login_succeeded`
/// recorded); a wrong or refused one is recorded.
///
/// # Errors
/// `WrongCode`, `Throttled`; database failures.
#[tracing::instrument(skip_all, fields(staff_id = staff_id.get(), ip = %ip))]
pub async fn second_factor(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    epoch: i32,
    code: &str,
    ip: &str,
    cookie: &DeviceCookie,
) -> Result<SecondStep, MfaError> {
    let used = match mfa::verify(db, clock, staff_id, code).await {
        Ok(verified) => Some(verified),
        // The factor was removed meanwhile (which moves the epoch on: checked below).
        Err(MfaError::NotEnrolled) => None,
        // A flood of codes against a locked factor writes one record per lock.
        Err(err @ MfaError::Throttled { first: false, .. }) => return Err(err),
        Err(err @ (MfaError::WrongCode | MfaError::Throttled { first: true, .. })) => {
            let action = match err {
                MfaError::Throttled { .. } => AuditAction::SecondFactorThrottled,
                _ => AuditAction::SecondFactorFailed,
            };
            let entry = AuditEntry::attempt(action, AuditActor::Staff(staff_id), ip.parse().ok())
                .target(AuditTarget::Staff(staff_id));
            super::audit::record(db, clock, entry).await?;
            return Err(err);
        }
        Err(err) => return Err(err),
    };
    let current = directory::session_account(db, staff_id).await?;
    let actor = directory::actor_for_staff(db, staff_id).await?;
    match (current, actor) {
        (Some(account), Some(actor)) if account.epoch == epoch => {
            let device = device_of(db, Some(staff_id), cookie).await?;
            completed(db, clock, actor.login(), ip, &actor, used, device.as_deref()).await?;
            Ok(SecondStep::LoggedIn)
        }
        _ => Ok(SecondStep::Ended),
    }
}

/// A complete login: the failures of the login's keys (and of the browser's, `device`, when it
/// is one the person logged in with before) are forgotten (and taken off the address's key), the
/// address is marked as one where this login succeeded, the time of the login noted and the
/// success recorded.
async fn completed(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    ip: &str,
    actor: &Actor,
    used: Option<Verified>,
    device: Option<&str>,
) -> Result<(), ServiceError> {
    let now = clock.now();
    let login = throttle::key_login(login, true);
    let pair = throttle::pair_key(&login, ip);
    let mut cleared = vec![pair.clone(), throttle::login_key(&login)];
    cleared.extend(device.map(|d| throttle::device_key(d).key));
    store::throttle::record_success(db, &cleared, &pair, &throttle::shared_keys(ip), now).await?;
    directory::record_login(db, actor.staff_id(), now).await?;
    tracing::info!("staff logged in");
    let entry = AuditEntry::by(&actor.clone().with_client(ip.parse().ok()), AuditAction::LoginSucceeded);
    // Wrong codes before the right one stay visible in the audit, also after the throttle forgot them.
    let entry = match used {
        Some(Verified { factor, failed_before }) => {
            let factor = match factor {
                SecondFactor::Totp => "totp",
                SecondFactor::RecoveryCode { .. } => "recovery_code",
            };
            let detail = if failed_before > 0 {
                serde_json::json!({ "second_factor": factor, "wrong_codes_before": failed_before })
            } else {
                serde_json::json!({ "second_factor": factor })
            };
            entry.detail(detail)
        }
        None => entry,
    };
    super::audit::record(db, clock, entry).await
}

/// The actor of a staff member still allowed to log in (for an existing session).
///
/// # Errors
/// Database failures.
pub async fn actor(db: &DatabaseConnection, staff_id: StaffId) -> Result<Option<Actor>, ServiceError> {
    Ok(crate::store::directory::actor_for_staff(db, staff_id).await?)
}

/// Records the end of a web session by its holder (`logged_out`), from `ip`.
///
/// # Errors
/// Database failures.
pub async fn logged_out(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    ip: &str,
) -> Result<(), ServiceError> {
    if let Some(actor) = actor(db, staff_id).await? {
        let entry = AuditEntry::by(&actor.with_client(ip.parse().ok()), AuditAction::LoggedOut);
        super::audit::record(db, clock, entry).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::DeviceCookie;

    #[test]
    fn a_cookie_keeps_tokens_of_every_copy_once_and_nothing_else() {
        let (a, b) = ("A".repeat(32), "b".repeat(32));
        let cookie = DeviceCookie::parse_all([format!("{a}.short.{b}").as_str(), a.as_str(), "x".repeat(33).as_str()]);
        assert_eq!(cookie.value(), format!("{a}.{b}"), "each once, only shaped like a token");
        let many: Vec<String> = (0..30).map(|n| format!("{n:0>32}")).collect();
        let cookie = DeviceCookie::parse_all(many.iter().map(String::as_str));
        assert_eq!(cookie.tokens.len(), DeviceCookie::MAX_PRESENTED, "a long cookie costs a few lookups");
        assert!(DeviceCookie::parse_all(["-".repeat(32).as_str(), ""]).is_empty(), "letters and digits only");
    }
}
