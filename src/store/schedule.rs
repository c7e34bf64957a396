//! Counselling hours (weekly rules), absences and closures.

use chrono::{DateTime, Utc};
use entity::slot::SlotKind;
use entity::{absence, closure, counselling_hours};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement,
};

use super::StoreError;
use crate::domain::records::{Absence, Closure, HoursRule, Slot};

pub use crate::domain::records::RuleFields;

/// # Errors
/// Database failures.
pub async fn list_rules<C: ConnectionTrait>(db: &C, unit_id: i32) -> Result<Vec<HoursRule>, StoreError> {
    let rows = counselling_hours::Entity::find()
        .filter(counselling_hours::Column::UnitId.eq(unit_id))
        .order_by_asc(counselling_hours::Column::Weekday)
        .order_by_asc(counselling_hours::Column::StartLocal)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(rule_record).collect())
}

/// # Errors
/// Database failures.
pub async fn find_rule<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<HoursRule>, StoreError> {
    Ok(counselling_hours::Entity::find_by_id(id).one(db).await?.map(rule_record))
}

/// Inserts a rule, or replaces the fields of rule `id`.
///
/// # Errors
/// Database failures.
pub async fn save_rule<C: ConnectionTrait>(
    db: &C,
    id: Option<i32>,
    fields: RuleFields,
    actor_id: i32,
    now: DateTime<Utc>,
) -> Result<HoursRule, StoreError> {
    let mut row = counselling_hours::ActiveModel {
        unit_id: Set(fields.unit_id),
        counsellor_id: Set(fields.counsellor_id),
        weekday: Set(i16::from(fields.weekday)),
        start_local: Set(fields.start_local),
        end_local: Set(fields.end_local),
        slot_minutes: Set(fields.slot_minutes),
        buffer_minutes: Set(fields.buffer_minutes),
        capacity: Set(fields.capacity),
        valid_from: Set(fields.valid_from),
        valid_until: Set(fields.valid_until),
        updated_at: Set(now),
        updated_by: Set(Some(actor_id)),
        ..Default::default()
    };
    let saved = match id {
        Some(id) => {
            row.id = Set(id);
            row.update(db).await?
        }
        None => {
            row.created_at = Set(now);
            row.insert(db).await?
        }
    };
    Ok(rule_record(saved))
}

