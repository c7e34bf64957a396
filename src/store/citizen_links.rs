//! The citizen's link tokens (by hash) and the units' self-service settings.

use chrono::{DateTime, Utc};
use entity::{booking_event, citizen_link, unit_self_service};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::{StoreError, Versioned};
use crate::domain::citizen_link::{Origin, SelfService, UsedLink};
use crate::domain::history::RESCHEDULED_BY_CITIZEN;
use crate::domain::ids::{StaffId, UnitId};

/// Stores the hash of a token made for `booking_id`, and where it went (`origin`).
///
/// # Errors
/// Database failures.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    booking_id: Uuid,
    token_hash: String,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = citizen_link::ActiveModel {
        booking_id: Set(booking_id),
        token_hash: Set(token_hash),
        created_at: Set(now),
        issued_by: Set(match origin {
            Origin::Printed(staff) => Some(staff.get()),
            Origin::Email(_) => None,
        }),
        message_id: Set(match origin {
            Origin::Email(message) => Some(message),
            Origin::Printed(_) => None,
        }),
        ..Default::default()
    };
    row.insert(db).await?;
    Ok(())
}

/// Ends every link of `booking_id`: its tokens no longer open it.
///
/// # Errors
/// Database failures.
pub async fn revoke_all<C: ConnectionTrait>(db: &C, booking_id: Uuid) -> Result<u64, StoreError> {
    let result =
        citizen_link::Entity::delete_many().filter(citizen_link::Column::BookingId.eq(booking_id)).exec(db).await?;
    Ok(result.rows_affected)
}

/// Whether the link `id` still exists (not revoked), read in a change's transaction: locked
/// against a revocation (`FOR SHARE` on PostgreSQL; on SQLite the write transaction holds every
/// other writer off), so that one committed first is seen and one coming after waits.
///
/// # Errors
/// Database failures.
pub async fn is_live<C: ConnectionTrait>(db: &C, id: i32) -> Result<bool, StoreError> {
    Ok(citizen_link::Entity::find_by_id(id).lock_shared().one(db).await?.is_some())
}

/// The link a token hash belongs to and its booking.
///
/// # Errors
/// Database failures.
pub async fn booking_of<C: ConnectionTrait>(db: &C, token_hash: &str) -> Result<Option<(UsedLink, Uuid)>, StoreError> {
    let row = citizen_link::Entity::find().filter(citizen_link::Column::TokenHash.eq(token_hash)).one(db).await?;
    Ok(row.map(|r| {
        let origin = match (r.message_id, r.issued_by) {
            (Some(message), _) => Some(Origin::Email(message)),
            (None, Some(staff)) => Some(Origin::Printed(StaffId::new(staff))),
            (None, None) => None,
        };
        (UsedLink { id: r.id, origin }, r.booking_id)
    }))
}

/// How often the citizen has moved the booking themselves.
///
/// # Errors
/// Database failures.
pub async fn citizen_moves<C: ConnectionTrait>(db: &C, booking_id: Uuid) -> Result<i32, StoreError> {
    let count = booking_event::Entity::find()
        .filter(booking_event::Column::BookingId.eq(booking_id))
        .filter(booking_event::Column::Kind.eq(RESCHEDULED_BY_CITIZEN))
        .count(db)
        .await?;
    Ok(i32::try_from(count).unwrap_or(i32::MAX))
}

/// A unit's self-service settings (`None` for an unknown unit).
///
/// # Errors
/// Database failures.
pub async fn settings<C: ConnectionTrait>(db: &C, unit_id: UnitId) -> Result<Option<SelfService>, StoreError> {
    let row = unit_self_service::Entity::find_by_id(unit_id).one(db).await?;
    Ok(row.map(settings_of))
}

/// [`settings`] and the unit's version (what a change from them is conditional on).
///
/// # Errors
/// Database failures.
pub async fn settings_and_version<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
) -> Result<Option<(SelfService, i32)>, StoreError> {
    let row = unit_self_service::Entity::find_by_id(unit_id).one(db).await?;
    Ok(row.map(|r| (settings_of(r.clone()), r.version)))
}

/// [`settings_and_version`], the row locked until the transaction `txn` ends (`FOR UPDATE` on
/// PostgreSQL): what a change records as the old values is what it replaces, also when two admins
/// save at once.
///
/// # Errors
/// Database failures.
pub async fn settings_for_update<C: ConnectionTrait>(
    txn: &C,
    unit_id: UnitId,
) -> Result<Option<(SelfService, i32)>, StoreError> {
    let row = unit_self_service::Entity::find_by_id(unit_id).lock_exclusive().one(txn).await?;
    Ok(row.map(|r| (settings_of(r.clone()), r.version)))
}

fn settings_of(r: unit_self_service::Model) -> SelfService {
    SelfService {
        self_service_cutoff_hours: r.self_service_cutoff_hours,
        self_service_max_moves: r.self_service_max_moves,
        self_service_shows_counsellor: r.self_service_shows_counsellor,
    }
}

/// Replaces a unit's self-service settings and raises the unit's version, provided it is still
/// the version `seen` (any, when `None`): the version is the UPDATE's own condition, so of two
/// changes from the same version only the first is written. Returns the unit's new version.
///
/// # Errors
/// Database failures.
pub async fn set_settings<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    settings: SelfService,
    seen: Option<i32>,
) -> Result<Versioned<i32>, StoreError> {
    let mut update = unit_self_service::Entity::update_many()
        .col_expr(unit_self_service::Column::SelfServiceCutoffHours, Expr::value(settings.self_service_cutoff_hours))
        .col_expr(unit_self_service::Column::SelfServiceMaxMoves, Expr::value(settings.self_service_max_moves))
        .col_expr(
            unit_self_service::Column::SelfServiceShowsCounsellor,
            Expr::value(settings.self_service_shows_counsellor),
        )
        .col_expr(unit_self_service::Column::Version, Expr::col(unit_self_service::Column::Version).add(1))
        .filter(unit_self_service::Column::Id.eq(unit_id));
    if let Some(seen) = seen {
        update = update.filter(unit_self_service::Column::Version.eq(seen));
    }
    if update.exec(db).await?.rows_affected == 1 {
        return Ok(match settings_and_version(db, unit_id).await? {
            Some((_, version)) => Versioned::Written(version),
            None => Versioned::Missing,
        });
    }
    let exists = unit_self_service::Entity::find_by_id(unit_id).count(db).await? > 0;
    Ok(if exists { Versioned::Stale } else { Versioned::Missing })
}
