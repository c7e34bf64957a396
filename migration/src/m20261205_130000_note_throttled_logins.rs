//! A throttle key remembers until when its refusals have been recorded (`refusal_noted_until`:
//! the lock whose first refused attempt was audited), so a flood of attempts against a locked key
//! writes one audit record per lock, not one per attempt. Existing keys have noted nothing
//! (`NULL`): the next refusal of a key still locked is recorded once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = timestamp_with_time_zone_null(LoginThrottles::RefusalNotedUntil).to_owned();
        manager.alter_table(Table::alter().table(LoginThrottles::Table).add_column(column).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    RefusalNotedUntil,
}
