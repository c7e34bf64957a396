//! Composing an outbox row into an email: the booking's current details, the rendered templates,
//! and the calendar entry, or the reason the row is no longer sent.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::dispatcher::Dispatcher;
use crate::domain::citizen_link;
use crate::domain::language::Language;
use crate::domain::outbox::{DeliveryState, MailKind, OutboxMessage, Skipped, obsolete};
use crate::domain::records::{Booking, Unit};
use crate::mail::ics::{self, Invite, Method};
use crate::mail::messages::{AppointmentMail, LinkOffers, MailFacts};
use crate::mail::render::Rendered;
use crate::mail::{MailError, outbox};
use crate::store::outbox::{ADDRESS_CORRECTED, CONSENT_WITHDRAWN};
use crate::store::{self, StoreError, bookings, directory};

/// The display name of emails (and calendar entries' organizer) about `unit` from `from`:
/// confidential units get the neutral configured name alone.
pub fn sender_name(from: &Mailbox, unit: &Unit) -> String {
    match (&from.name, unit.confidential) {
        (Some(name), true) => name.clone(),
        (Some(name), false) => format!("{} – {name}", unit.name),
        (None, _) => "Landeshauptstadt Hannover".to_owned(),
    }
}

/// The citizen's link for an email.
enum Link {
    For(String),
    /// Cancellations carry none.
    None,
    /// The booking's address changed, or its consent was withdrawn, since the row was written:
    /// why it is not sent.
    NotSent(&'static str),
}

pub(super) enum Composed {
    Send(Box<Message>),
    Skip(&'static str),
}

/// The start of the appointment as the citizen last heard of it by email before `message` (a
/// change notice): that of the newest confirmation or change notice sent to the same address
/// before it. None when no such email was sent (every earlier one failed and was read out on the
/// phone, was superseded before it went out, or went to an address corrected since).
async fn last_told_start(
    db: &sea_orm::DatabaseConnection,
    message: &OutboxMessage,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let earlier = store::outbox::for_booking(db, message.booking_id).await?;
    let told = earlier
        .iter()
        .filter(|m| matches!(m.kind, MailKind::Confirmation | MailKind::Change))
        .filter(|m| m.state == DeliveryState::Sent && m.sequence < message.sequence)
        .filter(|m| m.recipient.eq_ignore_ascii_case(&message.recipient))
        .max_by_key(|m| (m.sequence, m.sent_at));
    Ok(told.map(|m| m.starts_at))
}

impl Dispatcher {
    /// Builds the email from the row's snapshot and the booking's current details.
    pub(super) async fn compose(&self, message: &OutboxMessage, now: DateTime<Utc>) -> Result<Composed, MailError> {
        let inner = &self.inner;
        let db = &inner.db;
        let missing = |what: &str| MailError::Compose(format!("the {what} no longer exists"));
        let booking = bookings::find(db, message.booking_id).await?.ok_or_else(|| missing("booking"))?;
        // Erased after this row was claimed: the claimed copy still holds the address.
        if booking.erased_at.is_some() {
            return Ok(Composed::Skip(Skipped::Erased.reason()));
        }
        // Staff corrected the citizen's address (or consent) after this row was queued: the row's
        // address is no longer the citizen's; the new one got a confirmation of its own.
        if !booking.citizen.is_recipient(&message.recipient) {
            // A withdrawn consent keeps the address (it is still the citizen's); a corrected one
            // is forgotten with the skip.
            let why =
                if booking.citizen.holds_address(&message.recipient) { CONSENT_WITHDRAWN } else { ADDRESS_CORRECTED };
            return Ok(Composed::Skip(why));
        }
        // The booking's sequence goes up in the same transaction that queues the next notice, so
        // the outbox is only read when the booking has moved on since this row was written.
        let newer_notice = matches!(message.kind, MailKind::Confirmation | MailKind::Change)
            && booking.sequence > message.sequence
            && store::outbox::for_booking(db, booking.id).await?.iter().any(|other| {
                other.kind != MailKind::Reminder && other.sequence > message.sequence && other.id != message.id
            });
        if let Some(why) = obsolete(message, booking.status, booking.sequence, newer_notice, now) {
            return Ok(Composed::Skip(why.reason()));
        }
        let unit = directory::find_unit_by_id(db, booking.unit_id).await?.ok_or_else(|| missing("unit"))?;
        let location = directory::find_location(db, unit.location_id).await?;
        let counsellor = directory::find_staff(db, message.counsellor_id).await?;
        // The citizen's language now: a correction of it also reaches emails queued before.
        let lang = inner.templates.language_for(booking.citizen.language.code());
        let facts = MailFacts {
            citizen_name: &booking.citizen.name,
            starts_at: message.starts_at,
            ends_at: message.ends_at,
            unit: &unit,
            location: location.as_ref(),
            counsellor_name: counsellor.as_ref().map(|c| c.display_name.as_str()),
            reference: booking.reference.as_str(),
            interpreter_language: booking.citizen.interpreter_language.as_ref().map(Language::code),
        };
        let link = match self.citizen_link(message, now).await? {
            Link::For(link) => Some(link),
            Link::None => None,
            Link::NotSent(why) => return Ok(Composed::Skip(why)),
        };
        let offers = match link {
            Some(_) => self.link_offers(&booking, &unit, now).await?,
            None => LinkOffers::See,
        };
        // A change notice names the time it replaces; to a citizen who was told of no time yet
        // (the confirmation failed, or was superseded before it went out) it is the confirmation.
        let (kind, previous) = match message.kind {
            MailKind::Change => match last_told_start(db, message).await? {
                None => (MailKind::Confirmation, None),
                Some(told) => (MailKind::Change, (!message.place_changed && told != message.starts_at).then_some(told)),
            },
            kind => (kind, None),
        };
        let mail = AppointmentMail::new(&facts, lang, inner.tz)
            .with_link(link, offers)
            .about_place(message.place_changed && kind == MailKind::Change)
            .moved_from(previous, lang, inner.tz);
        let rendered = inner.templates.render(kind, lang, &mail)?;
        // The entry's UID keeps the domain of the booking's first email, so calendars update
        // the same entry even after the sender's domain changed (or ids ended in `@terminbuch`).
        let first = store::outbox::first_message_id(db, booking.id).await?;
        let uid_domain = first.as_deref().and_then(outbox::domain_of).unwrap_or(outbox::FALLBACK_DOMAIN);
        let sender_name = self.sender_name(&unit);
        let method = if message.kind == MailKind::Cancellation { Method::Cancel } else { Method::Request };
        let calendar = ics::calendar(&Invite {
            uid: ics::uid(booking.id, uid_domain),
            sequence: message.sequence,
            method,
            starts_at: message.starts_at,
            ends_at: message.ends_at,
            tz: inner.tz,
            summary: &rendered.calendar_summary,
            location: &mail.location_line(),
            description: &mail.calendar_description(),
            organizer_name: &sender_name,
            organizer_email: inner.from.email.as_ref(),
            attendee_email: &message.recipient,
            stamp: message.created_at,
        });
        // A name stored with a line break (possible before names were checked) would break the
        // From header: the email fails with a reason staff can act on, instead of panicking in
        // lettre and staying queued.
        for (what, value) in [("the unit's name (sender)", &sender_name), ("the subject", &rendered.subject)] {
            if value.chars().any(crate::domain::text::is_forbidden_in_name) {
                return Err(MailError::Compose(format!(
                    "{what} contains a line break or another control character: {value:?}; correct the unit's name"
                )));
            }
        }
        // lettre panics on some header values it cannot encode; whatever slipped past the check
        // above fails this email, not the sender.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.message(message, &sender_name, rendered, calendar, method, now)
        }));
        let email = built.map_err(|_| MailError::Compose("a header value could not be encoded".to_owned()))??;
        Ok(Composed::Send(Box::new(email)))
    }

    /// A new link of the citizen's own for the email (its hash stored before the email leaves;
    /// the token itself only in the email), for every kind but the cancellation.
    async fn citizen_link(&self, message: &OutboxMessage, now: DateTime<Utc>) -> Result<Link, MailError> {
        if message.kind == MailKind::Cancellation {
            return Ok(Link::None);
        }
        let token = citizen_link::new_token();
        // The token is stored only while the row's address is still the citizen's, with the
        // booking locked (PostgreSQL; a SQLite write transaction holds the database): a
        // correction of the address that commits first is seen here, one that commits after
        // deletes this token with the others.
        let txn = store::begin_write(&self.inner.db).await?;
        let current = bookings::find_locked(&txn, message.booking_id).await?;
        if !current.as_ref().is_some_and(|booking| booking.citizen.is_recipient(&message.recipient)) {
            txn.rollback().await.map_err(StoreError::from)?;
            let kept = current.is_some_and(|booking| booking.citizen.holds_address(&message.recipient));
            return Ok(Link::NotSent(if kept { CONSENT_WITHDRAWN } else { ADDRESS_CORRECTED }));
        }
        let origin = crate::domain::citizen_link::Origin::Email(message.id);
        store::citizen_links::insert(&txn, message.booking_id, citizen_link::token_hash(&token), origin, now).await?;
        txn.commit().await.map_err(StoreError::from)?;
        Ok(Link::For(format!("{}/t/{token}", self.inner.link_base)))
    }

    /// What the citizen's page lets them do with `booking` now, by its unit's self-service
    /// settings and the moves they made.
    async fn link_offers(&self, booking: &Booking, unit: &Unit, now: DateTime<Utc>) -> Result<LinkOffers, MailError> {
        let db = &self.inner.db;
        let rules = store::citizen_links::settings(db, unit.id).await?.unwrap_or_default();
        let moves = store::citizen_links::citizen_moves(db, booking.id).await?;
        let interpreter = booking.citizen.interpreter_language.is_some();
        Ok(LinkOffers::of(citizen_link::offer(booking.status, booking.starts_at, moves, rules, now, interpreter)))
    }

    /// The sender's display name. Confidential units: the neutral configured one.
    fn sender_name(&self, unit: &Unit) -> String {
        sender_name(&self.inner.from, unit)
    }

    /// The MIME message: text, HTML and calendar as alternatives, the calendar as attachment too.
    fn message(
        &self,
        message: &OutboxMessage,
        sender_name: &str,
        rendered: Rendered,
        calendar: String,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<Message, MailError> {
        let inner = &self.inner;
        let to: lettre::Address =
            message.recipient.parse().map_err(|err| MailError::Compose(format!("recipient address: {err}")))?;
        let calendar_type = |mime: &str| {
            ContentType::parse(&format!("{mime}; charset=utf-8; method={}", method.as_str()))
                .map_err(|err| MailError::Compose(err.to_string()))
        };
        let body = MultiPart::alternative()
            .singlepart(SinglePart::plain(rendered.text))
            .singlepart(SinglePart::html(rendered.html))
            .singlepart(SinglePart::builder().header(calendar_type("text/calendar")?).body(calendar.clone()));
        let mut builder = Message::builder()
            .message_id(Some(message.message_id.clone()))
            .from(Mailbox::new(Some(sender_name.to_owned()), inner.from.email.clone()))
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .date(std::time::SystemTime::from(now));
        if let Some(reply_to) = &inner.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let attachment = Attachment::new("termin.ics".to_owned()).body(calendar, calendar_type("application/ics")?);
        builder
            .multipart(MultiPart::mixed().multipart(body).singlepart(attachment))
            .map_err(|err| MailError::Compose(err.to_string()))
    }
}
