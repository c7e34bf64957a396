//! API tokens: stored as SHA-256 hashes, with expiry, last use and revocation.

use chrono::{DateTime, Utc};
use entity::{api_token, membership, staff};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::super::StoreError;
use super::role_record;
use crate::domain::access::Actor;
use crate::domain::accounts::{TOKEN_USE_RESOLUTION, TokenInfo};
use crate::domain::ids::{StaffId, UnitId};

/// A new token's hash and what is known about it.
pub struct NewToken<'a> {
    pub staff_id: i32,
    pub token_hash: String,
    pub label: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The token the new one was made with (through the API), if any.
    pub parent_token_id: Option<i32>,
}

/// Stores the hash of a new API token.
///
/// # Errors
/// Database failures.
pub async fn insert_token<C: ConnectionTrait>(db: &C, new: NewToken<'_>) -> Result<TokenInfo, StoreError> {
    let row = api_token::ActiveModel {
        staff_id: Set(new.staff_id),
        token_hash: Set(new.token_hash),
        label: Set(new.label.to_owned()),
        created_at: Set(new.created_at),
        revoked_at: Set(None),
        expires_at: Set(Some(new.expires_at)),
        last_used_at: Set(None),
        parent_token_id: Set(new.parent_token_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token_record(row))
}

/// A valid token's owner, with what the token cache keeps of the token.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub actor: Actor,
    pub token_id: i32,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Token id, expiry, last use, staff id, login, admin flag, and one membership (unit, role) if any.
type TokenOwnerRow =
    (i32, Option<DateTime<Utc>>, Option<DateTime<Utc>>, i32, String, bool, Option<i32>, Option<membership::Role>);

/// The active staff member owning an unrevoked token with this hash that has not expired at `now`.
///
/// # Errors
/// Database failures.
pub async fn owner_of_token<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenOwner>, StoreError> {
    // One round trip on every API request: token, owner and memberships joined.
    let owner =
        api_token::Entity::belongs_to(staff::Entity).from(api_token::Column::StaffId).to(staff::Column::Id).into();
    let roles = sea_orm::RelationDef::from(
        membership::Entity::belongs_to(staff::Entity).from(membership::Column::StaffId).to(staff::Column::Id),
    )
    .rev();
    let rows: Vec<TokenOwnerRow> = api_token::Entity::find()
        .select_only()
        .column(api_token::Column::Id)
        .column(api_token::Column::ExpiresAt)
        .column(api_token::Column::LastUsedAt)
        .column(staff::Column::Id)
        .column(staff::Column::Login)
        .column(staff::Column::IsAdmin)
        .column(membership::Column::UnitId)
        .column(membership::Column::Role)
        .join(JoinType::InnerJoin, owner)
        .join(JoinType::LeftJoin, roles)
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(now))
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(membership::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    let Some((token_id, Some(expires_at), last_used_at, staff_id, login, is_admin, _, _)) = rows.first().cloned()
    else {
        return Ok(None);
    };
    let memberships = rows
        .into_iter()
        .filter_map(|(.., unit, role)| Some((UnitId::new(unit?), role_record(role?))))
        .collect::<Vec<_>>();
    let actor = Actor::new(StaffId::new(staff_id), login, is_admin, memberships);
    Ok(Some(TokenOwner { actor, token_id, expires_at, last_used_at }))
}

/// Notes that a token was used at `now`, unless that was noted less than a minute ago (by this
/// or another process): a burst of requests writes once.
///
/// # Errors
/// Database failures.
pub async fn touch_token<C: ConnectionTrait>(db: &C, token_id: i32, now: DateTime<Utc>) -> Result<(), StoreError> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(token_id))
        .filter(
            Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lte(now - TOKEN_USE_RESOLUTION)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// How many of a staff member's tokens are valid at `now` (unrevoked, unexpired).
///
/// # Errors
/// Database failures.
pub async fn count_valid_tokens<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    count_tokens(db, staff_id, valid_at(now)).await
}

/// A staff member's tokens, newest first: all of them (`ended` is `None`), or with `Some((now,
/// n))` every one valid at `now` and the `n` newest of those ended by then (revoked or expired).
///
/// # Errors
/// Database failures.
pub async fn list_tokens<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    ended: Option<(DateTime<Utc>, u64)>,
) -> Result<Vec<TokenInfo>, StoreError> {
    let Some((now, ended)) = ended else {
        return Ok(newest_first(staff_id, Condition::all()).all(db).await?.into_iter().map(token_record).collect());
    };
    let mut tokens = valid_tokens(db, staff_id, now).await?;
    tokens.extend(ended_tokens(db, staff_id, now, None, ended).await?);
    tokens.sort_by_key(|token| std::cmp::Reverse((token.created_at, token.id)));
    Ok(tokens)
}

