//! Weekly counselling-hours rules and their expansion into bookable time slots.
//! Slot times are wall-clock times in the unit's time zone; slots are stored in UTC.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, TimeDelta, Timelike, Weekday};
use chrono_tz::Tz;

use super::DomainError;
use super::time::{TimeSlot, local_to_utc};

/// Shortest allowed slot.
pub const MIN_SLOT_LENGTH: TimeDelta = TimeDelta::minutes(5);

/// Buffers between slots must be shorter than this.
pub const MAX_BUFFER: TimeDelta = TimeDelta::hours(4);

/// What a weekly rule's hours can break, each at the part of the rule to correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleFault {
    /// The start has seconds.
    StartNotWholeMinute,
    /// The end has seconds.
    EndNotWholeMinute,
    /// The end is not after the start.
    EndNotAfterStart,
    SlotNotWholeMinutes,
    /// Under [`MIN_SLOT_LENGTH`].
    SlotTooShort,
    /// Longer than the time from start to end: not one slot fits.
    SlotLongerThanHours,
    BufferNotWholeMinutes,
    BufferNegative,
    /// [`MAX_BUFFER`] or more.
    BufferTooLong,
    /// `valid_until` before `valid_from`.
    UntilBeforeFrom,
}

/// The part of a weekly rule a [`RuleFault`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RulePart {
    Start,
    End,
    SlotLength,
    Buffer,
    ValidUntil,
}

impl RuleFault {
    /// The part to correct.
    #[must_use]
    pub const fn part(self) -> RulePart {
        match self {
            Self::StartNotWholeMinute => RulePart::Start,
            Self::EndNotWholeMinute | Self::EndNotAfterStart => RulePart::End,
            Self::SlotNotWholeMinutes | Self::SlotTooShort | Self::SlotLongerThanHours => RulePart::SlotLength,
            Self::BufferNotWholeMinutes | Self::BufferNegative | Self::BufferTooLong => RulePart::Buffer,
            Self::UntilBeforeFrom => RulePart::ValidUntil,
        }
    }

    /// What is wrong, in English (the API's detail).
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::StartNotWholeMinute => "start time must be whole minutes",
            Self::EndNotWholeMinute => "end time must be whole minutes",
            Self::EndNotAfterStart => "end time must be after the start time",
            Self::SlotNotWholeMinutes => "slot length must be whole minutes",
            Self::SlotTooShort => "slot length must be at least 5 minutes",
            Self::SlotLongerThanHours => "slot length must not exceed the time between start and end",
            Self::BufferNotWholeMinutes => "buffer must be whole minutes",
            Self::BufferNegative => "buffer must not be negative",
            Self::BufferTooLong => "buffer must be shorter than 4 hours",
            Self::UntilBeforeFrom => "valid until must not be before valid from",
        }
    }
}

/// A weekly rule's hours as given, before they are known to make a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub start_local: NaiveTime,
    pub end_local: NaiveTime,
    pub slot_length: TimeDelta,
    pub buffer: TimeDelta,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl Hours {
    /// Every constraint of a [`WeeklyRule`] these hours break, at most one per part (the first
    /// the part breaks), in the order of the parts; empty when they make a rule. Whether the
    /// slot fits between start and end is only asked of times that make hours.
    #[must_use]
    pub fn faults(&self) -> Vec<RuleFault> {
        let mut faults = Vec::new();
        if !is_whole_minute_time(self.start_local) {
            faults.push(RuleFault::StartNotWholeMinute);
        }
        if !is_whole_minute_time(self.end_local) {
            faults.push(RuleFault::EndNotWholeMinute);
        } else if self.start_local >= self.end_local {
            faults.push(RuleFault::EndNotAfterStart);
        }
        let times_fine = faults.is_empty();
        if !is_whole_minutes(self.slot_length) {
            faults.push(RuleFault::SlotNotWholeMinutes);
        } else if self.slot_length < MIN_SLOT_LENGTH {
            faults.push(RuleFault::SlotTooShort);
        } else if times_fine && self.slot_length > self.end_local - self.start_local {
            faults.push(RuleFault::SlotLongerThanHours);
        }
        if !is_whole_minutes(self.buffer) {
            faults.push(RuleFault::BufferNotWholeMinutes);
        } else if self.buffer < TimeDelta::zero() {
            faults.push(RuleFault::BufferNegative);
        } else if self.buffer >= MAX_BUFFER {
            faults.push(RuleFault::BufferTooLong);
        }
        if self.valid_until.is_some_and(|until| until < self.valid_from) {
            faults.push(RuleFault::UntilBeforeFrom);
        }
        faults
    }
}

