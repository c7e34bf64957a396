//! The page of a one-time password reset link: the person chooses a new password (the link's
//! token in the path; an anonymous form, so no session row is written).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::account::password_problem;
use super::auth::FieldError;
use super::error::WebResult;
use super::page::{AnonForm, ClientIp, Page, Visitor};
use crate::services::passwords::{self, PasswordError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/reset/{token}", get(reset_page).post(reset_password))
}

/// What the reset page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResetState {
    /// The form, for this login.
    Form,
    /// The link is unknown, used or expired.
    Invalid,
    /// The password was set.
    Done,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/reset.html")]
struct ResetPage {
    p: Page,
    state: ResetState,
    login: String,
    token: String,
    errors: Vec<FieldError>,
}

impl ResetPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

fn page(visitor: Visitor, state: ResetState, login: String, token: String, errors: Vec<FieldError>) -> Response {
    let status = match (state, errors.is_empty()) {
        (ResetState::Invalid, _) => StatusCode::NOT_FOUND,
        (ResetState::Form, false) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let mut p = visitor.page.titled("reset.title");
    if state == ResetState::Done {
        // The link is used up: switching the language leads on to the login (its page is the
        // next step), not back to the link, which would now say it is invalid.
        p.path = "/login".to_owned();
    }
    (status, ResetPage { p, state, login, token, errors }).into_response()
}

async fn reset_page(State(state): State<AppState>, visitor: Visitor, Path(token): Path<String>) -> WebResult<Response> {
    Ok(match passwords::reset_link_login(&state.db, &state.clock, &token).await? {
        Some(login) => page(visitor, ResetState::Form, login, token, Vec::new()),
        None => page(visitor, ResetState::Invalid, String::new(), String::new(), Vec::new()),
    })
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

async fn reset_password(
    State(state): State<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    Path(token): Path<String>,
    AnonForm(form): AnonForm<ResetForm>,
) -> WebResult<Response> {
    let lang = visitor.page.lang;
    let Some(login) = passwords::reset_link_login(&state.db, &state.clock, &token).await? else {
        return Ok(page(visitor, ResetState::Invalid, String::new(), String::new(), Vec::new()));
    };
    if form.new != form.repeat {
        let errors = vec![FieldError::new("pw-repeat", lang.t("pw.mismatch"))];
        return Ok(page(visitor, ResetState::Form, login, token, errors));
    }
    match passwords::redeem_reset_link(&state.db, &state.clock, &token, &form.new, ip.addr()).await {
        Ok(()) => Ok(page(visitor, ResetState::Done, login, String::new(), Vec::new())),
        Err(PasswordError::Weak(problem)) => {
            let errors = vec![FieldError::new("pw-new", password_problem(lang, problem))];
            Ok(page(visitor, ResetState::Form, login, token, errors))
        }
        Err(PasswordError::LinkInvalid | PasswordError::WrongCurrent | PasswordError::Throttled { .. }) => {
            Ok(page(visitor, ResetState::Invalid, String::new(), String::new(), Vec::new()))
        }
        Err(PasswordError::Service(err)) => Err(err.into()),
    }
}
