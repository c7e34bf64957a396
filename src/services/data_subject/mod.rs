//! Requests of the person concerned (Art. 15 and 17 GDPR): find every booking (and callback
//! entry) of a person by email or phone number (or the one booking of a reference, for a person
//! who has neither any more), export all the service holds about them, and
//! erase it before the retention time with a recorded reason. Admins for every unit, unit
//! leads for the units they lead. The audit records booking ids and counts, never the email or
//! phone number asked for.

mod bundle;
mod replay;

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use self::bundle::{Bundle, SubjectBooking, SubjectCallback, SubjectEmail, SubjectEvent};
pub use self::replay::{Erasures, latest_record_at, recorded_after, replay};
use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use super::retention::{self, Erased};
use crate::clock::Clock;
use crate::domain::access::Actor;
use crate::domain::clash::Clash;
use crate::domain::ids::{CallbackId, UnitId};
use crate::domain::search::SearchKeys;
use crate::store;

/// The message of a `reference` that is no booking reference.
pub const NOT_A_REFERENCE: &str = "not a booking reference";
/// The refusal of an email address that is none (the pages name it at the field as such).
pub const NOT_AN_EMAIL: &str = "not an email address";

/// Whom a request concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    Email(String),
    Phone(String),
    /// The booking of this reference (stored form): a person whose address and number changed
    /// (or who gave neither) shows their confirmation.
    Reference(String),
}

impl Person {
    /// The person of an `email`, a `phone` or a booking's `reference` (exactly one).
    ///
    /// # Errors
    /// `Invalid` naming the field; for `reference`, [`NOT_A_REFERENCE`] when it is given alone
    /// and is none.
    pub fn of(email: Option<&str>, phone: Option<&str>, reference: Option<&str>) -> Result<Self, ServiceError> {
        let given = |text: Option<&str>| text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let Some(reference) = given(reference) else { return Self::by_address(email, phone) };
        if given(email).is_some() || given(phone).is_some() {
            return Err(ServiceError::invalid(
                "reference",
                "give an email, a phone number or a reference, one of them",
            ));
        }
        crate::domain::reference::Reference::parse(&reference)
            .map(|r| Self::Reference(r.as_str().to_owned()))
            .map_err(|_| ServiceError::invalid("reference", NOT_A_REFERENCE))
    }

    fn by_address(email: Option<&str>, phone: Option<&str>) -> Result<Self, ServiceError> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        let phone = phone.map(str::trim).filter(|p| !p.is_empty());
        match (email, phone) {
            (Some(_), Some(_)) => Err(ServiceError::invalid("email", "give either an email or a phone number")),
            (None, None) => Err(ServiceError::invalid("email", "give an email, a phone number or a reference")),
            (Some(email), None) if email.len() > 254 || !email.contains('@') => {
                Err(ServiceError::invalid("email", NOT_AN_EMAIL))
            }
            (Some(email), None) => Ok(Self::Email(email.to_lowercase())),
            (None, Some(phone)) if phone.chars().count() > 40 || Self::phone_key(phone).is_none() => {
                Err(ServiceError::invalid("phone", "not a phone number"))
            }
            (None, Some(phone)) => Ok(Self::Phone(phone.to_owned())),
        }
    }

    /// The search key of a phone number, as the desk's search folds it (`+49`, `0`, spaces).
    fn phone_key(phone: &str) -> Option<String> {
        SearchKeys::of("", Some(phone)).phone
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Phone(_) => "phone",
            Self::Reference(_) => "reference",
        }
    }
}

/// Why data is erased before its time (recorded in the audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The person asked for erasure (Art. 17 GDPR).
    Request,
    /// The person withdrew their consent.
    ConsentWithdrawn,
    /// The data is no longer needed for its purpose.
    NoLongerNeeded,
    /// The data was processed unlawfully (e.g. entered by mistake).
    Unlawful,
    Other,
}

