//! Credentials: argon2id password hashes, API tokens stored as SHA-256 hashes, the first admin.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use rand::RngExt;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::ServiceError;
use super::audit::{AuditAction, AuditEntry};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::store::directory::{self, NewStaff};

/// Login of the administrator created on first start.
pub const FIRST_ADMIN_LOGIN: &str = "admin";

/// Prefix of every API token, so leaked tokens are easy to recognise.
const TOKEN_PREFIX: &str = "tb_";
/// Characters of generated passwords and tokens: no look-alikes.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";

/// A random string of `len` characters from an unambiguous alphabet.
pub fn random_secret(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Hashes a password with argon2id and a random salt.
///
/// # Errors
/// `Invalid` when hashing fails (e.g. an absurdly long password).
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| ServiceError::invalid("password", err.to_string()))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an API token for the staff member with `login`; returns the token (shown once).
///
/// # Errors
/// `NotFound` for an unknown login.
pub async fn create_token(
    db: &DatabaseConnection,
    clock: &Clock,
    login: &str,
    label: &str,
) -> Result<String, ServiceError> {
    let member = directory::find_staff_by_login(db, login)
        .await?
        .filter(|m| m.active)
        .ok_or_else(|| ServiceError::not_found("staff_not_found", "staff member"))?;
    let token = format!("{TOKEN_PREFIX}{}", random_secret(40));
    directory::insert_token(db, member.id, token_hash(&token), label, clock.now()).await?;
    let entry = AuditEntry::system(AuditAction::TokenCreated).target(format!("staff:{}", member.id));
    super::audit::record(db, clock, entry.detail(serde_json::json!({ "label": label }))).await?;
    Ok(token)
}

/// Valid tokens recently seen, with their actor, for a short while: an integration that sends
/// many requests in a burst does not look up its token, its owner and their roles for each.
/// A revoked token, a deactivated owner or a changed role takes effect once the entry expires
/// (`TERMINBUCH_TOKEN_CACHE_MS`, 2 s by default; 0 turns the cache off). Unknown tokens are
/// never cached.
#[derive(Clone)]
pub struct TokenCache(Option<moka::sync::Cache<String, Actor>>);

impl TokenCache {
    /// A cache keeping entries for `lifetime` (none at all for zero).
    pub fn new(lifetime: std::time::Duration) -> Self {
        Self(super::short_lived_cache(lifetime, 10_000))
    }
}

/// The actor a bearer token belongs to, if the token is valid.
///
/// # Errors
/// Database failures.
pub async fn authenticate_token(
    db: &DatabaseConnection,
    cache: &TokenCache,
    token: &str,
) -> Result<Option<Actor>, ServiceError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = token_hash(token);
    if let Some(actor) = cache.0.as_ref().and_then(|c| c.get(&hash)) {
        return Ok(Some(actor));
    }
    let actor = directory::actor_for_token_hash(db, &hash).await?;
    if let (Some(cache), Some(actor)) = (&cache.0, &actor) {
        cache.insert(hash, actor.clone());
    }
    Ok(actor)
}

/// The actor for a login and password, if they match an active staff member.
///
/// # Errors
/// Database failures.
pub async fn authenticate_password(
    db: &DatabaseConnection,
    login: &str,
    password: &str,
) -> Result<Option<Actor>, ServiceError> {
    let found = directory::find_login_credentials(db, login).await?;
    // An unknown login (or one without a password) is checked against a stand-in hash, so the
    // answer takes as long as for a wrong password and does not tell which logins exist.
    let (member, hash) = match found {
        Some((member, Some(hash))) => (Some(member), hash),
        _ => (None, STAND_IN_HASH.clone()),
    };
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or_else(|err| {
        tracing::error!(error = %err, "password check did not finish: treated as a mismatch");
        false
    });
    match member {
        Some(member) if matches => Ok(directory::actor_for_staff(db, member.id).await?),
        _ => Ok(None),
    }
}

/// The hash an unknown login's password is checked against (of a random secret nobody knows).
static STAND_IN_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&random_secret(24)).unwrap_or_default());

/// With no admin yet, creates `admin` with a generated password and returns `(login, password)`.
///
/// # Errors
/// Database failures.
pub async fn ensure_first_admin<C: sea_orm::ConnectionTrait>(
    db: &C,
    clock: &Clock,
) -> Result<Option<(String, String)>, ServiceError> {
    if directory::count_admins(db).await? > 0 {
        return Ok(None);
    }
    let password = random_secret(20);
    let new = NewStaff {
        login: FIRST_ADMIN_LOGIN,
        display_name: "Administration",
        email: None,
        languages: &[],
        is_admin: true,
        password_hash: Some(hash_password(&password)?),
    };
    match directory::find_staff_by_login(db, FIRST_ADMIN_LOGIN).await? {
        // A non-admin called `admin` exists: do not take it over, report instead.
        Some(_) => Err(ServiceError::conflict("login_taken", "a staff member named `admin` exists but is no admin")),
        None => {
            let admin = directory::insert_staff(db, new, clock.now()).await?;
            let entry = AuditEntry::system(AuditAction::StaffAdded).target(format!("staff:{}", admin.id));
            super::audit::record(db, clock, entry.detail(serde_json::json!({ "role": "admin", "first_admin": true })))
                .await?;
            Ok(Some((FIRST_ADMIN_LOGIN.to_owned(), password)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("korrekt pferd batterie").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("korrekt pferd batterie", &hash));
        assert!(!verify_password("falsch", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn token_hashes_are_stable_and_do_not_contain_the_token() {
        let token = format!("{TOKEN_PREFIX}{}", random_secret(40));
        assert_eq!(token_hash(&token), token_hash(&token));
        assert_eq!(token_hash(&token).len(), 64);
        assert!(!token_hash(&token).contains(&token[3..]));
    }
}
