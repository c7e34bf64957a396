//! The admins' audit log page: the records filtered by days, who acted, the person concerned,
//! appointment and action, page by page (the details worded by `audit_detail`), and the same
//! records as a CSV download.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::audit_detail::{Fact, LIST_SHOWN, Wording};
use super::auth::FieldError;
use super::error::{WebError, WebResult};
use super::format;
use super::i18n::Lang;
use super::page::{Page, Staff};
use super::views::Choice;
use crate::domain::audit::{AuditAction, AuditActor};
use crate::domain::records::StaffMember;
use crate::domain::time::day_bounds;
use crate::services::ServiceError;
use crate::services::audit::{self, AuditLine, AuditQuery};
use crate::services::directory;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit_page)).route("/admin/audit.csv", get(audit_csv))
}

/// The filters as typed (every field optional).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct AuditForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    booking: String,
    #[serde(default)]
    action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    before: String,
}

impl AuditForm {
    /// The query string of these filters (without the page), for links.
    fn query(&self) -> String {
        let filters = Self { before: String::new(), ..self.clone() };
        serde_urlencoded::to_string(&filters).unwrap_or_default()
    }
}

/// A booking of a record: its reference (a link), or its id when no booking has it any more.
struct BookingLink {
    text: String,
    linked: bool,
}

/// One record as shown.
struct AuditRow {
    when: String,
    who: String,
    client: String,
    action: &'static str,
    unit: String,
    bookings: Vec<BookingLink>,
    /// Bookings not shown in the row (a long list).
    more: usize,
    count: String,
    detail: Vec<Fact>,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/audit.html")]
struct AuditPage {
    p: Page,
    f: AuditForm,
    actors: Vec<Choice>,
    subjects: Vec<Choice>,
    actions: Vec<Choice>,
    rows: Vec<AuditRow>,
    errors: Vec<FieldError>,
    query: String,
    older: Option<i32>,
}

impl AuditPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// Reads the form into a query, or the fields that are wrong.
fn parse(form: &AuditForm, state: &AppState, lang: Lang) -> Result<AuditQuery, Vec<FieldError>> {
    let tz = state.settings.time_zone;
    let mut errors = Vec::new();
    let mut day = |value: &str, field: &'static str, end: bool| {
        if value.trim().is_empty() {
            return None;
        }
        match crate::domain::time::parse_date(value).ok() {
            Some(date) => Some(if end { day_bounds(date, tz).1 } else { day_bounds(date, tz).0 }),
            None => {
                let key = if end { "audit.err.to" } else { "audit.err.from" };
                errors.push(FieldError::new(field, lang.t(key)));
                None
            }
        }
    };
    let (from, to) = (day(&form.from, "audit-from", false), day(&form.to, "audit-to", true));
    let action = match form.action.as_str() {
        "" => None,
        name => AuditAction::parse(name).or_else(|| {
            errors.push(FieldError::new("audit-action", lang.t("audit.err.action")));
            None
        }),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    Ok(AuditQuery {
        from,
        to,
        actor: text(&form.actor),
        subject: text(&form.subject),
        booking: text(&form.booking),
        action,
        before: form.before.parse().ok(),
        limit: None,
    })
}

/// A service's refusal of a filter, at its field.
fn field_error(err: ServiceError, lang: Lang) -> Result<FieldError, WebError> {
    match err {
        ServiceError::Invalid { field: field @ ("from" | "to" | "actor" | "subject" | "booking"), .. } => {
            Ok(FieldError::new(field_id(field), lang.t(&format!("audit.err.{field}"))))
        }
        other => Err(other.into()),
    }
}

fn field_id(field: &str) -> &'static str {
    match field {
        "from" => "audit-from",
        "to" => "audit-to",
        "actor" => "audit-actor",
        "subject" => "audit-subject",
        _ => "audit-booking",
    }
}

