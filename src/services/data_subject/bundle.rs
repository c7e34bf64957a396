//! The bundle of a request of the person concerned: their bookings with every field, history
//! and email, and their entries on callback lists.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Person;
use crate::domain::booking::{BookingStatus, Channel};
use crate::domain::callback::{CallbackRequest, CallbackStatus, TimeOfDay};
use crate::domain::history::HistoryEvent;
use crate::domain::ids::{CallbackId, StaffId, UnitId};
use crate::domain::outbox::{DeliveryState, MailKind};
use crate::services::ServiceError;
use crate::store;

/// Everything the service holds about a person. Its times are local (the service's zone) with
/// their offset, as every other answer gives them: the person reads the hour of their appointment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bundle {
    pub bookings: Vec<SubjectBooking>,
    pub callbacks: Vec<SubjectCallback>,
}

impl Bundle {
    /// The other phone numbers and email addresses the person's bookings hold, besides the one
    /// `person` asked by (a number as the line it names): bookings stored only under those are
    /// found by them, not by `person`, and an erasure by `person` takes them off these bookings.
    pub fn other_contacts(&self, person: &Person) -> Vec<String> {
        let (asked_email, asked_line) = match person {
            Person::Email(email) => (Some(email.as_str()), None),
            Person::Phone(phone) => (None, fold::phone_identity(phone)),
            Person::Reference(_) => (None, None),
        };
        let mut others: Vec<String> = Vec::new();
        // One line once, however it was spelled (`0511-987654`, `+49 511 987654`): the first
        // spelling stands for it.
        let mut lines = Vec::new();
        for booking in &self.bookings {
            let phone = booking.phone.as_deref().filter(|p| {
                let line = fold::phone_identity(p);
                let new = line.is_none() || !lines.contains(&line);
                lines.push(line.clone());
                new && (asked_line.is_none() || line != asked_line)
            });
            let email = booking
                .email
                .as_deref()
                .filter(|e| asked_email.is_none_or(|asked| !e.trim().eq_ignore_ascii_case(asked)));
            for other in phone.into_iter().chain(email) {
                if !others.iter().any(|known| known.eq_ignore_ascii_case(other)) {
                    others.push(other.to_owned());
                }
            }
        }
        others
    }
}

/// One booking with every stored field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectBooking {
    pub id: Uuid,
    pub reference: String,
    pub unit_id: UnitId,
    /// The unit's name.
    pub unit_name: String,
    pub counsellor_id: StaffId,
    /// The counsellor's name as the desk shows it.
    pub counsellor_name: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub status: BookingStatus,
    /// How the appointment was arranged.
    pub channel: Channel,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub interpreter_language: Option<String>,
    pub accessibility_needs: Option<String>,
    pub email_consent: bool,
    pub note: Option<String>,
    pub override_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub history: Vec<SubjectEvent>,
    pub emails: Vec<SubjectEmail>,
}

/// One entry of a booking's history as stored, its times local.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectEvent {
    pub at: DateTime<FixedOffset>,
    pub kind: String,
    /// What happened, as stored, but its times (`starts_at`, `ends_at`, a move's `from` and `to`)
    /// local with their offset; a move's `from` and `to` also name their counsellor
    /// (`counsellor_name`) beside the `counsellor_id`.
    pub detail: serde_json::Value,
    /// The event read, for the printed answer to word it (the export has `kind` and `detail`).
    #[serde(skip)]
    #[schema(ignore)]
    pub event: HistoryEvent,
}

/// One email to the person (its text is composed when sent and not stored).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectEmail {
    pub id: Uuid,
    pub kind: MailKind,
    pub state: DeliveryState,
    pub recipient: String,
    pub language: String,
    pub created_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
    pub last_error: Option<String>,
}

