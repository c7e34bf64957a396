//! The desk's printable confirmation of a booking (A4, in the citizen's language, the facts of the
//! email, a neutral heading for confidential units) with the citizen's own link as a QR code. Made
//! by a form (POST), so the new link is in no address bar or history. Also the form that ends
//! every link issued so far.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

use super::citizen::texts::{self, Texts};
use super::error::{WebError, WebResult, Worded};
use super::page::{CsrfForm, Staff};
use crate::domain::clash::Clash;
use crate::mail::messages::AppointmentMail;
use crate::services::{ServiceError, citizen_link};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/bookings/{key}/print", post(print)).route("/bookings/{key}/links/revoke", post(revoke))
}

/// Ends the citizen's links issued so far; back to the booking with the count.
async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    CsrfForm(_form): CsrfForm<NoFields>,
) -> WebResult<Response> {
    let revoked = citizen_link::revoke_links(state.book(), &staff.actor, &key).await?;
    let reference = super::views::reference_display(&key);
    Ok(Redirect::to(&format!("/bookings/{reference}?links_revoked={revoked}#emails-title")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "web/print.html")]
struct PrintPage {
    tx: &'static Texts,
    title: String,
    mail: AppointmentMail,
    qr: String,
    link: String,
    key: String,
    staff_lang: &'static str,
    back: &'static str,
}

#[derive(Deserialize)]
struct NoFields {}

/// The link as an SVG QR code (without the XML declaration, to sit inside the page).
fn qr_svg(link: &str) -> WebResult<String> {
    let code = QrCode::new(link.as_bytes()).map_err(|err| WebError::Internal(anyhow::anyhow!("QR code: {err}")))?;
    let image = code.render::<svg::Color<'_>>().quiet_zone(true).build();
    Ok(image.split_once("?>").map_or(image.clone(), |(_, svg)| svg.to_owned()))
}

async fn print(
    State(state): State<AppState>,
    staff: Staff,
    Path(key): Path<String>,
    headers: HeaderMap,
    CsrfForm(_form): CsrfForm<NoFields>,
) -> WebResult<Response> {
    let (opened, token) = match citizen_link::printable(state.book(), &staff.actor, &key).await {
        Ok(printable) => printable,
        // A page shown before the appointment began (or before a cancellation or an erasure):
        // say why nothing is printed (in the person's language, as every error page).
        Err(ServiceError::Conflict { clash: Clash::InvalidStatus, .. }) => {
            return Err(WebError::Refused { status: StatusCode::CONFLICT, message: Worded::text("print.refused") });
        }
        Err(err) => return Err(err.into()),
    };
    let (tx, mail, title) = texts::appointment(&opened, state.settings.time_zone, None);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let base = match state.settings.link_base(host) {
        base if base.is_empty() => state.base_url.trim_end_matches('/').to_owned(),
        base => base,
    };
    let link = format!("{base}/t/{token}");
    let lang = staff.page.lang;
    let page = PrintPage {
        tx,
        title,
        mail,
        qr: qr_svg(&link)?,
        link,
        key,
        staff_lang: lang.code(),
        back: lang.t("print.back"),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}
