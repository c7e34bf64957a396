//! Errors of the web pages: a redirect to the login page, or a small error page.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::{Lang, service_message};
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
    /// A refusal the handler did not show at a form (a rule, a conflict, invalid input, a busy
    /// database): a page naming it with 422, 409 or 503, never a 500.
    #[error("refused")]
    Refused { status: StatusCode, message: &'static str },
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
        let (status, message) = match &self {
            Self::LoginRequired => return Redirect::to("/login").into_response(),
            Self::Csrf => (StatusCode::FORBIDDEN, lang.t("error.csrf")),
            Self::Forbidden => (StatusCode::FORBIDDEN, lang.t("error.forbidden")),
            Self::NotFound => (StatusCode::NOT_FOUND, lang.t("error.notfound")),
            Self::BadRequest => (StatusCode::BAD_REQUEST, lang.t("error.bad")),
            Self::Refused { status, message } => (*status, *message),
            Self::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, lang.t("error.overloaded")),
            Self::Internal(err) => {
                tracing::error!(error = ?err, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, lang.t("error.internal"))
            }
        };
        let page = ErrorPage { lang: lang.code(), title: lang.t("error.title"), message, back: lang.t("error.back") };
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
            ServiceError::Forbidden | ServiceError::NotPermitted(_) => Self::Forbidden,
            ServiceError::NotFound(_) => Self::NotFound,
            ServiceError::Overloaded { retry_after_secs } => Self::Overloaded { retry_after_secs },
            ServiceError::Throttled { .. } => {
                Self::Refused { status: StatusCode::TOO_MANY_REQUESTS, message: service_message(Lang::De, &err) }
            }
            ServiceError::Rule(_) | ServiceError::Invalid { .. } => {
                Self::Refused { status: StatusCode::UNPROCESSABLE_ENTITY, message: service_message(Lang::De, &err) }
            }
            ServiceError::Conflict { .. } => {
                Self::Refused { status: StatusCode::CONFLICT, message: service_message(Lang::De, &err) }
            }
            ServiceError::Busy => {
                Self::Refused { status: StatusCode::SERVICE_UNAVAILABLE, message: service_message(Lang::De, &err) }
            }
            other @ ServiceError::Store(_) => Self::Internal(other.into()),
        }
    }
}

impl From<tower_sessions::session::Error> for WebError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::Internal(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clash::Clash;
    use crate::domain::refusal::Refusal;

    #[test]
    fn refusals_a_handler_did_not_catch_are_pages_with_their_status_never_a_500() {
        let cases = [
            (ServiceError::Rule(Refusal::TooEarly), StatusCode::UNPROCESSABLE_ENTITY),
            (ServiceError::invalid("capacity", "must be between 1 and 100"), StatusCode::UNPROCESSABLE_ENTITY),
            (ServiceError::conflict(Clash::SlotTaken), StatusCode::CONFLICT),
            (ServiceError::Busy, StatusCode::SERVICE_UNAVAILABLE),
        ];
        for (err, status) in cases {
            let shown = format!("{err:?}");
            assert_eq!(WebError::from(err).into_response().status(), status, "{shown}");
        }
    }
}
