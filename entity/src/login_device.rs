//! `login_devices`: a browser in which a person completed a login, by the digest of the random
//! token in its cookie (the token itself is stored nowhere).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_devices")]
pub struct Model {
    /// SHA-256 of the cookie's token, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    pub staff_id: i32,
    pub created_at: DateTimeUtc,
    /// The last login completed with it.
    pub used_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