/// Recurring counselling hours on one weekday, e.g. "Tuesdays 09:00–12:00,
/// 60-minute slots with 15 minutes in between", valid within a date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeeklyRule {
    weekday: Weekday,
    start_local: NaiveTime,
    end_local: NaiveTime,
    slot_length: TimeDelta,
    buffer: TimeDelta,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
}

impl WeeklyRule {
    /// Creates a validated rule. `valid_until` is inclusive; `None` means open-ended.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidRule`] if `start_local` is not before `end_local`,
    /// if times, slot length or buffer are not whole minutes, if the slot length is
    /// under five minutes or longer than the opening hours, if the buffer is negative
    /// or four hours or more, or if `valid_until` is before `valid_from`.
    pub fn new(
        weekday: Weekday,
        start_local: NaiveTime,
        end_local: NaiveTime,
        slot_length: TimeDelta,
        buffer: TimeDelta,
        valid_from: NaiveDate,
        valid_until: Option<NaiveDate>,
    ) -> Result<Self, DomainError> {
        let hours = Hours { start_local, end_local, slot_length, buffer, valid_from, valid_until };
        if let Some(fault) = hours.faults().first() {
            return Err(DomainError::InvalidRule(fault.message()));
        }
        Ok(Self { weekday, start_local, end_local, slot_length, buffer, valid_from, valid_until })
    }

    /// The weekday the rule applies to.
    #[must_use]
    pub const fn weekday(&self) -> Weekday {
        self.weekday
    }

    /// Local wall-clock time the first slot starts.
    #[must_use]
    pub const fn start_local(&self) -> NaiveTime {
        self.start_local
    }

    /// Local wall-clock time by which every slot must have ended.
    #[must_use]
    pub const fn end_local(&self) -> NaiveTime {
        self.end_local
    }

    /// Length of each slot.
    #[must_use]
    pub const fn slot_length(&self) -> TimeDelta {
        self.slot_length
    }

    /// Pause between the end of one slot and the start of the next.
    #[must_use]
    pub const fn buffer(&self) -> TimeDelta {
        self.buffer
    }

    /// First date the rule applies to (inclusive).
    #[must_use]
    pub const fn valid_from(&self) -> NaiveDate {
        self.valid_from
    }

    /// Last date the rule applies to (inclusive); `None` if open-ended.
    #[must_use]
    pub const fn valid_until(&self) -> Option<NaiveDate> {
        self.valid_until
    }

    /// Local start times of the slots on any one day, in order.
    #[must_use]
    pub fn local_start_times(&self) -> Vec<NaiveTime> {
        // Arithmetic on a fixed date so that nothing wraps around midnight.
        let day = NaiveDate::MIN;
        let end = day.and_time(self.end_local);
        let step = self.slot_length + self.buffer;
        let mut starts = Vec::new();
        let mut start = day.and_time(self.start_local);
        while let Some(slot_end) = start.checked_add_signed(self.slot_length) {
            if slot_end > end {
                break;
            }
            starts.push(start.time());
            match start.checked_add_signed(step) {
                Some(next) => start = next,
                None => break,
            }
        }
        starts
    }

    /// Expands the rule into slots on the dates from `from` to `until` (both
    /// inclusive, clipped to the rule's validity) that fall on its weekday and for
    /// which `skip_day` returns `false`, sorted by start.
    ///
    /// Start times are local wall-clock times in `tz`; a start that does not exist
    /// or exists twice because of a daylight saving change is left out rather than
    /// guessed, and so is a slot whose end does (its elapsed length would not be its
    /// length on the clock, and it could end after the rule's hours). Each slot lasts
    /// `slot_length`.
    pub fn expand(
        &self,
        from: NaiveDate,
        until: NaiveDate,
        tz: Tz,
        skip_day: impl Fn(NaiveDate) -> bool,
    ) -> Vec<TimeSlot> {
        let first = from.max(self.valid_from);
        let last = self.valid_until.map_or(until, |valid_until| until.min(valid_until));
        let offset = days_until(first.weekday(), self.weekday);
        let Some(mut date) = first.checked_add_days(Days::new(offset)) else {
            return Vec::new();
        };
        let start_times = self.local_start_times();
        let mut slots = Vec::new();
        while date <= last {
            if !skip_day(date) {
                slots.extend(start_times.iter().filter_map(|time| {
                    let local_start = date.and_time(*time);
                    let starts_at = local_to_utc(local_start, tz).ok()?;
                    let ends_at = starts_at.checked_add_signed(self.slot_length)?;
                    // Across a daylight saving change the clock's end is another instant.
                    let local_end = local_start.checked_add_signed(self.slot_length)?;
                    (local_to_utc(local_end, tz).ok()? == ends_at).then_some(())?;
                    TimeSlot::new(starts_at, ends_at).ok()
                }));
            }
            match date.checked_add_days(Days::new(7)) {
                Some(next) => date = next,
                None => break,
            }
        }
        slots.sort_unstable();
        slots
    }
}

