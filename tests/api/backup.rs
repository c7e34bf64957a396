//! Backups: `terminbuch backup` copies a running SQLite database consistently while bookings go
//! on, `terminbuch restore` puts it back (refused while a server uses the file); on PostgreSQL
//! both point to pg_dump / pg_restore, and `terminbuch restore --carry-from` carries the audit and
//! the erasures made since the dump over from the replaced database.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

use crate::helpers::{booking_body, spawn_app};

pub(crate) fn terminbuch(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env_remove("TERMINBUCH_LISTEN")
        .output()
        .expect("run terminbuch")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn integrity(path: &std::path::Path) -> String {
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", path.display())).await.expect("open the copy");
    let row = db
        .query_one_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await
        .expect("integrity check")
        .expect("a row");
    row.try_get_by_index(0).expect("the verdict")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_bookings_go_on_restores_every_acknowledged_booking() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("backup.db");
    let copy_arg = copy.to_str().expect("utf-8").to_owned();
    if app.is_postgres() {
        let refused = terminbuch(&app.settings.database_url, &["backup", "--to", &copy_arg]);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains("pg_dump"), "{}", stderr(&refused));
        return;
    }
    let mut slots = Vec::new();
    for unit in ["ads", "sdr", "suedosteuropa", "esf"] {
        slots.extend(app.free_slots(unit, "limit=150").await.iter().filter_map(|s| s["slot_id"].as_i64()));
    }
    let acknowledged = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
    let booker = tokio::spawn({
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        async move {
            for slot in slots {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let response = client
                    .post(format!("{address}/api/v1/bookings"))
                    .bearer_auth(&token)
                    .json(&booking_body(slot))
                    .send()
                    .await
                    .expect("booking request");
                if response.status() == StatusCode::CREATED {
                    let body: serde_json::Value = response.json().await.expect("json");
                    let id = Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid");
                    acknowledged.lock().expect("lock").push(id);
                }
            }
        }
    });
    // Ten bookings made before the backup starts (within a minute, while the booker runs).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 10 {
        assert!(!booker.is_finished(), "the booker ended before ten bookings were made");
        assert!(tokio::time::Instant::now() < deadline, "ten bookings within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = acknowledged.lock().expect("lock").clone();
    let url = app.settings.database_url.clone();
    let backup = tokio::task::spawn_blocking(move || terminbuch(&url, &["backup", "--to", &copy_arg]))
        .await
        .expect("backup ran");
    stop.store(true, Ordering::SeqCst);
    booker.await.expect("booker");
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert_eq!(integrity(&copy).await, "ok");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    let again = terminbuch(&app.settings.database_url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(!again.status.success(), "an existing file is not overwritten");

    let restored_url = format!("sqlite://{}?mode=rwc", dir.path().join("restored.db").display());
    let restore =
        terminbuch(&restored_url, &["restore", "--from", copy.to_str().expect("utf-8"), "--without-replaced"]);
    assert!(restore.status.success(), "{}", stderr(&restore));
    let restored = terminbuch::store::connect(&restored_url, None).await.expect("open the restored database");
    for id in &before {
        assert!(terminbuch::store::bookings::find(&restored, *id).await.expect("read").is_some(), "{id} restored");
    }
}

#[test]
fn restore_is_refused_while_a_server_uses_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let copy = dir.path().join("copy.db");
    assert!(terminbuch(&url, &["migrate"]).status.success());
    let backup = terminbuch(&url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    let mut server = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .env("DATABASE_URL", &url)
        .env("TERMINBUCH_LISTEN", "127.0.0.1:0")
        .env("TERMINBUCH_DEMO_SEED", "false")
        .env("TERMINBUCH_DATA_DIR", dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains("is running") {
            break;
        }
    }
    let refused = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);
    server.kill().expect("stop the server");
    server.wait().expect("server stopped");
    assert!(!refused.status.success(), "refused while the server runs");
    assert!(stderr(&refused).contains("stop the server"), "{}", stderr(&refused));
    let restored = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);
    assert!(restored.status.success(), "{}", stderr(&restored));
}

/// Whether some process holds a lock on the lock file `path` (tried exclusively, let go at once).
fn held_by_another_process(path: &std::path::Path) -> bool {
    let file = std::fs::File::options().create(true).truncate(false).write(true).open(path).expect("lock file");
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

#[test]
fn restore_is_refused_while_another_command_uses_the_database_and_nothing_opens_it_during_a_restore() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live.db");
    let url = format!("sqlite://{}?mode=rwc", live.display());
    let copy = dir.path().join("copy.db");
    assert!(terminbuch(&url, &["migrate"]).status.success());
    let backup = terminbuch(&url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    let users_lock = dir.path().join("live.db.users.lock");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&users_lock).expect("the lock file a command left").permissions().mode();
        assert_eq!(mode & 0o077, 0, "no other local user can open it to hold the lock: {mode:o}");
    }
    assert!(!held_by_another_process(&users_lock), "no process uses the database yet");
    // A mail sender left running, as an operator may run it beside the server.
    let mut dispatch = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args(["mail", "dispatch"])
        .env("DATABASE_URL", &url)
        .env_remove("TERMINBUCH_LISTEN")
        .env_remove("TERMINBUCH_SMTP_HOST")
        .env("TERMINBUCH_DATA_DIR", dir.path())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mail dispatch");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !held_by_another_process(&users_lock) {
        assert!(Instant::now() < deadline, "mail dispatch never took the database's users lock");
        assert!(dispatch.try_wait().expect("dispatch state").is_none(), "mail dispatch stopped");
        std::thread::sleep(Duration::from_millis(20));
    }

    let refused = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);
    let still_running = dispatch.try_wait().expect("dispatch state").is_none();
    dispatch.kill().expect("stop mail dispatch");
    dispatch.wait().expect("mail dispatch stopped");

    assert!(still_running, "the refused restore left mail dispatch alone");
    assert!(!refused.status.success(), "refused while mail dispatch runs");
    assert!(stderr(&refused).contains("stop it first"), "{}", stderr(&refused));
    assert!(!dir.path().join("live.db.restoring").exists(), "the refused restore copied nothing");
    // A restore in progress (the lock it holds, taken here): a command started meanwhile is
    // refused before it opens the file.
    let restoring = std::fs::File::options().write(true).open(&users_lock).expect("lock file");
    restoring.try_lock().expect("nobody uses the database any more");
    let meanwhile = terminbuch(&url, &["user", "list"]);
    assert!(!meanwhile.status.success(), "refused while a restore runs");
    assert!(stderr(&meanwhile).contains("restore` is replacing the database"), "{}", stderr(&meanwhile));
    drop(restoring);
    let restored = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let after = terminbuch(&url, &["user", "list"]);
    assert!(after.status.success(), "{}", stderr(&after));
}

