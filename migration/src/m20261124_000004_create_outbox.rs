//! The mail outbox: one row per email a booking change causes, written in the same transaction
//! as the change and drained by the dispatcher (lease column `locked_until`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxMessages::Table)
                    .col(pk_uuid(OutboxMessages::Id))
                    .col(uuid(OutboxMessages::BookingId))
                    .col(string(OutboxMessages::Kind))
                    .col(string(OutboxMessages::State))
                    .col(string(OutboxMessages::Recipient))
                    .col(string(OutboxMessages::Language))
                    .col(string_uniq(OutboxMessages::MessageId))
                    .col(string_null(OutboxMessages::DedupeKey).unique_key())
                    .col(integer(OutboxMessages::CounsellorId))
                    .col(timestamp_with_time_zone(OutboxMessages::StartsAt))
                    .col(timestamp_with_time_zone(OutboxMessages::EndsAt))
                    .col(integer(OutboxMessages::Sequence))
                    .col(integer(OutboxMessages::Attempts))
                    .col(timestamp_with_time_zone(OutboxMessages::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(OutboxMessages::LockedUntil))
                    .col(text_null(OutboxMessages::LastError))
                    .col(timestamp_with_time_zone(OutboxMessages::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxMessages::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OutboxMessages::Table, OutboxMessages::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(OutboxMessages::Kind).is_in([
                        "confirmation",
                        "change",
                        "cancellation",
                        "reminder",
                    ]))
                    .check(Expr::col(OutboxMessages::State).is_in(["queued", "retrying", "sent", "failed", "skipped"]))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("outbox_due", OutboxMessages::Table, &["state", "next_attempt_at"])).await?;
        manager.create_index(index("outbox_booking", OutboxMessages::Table, &["booking_id", "created_at"])).await
    }
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Id,
    BookingId,
    Kind,
    State,
    Recipient,
    Language,
    MessageId,
    DedupeKey,
    CounsellorId,
    StartsAt,
    EndsAt,
    Sequence,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}
