//! The `VTIMEZONE` of a calendar entry (RFC 5545 3.6.5), derived from the configured zone's
//! rules in chrono-tz: one observance per offset change in a window around the appointment,
//! each with an explicit DTSTART and no RRULE, plus the observance in force when the window
//! opens. Zones without daylight-saving time get that one observance.

use chrono::{DateTime, Days, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// How far before the start and after the end of the appointment the changes are listed: a
/// client showing the entry in another zone, or the appointment being moved a little, stays
/// covered.
const MARGIN: Days = Days::new(366);

/// What is in force at an instant: the total offset, whether it is daylight-saving time, the name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    offset_secs: i32,
    daylight: bool,
    name: String,
}

fn observed(tz: Tz, at: DateTime<Utc>) -> Observed {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc());
    Observed {
        offset_secs: offset.fix().local_minus_utc(),
        daylight: !offset.dst_offset().is_zero(),
        name: offset.abbreviation().map_or_else(|| format_offset(offset.fix().local_minus_utc()), str::to_owned),
    }
}

/// The `BEGIN:VTIMEZONE … END:VTIMEZONE` block (CRLF line ends) covering `[starts_at, ends_at]`.
pub fn vtimezone(tz: Tz, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    let from = starts_at.checked_sub_days(MARGIN).unwrap_or(starts_at);
    let until = ends_at.checked_add_days(MARGIN).unwrap_or(ends_at);
    let first = observed(tz, from);
    let mut text = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tz.name());
    text.push_str(&observance(from, &first, &first));
    let mut before = first;
    for (at, after) in transitions(tz, from, until) {
        text.push_str(&observance(at, &before, &after));
        before = after;
    }
    text.push_str("END:VTIMEZONE\r\n");
    text
}

/// The instants in `(from, until]` where what is observed changes, found day by day and then
/// to the second.
fn transitions(tz: Tz, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(DateTime<Utc>, Observed)> {
    let mut found = Vec::new();
    let (mut low, mut current) = (from, observed(tz, from));
    while low < until {
        let high = (low + TimeDelta::days(1)).min(until);
        let next = observed(tz, high);
        if next != current {
            let at = first_change(tz, low, high, &current);
            found.push((at, observed(tz, at)));
            current = observed(tz, at);
            low = at;
            continue;
        }
        low = high;
    }
    found
}

/// The first second in `(low, high]` at which `observed` differs from `before`.
fn first_change(tz: Tz, mut low: DateTime<Utc>, mut high: DateTime<Utc>, before: &Observed) -> DateTime<Utc> {
    while high - low > TimeDelta::seconds(1) {
        let middle = low + (high - low) / 2;
        if observed(tz, middle) == *before {
            low = middle;
        } else {
            high = middle;
        }
    }
    high
}

/// One STANDARD or DAYLIGHT block starting at `at`, written in the local time of `before`.
fn observance(at: DateTime<Utc>, before: &Observed, after: &Observed) -> String {
    let kind = if after.daylight { "DAYLIGHT" } else { "STANDARD" };
    let local: NaiveDateTime = at.naive_utc() + TimeDelta::seconds(i64::from(before.offset_secs));
    format!(
        "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nTZNAME:{}\r\nEND:{kind}\r\n",
        local.format("%Y%m%dT%H%M%S"),
        format_offset(before.offset_secs),
        format_offset(after.offset_secs),
        text_value(&after.name),
    )
}

/// `+0100`, `-0330`, or with seconds `+005328` (historic local mean times).
fn format_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (hours, minutes, seconds) = (abs / 3600, abs % 3600 / 60, abs % 60);
    if seconds == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{seconds:02}")
    }
}

/// An abbreviation as an iCalendar TEXT value (they are short ASCII; escape what TEXT escapes).
fn text_value(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '\\' | ';' | ',' => vec!['\\', c],
            _ => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid")
    }

    #[test]
    fn berlin_changes_on_the_last_sundays_of_march_and_october() {
        let text = vtimezone(chrono_tz::Europe::Berlin, utc(2026, 12, 1, 9), utc(2026, 12, 1, 10));
        for expected in [
            "TZID:Europe/Berlin",
            "BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST",
            "BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET",
            "BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000",
            "BEGIN:STANDARD\r\nDTSTART:20271031T030000",
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
        assert!(!text.contains("RRULE"));
    }

    #[test]
    fn a_zone_without_daylight_saving_time_has_one_observance() {
        let text = vtimezone(chrono_tz::Asia::Kolkata, utc(2026, 12, 1, 9), utc(2026, 12, 1, 10));
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 1, "{text}");
        assert!(!text.contains("DAYLIGHT"), "{text}");
        assert!(text.contains("TZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nTZNAME:IST"), "{text}");
    }

    #[test]
    fn offsets_with_seconds_and_negative_ones_are_written_in_full() {
        assert_eq!(format_offset(-12_600), "-0330");
        assert_eq!(format_offset(3_208), "+005328");
        assert_eq!(text_value("A,B;C\\"), "A\\,B\\;C\\\\");
    }
}
