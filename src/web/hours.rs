//! The unit leads' pages: weekly counselling hours (with a preview of their slots and the
//! bookings a change would leave outside them), absences and closures of their unit.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::auth::FieldError;
use super::error::{WebError, WebResult};
use super::format;
use super::i18n::{Lang, service_message};
use super::page::{CsrfForm, Page, Staff};
use super::views::{BookingRow, Choice, counsellor_name};
use crate::domain::records::{Booking, HoursRule, StaffMember, Unit};
use crate::domain::time::{local_date, local_to_utc, parse_local_time};
use crate::services::preview::{self, RulePreview};
use crate::services::{ServiceError, desk, hours};
use crate::state::AppState;
use crate::store::schedule::RuleFields;

/// Days of slots shown in a rule's preview.
const PREVIEW_DAYS: u64 = 13;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hours", get(show))
        .route("/hours/{unit}/rules", post(save_rule))
        .route("/hours/{unit}/rules/{id}/delete", post(delete_rule))
        .route("/hours/{unit}/absences", post(add_absence))
        .route("/hours/{unit}/absences/{id}/delete", post(delete_absence))
        .route("/hours/{unit}/closures", post(add_closure))
        .route("/hours/{unit}/closures/{id}/delete", post(delete_closure))
}

/// The rule form as typed (all text, so what was typed comes back on errors).
#[derive(Deserialize, Default, Clone)]
struct RuleForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    counsellor: String,
    #[serde(default)]
    weekday: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    slot: String,
    #[serde(default)]
    buffer: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    action: String,
}

/// An absence or closure as typed.
#[derive(Deserialize, Default, Clone)]
struct PeriodForm {
    #[serde(default)]
    counsellor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    from_time: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    to_time: String,
    #[serde(default)]
    reason: String,
}

/// A rule as listed.
struct RuleRow {
    id: i32,
    counsellor: String,
    weekday: String,
    time: String,
    slot: i32,
    capacity: i32,
    valid: String,
}

/// An absence or closure as listed.
struct PeriodRow {
    id: i32,
    who: String,
    when: String,
    reason: String,
    deletable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/hours.html")]
struct HoursPage {
    p: Page,
    units: Vec<Choice>,
    unit: String,
    unit_name: String,
    counsellors: Vec<Choice>,
    weekdays: Vec<Choice>,
    rules: Vec<RuleRow>,
    absences: Vec<PeriodRow>,
    closures: Vec<PeriodRow>,
    rule: RuleForm,
    absence: PeriodForm,
    closure: PeriodForm,
    errors: Vec<FieldError>,
    notice: &'static str,
    preview: Option<Vec<String>>,
    affected: Vec<BookingRow>,
}

impl HoursPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What a request adds to the page: typed forms, errors, a notice, a preview, a warning.
#[derive(Default)]
struct Outcome {
    rule: Option<RuleForm>,
    absence: PeriodForm,
    closure: PeriodForm,
    errors: Vec<FieldError>,
    notice: &'static str,
    preview: Option<Vec<DateTime<Utc>>>,
    affected: Vec<Booking>,
}

impl Outcome {
    fn notice(notice: &'static str, affected: Vec<Booking>) -> Self {
        Self { notice, affected, ..Self::default() }
    }
}

#[derive(Deserialize)]
struct HoursQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    edit: String,
}

async fn show(State(state): State<AppState>, staff: Staff, Query(q): Query<HoursQuery>) -> WebResult<HoursPage> {
    let deps = state.book();
    let unit = if q.unit.is_empty() {
        hours::first_unit_to_lead(deps, &staff.actor).await?
    } else {
        hours::unit_to_lead(deps, &staff.actor, &q.unit).await?
    };
    let rule = match q.edit.parse::<i32>() {
        Ok(id) => {
            let rules = hours::list_rules(deps, &staff.actor, &unit).await?;
            Some(rules.iter().find(|r| r.id == id).map(rule_form).ok_or(WebError::NotFound)?)
        }
        Err(_) => None,
    };
    page(&state, staff, unit, Outcome { rule, ..Outcome::default() }).await
}

/// Renders the page with 200, or 422 when there are errors.
async fn respond(state: &AppState, staff: Staff, unit: Unit, outcome: Outcome) -> WebResult<Response> {
    let status = if outcome.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, page(state, staff, unit, outcome).await?).into_response())
}

