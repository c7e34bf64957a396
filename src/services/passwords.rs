//! Passwords people choose: changing one's own (the current password required; every other web
//! session ends), and one-time reset links an admin hands out instead of a password the admin
//! would know (valid 24 hours, stored hashed, used once).

use crate::domain::audit::AuditAction;
use crate::domain::missing::Missing;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::ServiceError;
use super::accounts::{Accounts, ByWhom, ChangedBy, audit_change};
use super::auth::{check_password, hash_new_password, random_secret};
use super::tokens::token_hash;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::accounts::RESET_LINK_LIFETIME;
use crate::domain::ids::StaffId;
use crate::domain::password::{NewPassword, PasswordProblem};
use crate::domain::throttle::{self, FORGET_AFTER};
use crate::services::audit::{self, AuditEntry, AuditTarget};
use crate::store::resets::{self, NewReset};
use crate::store::throttle::Reservation;
use crate::store::{self, directory};

/// Why a password was not changed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the current password is wrong")]
    WrongCurrent,
    #[error("the new password {0}")]
    Weak(PasswordProblem),
    #[error("the reset link is unknown, used or expired")]
    LinkInvalid,
    /// Too many wrong current passwords: this one was not checked.
    #[error("too many wrong current passwords; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for PasswordError {
    fn from(err: store::StoreError) -> Self {
        Self::Service(err.into())
    }
}

impl From<PasswordError> for ServiceError {
    fn from(err: PasswordError) -> Self {
        match err {
            PasswordError::WrongCurrent => Self::invalid("current_password", "is not your current password"),
            PasswordError::Weak(problem) => Self::invalid("new_password", problem.to_string()),
            PasswordError::LinkInvalid => Self::not_found(Missing::ResetLink),
            PasswordError::Throttled { retry_after_secs } => Self::Throttled { retry_after_secs },
            PasswordError::Service(err) => err,
        }
    }
}

/// Changes the actor's own password after checking the current one; every web session of the
/// person ends (the caller keeps its own by stamping the returned session epoch into it), and
/// so does every unused reset link made for them.
/// The check of the current password is throttled per person like a login
/// (`domain::throttle::CURRENT_PASSWORD`), and a wrong or refused one is audited.
/// `session_epoch`: the epoch of the web session asking (`None` for the API), which must still
/// be the person's when the password is written.
///
/// # Errors
/// `WrongCurrent`, `Throttled`, `Weak`; `Conflict` (`ConcurrentUpdate`, nothing written) when,
/// between the check and the write, the account changed: deactivated, its password set or taken
/// away (an admin's reset of the second factor or of the password), or, for a web session, its
/// sessions ended. The change would otherwise undo that lock-out and hand the session the new
/// epoch.
pub async fn change_own(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    current: &str,
    new: &str,
    session_epoch: Option<i32>,
) -> Result<i32, PasswordError> {
    let verified = check_current(db, clock, actor, current).await?;
    if new == current {
        return Err(PasswordError::Weak(PasswordProblem::Unchanged));
    }
    let member = directory::find_staff(db, actor.staff_id())
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::StaffMember))?;
    let password = NewPassword::parse(new, &member.login, &member.display_name).map_err(PasswordError::Weak)?;
    let hash = hash_new_password(&password).await?;
    // The new password, the epoch it moved on to (read back in the transaction that holds the
    // row) and its record, all or nothing.
    let txn = store::begin_write(db).await?;
    // Checked again under the row's lock (argon2 ran in between, perhaps waiting its turn).
    let active = directory::lock_staff(&txn, member.id).await?.is_some_and(|m| m.active);
    let unchanged = directory::password_hash_of(&txn, member.id).await?.is_some_and(|hash| hash == verified);
    let same_sessions = match session_epoch {
        Some(seen) => directory::epoch_of(&txn, member.id).await? == seen,
        None => true,
    };
    if !(active && unchanged && same_sessions) {
        tracing::warn!(staff_id = member.id.get(), "password change refused: the account changed meanwhile");
        return Err(ServiceError::conflict(crate::domain::clash::Clash::ConcurrentUpdate).into());
    }
    let epoch = directory::set_password(&txn, member.id, hash, false).await?;
    // A reset link handed out before (perhaps to the wrong person) would set another password
    // over this one for the rest of its day.
    let links = store::resets::void_unused(&txn, member.id, clock.now()).await?;
    audit_change(
        &txn,
        clock,
        actor.into(),
        AuditAction::PasswordChanged,
        &member,
        if links > 0 { json!({ "reset_links_voided": links }) } else { json!({}) },
    )
    .await?;
    txn.commit().await.map_err(ServiceError::from)?;
    Ok(epoch)
}

/// Checks the actor's current password, reserved first against the person's throttle key (so
/// parallel guesses are counted before any is checked); a right one clears the key. Returns the
/// stored hash it matched.
async fn check_current(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    current: &str,
) -> Result<String, PasswordError> {
    let now = clock.now();
    let keys = [throttle::current_password_key(actor.staff_id())];
    let target = AuditTarget::Staff(actor.staff_id());
    if let Reservation::Locked { until, first, .. } =
        store::throttle::reserve(db, &keys, now, now - FORGET_AFTER).await?
    {
        // Recorded once per lock, however often the locked check is asked.
        if first {
            tracing::warn!(staff_id = actor.staff_id().get(), ?until, "password change throttled");
            let entry = AuditEntry::by(actor, AuditAction::PasswordChangeThrottled).target(target);
            audit::record(db, clock, entry).await?;
        }
        return Err(PasswordError::Throttled { retry_after_secs: throttle::retry_after_secs(until, now) });
    }
    let stored = directory::password_hash_of(db, actor.staff_id()).await?.unwrap_or_default();
    let right = match check_password(current, stored.clone()).await {
        Err(err @ ServiceError::Overloaded { .. }) => {
            store::throttle::release(db, &keys, now).await?;
            return Err(err.into());
        }
        other => other?,
    };
    if right {
        let key = keys.map(|k| k.key);
        store::throttle::record_success(db, &key, &key[0], &[], now).await?;
        return Ok(stored);
    }
    tracing::warn!(staff_id = actor.staff_id().get(), "wrong current password");
    audit::record(db, clock, AuditEntry::by(actor, AuditAction::PasswordChangeFailed).target(target)).await?;
    Err(PasswordError::WrongCurrent)
}

