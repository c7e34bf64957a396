//! `login_throttles`: one row per throttle key (a login, a client address, or the pair), counting
//! failed logins in a row; an attempt is reserved here, atomically, before its password is checked.

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
                    .table(LoginThrottles::Table)
                    .col(string(LoginThrottles::Key).primary_key())
                    .col(integer(LoginThrottles::Failures))
                    .col(timestamp_with_time_zone_null(LoginThrottles::LockedUntil))
                    .col(timestamp_with_time_zone(LoginThrottles::AttemptedAt))
                    .col(timestamp_with_time_zone_null(LoginThrottles::SucceededAt))
                    .col(timestamp_with_time_zone(LoginThrottles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("login_throttles_updated_at", LoginThrottles::Table, &["updated_at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginThrottles::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Key,
    Failures,
    LockedUntil,
    AttemptedAt,
    SucceededAt,
    UpdatedAt,
}
