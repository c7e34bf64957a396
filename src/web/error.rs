//! Errors of the web pages: a redirect to the login page, or a small error page in the language
//! the person chose (see [`in_chosen_language`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::{Lang, service_message};
use crate::services::ServiceError;

/// What can end a page request early.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("login required")]
    LoginRequired,
    /// A form sent without a live session (it ended while the form was being filled in): to the
    /// login page, which says that nothing was saved.
    #[error("session ended before the form was sent")]
    SessionEnded,
    #[error("form without valid CSRF token")]
    Csrf,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request")]
    BadRequest,
    /// A form or body over the size the service reads: 413.
    #[error("request too large")]
    TooLarge,
    /// A refusal the handler did not show at a form (a rule, a conflict, invalid input, a busy
    /// database): a page naming it with 422, 409 or 503, never a 500.
    #[error("refused")]
    Refused { status: StatusCode, message: Worded },
    /// Too many logins at once: a 503 page with `Retry-After`.
    #[error("overloaded")]
    Overloaded { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type WebResult<T> = Result<T, WebError>;

/// A message in both interface languages, so that it can be worded where the error is made (the
/// person's language not at hand) and shown in theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Worded {
    de: &'static str,
    en: &'static str,
}

impl Worded {
    /// The interface text `key`.
    pub fn text(key: &str) -> Self {
        Self { de: Lang::De.t(key), en: Lang::En.t(key) }
    }

    /// What the pages say for a service error.
    pub fn service(err: &ServiceError) -> Self {
        Self { de: service_message(Lang::De, err), en: service_message(Lang::En, err) }
    }

    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::De => self.de,
            Lang::En => self.en,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "web/error.html")]
struct ErrorPage {
    lang: &'static str,
    title: &'static str,
    message: &'static str,
    back: &'static str,
}

impl ErrorPage {
    fn new(lang: Lang, message: Worded) -> Self {
        Self { lang: lang.code(), title: lang.t("error.title"), message: message.get(lang), back: lang.t("error.back") }
    }
}

/// The message of an error page, kept with its response for [`in_chosen_language`].
#[derive(Debug, Clone, Copy)]
struct Shown(Worded);

impl IntoResponse for WebError {
    /// The page in German, the default language: [`in_chosen_language`] words it again in the
    /// person's, which the error does not know.
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::LoginRequired => return Redirect::to("/login").into_response(),
            Self::SessionEnded => return Redirect::to("/login?expired=1").into_response(),
            Self::Csrf => (StatusCode::FORBIDDEN, Worded::text("error.csrf")),
            Self::Forbidden => (StatusCode::FORBIDDEN, Worded::text("error.forbidden")),
            Self::NotFound => (StatusCode::NOT_FOUND, Worded::text("error.notfound")),
            Self::BadRequest => (StatusCode::BAD_REQUEST, Worded::text("error.bad")),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, Worded::text("error.toolarge")),
            Self::Refused { status, message } => (*status, *message),
            Self::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, Worded::text("error.overloaded")),
            Self::Internal(err) => {
                tracing::error!(error = ?err, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, Worded::text("error.internal"))
            }
        };
        let mut response = error_page(status, message, Lang::default());
        if let Self::Overloaded { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

/// The error page with `message` in `lang`, the message kept with it (for
/// [`in_chosen_language`], which words a German one again in the person's language).
fn error_page(status: StatusCode, message: Worded, lang: Lang) -> Response {
    let mut response = (status, ErrorPage::new(lang, message)).into_response();
    response.extensions_mut().insert(Shown(message));
    response
}

/// `response` as an error page when it is the plain-text refusal of one of axum's own extractors
/// (a path segment or query parameter of the wrong type or missing, a form that does not parse, a
/// body over the limit), which would otherwise reach the person as a line of English
/// developer's text: the page says what the status means, in their language once
/// [`in_chosen_language`] (or the citizen's pages' layer) has worded it. What was refused is not
/// logged: the text names parts of the request as sent.
pub(super) fn rejection_as_page(response: Response) -> Response {
    let plain_text =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !response.status().is_client_error() || !plain_text || is_error_page(&response) {
        return response;
    }
    tracing::info!(status = response.status().as_u16(), "request refused before its handler");
    as_page(response, Lang::default())
}

/// `response`, an error answered without a page, as the error page in `lang`, with its status
/// and headers (`Retry-After`, `Allow`) kept.
pub(super) fn as_page(response: Response, lang: Lang) -> Response {
    let status = response.status();
    let key = match status {
        StatusCode::NOT_FOUND => "error.notfound",
        StatusCode::PAYLOAD_TOO_LARGE => "error.toolarge",
        StatusCode::SERVICE_UNAVAILABLE => "error.unavailable",
        s if s.is_server_error() => "error.internal",
        _ => "error.bad",
    };
    let (mut parts, _) = response.into_parts();
    let (page_parts, body) = error_page(status, Worded::text(key), lang).into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &page_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    parts.extensions.extend(page_parts.extensions);
    Response::from_parts(parts, body)
}

/// Whether `response` is the error page of a [`WebError`] (which other pages word again in their
/// visitor's language).
pub(super) fn is_error_page(response: &Response) -> bool {
    response.extensions().get::<Shown>().is_some()
}

/// The staff pages' layer that shows an error page in the language the person chose (read from
/// the request as every page reads it, `page::chosen_lang`); status and headers stay as they are.
pub(super) async fn in_chosen_language(request: Request, next: Next) -> Response {
    let lang = super::page::chosen_lang(request.extensions());
    let response = rejection_as_page(next.run(request).await);
    match response.extensions().get::<Shown>() {
        Some(&Shown(message)) if lang != Lang::default() => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, ErrorPage::new(lang, message).into_response().into_body())
        }
        _ => response,
    }
}

impl From<ServiceError> for WebError {
    fn from(err: ServiceError) -> Self {
        let status = match &err {
            ServiceError::Forbidden | ServiceError::NotPermitted(_) => return Self::Forbidden,
            ServiceError::NotFound(_) => return Self::NotFound,
            ServiceError::Overloaded { retry_after_secs } => {
                return Self::Overloaded { retry_after_secs: *retry_after_secs };
            }
            ServiceError::Store(_) => return Self::Internal(err.into()),
            ServiceError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Rule(_) | ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Conflict { .. } => StatusCode::CONFLICT,
            ServiceError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        Self::Refused { status, message: Worded::service(&err) }
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
