//! The only place that reads the system time. Tests use a fixed, movable clock.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

/// Source of "now" for the whole service.
#[derive(Clone, Debug)]
pub enum Clock {
    /// The real time.
    System,
    /// A fixed instant that tests may move.
    Fixed(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A clock frozen at `at` (for tests and benchmarks).
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self::Fixed(Arc::new(Mutex::new(at)))
    }

    /// The current instant, truncated to whole seconds so stored instants compare as text too.
    pub fn now(&self) -> DateTime<Utc> {
        let now = match self {
            Self::System => Utc::now(),
            Self::Fixed(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
        now.trunc_subsecs(0)
    }

    /// Moves a fixed clock forward; no effect on the system clock.
    pub fn advance(&self, by: TimeDelta) {
        if let Self::Fixed(at) = self {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}
