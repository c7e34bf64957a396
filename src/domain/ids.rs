//! Identifiers of the appointment book's records, one type each, so that a counsellor's id cannot
//! be passed where a unit's is wanted. They are the database's integer keys: `store` makes them
//! from rows and binds them back (`store::ids`); on the wire (JSON, paths, forms) they are plain
//! numbers.

use std::fmt;
use std::str::FromStr;

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = i32)]
        pub struct $name(i32);

        impl $name {
            /// The id of a stored record (or one a caller named; whether it exists is the
            /// store's question).
            #[must_use]
            pub const fn new(raw: i32) -> Self {
                Self(raw)
            }

            /// The number as stored.
            #[must_use]
            pub const fn get(self) -> i32 {
                self.0
            }
        }

        impl From<$name> for i32 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

record_id!(
    /// A counselling unit (office).
    UnitId
);
record_id!(
    /// A staff member; a counsellor is a staff member too.
    StaffId
);
record_id!(
    /// A stored bookable time.
    SlotId
);
record_id!(
    /// A weekly counselling-hours rule.
    RuleId
);
record_id!(
    /// A place where counselling takes place.
    LocationId
);
record_id!(
    /// A counsellor's absence.
    AbsenceId
);
record_id!(
    /// A closure of a unit or of the department.
    ClosureId
);
record_id!(
    /// A citizen's request to be called back.
    CallbackId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_numbers_on_the_wire() {
        let id = UnitId::new(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<UnitId>("42").unwrap(), id);
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<UnitId>().unwrap(), id);
        assert!("x".parse::<UnitId>().is_err());
    }
}
