//! Changes of a booked appointment: cancel, move, record the outcome, correct the citizen's
//! details. Cancelling and moving run the same transaction whether staff do it ([`cancel`],
//! [`reschedule`]) or the citizen through their link ([`cancel_booking`], [`move_booking`] with
//! [`By::Citizen`]): each write is conditional on the booking being unchanged since it was read,
//! so of a citizen and a staff member changing one booking at once, one wins and the other gets
//! `concurrent_update`.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::json;
use uuid::Uuid;

use super::{Book, Move, Target, adhoc_time, authorize, bookable_slot, ensure_counsellor, find, refuse, take};
use crate::domain::access::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::booking::{BookingAction, BookingStatus, Citizen, Correction, Outcome};
use crate::domain::citizen::{self, ReasonRefusal};
use crate::domain::clash::Clash;
use crate::domain::history::{HistoryEvent, Placement, Reason};
use crate::domain::ids::{StaffId, UnitId};
use crate::domain::outbox::MailKind;
use crate::domain::records::Booking;
use crate::domain::refusal::Refusal;
use crate::mail;
use crate::services::ServiceError;
use crate::services::audit::{self, entries};
use crate::store::{self, bookings, citizen_links, slots};

/// Who changes a booking.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// A staff member (checked against the booking's unit before).
    Staff(&'a Actor),
    /// The citizen through their own link (the link used, named in the audit; recorded without
    /// their address).
    Citizen { link: Option<crate::domain::citizen_link::UsedLink> },
}

impl By<'_> {
    /// The staff member, recorded as `updated_by` and in the history; none for the citizen.
    pub fn staff_id(self) -> Option<StaffId> {
        match self {
            Self::Staff(actor) => Some(actor.staff_id()),
            Self::Citizen { .. } => None,
        }
    }

    /// May take seats in the unit: staff by their roles; the citizen only within their booking's
    /// unit, which the caller checked.
    pub(super) fn can_work_in(self, unit_id: UnitId) -> bool {
        match self {
            Self::Staff(actor) => actor.can_work_in(unit_id),
            Self::Citizen { .. } => true,
        }
    }

    fn audit(self, action: AuditAction, booking: &Booking) -> AuditEntry {
        match self {
            Self::Staff(actor) => entries::booking(actor, action, booking),
            Self::Citizen { link } => AuditEntry::citizen(action, booking.id)
                .unit(booking.unit_id)
                .detail(crate::domain::citizen_link::UsedLink::audit_detail(link)),
        }
    }

    fn is_citizen(self) -> bool {
        matches!(self, Self::Citizen { .. })
    }
}

/// Cancels a booked appointment and frees its seat. With `seen` (the booking's `sequence` as the
/// staff member saw it, e.g. on a confirmation page), only that version of the booking is
/// cancelled: one moved meanwhile is refused, so that nobody cancels a time they were not shown.
///
/// The reason is read by [`citizen::cancel_reason`] (trimmed, 1 to
/// [`citizen::CANCEL_REASON_CHARS`] characters, a line break counted once), on both edges.
///
/// # Errors
/// `Invalid` naming `reason`; `NotFound`, `Forbidden`,
/// `Conflict { clash: Clash::InvalidStatus | Clash::ConcurrentUpdate, .. }`.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn cancel(
    deps: Book<'_>,
    actor: &Actor,
    key: &str,
    reason: &str,
    seen: Option<i32>,
) -> Result<Booking, ServiceError> {
    let reason = citizen::cancel_reason(reason).map_err(|refusal| {
        let message = match refusal {
            ReasonRefusal::Missing => "give a reason, it must not be blank".to_owned(),
            ReasonRefusal::TooLong => format!("must be at most {} characters", citizen::CANCEL_REASON_CHARS.end()),
        };
        ServiceError::invalid("reason", message)
    })?;
    let booking = changeable(deps, actor, key, BookingAction::Cancel, seen).await?;
    cancel_booking(deps, By::Staff(actor), &booking, Some(reason)).await
}

/// A change through the citizen's link is made only while the link lives: one the desk revoked
/// after the page opened it (the paper went to the wrong person) changes nothing, and the page
/// then finds the link unknown. `Conflict` (`concurrent_update`) otherwise.
async fn link_still_open(txn: &impl sea_orm::ConnectionTrait, by: By<'_>) -> Result<(), ServiceError> {
    match by {
        By::Citizen { link: Some(link) } if !store::citizen_links::is_live(txn, link.id).await? => {
            Err(changed_meanwhile())
        }
        _ => Ok(()),
    }
}

