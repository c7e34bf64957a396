//! Small view models shared by the pages: slots, bookings and language names as shown.

use chrono_tz::Tz;

use super::format;
use super::i18n::Lang;
use crate::domain::booking::{BookingStatus, Channel};
use crate::domain::callback::{CallbackStatus, TimeOfDay};
use crate::domain::ids::StaffId;
use crate::domain::language::Language;
use crate::domain::outbox::{DeliveryState, Failure, MailKind, OutboxMessage};
use crate::domain::records::{Booking, StaffMember};
use crate::domain::reference::Reference;
use crate::services::availability::FreeSlot;

/// A language choice for a select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The supported languages for selects, in the interface language.
pub fn language_choices(lang: Lang) -> Vec<Choice> {
    Language::all().map(|l| Choice { value: l.code().to_owned(), label: language_name(&l, lang) }).collect()
}

/// "Türkisch" for `tr`; a stored code outside the supported list as it is.
pub fn language_name(language: &Language, lang: Lang) -> String {
    match (language.names(), lang) {
        (Some((de, _)), Lang::De) => de.to_owned(),
        (Some((_, en)), Lang::En) => en.to_owned(),
        (None, _) => language.code().to_owned(),
    }
}

/// A free slot as listed.
#[derive(Debug, Clone)]
pub struct SlotView {
    pub id: i32,
    pub day: String,
    pub time: String,
    pub counsellor: String,
}

impl SlotView {
    pub fn new(free: &FreeSlot, tz: Tz, lang: Lang) -> Self {
        Self {
            id: free.slot.id.get(),
            day: format::date_long(format::local_date(free.slot.starts_at, tz), lang),
            time: format!("{}–{}", format::hhmm(free.slot.starts_at, tz), format::hhmm(free.slot.ends_at, tz)),
            counsellor: free.counsellor.display_name.clone(),
        }
    }
}

/// The reference as read out: "ACDE-FGH3".
pub fn reference_display(stored: &str) -> String {
    Reference::parse(stored).map_or_else(|_| stored.to_owned(), |r| r.to_string())
}

/// A booking in a list.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub reference: String,
    pub when: String,
    pub time: String,
    /// The citizen's name, or "Daten gelöscht" when the personal data were erased.
    pub citizen: String,
    pub phone: String,
    pub counsellor: String,
    pub status_key: &'static str,
    pub active: bool,
    /// Length in minutes.
    pub minutes: i64,
    /// The citizen's language and interpreter language, named; empty without an interpreter.
    pub language: String,
    pub interpreter: String,
    pub access: String,
    /// The first words of the note (at most [`NOTE_START`] characters, then "…").
    pub note_start: String,
    /// The text key of why it cannot take place as booked (the day list: an absence, a closure).
    pub flag: Option<&'static str>,
}

/// How much of a note the day list shows.
pub const NOTE_START: usize = 60;

/// The first `max` characters of `text`, with "…" when there was more.
pub fn text_start(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let start: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() { format!("{}…", start.trim_end()) } else { start }
}

impl BookingRow {
    pub fn new(booking: &Booking, staff: &[StaffMember], tz: Tz, lang: Lang) -> Self {
        Self {
            reference: booking.reference.to_string(),
            when: format::short(booking.starts_at, tz, lang),
            time: format!("{}–{}", format::hhmm(booking.starts_at, tz), format::hhmm(booking.ends_at, tz)),
            citizen: match booking.erased_at {
                Some(_) => lang.t("b.erased.name").to_owned(),
                None => booking.citizen.name.clone(),
            },
            phone: booking.citizen.phone.clone().unwrap_or_default(),
            counsellor: counsellor_name(staff, booking.counsellor_id),
            status_key: status_key(booking.status),
            active: booking.status == BookingStatus::Booked,
            minutes: (booking.ends_at - booking.starts_at).num_minutes(),
            language: language_name(&booking.citizen.language, lang),
            interpreter: booking
                .citizen
                .interpreter_language
                .as_ref()
                .map(|l| language_name(l, lang))
                .unwrap_or_default(),
            access: booking.citizen.accessibility_needs.clone().unwrap_or_default(),
            note_start: booking.note.as_deref().map(|n| text_start(n, NOTE_START)).unwrap_or_default(),
            flag: None,
        }
    }
}

