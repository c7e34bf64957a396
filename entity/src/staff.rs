//! `staff`: staff members (logins); their roles per unit are in `memberships`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Comma-separated language codes the person counsels in.
    pub languages: String,
    pub is_admin: bool,
    /// Argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// Stamped into each web session at login; bumping it ends every session of the person.
    pub session_epoch: i32,
    /// The password was not chosen by its holder (generated, first admin): change it first.
    pub must_change_password: bool,
    pub last_login_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
