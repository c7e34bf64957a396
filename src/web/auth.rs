//! Login, logout, the start page and the language switch.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::error::WebResult;
use super::i18n::Lang;
use super::page::{ClientIp, CsrfForm, Page, Staff, Visitor, remember_login, renew_csrf, set_lang};
use crate::services::login::{self, LoginOutcome};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .route("/lang", get(switch_lang))
}

/// An error tied to a form field (`field` is the input's id).
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/login.html")]
struct LoginPage {
    p: Page,
    login: String,
    errors: Vec<FieldError>,
}

async fn home(staff: Staff) -> Redirect {
    let _ = staff;
    Redirect::to("/book")
}

async fn login_page(visitor: Visitor) -> LoginPage {
    LoginPage { p: visitor.page.titled("login.title"), login: String::new(), errors: Vec::new() }
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
    CsrfForm(form): CsrfForm<LoginForm>,
) -> WebResult<Response> {
    let page = visitor.page.titled("login.title");
    let error = if form.login.trim().is_empty() || form.password.is_empty() {
        "login.required"
    } else {
        match login::login(&state.db, &state.clock, &form.login, &form.password, &ip).await? {
            LoginOutcome::LoggedIn(actor) => {
                // A new session id at login defeats session fixation.
                visitor.session.cycle_id().await?;
                remember_login(&visitor.session, actor.staff_id()).await?;
                renew_csrf(&visitor.session).await?;
                return Ok(Redirect::to("/").into_response());
            }
            LoginOutcome::WrongCredentials => "login.wrong",
            LoginOutcome::Throttled => "login.throttled",
        }
    };
    let errors = vec![FieldError::new("login", page.t(error))];
    Ok(LoginPage { p: page, login: form.login, errors }.into_response())
}

#[derive(Deserialize)]
struct Empty {}

async fn log_out(visitor: Visitor, CsrfForm(_): CsrfForm<Empty>) -> WebResult<Redirect> {
    visitor.session.flush().await?;
    Ok(Redirect::to("/login"))
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
    #[serde(default)]
    back: String,
}

async fn switch_lang(visitor: Visitor, Query(query): Query<LangQuery>) -> WebResult<Redirect> {
    if let Some(lang) = Lang::parse(&query.to) {
        set_lang(&visitor.session, lang).await?;
    }
    // Only local paths, so the switch cannot be used as an open redirect.
    let back = if super::page::is_local_path(&query.back) { query.back } else { "/".to_owned() };
    Ok(Redirect::to(&back))
}
