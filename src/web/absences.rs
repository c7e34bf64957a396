//! A counsellor's own absences ("Meine Abwesenheiten"): listed from now on, added after a check of
//! the appointments they would affect, and removed; for everyone who counsels in some unit. An
//! absence is the person's, in every unit they counsel in; the unit chosen is the one whose
//! appointments are listed (those in other units are counted).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use super::auth::FieldError;
use super::error::WebResult;
use super::forms::DeleteForm;
use super::page::{CsrfForm, Page, Staff};
use super::periods::changed::{self, ChangedOn};
use super::periods::{
    AbsenceAnswer, AbsenceChoice, PeriodAsk, PeriodForm, PeriodRow, answer_absence, checked_notice, period,
};
use super::views::{BookingRow, Choice};
use crate::domain::ids::AbsenceId;
use crate::domain::missing::Missing;
use crate::domain::records::{Absence, Unit};
use crate::services::hours::Affected;
use crate::services::{ServiceError, desk, own_absences};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/absences", get(show).post(add)).route("/absences/{id}/delete", post(delete))
}

#[derive(Template, WebTemplate)]
#[template(path = "web/absences.html")]
struct AbsencesPage {
    p: Page,
    /// The units the person counsels in, named: where their absences apply.
    unit_names: String,
    absences: Vec<PeriodRow>,
    absence: PeriodForm,
    /// The unit select (shown with more than one unit), and where the form posts.
    absence_choice: AbsenceChoice,
    absence_action: &'static str,
    errors: Vec<FieldError>,
    notice: &'static str,
    affected: Vec<BookingRow>,
    /// How many the unit has in all, when more than are listed.
    affected_beyond: Option<u64>,
    /// How many of the person's in their other units.
    affected_elsewhere: u64,
    /// The absence whose deletion is asked to be confirmed.
    period_delete: Option<PeriodAsk>,
}

impl AbsencesPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What a request adds to the page: the form as typed, errors, a notice, affected appointments.
#[derive(Default)]
struct Outcome {
    absence: PeriodForm,
    errors: Vec<FieldError>,
    notice: &'static str,
    affected: Affected,
    /// An absence to be deleted: asked to confirm first.
    period_delete: Option<Absence>,
}

#[derive(Deserialize)]
struct AbsencesQuery {
    /// The unit chosen in the form (its appointments are listed after a change).
    #[serde(default)]
    unit: String,
    /// The page a change led to: `saved`, `deleted`, or `gone_absence` (deleted before).
    #[serde(default)]
    done: String,
    /// Which change (`web::periods::changed`).
    #[serde(default)]
    change: String,
}

/// The absence form: the period, and the unit it is recorded in.
#[derive(Deserialize)]
struct AbsenceForm {
    #[serde(default)]
    unit: String,
    #[serde(flatten)]
    period: PeriodForm,
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Query(q): Query<AbsencesQuery>,
) -> WebResult<AbsencesPage> {
    let deps = state.book();
    let units = own_absences::units(deps, &staff.actor).await?;
    let unit = chosen(&state, &staff, &units, &q.unit).await?;
    let on = ChangedOn::OwnAbsences;
    let (notice, affected) = changed::shown(deps, &session, &staff.actor, on, &unit, &q.done, &q.change)
        .await?
        .unwrap_or(("", Affected::default()));
    page(&state, staff, units, unit, Outcome { notice, affected, ..Outcome::default() }).await
}

/// The unit `key` names, or the first one the person counsels in.
async fn chosen(state: &AppState, staff: &Staff, units: &[Unit], key: &str) -> WebResult<Unit> {
    match units.first() {
        Some(first) if key.is_empty() => Ok(first.clone()),
        _ => Ok(own_absences::unit(state.book(), &staff.actor, key).await?),
    }
}

