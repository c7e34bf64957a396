//! Locations, units, staff, their roles and accounts, and API tokens.

mod accounts;
mod places;
mod roles;
mod staff;
mod tokens;

use entity::membership;

pub use accounts::{
    bump_epoch, clear_password, epoch_of, find_account, find_account_by_id, list_accounts, record_login,
    require_password_change, session_account, set_active, set_password,
};
pub use places::{
    NewLocation, NewUnit, count_units, delete_location, find_location, find_location_by_name, find_unit,
    find_unit_by_id, insert_location, insert_location_with_texts, insert_unit, list_locations, list_units,
    lock_location, units_at_location, update_location,
};
pub use roles::{add_membership, list_unit_staff, lock_active_admins, remove_membership, set_admin};
pub use staff::{
    NewStaff, actor_for_staff, count_admins, find_login_credentials, find_login_ignoring_case, find_staff,
    find_staff_by_login, find_staff_meant, insert_staff, insert_staff_with, list_staff, lock_login_ignoring_case,
    lock_staff, logins_ignoring_case, password_hash_of, update_details,
};
pub use tokens::{
    NewToken, TokenOwner, count_ended_tokens, count_valid_tokens, ended_tokens, find_token, insert_token, list_tokens,
    lock_token, owner_of_token, revoke_all_tokens, revoke_token, touch_token, valid_tokens,
};

use crate::domain::access::Role;
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::language::Language;
use crate::domain::records::StaffMember;

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

fn staff_record(row: entity::staff::Model, memberships: Vec<(UnitId, Role)>) -> StaffMember {
    StaffMember {
        id: StaffId::new(row.id),
        login: row.login,
        display_name: row.display_name,
        email: row.email,
        languages: Language::split_stored(&row.languages),
        is_admin: row.is_admin,
        active: row.active,
        memberships,
    }
}
