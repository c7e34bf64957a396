//! `form_submissions`: the desk's booking form carries a random id, claimed when it is sent, so a
//! form sent twice (a double click, Enter pressed twice, the browser's back button) books once and
//! leads the second time to the booking the first made. Rows name no citizen and go after a day.

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
                    .table(FormSubmissions::Table)
                    .col(string(FormSubmissions::Id).primary_key())
                    .col(integer(FormSubmissions::StaffId))
                    .col(string_null(FormSubmissions::BookingReference))
                    .col(timestamp_with_time_zone(FormSubmissions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(crate::index("idx_form_submissions_created", FormSubmissions::Table, &["created_at"]))
            .await
    }
}

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    Id,
    StaffId,
    BookingReference,
    CreatedAt,
}
