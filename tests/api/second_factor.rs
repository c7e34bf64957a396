//! The second factor's throttle at login: wrong codes in a row lock it for ever longer, codes
//! sent at once get no more tries than allowed, a right code after the wait clears the count,
//! and an admin's reset of the factor lifts its lock.

use chrono::TimeDelta;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::web_client::{Desk, PASSWORD, enrol, location, totp_code};

/// Not a code of any app (eight digits: tried as a recovery code, which it is not either).
const WRONG: &str = "12345678";

/// An admin `verwaltung` with a second factor, at the code step of a new login; the secret.
async fn at_the_code_step(app: &TestApp) -> (Desk, String) {
    app.add_person("verwaltung", "admin", None).await;
    let desk = Desk::new(&app.address);
    assert_eq!(location(&desk.log_in("verwaltung", PASSWORD).await), "/");
    let (secret, _) = enrol(app, &desk).await;
    log_out_and_in(&desk).await;
    (desk, secret)
}

async fn log_out_and_in(desk: &Desk) {
    assert_eq!(location(&desk.submit("/account", "/logout", &[]).await), "/login");
    assert_eq!(location(&desk.log_in("verwaltung", PASSWORD).await), "/login/code");
}

/// Sends `code` at the code step: `/` (logged in), `wrong` or `throttled`.
async fn send(desk: &Desk, code: &str) -> String {
    let response = desk.submit("/login/code", "/login/code", &[("code", code)]).await;
    if response.status() == StatusCode::SEE_OTHER {
        return location(&response);
    }
    let status = response.status();
    let page = response.text().await.expect("page");
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(page.contains("Zu viele falsche Codes") && page.contains("Wieder möglich ab"), "{page}");
        return "throttled".to_owned();
    }
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.contains("Zu viele falsche Codes"), "{page}");
    "wrong".to_owned()
}

/// The right code at the app clock's now (after a step of its own: each code counts once).
fn right(app: &TestApp, secret: &str) -> String {
    app.clock.advance(TimeDelta::seconds(30));
    totp_code(secret, app.unix_now())
}

#[tokio::test]
async fn each_lock_of_wrong_codes_waits_twice_as_long_and_a_right_code_after_it_clears_the_count() {
    // Arrange
    let app = spawn_app().await;
    let (desk, secret) = at_the_code_step(&app).await;

    // Act: five wrong codes are checked, then the factor is locked for 15 minutes.
    for n in 1..=5 {
        assert_eq!(send(&desk, WRONG).await, "wrong", "code {n}");
    }
    assert_eq!(send(&desk, &right(&app, &secret)).await, "throttled", "even the right code waits");
    app.clock.advance(TimeDelta::minutes(15));

    // Assert: one more wrong code is checked, and locks for 30 minutes.
    assert_eq!(send(&desk, WRONG).await, "wrong", "the sixth code after the first wait");
    assert_eq!(send(&desk, WRONG).await, "throttled");
    let waiting = desk.submit("/login/code", "/login/code", &[("code", WRONG)]).await;
    let retry_after: u64 = waiting.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1_700..=1_800).contains(&retry_after), "the wait of 30 minutes, told: {retry_after}");
    app.clock.advance(TimeDelta::minutes(29));
    assert_eq!(send(&desk, &right(&app, &secret)).await, "throttled", "29.5 minutes are not 30");
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(send(&desk, &right(&app, &secret)).await, "/", "after the wait the right code passes");

    // Assert: each lock recorded once, the wrong codes noted at the success.
    assert_eq!(app.audited("second_factor_failed", "verwaltung").await, 6);
    assert_eq!(app.audited("second_factor_throttled", "verwaltung").await, 2, "one record per lock");
    let noted = app
        .count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'login_succeeded' \
             AND detail LIKE '%\"wrong_codes_before\":6%'",
        )
        .await;
    assert_eq!(noted, 1, "the success records the wrong codes before it");

    // Act: the next login, with four typos.
    log_out_and_in(&desk).await;
    for n in 1..=4 {
        assert_eq!(send(&desk, WRONG).await, "wrong", "typo {n} after the success");
    }

    // Assert: the success cleared the count: the typos passed freely, and the right code passes.
    assert_eq!(send(&desk, &right(&app, &secret)).await, "/");
}

#[tokio::test]
async fn codes_sent_at_once_get_no_more_tries_than_the_throttle_allows() {
    // Arrange
    let app = spawn_app().await;
    let (desk, _) = at_the_code_step(&app).await;

    // Act: twenty wrong codes at once.
    let answers = join_all((0..20).map(|_| send(&desk, WRONG))).await;

    // Assert: five were checked, the others refused unchecked; the lock recorded once.
    assert_eq!(answers.iter().filter(|a| *a == "wrong").count(), 5, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| *a == "throttled").count(), 15, "{answers:?}");
    assert_eq!(app.audited("second_factor_failed", "verwaltung").await, 5);
    assert_eq!(app.audited("second_factor_throttled", "verwaltung").await, 1);
}

