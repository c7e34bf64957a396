//! Absences and closures as the unit leads' page (`hours`) and the counsellors' own absences page
//! (`absences`) share them: the form as typed and its parsing into an instant range (local dates
//! and times in the service's zone), a period as listed, the answer to an absence form (a check
//! of what it would affect, or the absence saved), and the field a refusal is shown at.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::auth::FieldError;
use super::error::WebResult;
use super::format;
use super::i18n::{Lang, service_message};
use super::views::Choice;
use crate::domain::DomainError;
use crate::domain::access::Actor;
use crate::domain::ids::StaffId;
use crate::domain::records::Unit;
use crate::domain::refusal::Refusal;
use crate::domain::time::{day_bounds, local_to_utc, parse_local_time};
use crate::services::ServiceError;
use crate::services::bookings::Book;
use crate::services::hours::{self, Affected};
use crate::services::preview;

pub(super) mod changed;

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

/// An absence or closure as listed.
pub(super) struct PeriodRow {
    pub(super) id: i32,
    pub(super) who: String,
    pub(super) when: String,
    pub(super) reason: String,
    /// Where its delete button posts; `None`: not deletable here.
    pub(super) delete: Option<String>,
}

/// An absence or closure whose deletion is asked to be confirmed (`web/period_delete.html`).
pub(super) struct PeriodAsk {
    /// `absences` or `closures`: the ids of the section's elements.
    pub(super) kind: &'static str,
    /// The question's text key.
    pub(super) title: &'static str,
    /// Whose or which, when, and why, as listed.
    pub(super) what: String,
    /// Where the confirmation posts, and the page that keeps it.
    pub(super) action: String,
    pub(super) keep: String,
}

impl PeriodAsk {
    /// The question for `row` (as listed on the page, with its delete address); `None` for one
    /// that is not deletable there.
    pub(super) fn new(kind: &'static str, row: &PeriodRow, keep: String) -> Option<Self> {
        let title = if kind == "closures" { "closure.delete.title" } else { "absence.delete.title" };
        let parts = [row.who.as_str(), row.when.as_str(), row.reason.as_str()];
        let what = parts.iter().filter(|p| !p.trim().is_empty()).copied().collect::<Vec<_>>().join(", ");
        Some(Self { kind, title, what, action: row.delete.clone()?, keep })
    }
}

/// The first field of the absence form (`web/absence_form.html`): whose absence (the leads'
/// page) or in which unit (one's own page).
pub(super) struct AbsenceChoice {
    /// The input's id, which errors name.
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    /// The label's text key.
    pub(super) label: &'static str,
    pub(super) choices: Vec<Choice>,
    pub(super) value: String,
    /// A select; else a hidden field with `value` (nothing to choose).
    pub(super) shown: bool,
}

/// What an absence form asked for and got.
pub(super) enum AbsenceAnswer {
    /// The fields at fault, with their messages.
    Wrong(Vec<FieldError>),
    /// A check: what the absence would affect (nothing recorded).
    Checked(Affected),
    /// Recorded: what it affects.
    Saved(Affected),
}

/// The notice of a checked absence or closure: what it would affect is listed below, or nothing.
pub(super) fn checked_notice(affected: &Affected) -> &'static str {
    if affected.is_empty() { "period.checked.none" } else { "period.checked" }
}

/// Checks (`action=preview`) or records the absence of `staff_id` that `form` describes.
///
/// # Errors
/// What the services refuse that belongs to no field of the form (`Forbidden`, failures).
pub(super) async fn answer_absence(
    deps: Book<'_>,
    actor: &Actor,
    unit: &Unit,
    staff_id: StaffId,
    form: &PeriodForm,
    lang: Lang,
) -> WebResult<AbsenceAnswer> {
    let (from, to) = match parse_period(form, "absence", deps.tz, lang) {
        Ok(period) => period,
        Err(errors) => return Ok(AbsenceAnswer::Wrong(errors)),
    };
    let answer = if form.action == "preview" {
        preview::affected_by_period(deps, actor, unit, Some(staff_id), from, to).await.map(AbsenceAnswer::Checked)
    } else {
        hours::add_absence(deps, actor, unit, staff_id, from, to, form.reason.trim())
            .await
            .map(|(_, affected)| AbsenceAnswer::Saved(affected))
    };
    answer.or_else(|err| Ok(AbsenceAnswer::Wrong(vec![refused_at("absence", lang, err)?])))
}

