//! The blocking rule has one definition (`domain::blocking`); the SQL that decides inside the
//! database (the booking check, SQLite's seat update, the free-slot page) is checked against it
//! here, on the engine the suite runs on: closures of the unit, of another unit and of the whole
//! department, absences of the counsellor and of another one, and an ad hoc booking, placed
//! around real slots (touching, overlapping by a minute, containing), then every slot is judged
//! by the definition and by each SQL path.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use terminbuch::domain::blocking::{Block, BlockedBy, Wanted, first_blocking};
use terminbuch::store::{self, StoreError, blocking, directory, schedule, slots};

use crate::helpers::{adhoc_anyway, booking_body, spawn_app};
use terminbuch::domain::ids::{SlotId, StaffId, UnitId};

struct Candidate {
    id: i32,
    counsellor_id: i32,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

fn candidate(slot: &Value) -> Candidate {
    let time = |key: &str| {
        DateTime::parse_from_rfc3339(slot[key].as_str().expect("time")).expect("rfc3339").with_timezone(&Utc)
    };
    Candidate {
        id: i32::try_from(slot["slot_id"].as_i64().expect("slot id")).expect("i32"),
        counsellor_id: i32::try_from(slot["counsellor"]["id"].as_i64().expect("counsellor id")).expect("i32"),
        starts_at: time("starts_at"),
        ends_at: time("ends_at"),
    }
}

/// A block placed around `slot`, chosen by `variant`: touching, overlapping, containing, for the
/// slot's unit or counsellor or for someone else.
fn block_around(
    variant: usize,
    slot: &Candidate,
    unit_id: UnitId,
    other_unit: UnitId,
    other_staff: StaffId,
) -> Option<Block> {
    let minute = TimeDelta::minutes(1);
    let (start, end) = (slot.starts_at, slot.ends_at);
    let (by, starts_at, ends_at) = match variant % 9 {
        0 => return None,
        1 => (BlockedBy::Closure { unit_id: Some(unit_id) }, start - TimeDelta::hours(1), start),
        2 => (BlockedBy::Closure { unit_id: Some(unit_id) }, end - minute, end + TimeDelta::hours(1)),
        3 => (BlockedBy::Closure { unit_id: None }, start - minute, end + minute),
        4 => (BlockedBy::Closure { unit_id: Some(other_unit) }, start, end),
        5 => (BlockedBy::Absence { staff_id: StaffId::new(slot.counsellor_id) }, start + minute, start + minute * 2),
        6 => (BlockedBy::Absence { staff_id: other_staff }, start, end),
        7 => (BlockedBy::Absence { staff_id: StaffId::new(slot.counsellor_id) }, end, end + TimeDelta::hours(2)),
        _ => (
            BlockedBy::Absence { staff_id: StaffId::new(slot.counsellor_id) },
            start - TimeDelta::hours(3),
            start + minute,
        ),
    };
    Some(Block { by, starts_at, ends_at })
}

#[tokio::test]
async fn every_sql_path_of_the_blocking_rule_agrees_with_its_one_definition() {
    let app = spawn_app().await;
    let unit = directory::find_unit(&app.db, "ads").await.expect("db").expect("ads");
    let other_unit = directory::find_unit(&app.db, "sdr").await.expect("db").expect("sdr");
    let other_staff = i32::try_from(app.counsellor_id("sdr", "Lukas Feldmann").await).expect("i32");
    let range = "from=2026-11-30&to=2026-12-11&limit=500";
    let before: Vec<Candidate> = app.free_slots("ads", range).await.iter().map(candidate).collect();
    assert!(before.len() >= 20, "enough slots to place every kind of block: {}", before.len());

    // The first day closed (a search for a few then reads several pages), then one block every
    // fourth slot, of each kind in turn.
    let day_closed = Block {
        by: BlockedBy::Closure { unit_id: Some(unit.id) },
        starts_at: before[0].starts_at,
        ends_at: before[0].starts_at + TimeDelta::hours(10),
    };
    let mut blocks: Vec<Block> = before
        .iter()
        .filter(|slot| slot.starts_at >= day_closed.ends_at)
        .enumerate()
        .filter(|(i, _)| i % 4 == 0)
        .filter_map(|(i, slot)| block_around(i / 4, slot, unit.id, other_unit.id, StaffId::new(other_staff)))
        .chain([day_closed])
        .collect();
    let now = app.clock.now();
    for block in &blocks {
        match block.by {
            BlockedBy::Closure { unit_id } => {
                schedule::insert_closure(&app.db, unit_id, block.starts_at, block.ends_at, "Test", StaffId::new(1), now)
                    .await
            }
            .map(|_| ()),
            BlockedBy::Absence { staff_id } => {
                schedule::insert_absence(
                    &app.db,
                    staff_id,
                    block.starts_at,
                    block.ends_at,
                    "Test",
                    StaffId::new(1),
                    now,
                )
                .await
            }
            .map(|_| ()),
            BlockedBy::Booking { .. } => unreachable!("placed below"),
        }
        .expect("insert block");
    }
    // An ad hoc booking in the middle of a free slot that no other block touches.
    let target = before
        .iter()
        .find(|slot| {
            let wanted = wanted(unit.id, slot);
            first_blocking(&blocks, &wanted).is_none()
        })
        .expect("an unblocked slot");
    let local = (target.starts_at + TimeDelta::minutes(10)).with_timezone(&chrono_tz::Europe::Berlin);
    let adhoc = app
        .post_booking(&adhoc_anyway(
            "ads",
            i64::from(target.counsellor_id),
            &local.format("%Y-%m-%dT%H:%M").to_string(),
            10,
        ))
        .await;
    assert_eq!(adhoc.status(), StatusCode::CREATED);
    let adhoc: Value = adhoc.json().await.expect("json");
    let adhoc_slot = i32::try_from(adhoc["slot_id"].as_i64().expect("slot id")).expect("i32");
    blocks.push(Block {
        by: BlockedBy::Booking { slot_id: SlotId::new(adhoc_slot), counsellor_id: StaffId::new(target.counsellor_id) },
        starts_at: target.starts_at + TimeDelta::minutes(10),
        ends_at: target.starts_at + TimeDelta::minutes(20),
    });

    let verdicts: Vec<Option<Block>> =
        before.iter().map(|slot| first_blocking(&blocks, &wanted(unit.id, slot)).copied()).collect();
    assert!(verdicts.iter().filter(|v| v.is_some()).count() >= 5, "the placement blocks some slots");
    assert!(verdicts.iter().filter(|v| v.is_none()).count() >= 5, "and leaves others free");

    // 1. The booking check's query (`store::blocking::blocking`).
    for slot in &before {
        let wanted = wanted(unit.id, slot);
        let found =
            blocking::blocking(&app.db, unit.id, StaffId::new(slot.counsellor_id), slot.starts_at, slot.ends_at)
                .await
                .expect("db");
        let closure = blocks.iter().any(|b| matches!(b.by, BlockedBy::Closure { .. }) && b.blocks(&wanted));
        let absence = blocks.iter().any(|b| matches!(b.by, BlockedBy::Absence { .. }) && b.blocks(&wanted));
        assert_eq!(found.closure.is_some(), closure, "closure of slot {} at {}", slot.id, slot.starts_at);
        assert_eq!(found.absent, absence, "absence of slot {} at {}", slot.id, slot.starts_at);
    }

    // 2. The free-slot page (its SQL fetches, the definition decides).
    let free: BTreeSet<i32> = app.free_slots("ads", range).await.iter().map(|s| candidate(s).id).collect();
    let expected: BTreeSet<i32> =
        before.iter().zip(&verdicts).filter(|(_, v)| v.is_none()).map(|(s, _)| s.id).collect();
    assert_eq!(free, expected, "free slots");
    // The same, a few at a time (the search then reads several pages).
    let mut in_order: Vec<&Candidate> = before.iter().filter(|s| expected.contains(&s.id)).collect();
    in_order.sort_by_key(|s| (s.starts_at, s.id));
    for limit in [1, 2, 5] {
        let query = format!("from=2026-11-30&to=2026-12-11&limit={limit}");
        let found: Vec<i32> = app.free_slots("ads", &query).await.iter().map(|s| candidate(s).id).collect();
        let first: Vec<i32> = in_order.iter().take(limit).map(|s| s.id).collect();
        assert_eq!(found, first, "the first {limit} free slots");
    }

    // 3. SQLite's seat update decides closures and absences itself; PostgreSQL checks after it.
    let checks_itself = !app.is_postgres();
    for (slot, verdict) in before.iter().zip(&verdicts) {
        let txn = store::begin_write(&app.db).await.expect("begin");
        let taken = slots::take_regular_seat(&txn, SlotId::new(slot.id), true).await;
        txn.rollback().await.expect("rollback");
        let by = verdict.map(|b| b.by);
        if let Some(BlockedBy::Booking { .. }) = by {
            assert!(matches!(taken, Err(StoreError::CounsellorOverlap)), "slot {}: {taken:?}", slot.id);
            continue;
        }
        let taken = taken.expect("seat update");
        if checks_itself {
            assert_eq!(taken.is_some(), by.is_none(), "seat of slot {} at {}", slot.id, slot.starts_at);
            assert!(taken.is_none_or(|t| t.unblocked_checked));
        } else {
            assert!(taken.is_some_and(|t| !t.unblocked_checked), "PostgreSQL checks after the update");
        }
    }

    // 4. Booking every slot through the API: booked exactly where the definition says free.
    for (slot, verdict) in before.iter().zip(&verdicts) {
        let response = app.post_booking(&booking_body(i64::from(slot.id))).await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        let code = body["code"].as_str().unwrap_or("");
        match verdict.map(|b| b.by) {
            None => assert_eq!(status, StatusCode::CREATED, "slot {} at {}: {body}", slot.id, slot.starts_at),
            Some(BlockedBy::Closure { .. }) => assert_eq!(code, "unit_closed", "slot {}", slot.id),
            Some(BlockedBy::Absence { .. }) => assert_eq!(code, "counsellor_absent", "slot {}", slot.id),
            Some(BlockedBy::Booking { .. }) => assert_eq!(status, StatusCode::CONFLICT, "slot {}: {body}", slot.id),
        }
    }
}

fn wanted(unit_id: UnitId, slot: &Candidate) -> Wanted {
    Wanted {
        unit_id,
        counsellor_id: StaffId::new(slot.counsellor_id),
        slot_id: Some(SlotId::new(slot.id)),
        starts_at: slot.starts_at,
        ends_at: slot.ends_at,
    }
}
