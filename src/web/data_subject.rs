//! Requests of the person concerned, for admins and unit leads: find a person's bookings by
//! email or phone, show them (printable), download everything as JSON, and erase it after a
//! confirmation step. Every step is a POST with the CSRF token, so no email or phone number
//! lands in a URL, a browser history or a request log.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono_tz::Tz;
use serde::Deserialize;
use tower_sessions::Session;

use super::auth::FieldError;
use super::error::WebResult;
use super::format;
use super::history;
use super::i18n::Lang;
use super::page::{CsrfForm, Page, Staff};
use super::views::{
    Choice, callback_state_key, channel_key, delivery_state_key, language_name, mail_kind_key, status_key,
    time_of_day_key,
};
use crate::domain::audit::AuditAction;
use crate::domain::booking::BookingStatus;
use crate::domain::clash::Clash;
use crate::domain::language::Language;
use crate::domain::outbox::{DeliveryState, Obsolete, Skipped};
use crate::services::ServiceError;
use crate::services::data_subject::{self, Bundle, ErasureCounts, ErasureReason, Person, SubjectEmail};
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
    /// At the confirmation: what becomes of the person's appointments still to come.
    upcoming: Option<String>,
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
        upcoming: None,
        erased: None,
    }
}

/// The session's record of the last erasure made on this page, shown by the page it led to.
const KEY_ERASED: &str = "data_subject.erased";

#[derive(Deserialize)]
struct Done {
    #[serde(default)]
    done: String,
}

async fn form_page(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Query(done): Query<Done>,
) -> WebResult<SubjectPage> {
    let f = SubjectForm { reason: ErasureReason::Request.as_str().to_owned(), ..SubjectForm::default() };
    // Only admins and unit leads: the service refuses (and records) anyone else on the first step.
    if !staff.actor.is_admin() && !staff.actor.leads_any_unit() {
        crate::services::access::deny(&state.db, &state.clock, &staff.actor, "data_subject.request", "data-subject")
            .await?;
    }
    let mut view = page(&staff, f);
    // The page an erasure led to says what it removed, also when reloaded (which erases nothing).
    if done.done == "erased" {
        view.erased = session.get::<ErasureCounts>(KEY_ERASED).await?;
    }
    Ok(view)
}

