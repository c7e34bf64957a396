//! The second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of clock
//! skew either way) enrolled with a QR code, 10 one-time recovery codes, the check at login
//! (a code is accepted once; wrong codes in a row lock the person's second factor for ever longer:
//! `domain::throttle::SECOND_FACTOR`), and an admin's reset.

use crate::domain::audit::AuditAction;
use crate::domain::missing::Missing;
use rand::RngExt;
use sea_orm::DatabaseConnection;
use serde_json::json;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::ServiceError;
use super::accounts::{Accounts, ByWhom, ChangedBy, audit_change};
use super::tokens::token_hash;
use crate::clock::Clock;
use crate::domain::ids::StaffId;
use crate::domain::throttle;
use crate::store::throttle::Reservation;
use crate::store::{self, StoreError, directory, mfa};

/// Name shown in authenticator apps.
const ISSUER: &str = "Terminbuch";
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of recovery codes: lower case, no look-alikes (16 of them: 77 bits).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz34679";

/// Why a second factor was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("the code is wrong or was used already")]
    WrongCode,
    /// `first`: the first attempt refused since the lock began (the one to record).
    #[error("too many wrong codes; try again in {retry_after_secs} seconds")]
    Throttled { first: bool, retry_after_secs: u64 },
    #[error("a second factor is enrolled already")]
    AlreadyEnrolled,
    #[error("no second factor is enrolled")]
    NotEnrolled,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for MfaError {
    fn from(err: StoreError) -> Self {
        Self::Service(err.into())
    }
}

/// A second factor being set up: the secret (kept in the session until confirmed), the
/// `otpauth://` URI and its QR code as inline SVG.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, also shown for typing into an app by hand.
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

fn totp(secret: &str, login: &str) -> Result<Totp, ServiceError> {
    let bytes = Secret::try_from_base32(secret)
        .map_err(|err| ServiceError::invalid("secret", format!("not base32: {err:?}")))?
        .as_bytes()
        .to_vec();
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_secret(bytes)
        .with_issuer(Some(ISSUER))
        .with_account_name(login)
        .build()
        .map_err(|err| ServiceError::invalid("secret", err.to_string()))
}

/// The enrolment of `login` with the secret shown before (a reload, a wrong code) or a new one.
///
/// # Errors
/// When the QR code cannot be made (not for the URIs made here).
pub fn enrolment(login: &str, shown_before: Option<&str>) -> Result<Enrolment, ServiceError> {
    let secret = match shown_before.filter(|s| Secret::try_from_base32(s).is_ok()) {
        Some(secret) => secret.to_owned(),
        None => {
            let mut bytes = [0u8; 20];
            rand::rng().fill(&mut bytes);
            Secret::new(Box::new(bytes)).to_base32()
        }
    };
    let uri = totp(&secret, login)?.to_url().map_err(|err| ServiceError::invalid("secret", err.to_string()))?;
    let qr_svg = qr_svg(&uri)?;
    Ok(Enrolment { secret, uri, qr_svg })
}

/// The QR code of `text` as an SVG element (no script, no external image: the pages' CSP).
fn qr_svg(text: &str) -> Result<String, ServiceError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|err| ServiceError::invalid("qr", err.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    // Drop the XML prolog: the SVG is embedded in HTML.
    Ok(svg.find("<svg").map_or(svg.clone(), |at| svg[at..].to_owned()))
}

/// The time step a code of `secret` given at the clock's now belongs to, if it is right.
fn matching_step(secret: &str, login: &str, code: &str, clock: &Clock) -> Result<Option<i64>, ServiceError> {
    let now = u64::try_from(clock.now().timestamp()).unwrap_or_default();
    let step = totp(secret, login)?.check(code, now);
    Ok(step.and_then(|s| i64::try_from(s).ok()))
}

/// A completed enrolment.
#[derive(Debug)]
pub struct Enrolled {
    /// The 10 recovery codes, shown once.
    pub codes: Vec<String>,
    /// The person's new session epoch: every other session of theirs has ended.
    pub epoch: i32,
}

