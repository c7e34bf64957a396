//! What a stranger, or the holder of a leaked token, can try against the accounts: guessing the
//! current password through a password change, tokens minted by tokens, the second factor's
//! audit, floods of throttled logins, what typed logins reach, and what ends with a deactivation.

use chrono::TimeDelta;
use chrono_tz::Europe::Berlin;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::services::auth;
use terminbuch::services::tokens::{self, TokenSpec};

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::web_client::{Desk, PASSWORD, enrol, location, totp_code};

const NEW_PASSWORD: &str = "Sonnenblumen über dem Maschsee";

/// A front-desk person `empfang` with the chosen [`PASSWORD`] and an API token of theirs.
async fn person_with_token(app: &TestApp) -> String {
    app.add_person("empfang", "front_desk", Some("ads")).await;
    auth::create_token(&app.db, &app.clock, "empfang", "skript").await.expect("token")
}

async fn change_password(app: &TestApp, token: &str, current: &str) -> reqwest::Response {
    let body = json!({ "current_password": current, "new_password": NEW_PASSWORD });
    app.post_as(token, "/api/v1/me/password", &body).await
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_per_person_and_audited_and_the_right_one_waits_too() {
    // Arrange
    let app = spawn_app().await;
    let token = person_with_token(&app).await;

    // Act: five wrong guesses are checked, then the check waits a minute.
    for n in 1..=5 {
        let problem = assert_problem(
            change_password(&app, &token, &format!("geraten {n}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "current_password", "guess {n}");
    }
    let locked = change_password(&app, &token, PASSWORD).await;

    // Assert
    let retry_after = locked.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(retry_after.as_deref(), Some("60"), "the wait of the first lock");
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER, "the password is unchanged");
    let fields = [("current", PASSWORD), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    let form = desk.submit("/account/password", "/account/password", &fields).await;
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS, "the page's form shares the person's count");
    let page = form.text().await.expect("page");
    assert!(page.contains("id=\"pw-current-error\"") && page.contains("zu oft falsch"), "the reason at the field");
    assert_eq!(app.audited("password_change_failed", "empfang").await, 5);
    assert_eq!(app.audited("password_change_throttled", "empfang").await, 1, "once per lock");

    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(change_password(&app, &token, PASSWORD).await.status(), StatusCode::NO_CONTENT, "after the wait");
    assert_eq!(app.audited("password_changed", "empfang").await, 1);
}

#[tokio::test]
async fn of_20_parallel_guesses_of_the_current_password_5_are_checked() {
    // Arrange
    let app = spawn_app().await;
    let token = person_with_token(&app).await;

    // Act
    let answers = join_all((0..20).map(|n| {
        let (app, token) = (&app, &token);
        async move { change_password(app, token, &format!("geraten {n}")).await.status() }
    }))
    .await;

    // Assert
    let count = |wanted: StatusCode| answers.iter().filter(|s| **s == wanted).count();
    assert_eq!((count(StatusCode::UNPROCESSABLE_ENTITY), count(StatusCode::TOO_MANY_REQUESTS)), (5, 15), "{answers:?}");
    assert_eq!(app.audited("password_change_failed", "empfang").await, 5);
    let _: Value = app.get_as(&token, "/api/v1/me").await.json().await.expect("the token still works");
}

/// Makes a token with `token` through the API; returns the answer's body.
async fn mint(address: &str, token: &str, days: u32) -> reqwest::Response {
    let body = json!({ "name": "gemacht", "expires_in_days": days });
    reqwest::Client::new()
        .post(format!("{address}/api/v1/me/tokens"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn minted(address: &str, token: &str, days: u32) -> (String, i64, Value) {
    let response = mint(address, token, days).await;
    assert_eq!(response.status(), StatusCode::CREATED, "a token made with a token");
    let body: Value = response.json().await.expect("json");
    (body["token"].as_str().expect("token").to_owned(), body["id"].as_i64().expect("id"), body["expires_at"].clone())
}

async fn me_status(address: &str, token: &str) -> StatusCode {
    let client = reqwest::Client::new();
    client.get(format!("{address}/api/v1/me")).bearer_auth(token).send().await.expect("request").status()
}

#[tokio::test]
async fn a_token_made_with_a_token_expires_with_it_and_is_revoked_with_it() {
    // Arrange: a token for one day.
    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let spec = TokenSpec { label: "kurz".into(), days: 1 };
    let parent = tokens::create_for_login(&app.db, &app.clock, "empfang", &spec).await.expect("token").token;

    // Act: a year asked for with it, and another year with the new one.
    let (child, _, child_expires) = minted(&app.address, &parent, 365).await;
    let (grandchild, _, grandchild_expires) = minted(&app.address, &child, 365).await;

    // Assert
    let day_later = (app.clock.now() + TimeDelta::days(1)).with_timezone(&Berlin).to_rfc3339();
    assert_eq!((child_expires, grandchild_expires), (json!(day_later), json!(day_later)), "capped at the parent's");
    app.clock.advance(TimeDelta::days(1));
    for token in [&parent, &child, &grandchild] {
        assert_eq!(me_status(&app.address, token).await, StatusCode::UNAUTHORIZED, "expired together");
    }

    // Act: a token for 30 days, two made with it; the first of them revoked by its maker.
    let spec = TokenSpec { label: "monat".into(), days: 30 };
    let parent = tokens::create_for_login(&app.db, &app.clock, "empfang", &spec).await.expect("token").token;
    let (child, child_id, _) = minted(&app.address, &parent, 365).await;
    let (grandchild, _, _) = minted(&app.address, &child, 10).await;
    let (sibling, _, _) = minted(&app.address, &parent, 5).await;
    let revoked = app.delete_as(&parent, &format!("/api/v1/me/tokens/{child_id}")).await;

    // Assert
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app.address, &grandchild).await, StatusCode::UNAUTHORIZED, "revoked with its maker");
    assert_eq!(me_status(&app.address, &sibling).await, StatusCode::OK, "not made with the revoked one");
    let list: Vec<Value> = app.get_as(&parent, "/api/v1/me/tokens").await.json().await.expect("json");
    assert_eq!(list.iter().filter(|t| t["state"] == "revoked").count(), 2, "{list:?}");
}

#[tokio::test]
async fn a_token_a_cache_still_knows_mints_nothing_after_its_revocation_or_its_owners_deactivation() {
    // Arrange: a second process that keeps tokens a minute.
    let app = spawn_app().await;
    let cached = app.another_process(|s| s.token_cache_ms = 60_000).await;
    let token = person_with_token(&app).await;
    let other = auth::create_token(&app.db, &app.clock, "empfang", "zweites").await.expect("token");
    for known in [&token, &other] {
        assert_eq!(me_status(&cached, known).await, StatusCode::OK, "cached there");
    }

    // Act / Assert: the token revoked here.
    let list: Vec<Value> = app.get_as(&token, "/api/v1/me/tokens").await.json().await.expect("json");
    let id = list.iter().find(|t| t["name"] == "skript").and_then(|t| t["id"].as_i64()).expect("the token");
    assert_eq!(app.delete_as(&app.admin_token, &format!("/api/v1/tokens/{id}")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&cached, &token).await, StatusCode::OK, "the cache there still knows it");
    assert_problem(mint(&cached, &token, 30).await, StatusCode::NOT_FOUND, "token_not_found").await;

    // Act / Assert: the person deactivated here.
    let deactivated = app.post_as(&app.admin_token, "/api/v1/staff/empfang/deactivate", &json!({})).await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    assert_problem(mint(&cached, &other, 30).await, StatusCode::NOT_FOUND, "staff_not_found").await;
    assert_eq!(app.audited("token_created", "empfang").await, 2, "only the two made here");
}

/// Audit records with `action` whose actor is staff member `login`.
async fn audited_as(app: &TestApp, action: &str, login: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events a JOIN staff s ON a.actor_id = s.id \
         WHERE a.actor_kind = 'staff' AND a.action = '{action}' AND s.login = '{login}'"
    ))
    .await
}

/// Posts the login form and says what came of it: `/login/code`, `/`, `wrong` or `throttled`.
async fn attempt(desk: &Desk, login: &str, password: &str) -> String {
    let response = desk.log_in(login, password).await;
    if response.status() == StatusCode::SEE_OTHER {
        return location(&response);
    }
    let page = response.text().await.expect("page");
    if page.contains("Zu viele Fehlversuche") {
        "throttled".to_owned()
    } else if page.contains("Kennung oder Passwort ist falsch") {
        "wrong".to_owned()
    } else {
        page.chars().take(300).collect()
    }
}

#[tokio::test]
async fn with_a_second_factor_only_the_code_completes_a_login_and_wrong_codes_are_audited() {
    // Arrange: an admin with a second factor.
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let first = Desk::new(&app.address);
    assert_eq!(attempt(&first, "verwaltung", PASSWORD).await, "/");
    let (secret, _) = enrol(&app, &first).await;
    first.submit("/account", "/logout", &[]).await;
    let before = audited_as(&app, "login_succeeded", "verwaltung").await;
    // Another browser: the first is known for the login, and its attempts count on its own key.
    let desk = Desk::new(&app.address);

    // Act: four wrong passwords, then the right one.
    for n in 1..=4 {
        assert_eq!(attempt(&desk, "verwaltung", "falsch").await, "wrong", "failure {n}");
    }
    assert_eq!(attempt(&desk, "verwaltung", PASSWORD).await, "/login/code");

    // Assert: no success yet, and the right password cleared nothing: it was the fifth attempt.
    assert_eq!(audited_as(&app, "login_succeeded", "verwaltung").await, before, "the password alone");
    let elsewhere = Desk::new(&app.address);
    assert_eq!(attempt(&elsewhere, "verwaltung", PASSWORD).await, "throttled", "the throttle still counts");
    let wrong = ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| (-1..=1).all(|d| totp_code(&secret, app.unix_now() + d * 30) != *c))
        .expect("a wrong code");
    let refused = desk.submit("/login/code", "/login/code", &[("code", wrong)]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audited_as(&app, "second_factor_failed", "verwaltung").await, 1, "a wrong code is recorded");

    // Act: the right code.
    app.clock.advance(TimeDelta::seconds(30));
    let code = totp_code(&secret, app.unix_now());
    let done = desk.submit("/login/code", "/login/code", &[("code", &code)]).await;

    // Assert: now the login is complete and the throttle's count is forgotten.
    assert_eq!(location(&done), "/");
    assert_eq!(audited_as(&app, "login_succeeded", "verwaltung").await, before + 1);
    let detail = app
        .count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'login_succeeded' \
             AND detail LIKE '%\"second_factor\":\"totp\"%'",
        )
        .await;
    assert_eq!(detail, 1, "the factor used is recorded");
    let again = Desk::new(&app.address);
    for n in 1..=4 {
        assert_eq!(attempt(&again, "verwaltung", "falsch").await, "wrong", "failure {n} after the success");
    }
}

