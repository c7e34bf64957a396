//! Staff login for the web interface: each attempt is first reserved against the throttle's keys
//! (the login from this address, the login from everywhere, this address for every login; see
//! `domain::throttle`), atomically in the database, and only then is the password checked.

use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::auth::authenticate_password;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::ids::StaffId;
use crate::domain::throttle::{self, FORGET_AFTER, KNOWN_ADDRESS_FOR};
use crate::store::throttle::Reservation;
use crate::store::{self, sessions};

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn(Actor),
    WrongCredentials,
    /// Too many failures recently: the password was not even checked.
    Throttled,
}

/// Checks a login unless the throttle holds it back. `ip` is the client's address.
///
/// # Errors
/// Database failures; `Overloaded` when too many passwords are being checked (the attempt is
/// then not counted).
#[tracing::instrument(skip_all, fields(login = ?login.trim(), ip = %ip))]
pub async fn login(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<LoginOutcome, ServiceError> {
    let login = login.trim();
    let now = clock.now();
    let pair = throttle::pair_key(login, ip);
    let known = store::throttle::succeeded_at(db, &pair).await?.is_some_and(|at| at > now - KNOWN_ADDRESS_FOR);
    let keys = throttle::keys(login, ip, known);
    if let Reservation::Locked { until } = store::throttle::reserve(db, &keys, now, now - FORGET_AFTER).await? {
        tracing::warn!(?until, "login throttled");
        return recorded(db, clock, login, ip, LoginOutcome::Throttled).await;
    }
    let checked = match authenticate_password(db, login, password).await {
        Err(err @ ServiceError::Overloaded { .. }) => {
            store::throttle::release(db, &keys, now).await?;
            return Err(err);
        }
        other => other?,
    };
    match checked {
        Some(actor) => {
            let cleared = [pair.clone(), throttle::login_key(login), throttle::address_key(ip)];
            store::throttle::record_success(db, &cleared, &pair, now).await?;
            tracing::info!("staff logged in");
            recorded(db, clock, login, ip, LoginOutcome::LoggedIn(actor)).await
        }
        None => {
            sessions::record_login_failure(db, login, ip, now).await?;
            tracing::warn!("login failed");
            recorded(db, clock, login, ip, LoginOutcome::WrongCredentials).await
        }
    }
}

/// Records the attempt in the audit, then returns its outcome.
async fn recorded(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    ip: &str,
    outcome: LoginOutcome,
) -> Result<LoginOutcome, ServiceError> {
    super::audit::login_attempt(db, clock, login, ip, &outcome).await?;
    Ok(outcome)
}

/// The actor of a staff member still allowed to log in (for an existing session).
///
/// # Errors
/// Database failures.
pub async fn actor(db: &DatabaseConnection, staff_id: StaffId) -> Result<Option<Actor>, ServiceError> {
    Ok(crate::store::directory::actor_for_staff(db, staff_id).await?)
}
