//! Pieces shared by the DTOs of several resources: times in and out, short references.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::domain::language::Language;
use crate::domain::records::{StaffMember, Unit};
use crate::domain::time::{day_bounds, local_to_utc};

/// An instant as RFC 3339 with the local offset of the service's zone.
pub fn local(at: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    at.with_timezone(&tz).fixed_offset()
}

/// Reads an instant: RFC 3339 with offset, or a local wall-clock time `YYYY-MM-DDTHH:MM`
/// in the service's zone. A local time that does not exist or exists twice (DST) is refused.
///
/// # Errors
/// A 422 naming `field`.
pub fn parse_instant(field: &str, value: &str, tz: Tz) -> Result<DateTime<Utc>, ApiError> {
    let out_of_range = || ApiError::field(field, "the date must lie between 1900-01-01 and 9999-12-31");
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        let at = at.with_timezone(&Utc);
        return if crate::domain::time::date_in_range(at.date_naive()) { Ok(at) } else { Err(out_of_range()) };
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            ApiError::field(field, "expected RFC 3339 (2026-12-01T10:00:00+01:00) or local 2026-12-01T10:00")
        })?;
    if !crate::domain::time::date_in_range(naive.date()) {
        return Err(out_of_range());
    }
    local_to_utc(naive, tz).map_err(|err| ApiError::field(field, err.to_string()))
}

/// Reads a `YYYY-MM-DD` date.
///
/// # Errors
/// A 422 naming `field`.
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, ApiError> {
    crate::domain::time::parse_date(value).map_err(|_| ApiError::field(field, DATE_EXPECTED))
}

/// The refusal of a date that cannot be read.
pub const DATE_EXPECTED: &str = "expected a date YYYY-MM-DD between 1900-01-01 and 9999-12-31";

/// Optional bounds of a range of instants.
pub type InstantRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// An optional `[from, to)` of instants given as dates (whole local days, `to` inclusive).
///
/// # Errors
/// A 422 for unparsable dates, and for a `to` before `from`.
pub fn date_range(from: Option<&str>, to: Option<&str>, tz: Tz) -> Result<InstantRange, ApiError> {
    let from = from.map(|v| parse_date("from", v)).transpose()?.map(|d| day_bounds(d, tz).0);
    let to = to.map(|v| parse_date("to", v)).transpose()?.map(|d| day_bounds(d, tz).1);
    // As the free-slot search and the audit refuse it: an empty answer would read as "none".
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(ApiError::field("to", "must not be before `from`"));
    }
    Ok((from, to))
}

/// A unit as referenced from other resources.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitRef {
    pub id: i32,
    pub slug: String,
    pub name: String,
}

impl From<&Unit> for UnitRef {
    fn from(unit: &Unit) -> Self {
        Self { id: unit.id.get(), slug: unit.slug.clone(), name: unit.name.clone() }
    }
}

/// A counsellor as referenced from other resources.
#[derive(Debug, Serialize, ToSchema)]
pub struct CounsellorRef {
    pub id: i32,
    pub name: String,
    pub languages: Vec<String>,
}

impl From<&StaffMember> for CounsellorRef {
    fn from(member: &StaffMember) -> Self {
        Self { id: member.id.get(), name: member.display_name.clone(), languages: codes(&member.languages) }
    }
}

/// Language codes as the API shows them.
pub fn codes(languages: &[Language]) -> Vec<String> {
    languages.iter().map(|l| l.code().to_owned()).collect()
}
