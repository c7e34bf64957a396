//! The admins' page of locations: where units receive citizens, with the address, floor and
//! accessibility notes their emails, page and print tell (in German, and in each other language
//! of the emails where given). Adding, changing and deleting lead back to the list (a reload
//! sends nothing); a change of the address or floor tells the citizens with upcoming appointments
//! there unless the admin unticks it, and the list then says how many were told.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::super::auth::FieldError;
use super::super::error::{WebError, WebResult};
use super::super::i18n::Lang;
use super::super::page::{CsrfForm, Page, Staff};
use super::super::views::language_name;
use super::once::{self, DoneQuery};
use crate::domain::clash::Clash;
use crate::domain::ids::LocationId;
use crate::domain::language::Language;
use crate::domain::location::{LocationFields, LocationText, Refused, Why};
use crate::domain::records::Location;
use crate::services::{ServiceError, directory, locations};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/locations", get(list_page).post(add))
        .route("/admin/locations/{id}", get(edit_page).post(save))
        .route("/admin/locations/{id}/delete", post(delete))
}

/// The languages besides German a location's floor and notes can be given in, with the ids of
/// their fields: those of the emails.
const OTHER_LANGUAGES: [(&str, &str, &str); 6] = [
    ("en", "loc-floor-en", "loc-notes-en"),
    ("tr", "loc-floor-tr", "loc-notes-tr"),
    ("ar", "loc-floor-ar", "loc-notes-ar"),
    ("fa", "loc-floor-fa", "loc-notes-fa"),
    ("ru", "loc-floor-ru", "loc-notes-ru"),
    ("uk", "loc-floor-uk", "loc-notes-uk"),
];

/// One language's fields of the form.
struct TextView {
    lang: &'static str,
    /// "Etage – Englisch" and "Barrierefreiheit – Englisch" in the page's language.
    floor_label: String,
    notes_label: String,
    floor_id: &'static str,
    notes_id: &'static str,
    floor_name: String,
    notes_name: String,
    floor: String,
    notes: String,
}

struct LocationRow {
    id: i32,
    name: String,
    address: String,
    floor: String,
    accessibility_notes: String,
    /// The languages it has texts in, named in the page's language.
    languages: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/locations.html")]
struct LocationsPage {
    p: Page,
    locations: Vec<LocationRow>,
    /// The location being changed, or none for a new one.
    editing: Option<i32>,
    f: LocationFields,
    texts: Vec<TextView>,
    errors: Vec<FieldError>,
    done: &'static str,
    /// After a save: how many citizens were sent a notice that their place changed.
    notices: Option<u64>,
    /// The edit form's "notify people with upcoming appointments" (ticked unless unticked).
    notify: bool,
    /// The location being changed is used by no unit: the page offers to delete it.
    deletable: bool,
    /// The version of the location being changed as the form shows it: its save and its delete
    /// are refused once another admin changed it.
    version: i32,
    /// The German floor changed and translations still name the old one: the form asks whether
    /// they hold anyway ("floor_kept").
    ask_floor_kept: bool,
}

impl LocationsPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What each `done=` says on the list.
const DONE: &[(&str, &str)] =
    &[("added", "locations.added"), ("saved", "locations.saved"), ("deleted", "locations.deleted")];

/// The `notices=` a save leads on with.
#[derive(serde::Deserialize, Default)]
struct NoticesQuery {
    notices: Option<u64>,
}

async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
    Query(told): Query<NoticesQuery>,
) -> WebResult<LocationsPage> {
    let done = q.notice(DONE).unwrap_or_default();
    let mut page = view(&state, staff, None, LocationFields::default(), Vec::new(), done).await?;
    page.notices = told.notices.filter(|_| done == "locations.saved");
    Ok(page)
}

async fn edit_page(State(state): State<AppState>, staff: Staff, Path(id): Path<i32>) -> WebResult<LocationsPage> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "locations.manage").await?;
    let location = locations::find(&state.db, LocationId::new(id)).await.map_err(not_found)?;
    let version = location.version;
    let mut page = view(&state, staff, Some(id), location.into(), Vec::new(), "").await?;
    page.version = version;
    Ok(page)
}

