//! The admins' pages: units, locations, staff, and each person's account (roles, deactivation, reset link,
//! second-factor reset, API tokens).

mod locations;
mod once;
mod person;
mod self_service;
mod staff;
mod units;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(units::router())
        .merge(locations::router())
        .merge(staff::router())
        .merge(person::router())
        .merge(self_service::router())
}
