//! The SQL of the blocking rule ([`crate::domain::blocking`]): which closures, absences and booked
//! slots overlap a time. Every query that asks the database what blocks a time builds its
//! conditions here; the test `blocking_rule` checks them against the domain definition on both
//! engines. One copy lives elsewhere: PostgreSQL's `take_seat` function (migration
//! `m20261203_300000_take_seat_function`) spells out the closure and absence conditions for the
//! one-statement booking; a change of the rule here needs a new migration replacing it.
//! [`stranded`] (the appointments to move, and the week view's marks) is built from the same
//! conditions and tested with the list's own cases (`tests/api/to_move.rs`).

use chrono::{DateTime, Utc};
use entity::booking::{self, BookingStatus as StatusRow};
use entity::slot::SlotKind;
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, FromQueryResult, Statement};

use super::StoreError;
use crate::domain::blocking::{Block, BlockedBy, Stranding};
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::records::{Booking, Slot};

/// `starts_at` / `ends_at` of the row overlap `[from, to)` (SQL expressions).
///
/// SQLite binds `?` in the order of the text: every fragment here names its arguments in the
/// order of its parameters, so that a caller adds the parameters in that order.
pub(super) fn overlapping(from: &str, to: &str) -> String {
    format!("ends_at > {from} AND starts_at < {to}")
}

/// Condition on `closures`: a closure of the unit `unit` or of the whole department overlapping
/// `[from, to)`.
pub(super) fn closure_blocks(unit: &str, from: &str, to: &str) -> String {
    format!("(unit_id = {unit} OR unit_id IS NULL) AND {}", overlapping(from, to))
}

/// Condition on `absences`: an absence of one of `staff` (a list of SQL expressions) overlapping
/// `[from, to)`.
pub(super) fn absence_blocks(staff: &str, from: &str, to: &str) -> String {
    format!("staff_id IN ({staff}) AND {}", overlapping(from, to))
}

/// Condition on `slots`: a booked slot of one of `counsellors` overlapping `[from, to)`.
fn booking_blocks(counsellors: &str, from: &str, to: &str) -> String {
    format!("counsellor_id IN ({counsellors}) AND booked_count > 0 AND {}", overlapping(from, to))
}

