//! `callback_requests`: the callback list (Rückrufliste) of a unit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "callback_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub unit_id: i32,
    pub citizen_name: String,
    pub citizen_phone: String,
    pub citizen_language: String,
    /// Wish: this counsellor.
    pub counsellor_id: Option<i32>,
    /// Wish: counselling in this language.
    pub language: Option<String>,
    /// Wish: `morning` or `afternoon`.
    pub daypart: Option<String>,
    /// Wish: a time before this local day.
    pub before_on: Option<Date>,
    /// The entry is kept open until the end of this local day.
    pub until_on: Date,
    pub note: Option<String>,
    pub status: CallbackStatus,
    /// A free slot matching the wish, marked when the list was last looked at.
    pub offered_slot_id: Option<i32>,
    pub offered_at: Option<DateTimeUtc>,
    /// Someone is booking the offered slot for this entry until then.
    pub claimed_until: Option<DateTimeUtc>,
    pub booking_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i32>,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<i32>,
}

/// Where an entry of the callback list stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CallbackStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "booked")]
    Booked,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    #[sea_orm(string_value = "expired")]
    Expired,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
