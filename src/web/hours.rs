//! The unit leads' pages: weekly counselling hours (with a preview of their slots and the
//! bookings a change would leave outside them), absences and closures of their unit.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tower_sessions::Session;

use super::auth::FieldError;
use super::error::{WebError, WebResult};
use super::format;
use super::forms::DeleteForm;
use super::i18n::{Lang, service_message};
use super::page::{CsrfForm, Page, Staff};
use super::periods::changed::{self, ChangedOn};
use super::periods::{
    AbsenceAnswer, AbsenceChoice, PeriodAsk, PeriodForm, PeriodRow, answer_absence, checked_notice, parse_period,
    period, refused_at, short_day,
};
use super::views::{BookingRow, Choice, counsellor_name};
use crate::domain::access::Role;
use crate::domain::clash::Clash;
use crate::domain::ids::{AbsenceId, ClosureId, RuleId, StaffId};
use crate::domain::missing::Missing;
use crate::domain::records::{Absence, Closure, HoursRule, StaffMember, Unit};
use crate::domain::schedule::LeftOut;
use crate::domain::time::local_date;
use crate::services::hours::{Affected, Target};
use crate::services::preview::{self, RulePreview};
use crate::services::{ServiceError, desk, hours};
use crate::state::AppState;

/// Days of slots shown in a rule's preview.
const PREVIEW_DAYS: u64 = 13;

mod forms;

use forms::{RuleForm, RuleRow, rule_fields, rule_form, rule_problems_at_inputs, rule_row, weekday_name};

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

#[derive(Template, WebTemplate)]
#[template(path = "web/hours.html")]
struct HoursPage {
    p: Page,
    units: Vec<Choice>,
    unit: String,
    unit_name: String,
    /// The rule form's choices: the unit's counsellors and, when a rule of someone who no longer
    /// counsels here is edited, that person (marked), so that nobody else is chosen unseen.
    rule_counsellors: Vec<Choice>,
    weekdays: Vec<Choice>,
    rules: Vec<RuleRow>,
    absences: Vec<PeriodRow>,
    closures: Vec<PeriodRow>,
    /// More absences, or closures, follow than the page shows ([`SHOWN_SPANS`]).
    absences_more: bool,
    closures_more: bool,
    rule: RuleForm,
    absence: PeriodForm,
    /// The absence form's counsellor select, and where the form posts.
    absence_choice: AbsenceChoice,
    absence_action: String,
    closure: PeriodForm,
    errors: Vec<FieldError>,
    notice: &'static str,
    preview: Option<Vec<String>>,
    /// Hours changed to begin later: what the days until then would lose, and the choice.
    left_out: Option<LeftOutView>,
    /// The preview's note on times with more seats booked than the new capacity.
    fuller: Option<String>,
    affected: Vec<BookingRow>,
    /// How many the unit has in all, when more than are listed.
    affected_beyond: Option<u64>,
    /// An absence: how many of the person's in other units.
    affected_elsewhere: u64,
    /// The rule whose deletion is asked to be confirmed.
    confirm_delete: Option<RuleRow>,
    /// The absence or closure whose deletion is asked to be confirmed.
    period_delete: Option<PeriodAsk>,
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
    /// Hours changed to begin later, asked first (the rule as it is, and the days it would lose).
    left_out: Option<(HoursRule, LeftOut)>,
    /// Kept times with more seats booked than the new capacity.
    fuller: u64,
    /// Appointments booked on the days a plain change would leave out.
    left_out_booked: u64,
    affected: Affected,
    /// A rule to be deleted: asked to confirm first (naming the bookings it would strand).
    confirm_delete: Option<RuleId>,
    /// An absence or closure to be deleted: asked to confirm first.
    period_delete: Option<Asked>,
}

/// The question a change of hours to begin later asks: what it would leave out, and the button
/// that keeps the hours as they are until then.
struct LeftOutView {
    text: String,
    follow: String,
}

