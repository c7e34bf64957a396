//! Units and staff: reading them, and the admin's (or operator's) additions.

use crate::domain::audit::AuditAction;
use crate::domain::clash::Clash;
use crate::domain::missing::Missing;
use sea_orm::DatabaseConnection;

use serde_json::json;

use super::ServiceError;
use super::accounts::{ChangedBy, audit_change};
use super::auth::{hash_new_password, hash_password, random_secret};
use crate::clock::Clock;
use crate::domain::access::{Actor, Role};
use crate::domain::ids::{LocationId, UnitId};
use crate::domain::language::Language;
use crate::domain::password::NewPassword;
use crate::domain::records::{Location, StaffMember, Unit};
use crate::store::StoreError;
use crate::store::directory::{self, NewStaff, NewUnit};

/// The role given to a new staff member: admin, or a role in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRole {
    Admin,
    InUnit(Role),
}

impl StaffRole {
    /// Parses `admin`, `unit_lead`, `counsellor` or `front_desk`.
    pub fn parse(value: &str) -> Option<Self> {
        if value == "admin" { Some(Self::Admin) } else { Role::parse(value).map(Self::InUnit) }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::InUnit(role) => role.as_str(),
        }
    }
}

/// A new staff member as an admin or operator enters it.
#[derive(Debug, Clone)]
pub struct StaffInput {
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub languages: Vec<Language>,
    pub role: StaffRole,
    /// Slug or id of the unit; required for roles in a unit.
    pub unit: Option<String>,
    /// `None`: a password is generated and returned, to be changed at the first login. Ignored
    /// for an existing login (adding a role never touches a password).
    pub password: Option<String>,
}

/// What adding staff came to.
#[derive(Debug, Clone)]
pub struct AddedStaff {
    pub member: StaffMember,
    /// The generated password of a new member, shown once.
    pub password: Option<String>,
    /// A new login (else the role was added to an existing one).
    pub created: bool,
    /// The role was new for the person (false: they had it already).
    pub role_added: bool,
}

/// All units, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_units(db: &DatabaseConnection) -> Result<Vec<Unit>, ServiceError> {
    Ok(directory::list_units(db, None).await?)
}

/// Units seen by this process, by slug and by id. Units are only ever added (nothing updates or
/// deletes one), so an entry cannot go stale; the lifetime only bounds the memory of a process
/// that outlives a future change of that rule. Misses are not kept: a new unit is found at once.
#[derive(Clone)]
pub struct UnitCache(moka::sync::Cache<String, Unit>);

impl Default for UnitCache {
    fn default() -> Self {
        Self(moka::sync::Cache::builder().max_capacity(1000).time_to_live(std::time::Duration::from_secs(60)).build())
    }
}

impl UnitCache {
    /// Forgets every unit (after a unit's settings changed).
    pub fn forget_all(&self) {
        self.0.invalidate_all();
    }
}

/// [`find_unit`], from `cache` when this process has looked the unit up before.
///
/// # Errors
/// `NotFound`.
pub async fn find_unit_cached(db: &DatabaseConnection, cache: &UnitCache, key: &str) -> Result<Unit, ServiceError> {
    if let Some(unit) = cache.0.get(key) {
        return Ok(unit);
    }
    let unit = find_unit(db, key).await?;
    cache.0.insert(unit.id.to_string(), unit.clone());
    cache.0.insert(unit.slug.clone(), unit.clone());
    Ok(unit)
}

/// The counsellors of each unit as read in the last moments: the free-slot search needs them on
/// every request. Staff and roles are only ever added; an addition through this process forgets
/// the cache at once ([`CounsellorCache::forget`]), one made by another process (a second server on
/// the same PostgreSQL, `terminbuch user add`) shows within the lifetime
/// (`TERMINBUCH_TOKEN_CACHE_MS`, which bounds how long staff data is seen through a cache).
#[derive(Clone)]
pub struct CounsellorCache(Option<moka::sync::Cache<UnitId, std::sync::Arc<Vec<StaffMember>>>>);

impl CounsellorCache {
    /// A cache keeping entries for `lifetime` (none at all for zero).
    pub fn new(lifetime: std::time::Duration) -> Self {
        Self(super::short_lived_cache(lifetime, 1000))
    }

    /// No cache: every call reads the database.
    pub fn off() -> Self {
        Self(None)
    }

    /// Forgets every unit's counsellors (after staff or a role was added).
    pub fn forget(&self) {
        if let Some(cache) = &self.0 {
            cache.invalidate_all();
        }
    }
}

