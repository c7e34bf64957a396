//! A booking's history: what happened to it, as the desk, the API and the data-subject export
//! read it. Stored as a `kind` string and a JSON `detail` object; [`HistoryEvent::stored`] and
//! [`HistoryEvent::from_stored`] are the one translation, writing the kinds and keys every
//! release since the first wrote (so old rows still read).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::booking::{Channel, Outcome};
use super::ids::{LocationId, SlotId, StaffId};
use super::outbox::MailKind;

const CREATED: &str = "created";
const CANCELLED: &str = "cancelled";
const CANCELLED_BY_CITIZEN: &str = "cancelled_by_citizen";
const RESCHEDULED: &str = "rescheduled";
/// The stored kind of a citizen's own move (counted to limit them).
pub const RESCHEDULED_BY_CITIZEN: &str = "rescheduled_by_citizen";
const OUTCOME: &str = "outcome";
const EMAIL_RESENT: &str = "email_resent";
const CONTACT_CORRECTED: &str = "contact_corrected";
const PLACE_CHANGED: &str = "place_changed";

/// One thing that happened to a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryEvent {
    /// Booked.
    Created(Created),
    /// Cancelled by staff, or by the citizen through the own link.
    Cancelled { reason: Reason, by_citizen: bool },
    /// Moved to another time, by staff or by the citizen through the own link.
    Rescheduled { from: Placement, to: Placement, override_reason: Reason, by_citizen: bool },
    /// Staff recorded whether the citizen came.
    Outcome(Outcome),
    /// Staff queued the booking's current notice again.
    EmailResent(MailKind),
    /// Staff corrected the citizen's details: the changed fields' names, never their values.
    ContactCorrected { fields: Vec<String> },
    /// An admin changed the address or floor of the location the booking's unit receives at:
    /// the changed fields' names, and whether the citizen was sent a notice of it.
    PlaceChanged { location_id: LocationId, fields: Vec<String>, notified: bool },
    /// A stored kind this release does not know, or a detail it cannot read: kept as stored.
    Other { kind: String, detail: String },
}

/// Where and when a booking was made. The fields are in alphabetical order: so written directly
/// (as every booking does), the JSON has its keys in the order of the stored rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub adhoc: bool,
    pub channel: Channel,
    pub ends_at: DateTime<Utc>,
    #[serde(default = "Reason::erased", skip_serializing_if = "Reason::is_erased")]
    pub override_reason: Reason,
    pub slot_id: SlotId,
    pub starts_at: DateTime<Utc>,
}

/// A booking's slot, time and counsellor before or after a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub slot_id: SlotId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub counsellor_id: StaffId,
}

/// A reason someone wrote (for a cancellation, for overriding a rule): personal data, removed
/// from the history when the booking's retention ends (stored as a missing key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    NotGiven,
    Given(String),
    Erased,
}

impl Reason {
    /// The text, if one was given and not erased.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Given(text) => Some(text),
            Self::NotGiven | Self::Erased => None,
        }
    }

    fn erased() -> Self {
        Self::Erased
    }

    fn is_erased(&self) -> bool {
        *self == Self::Erased
    }
}

impl From<Option<String>> for Reason {
    fn from(text: Option<String>) -> Self {
        text.map_or(Self::NotGiven, Self::Given)
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.text().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.into())
    }
}

#[derive(Serialize, Deserialize)]
struct CancelledDetail {
    #[serde(default = "Reason::erased", skip_serializing_if = "Reason::is_erased")]
    reason: Reason,
}

#[derive(Serialize, Deserialize)]
struct RescheduledDetail {
    from: Placement,
    to: Placement,
    #[serde(default = "Reason::erased", skip_serializing_if = "Reason::is_erased")]
    override_reason: Reason,
}

#[derive(Serialize, Deserialize)]
struct OutcomeDetail {
    status: Outcome,
}

#[derive(Serialize, Deserialize)]
struct EmailResentDetail {
    kind: MailKind,
}

/// The changed fields' names, comma-separated: names, no personal data, so retention keeps them
/// (it drops arrays).
#[derive(Serialize, Deserialize)]
struct ContactCorrectedDetail {
    fields: String,
}

/// As [`ContactCorrectedDetail`], with the location and whether a notice was queued.
#[derive(Serialize, Deserialize)]
struct PlaceChangedDetail {
    fields: String,
    location_id: LocationId,
    notified: bool,
}

