//! A restore keeps access taken away after the backup taken away: a colleague deactivated since
//! stays deactivated (their tokens revoked), a revoked token stays revoked, a removed role stays
//! removed, a changed password or second factor stays changed, a used or voided reset link stays
//! so, and the backup's web sessions end. Grants made since are named, not restored. On SQLite
//! through `terminbuch restore --from`, on PostgreSQL through `pg_dump`, `pg_restore` and
//! `terminbuch restore --carry-from` (the README's steps), where a `--carry-from` run after
//! something (a server's start) wrote to the restored database is refused, changing nothing.

use std::process::Command;

use chrono::{TimeDelta, Utc};
use entity::{password_reset, session, staff, staff_totp};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::backup::terminbuch;
use crate::cli_db::CliDb;

/// Runs the command and returns its stdout; it must succeed.
fn ok(db_url: &str, args: &[&str]) -> String {
    let output = terminbuch(db_url, args);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {said}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn add(db_url: &str, login: &str, role: &str, unit: &str) {
    let args = ["--login", login, "--name", login, "--role", role, "--unit", unit];
    let added = crate::cli_accounts::add_with_password(db_url, &args, "Kastanienallee im Herbstlaub");
    assert!(added.status.success(), "{login}: {}", String::from_utf8_lossy(&added.stderr));
}

async fn person(db: &sea_orm::DatabaseConnection, login: &str) -> staff::Model {
    staff::Entity::find().filter(staff::Column::Login.eq(login)).one(db).await.expect("db").expect("the person")
}

/// The people and access of the live database before its backup: `leaver` (front desk, with a
/// token), `chef` (admin, with a token), `lead2` (lead of ads), `keeper` (counsellor with an
/// unused reset link), and a web session.
async fn before_the_backup(url: &str) -> sea_orm::DatabaseConnection {
    ok(url, &["seed", "--demo"]);
    add(url, "chef", "admin", "ads");
    add(url, "leaver", "front_desk", "ads");
    add(url, "lead2", "unit_lead", "ads");
    add(url, "keeper", "counsellor", "ads");
    for login in ["leaver", "chef"] {
        assert!(ok(url, &["token", "create", "--login", login]).starts_with("tb_"));
    }
    ok(url, &["user", "reset-password", "--login", "keeper"]);
    let db = terminbuch::store::connect(url, None).await.expect("open the live database");
    let web = session::ActiveModel {
        id: Set("a-session-of-the-backups-time".to_owned()),
        data: Set("{}".to_owned()),
        expires_at: Set(Utc::now() + TimeDelta::days(1)),
    };
    web.insert(&db).await.expect("a web session");
    let chef = person(&db, "chef").await;
    let factor = staff_totp::ActiveModel {
        staff_id: Set(chef.id),
        secret: Set("KRSXG5CTMVRXEZLU".to_owned()),
        enabled_at: Set(Utc::now()),
        last_step: Set(Some(1)),
    };
    factor.insert(&db).await.expect("chef's second factor");
    db
}

/// What the live database takes away (and grants) after the backup.
async fn after_the_backup(url: &str, db: &sea_orm::DatabaseConnection) {
    ok(url, &["user", "deactivate", "--login", "leaver"]);
    let chef = person(db, "chef").await;
    let chefs = terminbuch::store::directory::list_tokens(db, terminbuch::domain::ids::StaffId::new(chef.id), None)
        .await
        .expect("chef's tokens");
    ok(url, &["token", "revoke", "--id", &chefs[0].id.to_string()]);
    // Chef logs in with the second factor: its last accepted step moves on, nothing else.
    let used = staff_totp::ActiveModel { staff_id: Set(chef.id), last_step: Set(Some(2)), ..Default::default() };
    used.update(db).await.expect("a code accepted");
    ok(url, &["user", "remove-role", "--login", "lead2", "--role", "unit_lead", "--unit", "ads"]);
    add(url, "lead2", "counsellor", "sdr");
    // A new password and a second factor, as a compromise would make them.
    let keeper = person(db, "keeper").await;
    let id = terminbuch::domain::ids::StaffId::new(keeper.id);
    terminbuch::store::directory::set_password(db, id, "changed after the backup".to_owned(), false)
        .await
        .expect("a new password");
    let factor = staff_totp::ActiveModel {
        staff_id: Set(keeper.id),
        secret: Set("JBSWY3DPEHPK3PXP".to_owned()),
        enabled_at: Set(Utc::now()),
        last_step: Set(None),
    };
    factor.insert(db).await.expect("a second factor");
    // A second link voids the first (in the backup, still unused).
    ok(url, &["user", "reset-password", "--login", "keeper"]);
    add(url, "newbie", "front_desk", "ads");
}

/// That `restored` (the restored database, as `restore` left it, said in `said`) kept what the
/// live database took away after the backup.
async fn assert_access_kept_away(url: &str, said: &str) {
    let db = terminbuch::store::connect(url, None).await.expect("open the restored database");
    let leaver = person(&db, "leaver").await;
    assert!(!leaver.active, "deactivated again: {said}");
    assert!(said.contains("deactivated 1 person(s) again") && said.contains("leaver"), "{said}");
    let list = ok(url, &["token", "list", "--login", "leaver"]);
    assert!(list.lines().skip(1).all(|l| l.contains("revoked")) && list.lines().count() > 1, "{list}");
    let list = ok(url, &["token", "list", "--login", "chef"]);
    assert!(list.lines().skip(1).all(|l| l.contains("revoked")) && list.lines().count() > 1, "{list}");
    let lead2 = terminbuch::store::directory::find_staff_by_login(&db, "lead2").await.expect("db").expect("lead2");
    assert!(lead2.memberships.is_empty(), "the role taken away stays away, the one given is not restored");
    let keeper = person(&db, "keeper").await;
    assert_eq!(keeper.password_hash.as_deref(), Some("changed after the backup"), "the backup's password is gone");
    assert!(staff_totp::Entity::find_by_id(keeper.id).one(&db).await.expect("db").is_some(), "the second factor");
    let links = password_reset::Entity::find()
        .filter(password_reset::Column::StaffId.eq(keeper.id))
        .all(&db)
        .await
        .expect("links");
    assert_eq!(links.len(), 1, "the backup's link");
    assert!(links[0].used_at.is_some(), "voided as after the backup");
    assert_eq!(session::Entity::find().all(&db).await.expect("sessions").len(), 0, "everyone logs in again");
    assert!(said.contains("added after the backup") && said.contains("newbie"), "{said}");
    assert!(said.contains("lead2 (role in a unit)"), "the grant is named: {said}");
    let chef = person(&db, "chef").await;
    assert!(chef.active && chef.is_admin, "nothing else is taken away");
    let factor = staff_totp::Entity::find_by_id(chef.id).one(&db).await.expect("db").expect("chef's factor");
    assert_eq!(factor.last_step, Some(2), "a code accepted since is not accepted again");
    assert!(!said.contains("backup's no longer works): chef") && !said.contains(", chef"), "only used: {said}");
    // The restore itself is recorded, as the operator's act, with what it kept away.
    use terminbuch::domain::audit::{AuditAction, AuditFilter};
    let filter = AuditFilter { action: Some(AuditAction::DatabaseRestored), ..AuditFilter::newest(10) };
    let records = terminbuch::store::audit::list(&db, &filter).await.expect("audit");
    assert_eq!(records.len(), 1, "{records:?}");
    let detail = &records[0].detail;
    assert_eq!(detail["by"], "operator");
    assert_eq!(detail["access"]["deactivated"], serde_json::json!(["leaver"]), "{detail}");
    assert_eq!(detail["access"]["credentials"], serde_json::json!(["keeper"]), "{detail}");
    assert!(detail["audit_records_carried"].as_u64().is_some_and(|n| n > 0), "{detail}");
    db.close().await.expect("closed");
}

#[tokio::test]
async fn a_restore_keeps_access_taken_away_after_the_backup_away() {
    let db = CliDb::create();
    if db.is_postgres() {
        return restore_on_postgres(&db).await;
    }
    // Arrange
    let live = before_the_backup(&db.url).await;
    let copy = db.dir.path().join("copy.db");
    ok(&db.url, &["backup", "--to", copy.to_str().expect("utf-8")]);
    after_the_backup(&db.url, &live).await;
    live.close().await.expect("closed");

    // Act
    let restore = terminbuch(&db.url, &["restore", "--from", copy.to_str().expect("utf-8")]);

    // Assert
    let said = String::from_utf8_lossy(&restore.stderr).into_owned();
    assert!(restore.status.success(), "{said}");
    assert_access_kept_away(&db.url, &said).await;
}

/// The README's PostgreSQL steps: dump, the changes after it, a new database filled from the
/// dump, `restore --carry-from` the replaced one.
async fn restore_on_postgres(live_db: &CliDb) {
    // Arrange
    let live = before_the_backup(&live_db.url).await;
    let dump = live_db.dir.path().join("terminbuch.dump");
    let dumped = Command::new("pg_dump")
        .args(["--format=custom", "--file", dump.to_str().expect("utf-8"), &live_db.url])
        .output()
        .expect("run pg_dump");
    assert!(dumped.status.success(), "{}", String::from_utf8_lossy(&dumped.stderr));
    after_the_backup(&live_db.url, &live).await;
    live.close().await.expect("closed");
    let filled_from_the_dump = || {
        let restored = CliDb::create();
        let filled = Command::new("pg_restore")
            .args(["--no-owner", "--dbname", &restored.url, dump.to_str().expect("utf-8")])
            .output()
            .expect("run pg_restore");
        assert!(filled.status.success(), "{}", String::from_utf8_lossy(&filled.stderr));
        restored
    };
    // The wrong order first: something (a server's start, here a retention run) wrote to the
    // restored database before the carry. Its records would hide which of the replaced
    // database's came after the dump: refused, nothing changed.
    let used = filled_from_the_dump();
    ok(&used.url, &["retention", "run"]);
    let refused = terminbuch(&used.url, &["restore", "--carry-from", &live_db.url]);
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success(), "refused: {said}");
    assert!(said.contains("ran on the restored database") && said.contains("nothing was changed"), "{said}");
    let db = terminbuch::store::connect(&used.url, None).await.expect("open the used copy");
    assert!(person(&db, "leaver").await.active, "nothing was changed");
    assert_eq!(session::Entity::find().all(&db).await.expect("sessions").len(), 1, "nothing was changed");
    db.close().await.expect("closed");
    let restored = filled_from_the_dump();

    // Act
    let carry = terminbuch(&restored.url, &["restore", "--carry-from", &live_db.url]);

    // Assert
    let said = String::from_utf8_lossy(&carry.stderr).into_owned();
    assert!(carry.status.success(), "{said}");
    assert_access_kept_away(&restored.url, &said).await;
    // A second run finds the restored database written to since (by the first): refused.
    let again = terminbuch(&restored.url, &["restore", "--carry-from", &live_db.url]);
    assert!(!again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}
