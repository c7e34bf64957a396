//! The citizen's own link: open a booking by the token from an email, see it, get its calendar
//! entry, cancel it or move it to another free slot of the unit, within the unit's self-service
//! settings. A wrong, expired or foreign token, or one of an erased booking, is `None` everywhere
//! (the page answers one 404).
//! Changes go through the booking services' transactions with [`By::Citizen`]; every look and
//! change is audited with the citizen as actor (the booking's id, never the token nor the
//! citizen's address).

mod calendar;
mod limit;
mod print;
mod settings;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

pub use self::calendar::{EntryDeps, calendar};
pub use self::limit::{LinkLimiter, Verdict};
pub use self::print::{printable, revoke_links};
pub use self::settings::{VersionedSettings, self_service, set_self_service};
use super::ServiceError;
use super::audit::{self, AuditAction, AuditEntry};
use super::availability::{FreeSlot, FreeSlotQuery, free_slots_where};
use super::bookings::{Book, By, Target, cancel_booking, move_booking};
use crate::domain::citizen_link::{self, MoveFit, NoMove, Offer, SelfService, UsedLink};
use crate::domain::clash::Clash;
use crate::domain::ids::SlotId;
use crate::domain::language::Language;
use crate::domain::missing::Missing;
use crate::domain::records::{Booking, Location, Slot, Unit};
use crate::domain::refusal::Refusal;
use crate::domain::time::local_date;
use crate::mail::messages::MailFacts;
use crate::store::{bookings, citizen_links, directory, slots};

/// What the citizen's pages share across requests: the rate limit's counters and the email
/// templates (for the calendar entry's title).
#[derive(Clone)]
pub struct Shared {
    pub limiter: LinkLimiter,
    pub templates: std::sync::Arc<crate::mail::Templates>,
}

/// How far ahead the move list looks.
pub const MOVE_WEEKS: u64 = 4;
/// How many slots of the same counsellor, and of others, the move list shows.
const MOVE_SLOTS_EACH: u32 = 8;

/// A booking opened through its link, with what the page shows of it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub booking: Booking,
    pub unit: Unit,
    pub location: Option<Location>,
    /// Only when the unit lets the page name the counsellor (and is not confidential).
    pub counsellor_name: Option<String>,
    pub rules: SelfService,
    pub moves: i32,
    pub offer: Offer,
    /// The link it was opened by (`citizen_links.id`; none for the desk's print), named in the
    /// audit of what is done through it: its row says where it came from (an email, or a print
    /// by whom).
    pub link: Option<UsedLink>,
}

impl Opened {
    /// Why the citizen may not move the booking through the link, where they may still cancel it.
    #[must_use]
    pub fn no_move(&self) -> Option<NoMove> {
        match self.offer {
            Offer::Change { may_move: false } => {
                citizen_link::no_move(self.moves, self.rules, interpreter_arranged(&self.booking))
            }
            _ => None,
        }
    }

    /// The facts its emails spell out, for the citizen's page, the printed confirmation and the
    /// calendar entry; the counsellor is named only where `with_counsellor` and the unit allows it.
    #[must_use]
    pub fn mail_facts(&self, with_counsellor: bool) -> MailFacts<'_> {
        let booking = &self.booking;
        MailFacts {
            citizen_name: &booking.citizen.name,
            starts_at: booking.starts_at,
            ends_at: booking.ends_at,
            unit: &self.unit,
            location: self.location.as_ref(),
            counsellor_name: self.counsellor_name.as_deref().filter(|_| with_counsellor),
            reference: booking.reference.as_str(),
            interpreter_language: booking.citizen.interpreter_language.as_ref().map(Language::code),
        }
    }
}

/// Whether an interpreter is arranged for the booking (staff booked one for its language and time).
fn interpreter_arranged(booking: &Booking) -> bool {
    booking.citizen.interpreter_language.is_some()
}

fn offer_of(booking: &Booking, moves: i32, rules: SelfService, now: DateTime<Utc>) -> Offer {
    citizen_link::offer(booking.status, booking.starts_at, moves, rules, now, interpreter_arranged(booking))
}

/// Opens a booking by id (the desk's printable confirmation).
async fn open_booking(deps: Book<'_>, booking: Booking) -> Result<Opened, ServiceError> {
    let unit = directory::find_unit_by_id(deps.db, booking.unit_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(Missing::Unit))?;
    let location = directory::find_location(deps.db, unit.location_id).await?;
    let rules = citizen_links::settings(deps.db, unit.id).await?.unwrap_or_default();
    let counsellor_name = if unit.confidential {
        None
    } else {
        directory::find_staff(deps.db, booking.counsellor_id).await?.map(|c| c.display_name)
    };
    let moves = citizen_links::citizen_moves(deps.db, booking.id).await?;
    let offer = offer_of(&booking, moves, rules, deps.clock.now());
    Ok(Opened { booking, unit, location, counsellor_name, rules, moves, offer, link: None })
}

