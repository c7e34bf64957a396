//! The caller's own account: who they are, their API tokens, their password. Also the account
//! and token shapes the admins' staff routes answer with.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::{DEFAULT_TOKEN_DAYS, StaffAccount, TokenInfo};
use crate::domain::ids::StaffId;
use crate::domain::language::Language;
use crate::domain::records::Unit;
use crate::http::dto::local;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth, Bearer};
use crate::http::paging::{self, Next, Paged};
use crate::services::ServiceError;
use crate::services::tokens::{self, TokenSpec};
use crate::services::{accounts, directory, passwords};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(list_my_tokens, create_my_token))
        .routes(routes!(revoke_my_token))
        .routes(routes!(change_my_password))
}

/// A role: `admin`, or a role in a unit.
#[derive(Serialize, ToSchema)]
pub struct RoleResponse {
    /// `admin`, `unit_lead`, `counsellor` or `front_desk`.
    pub role: String,
    /// The unit's slug (none for `admin`).
    pub unit: Option<String>,
}

/// A staff member's account.
#[derive(Serialize, ToSchema)]
pub struct StaffAccountResponse {
    pub id: i32,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    /// The languages the person counsels in.
    pub languages: Vec<Language>,
    pub active: bool,
    pub is_admin: bool,
    pub roles: Vec<RoleResponse>,
    /// Has a second factor (TOTP).
    pub mfa_enabled: bool,
    pub last_login_at: Option<DateTime<FixedOffset>>,
    /// A fingerprint of `name`, `email` and `languages` as read: sent back with
    /// `PATCH /staff/{login}`, the change is refused (409 `concurrent_update`) when someone changed
    /// them since.
    pub details_version: String,
}

/// Maps an account; `units` name the units of its roles.
pub fn account_response(account: &StaffAccount, units: &[Unit], tz: Tz) -> StaffAccountResponse {
    let member = &account.member;
    let mut roles: Vec<RoleResponse> = member
        .memberships
        .iter()
        .map(|(unit_id, role)| RoleResponse {
            role: role.as_str().to_owned(),
            unit: units.iter().find(|u| u.id == *unit_id).map(|u| u.slug.clone()),
        })
        .collect();
    if member.is_admin {
        roles.insert(0, RoleResponse { role: "admin".to_owned(), unit: None });
    }
    StaffAccountResponse {
        id: member.id.get(),
        login: member.login.clone(),
        name: member.display_name.clone(),
        email: member.email.clone(),
        languages: member.languages.clone(),
        active: member.active,
        is_admin: member.is_admin,
        roles,
        mfa_enabled: account.mfa_enabled,
        last_login_at: account.last_login_at.map(|at| local(at, tz)),
        details_version: crate::services::accounts::details_seen(member),
    }
}

/// An API token as listed (the token itself is shown only when created).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: i32,
    /// Name or purpose.
    pub name: String,
    /// `valid`, `expired` or `revoked`.
    pub state: String,
    pub created_at: DateTime<FixedOffset>,
    pub expires_at: Option<DateTime<FixedOffset>>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<FixedOffset>>,
    pub revoked_at: Option<DateTime<FixedOffset>>,
}

/// Maps a token as seen at `now`.
pub fn token_response(token: &TokenInfo, now: DateTime<Utc>, tz: Tz) -> TokenResponse {
    let state = match (token.revoked_at, token.is_valid_at(now)) {
        (Some(_), _) => "revoked",
        (None, true) => "valid",
        (None, false) => "expired",
    };
    TokenResponse {
        id: token.id,
        name: token.label.clone(),
        state: state.to_owned(),
        created_at: local(token.created_at, tz),
        expires_at: token.expires_at.map(|at| local(at, tz)),
        last_used_at: token.last_used_at.map(|at| local(at, tz)),
        revoked_at: token.revoked_at.map(|at| local(at, tz)),
    }
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = StaffAccountResponse), (status = 401, body = Problem)))]
async fn get_me(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<StaffAccountResponse>> {
    let account = accounts::own(&state.db, &actor).await?;
    let units = directory::list_units(&state.db).await?;
    Ok(Json(account_response(&account, &units, state.settings.time_zone)))
}

/// Which of a person's tokens a list shows.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenListParams {
    /// Every valid token, and this many of the revoked or expired ones, the newest (default
    /// 100; more than 1,000 count as 1,000); `X-Next-Before` says when more ended ones follow.
    pub ended: Option<u64>,
    /// The next page: only the ended tokens listed after the token with this id (the
    /// `X-Next-Before` of the previous page), without the valid ones.
    pub before: Option<i32>,
}

