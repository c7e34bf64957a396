//! Anonymous statistics for unit leads and admins, as JSON and as CSV for the ESF's reports.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::ids::StaffId;
use crate::domain::statistics::{Counts, Month, MonthFigures};
use crate::http::dto::UnitRef;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiQuery, Auth};
use crate::http::routes::audit::csv_response;
use crate::services::statistics::{self, StatisticsQuery, weekday_key};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_statistics)).routes(routes!(export_statistics))
}

/// Which unit and months.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsParams {
    /// Unit slug or id (default: every unit the caller leads; admins: all).
    pub unit: Option<String>,
    /// First month `YYYY-MM` (default: eleven months before `to`).
    #[param(value_type = Option<String>)]
    pub from: Option<Month>,
    /// Last month `YYYY-MM`, inclusive (default: the current month); at most 120 months in all.
    #[param(value_type = Option<String>)]
    pub to: Option<Month>,
}

impl From<StatisticsParams> for StatisticsQuery {
    fn from(params: StatisticsParams) -> Self {
        Self { unit: params.unit, from: params.from, to: params.to }
    }
}

/// The figures of one value of a breakdown (a channel, language, weekday or counsellor).
#[derive(Serialize, ToSchema)]
pub struct KeyedCounts {
    /// `phone`, `tr`, `monday`, or the counsellor's staff id.
    pub key: String,
    /// The counsellor's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One unit's figures in one month.
#[derive(Serialize, ToSchema)]
pub struct MonthResponse {
    /// `YYYY-MM`.
    pub month: String,
    pub totals: Counts,
    pub by_channel: Vec<KeyedCounts>,
    pub by_language: Vec<KeyedCounts>,
    pub by_weekday: Vec<KeyedCounts>,
    pub by_counsellor: Vec<KeyedCounts>,
}

/// One unit's figures, month by month.
#[derive(Serialize, ToSchema)]
pub struct UnitStatisticsResponse {
    pub unit: UnitRef,
    pub months: Vec<MonthResponse>,
}

/// Anonymous figures per unit and month.
#[derive(Serialize, ToSchema)]
pub struct StatisticsResponse {
    pub from: String,
    pub to: String,
    pub units: Vec<UnitStatisticsResponse>,
}

fn keyed(key: String, counts: &Counts) -> KeyedCounts {
    KeyedCounts { key, name: None, counts: *counts }
}

fn month_response(month: &MonthFigures, names: &HashMap<StaffId, String>) -> MonthResponse {
    MonthResponse {
        month: month.month.to_string(),
        totals: month.totals,
        by_channel: month.by_channel.iter().map(|(k, c)| keyed((*k).to_owned(), c)).collect(),
        by_language: month.by_language.iter().map(|(k, c)| keyed(k.clone(), c)).collect(),
        by_weekday: month.by_weekday.iter().map(|(k, c)| keyed(weekday_key(*k).to_owned(), c)).collect(),
        by_counsellor: month
            .by_counsellor
            .iter()
            .map(|(id, c)| KeyedCounts { key: id.to_string(), name: names.get(id).cloned(), counts: *c })
            .collect(),
    }
}

/// Anonymous statistics: per unit and month the bookings, attended, no-shows, cancellations and
/// open ones, by channel, language, weekday and counsellor (unit leads: their units; admins: all).
#[utoipa::path(get, path = "/api/v1/statistics", tag = "statistics", security(("bearer" = [])), params(StatisticsParams),
    responses((status = 200, body = StatisticsResponse), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_statistics(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<StatisticsParams>,
) -> ApiResult<Json<StatisticsResponse>> {
    let stats = statistics::figures(state.book(), &actor, &params.into()).await?;
    let units = stats
        .units
        .iter()
        .map(|unit| UnitStatisticsResponse {
            unit: UnitRef::from(&unit.unit),
            months: unit.months.iter().map(|m| month_response(m, &stats.counsellors)).collect(),
        })
        .collect();
    Ok(Json(StatisticsResponse { from: stats.from.to_string(), to: stats.to.to_string(), units }))
}

/// The same figures as CSV: columns `unit, month, dimension, key, name, bookings, attended,
/// no_shows, cancellations, open`; `dimension` is `total`, `channel`, `language`, `weekday` or
/// `counsellor`.
#[utoipa::path(get, path = "/api/v1/statistics.csv", tag = "statistics", security(("bearer" = [])),
    params(StatisticsParams), responses((status = 200, content_type = "text/csv", body = String),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn export_statistics(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<StatisticsParams>,
) -> ApiResult<Response> {
    let text = statistics::csv(state.book(), &actor, &params.into()).await?;
    Ok(csv_response("statistics.csv", text, None))
}
