//! Counsellors' calendar subscriptions: a personal, revocable URL `/calendar/{secret}.ics` that
//! calendar programs poll. It lists the owner's appointments of the past 2 and the next 12 weeks
//! with reference, unit and place, and nothing about the citizen. The secret is shown once and
//! stored as a SHA-256 hash; a revoked secret, or one of a deactivated staff member, finds nothing.
//! Every read is recorded in the audit (`bookings_listed` by the owner, `via: calendar_feed`).

mod ics;

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::ServiceError;
use super::audit::{self, AuditAction, AuditActor, AuditEntry};
use super::tokens::BearerToken;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::booking::BookingStatus;
use crate::store::bookings::{self, BookingFilter};
use crate::store::{self, calendar_feeds, directory};

/// How far back the feed reaches.
pub const PAST: TimeDelta = TimeDelta::weeks(2);
/// How far ahead the feed reaches.
pub const AHEAD: TimeDelta = TimeDelta::weeks(12);
/// Characters of a feed's secret (about 225 bits from a 49-character alphabet).
const SECRET_LENGTH: usize = 40;
/// Longest secret looked up; anything longer is no secret of ours.
const MAX_SECRET_LENGTH: usize = 64;
/// Most appointments in one feed (a full-time counsellor has far fewer in 14 weeks).
const MAX_ENTRIES: u64 = 1000;

/// What the feed needs besides the secret.
#[derive(Clone, Copy)]
pub struct FeedDeps<'a> {
    pub db: &'a DatabaseConnection,
    pub clock: &'a Clock,
    pub tz: Tz,
    /// What the entries' UIDs end in (the domain of the service's sender address).
    pub uid_domain: &'a str,
}

/// A subscription as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedStatus {
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The path of the subscription with `secret`.
pub fn feed_path(secret: &str) -> String {
    format!("/calendar/{secret}.ics")
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates the actor's subscription, replacing (and so revoking) an earlier one. Returns the
/// secret of its URL: shown once, never stored.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn create(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    token: Option<BearerToken>,
) -> Result<String, ServiceError> {
    let secret = super::auth::random_secret(SECRET_LENGTH);
    let txn = store::begin_write(db).await?;
    // The person's row is locked and must still be active: a deactivation deletes the feed in a
    // transaction of its own, and a feed written after it would come back with a reactivation.
    super::directory::lock_active_staff(&txn, actor.staff_id()).await?;
    calendar_feeds::replace(&txn, actor.staff_id(), secret_hash(&secret), clock.now(), token.map(|t| t.id)).await?;
    txn.commit().await?;
    tracing::info!("calendar subscription created");
    Ok(secret)
}

/// Revokes the actor's subscription; returns whether there was one.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn revoke(db: &DatabaseConnection, actor: &Actor) -> Result<bool, ServiceError> {
    let revoked = calendar_feeds::delete_for_staff(db, actor.staff_id()).await?;
    tracing::info!(revoked, "calendar subscription revoked");
    Ok(revoked)
}

/// The actor's subscription, if any.
///
/// # Errors
/// Database failures.
pub async fn status(db: &DatabaseConnection, actor: &Actor) -> Result<Option<FeedStatus>, ServiceError> {
    let feed = calendar_feeds::of_staff(db, actor.staff_id()).await?;
    Ok(feed.map(|f| FeedStatus { created_at: f.created_at, last_used_at: f.last_used_at }))
}

/// Fetches one feed may get per minute from every address together, and one address per
/// minute for every feed (a calendar program polls every few minutes to hours; each fetch reads
/// up to a thousand appointments and writes an audit record naming them).
pub const FEED_PER_MINUTE: u32 = 6;
/// See [`FEED_PER_MINUTE`].
pub const FEED_PER_ADDRESS_PER_MINUTE: u32 = 30;

/// The feed's rate limit (counted by the secret's hash, never the secret).
pub fn limiter() -> crate::services::citizen_link::LinkLimiter {
    crate::services::citizen_link::LinkLimiter::new(FEED_PER_ADDRESS_PER_MINUTE, FEED_PER_MINUTE)
}

/// The iCalendar text of the subscription with `secret`, or `None` when no active staff member
/// has that secret (never said which: unknown, revoked, deactivated all look alike). The read,
/// from `client`, is recorded as the owner's list of the bookings it holds.
///
/// # Errors
/// Database failures (also when the audit record cannot be written: no data without it).
pub async fn feed(deps: FeedDeps<'_>, secret: &str, client: Option<IpAddr>) -> Result<Option<String>, ServiceError> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LENGTH {
        return Ok(None);
    }
    let Some(feed) = calendar_feeds::find_by_hash(deps.db, &secret_hash(secret)).await? else {
        return Ok(None);
    };
    let Some(owner) = directory::find_staff(deps.db, feed.staff_id).await?.filter(|s| s.active) else {
        return Ok(None);
    };
    let now = deps.clock.now();
    // Made with an API token: it ends when that token is revoked or expires.
    if let Some(token_id) = feed.token_id {
        let token = directory::find_token(deps.db, token_id).await?;
        if !token.is_some_and(|t| t.staff_id == owner.id && t.is_valid_at(now)) {
            return Ok(None);
        }
    }
    calendar_feeds::touch(deps.db, feed.id, now).await?;
    // Only units the owner still belongs to: a role taken away ends that unit's entries (the
    // bookings stay theirs until moved, but they may no longer see that unit).
    let units: Vec<_> = directory::list_units(deps.db, None)
        .await?
        .into_iter()
        .filter(|u| owner.memberships.iter().any(|(unit, _)| *unit == u.id))
        .collect();
    let filter = BookingFilter {
        unit_ids: units.iter().map(|u| u.id).collect(),
        counsellor_id: Some(owner.id),
        from: Some(now - PAST),
        to: Some(now + AHEAD),
        limit: MAX_ENTRIES,
        ..BookingFilter::default()
    };
    let mut entries = Vec::new();
    let mut listed = Vec::new();
    // Each unit's place is read once, not once per appointment (up to a thousand).
    let mut places: std::collections::HashMap<_, String> = std::collections::HashMap::new();
    for booking in bookings::list(deps.db, &filter).await? {
        if booking.status == BookingStatus::Cancelled {
            continue;
        }
        listed.push(booking.id);
        let Some(unit) = units.iter().find(|u| u.id == booking.unit_id) else { continue };
        let place = match places.get(&unit.location_id) {
            Some(place) => place.clone(),
            None => {
                let place = match directory::find_location(deps.db, unit.location_id).await? {
                    Some(l) => format!("{}, {} {}, {}", l.street, l.postal_code, l.city, l.floor),
                    None => String::new(),
                };
                places.insert(unit.location_id, place.clone());
                place
            }
        };
        let reference = booking.reference.to_string();
        entries.push(ics::Entry {
            uid: format!("{}@{}", booking.id, deps.uid_domain),
            sequence: booking.sequence,
            stamp: booking.updated_at,
            starts_at: booking.starts_at,
            ends_at: booking.ends_at,
            reference,
            unit: unit.name.clone(),
            place,
        });
    }
    let entry = AuditEntry::attempt(AuditAction::BookingsListed, AuditActor::Staff(owner.id), client)
        .bookings(listed)
        .count(entries.len())
        .detail(serde_json::json!({ "via": "calendar_feed" }));
    audit::record(deps.db, deps.clock, entry).await?;
    Ok(Some(ics::render(&owner.display_name, deps.tz, &entries)))
}
