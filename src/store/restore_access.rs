//! What a restore keeps of the replaced database's accounts: access taken away after the backup
//! stays taken away. A backup holds the accounts as they were when it was made; restored as they
//! are, a colleague deactivated since would be active again, a revoked token valid again, a
//! password changed after a compromise the old one again. Grants made after the backup (new
//! people, roles, a reactivation) are not carried: they are named for the operator to make again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{api_token, calendar_feed, membership, password_reset, recovery_code, session, staff, staff_totp};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

use super::StoreError;

/// What [`carry_access`] changed in the restored database, by login where people are concerned.
#[derive(Debug, Default, serde::Serialize)]
pub struct AccessCarried {
    /// Deactivated after the backup: deactivated again (their tokens, reset links and calendar
    /// subscription ended with it).
    pub deactivated: Vec<String>,
    /// In the restored database but not in the replaced one: deactivated, as no one can say why
    /// they are gone.
    pub unknown_deactivated: Vec<String>,
    /// The admin role taken away after the backup.
    pub admin_removed: Vec<String>,
    /// Roles in units taken away after the backup.
    pub roles_removed: u64,
    /// Whose password or second factor (with the recovery codes) changed after the backup: the
    /// replaced database's taken.
    pub credentials: Vec<String>,
    pub tokens_revoked: u64,
    pub feeds_ended: u64,
    pub reset_links_voided: u64,
    /// Every web session of the backup's time.
    pub sessions_ended: u64,
    /// Added after the backup: not in the restored database.
    pub added_since: Vec<String>,
    /// Reactivated, or given the admin role or a role in a unit, after the backup: not carried.
    pub granted_since: Vec<String>,
}

/// Takes over from `live` (the replaced database) into `restored` (a transaction on the restored
/// one) every taking away of access made after the backup: deactivations, removed roles, revoked
/// API tokens, ended calendar subscriptions, used or voided reset links, changed passwords and
/// second factors. Every web session in `restored` ends (everyone logs in again).
///
/// # Errors
/// Database failures (a replaced database of another release whose tables this one cannot read).
pub async fn carry_access<R: ConnectionTrait, L: ConnectionTrait>(
    restored: &R,
    live: &L,
    now: DateTime<Utc>,
) -> Result<AccessCarried, StoreError> {
    let mut done = AccessCarried::default();
    let replaced: HashMap<i32, staff::Model> =
        staff::Entity::find().all(live).await?.into_iter().map(|s| (s.id, s)).collect();
    let people = staff::Entity::find().all(restored).await?;
    let kept: HashSet<i32> = people.iter().map(|s| s.id).collect();
    for person in &people {
        let Some(now_there) = replaced.get(&person.id).filter(|l| l.login == person.login) else {
            if person.active && deactivate(restored, person.id, now).await? {
                done.unknown_deactivated.push(person.login.clone());
            }
            continue;
        };
        if person.active && !now_there.active && deactivate(restored, person.id, now).await? {
            done.deactivated.push(person.login.clone());
        }
        if !person.active && now_there.active {
            done.granted_since.push(format!("{} (reactivated)", person.login));
        }
        if person.is_admin && !now_there.is_admin {
            staff::Entity::update_many()
                .col_expr(staff::Column::IsAdmin, Expr::value(false))
                .filter(staff::Column::Id.eq(person.id))
                .exec(restored)
                .await?;
            done.admin_removed.push(person.login.clone());
        }
        if !person.is_admin && now_there.is_admin {
            done.granted_since.push(format!("{} (admin)", person.login));
        }
        let password_changed = person.password_hash != now_there.password_hash
            || person.must_change_password != now_there.must_change_password;
        if password_changed {
            staff::Entity::update_many()
                .col_expr(staff::Column::PasswordHash, Expr::value(now_there.password_hash.clone()))
                .col_expr(staff::Column::MustChangePassword, Expr::value(now_there.must_change_password))
                .col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1))
                .filter(staff::Column::Id.eq(person.id))
                .exec(restored)
                .await?;
        }
        let second_factor_changed = take_second_factor(restored, live, person.id).await?;
        if password_changed || second_factor_changed {
            done.credentials.push(person.login.clone());
        }
        let (removed, granted) = take_away_roles(restored, live, person.id).await?;
        done.roles_removed += removed;
        if granted {
            done.granted_since.push(format!("{} (role in a unit)", person.login));
        }
    }
    done.added_since = replaced.values().filter(|l| !kept.contains(&l.id)).map(|l| l.login.clone()).collect();
    done.added_since.sort();
    done.tokens_revoked += revoke_tokens(restored, live, now).await?;
    done.feeds_ended += end_feeds(restored, live).await?;
    done.reset_links_voided += void_reset_links(restored, live, now).await?;
    done.sessions_ended = session::Entity::delete_many().exec(restored).await?.rows_affected;
    Ok(done)
}

