//! Time slots and conversions between local wall-clock time and UTC.
//! Conversions never guess: nonexistent or ambiguous local times are errors.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::DomainError;

/// A non-empty, half-open interval `[starts_at, ends_at)` in UTC.
///
/// Ordering is by start, then by end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeSlot {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

impl TimeSlot {
    /// Creates a slot from two UTC instants.
    ///
    /// # Errors
    ///
    /// [`DomainError::EmptyInterval`] if `ends_at` is not after `starts_at`.
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<Self, DomainError> {
        if ends_at <= starts_at {
            return Err(DomainError::EmptyInterval);
        }
        Ok(Self { starts_at, ends_at })
    }

    /// Creates a slot starting at the local wall-clock time `start` in `tz`
    /// and lasting `length` of real (elapsed) time.
    ///
    /// # Errors
    ///
    /// [`DomainError::NonexistentLocalTime`] or [`DomainError::AmbiguousLocalTime`]
    /// if `start` falls into a daylight saving change, [`DomainError::EmptyInterval`]
    /// if `length` is not positive, [`DomainError::OutOfRange`] if the end cannot
    /// be represented.
    pub fn from_local(start: NaiveDateTime, length: TimeDelta, tz: Tz) -> Result<Self, DomainError> {
        let starts_at = local_to_utc(start, tz)?;
        let ends_at = starts_at.checked_add_signed(length).ok_or(DomainError::OutOfRange)?;
        Self::new(starts_at, ends_at)
    }

    /// The first instant of the slot (inclusive).
    #[must_use]
    pub const fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    /// The instant the slot is over (exclusive).
    #[must_use]
    pub const fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }

    /// Elapsed time between start and end; always positive.
    #[must_use]
    pub fn duration(&self) -> TimeDelta {
        self.ends_at - self.starts_at
    }

    /// Whether the two half-open intervals share at least one instant.
    ///
    /// Slots that merely touch (one ends when the other starts) do not overlap.
    #[must_use]
    pub fn overlaps(&self, other: &Self) -> bool {
        overlapping(self.starts_at, self.ends_at, other.starts_at, other.ends_at)
    }

    /// Whether `instant` lies within `[starts_at, ends_at)`.
    #[must_use]
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.starts_at <= instant && instant < self.ends_at
    }
}

/// Whether the half-open intervals `[a_from, a_to)` and `[b_from, b_to)` share an instant.
#[must_use]
pub fn overlapping(a_from: DateTime<Utc>, a_to: DateTime<Utc>, b_from: DateTime<Utc>, b_to: DateTime<Utc>) -> bool {
    a_from < b_to && b_from < a_to
}

/// Converts a local wall-clock time in `tz` to UTC.
///
/// # Errors
///
/// [`DomainError::NonexistentLocalTime`] if the time is skipped when clocks go
/// forward, [`DomainError::AmbiguousLocalTime`] if it occurs twice when clocks go back.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, DomainError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(_, _) => Err(DomainError::AmbiguousLocalTime(local)),
        LocalResult::None => Err(DomainError::NonexistentLocalTime(local)),
    }
}

/// UTC instants of the start of `date` and of the start of the following day in `tz`.
///
/// The start of a day is its local midnight. If midnight falls into a daylight
/// saving gap, the earliest instant after it is used; if midnight occurs twice,
/// the earlier occurrence. For the last date chrono supports, the end is
/// [`DateTime::<Utc>::MAX_UTC`]. Never panics.
#[must_use]
pub fn day_bounds(date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = start_of_local_day(date, tz);
    let end = date.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, |next| start_of_local_day(next, tz));
    (start, end)
}

/// The calendar date in `tz` at the instant `at`.
#[must_use]
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The last local day of a horizon of `weeks` weeks from the instant `now` (the stored slots'
/// rolling horizon, and how far ahead they may be made).
#[must_use]
pub fn horizon_until(now: DateTime<Utc>, tz: Tz, weeks: u32) -> NaiveDate {
    local_date(now, tz) + chrono::Days::new(u64::from(weeks) * 7)
}

/// Parses a wall-clock time written as `"HH:MM"` (a one-digit hour is accepted).
///
/// Surrounding whitespace is ignored; seconds are not accepted.
///
/// # Errors
///
/// [`DomainError::InvalidTime`] if the text is not a valid time of day.
pub fn parse_local_time(s: &str) -> Result<NaiveTime, DomainError> {
    let invalid = || DomainError::InvalidTime(s.to_owned());
    let (hours, minutes) = s.trim().split_once(':').ok_or_else(invalid)?;
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&hours.len()) || minutes.len() != 2 || !all_digits(hours) || !all_digits(minutes) {
        return Err(invalid());
    }
    let hours: u32 = hours.parse().map_err(|_| invalid())?;
    let minutes: u32 = minutes.parse().map_err(|_| invalid())?;
    NaiveTime::from_hms_opt(hours, minutes, 0).ok_or_else(invalid)
}