/// Counsellors of a unit, ordered by name, from `cache` when read in the last moments.
///
/// # Errors
/// Database failures.
pub async fn counsellors_cached(
    db: &DatabaseConnection,
    cache: &CounsellorCache,
    unit_id: UnitId,
) -> Result<std::sync::Arc<Vec<StaffMember>>, ServiceError> {
    if let Some(found) = cache.0.as_ref().and_then(|c| c.get(&unit_id)) {
        return Ok(found);
    }
    let read = std::sync::Arc::new(directory::list_unit_staff(db, unit_id, Some(Role::Counsellor)).await?);
    if let Some(c) = &cache.0 {
        c.insert(unit_id, read.clone());
    }
    Ok(read)
}

/// A unit by slug or id.
///
/// # Errors
/// `NotFound`.
pub async fn find_unit(db: &DatabaseConnection, key: &str) -> Result<Unit, ServiceError> {
    directory::find_unit(db, key).await?.ok_or_else(|| ServiceError::not_found(Missing::Unit))
}

/// The location of a unit.
///
/// # Errors
/// `NotFound` if the unit's location is missing.
pub async fn location_of(db: &DatabaseConnection, unit: &Unit) -> Result<Location, ServiceError> {
    directory::find_location(db, unit.location_id).await?.ok_or_else(|| ServiceError::not_found(Missing::Location))
}

/// Counsellors of a unit, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn counsellors(db: &DatabaseConnection, unit: &Unit) -> Result<Vec<StaffMember>, ServiceError> {
    Ok(directory::list_unit_staff(db, unit.id, Some(Role::Counsellor)).await?)
}

/// Adds a staff member, or, if the login exists, adds the role to it without touching the
/// password (the operator's command line; audited).
///
/// # Errors
/// `Invalid` (missing unit for a unit role, bad login or name, weak password), `NotFound` (unit).
pub async fn add_staff(db: &DatabaseConnection, clock: &Clock, input: StaffInput) -> Result<AddedStaff, ServiceError> {
    add(db, clock, ChangedBy::operator(), input).await
}

/// Adds staff on behalf of `actor` (admins only); see [`add_staff`].
///
/// # Errors
/// `Forbidden` for non-admins, else as [`add_staff`].
pub async fn add_staff_as(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    input: StaffInput,
) -> Result<AddedStaff, ServiceError> {
    if !actor.is_admin() {
        super::access::deny(db, clock, actor, "staff.create", "staff").await?;
    }
    add(db, clock, actor.into(), input).await
}

/// `Invalid` naming `field` unless `value` has `min..=max` characters.
fn check_length(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), ServiceError> {
    let count = value.chars().count();
    if count < min || count > max {
        let message =
            if count == 0 { "must not be empty".to_owned() } else { format!("use {min} to {max} characters") };
        return Err(ServiceError::invalid(field, message));
    }
    Ok(())
}

/// Checks a (trimmed) staff member's name: the limits of the API's edge, here so that the staff
/// pages keep them too, on one line, and with a letter or digit (a name of invisible characters
/// alone is blank on every list).
///
/// # Errors
/// `Invalid` naming `name`.
pub(crate) fn check_staff_name(name: &str) -> Result<(), ServiceError> {
    match crate::domain::citizen::name_fault(name) {
        Some(fault) => Err(ServiceError::invalid("name", fault.message())),
        None => Ok(()),
    }
}