/// Bind parameters of one statement in the engine's spelling.
struct Params {
    backend: DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Params {
    fn new(backend: DbBackend) -> Self {
        Self { backend, values: Vec::new() }
    }

    fn add(&mut self, value: impl Into<sea_orm::Value>) -> String {
        self.values.push(value.into());
        if self.backend == DbBackend::Postgres { format!("${}", self.values.len()) } else { "?".to_owned() }
    }

    fn list(&mut self, ids: &[StaffId]) -> String {
        ids.iter().map(|id| self.add(*id)).collect::<Vec<_>>().join(", ")
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// What keeps a counsellor of a unit from taking an appointment in a time span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocking {
    /// Reason of the first closure of the unit or department overlapping the span.
    pub closure: Option<String>,
    /// The counsellor has an absence overlapping the span.
    pub absent: bool,
}

/// Closures and absences overlapping `[from, to)` in one round trip (checked on every booking).
///
/// # Errors
/// Database failures.
pub async fn blocking<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
    counsellor_id: StaffId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Blocking, StoreError> {
    let mut p = Params::new(db.get_database_backend());
    let closed = closure_blocks(&p.add(unit_id), &p.add(from), &p.add(to));
    let absent = absence_blocks(&p.add(counsellor_id), &p.add(from), &p.add(to));
    let sql = format!(
        "SELECT (SELECT reason FROM closures WHERE {closed} ORDER BY starts_at LIMIT 1) AS closure, \
         (SELECT COUNT(*) FROM absences WHERE {absent}) AS absences"
    );
    let row = db.query_one_raw(p.statement(sql)).await?;
    let Some(row) = row else { return Ok(Blocking { closure: None, absent: false }) };
    Ok(Blocking { closure: row.try_get("", "closure")?, absent: row.try_get::<i64>("", "absences")? > 0 })
}

/// Which booked appointments [`stranded`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct StrandedQuery<'a> {
    pub unit_id: UnitId,
    /// Those starting at or after this.
    pub from: DateTime<Utc>,
    /// And before this, if given.
    pub to: Option<DateTime<Utc>>,
    /// Only those of these counsellors, if given.
    pub counsellors: Option<&'a [StaffId]>,
    /// The public holidays and extra closure days as UTC spans, as far as the appointments go.
    pub closed_days: &'a [(DateTime<Utc>, DateTime<Utc>)],
}

/// The booked appointments of a unit that cannot take place as booked, soonest first, with why
/// (in the order of [`Stranding`]): a closure of the unit or the department, or an absence of
/// the counsellor, overlapping it; a closed day it touches; a counsellor who no longer counsels
/// in the unit (deactivated, or the role taken away). An appointment a lead placed there by
/// overriding a rule is one too: an override passes every rule at once, so it does not tell
/// which block the lead knew of.
///
/// The soonest `limit` of them (none for 0), and how many there are in all.
///
/// # Errors
/// Database failures.
pub async fn stranded<C: ConnectionTrait>(
    db: &C,
    query: StrandedQuery<'_>,
    limit: u64,
) -> Result<(Vec<(Booking, Vec<Stranding>)>, u64), StoreError> {
    let backend = db.get_database_backend();
    let mut listed = Vec::new();
    if limit > 0 {
        let mut p = Params::new(backend);
        let inner = stranded_sql(&mut p, &query);
        let limit = p.add(i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!("{inner} ORDER BY starts_at, reference LIMIT {limit}");
        for row in db.query_all_raw(p.statement(sql)).await? {
            let why = [
                (Stranding::Closure, "by_closure"),
                (Stranding::Absence, "by_absence"),
                (Stranding::ClosedDay, "on_closed_day"),
                (Stranding::NoCounsellor, "no_counsellor"),
            ];
            let mut reasons = Vec::new();
            for (reason, column) in why {
                if row.try_get::<bool>("", column)? {
                    reasons.push(reason);
                }
            }
            let booking = booking::Model::from_query_result(&row, "")?;
            listed.push((super::bookings::booking_record(booking), reasons));
        }
    }
    if (listed.len() as u64) < limit {
        let total = listed.len() as u64;
        return Ok((listed, total));
    }
    let mut p = Params::new(backend);
    let inner = stranded_sql(&mut p, &query);
    let counted = db.query_one_raw(p.statement(format!("SELECT COUNT(*) AS n FROM ({inner}) counted"))).await?;
    let total = match counted {
        Some(row) => u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0),
        None => 0,
    };
    // Two reads: a change between them must not make the count smaller than the list.
    let total = total.max(listed.len() as u64);
    Ok((listed, total))
}

/// The SQL of [`stranded`], without order or limit. SQLite binds in the order of the text: the
/// parameters are added in the order they appear.
fn stranded_sql(p: &mut Params, query: &StrandedQuery<'_>) -> String {
    let closure = closure_blocks("b.unit_id", "b.starts_at", "b.ends_at");
    let absence = absence_blocks("b.counsellor_id", "b.starts_at", "b.ends_at");
    let days: Vec<String> = query
        .closed_days
        .iter()
        .map(|&(day_from, day_to)| format!("(b.ends_at > {} AND b.starts_at < {})", p.add(day_from), p.add(day_to)))
        .collect();
    let closed_day = any_of(&days);
    let (counsellor, active) = (p.add(entity::membership::Role::Counsellor.to_value()), p.add(true));
    let (unit, booked, from) = (p.add(query.unit_id), p.add(StatusRow::Booked.to_value()), p.add(query.from));
    let until = query.to.map(|to| format!(" AND b.starts_at < {}", p.add(to))).unwrap_or_default();
    let whose = match query.counsellors {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_owned(),
        Some(ids) => format!(" AND b.counsellor_id IN ({})", p.list(ids)),
    };
    format!(
        "SELECT * FROM (SELECT b.*, \
           EXISTS (SELECT 1 FROM closures WHERE {closure}) AS by_closure, \
           EXISTS (SELECT 1 FROM absences WHERE {absence}) AS by_absence, \
           ({closed_day}) AS on_closed_day, \
           NOT EXISTS (SELECT 1 FROM memberships m JOIN staff s ON s.id = m.staff_id \
             WHERE m.staff_id = b.counsellor_id AND m.unit_id = b.unit_id AND m.role = {counsellor} \
             AND s.active = {active}) AS no_counsellor \
         FROM bookings b WHERE b.unit_id = {unit} AND b.status = {booked} AND b.starts_at >= {from}{until}{whose}) \
         stranded WHERE by_closure OR by_absence OR on_closed_day OR no_counsellor"
    )
}

/// The conditions joined by `OR`, nested in halves: a flat chain of `n` terms is `n` levels
/// deep to SQLite's parser, which refuses more than 1,000 (a closure day every other day and an
/// appointment some years ahead make that many spans); halves keep it at about `log2 n`.
/// `1 = 0` for none.
fn any_of(terms: &[String]) -> String {
    match terms {
        [] => "1 = 0".to_owned(),
        [one] => one.clone(),
        _ => {
            let (first, second) = terms.split_at(terms.len() / 2);
            format!("({} OR {})", any_of(first), any_of(second))
        }
    }
}

/// Conditions on the `slots` row being updated (SQLite's seat update): no closure of its unit or
/// the department and no absence of its counsellor overlaps it.
pub(super) fn slot_unblocked() -> String {
    let closed = closure_blocks("slots.unit_id", "slots.starts_at", "slots.ends_at");
    let absent = absence_blocks("slots.counsellor_id", "slots.starts_at", "slots.ends_at");
    format!("NOT EXISTS (SELECT 1 FROM closures WHERE {closed}) AND NOT EXISTS (SELECT 1 FROM absences WHERE {absent})")
}

/// One page of the free-slot search.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery<'a> {
    pub unit_id: i32,
    pub counsellor_ids: &'a [StaffId],
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The last slot of the previous page (start and id).
    pub after: Option<(DateTime<Utc>, i32)>,
    pub page: u64,
}

