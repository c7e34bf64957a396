//! Retention of personal data (Löschfrist): when a booking's personal data expires, what of its
//! history is anonymous and stays, and when the daily run happens.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::time::{day_bounds, local_date};

/// A unit's retention when none is given.
pub const DEFAULT_RETENTION_DAYS: i32 = 90;
/// The shortest and longest retention a unit may have.
pub const MIN_RETENTION_DAYS: i32 = 1;
pub const MAX_RETENTION_DAYS: i32 = 3650;

/// Checks a unit's retention in days.
///
/// # Errors
/// A message for the field when it is out of range.
pub fn check_days(days: i32) -> Result<(), String> {
    if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(format!("must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days"))
    }
}

/// The run of local day `as_of` removes the data of bookings that ended (or were cancelled)
/// before the returned instant: on a local day at least `days` days before `as_of`. So an
/// appointment on 1 March with 30 days goes in the run of 31 March, not in that of 30 March.
pub fn cutoff(as_of: NaiveDate, days: i32, tz: Tz) -> DateTime<Utc> {
    let last_expired_day = as_of.checked_sub_signed(TimeDelta::days(i64::from(days))).unwrap_or(NaiveDate::MIN);
    day_bounds(last_expired_day, tz).1
}

/// Keys of a history event's detail that hold no personal data (slots, times, counsellor,
/// channel, status, the kind of email, the names of corrected fields, a location and whether a
/// notice was sent): everything else (reasons, free text) is dropped.
const ANONYMOUS_KEYS: &[&str] = &[
    "slot_id",
    "starts_at",
    "ends_at",
    "adhoc",
    "channel",
    "from",
    "to",
    "counsellor_id",
    "status",
    "kind",
    "fields",
    "location_id",
    "notified",
];

/// The anonymous part of a history event's stored detail (a JSON object): only the keys of
/// [`ANONYMOUS_KEYS`], nested objects filtered alike. Anything that is no JSON object becomes `{}`.
pub fn anonymous_detail(stored: &str) -> String {
    let value: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    filter(&value).to_string()
}

fn filter(value: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(map) = value {
        for (key, inner) in map {
            if !ANONYMOUS_KEYS.contains(&key.as_str()) {
                continue;
            }
            let kept = match inner {
                Value::Object(_) => filter(inner),
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => inner.clone(),
                Value::Array(_) => continue,
            };
            out.insert(key.clone(), kept);
        }
    }
    Value::Object(out)
}

/// When the daily run after `now` happens: the next instant the local clock shows `at`.
pub fn next_run(now: DateTime<Utc>, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let today = local_date(now, tz);
    for day in [today, today.succ_opt().unwrap_or(today), today + chrono::Days::new(2)] {
        let candidate = run_instant(day, at, tz);
        if candidate > now {
            return candidate;
        }
    }
    now + TimeDelta::days(1)
}

/// The local day of the last daily run due at or before `now`: today once the local clock has
/// passed `at`, else yesterday.
pub fn last_due_day(now: DateTime<Utc>, at: NaiveTime, tz: Tz) -> NaiveDate {
    let today = local_date(now, tz);
    if run_instant(today, at, tz) <= now { today } else { today.pred_opt().unwrap_or(today) }
}

/// The instant the local clock shows `at` on `day`.
fn run_instant(day: NaiveDate, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    super::time::local_to_utc(day.and_time(at), tz)
        // A time that falls into a daylight-saving gap: as long after midnight as it would be
        // without the gap (02:30 on the day clocks go from 02:00 to 03:00 is 03:30).
        .unwrap_or_else(|_| day_bounds(day, tz).0 + (at - NaiveTime::MIN))
}

/// What an erasure removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Erased {
    pub bookings: u64,
    pub history_events: u64,
    pub emails: u64,
}

impl std::ops::AddAssign for Erased {
    /// Adds a further part's counts (a run erases in parts).
    fn add_assign(&mut self, other: Self) {
        self.bookings += other.bookings;
        self.history_events += other.history_events;
        self.emails += other.emails;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Berlin.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("test step").with_timezone(&Utc)
    }

    #[test]
    fn an_appointment_expires_on_the_day_its_retention_ends() {
        let end = local(2026, 3, 1, 23);
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).expect("test step");
        assert!(end >= cutoff(day(30), 30, Berlin), "kept the day before");
        assert!(end < cutoff(day(31), 30, Berlin), "gone on the day");
    }

    #[test]
    fn history_keeps_times_and_drops_reasons() {
        let stored =
            r#"{"reason":"Frau X. ist krank","from":{"starts_at":"t","note":"x"},"override_reason":"y","slot_id":3}"#;
        let kept: Value = serde_json::from_str(&anonymous_detail(stored)).expect("test step");
        assert_eq!(kept, serde_json::json!({"from": {"starts_at": "t"}, "slot_id": 3}));
        assert_eq!(anonymous_detail("not json"), "{}");
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow_at_the_local_time() {
        let at = NaiveTime::from_hms_opt(3, 0, 0).expect("test step");
        assert_eq!(next_run(local(2026, 6, 1, 2), at, Berlin), local(2026, 6, 1, 3));
        assert_eq!(next_run(local(2026, 6, 1, 4), at, Berlin), local(2026, 6, 2, 3));
        assert!(check_days(0).is_err() && check_days(30).is_ok() && check_days(3651).is_err());
    }

    #[test]
    fn the_last_due_run_is_todays_once_its_time_has_passed() {
        let at = NaiveTime::from_hms_opt(3, 0, 0).expect("test step");
        let day = |d| NaiveDate::from_ymd_opt(2026, 6, d).expect("test step");
        assert_eq!(last_due_day(local(2026, 6, 2, 2), at, Berlin), day(1));
        assert_eq!(last_due_day(local(2026, 6, 2, 3), at, Berlin), day(2));
        assert_eq!(last_due_day(local(2026, 6, 2, 23), at, Berlin), day(2));
        // 02:30 does not exist on 28 March 2027: that day's run is due at 03:30.
        let gap = NaiveTime::from_hms_opt(2, 30, 0).expect("test step");
        let march = |d| NaiveDate::from_ymd_opt(2027, 3, d).expect("test step");
        assert_eq!(last_due_day(local(2027, 3, 28, 3), gap, Berlin), march(27));
        assert_eq!(last_due_day(local(2027, 3, 28, 4), gap, Berlin), march(28));
        assert_eq!(next_run(local(2027, 3, 28, 1), gap, Berlin), local(2027, 3, 28, 3) + TimeDelta::minutes(30));
    }
}
