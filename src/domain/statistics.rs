//! Anonymous statistics of the appointment book: per unit and month the bookings, attended,
//! no-shows, cancellations and still open ones, by channel, language, weekday and counsellor.
//! They are computed from a booking's anonymous columns only (unit, counsellor, start, status,
//! channel, language), which the retention of personal data keeps, so they survive it. A booking
//! counts in the local month and on the local weekday of its appointment.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::booking::{BookingStatus, Channel};
use super::ids::{StaffId, UnitId};

/// The longest range of months one request may ask for (ten years).
pub const MAX_MONTHS: u32 = 120;

/// A calendar month between 1900-01 and 9999-12, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// A text that is not a month `YYYY-MM` between 1900 and 9999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a month YYYY-MM between 1900-01 and 9999-12, got {0:?}")]
pub struct InvalidMonth(pub String);

impl Month {
    /// Reads `YYYY-MM`.
    ///
    /// # Errors
    /// `InvalidMonth` for anything else, or a year outside 1900–9999.
    pub fn parse(text: &str) -> Result<Self, InvalidMonth> {
        let invalid = || InvalidMonth(text.chars().take(40).collect());
        let (year, month) = text.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let (year, month) = (year.parse().map_err(|_| invalid())?, month.parse().map_err(|_| invalid())?);
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(invalid());
        }
        Ok(Self { year, month })
    }

    /// The month of `date`.
    pub fn of(date: NaiveDate) -> Self {
        Self { year: date.year(), month: date.month() }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The month `n` months later (earlier for negative `n`), if still within 1900–9999.
    pub fn shifted(self, n: i32) -> Option<Self> {
        let first = self.first_day();
        let moved = if n >= 0 {
            first.checked_add_months(Months::new(n.unsigned_abs()))
        } else {
            first.checked_sub_months(Months::new(n.unsigned_abs()))
        };
        moved.map(Self::of).filter(|month| (1900..=9999).contains(&month.year))
    }

    /// How many months `[self, last]` holds (0 when `last` is before `self`).
    pub fn count_to(self, last: Self) -> u32 {
        let span = (last.year - self.year) * 12 + i32::try_from(last.month).unwrap_or(0)
            - i32::try_from(self.month).unwrap_or(0);
        u32::try_from(span + 1).unwrap_or(0)
    }

    /// Every month of `[self, last]` in order.
    pub fn through(self, last: Self) -> impl Iterator<Item = Month> {
        (0..self.count_to(last)).filter_map(move |n| self.shifted(i32::try_from(n).unwrap_or(i32::MAX)))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What statistics read of a booking: nothing that names or reaches a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousBooking {
    pub unit_id: UnitId,
    pub counsellor_id: StaffId,
    pub starts_at: DateTime<Utc>,
    pub status: BookingStatus,
    pub channel: Channel,
    /// The citizen's language (ISO 639-1).
    pub language: String,
}

/// The figures of one group of bookings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    /// All bookings with their appointment in the period, cancelled ones included.
    pub bookings: u32,
    pub attended: u32,
    pub no_shows: u32,
    pub cancellations: u32,
    /// Still booked: no outcome recorded (yet).
    pub open: u32,
}

impl Counts {
    fn add(&mut self, status: BookingStatus) {
        self.bookings += 1;
        match status {
            BookingStatus::Booked => self.open += 1,
            BookingStatus::Cancelled => self.cancellations += 1,
            BookingStatus::Attended => self.attended += 1,
            BookingStatus::NoShow => self.no_shows += 1,
        }
    }

    /// Adds another group's figures.
    pub fn plus(&mut self, other: &Counts) {
        self.bookings += other.bookings;
        self.attended += other.attended;
        self.no_shows += other.no_shows;
        self.cancellations += other.cancellations;
        self.open += other.open;
    }
}

/// The stable name of a channel (`phone`, `walk_in`, `email`, `other`).
pub fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "phone",
        Channel::WalkIn => "walk_in",
        Channel::Email => "email",
        Channel::Other => "other",
    }
}

/// The figures of one unit in one month (or, merged, in a range of months).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    pub month: Month,
    pub totals: Counts,
    pub by_channel: BTreeMap<&'static str, Counts>,
    pub by_language: BTreeMap<String, Counts>,
    /// ISO weekday, 1 = Monday.
    pub by_weekday: BTreeMap<u32, Counts>,
    /// Counsellor's staff id.
    pub by_counsellor: BTreeMap<StaffId, Counts>,
}

impl MonthFigures {
    fn empty(month: Month) -> Self {
        Self {
            month,
            totals: Counts::default(),
            by_channel: BTreeMap::new(),
            by_language: BTreeMap::new(),
            by_weekday: BTreeMap::new(),
            by_counsellor: BTreeMap::new(),
        }
    }

    fn add(&mut self, booking: &AnonymousBooking, weekday: u32) {
        self.totals.add(booking.status);
        self.by_channel.entry(channel_key(booking.channel)).or_default().add(booking.status);
        self.by_language.entry(booking.language.clone()).or_default().add(booking.status);
        self.by_weekday.entry(weekday).or_default().add(booking.status);
        self.by_counsellor.entry(booking.counsellor_id).or_default().add(booking.status);
    }

