//! Index on `bookings.starts_at`: the reminder scan asks for every unit's bookings starting in the
//! next hours, every poll interval; without it that is a full scan of the bookings table.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("bookings_starts_at", Alias::new("bookings"), &["starts_at"])).await
    }
}