/// A service's refusal of an absence or closure (`prefix`) as a message at the input it is
/// about; anything else is no form's to show.
///
/// # Errors
/// `err` itself when it names no field of the form.
pub(super) fn refused_at(prefix: &str, lang: Lang, err: ServiceError) -> WebResult<FieldError> {
    let field = match &err {
        ServiceError::Invalid { field: "counsellor_id", .. } if prefix == "absence" => "absence-counsellor",
        ServiceError::Invalid { field: "reason", .. } if prefix == "absence" => "absence-reason",
        ServiceError::Invalid { field: "reason", .. } => "closure-reason",
        ServiceError::Invalid { .. } | ServiceError::Rule(Refusal::InThePast) if prefix == "absence" => "absence-to",
        ServiceError::Invalid { .. } | ServiceError::Rule(Refusal::InThePast) => "closure-to",
        _ => return Err(err.into()),
    };
    Ok(FieldError::new(field, service_message(lang, &err)))
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
    let at = |wrong: Wrong, date: &'static str, time: &'static str| match wrong {
        Wrong::Date => FieldError::new(date, lang.t("err.date")),
        Wrong::Time => FieldError::new(time, lang.t("err.time")),
        Wrong::Skipped => FieldError::new(time, lang.t("err.time.skipped")),
        Wrong::Twice => FieldError::new(time, lang.t("err.time.twice")),
    };
    let from = local_instant(&form.from, &form.from_time, false, tz).map_err(|wrong| at(wrong, ids[0], ids[1]));
    let to = local_instant(&form.to, &form.to_time, true, tz).map_err(|wrong| at(wrong, ids[2], ids[3]));
    // A reason typed is checked as saving would check it, so that a check ("Prüfen") that
    // passes is not followed by a refusal of the same form; an empty one is left to saving,
    // since a check may come before the reason is known.
    let reason = match form.reason.trim() {
        "" => Ok(()),
        typed => hours::period_reason(typed).map(|_| ()).map_err(|err| {
            FieldError::new(
                if prefix == "absence" { "absence-reason" } else { "closure-reason" },
                service_message(lang, &err),
            )
        }),
    };
    match (from, to, reason) {
        (Ok(from), Ok(to), Ok(())) => return Ok((from, to)),
        (from, to, reason) => errors.extend([from.err(), to.err(), reason.err()].into_iter().flatten()),
    }
    Err(errors)
}

/// What is wrong with a typed day and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrong {
    Date,
    Time,
    /// A time the clocks skip that day (they go forward).
    Skipped,
    /// A time that day has twice (the clocks go back).
    Twice,
}

/// A local date and optional time as an instant; an empty time is the start of the day (or,
/// with `end_of_day`, the start of the next; a day's start the clocks skip is the first
/// instant after it).
fn local_instant(date: &str, time: &str, end_of_day: bool, tz: Tz) -> Result<DateTime<Utc>, Wrong> {
    let date = parse_date(date).ok_or(Wrong::Date)?;
    let time = match time.trim() {
        "" if end_of_day => return Ok(day_bounds(date, tz).1),
        "" => return Ok(day_bounds(date, tz).0),
        typed => parse_local_time(typed).map_err(|_| Wrong::Time)?,
    };
    local_to_utc(date.and_time(time), tz).map_err(|err| match err {
        DomainError::AmbiguousLocalTime(_) => Wrong::Twice,
        _ => Wrong::Skipped,
    })
}

pub(super) fn parse_date(value: &str) -> Option<NaiveDate> {
    crate::domain::time::parse_date(value).ok()
}