#[tokio::test]
async fn codes_refused_by_the_second_factors_throttle_are_audited() {
    // Arrange
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = Desk::new(&app.address);
    attempt(&desk, "verwaltung", PASSWORD).await;
    let (secret, _) = enrol(&app, &desk).await;
    desk.submit("/account", "/logout", &[]).await;
    assert_eq!(attempt(&desk, "verwaltung", PASSWORD).await, "/login/code");

    // Act: five wrong codes, then the right one, then a flood of thirty at once.
    for _ in 0..5 {
        desk.submit("/login/code", "/login/code", &[("code", "12345678")]).await;
    }
    app.clock.advance(TimeDelta::seconds(30));
    let code = totp_code(&secret, app.unix_now());
    let refused = desk.submit("/login/code", "/login/code", &[("code", &code)]).await;
    let flood = join_all((0..30).map(|_| desk.submit("/login/code", "/login/code", &[("code", "12345678")]))).await;

    // Assert: each refused, the lock recorded once.
    assert!(refused.text().await.expect("page").contains("Zu viele falsche Codes"));
    for page in flood {
        assert!(page.text().await.expect("page").contains("Zu viele falsche Codes"));
    }
    assert_eq!(audited_as(&app, "second_factor_failed", "verwaltung").await, 5);
    assert_eq!(audited_as(&app, "second_factor_throttled", "verwaltung").await, 1, "one record per lock");

    // Act: after the wait, six more wrong codes: the first is checked and locks it again, longer.
    app.clock.advance(TimeDelta::minutes(16));
    for _ in 0..6 {
        desk.submit("/login/code", "/login/code", &[("code", "12345678")]).await;
    }

    // Assert: the new lock is recorded, and the right code still waits.
    assert_eq!(audited_as(&app, "second_factor_failed", "verwaltung").await, 6, "one code after the wait");
    assert_eq!(audited_as(&app, "second_factor_throttled", "verwaltung").await, 2, "the second lock");
    let code = totp_code(&secret, app.unix_now());
    let refused = desk.submit("/login/code", "/login/code", &[("code", &code)]).await;
    assert!(refused.text().await.expect("page").contains("Zu viele falsche Codes"));
}