/// Days from `from` forward to the next `to` (0 if they are the same weekday).
fn days_until(from: Weekday, to: Weekday) -> u64 {
    let diff = (7 + to.num_days_from_monday() - from.num_days_from_monday()) % 7;
    u64::from(diff)
}

/// The days of its weekday that running hours would lose if changed to begin only later: hours
/// valid `from..=until` on `weekday` (ISO, 1 = Monday), changed on `today` to be valid from
/// `new_from`. They ran until the change, the changed ones start on `new_from`: in between, the
/// counsellor has no hours on that weekday unless the hours as they were stay until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeftOut {
    /// The first and the last day of the weekday left without the hours.
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// How many such days.
    pub days: u32,
}

impl LeftOut {
    /// The last day of hours valid until `until` that new hours from `new_from` follow: the day
    /// before, unless they end earlier.
    #[must_use]
    pub fn kept_until(until: Option<NaiveDate>, new_from: NaiveDate) -> NaiveDate {
        let day_before = new_from.pred_opt().unwrap_or(NaiveDate::MIN);
        until.map_or(day_before, |until| until.min(day_before))
    }

    /// The days left out, or `None` when the change leaves out no day of the weekday (it does
    /// not begin later, or the hours have ended). Hours that have not begun yet run on no day
    /// until then: beginning them later is a plain change.
    #[must_use]
    pub fn of(
        weekday: u8,
        from: NaiveDate,
        until: Option<NaiveDate>,
        new_from: NaiveDate,
        today: NaiveDate,
    ) -> Option<Self> {
        let weekday = Weekday::try_from(weekday.checked_sub(1)?).ok()?;
        if from > today {
            return None;
        }
        let start = today;
        let end = new_from.pred_opt()?.min(until.unwrap_or(NaiveDate::MAX));
        let first = start.checked_add_days(Days::new(days_until(start.weekday(), weekday)))?;
        if first > end {
            return None;
        }
        let weeks = (end - first).num_days() / 7;
        let last = first.checked_add_days(Days::new(u64::try_from(weeks * 7).ok()?))?;
        Some(Self { first, last, days: u32::try_from(weeks + 1).ok()? })
    }
}

fn is_whole_minutes(delta: TimeDelta) -> bool {
    delta.subsec_nanos() == 0 && delta.num_seconds() % 60 == 0
}

