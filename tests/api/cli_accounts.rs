//! The operator's account commands, run as operators' scripts run them: `user list`,
//! `deactivate`, `activate`, `remove-role`, `reset-password`, `reset-mfa`, a role added to an
//! existing login, and `token create|list|revoke`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::cli_db::CliDb;

fn terminbuch(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env_remove("TERMINBUCH_LISTEN")
        .env_remove("TERMINBUCH_PUBLIC_URL")
        .output()
        .expect("run terminbuch")
}

fn ok(output: &Output) -> (String, String) {
    let (out, err) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "stdout: {out}\nstderr: {err}");
    (out, err)
}

pub(crate) fn add_with_password(url: &str, args: &[&str], password: &str) -> Output {
    let mut add = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args(["user", "add"])
        .args(args)
        .arg("--password-stdin")
        .env("DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run terminbuch");
    add.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write the password");
    add.wait_with_output().expect("terminbuch ends")
}

#[test]
fn the_account_commands_change_roles_state_and_tokens_as_documented() {
    let db = CliDb::create();
    let url = db.url.clone();
    ok(&terminbuch(&url, &["seed", "--demo"]));
    let chef = ["--login", "chef", "--name", "Chef Admin", "--role", "admin"];
    ok(&add_with_password(&url, &chef, "Kastanienallee im Herbstlaub"));
    let weak = add_with_password(&url, &["--login", "x", "--name", "X", "--role", "admin"], "password1234");
    assert!(!weak.status.success(), "a breached password is refused");
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));

    let (printed, said) = ok(&terminbuch(
        &url,
        &["user", "add", "--login", "jana", "--name", "Jana", "--role", "counsellor", "--unit", "ads"],
    ));
    assert!(printed.trim().len() >= 16 && said.contains("changed at the first login"), "{said}");
    let (printed, said) = ok(&terminbuch(
        &url,
        &["user", "add", "--login", "jana", "--name", "Jana", "--role", "unit_lead", "--unit", "ads"],
    ));
    assert!(printed.is_empty(), "no password for an existing login");
    assert!(said.contains("the password is unchanged"), "{said}");

    let (list, _) = ok(&terminbuch(&url, &["user", "list"]));
    let jana = list.lines().find(|l| l.starts_with("jana ")).expect("jana listed");
    assert!(jana.contains("counsellor@ads,unit_lead@ads") && jana.contains(" yes ") && jana.ends_with('-'), "{jana}");
    assert!(list.lines().next().unwrap().contains("last login"));

    ok(&terminbuch(&url, &["user", "remove-role", "--login", "jana", "--role", "unit_lead", "--unit", "ads"]));
    let gone = terminbuch(&url, &["user", "remove-role", "--login", "jana", "--role", "unit_lead", "--unit", "ads"]);
    assert!(!gone.status.success(), "a role not held");
    let last = terminbuch(&url, &["user", "remove-role", "--login", "chef", "--role", "admin"]);
    assert!(!last.status.success() && String::from_utf8_lossy(&last.stderr).contains("last active admin"));
    let last = terminbuch(&url, &["user", "deactivate", "--login", "chef"]);
    assert!(!last.status.success(), "the last admin stays");

    let (token, _) =
        ok(&terminbuch(&url, &["token", "create", "--login", "jana", "--name", "kalender", "--expires-in-days", "7"]));
    assert!(token.trim().starts_with("tb_") && token.lines().count() == 1, "only the token");
    ok(&terminbuch(&url, &["token", "create", "--login", "jana"]));
    let too_long = terminbuch(&url, &["token", "create", "--login", "jana", "--expires-in-days", "400"]);
    assert!(!too_long.status.success());
    let (tokens, _) = ok(&terminbuch(&url, &["token", "list", "--login", "jana"]));
    assert!(!tokens.contains(token.trim()), "never the token itself");
    let kalender = tokens.lines().find(|l| l.contains("kalender")).expect("listed by name");
    assert!(kalender.ends_with("valid"), "{kalender}");
    let id = kalender.split_whitespace().next().unwrap();
    ok(&terminbuch(&url, &["token", "revoke", "--id", id]));
    let (tokens, _) = ok(&terminbuch(&url, &["token", "list", "--login", "jana"]));
    assert!(tokens.lines().find(|l| l.contains("kalender")).unwrap().ends_with("revoked"));
    // Typed in another case, the login is printed as stored.
    let (_, said) = ok(&terminbuch(&url, &["token", "revoke", "--login", "JANA", "--all"]));
    assert!(said.contains("1 token(s) of jana revoked"), "{said}");
    assert!(!terminbuch(&url, &["token", "revoke", "--login", "jana"]).status.success(), "--all is required");

    let (link, said) = ok(&terminbuch(&url, &["user", "reset-password", "--login", "Jana"]));
    assert!(link.trim().starts_with("http://127.0.0.1:3000/reset/"), "{link}");
    assert!(said.contains("one-time link for jana,"), "{said}");
    let (_, said) = ok(&terminbuch(&url, &["user", "reset-mfa", "--login", "jAna"]));
    assert!(said.contains("jana: had no second factor"), "{said}");
    let (_, said) = ok(&terminbuch(&url, &["user", "deactivate", "--login", "jana"]));
    assert!(said.contains("jana deactivated: web sessions, API tokens, reset links"), "{said}");
    let (_, said) = ok(&terminbuch(&url, &["user", "deactivate", "--login", "jana"]));
    assert!(said.contains("jana was deactivated already; nothing changed"), "{said}");
    assert!(!terminbuch(&url, &["token", "create", "--login", "jana"]).status.success(), "no token for the inactive");
    let (list, _) = ok(&terminbuch(&url, &["user", "list"]));
    assert!(list.lines().find(|l| l.starts_with("jana ")).unwrap().contains(" no "), "inactive");
    let (_, said) = ok(&terminbuch(&url, &["user", "activate", "--login", "jana"]));
    assert!(said.contains("jana active again: must choose a new password at the next login"), "{said}");
    let (_, said) = ok(&terminbuch(&url, &["user", "activate", "--login", "jana"]));
    assert!(said.contains("jana is active already; nothing changed"), "{said}");
    assert!(!terminbuch(&url, &["user", "deactivate", "--login", "niemand"]).status.success());
}

