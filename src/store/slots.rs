//! Stored slots: materialising counselling hours, taking and releasing seats, free-slot candidates.

use chrono::{DateTime, TimeDelta, Utc};
use entity::slot::{self, SlotKind};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::StoreError;
use crate::domain::ids::{RuleId, SlotId, StaffId, UnitId};
use crate::domain::records::{HoursRule, Slot};
use crate::domain::time::TimeSlot;

/// Longest slot or appointment; bounds the look-back of overlap queries.
pub const MAX_SLOT_LENGTH: TimeDelta = TimeDelta::hours(8);

/// # Errors
/// Database failures.
pub async fn find<C: ConnectionTrait>(db: &C, id: SlotId) -> Result<Option<Slot>, StoreError> {
    Ok(slot::Entity::find_by_id(id).one(db).await?.map(slot_record))
}

/// Regular slots of one rule starting in `[from, to)`.
///
/// # Errors
/// Database failures.
pub async fn of_rule<C: ConnectionTrait>(
    db: &C,
    rule_id: RuleId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>, StoreError> {
    let rows = slot::Entity::find()
        .filter(slot::Column::RuleId.eq(rule_id))
        .filter(slot::Column::StartsAt.gte(from))
        .filter(slot::Column::StartsAt.lt(to))
        .order_by_asc(slot::Column::StartsAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(slot_record).collect())
}

/// Regular slots of the unit starting at or after `from` whose rule no longer exists (deleted:
/// the foreign key set their rule to `NULL`), booked or not.
///
/// # Errors
/// Database failures.
pub async fn orphaned<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    from: DateTime<Utc>,
) -> Result<Vec<SlotId>, StoreError> {
    let rows = slot::Entity::find()
        .select_only()
        .column(slot::Column::Id)
        .filter(slot::Column::UnitId.eq(unit_id))
        .filter(slot::Column::Kind.eq(SlotKind::Regular))
        .filter(slot::Column::RuleId.is_null())
        .filter(slot::Column::StartsAt.gte(from))
        .into_tuple::<i32>()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(SlotId::new).collect())
}

