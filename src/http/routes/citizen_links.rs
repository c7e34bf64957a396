//! The citizen's links of a booking as staff manage them: ending every link issued so far.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiPath, Auth};
use crate::services::citizen_link;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(revoke_citizen_links))
}

/// How many links ended.
#[derive(Serialize, ToSchema)]
pub struct RevokedLinksResponse {
    pub revoked: u64,
}

/// Ends every link of the citizen's to the booking issued so far, emailed and printed (a print
/// handed to the wrong person, a mailbox someone else reads): they open nothing from now on. A
/// link in an email or print made afterwards works. Recorded in the audit
/// (`citizen_links_revoked`, with the count).
#[utoipa::path(post, path = "/api/v1/bookings/{booking}/citizen-links/revoke", tag = "bookings",
    security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")),
    responses((status = 200, body = RevokedLinksResponse), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn revoke_citizen_links(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(booking): ApiPath<String>,
) -> ApiResult<Json<RevokedLinksResponse>> {
    let revoked = citizen_link::revoke_links(state.book(), &actor, &booking).await?;
    Ok(Json(RevokedLinksResponse { revoked }))
}