fn is_whole_minute_time(time: NaiveTime) -> bool {
    time.second() == 0 && time.nanosecond() == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use chrono_tz::Europe::Berlin;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn hours_changed_to_begin_later_leave_out_the_days_of_their_weekday_until_then() {
        // Tuesdays since 1 December, changed on Monday 7 December 2026 to begin on 1 January.
        let today = date(2026, 12, 7);
        let left = LeftOut::of(2, date(2026, 12, 1), None, date(2027, 1, 1), today).expect("left out");
        assert_eq!(left, LeftOut { first: date(2026, 12, 8), last: date(2026, 12, 29), days: 4 });
        // Changed on a Tuesday: that Tuesday counts; a new start on a Tuesday does not.
        let on_tuesday = LeftOut::of(2, date(2026, 12, 1), None, date(2026, 12, 15), date(2026, 12, 8));
        assert_eq!(on_tuesday, Some(LeftOut { first: date(2026, 12, 8), last: date(2026, 12, 8), days: 1 }));
        // Hours that end before the new start lose only their own days.
        let ending = LeftOut::of(2, date(2026, 12, 1), Some(date(2026, 12, 15)), date(2027, 1, 1), today);
        assert_eq!(ending, Some(LeftOut { first: date(2026, 12, 8), last: date(2026, 12, 15), days: 2 }));
        // Hours that begin today lose today.
        let begun = LeftOut::of(1, today, None, date(2026, 12, 15), today);
        assert_eq!(begun, Some(LeftOut { first: today, last: date(2026, 12, 14), days: 2 }));
    }

    #[test]
    fn hours_changed_without_a_later_start_leave_nothing_out() {
        let today = date(2026, 12, 7);
        assert_eq!(LeftOut::of(2, date(2026, 12, 1), None, today, today), None, "from today");
        assert_eq!(LeftOut::of(2, date(2026, 12, 1), None, date(2026, 12, 1), today), None, "as before");
        assert_eq!(LeftOut::of(2, date(2026, 12, 1), None, date(2026, 12, 8), today), None, "no Tuesday before");
        let ended = LeftOut::of(2, date(2026, 11, 1), Some(date(2026, 12, 6)), date(2027, 1, 1), today);
        assert_eq!(ended, None, "ended before today");
        let begins = LeftOut::of(2, date(2026, 12, 20), None, date(2027, 1, 1), today);
        assert_eq!(begins, None, "hours that have not begun yet run on no day until then");
        assert_eq!(LeftOut::of(8, date(2026, 12, 1), None, date(2027, 1, 1), today), None, "no weekday 8");
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn minutes(n: i64) -> TimeDelta {
        TimeDelta::minutes(n)
    }

    fn rule(weekday: Weekday, start: NaiveTime, end: NaiveTime, length: i64, buffer: i64) -> WeeklyRule {
        WeeklyRule::new(weekday, start, end, minutes(length), minutes(buffer), date(2026, 1, 1), None).unwrap()
    }

    fn starts(slots: &[TimeSlot]) -> Vec<DateTime<Utc>> {
        slots.iter().map(TimeSlot::starts_at).collect()
    }

    #[test]
    fn tuesday_morning_with_buffer() {
        let tuesday = rule(Weekday::Tue, hm(9, 0), hm(12, 0), 60, 15);
        assert_eq!(tuesday.local_start_times(), [hm(9, 0), hm(10, 15)]);
        // 2026-01-13 is a Tuesday (winter time, UTC+1).
        let slots = tuesday.expand(date(2026, 1, 12), date(2026, 1, 18), Berlin, |_| false);
        assert_eq!(starts(&slots), [utc("2026-01-13T08:00:00Z"), utc("2026-01-13T09:15:00Z")]);
        assert!(slots.iter().all(|slot| slot.duration() == minutes(60)));
        assert_eq!(slots[1].ends_at(), utc("2026-01-13T10:15:00Z"));
    }

    #[test]
    fn slot_ending_exactly_at_end_is_included() {
        let exact = rule(Weekday::Mon, hm(9, 0), hm(10, 0), 30, 0);
        assert_eq!(exact.local_start_times(), [hm(9, 0), hm(9, 30)]);
        let late = rule(Weekday::Mon, hm(22, 0), hm(23, 59), 45, 10);
        assert_eq!(late.local_start_times(), [hm(22, 0), hm(22, 55)]);
    }

    #[test]
    fn always_nine_local_across_daylight_saving_changes() {
        let weekdays = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
        let check = |from: NaiveDate, until: NaiveDate, switch: NaiveDate, before: u32, after: u32| {
            let mut count = 0;
            for weekday in weekdays {
                let slots = rule(weekday, hm(9, 0), hm(10, 0), 60, 0).expand(from, until, Berlin, |_| false);
                for slot in slots {
                    let day = slot.starts_at().date_naive();
                    let hour = if day < switch { before } else { after };
                    assert_eq!(slot.starts_at(), day.and_time(hm(hour, 0)).and_utc(), "{day}");
                    assert_eq!(slot.starts_at().with_timezone(&Berlin).time(), hm(9, 0));
                    count += 1;
                }
            }
            count
        };
        // Summer time starts on Sunday 29 March 2026 and ends on Sunday 25 October 2026.
        assert_eq!(check(date(2026, 3, 16), date(2026, 4, 10), date(2026, 3, 29), 8, 7), 20);
        assert_eq!(check(date(2026, 10, 12), date(2026, 11, 6), date(2026, 10, 25), 7, 8), 20);
    }

    #[test]
    fn daylight_saving_gap_and_overlap_are_skipped() {
        let night = rule(Weekday::Sun, hm(2, 0), hm(3, 0), 30, 0);
        let march = night.expand(date(2026, 3, 22), date(2026, 4, 5), Berlin, |_| false);
        // 22 March and 5 April have 02:00 and 02:30; 29 March has neither (02:00–03:00 skipped).
        assert_eq!(
            starts(&march),
            [
                utc("2026-03-22T01:00:00Z"),
                utc("2026-03-22T01:30:00Z"),
                utc("2026-04-05T00:00:00Z"),
                utc("2026-04-05T00:30:00Z"),
            ]
        );
        let october = night.expand(date(2026, 10, 18), date(2026, 11, 1), Berlin, |_| false);
        // On 25 October 02:00 and 02:30 happen twice and are therefore left out.
        assert_eq!(
            starts(&october),
            [
                utc("2026-10-18T00:00:00Z"),
                utc("2026-10-18T00:30:00Z"),
                utc("2026-11-01T01:00:00Z"),
                utc("2026-11-01T01:30:00Z"),
            ]
        );
        // A slot across the change: 01:30 plus an hour on the clock is 03:30 after the spring
        // change (past the rule's 03:00) and 02:30 twice in autumn: left out on those days only.
        let across = rule(Weekday::Sun, hm(1, 30), hm(3, 0), 60, 0);
        let spring = across.expand(date(2026, 3, 22), date(2026, 4, 5), Berlin, |_| false);
        assert_eq!(starts(&spring), [utc("2026-03-22T00:30:00Z"), utc("2026-04-04T23:30:00Z")]);
        assert!(spring.iter().all(|slot| slot.duration() == TimeDelta::minutes(60)));
        let autumn = across.expand(date(2026, 10, 18), date(2026, 11, 1), Berlin, |_| false);
        assert_eq!(starts(&autumn), [utc("2026-10-17T23:30:00Z"), utc("2026-11-01T00:30:00Z")]);
        let half_past_two = rule(Weekday::Sun, hm(2, 30), hm(3, 0), 30, 0);
        assert!(half_past_two.expand(date(2026, 3, 29), date(2026, 3, 29), Berlin, |_| false).is_empty());
        assert!(half_past_two.expand(date(2026, 10, 25), date(2026, 10, 25), Berlin, |_| false).is_empty());
    }

    #[test]
    fn validity_bounds_are_inclusive() {
        let bounded = WeeklyRule::new(
            Weekday::Wed,
            hm(9, 0),
            hm(10, 0),
            minutes(60),
            TimeDelta::zero(),
            date(2026, 2, 4),
            Some(date(2026, 2, 18)),
        )
        .unwrap();
        let slots = bounded.expand(date(2026, 1, 1), date(2026, 3, 31), Berlin, |_| false);
        let days: Vec<NaiveDate> = slots.iter().map(|s| s.starts_at().date_naive()).collect();
        assert_eq!(days, [date(2026, 2, 4), date(2026, 2, 11), date(2026, 2, 18)]);
        let narrowed = bounded.expand(date(2026, 2, 5), date(2026, 2, 11), Berlin, |_| false);
        assert_eq!(narrowed.len(), 1);
        assert!(bounded.expand(date(2026, 2, 19), date(2026, 3, 31), Berlin, |_| false).is_empty());
        assert!(bounded.expand(date(2026, 2, 18), date(2026, 2, 4), Berlin, |_| false).is_empty());
    }

    #[test]
    fn skip_day_is_respected() {
        let friday = rule(Weekday::Fri, hm(9, 0), hm(10, 0), 60, 0);
        let good_friday = date(2026, 4, 3);
        let slots = friday.expand(date(2026, 3, 27), date(2026, 4, 10), Berlin, |d| d == good_friday);
        let days: Vec<NaiveDate> = slots.iter().map(|s| s.starts_at().date_naive()).collect();
        assert_eq!(days, [date(2026, 3, 27), date(2026, 4, 10)]);
    }

    #[test]
    fn expand_is_safe_at_the_end_of_time() {
        let friday =
            WeeklyRule::new(Weekday::Fri, hm(9, 0), hm(10, 0), minutes(60), minutes(0), NaiveDate::MIN, None).unwrap();
        let near_end = NaiveDate::MAX - Days::new(20);
        assert!(friday.expand(near_end, NaiveDate::MAX, Berlin, |_| false).len() <= 3);
    }

    #[test]
    fn invalid_rules_are_rejected() {
        let make = |start, end, length: i64, buffer: TimeDelta, until| {
            WeeklyRule::new(Weekday::Mon, start, end, minutes(length), buffer, date(2026, 1, 1), until)
        };
        let invalid = |result: Result<WeeklyRule, DomainError>| matches!(result, Err(DomainError::InvalidRule(_)));
        let zero = TimeDelta::zero();
        assert!(invalid(make(hm(12, 0), hm(9, 0), 30, zero, None)));
        assert!(invalid(make(hm(9, 0), hm(9, 0), 30, zero, None)));
        assert!(invalid(make(hm(9, 0), hm(12, 0), 4, zero, None)));
        assert!(invalid(make(hm(9, 0), hm(9, 30), 31, zero, None)));
        assert!(invalid(make(hm(9, 0), hm(12, 0), 30, minutes(-5), None)));
        assert!(invalid(make(hm(9, 0), hm(12, 0), 30, TimeDelta::hours(4), None)));
        assert!(invalid(make(hm(9, 0), hm(12, 0), 30, TimeDelta::seconds(90), None)));
        assert!(invalid(make(hm(9, 0), hm(12, 0), 30, zero, Some(date(2025, 12, 31)))));
        let with_seconds = NaiveTime::from_hms_opt(9, 0, 30).unwrap();
        assert!(invalid(make(with_seconds, hm(12, 0), 30, zero, None)));
        let odd_length =
            WeeklyRule::new(Weekday::Mon, hm(9, 0), hm(12, 0), TimeDelta::seconds(330), zero, date(2026, 1, 1), None);
        assert!(invalid(odd_length));
        // Boundary values that are allowed.
        assert!(make(hm(9, 0), hm(9, 5), 5, zero, Some(date(2026, 1, 1))).is_ok());
        assert!(make(hm(9, 0), hm(12, 0), 30, minutes(239), None).is_ok());
    }

    #[test]
    fn every_fault_of_the_hours_is_named_at_its_part() {
        let hours = |start, end, length: i64, buffer: i64, until| Hours {
            start_local: start,
            end_local: end,
            slot_length: minutes(length),
            buffer: minutes(buffer),
            valid_from: date(2026, 12, 1),
            valid_until: until,
        };
        let parts = |h: Hours| h.faults().iter().map(|f| f.part()).collect::<Vec<_>>();
        // Three faults at once, each at its own part.
        assert_eq!(
            hours(hm(12, 0), hm(10, 0), 0, -5, Some(date(2026, 11, 30))).faults(),
            [
                RuleFault::EndNotAfterStart,
                RuleFault::SlotTooShort,
                RuleFault::BufferNegative,
                RuleFault::UntilBeforeFrom
            ]
        );
        // The slot longer than the hours is the slot's fault, not the times'.
        assert_eq!(hours(hm(10, 0), hm(10, 30), 60, 0, None).faults(), [RuleFault::SlotLongerThanHours]);
        assert_eq!(parts(hours(hm(10, 0), hm(10, 30), 60, 0, None)), [RulePart::SlotLength]);
        // Times the wrong way round: only the end is wrong (the slot cannot be measured against them).
        assert_eq!(parts(hours(hm(12, 0), hm(10, 0), 60, 0, None)), [RulePart::End]);
        assert_eq!(parts(hours(hm(9, 0), hm(12, 0), 30, 240, Some(date(2026, 12, 1)))), [RulePart::Buffer]);
        assert!(hours(hm(9, 0), hm(12, 0), 30, 239, Some(date(2026, 12, 1))).faults().is_empty());
        // The constructor refuses with the first fault's text.
        let refused =
            WeeklyRule::new(Weekday::Mon, hm(12, 0), hm(10, 0), minutes(0), minutes(0), date(2026, 1, 1), None);
        assert_eq!(refused, Err(DomainError::InvalidRule(RuleFault::EndNotAfterStart.message())));
    }

    #[test]
    fn getters_return_constructor_values() {
        let r = WeeklyRule::new(
            Weekday::Thu,
            hm(13, 0),
            hm(15, 30),
            minutes(45),
            minutes(5),
            date(2026, 3, 1),
            Some(date(2026, 12, 31)),
        )
        .unwrap();
        assert_eq!(r.weekday(), Weekday::Thu);
        assert_eq!((r.start_local(), r.end_local()), (hm(13, 0), hm(15, 30)));
        assert_eq!((r.slot_length(), r.buffer()), (minutes(45), minutes(5)));
        assert_eq!((r.valid_from(), r.valid_until()), (date(2026, 3, 1), Some(date(2026, 12, 31))));
    }
}