#[tokio::test]
async fn attempts_against_a_locked_login_or_address_write_one_throttled_record_per_lock() {
    // Arrange: a login locked by five failures.
    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    for _ in 0..5 {
        assert_eq!(attempt(&desk, "empfang", "falsch").await, "wrong");
    }

    // Act: forty more at once, then one after the wait (which locks it again), and ten more.
    let flood = join_all((0..40).map(|_| attempt(&desk, "empfang", "falsch"))).await;
    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(attempt(&desk, "empfang", "falsch").await, "wrong", "one attempt after the wait");
    for _ in 0..10 {
        assert_eq!(attempt(&desk, "empfang", PASSWORD).await, "throttled");
    }

    // Assert
    assert!(flood.iter().all(|a| a == "throttled"), "{flood:?}");
    assert_eq!(audited_as(&app, "login_throttled", "empfang").await, 2, "one record per lock");

    // Act: the address locked by twenty failures, then a spray over fifty more logins.
    app.clock.advance(TimeDelta::hours(25));
    for n in 0..20 {
        assert_eq!(attempt(&desk, &format!("kollege{n}"), "falsch").await, "wrong");
    }
    for n in 20..70 {
        assert_eq!(attempt(&desk, &format!("kollege{n}"), "falsch").await, "throttled");
    }

    // Assert
    let anonymous = app
        .count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'login_throttled' AND actor_kind = 'anonymous'")
        .await;
    assert_eq!(anonymous, 1, "one record for the address's lock");
}

