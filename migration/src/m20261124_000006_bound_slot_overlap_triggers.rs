//! SQLite: the triggers that keep booked slots of one counsellor from overlapping look back at
//! most 8 hours (the longest slot) instead of over the counsellor's whole history.
//!
//! The first version compared against every earlier booked slot of the counsellor, so each
//! booking scanned the whole history (about 2–3 ms of CPU per booking with 5,000 past bookings
//! per counsellor, growing without bound). A slot that overlaps `NEW` ends after `NEW.starts_at`
//! and lasts at most 8 hours, so it starts no earlier than `NEW.starts_at - 8 hours`: that lower
//! bound lets the `(counsellor_id, starts_at)` index narrow the scan to a few rows.
//!
//! Instants are stored as RFC 3339 text (`2027-01-04T08:30:00+00:00`); the bound is the same
//! instant without the offset, which sorts at or before every stored form of it. If a start could
//! not be read as a date, the bound falls back to `''`, i.e. the old full scan, never to no check.
//! PostgreSQL's exclusion constraint already uses a GiST index and is unchanged.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Longest slot or appointment (`store::slots::MAX_SLOT_LENGTH`, and the 480-minute limit of
/// the API and of counselling hours).
const LOOK_BACK: &str = "-8 hours";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let db = manager.get_connection();
        for (name, when) in [
            ("slots_no_counsellor_overlap_insert", "BEFORE INSERT ON slots"),
            (
                "slots_no_counsellor_overlap_update",
                "BEFORE UPDATE OF booked_count, starts_at, ends_at, counsellor_id ON slots",
            ),
        ] {
            // One call, so both statements run on the same pooled connection: another
            // connection's cached schema could still list the dropped trigger.
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {name};
                 CREATE TRIGGER {name} {when} FOR EACH ROW
                 WHEN NEW.booked_count > 0 AND EXISTS (
                     SELECT 1 FROM slots s
                     WHERE s.counsellor_id = NEW.counsellor_id AND s.id <> NEW.id
                       AND s.booked_count > 0
                       AND s.starts_at >= coalesce(strftime('%Y-%m-%dT%H:%M:%S', NEW.starts_at, '{LOOK_BACK}'), '')
                       AND s.starts_at < NEW.ends_at AND s.ends_at > NEW.starts_at)
                 BEGIN SELECT RAISE(ABORT, 'slots_no_counsellor_overlap'); END"
            ))
            .await?;
        }
        Ok(())
    }
}
