//! API tokens remember the token that made them (`POST /api/v1/me/tokens` with a bearer token),
//! so revoking a token revokes what it made. Existing tokens have no parent (`NULL`): they were
//! made by the operator, an admin's page or before this release.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = integer_null(ApiTokens::ParentTokenId).to_owned();
        manager.alter_table(Table::alter().table(ApiTokens::Table).add_column(column).to_owned()).await?;
        manager.create_index(index("api_tokens_parent_token_id", ApiTokens::Table, &["parent_token_id"])).await
    }
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    ParentTokenId,
}
