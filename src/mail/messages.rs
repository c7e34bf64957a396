//! What an appointment email says, as typed fields the templates read. All kinds share one
//! shape: the confirmation, change, cancellation and reminder of one appointment.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::dates;
use crate::domain::records::{Location, Unit};
use crate::domain::reference::Reference;

/// The fields of every appointment email (see `templates/email/`).
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentMail {
    /// Name or pseudonym as given on the phone.
    pub citizen_name: String,
    /// Start spelled out in the citizen's language and the unit's zone.
    pub when: String,
    pub date: String,
    pub time: String,
    pub duration_minutes: i64,
    pub unit_name: String,
    /// The unit as the subject may name it: `None` for confidential units.
    pub subject_unit: Option<String>,
    pub confidential: bool,
    /// Not shown for confidential units (minimal data).
    pub counsellor_name: Option<String>,
    pub location: Option<Place>,
    /// Display form, e.g. `ACDE-FGH3`.
    pub reference: String,
    /// The interpreter's language in its own name, if one is arranged.
    pub interpreter: Option<String>,
    /// Where to call to cancel or change.
    pub phone: String,
    /// The citizen's own link (`PUBLIC_URL/t/{token}`): see, cancel or move the appointment.
    pub link: Option<String>,
    /// What the link lets the citizen do as the email is written, so that it promises no more
    /// than the page allows (a reminder comes inside the cutoff, when only a call changes it).
    pub link_offers: LinkOffers,
    /// A change notice about the place (the location's address or floor changed), not the time:
    /// the change email opens with its own sentence.
    pub place_changed: bool,
    /// A change notice of a move: the start the citizen was last told of by email, spelled out
    /// as `when` is (none when no earlier email reached them, or it named the same time).
    pub previous_when: Option<String>,
}

/// What the citizen's link offers besides seeing the appointment and its calendar entry; the
/// templates read it as `"move"`, `"cancel"` or `"see"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkOffers {
    /// Cancel and move.
    Move,
    /// Cancel only (the moves are used up, or not offered for this appointment).
    Cancel,
    /// Neither: too close to the appointment, or nothing left to change.
    See,
}

impl LinkOffers {
    /// What the page offers for `offer`.
    #[must_use]
    pub fn of(offer: crate::domain::citizen_link::Offer) -> Self {
        use crate::domain::citizen_link::Offer;
        match offer {
            Offer::Change { may_move: true } => Self::Move,
            Offer::Change { may_move: false } => Self::Cancel,
            Offer::CallUs | Offer::Nothing => Self::See,
        }
    }
}

/// Address, floor and accessibility notes (the last two in the email's language where the
/// location has them in it, else in German).
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub floor: String,
    pub accessibility_notes: String,
}

/// The parts an appointment email is made of.
pub struct MailFacts<'a> {
    pub citizen_name: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub unit: &'a Unit,
    pub location: Option<&'a Location>,
    pub counsellor_name: Option<&'a str>,
    pub reference: &'a str,
    pub interpreter_language: Option<&'a str>,
}

impl AppointmentMail {
    /// Spells the facts out in `lang` (an available template language) and zone `tz`.
    pub fn new(facts: &MailFacts<'_>, lang: &str, tz: Tz) -> Self {
        let start = facts.starts_at.with_timezone(&tz);
        let unit = facts.unit;
        Self {
            // On one line even if stored before names were refused with line breaks: it opens
            // the email, and a line break in it could forge a line of the city's text.
            citizen_name: crate::domain::text::one_line(facts.citizen_name),
            when: dates::spell_out(start, lang),
            date: dates::spell_date(start, lang),
            time: dates::spell_time(start, lang),
            duration_minutes: (facts.ends_at - facts.starts_at).num_minutes(),
            unit_name: unit.name.clone(),
            subject_unit: (!unit.confidential).then(|| unit.name.clone()),
            confidential: unit.confidential,
            counsellor_name: facts.counsellor_name.filter(|_| !unit.confidential).map(str::to_owned),
            location: facts.location.map(|l| Place {
                name: l.name.clone(),
                street: l.street.clone(),
                postal_code: l.postal_code.clone(),
                city: l.city.clone(),
                floor: l.floor_in(lang).to_owned(),
                accessibility_notes: l.accessibility_notes_in(lang).to_owned(),
            }),
            reference: Reference::parse(facts.reference).map_or_else(|_| facts.reference.to_owned(), |r| r.to_string()),
            interpreter: facts.interpreter_language.map(|code| dates::endonym(code).to_owned()),
            phone: unit.phone.clone(),
            link: None,
            link_offers: LinkOffers::See,
            place_changed: false,
            previous_when: None,
        }
    }

    /// The same email with the citizen's own link, which offers `offers`.
    #[must_use]
    pub fn with_link(mut self, link: Option<String>, offers: LinkOffers) -> Self {
        self.link = link;
        self.link_offers = offers;
        self
    }

    /// The same email as a notice that the place changed (see [`Self::place_changed`]).
    #[must_use]
    pub fn about_place(mut self, place_changed: bool) -> Self {
        self.place_changed = place_changed;
        self
    }

    /// The same email naming the start the citizen was told of before (`previous`), spelled out
    /// in `lang` and zone `tz` like the new one.
    #[must_use]
    pub fn moved_from(mut self, previous: Option<DateTime<Utc>>, lang: &str, tz: Tz) -> Self {
        self.previous_when = previous.map(|at| dates::spell_out(at.with_timezone(&tz), lang));
        self
    }

    /// The calendar entry's DESCRIPTION: the reference, and the unit's phone number unless the
    /// unit is confidential: its direct number would name the office that the entry's title and
    /// organizer keep neutral (the emails and the page, where the citizen reads it, name it).
    pub fn calendar_description(&self) -> String {
        if self.confidential { self.reference.clone() } else { format!("{} {}", self.reference, self.phone) }
    }

    /// One line for the calendar entry's LOCATION.
    pub fn location_line(&self) -> String {
        self.location
            .as_ref()
            .map(|p| format!("{}, {} {}, {}", p.street, p.postal_code, p.city, p.floor))
            .unwrap_or_default()
    }
}
