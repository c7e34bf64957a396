//! The calendar attachment (RFC 5545/5546): one stable UID per booking, SEQUENCE from the
//! booking, `METHOD:REQUEST` for new and moved appointments, `METHOD:CANCEL` for cancelled ones;
//! `METHOD:PUBLISH` for the file the citizen's page offers to download.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property};
use uuid::Uuid;

/// What the citizen's calendar should do with the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The emails' invitation.
    Request,
    /// The emails' cancellation.
    Cancel,
    /// A file to download that names no attendee (RFC 5546 wants one in a REQUEST and a CANCEL);
    /// `cancelled` sets its STATUS, which tells a calendar what became of the UID it holds.
    Publish { cancelled: bool },
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
            Self::Publish { .. } => "PUBLISH",
        }
    }

    fn status(self) -> EventStatus {
        match self {
            Self::Request | Self::Publish { cancelled: false } => EventStatus::Confirmed,
            Self::Cancel | Self::Publish { cancelled: true } => EventStatus::Cancelled,
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
    /// Without one (a booking without email address), the entry names no attendee.
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
    // A local time the night the clocks go back has twice is read as its first occurrence
    // (RFC 5545 3.3.5): an instant at the second one is written in UTC instead (an appointment
    // from 01:30 for 120 minutes ends at the second 02:30, and showed as 60 minutes).
    let local = |at: DateTime<Utc>| {
        use chrono::TimeZone;
        let date_time = at.with_timezone(&invite.tz).naive_local();
        match invite.tz.from_local_datetime(&date_time).earliest() {
            Some(first) if first.with_timezone(&Utc) == at => {
                CalendarDateTime::WithTimezone { date_time, tzid: invite.tz.name().to_owned() }
            }
            _ => CalendarDateTime::Utc(at),
        }
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
        .status(invite.method.status())
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{}", invite.organizer_email))
                .add_parameter("CN", &param_text(invite.organizer_name))
                .done(),
        );
    if !invite.attendee_email.is_empty() {
        event.append_property(
            Property::new("ATTENDEE", format!("mailto:{}", invite.attendee_email))
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", "ACCEPTED")
                .done(),
        );
    }
    if !invite.location.is_empty() {
        event.location(invite.location);
    }
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new("METHOD", invite.method.as_str())).push(event.done());
    with_vtimezone(calendar.done().to_string(), invite.tz, invite.starts_at, invite.ends_at)
}

/// `value` as a parameter value may hold it: RFC 5545 allows no DQUOTE in one, quoted or not (a
/// unit named `Büro "Vielfalt"` would end the value early), so each becomes an apostrophe.
fn param_text(value: &str) -> String {
    value.replace('"', "'")
}

