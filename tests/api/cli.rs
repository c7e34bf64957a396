//! The operator contract: the `terminbuch` binary's commands, run as operators' scripts run them.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli_db::CliDb;

fn terminbuch(db_url: &str, args: &[&str]) -> std::process::Output {
    terminbuch_with(db_url, args, &[])
}

/// Runs the binary on `db_url` with the environment variables `env` set.
fn terminbuch_with(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_terminbuch"));
    command.args(args).env("DATABASE_URL", db_url).env_remove("TERMINBUCH_LISTEN").env_remove("TERMINBUCH_SMTP_HOST");
    for (variable, value) in env {
        command.env(variable, value);
    }
    command.output().expect("run terminbuch")
}

/// A database of the test's own on the engine under test, its URL and a folder of its own.
fn temp_db() -> (CliDb, String) {
    let db = CliDb::create();
    let url = db.url.clone();
    (db, url)
}

#[test]
fn migrate_seed_user_token_and_slots_commands_work_as_documented() {
    let (_db, url) = temp_db();
    assert!(terminbuch(&url, &["migrate"]).status.success());
    let first = terminbuch(&url, &["seed", "--demo"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("7 units"));
    let again = terminbuch(&url, &["seed", "--demo"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 units, 0 staff, 0 counselling hours"), "idempotent");

    let mut add = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args([
            "user",
            "add",
            "--login",
            "empfang",
            "--name",
            "Empfang ADS",
            "--role",
            "front_desk",
            "--unit",
            "ads",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"ein langes Passwort\n").unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(added.stdout.is_empty(), "no password printed when it came from stdin");

    let generated = terminbuch(
        &url,
        &["user", "add", "--login", "leitung", "--name", "Leitung", "--role", "unit_lead", "--unit", "sdr"],
    );
    assert!(generated.status.success());
    assert!(String::from_utf8_lossy(&generated.stdout).trim().len() >= 10, "generated password printed");

    let bad_role = terminbuch(&url, &["user", "add", "--login", "x", "--name", "X", "--role", "boss"]);
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("--role"));

    let token = terminbuch(&url, &["token", "create", "--login", "empfang"]);
    assert!(token.status.success());
    let printed = String::from_utf8(token.stdout).unwrap();
    assert_eq!(printed.lines().count(), 1, "only the token");
    assert!(printed.starts_with("tb_"));
    assert!(!terminbuch(&url, &["token", "create", "--login", "nobody"]).status.success());

    let slots = terminbuch(&url, &["slots", "generate", "--until", "2027-06-30"]);
    assert!(slots.status.success(), "{}", String::from_utf8_lossy(&slots.stderr));
    assert!(String::from_utf8_lossy(&slots.stderr).contains("slots up to 2027-06-30"));
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_variable() {
    let (_db, url) = temp_db();
    let output = terminbuch_with(&url, &["migrate"], &[("TERMINBUCH_LISTEN", "not-an-address")]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("TERMINBUCH_LISTEN"));
    let output = terminbuch_with(&url, &["migrate"], &[("TERMINBUCH_TIME_ZONE", "Mars/Olympus")]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("TERMINBUCH_TIME_ZONE"));
    for (variable, value) in [
        ("TERMINBUCH_SLOT_HORIZON_WEEKS", "0"),
        ("TERMINBUCH_MAIL_RETRY_HORIZON_HOURS", "lange"),
        ("TERMINBUCH_DEMO_SEED", "vielleicht"),
    ] {
        let output = terminbuch_with(&url, &["migrate"], &[(variable, value)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}={value} is refused");
        assert!(stderr.contains(variable) && stderr.contains(value), "{variable}: {stderr}");
    }
}

#[test]
fn an_empty_or_malformed_public_url_or_mail_server_stops_start_up_naming_the_variable() {
    // Each was taken as it was: the citizens' links in emails read `/t/…` or
    // `termine.example.org/t/…`, and every email was retried towards a server that cannot exist.
    let (_db, url) = temp_db();
    for (variable, value) in [
        ("TERMINBUCH_PUBLIC_URL", ""),
        ("TERMINBUCH_PUBLIC_URL", "termine.example.org"),
        ("TERMINBUCH_PUBLIC_URL", "https://termine example.org"),
        ("TERMINBUCH_SMTP_HOST", ""),
        ("TERMINBUCH_SMTP_HOST", "mail.example.org:587"),
        ("TERMINBUCH_SMTP_HOST", "smtp://mail.example.org"),
        ("TERMINBUCH_SMTP_PORT", "0"),
    ] {
        let output = terminbuch_with(&url, &["migrate"], &[(variable, value)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}={value:?} is refused: {stderr}");
        assert!(stderr.contains(&format!("{variable} (environment variable)")), "{variable}={value:?}: {stderr}");
    }
    for (variable, value) in
        [("TERMINBUCH_PUBLIC_URL", "https://termine.example.org/"), ("TERMINBUCH_SMTP_HOST", "::1")]
    {
        let output = terminbuch_with(&url, &["migrate"], &[(variable, value)]);
        assert!(output.status.success(), "{variable}={value:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn a_bad_rust_log_stops_start_up_naming_it() {
    // It fell back to `info` silently: an operator asking for debug lines got none, unaware.
    let (_db, url) = temp_db();
    let output = terminbuch_with(&url, &["migrate"], &[("RUST_LOG", "terminbuch=debugg")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {stderr}");
    assert!(stderr.contains("RUST_LOG") && stderr.contains("terminbuch=debugg"), "{stderr}");
    let fine = terminbuch_with(&url, &["migrate"], &[("RUST_LOG", "info,terminbuch=debug")]);
    assert!(fine.status.success(), "{}", String::from_utf8_lossy(&fine.stderr));
}

#[cfg(unix)]
#[test]
fn a_new_sqlite_database_and_its_folder_are_readable_by_the_service_alone() {
    use std::os::unix::fs::PermissionsExt;
    // Arrange: the default layout, `data/terminbuch.db`, not there yet.
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("data");
    let file = folder.join("terminbuch.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());

    // Act
    let output = terminbuch(&url, &["migrate"]);

    // Assert: the citizens' data are not world-readable (as `.eml` files and backups are not).
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700, "the folder");
    for name in ["terminbuch.db", "terminbuch.db-wal"] {
        let path = folder.join(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    assert!(file.exists());
}

#[test]
fn a_data_folder_that_cannot_take_the_eml_files_stops_the_email_sender_naming_it() {
    // Without a mail server every email is an `.eml` file there; each was retried for two days
    // and then marked failed, while the sender started and reported nothing wrong.
    let (db, url) = temp_db();
    let dir = &db.dir;
    let not_a_folder = dir.path().join("a-file");
    std::fs::write(&not_a_folder, b"").expect("a file");
    let data_dir = not_a_folder.join("data");
    let output = terminbuch_with(
        &url,
        &["mail", "dispatch", "--once"],
        &[("TERMINBUCH_DATA_DIR", data_dir.to_str().expect("utf-8"))],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {stderr}");
    assert!(stderr.contains("TERMINBUCH_DATA_DIR"), "{stderr}");
    let fine = terminbuch_with(
        &url,
        &["mail", "dispatch", "--once"],
        &[("TERMINBUCH_DATA_DIR", dir.path().join("data").to_str().expect("utf-8"))],
    );
    assert!(fine.status.success(), "{}", String::from_utf8_lossy(&fine.stderr));
    assert!(dir.path().join("data").join("mail").is_dir());
}

#[test]
fn slots_are_generated_at_most_two_years_ahead() {
    // A typo (2207 for 2027, 9999) stored slots for centuries: minutes to hours of work, a file
    // of gigabytes, and every later refresh and change of hours walking them.
    let (_db, url) = temp_db();
    assert!(terminbuch(&url, &["seed", "--demo"]).status.success());
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    let too_far = (today + chrono::Days::new(105 * 7)).format("%Y-%m-%d").to_string();
    for until in [too_far.as_str(), "2207-06-30", "9999-12-31"] {
        let refused = terminbuch(&url, &["slots", "generate", "--until", until]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "--until {until} is refused: {stderr}");
        assert!(stderr.contains("--until") && stderr.contains("104 weeks"), "{until}: {stderr}");
    }
    let yesterday = (today - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    let past = terminbuch(&url, &["slots", "generate", "--until", &yesterday]);
    let said = String::from_utf8_lossy(&past.stderr);
    assert!(!past.status.success() && said.contains("in the past"), "a past day is refused: {said}");
    let fine = (today + chrono::Days::new(26 * 7)).format("%Y-%m-%d").to_string();
    let generated = terminbuch(&url, &["slots", "generate", "--until", &fine]);
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
}

#[test]
fn first_start_prints_the_url_and_a_one_time_admin_credential_and_serves() {
    let (db, url) = temp_db();
    let dir = &db.dir;
    // Port 0: the system picks a free one, and the start names it.
    let mut server = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .env("DATABASE_URL", &url)
        .env("TERMINBUCH_LISTEN", "127.0.0.1:0")
        .env("TERMINBUCH_DEMO_SEED", "true")
        .env("TERMINBUCH_DATA_DIR", dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let done = line.contains("Passwort / password");
        seen.push(line);
        if done {
            break;
        }
    }
    let text = seen.join("\n");
    let address = text
        .split_once("is running: http://")
        .and_then(|(_, rest)| rest.split(['/', '\n']).next())
        .unwrap_or_else(|| panic!("the URL is printed: {text}"));
    assert!(address.starts_with("127.0.0.1:"), "{text}");
    assert!(text.contains("Login: admin"), "{text}");
    let password = seen.last().unwrap().rsplit(' ').next().unwrap().to_owned();
    assert!(password.len() >= 16);
    // The printed address serves this server's health check.
    let mut health = std::net::TcpStream::connect(address).expect("serving");
    health.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    std::io::Write::write_all(&mut health, b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut health, &mut answer).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "{answer}");
    server.kill().unwrap();
    server.wait().unwrap();
    // A second start finds the admin and prints no credential again.
    let token = terminbuch(&url, &["token", "create", "--login", "admin"]);
    assert!(token.status.success());
}

/// `terminbuch migrate` takes the start-up turn on PostgreSQL, and each migration's write lock on
/// SQLite: two at once (one per replica, or one beside a starting server) both succeed, the
/// migrations applied once.
#[tokio::test]
async fn two_migrations_at_once_take_turns() {
    use migration::{Migrator, MigratorTrait};
    let db = crate::test_db::TestDb::create().await;
    let other = db.another_pool().await;
    let (one, two) = tokio::join!(terminbuch::startup::migrate(&db.conn), terminbuch::startup::migrate(&other));
    one.expect("the first migration run");
    two.expect("the second migration run, beside the first");
    assert!(Migrator::get_pending_migrations(&db.conn).await.expect("pending").is_empty());
    assert_eq!(Migrator::get_applied_migrations(&db.conn).await.expect("applied").len(), Migrator::migrations().len());
}

/// A migration that fails halfway leaves nothing of it behind on either engine (on SQLite each
/// migration runs in a write transaction of the service's own), and the next start applies it.
#[tokio::test]
async fn a_migration_that_fails_halfway_leaves_nothing_behind_and_the_next_start_applies_it() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let db = crate::test_db::TestDb::create().await;
    let audit = "m20261202_160100_append_only_audit";
    let before = Migrator::migrations().iter().position(|m| m.name() == audit).expect("the audit's migration");
    Migrator::up(&db.conn, Some(u32::try_from(before).unwrap())).await.expect("the migrations before it");
    // Something in the way of the migration's fourth statement, after its table, its row and
    // (SQLite) two triggers.
    let (blocker, away) = if db.is_postgres() {
        (
            "CREATE FUNCTION audit_keep_recent() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
            "DROP FUNCTION audit_keep_recent()",
        )
    } else {
        (
            "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events BEGIN SELECT 1; END",
            "DROP TRIGGER audit_events_no_replace",
        )
    };
    db.conn.execute_unprepared(blocker).await.expect("the obstacle");

    let failed = terminbuch::startup::migrate(&db.conn).await;

    let error = format!("{:#}", failed.expect_err("the migration fails"));
    assert!(error.contains("already exists"), "{error}");
    assert!(
        db.conn.execute_unprepared("SELECT days FROM audit_retention").await.is_err(),
        "the failed migration's table is not left behind"
    );
    let applied = Migrator::get_applied_migrations(&db.conn).await.expect("applied");
    assert_eq!(applied.len(), before, "the failed migration is not recorded");
    // The obstacle removed, the next start applies it and every later one.
    db.conn.execute_unprepared(away).await.expect("the obstacle removed");
    terminbuch::startup::migrate(&db.conn).await.expect("the next start");
    assert!(Migrator::get_pending_migrations(&db.conn).await.expect("pending").is_empty());
    let row = db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT days FROM audit_retention WHERE id = 1",
        ))
        .await
        .expect("the migration's table")
        .expect("its row");
    assert_eq!(row.try_get_by_index::<i32>(0).expect("days"), 730);
}

/// A database that cannot be opened is named for what the database or the network said, once:
/// not "the database is busy" (a refused connection), nor the driver's source line twice.
#[test]
fn a_database_that_cannot_be_opened_is_named_for_its_reason() {
    let (db, url) = temp_db();
    let (missing, reason) = if db.is_postgres() {
        (format!("{}_not_there", url.split('?').next().expect("a URL")), "does not exist")
    } else {
        let folder = db.dir.path().join("a-folder");
        std::fs::create_dir(&folder).expect("a folder");
        (format!("sqlite://{}?mode=rwc", folder.display()), "unable to open database file")
    };

    let output = terminbuch(&missing, &["migrate"]);

    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("cannot open the database") && said.contains(reason), "{said}");
    assert_eq!(said.matches(reason).count(), 1, "said once: {said}");
    assert!(!said.contains("busy") && !said.contains(" at line "), "{said}");
}

/// A PostgreSQL server that cannot be reached is named for what the network said (a refused
/// connection), from the first attempt: not the pool's "no connection was opened in time", which
/// came only after its 30 s of retrying. Needs no server: nothing listens on port 1.
#[test]
fn an_unreachable_postgresql_server_is_named_for_its_reason() {
    let output = terminbuch("postgres://postgres@127.0.0.1:1/terminbuch", &["migrate"]);

    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("cannot be reached") && said.contains("refused"), "{said}");
    assert!(!said.contains("in time"), "{said}");
}

/// A URL the service cannot use is refused before anything is opened, naming what is wrong, and
/// a password in it is never shown, in the user part or as a query parameter: a PostgreSQL URL
/// without a database name (it created the whole schema in the `postgres` maintenance database),
/// and a scheme the service does not speak. Needs no server.
#[test]
fn a_database_url_without_a_database_or_of_another_kind_is_refused_and_its_password_not_shown() {
    for (url, reason) in [
        ("postgres://postgres:Secret9@127.0.0.1:1", "names no database"),
        ("postgres://postgres@127.0.0.1:1/?password=Secret9", "names no database"),
        ("mysql://tb:Secret9@127.0.0.1:1/tb", "`mysql:` is not supported"),
        ("postgres://postgres@127.0.0.1:1/tb?sslmode=disable&password=Secret9", "cannot be reached"),
    ] {
        let output = terminbuch(url, &["migrate"]);

        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{url}");
        assert!(said.contains(reason), "{url}: {said}");
        assert!(!said.contains("Secret9") && said.contains("***"), "{url}: {said}");
    }
}