/// A staff member's tokens valid at `now`, newest first (at most `MAX_VALID_TOKENS`).
///
/// # Errors
/// Database failures.
pub async fn valid_tokens<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> Result<Vec<TokenInfo>, StoreError> {
    Ok(newest_first(staff_id, valid_at(now)).all(db).await?.into_iter().map(token_record).collect())
}

/// The `limit` newest of a staff member's tokens ended by `now` (revoked or expired), of those
/// listed after `before` only (a token of theirs: older than it, or as old with a smaller id).
///
/// # Errors
/// Database failures.
pub async fn ended_tokens<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    now: DateTime<Utc>,
    before: Option<&TokenInfo>,
    limit: u64,
) -> Result<Vec<TokenInfo>, StoreError> {
    // Wrapped: a condition added to the negated one would be negated with it.
    let mut which = Condition::all().add(valid_at(now).not());
    if let Some(before) = before {
        which = which.add(
            Condition::any().add(api_token::Column::CreatedAt.lt(before.created_at)).add(
                Condition::all()
                    .add(api_token::Column::CreatedAt.eq(before.created_at))
                    .add(api_token::Column::Id.lt(before.id)),
            ),
        );
    }
    let rows = newest_first(staff_id, which).limit(limit).all(db).await?;
    Ok(rows.into_iter().map(token_record).collect())
}

/// A staff member's tokens matching `which`, newest first.
fn newest_first(staff_id: StaffId, which: Condition) -> sea_orm::Select<api_token::Entity> {
    api_token::Entity::find()
        .filter(api_token::Column::StaffId.eq(staff_id))
        .filter(which)
        .order_by_desc(api_token::Column::CreatedAt)
        .order_by_desc(api_token::Column::Id)
}

/// How many of a staff member's tokens ended by `now` (revoked or expired): the lists with
/// `ended` show the newest of them.
///
/// # Errors
/// Database failures.
pub async fn count_ended_tokens<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    count_tokens(db, staff_id, valid_at(now).not()).await
}

async fn count_tokens<C: ConnectionTrait>(db: &C, staff_id: StaffId, which: Condition) -> Result<u64, StoreError> {
    Ok(api_token::Entity::find().filter(api_token::Column::StaffId.eq(staff_id)).filter(which).count(db).await?)
}

/// As `TokenInfo::is_valid_at`: not revoked and expiring after `now`.
fn valid_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(api_token::Column::RevokedAt.is_null())
        .add(api_token::Column::ExpiresAt.is_not_null())
        .add(api_token::Column::ExpiresAt.gt(now))
}

/// # Errors
/// Database failures.
pub async fn find_token<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<TokenInfo>, StoreError> {
    Ok(api_token::Entity::find_by_id(id).one(db).await?.map(token_record))
}

/// A token, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a SQLite write
/// transaction holds the whole database): its revocation waits for a token made with it.
///
/// # Errors
/// Database failures.
pub async fn lock_token<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<TokenInfo>, StoreError> {
    Ok(api_token::Entity::find_by_id(id).lock_exclusive().one(db).await?.map(token_record))
}

/// Revokes one token and every valid token made with it (and made with those, …); returns
/// whether the token itself was still unrevoked, and the ids of the others revoked. A token made
/// with a token expires with it at the latest, so an expired one has no valid descendants; the
/// valid ones of a person are at most `MAX_VALID_TOKENS`, which bounds each step's id list.
///
/// # Errors
/// Database failures.
pub async fn revoke_token<C: ConnectionTrait>(
    db: &C,
    id: i32,
    now: DateTime<Utc>,
) -> Result<(bool, Vec<i32>), StoreError> {
    let revoked = revoke_ids(db, vec![id], now).await? > 0;
    let mut descendants = Vec::new();
    let mut parents = vec![id];
    while !parents.is_empty() {
        let children: Vec<i32> = api_token::Entity::find()
            .select_only()
            .column(api_token::Column::Id)
            .filter(api_token::Column::ParentTokenId.is_in(parents))
            .filter(api_token::Column::RevokedAt.is_null())
            .filter(api_token::Column::ExpiresAt.gt(now))
            .into_tuple()
            .all(db)
            .await?;
        revoke_ids(db, children.clone(), now).await?;
        descendants.extend_from_slice(&children);
        parents = children;
    }
    Ok((revoked, descendants))
}

async fn revoke_ids<C: ConnectionTrait>(db: &C, ids: Vec<i32>, now: DateTime<Utc>) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::Id.is_in(ids))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Revokes every unrevoked token of a staff member; returns how many.
///
/// # Errors
/// Database failures.
pub async fn revoke_all_tokens<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::StaffId.eq(staff_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

fn token_record(row: api_token::Model) -> TokenInfo {
    TokenInfo {
        id: row.id,
        staff_id: StaffId::new(row.staff_id),
        label: row.label,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}
