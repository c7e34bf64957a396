//! `api_tokens`: bearer tokens, stored only as SHA-256 hashes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub staff_id: i32,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub label: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// Refused from then on (set for every token; `NULL` only from a process older than the column).
    pub expires_at: Option<DateTimeUtc>,
    /// Written at most once a minute per token.
    pub last_used_at: Option<DateTimeUtc>,
    /// The token that made this one through the API (revoking it revokes this one); `NULL` for a
    /// token made by the operator or before the column existed.
    pub parent_token_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
