//! Counselling hours (weekly rules), absences and closures.

use chrono::{DateTime, Utc};
use entity::{absence, closure, counselling_hours};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Statement,
};

use super::StoreError;
use crate::domain::ids::{AbsenceId, ClosureId, RuleId, StaffId, UnitId};
use crate::domain::records::{Absence, Closure, HoursRule};

pub use crate::domain::records::RuleFields;

/// # Errors
/// Database failures.
pub async fn list_rules<C: ConnectionTrait>(db: &C, unit_id: UnitId) -> Result<Vec<HoursRule>, StoreError> {
    let rows = counselling_hours::Entity::find()
        .filter(counselling_hours::Column::UnitId.eq(unit_id))
        .order_by_asc(counselling_hours::Column::Weekday)
        .order_by_asc(counselling_hours::Column::StartLocal)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(rule_record).collect())
}

/// Every rule of the counsellor `staff_id`, in any unit.
///
/// # Errors
/// Database failures.
pub async fn rules_of_counsellor<C: ConnectionTrait>(db: &C, staff_id: StaffId) -> Result<Vec<HoursRule>, StoreError> {
    let rows = counselling_hours::Entity::find()
        .filter(counselling_hours::Column::CounsellorId.eq(staff_id.get()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(rule_record).collect())
}

/// # Errors
/// Database failures.
pub async fn find_rule<C: ConnectionTrait>(db: &C, id: RuleId) -> Result<Option<HoursRule>, StoreError> {
    Ok(counselling_hours::Entity::find_by_id(id).one(db).await?.map(rule_record))
}

/// Inserts a rule, or replaces the fields of rule `id`; `None` when rule `id` no longer exists
/// (deleted by a concurrent change after the caller looked).
///
/// # Errors
/// Database failures.
pub async fn save_rule<C: ConnectionTrait>(
    db: &C,
    id: Option<RuleId>,
    fields: RuleFields,
    actor_id: StaffId,
    now: DateTime<Utc>,
) -> Result<Option<HoursRule>, StoreError> {
    let mut row = counselling_hours::ActiveModel {
        unit_id: Set(fields.unit_id.get()),
        counsellor_id: Set(fields.counsellor_id.get()),
        weekday: Set(i16::from(fields.weekday)),
        start_local: Set(fields.start_local),
        end_local: Set(fields.end_local),
        slot_minutes: Set(fields.slot_minutes),
        buffer_minutes: Set(fields.buffer_minutes),
        capacity: Set(fields.capacity),
        valid_from: Set(fields.valid_from),
        valid_until: Set(fields.valid_until),
        updated_at: Set(now),
        updated_by: Set(Some(actor_id.get())),
        ..Default::default()
    };
    let saved = match id {
        Some(id) => {
            row.id = Set(id.get());
            match row.update(db).await {
                Ok(saved) => saved,
                Err(sea_orm::DbErr::RecordNotUpdated) => return Ok(None),
                Err(err) => return Err(err.into()),
            }
        }
        None => {
            row.created_at = Set(now);
            row.insert(db).await?
        }
    };
    Ok(Some(rule_record(saved)))
}

/// # Errors
/// Database failures.
pub async fn delete_rule<C: ConnectionTrait>(db: &C, id: RuleId) -> Result<(), StoreError> {
    counselling_hours::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Absences of the given staff members overlapping `[from, to)`.
///
/// # Errors
/// Database failures.
pub async fn absences_overlapping<C: ConnectionTrait>(
    db: &C,
    staff_ids: &[StaffId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Absence>, StoreError> {
    soonest_first(db, absences_in(staff_ids, from, to)).await
}

/// Up to `limit` of [`absences_overlapping`], those listed after the absence `after` only (by
/// start, then id).
///
/// # Errors
/// Database failures.
pub async fn absences_overlapping_after<C: ConnectionTrait>(
    db: &C,
    staff_ids: &[StaffId],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Option<&Absence>,
    limit: u64,
) -> Result<Vec<Absence>, StoreError> {
    let mut query = absences_in(staff_ids, from, to).limit(limit);
    if let Some(after) = after {
        query =
            query.filter(listed_after(absence::Column::StartsAt, absence::Column::Id, after.starts_at, after.id.get()));
    }
    soonest_first(db, query).await
}

fn absences_in(staff_ids: &[StaffId], from: DateTime<Utc>, to: DateTime<Utc>) -> Select<absence::Entity> {
    absence::Entity::find()
        .filter(absence::Column::StaffId.is_in(staff_ids.iter().copied()))
        .filter(absence::Column::StartsAt.lt(to))
        .filter(absence::Column::EndsAt.gt(from))
}

/// The rows after the one starting at `starts_at` with id `id`, in the order of start, then id.
fn listed_after(starts: impl ColumnTrait, ids: impl ColumnTrait, starts_at: DateTime<Utc>, id: i32) -> Condition {
    Condition::any().add(starts.gt(starts_at)).add(Condition::all().add(starts.eq(starts_at)).add(ids.gt(id)))
}

/// A staff member's absences that have not ended by `from`, the soonest first.
///
/// # Errors
/// Database failures.
pub async fn absences_of_from<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    from: DateTime<Utc>,
) -> Result<Vec<Absence>, StoreError> {
    let query = absence::Entity::find().filter(absence::Column::StaffId.eq(staff_id));
    soonest_first(db, query.filter(absence::Column::EndsAt.gt(from))).await
}

async fn soonest_first<C: ConnectionTrait>(db: &C, query: Select<absence::Entity>) -> Result<Vec<Absence>, StoreError> {
    let rows = query.order_by_asc(absence::Column::StartsAt).order_by_asc(absence::Column::Id).all(db).await?;
    Ok(rows.into_iter().map(absence_record).collect())
}

/// What a schedule lock covers: a counsellor's time (absences) or a unit's (closures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Counsellor(StaffId),
    Unit(UnitId),
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
        Scope::Counsellor(id) => (1, id.get(), "counsellor_id"),
        Scope::Unit(id) => (2, id.get(), "unit_id"),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [class.into(), id.into()],
    ))
    .await?;
    if let Some((from, to)) = slots_in {
        let covered = super::blocking::overlapping("$2", "$3");
        let sql = format!("SELECT id FROM slots WHERE {column} = $1 AND {covered} FOR UPDATE");
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, [id.into(), from.into(), to.into()])).await?;
    }
    Ok(())
}

