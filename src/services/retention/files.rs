//! The `.eml` files the file transport wrote for erased emails.

use std::path::Path;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::store::{self, StoreError};

/// Deletes `DATA_DIR/mail/<id>.eml` of each email; returns how many existed. Other failures
/// are logged (a file left behind is removed by an operator; it is named in the log by id only).
pub async fn remove_eml_files(data_dir: &Path, emails: &[Uuid]) -> u64 {
    let folder = data_dir.join("mail");
    let mut removed = 0;
    for id in emails {
        match tokio::fs::remove_file(folder.join(format!("{id}.eml"))).await {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tracing::error!(email = %id, error = %err, "cannot remove the .eml file of an erased email"),
        }
    }
    removed
}

/// Files looked up per query by [`sweep_forgotten`].
const SWEEP_BATCH: usize = 500;

/// The ids of the `DATA_DIR/mail/<id>.eml` files there are.
async fn eml_ids(data_dir: &Path) -> Vec<Uuid> {
    let Ok(mut entries) = tokio::fs::read_dir(data_dir.join("mail")).await else { return Vec::new() };
    let mut found = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name();
        let id = name.to_str().and_then(|n| n.strip_suffix(".eml")).and_then(|stem| Uuid::parse_str(stem).ok());
        if let Some(id) = id {
            found.push(id);
        }
    }
    found
}

/// The `.eml` files of emails the database `replaced` holds and the database `restored` (its
/// backup, put in its place) does not: written after the backup was taken, nothing would ever
/// remove them once the restore forgot their emails. Files of emails neither holds (another
/// instance's, in a shared folder) are not among them.
///
/// # Errors
/// Database failures.
pub async fn lost_in_restore(
    replaced: &DatabaseConnection,
    restored: &DatabaseConnection,
    data_dir: &Path,
) -> Result<Vec<Uuid>, StoreError> {
    let mut lost = Vec::new();
    for batch in eml_ids(data_dir).await.chunks(SWEEP_BATCH) {
        let kept = store::outbox::held(restored, batch).await?;
        lost.extend(store::outbox::held(replaced, batch).await?.into_iter().filter(|id| !kept.contains(id)));
    }
    Ok(lost)
}

/// Deletes every `DATA_DIR/mail/<id>.eml` whose email in this database no longer knows its
/// recipient: erased, or sent to an address corrected since. These are the files a removal after
/// an erasure missed (the process ended between the commit and the removal, or the removal
/// failed) and the files of addresses corrected since, which nothing else would ever remove.
/// Files of other names, and of emails this database does not hold (another instance's, in a
/// shared folder), are left alone. Returns how many were deleted.
///
/// # Errors
/// Database failures (the files not looked at yet stay for the next run).
pub async fn sweep_forgotten(db: &DatabaseConnection, data_dir: &Path) -> Result<u64, StoreError> {
    let found = eml_ids(data_dir).await;
    let mut removed = 0;
    for batch in found.chunks(SWEEP_BATCH) {
        let forgotten = store::outbox::forgotten(db, batch).await?;
        removed += remove_eml_files(data_dir, &forgotten).await;
    }
    Ok(removed)
}