/// A reset link's token (the last part of `/reset/TOKEN`, shown once) and its expiry.
#[derive(Debug, Clone)]
pub struct ResetLink {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The link was made for an inactive person, whose password was taken away with it.
    pub password_cleared: bool,
}

impl ResetLink {
    /// The link under the service's public URL.
    pub fn url(&self, base_url: &str) -> String {
        format!("{}/reset/{}", base_url.trim_end_matches('/'), self.token)
    }
}

/// Makes a one-time reset link for a person (admins and the operator); earlier unused links of
/// the person stop working. The password of an active person stays as it is until the link is
/// used; that of an inactive one (deactivated after a suspected compromise) stops working at
/// once, so a reactivation before the link is used does not bring the stolen password back.
/// The person's row is locked while the link is stored: of two links made at once, the later
/// voids the earlier, and a reactivation waits (or is seen).
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn create_reset_link(a: Accounts<'_>, by: ByWhom<'_>, login: &str) -> Result<ResetLink, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.password_reset").await?;
    let found = directory::find_staff_meant(a.db, login).await?;
    let missing = || ServiceError::not_found(Missing::StaffMember);
    let txn = store::begin_write(a.db).await?;
    let member = directory::lock_staff(&txn, found.ok_or_else(missing)?.id).await?.ok_or_else(missing)?;
    let link = store_reset_link(&txn, member.id, by.staff_id(), a.clock.now(), !member.active).await?;
    let detail = if link.password_cleared { json!({ "password_cleared": true }) } else { json!({}) };
    audit_change(&txn, a.clock, by.into(), AuditAction::PasswordResetLinkCreated, &member, detail).await?;
    txn.commit().await.map_err(store::StoreError::from)?;
    Ok(link)
}

/// Stores a new reset link for the person `staff_id` (whose row the caller locked) in `txn`;
/// earlier unused links of the person stop working. With `clear_password` the password stops
/// working at once, so that only the link lets the person in.
///
/// # Errors
/// Database failures.
pub(crate) async fn store_reset_link(
    txn: &sea_orm::DatabaseTransaction,
    staff_id: StaffId,
    by: Option<StaffId>,
    now: DateTime<Utc>,
    clear_password: bool,
) -> Result<ResetLink, ServiceError> {
    let link =
        ResetLink { token: random_secret(40), expires_at: now + RESET_LINK_LIFETIME, password_cleared: clear_password };
    let new = NewReset {
        staff_id,
        token_hash: token_hash(&link.token),
        created_at: now,
        expires_at: link.expires_at,
        created_by: by,
    };
    resets::insert_reset(txn, new).await?;
    if clear_password {
        directory::clear_password(txn, staff_id).await?;
    }
    Ok(link)
}

/// The login a reset link is for, while it is usable (unused, unexpired, its person active).
///
/// # Errors
/// Database failures.
pub async fn reset_link_login(
    db: &DatabaseConnection,
    clock: &Clock,
    token: &str,
) -> Result<Option<String>, ServiceError> {
    let Some((_, staff_id)) = resets::find_live_reset(db, &token_hash(token), clock.now()).await? else {
        return Ok(None);
    };
    Ok(directory::find_staff(db, StaffId::new(staff_id)).await?.filter(|m| m.active).map(|m| m.login))
}

/// Sets the new password through a reset link and uses the link up; every web session of the
/// person ends. A refused password leaves the link usable.
///
/// # Errors
/// `LinkInvalid` (unknown, used, expired, its person inactive; also for the loser of two
/// requests racing with one link), `Weak`.
pub async fn redeem_reset_link(
    db: &DatabaseConnection,
    clock: &Clock,
    token: &str,
    new: &str,
    client: Option<std::net::IpAddr>,
) -> Result<(), PasswordError> {
    let now = clock.now();
    let (reset_id, staff_id) =
        resets::find_live_reset(db, &token_hash(token), now).await?.ok_or(PasswordError::LinkInvalid)?;
    let member = directory::find_staff(db, StaffId::new(staff_id))
        .await?
        .filter(|m| m.active)
        .ok_or(PasswordError::LinkInvalid)?;
    let password = NewPassword::parse(new, &member.login, &member.display_name).map_err(PasswordError::Weak)?;
    let hash = hash_new_password(&password).await?;
    let txn = store::begin_write(db).await?;
    if !resets::consume_reset(&txn, reset_id, now).await? {
        return Err(PasswordError::LinkInvalid);
    }
    directory::set_password(&txn, member.id, hash, false).await?;
    store::throttle::forget_login(&txn, &member.login).await?;
    audit_change(
        &txn,
        clock,
        ChangedBy::themselves(member.id, client),
        AuditAction::PasswordResetLinkUsed,
        &member,
        json!({}),
    )
    .await?;
    txn.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}