impl TokenListParams {
    /// How many ended tokens to show, capped (an `ended` above the cap has always meant the cap).
    fn ended(&self) -> u64 {
        self.ended.unwrap_or(paging::DEFAULT_LIMIT).min(paging::MAX_LIMIT)
    }

    /// The page of `staff_id`'s tokens these parameters ask for, as answered.
    pub async fn answer(&self, state: &AppState, staff_id: StaffId) -> ApiResult<Paged<TokenResponse>> {
        let page = tokens::page(&state.db, &state.clock, staff_id, self.ended(), self.before).await?;
        let (now, tz) = (state.clock.now(), state.settings.time_zone);
        let tokens = page.tokens.iter().map(|t| token_response(t, now, tz)).collect();
        Ok(Paged::new(tokens, page.next_before.map(Next::Before)))
    }
}

/// The caller's API tokens, newest first.
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "me", security(("bearer" = [])), params(TokenListParams),
    responses((status = 200, body = Vec<TokenResponse>, headers(("X-Next-Before" = i32,
            description = "more ended tokens follow; send it as `before` for the next page"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn list_my_tokens(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<TokenListParams>,
) -> ApiResult<Paged<TokenResponse>> {
    params.answer(&state, actor.staff_id()).await
}

/// A new token of the caller's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Name or purpose, 1 to 100 characters.
    pub name: String,
    /// Days until it expires, 1 to 365 (default 90); never later than the token of the request.
    pub expires_in_days: Option<u32>,
}

/// A token just created: `token` is shown only now.
#[derive(Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    /// Use as `Authorization: Bearer TOKEN`.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenResponse,
}

/// Creates an API token for the caller. It expires when the token of the request does at the
/// latest (`expires_at` says when), and revoking that token revokes it too.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "me", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenResponse), (status = 401, body = Problem), (status = 422, body = Problem),
        (status = 404, body = Problem, description = "the caller was deactivated (`staff_not_found`) or the token used was revoked (`token_not_found`) a moment ago, while a cache still let it in")))]
async fn create_my_token(
    State(state): State<AppState>,
    Bearer { actor, token }: Bearer,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedTokenResponse>)> {
    let spec = TokenSpec { label: body.name, days: body.expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS) };
    let created = tokens::create_own(&state.db, &state.clock, &actor, token, &spec).await?;
    let info = token_response(&created.info, state.clock.now(), state.settings.time_zone);
    Ok((StatusCode::CREATED, Json(CreatedTokenResponse { token: created.token, info })))
}

/// Revokes one of the caller's tokens (404 `token_not_found` for another's).
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn revoke_my_token(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<StatusCode> {
    tokens::revoke_own(&state.db, &state.clock, &state.tokens, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters, not a common or breached password, not built from the login or name.
    pub new_password: String,
}

/// Changes the caller's password; every web session of the caller ends (API tokens stay). A
/// wrong current password or a weak new one is a 422 naming the field. After 5 wrong current
/// passwords in a row the check waits (1 minute, doubling up to 15): meanwhile a 429
/// `too_many_attempts` with `Retry-After`, the password unchecked. A 409 `concurrent_update`
/// when the account changed while the password was checked (deactivated, its password set or
/// taken away meanwhile): nothing is written.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem, description = "too many wrong current passwords; see `Retry-After`")))]
async fn change_my_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    passwords::change_own(&state.db, &state.clock, &actor, &body.current_password, &body.new_password, None)
        .await
        .map_err(ServiceError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
