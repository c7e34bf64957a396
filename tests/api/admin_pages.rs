//! The admins' pages after an action: each successful form leads on to its page (303), so a
//! reload there does not do it again, and a reset link or a generated password is shown once.

use reqwest::StatusCode;
use terminbuch::domain::accounts::RequireMfa;

use crate::helpers::{TestApp, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, location};

/// The server and an administrator logged in on the pages.
async fn admin_desk() -> (TestApp, Desk) {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("chefin", "admin", None).await;
    let admin = Desk::new(&app.address);
    assert_eq!(admin.log_in("chefin", PASSWORD).await.status(), StatusCode::SEE_OTHER, "the admin logs in");
    (app, admin)
}

/// Sends the form of `page` to `action`; asserts the 303 to `page` with `done` and returns the
/// page it leads to, opened twice (as after a reload).
async fn sent_and_reloaded(admin: &Desk, page: &str, action: &str, fields: &[(&str, &str)], done: &str) -> [String; 2] {
    let response = admin.submit(page, action, fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{action}");
    let to = location(&response);
    assert_eq!(to, format!("{page}?done={done}"), "{action}");
    let mut shown = Vec::new();
    for _ in 0..2 {
        let (status, html) = admin.text(&to).await;
        assert_eq!(status, StatusCode::OK, "{to}");
        shown.push(html);
    }
    shown.try_into().expect("two pages")
}

/// An action on a person's page: its path, its fields, what `done=` names, words of its notice.
type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str, &'static str);

/// The text of the success notice of a page.
fn notice(html: &str) -> &str {
    let after = html.split("id=\"saved\"").nth(1).unwrap_or_else(|| panic!("a notice in {html:.2000}"));
    after.split("</div>").next().expect("notice").split("</p>").next().expect("text")
}

#[tokio::test]
async fn each_action_on_a_persons_page_leads_on_to_the_page_and_a_reload_does_not_repeat_it() {
    // Arrange
    let (app, admin) = admin_desk().await;
    app.add_person("empfang.neu", "front_desk", Some("ads")).await;
    let page = "/admin/staff/empfang.neu";

    // Act and assert, action by action: the notice after the redirect, and again after a reload.
    let cases: [Case; 5] = [
        ("deactivate", &[], "deactivated", "Deaktiviert"),
        ("activate", &[], "activated", "Wieder aktiv"),
        ("mfa-reset", &[], "mfa_reset", "keine Zwei-Faktor-Anmeldung eingerichtet"),
        ("tokens/revoke", &[], "tokens_revoked", "API-Tokens und das Kalender-Abo sind widerrufen"),
        ("remove-role", &[("role", "front_desk"), ("unit", "ads")], "role_removed", "Die Rolle wurde entfernt"),
    ];
    for (action, fields, done, text) in cases {
        let shown = sent_and_reloaded(&admin, page, &format!("{page}/{action}"), fields, done).await;
        for html in &shown {
            assert!(notice(html).contains(text), "{action}: {}", notice(html));
        }
    }
    assert_eq!(app.audited("second_factor_reset", "empfang.neu").await, 1, "reset once, not again on reload");
    assert_eq!(app.audited("staff_deactivated", "empfang.neu").await, 1, "deactivated once");
}

#[tokio::test]
async fn a_reset_link_is_shown_once_after_the_redirect_and_keeps_working_after_a_reload() {
    // Arrange
    let (app, admin) = admin_desk().await;
    app.add_person("empfang.neu", "front_desk", Some("ads")).await;
    let page = "/admin/staff/empfang.neu";

    // Act
    let [first, reloaded] = sent_and_reloaded(&admin, page, &format!("{page}/password-reset"), &[], "reset_link").await;

    // Assert: the link on the first page only, never in an address; the reload names it as shown.
    let link = first.split("id=\"reset-url\">").nth(1).expect("the link").split('<').next().expect("url").to_owned();
    assert!(link.starts_with(&format!("{}/reset/", app.address)), "{link}");
    assert!(!reloaded.contains("id=\"reset-url\"") && !reloaded.contains(&link), "shown once");
    assert!(notice(&reloaded).contains("schon angezeigt"), "{}", notice(&reloaded));
    let token = link.rsplit('/').next().expect("the token");
    assert!(!format!("{page}?done=reset_link").contains(token), "the address holds no link");
    let reset = Desk::new(&app.address);
    let (status, html) = reset.text(&link[app.address.len()..]).await;
    assert_eq!(status, StatusCode::OK, "the link handed over still works after the reload");
    assert!(html.contains("empfang.neu"), "the link's person");
}

#[tokio::test]
async fn a_generated_password_is_shown_once_on_the_staff_page_the_addition_leads_to() {
    // Arrange
    let (app, admin) = admin_desk().await;
    let fields = [
        ("login", "neu.person"),
        ("name", "Neue Person"),
        ("role", "counsellor"),
        ("unit", "ads"),
        ("lang_de", "1"),
        ("lang_tr", "1"),
    ];

    // Act
    let [first, reloaded] = sent_and_reloaded(&admin, "/admin/staff", "/admin/staff", &fields, "added").await;

    // Assert
    let password =
        first.split("id=\"new-password\">").nth(1).expect("the password").split('<').next().expect("pw").to_owned();
    assert!(password.len() >= 10, "{password}");
    assert!(!reloaded.contains(&password) && !reloaded.contains("id=\"new-password\""), "shown once");
    assert!(notice(&reloaded).contains("nur einmal"), "{}", notice(&reloaded));
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM staff WHERE login = 'neu.person'").await, 1);
    let person =
        terminbuch::store::directory::find_staff_by_login(&app.db, "neu.person").await.expect("db").expect("added");
    let codes: Vec<&str> = person.languages.iter().map(terminbuch::domain::language::Language::code).collect();
    assert_eq!(codes, ["de", "tr"], "each language ticked");
    let (_, fresh) = admin.text("/admin/staff").await;
    assert!(fresh.contains(r#"name="lang_de" type="checkbox" value="1" checked>"#), "German ticked for the next");
    assert!(fresh.contains(r#"name="lang_tr" type="checkbox" value="1">"#), "the rest not");
}

#[tokio::test]
async fn adding_a_unit_and_saving_retention_and_self_service_lead_on_to_their_pages() {
    // Arrange
    let (app, admin) = admin_desk().await;
    let location_id = app.count("SELECT CAST(MIN(id) AS BIGINT) AS n FROM locations").await.to_string();
    let unit = [
        ("slug", "neu"),
        ("name", "Neue Stelle"),
        ("short_name", "NEU"),
        ("phone", "0511 168-1"),
        ("email", "neu@hannover-stadt.de"),
        ("location", location_id.as_str()),
        ("minutes", "60"),
        ("retention_days", "90"),
    ];

    // Act and assert
    for html in sent_and_reloaded(&admin, "/admin/units", "/admin/units", &unit, "created").await {
        assert!(notice(&html).contains("angelegt"), "{}", notice(&html));
    }
    let retention = [("unit", "ads"), ("retention_days", "60")];
    for html in sent_and_reloaded(&admin, "/admin/units", "/admin/units/retention", &retention, "retention").await {
        assert!(html.contains("id=\"retention-saved\""), "the retention saved");
    }
    let page = "/admin/units/ads/self-service";
    let settings = [("cutoff_hours", "24"), ("max_moves", "2")];
    for html in sent_and_reloaded(&admin, page, page, &settings, "saved").await {
        assert!(notice(&html).contains("Gespeichert"), "{}", notice(&html));
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM units WHERE slug = 'neu'").await, 1, "added once");
    let refused = admin.submit(page, page, &[("cutoff_hours", "9999"), ("max_moves", "2")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "a refusal answers the page at its field");
}

/// One token revoked on the person's page: it (and only it of the person's) stops working, the
/// page says so; a token of someone else named under this person's address is not found and
/// stays valid.
#[tokio::test]
async fn one_token_is_revoked_on_the_persons_page_and_the_others_keep_working() {
    // Arrange: two tokens of one person, one of another.
    let (app, admin) = admin_desk().await;
    let kept = app.token_for("empfang.neu", "front_desk", Some("ads")).await;
    let revoked =
        terminbuch::services::auth::create_token(&app.db, &app.clock, "empfang.neu", "Skript").await.expect("token");
    let other = app.token_for("empfang.alt", "front_desk", Some("ads")).await;
    let id_of = |label: &'static str, login: &'static str| {
        let app = &app;
        async move {
            let tokens: Vec<serde_json::Value> = app
                .get_as(&app.admin_token, &format!("/api/v1/staff/{login}/tokens"))
                .await
                .json()
                .await
                .expect("json");
            tokens.iter().find(|t| t["name"] == label).expect("the token")["id"].as_i64().expect("id")
        }
    };
    let (id, others) = (id_of("Skript", "empfang.neu").await, id_of("test", "empfang.alt").await);
    let page = "/admin/staff/empfang.neu";
    let (_, html) = admin.text(page).await;
    assert!(html.contains(&format!("id=\"revoke-token-{id}\"")), "a button per valid token");

    // Act
    let [shown, _] = sent_and_reloaded(&admin, page, &format!("{page}/tokens/{id}/revoke"), &[], "token_revoked").await;
    let foreign = admin.submit(page, &format!("{page}/tokens/{others}/revoke"), &[]).await;

    // Assert
    assert!(notice(&shown).contains("Das API-Token ist widerrufen"), "{}", notice(&shown));
    assert!(!shown.contains(&format!("id=\"revoke-token-{id}\"")), "no button for a revoked token");
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND, "not this person's token");
    let status = |token: String| {
        let app = &app;
        async move { app.get_as(&token, "/api/v1/units").await.status() }
    };
    assert_eq!(status(revoked).await, StatusCode::UNAUTHORIZED, "the revoked token no longer works");
    assert_eq!(status(kept).await, StatusCode::OK, "the person's other token still works");
    assert_eq!(status(other).await, StatusCode::OK, "someone else's token is untouched");
    assert_eq!(app.audited("token_revoked", "empfang.neu").await, 1, "revoked once, not again on reload");
}

/// A second factor reset on the person's page: the one-time link (the person's password was
/// taken away with it) is shown once after the redirect, and works after a reload.
#[tokio::test]
async fn a_second_factor_reset_shows_the_one_time_link_once_and_the_old_password_stops_working() {
    // Arrange: a person with a second factor.
    let (app, admin) = admin_desk().await;
    app.add_person("verwaltung", "front_desk", Some("ads")).await;
    let person = Desk::new(&app.address);
    assert_eq!(location(&person.log_in("verwaltung", PASSWORD).await), "/");
    crate::web_client::enrol(&app, &person).await;
    let page = "/admin/staff/verwaltung";

    // Act
    let [first, reloaded] = sent_and_reloaded(&admin, page, &format!("{page}/mfa-reset"), &[], "mfa_reset_link").await;

    // Assert
    assert!(notice(&first).contains("Das bisherige Passwort gilt nicht mehr"), "{}", notice(&first));
    let link = first.split("id=\"reset-url\">").nth(1).expect("the link").split('<').next().expect("url").to_owned();
    assert!(!reloaded.contains("id=\"reset-url\""), "shown once");
    let stranger = Desk::new(&app.address);
    stranger.log_in("verwaltung", PASSWORD).await;
    assert_eq!(stranger.location("/book").await, "/login", "the old password lets nobody in");
    let path = &link[app.address.len()..];
    let new_password = "ein ganz neues Passwort 2026";
    let done = person.submit(path, path, &[("new", new_password), ("repeat", new_password)]).await;
    assert_eq!(done.status(), StatusCode::OK, "the link works");
    assert_eq!(location(&Desk::new(&app.address).log_in("verwaltung", new_password).await), "/");
    assert_eq!(app.audited("second_factor_reset", "verwaltung").await, 1, "reset once, not again on reload");
}

/// The person's page lists every valid token and the 10 newest ended ones, and says (German
/// first, English) how many older ended ones it leaves out; with none left out it says nothing.
#[tokio::test]
async fn the_persons_page_says_how_many_older_ended_tokens_it_does_not_list() {
    // Arrange: a valid token and twelve revoked ones.
    let (app, admin) = admin_desk().await;
    app.token_for("empfang.neu", "front_desk", Some("ads")).await;
    let page = "/admin/staff/empfang.neu";
    for i in 1..=12 {
        let label = format!("alt-{i:02}");
        terminbuch::services::auth::create_token(&app.db, &app.clock, "empfang.neu", &label).await.expect("token");
    }
    let (_, before) = admin.text(page).await;
    assert!(!before.contains("id=\"tokens-older\""), "all thirteen are valid and listed");
    let tokens: Vec<serde_json::Value> =
        app.get_as(&app.admin_token, "/api/v1/staff/empfang.neu/tokens").await.json().await.expect("json");
    for token in tokens.iter().filter(|t| t["name"].as_str().is_some_and(|n| n.starts_with("alt-"))) {
        let path = format!("/api/v1/tokens/{}", token["id"].as_i64().expect("an id"));
        assert!(app.delete_as(&app.admin_token, &path).await.status().is_success(), "{path} revoked");
    }

    // Act
    let (status, german) = admin.text(page).await;
    admin.get("/lang?to=en&back=/").await;
    let (_, english) = admin.text(page).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    for shown in (3..=12).map(|i| format!("alt-{i:02}")) {
        assert!(german.contains(&format!("<strong>{shown}</strong>")), "{shown}: one of the ten newest ended");
    }
    assert!(!german.contains("<strong>alt-01</strong>") && !german.contains("<strong>alt-02</strong>"));
    let older = crate::web_client::text_of_id(&german, "tokens-older");
    assert!(older.starts_with("Dazu 2 ältere widerrufene oder abgelaufene Tokens"), "{older}");
    let older = crate::web_client::text_of_id(&english, "tokens-older");
    assert!(older.starts_with("And 2 older revoked or expired tokens"), "{older}");
}