/// An entry on a unit's callback list: the caller's details and wishes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectCallback {
    pub id: CallbackId,
    pub unit_id: UnitId,
    /// The unit's name.
    pub unit_name: String,
    pub name: String,
    pub phone: String,
    pub language: String,
    pub note: Option<String>,
    pub status: CallbackStatus,
    /// The counsellor the caller asked for.
    pub wished_counsellor_id: Option<StaffId>,
    /// Their name as the desk shows it.
    pub wished_counsellor_name: Option<String>,
    /// The language of counselling the caller asked for.
    pub wished_language: Option<String>,
    /// `morning` or `afternoon`.
    pub wished_time_of_day: Option<TimeOfDay>,
    /// A time before this local day was asked for.
    pub wished_before: Option<NaiveDate>,
    /// The entry stays open until the end of this local day.
    pub open_until: NaiveDate,
    /// The booking made for the entry.
    pub booking_id: Option<Uuid>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

pub(super) async fn booking_ids<C: ConnectionTrait>(
    db: &C,
    units: Option<&[UnitId]>,
    person: &Person,
    lock: bool,
) -> Result<Vec<Uuid>, ServiceError> {
    let (email, phone, line, reference) = match person {
        Person::Email(email) => (Some(email.as_str()), None, None, None),
        Person::Phone(phone) => (None, Person::phone_key(phone), fold::phone_identity(phone), None),
        Person::Reference(reference) => (None, None, None, Some(reference.as_str())),
    };
    let who = store::retention::Who { email, phone_key: phone.as_deref(), phone_identity: line.as_deref(), reference };
    Ok(store::retention::of_person(db, units, who, lock).await?)
}

/// The person's callback entries: those of their phone number, and those a booking of theirs
/// (`bookings`) was made from, whatever number the entry holds; each with the booking made from
/// it, if any.
pub(super) async fn callback_ids<C: ConnectionTrait>(
    db: &C,
    units: Option<&[UnitId]>,
    person: &Person,
    bookings: &[Uuid],
) -> Result<Vec<(CallbackId, Option<Uuid>)>, ServiceError> {
    let found = callback_entries(db, units, person, bookings).await?;
    Ok(found.into_iter().map(|c| (c.id, c.booking_id)).collect())
}

/// The entries [`callback_ids`] names, as stored.
async fn callback_entries<C: ConnectionTrait>(
    db: &C,
    units: Option<&[UnitId]>,
    person: &Person,
    bookings: &[Uuid],
) -> Result<Vec<CallbackRequest>, ServiceError> {
    // The line the number names, not its search key: two lines can share a key.
    let key = match person {
        Person::Phone(phone) => fold::phone_identity(phone),
        Person::Email(_) | Person::Reference(_) => None,
    };
    if key.is_none() && bookings.is_empty() {
        return Ok(Vec::new());
    }
    let unit_ids = match units {
        Some(units) => units.to_vec(),
        None => store::directory::list_units(db, None).await?.into_iter().map(|u| u.id).collect(),
    };
    let all = [CallbackStatus::Open, CallbackStatus::Booked, CallbackStatus::Withdrawn, CallbackStatus::Expired];
    let mut found = Vec::new();
    for unit_id in unit_ids {
        for entry in store::callbacks::list(db, unit_id, &all).await? {
            let by_phone = key.is_some() && fold::phone_identity(&entry.citizen_phone) == key;
            let by_booking = entry.booking_id.is_some_and(|id| bookings.contains(&id));
            if by_phone || by_booking {
                found.push(entry);
            }
        }
    }
    Ok(found)
}

/// The names the bundle gives beside the ids: every unit's, and each counsellor's as first asked
/// for.
struct Names {
    units: BTreeMap<UnitId, String>,
    staff: BTreeMap<StaffId, String>,
}

impl Names {
    async fn load<C: ConnectionTrait>(db: &C) -> Result<Self, ServiceError> {
        let units = store::directory::list_units(db, None).await?.into_iter().map(|u| (u.id, u.name)).collect();
        Ok(Self { units, staff: BTreeMap::new() })
    }

    fn unit(&self, id: UnitId) -> String {
        self.units.get(&id).cloned().unwrap_or_default()
    }

    /// The staff member's display name (never empty: the id where the person is gone).
    async fn staff<C: ConnectionTrait>(&mut self, db: &C, id: StaffId) -> Result<String, ServiceError> {
        if let Some(name) = self.staff.get(&id) {
            return Ok(name.clone());
        }
        let member = store::directory::find_staff(db, id).await?;
        let name = member.map_or_else(|| id.to_string(), |m| m.display_name);
        self.staff.insert(id, name.clone());
        Ok(name)
    }