impl LeftOutView {
    fn new(old: &HoursRule, left: LeftOut, new_from: NaiveDate, counsellor: &str, booked: u64, lang: Lang) -> Self {
        let day = |date: NaiveDate| short_day(date, lang);
        let key = if left.days == 1 { "hours.left_out.one" } else { "hours.left_out.many" };
        let text = lang
            .t(key)
            .replace("{from}", &day(new_from))
            .replace("{days}", &left.days.to_string())
            .replace("{weekday}", weekday_name(old.weekday, lang))
            .replace("{first}", &super::format::date_numeric(left.first, lang))
            .replace("{last}", &super::format::date_numeric(left.last, lang))
            .replace("{counsellor}", counsellor);
        let text = match booked {
            0 => text,
            1 => format!("{text} {}", lang.t("hours.left_out.booked.one")),
            n => format!("{text} {}", lang.t("hours.left_out.booked").replace("{count}", &n.to_string())),
        };
        let until = LeftOut::kept_until(old.valid_until, new_from);
        let follow = lang.t("hours.left_out.follow").replace("{until}", &day(until)).replace("{from}", &day(new_from));
        Self { text, follow }
    }
}

/// An absence or closure whose deletion is asked to be confirmed.
enum Asked {
    Absence(Absence),
    Closure(Closure),
}

#[derive(Deserialize)]
struct HoursQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    edit: String,
    /// The page a change led to: `saved`, `deleted`, or `gone_rule` (`gone_absence`,
    /// `gone_closure`): deleted before.
    #[serde(default)]
    done: String,
    /// Which change (`web::hours::changed`).
    #[serde(default)]
    change: String,
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Query(q): Query<HoursQuery>,
) -> WebResult<HoursPage> {
    let deps = state.book();
    let unit = if q.unit.is_empty() {
        hours::first_unit_to_lead(deps, &staff.actor).await?
    } else {
        hours::unit_to_lead(deps, &staff.actor, &q.unit).await?
    };
    let (notice, affected) = changed::shown(deps, &session, &staff.actor, ChangedOn::Hours, &unit, &q.done, &q.change)
        .await?
        .unwrap_or(("", Affected::default()));
    let rule = match q.edit.parse::<i32>() {
        Ok(id) => {
            let rules = hours::list_rules(deps, &staff.actor, &unit).await?;
            Some(rules.iter().find(|r| r.id == RuleId::new(id)).map(rule_form).ok_or(WebError::NotFound)?)
        }
        Err(_) => None,
    };
    page(&state, staff, unit, Outcome { rule, notice, affected, ..Outcome::default() }).await
}

/// Renders the page with 200, or 422 when there are errors.
async fn respond(state: &AppState, staff: Staff, unit: Unit, outcome: Outcome) -> WebResult<Response> {
    let status = if outcome.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, page(state, staff, unit, outcome).await?).into_response())
}

/// The most absences, and closures, the lead's page lists (the soonest; the API pages through
/// the rest).
const SHOWN_SPANS: u64 = 200;

/// The first [`SHOWN_SPANS`] spans not ended by `now`, however far ahead: up to the last second
/// of the year 9999 (spans end within four-digit years, and SQLite compares times as text).
fn ahead<Id>(now: DateTime<Utc>) -> hours::SpanPage<Id> {
    let end = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|day| day.and_hms_opt(23, 59, 59))
        .map_or(DateTime::<Utc>::MAX_UTC, |at| at.and_utc());
    hours::SpanPage { range: (now, end), after: None, limit: SHOWN_SPANS }
}

