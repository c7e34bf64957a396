//! After a change on the hours page or one's own absences page (saved, deleted, added) the
//! browser is sent on to the page (303), so a reload does not make the change again. The
//! appointments the change left outside the hours (or in the absence or closure) wait in the
//! session, by their slots, and are read again for the page it leads to, and for each reload of it.

use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::super::error::WebResult;
use crate::domain::access::Actor;
use crate::domain::ids::{SlotId, StaffId};
use crate::domain::records::Unit;
use crate::services::bookings::Book;
use crate::services::hours::{self, Affected};

const KEY: &str = "hours.changed";

/// The page a change was made on, and leads on to.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub(in crate::web) enum ChangedOn {
    /// The unit leads' page of a unit's hours, absences and closures.
    Hours,
    /// A counsellor's own absences: only their own appointments are listed.
    OwnAbsences,
}

impl ChangedOn {
    fn path(self) -> &'static str {
        match self {
            Self::Hours => "/hours",
            Self::OwnAbsences => "/absences",
        }
    }
}

/// What a change affected, as the page after it shows it.
#[derive(Serialize, Deserialize)]
struct Changed {
    /// Named in the address the change leads to: an old address (history, the back button, a
    /// bookmark) shows no list of an earlier change.
    id: String,
    /// Sessions stored before own absences had a page hold changes of the hours page.
    #[serde(default = "hours_page")]
    on: ChangedOn,
    unit: String,
    slots: Vec<SlotId>,
    listed: u64,
    total: u64,
    elsewhere: u64,
}

fn hours_page() -> ChangedOn {
    ChangedOn::Hours
}

/// The answer to a change of `unit`'s hours, absences or closures made on page `on`: on to that
/// page, saying `done` (`saved`, `deleted`, or `gone_rule`, `gone_absence`, `gone_closure`: deleted
/// before) and listing `affected`.
pub(in crate::web) async fn see_page(
    session: &Session,
    on: ChangedOn,
    unit: &Unit,
    done: &'static str,
    affected: &Affected,
) -> WebResult<Response> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let changed = Changed {
        id: id.clone(),
        on,
        unit: unit.slug.clone(),
        slots: affected.listed.iter().map(|b| b.slot_id).collect(),
        listed: affected.listed.len() as u64,
        total: affected.total,
        elsewhere: affected.elsewhere,
    };
    session.insert(KEY, changed).await?;
    Ok(Redirect::to(&format!("{}?unit={}&done={done}&change={id}", on.path(), unit.slug)).into_response())
}

/// The notice and the affected appointments of page `on` that a change led to (`done` and
/// `change` from its address), or `None` for any other opening of the page. An address of an
/// earlier change than the session's last says it was saved, and lists nothing.
pub(in crate::web) async fn shown(
    deps: Book<'_>,
    session: &Session,
    actor: &Actor,
    on: ChangedOn,
    unit: &Unit,
    done: &str,
    change: &str,
) -> WebResult<Option<(&'static str, Affected)>> {
    let notice = match done {
        "saved" => "saved",
        "deleted" => "deleted",
        // Deleted before (the deletion sent twice): nothing was changed now.
        "gone_rule" => "hours.gone.rule",
        "gone_absence" => "hours.gone.absence",
        "gone_closure" => "hours.gone.closure",
        _ => return Ok(None),
    };
    let last = session.get::<Changed>(KEY).await?;
    let affected = match last.filter(|c| c.on == on && c.unit == unit.slug && c.id == change) {
        Some(c) => {
            // One's own page lists one's own appointments only.
            let whose: Option<StaffId> = (on == ChangedOn::OwnAbsences).then(|| actor.staff_id());
            let affected = hours::affected_again(deps, actor, unit, &c.slots, c.elsewhere, whose).await?;
            // Those cancelled or moved since are no longer listed, nor counted.
            let total = c.total.saturating_sub(c.listed.saturating_sub(affected.listed.len() as u64));
            Affected { total, ..affected }
        }
        None => Affected::default(),
    };
    Ok(Some((notice, affected)))
}
