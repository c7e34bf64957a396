//! A booking request sent with an `Idempotency-Key` through the API is claimed in
//! `form_submissions` like a desk's booking form, and remembers a digest of its body
//! (`request_digest`): the same key sent again with another body is refused instead of answered
//! with the first request's booking. The desk's forms leave it `NULL`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = string_null(FormSubmissions::RequestDigest).to_owned();
        manager.alter_table(Table::alter().table(FormSubmissions::Table).add_column(column).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    RequestDigest,
}
