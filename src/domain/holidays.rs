//! Public holidays of Lower Saxony (Niedersachsen) plus configurable extra closure days.
//! Holiday dates come from the `holiday_de` crate; the German names are our own.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use holiday_de::{GermanHoliday, GermanRegion};

use super::DomainError;

/// A day of the year without a year, e.g. 24 December.
///
/// Ordering is by month, then by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonthDay {
    month: u32,
    day: u32,
}

impl MonthDay {
    /// Creates a month and day that exists in at least one year (29 February is allowed).
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidMonthDay`] if no year has such a day.
    pub fn new(month: u32, day: u32) -> Result<Self, DomainError> {
        // 2000 is a leap year, so every day that exists in some year exists in it.
        if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
            return Err(DomainError::InvalidMonthDay(format!("{month:02}-{day:02}")));
        }
        Ok(Self { month, day })
    }

    /// Parses `"MM-DD"` (ISO style, e.g. `"12-24"`) or `"DD.MM."` / `"DD.MM"`
    /// (German style, e.g. `"24.12."`). One-digit numbers are accepted.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidMonthDay`] if the text has another shape or names a day
    /// that does not exist in any year.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::InvalidMonthDay(s.to_owned());
        let text = s.trim();
        let (month, day) = if let Some((month, day)) = text.split_once('-') {
            (month, day)
        } else {
            let german = text.strip_suffix('.').unwrap_or(text);
            let (day, month) = german.split_once('.').ok_or_else(invalid)?;
            (month, day)
        };
        let number = |part: &str| -> Result<u32, DomainError> {
            if (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| invalid())
            } else {
                Err(invalid())
            }
        };
        Self::new(number(month)?, number(day)?).map_err(|_| invalid())
    }

    /// The month, 1 to 12.
    #[must_use]
    pub const fn month(&self) -> u32 {
        self.month
    }

    /// The day of the month, 1 to 31.
    #[must_use]
    pub const fn day(&self) -> u32 {
        self.day
    }

    /// Whether `date` falls on this month and day (29 February only matches in leap years).
    #[must_use]
    pub fn matches(&self, date: NaiveDate) -> bool {
        date.month() == self.month && date.day() == self.day
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl FromStr for MonthDay {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why the office is closed on a given date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedDay {
    /// A statutory public holiday in Lower Saxony, with its German name.
    PublicHoliday(&'static str),
    /// A configured extra closure day (e.g. Christmas Eve).
    ExtraClosureDay,
}

/// Public holidays of Lower Saxony plus extra closure days that recur every year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    extra_days: Vec<MonthDay>,
}

impl Default for HolidayCalendar {
    /// Public holidays plus 24 and 31 December as extra closure days.
    fn default() -> Self {
        Self::new(vec![MonthDay { month: 12, day: 24 }, MonthDay { month: 12, day: 31 }])
    }
}

impl HolidayCalendar {
    /// Creates a calendar with the given extra closure days (duplicates are removed).
    #[must_use]
    pub fn new(mut extra_days: Vec<MonthDay>) -> Self {
        extra_days.sort_unstable();
        extra_days.dedup();
        Self { extra_days }
    }

    /// Parses a comma-separated list of days such as `"12-24, 31.12."`.
    ///
    /// An empty or blank string yields an empty list.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidMonthDay`] for the first entry that is not a valid
    /// day, including an empty entry in a non-empty list (e.g. `"12-24,,12-31"`).
    pub fn parse_extra_days(s: &str) -> Result<Vec<MonthDay>, DomainError> {
        if s.trim().is_empty() {
            return Ok(Vec::new());
        }
        s.split(',').map(MonthDay::parse).collect()
    }

    /// The extra closure days, sorted.
    #[must_use]
    pub fn extra_days(&self) -> &[MonthDay] {
        &self.extra_days
    }

    /// Why the office is closed on `date`, or `None` on an ordinary day.
    ///
    /// Public holidays take precedence over extra closure days. Weekends are not
    /// considered here; they are handled by the weekly schedule.
    #[must_use]
    pub fn closed_reason(&self, date: NaiveDate) -> Option<ClosedDay> {
        if let Some(name) = public_holiday(date) {
            return Some(ClosedDay::PublicHoliday(name));
        }
        self.extra_days.iter().any(|day| day.matches(date)).then_some(ClosedDay::ExtraClosureDay)
    }

    /// Whether the office is closed on `date` (public holiday or extra closure day).
    #[must_use]
    pub fn is_closed(&self, date: NaiveDate) -> bool {
        self.closed_reason(date).is_some()
    }

    /// The public holidays of Lower Saxony in `year` with their German names, sorted
    /// by date. Extra closure days are not included.
    ///
    /// Empty for years before 1995; Easter-based holidays are missing after 9999
    /// (limits of the `holiday_de` crate).
    #[must_use]
    pub fn holidays_in_year(year: i32) -> Vec<(NaiveDate, &'static str)> {
        GermanRegion::Niedersachsen
            .holiday_dates_in_year(year)
            .into_iter()
            .map(|(date, holiday)| (date, german_name(holiday)))
            .collect()
    }
}

/// The German name of the Lower Saxony public holiday on `date`, if there is one.
///
/// Covers Neujahr, Karfreitag, Ostermontag, Tag der Arbeit, Christi Himmelfahrt,
/// Pfingstmontag, Tag der Deutschen Einheit, Reformationstag (since 2017) and both
/// Christmas days. Always `None` before 1995.
#[must_use]
pub fn public_holiday(date: NaiveDate) -> Option<&'static str> {
    GermanRegion::Niedersachsen.holiday_from_date(date).map(german_name)
}

/// Maps a `holiday_de` holiday to the name used on our notices.
///
/// `holiday_de` has its own descriptions ("Erster Mai", "Erster Weihnachtsfeiertag"),
/// but the city's notices use "Tag der Arbeit" and "1./2. Weihnachtstag".
fn german_name(holiday: GermanHoliday) -> &'static str {
    match holiday {
        GermanHoliday::Neujahr => "Neujahr",
        GermanHoliday::Karfreitag => "Karfreitag",
        GermanHoliday::Ostermontag => "Ostermontag",
        GermanHoliday::ErsterMai => "Tag der Arbeit",
        GermanHoliday::ChristiHimmelfahrt => "Christi Himmelfahrt",
        GermanHoliday::Pfingstmontag => "Pfingstmontag",
        GermanHoliday::TagDerDeutschenEinheit => "Tag der Deutschen Einheit",
        GermanHoliday::Reformationstag => "Reformationstag",
        GermanHoliday::ErsterWeihnachtsfeiertag => "1. Weihnachtstag",
        GermanHoliday::ZweiterWeihnachtsfeiertag => "2. Weihnachtstag",
        // Not statutory in Lower Saxony; only reachable if `holiday_de` changes its list.
        other => other.description(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn md(month: u32, day: u32) -> MonthDay {
        MonthDay::new(month, day).unwrap()
    }

    #[test]
    fn holidays_2026() {
        let expected = vec![
            (date(2026, 1, 1), "Neujahr"),
            (date(2026, 4, 3), "Karfreitag"),
            (date(2026, 4, 6), "Ostermontag"),
            (date(2026, 5, 1), "Tag der Arbeit"),
            (date(2026, 5, 14), "Christi Himmelfahrt"),
            (date(2026, 5, 25), "Pfingstmontag"),
            (date(2026, 10, 3), "Tag der Deutschen Einheit"),
            (date(2026, 10, 31), "Reformationstag"),
            (date(2026, 12, 25), "1. Weihnachtstag"),
            (date(2026, 12, 26), "2. Weihnachtstag"),
        ];
        assert_eq!(HolidayCalendar::holidays_in_year(2026), expected);
        for (day, name) in expected {
            assert_eq!(public_holiday(day), Some(name));
        }
    }

    #[test]
    fn holidays_2027() {
        let dates: Vec<NaiveDate> = HolidayCalendar::holidays_in_year(2027).into_iter().map(|(day, _)| day).collect();
        let expected = [
            date(2027, 1, 1),
            date(2027, 3, 26),
            date(2027, 3, 29),
            date(2027, 5, 1),
            date(2027, 5, 6),
            date(2027, 5, 17),
            date(2027, 10, 3),
            date(2027, 10, 31),
            date(2027, 12, 25),
            date(2027, 12, 26),
        ];
        assert_eq!(dates, expected);
    }

    #[test]
    fn holidays_of_other_states_are_not_holidays_here() {
        let not_holidays = [
            date(2026, 1, 6),   // Heilige Drei Könige (BW, BY, ST)
            date(2026, 3, 8),   // Frauentag (BE, MV)
            date(2026, 4, 2),   // Gründonnerstag
            date(2026, 4, 5),   // Ostersonntag (BB only)
            date(2026, 5, 24),  // Pfingstsonntag (BB only)
            date(2026, 6, 4),   // Fronleichnam (BW, BY, HE, NW, RP, SL)
            date(2026, 8, 15),  // Mariä Himmelfahrt (BY, SL)
            date(2026, 9, 20),  // Weltkindertag (TH)
            date(2026, 11, 1),  // Allerheiligen
            date(2026, 11, 18), // Buß- und Bettag (SN)
            date(2026, 12, 24), // Heiligabend: extra closure day, not a holiday
            date(2026, 12, 31), // Silvester: extra closure day, not a holiday
            date(2026, 7, 14),  // an ordinary Tuesday
        ];
        for day in not_holidays {
            assert_eq!(public_holiday(day), None, "{day}");
        }
    }

    #[test]
    fn reformation_day_only_since_2017() {
        assert_eq!(public_holiday(date(2016, 10, 31)), None);
        assert_eq!(public_holiday(date(2017, 10, 31)), Some("Reformationstag"));
    }

    #[test]
    fn closed_reason_combines_holidays_and_extra_days() {
        let calendar = HolidayCalendar::default();
        assert_eq!(calendar.extra_days(), [md(12, 24), md(12, 31)]);
        assert_eq!(calendar.closed_reason(date(2026, 12, 25)), Some(ClosedDay::PublicHoliday("1. Weihnachtstag")));
        assert_eq!(calendar.closed_reason(date(2026, 12, 24)), Some(ClosedDay::ExtraClosureDay));
        assert_eq!(calendar.closed_reason(date(2026, 12, 31)), Some(ClosedDay::ExtraClosureDay));
        assert_eq!(calendar.closed_reason(date(2026, 12, 23)), None);
        assert!(calendar.is_closed(date(2026, 1, 1)));

        let none = HolidayCalendar::new(Vec::new());
        assert_eq!(none.closed_reason(date(2026, 12, 24)), None);
        // A public holiday listed as extra day keeps its holiday name.
        let overlapping = HolidayCalendar::new(vec![md(10, 3), md(10, 3)]);
        assert_eq!(overlapping.extra_days(), [md(10, 3)]);
        assert_eq!(
            overlapping.closed_reason(date(2026, 10, 3)),
            Some(ClosedDay::PublicHoliday("Tag der Deutschen Einheit"))
        );
    }

    #[test]
    fn leap_day_matches_only_in_leap_years() {
        let leap = MonthDay::parse("29.02.").unwrap();
        assert!(leap.matches(date(2028, 2, 29)));
        assert!(!leap.matches(date(2027, 2, 28)));
        assert!(!leap.matches(date(2027, 3, 1)));
    }

    #[test]
    fn month_day_parsing_and_display() {
        for (input, expected) in [
            ("12-24", md(12, 24)),
            ("24.12.", md(12, 24)),
            ("24.12", md(12, 24)),
            (" 1.5. ", md(5, 1)),
            ("01-06", md(1, 6)),
            ("2-29", md(2, 29)),
        ] {
            assert_eq!(MonthDay::parse(input), Ok(expected), "{input}");
        }
        assert_eq!(md(12, 24).to_string(), "12-24");
        assert_eq!(md(1, 6).to_string(), "01-06");
        assert_eq!("31.12.".parse::<MonthDay>(), Ok(md(12, 31)));
        for bad in [
            "", "12", "13-01", "00-10", "02-30", "31.04.", "24.12..", "x-1", "12-24-1", "-12-24", "+1-01", "001-01",
            "24/12",
        ] {
            assert_eq!(MonthDay::parse(bad), Err(DomainError::InvalidMonthDay(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn extra_days_parsing() {
        assert_eq!(HolidayCalendar::parse_extra_days(""), Ok(vec![]));
        assert_eq!(HolidayCalendar::parse_extra_days("   "), Ok(vec![]));
        assert_eq!(HolidayCalendar::parse_extra_days("12-24,31.12."), Ok(vec![md(12, 24), md(12, 31)]));
        assert_eq!(HolidayCalendar::parse_extra_days(" 24.12 , 12-31 "), Ok(vec![md(12, 24), md(12, 31)]));
        assert!(matches!(
            HolidayCalendar::parse_extra_days("12-24,12-32"),
            Err(DomainError::InvalidMonthDay(entry)) if entry == "12-32"
        ));
        assert!(HolidayCalendar::parse_extra_days("12-24,,12-31").is_err());
        assert!(HolidayCalendar::parse_extra_days("12-24,").is_err());
        assert!(HolidayCalendar::parse_extra_days("12-24;12-31").is_err());
    }
}