impl HistoryEvent {
    /// Whether the citizen did it through the own link.
    pub fn by_citizen(&self) -> bool {
        matches!(self, Self::Cancelled { by_citizen: true, .. } | Self::Rescheduled { by_citizen: true, .. })
    }

    /// The stored kind, also the API's `kind`.
    pub fn kind(&self) -> &str {
        match self {
            Self::Created(_) => CREATED,
            Self::Cancelled { by_citizen: false, .. } => CANCELLED,
            Self::Cancelled { by_citizen: true, .. } => CANCELLED_BY_CITIZEN,
            Self::Rescheduled { by_citizen: false, .. } => RESCHEDULED,
            Self::Rescheduled { by_citizen: true, .. } => RESCHEDULED_BY_CITIZEN,
            Self::Outcome(_) => OUTCOME,
            Self::EmailResent(_) => EMAIL_RESENT,
            Self::ContactCorrected { .. } => CONTACT_CORRECTED,
            Self::PlaceChanged { .. } => PLACE_CHANGED,
            Self::Other { kind, .. } => kind,
        }
    }

    /// The detail object, also the API's and the export's `detail` (`null` for an unreadable
    /// stored detail).
    pub fn detail(&self) -> Value {
        let value = match self {
            Self::Created(created) => serde_json::to_value(created),
            Self::Cancelled { reason, .. } => serde_json::to_value(CancelledDetail { reason: reason.clone() }),
            Self::Rescheduled { from, to, override_reason, .. } => serde_json::to_value(RescheduledDetail {
                from: *from,
                to: *to,
                override_reason: override_reason.clone(),
            }),
            Self::Outcome(status) => serde_json::to_value(OutcomeDetail { status: *status }),
            Self::EmailResent(kind) => serde_json::to_value(EmailResentDetail { kind: *kind }),
            Self::ContactCorrected { fields } => {
                serde_json::to_value(ContactCorrectedDetail { fields: fields.join(",") })
            }
            Self::PlaceChanged { location_id, fields, notified } => serde_json::to_value(PlaceChangedDetail {
                fields: fields.join(","),
                location_id: *location_id,
                notified: *notified,
            }),
            Self::Other { detail, .. } => serde_json::from_str(detail),
        };
        value.unwrap_or(Value::Null)
    }

    /// The detail object as answers give it: [`Self::detail`] with its times (a booking's
    /// `starts_at` and `ends_at`, a move's `from` and `to`) in the zone `tz` with their offset, as
    /// every other time of an answer; the stored detail keeps them in UTC. A detail kept as stored
    /// ([`Self::Other`]) is given as stored.
    pub fn detail_in(&self, tz: Tz) -> Value {
        let mut detail = self.detail();
        match self {
            Self::Created(created) => set_local(Some(&mut detail), created.starts_at, created.ends_at, tz),
            Self::Rescheduled { from, to, .. } => {
                set_local(detail.get_mut("from"), from.starts_at, from.ends_at, tz);
                set_local(detail.get_mut("to"), to.starts_at, to.ends_at, tz);
            }
            _ => {}
        }
        detail
    }

    /// The stored `(kind, detail)`: the same strings as ever (JSON keys in alphabetical order).
    pub fn stored(&self) -> (String, String) {
        let detail = match self {
            Self::Other { detail, .. } => detail.clone(),
            // Every booking writes one: straight to text rather than through a `Value` (a test
            // holds the two alike).
            Self::Created(created) => serde_json::to_string(created).unwrap_or_else(|_| Value::Null.to_string()),
            _ => self.detail().to_string(),
        };
        (self.kind().to_owned(), detail)
    }

    /// Reads a stored `(kind, detail)`; what it cannot read becomes [`Self::Other`].
    pub fn from_stored(kind: String, detail: String) -> Self {
        fn read<T: DeserializeOwned>(detail: &str) -> Option<T> {
            serde_json::from_str(detail).ok()
        }
        let by_citizen = kind == CANCELLED_BY_CITIZEN || kind == RESCHEDULED_BY_CITIZEN;
        let known = match kind.as_str() {
            CREATED => read(&detail).map(Self::Created),
            CANCELLED | CANCELLED_BY_CITIZEN => {
                read(&detail).map(|d: CancelledDetail| Self::Cancelled { reason: d.reason, by_citizen })
            }
            RESCHEDULED | RESCHEDULED_BY_CITIZEN => read(&detail).map(|d: RescheduledDetail| Self::Rescheduled {
                from: d.from,
                to: d.to,
                override_reason: d.override_reason,
                by_citizen,
            }),
            OUTCOME => read(&detail).map(|d: OutcomeDetail| Self::Outcome(d.status)),
            EMAIL_RESENT => read(&detail).map(|d: EmailResentDetail| Self::EmailResent(d.kind)),
            CONTACT_CORRECTED => {
                read(&detail).map(|d: ContactCorrectedDetail| Self::ContactCorrected { fields: names(&d.fields) })
            }
            PLACE_CHANGED => read(&detail).map(|d: PlaceChangedDetail| Self::PlaceChanged {
                location_id: d.location_id,
                fields: names(&d.fields),
                notified: d.notified,
            }),
            _ => None,
        };
        known.unwrap_or(Self::Other { kind, detail })
    }
}