/// Inserts regular slots of `rule`; slots that already exist (same rule and start) are kept.
///
/// # Errors
/// Database failures.
pub async fn insert_regular<C: ConnectionTrait>(
    db: &C,
    rule: &HoursRule,
    times: &[TimeSlot],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in times.chunks(500) {
        let rows = chunk.iter().map(|time| slot::ActiveModel {
            unit_id: Set(rule.unit_id.get()),
            counsellor_id: Set(rule.counsellor_id.get()),
            rule_id: Set(Some(rule.id.get())),
            kind: Set(SlotKind::Regular),
            starts_at: Set(time.starts_at()),
            ends_at: Set(time.ends_at()),
            capacity: Set(rule.capacity),
            booked_count: Set(0),
            created_at: Set(now),
            ..Default::default()
        });
        slot::Entity::insert_many(rows)
            .on_conflict(OnConflict::columns([slot::Column::RuleId, slot::Column::StartsAt]).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Hands the slots of rule `from_rule` that start at or after `from` over to rule `to_rule`
/// (hours that follow others from a day on): the new rule's regeneration then keeps those at
/// times it produces, with their ids and bookings, and retires only the others. Left with the
/// old rule, every booked one would have been retired and a new slot made beside it.
///
/// # Errors
/// Database failures.
pub async fn hand_over<C: ConnectionTrait>(
    db: &C,
    from_rule: RuleId,
    to_rule: RuleId,
    from: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let moved = slot::Entity::update_many()
        .col_expr(slot::Column::RuleId, Expr::value(to_rule.get()))
        .filter(slot::Column::RuleId.eq(from_rule))
        .filter(slot::Column::StartsAt.gte(from))
        .exec(db)
        .await?;
    Ok(moved.rows_affected)
}

/// Brings `rule`'s slots from `from` on in line with the rule where they can stay: the rule's
/// counsellor on the free ones (a booked slot keeps its counsellor: its bookings are theirs), and
/// the rule's capacity on all of them, but never below the seats already taken (a group made
/// smaller is full once its bookings fill the new size). The slots keep their ids, so a slot a
/// search listed a moment ago can still be booked.
///
/// # Errors
/// Database failures.
pub async fn follow_rule<C: ConnectionTrait>(db: &C, rule: &HoursRule, from: DateTime<Utc>) -> Result<(), StoreError> {
    slot::Entity::update_many()
        .col_expr(slot::Column::CounsellorId, Expr::value(rule.counsellor_id.get()))
        .filter(slot::Column::RuleId.eq(rule.id))
        .filter(slot::Column::StartsAt.gte(from))
        .filter(slot::Column::BookedCount.eq(0))
        .filter(slot::Column::CounsellorId.ne(rule.counsellor_id.get()))
        .exec(db)
        .await?;
    let capacity = || {
        Expr::case(Expr::col(slot::Column::BookedCount).gt(rule.capacity), Expr::col(slot::Column::BookedCount))
            .finally(Expr::value(rule.capacity))
    };
    slot::Entity::update_many()
        .col_expr(slot::Column::Capacity, capacity().into())
        .filter(slot::Column::RuleId.eq(rule.id))
        .filter(slot::Column::StartsAt.gte(from))
        .filter(Expr::col(slot::Column::Capacity).ne(capacity()))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the given slots out of the offer for good (hours that no rule produces any more): a
/// slot that no booking refers to is deleted; one that a booking refers to (a booked one, or one
/// whose bookings were cancelled: they keep their slot as their record) is kept as a slot of kind
/// `adhoc` without a rule, which is never offered and never has a seat taken, and whose bookings
/// stay as they are (listed as outside the hours until moved; a group comes back with its hours,
/// [`revive`]). Returns how many of them were free.
///
/// # Errors
/// Database failures.
pub async fn retire<C: ConnectionTrait>(db: &C, ids: &[SlotId]) -> Result<u64, StoreError> {
    retire_where(db, ids, true).await
}

/// [`retire`], of the booked slots too when `booked_too`.
async fn retire_where<C: ConnectionTrait>(db: &C, ids: &[SlotId], booked_too: bool) -> Result<u64, StoreError> {
    let mut free = 0;
    for chunk in ids.chunks(500) {
        let deleted = slot::Entity::delete_many()
            .filter(slot::Column::Id.is_in(chunk.iter().copied()))
            .filter(slot::Column::BookedCount.eq(0))
            .filter(Expr::cust("NOT EXISTS (SELECT 1 FROM bookings WHERE bookings.slot_id = slots.id)"))
            .exec(db)
            .await?;
        let kept = |booked: bool| {
            let update = slot::Entity::update_many()
                .col_expr(slot::Column::Kind, Expr::value(SlotKind::Adhoc))
                .col_expr(slot::Column::RuleId, Expr::value(None::<i32>))
                .filter(slot::Column::Id.is_in(chunk.iter().copied()))
                .filter(slot::Column::Kind.eq(SlotKind::Regular));
            if booked {
                update.filter(slot::Column::BookedCount.gt(0))
            } else {
                update.filter(slot::Column::BookedCount.eq(0))
            }
        };
        let kept_free = kept(false).exec(db).await?;
        if booked_too {
            kept(true).exec(db).await?;
        }
        free += deleted.rows_affected + kept_free.rows_affected;
    }
    Ok(free)
}

/// Group slots (more than one seat: an ad-hoc appointment's slot has one) of `counsellor` in
/// `unit`, starting in `[from, to)`, that [`retire`] took out of the offer while seats were taken
/// (their counsellor left, or the hours went), and that still have bookings.
///
/// # Errors
/// Database failures.
pub async fn retired_groups<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    counsellor_id: StaffId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>, StoreError> {
    let rows = slot::Entity::find()
        .filter(slot::Column::UnitId.eq(unit_id))
        .filter(slot::Column::CounsellorId.eq(counsellor_id))
        .filter(slot::Column::Kind.eq(SlotKind::Adhoc))
        .filter(slot::Column::RuleId.is_null())
        .filter(slot::Column::BookedCount.gt(0))
        .filter(slot::Column::Capacity.gt(1))
        .filter(slot::Column::StartsAt.gte(from))
        .filter(slot::Column::StartsAt.lt(to))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(slot_record).collect())
}

/// Brings retired group slots `ids` back as slots of `rule` (its counsellor counsels again, or
/// its hours are back): their free seats are offered again, under their old ids, with their
/// bookings. A slot of the rule already at the same start is left and that one is not brought
/// back; the caller clears such free slots out of the way first ([`retire_free`]). Returns the
/// ids brought back.
///
/// # Errors
/// Database failures.
pub async fn revive<C: ConnectionTrait>(db: &C, rule: &HoursRule, ids: &[SlotId]) -> Result<Vec<SlotId>, StoreError> {
    let mut revived = Vec::new();
    for chunk in ids.chunks(500) {
        slot::Entity::update_many()
            .col_expr(slot::Column::Kind, Expr::value(SlotKind::Regular))
            .col_expr(slot::Column::RuleId, Expr::value(rule.id.get()))
            .filter(slot::Column::Id.is_in(chunk.iter().copied()))
            .filter(slot::Column::Kind.eq(SlotKind::Adhoc))
            .filter(slot::Column::RuleId.is_null())
            .filter(Expr::cust(format!(
                "NOT EXISTS (SELECT 1 FROM slots AS other WHERE other.rule_id = {} AND other.starts_at = slots.starts_at)",
                rule.id.get()
            )))
            .exec(db)
            .await?;
        let back = slot::Entity::find()
            .select_only()
            .column(slot::Column::Id)
            .filter(slot::Column::Id.is_in(chunk.iter().copied()))
            .filter(slot::Column::RuleId.eq(rule.id))
            .into_tuple::<i32>()
            .all(db)
            .await?;
        revived.extend(back.into_iter().map(SlotId::new));
    }
    Ok(revived)
}

/// [`retire`] for the free ones of `ids` only: a slot booked meanwhile stays as it is.
///
/// # Errors
/// Database failures.
pub async fn retire_free<C: ConnectionTrait>(db: &C, ids: &[SlotId]) -> Result<u64, StoreError> {
    retire_where(db, ids, false).await
}

/// A seat taken by [`take_regular_seat`].
#[derive(Debug)]
pub struct TakenSeat {
    pub slot: Slot,
    /// The update itself made sure that no closure or absence overlaps the slot.
    pub unblocked_checked: bool,
}

/// Takes one seat of a regular slot if one is free and returns the slot as taken; `None` when
/// the slot is full or is no regular slot, or, when the check rode along, lies in a closure or
/// absence. A single conditional `UPDATE … RETURNING`, so concurrent takers serialise on the row
/// and at most `capacity` succeed.
///
/// With `check_unblocked` on SQLite, the update also requires that no closure of the unit or
/// the department and no absence of the counsellor overlaps the slot: SQLite serialises all
/// writers, so the check inside the update is as safe as a statement after it, and a booking
/// needs one statement less. On PostgreSQL the caller checks after the update (see
/// [`super::schedule::lock_scope`] for why the order matters there).
///
/// # Errors
/// `CounsellorOverlap` when the counsellor is booked at an overlapping time.
pub async fn take_regular_seat<C: ConnectionTrait>(
    db: &C,
    slot_id: SlotId,
    check_unblocked: bool,
) -> Result<Option<TakenSeat>, StoreError> {
    let unblocked_checked = check_unblocked && db.get_database_backend() == DbBackend::Sqlite;
    let rows = seat_update(slot_id, unblocked_checked).exec_with_returning(db).await?;
    Ok(rows.into_iter().next().map(|row| TakenSeat { slot: slot_record(row), unblocked_checked }))
}

/// The conditional update of [`take_regular_seat`] (with the closure and absence check when
/// `unblocked_checked`, SQLite only); also run by the booking writer's own connection
/// (`super::sqlite_direct`).
pub(super) fn seat_update(slot_id: SlotId, unblocked_checked: bool) -> sea_orm::UpdateMany<slot::Entity> {
    let update = slot::Entity::update_many()
        .col_expr(slot::Column::BookedCount, Expr::col(slot::Column::BookedCount).add(1))
        .filter(slot::Column::Id.eq(slot_id))
        .filter(slot::Column::Kind.eq(SlotKind::Regular))
        .filter(Expr::col(slot::Column::BookedCount).lt(Expr::col(slot::Column::Capacity)));
    if unblocked_checked { update.filter(Expr::cust(super::blocking::slot_unblocked())) } else { update }
}

/// Gives one seat back.
///
/// # Errors
/// Database failures.
pub async fn release_seat<C: ConnectionTrait>(db: &C, slot_id: SlotId) -> Result<(), StoreError> {
    slot::Entity::update_many()
        .col_expr(slot::Column::BookedCount, Expr::col(slot::Column::BookedCount).sub(1))
        .filter(slot::Column::Id.eq(slot_id))
        .filter(slot::Column::BookedCount.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Creates the slot of one ad-hoc appointment, already taken.
///
/// # Errors
/// `CounsellorOverlap` when the counsellor is booked at an overlapping time.
pub async fn insert_adhoc<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    counsellor_id: StaffId,
    time: TimeSlot,
    now: DateTime<Utc>,
) -> Result<Slot, StoreError> {
    let row = slot::ActiveModel {
        unit_id: Set(unit_id.get()),
        counsellor_id: Set(counsellor_id.get()),
        rule_id: Set(None),
        kind: Set(SlotKind::Adhoc),
        starts_at: Set(time.starts_at()),
        ends_at: Set(time.ends_at()),
        capacity: Set(1),
        booked_count: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(slot_record(row))
}

pub(super) fn slot_record(row: slot::Model) -> Slot {
    Slot {
        id: SlotId::new(row.id),
        unit_id: UnitId::new(row.unit_id),
        counsellor_id: StaffId::new(row.counsellor_id),
        rule_id: row.rule_id.map(RuleId::new),
        adhoc: row.kind == SlotKind::Adhoc,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        capacity: row.capacity,
        booked_count: row.booked_count,
    }
}

/// Start of the latest regular slot of the unit, if any.
///
/// # Errors
/// Database failures.
pub async fn latest_regular_start<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row = slot::Entity::find()
        .filter(slot::Column::UnitId.eq(unit_id))
        .filter(slot::Column::Kind.eq(SlotKind::Regular))
        .order_by_desc(slot::Column::StartsAt)
        .one(db)
        .await?;
    Ok(row.map(|r| r.starts_at))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use migration::{Migrator, MigratorTrait};

    use super::*;
    use crate::store::directory::{self, NewLocation, NewStaff, NewUnit};

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, 4, hour, minute, 0).unwrap()
    }

    fn time(from: DateTime<Utc>, to: DateTime<Utc>) -> TimeSlot {
        TimeSlot::new(from, to).unwrap()
    }

    /// The overlap guard (a bounded look-back trigger on SQLite) still catches every overlap,
    /// including one with the longest possible slot, and lets touching slots through.
    #[tokio::test]
    async fn booked_slots_of_a_counsellor_never_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = crate::store::connect(&url, Some(1)).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let now = at(0, 0);
        let location = directory::insert_location(
            &db,
            NewLocation { name: "L", street: "S", postal_code: "1", city: "C", floor: "", accessibility_notes: "" },
        )
        .await
        .unwrap();
        let unit = directory::insert_unit(
            &db,
            NewUnit {
                slug: "u",
                name: "U",
                short_name: "U",
                phone: "000",
                email: "u@example.invalid",
                location_id: location.id.get(),
                default_slot_minutes: 30,
                languages: &[],
                confidential: false,
                retention_days: 90,
            },
            now,
        )
        .await
        .unwrap();
        let staff = NewStaff {
            login: "c",
            display_name: "C",
            email: None,
            languages: &[],
            is_admin: false,
            password_hash: None,
        };
        let counsellor = directory::insert_staff(&db, staff, now).await.unwrap().id;
        let book = |from, to| insert_adhoc(&db, unit.id, counsellor, time(from, to), now);

        // An eight-hour appointment 01:00–09:00, the longest there is.
        book(at(1, 0), at(9, 0)).await.unwrap();
        assert!(matches!(book(at(8, 59), at(9, 30)).await, Err(StoreError::CounsellorOverlap)));
        assert!(matches!(book(at(0, 30), at(1, 30)).await, Err(StoreError::CounsellorOverlap)));
        assert!(matches!(book(at(3, 0), at(4, 0)).await, Err(StoreError::CounsellorOverlap)));
        // Touching is fine on both sides.
        book(at(9, 0), at(9, 30)).await.unwrap();
        book(at(0, 30), at(1, 0)).await.unwrap();
        assert!(matches!(book(at(9, 15), at(9, 45)).await, Err(StoreError::CounsellorOverlap)));

        // Taking a seat of a free overlapping slot is refused by the update trigger.
        let rule_free = slot::ActiveModel {
            unit_id: Set(unit.id.get()),
            counsellor_id: Set(counsellor.get()),
            rule_id: Set(None),
            kind: Set(SlotKind::Regular),
            starts_at: Set(at(8, 30)),
            ends_at: Set(at(9, 30)),
            capacity: Set(1),
            booked_count: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        assert!(matches!(
            take_regular_seat(&db, SlotId::new(rule_free.id), true).await,
            Err(StoreError::CounsellorOverlap)
        ));
    }
}
