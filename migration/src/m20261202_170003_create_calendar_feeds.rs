//! Counsellors' calendar subscriptions: one per staff member, found by the SHA-256 hash of the
//! secret in its URL (the secret itself is shown once and never stored).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261124_000001_create_directory::Staff;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeeds::Table)
                    .col(pk_auto(CalendarFeeds::Id))
                    .col(integer_uniq(CalendarFeeds::StaffId))
                    .col(string_uniq(CalendarFeeds::SecretHash))
                    .col(timestamp_with_time_zone(CalendarFeeds::CreatedAt))
                    .col(timestamp_with_time_zone_null(CalendarFeeds::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CalendarFeeds::Table, CalendarFeeds::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    Id,
    StaffId,
    SecretHash,
    CreatedAt,
    LastUsedAt,
}