    /// The history detail as the bundle gives it: times local, a move's counsellors named.
    async fn detail<C: ConnectionTrait>(
        &mut self,
        db: &C,
        event: &HistoryEvent,
        tz: Tz,
    ) -> Result<serde_json::Value, ServiceError> {
        let mut detail = event.detail_in(tz);
        if let HistoryEvent::Rescheduled { from, to, .. } = event {
            for (key, counsellor) in [("from", from.counsellor_id), ("to", to.counsellor_id)] {
                let name = self.staff(db, counsellor).await?;
                if let Some(placement) = detail.get_mut(key).and_then(serde_json::Value::as_object_mut) {
                    placement.insert("counsellor_name".to_owned(), name.into());
                }
            }
        }
        Ok(detail)
    }
}

/// `at` in the zone `tz`, with its offset.
fn local(at: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    at.with_timezone(&tz).fixed_offset()
}

pub(super) async fn collect<C: ConnectionTrait>(
    db: &C,
    units: Option<&[UnitId]>,
    person: &Person,
    tz: Tz,
) -> Result<Bundle, ServiceError> {
    let mut names = Names::load(db).await?;
    let mut bookings = Vec::new();
    for id in booking_ids(db, units, person, false).await? {
        let Some(b) = store::bookings::find(db, id).await? else { continue };
        let mut history = Vec::new();
        for e in store::bookings::events(db, id).await? {
            let detail = names.detail(db, &e.what, tz).await?;
            history.push(SubjectEvent { at: local(e.at, tz), kind: e.what.kind().to_owned(), detail, event: e.what });
        }
        let emails = store::outbox::for_booking(db, id)
            .await?
            .into_iter()
            .map(|m| SubjectEmail {
                id: m.id,
                kind: m.kind,
                state: m.state,
                recipient: m.recipient,
                language: m.language,
                created_at: local(m.created_at, tz),
                sent_at: m.sent_at.map(|at| local(at, tz)),
                last_error: m.last_error,
            })
            .collect();
        bookings.push(SubjectBooking {
            id: b.id,
            reference: b.reference.to_string(),
            unit_id: b.unit_id,
            unit_name: names.unit(b.unit_id),
            counsellor_id: b.counsellor_id,
            counsellor_name: names.staff(db, b.counsellor_id).await?,
            starts_at: local(b.starts_at, tz),
            ends_at: local(b.ends_at, tz),
            status: b.status,
            channel: b.channel,
            name: b.citizen.name,
            email: b.citizen.email,
            phone: b.citizen.phone,
            language: b.citizen.language.code().to_owned(),
            interpreter_language: b.citizen.interpreter_language.map(|l| l.code().to_owned()),
            accessibility_needs: b.citizen.accessibility_needs,
            email_consent: b.citizen.email_consent,
            note: b.note,
            override_reason: b.override_reason,
            cancel_reason: b.cancel_reason,
            created_at: local(b.created_at, tz),
            updated_at: local(b.updated_at, tz),
            history,
            emails,
        });
    }
    let ids: Vec<Uuid> = bookings.iter().map(|b| b.id).collect();
    let mut callbacks = Vec::new();
    for entry in callback_entries(db, units, person, &ids).await? {
        let wished_counsellor_name = match entry.wish.counsellor_id {
            Some(id) => Some(names.staff(db, id).await?),
            None => None,
        };
        callbacks.push(SubjectCallback {
            id: entry.id,
            unit_id: entry.unit_id,
            unit_name: names.unit(entry.unit_id),
            name: entry.citizen_name,
            phone: entry.citizen_phone,
            language: entry.citizen_language.code().to_owned(),
            note: entry.note,
            status: entry.status,
            wished_counsellor_id: entry.wish.counsellor_id,
            wished_counsellor_name,
            wished_language: entry.wish.language.map(|l| l.code().to_owned()),
            wished_time_of_day: entry.wish.time_of_day,
            wished_before: entry.wish.before,
            open_until: entry.until,
            booking_id: entry.booking_id,
            created_at: local(entry.created_at, tz),
            updated_at: local(entry.updated_at, tz),
        });
    }
    Ok(Bundle { bookings, callbacks })
}