/// Deactivates as an admin's deactivation does: the session epoch moves on, the API tokens are
/// revoked, unused reset links voided, the calendar subscription ended. Returns whether the
/// person was active.
async fn deactivate<C: ConnectionTrait>(db: &C, staff_id: i32, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let id = crate::domain::ids::StaffId::new(staff_id);
    if !super::directory::set_active(db, id, false).await? {
        return Ok(false);
    }
    super::directory::revoke_all_tokens(db, id, now).await?;
    super::resets::void_unused(db, id, now).await?;
    super::calendar_feeds::delete_for_staff(db, id).await?;
    Ok(true)
}

/// Gives the person in `restored` the second factor and recovery codes they have in `live`, when
/// these differ (enrolled, reset, renewed or a code used after the backup). Returns whether they
/// did; a factor only used at logins since keeps its last accepted step, and is no change.
async fn take_second_factor<R: ConnectionTrait, L: ConnectionTrait>(
    restored: &R,
    live: &L,
    staff_id: i32,
) -> Result<bool, StoreError> {
    let was = staff_totp::Entity::find_by_id(staff_id).one(restored).await?;
    let is = staff_totp::Entity::find_by_id(staff_id).one(live).await?;
    let (codes_were, codes_are) = (recovery_codes(restored, staff_id).await?, recovery_codes(live, staff_id).await?);
    let factor = |totp: &Option<staff_totp::Model>| totp.as_ref().map(|t| (t.secret.clone(), t.enabled_at));
    if factor(&was) == factor(&is) && codes_were == codes_are {
        // The same factor, used since: its last accepted step is taken (a code is accepted once),
        // which changes nothing of the factor.
        if let (Some(was), Some(is)) = (&was, &is)
            && was.last_step != is.last_step
        {
            staff_totp::Entity::update_many()
                .col_expr(staff_totp::Column::LastStep, Expr::value(is.last_step))
                .filter(staff_totp::Column::StaffId.eq(staff_id))
                .exec(restored)
                .await?;
        }
        return Ok(false);
    }
    staff_totp::Entity::delete_many().filter(staff_totp::Column::StaffId.eq(staff_id)).exec(restored).await?;
    if let Some(is) = is {
        staff_totp::Entity::insert(is.into_active_model()).exec_without_returning(restored).await?;
    }
    recovery_code::Entity::delete_many().filter(recovery_code::Column::StaffId.eq(staff_id)).exec(restored).await?;
    for (code_hash, used_at) in codes_are {
        let code = recovery_code::ActiveModel {
            id: NotSet,
            staff_id: sea_orm::Set(staff_id),
            code_hash: sea_orm::Set(code_hash),
            used_at: sea_orm::Set(used_at),
        };
        recovery_code::Entity::insert(code).exec_without_returning(restored).await?;
    }
    // Sessions made with the factor as it was end too.
    staff::Entity::update_many()
        .col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(restored)
        .await?;
    Ok(true)
}

