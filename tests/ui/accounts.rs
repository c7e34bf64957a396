//! The accounts in a real browser, by keyboard, with axe-core at 1280 and 320 px on each new page
//! and state: the forced password change, the TOTP enrolment with its QR code and recovery
//! codes, the code at login, the account page, the admins' person page and a reset link.

use std::time::Duration;

use terminbuch::domain::accounts::RequireMfa;
use terminbuch::services::directory::{self, StaffInput, StaffRole};
use totp_rs::{Builder, Secret};

use crate::app::{ADMIN, LOGIN, PASSWORD, UiApp, now, spawn, spawn_with};
use crate::browser::{self, Browser, SPACE};

/// axe-core at 1280 px and at 320 px, where the page must not scroll sideways either.
async fn check(browser: &Browser, state: &str) {
    browser.at_width(1280).await;
    browser.assert_accessible(&format!("{state}, 1280 px")).await;
    let content = browser.at_width(320).await;
    assert!(content <= 321, "{state}: the page scrolls sideways at 320 px ({content} px wide)");
    browser.assert_accessible(&format!("{state}, 320 px")).await;
    browser.at_width(1280).await;
}

/// The code an authenticator app shows for `secret`, `steps_ahead` time steps after the app's now.
fn code(secret: &str, steps_ahead: i64) -> String {
    let bytes = Secret::try_from_base32(secret).expect("base32").as_bytes().to_vec();
    let totp = Builder::new().with_secret(bytes).build().expect("totp");
    totp.generate(u64::try_from(now().timestamp() + 30 * steps_ahead).expect("positive")).to_string()
}

/// Waits (up to 10 s) until the page's path is `path`: Enter in a form may still be loading.
async fn wait_path(browser: &Browser, path: &str) {
    for _ in 0..100 {
        if browser.path().await == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(browser.path().await, path);
}

async fn log_in(app: &UiApp, browser: &Browser, login: &str, password: &str) {
    browser.goto(&format!("{}/login", app.address)).await;
    browser.type_into("login", login).await;
    browser.type_into("password", password).await;
    browser.enter().await;
}

async fn fill_password(browser: &Browser, current: Option<&str>, new: &str, repeat: &str) {
    if let Some(current) = current {
        browser.type_into("pw-current", current).await;
    }
    browser.type_into("pw-new", new).await;
    browser.type_into("pw-repeat", repeat).await;
    browser.enter().await;
}

#[tokio::test]
async fn a_new_admin_replaces_the_given_password_enrols_a_second_factor_and_logs_in_with_a_code() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn_with(|s| s.require_mfa = RequireMfa::Admin).await;
    let input = StaffInput {
        login: "neu.admin".into(),
        display_name: "Neue Administratorin".into(),
        email: None,
        languages: vec![terminbuch::domain::language::Language::GERMAN],
        role: StaffRole::Admin,
        unit: None,
        password: None,
    };
    let clock = terminbuch::clock::Clock::fixed(now());
    let generated = directory::add_staff(&app.db, &clock, input).await.expect("added").password.expect("generated");

    log_in(&app, &browser, "neu.admin", &generated).await;
    wait_path(&browser, "/account/password").await;
    assert!(browser.text_of("#forced").await.contains("nicht selbst gewählt"));
    check(&browser, "forced password change").await;
    fill_password(&browser, Some(&generated), "passwort", "passwort").await;
    assert!(browser.text_of("#pw-new-error").await.contains("mindestens 12 Zeichen"));
    check(&browser, "forced password change, too short").await;
    fill_password(&browser, Some(&generated), "Kastanienallee im Herbstlaub", "Kastanienallee im Herbstlaub").await;

    wait_path(&browser, "/account/mfa").await;
    assert!(browser.text_of("#required").await.contains("vorgeschrieben"));
    check(&browser, "enrolment").await;
    browser.type_into("mfa-code", "000000").await;
    browser.enter().await;
    assert!(browser.text_of("#error-summary").await.contains("falsch"));
    check(&browser, "enrolment, wrong code").await;
    let secret = browser.text_of("#secret").await;
    browser.type_into("mfa-code", &code(&secret, 0)).await;
    browser.enter().await;
    assert_eq!(browser.client.find_all(fantoccini::Locator::Css("#codes li")).await.expect("codes").len(), 10);
    check(&browser, "recovery codes").await;
    browser.tab_to("codes-continue").await;
    browser.enter().await;
    wait_path(&browser, "/book").await;

    browser.tab_to("nav-account").await;
    browser.enter().await;
    assert_eq!(browser.text_of("#codes-left").await, "10");
    check(&browser, "account").await;
    fill_password(&browser, Some("falsch"), "Sonnenblumen über dem Maschsee", "Sonnenblumen über dem Maschsee").await;
    assert!(browser.text_of("#pw-current-error").await.contains("falsch"));
    check(&browser, "account, wrong current password").await;
    let (new, current) = ("Sonnenblumen über dem Maschsee", "Kastanienallee im Herbstlaub");
    fill_password(&browser, Some(current), new, new).await;
    assert!(browser.text_of("#saved").await.contains("geändert"));
    check(&browser, "account, password changed").await;

    browser.tab_to("logout").await;
    browser.enter().await;
    log_in(&app, &browser, "neu.admin", new).await;
    wait_path(&browser, "/login/code").await;
    check(&browser, "second factor").await;
    browser.type_into("code", &code(&secret, 0)).await;
    browser.enter().await;
    assert!(browser.text_of("#code-error").await.contains("schon verwendet"), "the enrolment's code was used");
    check(&browser, "second factor, code used").await;
    browser.type_into("code", &code(&secret, 1)).await;
    browser.enter().await;
    wait_path(&browser, "/book").await;
}

