//! The desk's search for bookings (`/bookings`). The search form is sent with POST, so that
//! what was searched for (a caller's name or number) stays out of addresses, and with them out
//! of the browser's history, proxies' logs and bookmarks: the term waits in the session under a
//! random id, and the answer (303) leads to `/bookings?s=<id>`, which a reload, the back button
//! or the history opens again while the session lasts. After logging out, or ten searches later,
//! the id finds nothing and the page says so. `/bookings?q=` still searches (addresses made
//! before).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::error::WebResult;
use super::page::{CsrfForm, Page, Staff};
use super::views::BookingRow;
use crate::domain::records::{BookingFilter, StaffMember};
use crate::domain::search::{SearchError, SearchQuery};
use crate::services::{bookings, desk};
use crate::state::AppState;

/// The session's searches, the last one last.
const KEY: &str = "search.recent";
/// How many searches the session keeps for their addresses.
const KEPT: usize = 10;
/// Bookings a search shows at most.
const SHOWN: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/bookings", get(show).post(search))
}

/// A search kept in the session: its address's id and the text searched for.
#[derive(Serialize, Deserialize)]
struct Recent {
    id: String,
    q: String,
}

#[derive(Deserialize)]
struct Address {
    /// A search kept in the session.
    #[serde(default)]
    s: String,
    /// A text to search for, in the address (as before searches were kept).
    #[serde(default)]
    q: String,
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/search.html")]
struct SearchPage {
    p: Page,
    q: String,
    searched: bool,
    rows: Vec<BookingRow>,
    /// More bookings match than are shown.
    more: bool,
    /// Why the text is no search (too long, no letters or digits), at the field.
    error: Option<&'static str>,
    /// The address named a search the session no longer keeps.
    gone: bool,
}

impl SearchPage {
    fn new(p: Page, q: String) -> Self {
        Self {
            p: p.titled("search.title"),
            q,
            searched: false,
            rows: Vec::new(),
            more: false,
            error: None,
            gone: false,
        }
    }
}

/// Keeps the search in the session and leads to its results; a text that is no search is
/// refused at the field (422), an empty one leads to the empty page.
async fn search(staff: Staff, session: Session, CsrfForm(form): CsrfForm<SearchForm>) -> WebResult<Response> {
    let q = form.q.trim();
    if q.is_empty() {
        return Ok(Redirect::to("/bookings").into_response());
    }
    if let Some(error) = refusal(&staff.page, q) {
        return Ok(refused(staff.page, q, error));
    }
    let mut recent: Vec<Recent> = session.get(KEY).await?.unwrap_or_default();
    // The same text again keeps its address, so that earlier entries of the history still work.
    let id = match recent.iter().position(|r| r.q == q) {
        Some(at) => recent.remove(at).id,
        None => uuid::Uuid::new_v4().simple().to_string(),
    };
    recent.push(Recent { id: id.clone(), q: q.to_owned() });
    let beyond = recent.len().saturating_sub(KEPT);
    recent.drain(..beyond);
    session.insert(KEY, recent).await?;
    Ok(Redirect::to(&format!("/bookings?s={id}")).into_response())
}

/// The search page: empty, or the results of a kept search (`s`) or of a text in the address (`q`).
async fn show(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Query(address): Query<Address>,
) -> WebResult<Response> {
    let q = if address.s.is_empty() {
        address.q.trim().to_owned()
    } else {
        let recent: Vec<Recent> = session.get(KEY).await?.unwrap_or_default();
        match recent.into_iter().find(|r| r.id == address.s) {
            Some(kept) => kept.q,
            None => return Ok(SearchPage { gone: true, ..SearchPage::new(staff.page, String::new()) }.into_response()),
        }
    };
    if q.is_empty() {
        return Ok(SearchPage::new(staff.page, q).into_response());
    }
    if let Some(error) = refusal(&staff.page, &q) {
        return Ok(refused(staff.page, &q, error));
    }
    let deps = state.book();
    // The caller's next appointment first: upcoming ones soonest first, then past ones latest
    // first (only those shown are recorded as seen).
    let filter =
        BookingFilter { search: Some(q.clone()), upcoming_first: Some(state.clock.now()), ..BookingFilter::default() };
    let (found, more) = bookings::list_shown(deps, &staff.actor, None, filter, SHOWN).await?;
    let mut staff_seen: Vec<StaffMember> = Vec::new();
    for b in &found {
        if !staff_seen.iter().any(|s| s.id == b.counsellor_id)
            && let Some(member) = desk::staff_member(deps, b.counsellor_id).await?
        {
            staff_seen.push(member);
        }
    }
    let rows = found.iter().map(|b| BookingRow::new(b, &staff_seen, deps.tz, staff.page.lang)).collect();
    Ok(SearchPage { searched: true, rows, more, ..SearchPage::new(staff.page, q) }.into_response())
}

/// Why `q` is no search, if it is none.
fn refusal(page: &Page, q: &str) -> Option<&'static str> {
    match SearchQuery::parse(q) {
        Ok(_) => None,
        Err(SearchError::TooLong) => Some(page.t("search.too_long")),
        Err(SearchError::Empty) => Some(page.t("search.no_terms")),
    }
}

/// The page with the text kept in the field and why it is no search (422).
fn refused(page: Page, q: &str, error: &'static str) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, SearchPage { error: Some(error), ..SearchPage::new(page, q.to_owned()) })
        .into_response()
}
