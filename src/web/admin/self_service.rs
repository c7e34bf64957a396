//! The admins' page of a unit's self-service settings (what citizens may do through their link).
//! Saved, it leads back to the page (303).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::super::auth::FieldError;
use super::super::error::WebResult;
use super::super::i18n::Lang;
use super::super::page::{CsrfForm, Page, Staff};
use super::once::{self, DoneQuery};
use crate::domain::citizen_link::{MAX_CUTOFF_HOURS, MAX_MOVES, SelfService};
use crate::domain::clash::Clash;
use crate::services::citizen_link::VersionedSettings;
use crate::services::{ServiceError, citizen_link, directory};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/units/{unit}/self-service", get(show).post(save))
}

#[derive(Deserialize, Default)]
struct SelfServiceForm {
    #[serde(default)]
    cutoff_hours: String,
    #[serde(default)]
    max_moves: String,
    #[serde(default)]
    shows_counsellor: String,
    /// The unit's version the form was filled from: a save is refused once another admin
    /// changed the unit (none: the save replaces whatever is stored).
    #[serde(default)]
    version: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/self_service.html")]
struct SelfServicePage {
    p: Page,
    slug: String,
    unit_name: String,
    f: SelfServiceForm,
    errors: Vec<FieldError>,
    saved: bool,
}

impl SelfServicePage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

fn form_of(read: VersionedSettings) -> SelfServiceForm {
    let settings = read.settings;
    SelfServiceForm {
        cutoff_hours: settings.self_service_cutoff_hours.to_string(),
        max_moves: settings.self_service_max_moves.to_string(),
        shows_counsellor: if settings.self_service_shows_counsellor { "1".into() } else { String::new() },
        version: read.version.to_string(),
    }
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(unit): Path<String>,
    Query(q): Query<DoneQuery>,
) -> WebResult<SelfServicePage> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "unit.self_service").await?;
    let unit = state.unit(&unit).await?;
    let settings = citizen_link::self_service(&state.db, &state.clock, &staff.actor, &unit).await?;
    Ok(SelfServicePage {
        p: staff.page.titled("ss.title"),
        slug: unit.slug,
        unit_name: unit.name,
        f: form_of(settings),
        errors: Vec::new(),
        saved: q.done == "saved",
    })
}

/// Reads the form; errors at the fields out of range.
fn parse(form: &SelfServiceForm, lang: Lang) -> Result<SelfService, Vec<FieldError>> {
    let number = |value: &str, max: i32| value.trim().parse::<i32>().ok().filter(|n| (0..=max).contains(n));
    let cutoff = number(&form.cutoff_hours, MAX_CUTOFF_HOURS);
    let moves = number(&form.max_moves, MAX_MOVES);
    let mut errors = Vec::new();
    if cutoff.is_none() {
        errors.push(FieldError::new("ss-cutoff", lang.t("ss.cutoff.range")));
    }
    if moves.is_none() {
        errors.push(FieldError::new("ss-moves", lang.t("ss.moves.range")));
    }
    match (cutoff, moves) {
        (Some(cutoff), Some(moves)) => Ok(SelfService {
            self_service_cutoff_hours: cutoff,
            self_service_max_moves: moves,
            self_service_shows_counsellor: !form.shows_counsellor.is_empty(),
        }),
        _ => Err(errors),
    }
}

async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(unit): Path<String>,
    CsrfForm(form): CsrfForm<SelfServiceForm>,
) -> WebResult<Response> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "unit.self_service").await?;
    let unit = state.unit(&unit).await?;
    let lang = staff.page.lang;
    let seen = form.version.trim().parse().ok();
    let (f, errors, status) = match parse(&form, lang) {
        Ok(settings) => {
            match citizen_link::set_self_service(&state.db, &state.clock, &staff.actor, &unit, settings, seen).await {
                Ok(_) => return Ok(once::see_page(&format!("/admin/units/{}/self-service", unit.slug), "saved")),
                Err(ServiceError::Invalid { .. }) => {
                    let errors = vec![FieldError::new("ss-cutoff", lang.t("ss.cutoff.range"))];
                    (form, errors, StatusCode::UNPROCESSABLE_ENTITY)
                }
                // Another admin saved since the form was read: the form shows what is stored now.
                Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
                    let now = citizen_link::self_service(&state.db, &state.clock, &staff.actor, &unit).await?;
                    let errors = vec![FieldError::refusal("ss-cutoff", lang.t("stale.changed_meanwhile"))];
                    (form_of(now), errors, StatusCode::CONFLICT)
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(errors) => (form, errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let page = SelfServicePage {
        p: staff.page.titled("ss.title"),
        slug: unit.slug,
        unit_name: unit.name,
        f,
        errors,
        saved: false,
    };
    Ok((status, page).into_response())
}
