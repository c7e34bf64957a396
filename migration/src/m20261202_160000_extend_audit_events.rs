//! The audit records every access to personal data, not only refusals: who (a staff member, a
//! citizen through their link, the system, or someone unidentified), from which address, and
//! what (unit, bookings, a count). Existing rows, all refusals (`denied:<what>`), are carried
//! over as `access_denied` with what was attempted in `detail` and their unit or booking in the
//! new columns.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            string(AuditEvents::ActorKind).default("staff").to_owned(),
            string_null(AuditEvents::ClientAddr),
            integer_null(AuditEvents::UnitId),
            text(AuditEvents::BookingIds).default("").to_owned(),
            big_integer_null(AuditEvents::ItemCount),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(AuditEvents::Table).add_column(&mut column).to_owned()).await?;
        }
        let db = manager.get_connection();
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => CARRY_OVER_POSTGRES,
            _ => CARRY_OVER_SQLITE,
        };
        db.execute_unprepared(sql).await?;
        manager.create_index(index("audit_events_actor", AuditEvents::Table, &["actor_id", "at"])).await
    }
}

/// `denied:booking.read` on `booking:<id>` → `access_denied`, `{"attempted":"booking.read"}`,
/// the booking in `booking_ids`; a `unit:<id>` target moves to `unit_id`.
const CARRY_OVER_SQLITE: &str = "
    UPDATE audit_events SET
        detail = json_object('attempted', substr(action, 8)),
        unit_id = CASE WHEN target GLOB 'unit:[0-9]*' THEN CAST(substr(target, 6) AS INTEGER) END,
        booking_ids = CASE WHEN target LIKE 'booking:%' THEN substr(target, 9) ELSE '' END,
        target = CASE WHEN target GLOB 'unit:[0-9]*' OR target LIKE 'booking:%' THEN '' ELSE target END,
        action = 'access_denied'
    WHERE action LIKE 'denied:%'";

const CARRY_OVER_POSTGRES: &str = "
    UPDATE audit_events SET
        detail = json_build_object('attempted', substr(action, 8))::text,
        unit_id = CASE WHEN target ~ '^unit:[0-9]{1,9}$' THEN CAST(substr(target, 6) AS INTEGER) END,
        booking_ids = CASE WHEN target LIKE 'booking:%' THEN substr(target, 9) ELSE '' END,
        target = CASE WHEN target ~ '^unit:[0-9]{1,9}$' OR target LIKE 'booking:%' THEN '' ELSE target END,
        action = 'access_denied'
    WHERE action LIKE 'denied:%'";

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    ActorKind,
    ClientAddr,
    UnitId,
    BookingIds,
    ItemCount,
}
