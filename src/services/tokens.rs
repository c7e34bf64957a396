//! API tokens: created with a name and an expiry, stored as SHA-256 hashes, listed, revoked; the
//! per-process cache of valid tokens, which forgets a person's or a token's entries at once when
//! this process deactivates or revokes them.

use crate::domain::audit::AuditAction;
use crate::domain::missing::Missing;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ServiceError;
use super::accounts::{ChangedBy, audit_change};
use super::auth::random_secret;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::accounts::{DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, MAX_VALID_TOKENS, TOKEN_USE_RESOLUTION, TokenInfo};
use crate::domain::clash::Clash;
use crate::domain::ids::StaffId;
use crate::domain::page::Page;
use crate::domain::records::StaffMember;
use crate::store::directory::{self, NewToken};

/// Prefix of every API token, so leaked tokens are easy to recognise.
const TOKEN_PREFIX: &str = "tb_";
/// Longest name of a token.
const MAX_LABEL_CHARS: usize = 100;

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a new token is for and how long it lives.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// Name or purpose, e.g. `calendar sync`.
    pub label: String,
    /// Days until it expires (1 to 365; default 90).
    pub days: u32,
}

impl TokenSpec {
    /// A token named `label` for the default 90 days.
    pub fn named(label: &str) -> Self {
        Self { label: label.to_owned(), days: DEFAULT_TOKEN_DAYS }
    }

    fn check(&self) -> Result<&str, ServiceError> {
        let label = self.label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(ServiceError::invalid("name", "use 1 to 100 characters without control characters"));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&self.days) {
            return Err(ServiceError::invalid("expires_in_days", "must be between 1 and 365"));
        }
        Ok(label)
    }
}

/// A token just created: the secret itself (shown once) and what is stored about it.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub token: String,
    pub info: TokenInfo,
}

/// Creates an API token for the active staff member with `login`, valid for 90 days; returns
/// the token (shown once).
///
/// # Errors
/// `NotFound` for an unknown or inactive login.
pub async fn create_token(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    label: &str,
) -> Result<String, ServiceError> {
    Ok(create_for_login(db, clock, login, &TokenSpec::named(label)).await?.token)
}

/// Creates an API token for the active staff member with `login` (the operator's command line).
///
/// # Errors
/// `NotFound` for an unknown or inactive login, `Invalid` name or lifetime.
pub async fn create_for_login(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    spec: &TokenSpec,
) -> Result<CreatedToken, ServiceError> {
    let member =
        directory::find_staff_meant(db, login).await?.ok_or_else(|| ServiceError::not_found(Missing::StaffMember))?;
    create_for(db, clock, ChangedBy::operator(), member.id, spec, None).await
}

/// Creates an API token for the actor itself, with the token the request came with (`parent`):
/// the new token expires when its parent does at the latest, and revoking the parent revokes it.
/// The person must still be active and the parent still valid (not revoked through another
/// process meanwhile: the token cache may have let it through).
///
/// # Errors
/// `Invalid` name or lifetime; `NotFound` for an inactive person (`staff_not_found`) or a parent
/// revoked meanwhile (`token_not_found`).
pub async fn create_own(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    parent: BearerToken,
    spec: &TokenSpec,
) -> Result<CreatedToken, ServiceError> {
    create_for(db, clock, actor.into(), actor.staff_id(), spec, Some(parent)).await
}

/// Checks that the person is active and the parent valid and stores the token, in one write
/// transaction that holds both rows: a deactivation or a revocation of the parent at the same
/// moment either comes first (and this is refused) or waits and then revokes the new token too.
/// A person holding [`MAX_VALID_TOKENS`] valid tokens gets no more (`TooManyTokens`): counted
/// while their row is locked, so two requests at once cannot both pass the last place.
async fn create_for(
    db: &DatabaseConnection,
    clock: &Clock,
    by: ChangedBy,
    staff_id: StaffId,
    spec: &TokenSpec,
    parent: Option<BearerToken>,
) -> Result<CreatedToken, ServiceError> {
    let label = spec.check()?;
    let token = format!("{TOKEN_PREFIX}{}", random_secret(40));
    let txn = crate::store::begin_write(db).await?;
    let member = super::directory::lock_active_staff(&txn, staff_id).await?;
    let now = clock.now();
    if let Some(parent) = parent {
        directory::lock_token(&txn, parent.id)
            .await?
            .filter(|token| token.staff_id == member.id && token.is_valid_at(now))
            .ok_or_else(|| ServiceError::not_found(Missing::Token))?;
    }
    if directory::count_valid_tokens(&txn, staff_id, now).await? >= MAX_VALID_TOKENS {
        return Err(ServiceError::conflict(Clash::TooManyTokens));
    }
    let asked = now + TimeDelta::days(i64::from(spec.days));
    let new = NewToken {
        staff_id: staff_id.get(),
        token_hash: token_hash(&token),
        label,
        created_at: now,
        expires_at: parent.map_or(asked, |parent| asked.min(parent.expires_at)),
        parent_token_id: parent.map(|parent| parent.id),
    };
    let info = directory::insert_token(&txn, new).await?;
    let detail = json!({
        "token_id": info.id, "name": label, "expires_at": info.expires_at,
        "parent_token_id": parent.map(|parent| parent.id),
    });
    audit_change(&txn, clock, by, AuditAction::TokenCreated, &member, detail).await?;
    txn.commit().await?;
    Ok(CreatedToken { token, info })
}

