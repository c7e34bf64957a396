//! Languages: the one list of languages the appointment book supports (citizens' languages,
//! interpreters, counsellors and units, callback wishes), parsed alike by the JSON API and the pages.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::DomainError;

/// The supported languages: ISO 639 code, German, English and own name, in the order the forms
/// list them (the form's former sixteen and the three more the emails could name). Emails and the
/// citizen's page exist in a subset (`templates/email`, `templates/citizen`: de, en, tr, ar, fa,
/// ru, uk); the others get German there.
const SUPPORTED: &[(&str, &str, &str, &str)] = &[
    ("de", "Deutsch", "German", "Deutsch"),
    ("en", "Englisch", "English", "English"),
    ("tr", "Türkisch", "Turkish", "Türkçe"),
    ("ar", "Arabisch", "Arabic", "العربية"),
    ("fa", "Persisch", "Persian", "فارسی"),
    ("ru", "Russisch", "Russian", "Русский"),
    ("uk", "Ukrainisch", "Ukrainian", "Українська"),
    ("pl", "Polnisch", "Polish", "Polski"),
    ("ro", "Rumänisch", "Romanian", "Română"),
    ("bg", "Bulgarisch", "Bulgarian", "Български"),
    ("bs", "Bosnisch", "Bosnian", "Bosanski"),
    ("hr", "Kroatisch", "Croatian", "Hrvatski"),
    ("sr", "Serbisch", "Serbian", "Српски"),
    ("rom", "Romanes", "Romani", "Romani"),
    ("fr", "Französisch", "French", "Français"),
    ("es", "Spanisch", "Spanish", "Español"),
    ("ku", "Kurdisch", "Kurdish", "Kurdî"),
    ("ti", "Tigrinya", "Tigrinya", "ትግርኛ"),
    ("so", "Somali", "Somali", "Soomaali"),
];

/// A language by its ISO 639 code. Input is parsed against the supported list
/// ([`Language::parse`]); values read back from the database are taken as stored
/// ([`Language::from_stored`]), since earlier versions of the API accepted any two or three letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Language(Cow<'static, str>);

impl Language {
    /// German, the default language of a citizen.
    pub const GERMAN: Self = Self(Cow::Borrowed("de"));

    /// A supported language from its code.
    ///
    /// # Errors
    /// `DomainError::UnsupportedLanguage` for any other text.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        SUPPORTED
            .iter()
            .find(|(known, ..)| *known == code)
            .map(|(known, ..)| Self(Cow::Borrowed(known)))
            .ok_or_else(|| DomainError::UnsupportedLanguage(code.chars().take(20).collect()))
    }

    /// A language as stored, supported or not.
    pub fn from_stored(code: &str) -> Self {
        Self::parse(code).unwrap_or_else(|_| Self(Cow::Owned(code.to_owned())))
    }

    /// Every supported language, in the order the forms list them.
    pub fn all() -> impl Iterator<Item = Self> {
        SUPPORTED.iter().map(|(code, ..)| Self(Cow::Borrowed(code)))
    }

    /// The ISO 639 code (`tr`).
    pub fn code(&self) -> &str {
        &self.0
    }

    /// The German and English name of a supported language ("Türkisch", "Turkish").
    pub fn names(&self) -> Option<(&'static str, &'static str)> {
        SUPPORTED.iter().find(|(code, ..)| *code == self.code()).map(|(_, de, en, _)| (*de, *en))
    }

    /// The language's own name ("Türkçe") of a supported language.
    pub fn endonym(&self) -> Option<&'static str> {
        SUPPORTED.iter().find(|(code, ..)| *code == self.code()).map(|(.., own)| *own)
    }

    /// A stored comma-separated list (a counsellor's or unit's languages), as stored.
    pub fn split_stored(stored: &str) -> Vec<Self> {
        stored.split(',').map(str::trim).filter(|code| !code.is_empty()).map(Self::from_stored).collect()
    }

    /// The comma-separated text a list is stored as, each language once (where it first occurs):
    /// a list sent with repeats (`["de", "de", …]`, as many as a request's body holds) is stored
    /// as at most the supported languages.
    pub fn join_stored(languages: &[Self]) -> String {
        let mut codes: Vec<&str> = Vec::new();
        for code in languages.iter().map(Self::code) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes.join(",")
    }
}

