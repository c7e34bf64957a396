//! Credentials: argon2id password hashes (checked and made through one function each, off the
//! async workers), the login check and the first admin. API tokens are in [`super::tokens`]
//! (re-exported here).

use rand::RngExt;
use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::audit::{AuditAction, AuditEntry, AuditTarget};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::clash::Clash;
use crate::domain::password::NewPassword;
use crate::store::directory::{self, NewStaff};

pub use super::tokens::{TokenCache, authenticate_token, create_token};

/// Login of the administrator created on first start.
pub const FIRST_ADMIN_LOGIN: &str = "admin";
/// Characters of generated passwords and tokens: no look-alikes.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";

/// A random string of `len` characters from an unambiguous alphabet.
pub fn random_secret(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Hashes a new password with argon2id and a random salt (on the bounded hashing threads).
///
/// # Errors
/// `Overloaded` when no hashing thread became free within [`super::hashing::WAIT`]; `Invalid`
/// when hashing fails.
pub async fn hash_password(password: &str) -> Result<String, ServiceError> {
    super::hashing::hash(password).await
}

/// Whether `password` matches the stored PHC string (on the bounded hashing threads).
///
/// # Errors
/// `Overloaded` when no hashing thread became free within [`super::hashing::WAIT`].
pub async fn verify_password(password: &str, stored: &str) -> Result<bool, ServiceError> {
    super::hashing::verify(password, stored).await
}

/// Whether `password` matches the stored PHC string: every password check of the service goes
/// through here (on the bounded hashing threads).
///
/// # Errors
/// `Overloaded` when no hashing thread became free in time.
pub async fn check_password(password: &str, stored: String) -> Result<bool, ServiceError> {
    verify_password(password, &stored).await
}

/// Hashes a new password that passed the password rules (on the bounded hashing threads).
///
/// # Errors
/// `Overloaded`; `Invalid` when hashing fails.
pub async fn hash_new_password(password: &NewPassword) -> Result<String, ServiceError> {
    hash_password(password.expose()).await
}

/// What a login and password came to.
#[derive(Debug)]
pub enum Checked {
    /// They match a person allowed to log in: their actor, with the session epoch read together
    /// with the password's hash.
    Right(Actor, i32),
    /// They match a person who may not log in (deactivated): refused like a wrong password, but
    /// worth telling the admins (someone who left, or their password in other hands).
    Inactive,
    /// No such login, no password, or another password.
    Wrong,
}

/// Checks a login and password. A session made from a right check carries the epoch read with
/// the password's hash, so a password change (or reset, or deactivation) that commits while the
/// check runs ends it.
///
/// # Errors
/// Database failures.
pub async fn authenticate_password(
    db: &DatabaseConnection,
    login: &str,
    password: &str,
) -> Result<Checked, ServiceError> {
    let found = directory::find_login_credentials(db, login).await?;
    // An unknown login (or one without a password) is checked against a stand-in hash, so the
    // answer takes as long as for a wrong password and does not tell which logins exist.
    let (member, hash) = match found {
        Some((member, Some(hash), epoch)) => (Some((member, epoch)), hash),
        _ => (None, stand_in_hash().await?.to_owned()),
    };
    let matches = verify_password(password, &hash).await?;
    match member {
        Some((member, epoch)) if matches => Ok(match directory::actor_for_staff(db, member.id).await? {
            Some(actor) => Checked::Right(actor, epoch),
            None => Checked::Inactive,
        }),
        _ => Ok(Checked::Wrong),
    }
}

/// The hash an unknown login's password is checked against (of a random secret nobody knows),
/// made with the parameters of new hashes.
async fn stand_in_hash() -> Result<&'static str, ServiceError> {
    static STAND_IN: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    STAND_IN.get_or_try_init(|| async { hash_password(&random_secret(24)).await }).await.map(String::as_str)
}

/// With no admin yet, creates `admin` with a generated password, to be changed at the first
/// login, and returns `(login, password)`.
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
        password_hash: Some(hash_password(&password).await?),
    };
    match directory::find_staff_by_login(db, FIRST_ADMIN_LOGIN).await? {
        // A non-admin called `admin` exists: do not take it over, report instead.
        Some(_) => {
            Err(ServiceError::conflict_with(Clash::LoginTaken, "a staff member named `admin` exists but is no admin"))
        }
        None => {
            let admin = directory::insert_staff_with(db, new, true, clock.now()).await?;
            let entry = AuditEntry::system(AuditAction::StaffAdded).target(AuditTarget::Staff(admin.id));
            super::audit::record(db, clock, entry.detail(serde_json::json!({ "role": "admin", "first_admin": true })))
                .await?;
            Ok(Some((FIRST_ADMIN_LOGIN.to_owned(), password)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("korrekt pferd batterie").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("korrekt pferd batterie", &hash).await.unwrap());
        assert!(!verify_password("falsch", &hash).await.unwrap());
        assert!(!verify_password("x", "not a hash").await.unwrap());
    }
}
