//! The staff lifecycle: listing accounts, deactivating and reactivating people, taking roles
//! away (never the last active admin), each change audited; and what a page request or a
//! completed login needs to know about an account.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

use super::ServiceError;
use super::audit::{self, AuditAction, AuditActor, AuditEntry, AuditTarget};
use super::directory::{CounsellorCache, StaffRole, find_unit};
use super::schedule::SlotPlan;
use super::tokens::TokenCache;
use crate::clock::Clock;
use crate::domain::access::{Actor, Role};
use crate::domain::accounts::{SessionAccount, StaffAccount};
use crate::domain::clash::Clash;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::language::Language;
use crate::domain::missing::Missing;
use crate::domain::records::StaffMember;
use crate::store::{self, directory};

/// What account changes touch: the database, the clock, and this process's caches of staff
/// data (forgotten at once when a change here makes them stale).
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub db: &'a DatabaseConnection,
    pub clock: &'a Clock,
    pub tokens: &'a TokenCache,
    pub counsellors: &'a CounsellorCache,
    /// A person who stops counselling somewhere takes their slots out of the offer at once.
    pub slots: SlotPlan<'a>,
}

/// Who makes an account change: a staff member through the API or the pages (who must be an
/// admin), or the operator at the command line.
#[derive(Debug, Clone, Copy)]
pub enum ByWhom<'a> {
    Staff(&'a Actor),
    Operator,
}

/// Who changed an account, as the audit records it: a staff member (from the address of their
/// request, when there was one) or the operator on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedBy {
    staff_id: Option<StaffId>,
    client: Option<std::net::IpAddr>,
}

impl ChangedBy {
    /// The operator (the command line).
    pub const fn operator() -> Self {
        Self { staff_id: None, client: None }
    }

    /// The staff member `staff_id` acting on their own account without a session (a reset link,
    /// a login step), from `client`.
    pub const fn themselves(staff_id: StaffId, client: Option<std::net::IpAddr>) -> Self {
        Self { staff_id: Some(staff_id), client }
    }

    /// The acting staff member's id (`None` for the operator).
    pub const fn staff_id(self) -> Option<StaffId> {
        self.staff_id
    }
}

impl From<&Actor> for ChangedBy {
    fn from(actor: &Actor) -> Self {
        Self { staff_id: Some(actor.staff_id()), client: actor.client() }
    }
}

impl From<ByWhom<'_>> for ChangedBy {
    fn from(by: ByWhom<'_>) -> Self {
        match by {
            ByWhom::Staff(actor) => actor.into(),
            ByWhom::Operator => Self::operator(),
        }
    }
}

impl ByWhom<'_> {
    /// The acting staff member's id (`None` for the operator).
    pub fn staff_id(self) -> Option<StaffId> {
        match self {
            Self::Staff(actor) => Some(actor.staff_id()),
            Self::Operator => None,
        }
    }

    /// Refuses (and records) anyone but an admin or the operator.
    ///
    /// # Errors
    /// `Forbidden`.
    pub async fn require_admin(self, db: &DatabaseConnection, clock: &Clock, action: &str) -> Result<(), ServiceError> {
        match self {
            Self::Staff(actor) if !actor.is_admin() => super::access::deny(db, clock, actor, action, "staff").await,
            _ => Ok(()),
        }
    }
}

/// Writes one account change to the audit log: who (`by`; none: the operator), whom, what, when.
/// The one place account changes are audited.
///
/// # Errors
/// Database failures.
pub(crate) async fn audit_change<C: ConnectionTrait>(
    db: &C,
    clock: &Clock,
    by: ChangedBy,
    action: AuditAction,
    whom: &StaffMember,
    mut detail: Value,
) -> Result<(), ServiceError> {
    if let Value::Object(map) = &mut detail {
        map.insert("login".into(), json!(whom.login));
        if by.staff_id.is_none() {
            map.insert("by".into(), json!("operator"));
        }
    }
    tracing::info!(
        by = by.staff_id.map(StaffId::get),
        action = action.as_str(),
        staff_id = whom.id.get(),
        "account changed"
    );
    let actor = by.staff_id.map_or(AuditActor::System, AuditActor::Staff);
    let entry = AuditEntry::attempt(action, actor, by.client).target(AuditTarget::Staff(whom.id)).detail(detail);
    audit::record(db, clock, entry).await
}

fn not_found() -> ServiceError {
    ServiceError::not_found(Missing::StaffMember)
}

fn last_admin() -> ServiceError {
    ServiceError::conflict(Clash::LastAdmin)
}

/// Every staff member's account (admins and the operator only).
///
/// # Errors
/// `Forbidden`.
pub async fn list(a: Accounts<'_>, by: ByWhom<'_>) -> Result<Vec<StaffAccount>, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.list").await?;
    Ok(directory::list_accounts(a.db).await?)
}

/// One staff member's account by login (admins and the operator only).
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn find(a: Accounts<'_>, by: ByWhom<'_>, login: &str) -> Result<StaffAccount, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.read").await?;
    directory::find_account(a.db, login).await?.ok_or_else(not_found)
}

