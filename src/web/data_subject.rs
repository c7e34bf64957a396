//! Requests of the person concerned, for admins and unit leads: find a person's bookings by
//! email or phone, show them (printable), download everything as JSON, and erase it after a
//! confirmation step. Every step is a POST with the CSRF token, so no email or phone number
//! lands in a URL, a browser history or a request log.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::FieldError;
use super::error::WebResult;
use super::format;
use super::page::{CsrfForm, Page, Staff};
use super::views::Choice;
use crate::domain::audit::AuditAction;
use crate::domain::clash::Clash;
use crate::services::ServiceError;
use crate::services::data_subject::{self, Bundle, ErasureCounts, ErasureReason, Person};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/data-subject", get(form_page).post(act))
}

/// The form as typed; `step` is `search`, `export`, `confirm` or `erase`.
#[derive(Deserialize, Default)]
struct SubjectForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    step: String,
}

/// One booking as shown.
struct Row {
    reference: String,
    when: String,
    status: String,
    name: String,
    contact: String,
    other: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/data_subject.html")]
struct SubjectPage {
    p: Page,
    f: SubjectForm,
    errors: Vec<FieldError>,
    reasons: Vec<Choice>,
    /// The search ran (results shown, possibly none).
    searched: bool,
    rows: Vec<Row>,
    callbacks: usize,
    /// The confirmation step of an erasure.
    confirm: bool,
    erased: Option<ErasureCounts>,
}

impl SubjectPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

fn page(staff: &Staff, f: SubjectForm) -> SubjectPage {
    let lang = staff.page.lang;
    let reasons = ErasureReason::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: lang.t(&format!("ds.reason.{}", r.as_str())).to_owned(),
        })
        .collect();
    SubjectPage {
        p: staff.page.clone().titled("ds.title"),
        f,
        errors: Vec::new(),
        reasons,
        searched: false,
        rows: Vec::new(),
        callbacks: 0,
        confirm: false,
        erased: None,
    }
}

async fn form_page(State(state): State<AppState>, staff: Staff) -> WebResult<SubjectPage> {
    let f = SubjectForm { reason: ErasureReason::Request.as_str().to_owned(), ..SubjectForm::default() };
    // Only admins and unit leads: the service refuses (and records) anyone else on the first step.
    if !staff.actor.is_admin() && !staff.actor.leads_any_unit() {
        crate::services::access::deny(&state.db, &state.clock, &staff.actor, "data_subject.request", "data-subject")
            .await?;
    }
    Ok(page(&staff, f))
}

async fn act(State(state): State<AppState>, staff: Staff, CsrfForm(f): CsrfForm<SubjectForm>) -> WebResult<Response> {
    let lang = staff.page.lang;
    let person = match Person::of(Some(&f.email), Some(&f.phone), Some(&f.reference)) {
        Ok(person) => person,
        Err(err) => {
            let (field, text) = match &err {
                ServiceError::Invalid { field: "phone", .. } => ("ds-phone", "ds.person"),
                ServiceError::Invalid { field: "reference", message } if message == data_subject::NOT_A_REFERENCE => {
                    ("ds-reference", "ds.reference.invalid")
                }
                _ => ("ds-email", "ds.person"),
            };
            let mut view = page(&staff, f);
            view.errors.push(FieldError::new(field, lang.t(text)));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let (db, clock) = (&state.db, &state.clock);
    match f.step.as_str() {
        "export" => {
            let bundle = data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectExported).await?;
            let json = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
            let headers = [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"auskunft.json\""),
                (header::CACHE_CONTROL, "no-store"),
            ];
            Ok((headers, json).into_response())
        }
        "erase" => {
            let Some(reason) = ErasureReason::parse(&f.reason) else {
                let mut view = page(&staff, f);
                view.errors.push(FieldError::new("ds-reason", lang.t("ds.reason")));
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
            };
            let erased = data_subject::erase(db, clock, &staff.actor, &person, reason, &state.settings.data_dir).await;
            let counts = match erased {
                Err(ServiceError::Conflict { clash: Clash::CallbackBusy, .. }) => {
                    // The person's data as they are now, with the confirmation to try again.
                    let bundle =
                        data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectSearched).await?;
                    let mut view = page(&staff, SubjectForm { step: "confirm".to_owned(), ..f });
                    view.confirm = true;
                    view.searched = true;
                    fill(&mut view, &bundle, &state);
                    view.errors.push(FieldError::new("ds-reason", lang.t("ds.busy")));
                    return Ok((StatusCode::CONFLICT, view).into_response());
                }
                other => other?,
            };
            let mut view = page(&staff, f);
            view.erased = Some(counts);
            Ok(view.into_response())
        }
        step => {
            let bundle = data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectSearched).await?;
            let mut view = page(&staff, SubjectForm { step: step.to_owned(), ..f });
            view.confirm = step == "confirm" && !(bundle.bookings.is_empty() && bundle.callbacks.is_empty());
            view.searched = true;
            fill(&mut view, &bundle, &state);
            Ok(view.into_response())
        }
    }
}

fn fill(view: &mut SubjectPage, bundle: &Bundle, state: &AppState) {
    let (tz, lang) = (state.settings.time_zone, view.p.lang);
    view.callbacks = bundle.callbacks.len();
    view.rows = bundle
        .bookings
        .iter()
        .map(|b| {
            let contact = [b.phone.as_deref(), b.email.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let other = [b.note.as_deref(), b.accessibility_needs.as_deref(), b.interpreter_language.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ");
            Row {
                reference: b.reference.to_string(),
                when: format::short(b.starts_at, tz, lang),
                status: lang.t(&format!("status.{}", b.status)).to_owned(),
                name: b.name.clone(),
                contact,
                other,
            }
        })
        .collect();
}
