//! The caller's own calendar subscription: create (the URL is shown once), look at, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::local;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{Auth, Bearer};
use crate::services::calendar_feed;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_feed, get_feed, revoke_feed))
}

/// A new subscription: its URL is shown only in this answer.
#[derive(Serialize, ToSchema)]
pub struct CreatedFeedResponse {
    /// `…/calendar/{secret}.ics`, to paste into a calendar program.
    pub url: String,
    pub created_at: DateTime<FixedOffset>,
}

/// The caller's subscription, without its secret.
#[derive(Serialize, ToSchema)]
pub struct FeedResponse {
    pub active: bool,
    pub created_at: Option<DateTime<FixedOffset>>,
    /// Last fetch by a calendar program (recorded at most once an hour).
    pub last_used_at: Option<DateTime<FixedOffset>>,
}

/// Creates the caller's calendar subscription (their appointments of the past 2 and the next 12
/// weeks, without citizen data), replacing and so revoking an earlier one. It ends when the token
/// it is made with is revoked or expires.
#[utoipa::path(post, path = "/api/v1/me/calendar-feed", tag = "calendar", security(("bearer" = [])),
    responses((status = 201, body = CreatedFeedResponse), (status = 401, body = Problem)))]
async fn create_feed(
    State(state): State<AppState>,
    Bearer { actor, token }: Bearer,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<CreatedFeedResponse>)> {
    // It ends with the token it is made with (revoked or expired), as a token made with a token.
    let secret = calendar_feed::create(&state.db, &state.clock, &actor, Some(token)).await?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let url = format!("{}{}", state.settings.link_base(host), calendar_feed::feed_path(&secret));
    let created_at = local(state.clock.now(), state.settings.time_zone);
    Ok((StatusCode::CREATED, Json(CreatedFeedResponse { url, created_at })))
}

/// Whether the caller has a calendar subscription.
#[utoipa::path(get, path = "/api/v1/me/calendar-feed", tag = "calendar", security(("bearer" = [])),
    responses((status = 200, body = FeedResponse), (status = 401, body = Problem)))]
async fn get_feed(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<FeedResponse>> {
    let tz = state.settings.time_zone;
    let status = calendar_feed::status(&state.db, &actor).await?;
    Ok(Json(FeedResponse {
        active: status.is_some(),
        created_at: status.as_ref().map(|s| local(s.created_at, tz)),
        last_used_at: status.and_then(|s| s.last_used_at).map(|at| local(at, tz)),
    }))
}

/// Revokes the caller's calendar subscription: its URL finds nothing any more.
#[utoipa::path(delete, path = "/api/v1/me/calendar-feed", tag = "calendar", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
async fn revoke_feed(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<StatusCode> {
    calendar_feed::revoke(&state.db, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