/// The actor's own account.
///
/// # Errors
/// `NotFound` when it has gone meanwhile.
pub async fn own(db: &DatabaseConnection, actor: &Actor) -> Result<StaffAccount, ServiceError> {
    directory::find_account_by_id(db, actor.staff_id()).await?.ok_or_else(not_found)
}

/// The units where `member` counsels.
fn counselled_units(member: &StaffMember) -> Vec<UnitId> {
    member.memberships.iter().filter(|(_, role)| *role == Role::Counsellor).map(|(unit, _)| *unit).collect()
}

/// Deactivates a person: every web session and API token of theirs ends at once on this process
/// (their tokens are revoked, their session epoch moves on) and within the token cache's lifetime
/// on every other process; their open password reset links are used up and their calendar
/// subscription is deleted (neither comes back with a reactivation); their free slots leave the
/// offer in the same transaction (their booked appointments stay, to be moved). The last active
/// admin cannot be deactivated.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Conflict` (`last_admin`).
pub async fn deactivate(a: Accounts<'_>, by: ByWhom<'_>, login: &str) -> Result<StaffAccount, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.deactivate").await?;
    let txn = store::begin_write(a.db).await?;
    let member = directory::find_staff_meant(&txn, login).await?.ok_or_else(not_found)?;
    if member.active {
        // The slot locks of the person's units before the admins' rows, in the order a lead's
        // change of hours takes them (its rules and slots name the person's row): the other way
        // round, each would wait for the other (PostgreSQL).
        let mut units = counselled_units(&member);
        units.sort_unstable();
        for unit in &units {
            store::schedule::lock_unit_slots(&txn, *unit).await?;
        }
        if member.is_admin && directory::lock_active_admins(&txn).await? == [member.id] {
            return Err(last_admin());
        }
        directory::set_active(&txn, member.id, false).await?;
        let now = a.clock.now();
        let revoked = directory::revoke_all_tokens(&txn, member.id, now).await?;
        let links = store::resets::void_unused(&txn, member.id, now).await?;
        let feed = store::calendar_feeds::delete_for_staff(&txn, member.id).await?;
        store::devices::forget_person(&txn, member.id).await?;
        a.slots.follow_staff(&txn, &counselled_units(&member), now).await?;
        let detail = json!({ "tokens_revoked": revoked, "reset_links_voided": links, "calendar_feed_deleted": feed });
        audit_change(&txn, a.clock, by.into(), AuditAction::StaffDeactivated, &member, detail).await?;
    }
    txn.commit().await.map_err(store::StoreError::from)?;
    a.tokens.forget_staff(member.id);
    a.counsellors.forget();
    directory::find_account(a.db, login).await?.ok_or_else(not_found)
}

/// Reactivates a person. Their second factor is as before; their password logs them in once
/// more, and then they must choose a new one (while they were away it may have become known to
/// others, or have been written down for a successor); their API tokens stay revoked; the slots
/// of their counselling hours are offered again.
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn activate(a: Accounts<'_>, by: ByWhom<'_>, login: &str) -> Result<StaffAccount, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.activate").await?;
    let txn = store::begin_write(a.db).await?;
    let member = directory::find_staff_meant(&txn, login).await?.ok_or_else(not_found)?;
    if directory::set_active(&txn, member.id, true).await? {
        directory::require_password_change(&txn, member.id).await?;
        a.slots.follow_staff(&txn, &counselled_units(&member), a.clock.now()).await?;
        let detail = json!({ "password_change_required": true });
        audit_change(&txn, a.clock, by.into(), AuditAction::StaffActivated, &member, detail).await?;
    }
    txn.commit().await.map_err(store::StoreError::from)?;
    a.counsellors.forget();
    directory::find_account(a.db, login).await?.ok_or_else(not_found)
}

/// Takes a role away: `admin`, or a role in a unit. The last active admin keeps the admin role.
///
/// # Errors
/// `Forbidden`, `NotFound` (person, unit, or the role is not held), `Invalid` (unit missing for
/// a unit role), `Conflict` (`last_admin`).
pub async fn remove_role(
    a: Accounts<'_>,
    by: ByWhom<'_>,
    login: &str,
    role: StaffRole,
    unit: Option<&str>,
) -> Result<StaffAccount, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.remove_role").await?;
    let unit = match (role, unit) {
        (StaffRole::InUnit(_), None) => return Err(ServiceError::invalid("unit", "required for this role")),
        (StaffRole::InUnit(_), Some(key)) => Some(find_unit(a.db, key).await?),
        (StaffRole::Admin, _) => None,
    };
    let txn = store::begin_write(a.db).await?;
    let member = directory::find_staff_meant(&txn, login).await?.ok_or_else(not_found)?;
    let removed = match (role, &unit) {
        (StaffRole::Admin, _) => {
            if member.is_admin && member.active && directory::lock_active_admins(&txn).await? == [member.id] {
                return Err(last_admin());
            }
            directory::set_admin(&txn, member.id, false).await?
        }
        (StaffRole::InUnit(role), Some(unit)) => directory::remove_membership(&txn, member.id, unit.id, role).await?,
        (StaffRole::InUnit(_), None) => false,
    };
    if !removed {
        return Err(ServiceError::not_found(Missing::Role));
    }
    if let (StaffRole::InUnit(Role::Counsellor), Some(unit)) = (role, &unit) {
        a.slots.follow_staff(&txn, &[unit.id], a.clock.now()).await?;
    }
    let detail = json!({ "role": role.as_str(), "unit": unit.as_ref().map(|u| u.slug.clone()) });
    audit_change(&txn, a.clock, by.into(), AuditAction::RoleRemoved, &member, detail).await?;
    txn.commit().await.map_err(store::StoreError::from)?;
    a.tokens.forget_staff(member.id);
    a.counsellors.forget();
    directory::find_account(a.db, login).await?.ok_or_else(not_found)
}

