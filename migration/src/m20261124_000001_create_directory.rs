//! Locations, units, staff, their unit memberships, API tokens and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Locations::Table)
                    .col(pk_auto(Locations::Id))
                    .col(string(Locations::Name))
                    .col(string(Locations::Street))
                    .col(string(Locations::PostalCode))
                    .col(string(Locations::City))
                    .col(string(Locations::Floor))
                    .col(text(Locations::AccessibilityNotes))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(pk_auto(Units::Id))
                    .col(string_uniq(Units::Slug))
                    .col(string(Units::Name))
                    .col(string(Units::ShortName))
                    .col(string(Units::Phone))
                    .col(string(Units::Email))
                    .col(integer(Units::LocationId))
                    .col(integer(Units::DefaultSlotMinutes))
                    .col(string(Units::Languages))
                    .col(boolean(Units::Confidential))
                    .col(timestamp_with_time_zone(Units::CreatedAt))
                    .col(timestamp_with_time_zone(Units::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Units::Table, Units::LocationId).to(Locations::Table, Locations::Id),
                    )
                    .check(Expr::col(Units::DefaultSlotMinutes).between(5, 480))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(pk_auto(Staff::Id))
                    .col(string_uniq(Staff::Login))
                    .col(string(Staff::DisplayName))
                    .col(string_null(Staff::Email))
                    .col(string(Staff::Languages))
                    .col(boolean(Staff::IsAdmin))
                    .col(string_null(Staff::PasswordHash))
                    .col(boolean(Staff::Active))
                    .col(timestamp_with_time_zone(Staff::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(pk_auto(Memberships::Id))
                    .col(integer(Memberships::StaffId))
                    .col(integer(Memberships::UnitId))
                    .col(string(Memberships::Role))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(Memberships::Role).is_in(["front_desk", "counsellor", "unit_lead"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("memberships_unique", Memberships::Table, &["staff_id", "unit_id", "role"]).unique().take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_auto(ApiTokens::Id))
                    .col(integer(ApiTokens::StaffId))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(string(ApiTokens::Label))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_auto(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(integer_null(AuditEvents::ActorId))
                    .col(string(AuditEvents::Action))
                    .col(string(AuditEvents::Target))
                    .col(text(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("audit_events_at", AuditEvents::Table, &["at"])).await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Locations {
    Table,
    Id,
    Name,
    Street,
    PostalCode,
    City,
    Floor,
    AccessibilityNotes,
}

#[derive(DeriveIden)]
pub(crate) enum Units {
    Table,
    Id,
    Slug,
    Name,
    ShortName,
    Phone,
    Email,
    LocationId,
    DefaultSlotMinutes,
    Languages,
    Confidential,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Staff {
    Table,
    Id,
    Login,
    DisplayName,
    Email,
    Languages,
    IsAdmin,
    PasswordHash,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    StaffId,
    UnitId,
    Role,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    StaffId,
    TokenHash,
    Label,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    Action,
    Target,
    Detail,
}