async fn page(state: &AppState, staff: Staff, unit: Unit, outcome: Outcome) -> WebResult<HoursPage> {
    let deps = state.book();
    let (actor, lang, tz) = (&staff.actor, staff.page.lang, deps.tz);
    let now = deps.clock.now();
    let members = desk::unit_staff(deps, &unit).await?;
    let rules = hours::list_rules(deps, actor, &unit).await?;
    let absences = hours::list_absences(deps, actor, &unit, now, now + TimeDelta::days(400)).await?;
    let closures = hours::list_closures(deps, actor, &unit, now, now + TimeDelta::days(400)).await?;
    let units = hours::units_to_lead(deps, actor).await?;
    let rule = outcome.rule.unwrap_or_else(|| RuleForm {
        slot: unit.default_slot_minutes.to_string(),
        buffer: "0".into(),
        capacity: "1".into(),
        from: local_date(now, tz).format("%Y-%m-%d").to_string(),
        ..RuleForm::default()
    });
    Ok(HoursPage {
        units: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
        counsellors: members
            .iter()
            .map(|m| Choice { value: m.id.to_string(), label: m.display_name.clone() })
            .collect(),
        weekdays: (1..=7u8).map(|d| Choice { value: d.to_string(), label: weekday_name(d, lang).to_owned() }).collect(),
        rules: rules.iter().map(|r| rule_row(r, &members, lang)).collect(),
        absences: absences
            .iter()
            .map(|a| PeriodRow {
                id: a.id,
                who: counsellor_name(&members, a.staff_id),
                when: period(a.starts_at, a.ends_at, tz, lang),
                reason: a.reason.clone(),
                deletable: true,
            })
            .collect(),
        closures: closures
            .iter()
            .map(|c| PeriodRow {
                id: c.id,
                who: if c.unit_id.is_none() { lang.t("period.whole_department").to_owned() } else { unit.name.clone() },
                when: period(c.starts_at, c.ends_at, tz, lang),
                reason: c.reason.clone(),
                deletable: c.unit_id == Some(unit.id),
            })
            .collect(),
        rule,
        absence: outcome.absence,
        closure: outcome.closure,
        errors: outcome.errors,
        notice: outcome.notice,
        preview: outcome.preview.map(|starts| starts.iter().map(|at| format::short(*at, tz, lang)).collect()),
        affected: outcome.affected.iter().map(|b| BookingRow::new(b, &members, tz, lang)).collect(),
        unit: unit.slug,
        unit_name: unit.name,
        p: staff.page.titled("hours.title"),
    })
}

async fn save_rule(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let id = form.id.parse::<i32>().ok();
    let fields = match rule_fields(&form, unit.id, staff.page.lang) {
        Ok(fields) => fields,
        Err(errors) => {
            return respond(&state, staff, unit, Outcome { rule: Some(form), errors, ..Outcome::default() }).await;
        }
    };
    let preview = preview::preview_rule(deps, &staff.actor, &unit, id, &fields, PREVIEW_DAYS).await;
    let outcome = match preview {
        Err(err) => rule_error(&staff, form, err)?,
        Ok(RulePreview { starts, affected }) if form.action == "preview" => {
            Outcome { rule: Some(form), preview: Some(starts), affected, ..Outcome::default() }
        }
        Ok(RulePreview { affected, .. }) => {
            match hours::save_rule(deps, &staff.actor, &unit, id, fields, state.horizon_until()).await {
                Ok(_) => Outcome::notice("saved", affected),
                Err(err) => rule_error(&staff, form, err)?,
            }
        }
    };
    respond(&state, staff, unit, outcome).await
}

fn rule_error(staff: &Staff, form: RuleForm, err: ServiceError) -> WebResult<Outcome> {
    let field = match &err {
        ServiceError::Invalid { field: "weekday", .. } => "rule-weekday",
        ServiceError::Invalid { field: "slot_minutes", .. } => "rule-slot",
        ServiceError::Invalid { field: "capacity", .. } => "rule-capacity",
        ServiceError::Invalid { field: "counsellor_id", .. } => "rule-counsellor",
        ServiceError::Invalid { .. } | ServiceError::Conflict { .. } | ServiceError::Rule { .. } => "rule-start",
        _ => return Err(err.into()),
    };
    let errors = vec![FieldError::new(field, service_message(staff.page.lang, &err))];
    Ok(Outcome { rule: Some(form), errors, ..Outcome::default() })
}

#[derive(Deserialize)]
struct Empty {}

