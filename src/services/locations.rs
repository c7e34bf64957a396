//! Locations, where units receive citizens: admins add them, change their address, floor and
//! accessibility notes (in German, and optionally in each other language of the emails), and
//! delete those no unit uses. Every change is audited in the transaction that makes it; later
//! emails, the citizen's page and the printed confirmation read the location as it is then, and
//! a change of the place (address or floor) tells the citizens with upcoming appointments there.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use super::bookings::Book;
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::clash::Clash;
use crate::domain::history::HistoryEvent;
use crate::domain::ids::LocationId;
use crate::domain::location::{LocationFields, Refused, place_changes, place_changes_for};
use crate::domain::missing::Missing;
use crate::domain::records::{Booking, Location};
use crate::mail;
use crate::store::{self, StoreError, bookings, directory};

/// Every location (any staff member: the address is no secret, and the units name theirs).
///
/// # Errors
/// Database failures.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<Location>, ServiceError> {
    Ok(directory::list_locations(db).await?)
}

/// How many units receive citizens at a location (none: it may be deleted).
///
/// # Errors
/// Database failures.
pub async fn units_at(db: &DatabaseConnection, id: LocationId) -> Result<usize, ServiceError> {
    Ok(directory::units_at_location(db, id).await?.len())
}

/// A location by id.
///
/// # Errors
/// `NotFound`, database failures.
pub async fn find(db: &DatabaseConnection, id: LocationId) -> Result<Location, ServiceError> {
    directory::find_location(db, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Location))
}

/// The refusal as the API names it: a translation's field with its language in the message.
fn invalid(refused: Refused) -> ServiceError {
    match refused.language {
        Some(language) => {
            ServiceError::invalid("translations", format!("{language}: {}: {}", refused.field, refused.message))
        }
        None => ServiceError::invalid(refused.field, refused.message),
    }
}

/// Adds a location (admins only).
///
/// # Errors
/// `Forbidden`, `Invalid` (the field), database failures.
pub async fn create(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    fields: LocationFields,
) -> Result<Location, ServiceError> {
    super::directory::require_admin(db, clock, actor, "locations.manage").await?;
    let fields = fields.checked().map_err(invalid)?;
    let txn = store::begin_write(db).await?;
    let location = directory::insert_location_with_texts(&txn, &fields).await?;
    let detail = serde_json::json!({ "location": location.id.get() });
    audit::record(&txn, clock, AuditEntry::by(actor, AuditAction::LocationCreated).detail(detail)).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(location)
}

/// A location as changed, and how many citizens were sent a notice that their place changed.
#[derive(Debug)]
pub struct Changed {
    pub location: Location,
    pub notices_queued: u64,
}

/// Changes a location's texts (admins only): every field as given, the translations replaced.
/// `seen` is the location's version as the caller read it: when given and the location changed
/// since (another admin saved meanwhile), nothing is written. When the place changed (the address
/// or the floor, see [`place_changes`]), each booked appointment at a unit of the location that
/// has not begun, and whose citizen reads another place ([`place_changes_for`] their language),
/// records it in its history and, with `notify`, becomes a new version with a change notice about
/// the place queued for the citizen (if they have an address and consented), all in the change's
/// transaction.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid` (the field), `Conflict { clash: Clash::ConcurrentUpdate, .. }`
/// (changed since `seen`), database failures.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get(), location = id.get()))]
pub async fn update(
    deps: Book<'_>,
    actor: &Actor,
    id: LocationId,
    seen: Option<i32>,
    fields: LocationFields,
    notify: bool,
) -> Result<Changed, ServiceError> {
    super::directory::require_admin(deps.db, deps.clock, actor, "locations.manage").await?;
    let fields = fields.checked().map_err(invalid)?;
    let txn = store::begin_write(deps.db).await?;
    // Locked: a second admin's change waits, and its record then names what it changed itself.
    let before = directory::lock_location(&txn, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Location))?;
    // Written only to the version `seen` (the UPDATE's own condition, not this read's).
    let after =
        ServiceError::unless_stale(directory::update_location(&txn, id, &fields, seen).await?, Missing::Location)?;
    let place = place_changes(&before, &after);
    let (notices_queued, bookings) = if place.is_empty() {
        (0, Vec::new())
    } else {
        tell_place(deps, &txn, actor, (&before, &after), notify).await?
    };
    let detail = serde_json::json!({
        "location": id.get(),
        "changed": changed(&before, &after),
        "notify_citizens": notify,
        "notices_queued": notices_queued,
    });
    // The bookings whose history (and, notified, version) the change wrote to, by id.
    let entry = AuditEntry::by(actor, AuditAction::LocationChanged).bookings(bookings).detail(detail);
    audit::record(&txn, deps.clock, entry).await?;
    txn.commit().await.map_err(StoreError::from)?;
    if notices_queued > 0 {
        deps.mail.nudge();
    }
    Ok(Changed { location: after, notices_queued })
}

