//! One person's page for admins: their name, work email and counselling languages (changed in one
//! form), roles (each can be taken away), deactivate or reactivate, a
//! one-time password reset link (shown once), a second-factor reset, and their API tokens (each
//! valid one revoked on its own, or all at once with the calendar subscription). Each
//! action done leads back to the page (303), so a reload does none of them again.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::super::auth::FieldError;
use super::super::error::{WebError, WebResult};
use super::super::i18n::{Lang, service_message};
use super::super::page::{CsrfForm, Page, Staff};
use super::super::views::language_name;
use super::once::{self, DoneQuery};
use super::staff::{role_words, when};
use crate::domain::accounts::StaffAccount;
use crate::domain::clash::Clash;
use crate::domain::ids::StaffId;
use crate::domain::language::Language;
use crate::domain::missing::Missing;
use crate::services::ServiceError;
use crate::services::accounts::{self, ByWhom};
use crate::services::directory::{self, StaffRole};
use crate::services::{mfa, passwords, tokens};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/staff/{login}", get(person_page))
        .route("/admin/staff/{login}/details", post(change_details))
        .route("/admin/staff/{login}/deactivate", post(deactivate))
        .route("/admin/staff/{login}/activate", post(activate))
        .route("/admin/staff/{login}/remove-role", post(remove_role))
        .route("/admin/staff/{login}/password-reset", post(reset_password))
        .route("/admin/staff/{login}/mfa-reset", post(reset_mfa))
        .route("/admin/staff/{login}/tokens/revoke", post(revoke_tokens))
        .route("/admin/staff/{login}/tokens/{id}/revoke", post(revoke_token))
}

/// A role with what the remove form sends.
struct RoleRow {
    label: String,
    role: String,
    unit: String,
}

/// A language the details form (and the staff page's form) offers, ticked when the person
/// counsels in it.
pub(super) struct LanguageBox {
    pub(super) code: String,
    pub(super) label: String,
    pub(super) checked: bool,
}

/// The details form as typed (shown again with its errors).
struct DetailsTyped {
    name: String,
    email: String,
    /// The languages ticked.
    languages: Vec<Language>,
}