/// What an admin changes of a person's details: each field given replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct DetailsChange {
    pub name: Option<String>,
    /// `Some(None)` (or an empty address) removes the email address.
    pub email: Option<Option<String>>,
    /// The languages the person counsels in (the free-slot search's language filter and the
    /// booking's language match use them).
    pub languages: Option<Vec<Language>>,
    /// The details as the form showed them ([`details_seen`]): when they have changed since,
    /// the change is refused (`concurrent_update`) instead of undoing a colleague's.
    pub seen: Option<String>,
}

/// Every problem of `change`'s fields, named by field (`name`, `email`), so that a form or the
/// API can name them all at once; empty when it may be saved.
pub fn details_problems(change: &DetailsChange) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Some(name) = &change.name
        && let Err(ServiceError::Invalid { field, message }) = super::directory::check_staff_name(name.trim())
    {
        problems.push((field, message));
    }
    if let Some(Some(email)) = &change.email
        && !email.trim().is_empty()
        && !crate::domain::citizen::is_email(email.trim())
    {
        problems.push(("email", "not an email address".to_owned()));
    }
    problems
}

/// The fingerprint of a person's details as a form shows them: what the form sends back as
/// [`DetailsChange::seen`].
pub fn details_seen(member: &StaffMember) -> String {
    use sha2::Digest;
    let shown = format!(
        "{}\u{1f}{}\u{1f}{}",
        member.display_name,
        member.email.as_deref().unwrap_or_default(),
        Language::join_stored(&member.languages)
    );
    hex::encode(&sha2::Sha256::digest(shown.as_bytes())[..12])
}

/// Changes a person's name, email address or languages (admins and the operator only). Only what
/// differs from the stored value is written and audited (the names of the fields changed, not
/// their values); the counsellor lists of every page follow at once on this process.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid` (`name`, `email`: the first of [`details_problems`]),
/// `Conflict` (`concurrent_update`: the details differ from those `seen`).
pub async fn change_details(
    a: Accounts<'_>,
    by: ByWhom<'_>,
    login: &str,
    change: DetailsChange,
) -> Result<StaffAccount, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.change").await?;
    if let Some((field, message)) = details_problems(&change).into_iter().next() {
        return Err(ServiceError::invalid(field, message));
    }
    let name = change.name.as_deref().map(str::trim);
    let email = change.email.map(|email| email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()));
    let txn = store::begin_write(a.db).await?;
    let found = directory::find_staff_meant(&txn, login).await?.ok_or_else(not_found)?;
    // Locked (PostgreSQL): two admins changing the same person at once change one after the other.
    let member = directory::lock_staff(&txn, found.id).await?.ok_or_else(not_found)?;
    if change.seen.is_some_and(|seen| seen != details_seen(&member)) {
        return Err(ServiceError::conflict(Clash::ConcurrentUpdate));
    }
    let name = name.map_or_else(|| member.display_name.clone(), str::to_owned);
    let email = email.unwrap_or_else(|| member.email.clone());
    let languages = change.languages.unwrap_or_else(|| member.languages.clone());
    let mut changed = Vec::new();
    if name != member.display_name {
        changed.push("name");
    }
    if email != member.email {
        changed.push("email");
    }
    if Language::join_stored(&languages) != Language::join_stored(&member.languages) {
        changed.push("languages");
    }
    if !changed.is_empty() {
        directory::update_details(&txn, member.id, &name, email.as_deref(), &languages).await?;
        audit_change(&txn, a.clock, by.into(), AuditAction::StaffChanged, &member, json!({ "fields": changed }))
            .await?;
    }
    txn.commit().await.map_err(store::StoreError::from)?;
    a.tokens.forget_staff(member.id);
    a.counsellors.forget();
    directory::find_account(a.db, login).await?.ok_or_else(not_found)
}

/// The account state a page request checks (`None`: inactive or gone).
///
/// # Errors
/// Database failures.
pub async fn session_account(
    db: &DatabaseConnection,
    staff_id: StaffId,
) -> Result<Option<SessionAccount>, ServiceError> {
    Ok(directory::session_account(db, staff_id).await?)
}