/// The retention command on a database with an appointment past its unit's retention and one to
/// come: the dry run names the first (id and unit on stdout, no personal data) and changes
/// nothing; the run erases it and keeps the other.
#[tokio::test]
async fn the_retention_command_lists_in_a_dry_run_and_erases_otherwise() {
    use sea_orm::ConnectionTrait;
    // Arrange: an appointment that ended 60 days ago (30 days' retention), one to come.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    let (db, _actor, ids) = two_bookings_in(&url).await;
    let past = "UPDATE bookings SET starts_at = datetime('now', '-60 days'), ends_at = datetime('now', '-60 days', \
                '+45 minutes') WHERE citizen_name = 'Rita Restore'";
    db.execute_unprepared(past).await.expect("an appointment long past");
    db.close().await.expect("closed");
    let name_of = |id: Uuid| {
        let url = url.clone();
        async move {
            let db = terminbuch::store::connect(&url, None).await.expect("open the database");
            let booking = terminbuch::store::bookings::find(&db, id).await.expect("db").expect("the booking");
            db.close().await.expect("closed");
            booking.citizen.name
        }
    };

    // Act and assert: the dry run.
    let dry = terminbuch(&url, &["retention", "run", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stderr(&dry).contains("1 bookings would be erased, 0 callback entries removed"), "{}", stderr(&dry));
    let listed = String::from_utf8_lossy(&dry.stdout).into_owned();
    let columns: Vec<&str> = listed.trim_end().split('\t').collect();
    assert!(listed.lines().count() == 1 && columns.len() == 3, "{listed}");
    assert_eq!(columns[0], ids[0].to_string());
    let db = terminbuch::store::connect(&url, None).await.expect("open the database");
    let stored = terminbuch::store::bookings::find(&db, ids[0]).await.expect("db").expect("the booking");
    db.close().await.expect("closed");
    assert_eq!(columns[2], stored.reference.to_string(), "the booking number as staff read it");
    assert!(!listed.contains("Rita"), "no personal data: {listed}");
    assert_eq!(name_of(ids[0]).await, "Rita Restore", "the dry run changes nothing");

    // The run.
    let real = terminbuch(&url, &["retention", "run"]);
    assert!(real.status.success(), "{}", stderr(&real));
    assert!(stderr(&real).contains("1 bookings erased"), "{}", stderr(&real));
    assert_eq!(name_of(ids[0]).await, "", "erased");
    assert_eq!(name_of(ids[1]).await, "Bleibt Bestehen", "a coming appointment keeps its data");
    let bad = terminbuch(&url, &["retention", "run", "--as-of", "2030-13-01"]);
    assert!(!bad.status.success());
}

/// Runs `sql` in a new SQLite file `path` (another program's database, a damaged backup).
async fn sqlite_file_with(path: &std::path::Path, sql: &[&str]) {
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display())).await.expect("a new file");
    for statement in sql {
        db.execute_unprepared(statement).await.expect("statement");
    }
    db.close().await.expect("closed");
}

/// How many migrations the live database at `url` records (it is still the service's).
async fn applied_migrations(url: &str) -> i64 {
    let db = sea_orm::Database::connect(url).await.expect("open the live database");
    let row = db
        .query_one_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, "SELECT count(*) FROM seaql_migrations"))
        .await
        .expect("the live database keeps its migrations table")
        .expect("a row");
    let count = row.try_get_by_index(0).expect("a count");
    db.close().await.expect("closed");
    count
}

