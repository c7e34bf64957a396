//! A person's own account: changing the password (also the forced change after a password they
//! did not choose), enrolling a TOTP second factor with a QR code (also when it is required),
//! and new recovery codes.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::auth::FieldError;
use super::error::{WebError, WebResult};
use super::i18n::Lang;
use super::page::{CsrfForm, KEY_ENROL, Page, SignedIn, Staff, renew_login};
use crate::domain::accounts::Gate;
use crate::domain::clash::Clash;
use crate::domain::password::PasswordProblem;
use crate::services::ServiceError;
use crate::services::mfa::{self, MfaError};
use crate::services::passwords::{self, PasswordError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/password", get(password_page).post(change_password))
        .route("/account/mfa", get(enrol_page).post(confirm_enrolment))
        .route("/account/mfa/recovery-codes", post(renew_codes))
}

/// The account page, or the forced password change (`forced`).
#[derive(Template, WebTemplate)]
#[template(path = "web/account.html")]
struct AccountPage {
    p: Page,
    forced: bool,
    errors: Vec<FieldError>,
    /// Second factor enrolled, and recovery codes left.
    mfa: (bool, u64),
    saved: Option<&'static str>,
}

impl AccountPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

async fn account_view(state: &AppState, signed_in: SignedIn, errors: Vec<FieldError>) -> WebResult<AccountPage> {
    let forced = signed_in.gate == Some(Gate::ChangePassword);
    let mfa = mfa::status(&state.db, signed_in.actor.staff_id()).await?;
    let title = if forced { "account.forced.title" } else { "account.title" };
    Ok(AccountPage { p: signed_in.page.titled(title), forced, errors, mfa, saved: None })
}

async fn account_page(State(state): State<AppState>, staff: Staff) -> WebResult<AccountPage> {
    let mfa = mfa::status(&state.db, staff.actor.staff_id()).await?;
    Ok(AccountPage { p: staff.page.titled("account.title"), forced: false, errors: Vec::new(), mfa, saved: None })
}

async fn password_page(State(state): State<AppState>, signed_in: SignedIn) -> WebResult<AccountPage> {
    account_view(&state, signed_in, Vec::new()).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// The message at the new-password field for a refused password.
pub fn password_problem(lang: Lang, problem: PasswordProblem) -> &'static str {
    lang.t(&format!("pw.{}", problem.code()))
}

async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    let lang = signed_in.page.lang;
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let error = if form.new == form.repeat {
        let seen = Some(signed_in.epoch);
        match passwords::change_own(&state.db, &state.clock, &signed_in.actor, &form.current, &form.new, seen).await {
            Ok(epoch) => return password_changed(&state, signed_in, epoch).await,
            // The account changed while the password was checked (an admin reset it or ended
            // its sessions, another tab changed it): this session has ended, nothing was saved.
            Err(PasswordError::Service(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. })) => {
                return Err(WebError::SessionEnded);
            }
            Err(PasswordError::WrongCurrent) => FieldError::new("pw-current", lang.t("pw.wrong_current")),
            Err(PasswordError::Throttled { .. }) => {
                status = StatusCode::TOO_MANY_REQUESTS;
                FieldError::new("pw-current", lang.t("pw.throttled"))
            }
            Err(PasswordError::Weak(problem)) => FieldError::new("pw-new", password_problem(lang, problem)),
            Err(PasswordError::LinkInvalid) => return Err(WebError::BadRequest),
            Err(PasswordError::Service(err)) => return Err(err.into()),
        }
    } else {
        FieldError::new("pw-repeat", lang.t("pw.mismatch"))
    };
    let page = account_view(&state, signed_in, vec![error]).await?;
    Ok((status, page).into_response())
}

/// Keeps this session (the others have ended) and goes on: to the desk after a forced change,
/// else back to the account page saying so.
async fn password_changed(state: &AppState, mut signed_in: SignedIn, epoch: i32) -> WebResult<Response> {
    renew_login(&state.db, &signed_in.session, &mut signed_in.page, epoch).await?;
    if signed_in.gate.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let mfa = mfa::status(&state.db, signed_in.actor.staff_id()).await?;
    let p = signed_in.page.titled("account.title");
    Ok(AccountPage { p, forced: false, errors: Vec::new(), mfa, saved: Some("account.password.saved") }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "web/mfa_enrol.html")]
struct EnrolPage {
    p: Page,
    required: bool,
    secret: String,
    qr_svg: String,
    errors: Vec<FieldError>,
}

async fn enrol_view(state: &AppState, signed_in: SignedIn, errors: Vec<FieldError>) -> WebResult<Response> {
    match signed_in.gate {
        Some(Gate::ChangePassword) => return Ok(Redirect::to("/account/password").into_response()),
        None if mfa::status(&state.db, signed_in.actor.staff_id()).await?.0 => {
            return Ok(Redirect::to("/account").into_response());
        }
        _ => {}
    }
    // The secret stays the same while the page is reloaded or a code was wrong.
    let secret = signed_in.session.get::<String>(KEY_ENROL).await?;
    let enrolment = mfa::enrolment(signed_in.actor.login(), secret.as_deref())?;
    signed_in.session.insert(KEY_ENROL, &enrolment.secret).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = EnrolPage {
        required: signed_in.gate == Some(Gate::EnrolSecondFactor),
        p: signed_in.page.titled("mfa.title"),
        secret: enrolment.secret,
        qr_svg: enrolment.qr_svg,
        errors,
    };
    Ok((status, page).into_response())
}

async fn enrol_page(State(state): State<AppState>, signed_in: SignedIn) -> WebResult<Response> {
    enrol_view(&state, signed_in, Vec::new()).await
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/recovery_codes.html")]
struct CodesPage {
    p: Page,
    codes: Vec<String>,
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    mut signed_in: SignedIn,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> WebResult<Response> {
    let lang = signed_in.page.lang;
    let Some(secret) = signed_in.session.get::<String>(KEY_ENROL).await? else {
        return Ok(Redirect::to("/account/mfa").into_response());
    };
    let staff_id = signed_in.actor.staff_id();
    let client = signed_in.actor.client();
    match mfa::confirm_enrolment(&state.db, &state.clock, staff_id, &secret, &form.code, signed_in.epoch, client).await
    {
        Ok(mfa::Enrolled { codes, epoch }) => {
            signed_in.session.remove::<String>(KEY_ENROL).await?;
            renew_login(&state.db, &signed_in.session, &mut signed_in.page, epoch).await?;
            Ok(CodesPage { p: signed_in.page.titled("codes.title"), codes }.into_response())
        }
        Err(MfaError::AlreadyEnrolled) => Ok(Redirect::to("/account").into_response()),
        // Reset or ended meanwhile: this session has ended, nothing was stored.
        Err(MfaError::Service(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. })) => {
            Err(WebError::SessionEnded)
        }
        Err(MfaError::Service(err)) => Err(err.into()),
        Err(_) => enrol_view(&state, signed_in, vec![FieldError::new("mfa-code", lang.t("code.wrong"))]).await,
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn renew_codes(State(state): State<AppState>, staff: Staff, CsrfForm(_): CsrfForm<Empty>) -> WebResult<Response> {
    match mfa::renew_recovery_codes(&state.db, &state.clock, staff.actor.staff_id(), staff.actor.client()).await {
        Ok(codes) => Ok(CodesPage { p: staff.page.titled("codes.title"), codes }.into_response()),
        Err(MfaError::Service(err)) => Err(err.into()),
        Err(_) => Ok(Redirect::to("/account/mfa").into_response()),
    }
}