/// The token a request was authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BearerToken {
    pub id: i32,
    pub expires_at: DateTime<Utc>,
}

/// Valid tokens recently seen, with their actor, for a short while: an integration that sends
/// many requests in a burst does not look up its token, its owner and their roles for each.
/// A revocation or deactivation through this process forgets the entries at once; one through
/// another process takes effect once the entry expires (`TERMINBUCH_TOKEN_CACHE_MS`, 2 s by
/// default; 0 turns the cache off). An expired token is refused even from the cache. Unknown
/// tokens are never cached.
#[derive(Clone)]
pub struct TokenCache {
    cache: Option<moka::sync::Cache<String, CachedToken>>,
    clock: Clock,
    /// Moves on with every forgetting: an owner read before it (a deactivation, a role taken
    /// away, a revocation committed meanwhile) is not cached after it.
    forgotten: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Clone)]
struct CachedToken {
    actor: Actor,
    token_id: i32,
    expires_at: DateTime<Utc>,
}

impl TokenCache {
    /// A cache keeping entries for `lifetime` (none at all for zero), judging expiry by `clock`.
    pub fn new(lifetime: std::time::Duration, clock: Clock) -> Self {
        Self { cache: super::short_lived_cache(lifetime, 10_000), clock, forgotten: std::sync::Arc::default() }
    }

    /// Forgets every cached token of a staff member (deactivated, or a role changed).
    pub fn forget_staff(&self, staff_id: StaffId) {
        self.forget_where(|entry| entry.actor.staff_id() == staff_id);
    }

    /// Forgets one cached token (revoked).
    pub fn forget_token(&self, token_id: i32) {
        self.forget_where(|entry| entry.token_id == token_id);
    }

    /// How often something was forgotten so far (read before an owner is read from the database).
    fn generation(&self) -> u64 {
        self.forgotten.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Caches `entry` unless something was forgotten since `seen` (the entry may be stale then).
    /// Inserted first and checked after: a forgetting between a check and the insert would leave
    /// the stale entry in; this way it either finds the entry or is seen by the check.
    fn insert_unless_forgotten(&self, seen: u64, hash: String, entry: CachedToken) {
        if let Some(cache) = &self.cache {
            cache.insert(hash.clone(), entry);
            if self.generation() != seen {
                cache.invalidate(&hash);
            }
        }
    }

    fn forget_where(&self, matches: impl Fn(&CachedToken) -> bool) {
        self.forgotten.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            for (hash, entry) in cache.iter() {
                if matches(&entry) {
                    cache.invalidate(hash.as_ref());
                }
            }
        }
    }
}

/// The actor a bearer token belongs to, with the token's id and expiry, if the token is valid
/// (known, unrevoked, unexpired, its owner active).
///
/// # Errors
/// Database failures.
pub async fn authenticate_token(
    db: &DatabaseConnection,
    cache: &TokenCache,
    token: &str,
) -> Result<Option<(Actor, BearerToken)>, ServiceError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let now = cache.clock.now();
    let hash = token_hash(token);
    if let Some(cached) = &cache.cache
        && let Some(entry) = cached.get(&hash)
    {
        if entry.expires_at > now {
            return Ok(Some((entry.actor, BearerToken { id: entry.token_id, expires_at: entry.expires_at })));
        }
        cached.invalidate(&hash);
        return Ok(None);
    }
    let seen = cache.generation();
    let Some(owner) = directory::owner_of_token(db, &hash, now).await? else {
        return Ok(None);
    };
    if owner.last_used_at.is_none_or(|at| at <= now - TOKEN_USE_RESOLUTION) {
        directory::touch_token(db, owner.token_id, now).await?;
    }
    // Not cached when something was forgotten since the read: the owner read may be stale.
    let entry = CachedToken { actor: owner.actor.clone(), token_id: owner.token_id, expires_at: owner.expires_at };
    cache.insert_unless_forgotten(seen, hash, entry);
    Ok(Some((owner.actor, BearerToken { id: owner.token_id, expires_at: owner.expires_at })))
}