#[tokio::test]
async fn an_admins_reset_of_the_second_factor_lifts_its_lock() {
    // Arrange: the factor locked.
    let app = spawn_app().await;
    let (desk, _) = at_the_code_step(&app).await;
    for _ in 0..5 {
        send(&desk, WRONG).await;
    }
    assert_eq!(send(&desk, WRONG).await, "throttled");

    // Act: the admin resets it; the person logs in and sets up a new one.
    let response = app.post_as(&app.admin_token, "/api/v1/staff/verwaltung/mfa-reset", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    let path = body["reset_url"].as_str().expect("a one-time link")[app.address.len()..].to_owned();
    let desk = Desk::new(&app.address);
    let new_password = "ein ganz neues Passwort 2026";
    let done = desk.submit(&path, &path, &[("new", new_password), ("repeat", new_password)]).await;
    assert_eq!(done.status(), StatusCode::OK, "a new password through the link");
    assert_eq!(location(&desk.log_in("verwaltung", new_password).await), "/");
    let (secret, _) = enrol(&app, &desk).await;
    assert_eq!(location(&desk.submit("/account", "/logout", &[]).await), "/login");
    assert_eq!(location(&desk.log_in("verwaltung", new_password).await), "/login/code");

    // Assert: the new factor's code is not held back by the old lock.
    assert_eq!(send(&desk, &right(&app, &secret)).await, "/");
}

/// A password change or a second factor's enrolment checked by a session before an admin ended
/// that person's sessions (a reset of the second factor) and written after it stores nothing and
/// hands out no new epoch: it would otherwise undo the lock-out and keep the session alive. The
/// interleaving is driven step by step: the session's epoch is read (its check), the admin resets,
/// then the services write with what the session saw.
#[tokio::test]
async fn a_change_checked_before_an_admins_reset_and_written_after_it_stores_nothing() {
    use terminbuch::domain::clash::Clash;
    use terminbuch::domain::ids::StaffId;
    use terminbuch::services::mfa::{self, MfaError};
    use terminbuch::services::passwords::{self, PasswordError};
    use terminbuch::services::{ServiceError, accounts};

    // Arrange: a counsellor without a second factor, and what their session was checked against.
    let app = spawn_app().await;
    let added = app.add_person("jana.w", "counsellor", Some("ads")).await;
    let id = StaffId::new(i32::try_from(added["id"].as_i64().expect("id")).expect("an id"));
    let seen = accounts::session_account(&app.db, id).await.expect("read").expect("the account");
    let secret = mfa::enrolment("jana.w", None).expect("an enrolment").secret;

    // Act: the admin resets the second factor (the person's sessions end), then the session's
    // password change and enrolment are written.
    let reset = app.post_as(&app.admin_token, "/api/v1/staff/jana.w/mfa-reset", &json!({})).await;
    assert_eq!(reset.status(), StatusCode::OK, "reset");
    let changed = passwords::change_own(
        &app.db,
        &app.clock,
        &seen.actor,
        PASSWORD,
        "Birkenweg am Ende des Sommers",
        Some(seen.epoch),
    )
    .await;
    let code = totp_code(&secret, app.unix_now());
    let enrolled = mfa::confirm_enrolment(&app.db, &app.clock, id, &secret, &code, seen.epoch, None).await;

    // Assert: both refused as a concurrent change; no factor stored; the password is still the
    // old one (a change with the epoch as it is now, after the reset, passes its check).
    let concurrent = |err: &ServiceError| matches!(err, ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. });
    assert!(matches!(&changed, Err(PasswordError::Service(err)) if concurrent(err)), "{changed:?}");
    assert!(matches!(&enrolled, Err(MfaError::Service(err)) if concurrent(err)), "{:?}", enrolled.as_ref().err());
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM staff_totp WHERE staff_id = {}", id.get())).await, 0);
    let now = accounts::session_account(&app.db, id).await.expect("read").expect("the account");
    assert!(now.epoch > seen.epoch, "the reset ended the sessions");
    let after = passwords::change_own(
        &app.db,
        &app.clock,
        &seen.actor,
        PASSWORD,
        "Birkenweg am Ende des Sommers",
        Some(now.epoch),
    )
    .await;
    assert!(after.is_ok(), "the old password was still the person's: {after:?}");
}

/// The changes a person makes to their own access from a browser are recorded with the address
/// they came from, as their logins are: the second factor set up, the recovery codes renewed, a
/// password chosen with a reset link (found by a QA walk: these three had none).
#[tokio::test]
async fn own_access_changes_are_recorded_with_the_client_address() {
    use crate::web_client::{Desk, PASSWORD, enrol};
    use terminbuch::domain::audit::AuditAction;
    let app = crate::helpers::spawn_app().await;
    app.add_person("selbst", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("selbst", PASSWORD).await.status(), reqwest::StatusCode::SEE_OTHER);
    enrol(&app, &desk).await;
    let renewed = desk.submit("/account", "/account/mfa/recovery-codes", &[]).await;
    assert_eq!(renewed.status(), reqwest::StatusCode::OK);
    let response = app.post_as(&app.admin_token, "/api/v1/staff/selbst/password-reset", &serde_json::json!({})).await;
    let link: serde_json::Value = response.json().await.expect("json");
    let path = link["reset_url"].as_str().expect("a reset URL")[app.address.len()..].to_owned();
    let new = "neues-Pferd-Batterie-9";
    let fields = [("new", new), ("repeat", new)];
    let reset = Desk::new(&app.address).submit(&path, &path, &fields).await;
    assert_eq!(reset.status(), reqwest::StatusCode::OK);

    for action in
        [AuditAction::SecondFactorEnrolled, AuditAction::RecoveryCodesRenewed, AuditAction::PasswordResetLinkUsed]
    {
        let recorded = crate::audit::records(&app, action).await;
        assert_eq!(recorded.len(), 1, "{action}");
        assert_eq!(recorded[0].client.as_deref(), Some("127.0.0.1"), "{action}");
    }
}