/// Cancels `booking` as it was read (the caller checked who may), frees its seat, records the
/// history event and the audit, and queues the cancellation email, in one transaction.
///
/// # Errors
/// `Conflict { clash: Clash::ConcurrentUpdate, .. }` when the booking changed since it was read.
pub async fn cancel_booking(
    deps: Book<'_>,
    by: By<'_>,
    booking: &Booking,
    reason: Option<String>,
) -> Result<Booking, ServiceError> {
    if !booking.status.allows(BookingAction::Cancel) {
        return Err(invalid_status(booking));
    }
    let reason = kept_unless_erased(booking, reason);
    let now = deps.clock.now();
    let txn = store::begin_write(deps.db).await?;
    link_still_open(&txn, by).await?;
    if !bookings::set_status(&txn, booking, BookingStatus::Cancelled, reason.clone(), by.staff_id(), now).await? {
        return Err(changed_meanwhile());
    }
    slots::release_seat(&txn, booking.slot_id).await?;
    let event = HistoryEvent::Cancelled { reason: Reason::from(reason), by_citizen: by.is_citizen() };
    bookings::add_event(&txn, booking.id, now, by.staff_id(), &event).await?;
    audit::record(&txn, deps.clock, by.audit(AuditAction::BookingCancelled, booking)).await?;
    let queued = notify(&txn, booking.id, MailKind::Cancellation, deps.mail_domain, now).await?;
    txn.commit().await?;
    crate::telemetry::metrics::booking_cancelled();
    if queued {
        deps.mail.nudge();
    }
    find(deps.db, &booking.id.to_string()).await
}