async fn page(state: &AppState, staff: Staff, unit: Unit, outcome: Outcome) -> WebResult<HoursPage> {
    let deps = state.book();
    let (actor, lang, tz) = (&staff.actor, staff.page.lang, deps.tz);
    let now = deps.clock.now();
    let rules = hours::list_rules(deps, actor, &unit).await?;
    // Rules and stranded appointments of people who left keep their names.
    let asked_absent = match &outcome.period_delete {
        Some(Asked::Absence(a)) => Some(a.staff_id),
        _ => None,
    };
    let shown = rules
        .iter()
        .map(|r| r.counsellor_id)
        .chain(outcome.affected.listed.iter().map(|b| b.counsellor_id))
        .chain(asked_absent);
    let members = desk::unit_staff_and(deps, &unit, shown.collect::<Vec<_>>()).await?;
    // Every span not ended yet, however far ahead (one saved for a day in two years was saved,
    // and blocked its days, but was on no page), up to SHOWN_SPANS of each, soonest first.
    let (absences, absences_more) = hours::absences_page(deps, actor, &unit, ahead(now)).await?.into_parts();
    let (closures, closures_more) = hours::closures_page(deps, actor, &unit, ahead(now)).await?.into_parts();
    let units = hours::units_to_lead(deps, actor).await?;
    let rule = outcome.rule.unwrap_or_else(|| RuleForm {
        slot: unit.default_slot_minutes.to_string(),
        buffer: "0".into(),
        capacity: "1".into(),
        from: local_date(now, tz).format("%Y-%m-%d").to_string(),
        ..RuleForm::default()
    });
    let counsellors: Vec<Choice> = members
        .iter()
        .filter(|m| counsels_here(m, &unit))
        .map(|m| Choice { value: m.id.to_string(), label: m.display_name.clone() })
        .collect();
    let rule_counsellors = with_departed(&counsellors, &rule, &rules, &members, &unit, lang);
    let absence_row = |a: &Absence| PeriodRow {
        id: a.id.get(),
        who: counsellor_name(&members, a.staff_id),
        when: period(a.starts_at, a.ends_at, tz, lang),
        reason: a.reason.clone(),
        delete: Some(format!("/hours/{}/absences/{}/delete", unit.slug, a.id)),
    };
    let closure_row = |c: &Closure| PeriodRow {
        id: c.id.get(),
        who: if c.unit_id.is_none() { lang.t("period.whole_department").to_owned() } else { unit.name.clone() },
        when: period(c.starts_at, c.ends_at, tz, lang),
        reason: c.reason.clone(),
        delete: (c.unit_id == Some(unit.id)).then(|| format!("/hours/{}/closures/{}/delete", unit.slug, c.id)),
    };
    let left_out = outcome.left_out.map(|(old, left)| {
        let new_from = forms::rule_fields(&rule, unit.id, lang).0.valid_from;
        let counsellor = counsellor_label(&members, old.counsellor_id, &unit, lang);
        LeftOutView::new(&old, left, new_from, &counsellor, outcome.left_out_booked, lang)
    });
    Ok(HoursPage {
        units: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
        rule_counsellors,
        weekdays: (1..=7u8).map(|d| Choice { value: d.to_string(), label: weekday_name(d, lang).to_owned() }).collect(),
        rules: rules
            .iter()
            .map(|r| rule_row(r, counsellor_label(&members, r.counsellor_id, &unit, lang), lang))
            .collect(),
        period_delete: outcome.period_delete.and_then(|asked| {
            let keep = format!("/hours?unit={}", unit.slug);
            match asked {
                Asked::Absence(a) => PeriodAsk::new("absences", &absence_row(&a), keep),
                Asked::Closure(c) => PeriodAsk::new("closures", &closure_row(&c), keep),
            }
        }),
        absences: absences.iter().map(absence_row).collect(),
        closures: closures.iter().map(closure_row).collect(),
        absences_more,
        closures_more,
        rule,
        absence_choice: AbsenceChoice {
            id: "absence-counsellor",
            name: "counsellor",
            label: "book.counsellor",
            choices: counsellors,
            value: outcome.absence.counsellor.clone(),
            shown: true,
        },
        absence_action: format!("/hours/{}/absences", unit.slug),
        absence: outcome.absence,
        closure: outcome.closure,
        errors: outcome.errors,
        notice: outcome.notice,
        preview: outcome.preview.map(|starts| starts.iter().map(|at| format::short(*at, tz, lang)).collect()),
        left_out,
        fuller: match outcome.fuller {
            0 => None,
            1 => Some(lang.t("hours.fuller.one").to_owned()),
            n => Some(lang.t("hours.fuller").replace("{count}", &n.to_string())),
        },
        confirm_delete: outcome.confirm_delete.and_then(|id| {
            let rule = rules.iter().find(|r| r.id == id)?;
            Some(rule_row(rule, counsellor_label(&members, rule.counsellor_id, &unit, lang), lang))
        }),
        affected: outcome.affected.listed.iter().map(|b| BookingRow::new(b, &members, tz, lang)).collect(),
        affected_beyond: outcome.affected.beyond(),
        affected_elsewhere: outcome.affected.elsewhere,
        unit: unit.slug,
        unit_name: unit.name,
        p: staff.page.titled("hours.title"),
    })
}