/// The booking behind `token`, if the token is known and its link still valid.
///
/// # Errors
/// Database failures.
pub async fn open(deps: Book<'_>, token: &str) -> Result<Option<Opened>, ServiceError> {
    if !citizen_link::looks_like_token(token) {
        return Ok(None);
    }
    let Some((link, id)) = citizen_links::booking_of(deps.db, &citizen_link::token_hash(token)).await? else {
        return Ok(None);
    };
    let Some(booking) = bookings::find(deps.db, id).await? else { return Ok(None) };
    let now = deps.clock.now();
    // An erased booking's link opens nothing, as an unknown one: the page would show (and let
    // the citizen change) what was left of it, and record looks at data that no longer exist.
    if booking.erased_at.is_some() || !citizen_link::link_valid(booking.ends_at, now) {
        return Ok(None);
    }
    let Some(unit) = directory::find_unit_by_id(deps.db, booking.unit_id).await? else { return Ok(None) };
    let location = directory::find_location(deps.db, unit.location_id).await?;
    let rules = citizen_links::settings(deps.db, unit.id).await?.unwrap_or_default();
    let counsellor_name = if rules.self_service_shows_counsellor && !unit.confidential {
        directory::find_staff(deps.db, booking.counsellor_id).await?.map(|c| c.display_name)
    } else {
        None
    };
    let moves = citizen_links::citizen_moves(deps.db, booking.id).await?;
    let offer = offer_of(&booking, moves, rules, now);
    Ok(Some(Opened { booking, unit, location, counsellor_name, rules, moves, offer, link: Some(link) }))
}

/// Records that the citizen sees the booking `opened` (`what`: `page`, `calendar`, `cancel`,
/// `move`): for every page that shows it, also one answering a form (a refusal, a field error).
///
/// # Errors
/// Database failures.
pub async fn record_view(deps: Book<'_>, opened: &Opened, what: &str) -> Result<(), ServiceError> {
    let mut detail = UsedLink::audit_detail(opened.link);
    detail["what"] = what.into();
    let entry = AuditEntry::citizen(AuditAction::BookingViewed, opened.booking.id).unit(opened.unit.id).detail(detail);
    audit::record(deps.db, deps.clock, entry).await?;
    Ok(())
}

fn too_late() -> ServiceError {
    ServiceError::Rule(Refusal::SelfServiceClosed)
}

/// Cancels the booking behind `token` (with the citizen's optional reason).
///
/// # Errors
/// `Rule(Refusal::SelfServiceClosed)` past the cutoff; `Conflict` when the booking changed
/// meanwhile (e.g. staff moved it) or is no longer booked.
pub async fn cancel(deps: Book<'_>, opened: &Opened, reason: Option<String>) -> Result<Booking, ServiceError> {
    if !matches!(opened.offer, Offer::Change { .. }) {
        return Err(too_late());
    }
    let reason = reason
        .map(|r| crate::domain::text::normalise_line_breaks(r.trim()).chars().take(500).collect::<String>())
        .filter(|r| !r.is_empty());
    cancel_booking(deps, By::Citizen { link: opened.link }, &opened.booking, reason).await
}

/// Where and what the move list looks for: from the cutoff on, the local days `from..=to`, slots
/// of the appointment's length and kind.
struct MoveSearch {
    earliest: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
    fit: MoveFit,
}

/// The move list's search for `opened`, or `None` where it offers nothing.
async fn move_search(deps: Book<'_>, opened: &Opened) -> Result<Option<MoveSearch>, ServiceError> {
    if !matches!(opened.offer, Offer::Change { may_move: true }) {
        return Ok(None);
    }
    // The seat the booking holds says whether it is one-to-one or in a group; without it (it
    // cannot go while booked) nothing is offered rather than a slot of the wrong kind.
    let Some(current) = slots::find(deps.db, opened.booking.slot_id).await? else { return Ok(None) };
    let fit = MoveFit::of(&opened.booking, &current);
    // No hours of the unit make such slots (a 90-minute ad-hoc appointment where every slot is an
    // hour long): nothing to search through, slot by slot, on every look at the page.
    if !crate::store::schedule::list_rules(deps.db, opened.unit.id).await?.iter().any(|rule| fit.may_come_from(rule)) {
        return Ok(None);
    }
    let earliest = deps.clock.now() + TimeDelta::hours(i64::from(opened.rules.self_service_cutoff_hours));
    let from = local_date(earliest, deps.tz);
    Ok(Some(MoveSearch { earliest, from, to: from + Days::new(MOVE_WEEKS * 7), fit }))
}

