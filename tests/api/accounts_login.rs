//! The login of the staff desk through its pages: no session row before a login succeeds, the
//! forced password change, TOTP enrolment and login with real codes, recovery codes, the
//! second-factor throttle and reset, password changes that end other sessions, reset links.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::clock::Clock;
use terminbuch::config::Settings;
use terminbuch::domain::accounts::RequireMfa;
use terminbuch::startup::{Application, Dependencies, bootstrap};

use crate::helpers::{TestApp, assert_problem, default_now, spawn_app, spawn_app_with};
use crate::test_db::TestDb;
use crate::web_client::{Desk, PASSWORD, enrol, location, totp_code};

const NEW_PASSWORD: &str = "Sonnenblumen über dem Maschsee";

async fn without_mfa() -> TestApp {
    spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await
}

async fn logged_in(app: &TestApp, login: &str, password: &str) -> Desk {
    let desk = Desk::new(&app.address);
    let response = desk.log_in(login, password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{login} logs in");
    desk
}

async fn log_out(desk: &Desk) {
    let response = desk.submit("/account", "/logout", &[]).await;
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn anonymous_visits_write_no_session_row_and_a_login_writes_one() {
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    for path in ["/login", "/lang?to=en&back=/login", "/login", "/", "/reset/unbekannt", "/login/code", "/account"] {
        desk.get(path).await;
    }
    let wrong = desk.log_in("empfang", "falsches Passwort").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY, "still the login page, the refusal at the field");
    assert!(wrong.text().await.unwrap().contains("User name or password is wrong"), "in English, from the cookie");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM sessions").await, 0, "no row for anyone not logged in");

    let response = desk.log_in("empfang", PASSWORD).await;
    assert_eq!(location(&response), "/");
    assert!(desk.session_id(&response).await.is_some());
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM sessions").await, 1);
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_anonymous_form_without_its_cookie_token_or_from_another_site_is_refused() {
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let client = reqwest::Client::new();
    let forged = [("csrf", "x".repeat(32)), ("login", "empfang".into()), ("password", PASSWORD.into())];
    let response = client.post(format!("{}/login", app.address)).form(&forged).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a token without its cookie");
    let desk = Desk::new(&app.address);
    let (_, page) = desk.text("/login").await;
    let csrf = crate::web_client::csrf_of(&page);
    let cross = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let cookie = format!("terminbuch_form={csrf}");
    let response = cross
        .post(format!("{}/login", app.address))
        .header("cookie", cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", csrf.as_str()), ("login", "empfang"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a form sent from another site");
}

#[tokio::test]
async fn a_generated_password_must_be_replaced_before_anything_else() {
    let app = without_mfa().await;
    let body = json!({ "login": "neu", "name": "Neue Kollegin", "role": "front_desk", "unit": "ads" });
    let created: Value = app.post_as(&app.admin_token, "/api/v1/staff", &body).await.json().await.unwrap();
    let generated = created["generated_password"].as_str().unwrap().to_owned();
    let desk = logged_in(&app, "neu", &generated).await;
    for path in ["/book", "/day", "/account"] {
        assert_eq!(desk.location(path).await, "/account/password", "{path} waits for the new password");
    }
    let (status, page) = desk.text("/account/password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("nicht selbst gewählt") && !page.contains("id=\"nav-book\""), "explained, no navigation");

    let cases = [
        ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "pw-new-error", "zu leicht zu erraten"),
        ("Neue Kollegin 2026", "Neue Kollegin 2026", "pw-new-error", "Namen nicht enthalten"),
        ("password1234", "password1234", "pw-new-error", "Datenlecks"),
        ("kurz", "kurz", "pw-new-error", "mindestens 12 Zeichen"),
        (NEW_PASSWORD, "anders", "pw-repeat-error", "stimmen nicht überein"),
    ];
    for (new, repeat, field, reason) in cases {
        let fields = [("current", generated.as_str()), ("new", new), ("repeat", repeat)];
        let response = desk.submit("/account/password", "/account/password", &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        let page = response.text().await.unwrap();
        assert!(page.contains(&format!("id=\"{field}\"")) && page.contains(reason), "{new}: the reason at the field");
    }
    let fields = [("current", "falsch"), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    let response = desk.submit("/account/password", "/account/password", &fields).await;
    assert!(response.text().await.unwrap().contains("aktuelle Passwort ist falsch"));

    let fields = [("current", generated.as_str()), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    let response = desk.submit("/account/password", "/account/password", &fields).await;
    assert_eq!(location(&response), "/", "on to the desk");
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK);
    assert_eq!(
        Desk::new(&app.address).log_in("neu", &generated).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old one fails"
    );
    logged_in(&app, "neu", NEW_PASSWORD).await;
}

#[tokio::test]
async fn the_first_admins_printed_password_must_be_changed_and_a_second_factor_set_up() {
    let db = TestDb::create().await;
    let mut settings = Settings::for_tests(&db.url);
    settings.data_dir = db.data_dir().to_owned();
    let deps = Dependencies { db: db.conn.clone(), clock: Clock::fixed(default_now()) };
    let report = bootstrap(&settings, &deps).await.unwrap();
    let (login, password) = report.first_admin.expect("the first admin");
    let app = Application::build(settings, deps).await.unwrap();
    let address = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(app.run_until_stopped());
    let desk = Desk::new(&address);
    assert_eq!(location(&desk.log_in(&login, &password).await), "/");
    assert_eq!(desk.location("/admin/staff").await, "/account/password");
    // The printed password itself is no replacement (it stood in the start's output).
    let same = [("current", password.as_str()), ("new", password.as_str()), ("repeat", password.as_str())];
    let refused = desk.submit("/account/password", "/account/password", &same).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("muss sich vom bisherigen unterscheiden"));
    assert_eq!(desk.location("/admin/staff").await, "/account/password", "still to be changed");
    let fields = [("current", password.as_str()), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    assert_eq!(location(&desk.submit("/account/password", "/account/password", &fields).await), "/");
    assert_eq!(desk.location("/admin/staff").await, "/account/mfa", "admins need a second factor by default");
    let (status, page) = desk.text("/account/mfa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("vorgeschrieben"));
}

#[tokio::test]
async fn a_second_factor_is_enrolled_by_qr_code_and_each_login_needs_a_fresh_code() {
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = logged_in(&app, "verwaltung", PASSWORD).await;
    assert_eq!(desk.location("/book").await, "/account/mfa", "admins must enrol first");
    let wrong = desk.submit("/account/mfa", "/account/mfa", &[("code", "12345x")]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (secret, _) = enrol(&app, &desk).await;
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK);
    assert_eq!(app.audited("second_factor_enrolled", "verwaltung").await, 1);

    log_out(&desk).await;
    let response = desk.log_in("verwaltung", PASSWORD).await;
    assert_eq!(location(&response), "/login/code");
    assert_eq!(desk.location("/book").await, "/login", "a right password alone is no login");
    let used = totp_code(&secret, app.unix_now());
    let replay = desk.submit("/login/code", "/login/code", &[("code", &used)]).await;
    assert_eq!(replay.status(), StatusCode::UNPROCESSABLE_ENTITY, "the enrolment's code was used");
    assert!(replay.text().await.unwrap().contains("schon verwendet"));
    app.clock.advance(TimeDelta::seconds(30));
    let fresh = totp_code(&secret, app.unix_now());
    let response = desk.submit("/login/code", "/login/code", &[("code", &fresh)]).await;
    assert_eq!(location(&response), "/");
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK);

    log_out(&desk).await;
    desk.log_in("verwaltung", PASSWORD).await;
    let again = desk.submit("/login/code", "/login/code", &[("code", &fresh)]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "a code is accepted once");
    let next = totp_code(&secret, app.unix_now() + 30);
    assert_eq!(location(&desk.submit("/login/code", "/login/code", &[("code", &next)]).await), "/", "one step of skew");

    let list: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/staff").await.json().await.unwrap();
    let person = list.iter().find(|p| p["login"] == "verwaltung").unwrap();
    assert_eq!(person["mfa_enabled"], true);
    assert_eq!(person["last_login_at"], "2026-11-24T08:00:30+01:00");
}

#[tokio::test]
async fn recovery_codes_stand_in_for_the_app_once_each() {
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = logged_in(&app, "verwaltung", PASSWORD).await;
    let (_, codes) = enrol(&app, &desk).await;
    log_out(&desk).await;
    desk.log_in("verwaltung", PASSWORD).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(location(&desk.submit("/login/code", "/login/code", &[("code", &typed)]).await), "/");
    let (_, page) = desk.text("/account").await;
    assert_eq!(crate::web_client::text_of_id(&page, "codes-left"), "9");
    log_out(&desk).await;
    desk.log_in("verwaltung", PASSWORD).await;
    let reused = desk.submit("/login/code", "/login/code", &[("code", &codes[0])]).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(location(&desk.submit("/login/code", "/login/code", &[("code", &codes[1])]).await), "/");
}

#[tokio::test]
async fn five_wrong_codes_stop_further_tries_for_fifteen_minutes() {
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = logged_in(&app, "verwaltung", PASSWORD).await;
    let (secret, _) = enrol(&app, &desk).await;
    log_out(&desk).await;
    desk.log_in("verwaltung", PASSWORD).await;
    let valid: Vec<String> = [-30, 0, 30].iter().map(|d| totp_code(&secret, app.unix_now() + d)).collect();
    let wrong =
        ["000000", "111111", "222222", "333333"].into_iter().find(|c| !valid.contains(&(*c).to_owned())).unwrap();
    for _ in 0..5 {
        let response = desk.submit("/login/code", "/login/code", &[("code", wrong)]).await;
        assert!(response.text().await.unwrap().contains("falsch"));
    }
    app.clock.advance(TimeDelta::seconds(30));
    let right = totp_code(&secret, app.unix_now());
    let response = desk.submit("/login/code", "/login/code", &[("code", &right)]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "870", "the 15 minutes' wait, 30 seconds of it gone");
    assert!(response.text().await.unwrap().contains("Zu viele falsche Codes"), "even the right code waits");
    app.clock.advance(TimeDelta::minutes(15));
    let right = totp_code(&secret, app.unix_now());
    assert_eq!(location(&desk.submit("/login/code", "/login/code", &[("code", &right)]).await), "/");
}

#[tokio::test]
async fn an_admins_second_factor_reset_ends_the_persons_sessions_and_they_enrol_again() {
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = logged_in(&app, "verwaltung", PASSWORD).await;
    enrol(&app, &desk).await;
    let response = app.post_as(&app.admin_token, "/api/v1/staff/verwaltung/mfa-reset", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["mfa_enabled"], false);
    assert_eq!(body["login"], "verwaltung", "the person's account, as before");
    assert_eq!(desk.location("/book").await, "/login", "the session has ended");
    assert_eq!(app.audited("second_factor_reset", "verwaltung").await, 1);

    // Whoever knows the password cannot set up a factor of their own: it no longer works.
    let stranger = Desk::new(&app.address);
    assert_ne!(location(&stranger.log_in("verwaltung", PASSWORD).await), "/login/code");
    assert_eq!(stranger.location("/book").await, "/login", "the old password lets nobody in");

    // The person, with the one-time link: a new password, then straight to a new enrolment.
    let url = body["reset_url"].as_str().expect("a one-time link");
    assert!(body["reset_expires_at"].is_string(), "{body}");
    let path = &url[app.address.len()..];
    let person = Desk::new(&app.address);
    let done = person.submit(path, path, &[("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)]).await;
    assert_eq!(done.status(), StatusCode::OK);
    let desk = logged_in(&app, "verwaltung", NEW_PASSWORD).await;
    assert_eq!(desk.location("/book").await, "/account/mfa", "straight to a new enrolment");

    // A person without a second factor keeps their password, and no link is made.
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang/mfa-reset", &json!({})).await;
    let body: Value = response.json().await.unwrap();
    assert!(body["reset_url"].is_null(), "{body}");
    logged_in(&app, "empfang", PASSWORD).await;
}

/// A session logged in with the password alone and held at the enrolment step must not pass it
/// when the person sets up their factor in another browser: it never gave a code.
#[tokio::test]
async fn setting_up_a_second_factor_ends_the_other_sessions_held_at_that_step() {
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let (owner, stranger) =
        (logged_in(&app, "verwaltung", PASSWORD).await, logged_in(&app, "verwaltung", PASSWORD).await);
    assert_eq!(stranger.location("/book").await, "/account/mfa", "held at the step");
    let (_, held) = stranger.text("/account/mfa").await;

    let (_, codes) = enrol(&app, &owner).await;

    assert_eq!(stranger.location("/admin/staff").await, "/login", "the held session has ended");
    let renewed = stranger.post(&crate::web_client::csrf_of(&held), "/account/mfa/recovery-codes", &[]).await;
    assert_ne!(renewed.status(), StatusCode::OK, "no recovery codes for it");
    assert_eq!(owner.get("/admin/staff").await.status(), StatusCode::OK, "the enrolling session goes on");
    let renewed = owner.submit("/account", "/account/mfa/recovery-codes", &[]).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    assert!(!renewed.text().await.expect("body").contains(&codes[0]), "new codes");
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_keeps_this_one() {
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let (this, other) = (logged_in(&app, "empfang", PASSWORD).await, logged_in(&app, "empfang", PASSWORD).await);
    let reset = link(&app).await;
    let fields = [("current", PASSWORD), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    let response = this.submit("/account", "/account/password", &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Alle anderen Sitzungen sind beendet"));
    assert_eq!(this.get("/book").await.status(), StatusCode::OK, "this session goes on");
    assert_eq!(other.location("/book").await, "/login", "the other one has ended");
    assert_eq!(this.text(&reset).await.0, StatusCode::NOT_FOUND, "a reset link made before is void");
    // The page answered carries the renewed session's form token: its forms work.
    let out = this.post(&crate::web_client::csrf_of(&page), "/logout", &[]).await;
    assert_eq!(location(&out), "/login", "logged out with the page's own form");
    let this = logged_in(&app, "empfang", NEW_PASSWORD).await;
    assert_eq!(this.get("/book").await.status(), StatusCode::OK);

    // Through the API: the web sessions end, the token goes on.
    let web = logged_in(&app, "empfang", NEW_PASSWORD).await;
    let token = terminbuch::services::auth::create_token(&app.db, &app.clock, "empfang", "skript").await.unwrap();
    let wrong = json!({ "current_password": PASSWORD, "new_password": "Drei Eichhörnchen am Steintor" });
    let problem = assert_problem(
        app.post_as(&token, "/api/v1/me/password", &wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let weak = json!({ "current_password": NEW_PASSWORD, "new_password": "password1234" });
    let problem = assert_problem(
        app.post_as(&token, "/api/v1/me/password", &weak).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "new_password");
    let same = json!({ "current_password": NEW_PASSWORD, "new_password": NEW_PASSWORD });
    let problem = assert_problem(
        app.post_as(&token, "/api/v1/me/password", &same).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "new_password", "the same password is no change: {problem}");
    let good = json!({ "current_password": NEW_PASSWORD, "new_password": "Drei Eichhörnchen am Steintor" });
    assert_eq!(app.post_as(&token, "/api/v1/me/password", &good).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(web.location("/book").await, "/login");
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status(), StatusCode::OK, "API tokens stay");
    assert_eq!(app.audited("password_changed", "empfang").await, 2);
}

#[tokio::test]
async fn deactivation_ends_the_web_session_at_once() {
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = logged_in(&app, "empfang", PASSWORD).await;
    assert_eq!(desk.get("/book").await.status(), StatusCode::OK);
    app.post_as(&app.admin_token, "/api/v1/staff/empfang/deactivate", &json!({})).await;
    assert_eq!(desk.location("/book").await, "/login");
    assert_eq!(
        Desk::new(&app.address).log_in("empfang", PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "refused"
    );
    let wrong = Desk::new(&app.address).log_in("empfang", "nicht das Passwort").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY, "refused alike");
    let inactive = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'login_failed' \
                    AND detail LIKE '%\"account_inactive\":true%'";
    assert_eq!(app.count(inactive).await, 1, "the right password of the deactivated account is told apart");
    app.post_as(&app.admin_token, "/api/v1/staff/empfang/activate", &json!({})).await;
    assert_eq!(desk.location("/book").await, "/login", "the old session stays ended");

    // Back, the person logs in with the old password once and must choose a new one.
    let back = logged_in(&app, "empfang", PASSWORD).await;
    assert_eq!(back.location("/book").await, "/account/password", "a new password first");
    let recorded = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'staff_activated' \
                    AND detail LIKE '%\"password_change_required\":true%'";
    assert_eq!(app.count(recorded).await, 1, "the activation says so");
}

#[tokio::test]
async fn the_session_id_changes_after_the_password_and_after_the_code() {
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = logged_in(&app, "verwaltung", PASSWORD).await;
    let (secret, _) = enrol(&app, &desk).await;
    log_out(&desk).await;
    let after_password = desk.log_in("verwaltung", PASSWORD).await;
    let pending = desk.session_id(&after_password).await.expect("a session for the second step");
    app.clock.advance(TimeDelta::seconds(30));
    let code = totp_code(&secret, app.unix_now());
    let done = desk.submit("/login/code", "/login/code", &[("code", &code)]).await;
    let logged_in = desk.session_id(&done).await.expect("a new session id");
    assert_ne!(pending, logged_in);
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let old = replay
        .get(format!("{}/book", app.address))
        .header("cookie", format!("terminbuch_session={pending}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&old), "/login", "the id of the second step is no login");
}

/// A reset link for `empfang` made by the admin through the API; returns its path.
async fn link(app: &TestApp) -> String {
    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang/password-reset", &json!({})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let expected = (app.clock.now() + TimeDelta::hours(24)).with_timezone(&chrono_tz::Europe::Berlin).to_rfc3339();
    assert_eq!(body["expires_at"], expected, "valid 24 hours");
    let url = body["reset_url"].as_str().expect("a reset URL").to_owned();
    assert!(url.starts_with(&format!("{}/reset/", app.address)), "{url}");
    url[app.address.len()..].to_owned()
}

#[tokio::test]
async fn a_reset_link_works_once_only_the_newest_and_for_24_hours() {
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let path = link(&app).await;
    let desk = Desk::new(&app.address);
    let (status, page) = desk.text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("empfang"));
    let weak = desk.submit(&path, &path, &[("new", "passwort12345"), ("repeat", "passwort12345")]).await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text().await.unwrap().contains("id=\"pw-new-error\""),
        "the reason at the field; the link stays usable"
    );
    let done = desk.submit(&path, &path, &[("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)]).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("Ihr neues Passwort ist gespeichert"));
    logged_in(&app, "empfang", NEW_PASSWORD).await;
    assert_eq!(desk.text(&path).await.0, StatusCode::NOT_FOUND, "used up");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM sessions").await, 1, "the reset pages wrote no session row");

    let (older, newest) = (link(&app).await, link(&app).await);
    assert_eq!(desk.text(&older).await.0, StatusCode::NOT_FOUND, "a newer link voids the older");
    assert_eq!(desk.text(&newest).await.0, StatusCode::OK);
    app.clock.advance(TimeDelta::hours(24));
    assert_eq!(desk.text(&newest).await.0, StatusCode::NOT_FOUND, "24 hours later");

    let path = link(&app).await;
    let (first, second) = (Desk::new(&app.address), Desk::new(&app.address));
    let (a, b) = tokio::join!(
        first.submit(
            &path,
            &path,
            &[("new", "Drei Eichhörnchen am Steintor"), ("repeat", "Drei Eichhörnchen am Steintor")]
        ),
        second.submit(
            &path,
            &path,
            &[("new", "Vier Elstern im Georgengarten"), ("repeat", "Vier Elstern im Georgengarten")]
        ),
    );
    let statuses = [a.status(), b.status()];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "one of two at once: {statuses:?}");
    assert!(statuses.contains(&StatusCode::NOT_FOUND));
    let winner =
        if a.status() == StatusCode::OK { "Drei Eichhörnchen am Steintor" } else { "Vier Elstern im Georgengarten" };
    logged_in(&app, "empfang", winner).await;
    assert_eq!(app.audited("password_reset_link_used", "empfang").await, 2);
}

#[tokio::test]
async fn the_reset_page_is_never_cached_nor_sent_on_as_a_referrer() {
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let path = link(&app).await;
    let desk = Desk::new(&app.address);
    let form = desk.get(&path).await;
    let refused = desk.submit(&path, &path, &[("new", "passwort12345"), ("repeat", "passwort12345")]).await;
    let done = desk.submit(&path, &path, &[("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)]).await;
    let used = desk.get(&path).await;
    for (what, response, status) in [
        ("the form", &form, StatusCode::OK),
        ("a refused password", &refused, StatusCode::UNPROCESSABLE_ENTITY),
        ("the new password set", &done, StatusCode::OK),
        ("the used link", &used, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(response.status(), status, "{what}");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{what}");
        assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{what}");
        assert!(header("permissions-policy").is_some_and(|v| v.contains("camera=()")), "{what}");
    }
}

/// The `name`→`value` pairs of the hidden fields of the first form whose `action` is `action`.
fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("a form to {action}"));
    let form = html[start..].split("</form>").next().expect("the form");
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|field| {
            let (name, rest) = field.split_once('"').expect("a name");
            let value = rest.split("value=\"").nth(1).and_then(|v| v.split('"').next()).expect("a value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_reset_pages_language_switch_puts_the_token_in_no_address_and_returns_to_the_page() {
    // Arrange
    let app = without_mfa().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let path = link(&app).await;
    let token = path.strip_prefix("/reset/").expect("a reset path");
    let desk = Desk::new(&app.address);
    let (status, form) = desk.text(&path).await;
    assert_eq!(status, StatusCode::OK);
    let refused = desk.submit(&path, &path, &[("new", "passwort12345"), ("repeat", "passwort12345")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.expect("body");

    // Assert: the token is in the form's own action and in the body of the switch's form, in no
    // link (the switch was `/lang?to=en&back=%2Freset%2F…`).
    for (what, html) in [("the form", &form), ("a refused password", &refused)] {
        assert!(html.contains(&format!("<form method=\"post\" action=\"{path}\"")), "{what}: its own action");
        assert!(!html.contains("/lang?"), "{what}: no switch by link");
        let switch = hidden_fields(html, "/lang");
        assert!(switch.contains(&("back".to_owned(), path.clone())), "{what}: {switch:?}");
        assert_eq!(html.matches(token).count(), 2, "{what}: the token only there");
    }

    // Act: the switch as the page sends it.
    let switch = hidden_fields(&form, "/lang");
    let csrf = switch.iter().find(|(n, _)| n == "csrf").map(|(_, v)| v.clone()).expect("the switch's token");
    let fields: Vec<(&str, &str)> =
        switch.iter().filter(|(n, _)| n != "csrf").map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let switched = desk.post(&csrf, "/lang", &fields).await;

    // Assert: back on the reset page, in English, the link still usable.
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&switched), path);
    let (status, english) = desk.text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(english.contains("<html lang=\"en\">") && english.contains("Choose a new password"), "{english}");
    assert!(hidden_fields(&english, "/lang").contains(&("to".to_owned(), "de".to_owned())), "and back to German");

    // Only to this site, and only with the form's token.
    let elsewhere = desk.post(&csrf, "/lang", &[("to", "en"), ("back", "//evil.example/x")]).await;
    assert_eq!(location(&elsewhere), "/", "no open redirect");
    let forged = desk.post(&"x".repeat(32), "/lang", &[("to", "de"), ("back", path.as_str())]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a form without its token");
    let done = desk.submit(&path, &path, &[("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)]).await;
    let done = done.text().await.expect("body");
    assert!(done.contains("Your new password is saved"), "the link still works, in English");
    // The link is used up: the switch on the page that says so leads on to the login, not back
    // to the link (which would now say it is invalid), and the token is in no switch.
    let switch = done.split("href=\"/lang?").nth(1).and_then(|s| s.split('"').next()).expect("the switch link");
    assert!(switch.ends_with("back=%2Flogin") || switch.ends_with("back=/login"), "{switch}");
    assert!(!done.contains("action=\"/lang\"") && !done.contains(token), "{done}");
}

/// The same browser, one person after the other: a second factor the first began to set up is
/// not carried into the next person's login; a logout is recorded; a request that loaded the
/// session before the logout and saves it after does not bring it back.
#[tokio::test]
async fn the_next_login_on_a_browser_starts_clean_and_a_logout_is_recorded_and_stays() {
    use terminbuch::services::sessions::DbSessionStore;
    use tower_sessions::SessionStore;
    use tower_sessions::session::{Id, Record};

    let app = without_mfa().await;
    app.add_person("alpha", "front_desk", Some("ads")).await;
    app.add_person("beta", "front_desk", Some("ads")).await;
    let desk = logged_in(&app, "alpha", PASSWORD).await;
    let (_, html) = desk.text("/account/mfa").await;
    let begun = crate::web_client::text_of_id(&html, "secret");
    assert_eq!(desk.log_in("beta", PASSWORD).await.status(), StatusCode::SEE_OTHER, "beta logs in, alpha walked away");
    let (_, html) = desk.text("/account/mfa").await;
    assert_ne!(crate::web_client::text_of_id(&html, "secret"), begun, "beta's setup starts anew");

    log_out(&desk).await;
    let logged_out = "SELECT COUNT(*) AS n FROM audit_events a JOIN staff s ON a.actor_id = s.id \
                      WHERE a.action = 'logged_out' AND s.login = 'beta'";
    assert_eq!(app.count(logged_out).await, 1, "the logout is recorded");

    let store = DbSessionStore::new(app.db.clone());
    let expiry_date = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let data = std::collections::HashMap::from([("login".to_owned(), json!({ "staff_id": 1, "at": 0 }))]);
    let mut record = Record { id: Id::default(), data, expiry_date };
    store.create(&mut record).await.expect("test step");
    let loaded = store.load(&record.id).await.expect("test step").expect("the session is stored");
    store.delete(&record.id).await.expect("the logout");
    store.save(&loaded).await.expect("the slower request ends");
    assert!(store.load(&record.id).await.expect("test step").is_none(), "the logout stays");
}
