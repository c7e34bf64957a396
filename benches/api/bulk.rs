//! `BENCH_STORED_BOOKINGS` (PostgreSQL): more history than the bench's 100,000 bookings, bulk-loaded
//! by the database itself (`INSERT … SELECT` over `generate_series`, one million rows a statement)
//! so that ten million load in minutes, not hours through the client.
//!
//! The extra bookings belong to the bench unit's own 20 counsellors, on the same grid as the rest
//! of the history (09:00–16:00 Berlin time, 30-minute slots, one booking per counsellor and slot),
//! day after day further into the past from the oldest stored slot: every unit-scoped index the
//! search and the booking use (slots and bookings by unit and time, by counsellor and time, the
//! exclusion constraint of booked slots) holds them all. One in ten is cancelled (its slot free
//! again), one in ten a no-show, the rest attended; each has its `created` event in the stored
//! format. Citizens' names are `Bulk citizen N`, their search keys the lowercased name and the
//! phone's digits (the fold of the service for such plain names).

use std::time::Instant;

use anyhow::{Context, ensure};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

/// Bookings per statement: each is its own transaction, so a failed load keeps what was done.
const CHUNK: u64 = 1_000_000;

/// References of the bulk rows start far above the bench's counter (which counts from 0), so
/// that the two never meet: the first character of every bulk reference is `N`.
const REFERENCE_OFFSET: i64 = 10 * 25_i64.pow(7);

/// Loads `extra` bookings before the unit's oldest slot; returns the seconds it took.
pub async fn load(db: &DatabaseConnection, unit_id: i32, admin_id: i32, extra: u64) -> anyhow::Result<f64> {
    ensure!(db.get_database_backend() == DbBackend::Postgres, "the bulk load is for PostgreSQL");
    let started = Instant::now();
    let counsellors = counsellor_ids(db, unit_id).await?;
    let per_day = i64::try_from(counsellors.len() * SLOTS_PER_DAY)?;
    let mut done = 0;
    while done < extra {
        let n = CHUNK.min(extra - done);
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            LOAD,
            [
                unit_id.into(),
                admin_id.into(),
                counsellors.clone().into(),
                i64::try_from(done)?.into(),
                i64::try_from(done + n)?.into(),
                per_day.into(),
                REFERENCE_OFFSET.into(),
            ],
        ))
        .await
        .with_context(|| format!("bulk load of bookings {done}..{}", done + n))?;
        txn.commit().await?;
        done += n;
        eprintln!("[postgres] bulk-loaded {done} of {extra} extra bookings, {:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Slots a counsellor has a day on the bench's grid (09:00–16:00, 30 minutes).
const SLOTS_PER_DAY: usize = 14;

async fn counsellor_ids(db: &DatabaseConnection, unit_id: i32) -> anyhow::Result<Vec<i32>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT counsellor_id FROM slots WHERE unit_id = $1 ORDER BY counsellor_id",
            [unit_id.into()],
        ))
        .await?;
    let ids = rows.iter().map(|row| row.try_get::<i32>("", "counsellor_id")).collect::<Result<Vec<_>, _>>()?;
    ensure!(!ids.is_empty(), "the bench unit has no counsellors with slots");
    Ok(ids)
}

/// Bookings `$4 .. $5` of the bulk history: number k is counsellor `k mod C` (C = the number of
/// counsellors), slot `(k div C) mod 14` of the day, `k div $6` days before the oldest stored slot.
const LOAD: &str = r#"
WITH counsellor AS (
    SELECT id, ordinality - 1 AS i FROM unnest($3::int[]) WITH ORDINALITY AS c(id, ordinality)
), oldest AS (
    SELECT (min(starts_at) AT TIME ZONE 'Europe/Berlin')::date AS day FROM slots WHERE unit_id = $1
), wanted AS (
    SELECT k, c.id AS counsellor_id,
        ((o.day - 1 - (k / $6)::int) + time '09:00'
            + ((k / cardinality($3::int[])) % 14) * interval '30 minutes') AT TIME ZONE 'Europe/Berlin' AS starts_at,
        CASE k % 10 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'no_show' ELSE 'attended' END AS status
    FROM generate_series($4::bigint, $5::bigint - 1) AS k
    JOIN counsellor c ON c.i = k % cardinality($3::int[])
    CROSS JOIN oldest o
), slot AS (
    INSERT INTO slots (unit_id, counsellor_id, rule_id, kind, starts_at, ends_at, capacity, booked_count, created_at)
    SELECT $1, counsellor_id, NULL, 'regular', starts_at, starts_at + interval '30 minutes', 1,
        CASE status WHEN 'cancelled' THEN 0 ELSE 1 END, starts_at - interval '30 days'
    FROM wanted
    RETURNING id, counsellor_id, starts_at, ends_at
), booking AS (
    INSERT INTO bookings (id, reference, unit_id, counsellor_id, slot_id, starts_at, ends_at, status, channel,
        citizen_name, citizen_email, citizen_phone, citizen_language, email_consent, cancel_reason, sequence,
        created_at, created_by, updated_at, updated_by, search_name, search_phone)
    SELECT gen_random_uuid(),
        (SELECT string_agg(substr('ACDEFGHJKMNPQRTUVWXY34679',
            (((w.k + $7) / (25::numeric ^ p)::bigint) % 25)::int + 1, 1), '' ORDER BY p DESC)
         FROM generate_series(0, 7) AS p),
        $1, s.counsellor_id, s.id, s.starts_at, s.ends_at, w.status,
        CASE WHEN w.k % 4 = 0 THEN 'walk_in' ELSE 'phone' END,
        'Bulk citizen ' || w.k, NULL, '0511 ' || lpad((w.k % 1000000)::text, 6, '0'), 'de', false,
        CASE w.status WHEN 'cancelled' THEN 'citizen called' END,
        CASE w.status WHEN 'cancelled' THEN 1 ELSE 0 END,
        s.starts_at - interval '7 days', $2, s.starts_at - interval '7 days', $2,
        'bulk citizen ' || w.k, '0511' || lpad((w.k % 1000000)::text, 6, '0')
    FROM slot s JOIN wanted w ON w.counsellor_id = s.counsellor_id AND w.starts_at = s.starts_at
    RETURNING id, slot_id, starts_at, ends_at, created_at
)
INSERT INTO booking_events (booking_id, at, actor_id, kind, detail)
SELECT id, created_at, $2, 'created',
    json_build_object('adhoc', false, 'channel', 'phone', 'ends_at', to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'override_reason', NULL, 'slot_id', slot_id,
        'starts_at', to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text
FROM booking
"#;