impl ErasureReason {
    pub const ALL: [Self; 5] =
        [Self::Request, Self::ConsentWithdrawn, Self::NoLongerNeeded, Self::Unlawful, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::NoLongerNeeded => "no_longer_needed",
            Self::Unlawful => "unlawful",
            Self::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// What an erasure removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErasureCounts {
    pub bookings: u64,
    pub history_events: u64,
    pub emails: u64,
    pub callbacks: u64,
}

impl ErasureCounts {
    /// What erasing bookings (`erased`) and deleting `callbacks` callback entries removed.
    fn of(erased: Erased, callbacks: u64) -> Self {
        Self { bookings: erased.bookings, history_events: erased.history_events, emails: erased.emails, callbacks }
    }
}

/// The units the actor may answer requests for: `None` for all (admins), else those they lead.
async fn scope(db: &DatabaseConnection, clock: &Clock, actor: &Actor) -> Result<Option<Vec<UnitId>>, ServiceError> {
    if actor.is_admin() {
        return Ok(None);
    }
    let led: Vec<UnitId> = actor.unit_ids().into_iter().filter(|unit| actor.can_lead(*unit)).collect();
    if led.is_empty() {
        super::access::deny(db, clock, actor, "data_subject.request", "data-subject").await?;
    }
    Ok(Some(led))
}

/// Everything held about `person` in the actor's scope, recorded as `action` (searched on the
/// page, exported through the API or the printable page) with the booking ids and counts.
///
/// # Errors
/// `Forbidden` (neither admin nor unit lead); database failures.
pub async fn find(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    person: &Person,
    action: AuditAction,
    tz: chrono_tz::Tz,
) -> Result<Bundle, ServiceError> {
    let units = scope(db, clock, actor).await?;
    let bundle = bundle::collect(db, units.as_deref(), person, tz).await?;
    let entry = AuditEntry::by(actor, action)
        .bookings(bundle.bookings.iter().map(|b| b.id))
        .count(bundle.bookings.len() + bundle.callbacks.len())
        .detail(serde_json::json!({
            "by": person.kind(),
            "bookings": bundle.bookings.len(),
            "callbacks": bundle.callbacks.len(),
            "callback_ids": bundle.callbacks.iter().map(|c| c.id.get()).collect::<Vec<_>>(),
        }));
    audit::record(db, clock, entry).await?;
    Ok(bundle)
}

/// Erases everything held about `person` in the actor's scope (the anonymisation of the
/// retention; callback entries are deleted) in one transaction with its audit record.
///
/// # Errors
/// `Forbidden`; `Conflict { clash: Clash::CallbackBusy, .. }` while a desk books one of the
/// person's callback entries; database failures (nothing is erased then).
pub async fn erase(
    db: &DatabaseConnection,
    clock: &Clock,
    actor: &Actor,
    person: &Person,
    reason: ErasureReason,
    data_dir: &std::path::Path,
) -> Result<ErasureCounts, ServiceError> {
    let units = scope(db, clock, actor).await?;
    let txn = store::begin_write(db).await?;
    let mut ids = bundle::booking_ids(&txn, units.as_deref(), person, true).await?;
    let entries = bundle::callback_ids(&txn, units.as_deref(), person, &ids).await?;
    // A booking made from one of the person's entries after their bookings were read is theirs
    // too: on PostgreSQL each statement reads anew, and a desk's booking from the entry and the
    // entry's closing (two commits) can both fall between the two reads, the entry then no
    // longer claimed. Without this its booking would keep the caller's name and number.
    for booking in entries.iter().filter_map(|(_, booking)| *booking) {
        if !ids.contains(&booking) {
            ids.push(booking);
        }
    }
    let callbacks: Vec<CallbackId> = entries.into_iter().map(|(id, _)| id).collect();
    let (erased, emails): (Erased, _) = retention::erase_bookings(&txn, &ids, clock.now()).await?;
    // A desk booking from one of the person's entries right now would create a booking from it
    // after this erasure: refused, nothing written (the transaction is dropped); once that
    // booking is made, an erasure finds it. An entry claimed meanwhile is not deleted, so the
    // count tells.
    let removed = store::callbacks::delete_unclaimed(&txn, &callbacks, clock.now()).await?;
    if removed < callbacks.len() as u64 {
        return Err(ServiceError::conflict(Clash::CallbackBusy));
    }
    let counts = ErasureCounts::of(erased, removed);
    let entry = AuditEntry::by(actor, AuditAction::DataSubjectErased)
        .bookings(ids.iter().copied())
        .count(ids.len() + callbacks.len())
        // The callback entries by id too: a restore of an earlier backup erases them again.
        .detail(serde_json::json!({
            "by": person.kind(),
            "reason": reason,
            "counts": counts,
            "callback_ids": callbacks.iter().map(|id| id.get()).collect::<Vec<_>>(),
        }));
    audit::record(&txn, clock, entry).await?;
    txn.commit().await?;
    retention::remove_eml_files(data_dir, &emails).await;
    // The answer does not wait for the log to be emptied: a slow reader could hold that for
    // minutes, and the erasure itself is committed.
    retention::compact_later(db);
    Ok(counts)
}
