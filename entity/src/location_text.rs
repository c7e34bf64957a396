//! `location_texts`: a location's floor and accessibility notes in one language other than German.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "location_texts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub language: String,
    pub floor: String,
    pub accessibility_notes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
