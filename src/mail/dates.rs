//! Dates and times spelled out in the citizen's language ("Dienstag, 1. Dezember 2026, 10:00 Uhr"),
//! and language names as their speakers write them.

use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;

use crate::domain::language::Language;

const WEEKDAYS: [(&str, [&str; 7]); 7] = [
    ("de", ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]),
    ("en", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
    ("tr", ["Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi", "Pazar"]),
    ("ar", ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]),
    ("fa", ["دوشنبه", "سه\u{200c}شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه"]),
    ("ru", ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]),
    ("uk", ["понеділок", "вівторок", "середа", "четвер", "пʼятниця", "субота", "неділя"]),
];

// Russian and Ukrainian: genitive month names, as in "1 декабря". Persian: the Gregorian months as
// written in Iran (understood in Afghanistan, where the English-derived names are also used).
const MONTHS: [(&str, [&str; 12]); 7] = [
    (
        "de",
        [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
    ),
    (
        "en",
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
    ),
    (
        "tr",
        ["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"],
    ),
    (
        "ar",
        ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    ),
    ("fa", ["ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر"]),
    (
        "ru",
        [
            "января",
            "февраля",
            "марта",
            "апреля",
            "мая",
            "июня",
            "июля",
            "августа",
            "сентября",
            "октября",
            "ноября",
            "декабря",
        ],
    ),
    (
        "uk",
        [
            "січня",
            "лютого",
            "березня",
            "квітня",
            "травня",
            "червня",
            "липня",
            "серпня",
            "вересня",
            "жовтня",
            "листопада",
            "грудня",
        ],
    ),
];

fn names<const N: usize>(table: &[(&str, [&'static str; N])], lang: &str) -> [&'static str; N] {
    table.iter().find(|(code, _)| *code == lang).unwrap_or(&table[0]).1
}

/// The weekday's name (0 = Monday) in `lang` (German when unknown).
pub fn weekday_name(lang: &str, from_monday: usize) -> &'static str {
    names(&WEEKDAYS, lang)[from_monday % 7]
}

/// The month's name (0 = January) in `lang` (German when unknown; genitive in Russian and Ukrainian).
pub fn month_name(lang: &str, month0: usize) -> &'static str {
    names(&MONTHS, lang)[month0 % 12]
}

/// The local date, e.g. "Dienstag, 1. Dezember 2026" or "Tuesday, 1 December 2026". Arabic and
/// Persian keep Western digits, as the reference, phone number, postal code and link beside them do.
pub fn spell_date(at: DateTime<Tz>, lang: &str) -> String {
    let weekday = names(&WEEKDAYS, lang)[at.weekday().num_days_from_monday() as usize];
    let month = names(&MONTHS, lang)[at.month0() as usize];
    let (day, year) = (at.day(), at.year());
    match lang {
        "en" => format!("{weekday}, {day} {month} {year}"),
        "tr" => format!("{day} {month} {year} {weekday}"),
        "ar" | "fa" => format!("{weekday}، {day} {month} {year}"),
        "ru" => format!("{weekday}, {day} {month} {year} г."),
        "uk" => format!("{weekday}, {day} {month} {year} р."),
        _ => format!("{weekday}, {day}. {month} {year}"),
    }
}

/// The local time of day, e.g. "10:00 Uhr" (German, also the fallback), "10:00" in English.
pub fn spell_time(at: DateTime<Tz>, lang: &str) -> String {
    let hm = format!("{:02}:{:02}", at.hour(), at.minute());
    match lang {
        "en" | "tr" | "ru" | "uk" => hm,
        "ar" => format!("الساعة {hm}"),
        "fa" => format!("ساعت {hm}"),
        _ => format!("{hm} Uhr"),
    }
}

/// Date and time, e.g. "Dienstag, 1. Dezember 2026, 10:00 Uhr".
pub fn spell_out(at: DateTime<Tz>, lang: &str) -> String {
    let separator = if matches!(lang, "ar" | "fa") { "، " } else { ", " };
    format!("{}{separator}{}", spell_date(at, lang), spell_time(at, lang))
}

/// A language's own name ("Türkçe", "العربية"); the code itself when unknown.
pub fn endonym(code: &str) -> &str {
    Language::from_stored(code).endonym().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    use super::*;

    #[test]
    fn dates_are_spelled_out_in_each_language() {
        let at = Berlin.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).single().expect("a valid local time");
        for (lang, expected) in [
            ("de", "Dienstag, 1. Dezember 2026, 10:00 Uhr"),
            ("en", "Tuesday, 1 December 2026, 10:00"),
            ("tr", "1 Aralık 2026 Salı, 10:00"),
            ("ar", "الثلاثاء، 1 ديسمبر 2026، الساعة 10:00"),
            ("fa", "سه\u{200c}شنبه، 1 دسامبر 2026، ساعت 10:00"),
            ("ru", "вторник, 1 декабря 2026 г., 10:00"),
            ("uk", "вівторок, 1 грудня 2026 р., 10:00"),
            ("xy", "Dienstag, 1. Dezember 2026, 10:00 Uhr"),
        ] {
            assert_eq!(spell_out(at, lang), expected, "{lang}");
        }
    }
}
