//! Locations, where units receive citizens: admins add them and change their address, floor and
//! accessibility notes (in German, and optionally in each other language of the emails). Every
//! change is audited in the transaction that makes it; later emails, the citizen's page and the
//! printed confirmation read the location as it is then.

use sea_orm::DatabaseConnection;

use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::ids::LocationId;
use crate::domain::location::{LocationFields, Refused};
use crate::domain::missing::Missing;
use crate::domain::records::Location;
use crate::store::{self, StoreError, directory};

/// Every location (any staff member: the address is no secret, and the units name theirs).
///
/// # Errors
/// Database failures.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<Location>, ServiceError> {
    Ok(directory::list_locations(db).await?)
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

/// Changes a location's texts (admins only): every field as given, the translations replaced.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid` (the field), database failures.
pub async fn update(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    id: LocationId,
    fields: LocationFields,
) -> Result<Location, ServiceError> {
    super::directory::require_admin(db, clock, actor, "locations.manage").await?;
    let fields = fields.checked().map_err(invalid)?;
    let txn = store::begin_write(db).await?;
    // Locked: a second admin's change waits, and its record then names what it changed itself.
    let before = directory::lock_location(&txn, id).await?.ok_or_else(|| ServiceError::not_found(Missing::Location))?;
    let after = directory::update_location(&txn, id, &fields)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Location))?;
    let detail = serde_json::json!({ "location": id.get(), "changed": changed(&before, &after) });
    audit::record(&txn, clock, AuditEntry::by(actor, AuditAction::LocationChanged).detail(detail)).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(after)
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
