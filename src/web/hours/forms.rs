//! The forms of the unit leads' page as typed, their parsing into service input (local dates
//! and times in the service's zone), and rules and periods as listed.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::super::auth::FieldError;
use super::super::format;
use super::super::i18n::Lang;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::records::HoursRule;
use crate::domain::records::RuleFields;
use crate::domain::time::{local_to_utc, parse_local_time};

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
}

/// An absence or closure as typed.
#[derive(Deserialize, Default, Clone)]
pub(super) struct PeriodForm {
    #[serde(default)]
    pub(super) counsellor: String,
    #[serde(default)]
    pub(super) from: String,
    #[serde(default)]
    pub(super) from_time: String,
    #[serde(default)]
    pub(super) to: String,
    #[serde(default)]
    pub(super) to_time: String,
    #[serde(default)]
    pub(super) reason: String,
    /// `preview`: show the affected bookings without recording.
    #[serde(default)]
    pub(super) action: String,
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

/// An absence or closure as listed.
pub(super) struct PeriodRow {
    pub(super) id: i32,
    pub(super) who: String,
    pub(super) when: String,
    pub(super) reason: String,
    pub(super) deletable: bool,
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

/// Parses a period typed as local dates and optional times (empty: the whole day).
pub(super) fn parse_period(
    form: &PeriodForm,
    prefix: &str,
    tz: Tz,
    lang: Lang,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Vec<FieldError>> {
    let ids: [&'static str; 4] = if prefix == "absence" {
        ["absence-from", "absence-from-time", "absence-to", "absence-to-time"]
    } else {
        ["closure-from", "closure-from-time", "closure-to", "closure-to-time"]
    };
    let mut errors = Vec::new();
    let from = local_instant(&form.from, &form.from_time, false, tz).map_err(|wrong_time| {
        FieldError::new(
            if wrong_time { ids[1] } else { ids[0] },
            lang.t(if wrong_time { "err.time" } else { "err.date" }),
        )
    });
    let to = local_instant(&form.to, &form.to_time, true, tz).map_err(|wrong_time| {
        FieldError::new(
            if wrong_time { ids[3] } else { ids[2] },
            lang.t(if wrong_time { "err.time" } else { "err.date" }),
        )
    });
    match (from, to) {
        (Ok(from), Ok(to)) => return Ok((from, to)),
        (from, to) => errors.extend([from.err(), to.err()].into_iter().flatten()),
    }
    Err(errors)
}

/// A local date and optional time as an instant; an empty time is the start of the day (or,
/// with `end_of_day`, the start of the next). `Err(true)`: the time is wrong, else the date.
pub(super) fn local_instant(date: &str, time: &str, end_of_day: bool, tz: Tz) -> Result<DateTime<Utc>, bool> {
    let date = parse_date(date).ok_or(false)?;
    let (date, time) = match time.trim() {
        "" if end_of_day => (date.checked_add_days(Days::new(1)).ok_or(false)?, NaiveTime::MIN),
        "" => (date, NaiveTime::MIN),
        typed => (date, parse_local_time(typed).map_err(|_| true)?),
    };
    local_to_utc(date.and_time(time), tz).map_err(|_| true)
}

pub(super) fn parse_date(value: &str) -> Option<NaiveDate> {
    crate::domain::time::parse_date(value).ok()
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

pub(super) fn period(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    format!("{} – {}", format::short(from, tz, lang), format::short(to, tz, lang))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::RuleId;
    use chrono_tz::Europe::Berlin;

    #[test]
    fn a_period_without_times_covers_whole_local_days() {
        let form = PeriodForm { from: "2026-12-01".into(), to: "2026-12-02".into(), ..PeriodForm::default() };
        let (from, to) = parse_period(&form, "closure", Berlin, Lang::De).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-11-30T23:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-02T23:00:00+00:00");
    }

    #[test]
    fn wrong_dates_and_times_are_named_by_their_input() {
        let form = PeriodForm {
            from: "1.12.".into(),
            to: "2026-12-02".into(),
            to_time: "25:00".into(),
            ..PeriodForm::default()
        };
        let errors = parse_period(&form, "absence", Berlin, Lang::De).unwrap_err();
        let ids: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(ids, ["absence-from", "absence-to-time"]);
        // 02:30 on the last Sunday of March does not exist in Berlin: refused, not guessed.
        let gap = PeriodForm {
            from: "2026-03-29".into(),
            from_time: "02:30".into(),
            to: "2026-03-29".into(),
            ..PeriodForm::default()
        };
        let errors = parse_period(&gap, "closure", Berlin, Lang::De).unwrap_err();
        assert_eq!(errors[0].field, "closure-from-time");
    }

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
        };
        let fields = rule_fields(&rule_form(&rule), UnitId::new(1), Lang::De).unwrap();
        assert_eq!((fields.weekday, fields.start_local, fields.valid_until), (2, rule.start_local, None));
        let bad = RuleForm { slot: "viel".into(), start: "9 Uhr".into(), from: String::new(), ..rule_form(&rule) };
        let ids: Vec<_> = rule_fields(&bad, UnitId::new(1), Lang::En).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(ids, ["rule-slot", "rule-start", "rule-from"]);
    }
}