async fn save_rule(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let id = form.id.parse::<i32>().ok();
    let lang = staff.page.lang;
    // Every wrong field at once, each at its input: what could not be read, what the values
    // break, and a counsellor who does not counsel here (saving checks all again).
    let (fields, mut errors) = rule_fields(&form, unit.id, lang);
    let old = match id {
        Some(id) => hours::list_rules(deps, &staff.actor, &unit).await?.into_iter().find(|r| r.id == RuleId::new(id)),
        None => None,
    };
    let today = local_date(deps.clock.now(), deps.tz);
    errors.extend(rule_problems_at_inputs(&fields, &errors, old.as_ref(), today, lang));
    if !errors.iter().any(|e| e.field == "rule-counsellor") {
        match hours::check_counsellor(deps, fields.counsellor_id, &unit).await {
            Ok(()) => {}
            Err(err @ ServiceError::Invalid { .. }) => {
                errors.push(FieldError::new("rule-counsellor", service_message(lang, &err)));
            }
            Err(err) => return Err(err.into()),
        }
    }
    if !errors.is_empty() {
        forms::in_form_order(&mut errors);
        return respond(&state, staff, unit, Outcome { rule: Some(form), errors, ..Outcome::default() }).await;
    }
    // Running hours changed to begin later would leave the days until then without them: the
    // lead is asked first, and may keep them until then ("follow").
    let left_out =
        old.and_then(|o| LeftOut::of(o.weekday, o.valid_from, o.valid_until, fields.valid_from, today).map(|l| (o, l)));
    // The preview only when asked for: it records the appointments it shows, and a save records
    // (and shows) those its change itself left outside the hours. A save that would leave days
    // out is previewed instead, with the question (and refused as the preview refuses, an
    // overlap with other hours say, before any question).
    let outcome = if form.action == "preview" || (form.action == "save" && left_out.is_some()) {
        match preview::preview_rule(deps, &staff.actor, &unit, id.map(RuleId::new), &fields, PREVIEW_DAYS).await {
            Ok(RulePreview { starts, affected, left_out: left, fuller, left_out_booked }) => {
                let left_out = left_out.filter(|_| left.is_some());
                let preview = Some(starts);
                Outcome { rule: Some(form), preview, affected, left_out, fuller, left_out_booked, ..Outcome::default() }
            }
            Err(err) => rule_error(&staff, form, err)?,
        }
    } else {
        let (rule, seen) = (id.map(RuleId::new), form.seen());
        let horizon = state.horizon_until();
        let target = match (form.action.as_str(), rule) {
            (_, None) => Target::New,
            ("follow", Some(rule)) => Target::Follow(rule),
            (_, Some(rule)) => Target::Replace(rule),
        };
        match hours::save_rule(deps, &staff.actor, &unit, target, seen, fields, horizon).await {
            // What the change itself left outside the hours (also a booking made meanwhile).
            Ok(change) => return changed::see_page(&session, ChangedOn::Hours, &unit, "saved", &change.affected).await,
            Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
                // Another lead saved it since the form was filled: the list shows theirs; the
                // form keeps this lead's, and saving it again replaces theirs knowingly.
                let current =
                    hours::list_rules(deps, &staff.actor, &unit).await?.into_iter().find(|r| Some(r.id) == rule);
                let mut form = form;
                form.seen = current.map(|r| forms::seen_field(r.updated_at)).unwrap_or_default();
                let errors = vec![FieldError::new("rule-counsellor", staff.page.t("hours.changed_meanwhile"))];
                Outcome { rule: Some(form), errors, ..Outcome::default() }
            }
            Err(err) => rule_error(&staff, form, err)?,
        }
    };
    respond(&state, staff, unit, outcome).await
}

/// Whether `member` is one of the unit's active counsellors (whom new hours and absences may name).
fn counsels_here(member: &StaffMember, unit: &Unit) -> bool {
    member.active && member.memberships.contains(&(unit.id, Role::Counsellor))
}