/// The first of `offered` (ISO 639 codes) that a request's `Accept-Language` header asks for, by
/// its weights (`tr-TR,tr;q=0.9,en;q=0.5`: `tr`); `None` when it asks for none of them (also for
/// `*` alone, an empty or a garbled header). Regions are ignored: `de-AT` asks for `de`.
pub fn preferred<'a>(accept_language: &str, offered: &[&'a str]) -> Option<&'a str> {
    let mut asked: Vec<(u16, &str)> = accept_language
        .split(',')
        .take(MAX_RANGES)
        .filter_map(|range| {
            let mut parts = range.split(';');
            let tag = parts.next()?.trim();
            let weight = parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), weight)?;
            let code = tag.split('-').next()?.trim();
            // Dari, as ISO 639-3 names it (browsers mostly send `fa-AF`): written Persian.
            Some((weight, if code.eq_ignore_ascii_case("prs") { "fa" } else { code }))
        })
        .filter(|(weight, _)| *weight > 0)
        .collect();
    // Stable: of equal weight, the one named first.
    asked.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    asked.into_iter().find_map(|(_, code)| offered.iter().find(|o| o.eq_ignore_ascii_case(code)).copied())
}

/// At most this many ranges of a header are read (a browser sends a handful).
const MAX_RANGES: usize = 20;

/// A weight (`0.8`, `1`, `0.125`) in thousandths; `None` when it is none.
fn weight(q: &str) -> Option<u16> {
    let (whole, fraction) = q.trim().split_once('.').unwrap_or((q.trim(), ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Input (JSON bodies, query strings) accepts only the supported codes.
impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = Cow::<str>::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Language {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Language, ISO 639 code"))
            .enum_values(Some(SUPPORTED.iter().map(|(code, ..)| *code)))
            .into()
    }
}

impl ToSchema for Language {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_supported_codes_parse_but_stored_ones_are_read_as_they_are() {
        assert_eq!(Language::parse("tr").map(|l| l.names()), Ok(Some(("Türkisch", "Turkish"))));
        assert_eq!(Language::parse("rom").map(|l| l.code().to_owned()), Ok("rom".to_owned()));
        for bad in ["", "xx", "TR", " tr", "deu", "de,en"] {
            assert!(Language::parse(bad).is_err(), "{bad:?} must be refused");
        }
        let old = Language::from_stored("pt");
        assert_eq!((old.code(), old.names()), ("pt", None));
        assert_eq!(Language::all().count(), 19);
    }

    #[test]
    fn a_stored_list_reads_back_and_is_written_as_before() {
        let list = Language::split_stored("de, tr,,ar");
        assert_eq!(list, vec![Language::GERMAN, Language::from_stored("tr"), Language::from_stored("ar")]);
        assert_eq!(Language::join_stored(&list), "de,tr,ar");
    }

    #[test]
    fn a_list_with_repeats_is_stored_with_each_language_once_in_its_first_place() {
        let list: Vec<Language> =
            ["tr", "de", "tr", "de", "ar"].into_iter().map(|code| Language::parse(code).expect("supported")).collect();
        assert_eq!(Language::join_stored(&list), "tr,de,ar");
        let many = vec![Language::GERMAN; 10_000];
        assert_eq!(Language::join_stored(&many), "de");
    }

    #[test]
    fn the_preferred_language_follows_the_headers_weights_among_those_offered() {
        let offered = ["de", "en", "tr", "ar", "fa", "ru", "uk"];
        for (header, expected) in [
            ("tr", Some("tr")),
            ("prs, de;q=0.5", Some("fa")),
            ("fa-AF", Some("fa")),
            ("ar-EG,ar;q=0.9", Some("ar")),
            ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", Some("en")),
            ("en;q=0.5, uk", Some("uk")),
            ("RU-ru", Some("ru")),
            ("de-AT, tr", Some("de")),
            ("tr;q=0, en;q=0.1", Some("en")),
            ("fr, *", None),
            ("", None),
            ("tr;q=2, ar;q=abc, en;q=0.0001", None),
        ] {
            assert_eq!(preferred(header, &offered), expected, "{header:?}");
        }
    }

    #[test]
    fn json_input_accepts_only_supported_codes_and_writes_the_code() {
        let parsed: Result<Language, _> = serde_json::from_str("\"uk\"");
        assert_eq!(parsed.ok(), Some(Language::from_stored("uk")));
        assert!(serde_json::from_str::<Language>("\"zz\"").is_err());
        assert_eq!(serde_json::to_string(&Language::from_stored("pt")).ok(), Some("\"pt\"".to_owned()));
    }
}