#[tokio::test]
async fn text_typed_as_a_login_that_names_no_account_is_not_stored_but_still_throttled_on_its_own() {
    // Arrange
    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    let typed = "Geheim-Sommer2026!";

    // Act: a password typed into the login field, five times and once more; the person's own login.
    for n in 1..=5 {
        assert_eq!(attempt(&desk, typed, "x").await, "wrong", "attempt {n}");
    }
    let sixth = attempt(&desk, typed, "x").await;
    let other = attempt(&desk, "Winter-2026!", "x").await;
    assert_eq!(attempt(&desk, "empfang", "falsch").await, "wrong");

    // Assert: held back like a login, stored nowhere.
    assert_eq!((sixth.as_str(), other.as_str()), ("throttled", "wrong"), "each text counts on its own");
    let stored = |table: &str, column: &str| {
        format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} LIKE '%Geheim%' OR {column} LIKE '%Winter%'")
    };
    assert_eq!(app.count(&stored("login_failures", "login")).await, 0, "not in the failed logins");
    assert_eq!(app.count(&stored("login_throttles", "key")).await, 0, "not in the throttle's keys");
    assert_eq!(app.count(&stored("audit_events", "detail")).await, 0, "not in the audit");
    let unknown = app.count("SELECT COUNT(*) AS n FROM login_failures WHERE login = 'unknown'").await;
    assert_eq!(unknown, 6, "recorded as unknown");
    let named = app.count("SELECT COUNT(*) AS n FROM login_failures WHERE login = 'empfang'").await;
    assert_eq!(named, 1, "a login that names an account is kept");
}

/// A reset link for `empfang` made by the admin through the API; returns its path.
async fn reset_link(app: &TestApp) -> String {
    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang/password-reset", &json!({})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    body["reset_url"].as_str().expect("a reset URL")[app.address.len()..].to_owned()
}

async fn set_active(app: &TestApp, active: bool) {
    let path = if active { "/api/v1/staff/empfang/activate" } else { "/api/v1/staff/empfang/deactivate" };
    assert_eq!(app.post_as(&app.admin_token, path, &json!({})).await.status(), StatusCode::OK, "{path}");
}

