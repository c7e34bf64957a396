//! The callback list's closed entries (a slot booked, taken off the list, or past their last
//! day), the last closed first, a page at a time: whether a caller who phones again was called
//! back, and with which appointment.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{unit_choices, wish_text};
use crate::domain::callback::CallbackRequest;
use crate::domain::records::StaffMember;
use crate::services::{callbacks, desk};
use crate::state::AppState;
use crate::web::error::WebResult;
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::page::{Page, Staff};
use crate::web::views::{Choice, callback_state_key};

/// A closed entry as listed.
struct ClosedView {
    name: String,
    phone: String,
    wish: String,
    /// Text key of how it ended.
    state: &'static str,
    /// When it ended (its last change).
    closed: String,
    /// The booking made from it.
    booking: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/callbacks_closed.html")]
pub(super) struct ClosedPage {
    p: Page,
    units: Vec<Choice>,
    unit: String,
    unit_name: String,
    entries: Vec<ClosedView>,
    page: u64,
    more: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ClosedQuery {
    unit: String,
    page: u64,
}

pub(super) async fn closed(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ClosedQuery>,
) -> WebResult<ClosedPage> {
    let deps = state.book();
    let lang = staff.page.lang;
    let (choices, key) = unit_choices(&desk::units_for(deps, &staff.actor).await?, &q.unit);
    let page_no = q.page.min(callbacks::LAST_CLOSED_PAGE);
    let mut page = ClosedPage {
        p: staff.page.titled("cb.closed.title"),
        units: choices,
        unit: key.clone(),
        unit_name: String::new(),
        entries: Vec::new(),
        page: page_no,
        more: false,
    };
    if key.is_empty() {
        return Ok(page);
    }
    let unit = desk::unit_for(deps, &staff.actor, &key).await?;
    let members = desk::unit_staff(deps, &unit).await?;
    let (entries, more) = callbacks::closed_page(deps, &staff.actor, &unit, page_no).await?;
    page.entries = entries.iter().map(|r| view(r, &members, deps.tz, lang)).collect();
    page.more = more;
    page.unit_name = unit.name;
    Ok(page)
}

fn view(r: &CallbackRequest, members: &[StaffMember], tz: chrono_tz::Tz, lang: Lang) -> ClosedView {
    ClosedView {
        name: r.citizen_name.clone(),
        phone: r.citizen_phone.clone(),
        wish: wish_text(r, members, lang),
        state: callback_state_key(r.status),
        closed: format::short(r.updated_at, tz, lang),
        booking: r.booking_id.map(|id| id.to_string()),
    }
}