/// The rule form's counsellor choices: `counsellors`, and the counsellor of the rule being edited
/// (or sent back after a refusal) when that is one of the unit's rules' people who left, marked so.
fn with_departed(
    counsellors: &[Choice],
    rule: &RuleForm,
    rules: &[HoursRule],
    members: &[StaffMember],
    unit: &Unit,
    lang: Lang,
) -> Vec<Choice> {
    let mut choices = counsellors.to_vec();
    let departed = rules.iter().map(|r| r.counsellor_id).find(|id| id.to_string() == rule.counsellor);
    if let Some(id) = departed.filter(|id| !choices.iter().any(|c| c.value == id.to_string())) {
        choices.push(Choice { value: id.to_string(), label: counsellor_label(members, id, unit, lang) });
    }
    choices
}

/// A rule's counsellor by name, marked when they no longer counsel in the unit (deactivated, or
/// their role here taken away).
fn counsellor_label(members: &[StaffMember], id: StaffId, unit: &Unit, lang: Lang) -> String {
    let name = counsellor_name(members, id);
    match members.iter().find(|m| m.id == id) {
        Some(member) if counsels_here(member, unit) => name,
        _ => format!("{name} ({})", lang.t("hours.counsellor.departed")),
    }
}

fn rule_error(staff: &Staff, mut form: RuleForm, err: ServiceError) -> WebResult<Outcome> {
    let field = match &err {
        ServiceError::Invalid { field, .. } => forms::input_of(field).unwrap_or("rule-start"),
        ServiceError::Conflict { .. } | ServiceError::Rule(_) => "rule-start",
        // Deleted by another lead since the form was filled: the entries stay, and saving them
        // again adds them as new hours (a bare "not found" page lost them).
        ServiceError::NotFound(Missing::Rule) => {
            (form.id, form.seen) = (String::new(), String::new());
            let errors = vec![FieldError::new("rule-counsellor", staff.page.t("hours.deleted_meanwhile"))];
            return Ok(Outcome { rule: Some(form), errors, ..Outcome::default() });
        }
        _ => return Err(err.into()),
    };
    let errors = vec![FieldError::new(field, service_message(staff.page.lang, &err))];
    Ok(Outcome { rule: Some(form), errors, ..Outcome::default() })
}

async fn delete_rule(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path((key, id)): Path<(String, i32)>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let rule = RuleId::new(id);
    // Asked first, naming the bookings the deletion would strand.
    if form.confirm.is_empty() {
        let affected = match preview::affected_by_deletion(deps, &staff.actor, &unit, rule).await {
            Ok(affected) => affected,
            Err(ServiceError::NotFound(Missing::Rule)) => return already_deleted(&session, &unit, "gone_rule").await,
            Err(err) => return Err(err.into()),
        };
        let outcome = Outcome { affected, confirm_delete: Some(rule), ..Outcome::default() };
        return respond(&state, staff, unit, outcome).await;
    }
    // What the deletion itself left outside the hours (also a booking made since the question).
    match hours::delete_rule(deps, &staff.actor, &unit, rule, state.horizon_until()).await {
        Ok(change) => changed::see_page(&session, ChangedOn::Hours, &unit, "deleted", &change.affected).await,
        Err(ServiceError::NotFound(Missing::Rule)) => already_deleted(&session, &unit, "gone_rule").await,
        Err(err) => Err(err.into()),
    }
}

/// A deletion of what is gone already (sent twice: a double click, the back button, or another
/// lead's deletion): back to the page, told so, rather than an error page.
async fn already_deleted(session: &Session, unit: &Unit, gone: &'static str) -> WebResult<Response> {
    changed::see_page(session, ChangedOn::Hours, unit, gone, &Affected::default()).await
}

async fn add_absence(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<PeriodForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let lang = staff.page.lang;
    let answer = match form.counsellor.parse::<i32>() {
        Ok(staff_id) => answer_absence(deps, &staff.actor, &unit, StaffId::new(staff_id), &form, lang).await?,
        Err(_) => {
            let mut errors = vec![FieldError::new("absence-counsellor", lang.t("err.counsellor"))];
            errors.extend(parse_period(&form, "absence", deps.tz, lang).err().unwrap_or_default());
            AbsenceAnswer::Wrong(errors)
        }
    };
    let outcome = match answer {
        AbsenceAnswer::Wrong(errors) => Outcome { absence: form, errors, ..Outcome::default() },
        AbsenceAnswer::Checked(affected) => checked(affected, |o| o.absence = form),
        AbsenceAnswer::Saved(affected) => {
            return changed::see_page(&session, ChangedOn::Hours, &unit, "saved", &affected).await;
        }
    };
    respond(&state, staff, unit, outcome).await
}

