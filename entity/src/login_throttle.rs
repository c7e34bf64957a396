//! `login_throttles`: failed logins in a row per throttle key (login, address, or both).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttles")]
pub struct Model {
    /// `login:…`, `address:…` or `pair:ADDRESS LOGIN`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Attempts reserved since the last success (or since the streak was forgotten).
    pub failures: i32,
    /// No attempt is reserved before this instant.
    pub locked_until: Option<DateTimeUtc>,
    /// When the last attempt was reserved.
    pub attempted_at: DateTimeUtc,
    /// When a login last succeeded with this key (for a pair: the address is known for the login).
    pub succeeded_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The lock (its `locked_until`) whose first refused attempt has been recorded: later
    /// refusals of the same lock are not.
    pub refusal_noted_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
