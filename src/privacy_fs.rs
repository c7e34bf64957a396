//! Files and folders that hold personal data are the service's user's alone: what earlier
//! releases left open to every local user is closed at start.

use std::path::Path;

/// Takes away the permissions of other local users (not the owner's, not the group's) from
/// `path` if it exists and has any, and says so in the log. A symbolic link's target is what
/// changes (the path the service was given to keep its data). A path that does not exist is
/// left alone; one whose permissions cannot be changed (another owner) is named in the log.
pub fn deny_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else { return };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o007 == 0 {
            return;
        }
        let tightened = mode & !0o007;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(tightened)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                was = format!("{mode:04o}"),
                now = format!("{tightened:04o}"),
                "other local users could read personal data here; their permissions were removed"
            ),
            Err(err) => tracing::error!(
                path = %path.display(),
                mode = format!("{mode:04o}"),
                error = %err,
                "other local users can read personal data here, and their permissions could not be removed"
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
    }

    #[test]
    fn others_lose_their_permissions_owner_and_group_keep_theirs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("terminbuch.db");
        std::fs::write(&file, b"x").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).expect("chmod");
        deny_others(&file);
        assert_eq!(mode(&file), 0o660);

        let folder = dir.path().join("mail");
        std::fs::create_dir(&folder).expect("mkdir");
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        deny_others(&folder);
        assert_eq!(mode(&folder), 0o750);

        // Already closed: unchanged; missing: nothing happens.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        deny_others(&file);
        assert_eq!(mode(&file), 0o600);
        deny_others(&dir.path().join("missing"));
    }

    #[test]
    fn a_symbolic_link_s_target_is_closed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"x").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        deny_others(&link);
        assert_eq!(mode(&target), 0o640);
    }
}