/// Records the change of the location from `before` to `after` in the history of each booked
/// appointment at it that has not begun and whose citizen is told another place by it
/// ([`place_changes_for`] their language: a floor translated into another language, or newly
/// into theirs, changes nothing for them), and with `notify` makes each a new version (same
/// calendar UID, higher SEQUENCE) and queues its notice; returns how many were queued, and the
/// bookings it wrote to. The others are left as they are: no notice, and their open forms stay
/// current.
async fn tell_place(
    deps: Book<'_>,
    txn: &DatabaseTransaction,
    actor: &Actor,
    (before, after): (&Location, &Location),
    notify: bool,
) -> Result<(u64, Vec<uuid::Uuid>), ServiceError> {
    let now = deps.clock.now();
    let staff = Some(actor.staff_id());
    let units = directory::units_at_location(txn, after.id).await?;
    let mut queued = 0;
    let mut ids = Vec::new();
    for booking in bookings::upcoming_in_units_locked(txn, &units, now).await? {
        let fields = place_changes_for(before, after, booking.citizen.language.code());
        if fields.is_empty() {
            continue;
        }
        let notified = notify && notice(deps.mail_domain, txn, &booking, actor, now).await?;
        let fields = fields.into_iter().map(str::to_owned).collect();
        let event = HistoryEvent::PlaceChanged { location_id: after.id, fields, notified };
        bookings::add_event(txn, booking.id, now, staff, &event).await?;
        queued += u64::from(notified);
        ids.push(booking.id);
    }
    Ok((queued, ids))
}

/// Makes `booking` a new version and queues the notice about its place; whether one was queued.
async fn notice(
    domain: &str,
    txn: &DatabaseTransaction,
    booking: &Booking,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    // Locked since it was read, so nothing changed it meanwhile; refused all the same rather
    // than sent for a version that is not the booking's.
    if !bookings::new_version(txn, booking, Some(actor.staff_id()), now).await? {
        return Err(ServiceError::conflict_with(
            Clash::ConcurrentUpdate,
            "a booking at the location changed meanwhile",
        ));
    }
    let current = Booking {
        sequence: booking.sequence + 1,
        updated_at: now,
        updated_by: Some(actor.staff_id()),
        ..booking.clone()
    };
    Ok(mail::outbox::enqueue_place_notice(txn, &current, domain, now).await?)
}

/// Deletes a location no unit uses (admins only), with its texts in other languages, provided it
/// is still the version `seen` (any, when `None`). Its row is locked and its units counted inside
/// the delete's transaction: a unit given this location at the same moment either commits first
/// and is counted, or waits for the lock (PostgreSQL's foreign-key check; SQLite serialises
/// writers) and is then refused by the units' foreign key.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Conflict { clash: Clash::ConcurrentUpdate, .. }` (changed since
/// `seen`), `Conflict { clash: Clash::LocationInUse, .. }` naming how many units use it, database
/// failures.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get(), location = id.get()))]
pub async fn delete(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    id: LocationId,
    seen: Option<i32>,
) -> Result<(), ServiceError> {
    super::directory::require_admin(db, clock, actor, "locations.manage").await?;
    let txn = store::begin_write(db).await?;
    let location =
        directory::lock_location(&txn, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Location))?;
    // A changed location is not deleted unseen, whether or not it is in use now.
    if seen.is_some_and(|seen| seen != location.version) {
        return Err(ServiceError::conflict(Clash::ConcurrentUpdate));
    }
    let units = directory::units_at_location(&txn, id).await?.len();
    if units > 0 {
        let message = match units {
            1 => "1 unit receives citizens at this location; give it another one first".to_owned(),
            n => format!("{n} units receive citizens at this location; give them another one first"),
        };
        return Err(ServiceError::conflict_with(Clash::LocationInUse, message));
    }
    ServiceError::unless_stale(directory::delete_location(&txn, id, seen).await?, Missing::Location)?;
    let detail = serde_json::json!({ "location": id.get(), "name": location.name });
    audit::record(&txn, clock, AuditEntry::by(actor, AuditAction::LocationDeleted).detail(detail)).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The names of the fields that differ (`translations` for any text in another language).
fn changed(before: &Location, after: &Location) -> Vec<&'static str> {
    [
        ("name", before.name != after.name),
        ("street", before.street != after.street),
        ("postal_code", before.postal_code != after.postal_code),
        ("city", before.city != after.city),
        ("floor", before.floor != after.floor),
        ("accessibility_notes", before.accessibility_notes != after.accessibility_notes),
        ("translations", before.translations != after.translations),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}
