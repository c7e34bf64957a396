//! `form_submissions`: a sent booking form's id (or an API request's idempotency key), its
//! sender and the booking it made.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "form_submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub staff_id: i32,
    /// Set once the booking is made; `NULL` while the form is being handled.
    pub booking_reference: Option<String>,
    /// API requests with an `Idempotency-Key`: a digest of the request's body (the desk's forms:
    /// `NULL`).
    pub request_digest: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
