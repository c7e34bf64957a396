//! `location_texts`: a location's floor and accessibility notes in the citizens' languages, so
//! that an English or Arabic email does not tell a wheelchair user the way in German. The German
//! text stays in `locations` (every location has it, and it is the fallback); a row here holds one
//! other language's. Existing locations get none: they read as before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LocationTexts::Table)
                    .col(integer(LocationTexts::LocationId))
                    .col(string(LocationTexts::Language))
                    .col(string(LocationTexts::Floor))
                    .col(string(LocationTexts::AccessibilityNotes))
                    .primary_key(Index::create().col(LocationTexts::LocationId).col(LocationTexts::Language))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LocationTexts::Table, LocationTexts::LocationId)
                            .to(Locations::Table, Locations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LocationTexts {
    Table,
    LocationId,
    Language,
    Floor,
    AccessibilityNotes,
}

#[derive(DeriveIden)]
enum Locations {
    Table,
    Id,
}