#[tokio::test]
async fn a_deactivation_ends_open_reset_links_and_the_calendar_subscription_for_good() {
    // Arrange: an open reset link and a calendar subscription.
    let app = spawn_app().await;
    let token = person_with_token(&app).await;
    let link = reset_link(&app).await;
    let created: Value = app.post_as(&token, "/api/v1/me/calendar-feed", &json!({})).await.json().await.expect("json");
    let feed = created["url"].as_str().expect("a feed URL")[app.address.len()..].to_owned();
    assert_eq!(app.get_unauthenticated(&feed).await.status(), StatusCode::OK, "the feed serves");

    // Act
    set_active(&app, false).await;
    set_active(&app, true).await;

    // Assert
    let desk = Desk::new(&app.address);
    assert_eq!(desk.text(&link).await.0, StatusCode::NOT_FOUND, "the link is used up");
    let fields = [("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    let redeemed = desk.submit("/login", &link, &fields).await;
    assert_eq!(redeemed.status(), StatusCode::NOT_FOUND, "and cannot be redeemed");
    assert_eq!(app.get_unauthenticated(&feed).await.status(), StatusCode::NOT_FOUND, "the feed is gone");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM calendar_feeds").await, 0);
    assert_eq!(
        desk.log_in("empfang", PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "a reactivation alone leaves the password as it was"
    );
}

/// After a suspected compromise: deactivate, make a reset link, reactivate. The stolen password
/// stops working when the link is made (not only when it is used), so the reactivation does not
/// bring it back; the link then sets the new one.
#[tokio::test]
async fn a_reset_link_made_while_inactive_takes_the_password_away_until_it_is_used() {
    // Arrange
    let app = spawn_app().await;
    let token = person_with_token(&app).await;
    set_active(&app, false).await;

    // Act
    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang/password-reset", &json!({})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    set_active(&app, true).await;

    // Assert
    assert_eq!(body["password_cleared"], json!(true), "the API says so");
    let link = body["reset_url"].as_str().expect("a reset URL")[app.address.len()..].to_owned();
    let desk = Desk::new(&app.address);
    assert_eq!(
        desk.log_in("empfang", PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old password is refused"
    );
    assert_eq!(change_password(&app, &token, PASSWORD).await.status(), StatusCode::UNAUTHORIZED, "token revoked");
    let fields = [("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    assert_eq!(desk.submit("/login", &link, &fields).await.status(), StatusCode::OK, "the link sets a new one");
    assert_eq!(desk.log_in("empfang", NEW_PASSWORD).await.status(), StatusCode::SEE_OTHER, "which works");
    let stranger = Desk::new(&app.address);
    assert_eq!(
        stranger.log_in("empfang", PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old one still does not"
    );
    let cleared = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'password_reset_link_created' \
                   AND detail LIKE '%password_cleared%'";
    assert_eq!(app.count(cleared).await, 1, "audited with the link");

    // A link made for an active person leaves the password as it is until it is used.
    let body: Value = app
        .post_as(&app.admin_token, "/api/v1/staff/empfang/password-reset", &json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["password_cleared"], json!(false));
    assert_eq!(Desk::new(&app.address).log_in("empfang", NEW_PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

/// The same steps on the admin's person page.
#[tokio::test]
async fn on_the_person_page_a_reset_link_made_while_inactive_takes_the_password_away() {
    // Arrange
    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    app.add_person("chefin", "admin", None).await;
    let admin = Desk::new(&app.address);
    assert_eq!(admin.log_in("chefin", PASSWORD).await.status(), StatusCode::SEE_OTHER, "admin logged in");
    enrol(&app, &admin).await;
    let page = "/admin/staff/empfang";
    admin.submit(page, "/admin/staff/empfang/deactivate", &[]).await;

    // Act
    let made = admin.submit(page, "/admin/staff/empfang/password-reset", &[]).await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER, "on to the person's page");
    let (_, html) = admin.text(&crate::web_client::location(&made)).await;
    admin.submit(page, "/admin/staff/empfang/activate", &[]).await;

    // Assert
    assert!(html.contains("gilt ab jetzt nicht mehr"), "the page says the password is gone");
    let url = crate::web_client::text_of_id(&html, "reset-url");
    let link = url[app.address.len()..].to_owned();
    let desk = Desk::new(&app.address);
    assert_eq!(
        desk.log_in("empfang", PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old password is refused"
    );
    let fields = [("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    assert_eq!(desk.submit("/login", &link, &fields).await.status(), StatusCode::OK, "the link sets a new one");
    assert_eq!(desk.log_in("empfang", NEW_PASSWORD).await.status(), StatusCode::SEE_OTHER, "which works");
    assert_eq!(app.audited("staff_activated", "empfang").await, 1, "reactivated on the page");
}

#[tokio::test]
async fn a_reset_link_made_for_an_inactive_person_works_only_once_they_are_active_again() {
    // Arrange: a link made while the person is inactive.
    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    set_active(&app, false).await;
    let link = reset_link(&app).await;
    let desk = Desk::new(&app.address);

    // Act / Assert
    assert_eq!(desk.text(&link).await.0, StatusCode::NOT_FOUND, "not shown while inactive");
    let fields = [("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    assert_eq!(desk.submit("/login", &link, &fields).await.status(), StatusCode::NOT_FOUND, "not redeemed");
    assert_eq!(app.audited("password_reset_link_used", "empfang").await, 0);
    set_active(&app, true).await;
    assert_eq!(desk.submit("/login", &link, &fields).await.status(), StatusCode::OK, "once active again");
    assert_eq!(desk.log_in("empfang", NEW_PASSWORD).await.status(), StatusCode::SEE_OTHER);
}