/// A staff member's tokens by login, newest first.
///
/// # Errors
/// `NotFound` for an unknown login.
pub async fn list_for_login(db: &DatabaseConnection, login: &str) -> Result<Vec<TokenInfo>, ServiceError> {
    let member =
        directory::find_staff_meant(db, login).await?.ok_or_else(|| ServiceError::not_found(Missing::StaffMember))?;
    Ok(directory::list_tokens(db, member.id, None).await?)
}

/// A staff member's tokens, newest first: every valid one and the `ended` newest of those
/// revoked or expired (all of them without `ended`).
///
/// # Errors
/// Database failures.
pub async fn list(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    ended: Option<u64>,
) -> Result<Vec<TokenInfo>, ServiceError> {
    Ok(directory::list_tokens(db, staff_id, ended.map(|n| (clock.now(), n))).await?)
}

/// How many of a staff member's tokens are revoked or expired ([`list`] with `ended` shows the
/// newest of them).
///
/// # Errors
/// Database failures.
pub async fn count_ended(db: &DatabaseConnection, clock: &Clock, staff_id: StaffId) -> Result<u64, ServiceError> {
    Ok(directory::count_ended_tokens(db, staff_id, clock.now()).await?)
}

/// One answer of a person's token list, newest first.
#[derive(Debug)]
pub struct TokenPage {
    pub tokens: Vec<TokenInfo>,
    /// More ended tokens follow: the id to read on from (the last ended token listed).
    pub next_before: Option<i32>,
}

/// A staff member's tokens a page at a time, newest first. The first page (`before` is `None`)
/// holds every valid token (at most [`MAX_VALID_TOKENS`]) and the `ended` newest of those revoked or
/// expired; the next pages, from `before` on (a token of theirs), only ended tokens older than it.
///
/// # Errors
/// `Invalid` naming `before` when it is none of the person's tokens.
pub async fn page(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    ended: u64,
    before: Option<i32>,
) -> Result<TokenPage, ServiceError> {
    let now = clock.now();
    let before = match before {
        Some(id) => Some(
            directory::find_token(db, id)
                .await?
                .filter(|token| token.staff_id == staff_id)
                .ok_or_else(|| ServiceError::invalid("before", "not one of this person's tokens"))?,
        ),
        None => None,
    };
    let read = directory::ended_tokens(db, staff_id, now, before.as_ref(), ended.saturating_add(1)).await?;
    let (mut tokens, more) = Page::from_one_more(read, ended).into_parts();
    let next_before = tokens.last().filter(|_| more).map(|last| last.id);
    if before.is_none() {
        tokens.extend(directory::valid_tokens(db, staff_id, now).await?);
        tokens.sort_by_key(|token| std::cmp::Reverse((token.created_at, token.id)));
    }
    Ok(TokenPage { tokens, next_before })
}

/// Revokes one token by id, whoever owns it (for admins and the operator; `by` as in the audit
/// log), and every token made with it; returns it and the ids of those made with it.
///
/// # Errors
/// `NotFound` for an unknown id.
pub async fn revoke(
    db: &DatabaseConnection,
    clock: &Clock,
    cache: &TokenCache,
    by: ChangedBy,
    id: i32,
) -> Result<(TokenInfo, Vec<i32>), ServiceError> {
    let token = directory::find_token(db, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Token))?;
    let txn = crate::store::begin_write(db).await?;
    let (revoked, made_with_it) = directory::revoke_token(&txn, id, clock.now()).await?;
    if (revoked || !made_with_it.is_empty())
        && let Some(owner) = directory::find_staff(&txn, token.staff_id).await?
    {
        let detail = json!({ "token_id": id, "made_with_it": made_with_it });
        audit_change(&txn, clock, by, AuditAction::TokenRevoked, &owner, detail).await?;
    }
    txn.commit().await.map_err(crate::store::StoreError::from)?;
    for token_id in std::iter::once(id).chain(made_with_it.iter().copied()) {
        cache.forget_token(token_id);
    }
    Ok((token, made_with_it))
}

