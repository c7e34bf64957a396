//! The rule form of the unit leads' page as typed, its parsing into service input (local dates
//! and times in the service's zone), and rules as listed (absences and closures: `web::periods`).

use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;

use super::super::auth::FieldError;
use super::super::format;
use super::super::i18n::Lang;
use super::super::periods::parse_date;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::records::HoursRule;
use crate::domain::records::RuleFields;
use crate::domain::schedule::RuleFault;
use crate::domain::time::parse_local_time;
use crate::services::hours::{self, RuleProblem};

/// The rule form as typed (all text, so what was typed comes back on errors).
#[derive(Deserialize, Default, Clone)]
pub(super) struct RuleForm {
    #[serde(default)]
    pub(super) id: String,
    #[serde(default)]
    pub(super) counsellor: String,
    #[serde(default)]
    pub(super) weekday: String,
    #[serde(default)]
    pub(super) start: String,
    #[serde(default)]
    pub(super) end: String,
    #[serde(default)]
    pub(super) slot: String,
    #[serde(default)]
    pub(super) buffer: String,
    #[serde(default)]
    pub(super) capacity: String,
    #[serde(default)]
    pub(super) from: String,
    #[serde(default)]
    pub(super) until: String,
    #[serde(default)]
    pub(super) action: String,
    /// The edited rule's `updated_at` as the form was filled from it (RFC 3339): a save from an
    /// older reading is refused.
    #[serde(default)]
    pub(super) seen: String,
}

impl RuleForm {
    /// The edited rule's `updated_at` as read. A form without a readable one (the page always
    /// writes it; changed by hand) counts as read before any save, so a save of an existing rule
    /// from it is refused as changed meanwhile rather than let past the check.
    pub(super) fn seen(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let read = chrono::DateTime::parse_from_rfc3339(self.seen.trim()).ok().map(|at| at.to_utc());
        Some(read.unwrap_or(chrono::DateTime::UNIX_EPOCH))
    }
}

/// The form field for a rule's `updated_at`.
pub(super) fn seen_field(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A rule as listed.
pub(super) struct RuleRow {
    pub(super) id: i32,
    pub(super) counsellor: String,
    pub(super) weekday: String,
    pub(super) time: String,
    pub(super) slot: i32,
    pub(super) buffer: i32,
    pub(super) capacity: i32,
    pub(super) valid: String,
}

/// The rule form's inputs in the order of the form, by the service's names of their fields.
const INPUTS: [(&str, &str); 10] = [
    ("counsellor_id", "rule-counsellor"),
    ("weekday", "rule-weekday"),
    ("start", "rule-start"),
    ("end", "rule-end"),
    ("slot_minutes", "rule-slot"),
    ("buffer_minutes", "rule-buffer"),
    ("capacity", "rule-capacity"),
    ("valid_from", "rule-from"),
    ("valid_until", "rule-until"),
    // The rule as a whole (what no field of its own says, e.g. overlapping hours).
    ("counselling_hours", "rule-start"),
];

/// The input of the service's field `field`, if the form has one.
pub(super) fn input_of(field: &str) -> Option<&'static str> {
    INPUTS.iter().find(|(name, _)| *name == field).map(|(_, input)| *input)
}

/// Orders `errors` as their inputs stand in the form (the error summary follows the form).
pub(super) fn in_form_order(errors: &mut [FieldError]) {
    errors.sort_by_key(|e| INPUTS.iter().position(|(_, input)| *input == e.field));
}