/// The edit page of location `id` as it is stored now (409), saying that another admin changed
/// it since the form was read and nothing was saved.
async fn changed_meanwhile(state: &AppState, staff: Staff, id: i32) -> WebResult<Response> {
    let location = locations::find(&state.db, LocationId::new(id)).await.map_err(not_found)?;
    let version = location.version;
    let errors = vec![FieldError::refusal("loc-name", staff.page.t("stale.changed_meanwhile"))];
    let mut page = view(state, staff, Some(id), location.into(), errors, "").await?;
    page.version = version;
    Ok((StatusCode::CONFLICT, page).into_response())
}

/// The version the form was filled from (none from a page without it: the change is made to
/// whatever is stored).
fn seen(form: &BTreeMap<String, String>) -> Option<i32> {
    form.get("version").and_then(|v| v.trim().parse().ok())
}

fn not_found(err: ServiceError) -> WebError {
    match err {
        ServiceError::NotFound(_) => WebError::NotFound,
        other => other.into(),
    }
}

async fn view(
    state: &AppState,
    staff: Staff,
    editing: Option<i32>,
    f: LocationFields,
    errors: Vec<FieldError>,
    done: &'static str,
) -> WebResult<LocationsPage> {
    directory::require_admin(&state.db, &state.clock, &staff.actor, "locations.manage").await?;
    let lang = staff.page.lang;
    let locations = locations::list(&state.db).await?;
    let deletable = match editing {
        Some(id) => locations::units_at(&state.db, LocationId::new(id)).await? == 0,
        None => false,
    };
    let texts = OTHER_LANGUAGES
        .iter()
        .map(|&(code, floor_id, notes_id)| {
            let given = f.translations.iter().find(|t| t.language == code);
            TextView {
                lang: code,
                floor_label: format!(
                    "{} – {}",
                    lang.t("locations.floor_in"),
                    language_name(&Language::from_stored(code), lang)
                ),
                notes_label: format!(
                    "{} – {}",
                    lang.t("locations.notes_in"),
                    language_name(&Language::from_stored(code), lang)
                ),
                floor_id,
                notes_id,
                floor_name: format!("floor_{code}"),
                notes_name: format!("notes_{code}"),
                floor: given.map(|t| t.floor.clone()).unwrap_or_default(),
                notes: given.map(|t| t.accessibility_notes.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let title = if editing.is_some() { "locations.edit" } else { "locations.title" };
    Ok(LocationsPage {
        locations: locations.into_iter().map(|l| row(l, lang)).collect(),
        editing,
        f,
        texts,
        errors,
        done,
        notices: None,
        notify: true,
        deletable,
        version: 0,
        ask_floor_kept: false,
        p: staff.page.titled(title),
    })
}

fn row(l: Location, lang: Lang) -> LocationRow {
    let languages =
        l.translations.iter().map(|t| language_name(&Language::from_stored(&t.language), lang)).collect::<Vec<_>>();
    LocationRow {
        id: l.id.get(),
        address: format!("{}, {} {}", l.street, l.postal_code, l.city),
        name: l.name,
        floor: l.floor,
        accessibility_notes: l.accessibility_notes,
        languages: languages.join(", "),
    }
}

/// The form's fields (`floor_en`, `notes_en`, … for the other languages).
fn typed(form: &BTreeMap<String, String>) -> LocationFields {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    LocationFields {
        name: field("name"),
        street: field("street"),
        postal_code: field("postal_code"),
        city: field("city"),
        floor: field("floor"),
        accessibility_notes: field("accessibility_notes"),
        translations: OTHER_LANGUAGES
            .iter()
            .map(|&(code, ..)| LocationText {
                language: code.to_owned(),
                floor: field(&format!("floor_{code}")),
                accessibility_notes: field(&format!("notes_{code}")),
            })
            .collect(),
    }
}

/// The refusal at its field, in the page's language.
fn field_error(refused: &Refused, lang: Lang) -> FieldError {
    let id = match (refused.field, refused.language.as_deref()) {
        ("floor", Some(code)) => OTHER_LANGUAGES.iter().find(|l| l.0 == code).map_or("loc-floor", |l| l.1),
        ("accessibility_notes", Some(code)) => {
            OTHER_LANGUAGES.iter().find(|l| l.0 == code).map_or("loc-notes", |l| l.2)
        }
        ("name", _) => "loc-name",
        ("street", _) => "loc-street",
        ("postal_code", _) => "loc-postal-code",
        ("city", _) => "loc-city",
        ("accessibility_notes", _) => "loc-notes",
        _ => "loc-floor",
    };
    let message = match refused.why {
        Why::Empty => lang.t("locations.err.empty").to_owned(),
        Why::TooLong { max } => lang.t("locations.err.too_long").replace("{max}", &max.to_string()),
        Why::NotOneLine => lang.t("err.control").to_owned(),
        Why::Language => lang.t("field.other").to_owned(),
        Why::PostalCode => lang.t("locations.err.postal_code").to_owned(),
    };
    FieldError::new(id, message)
}

async fn add(
    State(state): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> WebResult<Response> {
    let fields = typed(&form);
    if let Err(refused) = fields.clone().checked() {
        let errors = vec![field_error(&refused, staff.page.lang)];
        let page = view(&state, staff, None, fields, errors, "").await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    locations::create(&state.db, &state.clock, &staff.actor, fields).await?;
    Ok(once::see_page("/admin/locations", "added"))
}

async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> WebResult<Response> {
    let mut fields = typed(&form);
    let notify = form.contains_key("notify");
    if let Err(refused) = fields.clone().checked() {
        let errors = vec![field_error(&refused, staff.page.lang)];
        let mut page = view(&state, staff, Some(id), fields, errors, "").await?;
        page.notify = notify;
        page.version = seen(&form).unwrap_or_default();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    // Texts in languages the form does not show (given through the API) are kept, not dropped.
    let stored = locations::find(&state.db, LocationId::new(id)).await.map_err(not_found)?;
    // A new German floor with translations left as they were would send the citizens who read
    // them to the old floor: asked first, at the first such translation.
    let stale = stale_floors(&stored, &fields);
    if let Some(first) = stale.first()
        && !form.contains_key("floor_kept")
    {
        let message = staff.page.t("locations.err.floor_stale").replace("{languages}", &stale.join(", "));
        let field = OTHER_LANGUAGES.iter().find(|l| l.0 == *first).map_or("loc-floor", |l| l.1);
        let errors = vec![FieldError::new(field, message)];
        let mut page = view(&state, staff, Some(id), fields, errors, "").await?;
        page.notify = notify;
        page.version = seen(&form).unwrap_or_default();
        page.ask_floor_kept = true;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let shown = |language: &str| OTHER_LANGUAGES.iter().any(|l| l.0 == language);
    fields.translations.extend(stored.translations.into_iter().filter(|t| !shown(&t.language)));
    match locations::update(state.book(), &staff.actor, LocationId::new(id), seen(&form), fields, notify).await {
        Ok(changed) => {
            Ok(Redirect::to(&format!("/admin/locations?done=saved&notices={}", changed.notices_queued)).into_response())
        }
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
            changed_meanwhile(&state, staff, id).await
        }
        Err(err) => Err(not_found(err)),
    }
}

/// The languages (codes, as the form lists them) whose floor the form leaves as stored while the
/// German floor changes.
fn stale_floors(stored: &Location, fields: &LocationFields) -> Vec<&'static str> {
    if stored.floor.trim() == fields.floor.trim() {
        return Vec::new();
    }
    let floor_of = |texts: &[LocationText], code: &str| {
        texts.iter().find(|t| t.language == code).map(|t| t.floor.trim().to_owned()).unwrap_or_default()
    };
    OTHER_LANGUAGES
        .iter()
        .map(|l| l.0)
        .filter(|code| {
            let before = floor_of(&stored.translations, code);
            !before.is_empty() && before == floor_of(&fields.translations, code)
        })
        .collect()
}

/// Deletes a location no unit uses; one in use (a unit was given it meanwhile) is refused with
/// the page saying why, and one another admin changed since the page was read is shown as it is
/// now, not deleted.
async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> WebResult<Response> {
    match locations::delete(&state.db, &state.clock, &staff.actor, LocationId::new(id), seen(&form)).await {
        Ok(()) => Ok(once::see_page("/admin/locations", "deleted")),
        Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }) => {
            changed_meanwhile(&state, staff, id).await
        }
        Err(err) => Err(not_found(err)),
    }
}
