//! Staff for admins: adding people and roles, listing accounts, deactivating and reactivating,
//! taking roles away, reset links, second-factor resets, and their API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::me::{StaffAccountResponse, TokenListParams, TokenResponse, account_response};
use crate::domain::language::Language;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::http::paging::Paged;
use crate::services::accounts::{self, ByWhom};
use crate::services::directory::{self, StaffInput, StaffRole};
use crate::services::{mfa, passwords, tokens};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(get_staff, change_staff))
        .routes(routes!(deactivate_staff))
        .routes(routes!(activate_staff))
        .routes(routes!(remove_role))
        .routes(routes!(create_password_reset))
        .routes(routes!(reset_mfa))
        .routes(routes!(list_staff_tokens, revoke_staff_tokens))
        .routes(routes!(revoke_token))
}

/// A new staff member or an extra role for an existing one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffRequest {
    #[garde(length(min = 1, max = 64))]
    pub login: String,
    #[garde(length(chars, min = 1, max = 200))]
    pub name: String,
    /// `admin`, `unit_lead`, `counsellor` or `front_desk`.
    #[garde(length(min = 1))]
    pub role: String,
    /// Unit slug or id (required except for admins).
    #[garde(skip)]
    pub unit: Option<String>,
    #[garde(inner(email))]
    pub email: Option<String>,
    #[garde(skip)]
    pub languages: Option<Vec<Language>>,
    /// For a new login: at least 12 characters, not common, not built from the login or name;
    /// omitted: one is generated, returned once and must be changed at the first login. Ignored
    /// for an existing login (adding a role never touches a password).
    #[garde(skip)]
    pub password: Option<String>,
}