/// Parses the rule form into service input and the fields that could not be read (ids of the
/// inputs); a field that could not be read holds a stand-in. An empty break is none.
pub(super) fn rule_fields(form: &RuleForm, unit_id: UnitId, lang: Lang) -> (RuleFields, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut number = |id: &'static str, value: &str| -> i32 {
        value.trim().parse::<i32>().unwrap_or_else(|_| {
            errors.push(FieldError::new(id, lang.t("err.number")));
            0
        })
    };
    let counsellor_id = number("rule-counsellor", &form.counsellor);
    let weekday = number("rule-weekday", &form.weekday);
    let slot_minutes = number("rule-slot", &form.slot);
    let buffer_minutes = match form.buffer.trim() {
        "" => 0,
        typed => number("rule-buffer", typed),
    };
    let capacity = number("rule-capacity", &form.capacity);
    let mut time = |id: &'static str, value: &str| -> NaiveTime {
        parse_local_time(value.trim()).unwrap_or_else(|_| {
            errors.push(FieldError::new(id, lang.t("err.time")));
            NaiveTime::MIN
        })
    };
    let start_local = time("rule-start", &form.start);
    let end_local = time("rule-end", &form.end);
    let valid_from = parse_date(&form.from).unwrap_or_else(|| {
        errors.push(FieldError::new("rule-from", lang.t("err.date")));
        NaiveDate::MIN
    });
    let valid_until = match form.until.trim() {
        "" => None,
        until => parse_date(until).or_else(|| {
            errors.push(FieldError::new("rule-until", lang.t("err.date")));
            None
        }),
    };
    let fields = RuleFields {
        unit_id,
        counsellor_id: StaffId::new(counsellor_id),
        weekday: u8::try_from(weekday).unwrap_or(0),
        start_local,
        end_local,
        slot_minutes,
        buffer_minutes,
        capacity,
        valid_from,
        valid_until,
    };
    (fields, errors)
}

/// What is wrong with the rule's values, at their inputs, beside the inputs that could not be
/// read (`unread`): a problem at one of those, or judged against one, is left out. `old` is the
/// rule being changed; hours valid only before `today` are refused as saving refuses them.
pub(super) fn rule_problems_at_inputs(
    fields: &RuleFields,
    unread: &[FieldError],
    old: Option<&HoursRule>,
    today: NaiveDate,
    lang: Lang,
) -> Vec<FieldError> {
    let unread: Vec<&str> =
        INPUTS.iter().filter(|(_, input)| unread.iter().any(|e| e.field == *input)).map(|(name, _)| *name).collect();
    let mut problems = hours::rule_problems_beside(fields, &unread);
    let until_read = !unread.contains(&"valid_until");
    if until_read
        && hours::until_in_the_past(fields, old, today)
        && !problems.iter().any(|p| p.field() == "valid_until")
    {
        problems.push(RuleProblem::UntilInThePast);
    }
    problems.into_iter().filter_map(|p| Some(FieldError::new(input_of(p.field())?, lang.t(problem_text(p))))).collect()
}

/// The text key of a rule's problem: its reason, not only its field.
fn problem_text(problem: RuleProblem) -> &'static str {
    match problem {
        RuleProblem::Weekday => "field.weekday",
        RuleProblem::SlotMinutes | RuleProblem::Hours(RuleFault::SlotNotWholeMinutes | RuleFault::SlotTooShort) => {
            "field.slot_minutes"
        }
        RuleProblem::Hours(RuleFault::SlotLongerThanHours) => "hours.err.slot_too_long",
        RuleProblem::BufferMinutes
        | RuleProblem::Hours(RuleFault::BufferNotWholeMinutes | RuleFault::BufferNegative | RuleFault::BufferTooLong) => {
            "field.buffer_minutes"
        }
        RuleProblem::Capacity => "field.capacity",
        RuleProblem::Hours(RuleFault::StartNotWholeMinute | RuleFault::EndNotWholeMinute) => "err.time",
        RuleProblem::Hours(RuleFault::EndNotAfterStart) => "hours.err.end_after_start",
        RuleProblem::Hours(RuleFault::UntilBeforeFrom) => "hours.err.until_before_from",
        RuleProblem::UntilInThePast => "hours.err.until_past",
    }
}

pub(super) fn rule_form(rule: &HoursRule) -> RuleForm {
    RuleForm {
        id: rule.id.to_string(),
        counsellor: rule.counsellor_id.to_string(),
        weekday: rule.weekday.to_string(),
        start: rule.start_local.format("%H:%M").to_string(),
        end: rule.end_local.format("%H:%M").to_string(),
        slot: rule.slot_minutes.to_string(),
        buffer: rule.buffer_minutes.to_string(),
        capacity: rule.capacity.to_string(),
        from: rule.valid_from.format("%Y-%m-%d").to_string(),
        until: rule.valid_until.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        action: String::new(),
        seen: seen_field(rule.updated_at),
    }
}

