//! The counsellor's calendar subscription: a page to create (the address is shown once) and
//! revoke it, and the feed itself, `/calendar/{secret}.ics`, fetched by calendar programs
//! without a session.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::error::WebResult;
use super::format;
use super::page::{CsrfForm, Page, Staff};
use crate::http::client_ip::ClientIp;
use crate::services::ServiceError;
use crate::services::calendar_feed::{self, FeedDeps};
use crate::services::citizen_link::Verdict;
use crate::state::AppState;

/// The page of the logged-in staff member (behind the session layer).
pub fn router() -> Router<AppState> {
    Router::new().route("/me/calendar", get(show).post(change))
}

/// The feed, for calendar programs (no session, no cookie).
pub fn feed_router() -> Router<AppState> {
    Router::new().route("/calendar/{file}", get(feed))
}

#[derive(Template, WebTemplate)]
#[template(path = "web/calendar.html")]
struct CalendarPage {
    p: Page,
    active_since: Option<String>,
    last_used: String,
    /// The address, right after it was created (never again).
    created_url: Option<String>,
    revoked: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShowQuery {
    revoked: String,
}

async fn show(State(state): State<AppState>, staff: Staff, Query(q): Query<ShowQuery>) -> WebResult<CalendarPage> {
    let mut page = calendar_page(&state, staff).await?;
    page.revoked = !q.revoked.is_empty();
    Ok(page)
}

async fn calendar_page(state: &AppState, staff: Staff) -> WebResult<CalendarPage> {
    let (lang, tz) = (staff.page.lang, state.settings.time_zone);
    let status = calendar_feed::status(&state.db, &staff.actor).await?;
    Ok(CalendarPage {
        active_since: status.as_ref().map(|s| format::short(s.created_at, tz, lang)),
        last_used: status
            .and_then(|s| s.last_used_at)
            .map_or_else(|| lang.t("cal.never").to_owned(), |at| format::short(at, tz, lang)),
        p: staff.page.titled("cal.title"),
        created_url: None,
        revoked: false,
    })
}

#[derive(Deserialize)]
struct ChangeForm {
    #[serde(default)]
    action: String,
}

async fn change(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> WebResult<Response> {
    match form.action.as_str() {
        "create" => {
            let secret = calendar_feed::create(&state.db, &state.clock, &staff.actor, None).await?;
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let url = format!("{}{}", state.settings.link_base(host), calendar_feed::feed_path(&secret));
            // Shown in this answer only: no redirect, so the secret is in no URL or history.
            let mut page = calendar_page(&state, staff).await?;
            page.created_url = Some(url);
            Ok(page.into_response())
        }
        "revoke" => {
            calendar_feed::revoke(&state.db, &staff.actor).await?;
            Ok(Redirect::to("/me/calendar?revoked=1").into_response())
        }
        _ => Err(super::error::WebError::BadRequest),
    }
}

/// `text/calendar` for a known secret of an active staff member; otherwise the same plain 404
/// for every other case. A calendar program goes by the status; a person who opens the address in
/// a browser reads a line in German and one in English, never the cause of a failure.
async fn feed(State(state): State<AppState>, Path(file): Path<String>, client: ClientIp) -> Response {
    let Some(secret) = file.strip_suffix(".ics") else { return feed_error(StatusCode::NOT_FOUND) };
    // Counted before the secret is looked up: an unknown one costs a read too.
    if let Verdict::Limited { retry_after_secs, first } = state.feed_limiter.check(&client.0, Some(secret)) {
        // One warning per counter and window; the rest of a flood at debug level.
        if first {
            tracing::warn!("calendar feed: too many requests");
        } else {
            tracing::debug!("calendar feed: too many requests, again");
        }
        let mut response = feed_error(StatusCode::TOO_MANY_REQUESTS);
        response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
        return response;
    }
    let deps = FeedDeps {
        db: &state.db,
        clock: &state.clock,
        tz: state.settings.time_zone,
        uid_domain: crate::mail::outbox::id_domain(&state.settings.mail.mail_from.email),
    };
    match calendar_feed::feed(deps, secret, client.addr()).await {
        Ok(Some(text)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"terminbuch.ics\""),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            text,
        )
            .into_response(),
        Ok(None) => feed_error(StatusCode::NOT_FOUND),
        Err(err @ (ServiceError::Busy | ServiceError::Overloaded { .. })) => {
            tracing::warn!(error = ?err, "calendar feed busy");
            let wait = match err {
                ServiceError::Overloaded { retry_after_secs } => retry_after_secs.max(1),
                _ => 60,
            };
            let mut response = feed_error(StatusCode::SERVICE_UNAVAILABLE);
            response.headers_mut().insert(header::RETRY_AFTER, wait.into());
            response
        }
        Err(err) => {
            tracing::error!(error = ?err, "calendar feed failed");
            feed_error(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The feed's plain-text answer for `status` (404, 429, 503 or 500).
fn feed_error(status: StatusCode) -> Response {
    let text = match status {
        StatusCode::NOT_FOUND => {
            "Diesen Kalender gibt es nicht (mehr). Ein neues Abo richten Sie unter „Mein Kalender“ ein.\n\
             This calendar does not exist (any more). Set up a new subscription under \"My calendar\".\n"
        }
        StatusCode::TOO_MANY_REQUESTS => {
            "Der Kalender wurde zu oft abgerufen. Ihr Kalenderprogramm versucht es später wieder.\n\
             The calendar was fetched too often. Your calendar program will try again later.\n"
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            "Der Kalender ist gerade nicht erreichbar. Ihr Kalenderprogramm versucht es später wieder.\n\
             The calendar is not available just now. Your calendar program will try again later.\n"
        }
        _ => {
            "Der Kalender konnte nicht erstellt werden. Ihr Kalenderprogramm versucht es später wieder.\n\
             The calendar could not be made. Your calendar program will try again later.\n"
        }
    };
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}
