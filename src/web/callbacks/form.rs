//! The form that puts a caller on the callback list: read once into a `NewCallback`, with a
//! message at each field that is wrong.

use chrono::{Days, NaiveDate};
use serde::Deserialize;

use super::super::auth::FieldError;
use super::super::i18n::Lang;
use crate::domain::callback::{NewCallback, TimeOfDay, Wish};
use crate::domain::citizen::{is_name, is_phone};
use crate::domain::ids::UnitId;
use crate::domain::language::Language;

/// The form as typed (kept to show it again with the errors).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CallbackForm {
    pub unit: String,
    pub name: String,
    pub phone: String,
    pub language: String,
    pub counsellor: String,
    pub clanguage: String,
    pub daypart: String,
    pub before: String,
    pub until: String,
    pub note: String,
}

impl CallbackForm {
    /// An empty form whose last day is two weeks from `today`.
    pub fn fresh(unit: &str, today: NaiveDate) -> Self {
        let until = today.checked_add_days(Days::new(14)).unwrap_or(today);
        Self { unit: unit.to_owned(), language: "de".into(), until: until.to_string(), ..Self::default() }
    }

    /// The entry (its `unit_id` is set by the service), or the errors per field.
    pub fn parse(&self, lang: Lang) -> Result<NewCallback, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if !is_name(name) {
            errors.push(FieldError::new("cb-name", lang.t("err.name")));
        }
        let phone = self.phone.trim();
        if !is_phone(phone) {
            errors.push(FieldError::new("cb-phone", lang.t("cb.err.phone")));
        }
        let until = crate::domain::time::parse_date(&self.until).ok();
        if until.is_none() {
            errors.push(FieldError::new("cb-until", lang.t("err.date")));
        }
        let before = match self.before.trim() {
            "" => None,
            text => {
                let parsed = crate::domain::time::parse_date(text).ok();
                if parsed.is_none() {
                    errors.push(FieldError::new("cb-before", lang.t("err.date")));
                }
                parsed
            }
        };
        // The booking note's rule: trimmed, a line break counted once, at most TEXT_MAX_CHARS.
        let note = crate::domain::citizen::free_text(Some(&self.note)).unwrap_or_else(|_| {
            errors.push(FieldError::new("cb-note", lang.t("err.long")));
            None
        });
        // A choice the selects do not offer is an error at its field, not "any" (which would wait
        // for another wish than the one sent).
        let counsellor_id = match self.counsellor.trim() {
            "" => None,
            id => id.parse().map_err(|_| errors.push(FieldError::new("cb-counsellor", lang.t("err.counsellor")))).ok(),
        };
        let time_of_day = match self.daypart.trim() {
            "" => None,
            part => TimeOfDay::parse(part)
                .ok_or_else(|| errors.push(FieldError::new("cb-daypart", lang.t("cb.err.daypart"))))
                .ok(),
        };
        let citizen_language = language("cb-language", &self.language, lang, &mut errors).unwrap_or(Language::GERMAN);
        let wished_language = language("cb-clanguage", &self.clanguage, lang, &mut errors);
        let (Some(until), true) = (until, errors.is_empty()) else { return Err(errors) };
        Ok(NewCallback {
            unit_id: UnitId::new(0),
            citizen_name: name.to_owned(),
            citizen_phone: phone.to_owned(),
            citizen_language,
            wish: Wish { counsellor_id, language: wished_language, time_of_day, before },
            until,
            note,
        })
    }
}

/// A supported language as the selects send it; empty is not chosen, anything else an error at `field`.
fn language(field: &'static str, value: &str, lang: Lang, errors: &mut Vec<FieldError>) -> Option<Language> {
    match value.trim() {
        "" => None,
        code => Language::parse(code).map_err(|_| errors.push(FieldError::new(field, lang.t("err.language")))).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_form_becomes_an_entry_and_a_bad_one_names_its_fields() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
        let mut form = CallbackForm::fresh("ads", today);
        form.name = " Frau Şencan ".into();
        form.phone = "0511 987654".into();
        form.daypart = "afternoon".into();
        form.clanguage = "tr".into();
        let new = form.parse(Lang::De).expect("valid");
        assert_eq!(new.citizen_name, "Frau Şencan");
        assert_eq!(new.until, NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"));
        assert_eq!(new.wish.time_of_day, Some(TimeOfDay::Afternoon));
        assert_eq!(new.wish.language.as_ref().map(Language::code), Some("tr"));
        let bad = CallbackForm { phone: "ruf an".into(), until: "morgen".into(), ..CallbackForm::default() };
        let fields: Vec<&str> = bad.parse(Lang::De).expect_err("invalid").iter().map(|e| e.field).collect();
        assert_eq!(fields, ["cb-name", "cb-phone", "cb-until"]);
        let forged = CallbackForm { counsellor: "abc".into(), daypart: "night".into(), ..form };
        let fields: Vec<&str> = forged.parse(Lang::De).expect_err("invalid").iter().map(|e| e.field).collect();
        assert_eq!(fields, ["cb-counsellor", "cb-daypart"], "not read as any");
    }
}
