//! The calendar attachment (RFC 5545/5546): one stable UID per booking, SEQUENCE from the
//! booking, `METHOD:REQUEST` for new and moved appointments, `METHOD:CANCEL` for cancelled ones.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property};
use uuid::Uuid;

/// What the citizen's calendar should do with the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// The appointment as a calendar entry.
pub struct Invite<'a> {
    /// The entry's UID, the same in every email of a booking (see [`uid`]).
    pub uid: String,
    pub sequence: i32,
    pub method: Method,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub tz: Tz,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub attendee_email: &'a str,
    /// DTSTAMP: when this version was made.
    pub stamp: DateTime<Utc>,
}

/// The UID of a booking's calendar entry: `booking-id@domain`, where the caller keeps `domain`
/// the same for all of the booking's emails.
pub fn uid(booking_id: Uuid, domain: &str) -> String {
    format!("{booking_id}@{domain}")
}

/// The `text/calendar` body.
pub fn calendar(invite: &Invite<'_>) -> String {
    let local = |at: DateTime<Utc>| CalendarDateTime::WithTimezone {
        date_time: at.with_timezone(&invite.tz).naive_local(),
        tzid: invite.tz.name().to_owned(),
    };
    let mut event = Event::new();
    event
        .uid(&invite.uid)
        .sequence(u32::try_from(invite.sequence).unwrap_or(0))
        .timestamp(invite.stamp)
        .starts(local(invite.starts_at))
        .ends(local(invite.ends_at))
        .summary(invite.summary)
        .description(invite.description)
        .status(match invite.method {
            Method::Request => EventStatus::Confirmed,
            Method::Cancel => EventStatus::Cancelled,
        })
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{}", invite.organizer_email))
                .add_parameter("CN", invite.organizer_name)
                .done(),
        )
        .append_property(
            Property::new("ATTENDEE", format!("mailto:{}", invite.attendee_email))
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", "ACCEPTED")
                .done(),
        );
    if !invite.location.is_empty() {
        event.location(invite.location);
    }
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new("METHOD", invite.method.as_str())).push(event.done());
    with_vtimezone(calendar.done().to_string(), invite.tz)
}

/// Adds the VTIMEZONE of `tz` before the first event of an icalendar text: icalendar writes
/// none, and calendar clients (and RFC 5545) want one for every TZID. The EU rules (last Sunday
/// of March and October) cover Europe/Berlin; other zones are left as they are.
pub fn with_vtimezone(text: String, tz: Tz) -> String {
    if tz == chrono_tz::Europe::Berlin {
        text.replacen("BEGIN:VEVENT", &format!("{BERLIN}BEGIN:VEVENT"), 1)
    } else {
        text
    }
}

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_entry_carries_uid_sequence_method_and_local_start() {
        let starts_at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("valid");
        let invite = Invite {
            uid: uid(Uuid::nil(), "example.org"),
            sequence: 2,
            method: Method::Cancel,
            starts_at,
            ends_at: starts_at + chrono::TimeDelta::minutes(45),
            tz: chrono_tz::Europe::Berlin,
            summary: "Termin",
            location: "Hamburger Allee 25, 30161 Hannover, 11. Stock",
            description: "Terminnummer ACDE-FGH3",
            organizer_name: "Landeshauptstadt Hannover",
            organizer_email: "termine@example.org",
            attendee_email: "person@example.org",
            stamp: starts_at,
        };
        let text = calendar(&invite);
        for expected in [
            "METHOD:CANCEL",
            "UID:00000000-0000-0000-0000-000000000000@example.org",
            "SEQUENCE:2",
            "DTSTART;TZID=Europe/Berlin:20261201T100000",
            "DTEND;TZID=Europe/Berlin:20261201T104500",
            "STATUS:CANCELLED",
            "BEGIN:VTIMEZONE",
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
        let parsed: icalendar::Calendar = text.parse().expect("the calendar parses");
        assert_eq!(parsed.events().count(), 1);
    }
}
