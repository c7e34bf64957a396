//! The statistics page for unit leads (their units) and admins: anonymous figures of a unit over
//! a range of months as charts (SVG drawn here, no script), each with its table, and the CSV
//! download for the ESF's reports.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::auth::FieldError;
use super::charts::{self, Chart};
use super::error::{WebError, WebResult};
use super::format;
use super::i18n::Lang;
use super::page::{Page, Staff};
use super::views::{Choice, language_name};
use crate::domain::ids::StaffId;
use crate::domain::language::Language;
use crate::domain::statistics::{Counts, Month, MonthFigures};
use crate::services::ServiceError;
use crate::services::statistics::{self, Statistics, StatisticsQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/statistics", get(statistics_page)).route("/statistics.csv", get(statistics_csv))
}

/// The form as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct StatsForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A chart with its table: rows of (label, figures) and the sum.
struct Figure {
    chart: Chart,
    /// The first column's heading.
    key: &'static str,
    rows: Vec<(String, Counts)>,
    total: Counts,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/statistics.html")]
struct StatisticsPage {
    p: Page,
    f: StatsForm,
    units: Vec<Choice>,
    unit_name: String,
    range: String,
    query: String,
    figures: Vec<Figure>,
    errors: Vec<FieldError>,
}

impl StatisticsPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// The months of the form, or the fields that are wrong.
fn parse(form: &StatsForm, lang: Lang) -> Result<StatisticsQuery, Vec<FieldError>> {
    let mut errors = Vec::new();
    // A month that cannot be read is asked for as a month; its order and span the service checks.
    let mut month = |value: &str, field: &'static str| match value.trim() {
        "" => None,
        text => Month::parse(text).map_err(|_| errors.push(FieldError::new(field, lang.t("stats.err.month")))).ok(),
    };
    let from = month(&form.from, "stats-from");
    let to = month(&form.to, "stats-to");
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(StatisticsQuery { unit: Some(form.unit.clone()).filter(|u| !u.is_empty()), from, to })
}

async fn statistics_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(mut form): Query<StatsForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let lang = staff.page.lang;
    let units = statistics::units_for(deps, &staff.actor).await?;
    if form.unit.is_empty() {
        form.unit = units.first().map(|u| u.slug.clone()).unwrap_or_default();
    }
    let mut page = StatisticsPage {
        units: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
        unit_name: String::new(),
        range: String::new(),
        query: String::new(),
        figures: Vec::new(),
        errors: Vec::new(),
        f: form,
        p: staff.page.titled("stats.title"),
    };
    let figures = match parse(&page.f, lang) {
        Ok(query) => statistics::figures(deps, &staff.actor, &query).await.map_err(|err| field_errors(err, lang)),
        Err(errors) => Err(Ok(errors)),
    };
    match figures {
        Ok(stats) => {
            show(&mut page, &stats, lang);
            Ok(page.into_response())
        }
        Err(errors) => {
            page.errors = errors?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// A refused range at its field; anything else ends the request.
fn field_errors(err: ServiceError, lang: Lang) -> Result<Vec<FieldError>, WebError> {
    match err {
        ServiceError::Invalid { field: "from", .. } => {
            Ok(vec![FieldError::new("stats-from", lang.t("stats.err.from"))])
        }
        ServiceError::Invalid { field: "to", .. } => Ok(vec![FieldError::new("stats-to", lang.t("stats.err.to"))]),
        other => Err(other.into()),
    }
}

fn show(page: &mut StatisticsPage, stats: &Statistics, lang: Lang) {
    let Some(unit) = stats.units.first() else { return };
    page.f.from = stats.from.to_string();
    page.f.to = stats.to.to_string();
    page.unit_name = unit.unit.name.clone();
    page.range = format!(
        "{} – {}",
        format::month_long(stats.from.first_day(), lang),
        format::month_long(stats.to.first_day(), lang)
    );
    page.query = serde_urlencoded::to_string(&page.f).unwrap_or_default();
    let per_month: Vec<(String, Counts)> =
        unit.months.iter().map(|m| (format::month_long(m.month.first_day(), lang), m.totals)).collect();
    page.figures.push(figure("per-month", lang.t("stats.per_month").to_owned(), "stats.month", per_month, lang));
    let Some(all) = MonthFigures::merged(&unit.months) else { return };
    let whole = lang.t("stats.whole_range");
    for (id, rows) in breakdowns(&all, &stats.counsellors, lang) {
        if rows.is_empty() {
            continue;
        }
        let title = format!("{} {whole}", lang.t(&format!("stats.{}", id.replace('-', "_"))));
        page.figures.push(figure(id, title, "stats.key", rows, lang));
    }
}

/// The four breakdowns of the whole range, each as (id, rows).
fn breakdowns(
    all: &MonthFigures,
    counsellors: &HashMap<StaffId, String>,
    lang: Lang,
) -> [(&'static str, Vec<(String, Counts)>); 4] {
    [
        ("by-channel", all.by_channel.iter().map(|(k, c)| (lang.t(&format!("stats.ch.{k}")).to_owned(), *c)).collect()),
        (
            "by-language",
            all.by_language.iter().map(|(k, c)| (language_name(&Language::from_stored(k), lang), *c)).collect(),
        ),
        ("by-weekday", all.by_weekday.iter().map(|(k, c)| (format::weekday_name(*k, lang).to_owned(), *c)).collect()),
        (
            "by-counsellor",
            all.by_counsellor
                .iter()
                .map(|(id, c)| (counsellors.get(id).cloned().unwrap_or_else(|| format!("#{id}")), *c))
                .collect(),
        ),
    ]
}

fn figure(id: &str, title: String, key: &'static str, rows: Vec<(String, Counts)>, lang: Lang) -> Figure {
    let mut total = Counts::default();
    rows.iter().for_each(|(_, counts)| total.plus(counts));
    let desc = format!(
        "{}: {} {}, {} {}, {} {}, {} {}, {} {}. {}",
        lang.t("stats.total"),
        total.bookings,
        lang.t("stats.bookings"),
        total.attended,
        lang.t("stats.attended"),
        total.no_shows,
        lang.t("stats.no_shows"),
        total.cancellations,
        lang.t("stats.cancellations"),
        total.open,
        lang.t("stats.open"),
        lang.t("stats.chart.table"),
    );
    Figure { chart: charts::stacked(id, title, desc, &rows), key, rows, total }
}

async fn statistics_csv(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<StatsForm>,
) -> WebResult<Response> {
    let query = parse(&form, staff.page.lang).map_err(|_| WebError::BadRequest)?;
    let text = match statistics::csv(state.book(), &staff.actor, &query).await {
        Ok(text) => text,
        Err(ServiceError::Invalid { .. }) => return Err(WebError::BadRequest),
        Err(other) => return Err(other.into()),
    };
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"statistics.csv\""),
    ];
    Ok((headers, text).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_that_cannot_be_read_is_asked_for_as_a_month_at_its_field() {
        let form = StatsForm { unit: String::new(), from: "11/2026".into(), to: "2026-13".into() };
        let Err(errors) = parse(&form, Lang::De) else { panic!("read") };
        let named: Vec<_> = errors.iter().map(|e| (e.field, e.message.as_str())).collect();
        let month = Lang::De.t("stats.err.month");
        assert_eq!(named, [("stats-from", month), ("stats-to", month)]);
        let read = StatsForm { unit: String::new(), from: " 2026-11 ".into(), to: String::new() };
        let Ok(query) = parse(&read, Lang::De) else { panic!("refused") };
        assert_eq!((query.from.map(|m| m.to_string()), query.to), (Some("2026-11".to_owned()), None));
    }
}
