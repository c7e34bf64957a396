//! The audit records: append one, read them filtered and paged, remove those past the audit
//! retention period (the only deletion the database allows), and the period itself.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{audit_event, booking};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::audit::{
    ActorFilter, ActorKind, AuditAction, AuditActor, AuditEntry, AuditFilter, AuditRecord, AuditTarget,
    join_booking_ids, split_booking_ids,
};
use crate::domain::ids::{StaffId, UnitId};

/// Appends one audit record at `at`.
///
/// # Errors
/// Database failures.
pub async fn insert<C: ConnectionTrait>(db: &C, at: DateTime<Utc>, entry: &AuditEntry) -> Result<(), StoreError> {
    row(at, entry).insert(db).await?;
    Ok(())
}

/// The `INSERT` of [`insert`], to be sent together with others (see
/// [`super::bookings::insert_created_with`]).
pub fn insert_statement(at: DateTime<Utc>, entry: &AuditEntry) -> sea_orm::sea_query::InsertStatement {
    sea_orm::QueryTrait::into_query(audit_event::Entity::insert(row(at, entry)))
}

fn row(at: DateTime<Utc>, entry: &AuditEntry) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        at: Set(at),
        actor_id: Set((entry.actor().staff_id()).map(i32::from)),
        actor_kind: Set(entry.actor().kind().as_str().to_owned()),
        client_addr: Set(entry.client().map(|ip| ip.to_string())),
        action: Set(entry.action().as_str().to_owned()),
        unit_id: Set(entry.unit_id().map(i32::from)),
        booking_ids: Set(join_booking_ids(entry.booking_ids())),
        item_count: Set(entry.item_count()),
        target: Set(entry.target_text().to_owned()),
        detail: Set(entry.detail_value().to_string()),
        ..Default::default()
    }
}

/// Appends one audit record given in the shape of the first version (an action name, a target
/// and a JSON detail). Prefer `services::audit::record` with a typed entry. `action` is a stored
/// action name (`retention_run`, …) or `denied:<what was attempted>`; `actor_id` is a staff
/// member, or `None` for the system.
///
/// # Errors
/// `Check` for an action name that is not one of `AuditAction`; database failures.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    actor_id: Option<StaffId>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let mut detail: serde_json::Value = serde_json::from_str(detail).unwrap_or_else(|_| serde_json::json!({}));
    let action = match action.strip_prefix("denied:") {
        Some(attempted) => {
            if let Some(object) = detail.as_object_mut() {
                object.insert("attempted".to_owned(), attempted.into());
            }
            AuditAction::AccessDenied
        }
        None => {
            AuditAction::parse(action).ok_or_else(|| StoreError::Check(format!("unknown audit action {action:?}")))?
        }
    };
    let actor = actor_id.map_or(AuditActor::System, AuditActor::Staff);
    let entry = AuditEntry::attempt(action, actor, None).target(target).detail(detail);
    insert(db, at, &entry).await
}

/// Records matching `filter`, newest first, at most `filter.limit`.
///
/// # Errors
/// `Check` for a record whose action is unknown; database failures.
pub async fn list<C: ConnectionTrait>(db: &C, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
    let mut query = audit_event::Entity::find();
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::At.lt(to));
    }
    match filter.actor {
        Some(ActorFilter::Staff(id)) => {
            query = query
                .filter(audit_event::Column::ActorKind.eq(ActorKind::Staff.as_str()))
                .filter(audit_event::Column::ActorId.eq(id));
        }
        Some(ActorFilter::Kind(kind)) => query = query.filter(audit_event::Column::ActorKind.eq(kind.as_str())),
        None => {}
    }
    if let Some(id) = filter.booking {
        // A parsed id holds no `LIKE` wildcards.
        query = query.filter(audit_event::Column::BookingIds.like(format!("%{id}%")));
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    if let Some(id) = filter.subject {
        // Served by the index on (target, id), newest first.
        query = query.filter(audit_event::Column::Target.eq(AuditTarget::Staff(id).to_string()));
    }
    if let Some(before) = filter.before {
        query = query.filter(audit_event::Column::Id.lt(before));
    }
    let rows = query.order_by_desc(audit_event::Column::Id).limit(filter.limit).all(db).await?;
    rows.into_iter().map(audit_record).collect()
}

fn audit_record(row: audit_event::Model) -> Result<AuditRecord, StoreError> {
    let action = AuditAction::parse(&row.action)
        .ok_or_else(|| StoreError::Check(format!("audit record {} has the unknown action {:?}", row.id, row.action)))?;
    let kind = ActorKind::parse(&row.actor_kind).unwrap_or(ActorKind::Anonymous);
    Ok(AuditRecord {
        id: row.id,
        at: row.at,
        actor: AuditActor::from_parts(kind, row.actor_id.map(StaffId::new)),
        // Records written before citizens' addresses were left out still hold one; it is not shown.
        client: row.client_addr.filter(|_| kind != ActorKind::Citizen),
        action,
        unit_id: row.unit_id.map(UnitId::new),
        booking_ids: split_booking_ids(&row.booking_ids),
        item_count: row.item_count,
        target: row.target,
        detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::String(row.detail)),
    })
}

/// Ids one lookup of references puts into its `IN (…)`: far below SQLite's limit of 32,766
/// variables (and PostgreSQL's 65,535).
const REFERENCES_CHUNK: usize = 500;

