//! `counselling_hours`: weekly recurring counselling hours of one counsellor in one unit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "counselling_hours")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub unit_id: i32,
    pub counsellor_id: i32,
    /// ISO weekday, 1 = Monday … 7 = Sunday.
    pub weekday: i16,
    /// Wall-clock time in the service's time zone.
    pub start_local: Time,
    pub end_local: Time,
    pub slot_minutes: i32,
    pub buffer_minutes: i32,
    pub capacity: i32,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
