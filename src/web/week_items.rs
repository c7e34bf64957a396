//! One day column of the week at a glance: bookings, free slots (each opens the booking form
//! with it chosen), absences and closures in time order, bookings an absence or closure strands
//! flagged, and the public holiday or closure day named.

use chrono::NaiveDate;

use super::format;
use super::i18n::Lang;
use super::views::{BookingRow, counsellor_name};
use crate::domain::access::Actor;
use crate::domain::records::{Booking, StaffMember, Unit};
use crate::services::ServiceError;
use crate::services::availability::{self, FreeSlotQuery};
use crate::services::bookings::Book;
use crate::services::week_view::{self, Stranded};

/// What an entry of a day column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Booking,
    Free,
    Absence,
    Closure,
}

/// One entry of a day column.
pub struct WeekItem {
    pub kind: ItemKind,
    /// The element id of a free slot's link (`free-<slot id>`), else empty.
    pub id: String,
    /// Sorts the column (UTC start).
    starts: chrono::DateTime<chrono::Utc>,
    pub time: String,
    pub label: String,
    pub detail: String,
    pub href: String,
    pub inactive: bool,
    /// For a booking an absence or closure strands: the text key of why.
    pub stranded_key: Option<&'static str>,
}

/// One day of the week.
pub struct DayColumn {
    pub title: String,
    pub date: String,
    pub holiday: String,
    pub closed: bool,
    pub items: Vec<WeekItem>,
}

/// The column of `day` with its `bookings`.
pub async fn column(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    members: &[StaffMember],
    (day, bookings): (NaiveDate, Vec<Booking>),
    counsellor: Option<i32>,
    lang: Lang,
) -> Result<DayColumn, ServiceError> {
    let staff_ids: Vec<i32> = members.iter().map(|m| m.id).filter(|id| counsellor.is_none_or(|c| c == *id)).collect();
    let blocks = week_view::day_blocks(deps, actor, unit, day, &staff_ids).await?;
    let span = |from, to| format!("{}–{}", format::hhmm(from, deps.tz), format::hhmm(to, deps.tz));
    let mut items: Vec<WeekItem> = bookings
        .iter()
        .map(|b| {
            let row = BookingRow::new(b, members, deps.tz, lang);
            WeekItem {
                kind: ItemKind::Booking,
                id: String::new(),
                starts: b.starts_at,
                time: row.time,
                label: row.citizen,
                detail: format!("{} · {}", row.counsellor, lang.t(row.status_key)),
                href: format!("/bookings/{}", row.reference),
                inactive: !row.active,
                stranded_key: blocks.strands(b).map(|why| match why {
                    Stranded::Closure => "wk.stranded.closure",
                    Stranded::Absence => "wk.stranded.absence",
                }),
            }
        })
        .collect();
    if !blocks.closed {
        let query =
            FreeSlotQuery { from: day, to: day, counsellor_id: counsellor, language: None, daypart: None, limit: 50 };
        for free in availability::free_slots(deps, unit, &query).await? {
            items.push(WeekItem {
                kind: ItemKind::Free,
                id: format!("free-{}", free.slot.id),
                starts: free.slot.starts_at,
                time: span(free.slot.starts_at, free.slot.ends_at),
                label: lang.t("wk.free").to_owned(),
                detail: free.counsellor.display_name.clone(),
                href: format!("/book/details?slot={}", free.slot.id),
                inactive: false,
                stranded_key: None,
            });
        }
    }
    for a in &blocks.absences {
        items.push(block_item(
            ItemKind::Absence,
            a.starts_at,
            span(a.starts_at, a.ends_at),
            lang.t("wk.absent"),
            counsellor_name(members, a.staff_id),
        ));
    }
    for c in &blocks.closures {
        items.push(block_item(
            ItemKind::Closure,
            c.starts_at,
            span(c.starts_at, c.ends_at),
            lang.t("wk.closed"),
            c.reason.clone(),
        ));
    }
    items.sort_by_key(|i| (i.starts, i.kind == ItemKind::Booking));
    Ok(DayColumn {
        title: format::date_long(day, lang),
        date: day.format("%Y-%m-%d").to_string(),
        holiday: blocks.holiday.unwrap_or_default(),
        closed: blocks.closed,
        items,
    })
}

fn block_item(
    kind: ItemKind,
    starts: chrono::DateTime<chrono::Utc>,
    time: String,
    label: &str,
    detail: String,
) -> WeekItem {
    WeekItem {
        kind,
        id: String::new(),
        starts,
        time,
        label: label.to_owned(),
        detail,
        href: String::new(),
        inactive: false,
        stranded_key: None,
    }
}