async fn delete_rule(
    State(state): State<AppState>,
    staff: Staff,
    Path((key, id)): Path<(String, i32)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let affected = preview::affected_by_deletion(deps, &staff.actor, &unit, id).await?;
    hours::delete_rule(deps, &staff.actor, &unit, id, state.horizon_until()).await?;
    respond(&state, staff, unit, Outcome::notice("deleted", affected)).await
}

async fn add_absence(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<PeriodForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let lang = staff.page.lang;
    let parsed = parse_period(&form, "absence", deps.tz, lang);
    let outcome = match (parsed, form.counsellor.parse::<i32>()) {
        (Err(errors), _) => Outcome { absence: form, errors, ..Outcome::default() },
        (Ok(_), Err(_)) => {
            let errors = vec![FieldError::new("absence-counsellor", lang.t("err.counsellor"))];
            Outcome { absence: form, errors, ..Outcome::default() }
        }
        (Ok((from, to)), Ok(staff_id)) => {
            match hours::add_absence(deps, &staff.actor, &unit, staff_id, from, to, form.reason.trim()).await {
                Ok((_, affected)) => Outcome::notice("saved", affected),
                Err(err) => period_error(lang, "absence", err, |o| o.absence = form)?,
            }
        }
    };
    respond(&state, staff, unit, outcome).await
}

async fn add_closure(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<PeriodForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let lang = staff.page.lang;
    let outcome = match parse_period(&form, "closure", deps.tz, lang) {
        Err(errors) => Outcome { closure: form, errors, ..Outcome::default() },
        Ok((from, to)) => match hours::add_closure(deps, &staff.actor, &unit, from, to, form.reason.trim()).await {
            Ok((_, affected)) => Outcome::notice("saved", affected),
            Err(err) => period_error(lang, "closure", err, |o| o.closure = form)?,
        },
    };
    respond(&state, staff, unit, outcome).await
}

fn period_error(lang: Lang, prefix: &str, err: ServiceError, keep: impl FnOnce(&mut Outcome)) -> WebResult<Outcome> {
    let field = match &err {
        ServiceError::Invalid { field: "counsellor_id", .. } if prefix == "absence" => "absence-counsellor",
        ServiceError::Invalid { .. } if prefix == "absence" => "absence-to",
        ServiceError::Invalid { .. } => "closure-to",
        _ => return Err(err.into()),
    };
    let mut outcome =
        Outcome { errors: vec![FieldError::new(field, service_message(lang, &err))], ..Outcome::default() };
    keep(&mut outcome);
    Ok(outcome)
}

async fn delete_absence(
    State(state): State<AppState>,
    staff: Staff,
    Path((key, id)): Path<(String, i32)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    hours::delete_absence(deps, &staff.actor, &unit, id).await?;
    respond(&state, staff, unit, Outcome::notice("deleted", Vec::new())).await
}

async fn delete_closure(
    State(state): State<AppState>,
    staff: Staff,
    Path((key, id)): Path<(String, i32)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    hours::delete_closure(deps, &staff.actor, &unit, id).await?;
    respond(&state, staff, unit, Outcome::notice("deleted", Vec::new())).await
}

/// Parses the rule form, or says which fields are wrong (ids of the inputs).
fn rule_fields(form: &RuleForm, unit_id: i32, lang: Lang) -> Result<RuleFields, Vec<FieldError>> {
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
        counsellor_id,
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
fn parse_period(
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
fn local_instant(date: &str, time: &str, end_of_day: bool, tz: Tz) -> Result<DateTime<Utc>, bool> {
    let date = parse_date(date).ok_or(false)?;
    let (date, time) = match time.trim() {
        "" if end_of_day => (date.checked_add_days(Days::new(1)).ok_or(false)?, NaiveTime::MIN),
        "" => (date, NaiveTime::MIN),
        typed => (date, parse_local_time(typed).map_err(|_| true)?),
    };
    local_to_utc(date.and_time(time), tz).map_err(|_| true)
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

fn rule_form(rule: &HoursRule) -> RuleForm {
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

fn rule_row(rule: &HoursRule, members: &[StaffMember], lang: Lang) -> RuleRow {
    let from = rule.valid_from.format("%d.%m.%Y").to_string();
    RuleRow {
        id: rule.id,
        counsellor: counsellor_name(members, rule.counsellor_id),
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

fn weekday_name(iso: u8, lang: Lang) -> &'static str {
    let names = match lang {
        Lang::De => ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        Lang::En => ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    };
    names.get(usize::from(iso.saturating_sub(1))).copied().unwrap_or("?")
}

fn period(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    format!("{} – {}", format::short(from, tz, lang), format::short(to, tz, lang))
}
