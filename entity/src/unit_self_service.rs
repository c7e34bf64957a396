//! The self-service columns of `units` (what a citizen may do through their own link), read and
//! written apart from the unit's other columns.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub self_service_cutoff_hours: i32,
    pub self_service_max_moves: i32,
    pub self_service_shows_counsellor: bool,
    /// Rises with every change of the row (an admin's save from an older version is refused).
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
