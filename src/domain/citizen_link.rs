//! The citizen's own link (`/t/{token}`): the token (160 random bits, sent in emails, stored only
//! as its SHA-256 hash), how long a link works, and what the citizen may still do through it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::booking::BookingStatus;
use super::records::{Booking, HoursRule, Slot};

/// Characters of a token: lower-case hex.
const TOKEN_LEN: usize = 40;

/// A link works until this long after the appointment's end.
pub const VALID_AFTER_END: TimeDelta = TimeDelta::days(1);

/// A new token: 20 random bytes as 40 hex characters.
pub fn new_token() -> String {
    let bytes: [u8; TOKEN_LEN / 2] = rand::random();
    hex::encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `text` has a token's shape (checked before any lookup, so junk costs no query).
pub fn looks_like_token(text: &str) -> bool {
    text.len() == TOKEN_LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The token a path segment names, its percent-escapes decoded (`%61` is `a`, as the page's
/// router reads it), if that has a token's shape: the one key the rate limit counts a token
/// under, however it is spelled in the path.
pub fn canonical_token(segment: &str) -> Option<String> {
    let token = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    looks_like_token(&token).then(|| token.into_owned())
}

/// Whether a link of an appointment ending at `ends_at` still works at `now`.
pub fn link_valid(ends_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < ends_at + VALID_AFTER_END
}

/// What a unit lets citizens do through their link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfService {
    /// Closer to the appointment than this, the page asks the citizen to call (default 24).
    pub self_service_cutoff_hours: i32,
    /// How often a citizen may move an appointment themselves (default 2).
    pub self_service_max_moves: i32,
    /// Whether the page names the counsellor (default off: the citizen did not give that name).
    pub self_service_shows_counsellor: bool,
}

impl Default for SelfService {
    fn default() -> Self {
        Self { self_service_cutoff_hours: 24, self_service_max_moves: 2, self_service_shows_counsellor: false }
    }
}

/// The largest cutoff accepted (four weeks) and the most moves.
pub const MAX_CUTOFF_HOURS: i32 = 24 * 28;
pub const MAX_MOVES: i32 = 20;

impl SelfService {
    /// Checks the ranges; `Err` names the field.
    pub fn check(&self) -> Result<(), &'static str> {
        if !(0..=MAX_CUTOFF_HOURS).contains(&self.self_service_cutoff_hours) {
            return Err("self_service_cutoff_hours");
        }
        if !(0..=MAX_MOVES).contains(&self.self_service_max_moves) {
            return Err("self_service_max_moves");
        }
        Ok(())
    }
}

/// What the page offers for a booking now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Cancel and (if `may_move`) move.
    Change { may_move: bool },
    /// Too close to the appointment: call the unit.
    CallUs,
    /// Cancelled, over, or an outcome recorded: nothing to change.
    Nothing,
}

/// Why the page offers no move of a booking the citizen may still cancel (each has its own text:
/// the citizen is told why, and to call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMove {
    /// The unit lets citizens move no appointment themselves (`self_service_max_moves` 0).
    NotOffered,
    /// An interpreter is arranged for the appointment's time: a move would leave them at the old
    /// time, so only staff move it (and arrange the interpreter again).
    Interpreter,
    /// The citizen has moved it as often as the unit allows.
    MovesUsed,
}

/// Why a booking after `moves` moves of the citizen's own, with an interpreter arranged or not,
/// may not be moved through its link; `None` if it may.
pub fn no_move(moves: i32, rules: SelfService, interpreter_arranged: bool) -> Option<NoMove> {
    if rules.self_service_max_moves <= 0 {
        Some(NoMove::NotOffered)
    } else if interpreter_arranged {
        Some(NoMove::Interpreter)
    } else if moves >= rules.self_service_max_moves {
        Some(NoMove::MovesUsed)
    } else {
        None
    }
}

/// What the citizen may do with a booking of `status` starting at `starts_at`, after `moves`
/// moves of their own; a booking with an interpreter arranged may be cancelled but not moved
/// ([`no_move`]).
pub fn offer(
    status: BookingStatus,
    starts_at: DateTime<Utc>,
    moves: i32,
    rules: SelfService,
    now: DateTime<Utc>,
    interpreter_arranged: bool,
) -> Offer {
    if status != BookingStatus::Booked || starts_at <= now {
        return Offer::Nothing;
    }
    if starts_at - now < TimeDelta::hours(i64::from(rules.self_service_cutoff_hours)) {
        return Offer::CallUs;
    }
    Offer::Change { may_move: no_move(moves, rules, interpreter_arranged).is_none() }
}

