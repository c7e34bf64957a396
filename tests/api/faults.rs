//! Faults on the write path: SQLite on a small tmpfs that fills up under a burst of bookings.
//! Mounting needs root (as in CI); elsewhere the test fails with a message saying so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = format!("size={size}");
        let status = Command::new("mount").args(["-t", "tmpfs", "-o", &options, "tmpfs"]).arg(dir.path()).status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "mounting a tmpfs needs root (CI runs as root): run the tests as root, or in a container allowed to mount"
        );
        Self { dir }
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

#[tokio::test]
async fn a_disk_filling_up_under_a_burst_keeps_every_201_answers_the_rest_503_and_recovers() {
    // Arrange: the server on SQLite in a tmpfs with hardly any room left.
    let tmpfs = Tmpfs::mount("256m");
    let app = spawn_app_on(TestDb::sqlite_in(tmpfs.path()).await).await;
    let mut slots = Vec::new();
    for unit in ["ads", "sdr", "suedosteuropa", "esf"] {
        slots.extend(app.free_slots(unit, "limit=100").await.iter().map(|s| s["slot_id"].as_i64().expect("id")));
    }
    let spare_slot = slots.pop().expect("a slot for after the fault");
    tmpfs.leave_free(48 * 1024);

    // Act: a burst of bookings fills the disk.
    let bodies: Vec<_> = slots.iter().map(|&slot| booking_body(slot)).collect();
    let responses = join_all(bodies.iter().map(|body| app.post_booking(body))).await;
    let mut created = Vec::new();
    let mut refused = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created.push(response.json::<serde_json::Value>().await.expect("json")),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(response.headers().contains_key("retry-after"), "a 503 says when to try again");
                let problem: serde_json::Value = response.json().await.expect("problem");
                assert_eq!(problem["code"], "database_busy");
                refused += 1;
            }
            other => panic!("every booking is either created or refused with 503, not {other}"),
        }
    }
    tmpfs.resize("256m");
    let freed = Instant::now();
    let after = app.post_booking(&booking_body(spare_slot)).await;

    // Assert: the disk did fill; after it was freed the service books at once; every 201 is kept.
    assert!(refused > 0, "the burst filled the disk ({} created)", created.len());
    assert_eq!(after.status(), StatusCode::CREATED, "booking again after the space was freed");
    assert!(freed.elapsed() < Duration::from_secs(5), "recovered within 5 s");
    for booking in &created {
        let id = booking["id"].as_str().expect("an id");
        assert_eq!(app.get_booking(id).await.status(), StatusCode::OK, "booking {id} answered 201 is stored");
    }
    let backend = app.db.get_database_backend();
    let check = Statement::from_string(backend, "PRAGMA integrity_check".to_owned());
    let row = app.db.query_one_raw(check).await.expect("integrity check").expect("a row");
    assert_eq!(row.try_get::<String>("", "integrity_check").expect("text"), "ok");
    let path: PathBuf = tmpfs.path().join("test.db");
    assert!(path.exists());
}
