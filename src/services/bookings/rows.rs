//! The rows a new booking writes, built from its slot: shared by the transaction of the writer (or
//! of an ad-hoc booking) and PostgreSQL's one statement.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Book, NewBooking};
use crate::domain::access::Actor;
use crate::domain::booking::BookingStatus;
use crate::domain::history::{self, Reason};
use crate::domain::outbox::MailKind;
use crate::domain::records::{Booking, Slot};
use crate::domain::reference::Reference;
use crate::mail;
use crate::services::audit::{AuditAction, entries};
use crate::store;

/// What a new booking of `slot` stores: the booking, its `created` event, the audit record and
/// (when the citizen may be emailed) the confirmation email.
pub(super) struct NewRows {
    pub booking: Booking,
    pub created: history::Created,
    /// The audit record's and the email's inserts.
    pub more: Vec<sea_orm::sea_query::InsertStatement>,
    pub queued: bool,
}

impl NewRows {
    pub(super) fn of(deps: Book<'_>, actor: &Actor, new: &NewBooking, slot: &Slot, now: DateTime<Utc>) -> Self {
        let booking = Booking {
            id: Uuid::now_v7(),
            reference: Reference::generate(&mut rand::rng()),
            unit_id: slot.unit_id,
            counsellor_id: slot.counsellor_id,
            slot_id: slot.id,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            status: BookingStatus::Booked,
            channel: new.channel,
            citizen: new.citizen.clone(),
            note: new.note.clone(),
            override_reason: new.override_reason.clone(),
            cancel_reason: None,
            sequence: 0,
            created_at: now,
            created_by: Some(actor.staff_id()),
            updated_at: now,
            updated_by: Some(actor.staff_id()),
            erased_at: None,
        };
        let created = history::Created {
            slot_id: slot.id,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            adhoc: slot.adhoc,
            channel: new.channel,
            override_reason: Reason::from(new.override_reason.clone()),
        };
        let entry = entries::booking(actor, AuditAction::BookingCreated, &booking);
        let mut more = vec![store::audit::insert_statement(now, &entry)];
        let message = mail::outbox::message(&booking, MailKind::Confirmation, deps.mail_domain, now);
        more.extend(message.as_ref().map(store::outbox::insert_statement));
        Self { booking, created, more, queued: message.is_some() }
    }
}