/// # Errors
/// Database failures.
pub async fn delete_rule<C: ConnectionTrait>(db: &C, id: i32) -> Result<(), StoreError> {
    counselling_hours::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Absences of the given staff members overlapping `[from, to)`.
///
/// # Errors
/// Database failures.
pub async fn absences_overlapping<C: ConnectionTrait>(
    db: &C,
    staff_ids: &[i32],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Absence>, StoreError> {
    let rows = absence::Entity::find()
        .filter(absence::Column::StaffId.is_in(staff_ids.iter().copied()))
        .filter(absence::Column::StartsAt.lt(to))
        .filter(absence::Column::EndsAt.gt(from))
        .order_by_asc(absence::Column::StartsAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(absence_record).collect())
}

/// Why a counsellor cannot take a slot at some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedBy {
    /// Another booked slot of the counsellor (its id).
    Booking(i32),
    Absence,
    /// A closure of the unit or the whole department: it blocks every counsellor.
    Closure,
}

/// One interval in which `staff_id` (or with `None` everyone) is not free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub by: BlockedBy,
    pub staff_id: Option<i32>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// One page of the free-slot search, in one query: up to `page` regular slots of the counsellors
/// with a free seat starting in `[from, to)` after `after`, soonest first; and everything that
/// may block them: the counsellors' booked slots, their absences and the closures of the unit
/// and the department overlapping the page. The caller checks each candidate against the blocks.
///
/// # Errors
/// Database failures.
pub async fn free_page<C: ConnectionTrait>(
    db: &C,
    unit_id: i32,
    counsellor_ids: &[i32],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Option<(DateTime<Utc>, i32)>,
    page: u64,
) -> Result<FreePage, StoreError> {
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut param = |value: sea_orm::Value| {
        values.push(value);
        if backend == DbBackend::Postgres { format!("${}", values.len()) } else { "?".to_owned() }
    };
    let ids = |param: &mut dyn FnMut(sea_orm::Value) -> String| {
        counsellor_ids.iter().map(|id| param((*id).into())).collect::<Vec<_>>().join(", ")
    };
    // Every candidate starts at or after `lower`, so whatever overlaps one ends after it; and no
    // slot is longer than MAX_SLOT_LENGTH, which lets the index narrow the scan of booked slots.
    let lower = after.map_or(from, |(starts_at, _)| starts_at);
    let mut candidates = format!(
        "SELECT id, counsellor_id, rule_id, starts_at, ends_at, capacity, booked_count FROM slots \
         WHERE unit_id = {} AND kind = {} AND counsellor_id IN ({}) AND starts_at >= {} AND starts_at < {} \
         AND booked_count < capacity",
        param(unit_id.into()),
        param(SlotKind::Regular.to_value().into()),
        ids(&mut param),
        param(from.into()),
        param(to.into()),
    );
    if let Some((starts_at, id)) = after {
        candidates += &format!(
            " AND (starts_at > {} OR (starts_at = {} AND id > {}))",
            param(starts_at.into()),
            param(starts_at.into()),
            param(id.into())
        );
    }
    candidates += &format!(" ORDER BY starts_at, id LIMIT {}", param(i64::try_from(page).unwrap_or(i64::MAX).into()));
    let upper = "(SELECT MAX(ends_at) FROM page)";
    let busy = format!(
        "SELECT 1, id, counsellor_id, starts_at, ends_at, NULL, NULL, NULL FROM slots \
         WHERE counsellor_id IN ({}) AND booked_count > 0 AND starts_at >= {} AND starts_at < {upper} AND ends_at > {}",
        ids(&mut param),
        param((lower - super::slots::MAX_SLOT_LENGTH).into()),
        param(lower.into()),
    );
    let absent = format!(
        "SELECT 2, NULL, staff_id, starts_at, ends_at, NULL, NULL, NULL FROM absences \
         WHERE staff_id IN ({}) AND starts_at < {upper} AND ends_at > {}",
        ids(&mut param),
        param(lower.into()),
    );
    let closed = format!(
        "SELECT 3, NULL, NULL, starts_at, ends_at, NULL, NULL, NULL FROM closures \
         WHERE (unit_id = {} OR unit_id IS NULL) AND starts_at < {upper} AND ends_at > {}",
        param(unit_id.into()),
        param(lower.into()),
    );
    let sql = format!(
        "WITH page AS ({candidates}) \
         SELECT 0 AS kind, id, counsellor_id AS staff_id, starts_at, ends_at, rule_id, capacity, booked_count \
         FROM page UNION ALL {busy} UNION ALL {absent} UNION ALL {closed}"
    );
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut result = FreePage::default();
    for row in &rows {
        let kind = row.try_get::<i32>("", "kind")?;
        let starts_at = row.try_get("", "starts_at")?;
        let ends_at = row.try_get("", "ends_at")?;
        if kind == 0 {
            result.candidates.push(Slot {
                id: row.try_get("", "id")?,
                unit_id,
                counsellor_id: row.try_get("", "staff_id")?,
                rule_id: row.try_get("", "rule_id")?,
                adhoc: false,
                starts_at,
                ends_at,
                capacity: row.try_get("", "capacity")?,
                booked_count: row.try_get("", "booked_count")?,
            });
            continue;
        }
        let by = match kind {
            1 => BlockedBy::Booking(row.try_get("", "id")?),
            2 => BlockedBy::Absence,
            _ => BlockedBy::Closure,
        };
        result.blocked.push(Blocked { by, staff_id: row.try_get("", "staff_id")?, starts_at, ends_at });
    }
    // UNION ALL keeps no order: the page is sorted here.
    result.candidates.sort_by_key(|slot| (slot.starts_at, slot.id));
    Ok(result)
}

/// The candidates of a free-slot page and what may block them.
#[derive(Debug, Default)]
pub struct FreePage {
    /// Soonest first.
    pub candidates: Vec<Slot>,
    pub blocked: Vec<Blocked>,
}

/// What a schedule lock covers: a counsellor's time (absences) or a unit's (closures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Counsellor(i32),
    Unit(i32),
}

/// Serialises a new absence or closure with bookings of the same counsellor or unit.
///
/// PostgreSQL runs at READ COMMITTED: without this a booking could check for absences just before
/// a concurrent absence commits, and land in it. An ad-hoc booking and a new absence or closure
/// take a transaction-scoped advisory lock on their scope (their rows do not exist yet); a new
/// absence or closure also locks the slots it covers, which a booking of a slot holds from its
/// seat update to its commit. SQLite serialises all writers already, so this is a no-op there.
///
/// # Errors
/// Database failures.
pub async fn lock_scope<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    slots_in: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(());
    }
    let (class, id, column) = match scope {
        Scope::Counsellor(id) => (1, id, "counsellor_id"),
        Scope::Unit(id) => (2, id, "unit_id"),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [class.into(), id.into()],
    ))
    .await?;
    if let Some((from, to)) = slots_in {
        let sql = format!("SELECT id FROM slots WHERE {column} = $1 AND starts_at < $2 AND ends_at > $3 FOR UPDATE");
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, [id.into(), to.into(), from.into()])).await?;
    }
    Ok(())
}

