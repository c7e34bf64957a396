//! The anonymous columns of bookings, read page by page for the statistics.

use chrono::{DateTime, Utc};
use entity::booking::{self, BookingStatus as StatusRow, Channel as ChannelRow};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::StoreError;
use crate::domain::booking::{BookingStatus, Channel};
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::statistics::AnonymousBooking;

/// Where the next page starts: after the booking with this start and id.
pub type PageKey = (DateTime<Utc>, Uuid);

type Row = (Uuid, i32, i32, DateTime<Utc>, StatusRow, ChannelRow, String);

/// Up to `limit` bookings of `unit_ids` starting in `[from, to)`, ordered by start and id, after
/// `after`; only the columns that name no one. Returns them with the key of the last one.
///
/// # Errors
/// Database failures.
pub async fn anonymous_bookings<C: ConnectionTrait>(
    db: &C,
    unit_ids: &[UnitId],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Option<PageKey>,
    limit: u64,
) -> Result<(Vec<AnonymousBooking>, Option<PageKey>), StoreError> {
    let mut query = booking::Entity::find()
        .select_only()
        .columns([
            booking::Column::Id,
            booking::Column::UnitId,
            booking::Column::CounsellorId,
            booking::Column::StartsAt,
            booking::Column::Status,
            booking::Column::Channel,
            booking::Column::CitizenLanguage,
        ])
        .filter(booking::Column::UnitId.is_in(unit_ids.iter().copied()))
        .filter(booking::Column::StartsAt.gte(from))
        .filter(booking::Column::StartsAt.lt(to));
    if let Some((starts_at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(booking::Column::StartsAt.gt(starts_at))
                .add(Condition::all().add(booking::Column::StartsAt.eq(starts_at)).add(booking::Column::Id.gt(id))),
        );
    }
    let rows: Vec<Row> = query
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let last = rows.last().map(|row| (row.3, row.0));
    Ok((rows.into_iter().map(anonymous).collect(), last))
}

fn anonymous((_, unit_id, counsellor_id, starts_at, status, channel, language): Row) -> AnonymousBooking {
    AnonymousBooking {
        unit_id: UnitId::new(unit_id),
        counsellor_id: StaffId::new(counsellor_id),
        starts_at,
        status: match status {
            StatusRow::Booked => BookingStatus::Booked,
            StatusRow::Cancelled => BookingStatus::Cancelled,
            StatusRow::Attended => BookingStatus::Attended,
            StatusRow::NoShow => BookingStatus::NoShow,
        },
        channel: match channel {
            ChannelRow::Phone => Channel::Phone,
            ChannelRow::WalkIn => Channel::WalkIn,
            ChannelRow::Email => Channel::Email,
            ChannelRow::Other => Channel::Other,
        },
        language,
    }
}
