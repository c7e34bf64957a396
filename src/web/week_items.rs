//! One day column of the week at a glance: bookings, free slots (each opens the booking form
//! with it chosen), absences and closures in time order, bookings that cannot take place as
//! booked flagged (a closure, an absence, a closed day, a counsellor who left: the rule of the
//! list to move), and the public holiday or closure day named.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::format;
use super::i18n::Lang;
use super::views::{BookingRow, counsellor_name};
use crate::domain::access::Actor;
use crate::domain::blocking::Stranding;
use crate::domain::ids::StaffId;
use crate::domain::records::{Booking, StaffMember, Unit};
use crate::services::ServiceError;
use crate::services::availability::{self, FreeSlotQuery};
use crate::services::bookings::Book;
use crate::services::week_view::{self, DayBlocks};

/// What an entry of a day column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Booking,
    Free,
    Absence,
    Closure,
}

/// One entry of a day column.
#[derive(Clone)]
pub struct WeekItem {
    pub kind: ItemKind,
    /// The element id of a free slot's link (`free-<slot id>`), else empty.
    pub id: String,
    /// Sorts the column (UTC start).
    starts: chrono::DateTime<chrono::Utc>,
    /// The local hour it starts in (its row in the grid); `None` from before the day began.
    hour: Option<u32>,
    pub time: String,
    pub label: String,
    pub detail: String,
    pub href: String,
    pub inactive: bool,
    /// For a booking from now on that cannot take place as booked: the text key of why.
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
    counsellor: Option<StaffId>,
    lang: Lang,
) -> Result<DayColumn, ServiceError> {
    let staff_ids: Vec<StaffId> =
        members.iter().map(|m| m.id).filter(|id| counsellor.is_none_or(|c| c == *id)).collect();
    let blocks = week_view::day_blocks(deps, actor, unit, day, &staff_ids).await?;
    let (day_start, day_end) = crate::domain::time::day_bounds(day, deps.tz);
    let span = |from, to| format!("{}–{}", format::hhmm(from, deps.tz), format::hhmm(to, deps.tz));
    let within = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        // From the day's start on, it is an all-day entry (the grid's first row).
        let hour = (from > day_start).then(|| local_hour(from, deps.tz));
        let whole_day = from <= day_start && to >= day_end;
        let time = if whole_day { String::new() } else { span(from.max(day_start), to.min(day_end)) };
        (from.max(day_start), hour, time)
    };
    let mut items: Vec<WeekItem> = bookings.iter().map(|b| booking_item(b, members, &blocks, deps.tz, lang)).collect();
    if !blocks.closed {
        let query = FreeSlotQuery {
            from: day,
            to: day,
            counsellor_id: counsellor,
            language: None,
            daypart: None,
            limit: availability::MAX_LIMIT,
        };
        for free in availability::free_slots(deps, unit, &query).await? {
            items.push(WeekItem {
                kind: ItemKind::Free,
                id: format!("free-{}", free.slot.id),
                starts: free.slot.starts_at,
                hour: Some(local_hour(free.slot.starts_at, deps.tz)),
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
            within(a.starts_at, a.ends_at),
            lang.t("wk.absent"),
            counsellor_name(members, a.staff_id),
        ));
    }
    for c in &blocks.closures {
        items.push(block_item(
            ItemKind::Closure,
            within(c.starts_at, c.ends_at),
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

/// A booking's entry: citizen, counsellor and status, marked when it cannot take place as booked.
fn booking_item(b: &Booking, members: &[StaffMember], blocks: &DayBlocks, tz: Tz, lang: Lang) -> WeekItem {
    let row = BookingRow::new(b, members, tz, lang);
    WeekItem {
        kind: ItemKind::Booking,
        id: String::new(),
        starts: b.starts_at,
        hour: Some(local_hour(b.starts_at, tz)),
        time: row.time,
        label: row.citizen,
        detail: format!("{} · {}", row.counsellor, lang.t(row.status_key)),
        href: format!("/bookings/{}", row.reference),
        inactive: !row.active,
        stranded_key: blocks.strands(b).map(stranding_key),
    }
}

fn block_item(
    kind: ItemKind,
    (starts, hour, time): (chrono::DateTime<chrono::Utc>, Option<u32>, String),
    label: &str,
    detail: String,
) -> WeekItem {
    WeekItem {
        kind,
        id: String::new(),
        starts,
        hour,
        time,
        label: label.to_owned(),
        detail,
        href: String::new(),
        inactive: false,
        stranded_key: None,
    }
}

fn local_hour(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> u32 {
    chrono::Timelike::hour(&at.with_timezone(&tz))
}

/// One hour of the week grid: the items of each day starting in it.
pub struct GridRow {
    pub label: String,
    pub cells: Vec<Vec<WeekItem>>,
}

/// The week as a grid: days as columns, hours as rows (first what began before the day,
/// labelled `all_day`, then from the first to the last hour anything starts in).
pub fn grid(days: &[DayColumn], all_day: &str) -> Vec<GridRow> {
    let row = |label: String, hour: Option<u32>| GridRow {
        label,
        cells: days.iter().map(|d| d.items.iter().filter(|i| i.hour == hour).cloned().collect()).collect(),
    };
    let items = || days.iter().flat_map(|d| d.items.iter());
    let mut rows = Vec::new();
    if items().any(|i| i.hour.is_none()) {
        rows.push(row(all_day.to_owned(), None));
    }
    let hours = items().filter_map(|i| i.hour);
    if let (Some(first), Some(last)) = (hours.clone().min(), hours.max()) {
        rows.extend((first..=last).map(|hour| row(format!("{hour:02}:00"), Some(hour))));
    }
    rows
}

/// A single day as a grid with the counsellors (all, or the one chosen) as columns: their names
/// and the rows.
///
/// # Errors
/// `Forbidden` (recorded), database failures.
#[allow(clippy::too_many_arguments)] // the day list's context, passed on as it is
pub async fn day_grid(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    members: &[StaffMember],
    day: NaiveDate,
    bookings: &[Booking],
    counsellor: Option<StaffId>,
    lang: Lang,
) -> Result<(Vec<String>, Vec<GridRow>), ServiceError> {
    let (mut heads, mut columns) = (Vec::new(), Vec::new());
    for member in members.iter().filter(|m| counsellor.is_none_or(|c| c == m.id)) {
        let own = bookings.iter().filter(|b| b.counsellor_id == member.id).cloned().collect();
        columns.push(column(deps, actor, unit, members, (day, own), Some(member.id), lang).await?);
        heads.push(member.display_name.clone());
    }
    Ok((heads, grid(&columns, lang.t("wk.all_day"))))
}

/// The text key of why a booking must be moved (the week view's mark, the list to move).
pub(super) const fn stranding_key(why: Stranding) -> &'static str {
    match why {
        Stranding::Closure => "wk.stranded.closure",
        Stranding::Absence => "wk.stranded.absence",
        Stranding::ClosedDay => "wk.stranded.closed_day",
        Stranding::NoCounsellor => "wk.stranded.no_counsellor",
    }
}