/// The person's recovery codes (hash, when used), in a fixed order.
async fn recovery_codes<C: ConnectionTrait>(
    db: &C,
    staff_id: i32,
) -> Result<Vec<(String, Option<DateTime<Utc>>)>, StoreError> {
    let mut codes: Vec<_> = recovery_code::Entity::find()
        .filter(recovery_code::Column::StaffId.eq(staff_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.code_hash, c.used_at))
        .collect();
    codes.sort();
    Ok(codes)
}

async fn roles_of<C: ConnectionTrait>(db: &C, staff_id: i32) -> Result<Vec<membership::Model>, StoreError> {
    Ok(membership::Entity::find().filter(membership::Column::StaffId.eq(staff_id)).all(db).await?)
}

/// Removes the person's roles in units that `live` no longer holds. Returns how many, and
/// whether `live` holds roles the restored database does not (granted after the backup).
async fn take_away_roles<R: ConnectionTrait, L: ConnectionTrait>(
    restored: &R,
    live: &L,
    staff_id: i32,
) -> Result<(u64, bool), StoreError> {
    let (had, has) = (roles_of(restored, staff_id).await?, roles_of(live, staff_id).await?);
    let key = |m: &membership::Model| (m.unit_id, m.role);
    let now_held: HashSet<_> = has.iter().map(key).collect();
    let held: HashSet<_> = had.iter().map(key).collect();
    let mut removed = 0;
    for gone in had.iter().filter(|m| !now_held.contains(&key(m))) {
        removed += membership::Entity::delete_by_id(gone.id).exec(restored).await?.rows_affected;
    }
    Ok((removed, has.iter().any(|m| !held.contains(&key(m)))))
}

/// Revokes the restored database's valid API tokens that `live` revoked (at its time) or does not
/// hold (now). Returns how many.
async fn revoke_tokens<R: ConnectionTrait, L: ConnectionTrait>(
    restored: &R,
    live: &L,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let replaced: HashMap<i32, api_token::Model> =
        api_token::Entity::find().all(live).await?.into_iter().map(|t| (t.id, t)).collect();
    let valid = api_token::Entity::find().filter(api_token::Column::RevokedAt.is_null()).all(restored).await?;
    let mut revoked = 0;
    for token in valid {
        let at = match replaced.get(&token.id).filter(|l| l.token_hash == token.token_hash) {
            Some(there) => match there.revoked_at {
                Some(at) => at,
                None => continue,
            },
            None => now,
        };
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(at))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(restored)
            .await?;
        revoked += 1;
    }
    Ok(revoked)
}

/// Ends the calendar subscriptions `live` no longer holds (ended or renewed after the backup).
async fn end_feeds<R: ConnectionTrait, L: ConnectionTrait>(restored: &R, live: &L) -> Result<u64, StoreError> {
    let kept: HashSet<(i32, String)> =
        calendar_feed::Entity::find().all(live).await?.into_iter().map(|f| (f.id, f.secret_hash)).collect();
    let mut ended = 0;
    for feed in calendar_feed::Entity::find().all(restored).await? {
        if !kept.contains(&(feed.id, feed.secret_hash.clone())) {
            ended += calendar_feed::Entity::delete_by_id(feed.id).exec(restored).await?.rows_affected;
        }
    }
    Ok(ended)
}

/// Voids the restored database's unused reset links that `live` holds as used (at its time) or
/// not at all (now). Returns how many.
async fn void_reset_links<R: ConnectionTrait, L: ConnectionTrait>(
    restored: &R,
    live: &L,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let replaced: HashMap<i32, password_reset::Model> =
        password_reset::Entity::find().all(live).await?.into_iter().map(|r| (r.id, r)).collect();
    let unused = password_reset::Entity::find().filter(password_reset::Column::UsedAt.is_null()).all(restored).await?;
    let mut voided = 0;
    for link in unused {
        let at = match replaced.get(&link.id).filter(|l| l.token_hash == link.token_hash) {
            Some(there) => match there.used_at {
                Some(at) => at,
                None => continue,
            },
            None => now,
        };
        password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(at))
            .filter(password_reset::Column::Id.eq(link.id))
            .exec(restored)
            .await?;
        voided += 1;
    }
    Ok(voided)
}
