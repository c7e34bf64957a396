//! Locations and units.

use chrono::{DateTime, Utc};
use entity::{location, location_text, unit};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::super::{StoreError, Versioned};
use crate::domain::ids::{LocationId, UnitId};
use crate::domain::language::Language;
use crate::domain::location::{LocationFields, LocationText};
use crate::domain::records::{Location, Unit};

/// Fields of a new location.
pub struct NewLocation<'a> {
    pub name: &'a str,
    pub street: &'a str,
    pub postal_code: &'a str,
    pub city: &'a str,
    pub floor: &'a str,
    pub accessibility_notes: &'a str,
}

/// Fields of a new unit.
pub struct NewUnit<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub short_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub location_id: i32,
    pub default_slot_minutes: i32,
    pub languages: &'a [Language],
    pub confidential: bool,
    pub retention_days: i32,
}

/// # Errors
/// Database failures.
pub async fn find_location_by_name<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<Location>, StoreError> {
    let row = location::Entity::find().filter(location::Column::Name.eq(name)).one(db).await?;
    Ok(row.map(location_record))
}

/// A location with its texts in other languages.
///
/// # Errors
/// Database failures.
pub async fn find_location<C: ConnectionTrait>(db: &C, id: LocationId) -> Result<Option<Location>, StoreError> {
    let row = location::Entity::find_by_id(id).one(db).await?;
    with_texts(db, row).await
}

/// A location with its texts, its row locked until the transaction `db` ends (PostgreSQL; a
/// SQLite write transaction holds the database), for a change that reads it first.
///
/// # Errors
/// Database failures.
pub async fn lock_location<C: ConnectionTrait>(db: &C, id: LocationId) -> Result<Option<Location>, StoreError> {
    let row = location::Entity::find_by_id(id).lock_exclusive().one(db).await?;
    with_texts(db, row).await
}

async fn with_texts<C: ConnectionTrait>(db: &C, row: Option<location::Model>) -> Result<Option<Location>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let texts = location_text::Entity::find()
        .filter(location_text::Column::LocationId.eq(row.id))
        .order_by_asc(location_text::Column::Language)
        .all(db)
        .await?;
    let mut location = location_record(row);
    location.translations = texts.into_iter().map(text_record).collect();
    Ok(Some(location))
}

/// Changes a location's fields, replaces its texts in other languages and raises its version,
/// provided it is still the version `seen` (whatever it is, when `None`): the version is the
/// UPDATE's own condition, so of two changes from the same version only the first is written.
/// Returns the location as changed.
///
/// # Errors
/// Database failures.
pub async fn update_location<C: ConnectionTrait>(
    db: &C,
    id: LocationId,
    fields: &LocationFields,
    seen: Option<i32>,
) -> Result<Versioned<Location>, StoreError> {
    let mut update = location::Entity::update_many()
        .col_expr(location::Column::Name, Expr::value(fields.name.clone()))
        .col_expr(location::Column::Street, Expr::value(fields.street.clone()))
        .col_expr(location::Column::PostalCode, Expr::value(fields.postal_code.clone()))
        .col_expr(location::Column::City, Expr::value(fields.city.clone()))
        .col_expr(location::Column::Floor, Expr::value(fields.floor.clone()))
        .col_expr(location::Column::AccessibilityNotes, Expr::value(fields.accessibility_notes.clone()))
        .col_expr(location::Column::Version, Expr::col(location::Column::Version).add(1))
        .filter(location::Column::Id.eq(id.get()));
    if let Some(seen) = seen {
        update = update.filter(location::Column::Version.eq(seen));
    }
    if update.exec(db).await?.rows_affected != 1 {
        return missing_or_stale(db, id).await;
    }
    location_text::Entity::delete_many().filter(location_text::Column::LocationId.eq(id.get())).exec(db).await?;
    insert_texts(db, id, &fields.translations).await?;
    Ok(find_location(db, id).await?.map_or(Versioned::Missing, Versioned::Written))
}

/// Why a change conditional on a location's version wrote nothing.
async fn missing_or_stale<T, C: ConnectionTrait>(db: &C, id: LocationId) -> Result<Versioned<T>, StoreError> {
    let exists = location::Entity::find_by_id(id.get()).count(db).await? > 0;
    Ok(if exists { Versioned::Stale } else { Versioned::Missing })
}

/// Deletes a location and its texts in other languages, provided it is still the version `seen`
/// (whatever it is, when `None`; the DELETE's own condition). A unit still at it makes the delete
/// fail (`MissingReference`: the units' foreign key).
///
/// # Errors
/// Database failures.
pub async fn delete_location<C: ConnectionTrait>(
    db: &C,
    id: LocationId,
    seen: Option<i32>,
) -> Result<Versioned<()>, StoreError> {
    let mut delete = location::Entity::delete_many().filter(location::Column::Id.eq(id.get()));
    if let Some(seen) = seen {
        delete = delete.filter(location::Column::Version.eq(seen));
    }
    // The texts first (their foreign key), undone with the transaction when the delete is not made.
    location_text::Entity::delete_many().filter(location_text::Column::LocationId.eq(id.get())).exec(db).await?;
    if delete.exec(db).await?.rows_affected != 1 {
        return missing_or_stale(db, id).await;
    }
    Ok(Versioned::Written(()))
}

