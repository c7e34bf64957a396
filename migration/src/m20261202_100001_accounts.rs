//! Staff accounts that can be handed out and taken back: a session epoch per person (bumped to end
//! every session at once), a forced password change, the last login; API tokens with an expiry and
//! the time last used; TOTP second factors, recovery codes and one-time password reset links.
//!
//! Existing rows are carried over: every existing token expires 90 days after it was created, and
//! every existing password must be changed at the next login (none of them was chosen by its holder
//! through the service, and all predate the password rules).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            integer(Staff::SessionEpoch).default(0).to_owned(),
            boolean(Staff::MustChangePassword).default(false).to_owned(),
            timestamp_with_time_zone_null(Staff::LastLoginAt).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Staff::Table).add_column(column).to_owned()).await?;
        }
        for column in [
            timestamp_with_time_zone_null(ApiTokens::ExpiresAt).to_owned(),
            timestamp_with_time_zone_null(ApiTokens::LastUsedAt).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(ApiTokens::Table).add_column(column).to_owned()).await?;
        }
        carry_over(manager).await?;
        create_second_factor_tables(manager).await?;
        create_password_resets(manager).await
    }
}

async fn carry_over(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let expiry = match manager.get_database_backend() {
        DbBackend::Postgres => "created_at + INTERVAL '90 days'",
        // Stored instants are RFC 3339 text (`2026-11-24T07:00:00+00:00`); SQLite reads the offset.
        _ => "strftime('%Y-%m-%dT%H:%M:%S+00:00', created_at, '+90 days')",
    };
    db.execute_unprepared(&format!("UPDATE api_tokens SET expires_at = {expiry} WHERE expires_at IS NULL")).await?;
    db.execute_unprepared("UPDATE staff SET must_change_password = TRUE WHERE password_hash IS NOT NULL").await?;
    Ok(())
}

async fn create_second_factor_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(StaffTotp::Table)
                .col(integer(StaffTotp::StaffId).primary_key())
                .col(string(StaffTotp::Secret))
                .col(timestamp_with_time_zone(StaffTotp::EnabledAt))
                .col(big_integer_null(StaffTotp::LastStep))
                .col(integer(StaffTotp::Failures).default(0))
                .col(timestamp_with_time_zone_null(StaffTotp::FailedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(StaffTotp::Table, StaffTotp::StaffId)
                        .to(Staff::Table, Staff::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(pk_auto(RecoveryCodes::Id))
                .col(integer(RecoveryCodes::StaffId))
                .col(string(RecoveryCodes::CodeHash))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCodes::Table, RecoveryCodes::StaffId)
                        .to(Staff::Table, Staff::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager.create_index(index("recovery_codes_staff", RecoveryCodes::Table, &["staff_id", "code_hash"])).await
}

async fn create_password_resets(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(PasswordResets::Table)
                .col(pk_auto(PasswordResets::Id))
                .col(integer(PasswordResets::StaffId))
                .col(string_uniq(PasswordResets::TokenHash))
                .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                .col(integer_null(PasswordResets::CreatedBy))
                .foreign_key(
                    ForeignKey::create()
                        .from(PasswordResets::Table, PasswordResets::StaffId)
                        .to(Staff::Table, Staff::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager.create_index(index("password_resets_staff", PasswordResets::Table, &["staff_id"])).await
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
    SessionEpoch,
    MustChangePassword,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum StaffTotp {
    Table,
    StaffId,
    Secret,
    EnabledAt,
    LastStep,
    Failures,
    FailedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    StaffId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    StaffId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    CreatedBy,
}
