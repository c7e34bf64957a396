//! sea-orm entities of terminbuch: one file per table, no logic.
//! Only the crate's `store` module uses them.

pub mod absence;
pub mod api_token;
pub mod audit_event;
pub mod booking;
pub mod booking_event;
pub mod calendar_feed;
pub mod callback_request;
pub mod citizen_link;
pub mod closure;
pub mod counselling_hours;
pub mod form_submission;
pub mod location;
pub mod location_text;
pub mod login_device;
pub mod login_failure;
pub mod login_throttle;
pub mod membership;
pub mod outbox_message;
pub mod password_reset;
pub mod prelude;
pub mod recovery_code;
pub mod session;
pub mod slot;
pub mod staff;
pub mod staff_totp;
pub mod unit;
pub mod unit_self_service;
