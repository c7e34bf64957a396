//! The dispatcher: queues due reminders, claims due outbox rows with a lease, composes and sends
//! them, and records the outcome. Several may run against one database; each row goes to one.

mod compose;
mod deliver;
mod dispatcher;
mod run;

pub use compose::sender_name;
pub use dispatcher::{Dispatcher, Nudge, Report};
pub use run::SHUTDOWN_GRACE;
