//! `login_devices`: browsers in which a person completed a login. Such a browser carries a
//! random token in a cookie; its digest is stored here with the person it belongs to. A login
//! attempt for that person from that browser counts against the browser's own throttle key
//! instead of the keys of its address, so that a stranger guessing behind the office's shared
//! address does not hold back the colleagues who logged in there before. Rows name no client
//! address and go after 90 days unused.

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
                    .table(LoginDevices::Table)
                    .col(string(LoginDevices::Digest).primary_key())
                    .col(integer(LoginDevices::StaffId))
                    .col(timestamp_with_time_zone(LoginDevices::CreatedAt))
                    .col(timestamp_with_time_zone(LoginDevices::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoginDevices::Table, LoginDevices::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(crate::index("idx_login_devices_staff", LoginDevices::Table, &["staff_id"])).await?;
        manager.create_index(crate::index("idx_login_devices_used", LoginDevices::Table, &["used_at"])).await
    }
}

#[derive(DeriveIden)]
enum LoginDevices {
    Table,
    Digest,
    StaffId,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}