/// Moves a booking to another time of the same unit, keeping its id and reference. Atomic: the
/// old seat is released only if the new one is taken. `seen` as for [`cancel`].
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Rule`, `Conflict` (slot taken, counsellor busy, status).
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn reschedule(
    deps: Book<'_>,
    actor: &Actor,
    key: &str,
    to: Move,
    override_reason: Option<String>,
    seen: Option<i32>,
) -> Result<Booking, ServiceError> {
    let booking = changeable(deps, actor, key, BookingAction::Reschedule, seen).await?;
    let target = match to {
        Move::Slot(id) => Target::Slot(id),
        Move::Adhoc { starts_at, duration, counsellor_id } => Target::Adhoc {
            unit_id: booking.unit_id,
            counsellor_id: counsellor_id.unwrap_or(booking.counsellor_id),
            time: adhoc_time(starts_at, duration.unwrap_or(booking.ends_at - booking.starts_at))?,
        },
    };
    if let Target::Adhoc { unit_id, counsellor_id, .. } = target {
        ensure_counsellor(deps.db, unit_id, counsellor_id).await?;
    }
    move_booking(deps, By::Staff(actor), &booking, target, override_reason).await
}

/// Moves `booking` as it was read to `target` (of the booking's own unit), in one transaction
/// with its history event, audit record and change email.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Rule`, `Conflict` (slot taken, counsellor busy, status,
/// `concurrent_update`).
pub async fn move_booking(
    deps: Book<'_>,
    by: By<'_>,
    booking: &Booking,
    target: Target,
    override_reason: Option<String>,
) -> Result<Booking, ServiceError> {
    if !booking.status.allows(BookingAction::Reschedule) {
        return Err(invalid_status(booking));
    }
    let target_unit = match target {
        Target::Slot(id) => bookable_slot(deps.db, id).await?.unit_id,
        Target::Adhoc { unit_id, .. } => unit_id,
    };
    if target_unit != booking.unit_id {
        return Err(ServiceError::invalid("slot_id", "a booking can only move within its unit"));
    }
    if matches!(target, Target::Slot(id) if id == booking.slot_id) {
        return Err(ServiceError::invalid("slot_id", "the booking is already in this slot"));
    }
    if override_reason.is_some() {
        match by {
            By::Staff(actor) => super::super::booking_rules::ensure_may_override(deps, actor, target).await?,
            // The citizen's page never overrides a rule.
            By::Citizen { .. } => return Err(ServiceError::Forbidden),
        }
    }
    let now = deps.clock.now();
    let txn = store::begin_write(deps.db).await?;
    link_still_open(&txn, by).await?;
    // Release first so a move to an overlapping time of the same counsellor is possible; if
    // taking the new seat fails, the transaction rolls back and the old seat stays taken.
    slots::release_seat(&txn, booking.slot_id).await?;
    let slot = match take(deps, &txn, by, target, override_reason.is_some(), now).await {
        Err(ServiceError::Forbidden) => match by {
            By::Staff(actor) => {
                txn.rollback().await?;
                return refuse(deps, actor, "booking.reschedule", target).await;
            }
            By::Citizen { .. } => return Err(ServiceError::Forbidden),
        },
        Err(err @ (ServiceError::Conflict { .. } | ServiceError::Rule(_))) => {
            txn.rollback().await?;
            return outdone(deps, booking, target, err).await;
        }
        other => other?,
    };
    let override_reason = kept_unless_erased(booking, override_reason);
    if !bookings::move_to(&txn, booking, &slot, override_reason.clone(), by.staff_id(), now).await? {
        txn.rollback().await?;
        return outdone(deps, booking, target, changed_meanwhile()).await;
    }
    let event = HistoryEvent::Rescheduled {
        from: Placement {
            slot_id: booking.slot_id,
            starts_at: booking.starts_at,
            ends_at: booking.ends_at,
            counsellor_id: booking.counsellor_id,
        },
        to: Placement {
            slot_id: slot.id,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            counsellor_id: slot.counsellor_id,
        },
        override_reason: Reason::from(override_reason),
        by_citizen: by.is_citizen(),
    };
    bookings::add_event(&txn, booking.id, now, by.staff_id(), &event).await?;
    let entry = by.audit(AuditAction::BookingRescheduled, booking).target(format!("slot:{}", slot.id));
    audit::record(&txn, deps.clock, entry).await?;
    let queued = notify(&txn, booking.id, MailKind::Change, deps.mail_domain, now).await?;
    txn.commit().await?;
    if queued {
        deps.mail.nudge();
    }
    find(deps.db, &booking.id.to_string()).await
}

/// A reason given for a change (a cancellation's, an override's), or none for a booking whose
/// personal data were erased: such a reason is free text about the person (often why they asked
/// for the erasure), and nothing would ever erase it again. The change itself is made and
/// recorded; the write refuses it if the erasure came after the booking was read.
fn kept_unless_erased(booking: &Booking, reason: Option<String>) -> Option<String> {
    reason.filter(|_| booking.erased_at.is_none())
}

/// Records whether the citizen came. Only once the appointment has begun; may be corrected.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Rule(Refusal::TooEarly)`, `Conflict { clash: Clash::InvalidStatus, .. }`.
pub async fn record_outcome(
    deps: Book<'_>,
    actor: &Actor,
    key: &str,
    outcome: Outcome,
) -> Result<Booking, ServiceError> {
    let booking = changeable(deps, actor, key, BookingAction::RecordOutcome, None).await?;
    let now = deps.clock.now();
    if booking.starts_at > now {
        return Err(ServiceError::Rule(Refusal::TooEarly));
    }
    let txn = store::begin_write(deps.db).await?;
    let staff = Some(actor.staff_id());
    if !bookings::set_status(&txn, &booking, outcome.into(), None, staff, now).await? {
        return Err(changed_meanwhile());
    }
    let status = BookingStatus::from(outcome);
    bookings::add_event(&txn, booking.id, now, staff, &HistoryEvent::Outcome(outcome)).await?;
    let entry = entries::booking(actor, AuditAction::OutcomeRecorded, &booking).detail(json!({ "status": status }));
    audit::record(&txn, deps.clock, entry).await?;
    txn.commit().await?;
    find(deps.db, &booking.id.to_string()).await
}

/// Corrects the citizen's details of a booked appointment (the citizen called with a new phone
/// number, a wrong address, another language), with `seen` as for [`cancel`], and `shown` the
/// [`Citizen::fingerprint`] of the details the form showed: details corrected meanwhile are not
/// overwritten from an older form (`concurrent_update`). Nothing changed: nothing written. The
/// history and the audit name the changed fields, never their values. When the emails go to
/// another address (or no longer, or now at all), in the same transaction: the booking's version
/// goes up, so that nothing queued for the old address is sent, and the new address gets a
/// confirmation with a link of its own; when the address itself changed or went, the citizen's
/// links (emailed to it, printed too) stop working.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Conflict { clash: Clash::InvalidStatus | Clash::ConcurrentUpdate, .. }`.
#[tracing::instrument(skip_all, fields(actor = actor.staff_id().get()))]
pub async fn correct_contact(
    deps: Book<'_>,
    actor: &Actor,
    key: &str,
    citizen: Citizen,
    seen: Option<i32>,
    shown: Option<&str>,
) -> Result<(Booking, Correction), ServiceError> {
    let booking = changeable(deps, actor, key, BookingAction::CorrectContact, seen).await?;
    if booking.erased_at.is_some() {
        return Err(ServiceError::conflict_with(
            Clash::InvalidStatus,
            "the booking's personal data were erased; there is nothing to correct",
        ));
    }
    if shown.is_some_and(|shown| shown != booking.citizen.fingerprint()) {
        return Err(changed_meanwhile());
    }
    let correction = booking.citizen.correction(&citizen);
    if correction.fields.is_empty() {
        return Ok((booking, correction));
    }
    let now = deps.clock.now();
    let staff = Some(actor.staff_id());
    let txn = store::begin_write(deps.db).await?;
    // Read again, locked, inside the write: a correction that keeps the recipient leaves the
    // version as it is, so only the details themselves tell whether a colleague saved meanwhile.
    let locked = bookings::find_locked(&txn, booking.id).await?;
    if locked.is_none_or(|now| now.citizen.fingerprint() != booking.citizen.fingerprint()) {
        return Err(changed_meanwhile());
    }
    if !bookings::set_citizen(&txn, &booking, &citizen, correction.recipient_changed, staff, now).await? {
        return Err(changed_meanwhile());
    }
    if correction.fields.contains(&"language") {
        store::outbox::set_pending_language(&txn, booking.id, citizen.language.code()).await?;
    }
    if correction.links_sent_elsewhere {
        citizen_links::revoke_all(&txn, booking.id).await?;
        let (keep, why) = (citizen.email.as_deref(), Some(store::outbox::ADDRESS_CORRECTED));
        store::outbox::forget_recipients(&txn, &[booking.id], keep, why).await?;
    }
    let fields: Vec<String> = correction.fields.iter().map(|f| (*f).to_owned()).collect();
    bookings::add_event(&txn, booking.id, now, staff, &HistoryEvent::ContactCorrected { fields: fields.clone() })
        .await?;
    let entry = entries::booking(actor, AuditAction::ContactCorrected, &booking)
        .detail(json!({ "fields": fields, "links_revoked": correction.links_sent_elsewhere }));
    audit::record(&txn, deps.clock, entry).await?;
    let queued =
        correction.recipient_changed && notify(&txn, booking.id, MailKind::Confirmation, deps.mail_domain, now).await?;
    txn.commit().await?;
    if queued {
        deps.mail.nudge();
    }
    Ok((find(deps.db, &booking.id.to_string()).await?, correction))
}

/// Loads a booking the actor may change with `action`, if it is still the version `seen` (the
/// change itself is conditional on the version read here).
async fn changeable(
    deps: Book<'_>,
    actor: &Actor,
    key: &str,
    action: BookingAction,
    seen: Option<i32>,
) -> Result<Booking, ServiceError> {
    let booking = find(deps.db, key).await?;
    authorize(deps, actor, booking.unit_id, "booking.change", &format!("booking:{}", booking.id)).await?;
    if !booking.status.allows(action) {
        return Err(invalid_status(&booking));
    }
    if seen.is_some_and(|seen| seen != booking.sequence) {
        return Err(changed_meanwhile());
    }
    Ok(booking)
}

fn invalid_status(booking: &Booking) -> ServiceError {
    ServiceError::conflict_with(
        Clash::InvalidStatus,
        format!("a booking that is {} cannot be changed this way", booking.status.as_str()),
    )
}

/// Queues the email a change causes, for the booking as the transaction now sees it; returns
/// whether one was queued.
async fn notify(
    txn: &DatabaseTransaction,
    id: Uuid,
    kind: MailKind,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    match bookings::find(txn, id).await? {
        Some(changed) => Ok(mail::outbox::enqueue(txn, &changed, kind, domain, now).await?),
        None => Ok(false),
    }
}

/// A move of `booking` (as it was read) to `target` that was refused with `err`, seen against the
/// booking as it is now. Moved meanwhile to that very slot (the same form sent twice, a
/// double-click, or a colleague's same move): done, the booking as it is, with nothing written
/// again (no second change email, no second move counted). Changed otherwise meanwhile:
/// `concurrent_update`, not the slot's being taken, which was the booking's own move. Unchanged:
/// `err` itself.
///
/// # Errors
/// `err` or `concurrent_update` as said; database failures.
pub(crate) async fn outdone(
    deps: Book<'_>,
    booking: &Booking,
    target: Target,
    err: ServiceError,
) -> Result<Booking, ServiceError> {
    let now = find(deps.db, &booking.id.to_string()).await?;
    if now.sequence == booking.sequence && now.status == booking.status {
        return Err(err);
    }
    match target {
        Target::Slot(id) if now.slot_id == id && now.status == BookingStatus::Booked => Ok(now),
        _ => Err(changed_meanwhile()),
    }
}

fn changed_meanwhile() -> ServiceError {
    ServiceError::conflict_with(Clash::ConcurrentUpdate, "the booking was changed meanwhile; reload and try again")
}
