//! A booking's history events as the pages word them (the desk's booking page and the printed
//! answer to the person concerned): what happened, with times in the service's zone, never a
//! stored detail as it is.

use chrono_tz::Tz;

use super::format;
use super::i18n::Lang;
use crate::domain::booking::Outcome;
use crate::domain::history::HistoryEvent;

/// The label of a citizen's field a correction names (as the API names them).
fn field_label(field: &str) -> &'static str {
    match field {
        "name" => "details.name",
        "email" => "details.email",
        "phone" => "details.phone",
        "language" => "details.clang",
        "interpreter_language" => "details.interpreter",
        "accessibility_needs" => "details.access",
        "email_consent" => "contact.field.consent",
        _ => "ev.contact_corrected",
    }
}

/// One line of a booking's history: what happened, with the booked time, the old and new time
/// of a move, the reason of a cancellation, which outcome was recorded and which fields were
/// corrected. A kind this release does not know is a neutral line naming only the kind.
pub(super) fn event_text(event: &HistoryEvent, tz: Tz, lang: Lang) -> String {
    let with = |key: &str, what: Option<String>| match what {
        Some(what) => format!("{}: {what}", lang.t(key)),
        None => lang.t(key).to_owned(),
    };
    match event {
        HistoryEvent::Created(created) => {
            format!("{} {}", lang.t("ev.created_for"), format::short(created.starts_at, tz, lang))
        }
        HistoryEvent::Cancelled { reason, by_citizen } => {
            let key = if *by_citizen { "ev.cancelled_by_citizen" } else { "ev.cancelled" };
            with(key, reason.text().map(str::to_owned))
        }
        HistoryEvent::Rescheduled { from, to, by_citizen, .. } => {
            let key = if *by_citizen { "ev.rescheduled_by_citizen" } else { "ev.rescheduled" };
            let (from, to) = (format::short(from.starts_at, tz, lang), format::short(to.starts_at, tz, lang));
            with(key, Some(format!("{from} → {to}")))
        }
        HistoryEvent::Outcome(Outcome::Attended) => lang.t("ev.attended").to_owned(),
        HistoryEvent::Outcome(Outcome::NoShow) => lang.t("ev.no_show").to_owned(),
        HistoryEvent::EmailResent(_) => lang.t("ev.email_resent").to_owned(),
        HistoryEvent::ContactCorrected { fields } if fields.is_empty() => lang.t("ev.contact_corrected").to_owned(),
        HistoryEvent::ContactCorrected { fields } => {
            let names: Vec<&str> = fields.iter().map(|field| lang.t(field_label(field))).collect();
            with("ev.contact_corrected", Some(names.join(", ")))
        }
        HistoryEvent::PlaceChanged { fields, notified, .. } => {
            let names: Vec<&str> = fields.iter().map(|field| lang.t(place_label(field))).collect();
            let notice = lang.t(if *notified { "ev.place_notified" } else { "ev.place_not_notified" });
            with("ev.place_changed", Some(format!("{} ({notice})", names.join(", "))))
        }
        HistoryEvent::Other { kind, .. } => with("ev.other", Some(kind.clone())),
    }
}

/// The label of a location's field a change of the place names.
fn place_label(field: &str) -> &'static str {
    match field {
        "street" => "locations.street",
        "postal_code" => "locations.postal_code",
        "city" => "locations.city",
        "floor" => "locations.floor_in",
        _ => "ev.place_changed",
    }
}

/// The reason given for an exception to the rules when the booking was made or moved.
pub(super) fn override_reason(event: &HistoryEvent) -> Option<&str> {
    match event {
        HistoryEvent::Created(created) => created.override_reason.text(),
        HistoryEvent::Rescheduled { override_reason, .. } => override_reason.text(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::domain::booking::Channel;
    use crate::domain::history::{Created, Placement, Reason};
    use crate::domain::ids::{SlotId, StaffId};
    use crate::domain::outbox::MailKind;

    fn text(what: HistoryEvent) -> String {
        event_text(&what, Berlin, Lang::De)
    }

    #[test]
    fn the_history_names_what_happened() {
        let at = |h| Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).single().expect("test step");
        let place = |h| Placement {
            slot_id: SlotId::new(1),
            starts_at: at(h),
            ends_at: at(h + 1),
            counsellor_id: StaffId::new(2),
        };
        let moved = |by_citizen| HistoryEvent::Rescheduled {
            from: place(8),
            to: place(10),
            override_reason: Reason::NotGiven,
            by_citizen,
        };
        assert_eq!(text(moved(false)), "verschoben: Mo, 02.03.2026, 09:00 → Mo, 02.03.2026, 11:00");
        assert!(text(moved(true)).starts_with("Von der Bürgerin / dem Bürger verschoben (über den Link): Mo"));
        let created = HistoryEvent::Created(Created {
            adhoc: false,
            channel: Channel::Phone,
            ends_at: at(9),
            override_reason: Reason::Given("Notfall".to_owned()),
            slot_id: SlotId::new(1),
            starts_at: at(8),
        });
        assert_eq!(text(created.clone()), "angelegt für Mo, 02.03.2026, 09:00");
        assert_eq!(override_reason(&created), Some("Notfall"));
        assert_eq!(override_reason(&moved(false)), None);
        let cancelled = |reason: Option<&str>, by_citizen| HistoryEvent::Cancelled {
            reason: Reason::from(reason.map(str::to_owned)),
            by_citizen,
        };
        assert_eq!(text(cancelled(Some("krank"), false)), "abgesagt: krank");
        assert_eq!(text(cancelled(None, false)), "abgesagt");
        assert_eq!(text(cancelled(None, true)), "Von der Bürgerin / dem Bürger abgesagt (über den Link)");
        assert_eq!(text(HistoryEvent::Outcome(Outcome::Attended)), "als wahrgenommen erfasst");
        assert_eq!(text(HistoryEvent::Outcome(Outcome::NoShow)), "als nicht erschienen erfasst");
        assert_eq!(text(HistoryEvent::EmailResent(MailKind::Change)), "E-Mail erneut in den Versand gegeben");
        let place = HistoryEvent::PlaceChanged {
            location_id: crate::domain::ids::LocationId::new(1),
            fields: vec!["street".to_owned(), "floor".to_owned()],
            notified: true,
        };
        assert_eq!(
            text(place),
            "Ort des Termins geändert: Straße und Hausnummer, Etage (Nachricht an die Person in den Versand gegeben)"
        );
        let corrected = HistoryEvent::ContactCorrected { fields: vec!["phone".to_owned(), "email".to_owned()] };
        assert_eq!(text(corrected), "Kontaktdaten berichtigt: Telefon, E-Mail");
        let other = HistoryEvent::Other { kind: "noted".to_owned(), detail: r#"{"name":"Frau X."}"#.to_owned() };
        assert_eq!(text(other), "weiterer Eintrag: noted", "the kind, never the stored detail");
    }
}
