//! `locations.version` and `units.version`: a number that rises with every change of the row, so
//! that an admin's save made from a form (or an API read) of an older version can be refused
//! instead of silently undoing a colleague's change. Rows before it start at version 1.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let column = integer(Locations::Version).default(1).to_owned();
        manager.alter_table(Table::alter().table(Locations::Table).add_column(column).to_owned()).await?;
        let column = integer(Units::Version).default(1).to_owned();
        manager.alter_table(Table::alter().table(Units::Table).add_column(column).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Locations {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Version,
}
