//! Counselling hours, absences, closures and the stored slots they materialise into.
//!
//! The rule "two booked slots of one counsellor never overlap" is enforced by the database:
//! an exclusion constraint on PostgreSQL, triggers on SQLite (whose writers are serialised).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;
use crate::m20261124_000001_create_directory::{Staff, Units};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CounsellingHours::Table)
                    .col(pk_auto(CounsellingHours::Id))
                    .col(integer(CounsellingHours::UnitId))
                    .col(integer(CounsellingHours::CounsellorId))
                    .col(small_integer(CounsellingHours::Weekday))
                    .col(time(CounsellingHours::StartLocal))
                    .col(time(CounsellingHours::EndLocal))
                    .col(integer(CounsellingHours::SlotMinutes))
                    .col(integer(CounsellingHours::BufferMinutes))
                    .col(integer(CounsellingHours::Capacity))
                    .col(date(CounsellingHours::ValidFrom))
                    .col(date_null(CounsellingHours::ValidUntil))
                    .col(timestamp_with_time_zone(CounsellingHours::CreatedAt))
                    .col(timestamp_with_time_zone(CounsellingHours::UpdatedAt))
                    .col(integer_null(CounsellingHours::UpdatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CounsellingHours::Table, CounsellingHours::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CounsellingHours::Table, CounsellingHours::CounsellorId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(CounsellingHours::Weekday).between(1, 7))
                    .check(Expr::col(CounsellingHours::Capacity).between(1, 100))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Absences::Table)
                    .col(pk_auto(Absences::Id))
                    .col(integer(Absences::StaffId))
                    .col(timestamp_with_time_zone(Absences::StartsAt))
                    .col(timestamp_with_time_zone(Absences::EndsAt))
                    .col(string(Absences::Reason))
                    .col(timestamp_with_time_zone(Absences::CreatedAt))
                    .col(integer_null(Absences::CreatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Absences::Table, Absences::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(Absences::EndsAt).gt(Expr::col(Absences::StartsAt)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("absences_staff_time", Absences::Table, &["staff_id", "starts_at"])).await?;
        manager
            .create_table(
                Table::create()
                    .table(Closures::Table)
                    .col(pk_auto(Closures::Id))
                    .col(integer_null(Closures::UnitId))
                    .col(timestamp_with_time_zone(Closures::StartsAt))
                    .col(timestamp_with_time_zone(Closures::EndsAt))
                    .col(string(Closures::Reason))
                    .col(timestamp_with_time_zone(Closures::CreatedAt))
                    .col(integer_null(Closures::CreatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Closures::Table, Closures::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(Closures::EndsAt).gt(Expr::col(Closures::StartsAt)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("closures_unit_time", Closures::Table, &["unit_id", "starts_at"])).await?;
        manager
            .create_table(
                Table::create()
                    .table(Slots::Table)
                    .col(pk_auto(Slots::Id))
                    .col(integer(Slots::UnitId))
                    .col(integer(Slots::CounsellorId))
                    .col(integer_null(Slots::RuleId))
                    .col(string(Slots::Kind))
                    .col(timestamp_with_time_zone(Slots::StartsAt))
                    .col(timestamp_with_time_zone(Slots::EndsAt))
                    .col(integer(Slots::Capacity))
                    .col(integer(Slots::BookedCount))
                    .col(timestamp_with_time_zone(Slots::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Slots::Table, Slots::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Slots::Table, Slots::CounsellorId).to(Staff::Table, Staff::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Slots::Table, Slots::RuleId)
                            .to(CounsellingHours::Table, CounsellingHours::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .check(Expr::col(Slots::Kind).is_in(["regular", "adhoc"]))
                    .check(Expr::col(Slots::EndsAt).gt(Expr::col(Slots::StartsAt)))
                    .check(Expr::col(Slots::Capacity).gte(1))
                    // The capacity invariant: no slot is ever booked beyond its capacity.
                    .check(
                        Expr::col(Slots::BookedCount)
                            .gte(0)
                            .and(Expr::col(Slots::BookedCount).lte(Expr::col(Slots::Capacity))),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("slots_unit_time", Slots::Table, &["unit_id", "starts_at"])).await?;
        manager.create_index(index("slots_counsellor_time", Slots::Table, &["counsellor_id", "starts_at"])).await?;
        manager
            .create_index(index("slots_rule_start", Slots::Table, &["rule_id", "starts_at"]).unique().take())
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE slots ADD CONSTRAINT slots_no_counsellor_overlap EXCLUDE USING gist (
                        int4range(counsellor_id, counsellor_id, '[]') WITH &&,
                        tstzrange(starts_at, ends_at, '[)') WITH &&
                    ) WHERE (booked_count > 0)",
                )
                .await?;
            }
            _ => {
                for (name, when) in [
                    ("slots_no_counsellor_overlap_insert", "BEFORE INSERT ON slots"),
                    (
                        "slots_no_counsellor_overlap_update",
                        "BEFORE UPDATE OF booked_count, starts_at, ends_at, counsellor_id ON slots",
                    ),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} {when} FOR EACH ROW
                         WHEN NEW.booked_count > 0 AND EXISTS (
                             SELECT 1 FROM slots s
                             WHERE s.counsellor_id = NEW.counsellor_id AND s.id <> NEW.id
                               AND s.booked_count > 0
                               AND s.starts_at < NEW.ends_at AND s.ends_at > NEW.starts_at)
                         BEGIN SELECT RAISE(ABORT, 'slots_no_counsellor_overlap'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub(crate) enum CounsellingHours {
    Table,
    Id,
    UnitId,
    CounsellorId,
    Weekday,
    StartLocal,
    EndLocal,
    SlotMinutes,
    BufferMinutes,
    Capacity,
    ValidFrom,
    ValidUntil,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Absences {
    Table,
    Id,
    StaffId,
    StartsAt,
    EndsAt,
    Reason,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Closures {
    Table,
    Id,
    UnitId,
    StartsAt,
    EndsAt,
    Reason,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
pub(crate) enum Slots {
    Table,
    Id,
    UnitId,
    CounsellorId,
    RuleId,
    Kind,
    StartsAt,
    EndsAt,
    Capacity,
    BookedCount,
    CreatedAt,
}
