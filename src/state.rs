//! Shared state of the HTTP handlers.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::holidays::HolidayCalendar;

/// Cheap to clone; everything a request may need.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// PostgreSQL: the free-slot search's own pool (generic plans, [`crate::store::search_pool`]).
    pub search_db: Option<DatabaseConnection>,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    /// The URL people open (`TERMINBUCH_PUBLIC_URL`, or `http://` and the bound address), for links.
    pub base_url: Arc<str>,
    pub calendar: Arc<HolidayCalendar>,
    /// Wakes the email dispatcher after a change queued emails.
    pub mail: crate::mail::Nudge,
    /// API tokens seen in the last moments.
    pub tokens: crate::services::auth::TokenCache,
    /// Units looked up before (they never change).
    pub units: crate::services::directory::UnitCache,
    /// Units' counsellors read in the last moments; forgotten when staff are added here.
    pub counsellors: crate::services::directory::CounsellorCache,
    /// Slots the free-slot search listed lately (PostgreSQL), so that booking one is one round trip.
    pub listed: crate::services::bookings::ListedSlots,
    /// The citizen link's rate limit and the templates of its calendar entry.
    pub citizen: crate::services::citizen_link::Shared,
    /// The calendar feed's rate limit, per client address and per feed.
    pub feed_limiter: crate::services::citizen_link::LinkLimiter,
    /// SQLite: the one writer of bookings (group commit); `None` on PostgreSQL.
    pub writer: Option<crate::services::bookings::Writer>,
    /// PostgreSQL: the one-statement booking's own connections; `None` on SQLite.
    pub booking_pool: Option<crate::store::booking_pool::BookingPool>,
}

impl AppState {
    /// The dependencies of the booking use cases.
    pub fn book(&self) -> crate::services::bookings::Book<'_> {
        crate::services::bookings::Book {
            db: &self.db,
            search_db: self.search_db.as_ref().unwrap_or(&self.db),
            clock: &self.clock,
            calendar: &self.calendar,
            tz: self.settings.time_zone,
            mail: &self.mail,
            mail_domain: crate::mail::outbox::id_domain(&self.settings.mail.mail_from.email),
            counsellors: &self.counsellors,
            listed: &self.listed,
            writer: self.writer.as_ref(),
            booking_pool: self.booking_pool.as_ref(),
        }
    }

    /// The dependencies of account changes.
    pub fn accounts(&self) -> crate::services::accounts::Accounts<'_> {
        crate::services::accounts::Accounts {
            db: &self.db,
            clock: &self.clock,
            tokens: &self.tokens,
            counsellors: &self.counsellors,
            slots: crate::services::schedule::SlotPlan {
                calendar: &self.calendar,
                tz: self.settings.time_zone,
                horizon_weeks: self.settings.slot_horizon_weeks,
            },
        }
    }

    /// A unit by slug or id.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn unit(&self, key: &str) -> Result<crate::domain::records::Unit, crate::services::ServiceError> {
        crate::services::directory::find_unit_cached(&self.db, &self.units, key).await
    }

    /// Last local day of the rolling slot horizon.
    pub fn horizon_until(&self) -> chrono::NaiveDate {
        crate::domain::time::horizon_until(self.clock.now(), self.settings.time_zone, self.settings.slot_horizon_weeks)
    }
}
