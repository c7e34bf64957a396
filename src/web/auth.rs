//! The login (password, then the second factor if the person has one; a forced password change
//! or enrolment follows through the gates of `page::Staff`), logout, the start page and the
//! language switch (a link, or a form on a page whose path holds a secret).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::error::{WebError, WebResult};
use super::i18n::Lang;
use super::page::{
    AnonForm, ClientIp, CsrfForm, KnownBrowser, Page, Pending, PendingLogin, Staff, Visitor, complete_login,
    logged_in_as, remember_device, set_lang, start_pending,
};
use crate::services::login::{self, LoginOutcome, SecondStep};
use crate::services::mfa::MfaError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(log_in))
        .route("/login/code", get(code_page).post(enter_code))
        .route("/logout", post(log_out))
        .route("/lang", get(switch_lang).post(switch_lang_form))
}

/// An error tied to a form field (`field` is the input's id).
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
    /// Something to correct in the form (the summary asks for corrections); false for a refusal
    /// that no typing mends (the booking was cancelled meanwhile, a resend is refused): the
    /// summary then only asks to take note.
    pub correctable: bool,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into(), correctable: true }
    }

    /// A refusal shown at `field` that the form cannot mend.
    pub fn refusal(field: &'static str, message: impl Into<String>) -> Self {
        Self { correctable: false, ..Self::new(field, message) }
    }

    /// Whether any of `errors` asks for a correction (the error summary's heading).
    pub fn any_correctable(errors: &[Self]) -> bool {
        errors.iter().any(|e| e.correctable)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/login.html")]
struct LoginPage {
    p: Page,
    login: String,
    errors: Vec<FieldError>,
    /// A form was sent after the session had ended: what it held was not saved.
    expired: bool,
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    expired: Option<String>,
}

async fn home(staff: Staff) -> Redirect {
    let _ = staff;
    Redirect::to("/book")
}

async fn login_page(visitor: Visitor, Query(q): Query<LoginQuery>) -> LoginPage {
    let expired = q.expired.is_some();
    LoginPage { p: visitor.page.titled("login.title"), login: String::new(), errors: Vec::new(), expired }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn log_in(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    KnownBrowser(device): KnownBrowser,
    AnonForm(form): AnonForm<LoginForm>,
) -> WebResult<Response> {
    let page = visitor.page.titled("login.title");
    let refused = |page: Page, login: String, status: StatusCode, text: String| {
        let errors = vec![FieldError::new("login", text)];
        (status, LoginPage { expired: false, p: page, login, errors }).into_response()
    };
    if form.login.trim().is_empty() || form.password.is_empty() {
        let text = page.t("login.required").to_owned();
        return Ok(refused(page, form.login, StatusCode::UNPROCESSABLE_ENTITY, text));
    }
    match login::login(&state.db, &state.clock, &form.login, &form.password, &ip, &device).await? {
        LoginOutcome::CodeNeeded { staff_id, epoch } => {
            start_pending(&visitor.session, staff_id, epoch).await?;
            Ok(Redirect::to("/login/code").into_response())
        }
        LoginOutcome::LoggedIn { actor, epoch } => {
            complete_login(&visitor.session, actor.staff_id(), epoch).await?;
            remember_device(&visitor.cookies, &state, actor.staff_id(), &device).await?;
            Ok(Redirect::to("/").into_response())
        }
        LoginOutcome::WrongCredentials => {
            let text = page.t("login.wrong").to_owned();
            Ok(refused(page, form.login, StatusCode::UNPROCESSABLE_ENTITY, text))
        }
        // 429 with `Retry-After`, and the time on the page: the wait is what any stranger learns
        // by trying again, so saying it tells nothing more.
        LoginOutcome::Throttled { retry_after_secs } => {
            let until = state.clock.now() + chrono::TimeDelta::seconds(i64::try_from(retry_after_secs).unwrap_or(900));
            let text = format!(
                "{} {} {}.",
                page.t("login.throttled"),
                page.t("code.throttled_until"),
                super::format::short(until, state.settings.time_zone, page.lang),
            );
            let mut response = refused(page, form.login, StatusCode::TOO_MANY_REQUESTS, text);
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
            Ok(response)
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/login_code.html")]
struct CodePage {
    p: Page,
    errors: Vec<FieldError>,
}

async fn code_page(pending: Pending) -> CodePage {
    CodePage { p: pending.page.titled("code.title"), errors: Vec::new() }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn enter_code(
    State(state): State<AppState>,
    pending: Pending,
    ClientIp(ip): ClientIp,
    KnownBrowser(device): KnownBrowser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> WebResult<Response> {
    let PendingLogin { staff_id, epoch, .. } = pending.login;
    let page = pending.page.titled("code.title");
    let outcome = login::second_factor(&state.db, &state.clock, staff_id, epoch, &form.code, &ip, &device).await;
    let error = match outcome {
        Ok(SecondStep::LoggedIn) => {
            complete_login(&pending.session, staff_id, epoch).await?;
            remember_device(&pending.cookies, &state, staff_id, &device).await?;
            return Ok(Redirect::to("/").into_response());
        }
        Ok(SecondStep::Ended) => {
            pending.session.flush().await?;
            return Err(WebError::LoginRequired);
        }
        Err(MfaError::WrongCode | MfaError::AlreadyEnrolled | MfaError::NotEnrolled) => "code.wrong",
        Err(MfaError::Throttled { retry_after_secs, .. }) => {
            // The person knows the password: when the wait ends is no secret to them.
            let until =
                state.clock.now() + chrono::TimeDelta::seconds(i64::try_from(retry_after_secs).unwrap_or(86_400));
            let text = format!(
                "{} {} {}.",
                page.t("code.throttled"),
                page.t("code.throttled_until"),
                super::format::short(until, state.settings.time_zone, page.lang),
            );
            let errors = vec![FieldError::new("code", text)];
            let retry = [(axum::http::header::RETRY_AFTER, retry_after_secs.max(1).to_string())];
            return Ok((StatusCode::TOO_MANY_REQUESTS, retry, CodePage { p: page, errors }).into_response());
        }
        Err(MfaError::Service(err)) => return Err(err.into()),
    };
    let errors = vec![FieldError::new("code", page.t(error))];
    Ok((StatusCode::UNPROCESSABLE_ENTITY, CodePage { p: page, errors }).into_response())
}

#[derive(Deserialize)]
struct Empty {}

async fn log_out(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Redirect> {
    if let Some(staff_id) = logged_in_as(&visitor.session).await? {
        login::logged_out(&state.db, &state.clock, staff_id, &ip).await?;
    }
    visitor.session.flush().await?;
    Ok(Redirect::to("/login"))
}

/// The language switch's fields: the language, and the path to lead back to.
#[derive(Deserialize)]
struct LangQuery {
    to: String,
    #[serde(default)]
    back: String,
}

async fn switch_lang(State(state): State<AppState>, visitor: Visitor, Query(query): Query<LangQuery>) -> Redirect {
    switch_to(&state, &visitor, query)
}

/// The switch of a page whose path holds a secret (a reset link's): the same fields in a form's
/// body, so that the secret is in no address (`Page::path_is_secret`).
async fn switch_lang_form(
    State(state): State<AppState>,
    visitor: Visitor,
    AnonForm(form): AnonForm<LangQuery>,
) -> Redirect {
    switch_to(&state, &visitor, form)
}

fn switch_to(state: &AppState, visitor: &Visitor, switch: LangQuery) -> Redirect {
    if let Some(lang) = Lang::parse(&switch.to) {
        set_lang(&visitor.cookies, state, lang);
    }
    // Only local paths, so the switch cannot be used as an open redirect.
    let back = if super::page::is_local_path(&switch.back) { switch.back } else { "/".to_owned() };
    Redirect::to(&back)
}
