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
use crate::domain::time::parse_local_time;

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
    /// The edited rule's `updated_at` as read, if the form carries one.
    pub(super) fn seen(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(self.seen.trim()).ok().map(|at| at.to_utc())
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
    pub(super) capacity: i32,
    pub(super) valid: String,
}

/// Parses the rule form, or says which fields are wrong (ids of the inputs).
pub(super) fn rule_fields(form: &RuleForm, unit_id: UnitId, lang: Lang) -> Result<RuleFields, Vec<FieldError>> {
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
    let buffer_minutes = number("rule-buffer", &form.buffer);
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
        until => Some(parse_date(until).unwrap_or_else(|| {
            errors.push(FieldError::new("rule-until", lang.t("err.date")));
            NaiveDate::MIN
        })),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RuleFields {
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
    })
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
    let from = rule.valid_from.format("%d.%m.%Y").to_string();
    RuleRow {
        id: rule.id.get(),
        counsellor,
        weekday: weekday_name(rule.weekday, lang).to_owned(),
        time: format!("{}–{}", rule.start_local.format("%H:%M"), rule.end_local.format("%H:%M")),
        slot: rule.slot_minutes,
        capacity: rule.capacity,
        valid: match rule.valid_until {
            Some(until) => format!("{from} – {}", until.format("%d.%m.%Y")),
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
        let fields = rule_fields(&rule_form(&rule), UnitId::new(1), Lang::De).unwrap();
        assert_eq!((fields.weekday, fields.start_local, fields.valid_until), (2, rule.start_local, None));
        let bad = RuleForm { slot: "viel".into(), start: "9 Uhr".into(), from: String::new(), ..rule_form(&rule) };
        let ids: Vec<_> = rule_fields(&bad, UnitId::new(1), Lang::En).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(ids, ["rule-slot", "rule-start", "rule-from"]);
    }
}
