//! `audit_events`: every access to personal data, every change, login and administrative act,
//! and every refusal. Append-only (database triggers); old rows go only after the audit
//! retention period stored in `audit_retention`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub at: DateTimeUtc,
    /// The staff member (kind `staff`), else empty.
    pub actor_id: Option<i32>,
    /// `staff`, `citizen`, `system` or `anonymous`.
    pub actor_kind: String,
    /// The address the request came from.
    pub client_addr: Option<String>,
    /// The action's snake_case name (`booking_viewed`, `access_denied`, …).
    pub action: String,
    pub unit_id: Option<i32>,
    /// Ids of the bookings concerned, hyphenated, separated by spaces.
    pub booking_ids: String,
    pub item_count: Option<i64>,
    /// Another object concerned (`staff:12`, `slot:40`), or empty.
    pub target: String,
    /// JSON object with further facts; never a citizen's personal data.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
