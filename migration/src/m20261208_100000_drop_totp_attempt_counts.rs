//! Wrong second-factor codes are counted by the login throttle (`login_throttles`, key
//! `second_factor:<staff id>`, with waits that grow), no longer in `staff_totp`: its count and
//! the time of the first counted failure go. A count in progress is forgotten once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite drops one at a time.
        for column in [StaffTotp::Failures, StaffTotp::FailedAt] {
            manager.alter_table(Table::alter().table(StaffTotp::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum StaffTotp {
    Table,
    Failures,
    FailedAt,
}
