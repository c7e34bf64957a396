//! `bookings`: one citizen, one counsellor, one slot.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub reference: String,
    pub unit_id: i32,
    pub counsellor_id: i32,
    pub slot_id: i32,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub status: BookingStatus,
    pub channel: Channel,
    pub citizen_name: String,
    pub citizen_email: Option<String>,
    pub citizen_phone: Option<String>,
    pub citizen_language: String,
    pub interpreter_language: Option<String>,
    pub accessibility_needs: Option<String>,
    pub email_consent: bool,
    pub note: Option<String>,
    pub override_reason: Option<String>,
    pub cancel_reason: Option<String>,
    /// Incremented on every change the citizen should see (calendar SEQUENCE).
    pub sequence: i32,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i32>,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<i32>,
    /// The citizen's name folded for search (crate `fold`): both forms, `|`-separated.
    pub search_name: String,
    /// The citizen's phone number folded to its national digits, for search.
    pub search_phone: Option<String>,
    /// When the citizen's personal data was removed (retention or erasure on request).
    pub erased_at: Option<DateTimeUtc>,
}

/// Lifecycle of a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum BookingStatus {
    #[sea_orm(string_value = "booked")]
    Booked,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    #[sea_orm(string_value = "attended")]
    Attended,
    #[sea_orm(string_value = "no_show")]
    NoShow,
}

/// How the appointment was arranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Channel {
    #[sea_orm(string_value = "phone")]
    Phone,
    #[sea_orm(string_value = "walk_in")]
    WalkIn,
    #[sea_orm(string_value = "email")]
    Email,
    #[sea_orm(string_value = "other")]
    Other,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
