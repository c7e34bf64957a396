//! The admins' page of units: list and add, and each unit's retention. A change done leads back
//! to the page (303), so a reload does not make it again.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::super::auth::FieldError;
use super::super::error::WebResult;
use super::super::i18n::{Lang, service_message};
use super::super::page::{CsrfForm, Page, Staff};
use super::super::views::Choice;
use super::once::{self, DoneQuery};
use crate::domain::citizen::APPOINTMENT_MINUTES;
use crate::domain::clash::Clash;
use crate::domain::ids::LocationId;
use crate::domain::language::Language;
use crate::domain::records::Unit;
use crate::domain::retention::{DEFAULT_RETENTION_DAYS, check_days};
use crate::services::ServiceError;
use crate::services::{directory, retention};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/units", get(units_page).post(add_unit))
        .route("/admin/units/retention", post(set_retention))
}

/// The unit form as typed.
#[derive(Deserialize, Default)]
struct UnitForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    short_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    confidential: String,
    #[serde(default)]
    retention_days: String,
}

/// The retention form as typed.
#[derive(Deserialize, Default)]
struct RetentionForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    retention_days: String,
    /// The units' versions as the page listed them (`slug:version`, comma-separated): a save is
    /// refused once another admin changed the chosen unit (none for it: the save replaces
    /// whatever is stored).
    #[serde(default)]
    seen: String,
}

impl RetentionForm {
    /// The version of the unit `slug` the page listed, if it carries one.
    fn seen(&self, slug: &str) -> Option<i32> {
        self.seen.split(',').find_map(|pair| {
            let (unit, version) = pair.split_once(':')?;
            (unit.trim() == slug).then(|| version.trim().parse().ok()).flatten()
        })
    }
}

/// The units' versions as the retention form carries them.
fn seen_field(units: &[Unit]) -> String {
    units.iter().map(|u| format!("{}:{}", u.slug, u.version)).collect::<Vec<_>>().join(",")
}

struct UnitRow {
    slug: String,
    name: String,
    phone: String,
    email: String,
    confidential: bool,
    retention_days: i32,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/units.html")]
struct UnitsPage {
    p: Page,
    units: Vec<UnitRow>,
    locations: Vec<Choice>,
    f: UnitForm,
    r: RetentionForm,
    unit_choices: Vec<Choice>,
    errors: Vec<FieldError>,
    created: bool,
    retention_saved: bool,
}

impl UnitsPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

fn new_unit_form() -> UnitForm {
    UnitForm { minutes: "60".into(), retention_days: DEFAULT_RETENTION_DAYS.to_string(), ..UnitForm::default() }
}

async fn units_page(State(state): State<AppState>, staff: Staff, Query(q): Query<DoneQuery>) -> WebResult<UnitsPage> {
    let mut page = units_view(&state, staff, new_unit_form(), Vec::new(), q.done == "created").await?;
    page.retention_saved = q.done == "retention";
    Ok(page)
}

async fn units_view(
    state: &AppState,
    staff: Staff,
    f: UnitForm,
    errors: Vec<FieldError>,
    created: bool,
) -> WebResult<UnitsPage> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "units.manage").await?;
    let units = directory::list_units(&state.db).await?;
    let locations = directory::list_locations(&state.db).await?;
    let unit_choices = units.iter().map(|u| Choice { value: u.slug.clone(), label: u.name.clone() }).collect();
    Ok(UnitsPage {
        unit_choices,
        r: RetentionForm { seen: seen_field(&units), ..RetentionForm::default() },
        retention_saved: false,
        units: units
            .into_iter()
            .map(|u| UnitRow {
                slug: u.slug,
                name: u.name,
                phone: u.phone,
                email: u.email,
                confidential: u.confidential,
                retention_days: u.retention_days,
            })
            .collect(),
        locations: locations
            .into_iter()
            .map(|l| Choice { value: l.id.to_string(), label: format!("{}, {}, {}", l.name, l.street, l.floor) })
            .collect(),
        f,
        errors,
        created,
        p: staff.page.titled("units.title"),
    })
}

