//! The citizen's own link: `citizen_links` holds the SHA-256 hash of each link token sent (one per
//! email, all leading to the same booking; the token itself is never stored), and units get their
//! self-service settings (how close to the appointment the citizen may still cancel or move it,
//! how often they may move it, and whether the page names the counsellor). Existing units get the
//! defaults.

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
                    .table(CitizenLinks::Table)
                    .col(pk_auto(CitizenLinks::Id))
                    .col(uuid(CitizenLinks::BookingId))
                    .col(string_uniq(CitizenLinks::TokenHash))
                    .col(timestamp_with_time_zone(CitizenLinks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CitizenLinks::Table, CitizenLinks::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(crate::index("idx_citizen_links_booking", CitizenLinks::Table, &["booking_id"])).await?;
        // One column per statement: SQLite adds one column per ALTER TABLE.
        let columns = [
            integer(Units::SelfServiceCutoffHours).default(24).to_owned(),
            integer(Units::SelfServiceMaxMoves).default(2).to_owned(),
            boolean(Units::SelfServiceShowsCounsellor).default(false).to_owned(),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Units::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CitizenLinks {
    Table,
    Id,
    BookingId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    SelfServiceCutoffHours,
    SelfServiceMaxMoves,
    SelfServiceShowsCounsellor,
}
