//! After an admin's action the browser is sent on to the page (303), so a reload does not do it
//! again; what the page says then travels in `done=`, and what may be shown only once (a reset
//! link, a generated password) waits in the session until that page takes it.

use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::super::error::WebError;

/// The `done=` of the page an action leads to.
#[derive(serde::Deserialize, Default)]
pub(super) struct DoneQuery {
    #[serde(default)]
    pub(super) done: String,
}

impl DoneQuery {
    /// The notice of `done`, when it names one of `known` (`(done, text key)`).
    pub(super) fn notice(&self, known: &[(&str, &'static str)]) -> Option<&'static str> {
        known.iter().find(|(done, _)| *done == self.done).map(|(_, key)| *key)
    }
}

/// The answer to a successful action: on to `path` with `done`.
pub(super) fn see_page(path: &str, done: &str) -> Response {
    Redirect::to(&format!("{path}?done={done}")).into_response()
}

/// Keeps `value` for the next page to show once.
pub(super) async fn keep<T: Serialize + Send + Sync>(session: &Session, key: &str, value: &T) -> Result<(), WebError> {
    Ok(session.insert(key, value).await?)
}

/// Takes what [`keep`] kept: it is gone from the session afterwards.
pub(super) async fn take<T: DeserializeOwned>(session: &Session, key: &str) -> Result<Option<T>, WebError> {
    Ok(session.remove::<T>(key).await?)
}