/// The free slots of `search` in the local days `days` (within its window), up to `limit` of the
/// same counsellor and as many of others; `only` one slot, where it names one.
async fn offered(
    deps: Book<'_>,
    opened: &Opened,
    search: &MoveSearch,
    days: (NaiveDate, NaiveDate),
    only: Option<SlotId>,
    limit: u32,
) -> Result<Vec<FreeSlot>, ServiceError> {
    let booking = &opened.booking;
    let query = |counsellor_id, language| FreeSlotQuery {
        from: days.0,
        to: days.1,
        counsellor_id,
        language,
        daypart: None,
        limit,
    };
    let keep = |s: &Slot| {
        s.starts_at >= search.earliest
            && s.id != booking.slot_id
            && search.fit.fits(s)
            && only.is_none_or(|id| s.id == id)
    };
    let same = query(Some(booking.counsellor_id), None);
    let mut found = free_slots_where(deps, &opened.unit, &same, &keep).await?;
    if only.is_some() && !found.is_empty() {
        return Ok(found);
    }
    let others = query(None, Some(booking.citizen.language.clone()));
    let other_counsellor = |s: &Slot| keep(s) && s.counsellor_id != booking.counsellor_id;
    found.extend(free_slots_where(deps, &opened.unit, &others, &other_counsellor).await?);
    Ok(found)
}

/// The free slots the citizen may move to: the same counsellor's first, then those of others who
/// speak the booking's language, from the cutoff on for the next [`MOVE_WEEKS`] weeks; only slots
/// as long as the appointment and of its kind ([`MoveFit`]: one-to-one or group), since a move
/// takes the new slot's times and seats. The list shows the first [`MOVE_SLOTS_EACH`] of each.
///
/// # Errors
/// Database failures.
pub async fn move_options(deps: Book<'_>, opened: &Opened) -> Result<Vec<FreeSlot>, ServiceError> {
    let Some(search) = move_search(deps, opened).await? else { return Ok(Vec::new()) };
    offered(deps, opened, &search, (search.from, search.to), None, MOVE_SLOTS_EACH).await
}

/// The free slot `slot_id`, if the rules of [`move_options`] offer it, whether or not it is among
/// the first the list shows (a slot freed earlier meanwhile pushes a chosen one down the list):
/// the same searches, on the slot's local day only.
///
/// # Errors
/// Database failures.
pub async fn move_option(deps: Book<'_>, opened: &Opened, slot_id: SlotId) -> Result<Option<FreeSlot>, ServiceError> {
    let Some(search) = move_search(deps, opened).await? else { return Ok(None) };
    let Some(slot) = slots::find(deps.db, slot_id).await? else { return Ok(None) };
    let day = local_date(slot.starts_at, deps.tz);
    if day < search.from || day > search.to {
        return Ok(None);
    }
    Ok(offered(deps, opened, &search, (day, day), Some(slot_id), 1).await?.pop())
}

/// Moves the booking behind the link to `slot_id`, a slot [`move_option`] offers.
///
/// # Errors
/// `Rule(Refusal::SelfServiceClosed)` past the cutoff or where the booking may not be moved
/// ([`Opened::no_move`]); the `Rule` a slot not full breaks now (closed, counsellor away);
/// `Conflict` for a slot not offered otherwise (taken meanwhile, or never offered) and a booking
/// changed meanwhile.
pub async fn move_to(deps: Book<'_>, opened: &Opened, slot_id: SlotId) -> Result<Booking, ServiceError> {
    if !matches!(opened.offer, Offer::Change { may_move: true }) {
        return Err(too_late());
    }
    if move_option(deps, opened, slot_id).await?.is_none() {
        // No longer to be had (the day closed, the counsellor away meanwhile) is said as such;
        // anything else as taken.
        if let Some(rule) = crate::services::bookings::rule_against(deps, slot_id).await? {
            return Err(rule);
        }
        let taken = ServiceError::conflict_with(Clash::SlotTaken, "the slot is no longer free; choose another");
        // Taken by this very booking (the form sent twice) is no refusal: see `outdone`.
        return crate::services::bookings::outdone(deps, &opened.booking, Target::Slot(slot_id), taken).await;
    }
    move_booking(deps, By::Citizen { link: opened.link }, &opened.booking, Target::Slot(slot_id), None).await
}
