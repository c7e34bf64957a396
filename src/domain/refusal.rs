//! Why a rule of the appointment book refuses a time or a change. The edges translate each
//! reason (`code()` in problem+json, a sentence at the form), so a new one cannot be forgotten.

use std::fmt;

use chrono::NaiveDate;

/// A rule's refusal (HTTP 422 in the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The time lies in the past.
    InThePast,
    /// The day is a public holiday (its name).
    PublicHoliday { day: NaiveDate, name: String },
    /// The department is closed that day (24 and 31 December, configurable).
    ClosureDay { day: NaiveDate },
    /// A closure of the unit or the department covers the time (its reason).
    UnitClosed { reason: String },
    /// The counsellor is absent then.
    CounsellorAbsent,
    /// An ad-hoc time outside the unit's counselling hours of its day.
    OutsideHours,
    /// An outcome recorded before the appointment began.
    TooEarly,
    /// A citizen's own change too close to the appointment (or nothing left to change).
    SelfServiceClosed,
}

impl Refusal {
    /// The stable code API clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InThePast => "in_the_past",
            Self::PublicHoliday { .. } => "public_holiday",
            Self::ClosureDay { .. } => "closure_day",
            Self::UnitClosed { .. } => "unit_closed",
            Self::CounsellorAbsent => "counsellor_absent",
            Self::OutsideHours => "outside_hours",
            Self::TooEarly => "too_early",
            Self::SelfServiceClosed => "self_service_closed",
        }
    }
}

/// The English detail of the API's problem document.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InThePast => f.write_str("the time lies in the past"),
            Self::PublicHoliday { day, name } => write!(f, "{day} is a public holiday ({name})"),
            Self::ClosureDay { day } => write!(f, "{day} is a closure day"),
            Self::UnitClosed { reason } => write!(f, "the unit is closed then: {reason}"),
            Self::CounsellorAbsent => f.write_str("the counsellor is absent then"),
            Self::OutsideHours => f.write_str("the time lies outside the unit's counselling hours"),
            Self::TooEarly => f.write_str("the outcome can be recorded once the appointment has begun"),
            Self::SelfServiceClosed => f.write_str("too close to the appointment (or nothing to change): please call"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_details_are_those_the_api_gave_before() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 25).expect("date");
        let holiday = Refusal::PublicHoliday { day, name: "1. Weihnachtstag".into() };
        assert_eq!(
            (holiday.code(), holiday.to_string()),
            ("public_holiday", "2026-12-25 is a public holiday (1. Weihnachtstag)".into())
        );
        assert_eq!(Refusal::OutsideHours.code(), "outside_hours");
        assert_eq!(Refusal::UnitClosed { reason: "Klausur".into() }.to_string(), "the unit is closed then: Klausur");
    }
}