/// A rule as listed, with its counsellor as `counsellor` names them.
pub(super) fn rule_row(rule: &HoursRule, counsellor: String, lang: Lang) -> RuleRow {
    let from = super::super::format::date_numeric(rule.valid_from, lang);
    RuleRow {
        id: rule.id.get(),
        counsellor,
        weekday: weekday_name(rule.weekday, lang).to_owned(),
        time: format!("{}–{}", rule.start_local.format("%H:%M"), rule.end_local.format("%H:%M")),
        slot: rule.slot_minutes,
        buffer: rule.buffer_minutes,
        capacity: rule.capacity,
        valid: match rule.valid_until {
            Some(until) => format!("{from} – {}", super::super::format::date_numeric(until, lang)),
            None => format!("{} {from}", lang.t("hours.from")),
        },
    }
}

pub(super) fn weekday_name(iso: u8, lang: Lang) -> &'static str {
    format::weekday_name(u32::from(iso), lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::RuleId;

    #[test]
    fn a_rule_form_round_trips_and_reports_every_wrong_field() {
        let rule = HoursRule {
            id: RuleId::new(7),
            unit_id: UnitId::new(1),
            counsellor_id: StaffId::new(3),
            weekday: 2,
            start_local: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end_local: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            slot_minutes: 60,
            buffer_minutes: 15,
            capacity: 1,
            valid_from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            valid_until: None,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        let (fields, unread) = rule_fields(&rule_form(&rule), UnitId::new(1), Lang::De);
        assert!(unread.is_empty());
        assert_eq!((fields.weekday, fields.start_local, fields.valid_until), (2, rule.start_local, None));
        let bad = RuleForm { slot: "viel".into(), start: "9 Uhr".into(), from: String::new(), ..rule_form(&rule) };
        let ids: Vec<_> = rule_fields(&bad, UnitId::new(1), Lang::En).1.iter().map(|e| e.field).collect();
        assert_eq!(ids, ["rule-slot", "rule-start", "rule-from"]);
        // An empty break is none.
        let (fields, unread) =
            rule_fields(&RuleForm { buffer: " ".into(), ..rule_form(&rule) }, UnitId::new(1), Lang::De);
        assert_eq!((fields.buffer_minutes, unread.len()), (0, 0));
    }

    #[test]
    fn every_problem_is_named_at_its_input_unless_it_judges_a_field_that_could_not_be_read() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let form = RuleForm {
            counsellor: "3".into(),
            weekday: "2".into(),
            start: "12:00".into(),
            end: "10:00".into(),
            slot: "0".into(),
            buffer: "-5".into(),
            capacity: "0".into(),
            from: "2026-12-01".into(),
            until: "2026-11-30".into(),
            ..RuleForm::default()
        };
        let at = |form: &RuleForm| {
            let (fields, unread) = rule_fields(form, UnitId::new(1), Lang::De);
            let mut errors = rule_problems_at_inputs(&fields, &unread, None, today, Lang::De);
            errors.extend(unread);
            in_form_order(&mut errors);
            errors.iter().map(|e| (e.field, e.message.clone())).collect::<Vec<_>>()
        };
        let named = at(&form);
        let ids: Vec<_> = named.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["rule-end", "rule-slot", "rule-buffer", "rule-capacity", "rule-until"]);
        assert_eq!(named[0].1, "Das Ende muss nach dem Beginn liegen.");
        assert_eq!(named[4].1, "„Gültig bis“ darf nicht vor „Gültig ab“ liegen.");
        // A start that could not be read: the end is not judged against it.
        let ids: Vec<_> =
            at(&RuleForm { start: "früh".into(), ..form.clone() }).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["rule-start", "rule-slot", "rule-buffer", "rule-capacity", "rule-until"]);
        // Valid only before today.
        let past = RuleForm {
            start: "09:00".into(),
            end: "12:00".into(),
            slot: "60".into(),
            buffer: String::new(),
            capacity: "1".into(),
            until: "2026-12-05".into(),
            ..form.clone()
        };
        let named = at(&past);
        assert_eq!(named.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ["rule-until"]);
        assert!(named[0].1.contains("in der Vergangenheit"), "{named:?}");
        assert!(at(&RuleForm { until: "2026-12-07".into(), ..past }).is_empty(), "until today is fine");
    }
}
