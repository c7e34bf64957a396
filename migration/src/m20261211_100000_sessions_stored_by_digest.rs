//! Sessions are stored under the SHA-256 digest of their id (`services::sessions`), as tokens,
//! links and codes are: whoever reads the database or a backup can no longer take over a live
//! session with an id found there. The sessions stored under their ids in clear are ended once
//! (everyone logs in again after the upgrade).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.exec_stmt(Query::delete().from_table(Sessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
}
