//! PostgreSQL: `take_seat`, the seat of a booking and its closure and absence check in one call, so
//! that a booking of a slot is one statement (one round trip, one implicit transaction) with its
//! rows: `WITH … INSERT … SELECT take_seat(…)` (see `store::bookings::insert_taking_seat`).
//!
//! The function takes the seat with the conditional update, guarded by the slot as the service
//! read it (unit, counsellor, time: the rows of the same statement were built from them), and only
//! then looks for a closure of the unit or the department or an absence of the counsellor
//! overlapping the slot. A PL/pgSQL function that is `VOLATILE` reads a fresh snapshot for each
//! statement at READ COMMITTED, so the check runs after the slot's row lock was granted and sees an
//! absence or closure whose transaction held that lock (they lock the slots they cover) and
//! committed meanwhile; inside one plain statement it would read the snapshot from before the lock
//! and miss it. Either refusal raises, which undoes the whole statement: 'TBS01' when no seat was
//! taken (full, no regular slot, or changed since it was read), 'TBS02' when the slot is blocked.
//! The overlap conditions are those of `store::blocking` (half-open intervals); the test
//! `blocking_rule` books through this function on PostgreSQL and checks it against the domain
//! definition.
//!
//! SQLite has nothing to create: its writer is alone on the file and checks inside the seat's
//! update.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES).await?;
        }
        Ok(())
    }
}

const POSTGRES: &str = "
CREATE FUNCTION take_seat(p_slot integer, p_unit integer, p_counsellor integer,
                          p_starts timestamptz, p_ends timestamptz, p_check boolean)
RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE slots SET booked_count = booked_count + 1
     WHERE id = p_slot AND kind = 'regular' AND booked_count < capacity
       AND unit_id = p_unit AND counsellor_id = p_counsellor AND starts_at = p_starts AND ends_at = p_ends;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'take_seat: slot % is not free as read', p_slot USING ERRCODE = 'TBS01';
    END IF;
    IF p_check AND (
        EXISTS (SELECT 1 FROM closures
                 WHERE (unit_id = p_unit OR unit_id IS NULL) AND ends_at > p_starts AND starts_at < p_ends)
        OR EXISTS (SELECT 1 FROM absences
                    WHERE staff_id = p_counsellor AND ends_at > p_starts AND starts_at < p_ends)) THEN
        RAISE EXCEPTION 'take_seat: slot % lies in a closure or absence', p_slot USING ERRCODE = 'TBS02';
    END IF;
    RETURN p_slot;
END $$;
";