struct TokenRow {
    id: i32,
    /// Neither revoked nor expired: it can be revoked.
    valid: bool,
    name: String,
    state: &'static str,
    expires: String,
    last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/person.html")]
struct PersonPage {
    p: Page,
    login: String,
    name: String,
    active: bool,
    mfa: bool,
    last_login: String,
    /// The details form's values: as stored, or as typed when refused.
    details_name: String,
    details_email: String,
    languages: Vec<LanguageBox>,
    /// Refusals at the details form's fields.
    errors: Vec<FieldError>,
    /// The fingerprint of the details stored now (`accounts::details_seen`), sent back with the
    /// form so that a colleague's change meanwhile is not undone unseen.
    seen: String,
    roles: Vec<RoleRow>,
    tokens: Vec<TokenRow>,
    /// Revoked and expired tokens older than those listed (the list holds the newest ended ones).
    older_ended: u64,
    /// A text key of what was just done.
    done: Option<&'static str>,
    /// A refusal (e.g. the last admin).
    refused: Option<&'static str>,
    /// A reset link just made, shown once.
    reset_url: Option<String>,
}

impl PersonPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What the page says after an action.
#[derive(Default)]
struct Outcome {
    done: Option<&'static str>,
    refused: Option<&'static str>,
    reset_url: Option<String>,
    /// The details form refused: as typed, with its errors.
    details: Option<(DetailsTyped, Vec<FieldError>)>,
    /// The details changed meanwhile (409 rather than 422).
    changed_meanwhile: bool,
}

/// Revoked and expired tokens the person's page lists, the newest (valid ones are all listed).
const ENDED_TOKENS_SHOWN: u64 = 10;

async fn person_view(state: &AppState, staff: Staff, login: &str, outcome: Outcome) -> WebResult<Response> {
    let lang = staff.page.lang;
    let account = accounts::find(state.accounts(), ByWhom::Staff(&staff.actor), login).await?;
    let units = directory::list_units(&state.db).await?;
    let (now, tz) = (state.clock.now(), state.settings.time_zone);
    let token_rows = tokens::list(&state.db, &state.clock, account.member.id, Some(ENDED_TOKENS_SHOWN))
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            valid: t.revoked_at.is_none() && t.is_valid_at(now),
            state: match (t.revoked_at, t.is_valid_at(now)) {
                (Some(_), _) => "token.revoked",
                (None, true) => "token.valid",
                (None, false) => "token.expired",
            },
            expires: when(t.expires_at, tz, lang),
            last_used: when(t.last_used_at, tz, lang),
            name: t.label,
        })
        .collect::<Vec<_>>();
    let older_ended = older_ended(state, account.member.id, &token_rows).await?;
    let status = match (&outcome.refused, &outcome.details) {
        (Some(_), _) => StatusCode::CONFLICT,
        (None, Some(_)) if outcome.changed_meanwhile => StatusCode::CONFLICT,
        (None, Some(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        (None, None) => StatusCode::OK,
    };
    let member = &account.member;
    let (typed, errors) = outcome.details.unwrap_or_else(|| {
        let stored = DetailsTyped {
            name: member.display_name.clone(),
            email: member.email.clone().unwrap_or_default(),
            languages: member.languages.clone(),
        };
        (stored, Vec::new())
    });
    let page = PersonPage {
        details_name: typed.name,
        details_email: typed.email,
        languages: language_boxes(&member.languages, &typed.languages, lang),
        errors,
        seen: accounts::details_seen(member),
        login: account.member.login.clone(),
        name: account.member.display_name.clone(),
        active: account.member.active,
        mfa: account.mfa_enabled,
        last_login: when(account.last_login_at, tz, lang),
        roles: role_rows(&account, &units, lang),
        tokens: token_rows,
        older_ended,
        done: outcome.done,
        refused: outcome.refused,
        reset_url: outcome.reset_url,
        p: staff.page.titled("person.title"),
    };
    Ok((status, page).into_response())
}

/// Every supported language, then any other the person has stored (from an earlier release),
/// each ticked when `ticked` names it.
pub(super) fn language_boxes(stored: &[Language], ticked: &[Language], lang: Lang) -> Vec<LanguageBox> {
    let mut offered: Vec<Language> = Language::all().collect();
    offered.extend(stored.iter().filter(|l| l.names().is_none()).cloned());
    offered
        .into_iter()
        .map(|l| LanguageBox {
            checked: ticked.contains(&l),
            label: language_name(&l, lang),
            code: l.code().to_owned(),
        })
        .collect()
}

/// The languages ticked in a form's boxes `lang_<code>`, in the order the form lists them: the
/// supported ones, then those of `stored` outside that list (from an earlier release); any other
/// code sent is ignored.
pub(super) fn ticked_languages(form: &BTreeMap<String, String>, stored: &[Language]) -> Vec<Language> {
    Language::all()
        .chain(stored.iter().filter(|l| l.names().is_none()).cloned())
        .filter(|l| form.contains_key(&format!("lang_{}", l.code())))
        .collect()
}

/// How many ended tokens the list left out: counted only when it holds as many ended ones as it
/// shows at most.
async fn older_ended(state: &AppState, staff_id: StaffId, rows: &[TokenRow]) -> WebResult<u64> {
    let listed = rows.iter().filter(|t| !t.valid).count() as u64;
    if listed < ENDED_TOKENS_SHOWN {
        return Ok(0);
    }
    Ok(tokens::count_ended(&state.db, &state.clock, staff_id).await?.saturating_sub(listed))
}

fn role_rows(account: &StaffAccount, units: &[crate::domain::records::Unit], lang: Lang) -> Vec<RoleRow> {
    let labels = role_words(account, units, lang);
    let mut values: Vec<(String, String)> = account
        .member
        .memberships
        .iter()
        .map(|(unit_id, role)| {
            let unit = units.iter().find(|u| u.id == *unit_id).map(|u| u.slug.clone()).unwrap_or_default();
            (role.as_str().to_owned(), unit)
        })
        .collect();
    if account.member.is_admin {
        values.insert(0, ("admin".to_owned(), String::new()));
    }
    labels.into_iter().zip(values).map(|(label, (role, unit))| RoleRow { label, role, unit }).collect()
}

/// What each action's `done=` says on the page.
const DONE: &[(&str, &str)] = &[
    ("details", "person.done.details"),
    ("deactivated", "person.done.deactivated"),
    ("activated", "person.done.activated"),
    ("role_removed", "person.done.role_removed"),
    ("reset_link", "person.done.reset_link"),
    ("mfa_reset", "person.done.mfa_reset"),
    ("mfa_reset_link", "person.done.mfa_reset_link"),
    ("tokens_revoked", "person.done.tokens_revoked"),
    ("token_revoked", "person.done.token_revoked"),
];

/// A reset link just made, kept in the session until the person's page shows it once.
const KEY_RESET_LINK: &str = "admin.reset_link";

#[derive(Serialize, Deserialize)]
struct ResetLink {
    login: String,
    url: String,
    /// The person was inactive: the link took their password away.
    #[serde(default)]
    password_cleared: bool,
}

async fn person_page(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path(login): Path<String>,
    Query(q): Query<DoneQuery>,
) -> WebResult<Response> {
    let mut outcome = Outcome { done: q.notice(DONE), ..Outcome::default() };
    let after_mfa_reset = outcome.done == Some("person.done.mfa_reset_link");
    if outcome.done == Some("person.done.reset_link") || after_mfa_reset {
        // Shown once: a reload of the page says it was, and the link is not in any address.
        let link = once::take::<ResetLink>(&session, KEY_RESET_LINK).await?.filter(|l| l.login == login);
        match link {
            Some(link) => {
                if link.password_cleared && !after_mfa_reset {
                    outcome.done = Some("person.done.reset_link_password_cleared");
                }
                outcome.reset_url = Some(link.url);
            }
            None => outcome.done = Some("person.done.reset_link_shown"),
        }
    }
    person_view(&state, staff, &login, outcome).await
}

/// What a login keeps as it is in the path of the person's page (RFC 3986's unreserved).
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_').remove(b'~');

/// The person's page after an action that was done (with `done`).
fn done(login: &str, done: &str) -> Response {
    let path = format!("/admin/staff/{}", percent_encoding::utf8_percent_encode(login, PATH_SEGMENT));
    once::see_page(&path, done)
}

#[derive(Deserialize)]
struct Empty {}

/// After an action: on to the page saying what was done, or the page saying why it was refused.
async fn after(
    state: &AppState,
    staff: Staff,
    login: &str,
    result: Result<&'static str, ServiceError>,
) -> WebResult<Response> {
    let lang = staff.page.lang;
    let outcome = match result {
        Ok(action) => return Ok(done(login, action)),
        Err(err @ (ServiceError::Conflict { .. } | ServiceError::Invalid { .. })) => {
            Outcome { refused: Some(service_message(lang, &err)), ..Outcome::default() }
        }
        Err(ServiceError::NotFound(Missing::Role)) => {
            Outcome { refused: Some(lang.t("person.role_gone")), ..Outcome::default() }
        }
        Err(err) => return Err(WebError::from(err)),
    };
    person_view(state, staff, login, outcome).await
}

/// Changes the person's name, work email and languages (a field that differs from the stored
/// value is written; the form sends all three). Languages come as ticked boxes `lang_<code>`; a
/// code neither supported nor stored for the person is ignored.
async fn change_details(
    State(state): State<AppState>,
    staff: Staff,
    Path(login): Path<String>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> WebResult<Response> {
    let lang = staff.page.lang;
    let account = accounts::find(state.accounts(), ByWhom::Staff(&staff.actor), &login).await?;
    let languages = ticked_languages(&form, &account.member.languages);
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let change = accounts::DetailsChange {
        name: Some(field("name")),
        email: Some(Some(field("email"))),
        languages: Some(languages.clone()),
        seen: Some(field("seen")).filter(|seen| !seen.is_empty()),
    };
    let typed = DetailsTyped { name: field("name"), email: field("email"), languages };
    // Every wrong field at once, each at its input.
    let errors: Vec<FieldError> = accounts::details_problems(&change)
        .into_iter()
        .map(|(problem, _)| match problem {
            "email" => FieldError::new("person-email", lang.t("field.email")),
            _ => FieldError::new("person-name", name_message(&typed.name, lang)),
        })
        .collect();
    if !errors.is_empty() {
        let outcome = Outcome { details: Some((typed, errors)), ..Outcome::default() };
        return person_view(&state, staff, &login, outcome).await;
    }
    match accounts::change_details(state.accounts(), ByWhom::Staff(&staff.actor), &login, change).await {
        Ok(_) => Ok(done(&login, "details")),
        // A colleague changed the details since the page was opened: what was typed stays, the
        // page shows what is stored now, and saving again (knowingly) replaces it.
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
            let now = accounts::find(state.accounts(), ByWhom::Staff(&staff.actor), &login).await?;
            let stored = stored_words(&now.member, lang);
            let message = lang.t("person.details.changed_meanwhile").replace("{stored}", &stored);
            let errors = vec![FieldError::refusal("person-name", message)];
            let outcome = Outcome { details: Some((typed, errors)), changed_meanwhile: true, ..Outcome::default() };
            person_view(&state, staff, &login, outcome).await
        }
        Err(err) => Err(WebError::from(err)),
    }
}

/// Why a typed name is refused, in the page's language.
fn name_message(name: &str, lang: Lang) -> String {
    use crate::domain::citizen::NameFault;
    let text = match crate::domain::citizen::name_fault(name.trim()) {
        Some(NameFault::Empty) => "err.required",
        Some(NameFault::TooLong) => "field.name",
        Some(NameFault::NotOneLine) => "err.control",
        Some(NameFault::NoLetterOrDigit) | None => "person.err.name_letters",
    };
    lang.t(text).to_owned()
}

/// The stored details in words: "Jana Winterberg, jana@…, Deutsch und Türkisch".
fn stored_words(member: &crate::domain::records::StaffMember, lang: Lang) -> String {
    let languages: Vec<String> = member.languages.iter().map(|l| language_name(l, lang)).collect();
    let languages =
        if languages.is_empty() { lang.t("person.languages.none").to_owned() } else { languages.join(", ") };
    let email = member.email.clone().unwrap_or_else(|| lang.t("person.email.none").to_owned());
    format!("{}; {email}; {languages}", member.display_name)
}

async fn deactivate(
    State(state): State<AppState>,
    staff: Staff,
    Path(login): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let result = accounts::deactivate(state.accounts(), ByWhom::Staff(&staff.actor), &login).await;
    after(&state, staff, &login, result.map(|_| "deactivated")).await
}

async fn activate(
    State(state): State<AppState>,
    staff: Staff,
    Path(login): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let result = accounts::activate(state.accounts(), ByWhom::Staff(&staff.actor), &login).await;
    after(&state, staff, &login, result.map(|_| "activated")).await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
}

async fn remove_role(
    State(state): State<AppState>,
    staff: Staff,
    Path(login): Path<String>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> WebResult<Response> {
    let role = StaffRole::parse(&form.role).ok_or(WebError::BadRequest)?;
    let unit = Some(form.unit.as_str()).filter(|u| !u.is_empty());
    let result = accounts::remove_role(state.accounts(), ByWhom::Staff(&staff.actor), &login, role, unit).await;
    after(&state, staff, &login, result.map(|_| "role_removed")).await
}

async fn reset_password(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path(login): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let link = passwords::create_reset_link(state.accounts(), ByWhom::Staff(&staff.actor), &login).await?;
    let shown =
        ResetLink { login: login.clone(), url: link.url(&state.base_url), password_cleared: link.password_cleared };
    once::keep(&session, KEY_RESET_LINK, &shown).await?;
    Ok(done(&login, "reset_link"))
}

/// Resets the second factor; when there was one, the page then shows the one-time link (once)
/// with which the person sets a new password before setting up a new factor.
async fn reset_mfa(
    State(state): State<AppState>,
    staff: Staff,
    session: Session,
    Path(login): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let reset = mfa::reset(state.accounts(), ByWhom::Staff(&staff.actor), &login).await?;
    let Some(link) = reset.link else { return Ok(done(&login, "mfa_reset")) };
    let shown = ResetLink { login: login.clone(), url: link.url(&state.base_url), password_cleared: true };
    once::keep(&session, KEY_RESET_LINK, &shown).await?;
    Ok(done(&login, "mfa_reset_link"))
}

async fn revoke_tokens(
    State(state): State<AppState>,
    staff: Staff,
    Path(login): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let account = accounts::find(state.accounts(), ByWhom::Staff(&staff.actor), &login).await?;
    let by = (&staff.actor).into();
    let result = tokens::revoke_all(&state.db, &state.clock, &state.tokens, by, &account.member).await;
    after(&state, staff, &login, result.map(|_| "tokens_revoked")).await
}

/// Revokes one of the person's tokens (and every token made with it). A token of someone else,
/// named under this person's address, is not found.
async fn revoke_token(
    State(state): State<AppState>,
    staff: Staff,
    Path((login, id)): Path<(String, i32)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let account = accounts::find(state.accounts(), ByWhom::Staff(&staff.actor), &login).await?;
    let by = (&staff.actor).into();
    tokens::revoke_of(&state.db, &state.clock, &state.tokens, by, account.member.id, id).await?;
    Ok(done(&login, "token_revoked"))
}
