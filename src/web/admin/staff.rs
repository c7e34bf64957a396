//! The admins' staff page: everyone with roles, state, second factor and last login (each name
//! leads to the person's page), and adding a person or a role (a generated password is shown
//! once, on the page the addition leads to; adding a role to an existing login leaves its password
//! alone).

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::super::auth::FieldError;
use super::super::error::WebResult;
use super::super::i18n::{Lang, service_message};
use super::super::page::{CsrfForm, Page, Staff};
use super::super::views::Choice;
use super::once::{self, DoneQuery};
use super::person::{LanguageBox, language_boxes, ticked_languages};
use crate::domain::accounts::StaffAccount;
use crate::domain::language::Language;
use crate::domain::records::Unit;
use crate::services::ServiceError;
use crate::services::accounts::{self, ByWhom};
use crate::services::directory::{self, AddedStaff, StaffInput, StaffRole};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/staff", get(staff_page).post(add_staff))
}

/// The staff form as typed.
#[derive(Deserialize, Default)]
struct StaffForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    /// The other fields: a ticked box `lang_<code>` per language the person counsels in.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl StaffForm {
    fn fresh() -> Self {
        let rest = BTreeMap::from([("lang_de".to_owned(), "1".to_owned())]);
        Self { role: "counsellor".into(), rest, ..Self::default() }
    }

    /// The languages ticked, in the order the form lists them.
    fn ticked(&self) -> Vec<Language> {
        ticked_languages(&self.rest, &[])
    }
}

struct StaffRow {
    login: String,
    name: String,
    roles: String,
    active: bool,
    mfa: bool,
    last_login: String,
}

/// What adding came to, for the notice (kept in the session until the page shows it once).
#[derive(Serialize, Deserialize)]
struct Added {
    login: String,
    password: Option<String>,
    created: bool,
    role_added: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/staff.html")]
struct StaffPage {
    p: Page,
    staff: Vec<StaffRow>,
    units: Vec<Choice>,
    roles: Vec<Choice>,
    languages: Vec<LanguageBox>,
    f: StaffForm,
    errors: Vec<FieldError>,
    added: Option<Added>,
    /// The page reloaded after an addition whose notice was shown already.
    shown: bool,
}

impl StaffPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What was added, kept for the page after the addition.
const KEY_ADDED: &str = "admin.added_staff";

async fn staff_page(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Query(q): Query<DoneQuery>,
) -> WebResult<StaffPage> {
    let added = match q.done.as_str() {
        "added" => once::take::<Added>(&session, KEY_ADDED).await?,
        _ => None,
    };
    let shown = q.done == "added" && added.is_none();
    let mut page = staff_view(&state, staff, StaffForm::fresh(), Vec::new(), added).await?;
    page.shown = shown;
    Ok(page)
}

async fn staff_view(
    state: &AppState,
    staff: Staff,
    f: StaffForm,
    errors: Vec<FieldError>,
    added: Option<Added>,
) -> WebResult<StaffPage> {
    let lang = staff.page.lang;
    let list = accounts::list(state.accounts(), ByWhom::Staff(&staff.actor)).await?;
    let units = directory::list_units(&state.db).await?;
    let tz = state.settings.time_zone;
    Ok(StaffPage {
        staff: list.iter().map(|a| staff_row(a, &units, lang, tz)).collect(),
        units: units.into_iter().map(|u| Choice { value: u.slug, label: u.name }).collect(),
        roles: role_choices(lang),
        languages: language_boxes(&[], &f.ticked(), lang),
        f,
        errors,
        added,
        shown: false,
        p: staff.page.titled("staff.title"),
    })
}

pub(super) fn role_choices(lang: Lang) -> Vec<Choice> {
    ["front_desk", "counsellor", "unit_lead", "admin"]
        .into_iter()
        .map(|r| Choice { value: r.to_owned(), label: lang.t(&format!("role.{r}")).to_owned() })
        .collect()
}

async fn add_staff(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    CsrfForm(form): CsrfForm<StaffForm>,
) -> WebResult<Response> {
    let lang = staff.page.lang;
    let Some(role) = StaffRole::parse(&form.role) else {
        let errors = vec![FieldError::new("staff-role", lang.t("err.required"))];
        let page = staff_view(&state, staff, form, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    if crate::domain::text::check_name(&form.name).is_err() {
        let errors = vec![FieldError::new("staff-name", lang.t("err.control"))];
        let page = staff_view(&state, staff, form, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let languages = form.ticked();
    let email = Some(form.email.trim().to_owned()).filter(|e| !e.is_empty());
    let input = StaffInput {
        login: form.login.trim().to_owned(),
        display_name: form.name.trim().to_owned(),
        email,
        languages,
        role,
        unit: (role != StaffRole::Admin).then(|| form.unit.clone()).filter(|u| !u.is_empty()),
        password: None,
    };
    let added = directory::add_staff_as(&state.db, &state.clock, &staff.actor, input).await;
    state.counsellors.forget();
    match added {
        Ok(AddedStaff { member, password, created, role_added }) => {
            state.tokens.forget_staff(member.id);
            let added = Added { login: member.login, password, created, role_added };
            once::keep(&session, KEY_ADDED, &added).await?;
            Ok(once::see_page("/admin/staff", "added"))
        }
        Err(err @ (ServiceError::Conflict { .. } | ServiceError::Invalid { .. } | ServiceError::NotFound(_))) => {
            let field = match &err {
                ServiceError::Invalid { field: "name", .. } => "staff-name",
                ServiceError::Invalid { field: "email", .. } => "staff-email",
                ServiceError::Invalid { field: "unit", .. } | ServiceError::NotFound(_) => "staff-unit",
                _ => "staff-login",
            };
            let message = match &err {
                ServiceError::NotFound(_) => lang.t("field.unit"),
                other => service_message(lang, other),
            };
            let errors = vec![FieldError::new(field, message)];
            let page = staff_view(&state, staff, form, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// The roles of a person as words: "Administration, Beratung (ADS)".
pub(super) fn role_words(account: &StaffAccount, units: &[Unit], lang: Lang) -> Vec<String> {
    let member = &account.member;
    let mut roles: Vec<String> = member
        .memberships
        .iter()
        .map(|(unit_id, role)| {
            let unit = units.iter().find(|u| u.id == *unit_id).map_or("?", |u| u.short_name.as_str());
            format!("{} ({unit})", lang.t(&format!("role.{}", role.as_str())))
        })
        .collect();
    if member.is_admin {
        roles.insert(0, lang.t("role.admin").to_owned());
    }
    roles
}

/// "24.11.2026 08:00" / "24 Nov 2026 08:00" in the service's zone; "–" for never.
pub(super) fn when(at: Option<DateTime<Utc>>, tz: Tz, lang: Lang) -> String {
    at.map_or_else(
        || "–".to_owned(),
        |at| {
            let local = at.with_timezone(&tz);
            format!("{} {}", super::super::format::date_numeric(local.date_naive(), lang), local.format("%H:%M"))
        },
    )
}

fn staff_row(account: &StaffAccount, units: &[Unit], lang: Lang, tz: Tz) -> StaffRow {
    StaffRow {
        login: account.member.login.clone(),
        name: account.member.display_name.clone(),
        roles: role_words(account, units, lang).join(", "),
        active: account.member.active,
        mfa: account.mfa_enabled,
        last_login: when(account.last_login_at, tz, lang),
    }
}
