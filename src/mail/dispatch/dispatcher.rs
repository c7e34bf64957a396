//! The dispatcher's parts and settings, and the nudge that wakes it.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use chrono_tz::Tz;
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::{MailError, Templates, Transport};

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub reminders_queued: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Tells the server's dispatcher that emails were queued, so it looks at once instead of at its
/// next poll. Cheap to clone; nudges while the dispatcher is busy fold into one.
#[derive(Clone, Default)]
pub struct Nudge(pub(super) Arc<Notify>);

impl Nudge {
    /// Wakes the dispatcher (call after the transaction that queued emails has committed).
    pub fn nudge(&self) {
        self.0.notify_one();
    }
}

/// Everything the dispatcher needs; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub db: DatabaseConnection,
    pub clock: Clock,
    pub transport: Transport,
    pub templates: Arc<Templates>,
    pub tz: Tz,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub max_backoff: TimeDelta,
    pub horizon: TimeDelta,
    pub reminder_lead: TimeDelta,
    pub lease: TimeDelta,
    pub poll: Duration,
    pub nudge: Nudge,
    /// What the citizen's link starts with (`TERMINBUCH_PUBLIC_URL`, or `http://` and the address).
    pub link_base: String,
}

impl Dispatcher {
    /// Loads the templates and builds the transport.
    ///
    /// # Errors
    /// `MailError::Config` or `MailError::Template`: the service should not start.
    pub fn new(db: DatabaseConnection, clock: Clock, settings: &Settings) -> Result<Self, MailError> {
        let mail = &settings.mail;
        let transport = Transport::from_settings(mail, &settings.data_dir)?;
        let timeout = i64::from(mail.smtp_timeout_secs);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                transport,
                templates: Arc::new(Templates::load()?),
                tz: settings.time_zone,
                from: mail.mail_from.clone(),
                reply_to: mail.mail_reply_to.clone(),
                max_backoff: TimeDelta::seconds(i64::from(mail.mail_max_backoff_secs)),
                horizon: TimeDelta::hours(i64::from(mail.mail_retry_horizon_hours)),
                reminder_lead: TimeDelta::hours(i64::from(mail.reminder_lead_hours)),
                lease: TimeDelta::seconds(timeout * 8 + 60),
                poll: Duration::from_millis(mail.mail_poll_ms),
                nudge: Nudge::default(),
                link_base: settings.public_url_for(settings.listen).trim_end_matches('/').to_owned(),
            }),
        })
    }

    /// The same dispatcher, its citizens' links starting with `base` (the server's public URL
    /// once its address is bound). Call before the dispatcher is cloned.
    #[must_use]
    pub fn with_link_base(mut self, base: &str) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.link_base = base.trim_end_matches('/').to_owned();
        }
        self
    }

    /// Whether messages only go to `.eml` files.
    pub fn writes_files(&self) -> bool {
        self.inner.transport.is_files()
    }

    /// What wakes this dispatcher when emails were queued (see [`Nudge`]).
    pub fn nudge(&self) -> Nudge {
        self.inner.nudge.clone()
    }

    /// The email templates it renders with, parsed once at start (the citizen's pages print the
    /// calendar entry's title with them too).
    pub fn templates(&self) -> Arc<Templates> {
        self.inner.templates.clone()
    }
}