#[tokio::test]
async fn restore_refuses_an_empty_file_another_programs_database_and_a_newer_releases() {
    // Arrange: the service's database, and files that pass SQLite's integrity check but are no
    // backup of it.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    assert!(terminbuch(&url, &["migrate"]).status.success());
    let migrations = applied_migrations(&url).await;
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("an empty file");
    let foreign = dir.path().join("places.sqlite");
    sqlite_file_with(&foreign, &["CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)"]).await;
    let newer = dir.path().join("newer.db");
    let backup = terminbuch(&url, &["backup", "--to", newer.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    sqlite_file_with(
        &newer,
        &["INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000000_from_the_future', 0)"],
    )
    .await;

    for (case, file) in
        [("an empty file", &empty), ("another program's database", &foreign), ("a newer release's", &newer)]
    {
        // Act
        let refused = terminbuch(&url, &["restore", "--from", file.to_str().expect("utf-8")]);

        // Assert
        assert!(!refused.status.success(), "{case} is refused: {}", stderr(&refused));
        assert!(stderr(&refused).contains("no backup of this service's database"), "{case}: {}", stderr(&refused));
        assert_eq!(applied_migrations(&url).await, migrations, "{case}: the live database is left as it was");
    }
    // A text file is not even a database: said once, and that nothing changed.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"just text, no database").expect("a text file");
    let refused = terminbuch(&url, &["restore", "--from", text.to_str().expect("utf-8")]);
    let said = stderr(&refused);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("nothing was changed") && said.matches("not a database").count() == 1, "{said}");
    assert_eq!(applied_migrations(&url).await, migrations, "a text file: the live database is left as it was");
    // The live file itself, by its own name or through a symbolic link, is no backup either.
    let live = dir.path().join("live.db");
    let link = dir.path().join("link.db");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&live, &link).expect("a link");
    #[cfg(not(unix))]
    let link = live.clone();
    for file in [&live, &link] {
        let refused = terminbuch(&url, &["restore", "--from", file.to_str().expect("utf-8")]);
        assert!(!refused.status.success(), "{}", stderr(&refused));
        assert!(stderr(&refused).contains("the database itself"), "{}", stderr(&refused));
    }
}

#[tokio::test]
async fn restore_takes_an_older_releases_backup_and_brings_it_up_to_date() {
    use migration::MigratorTrait;
    // Arrange: a backup written before the last migration existed.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    assert!(terminbuch(&url, &["migrate"]).status.success());
    let older = dir.path().join("older.db");
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", older.display())).await.expect("a new file");
    let all = migration::Migrator::migrations().len();
    migration::Migrator::up(&db, Some(u32::try_from(all - 1).expect("few"))).await.expect("older schema");
    db.close().await.expect("closed");

    // Act
    let restored = terminbuch(&url, &["restore", "--from", older.to_str().expect("utf-8")]);

    // Assert
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_eq!(applied_migrations(&url).await, i64::try_from(all).expect("few"), "brought up by the restore");
    assert!(terminbuch(&url, &["migrate"]).status.success());
    assert_eq!(applied_migrations(&url).await, i64::try_from(all).expect("few"));
}

#[test]
fn the_retention_command_reads_as_of_like_every_other_date() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    assert!(terminbuch(&url, &["seed", "--demo"]).status.success());

    for odd in ["+262142-12-31", "+10000-01-01", "1899-12-31", "0000-01-01", "2030-1-1"] {
        // Act
        let refused = terminbuch(&url, &["retention", "run", "--as-of", odd, "--dry-run"]);

        // Assert: refused naming the argument, not run as of a day the cutoff cannot express
        // (+262142-12-31 listed nothing as if no booking had expired).
        let text = stderr(&refused);
        assert!(!refused.status.success(), "--as-of {odd} is refused: {text}");
        assert!(text.contains("--as-of") && text.contains(odd), "--as-of {odd}: {text}");
    }
    let fine = terminbuch(&url, &["retention", "run", "--as-of", "9999-12-31", "--dry-run"]);
    assert!(fine.status.success(), "{}", stderr(&fine));
    // A day after today erases only in a dry run: it would take data that is not due yet.
    let ahead = terminbuch(&url, &["retention", "run", "--as-of", "9999-12-31"]);
    let text = stderr(&ahead);
    assert!(!ahead.status.success() && text.contains("after today") && text.contains("--dry-run"), "{text}");
    let past = terminbuch(&url, &["retention", "run", "--as-of", "2026-01-01"]);
    assert!(past.status.success(), "{}", stderr(&past));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_never_readable_by_other_users_while_it_is_written() {
    use std::os::unix::fs::PermissionsExt;
    // Arrange: a database large enough that copying it takes a while.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    assert!(terminbuch(&url, &["migrate"]).status.success());
    sqlite_file_with(
        &dir.path().join("live.db"),
        &[
            "CREATE TABLE filler (x BLOB)",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) \
             INSERT INTO filler SELECT randomblob(1000000) FROM n",
        ],
    )
    .await;
    let copy = dir.path().join("backup.db");
    let watched = copy.clone();
    let done = Arc::new(AtomicBool::new(false));
    let watcher = std::thread::spawn({
        let done = done.clone();
        move || {
            // Every mode the file is seen with while the backup runs.
            let mut seen = std::collections::BTreeSet::new();
            while !done.load(Ordering::SeqCst) {
                if let Ok(meta) = std::fs::metadata(&watched) {
                    seen.insert(meta.permissions().mode() & 0o777);
                }
            }
            seen
        }
    });

    // Act
    let backup = terminbuch(&url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    done.store(true, Ordering::SeqCst);

    // Assert
    assert!(backup.status.success(), "{}", stderr(&backup));
    let seen = watcher.join().expect("the watcher");
    assert!(!seen.is_empty(), "the file was seen while it was written");
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![0o600], "owner-only from the start");
    assert_eq!(integrity(&copy).await, "ok");
}