/// A new location with its texts in other languages.
///
/// # Errors
/// Database failures.
pub async fn insert_location_with_texts<C: ConnectionTrait>(
    db: &C,
    fields: &LocationFields,
) -> Result<Location, StoreError> {
    let new = NewLocation {
        name: &fields.name,
        street: &fields.street,
        postal_code: &fields.postal_code,
        city: &fields.city,
        floor: &fields.floor,
        accessibility_notes: &fields.accessibility_notes,
    };
    let mut location = insert_location(db, new).await?;
    insert_texts(db, location.id, &fields.translations).await?;
    location.translations.clone_from(&fields.translations);
    Ok(location)
}

async fn insert_texts<C: ConnectionTrait>(db: &C, id: LocationId, texts: &[LocationText]) -> Result<(), StoreError> {
    if texts.is_empty() {
        return Ok(());
    }
    let rows = texts.iter().map(|t| location_text::ActiveModel {
        location_id: Set(id.get()),
        language: Set(t.language.clone()),
        floor: Set(t.floor.clone()),
        accessibility_notes: Set(t.accessibility_notes.clone()),
    });
    location_text::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// # Errors
/// Database failures.
pub async fn insert_location<C: ConnectionTrait>(db: &C, new: NewLocation<'_>) -> Result<Location, StoreError> {
    let row = location::ActiveModel {
        name: Set(new.name.to_owned()),
        street: Set(new.street.to_owned()),
        postal_code: Set(new.postal_code.to_owned()),
        city: Set(new.city.to_owned()),
        floor: Set(new.floor.to_owned()),
        accessibility_notes: Set(new.accessibility_notes.to_owned()),
        // Given, not left to the column's default: SQLite's RETURNING gave NULL for a defaulted
        // column added by ALTER TABLE on a pooled connection that had read the schema before.
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(location_record(row))
}

/// Every location with its texts in other languages, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_locations<C: ConnectionTrait>(db: &C) -> Result<Vec<Location>, StoreError> {
    let mut locations: Vec<Location> = location::Entity::find()
        .order_by_asc(location::Column::Name)
        .order_by_asc(location::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(location_record)
        .collect();
    for text in location_text::Entity::find().order_by_asc(location_text::Column::Language).all(db).await? {
        if let Some(location) = locations.iter_mut().find(|l| l.id.get() == text.location_id) {
            location.translations.push(text_record(text));
        }
    }
    Ok(locations)
}

/// All units, or those with the given ids, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_units<C: ConnectionTrait>(db: &C, only: Option<&[UnitId]>) -> Result<Vec<Unit>, StoreError> {
    let mut query = unit::Entity::find().order_by_asc(unit::Column::Name);
    if let Some(ids) = only {
        query = query.filter(unit::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(query.all(db).await?.into_iter().map(unit_record).collect())
}

/// A unit by slug (`ads`) or numeric id.
///
/// # Errors
/// Database failures.
pub async fn find_unit<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<Unit>, StoreError> {
    let query = match key.parse::<i32>() {
        Ok(id) => unit::Entity::find_by_id(id),
        Err(_) => unit::Entity::find().filter(unit::Column::Slug.eq(key)),
    };
    Ok(query.one(db).await?.map(unit_record))
}

/// # Errors
/// Database failures.
pub async fn find_unit_by_id<C: ConnectionTrait>(db: &C, id: UnitId) -> Result<Option<Unit>, StoreError> {
    Ok(unit::Entity::find_by_id(id).one(db).await?.map(unit_record))
}

/// # Errors
/// `Duplicate` when the slug is taken.
pub async fn insert_unit<C: ConnectionTrait>(db: &C, new: NewUnit<'_>, now: DateTime<Utc>) -> Result<Unit, StoreError> {
    let row = unit::ActiveModel {
        slug: Set(new.slug.to_owned()),
        name: Set(new.name.to_owned()),
        short_name: Set(new.short_name.to_owned()),
        phone: Set(new.phone.to_owned()),
        email: Set(new.email.to_owned()),
        location_id: Set(new.location_id),
        default_slot_minutes: Set(new.default_slot_minutes),
        languages: Set(Language::join_stored(new.languages)),
        confidential: Set(new.confidential),
        retention_days: Set(new.retention_days),
        created_at: Set(now),
        updated_at: Set(now),
        // Given, not left to the default (see `insert_location`).
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(unit_record(row))
}

/// The ids of the units at a location, by id.
///
/// # Errors
/// Database failures.
pub async fn units_at_location<C: ConnectionTrait>(db: &C, id: LocationId) -> Result<Vec<UnitId>, StoreError> {
    let rows = unit::Entity::find()
        .filter(unit::Column::LocationId.eq(id.get()))
        .order_by_asc(unit::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| UnitId::new(row.id)).collect())
}

/// # Errors
/// Database failures.
pub async fn count_units<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    Ok(unit::Entity::find().count(db).await?)
}

fn location_record(row: location::Model) -> Location {
    Location {
        id: LocationId::new(row.id),
        name: row.name,
        street: row.street,
        postal_code: row.postal_code,
        city: row.city,
        floor: row.floor,
        accessibility_notes: row.accessibility_notes,
        translations: Vec::new(),
        version: row.version,
    }
}

fn text_record(row: location_text::Model) -> LocationText {
    LocationText { language: row.language, floor: row.floor, accessibility_notes: row.accessibility_notes }
}

fn unit_record(row: unit::Model) -> Unit {
    Unit {
        id: UnitId::new(row.id),
        slug: row.slug,
        name: row.name,
        short_name: row.short_name,
        phone: row.phone,
        email: row.email,
        location_id: LocationId::new(row.location_id),
        default_slot_minutes: row.default_slot_minutes,
        languages: Language::split_stored(&row.languages),
        confidential: row.confidential,
        retention_days: row.retention_days,
        version: row.version,
    }
}
