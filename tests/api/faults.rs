//! Faults on the write path: SQLite on a small tmpfs that fills up under a burst of bookings.
//! Mounting needs root (as in CI): under `CI=true` a failed mount fails the test; elsewhere the
//! test skips with a message saying so, like the browser tests without a browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{booking_body, spawn_app_on};
use crate::test_db::TestDb;

/// A tmpfs mounted on a temporary folder, lazily unmounted when dropped (the server that still
/// runs on it keeps its files until it ends).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (with a message) where mounting is not allowed, outside CI.
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = format!("size={size}");
        let status = Command::new("mount").args(["-t", "tmpfs", "-o", &options, "tmpfs"]).arg(dir.path()).status();
        if status.is_ok_and(|s| s.success()) {
            return Some(Self { dir });
        }
        let message = "mounting a tmpfs needs root (CI runs as root): run the tests as root, or in a container \
                       allowed to mount";
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{message}");
        eprintln!("\n!!!!!!!!!! skipped: {message} !!!!!!!!!!\n");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets the size to what is used now plus `spare` bytes.
    fn leave_free(&self, spare: u64) {
        let used: u64 = std::fs::read_dir(self.path())
            .expect("list the tmpfs")
            .map(|entry| entry.expect("an entry").metadata().expect("metadata").len())
            .sum();
        self.resize(&format!("{}k", (used + spare).div_ceil(4096) * 4));
    }

    fn resize(&self, size: &str) {
        let options = format!("remount,size={size}");
        let status = Command::new("mount").args(["-o", &options]).arg(self.path()).status().expect("mount");
        assert!(status.success(), "resizing the tmpfs to {size}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// Bookings sent at once, a wave at a time, until the disk refuses one.
const WAVE: usize = 8;

#[tokio::test]
async fn a_disk_filling_up_under_a_burst_keeps_every_201_answers_the_rest_503_and_recovers() {
    // Arrange: the server on SQLite in a tmpfs with room for a few groups of bookings. The
    // write-ahead log is emptied first, so the room left is what the bookings have (the sweep the
    // server runs at start empties it too, at a moment of its own).
    let Some(tmpfs) = Tmpfs::mount("256m") else { return };
    let app = spawn_app_on(TestDb::sqlite_in(tmpfs.path()).await).await;
    let mut slots = Vec::new();
    for unit in ["ads", "sdr", "suedosteuropa", "esf"] {
        slots.extend(app.free_slots(unit, "limit=100").await.iter().map(|s| s["slot_id"].as_i64().expect("id")));
    }
    let spare_slot = slots.pop().expect("a slot for after the fault");
    assert!(terminbuch::services::retention::compact(&app.db).await, "the write-ahead log emptied");
    let before = stored_bookings(&app.db).await;
    tmpfs.leave_free(ROOM);

    // Act: waves of bookings sent at once fill the disk.
    let mut created = Vec::new();
    let mut refused = 0;
    for wave in slots.chunks(WAVE) {
        let bodies: Vec<_> = wave.iter().map(|&slot| booking_body(slot)).collect();
        for response in join_all(bodies.iter().map(|body| app.post_booking(body))).await {
            match response.status() {
                StatusCode::CREATED => created.push(response.json::<serde_json::Value>().await.expect("json")),
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(response.headers().contains_key("retry-after"), "a 503 says when to try again");
                    let problem: serde_json::Value = response.json().await.expect("problem");
                    assert_eq!(problem["code"], "database_busy", "{problem}");
                    refused += 1;
                }
                other => panic!(
                    "every booking is either created or refused with 503, not {other}: {}",
                    response.text().await.unwrap_or_default()
                ),
            }
        }
        if refused > 0 {
            break;
        }
    }
    assert!(refused > 0, "the bookings filled the disk ({} created)", created.len());
    assert!(!created.is_empty(), "bookings were made before the disk was full ({refused} refused)");
    tmpfs.resize("256m");
    let after = app.post_booking(&booking_body(spare_slot)).await;

    // Assert: after the space was freed the next booking is made; every 201 is kept, and nothing
    // of a refused one.
    assert_eq!(
        after.status(),
        StatusCode::CREATED,
        "booking again after the space was freed: {}",
        after.text().await.unwrap_or_default()
    );
    for booking in &created {
        let id = booking["id"].as_str().expect("an id");
        assert_eq!(app.get_booking(id).await.status(), StatusCode::OK, "booking {id} answered 201 is stored");
    }
    assert_eq!(stored_bookings(&app.db).await, before + created.len() as i64 + 1, "the refused bookings left no row");
    let backend = app.db.get_database_backend();
    let check = Statement::from_string(backend, "PRAGMA integrity_check".to_owned());
    let row = app.db.query_one_raw(check).await.expect("integrity check").expect("a row");
    assert_eq!(row.try_get::<String>("", "integrity_check").expect("text"), "ok");
    let path: PathBuf = tmpfs.path().join("test.db");
    assert!(path.exists());
}

/// The free room left on the tmpfs for the bookings: a few groups' worth of log frames.
const ROOM: u64 = 512 * 1024;

async fn stored_bookings(db: &sea_orm::DatabaseConnection) -> i64 {
    let count = Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM bookings".to_owned());
    let row = db.query_one_raw(count).await.expect("count the bookings").expect("a row");
    row.try_get::<i64>("", "n").expect("a number")
}