/// Adds the VTIMEZONE of `tz` (derived from the zone's changes around `[from, to]`) before the
/// first event of an icalendar text: icalendar writes none, and calendar clients (and RFC 5545)
/// want one for every TZID.
pub fn with_vtimezone(text: String, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let zone = super::vtimezone::vtimezone(tz, from, to);
    text.replacen("BEGIN:VEVENT", &format!("{zone}BEGIN:VEVENT"), 1)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A cancelled entry of 1 December 2026, 10:00 in Berlin.
    fn cancelled_invite() -> Invite<'static> {
        let starts_at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("valid");
        Invite {
            uid: uid(Uuid::nil(), "example.org"),
            sequence: 2,
            method: Method::Cancel,
            starts_at,
            ends_at: starts_at + chrono::TimeDelta::minutes(45),
            tz: chrono_tz::Europe::Berlin,
            summary: "Termin",
            location: "Hamburger Allee 25, 30161 Hannover, 11. Stock",
            description: "Buchungsnummer ACDE-FGH3",
            organizer_name: "Landeshauptstadt Hannover",
            organizer_email: "termine@example.org",
            attendee_email: "person@example.org",
            stamp: starts_at,
        }
    }

    #[test]
    fn the_entry_carries_uid_sequence_method_and_local_start() {
        let invite = cancelled_invite();
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

    #[test]
    fn an_organizer_name_with_double_quotes_makes_a_valid_parameter() {
        let invite = Invite {
            organizer_name: "Büro \"Vielfalt\": Beratung – Landeshauptstadt Hannover",
            ..cancelled_invite()
        };
        let text = calendar(&invite);
        let organizer = text.replace("\r\n ", "");
        let organizer = organizer.lines().find(|l| l.starts_with("ORGANIZER")).expect("an organizer");
        assert_eq!(
            organizer,
            "ORGANIZER;CN=\"Büro 'Vielfalt': Beratung – Landeshauptstadt Hannover\":mailto:termine@example.org"
        );
    }

    #[test]
    fn an_end_at_the_second_of_a_twice_occurring_time_is_written_in_utc() {
        // 31 October 2027, 01:30 CEST (23:30 UTC) for 120 minutes ends at 02:30 CET (01:30 UTC),
        // the second 02:30 of the night; written as local time, calendars read the first.
        let starts_at = Utc.with_ymd_and_hms(2027, 10, 30, 23, 30, 0).single().expect("an instant");
        let invite = Invite { ends_at: starts_at + chrono::TimeDelta::minutes(120), starts_at, ..cancelled_invite() };
        let text = calendar(&invite);
        assert!(text.contains("DTSTART;TZID=Europe/Berlin:20271031T013000"), "{text}");
        assert!(text.contains("DTEND:20271031T013000Z"), "{text}");
        // At the first 02:30 it stays local.
        let invite = Invite { ends_at: starts_at + chrono::TimeDelta::minutes(60), starts_at, ..cancelled_invite() };
        assert!(calendar(&invite).contains("DTEND;TZID=Europe/Berlin:20271031T023000"));
    }

    fn invite_in(tz: Tz, starts_at: DateTime<Utc>) -> String {
        calendar(&Invite {
            uid: uid(Uuid::nil(), "example.org"),
            sequence: 0,
            method: Method::Request,
            starts_at,
            ends_at: starts_at + chrono::TimeDelta::minutes(45),
            tz,
            summary: "Termin",
            location: "",
            description: "",
            organizer_name: "Landeshauptstadt Hannover",
            organizer_email: "termine@example.org",
            attendee_email: "person@example.org",
            stamp: starts_at,
        })
    }

    /// Reads the .ics like a calendar client: the event's local DTSTART and the VTIMEZONE's
    /// observance in force then give back the instant.
    fn instant_of_the_event(text: &str) -> (DateTime<Utc>, Vec<String>) {
        let unfolded = icalendar::parser::unfold(text);
        let parsed = icalendar::parser::read_calendar(&unfolded).expect("the calendar parses");
        let prop = |c: &icalendar::parser::Component<'_>, name: &str| {
            c.find_prop(name).map(|p| p.val.as_str().to_owned()).expect("the property")
        };
        let zone = parsed.components.iter().find(|c| c.name == "VTIMEZONE").expect("a VTIMEZONE");
        let event = parsed.components.iter().find(|c| c.name == "VEVENT").expect("a VEVENT");
        let tzid = prop(zone, "TZID");
        let start = event.find_prop("DTSTART").expect("DTSTART");
        assert_eq!(
            start.params.iter().find(|p| p.key == "TZID").and_then(|p| p.val.as_ref()).map(|v| v.as_str()),
            Some(tzid.as_str())
        );
        let local = chrono::NaiveDateTime::parse_from_str(start.val.as_str(), "%Y%m%dT%H%M%S").expect("local time");
        let mut in_force = None;
        let mut kinds = Vec::new();
        for observance in &zone.components {
            kinds.push(observance.name.as_str().to_owned());
            let since =
                chrono::NaiveDateTime::parse_from_str(&prop(observance, "DTSTART"), "%Y%m%dT%H%M%S").expect("DTSTART");
            assert!(observance.find_prop("RRULE").is_none());
            if since <= local {
                in_force = Some(prop(observance, "TZOFFSETTO"));
            }
        }
        let offset = in_force.expect("an observance in force at the start");
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let secs = sign
            * (offset[1..3].parse::<i64>().expect("hours") * 3600 + offset[3..5].parse::<i64>().expect("minutes") * 60);
        ((local - chrono::TimeDelta::seconds(secs)).and_utc(), kinds)
    }

    #[test]
    fn the_time_zone_is_derived_from_the_configured_zone() {
        // Sydney in January is on daylight-saving time (southern summer); Phoenix has none;
        // Berlin in December is on standard time.
        let cases = [
            (chrono_tz::Australia::Sydney, Utc.with_ymd_and_hms(2027, 1, 12, 23, 0, 0), "20270113T100000", true),
            (chrono_tz::America::Phoenix, Utc.with_ymd_and_hms(2026, 12, 1, 17, 0, 0), "20261201T100000", false),
            (chrono_tz::Europe::Berlin, Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0), "20261201T100000", true),
        ];
        for (tz, starts_at, local, has_daylight) in cases {
            let starts_at = starts_at.single().expect("valid");
            let text = invite_in(tz, starts_at);
            assert!(text.contains(&format!("DTSTART;TZID={}:{local}", tz.name())), "{tz}: {text}");
            let (instant, kinds) = instant_of_the_event(&text);
            assert_eq!(instant, starts_at, "{tz}: the client reads the same instant back");
            assert_eq!(kinds.iter().any(|k| k == "DAYLIGHT"), has_daylight, "{tz}: {kinds:?}");
            assert!(kinds.iter().any(|k| k == "STANDARD"), "{tz}: {kinds:?}");
        }
    }
}
