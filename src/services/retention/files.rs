//! The `.eml` files the file transport wrote for erased emails.

use std::path::Path;

use uuid::Uuid;

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
