//! Emails to citizens: the outbox rows booking changes write (`outbox`), the dispatcher that
//! sends them (`dispatch`), and what they say (`messages`, `render`, `dates`, `ics`).

pub mod dates;
pub mod dispatch;
pub mod ics;
pub mod messages;
pub mod outbox;
pub mod render;
pub mod transport;
pub mod vtimezone;

pub use dispatch::{Dispatcher, Nudge};
pub use render::Templates;
pub use transport::Transport;

/// What can go wrong around email, besides a delivery attempt (see [`transport::SendError`]).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error("email template: {0}")]
    Template(String),
    #[error("cannot compose the email: {0}")]
    Compose(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
