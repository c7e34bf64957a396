//! `locations`: where counselling takes place (address, floor, accessibility notes).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "locations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub floor: String,
    pub accessibility_notes: String,
    /// Rises with every change of the row (an admin's save from an older version is refused).
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
