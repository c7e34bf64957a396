//! tower-sessions' `SessionStore` on our database: sessions survive restarts and are shared by
//! several server processes. Each is stored under the digest of its id, not the id itself.

use chrono::DateTime;
use sea_orm::DatabaseConnection;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::StoreError;
use crate::store::sessions::{StoredSession, delete, find_live, insert, real_now, update};

/// Ends the stored session `id` for its renewal under a new id; returns whether it still existed.
/// One deleted meanwhile (a logout in another tab while the password was being changed) must not
/// be renewed: tower-sessions would store the renewed session as a new one.
///
/// # Errors
/// Database failures.
pub async fn take_for_renewal(db: &DatabaseConnection, id: &Id) -> Result<bool, StoreError> {
    crate::store::sessions::take(db, &stored_id(id)).await
}

/// The key a session is stored under: the SHA-256 digest of its id (hex), never the id itself,
/// so a copy of the database or a backup holds nothing a browser could present as its cookie.
fn stored_id(id: &Id) -> String {
    super::tokens::token_hash(&id.to_string())
}

/// tower-sessions' store on our database.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_stored(record: &Record) -> session_store::Result<StoredSession> {
    let data = serde_json::to_string(&record.data).map_err(|err| session_store::Error::Encode(err.to_string()))?;
    let expiry = record.expiry_date;
    let expires_at = DateTime::from_timestamp(expiry.unix_timestamp(), expiry.nanosecond())
        .ok_or_else(|| session_store::Error::Encode("expiry out of range".into()))?;
    Ok(StoredSession { id: stored_id(&record.id), data, expires_at })
}

fn backend(err: StoreError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A colliding id is practically impossible with 128 random bits, but never overwrite one.
        for _ in 0..5 {
            match insert(&self.db, &to_stored(record)?).await {
                Err(StoreError::Duplicate(_)) => record.id = Id::default(),
                other => return other.map_err(backend),
            }
        }
        Err(session_store::Error::Backend("no free session id".into()))
    }

    /// Only a session that exists is saved: one deleted while a request that loaded it ran (a
    /// logout in another tab) stays deleted.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        update(&self.db, &to_stored(record)?).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(stored) = find_live(&self.db, &stored_id(id), real_now()).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&stored.data).map_err(|err| session_store::Error::Decode(err.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(stored.expires_at.timestamp())
            .map_err(|err| session_store::Error::Decode(err.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        delete(&self.db, &stored_id(id)).await.map_err(backend)
    }
}