/// A period as listed: whole local days by their dates, "Di, 08.12.2026 (ganztägig)" or
/// "Di, 08.12.2026 – Do, 10.12.2026 (ganztägig)"; with times, "Di, 08.12.2026, 10:00–12:00" on
/// one day, else both ends with their times (an end at midnight as 24:00 of the day before, the
/// day the period covers).
pub(super) fn period(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let (start, end) = (from.with_timezone(&tz), to.with_timezone(&tz));
    let midnight = |at: &DateTime<Tz>| at.time() == NaiveTime::MIN;
    // The last day the period covers: the day before an end at midnight.
    let last_day =
        if midnight(&end) { end.date_naive().pred_opt().unwrap_or(end.date_naive()) } else { end.date_naive() };
    if midnight(&start) && midnight(&end) && end > start {
        let whole = lang.t("period.whole_day");
        let first = start.date_naive();
        return if last_day <= first {
            format!("{} ({whole})", short_day(first, lang))
        } else {
            format!("{} – {} ({whole})", short_day(first, lang), short_day(last_day, lang))
        };
    }
    let end_time = if midnight(&end) { "24:00".to_owned() } else { end.format("%H:%M").to_string() };
    if start.date_naive() == last_day {
        return format!("{}–{end_time}", format::short(from, tz, lang));
    }
    format!("{} – {}, {end_time}", format::short(from, tz, lang), short_day(last_day, lang))
}

/// "Di, 08.12.2026" / "Tue, 8 Dec 2026": a day as `format::short` names it, without a time.
pub(super) fn short_day(date: NaiveDate, lang: Lang) -> String {
    format!("{}, {}", format::weekday_short(date, lang), format::date_numeric(date, lang))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(errors[0].message, Lang::De.t("err.time.skipped"), "told why, not asked for a time");
        // 02:30 on the last Sunday of October occurs twice: refused, saying so.
        let twice = PeriodForm { from_time: "08:00".into(), to_time: "02:30".into(), ..gap };
        let twice = PeriodForm { from: "2026-10-25".into(), to: "2026-10-25".into(), ..twice };
        let errors = parse_period(&twice, "closure", Berlin, Lang::En).unwrap_err();
        assert_eq!((errors[0].field, errors[0].message.as_str()), ("closure-to-time", Lang::En.t("err.time.twice")));
        assert_eq!(
            local_instant("2026-10-25", "", true, Berlin),
            Ok(day_bounds(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), Berlin).1)
        );
    }

    #[test]
    fn whole_days_are_listed_by_their_dates_and_times_only_when_there_are_times() {
        let at = |s: &str| {
            let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
            local_to_utc(local, Berlin).expect("instant")
        };
        let listed = |from, to, lang| period(at(from), at(to), Berlin, lang);
        assert_eq!(listed("2026-12-08 00:00", "2026-12-09 00:00", Lang::De), "Di, 08.12.2026 (ganztägig)");
        assert_eq!(
            listed("2026-12-08 00:00", "2026-12-11 00:00", Lang::De),
            "Di, 08.12.2026 – Do, 10.12.2026 (ganztägig)"
        );
        assert_eq!(listed("2026-12-08 00:00", "2026-12-09 00:00", Lang::En), "Tue, 8 Dec 2026 (whole day)");
        // Whole days across the change to summer time (a day of 23 hours).
        assert_eq!(listed("2026-03-29 00:00", "2026-03-30 00:00", Lang::De), "So, 29.03.2026 (ganztägig)");
        assert_eq!(listed("2026-12-08 10:00", "2026-12-08 12:30", Lang::De), "Di, 08.12.2026, 10:00–12:30");
        assert_eq!(
            listed("2026-12-08 10:00", "2026-12-10 12:00", Lang::De),
            "Di, 08.12.2026, 10:00 – Do, 10.12.2026, 12:00"
        );
        assert_eq!(
            listed("2026-12-08 10:00", "2026-12-11 00:00", Lang::De),
            "Di, 08.12.2026, 10:00 – Do, 10.12.2026, 24:00"
        );
        assert_eq!(listed("2026-12-08 10:00", "2026-12-09 00:00", Lang::De), "Di, 08.12.2026, 10:00–24:00");
    }

    #[test]
    fn a_refusal_is_shown_at_its_input_and_anything_else_is_no_forms() {
        let at = |prefix, err| refused_at(prefix, Lang::De, err).map(|e| e.field);
        assert_eq!(at("absence", ServiceError::invalid("reason", "too long")).ok(), Some("absence-reason"));
        assert_eq!(at("absence", ServiceError::invalid("counsellor_id", "no")).ok(), Some("absence-counsellor"));
        assert_eq!(at("closure", ServiceError::invalid("ends_at", "before")).ok(), Some("closure-to"));
        assert!(at("absence", ServiceError::Forbidden).is_err(), "a refusal of the person is a page of its own");
    }
}
