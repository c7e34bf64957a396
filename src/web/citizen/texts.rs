//! The citizen page's texts: one JSON file per language (`templates/citizen/<lang>.json`, embedded
//! at build time), German the fallback; a test checks every language has every German key.

use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::mail::messages::AppointmentMail;
use crate::services::citizen_link::Opened;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/citizen_texts.rs"));
}

/// The fallback language.
const FALLBACK: &str = "de";
/// Languages written right to left.
const RTL: [&str; 4] = ["ar", "fa", "he", "ur"];

/// The texts of one language.
#[derive(Debug)]
pub struct Texts {
    pub lang: &'static str,
    map: BTreeMap<String, String>,
    fallback: Option<&'static Texts>,
}

impl Texts {
    /// The text for `key` (German when this language lacks it; the key when German does too).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        match (self.map.get(key), self.fallback) {
            (Some(text), _) => text,
            (None, Some(fallback)) => fallback.t(key),
            (None, None) => key,
        }
    }

    /// `rtl` or `ltr`.
    pub fn dir(&self) -> &'static str {
        if RTL.contains(&self.lang) { "rtl" } else { "ltr" }
    }
}

fn parse(lang: &'static str, json: &str, fallback: Option<&'static Texts>) -> Texts {
    let map = serde_json::from_str(json).unwrap_or_else(|err| {
        tracing::error!(lang, error = %err, "citizen page texts do not parse");
        BTreeMap::new()
    });
    Texts { lang, map, fallback }
}

static GERMAN: LazyLock<Texts> = LazyLock::new(|| {
    let json = embedded::TEXTS.iter().find(|(lang, _)| *lang == FALLBACK).map_or("{}", |(_, json)| json);
    parse(FALLBACK, json, None)
});

static ALL: LazyLock<Vec<Texts>> = LazyLock::new(|| {
    embedded::TEXTS
        .iter()
        .filter(|(lang, _)| *lang != FALLBACK)
        .map(|(lang, json)| parse(lang, json, Some(&GERMAN)))
        .collect()
});

/// The texts for a booking's language (German when there are none).
pub fn for_language(lang: &str) -> &'static Texts {
    ALL.iter().find(|t| t.lang == lang).unwrap_or(&GERMAN)
}

/// Every language's texts, German first.
pub fn every_language() -> impl Iterator<Item = &'static Texts> {
    std::iter::once(&*GERMAN).chain(ALL.iter())
}

/// The texts of the language a request's `Accept-Language` header asks for first among those the
/// page has; `None` when it asks for none of them.
pub fn asked_for(accept_language: &str) -> Option<&'static Texts> {
    static CODES: LazyLock<Vec<&'static str>> = LazyLock::new(|| every_language().map(|tx| tx.lang).collect());
    crate::domain::language::preferred(accept_language, &CODES).map(for_language)
}

/// The texts of `code` if the page has that language.
pub fn page_language(code: &str) -> Option<&'static Texts> {
    every_language().find(|tx| tx.lang == code)
}

/// A booking opened by its link as the citizen reads it (their page and the printed confirmation):
/// the texts of the language the visitor chose on the page (`chosen`), else of the booking's, the facts spelled out as in its emails, and the title, neutral for
/// confidential units exactly as their emails are.
pub fn appointment(opened: &Opened, tz: Tz, chosen: Option<&str>) -> (&'static Texts, AppointmentMail, String) {
    let booking = &opened.booking;
    let tx = chosen.and_then(page_language).unwrap_or_else(|| for_language(booking.citizen.language.code()));
    let facts = opened.mail_facts(true);
    let mail = AppointmentMail::new(&facts, tx.lang, tz);
    let title = match &mail.subject_unit {
        Some(unit) => format!("{}: {unit}", tx.t("heading")),
        None => tx.t("neutral_title").to_owned(),
    };
    (tx, mail, title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_german_text() {
        assert!(GERMAN.map.len() > 30, "the German texts load");
        for lang in ["en", "tr", "ar", "fa", "ru", "uk"] {
            let texts = for_language(lang);
            assert_eq!(texts.lang, lang);
            for key in GERMAN.map.keys() {
                assert!(texts.map.contains_key(key), "{lang} lacks {key}");
            }
        }
        assert_eq!(for_language("ar").dir(), "rtl");
        assert_eq!(for_language("fa").dir(), "rtl");
        assert_eq!(for_language("tr").dir(), "ltr");
        assert_eq!(for_language("xx").lang, "de");
        assert_eq!(page_language("fa").map(|tx| tx.lang), Some("fa"));
        assert!(page_language("xx").is_none() && page_language("").is_none());
        assert_eq!(asked_for("fr, uk;q=0.8, de;q=0.5").map(|tx| tx.lang), Some("uk"));
        assert_eq!(asked_for("fr").map(|tx| tx.lang), None);
        // Dari as Afghan browsers ask for it.
        assert_eq!(asked_for("fa-AF, de;q=0.5").map(|tx| tx.lang), Some("fa"));
    }

    #[test]
    fn a_file_name_in_a_right_to_left_text_is_isolated_left_to_right() {
        // Without the isolate the dot went to the other end: "(ics.)".
        for lang in ["ar", "fa"] {
            let texts = for_language(lang);
            for key in ["calendar", "calendar.cancelled"] {
                assert!(texts.t(key).ends_with("(\u{2066}.ics\u{2069})"), "{lang} {key}: {}", texts.t(key));
            }
        }
    }
}
