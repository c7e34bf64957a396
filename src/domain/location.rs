//! A location as an admin enters it: its name and address, and the floor and accessibility notes
//! the citizens' emails, page and print tell, in German and (optionally) each other language of
//! the emails. A language without a text of its own shows the German one.

use super::language::Language;
use super::text::check_name;

/// The floor and accessibility notes in one language other than German.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationText {
    /// A supported language's code, never `de`.
    pub language: String,
    /// Empty: the German floor is shown.
    pub floor: String,
    /// Empty: the German notes are shown.
    pub accessibility_notes: String,
}

/// A location's fields, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationFields {
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub floor: String,
    pub accessibility_notes: String,
    pub translations: Vec<LocationText>,
}

/// The longest floor text and the longest accessibility notes (characters).
pub const FLOOR_MAX_CHARS: usize = 100;
pub const NOTES_MAX_CHARS: usize = 500;

/// Why a location's fields are refused: the field (in `language` for a translation's) and what
/// to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// `name`, `street`, `postal_code`, `city`, `floor`, `accessibility_notes`, or `translations`
    /// (a language not supported, German, or one given twice).
    pub field: &'static str,
    /// The translation's language, for its `floor` or `accessibility_notes`.
    pub language: Option<String>,
    pub why: Why,
    /// In English, for the API.
    pub message: String,
}

/// What is wrong with a field, for the pages to say in their language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Empty,
    TooLong {
        max: usize,
    },
    /// A line break or another control character.
    NotOneLine,
    /// A translation's language: not supported, German, or given twice.
    Language,
    /// A postal code that is not five digits (German postal codes are).
    PostalCode,
}

fn refused(field: &'static str, why: Why, message: impl Into<String>) -> Refused {
    Refused { field, language: None, why, message: message.into() }
}

/// One line of `min` to `max` characters (after trimming), without control characters: every
/// text reaches emails, and the address the calendar entry's `LOCATION`.
fn line(field: &'static str, value: &str, min: usize, max: usize) -> Result<String, Refused> {
    let value = value.trim();
    let count = value.chars().count();
    if count < min {
        return Err(refused(field, Why::Empty, "must not be empty"));
    }
    if count > max {
        return Err(refused(field, Why::TooLong { max }, format!("use at most {max} characters")));
    }
    check_name(value).map_err(|message| refused(field, Why::NotOneLine, message))?;
    Ok(value.to_owned())
}

/// A German postal code: five digits (a typo in it goes into every citizen's email).
fn postal_code(value: &str) -> Result<String, Refused> {
    let code = line("postal_code", value, 1, 20)?;
    if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(refused("postal_code", Why::PostalCode, "a German postal code: five digits, e.g. 30161"))
    }
}

impl From<super::records::Location> for LocationFields {
    /// A stored location's fields, to change them.
    fn from(l: super::records::Location) -> Self {
        Self {
            name: l.name,
            street: l.street,
            postal_code: l.postal_code,
            city: l.city,
            floor: l.floor,
            accessibility_notes: l.accessibility_notes,
            translations: l.translations,
        }
    }
}

impl LocationFields {
    /// The fields trimmed and checked; translations without any text are dropped.
    ///
    /// # Errors
    /// The first field refused.
    pub fn checked(self) -> Result<Self, Refused> {
        let mut translations: Vec<LocationText> = Vec::new();
        for text in self.translations {
            let language = Language::parse(text.language.trim()).map_err(|_| {
                refused("translations", Why::Language, format!("{:?} is not a supported language", text.language))
            })?;
            let code = language.code().to_owned();
            if language == Language::GERMAN {
                return Err(refused(
                    "translations",
                    Why::Language,
                    "German is the location's own text, not a translation",
                ));
            }
            if translations.iter().any(|t| t.language == code) {
                return Err(refused("translations", Why::Language, format!("{code} is given twice")));
            }
            let in_language = |err: Refused| Refused { language: Some(code.clone()), ..err };
            let floor = line("floor", &text.floor, 0, FLOOR_MAX_CHARS).map_err(in_language)?;
            let notes =
                line("accessibility_notes", &text.accessibility_notes, 0, NOTES_MAX_CHARS).map_err(in_language)?;
            if !floor.is_empty() || !notes.is_empty() {
                translations.push(LocationText { language: code, floor, accessibility_notes: notes });
            }
        }
        translations.sort_by(|a, b| a.language.cmp(&b.language));
        Ok(Self {
            name: line("name", &self.name, 1, 200)?,
            street: line("street", &self.street, 1, 200)?,
            postal_code: postal_code(&self.postal_code)?,
            city: line("city", &self.city, 1, 100)?,
            floor: line("floor", &self.floor, 1, FLOOR_MAX_CHARS)?,
            accessibility_notes: line("accessibility_notes", &self.accessibility_notes, 0, NOTES_MAX_CHARS)?,
            translations,
        })
    }
}

