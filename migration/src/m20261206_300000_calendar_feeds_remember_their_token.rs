//! A calendar subscription made through the API remembers the token it was made with
//! (`calendar_feeds.token_id`): it ends when that token is revoked or expires, as a token made
//! with a token does. Subscriptions made before (`NULL`) and those made on the desk's pages end as
//! before (revoked by their owner, or with the owner's deactivation).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = integer_null(CalendarFeeds::TokenId).to_owned();
        manager.alter_table(Table::alter().table(CalendarFeeds::Table).add_column(column).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    TokenId,
}
