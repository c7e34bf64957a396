//! Anonymous statistics for unit leads (their units) and admins (all units): per unit and month
//! the bookings, attended, no-shows, cancellations and open ones, by channel, language, weekday
//! and counsellor; as figures for the page and the API, and as CSV for the ESF's reports.

use std::collections::HashMap;

use super::ServiceError;
use super::access::deny;
use super::bookings::Book;
use super::csv::CsvText;
use super::hours::{lead, units_to_lead};
use crate::domain::access::Actor;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::records::Unit;
use crate::domain::statistics::{Counts, MAX_MONTHS, Month, MonthFigures, Tally};
use crate::domain::time::{day_bounds, local_date};
use crate::store::{directory, statistics};

/// Bookings read per round trip.
const PAGE: u64 = 5_000;

/// What was asked for: a unit (slug or id; default: every unit the actor may see) and a range of
/// months (default: the twelve months up to the current one).
#[derive(Debug, Clone, Default)]
pub struct StatisticsQuery {
    pub unit: Option<String>,
    pub from: Option<Month>,
    pub to: Option<Month>,
}

/// One unit's figures, month by month.
#[derive(Debug, Clone)]
pub struct UnitStatistics {
    pub unit: Unit,
    pub months: Vec<MonthFigures>,
}

/// Figures of one or more units over a range of months, with the counsellors' names.
#[derive(Debug, Clone)]
pub struct Statistics {
    pub from: Month,
    pub to: Month,
    pub units: Vec<UnitStatistics>,
    pub counsellors: HashMap<StaffId, String>,
}

/// The units the actor may see statistics of: the units they lead (admins: all), by name.
///
/// # Errors
/// `Forbidden` (recorded) when they lead none.
pub async fn units_for(deps: Book<'_>, actor: &Actor) -> Result<Vec<Unit>, ServiceError> {
    let units = units_to_lead(deps, actor).await?;
    if units.is_empty() {
        deny(deps.db, deps.clock, actor, "statistics.read", "units").await?;
    }
    Ok(units)
}

/// The figures the query asks for.
///
/// # Errors
/// `Forbidden` (recorded) for a unit the actor does not lead or when they lead none;
/// `NotFound` (unit); `Invalid` (`from` after `to`, more than 120 months).
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn figures(deps: Book<'_>, actor: &Actor, query: &StatisticsQuery) -> Result<Statistics, ServiceError> {
    let (from, to) = range(deps, query)?;
    let units = match query.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(key) => {
            let unit = super::directory::find_unit(deps.db, key).await?;
            lead(deps, actor, &unit, "statistics.read").await?;
            vec![unit]
        }
        None => units_for(deps, actor).await?,
    };
    let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
    let bounds = (day_bounds(from.first_day(), deps.tz).0, day_bounds(next_first_day(to)?, deps.tz).0);
    let mut tally = Tally::new(deps.tz, from, to, &ids);
    let mut after = None;
    loop {
        let (page, last) = statistics::anonymous_bookings(deps.db, &ids, bounds, after, PAGE).await?;
        page.iter().for_each(|booking| tally.add(booking));
        if (page.len() as u64) < PAGE {
            break;
        }
        after = last;
    }
    let mut per_unit = tally.finish();
    let counsellors =
        directory::list_staff(deps.db).await?.into_iter().map(|member| (member.id, member.display_name)).collect();
    let units = units
        .into_iter()
        .map(|unit| UnitStatistics { months: per_unit.remove(&unit.id).unwrap_or_default(), unit })
        .collect();
    Ok(Statistics { from, to, units, counsellors })
}

/// The range asked for, or the twelve months up to the current one.
fn range(deps: Book<'_>, query: &StatisticsQuery) -> Result<(Month, Month), ServiceError> {
    let current = Month::of(local_date(deps.clock.now(), deps.tz));
    let to = query.to.unwrap_or(current);
    let from = match query.from {
        Some(from) => from,
        None => to.shifted(-11).unwrap_or(to),
    };
    if from > to {
        return Err(ServiceError::invalid("from", "must not be after to"));
    }
    if from.count_to(to) > MAX_MONTHS {
        return Err(ServiceError::invalid("to", format!("at most {MAX_MONTHS} months at once")));
    }
    Ok((from, to))
}

fn next_first_day(month: Month) -> Result<chrono::NaiveDate, ServiceError> {
    month
        .first_day()
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| ServiceError::invalid("to", "out of the supported range"))
}

/// The figures as CSV (one row per unit, month, dimension and key), for the ESF's reports.
///
/// # Errors
/// As [`figures`].
pub async fn csv(deps: Book<'_>, actor: &Actor, query: &StatisticsQuery) -> Result<String, ServiceError> {
    let stats = figures(deps, actor, query).await?;
    let mut csv = CsvText::new(&[
        "unit",
        "month",
        "dimension",
        "key",
        "name",
        "bookings",
        "attended",
        "no_shows",
        "cancellations",
        "open",
    ])?;
    for unit in &stats.units {
        for month in &unit.months {
            for (dimension, key, name, counts) in rows(month, &stats.counsellors) {
                let figures = [counts.bookings, counts.attended, counts.no_shows, counts.cancellations, counts.open]
                    .map(|n| n.to_string());
                let month = month.month.to_string();
                let cells = [unit.unit.slug.as_str(), month.as_str(), dimension, key.as_str(), name.as_str()];
                csv.row(cells.into_iter().chain(figures.iter().map(String::as_str)))?;
            }
        }
    }
    csv.finish()
}

/// English weekday names, Monday first (ISO 1–7).
pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// The name of ISO weekday `n` (1 = Monday).
pub fn weekday_key(n: u32) -> &'static str {
    WEEKDAYS.get(usize::try_from(n).unwrap_or(0).wrapping_sub(1)).copied().unwrap_or("")
}

/// `(dimension, key, name, counts)` rows of one month: the total, then each breakdown.
fn rows(month: &MonthFigures, counsellors: &HashMap<StaffId, String>) -> Vec<(&'static str, String, String, Counts)> {
    let mut rows = vec![("total", String::new(), String::new(), month.totals)];
    rows.extend(month.by_channel.iter().map(|(k, c)| ("channel", (*k).to_owned(), String::new(), *c)));
    rows.extend(month.by_language.iter().map(|(k, c)| ("language", k.clone(), String::new(), *c)));
    rows.extend(month.by_weekday.iter().map(|(k, c)| ("weekday", weekday_key(*k).to_owned(), String::new(), *c)));
    rows.extend(
        month
            .by_counsellor
            .iter()
            .map(|(id, c)| ("counsellor", id.to_string(), counsellors.get(id).cloned().unwrap_or_default(), *c)),
    );
    rows
}