async fn add_closure(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<PeriodForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, &key).await?;
    let lang = staff.page.lang;
    let outcome = match parse_period(&form, "closure", deps.tz, lang) {
        Err(errors) => Outcome { closure: form, errors, ..Outcome::default() },
        Ok((from, to)) if form.action == "preview" => {
            match preview::affected_by_period(deps, &staff.actor, &unit, None, from, to).await {
                Ok(affected) => checked(affected, |o| o.closure = form),
                Err(err) => closure_error(lang, err, form)?,
            }
        }
        Ok((from, to)) => match hours::add_closure(deps, &staff.actor, &unit, from, to, form.reason.trim()).await {
            Ok((_, affected)) => return changed::see_page(&session, ChangedOn::Hours, &unit, "saved", &affected).await,
            Err(err) => closure_error(lang, err, form)?,
        },
    };
    respond(&state, staff, unit, outcome).await
}

/// A previewed absence or closure: what it would affect, with what was typed kept.
fn checked(affected: Affected, keep: impl FnOnce(&mut Outcome)) -> Outcome {
    let mut outcome = Outcome { notice: checked_notice(&affected), affected, ..Outcome::default() };
    keep(&mut outcome);
    outcome
}

/// A refused closure, at its input, with what was typed kept.
fn closure_error(lang: Lang, err: ServiceError, form: PeriodForm) -> WebResult<Outcome> {
    Ok(Outcome { closure: form, errors: vec![refused_at("closure", lang, err)?], ..Outcome::default() })
}

async fn delete_absence(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path((key, id)): Path<(String, i32)>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> WebResult<Response> {
    delete_period(&state, staff, &session, &key, PeriodId::Absence(AbsenceId::new(id)), &form).await
}

async fn delete_closure(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path((key, id)): Path<(String, i32)>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> WebResult<Response> {
    delete_period(&state, staff, &session, &key, PeriodId::Closure(ClosureId::new(id)), &form).await
}

/// An absence or a closure to delete.
#[derive(Clone, Copy)]
enum PeriodId {
    Absence(AbsenceId),
    Closure(ClosureId),
}

/// Deletes an absence or closure of the unit `key` leads: asked first, naming it (with the checks
/// of the deletion), then deleted; one deleted before (a form sent twice) leads back to the page.
async fn delete_period(
    state: &AppState,
    staff: Staff,
    session: &Session,
    key: &str,
    period: PeriodId,
    form: &DeleteForm,
) -> WebResult<Response> {
    let deps = state.book();
    let unit = hours::unit_to_lead(deps, &staff.actor, key).await?;
    let gone = |err: &ServiceError| matches!(err, ServiceError::NotFound(Missing::Absence | Missing::Closure));
    let notice = match period {
        PeriodId::Absence(_) => "gone_absence",
        PeriodId::Closure(_) => "gone_closure",
    };
    if form.confirm.is_empty() {
        let asked = match period {
            PeriodId::Absence(id) => hours::absence_to_delete(deps, &staff.actor, &unit, id).await.map(Asked::Absence),
            PeriodId::Closure(id) => hours::closure_to_delete(deps, &staff.actor, &unit, id).await.map(Asked::Closure),
        };
        return match asked {
            Ok(asked) => {
                let outcome = Outcome { period_delete: Some(asked), ..Outcome::default() };
                respond(state, staff, unit, outcome).await
            }
            Err(err) if gone(&err) => already_deleted(session, &unit, notice).await,
            Err(err) => Err(err.into()),
        };
    }
    let deleted = match period {
        PeriodId::Absence(id) => hours::delete_absence(deps, &staff.actor, &unit, id).await,
        PeriodId::Closure(id) => hours::delete_closure(deps, &staff.actor, &unit, id).await,
    };
    match deleted {
        Ok(()) => changed::see_page(session, ChangedOn::Hours, &unit, "deleted", &Affected::default()).await,
        Err(err) if gone(&err) => already_deleted(session, &unit, notice).await,
        Err(err) => Err(err.into()),
    }
}
