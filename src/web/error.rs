//! Errors of the web pages: a redirect to the login page, or a small error page.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::Lang;
use crate::services::ServiceError;

/// What can end a page request early.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("login required")]
    LoginRequired,
    #[error("form without valid CSRF token")]
    Csrf,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request")]
    BadRequest,
    /// Too many logins at once: a 503 page with `Retry-After`.
    #[error("overloaded")]
    Overloaded { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type WebResult<T> = Result<T, WebError>;

#[derive(Template, WebTemplate)]
#[template(path = "web/error.html")]
struct ErrorPage {
    lang: &'static str,
    title: &'static str,
    message: &'static str,
    back: &'static str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // The error page does not know the visitor's language choice: German first.
        let lang = Lang::De;
        let (status, key) = match &self {
            Self::LoginRequired => return Redirect::to("/login").into_response(),
            Self::Csrf => (StatusCode::FORBIDDEN, "error.csrf"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "error.forbidden"),
            Self::NotFound => (StatusCode::NOT_FOUND, "error.notfound"),
            Self::BadRequest => (StatusCode::BAD_REQUEST, "error.bad"),
            Self::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "error.overloaded"),
            Self::Internal(err) => {
                tracing::error!(error = ?err, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
            }
        };
        let page = ErrorPage {
            lang: lang.code(),
            title: lang.t("error.title"),
            message: lang.t(key),
            back: lang.t("error.back"),
        };
        let mut response = (status, page).into_response();
        if let Self::Overloaded { retry_after_secs } = self {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

impl From<ServiceError> for WebError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Forbidden | ServiceError::NotPermitted { .. } => Self::Forbidden,
            ServiceError::NotFound { .. } => Self::NotFound,
            ServiceError::Overloaded { retry_after_secs } => Self::Overloaded { retry_after_secs },
            other => Self::Internal(other.into()),
        }
    }
}

impl From<tower_sessions::session::Error> for WebError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::Internal(err.into())
    }
}