/// Sets `starts_at` and `ends_at` of the detail's `object` to the instants in the zone `tz`.
fn set_local(object: Option<&mut Value>, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, tz: Tz) {
    let local = |at: DateTime<Utc>| serde_json::to_value(at.with_timezone(&tz).fixed_offset()).unwrap_or(Value::Null);
    if let Some(object) = object.and_then(Value::as_object_mut) {
        object.insert("starts_at".to_owned(), local(starts_at));
        object.insert("ends_at".to_owned(), local(ends_at));
    }
}

/// Field names stored comma-separated.
fn names(stored: &str) -> Vec<String> {
    stored.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::retention::anonymous_detail;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 30, 0).single().expect("test step")
    }

    fn place(slot_id: SlotId, hour: u32) -> Placement {
        Placement { slot_id, starts_at: at(hour), ends_at: at(hour + 1), counsellor_id: StaffId::new(4) }
    }

    fn given(text: &str) -> Reason {
        Reason::Given(text.to_owned())
    }

    /// Every variant, each with and without a reason where it has one.
    fn every_event() -> Vec<HistoryEvent> {
        let created = |override_reason| Created {
            slot_id: SlotId::new(7),
            starts_at: at(9),
            ends_at: at(10),
            adhoc: true,
            channel: Channel::WalkIn,
            override_reason,
        };
        let moved = |override_reason, by_citizen| HistoryEvent::Rescheduled {
            from: place(SlotId::new(7), 9),
            to: place(SlotId::new(8), 11),
            override_reason,
            by_citizen,
        };
        let mut all = Vec::new();
        for reason in [Reason::NotGiven, given("Frau X. ist krank"), Reason::Erased] {
            all.push(HistoryEvent::Created(created(reason.clone())));
            all.push(moved(reason.clone(), false));
            all.push(moved(reason.clone(), true));
            all.push(HistoryEvent::Cancelled { reason: reason.clone(), by_citizen: false });
            all.push(HistoryEvent::Cancelled { reason, by_citizen: true });
        }
        all.extend([
            HistoryEvent::Outcome(Outcome::Attended),
            HistoryEvent::Outcome(Outcome::NoShow),
            HistoryEvent::EmailResent(MailKind::Confirmation),
            HistoryEvent::EmailResent(MailKind::Cancellation),
            HistoryEvent::ContactCorrected { fields: vec!["email".to_owned(), "phone".to_owned()] },
            HistoryEvent::ContactCorrected { fields: vec![] },
            HistoryEvent::PlaceChanged {
                location_id: LocationId::new(3),
                fields: vec!["street".to_owned(), "floor".to_owned()],
                notified: true,
            },
            HistoryEvent::PlaceChanged {
                location_id: LocationId::new(3),
                fields: vec!["city".to_owned()],
                notified: false,
            },
            HistoryEvent::Other { kind: "noted".to_owned(), detail: r#"{"b":1,"a":[2]}"#.to_owned() },
            HistoryEvent::Other { kind: "noted".to_owned(), detail: "not json".to_owned() },
        ]);
        all
    }

    #[test]
    fn every_event_reads_back_as_stored() {
        for event in every_event() {
            let (kind, detail) = event.stored();
            assert_eq!(HistoryEvent::from_stored(kind, detail.clone()), event, "{detail}");
        }
    }

    #[test]
    fn a_detail_written_directly_is_the_detail_written_through_a_json_value() {
        for event in every_event() {
            if !matches!(event, HistoryEvent::Other { .. }) {
                assert_eq!(event.stored().1, event.detail().to_string(), "{event:?}");
            }
        }
    }

    /// Rows as earlier releases wrote them (`serde_json::json!`, keys in alphabetical order).
    #[test]
    fn rows_of_earlier_releases_read_and_are_written_alike() {
        let rows = [
            (
                "created",
                r#"{"adhoc":false,"channel":"phone","ends_at":"2026-03-02T10:30:00Z","override_reason":null,"slot_id":7,"starts_at":"2026-03-02T09:30:00Z"}"#,
            ),
            ("cancelled", r#"{"reason":"verschlafen"}"#),
            ("cancelled_by_citizen", r#"{"reason":null}"#),
            (
                "rescheduled",
                r#"{"from":{"counsellor_id":4,"ends_at":"2026-03-02T10:30:00Z","slot_id":7,"starts_at":"2026-03-02T09:30:00Z"},"override_reason":"Notfall","to":{"counsellor_id":4,"ends_at":"2026-03-02T12:30:00Z","slot_id":8,"starts_at":"2026-03-02T11:30:00Z"}}"#,
            ),
            ("outcome", r#"{"status":"no_show"}"#),
            ("email_resent", r#"{"kind":"change"}"#),
            // Anonymised by retention: the reasons' keys are gone.
            ("cancelled", "{}"),
        ];
        let read: Vec<HistoryEvent> =
            rows.iter().map(|(k, d)| HistoryEvent::from_stored((*k).to_owned(), (*d).to_owned())).collect();
        assert_eq!(
            read[0],
            HistoryEvent::Created(Created {
                slot_id: SlotId::new(7),
                starts_at: at(9),
                ends_at: at(10),
                adhoc: false,
                channel: Channel::Phone,
                override_reason: Reason::NotGiven,
            })
        );
        assert_eq!(read[1], HistoryEvent::Cancelled { reason: given("verschlafen"), by_citizen: false });
        assert_eq!(read[2], HistoryEvent::Cancelled { reason: Reason::NotGiven, by_citizen: true });
        assert_eq!(
            read[3],
            HistoryEvent::Rescheduled {
                from: place(SlotId::new(7), 9),
                to: place(SlotId::new(8), 11),
                override_reason: given("Notfall"),
                by_citizen: false
            }
        );
        assert_eq!(read[4], HistoryEvent::Outcome(Outcome::NoShow));
        assert_eq!(read[5], HistoryEvent::EmailResent(MailKind::Change));
        assert_eq!(read[6], HistoryEvent::Cancelled { reason: Reason::Erased, by_citizen: false });
        for ((kind, detail), event) in rows.iter().zip(&read) {
            assert_eq!(event.stored(), ((*kind).to_owned(), (*detail).to_owned()), "byte for byte");
        }
    }

    /// The details as the services built them before this module (with `json!`).
    #[test]
    fn details_are_written_as_the_services_wrote_them() {
        let (from, to, reason) = (place(SlotId::new(7), 9), place(SlotId::new(8), 11), Some("Notfall".to_owned()));
        let moved = HistoryEvent::Rescheduled { from, to, override_reason: reason.clone().into(), by_citizen: true };
        let written = serde_json::json!({
            "from": { "slot_id": from.slot_id, "starts_at": from.starts_at, "ends_at": from.ends_at,
                      "counsellor_id": from.counsellor_id },
            "to": { "slot_id": to.slot_id, "starts_at": to.starts_at, "ends_at": to.ends_at,
                    "counsellor_id": to.counsellor_id },
            "override_reason": reason,
        });
        assert_eq!(moved.stored(), ("rescheduled_by_citizen".to_owned(), written.to_string()));
        let created = Created {
            slot_id: SlotId::new(3),
            starts_at: at(9),
            ends_at: at(10),
            adhoc: false,
            channel: Channel::Email,
            override_reason: Reason::NotGiven,
        };
        let written = serde_json::json!({
            "slot_id": 3, "starts_at": at(9), "ends_at": at(10), "adhoc": false, "channel": Channel::Email,
            "override_reason": Option::<String>::None,
        });
        assert_eq!(HistoryEvent::Created(created).stored().1, written.to_string());
        let cancelled = HistoryEvent::Cancelled { reason: Reason::NotGiven, by_citizen: false };
        assert_eq!(cancelled.stored(), ("cancelled".to_owned(), r#"{"reason":null}"#.to_owned()));
        let outcome = HistoryEvent::Outcome(Outcome::NoShow);
        let status = crate::domain::booking::BookingStatus::from(Outcome::NoShow);
        assert_eq!(outcome.stored(), ("outcome".to_owned(), serde_json::json!({ "status": status }).to_string()));
        let resent = HistoryEvent::EmailResent(MailKind::Cancellation);
        let kind = MailKind::Cancellation;
        assert_eq!(resent.stored(), ("email_resent".to_owned(), serde_json::json!({ "kind": kind }).to_string()));
    }

    /// Whether `local` is `utc` but for times given in Berlin's winter offset (the same instants).
    fn alike_but_local(local: &Value, utc: &Value) -> bool {
        match (local, utc) {
            (Value::Object(local), Value::Object(utc)) => {
                local.len() == utc.len()
                    && local.iter().all(|(key, value)| utc.get(key).is_some_and(|other| alike_but_local(value, other)))
            }
            (Value::String(local), Value::String(utc)) if local != utc => {
                let (Ok(at), Ok(same)) = (DateTime::parse_from_rfc3339(local), DateTime::parse_from_rfc3339(utc))
                else {
                    return false;
                };
                at == same && local.ends_with("+01:00") && utc.ends_with('Z')
            }
            (local, utc) => local == utc,
        }
    }

    /// Answers give a detail's times in the service's zone with their offset (the stored detail
    /// keeps UTC); everything else of the detail as [`HistoryEvent::detail`] gives it.
    #[test]
    fn a_detail_in_a_zone_gives_its_times_local_with_their_offset() {
        use chrono_tz::Europe::Berlin;
        for event in every_event() {
            let local = event.detail_in(Berlin);
            assert!(alike_but_local(&local, &event.detail()), "{local}");
            assert!(!local.to_string().contains("Z\""), "no time in UTC: {local}");
        }
        let moved = every_event().into_iter().find(|e| e.kind() == RESCHEDULED).expect("a move");
        let local = moved.detail_in(Berlin);
        assert_eq!(local["from"]["starts_at"], "2026-03-02T10:30:00+01:00");
        assert_eq!(local["to"]["ends_at"], "2026-03-02T13:30:00+01:00");
        let summer = HistoryEvent::Created(Created {
            adhoc: false,
            channel: Channel::Phone,
            ends_at: Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).single().expect("test step"),
            override_reason: Reason::NotGiven,
            slot_id: SlotId::new(1),
            starts_at: Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).single().expect("test step"),
        });
        assert_eq!(summer.detail_in(Berlin)["starts_at"], "2026-07-01T10:00:00+02:00", "summer time");
    }

    #[test]
    fn unknown_kinds_and_unreadable_details_are_kept_as_they_are() {
        let odd = [("noted", r#"{"x":1}"#), ("rescheduled", r#"{"from":"yesterday"}"#), ("outcome", "")];
        for (kind, detail) in odd {
            let event = HistoryEvent::from_stored(kind.to_owned(), detail.to_owned());
            assert_eq!(event, HistoryEvent::Other { kind: kind.to_owned(), detail: detail.to_owned() });
            assert_eq!(event.kind(), kind);
        }
        let noted = HistoryEvent::from_stored("noted".to_owned(), r#"{"x":1}"#.to_owned());
        assert_eq!(noted.detail(), serde_json::json!({ "x": 1 }));
        assert_eq!(HistoryEvent::from_stored("outcome".to_owned(), String::new()).detail(), Value::Null);
    }

    /// Retention's list of anonymous keys and the events agree: anonymising a stored detail
    /// leaves exactly the event with its reasons erased.
    #[test]
    fn anonymising_erases_the_reasons_and_nothing_else() {
        let erased = |event: HistoryEvent| match event {
            HistoryEvent::Created(created) => {
                HistoryEvent::Created(Created { override_reason: Reason::Erased, ..created })
            }
            HistoryEvent::Cancelled { by_citizen, .. } => {
                HistoryEvent::Cancelled { reason: Reason::Erased, by_citizen }
            }
            HistoryEvent::Rescheduled { from, to, by_citizen, .. } => {
                HistoryEvent::Rescheduled { from, to, override_reason: Reason::Erased, by_citizen }
            }
            other => other,
        };
        for event in every_event() {
            if matches!(event, HistoryEvent::Other { .. }) {
                continue;
            }
            let (kind, detail) = event.stored();
            let anonymous = anonymous_detail(&detail);
            assert!(!anonymous.contains("krank"), "{anonymous}");
            let expected = erased(event);
            assert_eq!(anonymous, expected.stored().1);
            assert_eq!(HistoryEvent::from_stored(kind, anonymous), expected);
        }
    }

    #[test]
    fn the_citizen_s_own_changes_are_marked() {
        let all = every_event();
        let marked: Vec<&str> = all.iter().filter(|e| e.by_citizen()).map(HistoryEvent::kind).collect();
        assert!(marked.iter().all(|k| k.ends_with("_by_citizen")) && !marked.is_empty(), "{marked:?}");
    }
}
