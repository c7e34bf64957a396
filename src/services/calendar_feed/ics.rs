//! The subscription as RFC 5545 text: one VEVENT per appointment in the service's zone, with a
//! VTIMEZONE for its TZID, and nothing about the citizen.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime, Class, Component, Event, EventLike, EventStatus, Property};

/// One appointment of the counsellor.
pub struct Entry {
    pub uid: String,
    pub sequence: i32,
    /// When this version of the appointment was made (DTSTAMP).
    pub stamp: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// As read out on the phone, e.g. `ACDE-FGH3`.
    pub reference: String,
    pub unit: String,
    /// Address and floor.
    pub place: String,
}

/// `text` as an iCalendar TEXT value (RFC 5545, 3.3.11).
fn text_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

/// The calendar of `owner`'s appointments.
pub fn render(owner: &str, tz: Tz, entries: &[Entry]) -> String {
    let local = |at: DateTime<Utc>| CalendarDateTime::WithTimezone {
        date_time: at.with_timezone(&tz).naive_local(),
        tzid: tz.name().to_owned(),
    };
    let mut calendar = Calendar::new();
    // The crate escapes X-WR-CALNAME but leaves NAME as given (it escapes only the TEXT
    // properties it knows): a display name with a comma or semicolon would be misread there.
    // The unit test below holds both to RFC 5545's TEXT.
    let name = format!("Terminbuch – {owner}");
    calendar
        .append_property(Property::new("NAME", text_value(&name)))
        .append_property(Property::new("X-WR-CALNAME", &name))
        .timezone(tz.name())
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new("REFRESH-INTERVAL", "PT15M").add_parameter("VALUE", "DURATION").done())
        .append_property(Property::new("X-PUBLISHED-TTL", "PT15M"));
    for entry in entries {
        let mut event = Event::new();
        event
            .uid(&entry.uid)
            .sequence(u32::try_from(entry.sequence).unwrap_or(0))
            .timestamp(entry.stamp)
            .starts(local(entry.starts_at))
            .ends(local(entry.ends_at))
            .summary(&format!("Beratung {} · {}", entry.reference, entry.unit))
            .description(&format!("Buchungsnummer / reference: {}\n{}", entry.reference, entry.unit))
            .status(EventStatus::Confirmed)
            .class(Class::Private);
        if !entry.place.is_empty() {
            event.location(&entry.place);
        }
        calendar.push(event.done());
    }
    let text = calendar.done().to_string();
    // The zone's changes over the feed's window (an empty feed has no event to place them before).
    match (entries.iter().map(|e| e.starts_at).min(), entries.iter().map(|e| e.ends_at).max()) {
        (Some(from), Some(to)) => crate::mail::ics::with_vtimezone(text, tz, from, to),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendars_name_is_escaped_as_text() {
        let ics = render(r"Demir, Ayşe; A\B", chrono_tz::Europe::Berlin, &[]).replace("\r\n ", "");
        for key in ["NAME", "X-WR-CALNAME"] {
            let line = format!("\r\n{key}:Terminbuch – Demir\\, Ayşe\\; A\\\\B\r\n");
            assert!(ics.contains(&line), "{key} in {ics}");
        }
    }
}