async fn page(
    state: &AppState,
    staff: Staff,
    units: Vec<Unit>,
    unit: Unit,
    outcome: Outcome,
) -> WebResult<AbsencesPage> {
    let deps = state.book();
    let (lang, tz) = (staff.page.lang, deps.tz);
    let absences = own_absences::list(deps, &staff.actor).await?;
    let members = desk::unit_staff_and(deps, &unit, [staff.actor.staff_id()]).await?;
    let unit_names = units.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", ");
    let row = |a: &Absence| PeriodRow {
        id: a.id.get(),
        who: unit_names.clone(),
        when: period(a.starts_at, a.ends_at, tz, lang),
        reason: a.reason.clone(),
        delete: Some(format!("/absences/{}/delete", a.id)),
    };
    // Named by when and why: the list's units are the same for every absence of one's own.
    let period_delete = outcome
        .period_delete
        .as_ref()
        .and_then(|a| PeriodAsk::new("absences", &PeriodRow { who: String::new(), ..row(a) }, "/absences".to_owned()));
    Ok(AbsencesPage {
        absences: absences.iter().map(row).collect(),
        period_delete,
        unit_names,
        absence_choice: AbsenceChoice {
            id: "absence-unit",
            name: "unit",
            label: "book.unit",
            shown: units.len() > 1,
            choices: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
            value: unit.slug,
        },
        absence_action: "/absences",
        absence: outcome.absence,
        errors: outcome.errors,
        notice: outcome.notice,
        affected: outcome.affected.listed.iter().map(|b| BookingRow::new(b, &members, tz, lang)).collect(),
        affected_beyond: outcome.affected.beyond(),
        affected_elsewhere: outcome.affected.elsewhere,
        p: staff.page.titled("own_absences.title"),
    })
}

async fn add(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    CsrfForm(form): CsrfForm<AbsenceForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let units = own_absences::units(deps, &staff.actor).await?;
    let unit = own_absences::unit(deps, &staff.actor, &form.unit).await?;
    let (actor, lang) = (&staff.actor, staff.page.lang);
    let outcome = match answer_absence(deps, actor, &unit, actor.staff_id(), &form.period, lang).await? {
        AbsenceAnswer::Wrong(errors) => Outcome { absence: form.period, errors: at_unit(errors), ..Outcome::default() },
        AbsenceAnswer::Checked(affected) => {
            Outcome { absence: form.period, notice: checked_notice(&affected), affected, ..Outcome::default() }
        }
        AbsenceAnswer::Saved(affected) => {
            return changed::see_page(&session, ChangedOn::OwnAbsences, &unit, "saved", &affected).await;
        }
    };
    let status = if outcome.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, page(&state, staff, units, unit, outcome).await?).into_response())
}

/// On this page the person is always themselves: a refusal of them as the unit's counsellor (their
/// role there taken away meanwhile) is shown at the unit.
fn at_unit(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| if e.field == "absence-counsellor" { FieldError::new("absence-unit", e.message) } else { e })
        .collect()
}

/// "Löschen" asks first, naming the absence; the confirmation deletes it. One deleted before (a
/// deletion sent twice), or someone else's, leads back to the page, told so.
async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> WebResult<Response> {
    let deps = state.book();
    let id = AbsenceId::new(id);
    let gone = || Ok(Redirect::to("/absences?done=gone_absence").into_response());
    if form.confirm.is_empty() {
        let (unit, absence) = match own_absences::own_absence(deps, &staff.actor, id).await {
            Ok(found) => found,
            Err(ServiceError::NotFound(Missing::Absence)) => return gone(),
            Err(err) => return Err(err.into()),
        };
        let units = own_absences::units(deps, &staff.actor).await?;
        let outcome = Outcome { period_delete: Some(absence), ..Outcome::default() };
        return Ok(page(&state, staff, units, unit, outcome).await?.into_response());
    }
    match own_absences::delete(deps, &staff.actor, id).await {
        Ok(()) => Ok(Redirect::to("/absences?done=deleted").into_response()),
        Err(ServiceError::NotFound(Missing::Absence)) => gone(),
        Err(err) => Err(err.into()),
    }
}
