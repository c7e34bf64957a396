//! Locations, units, staff, memberships and API tokens.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{api_token, location, membership, staff, unit};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::StoreError;
use crate::domain::access::{Actor, Role};
use crate::domain::records::{Location, StaffMember, Unit, split_languages};

/// Fields of a new location.
pub struct NewLocation<'a> {
    pub name: &'a str,
    pub street: &'a str,
    pub postal_code: &'a str,
    pub city: &'a str,
    pub floor: &'a str,
    pub accessibility_notes: &'a str,
}

/// Fields of a new unit.
pub struct NewUnit<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub short_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub location_id: i32,
    pub default_slot_minutes: i32,
    pub languages: &'a [String],
    pub confidential: bool,
}

/// Fields of a new staff member.
pub struct NewStaff<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub languages: &'a [String],
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

/// # Errors
/// Database failures.
pub async fn find_location_by_name<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<Location>, StoreError> {
    let row = location::Entity::find().filter(location::Column::Name.eq(name)).one(db).await?;
    Ok(row.map(location_record))
}

/// # Errors
/// Database failures.
pub async fn find_location<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<Location>, StoreError> {
    Ok(location::Entity::find_by_id(id).one(db).await?.map(location_record))
}

/// # Errors
/// Database failures.
pub async fn insert_location<C: ConnectionTrait>(db: &C, new: NewLocation<'_>) -> Result<Location, StoreError> {
    let row = location::ActiveModel {
        name: Set(new.name.to_owned()),
        street: Set(new.street.to_owned()),
        postal_code: Set(new.postal_code.to_owned()),
        city: Set(new.city.to_owned()),
        floor: Set(new.floor.to_owned()),
        accessibility_notes: Set(new.accessibility_notes.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(location_record(row))
}

/// All units, or those with the given ids, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_units<C: ConnectionTrait>(db: &C, only: Option<&[i32]>) -> Result<Vec<Unit>, StoreError> {
    let mut query = unit::Entity::find().order_by_asc(unit::Column::Name);
    if let Some(ids) = only {
        query = query.filter(unit::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(query.all(db).await?.into_iter().map(unit_record).collect())
}

/// A unit by slug (`ads`) or numeric id.
///
/// # Errors
/// Database failures.
pub async fn find_unit<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<Unit>, StoreError> {
    let query = match key.parse::<i32>() {
        Ok(id) => unit::Entity::find_by_id(id),
        Err(_) => unit::Entity::find().filter(unit::Column::Slug.eq(key)),
    };
    Ok(query.one(db).await?.map(unit_record))
}

/// # Errors
/// Database failures.
pub async fn find_unit_by_id<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<Unit>, StoreError> {
    Ok(unit::Entity::find_by_id(id).one(db).await?.map(unit_record))
}

/// # Errors
/// `Duplicate` when the slug is taken.
pub async fn insert_unit<C: ConnectionTrait>(db: &C, new: NewUnit<'_>, now: DateTime<Utc>) -> Result<Unit, StoreError> {
    let row = unit::ActiveModel {
        slug: Set(new.slug.to_owned()),
        name: Set(new.name.to_owned()),
        short_name: Set(new.short_name.to_owned()),
        phone: Set(new.phone.to_owned()),
        email: Set(new.email.to_owned()),
        location_id: Set(new.location_id),
        default_slot_minutes: Set(new.default_slot_minutes),
        languages: Set(new.languages.join(",")),
        confidential: Set(new.confidential),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(unit_record(row))
}

/// # Errors
/// Database failures.
pub async fn find_staff_by_login<C: ConnectionTrait>(db: &C, login: &str) -> Result<Option<StaffMember>, StoreError> {
    let Some(row) = staff::Entity::find().filter(staff::Column::Login.eq(login)).one(db).await? else {
        return Ok(None);
    };
    let memberships = memberships_of(db, row.id).await?;
    Ok(Some(staff_record(row, memberships)))
}

/// The stored password hash of an active staff member, with the member.
///
/// # Errors
/// Database failures.
pub async fn find_login_credentials<C: ConnectionTrait>(
    db: &C,
    login: &str,
) -> Result<Option<(StaffMember, Option<String>)>, StoreError> {
    let Some(row) = staff::Entity::find()
        .filter(staff::Column::Login.eq(login))
        .filter(staff::Column::Active.eq(true))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let hash = row.password_hash.clone();
    let memberships = memberships_of(db, row.id).await?;
    Ok(Some((staff_record(row, memberships), hash)))
}

/// # Errors
/// Database failures.
pub async fn find_staff<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<StaffMember>, StoreError> {
    let Some(row) = staff::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let memberships = memberships_of(db, row.id).await?;
    Ok(Some(staff_record(row, memberships)))
}

/// # Errors
/// `Duplicate` when the login is taken.
pub async fn insert_staff<C: ConnectionTrait>(
    db: &C,
    new: NewStaff<'_>,
    now: DateTime<Utc>,
) -> Result<StaffMember, StoreError> {
    let row = staff::ActiveModel {
        login: Set(new.login.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        email: Set(new.email.map(str::to_owned)),
        languages: Set(new.languages.join(",")),
        is_admin: Set(new.is_admin),
        password_hash: Set(new.password_hash),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(staff_record(row, Vec::new()))
}

/// Replaces a staff member's password hash.
///
/// # Errors
/// Database failures.
pub async fn set_password_hash<C: ConnectionTrait>(db: &C, staff_id: i32, hash: String) -> Result<(), StoreError> {
    staff::ActiveModel { id: Set(staff_id), password_hash: Set(Some(hash)), ..Default::default() }.update(db).await?;
    Ok(())
}

/// Adds a role in a unit; adding an existing role is a no-op.
///
/// # Errors
/// Database failures.
pub async fn add_membership<C: ConnectionTrait>(
    db: &C,
    staff_id: i32,
    unit_id: i32,
    role: Role,
) -> Result<(), StoreError> {
    let exists = membership::Entity::find()
        .filter(membership::Column::StaffId.eq(staff_id))
        .filter(membership::Column::UnitId.eq(unit_id))
        .filter(membership::Column::Role.eq(role_row(role)))
        .count(db)
        .await?;
    if exists == 0 {
        membership::ActiveModel {
            staff_id: Set(staff_id),
            unit_id: Set(unit_id),
            role: Set(role_row(role)),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Members of a unit, optionally only those with `role`, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_unit_staff<C: ConnectionTrait>(
    db: &C,
    unit_id: i32,
    role: Option<Role>,
) -> Result<Vec<StaffMember>, StoreError> {
    // One query: the members with the role (`wanted`), each joined again with all its
    // memberships (`held`), one row per membership; the free-slot search runs this on every
    // request.
    let member_of = sea_orm::RelationDef::from(
        membership::Entity::belongs_to(staff::Entity).from(membership::Column::StaffId).to(staff::Column::Id),
    )
    .rev();
    let (wanted, held) = (Alias::new("wanted"), Alias::new("held"));
    let mut query = staff::Entity::find()
        .join_as(JoinType::InnerJoin, member_of.clone(), wanted.clone())
        .join_as(JoinType::InnerJoin, member_of, held.clone())
        .filter(Expr::col((wanted.clone(), membership::Column::UnitId)).eq(unit_id))
        .filter(staff::Column::Active.eq(true));
    if let Some(role) = role {
        query = query.filter(Expr::col((wanted, membership::Column::Role)).eq(role_row(role).to_value()));
    }
    let rows: Vec<StaffMembershipRow> = query
        .column_as(Expr::col((held.clone(), membership::Column::UnitId)), "held_unit_id")
        .column_as(Expr::col((held.clone(), membership::Column::Role)), "held_role")
        .order_by_asc(staff::Column::DisplayName)
        .order_by_asc(staff::Column::Id)
        .order_by(Expr::col((held, membership::Column::UnitId)), Order::Asc)
        .into_model()
        .all(db)
        .await?;
    let mut members: Vec<StaffMember> = Vec::new();
    for row in rows {
        let held = (row.held_unit_id, role_record(row.held_role));
        match members.last_mut() {
            // A member with several roles in the unit comes once per wanted role: keep one of each.
            Some(member) if member.id == row.staff.id => {
                if !member.memberships.contains(&held) {
                    member.memberships.push(held);
                }
            }
            _ => members.push(staff_record(row.staff, vec![held])),
        }
    }
    Ok(members)
}

/// A staff row with one of the member's memberships (`held_unit_id`, `held_role`).
struct StaffMembershipRow {
    staff: staff::Model,
    held_unit_id: i32,
    held_role: membership::Role,
}

impl sea_orm::FromQueryResult for StaffMembershipRow {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            staff: staff::Model::from_query_result(row, pre)?,
            held_unit_id: row.try_get(pre, "held_unit_id")?,
            held_role: row.try_get(pre, "held_role")?,
        })
    }
}

/// Every staff member (active or not) with memberships, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_staff<C: ConnectionTrait>(db: &C) -> Result<Vec<StaffMember>, StoreError> {
    let rows = staff::Entity::find().order_by_asc(staff::Column::DisplayName).all(db).await?;
    let mut memberships: HashMap<i32, Vec<(i32, Role)>> = HashMap::new();
    for m in membership::Entity::find().order_by_asc(membership::Column::UnitId).all(db).await? {
        memberships.entry(m.staff_id).or_default().push((m.unit_id, role_record(m.role)));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_member = memberships.remove(&row.id).unwrap_or_default();
            staff_record(row, of_member)
        })
        .collect())
}

/// Every location, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_locations<C: ConnectionTrait>(db: &C) -> Result<Vec<Location>, StoreError> {
    Ok(location::Entity::find()
        .order_by_asc(location::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(location_record)
        .collect())
}

/// # Errors
/// Database failures.
pub async fn count_admins<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    Ok(staff::Entity::find().filter(staff::Column::IsAdmin.eq(true)).count(db).await?)
}

/// # Errors
/// Database failures.
pub async fn count_units<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    Ok(unit::Entity::find().count(db).await?)
}

/// Stores the hash of a new API token.
///
/// # Errors
/// Database failures.
pub async fn insert_token<C: ConnectionTrait>(
    db: &C,
    staff_id: i32,
    token_hash: String,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    api_token::ActiveModel {
        staff_id: Set(staff_id),
        token_hash: Set(token_hash),
        label: Set(label.to_owned()),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Staff id, login, admin flag, and one membership (unit, role) if any.
type TokenOwnerRow = (i32, String, bool, Option<i32>, Option<membership::Role>);

/// The active staff member owning an unrevoked token with this hash.
///
/// # Errors
/// Database failures.
pub async fn actor_for_token_hash<C: ConnectionTrait>(db: &C, token_hash: &str) -> Result<Option<Actor>, StoreError> {
    // One round trip on every API request: token, owner and memberships joined.
    let owner =
        api_token::Entity::belongs_to(staff::Entity).from(api_token::Column::StaffId).to(staff::Column::Id).into();
    let roles = sea_orm::RelationDef::from(
        membership::Entity::belongs_to(staff::Entity).from(membership::Column::StaffId).to(staff::Column::Id),
    )
    .rev();
    let rows: Vec<TokenOwnerRow> = api_token::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .column(staff::Column::Login)
        .column(staff::Column::IsAdmin)
        .column(membership::Column::UnitId)
        .column(membership::Column::Role)
        .join(JoinType::InnerJoin, owner)
        .join(JoinType::LeftJoin, roles)
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(membership::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    let Some((staff_id, login, is_admin, _, _)) = rows.first().cloned() else {
        return Ok(None);
    };
    let memberships = rows.into_iter().filter_map(|(_, _, _, unit, role)| Some((unit?, role_record(role?)))).collect();
    Ok(Some(Actor::new(staff_id, login, is_admin, memberships)))
}

/// The actor for an active staff member.
///
/// # Errors
/// Database failures.
pub async fn actor_for_staff<C: ConnectionTrait>(db: &C, staff_id: i32) -> Result<Option<Actor>, StoreError> {
    let Some(member) = staff::Entity::find_by_id(staff_id).one(db).await?.filter(|s| s.active) else {
        return Ok(None);
    };
    let memberships = memberships_of(db, member.id).await?;
    Ok(Some(Actor::new(member.id, member.login, member.is_admin, memberships)))
}

async fn memberships_of<C: ConnectionTrait>(db: &C, staff_id: i32) -> Result<Vec<(i32, Role)>, StoreError> {
    let rows = membership::Entity::find()
        .filter(membership::Column::StaffId.eq(staff_id))
        .order_by_asc(membership::Column::UnitId)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.unit_id, role_record(m.role))).collect())
}

fn role_row(role: Role) -> membership::Role {
    match role {
        Role::FrontDesk => membership::Role::FrontDesk,
        Role::Counsellor => membership::Role::Counsellor,
        Role::UnitLead => membership::Role::UnitLead,
    }
}

fn role_record(role: membership::Role) -> Role {
    match role {
        membership::Role::FrontDesk => Role::FrontDesk,
        membership::Role::Counsellor => Role::Counsellor,
        membership::Role::UnitLead => Role::UnitLead,
    }
}

fn location_record(row: location::Model) -> Location {
    Location {
        id: row.id,
        name: row.name,
        street: row.street,
        postal_code: row.postal_code,
        city: row.city,
        floor: row.floor,
        accessibility_notes: row.accessibility_notes,
    }
}

fn unit_record(row: unit::Model) -> Unit {
    Unit {
        id: row.id,
        slug: row.slug,
        name: row.name,
        short_name: row.short_name,
        phone: row.phone,
        email: row.email,
        location_id: row.location_id,
        default_slot_minutes: row.default_slot_minutes,
        languages: split_languages(&row.languages),
        confidential: row.confidential,
    }
}

fn staff_record(row: staff::Model, memberships: Vec<(i32, Role)>) -> StaffMember {
    StaffMember {
        id: row.id,
        login: row.login,
        display_name: row.display_name,
        email: row.email,
        languages: split_languages(&row.languages),
        is_admin: row.is_admin,
        active: row.active,
        memberships,
    }
}