async fn add_unit(
    State(state): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<UnitForm>,
) -> WebResult<Response> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "unit.create").await?;
    let lang = staff.page.lang;
    let errors = check_unit(&form, lang);
    if !errors.is_empty() {
        let page = units_view(&state, staff, form, errors, false).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let languages = vec![Language::GERMAN];
    let new = directory::UnitInput {
        slug: form.slug.trim(),
        name: form.name.trim(),
        short_name: form.short_name.trim(),
        phone: form.phone.trim(),
        email: form.email.trim(),
        location_id: form.location.parse().unwrap_or(LocationId::new(0)),
        default_slot_minutes: form.minutes.trim().parse().unwrap_or(60),
        languages: &languages,
        confidential: !form.confidential.is_empty(),
        retention_days: form.retention_days.trim().parse().unwrap_or(DEFAULT_RETENTION_DAYS),
    };
    match directory::create_unit(&state.db, &state.clock, &staff.actor, new).await {
        Ok(_) => Ok(once::see_page("/admin/units", "created")),
        Err(err @ (ServiceError::Conflict { .. } | ServiceError::Invalid { .. })) => {
            let field = match &err {
                ServiceError::Conflict { .. } => "unit-slug",
                ServiceError::Invalid { field: "name", .. } => "unit-name",
                ServiceError::Invalid { field: "short_name", .. } => "unit-short",
                ServiceError::Invalid { field: "phone", .. } => "unit-phone",
                ServiceError::Invalid { field: "email", .. } => "unit-email",
                _ => "unit-location",
            };
            let errors = vec![FieldError::new(field, service_message(lang, &err))];
            let page = units_view(&state, staff, form, errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// Checks the typed unit at the edge (like the API's validation of the same fields).
fn check_unit(form: &UnitForm, lang: Lang) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let slug = form.slug.trim();
    if !crate::services::directory::is_slug(slug) {
        errors.push(FieldError::new("unit-slug", lang.t("units.slug.hint")));
    }
    for (id, value) in [("unit-name", &form.name), ("unit-short", &form.short_name), ("unit-phone", &form.phone)] {
        if value.trim().is_empty() {
            errors.push(FieldError::new(id, lang.t("err.required")));
        } else if crate::domain::text::check_name(value).is_err() {
            errors.push(FieldError::new(id, lang.t("err.control")));
        }
    }
    if !crate::domain::citizen::is_email(form.email.trim()) {
        errors.push(FieldError::new("unit-email", lang.t("err.email")));
    }
    if form.location.parse::<i32>().is_err() {
        errors.push(FieldError::new("unit-location", lang.t("field.location_id")));
    }
    if !form.minutes.trim().parse::<i64>().is_ok_and(|m| APPOINTMENT_MINUTES.contains(&m)) {
        errors.push(FieldError::new("unit-minutes", lang.t("err.duration")));
    }
    if !valid_days(&form.retention_days) {
        errors.push(FieldError::new("unit-retention", lang.t("retention.range")));
    }
    errors
}

fn valid_days(typed: &str) -> bool {
    typed.trim().parse::<i32>().is_ok_and(|days| check_days(days).is_ok())
}

/// Changes a unit's retention of personal data.
async fn set_retention(
    State(state): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<RetentionForm>,
) -> WebResult<Response> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "unit.change").await?;
    let lang = staff.page.lang;
    let unit = directory::find_unit(&state.db, form.unit.trim()).await.ok();
    let mut errors = Vec::new();
    if unit.is_none() {
        errors.push(FieldError::new("ret-unit", lang.t("err.required")));
    }
    if !valid_days(&form.retention_days) {
        errors.push(FieldError::new("ret-days", lang.t("retention.range")));
    }
    let (Some(unit), true) = (unit, errors.is_empty()) else {
        let mut page = units_view(&state, staff, new_unit_form(), errors, false).await?;
        page.r = form;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let days = form.retention_days.trim().parse().unwrap_or(DEFAULT_RETENTION_DAYS);
    let seen = form.seen(&unit.slug);
    match retention::set_retention_days(&state.db, &state.clock, &staff.actor, &unit, days, seen).await {
        Ok(_) => {
            state.units.forget_all();
            Ok(once::see_page("/admin/units", "retention"))
        }
        // Another admin changed the unit since the page was read: the list and the form show
        // what is stored now, and the page's versions are read afresh.
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
            let errors = vec![FieldError::refusal("ret-days", lang.t("stale.changed_meanwhile"))];
            let mut page = units_view(&state, staff, new_unit_form(), errors, false).await?;
            let stored = directory::find_unit(&state.db, &unit.slug).await?;
            page.r.unit = stored.slug;
            page.r.retention_days = stored.retention_days.to_string();
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}
