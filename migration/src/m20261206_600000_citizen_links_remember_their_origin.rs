//! A citizen's link remembers where it came from: the email it was sent in (`message_id`) or
//! the staff member who printed it (`issued_by`), so that the audit of what was done through a
//! link (its id in the records' detail) says which link it was. Links made before are `NULL`
//! in both (their origin is unknown).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for column in [integer_null(CitizenLinks::IssuedBy).to_owned(), uuid_null(CitizenLinks::MessageId).to_owned()] {
            let mut column = column;
            manager.alter_table(Table::alter().table(CitizenLinks::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CitizenLinks {
    Table,
    IssuedBy,
    MessageId,
}
