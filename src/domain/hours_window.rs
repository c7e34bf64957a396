//! Whether a freely arranged (ad-hoc) time lies within a unit's counselling hours: the union of
//! the weekly rules of that weekday valid on that day (any counsellor). A time outside needs an
//! override by a unit lead or admin.

use chrono::{Datelike, NaiveDateTime, NaiveTime};

use super::schedule::WeeklyRule;

/// Whether the local interval `[start, end)` lies inside the counselling hours `rules` give on
/// its day. An interval that reaches into the next day never does.
#[must_use]
pub fn within_counselling_hours(rules: &[WeeklyRule], start: NaiveDateTime, end: NaiveDateTime) -> bool {
    let day = start.date();
    if end <= start || end.date() != day {
        return false;
    }
    let mut windows: Vec<(NaiveTime, NaiveTime)> = rules
        .iter()
        .filter(|r| r.weekday() == day.weekday())
        .filter(|r| r.valid_from() <= day && r.valid_until().is_none_or(|until| day <= until))
        .map(|r| (r.start_local(), r.end_local()))
        .collect();
    windows.sort_unstable();
    // Merge touching or overlapping windows, then look for one that holds the interval.
    let mut merged: Vec<(NaiveTime, NaiveTime)> = Vec::new();
    for (from, to) in windows {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    let (from, to) = (start.time(), end.time());
    merged.iter().any(|(open, close)| *open <= from && to <= *close)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeDelta, Weekday};

    fn rule(weekday: Weekday, from: &str, to: &str) -> WeeklyRule {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").expect("time");
        let valid_from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        WeeklyRule::new(weekday, t(from), t(to), TimeDelta::minutes(30), TimeDelta::zero(), valid_from, None)
            .expect("rule")
    }

    fn at(day: u32, time: &str) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .expect("date")
            .and_time(NaiveTime::parse_from_str(time, "%H:%M").unwrap())
    }

    #[test]
    fn a_time_inside_the_hours_of_its_weekday_is_within() {
        // Monday 9–12 and 13–16 (two counsellors, touching windows merge), Tuesday 14–17.
        let rules = [
            rule(Weekday::Mon, "09:00", "12:00"),
            rule(Weekday::Mon, "12:00", "13:00"),
            rule(Weekday::Tue, "14:00", "17:00"),
        ];
        assert!(within_counselling_hours(&rules, at(23, "09:00"), at(23, "10:00")), "Monday morning");
        assert!(within_counselling_hours(&rules, at(23, "11:30"), at(23, "12:30")), "across touching windows");
        assert!(within_counselling_hours(&rules, at(24, "16:00"), at(24, "17:00")), "Tuesday, up to the end");
    }

    #[test]
    fn sundays_late_evenings_and_gaps_are_outside() {
        let rules = [rule(Weekday::Mon, "09:00", "12:00"), rule(Weekday::Mon, "14:00", "16:00")];
        assert!(!within_counselling_hours(&rules, at(29, "10:00"), at(29, "11:00")), "Sunday");
        assert!(!within_counselling_hours(&rules, at(23, "23:00"), at(24, "00:00")), "23:00");
        assert!(!within_counselling_hours(&rules, at(23, "12:30"), at(23, "13:30")), "the lunch gap");
        assert!(!within_counselling_hours(&rules, at(23, "11:30"), at(23, "12:30")), "running past the end");
        assert!(!within_counselling_hours(&rules, at(23, "08:30"), at(23, "09:30")), "starting before");
        assert!(!within_counselling_hours(&[], at(23, "10:00"), at(23, "11:00")), "a unit without hours");
    }

    #[test]
    fn rules_count_only_while_they_are_valid() {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").expect("time");
        let from = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        let later = WeeklyRule::new(
            Weekday::Mon,
            t("09:00"),
            t("12:00"),
            TimeDelta::minutes(30),
            TimeDelta::zero(),
            from,
            None,
        )
        .expect("rule");
        assert!(!within_counselling_hours(&[later], at(23, "10:00"), at(23, "11:00")), "before it starts");
        assert!(within_counselling_hours(&[later], at(30, "10:00"), at(30, "11:00")), "once it applies");
    }
}