#[test]
fn a_second_server_on_the_same_sqlite_file_does_not_start() {
    // Arrange: a server on the file.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let server = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_terminbuch"))
            .env("DATABASE_URL", &url)
            .env("TERMINBUCH_LISTEN", "127.0.0.1:0")
            .env("TERMINBUCH_DEMO_SEED", "false")
            .env("TERMINBUCH_DATA_DIR", dir)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a server")
    };
    let mut first = server(dir.path());
    let mut lines = BufReader::new(first.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains("is running") {
            break;
        }
    }

    // Act: a second one (it ran beside the first; once the first stopped, `restore` replaced
    // the file under it).
    let mut second = server(dir.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = second.try_wait().expect("the second server") {
            break Some(status);
        }
        if Instant::now() > deadline {
            second.kill().expect("stop the second server");
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    first.kill().expect("stop the first server");
    first.wait().expect("stopped");

    // Assert
    let output = second.wait_with_output().expect("its output");
    let status = status.expect("the second server stops by itself");
    assert!(!status.success());
    assert!(stderr(&output).contains("belongs to one server process"), "{}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn a_restored_database_is_readable_by_the_service_alone_whatever_the_backups_mode() {
    use std::os::unix::fs::PermissionsExt;
    // Arrange: a backup copied in from elsewhere, readable by everyone.
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live.db");
    let url = format!("sqlite://{}?mode=rwc", live.display());
    assert!(terminbuch(&url, &["migrate"]).status.success());
    let copy = dir.path().join("copy.db");
    let backup = terminbuch(&url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    // Act
    let restored = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert
    assert!(restored.status.success(), "{}", stderr(&restored));
    let mode = std::fs::metadata(&live).expect("the database").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the restored database took the backup's mode {mode:o}");
}

/// A database, its WAL and a mail folder that an earlier release left open to every local user
/// (the process's umask) are closed to them when the server starts; the owner's and the group's
/// permissions stay.
#[cfg(unix)]
#[tokio::test]
async fn files_an_earlier_release_left_readable_by_everyone_are_closed_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("metadata").permissions().mode() & 0o7777;
    let set = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    assert!(terminbuch(&url, &["migrate"]).status.success());
    // A connection of the earlier release still open: its write-ahead log and index exist.
    let earlier = terminbuch::store::connect(&url, Some(1)).await.expect("open");
    earlier.execute_unprepared("UPDATE units SET name = name").await.expect("a write");
    let (wal, shm) = (dir.path().join("old.db-wal"), dir.path().join("old.db-shm"));
    let mail = dir.path().join("mail");
    std::fs::create_dir(&mail).expect("the mail folder");
    let eml = mail.join("0192f3c4.eml");
    std::fs::write(&eml, b"To: someone").expect("an email");
    set(&db, 0o644);
    set(&wal, 0o644);
    set(&shm, 0o644);
    set(&mail, 0o755);
    set(&eml, 0o644);

    let mut server = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .env("DATABASE_URL", &url)
        .env("TERMINBUCH_LISTEN", "127.0.0.1:0")
        .env("TERMINBUCH_DEMO_SEED", "false")
        .env("TERMINBUCH_DATA_DIR", dir.path())
        .env_remove("TERMINBUCH_SMTP_HOST")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let running = line.contains("is running");
        log.push(line);
        if running {
            break;
        }
    }
    server.kill().expect("stop the server");
    server.wait().expect("server stopped");

    let log = log.join("\n");
    assert!(log.contains("is running"), "{log}");
    assert_eq!(mode(&db), 0o640, "the database");
    assert_eq!(mode(&wal), 0o640, "its WAL");
    assert_eq!(mode(&shm), 0o640, "its WAL index");
    earlier.close().await.expect("closed");
    assert_eq!(mode(&mail), 0o750, "the mail folder");
    let warned = log.lines().filter(|line| line.contains("their permissions were removed")).count();
    assert!(warned >= 4, "each is named in the log:\n{log}");
    // The email's own mode stays, but nobody else can reach it through the folder any more.
    assert_eq!(mode(&eml), 0o644);
}

/// A backup holds what erasures on request erased after it was taken, and the restore replaces
/// the records of those erasures: the restore reads them from the database it replaces and makes
/// them again in the restored one, recorded as done by the service after the restore.
/// An ad-hoc appointment in the anti-discrimination office three days and `n` hours from now,
/// booked by `actor` for `name` (with `email` and consent when given); its id.
async fn book_adhoc(
    db: &sea_orm::DatabaseConnection,
    actor: &terminbuch::domain::access::Actor,
    n: usize,
    name: &str,
    phone: &str,
    email: Option<&str>,
) -> Uuid {
    use chrono::{SubsecRound, TimeDelta, Utc};
    use terminbuch::clock::Clock;
    use terminbuch::domain::time::TimeSlot;
    use terminbuch::services::bookings::{self, NewBooking, Target};
    use terminbuch::store::directory;

    let unit = directory::find_unit(db, "ads").await.expect("db").expect("ads");
    let counsellor = directory::list_unit_staff(db, unit.id, None).await.expect("db").remove(0);
    let parts = crate::helpers::ServiceParts::new(Clock::System);
    let starts_at =
        Utc::now().trunc_subsecs(0) + TimeDelta::days(3) + TimeDelta::hours(i64::try_from(n).expect("a few hours"));
    let new = NewBooking {
        target: Target::Adhoc {
            unit_id: unit.id,
            counsellor_id: counsellor.id,
            time: TimeSlot::new(starts_at, starts_at + TimeDelta::minutes(45)).expect("a time"),
        },
        citizen: terminbuch::domain::booking::Citizen {
            name: name.into(),
            email: email.map(Into::into),
            phone: Some(phone.into()),
            language: terminbuch::domain::language::Language::from_stored("de"),
            interpreter_language: None,
            accessibility_needs: None,
            email_consent: email.is_some(),
        },
        channel: terminbuch::domain::booking::Channel::Phone,
        note: None,
        override_reason: Some("Test: frei vereinbart".into()),
    };
    bookings::create(parts.book(db), actor, new).await.expect("booking").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_keeps_the_audit_made_after_the_backup_and_removes_the_email_files_it_forgets() {
    use terminbuch::clock::Clock;
    use terminbuch::domain::audit::{AuditAction, AuditFilter};
    use terminbuch::store::{self, directory};

    // Arrange: a backup, then a booking with an email written as a file, and its record.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_terminbuch"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("TERMINBUCH_DATA_DIR", dir.path())
            .env_remove("TERMINBUCH_LISTEN")
            .env_remove("TERMINBUCH_SMTP_HOST")
            .output()
            .expect("run terminbuch")
    };
    for args in [&["seed", "--demo"][..], &["user", "add", "--login", "chef", "--name", "C", "--role", "admin"]] {
        let output = run(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let copy = dir.path().join("copy.db");
    let backup = run(&["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    let db = store::connect(&url, None).await.expect("open the database");
    let staff = directory::find_staff_by_login(&db, "chef").await.expect("db").expect("chef");
    let actor = directory::actor_for_staff(&db, staff.id).await.expect("db").expect("actor");
    let after = book_adhoc(&db, &actor, 0, "Nach Sicherung", "0511 1212121", Some("nach@example.org")).await;
    let parts = crate::helpers::ServiceParts::new(Clock::System);
    terminbuch::services::bookings::get(parts.book(&db), &actor, &after.to_string()).await.expect("read");
    db.close().await.expect("closed");
    let sent = run(&["mail", "dispatch", "--once"]);
    assert!(sent.status.success(), "{}", stderr(&sent));
    let files = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path().join("mail"))
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    assert_eq!(files().len(), 1, "the confirmation written as a file");

    // Act
    let restore = run(&["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert: the booking is gone with the backup, its file too; the record of it stays.
    assert!(restore.status.success(), "{}", stderr(&restore));
    assert!(stderr(&restore).contains("removed 1 .eml file(s)"), "{}", stderr(&restore));
    assert!(files().is_empty(), "no file of an email the restored database does not know");
    let db = store::connect(&url, None).await.expect("open the restored database");
    assert!(store::bookings::find(&db, after).await.expect("db").is_none(), "made after the backup");
    let filter = AuditFilter { booking: Some(after), ..AuditFilter::newest(10) };
    let records = store::audit::list(&db, &filter).await.expect("audit");
    let actions: Vec<AuditAction> = records.iter().map(|r| r.action).collect();
    assert!(actions.contains(&AuditAction::BookingCreated), "{actions:?}");
    assert!(actions.contains(&AuditAction::BookingViewed), "who read it stays answerable: {actions:?}");
}

/// A backup whose history went apart from the replaced database's (its last audit record is not
/// the replaced database's record of that id: a backup of a copy that went on elsewhere, or of a
/// database an earlier release restored) carries the records made from that record's second on.
#[tokio::test]
async fn a_restore_of_a_backup_whose_history_went_apart_carries_the_audit_by_time() {
    use terminbuch::clock::Clock;
    use terminbuch::domain::audit::{AuditAction, AuditEntry, AuditFilter};
    use terminbuch::services::audit;
    use terminbuch::store;

    // Arrange: a backup that records one more run of its own (at `then`), and in the replaced
    // database a record a minute before that and one a minute after.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let seeded = terminbuch(&url, &["seed", "--demo"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let copy = dir.path().join("copy.db");
    let backup = terminbuch(&url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    let then = Clock::fixed(chrono::Utc::now() + chrono::TimeDelta::hours(1)).now();
    let marked =
        |name: &str| AuditEntry::system(AuditAction::AuditRetentionRun).detail(serde_json::json!({ "test": name }));
    let elsewhere = store::connect(&format!("sqlite://{}", copy.display()), Some(1)).await.expect("open the backup");
    audit::record(&elsewhere, &Clock::fixed(then), marked("elsewhere")).await.expect("recorded");
    elsewhere.close().await.expect("closed");
    let db = store::connect(&url, None).await.expect("open the database");
    let minute = chrono::TimeDelta::minutes(1);
    audit::record(&db, &Clock::fixed(then - minute), marked("before")).await.expect("recorded");
    audit::record(&db, &Clock::fixed(then + minute), marked("after")).await.expect("recorded");
    db.close().await.expect("closed");

    // Act
    let restore = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert: by time; the later record is carried once, the earlier one lies before the
    // backup's history ends and is not.
    assert!(restore.status.success(), "{}", stderr(&restore));
    assert!(stderr(&restore).contains("went apart"), "the restore says so: {}", stderr(&restore));
    assert!(stderr(&restore).contains("carried 1 audit record(s)"), "{}", stderr(&restore));
    let db = store::connect(&url, None).await.expect("open the restored database");
    let filter = AuditFilter { action: Some(AuditAction::AuditRetentionRun), ..AuditFilter::newest(10) };
    let records = store::audit::list(&db, &filter).await.expect("audit");
    let mut names: Vec<&str> = records.iter().filter_map(|r| r.detail["test"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["after", "elsewhere"], "{records:?}");
    let after = records.iter().find(|r| r.detail["test"] == "after").expect("carried");
    assert_eq!(after.at, then + minute, "carried unchanged");
}

/// A database at `url` with the demo data, an admin `chef` and two bookings of two people
/// ("Rita Restore" 0511 2233445, "Bleibt Bestehen" 0511 9988776), open.
async fn two_bookings_in(url: &str) -> (sea_orm::DatabaseConnection, terminbuch::domain::access::Actor, Vec<Uuid>) {
    use terminbuch::store::{self, directory};
    for args in [&["seed", "--demo"][..], &["user", "add", "--login", "chef", "--name", "C", "--role", "admin"]] {
        let output = terminbuch(url, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let db = store::connect(url, None).await.expect("open the database");
    let staff = directory::find_staff_by_login(&db, "chef").await.expect("db").expect("chef");
    let actor = directory::actor_for_staff(&db, staff.id).await.expect("db").expect("actor");
    let mut ids = Vec::new();
    for (n, (name, phone)) in
        [("Rita Restore", "0511 2233445"), ("Bleibt Bestehen", "0511 9988776")].into_iter().enumerate()
    {
        ids.push(book_adhoc(&db, &actor, n, name, phone, None).await);
    }
    (db, actor, ids)
}

/// That the restore (`output`) of the database at `url` made the erasure of the first of
/// [`two_bookings_in`]'s people again, and only that, with its record beside the carried one.
async fn assert_erased_again(output: &Output, url: &str, ids: &[Uuid]) -> sea_orm::DatabaseConnection {
    use terminbuch::store;
    assert!(output.status.success(), "{}", stderr(output));
    let said = stderr(output);
    assert!(said.contains("made 1 erasure(s) on request recorded after the backup again"), "{said}");
    let db = store::connect(url, None).await.expect("open the restored database");
    let erased = store::bookings::find(&db, ids[0]).await.expect("db").expect("the booking");
    assert!(erased.erased_at.is_some() && erased.citizen.name.is_empty() && erased.citizen.phone.is_none());
    let kept = store::bookings::find(&db, ids[1]).await.expect("db").expect("the other booking");
    assert_eq!(kept.citizen.name, "Bleibt Bestehen", "only what was erased after the backup");
    let records = erasure_records(&db).await;
    assert_eq!(records.len(), 2, "the erasure's record, carried over, and the one made again: {records:?}");
    assert_eq!(records[0].detail["after_restore"], true);
    assert_eq!(records[0].booking_ids, [ids[0]]);
    assert!(records[1].detail.get("after_restore").is_none(), "the request's own record: {:?}", records[1]);
    assert_eq!(records[1].booking_ids, [ids[0]]);
    db
}

/// Erases the first of [`two_bookings_in`]'s people on request, then closes `db`.
async fn erase_the_first_person(
    db: sea_orm::DatabaseConnection,
    actor: &terminbuch::domain::access::Actor,
    dir: &std::path::Path,
    clock: &terminbuch::clock::Clock,
) {
    use terminbuch::services::data_subject::{self, ErasureReason, Person};
    let person = Person::of(None, Some("0511 2233445"), None).expect("a person");
    let counts = data_subject::erase(&db, clock, actor, &person, ErasureReason::Request, dir).await.expect("erased");
    assert_eq!(counts.bookings, 1);
    db.close().await.expect("closed");
}

/// A backup of the SQLite database at `url` written by `terminbuch backup` to `dir/copy.db`.
fn backup_in(url: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let copy = dir.join("copy.db");
    let backup = terminbuch(url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    copy
}

/// The `data_subject_erased` records of `db`, newest first.
async fn erasure_records(db: &sea_orm::DatabaseConnection) -> Vec<terminbuch::domain::audit::AuditRecord> {
    let filter = terminbuch::domain::audit::AuditFilter {
        action: Some(terminbuch::domain::audit::AuditAction::DataSubjectErased),
        ..terminbuch::domain::audit::AuditFilter::newest(10)
    };
    terminbuch::store::audit::list(db, &filter).await.expect("audit")
}

#[tokio::test]
async fn a_restore_makes_the_erasures_recorded_after_the_backup_again() {
    // Arrange: two bookings, a backup, then one person's erasure.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let (db, actor, ids) = two_bookings_in(&url).await;
    let copy = backup_in(&url, dir.path());
    erase_the_first_person(db, &actor, dir.path(), &terminbuch::clock::Clock::System).await;

    // Act
    let restore = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert
    let db = assert_erased_again(&restore, &url, &ids).await;
    // Restoring the same backup again finds the erasure in the replaced database again.
    db.close().await.expect("closed");
    let again = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);
    assert!(again.status.success(), "{}", stderr(&again));
    // (Both records of it are found there now; making it again twice changes nothing more.)
    assert!(stderr(&again).contains("made 2 erasure(s)"), "{}", stderr(&again));
}

/// The database a restore would replace holds the only record of the erasures made since the
/// backup: when it cannot be read, the restore changes nothing and says how to go on.
#[test]
fn a_restore_that_cannot_read_the_replaced_databases_erasures_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let backup_url = format!("sqlite://{}?mode=rwc", dir.path().join("source.db").display());
    assert!(terminbuch(&backup_url, &["migrate"]).status.success());
    let copy = dir.path().join("copy.db");
    let backup = terminbuch(&backup_url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    let live = dir.path().join("live.db");
    std::fs::write(&live, b"not a database, damaged").expect("a damaged database");
    let url = format!("sqlite://{}?mode=rwc", live.display());

    let refused = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("nothing was changed"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("move that database away first"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(&live).expect("still there"), b"not a database, damaged");
    std::fs::rename(&live, dir.path().join("damaged.db")).expect("moved away");
    // With the database moved away, the restore is asked for without one to replace.
    let unsaid = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);
    assert!(!unsaid.status.success());
    assert!(stderr(&unsaid).contains("restore with --without-replaced"), "{}", stderr(&unsaid));
    assert!(!live.exists(), "nothing created");
    let restored = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8"), "--without-replaced"]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(stderr(&restored).contains("nothing recorded since the backup is carried over"), "{}", stderr(&restored));
    let header = std::fs::read(&live).expect("restored");
    assert!(header.starts_with(b"SQLite format 3\0"), "a database in its place");
    // Given while there is a database, the flag is refused: what it recorded would be lost.
    let refused = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8"), "--without-replaced"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("is for a database that is not there"), "{}", stderr(&refused));
}

/// A backup (or a retention run) of a database file that is not there is refused and creates
/// nothing: connecting would have made an empty database, and the backup of it would hold nothing
/// while saying it was written (a cron job started in another folder, a mistyped URL).
#[tokio::test]
async fn a_backup_of_a_database_that_is_not_there_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nowhere.db");
    let url = format!("sqlite://{}?mode=rwc", missing.display());
    let copy = dir.path().join("backup.db");
    let backup = terminbuch(&url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    assert!(!backup.status.success());
    assert!(stderr(&backup).contains("nothing to backup"), "{}", stderr(&backup));
    let retention = terminbuch(&url, &["retention", "run", "--dry-run"]);
    assert!(!retention.status.success());
    assert!(!missing.exists() && !copy.exists(), "no database and no backup were created");
}

/// PostgreSQL: the operator renames the database, `pg_restore`s the dump into a new one, and
/// `terminbuch restore --carry-from` carries the audit made since the dump over from the renamed
/// one and makes its erasures on request again (the README's steps, with the real `pg_dump` and
/// `pg_restore`). SQLite: the option is refused, naming `--from`.
#[tokio::test]
async fn a_postgres_restore_carries_the_audit_and_makes_the_erasures_since_the_dump_again() {
    use terminbuch::store;

    let Some(base) = std::env::var("TEST_DATABASE_URL").ok().filter(|url| url.starts_with("postgres")) else {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
        let refused = terminbuch(&url, &["restore", "--carry-from", "sqlite://other.db"]);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains("restore --from FILE"), "{}", stderr(&refused));
        assert!(!dir.path().join("live.db").exists(), "nothing opened or created");
        return;
    };
    // Arrange: a live database with two bookings, its dump, then one person's erasure.
    let admin = store::connect(&base, Some(1)).await.expect("reach PostgreSQL");
    let name = format!("carry_{}", Uuid::new_v4().simple());
    let (live_db, restored_db) = (format!("{name}_live"), format!("{name}_restored"));
    for db in [&live_db, &restored_db] {
        admin.execute_unprepared(&format!("CREATE DATABASE \"{db}\"")).await.expect("create a database");
    }
    let url_of = |db: &str| format!("{}/{db}", base.rsplit_once('/').expect("a database URL").0);
    let (live_url, restored_url) = (url_of(&live_db), url_of(&restored_db));
    let (db, actor, ids) = two_bookings_in(&live_url).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = dir.path().join("terminbuch.dump");
    let dumped = Command::new("pg_dump")
        .args(["--format=custom", "--file", dump.to_str().expect("utf-8"), &live_url])
        .output()
        .expect("run pg_dump");
    assert!(dumped.status.success(), "{}", stderr(&dumped));
    erase_the_first_person(db, &actor, dir.path(), &terminbuch::clock::Clock::System).await;
    // The restore itself: the dump into a new database (the live one stands for the renamed one).
    let restored = Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &restored_url, dump.to_str().expect("utf-8")])
        .output()
        .expect("run pg_restore");
    assert!(restored.status.success(), "{}", stderr(&restored));
    let lost = store::connect(&restored_url, None).await.expect("open the restored database");
    let back = store::bookings::find(&lost, ids[0]).await.expect("db").expect("the booking");
    assert_eq!(back.citizen.name, "Rita Restore", "the dump brings the erased person back");
    lost.close().await.expect("closed");

    // Act
    let carry = terminbuch(&restored_url, &["restore", "--carry-from", &live_url]);

    // Assert
    let db = assert_erased_again(&carry, &restored_url, &ids).await;
    db.close().await.expect("closed");
    let same = terminbuch(&restored_url, &["restore", "--carry-from", &restored_url]);
    assert!(!same.status.success() && stderr(&same).contains("DATABASE_URL itself"), "{}", stderr(&same));
    let spelled_otherwise = format!("{restored_url}?application_name=carry");
    let same = terminbuch(&restored_url, &["restore", "--carry-from", &spelled_otherwise]);
    assert!(!same.status.success() && stderr(&same).contains("spelled otherwise"), "{}", stderr(&same));
    for db in [&live_db, &restored_db] {
        admin.execute_unprepared(&format!("DROP DATABASE \"{db}\" WITH (FORCE)")).await.expect("drop a database");
    }
}

/// A restore runs the retention for today on the restored database: the backup holds what its
/// own runs had not erased yet, and the run records carried over may tell the server that
/// today's run was made (it would skip its catch-up).
#[tokio::test]
async fn a_restore_erases_what_expired_since_the_backup_at_once() {
    use sea_orm::ConnectionTrait;
    // Arrange: a backup holding a booking whose appointment ended 60 days ago (30 days' retention).
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let (db, _actor, ids) = two_bookings_in(&url).await;
    let past = "UPDATE bookings SET starts_at = datetime('now', '-60 days'), ends_at = datetime('now', '-60 days', \
                '+45 minutes') WHERE citizen_name = 'Rita Restore'";
    db.execute_unprepared(past).await.expect("an appointment long past");
    db.close().await.expect("closed");
    let copy = backup_in(&url, dir.path());

    // Act
    let restore = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert
    assert!(restore.status.success(), "{}", stderr(&restore));
    assert!(stderr(&restore).contains("on the restored database: 1 bookings erased"), "{}", stderr(&restore));
    let db = terminbuch::store::connect(&url, None).await.expect("open the restored database");
    let erased = terminbuch::store::bookings::find(&db, ids[0]).await.expect("db").expect("the booking");
    assert!(erased.erased_at.is_some() && erased.citizen.name.is_empty(), "{erased:?}");
    let kept = terminbuch::store::bookings::find(&db, ids[1]).await.expect("db").expect("the other booking");
    assert_eq!(kept.citizen.name, "Bleibt Bestehen", "a coming appointment keeps its data");
}

/// The replaced database's audit is kept for a number of days: when it no longer reaches back to
/// the backup's last record, erasures made between may be gone from it, and the restore says so.
#[tokio::test]
async fn a_restore_warns_when_the_audit_no_longer_reaches_back_to_the_backup() {
    use sea_orm::ConnectionTrait;
    // Arrange: a backup; then the live database's audit loses its older records (its retention)
    // and a person is erased.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let (db, actor, _ids) = two_bookings_in(&url).await;
    let copy = backup_in(&url, dir.path());
    // Stands in for the records aging out (the trigger keeps records within the retention).
    let aged_out = "DROP TRIGGER audit_events_keep_recent; DELETE FROM audit_events";
    db.execute_unprepared(aged_out).await.expect("the audit's older records gone");
    // The erasure a minute after the backup's last record.
    let later = terminbuch::clock::Clock::fixed(chrono::Utc::now() + chrono::TimeDelta::minutes(1));
    erase_the_first_person(db, &actor, dir.path(), &later).await;

    // Act
    let restore = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert
    assert!(restore.status.success(), "{}", stderr(&restore));
    let said = stderr(&restore);
    assert!(said.contains("audit reaches back only to") && said.contains("by hand"), "{said}");
    assert!(said.contains("made 1 erasure(s)"), "the erasure still recorded is made again: {said}");
}

/// A retention shortened after the backup (90 → 30 days) stays shortened in the restored
/// database: the restore's run then erases what the shorter retention no longer allows, as the
/// replaced database's runs did, instead of keeping it 60 more days.
#[tokio::test]
async fn a_restore_keeps_a_retention_shortened_after_the_backup() {
    use sea_orm::ConnectionTrait;
    use terminbuch::clock::Clock;
    use terminbuch::services::retention;
    use terminbuch::store::{self, directory};
    // Arrange: 90 days' retention and an appointment that ended 45 days ago, backed up; then the
    // retention is shortened to 30 days.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let (db, actor, ids) = two_bookings_in(&url).await;
    for sql in [
        "UPDATE units SET retention_days = 90 WHERE slug = 'ads'",
        "UPDATE bookings SET starts_at = datetime('now', '-45 days'), ends_at = datetime('now', '-45 days', \
         '+45 minutes') WHERE citizen_name = 'Rita Restore'",
    ] {
        db.execute_unprepared(sql).await.expect("the backup's state");
    }
    db.close().await.expect("closed");
    let copy = backup_in(&url, dir.path());
    let db = store::connect(&url, None).await.expect("open the database");
    let unit = directory::find_unit(&db, "ads").await.expect("db").expect("ads");
    retention::set_retention_days(&db, &Clock::System, &actor, &unit, 30, None).await.expect("shortened");
    db.close().await.expect("closed");

    // Act
    let restore = terminbuch(&url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert
    let said = stderr(&restore);
    assert!(restore.status.success(), "{said}");
    assert!(said.contains(&format!("unit #{}: retention 90 → 30 days", unit.id.get())), "{said}");
    let db = store::connect(&url, None).await.expect("open the restored database");
    let restored = directory::find_unit(&db, "ads").await.expect("db").expect("ads");
    assert_eq!(restored.retention_days, 30);
    let erased = store::bookings::find(&db, ids[0]).await.expect("db").expect("the booking");
    assert!(erased.erased_at.is_some() && erased.citizen.name.is_empty(), "{erased:?}");
    let kept = store::bookings::find(&db, ids[1]).await.expect("db").expect("the other booking");
    assert_eq!(kept.citizen.name, "Bleibt Bestehen", "a coming appointment keeps its data");
    let filter = terminbuch::domain::audit::AuditFilter {
        action: Some(terminbuch::domain::audit::AuditAction::UnitChanged),
        ..terminbuch::domain::audit::AuditFilter::newest(10)
    };
    let records = store::audit::list(&db, &filter).await.expect("audit");
    assert!(
        records.iter().any(|r| r.detail["after_restore"] == true && r.detail["retention_days"]["new"] == 30),
        "the change is audited: {records:?}"
    );
}
