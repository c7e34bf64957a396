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
use super::history;
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

/// The form as typed; `step` is `search`, `print`, `export`, `confirm` or `erase`.
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
    /// Other ways the person is stored under (the numbers and addresses of the bookings found
    /// that were not asked for): bookings made under only those are found by them, not by this
    /// request, and an erasure by this request takes them off the bookings it finds.
    also_under: Vec<String>,
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
        also_under: Vec::new(),
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
                // A number or address that is none: said at its field as such (not "give one").
                ServiceError::Invalid { field: "phone", .. } => ("ds-phone", "ds.phone.invalid"),
                ServiceError::Invalid { field: "email", message } if message == data_subject::NOT_AN_EMAIL => {
                    ("ds-email", "field.email")
                }
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
    let (db, clock, tz) = (&state.db, &state.clock, state.settings.time_zone);
    match f.step.as_str() {
        "export" => {
            let bundle =
                data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectExported, tz).await?;
            let json = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
            let headers = [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"auskunft.json\""),
                (header::CACHE_CONTROL, "no-store"),
            ];
            Ok((headers, json).into_response())
        }
        "print" => {
            let bundle =
                data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectExported, tz).await?;
            Ok(print_page(&state, &staff, &bundle).await?.into_response())
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
                        data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectSearched, tz)
                            .await?;
                    let mut view = page(&staff, SubjectForm { step: "confirm".to_owned(), ..f });
                    view.confirm = true;
                    view.searched = true;
                    fill(&mut view, &bundle, &person, &state);
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
            let bundle =
                data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectSearched, tz).await?;
            let mut view = page(&staff, SubjectForm { step: step.to_owned(), ..f });
            view.confirm = step == "confirm" && !(bundle.bookings.is_empty() && bundle.callbacks.is_empty());
            view.searched = true;
            fill(&mut view, &bundle, &person, &state);
            Ok(view.into_response())
        }
    }
}

fn fill(view: &mut SubjectPage, bundle: &Bundle, person: &Person, state: &AppState) {
    let (tz, lang) = (state.settings.time_zone, view.p.lang);
    view.callbacks = bundle.callbacks.len();
    view.also_under = bundle.other_contacts(person);
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
                when: format::short(b.starts_at.to_utc(), tz, lang),
                status: lang.t(&format!("status.{}", b.status)).to_owned(),
                name: b.name.clone(),
                contact,
                other,
            }
        })
        .collect();
}

/// One line of the printed answer: what and its value.
struct Line {
    label: String,
    value: String,
}

impl Line {
    fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: value.into() }
    }
}

/// A booking in the printed answer.
struct PrintedBooking {
    reference: String,
    fields: Vec<Line>,
    history: Vec<Line>,
    emails: Vec<Line>,
}

/// The complete answer, to print: every stored field of the person's bookings with their history
/// and emails, and their callback-list entries (recorded as an export).
#[derive(Template, WebTemplate)]
#[template(path = "web/data_subject_print.html")]
struct PrintPage {
    p: Page,
    made: String,
    bookings: Vec<PrintedBooking>,
    callbacks: Vec<Vec<Line>>,
}

/// The interface text `key`, or `raw` where there is none (a stored value of an older release).
fn text_or(lang: super::i18n::Lang, key: &str, raw: &str) -> String {
    match lang.t(key) {
        "??" => raw.to_owned(),
        text => text.to_owned(),
    }
}

