//! Database migrations of terminbuch, applied by `terminbuch migrate` and at server start.
//! Never edit an applied migration; add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_directory;
mod m20261124_000002_create_schedule;
mod m20261124_000003_create_bookings;
mod m20261124_000004_create_outbox;
mod m20261124_000005_create_sessions;
mod m20261124_000006_bound_slot_overlap_triggers;
mod m20261124_000007_index_bookings_start;
mod m20261202_100001_accounts;
mod m20261202_110000_create_login_throttles;
mod m20261202_110100_names_without_control_characters;
mod m20261202_160000_extend_audit_events;
mod m20261202_160100_append_only_audit;
mod m20261202_170001_add_booking_search_keys;
mod m20261202_170002_create_callback_requests;
mod m20261202_170003_create_calendar_feeds;
mod m20261203_100000_add_retention;
mod m20261203_200000_create_citizen_links;
mod m20261203_300000_take_seat_function;
mod m20261205_120000_add_token_parents;
mod m20261205_130000_note_throttled_logins;
mod m20261206_100000_phone_keys_without_trunk_zero;
mod m20261206_200000_create_form_submissions;
mod m20261206_300000_calendar_feeds_remember_their_token;
mod m20261206_400000_name_keys_meet_without_umlaut_spelling;
mod m20261206_500000_submissions_remember_their_request;
mod m20261206_600000_citizen_links_remember_their_origin;
mod m20261207_100000_create_location_texts;
mod m20261208_100000_drop_totp_attempt_counts;
mod m20261208_200000_add_outbox_place_changed;
mod m20261209_100000_index_audit_events_target;
mod m20261210_100000_add_location_and_unit_versions;
mod m20261211_100000_sessions_stored_by_digest;
mod m20261212_100000_create_login_devices;
mod m20261212_200000_name_keys_hold_the_sound_of_names;

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_directory::Migration),
            Box::new(m20261124_000002_create_schedule::Migration),
            Box::new(m20261124_000003_create_bookings::Migration),
            Box::new(m20261124_000004_create_outbox::Migration),
            Box::new(m20261124_000005_create_sessions::Migration),
            Box::new(m20261124_000006_bound_slot_overlap_triggers::Migration),
            Box::new(m20261124_000007_index_bookings_start::Migration),
            Box::new(m20261202_100001_accounts::Migration),
            Box::new(m20261202_160000_extend_audit_events::Migration),
            Box::new(m20261202_160100_append_only_audit::Migration),
            Box::new(m20261202_170001_add_booking_search_keys::Migration),
            Box::new(m20261202_170002_create_callback_requests::Migration),
            Box::new(m20261202_170003_create_calendar_feeds::Migration),
            Box::new(m20261202_110000_create_login_throttles::Migration),
            Box::new(m20261202_110100_names_without_control_characters::Migration),
            Box::new(m20261203_100000_add_retention::Migration),
            Box::new(m20261203_200000_create_citizen_links::Migration),
            Box::new(m20261203_300000_take_seat_function::Migration),
            Box::new(m20261205_120000_add_token_parents::Migration),
            Box::new(m20261205_130000_note_throttled_logins::Migration),
            Box::new(m20261206_100000_phone_keys_without_trunk_zero::Migration),
            Box::new(m20261206_200000_create_form_submissions::Migration),
            Box::new(m20261206_300000_calendar_feeds_remember_their_token::Migration),
            Box::new(m20261206_400000_name_keys_meet_without_umlaut_spelling::Migration),
            Box::new(m20261206_500000_submissions_remember_their_request::Migration),
            Box::new(m20261206_600000_citizen_links_remember_their_origin::Migration),
            Box::new(m20261207_100000_create_location_texts::Migration),
            Box::new(m20261208_100000_drop_totp_attempt_counts::Migration),
            Box::new(m20261208_200000_add_outbox_place_changed::Migration),
            Box::new(m20261209_100000_index_audit_events_target::Migration),
            Box::new(m20261210_100000_add_location_and_unit_versions::Migration),
            Box::new(m20261211_100000_sessions_stored_by_digest::Migration),
            Box::new(m20261212_100000_create_login_devices::Migration),
            Box::new(m20261212_200000_name_keys_hold_the_sound_of_names::Migration),
        ]
    }
}

/// Creates an index named `name` on `table(columns)`.
pub(crate) fn index(name: &str, table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in columns {
        stmt.col(Alias::new(*col));
    }
    stmt.take()
}