/// Serialises regenerations of one unit's slots (a lead saving hours, the six-hourly horizon
/// refresh, another process's refresh). PostgreSQL runs at READ COMMITTED: without this a refresh
/// that read the rules before a concurrent change committed would write the old capacity or
/// counsellor back over the new slots. Taken before the rules are read, so whoever waits reads
/// the other's committed rules. SQLite serialises all writers already (`BEGIN IMMEDIATE`).
///
/// # Errors
/// Database failures.
pub async fn lock_unit_slots<C: ConnectionTrait>(db: &C, unit_id: i32) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(backend, "SELECT pg_advisory_xact_lock(3, $1)", [unit_id.into()]))
        .await?;
    Ok(())
}

/// What keeps a counsellor of a unit from taking an appointment in a time span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocking {
    /// Reason of the first closure of the unit or department overlapping the span.
    pub closure: Option<String>,
    /// The counsellor has an absence overlapping the span.
    pub absent: bool,
}

/// Closures and absences overlapping `[from, to)` in one round trip (checked on every booking).
///
/// # Errors
/// Database failures.
pub async fn blocking<C: ConnectionTrait>(
    db: &C,
    unit_id: i32,
    counsellor_id: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Blocking, StoreError> {
    let backend = db.get_database_backend();
    let p = |n: usize| if backend == DbBackend::Postgres { format!("${n}") } else { "?".to_owned() };
    let sql = format!(
        "SELECT (SELECT reason FROM closures WHERE (unit_id = {} OR unit_id IS NULL) AND starts_at < {} \
           AND ends_at > {} ORDER BY starts_at LIMIT 1) AS closure, \
         (SELECT COUNT(*) FROM absences WHERE staff_id = {} AND starts_at < {} AND ends_at > {}) AS absences",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6)
    );
    let values = [unit_id.into(), to.into(), from.into(), counsellor_id.into(), to.into(), from.into()];
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    let Some(row) = row else { return Ok(Blocking { closure: None, absent: false }) };
    Ok(Blocking { closure: row.try_get("", "closure")?, absent: row.try_get::<i64>("", "absences")? > 0 })
}

/// # Errors
/// Database failures.
pub async fn insert_absence<C: ConnectionTrait>(
    db: &C,
    staff_id: i32,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: &str,
    actor_id: i32,
    now: DateTime<Utc>,
) -> Result<Absence, StoreError> {
    let row = absence::ActiveModel {
        staff_id: Set(staff_id),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        created_by: Set(Some(actor_id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(absence_record(row))
}

/// # Errors
/// Database failures.
pub async fn find_absence<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<Absence>, StoreError> {
    Ok(absence::Entity::find_by_id(id).one(db).await?.map(absence_record))
}

/// # Errors
/// Database failures.
pub async fn delete_absence<C: ConnectionTrait>(db: &C, id: i32) -> Result<(), StoreError> {
    absence::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Closures of the unit, and department-wide ones, overlapping `[from, to)`.
///
/// # Errors
/// Database failures.
pub async fn closures_overlapping<C: ConnectionTrait>(
    db: &C,
    unit_id: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Closure>, StoreError> {
    let rows = closure::Entity::find()
        .filter(Condition::any().add(closure::Column::UnitId.eq(unit_id)).add(closure::Column::UnitId.is_null()))
        .filter(closure::Column::StartsAt.lt(to))
        .filter(closure::Column::EndsAt.gt(from))
        .order_by_asc(closure::Column::StartsAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(closure_record).collect())
}

/// # Errors
/// Database failures.
pub async fn insert_closure<C: ConnectionTrait>(
    db: &C,
    unit_id: Option<i32>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: &str,
    actor_id: i32,
    now: DateTime<Utc>,
) -> Result<Closure, StoreError> {
    let row = closure::ActiveModel {
        unit_id: Set(unit_id),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        created_by: Set(Some(actor_id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(closure_record(row))
}

/// # Errors
/// Database failures.
pub async fn find_closure<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<Closure>, StoreError> {
    Ok(closure::Entity::find_by_id(id).one(db).await?.map(closure_record))
}

/// # Errors
/// Database failures.
pub async fn delete_closure<C: ConnectionTrait>(db: &C, id: i32) -> Result<(), StoreError> {
    closure::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

fn rule_record(row: counselling_hours::Model) -> HoursRule {
    HoursRule {
        id: row.id,
        unit_id: row.unit_id,
        counsellor_id: row.counsellor_id,
        weekday: u8::try_from(row.weekday).unwrap_or(1),
        start_local: row.start_local,
        end_local: row.end_local,
        slot_minutes: row.slot_minutes,
        buffer_minutes: row.buffer_minutes,
        capacity: row.capacity,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
    }
}

fn absence_record(row: absence::Model) -> Absence {
    Absence { id: row.id, staff_id: row.staff_id, starts_at: row.starts_at, ends_at: row.ends_at, reason: row.reason }
}

fn closure_record(row: closure::Model) -> Closure {
    Closure { id: row.id, unit_id: row.unit_id, starts_at: row.starts_at, ends_at: row.ends_at, reason: row.reason }
}