/// The fields of a change of a location the citizens' place depends on: the address (`street`,
/// `postal_code`, `city`) and the `floor`, in German or in any other language (both are in the
/// calendar entry's place). The name is for staff; the accessibility notes are guidance the
/// emails and page written from then on tell, not where the appointment is.
pub fn place_changes(before: &super::records::Location, after: &super::records::Location) -> Vec<&'static str> {
    let floors = |l: &super::records::Location| {
        let mut floors: Vec<(String, String)> = l
            .translations
            .iter()
            .filter(|t| !t.floor.is_empty())
            .map(|t| (t.language.clone(), t.floor.clone()))
            .collect();
        floors.push((String::new(), l.floor.clone()));
        floors.sort();
        floors
    };
    [
        ("street", before.street != after.street),
        ("postal_code", before.postal_code != after.postal_code),
        ("city", before.city != after.city),
        ("floor", floors(before) != floors(after)),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

/// Of [`place_changes`], the fields that change the place as a reader in `lang` (a language
/// code) is told it: the address, and the floor as they read it (in their language, else in
/// German). A translation added where they read the German floor says the same floor in their
/// language: no change of place for them, and none for readers of other languages either. A
/// translation changed, or taken away (they read the German text from then on), is a change:
/// which of them is a correction of the wording and which a move cannot be told.
pub fn place_changes_for(
    before: &super::records::Location,
    after: &super::records::Location,
    lang: &str,
) -> Vec<&'static str> {
    let translated = |l: &super::records::Location| {
        l.translations.iter().any(|t| t.language == lang && !t.floor.is_empty()) && lang != "de"
    };
    let only_translated = before.floor == after.floor && !translated(before) && translated(after);
    [
        ("street", before.street != after.street),
        ("postal_code", before.postal_code != after.postal_code),
        ("city", before.city != after.city),
        ("floor", before.floor_in(lang) != after.floor_in(lang) && !only_translated),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> LocationFields {
        LocationFields {
            name: " Fachbereich Soziales ".into(),
            street: "Hamburger Allee 25".into(),
            postal_code: "30161".into(),
            city: "Hannover".into(),
            floor: "11. Stock".into(),
            accessibility_notes: "Aufzug vorhanden".into(),
            translations: vec![
                LocationText { language: "en".into(), floor: "11th floor".into(), accessibility_notes: String::new() },
                LocationText { language: "tr".into(), floor: " ".into(), accessibility_notes: String::new() },
            ],
        }
    }

    fn stored(fields: LocationFields) -> super::super::records::Location {
        let f = fields.checked().expect("valid");
        super::super::records::Location {
            id: crate::domain::ids::LocationId::new(1),
            name: f.name,
            street: f.street,
            postal_code: f.postal_code,
            city: f.city,
            floor: f.floor,
            accessibility_notes: f.accessibility_notes,
            translations: f.translations,
            version: 1,
        }
    }

    #[test]
    fn a_postal_code_is_five_digits() {
        for wrong in ["ABC", "1234", "301611", "3O161", "30 161"] {
            let refused = LocationFields { postal_code: wrong.into(), ..fields() }.checked().expect_err(wrong);
            assert_eq!((refused.field, refused.why), ("postal_code", Why::PostalCode), "{wrong}");
        }
        let kept = LocationFields { postal_code: " 30161 ".into(), ..fields() }.checked().expect("five digits");
        assert_eq!(kept.postal_code, "30161");
    }

    #[test]
    fn only_the_address_and_the_floor_in_any_language_are_a_change_of_the_place() {
        let before = stored(fields());
        let english = |floor: &str| LocationText {
            language: "en".into(),
            floor: floor.into(),
            accessibility_notes: "Lift available".into(),
        };
        let cases: Vec<(LocationFields, Vec<&str>)> = vec![
            (fields(), vec![]),
            (LocationFields { name: "Anderer Name".into(), ..fields() }, vec![]),
            (LocationFields { accessibility_notes: "Aufzug defekt".into(), ..fields() }, vec![]),
            (LocationFields { translations: vec![english("11th floor")], ..fields() }, vec![]),
            (
                LocationFields { street: "Am Markt 1".into(), city: "Laatzen".into(), ..fields() },
                vec!["street", "city"],
            ),
            (LocationFields { postal_code: "30159".into(), ..fields() }, vec!["postal_code"]),
            (LocationFields { floor: "12. Stock".into(), ..fields() }, vec!["floor"]),
            (LocationFields { translations: vec![english("12th floor")], ..fields() }, vec!["floor"]),
            (LocationFields { translations: vec![], ..fields() }, vec!["floor"]),
        ];
        for (after, expected) in cases {
            let after = stored(after);
            assert_eq!(place_changes(&before, &after), expected, "{after:?}");
        }
    }

    #[test]
    fn a_reader_is_told_of_a_change_of_the_place_as_they_read_it() {
        let english = |floor: &str| LocationText {
            language: "en".into(),
            floor: floor.into(),
            accessibility_notes: String::new(),
        };
        let turkish =
            LocationText { language: "tr".into(), floor: "11. kat".into(), accessibility_notes: String::new() };
        let before = stored(LocationFields { translations: vec![english("11th floor")], ..fields() });
        // (after, changed for an English, a Turkish, a German reader)
        let cases: Vec<(LocationFields, [Vec<&str>; 3])> = vec![
            // A Turkish text added: the same floor, in Turkish; nobody is told.
            (
                LocationFields { translations: vec![english("11th floor"), turkish.clone()], ..fields() },
                [vec![], vec![], vec![]],
            ),
            // The English text changed: the English readers only.
            (LocationFields { translations: vec![english("12th floor")], ..fields() }, [vec!["floor"], vec![], vec![]]),
            // The English text taken away: its readers read the German floor from now on.
            (LocationFields { translations: vec![], ..fields() }, [vec!["floor"], vec![], vec![]]),
            // The German floor changed and a Turkish text added: everybody.
            (
                LocationFields {
                    floor: "12. Stock".into(),
                    translations: vec![english("12th floor"), turkish],
                    ..fields()
                },
                [vec!["floor"], vec!["floor"], vec!["floor"]],
            ),
            // The German floor changed, the English text not: not the English readers.
            (
                LocationFields { floor: "12. Stock".into(), translations: vec![english("11th floor")], ..fields() },
                [vec![], vec!["floor"], vec!["floor"]],
            ),
            (
                LocationFields { street: "Am Markt 1".into(), translations: vec![english("11th floor")], ..fields() },
                [vec!["street"], vec!["street"], vec!["street"]],
            ),
        ];
        for (after, expected) in cases {
            let after = stored(after);
            let told = ["en", "tr", "de"].map(|lang| place_changes_for(&before, &after, lang));
            assert_eq!(told, expected, "{after:?}");
        }
    }

    #[test]
    fn fields_are_trimmed_and_empty_translations_dropped() {
        let checked = fields().checked().expect("valid");
        assert_eq!(checked.name, "Fachbereich Soziales");
        assert_eq!(checked.translations.len(), 1, "{:?}", checked.translations);
        assert_eq!(checked.translations[0].floor, "11th floor");
    }

    #[test]
    fn each_refusal_names_its_field() {
        let cases: Vec<(LocationFields, (&str, Option<&str>))> = vec![
            (LocationFields { name: "  ".into(), ..fields() }, ("name", None)),
            (LocationFields { floor: String::new(), ..fields() }, ("floor", None)),
            (LocationFields { city: "Han\nnover".into(), ..fields() }, ("city", None)),
            (
                LocationFields { accessibility_notes: "x".repeat(NOTES_MAX_CHARS + 1), ..fields() },
                ("accessibility_notes", None),
            ),
            (
                LocationFields {
                    translations: vec![LocationText {
                        language: "ar".into(),
                        floor: "الطابق\u{2066}11".into(),
                        accessibility_notes: String::new(),
                    }],
                    ..fields()
                },
                ("floor", Some("ar")),
            ),
            (
                LocationFields {
                    translations: vec![LocationText {
                        language: "de".into(),
                        floor: "x".into(),
                        accessibility_notes: String::new(),
                    }],
                    ..fields()
                },
                ("translations", None),
            ),
            (
                LocationFields {
                    translations: vec![LocationText {
                        language: "xx".into(),
                        floor: "x".into(),
                        accessibility_notes: String::new(),
                    }],
                    ..fields()
                },
                ("translations", None),
            ),
        ];
        for (fields, field) in cases {
            let refused = fields.checked().expect_err("refused");
            assert_eq!((refused.field, refused.language.as_deref()), field);
        }
    }
}