/// The candidates of a free-slot page and what may block them.
#[derive(Debug, Default)]
pub struct FreePage {
    /// Soonest first.
    pub candidates: Vec<Slot>,
    /// Every closure, absence and booked slot that overlaps the page (the caller applies the rule).
    pub blocks: Vec<Block>,
}

/// One page of the free-slot search, in one query: up to `page` regular slots of the counsellors
/// with a free seat starting in `[from, to)` after `after`, soonest first; and everything that
/// may block them (see [`FreePage::blocks`]).
///
/// # Errors
/// Database failures.
pub async fn free_page<C: ConnectionTrait>(db: &C, query: PageQuery<'_>) -> Result<FreePage, StoreError> {
    let mut p = Params::new(db.get_database_backend());
    let sql = page_sql(&mut p, &query);
    let rows = db.query_all_raw(p.statement(sql)).await?;
    let mut result = FreePage::default();
    for row in &rows {
        let kind = row.try_get::<i32>("", "kind")?;
        let (starts_at, ends_at) = (row.try_get("", "starts_at")?, row.try_get("", "ends_at")?);
        let by = match kind {
            0 => {
                result.candidates.push(Slot {
                    id: row.try_get("", "id")?,
                    unit_id: UnitId::new(query.unit_id),
                    counsellor_id: row.try_get("", "owner")?,
                    rule_id: row.try_get("", "rule_id")?,
                    adhoc: false,
                    starts_at,
                    ends_at,
                    capacity: row.try_get("", "capacity")?,
                    booked_count: row.try_get("", "booked_count")?,
                });
                continue;
            }
            1 => BlockedBy::Booking { slot_id: row.try_get("", "id")?, counsellor_id: row.try_get("", "owner")? },
            2 => BlockedBy::Absence { staff_id: row.try_get("", "owner")? },
            _ => BlockedBy::Closure { unit_id: row.try_get("", "owner")? },
        };
        result.blocks.push(Block { by, starts_at, ends_at });
    }
    // UNION ALL keeps no order: the page is sorted here.
    result.candidates.sort_by_key(|slot| (slot.starts_at, slot.id));
    Ok(result)
}

/// The SQL of [`free_page`]: the page of candidates (a CTE) and, by `UNION ALL`, the booked slots,
/// absences and closures overlapping it (kind 1, 2, 3).
fn page_sql(p: &mut Params, query: &PageQuery<'_>) -> String {
    let mut candidates = format!(
        "SELECT id, counsellor_id, rule_id, starts_at, ends_at, capacity, booked_count FROM slots \
         WHERE unit_id = {} AND kind = {} AND counsellor_id IN ({}) AND starts_at >= {} AND starts_at < {} \
         AND booked_count < capacity",
        p.add(query.unit_id),
        p.add(SlotKind::Regular.to_value()),
        p.list(query.counsellor_ids),
        p.add(query.from),
        p.add(query.to),
    );
    if let Some((starts_at, id)) = query.after {
        let (later, same, id) = (p.add(starts_at), p.add(starts_at), p.add(id));
        candidates += &format!(" AND (starts_at > {later} OR (starts_at = {same} AND id > {id}))");
    }
    let limit = p.add(i64::try_from(query.page).unwrap_or(i64::MAX));
    // Every candidate starts at or after `lower`, so whatever overlaps one ends after it; and no
    // slot is longer than MAX_SLOT_LENGTH, which lets the index narrow the scan of booked slots.
    let lower = query.after.map_or(query.from, |(starts_at, _)| starts_at);
    let upper = "(SELECT MAX(ends_at) FROM page)";
    let busy = booking_blocks(&p.list(query.counsellor_ids), &p.add(lower), upper);
    let earliest = p.add(lower - super::slots::MAX_SLOT_LENGTH);
    let absent = absence_blocks(&p.list(query.counsellor_ids), &p.add(lower), upper);
    let closed = closure_blocks(&p.add(query.unit_id), &p.add(lower), upper);
    format!(
        "WITH page AS ({candidates} ORDER BY starts_at, id LIMIT {limit}) \
         SELECT 0 AS kind, id, counsellor_id AS owner, starts_at, ends_at, rule_id, capacity, booked_count FROM page \
         UNION ALL SELECT 1, id, counsellor_id, starts_at, ends_at, NULL, NULL, NULL FROM slots \
           WHERE {busy} AND starts_at >= {earliest} \
         UNION ALL SELECT 2, NULL, staff_id, starts_at, ends_at, NULL, NULL, NULL FROM absences WHERE {absent} \
         UNION ALL SELECT 3, NULL, unit_id, starts_at, ends_at, NULL, NULL, NULL FROM closures WHERE {closed}"
    )
}
