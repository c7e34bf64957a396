//! The audit of every access to personal data. [`record`] is the one function every use case
//! calls (with an [`AuditEntry`]: who, from where, what); the rest is the admins' read of the
//! records ([`read`]) and the retention of the records themselves ([`remove_expired`]).

pub mod entries;
mod read;

use sea_orm::{ConnectionTrait, DatabaseConnection};

pub use self::read::{AuditCsv, AuditLine, AuditPage, AuditQuery, EXPORT_MAX, export, read};
use super::ServiceError;
use crate::clock::Clock;
pub use crate::domain::audit::{AuditAction, AuditActor, AuditEntry, AuditTarget};
use crate::domain::ids::StaffId;
use crate::store;

/// Records one access, change or refusal at the clock's time. Pass the transaction of a change,
/// so the change and its record commit together; reads pass the connection (and fail when the
/// record cannot be written: no data without its record).
///
/// ```text
/// audit::record(&txn, deps.clock, AuditEntry::by(actor, AuditAction::BookingCancelled).unit(u).bookings([id])).await?;
/// ```
///
/// # Errors
/// Database failures.
pub async fn record<C: ConnectionTrait>(db: &C, clock: &Clock, entry: AuditEntry) -> Result<(), ServiceError> {
    store::audit::insert(db, clock.now(), &entry).await?;
    Ok(())
}

/// Records a failed or throttled login attempt from `client` against the account the login
/// `named` (or anonymously for an unknown login, whose text is not recorded: people type
/// passwords into the login field). A success is recorded where the login completes
/// (`services::login`); a password accepted before a second factor is no success.
///
/// # Errors
/// Database failures.
pub async fn login_attempt<C: ConnectionTrait>(
    db: &C,
    clock: &Clock,
    named: Option<StaffId>,
    client: &str,
    outcome: &super::login::LoginOutcome,
    detail: Option<serde_json::Value>,
) -> Result<(), ServiceError> {
    use super::login::LoginOutcome;
    let action = match outcome {
        LoginOutcome::Throttled { .. } => AuditAction::LoginThrottled,
        LoginOutcome::WrongCredentials => AuditAction::LoginFailed,
        LoginOutcome::LoggedIn { .. } | LoginOutcome::CodeNeeded { .. } => return Ok(()),
    };
    let actor = named.map_or(AuditActor::Anonymous, AuditActor::Staff);
    let entry = AuditEntry::attempt(action, actor, client.parse().ok());
    // What the admins reading it should know besides (the right password of a deactivated
    // account; which key held a login back).
    let entry = match detail {
        Some(detail) => entry.detail(detail),
        None => entry,
    };
    record(db, clock, entry).await
}

/// Stores the audit retention period in the database (where its triggers read it); a change is
/// recorded in the audit by the database. Returns whether it changed.
///
/// # Errors
/// `Invalid` for fewer than 30 days; database failures.
pub async fn apply_retention_period<C: ConnectionTrait>(db: &C, days: u32) -> Result<bool, ServiceError> {
    if days < MIN_RETENTION_DAYS {
        return Err(ServiceError::invalid("audit_retention_days", format!("must be at least {MIN_RETENTION_DAYS}")));
    }
    let changed = store::audit::set_retention_days(db, days).await?;
    if changed {
        tracing::info!(days, "audit retention period changed");
    }
    Ok(changed)
}

/// The shortest audit retention period the database accepts.
pub const MIN_RETENTION_DAYS: u32 = 30;

/// Removes the audit records older than the stored period (by the database's clock; the database
/// refuses to delete younger ones) and records the run with its count. Returns the count.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all)]
pub async fn remove_expired(db: &DatabaseConnection, clock: &Clock) -> Result<u64, ServiceError> {
    let txn = store::begin_write(db).await?;
    let removed = store::audit::remove_expired(&txn).await?;
    let days = store::audit::retention_days(&txn).await?;
    let entry = AuditEntry::system(AuditAction::AuditRetentionRun)
        .count(usize::try_from(removed).unwrap_or(usize::MAX))
        .detail(serde_json::json!({ "retention_days": days }));
    record(&txn, clock, entry).await?;
    txn.commit().await?;
    tracing::info!(removed, "old audit records removed");
    Ok(removed)
}
