//! The citizen's pages that show no appointment: an unknown link, too many requests, a failure of
//! the service. In the booking's language once it is known, else in the one the browser asks for
//! (`Accept-Language`) among the page's, else in all of them, German first and English second.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::texts::{self, Texts};
use crate::services::citizen_link::Opened;
use crate::web::error;

/// What a page without an appointment says. Its texts are `{key}.heading` and `{key}.text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unopened {
    /// Unknown, tampered, expired or foreign: the one 404.
    NotFound,
    TooMany,
    /// The service cannot answer just now (a busy or overloaded database): a 503.
    Unavailable,
    /// A failure of the service (the database down, a bug): a 500.
    Failed,
    /// A request refused without a page of its own (any other 4xx).
    Refused,
}

impl Unopened {
    /// The page of an error page the staff side made (`WebError`), by its status.
    fn of_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::TOO_MANY_REQUESTS => Self::TooMany,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            s if s.is_server_error() => Self::Failed,
            _ => Self::Refused,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::NotFound => "notfound",
            Self::TooMany => "toomany",
            Self::Unavailable => "unavailable",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }

    /// The answer, with the page in every language: [`in_visitor_language`] words it again in the
    /// visitor's.
    pub(super) fn response(self, status: StatusCode) -> Response {
        let mut response = (status, Html(page(self, None))).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The visitor of a citizen's page as far as the request shows them: the language of the booking
/// their link opened, once it is open. Handlers take it as an extractor; [`in_visitor_language`]
/// reads it after them.
#[derive(Clone, Default)]
pub(super) struct Visitor(Arc<OnceLock<&'static Texts>>);

impl Visitor {
    /// The link opened `opened`: its error pages are in the booking's language from now on.
    pub(super) fn opened(&self, opened: &Opened) {
        let _ = self.0.set(texts::for_language(opened.booking.citizen.language.code()));
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_default())
    }
}

/// The citizen's routes' layer that words a page without an appointment (its own, or the error
/// page of a `WebError`, which is the staff's and German) in the visitor's language; status and
/// headers (`Retry-After`) stay as they are, and nothing of the error's cause is shown.
pub(super) async fn in_visitor_language(mut request: Request, next: Next) -> Response {
    let asked = request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(texts::asked_for);
    // The language the visitor chose on a citizen's page comes before the booking's and the
    // browser's.
    let chosen = super::super::page::cookie_values(request.headers(), super::pages::LANG_COOKIE)
        .iter()
        .find_map(|value| texts::page_language(value));
    let visitor = Visitor::default();
    request.extensions_mut().insert(visitor.clone());
    let response = error::rejection_as_page(next.run(request).await);
    let (kind, own) = match response.extensions().get::<Unopened>() {
        Some(&kind) => (kind, true),
        None if error::is_error_page(&response) => (Unopened::of_status(response.status()), false),
        None => return response,
    };
    match chosen.or_else(|| visitor.0.get().copied()).or(asked) {
        None if own => response,
        tx => rewritten(response, page(kind, tx)),
    }
}

/// `response`, an error answered without a page, as the page of its status in every language,
/// German first (for answers made before the citizen's routes, where no language is known).
pub(in crate::web) fn in_every_language(response: Response) -> Response {
    let kind = Unopened::of_status(response.status());
    rewritten(response, page(kind, None))
}

/// `response` with `html` as its body.
fn rewritten(response: Response, html: String) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    Response::from_parts(parts, Body::from(html))
}

/// A page without an appointment: in the language `tx`, or (`None`) in every language, each in
/// its own block with its language and direction, German first.
#[derive(Template)]
#[template(path = "web/citizen_refusal.html")]
struct Refusal {
    lang: &'static str,
    dir: &'static str,
    title: String,
    blocks: Vec<Block>,
}

struct Block {
    lang: &'static str,
    dir: &'static str,
    heading: String,
    text: String,
}

/// Renders the page of `kind` in `tx`'s language, or in every language.
fn page(kind: Unopened, tx: Option<&'static Texts>) -> String {
    let key = kind.key();
    let (heading, text) = (format!("{key}.heading"), format!("{key}.text"));
    // The one 404's title is shorter than its heading.
    let title = if kind == Unopened::NotFound { "notfound.title".to_owned() } else { heading.clone() };
    let block = |tx: &'static Texts| Block {
        lang: tx.lang,
        dir: tx.dir(),
        heading: tx.t(&heading).to_owned(),
        text: tx.t(&text).to_owned(),
    };
    let page = match tx {
        Some(tx) => Refusal { lang: tx.lang, dir: tx.dir(), title: tx.t(&title).to_owned(), blocks: vec![block(tx)] },
        None => Refusal {
            lang: "de",
            dir: "ltr",
            title: format!("{} – {}", texts::for_language("de").t(&title), texts::for_language("en").t(&title)),
            blocks: texts::every_language().map(block).collect(),
        },
    };
    page.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "citizen refusal page does not render");
        heading
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_an_appointment_speaks_one_language_or_all_german_first() {
        let turkish = page(Unopened::Failed, Some(texts::for_language("tr")));
        assert!(turkish.starts_with("<!DOCTYPE html>\n<html lang=\"tr\" dir=\"ltr\">"), "{turkish}");
        assert!(turkish.contains(texts::for_language("tr").t("failed.text")), "{turkish}");
        assert!(!turkish.contains(texts::for_language("de").t("failed.text")), "{turkish}");
        let arabic = page(Unopened::Unavailable, Some(texts::for_language("ar")));
        assert!(arabic.contains("<html lang=\"ar\" dir=\"rtl\">"), "{arabic}");
        let persian = page(Unopened::Unavailable, Some(texts::for_language("fa")));
        assert!(persian.contains("<html lang=\"fa\" dir=\"rtl\">"), "{persian}");
        assert!(persian.contains(texts::for_language("fa").t("unavailable.text")), "{persian}");
        let every = page(Unopened::Failed, None);
        let german = every.find("<div lang=\"de\"").expect("a German block");
        let english = every.find("<div lang=\"en\"").expect("an English block");
        assert!(german < english, "German first, English second");
        assert!(every.contains("<div lang=\"ar\" dir=\"rtl\">"), "{every}");
        assert!(every.contains("<div lang=\"fa\" dir=\"rtl\">"), "{every}");
    }

    #[test]
    fn the_staff_error_statuses_become_the_citizens_pages() {
        for (status, kind) in [
            (StatusCode::NOT_FOUND, Unopened::NotFound),
            (StatusCode::TOO_MANY_REQUESTS, Unopened::TooMany),
            (StatusCode::SERVICE_UNAVAILABLE, Unopened::Unavailable),
            (StatusCode::INTERNAL_SERVER_ERROR, Unopened::Failed),
            (StatusCode::CONFLICT, Unopened::Refused),
            (StatusCode::FORBIDDEN, Unopened::Refused),
        ] {
            assert_eq!(Unopened::of_status(status), kind, "{status}");
        }
    }
}
