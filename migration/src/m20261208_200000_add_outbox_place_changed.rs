//! A change notice can be about the place rather than the time (`outbox_messages.place_changed`):
//! an admin changed the address or floor of the location of the booking's unit, and the email
//! says so in its own words. A flag on the `change` kind, not a kind of its own: the kind column's
//! CHECK would have to be rebuilt on SQLite, and the notice is the change email in every other way
//! (its calendar entry, its superseding of earlier notices). Rows before it are no place notices.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = boolean(OutboxMessages::PlaceChanged).default(false).to_owned();
        manager.alter_table(Table::alter().table(OutboxMessages::Table).add_column(column).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    PlaceChanged,
}