/// A staff member as created, or the existing one a role was added to.
#[derive(Serialize, ToSchema)]
pub struct StaffResponse {
    pub id: i32,
    pub login: String,
    pub name: String,
    pub is_admin: bool,
    /// True for a new login; false when the role was added to an existing one (whose password
    /// was left as it was).
    pub created: bool,
    /// False when the person had the role already.
    pub role_added: bool,
    /// Only when the password was generated; shown once; to be changed at the first login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// Adds staff, or a role to an existing login (admins only).
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])), request_body = CreateStaffRequest,
    responses((status = 201, body = StaffResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_staff(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateStaffRequest>,
) -> ApiResult<(StatusCode, Json<StaffResponse>)> {
    body.validate()?;
    let role = StaffRole::parse(&body.role)
        .ok_or_else(|| ApiError::field("role", "one of admin, unit_lead, counsellor, front_desk"))?;
    let input = StaffInput {
        login: body.login,
        display_name: body.name,
        email: body.email,
        languages: body.languages.unwrap_or_default(),
        role,
        unit: body.unit,
        password: body.password,
    };
    let added = directory::add_staff_as(&state.db, &state.clock, &actor, input).await?;
    state.counsellors.forget();
    state.tokens.forget_staff(added.member.id);
    let response = StaffResponse {
        id: added.member.id.get(),
        login: added.member.login,
        name: added.member.display_name,
        is_admin: added.member.is_admin,
        created: added.created,
        role_added: added.role_added,
        generated_password: added.password,
    };
    Ok((StatusCode::CREATED, Json(response)))
}

/// Every staff member with roles, state, second factor and last login (admins only).
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffAccountResponse>), (status = 403, body = Problem)))]
async fn list_staff(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Vec<StaffAccountResponse>>> {
    let list = accounts::list(state.accounts(), ByWhom::Staff(&actor)).await?;
    let units = directory::list_units(&state.db).await?;
    Ok(Json(list.iter().map(|a| account_response(a, &units, state.settings.time_zone)).collect()))
}

async fn account_json(
    state: &AppState,
    account: &crate::domain::accounts::StaffAccount,
) -> ApiResult<Json<StaffAccountResponse>> {
    let units = directory::list_units(&state.db).await?;
    Ok(Json(account_response(account, &units, state.settings.time_zone)))
}

/// One staff member (admins only).
#[utoipa::path(get, path = "/api/v1/staff/{login}", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)),
    responses((status = 200, body = StaffAccountResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_staff(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
) -> ApiResult<Json<StaffAccountResponse>> {
    let account = accounts::find(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    account_json(&state, &account).await
}

/// A person's details to change; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStaffRequest {
    /// The name shown on the pages and, for counsellors, to citizens.
    pub name: Option<String>,
    /// An email address; `null` or an empty text removes it.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// The languages the person counsels in, replacing the stored ones (an empty list: none).
    #[schema(value_type = Option<Vec<Language>>)]
    pub languages: Option<Vec<String>>,
    /// The `details_version` as last read: when given and the details were changed since
    /// (another admin meanwhile), nothing is written: 409 `concurrent_update`. Without it the
    /// change is made whatever changed since.
    pub details_version: Option<String>,
}

/// A field that is present, `null` included (`Some(None)`); a field left out is `None` by
/// `#[serde(default)]`.
fn given<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Changes a person's name, email address or languages (admins only). Only fields that differ
/// are written; the change is audited (the names of the fields changed). Every wrong field is
/// named in one 422.
#[utoipa::path(patch, path = "/api/v1/staff/{login}", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)), request_body = ChangeStaffRequest,
    responses((status = 200, body = StaffAccountResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "changed since `details_version`"), (status = 422, body = Problem)))]
async fn change_staff(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeStaffRequest>,
) -> ApiResult<Json<StaffAccountResponse>> {
    let mut errors = Vec::new();
    let languages = body.languages.map(|codes| {
        codes
            .iter()
            .enumerate()
            .filter_map(|(i, code)| match Language::parse(code) {
                Ok(language) => Some(language),
                Err(err) => {
                    errors.push(FieldError { field: format!("languages[{i}]"), message: err.to_string() });
                    None
                }
            })
            .collect()
    });
    let seen = body.details_version;
    let change = accounts::DetailsChange { name: body.name, email: body.email, languages, seen };
    let problems = accounts::details_problems(&change);
    errors.extend(problems.into_iter().map(|(field, message)| FieldError { field: field.to_owned(), message }));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let account = accounts::change_details(state.accounts(), ByWhom::Staff(&actor), &login, change).await?;
    account_json(&state, &account).await
}

/// Deactivates a person: their web sessions and API tokens end at once (admins only; not the
/// last active admin: 409 `last_admin`).
#[utoipa::path(post, path = "/api/v1/staff/{login}/deactivate", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)),
    responses((status = 200, body = StaffAccountResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn deactivate_staff(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
) -> ApiResult<Json<StaffAccountResponse>> {
    let account = accounts::deactivate(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    account_json(&state, &account).await
}

/// Reactivates a person; their API tokens stay revoked (admins only).
#[utoipa::path(post, path = "/api/v1/staff/{login}/activate", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)),
    responses((status = 200, body = StaffAccountResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn activate_staff(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
) -> ApiResult<Json<StaffAccountResponse>> {
    let account = accounts::activate(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    account_json(&state, &account).await
}

/// The unit of a role to take away.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleParams {
    /// Unit slug or id (required except for `admin`).
    pub unit: Option<String>,
}

/// Takes a role away: `admin`, or `unit_lead`, `counsellor`, `front_desk` in `?unit=` (admins
/// only; the last active admin keeps the role: 409 `last_admin`; a role not held: 404
/// `role_not_found`).
#[utoipa::path(delete, path = "/api/v1/staff/{login}/roles/{role}", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path), ("role" = String, Path), RoleParams),
    responses((status = 200, body = StaffAccountResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn remove_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((login, role)): ApiPath<(String, String)>,
    ApiQuery(params): ApiQuery<RoleParams>,
) -> ApiResult<Json<StaffAccountResponse>> {
    let role = StaffRole::parse(&role)
        .ok_or_else(|| ApiError::field("role", "one of admin, unit_lead, counsellor, front_desk"))?;
    let account =
        accounts::remove_role(state.accounts(), ByWhom::Staff(&actor), &login, role, params.unit.as_deref()).await?;
    account_json(&state, &account).await
}

/// A one-time password reset link.
#[derive(Serialize, ToSchema)]
pub struct ResetLinkResponse {
    /// Give it to the person (not by the same channel as anything else secret); it works once.
    pub reset_url: String,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
    /// The person is inactive and their password was taken away with this link: after a
    /// reactivation only the link lets them in.
    pub password_cleared: bool,
}

/// Makes a one-time password reset link valid for 24 hours; earlier links of the person stop
/// working; the password stays until the link is used, unless the person is inactive: then it
/// stops working at once (admins only).
#[utoipa::path(post, path = "/api/v1/staff/{login}/password-reset", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)),
    responses((status = 201, body = ResetLinkResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn create_password_reset(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<ResetLinkResponse>)> {
    let link = passwords::create_reset_link(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    let expires_at = crate::http::dto::local(link.expires_at, state.settings.time_zone);
    let response =
        ResetLinkResponse { reset_url: link.url(&state.base_url), expires_at, password_cleared: link.password_cleared };
    Ok((StatusCode::CREATED, Json(response)))
}

/// The person after a reset of their second factor, with the one-time link when they had one.
#[derive(Serialize, ToSchema)]
pub struct MfaResetResponse {
    #[serde(flatten)]
    pub account: StaffAccountResponse,
    /// When the person had a second factor: the one-time link (valid 24 hours) with which they
    /// set a new password before setting up a new factor; their password was taken away. Hand it
    /// to the person alone.
    pub reset_url: Option<String>,
    pub reset_expires_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Removes a person's second factor; their web sessions end. When they had one, their password
/// is taken away and the answer carries a one-time reset link: with it they set a new password,
/// then a new factor at the next login where one is required (admins only).
#[utoipa::path(post, path = "/api/v1/staff/{login}/mfa-reset", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)),
    responses((status = 200, body = MfaResetResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn reset_mfa(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
) -> ApiResult<Json<MfaResetResponse>> {
    let reset = mfa::reset(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    let account = accounts::find(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    let Json(account) = account_json(&state, &account).await?;
    let tz = state.settings.time_zone;
    Ok(Json(MfaResetResponse {
        account,
        reset_url: reset.link.as_ref().map(|link| link.url(&state.base_url)),
        reset_expires_at: reset.link.as_ref().map(|link| crate::http::dto::local(link.expires_at, tz)),
    }))
}

/// A person's API tokens, newest first, never the tokens themselves (admins only).
#[utoipa::path(get, path = "/api/v1/staff/{login}/tokens", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path), TokenListParams),
    responses((status = 200, body = Vec<TokenResponse>, headers(("X-Next-Before" = i32,
            description = "more ended tokens follow; send it as `before` for the next page"))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn list_staff_tokens(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
    ApiQuery(params): ApiQuery<TokenListParams>,
) -> ApiResult<Paged<TokenResponse>> {
    let account = accounts::find(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    params.answer(&state, account.member.id).await
}

/// How many tokens were revoked, and whether a calendar subscription was deleted.
#[derive(Serialize, ToSchema)]
pub struct RevokedResponse {
    pub revoked: u64,
    pub calendar_feed_deleted: bool,
}

/// Revokes every API token of a person and deletes their calendar subscription (admins only).
#[utoipa::path(delete, path = "/api/v1/staff/{login}/tokens", tag = "staff", security(("bearer" = [])),
    params(("login" = String, Path)),
    responses((status = 200, body = RevokedResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_staff_tokens(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(login): ApiPath<String>,
) -> ApiResult<Json<RevokedResponse>> {
    let account = accounts::find(state.accounts(), ByWhom::Staff(&actor), &login).await?;
    let revoked = tokens::revoke_all(&state.db, &state.clock, &state.tokens, (&actor).into(), &account.member).await?;
    Ok(Json(RevokedResponse { revoked: revoked.tokens, calendar_feed_deleted: revoked.calendar_feed }))
}

/// Revokes any API token by id (admins only; one's own: `DELETE /api/v1/me/tokens/{id}`).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<StatusCode> {
    ByWhom::Staff(&actor).require_admin(&state.db, &state.clock, "token.revoke").await?;
    tokens::revoke(&state.db, &state.clock, &state.tokens, (&actor).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
