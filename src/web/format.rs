//! Dates and times as people say them, in the service's zone.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::i18n::Lang;
use crate::mail::dates;

/// The local date of an instant (pages name it with the other formats).
pub use crate::domain::time::local_date;

/// "Dienstag, 1. Dezember 2026" / "Tuesday, 1 December 2026".
pub fn date_long(date: NaiveDate, lang: Lang) -> String {
    let weekday = dates::weekday_name(lang.code(), date.weekday().num_days_from_monday() as usize);
    let month = dates::month_name(lang.code(), date.month0() as usize);
    match lang {
        Lang::De => format!("{weekday}, {}. {month} {}", date.day(), date.year()),
        Lang::En => format!("{weekday}, {} {month} {}", date.day(), date.year()),
    }
}

/// "November 2026" (of the month that begins on `first_day`).
pub fn month_long(first_day: NaiveDate, lang: Lang) -> String {
    format!("{} {}", dates::month_name(lang.code(), first_day.month0() as usize), first_day.year())
}

/// "Montag" / "Monday" for ISO weekday `n` (1 = Monday); "?" for a number that is no weekday.
pub fn weekday_name(n: u32, lang: Lang) -> &'static str {
    match n {
        1..=7 => dates::weekday_name(lang.code(), (n - 1) as usize),
        _ => "?",
    }
}

/// "9:30 Uhr" / "9:30".
pub fn time_spoken(at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    match lang {
        Lang::De => format!("{}:{:02} Uhr", local.hour(), local.minute()),
        Lang::En => format!("{}:{:02}", local.hour(), local.minute()),
    }
}

/// "Dienstag, 1. Dezember 2026, 9:30 Uhr": an appointment's day and time as read aloud.
pub fn when_spoken(at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    format!("{}, {}", date_long(local_date(at, tz), lang), time_spoken(at, tz, lang))
}

/// "09:30".
pub fn hhmm(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// "Di, 01.12.2026, 09:30" / "Tue, 1 Dec 2026, 09:30" (short, for lists).
pub fn short(at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    let date = local.date_naive();
    format!("{}, {}, {}", weekday_short(date, lang), date_numeric(date, lang), local.format("%H:%M"))
}

/// "Di" / "Tue".
pub fn weekday_short(date: NaiveDate, lang: Lang) -> String {
    let weekday = dates::weekday_name(lang.code(), date.weekday().num_days_from_monday() as usize);
    let letters = match lang {
        Lang::De => 2,
        Lang::En => 3,
    };
    weekday.chars().take(letters).collect()
}

/// "01.12.2026" / "1 Dec 2026": a date as a list or a sentence writes it (English readers take
/// "01.12." for the 12th of January).
pub fn date_numeric(date: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::De => date.format("%d.%m.%Y").to_string(),
        Lang::En => {
            let month: String = dates::month_name("en", date.month0() as usize).chars().take(3).collect();
            format!("{} {month} {}", date.day(), date.year())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_spelled_out_in_local_time() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T08:30:00Z").unwrap().with_timezone(&Utc);
        let tz = chrono_tz::Europe::Berlin;
        assert_eq!(date_long(local_date(at, tz), Lang::De), "Dienstag, 1. Dezember 2026");
        assert_eq!(date_long(local_date(at, tz), Lang::En), "Tuesday, 1 December 2026");
        assert_eq!(time_spoken(at, tz, Lang::De), "9:30 Uhr");
        assert_eq!(short(at, tz, Lang::De), "Di, 01.12.2026, 09:30");
        assert_eq!(short(at, tz, Lang::En), "Tue, 1 Dec 2026, 09:30");
        assert_eq!(when_spoken(at, tz, Lang::De), "Dienstag, 1. Dezember 2026, 9:30 Uhr");
    }
}