async fn audit_page(State(state): State<AppState>, staff: Staff, Query(form): Query<AuditForm>) -> WebResult<Response> {
    let lang = staff.page.lang;
    directory::require_admin(&state.db, &state.clock, &staff.actor, "audit.read").await?;
    let members = directory::list_staff_as(&state.db, &state.clock, &staff.actor).await?;
    let mut page = AuditPage {
        query: form.query(),
        f: form,
        actors: actor_choices(&members, lang),
        subjects: subject_choices(&members, lang),
        actions: action_choices(lang),
        rows: Vec::new(),
        errors: Vec::new(),
        older: None,
        p: staff.page.titled("audit.title"),
    };
    let read = match parse(&page.f, &state, lang) {
        Ok(query) => {
            audit::read(&state.db, &state.clock, &staff.actor, query).await.map_err(|e| vec![field_error(e, lang)])
        }
        Err(errors) => Err(errors.into_iter().map(Ok).collect()),
    };
    match read {
        Ok(found) => {
            page.older = found.next_before;
            let words = Wording { lang, tz: state.settings.time_zone, staff: &found.staff };
            page.rows = found.lines.iter().map(|line| row(line, &words)).collect();
            Ok(page.into_response())
        }
        Err(errors) => {
            page.errors = errors.into_iter().collect::<Result<_, _>>()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Every record matching the filters as one CSV file, made and sent [`audit::EXPORT_MAX`]
/// records at a time (each part recorded as an export), so a download of a year's records holds
/// one part in memory and leaves none out. The first part is made before the answer starts: a
/// refusal is a page of its own, not a broken file.
async fn audit_csv(State(state): State<AppState>, staff: Staff, Query(form): Query<AuditForm>) -> WebResult<Response> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "audit.export").await?;
    let query = parse(&form, &state, staff.page.lang).map_err(|_| WebError::BadRequest)?;
    let tz = state.settings.time_zone;
    let first = match audit::export(&state.db, &state.clock, &staff.actor, query.clone(), tz).await {
        Ok(csv) => csv,
        Err(ServiceError::Invalid { .. }) => return Err(WebError::BadRequest),
        Err(other) => return Err(other.into()),
    };
    let next = first.next_before;
    let staff_id = staff.actor.staff_id();
    let rest = futures_util::stream::unfold(next, move |before| {
        let (state, query) = (state.clone(), query.clone());
        async move {
            let query = AuditQuery { before: Some(before?), ..query };
            // The person as they are now: deactivated or no longer admin, the download ends.
            let exported = match crate::services::login::actor(&state.db, staff_id).await {
                Ok(Some(actor)) => audit::export(&state.db, &state.clock, &actor, query, tz).await,
                Ok(None) => Err(ServiceError::Forbidden),
                Err(err) => Err(err),
            };
            match exported {
                Ok(part) => Some((Ok(part.rows().to_owned()), part.next_before)),
                Err(err) => {
                    tracing::error!(error = ?err, "a part of the audit download failed; the file ends unfinished");
                    Some((Err(std::io::Error::other("the audit download failed")), None))
                }
            }
        }
    });
    let parts = futures_util::StreamExt::chain(futures_util::stream::once(async move { Ok(first.text) }), rest);
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
    ];
    Ok((headers, axum::body::Body::from_stream(parts)).into_response())
}

fn row(line: &AuditLine, words: &Wording<'_>) -> AuditRow {
    let (r, lang) = (&line.record, words.lang);
    let who = match r.actor {
        AuditActor::Staff(id) => words.person(id),
        AuditActor::Citizen => lang.t("audit.kind.citizen").to_owned(),
        AuditActor::System => lang.t("audit.kind.system").to_owned(),
        AuditActor::Anonymous => lang.t("audit.kind.anonymous").to_owned(),
    };
    AuditRow {
        when: format::short(r.at, words.tz, lang),
        who,
        client: r.client.clone().unwrap_or_default(),
        action: lang.t(&format!("audit.action.{}", r.action)),
        unit: line.unit.as_ref().map(|(_, name)| name.clone()).unwrap_or_default(),
        bookings: line
            .bookings
            .iter()
            .take(LIST_SHOWN)
            .map(|(id, reference)| match reference {
                Some(reference) => BookingLink { text: reference.clone(), linked: true },
                None => BookingLink { text: id.to_string(), linked: false },
            })
            .collect(),
        more: line.bookings.len().saturating_sub(LIST_SHOWN),
        count: r.item_count.map(|n| n.to_string()).unwrap_or_default(),
        detail: words.facts(r),
    }
}

/// Who acted: anyone, a kind of actor, or one of the staff.
fn actor_choices(members: &[StaffMember], lang: Lang) -> Vec<Choice> {
    let mut choices = vec![Choice { value: String::new(), label: lang.t("audit.all").to_owned() }];
    for kind in ["staff", "system", "citizen", "anonymous"] {
        choices.push(Choice { value: kind.to_owned(), label: lang.t(&format!("audit.kind.{kind}")).to_owned() });
    }
    choices.extend(members.iter().map(member_choice));
    choices
}

/// Whom a record concerns: anyone, or one of the staff.
fn subject_choices(members: &[StaffMember], lang: Lang) -> Vec<Choice> {
    let mut choices = vec![Choice { value: String::new(), label: lang.t("audit.all").to_owned() }];
    choices.extend(members.iter().map(member_choice));
    choices
}

fn member_choice(member: &StaffMember) -> Choice {
    Choice { label: format!("{} ({})", member.display_name, member.login), value: member.login.clone() }
}

fn action_choices(lang: Lang) -> Vec<Choice> {
    let mut choices = vec![Choice { value: String::new(), label: lang.t("audit.all").to_owned() }];
    choices.extend(AuditAction::ALL.iter().map(|action| Choice {
        value: action.as_str().to_owned(),
        label: lang.t(&format!("audit.action.{action}")).to_owned(),
    }));
    choices
}
