//! Bookings (one citizen, one counsellor, one slot) and their history of events.

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
        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(pk_uuid(Bookings::Id))
                    .col(string_uniq(Bookings::Reference))
                    .col(integer(Bookings::UnitId))
                    .col(integer(Bookings::CounsellorId))
                    .col(integer(Bookings::SlotId))
                    .col(timestamp_with_time_zone(Bookings::StartsAt))
                    .col(timestamp_with_time_zone(Bookings::EndsAt))
                    .col(string(Bookings::Status))
                    .col(string(Bookings::Channel))
                    .col(string(Bookings::CitizenName))
                    .col(string_null(Bookings::CitizenEmail))
                    .col(string_null(Bookings::CitizenPhone))
                    .col(string(Bookings::CitizenLanguage))
                    .col(string_null(Bookings::InterpreterLanguage))
                    .col(text_null(Bookings::AccessibilityNeeds))
                    .col(boolean(Bookings::EmailConsent))
                    .col(text_null(Bookings::Note))
                    .col(text_null(Bookings::OverrideReason))
                    .col(text_null(Bookings::CancelReason))
                    .col(integer(Bookings::Sequence))
                    .col(timestamp_with_time_zone(Bookings::CreatedAt))
                    .col(integer_null(Bookings::CreatedBy))
                    .col(timestamp_with_time_zone(Bookings::UpdatedAt))
                    .col(integer_null(Bookings::UpdatedBy))
                    .foreign_key(
                        ForeignKey::create().from(Bookings::Table, Bookings::UnitId).to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Bookings::Table, Bookings::CounsellorId).to(Staff::Table, Staff::Id),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Bookings::Table, Bookings::SlotId).to(Slots::Table, Slots::Id),
                    )
                    .check(Expr::col(Bookings::Status).is_in(["booked", "cancelled", "attended", "no_show"]))
                    .check(Expr::col(Bookings::Channel).is_in(["phone", "walk_in", "email", "other"]))
                    .check(Expr::col(Bookings::EndsAt).gt(Expr::col(Bookings::StartsAt)))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("bookings_unit_time", &["unit_id", "starts_at"][..]),
            ("bookings_counsellor_time", &["counsellor_id", "starts_at"][..]),
            ("bookings_slot", &["slot_id"][..]),
            ("bookings_citizen_phone", &["citizen_phone"][..]),
        ] {
            manager.create_index(index(name, Bookings::Table, cols)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BookingEvents::Table)
                    .col(pk_auto(BookingEvents::Id))
                    .col(uuid(BookingEvents::BookingId))
                    .col(timestamp_with_time_zone(BookingEvents::At))
                    .col(integer_null(BookingEvents::ActorId))
                    .col(string(BookingEvents::Kind))
                    .col(text(BookingEvents::Detail))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookingEvents::Table, BookingEvents::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("booking_events_booking", BookingEvents::Table, &["booking_id", "at"])).await
    }
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    Reference,
    UnitId,
    CounsellorId,
    SlotId,
    StartsAt,
    EndsAt,
    Status,
    Channel,
    CitizenName,
    CitizenEmail,
    CitizenPhone,
    CitizenLanguage,
    InterpreterLanguage,
    AccessibilityNeeds,
    EmailConsent,
    Note,
    OverrideReason,
    CancelReason,
    Sequence,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum BookingEvents {
    Table,
    Id,
    BookingId,
    At,
    ActorId,
    Kind,
    Detail,
}
