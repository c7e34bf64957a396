//! `citizen_links`: a link token sent to a citizen, found by its SHA-256 hash (one row per email
//! or print), with where it came from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "citizen_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub booking_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    /// A printed link: the staff member who printed it.
    pub issued_by: Option<i32>,
    /// A link sent by email: that email (`outbox_messages.id`).
    pub message_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
