//! What a record's `target` names, read back from its stored text: a staff member, a rule, a
//! callback entry … (`staff:12`, `rule:3`), or the part of the service a refusal kept someone
//! out of (`admin`, `units`).

use std::fmt;

use uuid::Uuid;

use crate::domain::ids::{AbsenceId, CallbackId, ClosureId, RuleId, SlotId, StaffId, UnitId};

/// The other object of an audit record. [`AuditTarget::parse`] reads every stored text: one of
/// a shape no code writes (an older or hand-made record) stays [`AuditTarget::Other`], as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// No other object (the empty text).
    Nothing,
    /// A staff member the act concerned: an account change, a login, a password.
    Staff(StaffId),
    /// A unit (a refusal's, when not moved into the record's unit).
    Unit(UnitId),
    /// A booking (a refusal's, when not moved into the record's bookings).
    Booking(Uuid),
    /// A stored time (a move's new slot, a refused booking of it).
    Slot(SlotId),
    Rule(RuleId),
    Absence(AbsenceId),
    Closure(ClosureId),
    Callback(CallbackId),
    /// The part of the service a refused access attempted.
    Area(Area),
    /// Any other text.
    Other(String),
}

/// The parts of the service a refusal names as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// What only admins may do (`admin`).
    Administration,
    /// The staff accounts (`staff`).
    Staff,
    /// The units (`units`).
    Units,
    /// Requests of the person concerned (`data-subject`).
    DataSubjectRequests,
}

impl Area {
    const ALL: [Self; 4] = [Self::Administration, Self::Staff, Self::Units, Self::DataSubjectRequests];

    /// The stored text, e.g. `data-subject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Administration => "admin",
            Self::Staff => "staff",
            Self::Units => "units",
            Self::DataSubjectRequests => "data-subject",
        }
    }
}

impl AuditTarget {
    /// Reads a stored target.
    pub fn parse(text: &str) -> Self {
        if text.is_empty() {
            return Self::Nothing;
        }
        if let Some(area) = Area::ALL.into_iter().find(|area| area.as_str() == text) {
            return Self::Area(area);
        }
        let Some((kind, id)) = text.split_once(':') else { return Self::Other(text.to_owned()) };
        let parsed = match kind {
            "staff" => id.parse().ok().map(Self::Staff),
            "unit" => id.parse().ok().map(Self::Unit),
            "booking" => Uuid::parse_str(id).ok().map(Self::Booking),
            "slot" => id.parse().ok().map(Self::Slot),
            "rule" => id.parse().ok().map(Self::Rule),
            "absence" => id.parse().ok().map(Self::Absence),
            "closure" => id.parse().ok().map(Self::Closure),
            "callback" => id.parse().ok().map(Self::Callback),
            _ => None,
        };
        parsed.unwrap_or_else(|| Self::Other(text.to_owned()))
    }
}

/// The stored text (what [`AuditTarget::parse`] reads back).
impl fmt::Display for AuditTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nothing => Ok(()),
            Self::Staff(id) => write!(f, "staff:{id}"),
            Self::Unit(id) => write!(f, "unit:{id}"),
            Self::Booking(id) => write!(f, "booking:{id}"),
            Self::Slot(id) => write!(f, "slot:{id}"),
            Self::Rule(id) => write!(f, "rule:{id}"),
            Self::Absence(id) => write!(f, "absence:{id}"),
            Self::Closure(id) => write!(f, "closure:{id}"),
            Self::Callback(id) => write!(f, "callback:{id}"),
            Self::Area(area) => f.write_str(area.as_str()),
            Self::Other(text) => f.write_str(text),
        }
    }
}

impl From<AuditTarget> for String {
    fn from(target: AuditTarget) -> Self {
        target.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_the_services_write_reads_back_as_itself() {
        let booking = Uuid::now_v7();
        for (text, target) in [
            ("", AuditTarget::Nothing),
            ("staff:12", AuditTarget::Staff(StaffId::new(12))),
            ("unit:2", AuditTarget::Unit(UnitId::new(2))),
            (&format!("booking:{booking}"), AuditTarget::Booking(booking)),
            ("slot:40", AuditTarget::Slot(SlotId::new(40))),
            ("rule:3", AuditTarget::Rule(RuleId::new(3))),
            ("absence:5", AuditTarget::Absence(AbsenceId::new(5))),
            ("closure:6", AuditTarget::Closure(ClosureId::new(6))),
            ("callback:7", AuditTarget::Callback(CallbackId::new(7))),
            ("admin", AuditTarget::Area(Area::Administration)),
            ("staff", AuditTarget::Area(Area::Staff)),
            ("units", AuditTarget::Area(Area::Units)),
            ("data-subject", AuditTarget::Area(Area::DataSubjectRequests)),
        ] {
            assert_eq!(AuditTarget::parse(text), target, "{text:?}");
            assert_eq!(target.to_string(), text, "{target:?}");
        }
    }

    #[test]
    fn other_shapes_stay_as_they_are() {
        for text in ["staff:", "staff:x", "rule:3:4", "booking:12", "room:3", "{\"a\":1}", "staff: 12"] {
            assert_eq!(AuditTarget::parse(text), AuditTarget::Other(text.to_owned()), "{text:?}");
            assert_eq!(AuditTarget::parse(text).to_string(), text);
        }
    }
}