async fn print_page(state: &AppState, staff: &Staff, bundle: &Bundle) -> WebResult<PrintPage> {
    use crate::domain::language::Language;
    let (tz, lang, deps) = (state.settings.time_zone, staff.page.lang, state.book());
    let units = crate::services::directory::list_units(deps.db).await?;
    let unit_name = |id| units.iter().find(|u| u.id == id).map_or_else(String::new, |u| u.name.clone());
    let mut names = std::collections::BTreeMap::new();
    let staff_ids = bundle
        .bookings
        .iter()
        .map(|b| b.counsellor_id)
        .chain(bundle.callbacks.iter().filter_map(|c| c.wished_counsellor_id));
    for id in staff_ids {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(id) {
            let member = crate::services::desk::staff_member(deps, id).await?;
            slot.insert(member.map_or_else(|| id.to_string(), |m| m.display_name));
        }
    }
    let language = |code: &str| super::views::language_name(&Language::from_stored(code), lang);
    let when = |at: chrono::DateTime<chrono::FixedOffset>| format::short(at.to_utc(), tz, lang);
    let yes_no = |yes: bool| lang.t(if yes { "dsp.yes" } else { "dsp.no" }).to_owned();
    let bookings = bundle
        .bookings
        .iter()
        .map(|b| {
            let mut fields = vec![
                Line::new(
                    lang.t("ds.when"),
                    format!("{} – {}", when(b.starts_at), format::time_spoken(b.ends_at.to_utc(), tz, lang)),
                ),
                Line::new(lang.t("book.unit"), unit_name(b.unit_id)),
                Line::new(lang.t("book.counsellor"), names.get(&b.counsellor_id).cloned().unwrap_or_default()),
                Line::new(lang.t("ds.status"), text_or(lang, &format!("status.{}", b.status), &b.status)),
                Line::new(lang.t("dsp.channel"), b.channel.as_str().unwrap_or_default()),
                Line::new(lang.t("ds.name"), b.name.clone()),
            ];
            let optional = [
                ("details.phone", b.phone.clone()),
                ("details.email", b.email.clone()),
                ("details.clang", Some(language(&b.language))),
                ("details.interpreter", b.interpreter_language.as_deref().map(language)),
                ("details.access", b.accessibility_needs.clone()),
                ("details.note", b.note.clone()),
                ("dsp.override", b.override_reason.clone()),
                ("dsp.cancel_reason", b.cancel_reason.clone()),
            ];
            fields.extend(optional.into_iter().filter_map(|(key, value)| value.map(|v| Line::new(lang.t(key), v))));
            fields.push(Line::new(lang.t("dsp.consent"), yes_no(b.email_consent)));
            fields.push(Line::new(lang.t("dsp.created"), when(b.created_at)));
            fields.push(Line::new(lang.t("dsp.updated"), when(b.updated_at)));
            let history = b
                .history
                .iter()
                .map(|e| {
                    let mut what = history::event_text(&e.event, tz, lang);
                    if let Some(reason) = history::override_reason(&e.event) {
                        what.push_str(&format!("; {}: {reason}", lang.t("dsp.override")));
                    }
                    Line::new(when(e.at), what)
                })
                .collect();
            let emails = b
                .emails
                .iter()
                .map(|m| {
                    let mut value = format!(
                        "{}, {}",
                        text_or(lang, &format!("mail.{}", m.kind), &m.kind),
                        text_or(lang, &format!("mstate.{}", m.state), &m.state),
                    );
                    if !m.recipient.is_empty() {
                        value.push_str(&format!(", {} {} ({})", lang.t("dsp.to"), m.recipient, language(&m.language)));
                    }
                    if let Some(sent) = m.sent_at {
                        value.push_str(&format!(", {} {}", lang.t("dsp.sent"), when(sent)));
                    }
                    if let Some(error) = &m.last_error {
                        value.push_str(&format!(", {}: {error}", lang.t("failed.reason")));
                    }
                    Line::new(when(m.created_at), value)
                })
                .collect();
            PrintedBooking { reference: b.reference.clone(), fields, history, emails }
        })
        .collect();
    let callbacks = bundle
        .callbacks
        .iter()
        .map(|c| {
            let mut fields = vec![
                Line::new(lang.t("book.unit"), unit_name(c.unit_id)),
                Line::new(lang.t("ds.name"), c.name.clone()),
                Line::new(lang.t("details.phone"), c.phone.clone()),
                Line::new(lang.t("details.clang"), language(&c.language)),
                Line::new(lang.t("ds.status"), c.status.clone()),
            ];
            let wished = c.wished_counsellor_id.and_then(|id| names.get(&id).cloned());
            let optional = [
                ("details.note", c.note.clone()),
                ("dsp.wish.counsellor", wished),
                ("dsp.wish.language", c.wished_language.as_deref().map(language)),
                ("dsp.wish.time_of_day", c.wished_time_of_day.clone()),
                ("dsp.wish.before", c.wished_before.map(|d| format::date_long(d, lang))),
            ];
            fields.extend(optional.into_iter().filter_map(|(key, value)| value.map(|v| Line::new(lang.t(key), v))));
            fields.push(Line::new(lang.t("dsp.until"), format::date_long(c.open_until, lang)));
            fields.push(Line::new(lang.t("dsp.created"), when(c.created_at)));
            fields.push(Line::new(lang.t("dsp.updated"), when(c.updated_at)));
            fields
        })
        .collect();
    Ok(PrintPage {
        p: staff.page.clone().titled("dsp.title"),
        made: format::short(state.clock.now(), tz, lang),
        bookings,
        callbacks,
    })
}
