//! Locations, where units receive citizens: their address, floor and accessibility notes, the
//! last two also in the emails' other languages. Admins add and change them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::ids::LocationId;
use crate::domain::location::{LocationFields, LocationText};
use crate::domain::records::Location;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::services::locations;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_locations, create_location)).routes(routes!(
        get_location,
        update_location,
        delete_location
    ))
}

/// A location's floor and accessibility notes in one language; empty: the German text is shown.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    #[serde(default)]
    pub floor: String,
    #[serde(default)]
    pub accessibility_notes: String,
}

/// A location, with its texts in other languages.
#[derive(Serialize, ToSchema)]
pub struct LocationDetail {
    pub id: i32,
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// In German (shown where a language has none of its own).
    pub floor: String,
    /// In German; empty when there are none.
    pub accessibility_notes: String,
    /// By language code (`en`, `tr`, `ar`, `ru`, `uk`, …).
    pub translations: BTreeMap<String, Translation>,
    /// The location's version: it rises with every change. Sent back as `version` with a change
    /// (or as `?version=` with a delete), it makes the change happen only to this version (409
    /// `concurrent_update` when another change came first).
    pub version: i32,
}

impl From<Location> for LocationDetail {
    fn from(location: Location) -> Self {
        let (id, version) = (location.id.get(), location.version);
        let f = LocationFields::from(location);
        Self {
            id,
            name: f.name,
            street: f.street,
            postal_code: f.postal_code,
            city: f.city,
            floor: f.floor,
            accessibility_notes: f.accessibility_notes,
            translations: f
                .translations
                .into_iter()
                .map(|t| (t.language, Translation { floor: t.floor, accessibility_notes: t.accessibility_notes }))
                .collect(),
            version,
        }
    }
}

/// A location as an admin enters it: every field (a change replaces all, translations too).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    /// How staff tell it apart (1–200 characters).
    pub name: String,
    /// 1–200 characters.
    pub street: String,
    /// 1–20 characters.
    pub postal_code: String,
    /// 1–100 characters.
    pub city: String,
    /// In German (1–100 characters), e.g. `11. Stock`.
    pub floor: String,
    /// In German (at most 500 characters, one line).
    #[serde(default)]
    pub accessibility_notes: String,
    /// The floor and notes in other supported languages, by code; a language left out, or with
    /// empty texts, shows the German ones.
    #[serde(default)]
    pub translations: BTreeMap<String, Translation>,
    /// A change of the address or floor: whether citizens with upcoming appointments at the
    /// location's units are sent a notice with the new place and an updated calendar entry
    /// (default `true`).
    #[serde(default)]
    pub notify_citizens: Option<bool>,
    /// The location's `version` as the caller saw it: the change is made only if the location is
    /// still that version (else 409 `concurrent_update`). Without it, whatever it is now.
    #[serde(default)]
    pub version: Option<i32>,
}

/// A new location (`POST`): the fields of a [`LocationRequest`] but `notify_citizens` (a new
/// location has no appointments to tell of) and `version` (it has none yet), which are refused
/// there like any unknown field; its schema is the change's without those fields, so the
/// document and the answers agree.
pub struct NewLocationRequest(LocationRequest);

/// The fields a new location takes, as an unknown field's problem names them.
const NEW_LOCATION_FIELDS: &[&str] =
    &["name", "street", "postal_code", "city", "floor", "accessibility_notes", "translations"];
const NOTIFY_FIELD: &str = "notify_citizens";
const VERSION_FIELD: &str = "version";

impl<'de> Deserialize<'de> for NewLocationRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = LocationRequest::deserialize(deserializer)?;
        if body.notify_citizens.is_some() {
            return Err(serde::de::Error::unknown_field(NOTIFY_FIELD, NEW_LOCATION_FIELDS));
        }
        if body.version.is_some() {
            return Err(serde::de::Error::unknown_field(VERSION_FIELD, NEW_LOCATION_FIELDS));
        }
        Ok(Self(body))
    }
}

impl utoipa::PartialSchema for NewLocationRequest {
    fn schema() -> RefOr<Schema> {
        let mut schema = LocationRequest::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.properties.remove(NOTIFY_FIELD);
            object.properties.remove(VERSION_FIELD);
            object.description =
                Some("A new location: every field (`notify_citizens` and `version` are for a change only).".into());
        }
        schema
    }
}

impl ToSchema for NewLocationRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        LocationRequest::schemas(schemas);
    }
}

