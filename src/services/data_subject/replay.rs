//! Erasures on request made after a backup was taken, made again after it is restored: the
//! backup holds the data erased since, and the restore replaces the audit records that name
//! what was erased. `terminbuch restore` reads them from the database it replaces and applies
//! them to the restored one.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::ErasureCounts;
use crate::clock::Clock;
use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter};
use crate::domain::ids::CallbackId;
use crate::services::ServiceError;
use crate::services::{audit, retention};
use crate::store::{self, StoreError};

/// The erasures on request recorded after some instant: their bookings and callback entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasures {
    /// How many erasures were recorded.
    pub recorded: usize,
    pub bookings: Vec<Uuid>,
    /// Recorded by this release on; an erasure of an earlier release names only their count.
    pub callbacks: Vec<CallbackId>,
    /// Callback entries erased by erasures that did not name them (earlier releases).
    pub unnamed_callbacks: u64,
}

/// Records per page read.
const PAGE: u64 = 1_000;

/// The newest audit record's instant (`None` for none), e.g. of a backup: what it recorded last.
///
/// # Errors
/// Database failures.
pub async fn latest_record_at(db: &DatabaseConnection) -> Result<Option<DateTime<Utc>>, StoreError> {
    let filter = AuditFilter::newest(1);
    Ok(store::audit::list(db, &filter).await?.first().map(|r| r.at))
}

/// The erasures on request `db` recorded at or after `after` (all for `None`).
///
/// # Errors
/// Database failures.
pub async fn recorded_after(db: &DatabaseConnection, after: Option<DateTime<Utc>>) -> Result<Erasures, StoreError> {
    let mut found = Erasures::default();
    let mut before = None;
    loop {
        let filter = AuditFilter {
            from: after,
            action: Some(AuditAction::DataSubjectErased),
            before,
            ..AuditFilter::newest(PAGE)
        };
        let page = store::audit::list(db, &filter).await?;
        // From the instant on, not after it: records are kept to the second, so one made in the
        // same second as the backup's last may not be in the backup. Making an erasure that the
        // backup holds again changes nothing.
        for record in &page {
            found.recorded += 1;
            found.bookings.extend(record.booking_ids.iter().copied());
            match record.detail.get("callback_ids").and_then(|ids| ids.as_array()) {
                Some(ids) => found
                    .callbacks
                    .extend(ids.iter().filter_map(|id| id.as_i64()?.try_into().ok()).map(CallbackId::new)),
                None => found.unnamed_callbacks += record.detail["counts"]["callbacks"].as_u64().unwrap_or(0),
            }
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => before = Some(last.id),
            _ => break,
        }
    }
    found.bookings.sort_unstable();
    found.bookings.dedup();
    found.callbacks.sort_unstable();
    found.callbacks.dedup();
    Ok(found)
}

/// Erases `erasures` again in `db` (the restored database), in one transaction with an audit
/// record of the service (`data_subject_erased`, `"after_restore": true`), then removes their
/// `.eml` files and compacts SQLite. Bookings erased already are left as they are.
///
/// # Errors
/// Database failures (nothing is erased then).
pub async fn replay(
    db: &DatabaseConnection,
    clock: &Clock,
    erasures: &Erasures,
    data_dir: &std::path::Path,
) -> Result<ErasureCounts, ServiceError> {
    let txn = store::begin_write(db).await?;
    let (erased, emails) = retention::erase_bookings(&txn, &erasures.bookings, clock.now()).await?;
    let removed = store::callbacks::delete(&txn, &erasures.callbacks).await?;
    let counts = ErasureCounts::of(erased, removed);
    let entry = AuditEntry::system(AuditAction::DataSubjectErased)
        .bookings(erasures.bookings.iter().copied())
        .count(erasures.bookings.len() + erasures.callbacks.len())
        .detail(serde_json::json!({
            "after_restore": true,
            "erasures": erasures.recorded,
            "counts": counts,
            "callback_ids": erasures.callbacks.iter().map(|id| id.get()).collect::<Vec<_>>(),
        }));
    audit::record(&txn, clock, entry).await?;
    txn.commit().await?;
    retention::remove_eml_files(data_dir, &emails).await;
    retention::compact(db).await;
    Ok(counts)
}