    /// The sum of several months' figures (e.g. a whole range), labelled with the first month.
    pub fn merged<'a>(months: impl IntoIterator<Item = &'a MonthFigures>) -> Option<Self> {
        let mut months = months.into_iter();
        let mut sum = months.next()?.clone();
        for other in months {
            sum.totals.plus(&other.totals);
            merge(&mut sum.by_channel, &other.by_channel);
            merge(&mut sum.by_language, &other.by_language);
            merge(&mut sum.by_weekday, &other.by_weekday);
            merge(&mut sum.by_counsellor, &other.by_counsellor);
        }
        Some(sum)
    }
}

fn merge<K: Ord + Clone>(into: &mut BTreeMap<K, Counts>, from: &BTreeMap<K, Counts>) {
    for (key, counts) in from {
        into.entry(key.clone()).or_default().plus(counts);
    }
}

/// Counts bookings into per-unit, per-month figures; every month of the range is present.
#[derive(Debug, Clone)]
pub struct Tally {
    tz: Tz,
    units: BTreeMap<UnitId, BTreeMap<Month, MonthFigures>>,
}

impl Tally {
    /// Zero figures for every unit of `unit_ids` and month of `[from, to]`.
    pub fn new(tz: Tz, from: Month, to: Month, unit_ids: &[UnitId]) -> Self {
        let months: BTreeMap<Month, MonthFigures> = from.through(to).map(|m| (m, MonthFigures::empty(m))).collect();
        Self { tz, units: unit_ids.iter().map(|id| (*id, months.clone())).collect() }
    }

    /// Counts one booking in the local month of its appointment (ignored outside the units and range).
    pub fn add(&mut self, booking: &AnonymousBooking) {
        let local = booking.starts_at.with_timezone(&self.tz);
        let month = Month::of(local.date_naive());
        if let Some(figures) = self.units.get_mut(&booking.unit_id).and_then(|months| months.get_mut(&month)) {
            figures.add(booking, local.weekday().number_from_monday());
        }
    }

    /// The figures per unit, each with its months in order.
    pub fn finish(self) -> BTreeMap<UnitId, Vec<MonthFigures>> {
        self.units.into_iter().map(|(unit, months)| (unit, months.into_values().collect())).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    use super::*;

    fn booking(unit_id: UnitId, local: (i32, u32, u32, u32), status: BookingStatus) -> AnonymousBooking {
        let (y, m, d, h) = local;
        AnonymousBooking {
            unit_id,
            counsellor_id: StaffId::new(9),
            starts_at: Berlin.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap().with_timezone(&Utc),
            status,
            channel: Channel::WalkIn,
            language: "tr".into(),
        }
    }

    #[test]
    fn months_parse_only_as_four_digit_years_and_two_digit_months() {
        assert_eq!(Month::parse("2026-03").unwrap().to_string(), "2026-03");
        for bad in
            ["2026-3", "26-03", "2026-13", "2026-00", "1899-12", "10000-01", "2026-03-01", "", "2026–03", "+202-03"]
        {
            assert!(Month::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Month::parse("9999-12").unwrap().shifted(1), None);
        assert_eq!(Month::parse("1900-01").unwrap().shifted(-1), None);
    }

    #[test]
    fn ranges_count_and_list_their_months() {
        let (from, to) = (Month::parse("2025-11").unwrap(), Month::parse("2026-02").unwrap());
        assert_eq!(from.count_to(to), 4);
        assert_eq!(to.count_to(from), 0);
        let listed: Vec<String> = from.through(to).map(|m| m.to_string()).collect();
        assert_eq!(listed, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(to.shifted(-3), Some(from));
    }

    #[test]
    fn a_booking_counts_in_the_local_month_and_weekday_of_its_appointment() {
        let (jan, feb) = (Month::parse("2026-01").unwrap(), Month::parse("2026-02").unwrap());
        let mut tally = Tally::new(Berlin, jan, feb, &[UnitId::new(1)]);
        // 1 February 2026, 00:30 in Hannover is still 31 January in UTC.
        let mut early = booking(UnitId::new(1), (2026, 2, 1, 0), BookingStatus::Attended);
        early.starts_at += chrono::TimeDelta::minutes(30);
        tally.add(&early);
        tally.add(&booking(UnitId::new(1), (2026, 1, 5, 10), BookingStatus::Cancelled));
        tally.add(&booking(UnitId::new(1), (2026, 1, 6, 10), BookingStatus::NoShow));
        tally.add(&booking(UnitId::new(2), (2026, 1, 6, 10), BookingStatus::Booked));
        tally.add(&booking(UnitId::new(1), (2026, 3, 2, 10), BookingStatus::Booked));
        let figures = tally.finish().remove(&UnitId::new(1)).unwrap();
        assert_eq!(figures.len(), 2);
        let expected_jan = Counts { bookings: 2, attended: 0, no_shows: 1, cancellations: 1, open: 0 };
        assert_eq!(figures[0].totals, expected_jan);
        assert_eq!(figures[0].by_weekday.get(&1).map(|c| c.cancellations), Some(1), "5 January 2026 is a Monday");
        assert_eq!(figures[1].totals.attended, 1);
        assert_eq!(figures[1].by_weekday.keys().copied().collect::<Vec<_>>(), [7], "1 February 2026 is a Sunday");
        let all = MonthFigures::merged(&figures).unwrap();
        assert_eq!(all.totals.bookings, 3);
        assert_eq!(all.by_channel["walk_in"].bookings, 3);
        assert_eq!(all.by_language["tr"].no_shows, 1);
        assert_eq!(all.by_counsellor[&StaffId::new(9)].bookings, 3);
    }
}
