//! `slots`: stored bookable times. Regular slots come from counselling hours; ad-hoc slots are
//! made for one freely arranged appointment. `booked_count <= capacity` is a database check.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "slots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub unit_id: i32,
    pub counsellor_id: i32,
    pub rule_id: Option<i32>,
    pub kind: SlotKind,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i32,
    pub booked_count: i32,
    pub created_at: DateTimeUtc,
}

/// Where a slot comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SlotKind {
    /// Materialised from counselling hours; offered in free-slot searches.
    #[sea_orm(string_value = "regular")]
    Regular,
    /// Made for one ad-hoc appointment; never offered.
    #[sea_orm(string_value = "adhoc")]
    Adhoc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