async fn act(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    CsrfForm(f): CsrfForm<SubjectForm>,
) -> WebResult<Response> {
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
            Ok(print_page(&state, &staff, &bundle).into_response())
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
            // On to the page that says what was erased: a reload (F5) shows it again instead of
            // erasing again (and recording a second erasure).
            session.insert(KEY_ERASED, counts).await?;
            Ok(Redirect::to("/data-subject?done=erased").into_response())
        }
        step => {
            let bundle =
                data_subject::find(db, clock, &staff.actor, &person, AuditAction::DataSubjectSearched, tz).await?;
            let mut view = page(&staff, SubjectForm { step: step.to_owned(), ..f });
            view.confirm = step == "confirm" && !(bundle.bookings.is_empty() && bundle.callbacks.is_empty());
            view.searched = true;
            fill(&mut view, &bundle, &person, &state);
            // Erased, appointments still to come stay booked without a name or a way to reach
            // the person: said before, so that they are cancelled first if they are not to be.
            let now = state.clock.now();
            let to_come =
                bundle.bookings.iter().filter(|b| b.status == BookingStatus::Booked && b.starts_at > now).count();
            view.upcoming = match to_come {
                0 => None,
                1 => Some(lang.t("ds.confirm.upcoming.one").to_owned()),
                n => Some(lang.t("ds.confirm.upcoming").replace("{count}", &n.to_string())),
            };
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
            let interpreter = b.interpreter_language.as_deref().map(|code| language(code, lang));
            let other = [b.note.clone(), b.accessibility_needs.clone(), interpreter]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ");
            Row {
                reference: b.reference.to_string(),
                when: format::short(b.starts_at.to_utc(), tz, lang),
                status: lang.t(status_key(b.status)).to_owned(),
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

/// A stored language code by name ("Türkisch"); a code outside the supported list as it is.
fn language(code: &str, lang: Lang) -> String {
    language_name(&Language::from_stored(code), lang)
}

/// One email in words: which, to whom, and where it is ("Terminbestätigung an … (Türkisch),
/// gesendet am Mo, 07.12.2026, 10:00"); a reason the service wrote in words too, a mail server's
/// as it answered.
fn email_text(m: &SubjectEmail, tz: Tz, lang: Lang) -> String {
    let mut text = lang.t(mail_kind_key(m.kind)).to_owned();
    if !m.recipient.is_empty() {
        text.push_str(&format!(" {} {} ({})", lang.t("dsp.to"), m.recipient, language(&m.language, lang)));
    }
    let state = match (m.state, m.sent_at) {
        (DeliveryState::Sent, Some(at)) => {
            format!("{} {}", lang.t("dss.sent_on"), format::short(at.to_utc(), tz, lang))
        }
        (state, _) => lang.t(delivery_state_key(state)).to_owned(),
    };
    text.push_str(&format!(", {state}"));
    if let Some(reason) = &m.last_error {
        let reason =
            Skipped::of_reason(reason).map_or_else(|| reason.clone(), |why| lang.t(skipped_key(why)).to_owned());
        text.push_str(&format!(" ({}: {reason})", lang.t("failed.reason")));
    }
    text
}

/// Why an email was not sent, in words.
fn skipped_key(why: Skipped) -> &'static str {
    match why {
        Skipped::Obsolete(Obsolete::MovedOrCancelled) => "dss.skip.moved_or_cancelled",
        Skipped::Obsolete(Obsolete::Superseded) => "dss.skip.superseded",
        Skipped::Obsolete(Obsolete::Begun) => "dss.skip.begun",
        Skipped::AddressCorrected => "dss.skip.address_corrected",
        Skipped::ConsentWithdrawn => "dss.skip.consent_withdrawn",
        Skipped::Erased => "dss.skip.erased",
    }
}

fn print_page(state: &AppState, staff: &Staff, bundle: &Bundle) -> PrintPage {
    let (tz, lang) = (state.settings.time_zone, staff.page.lang);
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
                Line::new(lang.t("book.unit"), b.unit_name.clone()),
                Line::new(lang.t("book.counsellor"), b.counsellor_name.clone()),
                Line::new(lang.t("ds.status"), lang.t(status_key(b.status))),
                Line::new(lang.t("dsp.channel"), lang.t(channel_key(b.channel))),
                Line::new(lang.t("ds.name"), b.name.clone()),
            ];
            let optional = [
                ("details.phone", b.phone.clone()),
                ("details.email", b.email.clone()),
                ("details.clang", Some(language(&b.language, lang))),
                ("details.interpreter", b.interpreter_language.as_deref().map(|code| language(code, lang))),
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
            let emails = b.emails.iter().map(|m| Line::new(when(m.created_at), email_text(m, tz, lang))).collect();
            PrintedBooking { reference: b.reference.clone(), fields, history, emails }
        })
        .collect();
    let callbacks = bundle
        .callbacks
        .iter()
        .map(|c| {
            let mut fields = vec![
                Line::new(lang.t("book.unit"), c.unit_name.clone()),
                Line::new(lang.t("ds.name"), c.name.clone()),
                Line::new(lang.t("details.phone"), c.phone.clone()),
                Line::new(lang.t("details.clang"), language(&c.language, lang)),
                Line::new(lang.t("ds.status"), lang.t(callback_state_key(c.status))),
            ];
            let optional = [
                ("details.note", c.note.clone()),
                ("dsp.wish.counsellor", c.wished_counsellor_name.clone()),
                ("dsp.wish.language", c.wished_language.as_deref().map(|code| language(code, lang))),
                ("dsp.wish.time_of_day", c.wished_time_of_day.map(|part| lang.t(time_of_day_key(part)).to_owned())),
                ("dsp.wish.before", c.wished_before.map(|d| format::date_long(d, lang))),
            ];
            fields.extend(optional.into_iter().filter_map(|(key, value)| value.map(|v| Line::new(lang.t(key), v))));
            fields.push(Line::new(lang.t("dsp.until"), format::date_long(c.open_until, lang)));
            // The appointment made from the entry, by the number the person was told (it is
            // printed above with the other bookings).
            if let Some(booked) = c.booking_id.and_then(|id| bundle.bookings.iter().find(|b| b.id == id)) {
                fields.push(Line::new(lang.t("dsp.booked_as"), booked.reference.clone()));
            }
            fields.push(Line::new(lang.t("dsp.created"), when(c.created_at)));
            fields.push(Line::new(lang.t("dsp.updated"), when(c.updated_at)));
            fields
        })
        .collect();
    PrintPage {
        p: staff.page.clone().titled("dsp.title"),
        made: format::short(state.clock.now(), tz, lang),
        bookings,
        callbacks,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::domain::booking::Channel;
    use crate::domain::callback::{CallbackStatus, TimeOfDay};
    use crate::domain::outbox::MailKind;

    /// Every code the printed answer shows has its words in both languages.
    #[test]
    fn every_stored_code_has_words_in_german_and_english() {
        let keys = Skipped::ALL
            .into_iter()
            .map(skipped_key)
            .chain([Channel::Phone, Channel::WalkIn, Channel::Email, Channel::Other].map(channel_key))
            .chain(
                [CallbackStatus::Open, CallbackStatus::Booked, CallbackStatus::Withdrawn, CallbackStatus::Expired]
                    .map(callback_state_key),
            )
            .chain([TimeOfDay::Morning, TimeOfDay::Afternoon].map(time_of_day_key))
            .chain(MailKind::ALL.map(mail_kind_key))
            .chain(
                [
                    DeliveryState::Queued,
                    DeliveryState::Retrying,
                    DeliveryState::Sent,
                    DeliveryState::Failed,
                    DeliveryState::Skipped,
                ]
                .map(delivery_state_key),
            );
        for key in keys {
            assert_ne!(Lang::De.t(key), "??", "{key}");
            assert_ne!(Lang::En.t(key), "??", "{key}");
        }
    }

    #[test]
    fn an_email_says_once_where_it_is() {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).single().expect("test step").fixed_offset();
        let mut email = SubjectEmail {
            id: uuid::Uuid::nil(),
            kind: MailKind::Confirmation,
            state: DeliveryState::Sent,
            recipient: "a@example.org".to_owned(),
            language: "tr".to_owned(),
            created_at: at,
            sent_at: Some(at),
            last_error: None,
        };
        assert_eq!(
            email_text(&email, Berlin, Lang::De),
            "Terminbestätigung an a@example.org (Türkisch), gesendet am Mo, 07.12.2026, 10:00"
        );
        assert_eq!(
            email_text(&email, Berlin, Lang::En),
            "Confirmation to a@example.org (Turkish), sent on Mon, 7 Dec 2026, 10:00"
        );
        email.state = DeliveryState::Skipped;
        email.sent_at = None;
        email.last_error = Some(Skipped::AddressCorrected.reason().to_owned());
        assert_eq!(
            email_text(&email, Berlin, Lang::De),
            "Terminbestätigung an a@example.org (Türkisch), entfallen (Grund: die E-Mail-Adresse war inzwischen berichtigt)"
        );
        email.state = DeliveryState::Failed;
        email.last_error = Some("550 mailbox unavailable".to_owned());
        assert_eq!(
            email_text(&email, Berlin, Lang::En),
            "Confirmation to a@example.org (Turkish), failed (Reason: 550 mailbox unavailable)"
        );
    }
}
