//! Record ids bind as the integers the tables hold, so a query filters by `Column::UnitId.eq(unit)`
//! with a [`UnitId`](crate::domain::ids::UnitId) as it would with the bare number, and raw
//! statements read them with `try_get`.

use sea_orm::sea_query::Nullable;
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable, Value};

use crate::domain::ids::{AbsenceId, CallbackId, ClosureId, LocationId, RuleId, SlotId, StaffId, UnitId};

macro_rules! bind_as_integer {
    ($($name:ty),*) => {$(
        impl From<$name> for Value {
            fn from(id: $name) -> Self {
                Value::Int(Some(id.get()))
            }
        }

        impl TryGetable for $name {
            fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
                i32::try_get_by(res, index).map(<$name>::new)
            }
        }

        impl Nullable for $name {
            fn null() -> Value {
                Value::Int(None)
            }
        }
    )*};
}

bind_as_integer!(UnitId, StaffId, SlotId, RuleId, LocationId, AbsenceId, ClosureId, CallbackId);