/// Confirms an enrolment with a code from the app; stores the secret and returns the 10
/// recovery codes (shown once; only their hashes are kept). Every web session of the person
/// ends: one logged in with the password alone, waiting at the enrolment step, would otherwise
/// pass the step the moment the factor exists, without ever giving a code (the caller keeps its
/// own session by stamping the returned epoch into it).
///
/// `session_epoch` is the epoch of the session enrolling: the factor is stored only while it is
/// still the person's and the account is active.
///
/// # Errors
/// `WrongCode`, `AlreadyEnrolled`; `Conflict` (`ConcurrentUpdate`, nothing stored) when the
/// person's sessions ended or the account was deactivated while the code was checked (an admin's
/// reset of the second factor, a password change elsewhere): enrolling then would hand this
/// session the new epoch and undo the lock-out.
pub async fn confirm_enrolment(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    secret: &str,
    code: &str,
    session_epoch: i32,
    client: Option<std::net::IpAddr>,
) -> Result<Enrolled, MfaError> {
    let member =
        directory::find_staff(db, staff_id).await?.ok_or_else(|| ServiceError::not_found(Missing::StaffMember))?;
    let step = matching_step(secret, &member.login, code.trim(), clock)?.ok_or(MfaError::WrongCode)?;
    let codes = recovery_codes();
    let txn = store::begin_write(db).await?;
    let active = directory::lock_staff(&txn, staff_id).await?.is_some_and(|m| m.active);
    if !active || directory::epoch_of(&txn, staff_id).await? != session_epoch {
        tracing::warn!(staff_id = staff_id.get(), "enrolment refused: the account changed meanwhile");
        return Err(ServiceError::conflict(crate::domain::clash::Clash::ConcurrentUpdate).into());
    }
    match mfa::insert_totp(&txn, staff_id, secret, step, clock.now()).await {
        Err(StoreError::Duplicate(_)) => return Err(MfaError::AlreadyEnrolled),
        other => other?,
    }
    mfa::replace_recovery_codes(&txn, staff_id, &hashes(&codes)).await?;
    let epoch = directory::bump_epoch(&txn, staff_id).await?;
    audit_change(
        &txn,
        clock,
        ChangedBy::themselves(staff_id, client),
        AuditAction::SecondFactorEnrolled,
        &member,
        json!({}),
    )
    .await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(Enrolled { codes, epoch })
}

/// Which kind of second factor was used at login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    /// A recovery code, with how many are left.
    RecoveryCode {
        left: u64,
    },
}

/// A code accepted at login: which kind, and how many wrong codes in a row came before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub factor: SecondFactor,
    pub failed_before: i32,
}

/// Checks a code from the app or a recovery code at login. Each attempt is reserved against the
/// person's throttle key before it is checked (atomically in the database, so parallel codes get
/// no more tries than the rule allows, across processes too); a right one clears the key.
///
/// # Errors
/// `WrongCode` (also a code already used), `Throttled`, `NotEnrolled`.
pub async fn verify(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    code: &str,
) -> Result<Verified, MfaError> {
    let factor = mfa::find_totp(db, staff_id).await?.ok_or(MfaError::NotEnrolled)?;
    let now = clock.now();
    let keys = [throttle::second_factor_key(staff_id)];
    let forget_before = now - throttle::SECOND_FACTOR_FORGET_AFTER;
    if let Reservation::Locked { until, first, .. } = store::throttle::reserve(db, &keys, now, forget_before).await? {
        if first {
            tracing::warn!(staff_id = staff_id.get(), ?until, "second factor throttled");
        }
        return Err(MfaError::Throttled { first, retry_after_secs: throttle::retry_after_secs(until, now) });
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let used = if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        let login = directory::find_staff(db, staff_id).await?.map(|m| m.login).unwrap_or_default();
        match matching_step(&factor.secret, &login, &code, clock)? {
            Some(step) if mfa::accept_step(db, staff_id, step).await? => Some(SecondFactor::Totp),
            _ => None,
        }
    } else if mfa::use_recovery_code(db, staff_id, &token_hash(&normalise_recovery(&code)), now).await? {
        Some(SecondFactor::RecoveryCode { left: mfa::recovery_codes_left(db, staff_id).await? })
    } else {
        None
    };
    match used {
        Some(factor) => {
            let key = keys.map(|k| k.key);
            // The count includes this attempt, reserved above.
            let failed_before = store::throttle::failures(db, &key[0]).await?.saturating_sub(1).max(0);
            store::throttle::record_success(db, &key, &key[0], &[], now).await?;
            Ok(Verified { factor, failed_before })
        }
        None => {
            tracing::warn!(staff_id = staff_id.get(), "wrong second factor");
            Err(MfaError::WrongCode)
        }
    }
}

/// Whether a person has a second factor, and how many recovery codes are left.
///
/// # Errors
/// Database failures.
pub async fn status(db: &DatabaseConnection, staff_id: StaffId) -> Result<(bool, u64), ServiceError> {
    let enabled = mfa::find_totp(db, staff_id).await?.is_some();
    Ok((enabled, if enabled { mfa::recovery_codes_left(db, staff_id).await? } else { 0 }))
}

