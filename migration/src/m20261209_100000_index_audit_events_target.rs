//! Index on `audit_events (target, id)`: the audit's filter by the person concerned asks for the
//! records whose target is `staff:<id>`, newest first, page by page; without it that is a scan
//! of the whole audit backwards.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("audit_events_target", Alias::new("audit_events"), &["target", "id"])).await
    }
}
