//! Retention of personal data (Löschfrist): each unit keeps its bookings' personal data for
//! `retention_days` after the appointment (or the cancellation); `bookings.erased_at` marks a
//! booking whose personal data was removed. Existing units get 90 days, the anti-discrimination
//! office (`ads`) 30, as the department's deletion concept asks.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, timestamp_with_time_zone_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Units::Table).add_column(integer(Units::RetentionDays).default(90)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(timestamp_with_time_zone_null(Bookings::ErasedAt))
                    .to_owned(),
            )
            .await?;
        let ads = Query::update()
            .table(Units::Table)
            .value(Units::RetentionDays, 30)
            .and_where(Expr::col(Units::Slug).eq("ads"))
            .to_owned();
        manager.get_connection().execute(&ads).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Slug,
    RetentionDays,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    ErasedAt,
}
