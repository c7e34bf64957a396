//! The bundle of a request of the person concerned: their bookings with every field, history
//! and email, and their entries on callback lists.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Person;
use crate::domain::callback::CallbackStatus;
use crate::domain::history::HistoryEvent;
use crate::domain::ids::{CallbackId, StaffId, UnitId};
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
        for booking in &self.bookings {
            let phone =
                booking.phone.as_deref().filter(|p| asked_line.is_none() || fold::phone_identity(p) != asked_line);
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
    pub counsellor_id: StaffId,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub status: String,
    pub channel: serde_json::Value,
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

/// One entry of a booking's history as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectEvent {
    pub at: DateTime<FixedOffset>,
    pub kind: String,
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
    pub kind: String,
    pub state: String,
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
    pub name: String,
    pub phone: String,
    pub language: String,
    pub note: Option<String>,
    pub status: String,
    /// The counsellor the caller asked for.
    pub wished_counsellor_id: Option<StaffId>,
    /// The language of counselling the caller asked for.
    pub wished_language: Option<String>,
    /// `morning` or `afternoon`.
    pub wished_time_of_day: Option<String>,
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
    // The times are not read here: any zone will do.
    let found = callbacks(db, units, person, bookings, chrono_tz::UTC).await?;
    Ok(found.into_iter().map(|c| (c.id, c.booking_id)).collect())
}

async fn callbacks<C: ConnectionTrait>(
    db: &C,
    units: Option<&[UnitId]>,
    person: &Person,
    bookings: &[Uuid],
    tz: Tz,
) -> Result<Vec<SubjectCallback>, ServiceError> {
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
                found.push(SubjectCallback {
                    id: entry.id,
                    unit_id: entry.unit_id,
                    name: entry.citizen_name,
                    phone: entry.citizen_phone,
                    language: entry.citizen_language.code().to_owned(),
                    note: entry.note,
                    status: entry.status.as_str().to_owned(),
                    wished_counsellor_id: entry.wish.counsellor_id,
                    wished_language: entry.wish.language.map(|l| l.code().to_owned()),
                    wished_time_of_day: entry.wish.time_of_day.map(|t| t.as_str().to_owned()),
                    wished_before: entry.wish.before,
                    open_until: entry.until,
                    booking_id: entry.booking_id,
                    created_at: local(entry.created_at, tz),
                    updated_at: local(entry.updated_at, tz),
                });
            }
        }
    }
    Ok(found)
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
    let mut bookings = Vec::new();
    for id in booking_ids(db, units, person, false).await? {
        let Some(b) = store::bookings::find(db, id).await? else { continue };
        let history = store::bookings::events(db, id)
            .await?
            .into_iter()
            .map(|e| SubjectEvent {
                at: local(e.at, tz),
                kind: e.what.kind().to_owned(),
                detail: e.what.detail(),
                event: e.what,
            })
            .collect();
        let emails = store::outbox::for_booking(db, id)
            .await?
            .into_iter()
            .map(|m| SubjectEmail {
                id: m.id,
                kind: m.kind.as_str().to_owned(),
                state: serde_json::to_value(m.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
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
            counsellor_id: b.counsellor_id,
            starts_at: local(b.starts_at, tz),
            ends_at: local(b.ends_at, tz),
            status: b.status.as_str().to_owned(),
            channel: serde_json::to_value(b.channel).unwrap_or_default(),
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
    Ok(Bundle { callbacks: callbacks(db, units, person, &ids, tz).await?, bookings })
}
