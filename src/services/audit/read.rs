//! The admins' read of the audit: filtered and paged records with names (staff, unit, booking
//! references), and the same as CSV. Every read is itself recorded.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{AuditAction, AuditEntry, record};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::audit::{ActorFilter, ActorKind, AuditActor, AuditFilter, AuditRecord, AuditTarget};
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::reference::Reference;
use crate::services::ServiceError;
use crate::services::csv::CsvText;
use crate::services::directory::require_admin;
use crate::store::{self, bookings, directory};

/// Records per page of the page and the API, by default and at most.
pub const PAGE_DEFAULT: u64 = 50;
pub const PAGE_MAX: u64 = 500;
/// Records in one CSV download at most (narrow the filters, or page with `before`, for more).
pub const EXPORT_MAX: u64 = 10_000;
/// Booking ids one page or download holds at most (a `bookings_listed` record may name 1,000):
/// a page ends early, with `next_before`, rather than hold more. A record naming more than this
/// alone still makes a page of its own.
pub const PAGE_BOOKING_IDS: usize = 50_000;
/// Records read from the database at a time while a page is filled.
const READ_BATCH: u64 = 100;

/// What an admin asked for, as given (the actor, the person concerned and the booking are
/// resolved here).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// A staff id, a login, or `system`, `citizen`, `anonymous`, `staff`.
    pub actor: Option<String>,
    /// The person concerned (the record's target): a staff id or login.
    pub subject: Option<String>,
    /// A booking id or reference.
    pub booking: Option<String>,
    pub action: Option<AuditAction>,
    /// Records older than the one with this id (the next page).
    pub before: Option<i32>,
    pub limit: Option<u64>,
}

/// One record with the names that make it readable.
#[derive(Debug, Clone)]
pub struct AuditLine {
    pub record: AuditRecord,
    /// Login and name of the staff member who acted.
    pub actor_login: Option<String>,
    pub actor_name: Option<String>,
    /// Slug and name of the unit.
    pub unit: Option<(String, String)>,
    /// The bookings with their references (`None` for an id no booking has).
    pub bookings: Vec<(Uuid, Option<String>)>,
}

/// A page of records, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    /// `before` of the next page, when there are older records.
    pub next_before: Option<i32>,
    /// Login and name of every staff member by id, read once for the page: for who acted and
    /// whom the records name (a target `staff:<id>`, a counsellor in the details). An id missing
    /// here names nobody any more.
    pub staff: HashMap<StaffId, (String, String)>,
}

/// A CSV download of records.
#[derive(Debug, Clone)]
pub struct AuditCsv {
    pub text: String,
    /// Set when more records match than one download holds: `before` of the rest.
    pub next_before: Option<i32>,
}

impl AuditCsv {
    /// The records without the header row (a later part of a longer download).
    pub fn rows(&self) -> &str {
        // The header row is ours (plain names), so its line ends at the first line break.
        self.text.split_once('\n').map_or("", |(_, rows)| rows)
    }
}

/// A page of audit records (admins only); the read is recorded.
///
/// # Errors
/// `Forbidden` (recorded), `Invalid` (`actor`, `subject`, `booking`, `to`, `limit`).
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn read(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    query: AuditQuery,
) -> Result<AuditPage, ServiceError> {
    require_admin(db, clock, actor, "audit.read").await?;
    let limit = query.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ServiceError::invalid("limit", format!("must be between 1 and {PAGE_MAX}")));
    }
    let filter = resolve(db, &query, limit).await?;
    let page = fetch(db, &filter).await?;
    record(db, clock, AuditEntry::by(actor, AuditAction::AuditViewed).count(page.lines.len()).detail(shape(&filter)))
        .await?;
    Ok(page)
}

/// Up to `query.limit` (default and at most [`EXPORT_MAX`]) audit records as CSV (admins only), times in `tz`; the export is recorded.
///
/// # Errors
/// As [`read`].
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn export(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    query: AuditQuery,
    tz: Tz,
) -> Result<AuditCsv, ServiceError> {
    require_admin(db, clock, actor, "audit.export").await?;
    let limit = query.limit.unwrap_or(EXPORT_MAX);
    if !(1..=EXPORT_MAX).contains(&limit) {
        return Err(ServiceError::invalid("limit", format!("must be between 1 and {EXPORT_MAX}")));
    }
    let filter = resolve(db, &query, limit).await?;
    let page = fetch(db, &filter).await?;
    let mut csv = CsvText::new(&[
        "id",
        "at",
        "actor_kind",
        "actor_id",
        "actor_login",
        "actor_name",
        "client_addr",
        "action",
        "unit",
        "bookings",
        "count",
        "target",
        "detail",
    ])?;
    for line in &page.lines {
        csv.row(csv_cells(line, tz).iter().map(String::as_str))?;
    }
    let entry = AuditEntry::by(actor, AuditAction::AuditExported).count(page.lines.len()).detail(shape(&filter));
    record(db, clock, entry).await?;
    Ok(AuditCsv { text: csv.finish()?, next_before: page.next_before })
}

fn csv_cells(line: &AuditLine, tz: Tz) -> Vec<String> {
    let r = &line.record;
    vec![
        r.id.to_string(),
        r.at.with_timezone(&tz).to_rfc3339(),
        r.actor.kind().as_str().to_owned(),
        r.actor.staff_id().map(|id| id.to_string()).unwrap_or_default(),
        line.actor_login.clone().unwrap_or_default(),
        line.actor_name.clone().unwrap_or_default(),
        r.client.clone().unwrap_or_default(),
        r.action.as_str().to_owned(),
        line.unit.as_ref().map(|(slug, _)| slug.clone()).unwrap_or_default(),
        line.bookings
            .iter()
            .map(|(id, reference)| reference.clone().unwrap_or_else(|| id.to_string()))
            .collect::<Vec<_>>()
            .join(" "),
        r.item_count.map(|n| n.to_string()).unwrap_or_default(),
        r.target.clone(),
        r.detail.to_string(),
    ]
}