#[tokio::test]
async fn an_admin_hands_out_a_reset_link_and_the_person_sets_a_password_with_it_by_keyboard() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in(&app, &browser, ADMIN, PASSWORD).await;
    wait_path(&browser, "/book").await;
    browser.tab_to("nav-staff").await;
    browser.enter().await;
    check(&browser, "staff list").await;
    browser.tab_to(&format!("person-{LOGIN}")).await;
    browser.enter().await;
    assert_eq!(browser.path().await, format!("/admin/staff/{LOGIN}"));
    check(&browser, "a person's page").await;
    // Their counselling languages: Turkish ticked with the keyboard and saved.
    browser.tab_to("person-lang-tr").await;
    browser.press(SPACE).await;
    browser.tab_to("person-save").await;
    browser.enter().await;
    assert!(browser.text_of("#saved").await.contains("Angaben wurden gespeichert"));
    let person = terminbuch::store::directory::find_staff_by_login(&app.db, LOGIN).await.expect("read").expect("found");
    assert!(person.languages.iter().any(|l| l.code() == "tr"), "{:?}", person.languages);
    check(&browser, "a person's page, details saved").await;
    browser.tab_to("password-reset").await;
    browser.enter().await;
    let link = browser.text_of("#reset-url").await;
    assert!(link.starts_with(&format!("{}/reset/", app.address)), "{link}");
    check(&browser, "a person's page, reset link").await;

    browser.goto(&format!("{}/admin/staff/admin", app.address)).await;
    browser.tab_to("deactivate").await;
    browser.enter().await;
    assert!(browser.text_of("#saved").await.contains("Deaktiviert"));
    check(&browser, "a person's page, deactivated").await;
    browser.goto(&format!("{}/admin/staff/{ADMIN}", app.address)).await;
    browser.tab_to("deactivate").await;
    browser.enter().await;
    assert!(browser.text_of("#refused").await.contains("letzte aktive"));
    check(&browser, "a person's page, the last admin").await;

    browser.tab_to("logout").await;
    browser.enter().await;
    browser.goto(&link).await;
    assert_eq!(browser.text_of("#reset-login-name").await, LOGIN);
    check(&browser, "reset link").await;
    // The language switch is a form here (the token in no address) and leads back to the page.
    let reset_path = link[app.address.len()..].to_owned();
    browser.tab_to("lang-switch").await;
    browser.enter().await;
    assert_eq!(browser.path().await, reset_path);
    assert_eq!(browser.text_of("h1").await, "Choose a new password");
    check(&browser, "reset link, in English").await;
    browser.tab_to("lang-switch").await;
    browser.enter().await;
    assert_eq!(browser.text_of("h1").await, "Neues Passwort festlegen");
    fill_password(&browser, None, "password1234", "password1234").await;
    assert!(browser.text_of("#pw-new-error").await.contains("Datenlecks"));
    check(&browser, "reset link, breached password").await;
    fill_password(&browser, None, "Vier Elstern im Georgengarten", "Vier Elstern im Georgengarten").await;
    assert!(browser.text_of("#saved").await.contains("gespeichert"));
    check(&browser, "reset link, done").await;
    browser.tab_to("reset-login").await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/login");
    browser.goto(&link).await;
    assert!(browser.text_of("#reset-invalid").await.contains("schon verwendet"));
    check(&browser, "reset link, used").await;
    log_in(&app, &browser, LOGIN, "Vier Elstern im Georgengarten").await;
    wait_path(&browser, "/book").await;
}