/// Where a citizen's link came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Sent in this email (`outbox_messages.id`).
    Email(uuid::Uuid),
    /// Printed by this staff member.
    Printed(super::ids::StaffId),
}

/// The link a citizen used: its row's id and where it came from (unknown for links made before
/// links remembered it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedLink {
    pub id: i32,
    pub origin: Option<Origin>,
}

impl UsedLink {
    /// What the audit records of a look or change through `link`: the link and its origin
    /// (kept with the record: the link's row goes when links are revoked), never the token.
    pub fn audit_detail(link: Option<Self>) -> serde_json::Value {
        let mut detail = serde_json::json!({ "via": "citizen_link" });
        let Some(link) = link else { return detail };
        detail["link"] = link.id.into();
        match link.origin {
            Some(Origin::Email(message)) => {
                detail["link_from"] = "email".into();
                detail["message_id"] = message.to_string().into();
            }
            Some(Origin::Printed(staff)) => {
                detail["link_from"] = "print".into();
                detail["printed_by"] = staff.get().into();
            }
            None => {}
        }
        detail
    }
}

/// What a slot must be like for the citizen to move an appointment into it: as long as the
/// appointment (a move takes the new slot's times, so a 90-minute ad-hoc appointment, e.g. with an
/// interpreter, would shrink in a 30-minute slot) and of the same kind (a one-to-one appointment
/// stays one-to-one, a seat in a group session goes to another group session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveFit {
    length: TimeDelta,
    group: bool,
}

impl MoveFit {
    /// For `booking`, which holds a seat of `slot` (its current slot).
    pub fn of(booking: &Booking, slot: &Slot) -> Self {
        Self { length: booking.ends_at - booking.starts_at, group: slot.capacity > 1 }
    }

    /// Whether `slot` has the appointment's length and kind.
    pub fn fits(&self, slot: &Slot) -> bool {
        slot.ends_at - slot.starts_at == self.length && (slot.capacity > 1) == self.group
    }

    /// Whether the hours `rule` make slots of the appointment's length and kind (slots follow
    /// their rule's length and capacity; a group's capacity never drops to one while booked).
    pub fn may_come_from(&self, rule: &HoursRule) -> bool {
        TimeDelta::minutes(i64::from(rule.slot_minutes)) == self.length && (rule.capacity > 1) == self.group
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_spelled_with_percent_escapes_is_the_token() {
        let token = "0123456789abcdef0123456789abcdef01234567";
        let cases = [
            (token.to_owned(), Some(token), "as sent"),
            (format!("%30%31{}", &token[2..]), Some(token), "digits escaped"),
            (format!("{}%61%62%63%64%65%66{}", &token[..10], &token[16..]), Some(token), "letters escaped"),
            (format!("{}%41{}", &token[..10], &token[11..]), None, "an escaped upper-case letter"),
            (token.to_uppercase(), None, "upper case"),
            (format!("{token}0"), None, "too long"),
            (format!("{token}%30"), None, "too long, escaped"),
            (token[..39].to_owned(), None, "too short"),
            (format!("{}%6", &token[..39]), None, "a cut escape"),
            (format!("{}%+1", &token[..39]), None, "a sign in an escape"),
            (format!("{}%C3%A4", &token[..38]), None, "not ASCII"),
            (String::new(), None, "empty"),
        ];
        for (segment, expected, case) in cases {
            assert_eq!(canonical_token(&segment).as_deref(), expected, "{case}: {segment}");
        }
    }

    #[test]
    fn tokens_are_random_hex_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(looks_like_token(&a) && looks_like_token(&b));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        for junk in ["", "abc", &a.to_uppercase(), &format!("{a}0"), &a.replacen(&a[..1], "g", 1)] {
            assert!(!looks_like_token(junk), "{junk}");
        }
    }

    #[test]
    fn a_link_works_until_a_day_after_the_end() {
        let end = Utc::now();
        assert!(link_valid(end, end + TimeDelta::hours(23)));
        assert!(!link_valid(end, end + TimeDelta::days(1)));
    }