/// The filters of a read, for its own record (the booking as id, the actor and the person
/// concerned as resolved).
fn shape(filter: &AuditFilter) -> serde_json::Value {
    let actor = match filter.actor {
        Some(ActorFilter::Staff(id)) => Some(AuditTarget::Staff(id).to_string()),
        Some(ActorFilter::Kind(kind)) => Some(kind.as_str().to_owned()),
        None => None,
    };
    let subject = filter.subject.map(|id| AuditTarget::Staff(id).to_string());
    serde_json::json!({
        "from": filter.from, "to": filter.to, "actor": actor, "subject": subject, "booking": filter.booking,
        "action": filter.action, "before": filter.before,
    })
}

/// The filter the query describes.
async fn resolve(db: &DatabaseConnection, query: &AuditQuery, limit: u64) -> Result<AuditFilter, ServiceError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to <= from
    {
        return Err(ServiceError::invalid("to", "must not be before from"));
    }
    let actor = match query.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => Some(actor_filter(db, text).await?),
        None => None,
    };
    let subject = match query.subject.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(staff_id(db, text, "subject").await?),
        None => None,
    };
    let booking = match query.booking.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(text) => Some(booking_id(db, text).await?),
        None => None,
    };
    Ok(AuditFilter {
        from: query.from,
        to: query.to,
        actor,
        booking,
        action: query.action,
        subject,
        before: query.before,
        limit,
    })
}

async fn actor_filter(db: &DatabaseConnection, text: &str) -> Result<ActorFilter, ServiceError> {
    if let Some(kind) = ActorKind::parse(text) {
        return Ok(ActorFilter::Kind(kind));
    }
    Ok(ActorFilter::Staff(staff_id(db, text, "actor").await?))
}

/// The staff member a filter `field` names by id (digits, taken as given) or login.
async fn staff_id(db: &DatabaseConnection, text: &str, field: &'static str) -> Result<StaffId, ServiceError> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| ServiceError::invalid(field, "no such staff id"));
    }
    match directory::find_staff_by_login(db, text).await? {
        Some(member) => Ok(member.id),
        None => Err(ServiceError::invalid(field, "no staff member has this login")),
    }
}

async fn booking_id(db: &DatabaseConnection, text: &str) -> Result<Uuid, ServiceError> {
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(id);
    }
    let unknown = || ServiceError::invalid("booking", "no booking has this id or reference");
    let reference = Reference::parse(text).map_err(|_| unknown())?;
    Ok(bookings::find_by_reference(db, reference.as_str()).await?.ok_or_else(unknown)?.id)
}

/// The records of the filter with their names: up to `filter.limit` records naming at most
/// [`PAGE_BOOKING_IDS`] bookings together, read [`READ_BATCH`] at a time (and one more, to know
/// whether there are older ones).
async fn fetch(db: &DatabaseConnection, filter: &AuditFilter) -> Result<AuditPage, ServiceError> {
    let (records, next_before) = fill_page(db, filter).await?;
    let staff: HashMap<StaffId, (String, String)> = directory::list_staff(db)
        .await?
        .into_iter()
        .map(|member| (member.id, (member.login, member.display_name)))
        .collect();
    let units: HashMap<UnitId, (String, String)> =
        directory::list_units(db, None).await?.into_iter().map(|unit| (unit.id, (unit.slug, unit.name))).collect();
    let ids: Vec<Uuid> =
        records.iter().flat_map(|r| r.booking_ids.iter().copied()).collect::<HashSet<_>>().into_iter().collect();
    let references = store::audit::booking_references(db, &ids).await?;
    let lines = records
        .into_iter()
        .map(|record| {
            let named = match record.actor {
                AuditActor::Staff(id) => staff.get(&id).cloned(),
                _ => None,
            };
            AuditLine {
                actor_login: named.as_ref().map(|(login, _)| login.clone()),
                actor_name: named.map(|(_, name)| name),
                unit: record.unit_id.and_then(|id| units.get(&id).cloned()),
                bookings: record.booking_ids.iter().map(|id| (*id, references.get(id).map(|r| display(r)))).collect(),
                record,
            }
        })
        .collect();
    Ok(AuditPage { lines, next_before, staff })
}

/// The records of a page and, when older ones match, `before` of the next page.
async fn fill_page(
    db: &DatabaseConnection,
    filter: &AuditFilter,
) -> Result<(Vec<AuditRecord>, Option<i32>), ServiceError> {
    let mut records: Vec<AuditRecord> = Vec::new();
    let mut ids_held = 0;
    let mut before = filter.before;
    loop {
        let remaining = filter.limit.saturating_sub(records.len() as u64);
        let wanted = remaining.min(READ_BATCH) + 1;
        let batch = store::audit::list(db, &AuditFilter { before, limit: wanted, ..filter.clone() }).await?;
        let exhausted = (batch.len() as u64) < wanted;
        for record in batch {
            let full = records.len() as u64 >= filter.limit
                || (!records.is_empty() && ids_held + record.booking_ids.len() > PAGE_BOOKING_IDS);
            if full {
                let next_before = records.last().map(|r| r.id);
                return Ok((records, next_before));
            }
            ids_held += record.booking_ids.len();
            before = Some(record.id);
            records.push(record);
        }
        if exhausted {
            return Ok((records, None));
        }
    }
}

/// A stored reference as read out (`K7M4-Q9TX`).
fn display(reference: &str) -> String {
    Reference::parse(reference).map(|r| r.to_string()).unwrap_or_else(|_| reference.to_owned())
}