async fn add(
    db: &DatabaseConnection,
    clock: &Clock,
    by: ChangedBy,
    input: StaffInput,
) -> Result<AddedStaff, ServiceError> {
    let login = input.login.trim();
    // A login of dots alone ("." or "..") is a path step: the person's page `/admin/staff/..`
    // was normalised away by browsers, so nobody could deactivate them there.
    if login.is_empty()
        || login.len() > 64
        || !login.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        || login.chars().all(|c| c == '.')
    {
        return Err(ServiceError::invalid(
            "login",
            "use 1 to 64 letters, digits, dots, dashes or underscores, not dots alone",
        ));
    }
    check_staff_name(input.display_name.trim())?;
    if input.email.as_deref().is_some_and(|email| !crate::domain::citizen::is_email(email.trim())) {
        return Err(ServiceError::invalid("email", "not an email address"));
    }
    let unit = match (&input.role, &input.unit) {
        (StaffRole::InUnit(_), None) => return Err(ServiceError::invalid("unit", "required for this role")),
        (StaffRole::InUnit(_), Some(key)) => Some(find_unit(db, key).await?),
        // An admin works in every unit: a unit given is left aside, not looked up.
        (StaffRole::Admin, _) => None,
    };
    // The password is hashed before the write transaction: hashing takes a while, and SQLite's
    // one writer would wait for it.
    let who = match directory::find_staff_by_login(db, login).await? {
        Some(member) => Who::Existing(member),
        None => {
            // `Mueller` beside `mueller` would be a second account that people mistake for the
            // first (a role meant for one lands on the other): logins differ in more than case.
            refuse_login_of_other_case(db, login).await?;
            let (hash, generated) = new_password(&input, login).await?;
            Who::New { hash, generated }
        }
    };
    // The person, their role and the records of both in one transaction: an account is never
    // left without the role it was made for (and its generated password never shown).
    let txn = crate::store::begin_write(db).await?;
    let (member, password) = match who {
        Who::Existing(member) => (member, None),
        Who::New { hash, generated } => {
            // In turn with others adding the same login (PostgreSQL's lock; SQLite's one writer):
            // one that made it meanwhile (a retry, a form sent twice, two admins) is the
            // existing login now, and the role is added to it as if this request came later.
            directory::lock_login_ignoring_case(&txn, login).await?;
            match directory::find_staff_by_login(&txn, login).await? {
                Some(member) => (member, None),
                None => insert_new(&txn, clock, by, &input, login, hash, generated).await?,
            }
        }
    };
    let created = password.is_some();
    let role_added = match (input.role, &unit) {
        (StaffRole::InUnit(role), Some(unit)) => directory::add_membership(&txn, member.id, unit.id, role).await?,
        (StaffRole::Admin, _) => directory::set_admin(&txn, member.id, true).await?,
        (StaffRole::InUnit(_), None) => false,
    };
    if role_added {
        let detail = json!({ "role": input.role.as_str(), "unit": unit.as_ref().map(|u| u.slug.clone()) });
        audit_change(&txn, clock, by, AuditAction::RoleAdded, &member, detail).await?;
    }
    txn.commit().await?;
    let member = directory::find_staff(db, member.id).await?.unwrap_or(member);
    Ok(AddedStaff { member, password: password.flatten(), created, role_added })
}

/// Refuses `login` when a login that differs from it only in case exists: `Mueller` beside
/// `mueller` would be a second account that people mistake for the first.
async fn refuse_login_of_other_case<C: sea_orm::ConnectionTrait>(db: &C, login: &str) -> Result<(), ServiceError> {
    match directory::find_login_ignoring_case(db, login).await? {
        Some(other) => {
            let message = format!(
                "the login `{other}` exists already; logins must differ in more than case (to give that person a role, \
                 type the login as stored: `{other}`)"
            );
            Err(ServiceError::conflict_with(Clash::LoginTaken, message))
        }
        None => Ok(()),
    }
}

/// Whom an addition is for.
enum Who {
    Existing(StaffMember),
    /// A new account with this password hash (and the password, when generated).
    New {
        hash: String,
        generated: Option<String>,
    },
}

/// The hash of a new account's password: the one given, else a generated one (returned too).
async fn new_password(input: &StaffInput, login: &str) -> Result<(String, Option<String>), ServiceError> {
    match &input.password {
        Some(password) => {
            let password = NewPassword::parse(password, login, input.display_name.trim())
                .map_err(|problem| ServiceError::invalid("password", problem.to_string()))?;
            Ok((hash_new_password(&password).await?, None))
        }
        None => {
            let password = random_secret(16);
            Ok((hash_password(&password).await?, Some(password)))
        }
    }
}

/// Inserts a new member; returns it with the generated password, if one was generated.
async fn insert_new<C: sea_orm::ConnectionTrait>(
    db: &C,
    clock: &Clock,
    by: ChangedBy,
    input: &StaffInput,
    login: &str,
    hash: String,
    generated: Option<String>,
) -> Result<(StaffMember, Option<Option<String>>), ServiceError> {
    // Checked again in the transaction, in turn with others adding the same login in any case:
    // two requests adding `Mueller` and `mueller` at once both passed the check before it.
    directory::lock_login_ignoring_case(db, login).await?;
    refuse_login_of_other_case(db, login).await?;
    let new = NewStaff {
        login,
        display_name: input.display_name.trim(),
        email: input.email.as_deref(),
        languages: &input.languages,
        is_admin: false,
        password_hash: Some(hash),
    };
    let member =
        directory::insert_staff_with(db, new, generated.is_some(), clock.now()).await.map_err(|err| match err {
            StoreError::Duplicate(_) => ServiceError::conflict(Clash::LoginTaken),
            other => other.into(),
        })?;
    audit_change(db, clock, by, AuditAction::StaffAdded, &member, json!({ "generated_password": generated.is_some() }))
        .await?;
    Ok((member, Some(generated)))
}