/// The years a date may have anywhere in the service, in what clients send and so in what is
/// stored: 1900 to 9999. Beyond them dates sort wrongly as text and calendar arithmetic overflows.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// Whether `date` lies within [`YEARS`].
pub fn date_in_range(date: NaiveDate) -> bool {
    YEARS.contains(&date.year())
}

/// Parses a date written exactly `YYYY-MM-DD` (surrounding whitespace ignored) with a year in
/// [`YEARS`]; the one date parser of the API and the pages.
///
/// # Errors
///
/// [`DomainError::InvalidDate`] for any other text (signed or longer years such as
/// `+262142-12-31` included) and for dates outside [`YEARS`].
pub fn parse_date(s: &str) -> Result<NaiveDate, DomainError> {
    let text = s.trim();
    let invalid = || DomainError::InvalidDate(text.chars().take(40).collect());
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(invalid());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|d| date_in_range(*d)).ok_or_else(invalid)
}

/// Longest daylight saving gap searched for when midnight does not exist.
/// Real gaps are at most one day (Pacific/Apia skipped 30 December 2011).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// First instant whose local date in `tz` is `date` (or later, if `date` was skipped).
fn start_of_local_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    if let Some(at) = tz.from_local_datetime(&midnight).earliest() {
        return at.with_timezone(&Utc);
    }
    // Midnight lies in a gap: find the first existing local minute after it,
    // then step back second by second to the exact transition instant.
    for minute in 1..=MAX_GAP_MINUTES {
        let Some(candidate) = midnight.checked_add_signed(TimeDelta::minutes(minute)) else {
            break;
        };
        if let Some(found) = tz.from_local_datetime(&candidate).earliest() {
            let mut earliest = found.with_timezone(&Utc);
            for _ in 0..60 {
                let Some(before) = earliest.checked_sub_signed(TimeDelta::seconds(1)) else {
                    break;
                };
                if before.with_timezone(&tz).naive_local() < midnight {
                    break;
                }
                earliest = before;
            }
            return earliest;
        }
    }
    // Unreachable with real time zone data; fall back to reading midnight as UTC.
    midnight.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn slot_rejects_empty_and_reversed_intervals() {
        let a = utc("2026-01-05T08:00:00Z");
        let b = utc("2026-01-05T09:00:00Z");
        assert_eq!(TimeSlot::new(a, a), Err(DomainError::EmptyInterval));
        assert_eq!(TimeSlot::new(b, a), Err(DomainError::EmptyInterval));
        let slot = TimeSlot::new(a, b).unwrap();
        assert_eq!(slot.starts_at(), a);
        assert_eq!(slot.ends_at(), b);
        assert_eq!(slot.duration(), TimeDelta::hours(1));
    }

    #[test]
    fn overlap_is_half_open() {
        let slot = |from: &str, to: &str| TimeSlot::new(utc(from), utc(to)).unwrap();
        let nine = slot("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z");
        let ten = slot("2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z");
        let half_past = slot("2026-01-05T09:30:00Z", "2026-01-05T10:30:00Z");
        let inner = slot("2026-01-05T09:10:00Z", "2026-01-05T09:20:00Z");
        assert!(!nine.overlaps(&ten));
        assert!(!ten.overlaps(&nine));
        assert!(nine.overlaps(&half_past));
        assert!(half_past.overlaps(&ten));
        assert!(nine.overlaps(&inner) && inner.overlaps(&nine));
        assert!(nine.overlaps(&nine));
        assert!(nine.contains(utc("2026-01-05T09:00:00Z")));
        assert!(!nine.contains(utc("2026-01-05T10:00:00Z")));
    }

    #[test]
    fn local_to_utc_handles_winter_and_summer_time() {
        assert_eq!(local_to_utc(local("2026-01-05 09:00"), Berlin), Ok(utc("2026-01-05T08:00:00Z")));
        assert_eq!(local_to_utc(local("2026-07-06 09:00"), Berlin), Ok(utc("2026-07-06T07:00:00Z")));
    }

    #[test]
    fn local_to_utc_never_guesses() {
        let gap = local("2026-03-29 02:30");
        assert_eq!(local_to_utc(gap, Berlin), Err(DomainError::NonexistentLocalTime(gap)));
        let twice = local("2026-10-25 02:30");
        assert_eq!(local_to_utc(twice, Berlin), Err(DomainError::AmbiguousLocalTime(twice)));
        assert!(TimeSlot::from_local(gap, TimeDelta::minutes(30), Berlin).is_err());
    }

    #[test]
    fn from_local_uses_elapsed_time() {
        let slot = TimeSlot::from_local(local("2026-03-29 01:30"), TimeDelta::hours(1), Berlin).unwrap();
        assert_eq!(slot.starts_at(), utc("2026-03-29T00:30:00Z"));
        assert_eq!(slot.ends_at(), utc("2026-03-29T01:30:00Z"));
        assert_eq!(
            TimeSlot::from_local(local("2026-01-05 09:00"), TimeDelta::zero(), Berlin),
            Err(DomainError::EmptyInterval)
        );
    }

    #[test]
    fn day_bounds_follow_daylight_saving() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(day_bounds(date(2026, 1, 5), Berlin), (utc("2026-01-04T23:00:00Z"), utc("2026-01-05T23:00:00Z")));
        let (start, end) = day_bounds(date(2026, 3, 29), Berlin);
        assert_eq!(end - start, TimeDelta::hours(23));
        let (start, end) = day_bounds(date(2026, 10, 25), Berlin);
        assert_eq!(end - start, TimeDelta::hours(25));
        assert_eq!(local_date(start, Berlin), date(2026, 10, 25));
        assert_eq!(local_date(end, Berlin), date(2026, 10, 26));
    }

    #[test]
    fn day_bounds_when_midnight_does_not_exist() {
        // Sao Paulo started summer time at midnight until 2018 (4 Nov 2018: 00:00 -> 01:00).
        let tz = chrono_tz::America::Sao_Paulo;
        let date = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        let (start, end) = day_bounds(date, tz);
        assert_eq!(start, utc("2018-11-04T03:00:00Z"));
        assert_eq!(start.with_timezone(&tz).naive_local(), local("2018-11-04 01:00"));
        assert_eq!(end - start, TimeDelta::hours(23));
        // Samoa skipped 30 December 2011 entirely.
        let apia = chrono_tz::Pacific::Apia;
        let skipped = NaiveDate::from_ymd_opt(2011, 12, 30).unwrap();
        let (start, end) = day_bounds(skipped, apia);
        assert_eq!(start, end);
        assert_eq!(local_date(start, apia), NaiveDate::from_ymd_opt(2011, 12, 31).unwrap());
    }

    #[test]
    fn day_bounds_do_not_panic_at_the_edges() {
        let (_, end) = day_bounds(NaiveDate::MAX, Berlin);
        assert_eq!(end, DateTime::<Utc>::MAX_UTC);
        let _ = day_bounds(NaiveDate::MIN, Berlin);
    }

    #[test]
    fn parses_local_times() {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(parse_local_time("09:00"), Ok(hm(9, 0)));
        assert_eq!(parse_local_time("9:05"), Ok(hm(9, 5)));
        assert_eq!(parse_local_time(" 23:59 "), Ok(hm(23, 59)));
        assert_eq!(parse_local_time("00:00"), Ok(hm(0, 0)));
        for bad in ["", "24:00", "12:60", "12", "12:5", "12:00:00", "ab:cd", "+1:00", "123:00", "12 :00"] {
            assert_eq!(parse_local_time(bad), Err(DomainError::InvalidTime(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn dates_are_read_only_as_yyyy_mm_dd_between_1900_and_9999() {
        assert_eq!(parse_date(" 2026-12-03 ").unwrap(), NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        assert_eq!(parse_date("1900-01-01").unwrap(), NaiveDate::from_ymd_opt(1900, 1, 1).unwrap());
        assert_eq!(parse_date("9999-12-31").unwrap(), NaiveDate::from_ymd_opt(9999, 12, 31).unwrap());
        for bad in ["+262142-12-31", "10000-01-01", "1899-12-31", "0000-01-01", "2026-2-03", "2026-02-30", "", "heute"]
        {
            assert!(matches!(parse_date(bad), Err(DomainError::InvalidDate(_))), "{bad}");
        }
    }
}
