//! `units`: offices that give counselling.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub short_name: String,
    pub phone: String,
    pub email: String,
    pub location_id: i32,
    pub default_slot_minutes: i32,
    /// Comma-separated language codes, e.g. `de,en,tr`.
    pub languages: String,
    pub confidential: bool,
    /// Days the personal data of a booking is kept after the appointment (or cancellation).
    pub retention_days: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Rises with every change of the row (an admin's save from an older version is refused).
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
