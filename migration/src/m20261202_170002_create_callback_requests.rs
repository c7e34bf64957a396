//! The callback list (Rückrufliste): callers who wait for an earlier time, another counsellor or
//! a language not free now, with their wish, until when they wait, and the slot offered to them
//! once one frees up.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;
use crate::m20261124_000001_create_directory::{Staff, Units};
use crate::m20261124_000002_create_schedule::Slots;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CallbackRequests as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_auto(C::Id))
                    .col(integer(C::UnitId))
                    .col(string(C::CitizenName))
                    .col(string(C::CitizenPhone))
                    .col(string(C::CitizenLanguage))
                    .col(integer_null(C::CounsellorId))
                    .col(string_null(C::Language))
                    .col(string_null(C::Daypart))
                    .col(date_null(C::BeforeOn))
                    .col(date(C::UntilOn))
                    .col(text_null(C::Note))
                    .col(string(C::Status))
                    .col(integer_null(C::OfferedSlotId))
                    .col(timestamp_with_time_zone_null(C::OfferedAt))
                    .col(timestamp_with_time_zone_null(C::ClaimedUntil))
                    .col(uuid_null(C::BookingId))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(integer_null(C::CreatedBy))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .col(integer_null(C::UpdatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::CounsellorId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::OfferedSlotId)
                            .to(Slots::Table, Slots::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::BookingId)
                            .to(Alias::new("bookings"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .check(Expr::col(C::Status).is_in(["open", "booked", "withdrawn", "expired"]))
                    .check(Expr::col(C::Daypart).is_null().or(Expr::col(C::Daypart).is_in(["morning", "afternoon"])))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("callback_requests_unit_status", C::Table, &["unit_id", "status", "created_at"]))
            .await
    }
}

#[derive(DeriveIden)]
enum CallbackRequests {
    Table,
    Id,
    UnitId,
    CitizenName,
    CitizenPhone,
    CitizenLanguage,
    CounsellorId,
    Language,
    Daypart,
    BeforeOn,
    UntilOn,
    Note,
    Status,
    OfferedSlotId,
    OfferedAt,
    ClaimedUntil,
    BookingId,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
}