/// Replaces a person's recovery codes with 10 new ones (shown once).
///
/// # Errors
/// `NotEnrolled`.
pub async fn renew_recovery_codes(
    db: &DatabaseConnection,
    clock: &Clock,
    staff_id: StaffId,
    client: Option<std::net::IpAddr>,
) -> Result<Vec<String>, MfaError> {
    mfa::find_totp(db, staff_id).await?.ok_or(MfaError::NotEnrolled)?;
    let member =
        directory::find_staff(db, staff_id).await?.ok_or_else(|| ServiceError::not_found(Missing::StaffMember))?;
    let codes = recovery_codes();
    let txn = store::begin_write(db).await?;
    mfa::replace_recovery_codes(&txn, staff_id, &hashes(&codes)).await?;
    audit_change(
        &txn,
        clock,
        ChangedBy::themselves(staff_id, client),
        AuditAction::RecoveryCodesRenewed,
        &member,
        json!({}),
    )
    .await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(codes)
}

/// What a reset of a person's second factor did.
#[derive(Debug, Clone)]
pub struct MfaReset {
    pub had_second_factor: bool,
    /// When there was a factor: the one-time link the admin hands to the person. Their password
    /// was taken away with it, so that a password known to someone else (the reason for a
    /// second factor) does not let them set up a factor of their own before the person does.
    pub link: Option<super::passwords::ResetLink>,
}

/// Removes a person's second factor (admins and the operator): their sessions end, a lock of
/// wrong codes goes with it. When there was one, their password is taken away and a one-time
/// reset link made (earlier links stop working): the person sets a new password with it and then
/// the new factor. One transaction, audited as `second_factor_reset`.
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn reset(a: Accounts<'_>, by: ByWhom<'_>, login: &str) -> Result<MfaReset, ServiceError> {
    by.require_admin(a.db, a.clock, "staff.mfa_reset").await?;
    let missing = || ServiceError::not_found(Missing::StaffMember);
    let found = directory::find_staff_meant(a.db, login).await?.ok_or_else(missing)?;
    let txn = store::begin_write(a.db).await?;
    let member = directory::lock_staff(&txn, found.id).await?.ok_or_else(missing)?;
    let had = mfa::delete_second_factor(&txn, member.id).await?;
    // A lock of the old factor's wrong codes does not hold back the next one.
    store::throttle::forget(&txn, &throttle::second_factor_key(member.id).key).await?;
    directory::bump_epoch(&txn, member.id).await?;
    let link = if had {
        Some(super::passwords::store_reset_link(&txn, member.id, by.staff_id(), a.clock.now(), true).await?)
    } else {
        None
    };
    audit_change(
        &txn,
        a.clock,
        by.into(),
        AuditAction::SecondFactorReset,
        &member,
        json!({ "had_second_factor": had, "password_cleared": link.is_some() }),
    )
    .await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(MfaReset { had_second_factor: had, link })
}

fn recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> =
                (0..16).map(|_| char::from(RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())])).collect();
            chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// A recovery code as typed, without dashes or spaces, in lower case.
fn normalise_recovery(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

fn hashes(codes: &[String]) -> Vec<String> {
    codes.iter().map(|code| token_hash(&normalise_recovery(code))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_gives_a_base32_secret_an_otpauth_uri_and_an_svg_without_prolog() {
        let enrolment = enrolment("j.winterberg", None).unwrap();
        assert_eq!(super::enrolment("j.winterberg", Some(&enrolment.secret)).unwrap().secret, enrolment.secret);
        assert_eq!(enrolment.secret.len(), 32, "160 bits in base32");
        assert!(enrolment.uri.starts_with("otpauth://totp/Terminbuch:j.winterberg?"), "{}", enrolment.uri);
        assert!(enrolment.uri.contains(&format!("secret={}", enrolment.secret)));
        assert!(enrolment.qr_svg.starts_with("<svg"), "{}", &enrolment.qr_svg[..40]);
        assert!(!enrolment.qr_svg.contains("style="), "no inline style: the CSP forbids it");
    }

    #[test]
    fn a_code_matches_its_own_step_and_one_either_side() {
        let enrolment = enrolment("x", None).unwrap();
        let clock = Clock::fixed(chrono::Utc::now());
        let now = u64::try_from(clock.now().timestamp()).unwrap();
        let app = totp(&enrolment.secret, "x").unwrap();
        for offset in [-30i64, 0, 30] {
            let code = app.generate(now.saturating_add_signed(offset)).to_string();
            let step = matching_step(&enrolment.secret, "x", &code, &clock).unwrap();
            assert_eq!(step, Some((now.saturating_add_signed(offset) / 30) as i64), "offset {offset}");
        }
        let far = app.generate(now + 120).to_string();
        assert_eq!(matching_step(&enrolment.secret, "x", &far, &clock).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_groups_and_typing_variants_hash_alike() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 19 && c.split('-').count() == 4));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        let typed = codes[0].to_uppercase().replace('-', " ");
        assert_eq!(token_hash(&normalise_recovery(&typed)), hashes(&codes)[0]);
    }
}
