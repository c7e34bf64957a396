//! Emails to citizens as staff see them: delivery state per booking, resend, failed per unit.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::outbox::{DeliveryState, MailKind, OutboxMessage};
use crate::http::dto::local;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiPath, Auth};
use crate::services::emails;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(resend_email)).routes(routes!(list_failed_emails))
}

/// One email of a booking and where it is on its way.
#[derive(Serialize, ToSchema)]
pub struct EmailResponse {
    pub kind: MailKind,
    /// `queued`, `retrying`, `sent`, `failed` (see `last_error`) or `skipped`.
    pub state: DeliveryState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub queued_at: DateTime<FixedOffset>,
    /// When the next attempt is due (queued and retrying emails).
    pub next_attempt_at: Option<DateTime<FixedOffset>>,
    pub sent_at: Option<DateTime<FixedOffset>>,
    pub message_id: String,
}

/// Maps an outbox row; the recipient is not repeated (it is the booking's citizen).
pub fn email_response(e: &OutboxMessage, tz: Tz) -> EmailResponse {
    let pending = matches!(e.state, DeliveryState::Queued | DeliveryState::Retrying);
    EmailResponse {
        kind: e.kind,
        state: e.state,
        attempts: e.attempts,
        last_error: e.last_error.clone(),
        queued_at: local(e.created_at, tz),
        next_attempt_at: pending.then(|| local(e.next_attempt_at, tz)),
        sent_at: e.sent_at.map(|at| local(at, tz)),
        message_id: e.message_id.clone(),
    }
}

/// Queues the booking's current notice (confirmation, change or cancellation) again; refused
/// (409 `email_queued`) while one of that kind still waits to be sent, and (422 `in_the_past`) for
/// a confirmation or change notice once the appointment has begun (it would not be sent).
#[utoipa::path(post, path = "/api/v1/bookings/{booking}/resend", tag = "bookings", security(("bearer" = [])),
    params(("booking" = String, Path, description = "Booking id or reference")),
    responses((status = 202, body = Vec<EmailResponse>),
        (status = 409, body = Problem, description = "no address or consent (`no_email_consent`), or one waits already (`email_queued`)"),
        (status = 422, body = Problem, description = "`in_the_past`: a confirmation or change notice of an appointment begun"),
        (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn resend_email(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Vec<EmailResponse>>)> {
    let emails = emails::resend(state.book(), &actor, &key).await?;
    let tz = state.settings.time_zone;
    Ok((StatusCode::ACCEPTED, Json(emails.iter().map(|e| email_response(e, tz)).collect())))
}

/// A booking whose confirmation could not be delivered: call the citizen.
#[derive(Serialize, ToSchema)]
pub struct FailedEmailResponse {
    pub booking_id: uuid::Uuid,
    pub reference: String,
    pub starts_at: DateTime<FixedOffset>,
    pub citizen_name: String,
    pub citizen_phone: Option<String>,
    pub email: EmailResponse,
}

/// Appointments of a unit whose citizen an email failed to reach: booked ones whose confirmation
/// or change notice failed, cancelled ones still to come whose cancellation failed.
#[utoipa::path(get, path = "/api/v1/units/{unit}/failed-emails", tag = "units", security(("bearer" = [])),
    params(("unit" = String, Path, description = "Unit slug or id")),
    responses((status = 200, body = Vec<FailedEmailResponse>), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn list_failed_emails(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult<Json<Vec<FailedEmailResponse>>> {
    let tz = state.settings.time_zone;
    let failed = emails::failed_for_unit(state.book(), &actor, &unit).await?;
    Ok(Json(
        failed
            .into_iter()
            .map(|f| FailedEmailResponse {
                booking_id: f.booking.id,
                reference: f.booking.reference.to_string(),
                starts_at: local(f.booking.starts_at, tz),
                citizen_name: f.booking.citizen.name,
                citizen_phone: f.booking.citizen.phone,
                email: email_response(&f.email, tz),
            })
            .collect(),
    ))
}