/// The person `staff_id`, their row locked until the transaction `txn` ends, if still active:
/// what a credential made in `txn` (a token, a calendar subscription) holds to, so a deactivation
/// committing meanwhile either comes first (and this refuses) or waits and then ends it too.
///
/// # Errors
/// `NotFound` (no such person, or inactive); database failures.
pub(crate) async fn lock_active_staff<C: sea_orm::ConnectionTrait>(
    txn: &C,
    staff_id: crate::domain::ids::StaffId,
) -> Result<StaffMember, ServiceError> {
    directory::lock_staff(txn, staff_id)
        .await?
        .filter(|member| member.active)
        .ok_or_else(|| ServiceError::not_found(Missing::StaffMember))
}

/// Refuses (and records) anyone but an admin.
///
/// # Errors
/// `Forbidden`.
pub async fn require_admin(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    action: &str,
) -> Result<(), ServiceError> {
    if actor.is_admin() {
        return Ok(());
    }
    super::access::deny(db, clock, actor, action, "admin").await
}

/// Every staff member with their roles (admins only).
///
/// # Errors
/// `Forbidden`.
pub async fn list_staff_as(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
) -> Result<Vec<StaffMember>, ServiceError> {
    require_admin(db, clock, actor, "staff.list").await?;
    Ok(directory::list_staff(db).await?)
}

/// Every location, for choosing where a new unit counsels.
///
/// # Errors
/// Database failures.
pub async fn list_locations(db: &DatabaseConnection) -> Result<Vec<Location>, ServiceError> {
    Ok(directory::list_locations(db).await?)
}

/// A new unit as an admin enters it.
#[derive(Debug, Clone, Copy)]
pub struct UnitInput<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub short_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub location_id: LocationId,
    pub default_slot_minutes: i32,
    pub languages: &'a [Language],
    pub confidential: bool,
    /// Days personal data is kept after the appointment (see `domain::retention`).
    pub retention_days: i32,
}

/// What a unit's slug must be.
pub const SLUG_RULE: &str = "use 2 to 40 lower-case letters, digits and dashes, at least one letter";

/// Whether `slug` can name a unit: with at least one letter, since a key of digits alone is read
/// as a unit's id (a unit `12` would stand for the unit with id 12 in every URL).
pub fn is_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && slug.chars().any(|c| c.is_ascii_lowercase())
}

/// A new unit (admins only).
///
/// # Errors
/// `Forbidden`, `Conflict` (slug taken), `NotFound` (location).
pub async fn create_unit(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    input: UnitInput<'_>,
) -> Result<Unit, ServiceError> {
    let new = NewUnit {
        slug: input.slug,
        name: input.name,
        short_name: input.short_name,
        phone: input.phone,
        email: input.email,
        location_id: input.location_id.get(),
        default_slot_minutes: input.default_slot_minutes,
        languages: input.languages,
        confidential: input.confidential,
        retention_days: input.retention_days,
    };
    if !actor.is_admin() {
        super::access::deny(db, clock, actor, "unit.create", "units").await?;
    }
    if !is_slug(new.slug) {
        return Err(ServiceError::invalid("slug", SLUG_RULE));
    }
    crate::domain::retention::check_days(new.retention_days)
        .map_err(|message| ServiceError::invalid("retention_days", message))?;
    for (field, value, min, max) in
        [("name", new.name, 1, 200), ("short_name", new.short_name, 1, 60), ("phone", new.phone, 3, 60)]
    {
        check_length(field, value.trim(), min, max)?;
        crate::domain::text::check_name(value).map_err(|message| ServiceError::invalid(field, message))?;
    }
    if !crate::domain::citizen::is_email(new.email.trim()) {
        return Err(ServiceError::invalid("email", "not an email address"));
    }
    directory::find_location(db, LocationId::new(new.location_id))
        .await?
        .ok_or_else(|| ServiceError::invalid("location_id", "no such location"))?;
    // The unit and its record commit together: no unit without its audit record.
    let txn = crate::store::begin_write(db).await?;
    let unit = directory::insert_unit(&txn, new, clock.now()).await.map_err(|err| match err {
        StoreError::Duplicate(_) => ServiceError::conflict(Clash::SlugTaken),
        // The location was deleted since it was read above: its key refuses the unit.
        StoreError::MissingReference(_) => ServiceError::invalid("location_id", "no such location"),
        other => other.into(),
    })?;
    let entry = super::audit::AuditEntry::by(actor, super::audit::AuditAction::UnitCreated).unit(unit.id);
    super::audit::record(&txn, clock, entry).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(unit)
}
