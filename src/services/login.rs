//! Staff login for the web interface: password check with throttling of failed attempts per
//! login and client address.

use chrono::TimeDelta;
use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::auth::authenticate_password;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::store::sessions;

/// Failed attempts allowed per login and address within [`THROTTLE_WINDOW`].
pub const MAX_FAILURES: u64 = 5;
/// How far back failed attempts count.
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn(Actor),
    WrongCredentials,
    /// Too many failures recently: the password was not even checked.
    Throttled,
}

/// Checks a login unless this login and address failed too often recently.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all, fields(login = %login, ip = %ip))]
pub async fn login(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<LoginOutcome, ServiceError> {
    let login = login.trim();
    let now = clock.now();
    if sessions::count_login_failures(db, login, ip, now - THROTTLE_WINDOW).await? >= MAX_FAILURES {
        tracing::warn!("login throttled");
        return recorded(db, clock, login, ip, LoginOutcome::Throttled).await;
    }
    match authenticate_password(db, login, password).await? {
        Some(actor) => {
            sessions::clear_login_failures(db, login, ip).await?;
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
pub async fn actor(db: &DatabaseConnection, staff_id: i32) -> Result<Option<Actor>, ServiceError> {
    Ok(crate::store::directory::actor_for_staff(db, staff_id).await?)
}