/// Serialises the saves of one counsellor's hours, in whichever unit: the check that new hours
/// overlap none of the person's others reads their rules, and two leads of two units saving at
/// once (each holding only their own unit's lock) would each miss the other's uncommitted hours.
/// Taken after the unit's lock ([`lock_unit_slots`]) and before the rules are read; nothing takes
/// them in the other order. SQLite serialises all writers already (`BEGIN IMMEDIATE`).
///
/// # Errors
/// Database failures.
pub async fn lock_counsellor_hours<C: ConnectionTrait>(db: &C, counsellor_id: StaffId) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(());
    }
    let sql = "SELECT pg_advisory_xact_lock(4, $1)";
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [counsellor_id.get().into()])).await?;
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
pub async fn lock_unit_slots<C: ConnectionTrait>(db: &C, unit_id: UnitId) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(backend, "SELECT pg_advisory_xact_lock(3, $1)", [unit_id.into()]))
        .await?;
    Ok(())
}

/// # Errors
/// Database failures.
pub async fn insert_absence<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: &str,
    actor_id: StaffId,
    now: DateTime<Utc>,
) -> Result<Absence, StoreError> {
    let row = absence::ActiveModel {
        staff_id: Set(staff_id.get()),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        created_by: Set(Some(actor_id.get())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(absence_record(row))
}

/// # Errors
/// Database failures.
pub async fn find_absence<C: ConnectionTrait>(db: &C, id: AbsenceId) -> Result<Option<Absence>, StoreError> {
    Ok(absence::Entity::find_by_id(id).one(db).await?.map(absence_record))
}

/// # Errors
/// Database failures.
pub async fn delete_absence<C: ConnectionTrait>(db: &C, id: AbsenceId, staff_id: StaffId) -> Result<bool, StoreError> {
    let done = absence::Entity::delete_by_id(id).filter(absence::Column::StaffId.eq(staff_id.get())).exec(db).await?;
    Ok(done.rows_affected == 1)
}

/// Closures of the unit, and department-wide ones, overlapping `[from, to)`.
///
/// # Errors
/// Database failures.
pub async fn closures_overlapping<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Closure>, StoreError> {
    let rows = closures_in(unit_id, from, to).all(db).await?;
    Ok(rows.into_iter().map(closure_record).collect())
}

/// Up to `limit` of [`closures_overlapping`], those listed after the closure `after` only (by
/// start, then id).
///
/// # Errors
/// Database failures.
pub async fn closures_overlapping_after<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Option<&Closure>,
    limit: u64,
) -> Result<Vec<Closure>, StoreError> {
    let mut query = closures_in(unit_id, from, to).limit(limit);
    if let Some(after) = after {
        query =
            query.filter(listed_after(closure::Column::StartsAt, closure::Column::Id, after.starts_at, after.id.get()));
    }
    Ok(query.all(db).await?.into_iter().map(closure_record).collect())
}

/// The closures of the unit and of the whole department overlapping `[from, to)`, soonest first.
fn closures_in(unit_id: UnitId, from: DateTime<Utc>, to: DateTime<Utc>) -> Select<closure::Entity> {
    closure::Entity::find()
        .filter(Condition::any().add(closure::Column::UnitId.eq(unit_id)).add(closure::Column::UnitId.is_null()))
        .filter(closure::Column::StartsAt.lt(to))
        .filter(closure::Column::EndsAt.gt(from))
        .order_by_asc(closure::Column::StartsAt)
        .order_by_asc(closure::Column::Id)
}

/// # Errors
/// Database failures.
pub async fn insert_closure<C: ConnectionTrait>(
    db: &C,
    unit_id: Option<UnitId>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: &str,
    actor_id: StaffId,
    now: DateTime<Utc>,
) -> Result<Closure, StoreError> {
    let row = closure::ActiveModel {
        unit_id: Set(unit_id.map(i32::from)),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        created_by: Set(Some(actor_id.get())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(closure_record(row))
}

/// # Errors
/// Database failures.
pub async fn find_closure<C: ConnectionTrait>(db: &C, id: ClosureId) -> Result<Option<Closure>, StoreError> {
    Ok(closure::Entity::find_by_id(id).one(db).await?.map(closure_record))
}

/// # Errors
/// Database failures.
pub async fn delete_closure<C: ConnectionTrait>(db: &C, id: ClosureId, unit_id: UnitId) -> Result<bool, StoreError> {
    let done = closure::Entity::delete_by_id(id).filter(closure::Column::UnitId.eq(unit_id.get())).exec(db).await?;
    Ok(done.rows_affected == 1)
}

fn rule_record(row: counselling_hours::Model) -> HoursRule {
    HoursRule {
        id: RuleId::new(row.id),
        unit_id: UnitId::new(row.unit_id),
        counsellor_id: StaffId::new(row.counsellor_id),
        // A stored value that is no weekday is kept invalid (0), not turned into Monday:
        // `services::schedule::weekly_rule` refuses it.
        weekday: u8::try_from(row.weekday).unwrap_or(0),
        start_local: row.start_local,
        end_local: row.end_local,
        slot_minutes: row.slot_minutes,
        buffer_minutes: row.buffer_minutes,
        capacity: row.capacity,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        updated_at: row.updated_at,
    }
}

fn absence_record(row: absence::Model) -> Absence {
    Absence {
        id: AbsenceId::new(row.id),
        staff_id: StaffId::new(row.staff_id),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        reason: row.reason,
    }
}

fn closure_record(row: closure::Model) -> Closure {
    Closure {
        id: ClosureId::new(row.id),
        unit_id: row.unit_id.map(UnitId::new),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        reason: row.reason,
    }
}