pub fn counsellor_name(staff: &[StaffMember], id: StaffId) -> String {
    staff.iter().find(|s| s.id == id).map_or_else(|| format!("#{id}"), |s| s.display_name.clone())
}

pub fn status_key(status: BookingStatus) -> &'static str {
    match status {
        BookingStatus::Booked => "status.booked",
        BookingStatus::Cancelled => "status.cancelled",
        BookingStatus::Attended => "status.attended",
        BookingStatus::NoShow => "status.no_show",
    }
}

/// How the appointment was arranged, in words ("Telefon", "Persönlich vor Ort").
pub fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "stats.ch.phone",
        Channel::WalkIn => "stats.ch.walk_in",
        Channel::Email => "stats.ch.email",
        Channel::Other => "stats.ch.other",
    }
}

/// Where a callback-list entry stands, in words.
pub fn callback_state_key(status: CallbackStatus) -> &'static str {
    match status {
        CallbackStatus::Open => "dss.cb.open",
        CallbackStatus::Booked => "cb.state.booked",
        CallbackStatus::Withdrawn => "cb.state.withdrawn",
        CallbackStatus::Expired => "cb.state.expired",
    }
}

/// The part of the day a caller asked for, in words ("vormittags").
pub fn time_of_day_key(part: TimeOfDay) -> &'static str {
    match part {
        TimeOfDay::Morning => "book.morning",
        TimeOfDay::Afternoon => "book.afternoon",
    }
}

/// Which email it is ("Terminbestätigung").
pub fn mail_kind_key(kind: MailKind) -> &'static str {
    match kind {
        MailKind::Confirmation => "mail.confirmation",
        MailKind::Change => "mail.change",
        MailKind::Cancellation => "mail.cancellation",
        MailKind::Reminder => "mail.reminder",
    }
}

/// Where an email is on its way ("gesendet").
pub fn delivery_state_key(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Queued => "mstate.queued",
        DeliveryState::Retrying => "mstate.retrying",
        DeliveryState::Sent => "mstate.sent",
        DeliveryState::Failed => "mstate.failed",
        DeliveryState::Skipped => "mstate.skipped",
    }
}

/// One email of a booking as shown: kind, state, when, and the reason of a failure.
#[derive(Debug, Clone)]
pub struct EmailView {
    pub kind_key: &'static str,
    pub state_key: &'static str,
    pub failed: bool,
    pub when: String,
    /// The SMTP reply or error of the last attempt (failed and retrying emails), as the mail
    /// server said it, for IT.
    pub reason: String,
    /// What that means and what to do, for the desk (failed and retrying emails).
    pub why_key: Option<&'static str>,
}

impl EmailView {
    pub fn new(email: &OutboxMessage, tz: Tz, lang: Lang) -> Self {
        let when = email.sent_at.unwrap_or(email.created_at);
        Self {
            kind_key: mail_kind_key(email.kind),
            state_key: delivery_state_key(email.state),
            failed: email.state == DeliveryState::Failed,
            when: format::short(when, tz, lang),
            reason: match email.state {
                DeliveryState::Failed | DeliveryState::Retrying => email.last_error.clone().unwrap_or_default(),
                _ => String::new(),
            },
            why_key: match email.state {
                DeliveryState::Failed | DeliveryState::Retrying => {
                    let retrying = email.state == DeliveryState::Retrying;
                    Some(failure_key(Failure::of(email.last_error.as_deref().unwrap_or_default(), retrying)))
                }
                _ => None,
            },
        }
    }
}

/// The text key of what a failed delivery means for the desk.
fn failure_key(failure: Failure) -> &'static str {
    match failure {
        Failure::AddressInvalid => "mailfail.address_invalid",
        Failure::NoSuchMailbox => "mailfail.no_such_mailbox",
        Failure::MailboxFull => "mailfail.mailbox_full",
        Failure::Refused => "mailfail.refused",
        Failure::NotWritten => "mailfail.not_written",
        Failure::NotYet => "mailfail.not_yet",
    }
}

#[cfg(test)]
mod tests {
    use super::text_start;

    #[test]
    fn a_note_is_cut_after_its_first_characters() {
        assert_eq!(text_start("kurz", 10), "kurz");
        assert_eq!(text_start("Nachbarschaftsstreit wegen Lärm", 20), "Nachbarschaftsstreit…");
        assert_eq!(text_start("Ärger über Öl", 6), "Ärger…", "counts characters, not bytes");
    }
}
