//! Roles: memberships of staff in units, the admin flag, and the members of a unit.

use entity::{membership, staff};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::super::StoreError;
use super::{role_record, role_row, staff_record};
use crate::domain::access::Role;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::records::StaffMember;

/// Adds a role in a unit; returns whether it was new (adding an existing role changes nothing).
///
/// # Errors
/// Database failures.
pub async fn add_membership<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    unit_id: UnitId,
    role: Role,
) -> Result<bool, StoreError> {
    // One statement: two requests adding the same role at once (a retry, two admins) find each
    // other in the unique index instead of both counting none and the second failing on it.
    let row = membership::ActiveModel {
        staff_id: Set(staff_id.get()),
        unit_id: Set(unit_id.get()),
        role: Set(role_row(role)),
        ..Default::default()
    };
    let columns = [membership::Column::StaffId, membership::Column::UnitId, membership::Column::Role];
    let inserted = membership::Entity::insert(row)
        .on_conflict(OnConflict::columns(columns).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// Removes a role in a unit; returns whether the person had it.
///
/// # Errors
/// Database failures.
pub async fn remove_membership<C: ConnectionTrait>(
    db: &C,
    staff_id: StaffId,
    unit_id: UnitId,
    role: Role,
) -> Result<bool, StoreError> {
    let deleted = membership::Entity::delete_many()
        .filter(membership::Column::StaffId.eq(staff_id))
        .filter(membership::Column::UnitId.eq(unit_id))
        .filter(membership::Column::Role.eq(role_row(role)))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Gives or takes the admin flag; returns whether it changed.
///
/// # Errors
/// Database failures.
pub async fn set_admin<C: ConnectionTrait>(db: &C, staff_id: StaffId, is_admin: bool) -> Result<bool, StoreError> {
    let updated = staff::Entity::update_many()
        .col_expr(staff::Column::IsAdmin, Expr::value(is_admin))
        .filter(staff::Column::Id.eq(staff_id))
        .filter(staff::Column::IsAdmin.eq(!is_admin))
        .exec(db)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// The ids of the active admins, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a
/// SQLite write transaction holds the whole database already). Two admins demoting each other
/// at once: the second waits for the first, then sees one admin fewer.
///
/// # Errors
/// Database failures.
pub async fn lock_active_admins<C: ConnectionTrait>(db: &C) -> Result<Vec<StaffId>, StoreError> {
    Ok(staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .filter(staff::Column::IsAdmin.eq(true))
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(staff::Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?)
}

/// Members of a unit, optionally only those with `role`, ordered by name.
///
/// # Errors
/// Database failures.
pub async fn list_unit_staff<C: ConnectionTrait>(
    db: &C,
    unit_id: UnitId,
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
        let held = (UnitId::new(row.held_unit_id), role_record(row.held_role));
        match members.last_mut() {
            // A member with several roles in the unit comes once per wanted role: keep one of each.
            Some(member) if member.id == StaffId::new(row.staff.id) => {
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
