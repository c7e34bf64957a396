//! Overviews beside the day list: the working week of a unit or counsellor, and the bookings
//! whose confirmation could not be delivered (to call the citizen back).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use chrono::{Datelike, Days};
use serde::Deserialize;

use super::error::WebResult;
use super::page::{Page, Staff};
use super::views::{BookingRow, Choice, EmailView};
use super::week_items::{self, DayColumn, GridRow, ItemKind};
use crate::domain::access::Actor;
use crate::domain::records::Unit;
use crate::domain::time::local_date;
use crate::services::bookings::Book;
use crate::services::{desk, emails, to_move};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/week", get(week)).route("/emails/failed", get(failed)).route("/to-move", get(to_move))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    counsellor: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/week.html")]
struct WeekPage {
    p: Page,
    units: Vec<Choice>,
    counsellors: Vec<Choice>,
    unit: String,
    unit_name: String,
    date: String,
    counsellor: String,
    previous: String,
    next: String,
    days: Vec<DayColumn>,
    /// The same days as a grid (hours as rows), shown on wide screens and in print.
    grid: Vec<GridRow>,
}

/// The chosen unit (or the first the actor works in) and all units for the select.
async fn chosen_unit(deps: Book<'_>, actor: &Actor, key: &str) -> WebResult<(Option<Unit>, Vec<Choice>)> {
    let units = desk::units_for(deps, actor).await?;
    let key = if key.is_empty() { units.first().map(|u| u.slug.clone()).unwrap_or_default() } else { key.to_owned() };
    let choices = units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect();
    if key.is_empty() {
        return Ok((None, choices));
    }
    Ok((Some(desk::unit_for(deps, actor, &key).await?), choices))
}

async fn week(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> WebResult<WeekPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let on = crate::domain::time::parse_date(&q.date).unwrap_or_else(|_| local_date(deps.clock.now(), deps.tz));
    let monday = on - Days::new(u64::from(on.weekday().num_days_from_monday()));
    let (unit, units) = chosen_unit(deps, &staff.actor, &q.unit).await?;
    let (mut days, mut counsellors, mut unit_key, mut unit_name) =
        (Vec::new(), Vec::new(), String::new(), String::new());
    if let Some(unit) = unit {
        let counsellor = q.counsellor.trim().parse().ok();
        let week = desk::week_list(deps, &staff.actor, &unit, monday, counsellor).await?;
        let shown = week.iter().flat_map(|(_, bookings)| bookings.iter().map(|b| b.counsellor_id));
        let members = desk::unit_staff_and(deps, &unit, shown.collect::<Vec<_>>()).await?;
        for day in week {
            days.push(week_items::column(deps, &staff.actor, &unit, &members, day, counsellor, lang).await?);
        }
        counsellors = members.into_iter().map(|m| Choice { value: m.id.to_string(), label: m.display_name }).collect();
        (unit_key, unit_name) = (unit.slug, unit.name);
    }
    Ok(WeekPage {
        p: staff.page.titled("week.title"),
        units,
        counsellors,
        unit: unit_key,
        unit_name,
        date: monday.format("%Y-%m-%d").to_string(),
        // Only a counsellor id goes back into the page's links (a raw value would carry `&…`).
        counsellor: q.counsellor.trim().parse::<i32>().map(|id| id.to_string()).unwrap_or_default(),
        previous: (monday - Days::new(7)).format("%Y-%m-%d").to_string(),
        next: (monday + Days::new(7)).format("%Y-%m-%d").to_string(),
        grid: week_items::grid(&days, lang.t("wk.all_day")),
        days,
    })
}

/// A booking to call back, with the email that failed.
struct FailedRow {
    row: BookingRow,
    email: EmailView,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/failed.html")]
struct FailedPage {
    p: Page,
    units: Vec<Choice>,
    unit: String,
    unit_name: String,
    failed: Vec<FailedRow>,
}

async fn failed(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> WebResult<FailedPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let (unit, units) = chosen_unit(deps, &staff.actor, &q.unit).await?;
    let (mut rows, mut unit_key, mut unit_name) = (Vec::new(), String::new(), String::new());
    if let Some(unit) = unit {
        let failed = emails::failed_for_unit(deps, &staff.actor, &unit.slug).await?;
        let shown: Vec<_> = failed.iter().map(|f| f.booking.counsellor_id).collect();
        let members = desk::unit_staff_and(deps, &unit, shown).await?;
        for f in failed {
            let row = BookingRow::new(&f.booking, &members, deps.tz, lang);
            rows.push(FailedRow { row, email: EmailView::new(&f.email, deps.tz, lang) });
        }
        (unit_key, unit_name) = (unit.slug, unit.name);
    }
    Ok(FailedPage { p: staff.page.titled("failed.title"), units, unit: unit_key, unit_name, failed: rows })
}

/// An appointment to move, with why.
struct ToMoveRow {
    row: BookingRow,
    /// Text keys of the reasons.
    why: Vec<&'static str>,
    /// Why a lead placed it by overriding a rule.
    override_reason: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/to_move.html")]
struct ToMovePage {
    p: Page,
    units: Vec<Choice>,
    unit: String,
    unit_name: String,
    rows: Vec<ToMoveRow>,
    /// How many there are in all, when more than are listed.
    beyond: Option<u64>,
}

async fn to_move(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> WebResult<ToMovePage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let (unit, units) = chosen_unit(deps, &staff.actor, &q.unit).await?;
    let (mut rows, mut unit_key, mut unit_name, mut beyond) = (Vec::new(), String::new(), String::new(), None);
    if let Some(unit) = unit {
        let found = to_move::for_unit(deps, &staff.actor, &unit.slug).await?;
        let shown: Vec<_> = found.listed.iter().map(|(b, _)| b.counsellor_id).collect();
        let members = desk::unit_staff_and(deps, &unit, shown).await?;
        beyond = found.beyond();
        for (booking, why) in &found.listed {
            let row = BookingRow::new(booking, &members, deps.tz, lang);
            let why = why.iter().map(|w| week_items::stranding_key(*w)).collect();
            rows.push(ToMoveRow { row, why, override_reason: booking.override_reason.clone() });
        }
        (unit_key, unit_name) = (unit.slug, unit.name);
    }
    Ok(ToMovePage { p: staff.page.titled("tm.title"), units, unit: unit_key, unit_name, rows, beyond })
}
