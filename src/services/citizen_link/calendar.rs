//! The calendar entry the citizen's page offers: the one the booking's emails carry (same UID,
//! the booking's current SEQUENCE, `STATUS:CANCELLED` once cancelled), built from the same parts,
//! but naming no attendee (the link shows nothing of the person to whoever holds it) and so
//! published (`METHOD:PUBLISH`), not sent as an invitation or its cancellation.

use chrono_tz::Tz;
use lettre::message::Mailbox;

use super::Opened;
use crate::domain::booking::BookingStatus;
use crate::mail::ics::{self, Invite, Method};
use crate::mail::messages::AppointmentMail;
use crate::mail::{Templates, dispatch, outbox};
use crate::services::ServiceError;
use crate::store;

/// What the entry is made with besides the booking.
pub struct EntryDeps<'a> {
    pub db: &'a sea_orm::DatabaseConnection,
    pub templates: &'a Templates,
    pub tz: Tz,
    pub from: &'a Mailbox,
}

/// The `text/calendar` body of the booking behind the link.
///
/// # Errors
/// Database or template failures.
pub async fn calendar(deps: EntryDeps<'_>, opened: &Opened) -> Result<String, ServiceError> {
    let booking = &opened.booking;
    let lang = deps.templates.language_for(booking.citizen.language.code());
    let facts = opened.mail_facts(false);
    let mail = AppointmentMail::new(&facts, lang, deps.tz);
    let summary = deps
        .templates
        .calendar_summary(lang, &mail)
        .map_err(|err| ServiceError::Store(store::StoreError::Io(err.to_string())))?;
    let first = store::outbox::first_message_id(deps.db, booking.id).await?;
    // Without an email yet (a printed confirmation), the domain the first email's id will have:
    // an address added later then updates the entry taken from the link instead of adding one.
    let uid_domain =
        first.as_deref().and_then(outbox::domain_of).unwrap_or_else(|| outbox::id_domain(&deps.from.email));
    let method = Method::Publish { cancelled: booking.status == BookingStatus::Cancelled };
    Ok(ics::calendar(&Invite {
        uid: ics::uid(booking.id, uid_domain),
        sequence: booking.sequence,
        method,
        starts_at: booking.starts_at,
        ends_at: booking.ends_at,
        tz: deps.tz,
        summary: &summary,
        location: &mail.location_line(),
        description: &mail.calendar_description(),
        organizer_name: &dispatch::sender_name(deps.from, &opened.unit),
        organizer_email: deps.from.email.as_ref(),
        // No attendee: whoever holds the link (a forwarded email, a print handed to the wrong
        // person) would read the citizen's email address here, which the page itself does not
        // show. The emails' invitations name their recipient (`mail::dispatch::compose`).
        attendee_email: "",
        stamp: booking.updated_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_downloaded_entry_is_published_with_its_status() {
        let start = chrono::Utc::now();
        for (cancelled, status) in [(false, "STATUS:CONFIRMED"), (true, "STATUS:CANCELLED")] {
            let method = Method::Publish { cancelled };
            let published = ics::calendar(&Invite {
                uid: ics::uid(uuid::Uuid::nil(), "example.org"),
                sequence: 2,
                method,
                starts_at: start,
                ends_at: start + chrono::TimeDelta::minutes(30),
                tz: chrono_tz::Europe::Berlin,
                summary: "Termin",
                location: "",
                description: "",
                organizer_name: "Stadt Hannover",
                organizer_email: "termine@example.org",
                attendee_email: "",
                stamp: start,
            });
            let methods: Vec<&str> = published.lines().filter(|l| l.starts_with("METHOD:")).collect();
            assert_eq!(methods, ["METHOD:PUBLISH"], "{method:?}: {published}");
            assert!(published.contains(status) && published.contains("SEQUENCE:2"), "{method:?}: {published}");
            assert!(!published.contains("ATTENDEE"), "{published}");
        }
    }
}