    #[test]
    fn changes_stop_at_the_cutoff_and_moves_at_the_limit_or_an_interpreter() {
        let now = Utc::now();
        let rules = SelfService::default();
        let (booked, cancelled) = (BookingStatus::Booked, BookingStatus::Cancelled);
        let change = |may_move| Offer::Change { may_move };
        // The status, the hours to the start, the citizen's moves, an interpreter arranged.
        let cases = [
            ((booked, 48, 0, false), change(true), "far ahead"),
            ((booked, 48, 2, false), change(false), "the moves used"),
            ((booked, 48, 0, true), change(false), "an interpreter arranged: cancel, not move"),
            ((booked, 23, 0, false), Offer::CallUs, "past the cutoff"),
            ((booked, 23, 0, true), Offer::CallUs, "past the cutoff, an interpreter arranged"),
            ((cancelled, 48, 0, false), Offer::Nothing, "cancelled"),
            ((cancelled, 48, 0, true), Offer::Nothing, "cancelled, an interpreter arranged"),
            ((booked, -1, 0, false), Offer::Nothing, "begun"),
        ];
        for ((status, hours, moves, interpreter), expected, case) in cases {
            let starts_at = now + TimeDelta::hours(hours);
            assert_eq!(offer(status, starts_at, moves, rules, now, interpreter), expected, "{case}");
        }
    }

    #[test]
    fn each_reason_not_to_move_is_told_apart() {
        let rules = SelfService::default();
        let none = SelfService { self_service_max_moves: 0, ..rules };
        let cases = [
            (0, rules, false, None, "may move"),
            (1, rules, false, None, "one move left"),
            (2, rules, false, Some(NoMove::MovesUsed), "moves used"),
            (0, none, false, Some(NoMove::NotOffered), "the unit offers no moves, none made"),
            (0, none, true, Some(NoMove::NotOffered), "the unit's rule first"),
            (0, rules, true, Some(NoMove::Interpreter), "an interpreter arranged"),
            (2, rules, true, Some(NoMove::Interpreter), "an interpreter arranged after the moves"),
        ];
        for (moves, rules, interpreter, expected, case) in cases {
            assert_eq!(no_move(moves, rules, interpreter), expected, "{case}");
        }
    }

    #[test]
    fn a_move_fits_only_a_slot_of_the_same_length_and_kind() {
        use crate::domain::ids::{SlotId, StaffId, UnitId};
        let start = Utc::now();
        let slot = |minutes: i64, capacity: i32| Slot {
            id: SlotId::new(1),
            unit_id: UnitId::new(1),
            counsellor_id: StaffId::new(1),
            rule_id: None,
            adhoc: false,
            starts_at: start,
            ends_at: start + TimeDelta::minutes(minutes),
            capacity,
            booked_count: 0,
        };
        let fit = |minutes, capacity| MoveFit { length: TimeDelta::minutes(minutes), group: capacity > 1 };
        let (one_to_one, group) = (fit(30, 1), fit(30, 4));
        assert!(one_to_one.fits(&slot(30, 1)));
        assert!(!one_to_one.fits(&slot(45, 1)), "longer");
        assert!(!fit(90, 1).fits(&slot(30, 1)), "a 90-minute appointment does not shrink");
        assert!(!one_to_one.fits(&slot(30, 4)), "not into a group");
        assert!(group.fits(&slot(30, 6)), "another group session");
        assert!(!group.fits(&slot(30, 1)), "not out of the group into a one-to-one slot");
        let rule = |slot_minutes, capacity| crate::domain::records::HoursRule {
            id: crate::domain::ids::RuleId::new(1),
            unit_id: UnitId::new(1),
            counsellor_id: StaffId::new(1),
            weekday: 1,
            start_local: chrono::NaiveTime::MIN,
            end_local: chrono::NaiveTime::MIN,
            slot_minutes,
            buffer_minutes: 0,
            capacity,
            valid_from: chrono::NaiveDate::MIN,
            valid_until: None,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert!(one_to_one.may_come_from(&rule(30, 1)));
        assert!(!fit(90, 1).may_come_from(&rule(60, 1)), "no hours make 90-minute slots");
        assert!(!one_to_one.may_come_from(&rule(30, 3)) && group.may_come_from(&rule(30, 3)));
    }

    #[test]
    fn settings_are_checked() {
        assert!(SelfService::default().check().is_ok());
        let bad = SelfService { self_service_cutoff_hours: -1, ..SelfService::default() };
        assert_eq!(bad.check(), Err("self_service_cutoff_hours"));
        let bad = SelfService { self_service_max_moves: 99, ..SelfService::default() };
        assert_eq!(bad.check(), Err("self_service_max_moves"));
    }
}