/// The references of the bookings `ids` that exist, looked up [`REFERENCES_CHUNK`] at a time.
///
/// # Errors
/// Database failures.
pub async fn booking_references<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, StoreError> {
    let mut references = HashMap::new();
    for chunk in ids.chunks(REFERENCES_CHUNK) {
        let rows: Vec<(Uuid, String)> = booking::Entity::find()
            .select_only()
            .column(booking::Column::Id)
            .column(booking::Column::Reference)
            .filter(booking::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        references.extend(rows);
    }
    Ok(references)
}

/// Deletes the records older than the audit retention period stored in the database, by the
/// database's clock (the same condition its delete trigger enforces); returns how many went.
///
/// # Errors
/// Database failures.
pub async fn remove_expired<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "DELETE FROM audit_events \
             WHERE at < now() - make_interval(days => (SELECT days FROM audit_retention WHERE id = 1))"
        }
        _ => {
            "DELETE FROM audit_events \
             WHERE julianday(at) < julianday('now') - (SELECT days FROM audit_retention WHERE id = 1)"
        }
    };
    Ok(db.execute_raw(Statement::from_string(backend, sql)).await?.rows_affected())
}

/// Stores the audit retention period; returns whether it changed (the database then records the
/// change in the audit itself).
///
/// # Errors
/// `Check` for fewer than 30 days; database failures.
pub async fn set_retention_days<C: ConnectionTrait>(db: &C, days: u32) -> Result<bool, StoreError> {
    let backend = db.get_database_backend();
    let days = i32::try_from(days).map_err(|_| StoreError::Check("audit retention period too long".to_owned()))?;
    let sql = match backend {
        DbBackend::Postgres => "UPDATE audit_retention SET days = $1 WHERE id = 1 AND days <> $1",
        _ => "UPDATE audit_retention SET days = ?1 WHERE id = 1 AND days <> ?1",
    };
    let result = db.execute_raw(Statement::from_sql_and_values(backend, sql, [days.into()])).await?;
    Ok(result.rows_affected() > 0)
}

/// The audit retention period stored in the database.
///
/// # Errors
/// Database failures.
pub async fn retention_days<C: ConnectionTrait>(db: &C) -> Result<Option<i32>, StoreError> {
    let backend = db.get_database_backend();
    let row =
        db.query_one_raw(Statement::from_string(backend, "SELECT days FROM audit_retention WHERE id = 1")).await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<i32>("", "days")?),
        None => None,
    })
}

/// The highest record id of `db` (`None` when it holds no record).
///
/// # Errors
/// Database failures.
pub async fn max_id<C: ConnectionTrait>(db: &C) -> Result<Option<i32>, StoreError> {
    let max: Option<Option<i32>> = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::Id.max(), "max")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten())
}

/// When `db`'s oldest audit record was made (none without records).
///
/// # Errors
/// Database failures.
pub async fn oldest_at<C: ConnectionTrait>(db: &C) -> Result<Option<DateTime<Utc>>, StoreError> {
    let oldest: Option<Option<DateTime<Utc>>> = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::At.min(), "oldest")
        .into_tuple()
        .one(db)
        .await?;
    Ok(oldest.flatten())
}

/// Which of a database's audit records a restore carries over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Carry {
    /// Those with an id above this one (the backup's last, when the replaced database holds
    /// that same record: the backup is a copy of its history).
    AfterId(i32),
    /// Those made at or after this time (the backup's last record's, when its history and the
    /// replaced database's went apart, e.g. after an earlier restore).
    From(DateTime<Utc>),
    /// Every one (the backup holds none).
    #[default]
    All,
}

impl Carry {
    fn condition(self) -> sea_orm::Condition {
        match self {
            Self::AfterId(id) => sea_orm::Condition::all().add(audit_event::Column::Id.gt(id)),
            Self::From(at) => sea_orm::Condition::all().add(audit_event::Column::At.gte(at)),
            Self::All => sea_orm::Condition::all(),
        }
    }
}

/// Whether `a` and `b` hold the same record under `id` (the same time, actor, action, bookings,
/// target and detail).
///
/// # Errors
/// Database failures.
pub async fn same_record<A: ConnectionTrait, B: ConnectionTrait>(a: &A, b: &B, id: i32) -> Result<bool, StoreError> {
    let (Some(one), Some(other)) =
        (audit_event::Entity::find_by_id(id).one(a).await?, audit_event::Entity::find_by_id(id).one(b).await?)
    else {
        return Ok(false);
    };
    Ok((one.at, one.actor_kind, one.actor_id, one.action, one.booking_ids, one.target, one.detail)
        == (other.at, other.actor_kind, other.actor_id, other.action, other.booking_ids, other.target, other.detail))
}

/// Copies the records of `from` that `carry` names into `to`, in their order and unchanged but
/// for their ids (`to`'s own, after its records): a restored database keeps the record of what
/// happened after its backup was taken. Returns how many.
///
/// # Errors
/// Database failures.
pub async fn copy_carried<A: ConnectionTrait, B: ConnectionTrait>(
    from: &A,
    to: &B,
    carry: Carry,
) -> Result<u64, StoreError> {
    let mut last = 0;
    let mut copied = 0;
    loop {
        let page = audit_event::Entity::find()
            .filter(carry.condition())
            .filter(audit_event::Column::Id.gt(last))
            .order_by_asc(audit_event::Column::Id)
            .limit(1000)
            .all(from)
            .await?;
        let Some(end) = page.last() else { break };
        last = end.id;
        copied += page.len() as u64;
        let rows = page.into_iter().map(|record| audit_event::ActiveModel {
            at: Set(record.at),
            actor_id: Set(record.actor_id),
            actor_kind: Set(record.actor_kind),
            client_addr: Set(record.client_addr),
            action: Set(record.action),
            unit_id: Set(record.unit_id),
            booking_ids: Set(record.booking_ids),
            item_count: Set(record.item_count),
            target: Set(record.target),
            detail: Set(record.detail),
            ..Default::default()
        });
        audit_event::Entity::insert_many(rows).exec_without_returning(to).await?;
    }
    Ok(copied)
}