/// Revokes one of the actor's own tokens.
///
/// # Errors
/// `NotFound` when the actor has no token with this id.
pub async fn revoke_own(
    db: &DatabaseConnection,
    clock: &Clock,
    cache: &TokenCache,
    actor: &Actor,
    id: i32,
) -> Result<TokenInfo, ServiceError> {
    revoke_of(db, clock, cache, actor.into(), actor.staff_id(), id).await
}

/// Revokes one token of `owner` (as [`revoke`], `by` as in the audit log): a token of someone
/// else is not found.
///
/// # Errors
/// `NotFound` when `owner` has no token with this id.
pub async fn revoke_of(
    db: &DatabaseConnection,
    clock: &Clock,
    cache: &TokenCache,
    by: ChangedBy,
    owner: StaffId,
    id: i32,
) -> Result<TokenInfo, ServiceError> {
    match directory::find_token(db, id).await? {
        Some(token) if token.staff_id == owner => revoke(db, clock, cache, by, id).await.map(|(token, _)| token),
        _ => Err(ServiceError::not_found(Missing::Token)),
    }
}

/// What revoking a person's standing access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    /// API tokens that were still unrevoked.
    pub tokens: u64,
    /// Whether a calendar subscription was deleted (one made on the page belongs to no token and
    /// would otherwise stay).
    pub calendar_feed: bool,
}

/// Revokes every token of a staff member and deletes their calendar subscription: everything
/// that reaches their data without their password (after a suspected compromise).
///
/// # Errors
/// Database failures.
pub async fn revoke_all(
    db: &DatabaseConnection,
    clock: &Clock,
    cache: &TokenCache,
    by: ChangedBy,
    member: &StaffMember,
) -> Result<Revoked, ServiceError> {
    // The person's row is locked first, as a token (or subscription) made meanwhile holds it:
    // it is either committed before (and ended here) or made after (and refused, its parent
    // revoked).
    let txn = crate::store::begin_write(db).await?;
    directory::lock_staff(&txn, member.id).await?;
    let tokens = directory::revoke_all_tokens(&txn, member.id, clock.now()).await?;
    let calendar_feed = crate::store::calendar_feeds::delete_for_staff(&txn, member.id).await?;
    let detail = json!({ "revoked": tokens, "calendar_feed_deleted": calendar_feed });
    audit_change(&txn, clock, by, AuditAction::TokenRevoked, member, detail).await?;
    txn.commit().await?;
    cache.forget_staff(member.id);
    Ok(Revoked { tokens, calendar_feed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_read_before_a_forgetting_is_not_cached_after_it() {
        let clock = Clock::fixed(chrono::Utc::now());
        let cache = TokenCache::new(std::time::Duration::from_secs(60), clock.clone());
        let actor = Actor::new(StaffId::new(7), "empfang".to_owned(), false, Vec::new());
        let entry = || CachedToken { actor: actor.clone(), token_id: 1, expires_at: clock.now() + TimeDelta::days(1) };
        let cached = |hash: &str| cache.cache.as_ref().and_then(|c| c.get(hash)).is_some();

        let seen = cache.generation();
        cache.forget_staff(StaffId::new(7)); // a deactivation commits while the owner is read
        cache.insert_unless_forgotten(seen, "stale".to_owned(), entry());
        assert!(!cached("stale"), "read before the forgetting: not cached");

        let seen = cache.generation();
        cache.insert_unless_forgotten(seen, "fresh".to_owned(), entry());
        assert!(cached("fresh"));
    }

    #[test]
    fn token_hashes_are_stable_and_do_not_contain_the_token() {
        let token = format!("{TOKEN_PREFIX}{}", random_secret(40));
        assert_eq!(token_hash(&token), token_hash(&token));
        assert_eq!(token_hash(&token).len(), 64);
        assert!(!token_hash(&token).contains(&token[3..]));
    }

    #[test]
    fn token_names_and_lifetimes_are_checked() {
        assert!(TokenSpec::named("calendar sync").check().is_ok());
        assert!(TokenSpec::named(" ").check().is_err());
        assert!(TokenSpec::named("a\nb").check().is_err());
        assert!(TokenSpec { label: "x".into(), days: 0 }.check().is_err());
        assert!(TokenSpec { label: "x".into(), days: 366 }.check().is_err());
        assert!(TokenSpec { label: "x".into(), days: 365 }.check().is_ok());
    }
}
