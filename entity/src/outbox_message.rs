//! `outbox_messages`: an email a booking change caused, with its delivery state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub kind: MailKind,
    pub state: DeliveryState,
    pub recipient: String,
    pub language: String,
    /// Fixed when the row is written, so a resend after a crash carries the same id.
    #[sea_orm(unique)]
    pub message_id: String,
    /// Makes enqueuing idempotent where needed (reminders: one per booking and sequence).
    #[sea_orm(unique)]
    pub dedupe_key: Option<String>,
    /// The booking as it was when the email was caused (time, counsellor, calendar SEQUENCE).
    pub counsellor_id: i32,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub sequence: i32,
    /// A `change` notice about the place (the location's address or floor), not the time.
    pub place_changed: bool,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A dispatcher's lease; expired leases may be taken over.
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

/// Which email.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MailKind {
    #[sea_orm(string_value = "confirmation")]
    Confirmation,
    #[sea_orm(string_value = "change")]
    Change,
    #[sea_orm(string_value = "cancellation")]
    Cancellation,
    #[sea_orm(string_value = "reminder")]
    Reminder,
}

/// Where the email is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryState {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "retrying")]
    Retrying,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "skipped")]
    Skipped,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