/// Future regular slots of the demo counsellor Jana Winterberg that are not full.
fn janas_offered_slots(db: &CliDb) -> i64 {
    db.count(
        "SELECT COUNT(*) FROM slots s JOIN staff p ON p.id = s.counsellor_id \
         WHERE p.login = 'j.winterberg' AND s.kind = 'regular' AND s.booked_count < s.capacity \
         AND s.starts_at >= ?",
        vec![chrono::Utc::now().into()],
    )
}

#[test]
fn a_counsellor_deactivated_at_the_command_line_leaves_the_offer_and_comes_back() {
    let db = CliDb::create();
    let url = db.url.clone();
    ok(&terminbuch(&url, &["seed", "--demo"]));
    let until = (chrono::Utc::now() + chrono::Days::new(200)).format("%Y-%m-%d").to_string();
    ok(&terminbuch(&url, &["slots", "generate", "--until", &until]));
    let before = janas_offered_slots(&db);
    assert!(before > 20, "half a year of her hours: {before}");

    ok(&terminbuch(&url, &["user", "deactivate", "--login", "j.winterberg"]));
    assert_eq!(janas_offered_slots(&db), 0, "none of her slots is offered, however far ahead");

    ok(&terminbuch(&url, &["user", "activate", "--login", "j.winterberg"]));
    assert_eq!(janas_offered_slots(&db), before, "all of them are back");
    ok(&terminbuch(&url, &["user", "remove-role", "--login", "j.winterberg", "--role", "counsellor", "--unit", "ads"]));
    assert_eq!(janas_offered_slots(&db), 0, "gone with the role");
}

#[test]
fn a_bad_second_factor_policy_stops_start_up_naming_the_variable() {
    let db = CliDb::create();
    let url = db.url.clone();
    let output = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
        .args(["migrate"])
        .env("DATABASE_URL", &url)
        .env("TERMINBUCH_REQUIRE_MFA", "manchmal")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("TERMINBUCH_REQUIRE_MFA") && stderr.contains("manchmal"), "{stderr}");
    for value in ["none", "admin", "lead", "all"] {
        let output = Command::new(env!("CARGO_BIN_EXE_terminbuch"))
            .args(["migrate"])
            .env("DATABASE_URL", &url)
            .env("TERMINBUCH_REQUIRE_MFA", value)
            .output()
            .unwrap();
        assert!(output.status.success(), "{value}");
    }
}

/// An operator types a login as the person logs in, in any case (`LEAVER` for `leaver`), and
/// gets clear words for a `token revoke` without what to revoke and for an unknown login.
#[test]
fn the_account_commands_take_a_login_in_any_case_and_say_what_is_missing() {
    let db = CliDb::create();
    let url = db.url.clone();
    ok(&terminbuch(&url, &["seed", "--demo"]));
    ok(&add_with_password(
        &url,
        &["--login", "leaver", "--name", "L", "--role", "front_desk", "--unit", "ads"],
        "Kastanienallee im Herbstlaub",
    ));
    let (token, _) = ok(&terminbuch(&url, &["token", "create", "--login", "Leaver"]));
    assert!(token.starts_with("tb_"), "made for leaver: {token}");

    // Act
    let (_, said) = ok(&terminbuch(&url, &["user", "deactivate", "--login", "LEAVER"]));

    // Assert
    assert!(said.contains("leaver"), "{said}");
    let (list, _) = ok(&terminbuch(&url, &["user", "list"]));
    assert!(list.lines().find(|l| l.starts_with("leaver ")).expect("listed").contains(" no "), "deactivated: {list}");
    let (tokens, _) = ok(&terminbuch(&url, &["token", "list", "--login", "LEAVER"]));
    assert!(tokens.lines().nth(1).expect("the token").contains("revoked"), "{tokens}");
    // What a revoke needs, said as such (not clap's list of every flag).
    for args in [
        &["token", "revoke", "--login", "leaver"][..],
        &["token", "revoke"],
        &["token", "revoke", "--id", "1", "--all"],
    ] {
        let refused = terminbuch(&url, args);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{args:?}");
        assert!(said.contains("--id ID") && said.contains("--login LOGIN --all"), "{args:?}: {said}");
    }
    // A unit given with the admin role is said to be left aside, not silently dropped.
    // Left aside, it is not looked up either: a unit that does not exist does not stop it.
    let admin = ["--login", "boss", "--name", "B", "--role", "admin", "--unit", "nowhere"];
    let added = add_with_password(&url, &admin, "Kastanienallee im Herbstlaub");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stderr).contains("--unit nowhere is left aside"));
    // An unknown login: the error alone, no table header before it.
    let unknown = terminbuch(&url, &["token", "list", "--login", "niemand"]);
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty(), "{}", String::from_utf8_lossy(&unknown.stdout));
}