/// A location as changed, and how many notices of the changed place were queued.
#[derive(Serialize, ToSchema)]
pub struct LocationChanged {
    #[serde(flatten)]
    pub location: LocationDetail,
    /// How many citizens with upcoming appointments were sent a notice that the place changed
    /// (0 when only the name, the accessibility notes or nothing changed, or with
    /// `notify_citizens: false`).
    pub notices_queued: u64,
}

impl From<LocationRequest> for LocationFields {
    fn from(body: LocationRequest) -> Self {
        Self {
            name: body.name,
            street: body.street,
            postal_code: body.postal_code,
            city: body.city,
            floor: body.floor,
            accessibility_notes: body.accessibility_notes,
            translations: body
                .translations
                .into_iter()
                .map(|(language, t)| LocationText {
                    language,
                    floor: t.floor,
                    accessibility_notes: t.accessibility_notes,
                })
                .collect(),
        }
    }
}

/// Every location (any staff member).
#[utoipa::path(get, path = "/api/v1/locations", tag = "units", security(("bearer" = [])),
    responses((status = 200, body = Vec<LocationDetail>)))]
async fn list_locations(State(state): State<AppState>, Auth(_actor): Auth) -> ApiResult<Json<Vec<LocationDetail>>> {
    Ok(Json(locations::list(&state.db).await?.into_iter().map(LocationDetail::from).collect()))
}

/// One location (any staff member).
#[utoipa::path(get, path = "/api/v1/locations/{id}", tag = "units", security(("bearer" = [])),
    params(("id" = i32, Path, description = "The location's id")),
    responses((status = 200, body = LocationDetail), (status = 404, body = Problem)))]
async fn get_location(
    State(state): State<AppState>,
    Auth(_actor): Auth,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<LocationDetail>> {
    Ok(Json(locations::find(&state.db, LocationId::new(id)).await?.into()))
}

/// Adds a location (admins only). `notify_citizens` is refused (422 naming it): a new location
/// has no appointments.
#[utoipa::path(post, path = "/api/v1/locations", tag = "units", security(("bearer" = [])),
    request_body = NewLocationRequest,
    responses((status = 201, body = LocationDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_location(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(NewLocationRequest(body)): ApiJson<NewLocationRequest>,
) -> ApiResult<(StatusCode, Json<LocationDetail>)> {
    let location = locations::create(&state.db, &state.clock, &actor, body.into()).await?;
    Ok((StatusCode::CREATED, Json(location.into())))
}

/// Changes a location (admins only): every field as sent, the translations replaced. Emails
/// written from then on, the citizen's page and prints tell the new texts. A change of the
/// address or floor (in any language) tells citizens with upcoming appointments at the
/// location's units, unless `notify_citizens` is `false`: an email with the new place and an
/// updated calendar entry (same UID, higher SEQUENCE), queued with the change. With `version`,
/// the change is made only if the location is still that version.
#[utoipa::path(put, path = "/api/v1/locations/{id}", tag = "units", security(("bearer" = [])),
    params(("id" = i32, Path, description = "The location's id")), request_body = LocationRequest,
    responses((status = 200, body = LocationChanged), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`concurrent_update`: the location is no longer the `version` sent"),
        (status = 422, body = Problem)))]
async fn update_location(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
    ApiJson(body): ApiJson<LocationRequest>,
) -> ApiResult<Json<LocationChanged>> {
    let (notify, seen) = (body.notify_citizens.unwrap_or(true), body.version);
    let changed = locations::update(state.book(), &actor, LocationId::new(id), seen, body.into(), notify).await?;
    Ok(Json(LocationChanged { location: changed.location.into(), notices_queued: changed.notices_queued }))
}

/// What a delete may name.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteLocationParams {
    /// The location's `version` as the caller saw it: it is deleted only if it is still that
    /// version (else 409 `concurrent_update`). Without it, whatever it is now.
    pub version: Option<i32>,
}

/// Deletes a location no unit uses (admins only), with its texts in other languages; with
/// `?version=`, only if it is still that version.
#[utoipa::path(delete, path = "/api/v1/locations/{id}", tag = "units", security(("bearer" = [])),
    params(("id" = i32, Path, description = "The location's id"), DeleteLocationParams),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`location_in_use`: units receive citizens there; the detail says how many. `concurrent_update`: the location is no longer the `version` sent")))]
async fn delete_location(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
    ApiQuery(params): ApiQuery<DeleteLocationParams>,
) -> ApiResult<StatusCode> {
    locations::delete(&state.db, &state.clock, &actor, LocationId::new(id), params.version).await?;
    Ok(StatusCode::NO_CONTENT)
}
