//! `staff_totp`: a staff member's TOTP second factor (RFC 6238); no row means none enrolled.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub staff_id: i32,
    /// The shared secret, base32.
    pub secret: String,
    pub enabled_at: DateTimeUtc,
    /// The last time step whose code was accepted (a code is accepted once).
    pub last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
