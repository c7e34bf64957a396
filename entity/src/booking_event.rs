//! `booking_events`: the history of one booking (created, rescheduled, cancelled, …).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub booking_id: Uuid,
    pub at: DateTimeUtc,
    pub actor_id: Option<i32>,
    pub kind: String,
    /// JSON object with the event's details.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
