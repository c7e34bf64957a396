//! A person's details changed by an admin: name, work email and counselling languages, through
//! the API (`PATCH /api/v1/staff/{login}`) and the person's page; the free-slot search follows at
//! once; refusals write nothing; each change audited once, with the fields' names only.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;

use crate::helpers::{TestApp, assert_problem, default_now, spawn_app, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, csrf_of, hidden, location, text_of_id};

/// A counsellor of the unit `ads`, as the staff list shows them.
async fn a_counsellor_of_ads(app: &TestApp) -> Value {
    let list: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/staff").await.json().await.expect("json");
    list.into_iter()
        .find(|p| {
            p["active"] == true
                && p["roles"].as_array().expect("roles").contains(&json!({ "role": "counsellor", "unit": "ads" }))
        })
        .expect("a counsellor of ads")
}

/// The ids of the counsellors whose free slots in `ads` the search finds for `language`.
async fn counsellors_found(app: &TestApp, language: &str) -> Vec<i64> {
    let slots = app.free_slots("ads", &format!("language={language}&limit=200")).await;
    let mut ids: Vec<i64> = slots.iter().map(|s| s["counsellor"]["id"].as_i64().expect("id")).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[tokio::test]
async fn an_admin_changes_a_counsellors_languages_and_the_search_finds_them_in_the_new_language_at_once() {
    // Arrange: Somali, which no counsellor of the unit speaks yet.
    let app = spawn_app().await;
    let person = a_counsellor_of_ads(&app).await;
    let (login, id) = (person["login"].as_str().expect("login").to_owned(), person["id"].as_i64().expect("id"));
    assert!(counsellors_found(&app, "so").await.is_empty(), "no one speaks Somali yet");
    assert!(counsellors_found(&app, "de").await.contains(&id), "the counsellor speaks German");

    // Act
    let body = json!({ "name": "  Amina Hassan ", "email": "amina.hassan@hannover-stadt.de", "languages": ["de", "so", "so"] });
    let response = app.patch_as(&app.admin_token, &format!("/api/v1/staff/{login}"), &body).await;

    // Assert: the account as changed, trimmed, each language once.
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.expect("json");
    assert_eq!(changed["name"], "Amina Hassan");
    assert_eq!(changed["email"], "amina.hassan@hannover-stadt.de");
    assert_eq!(changed["languages"], json!(["de", "so"]));
    assert_eq!(changed["roles"], person["roles"], "roles untouched");
    assert_eq!(counsellors_found(&app, "so").await, vec![id], "found in the new language at once");
    let slot = app.free_slots("ads", "language=so&limit=1").await;
    assert_eq!(slot[0]["counsellor"]["name"], "Amina Hassan", "the slots carry the new name");
    assert_eq!(app.audited("staff_changed", &login).await, 1);
    let detail = app
        .count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events a JOIN staff s ON a.target = 'staff:' || CAST(s.id AS TEXT) \
             WHERE a.action = 'staff_changed' AND s.login = '{login}' \
             AND a.detail LIKE '%\"fields\":[\"name\",\"email\",\"languages\"]%' AND a.detail NOT LIKE '%Amina%'"
        ))
        .await;
    assert_eq!(detail, 1, "the fields' names are recorded, not their values");

    // Act and assert: only the languages; the name and email stay; sending the same again changes nothing.
    let body = json!({ "languages": ["so"] });
    let again = app.patch_as(&app.admin_token, &format!("/api/v1/staff/{login}"), &body).await;
    let again: Value = again.json().await.expect("json");
    assert_eq!((&again["name"], &again["languages"]), (&json!("Amina Hassan"), &json!(["so"])));
    assert!(!counsellors_found(&app, "de").await.contains(&id), "no longer offered for German");
    let same = app.patch_as(&app.admin_token, &format!("/api/v1/staff/{login}"), &body).await;
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(app.audited("staff_changed", &login).await, 2, "an unchanged request is not recorded");

    // Act and assert: an empty email removes it, and so does null.
    let cleared = app.patch_as(&app.admin_token, &format!("/api/v1/staff/{login}"), &json!({ "email": "" })).await;
    assert_eq!(cleared.json::<Value>().await.expect("json")["email"], Value::Null);
    let body = json!({ "email": "amina@hannover-stadt.de" });
    let set: Value =
        app.patch_as(&app.admin_token, &format!("/api/v1/staff/{login}"), &body).await.json().await.expect("json");
    assert_eq!(set["email"], "amina@hannover-stadt.de");
    let nulled = app.patch_as(&app.admin_token, &format!("/api/v1/staff/{login}"), &json!({ "email": null })).await;
    assert_eq!(nulled.json::<Value>().await.expect("json")["email"], Value::Null, "null removes it too");
}

#[tokio::test]
async fn a_change_of_details_refused_writes_nothing_and_names_its_field() {
    // Arrange
    let app = spawn_app().await;
    let person = a_counsellor_of_ads(&app).await;
    let login = person["login"].as_str().expect("login").to_owned();
    let path = format!("/api/v1/staff/{login}");
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;

    // Act and assert: each refusal, with the name given beside it (which must not be stored).
    let cases = [
        (json!({ "name": "Neu", "email": "keine-adresse" }), "email"),
        (json!({ "name": "\u{200e}\u{200b}" }), "name"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x".repeat(201) }), "name"),
        (json!({ "name": "Zeile\nZwei" }), "name"),
        (json!({ "name": "Neu", "languages": ["de", "xx"] }), "languages[1]"),
        (json!({ "name": "Neu", "password": "geheim" }), "password"),
    ];
    for (body, field) in cases {
        let refused = app.patch_as(&app.admin_token, &path, &body).await;
        let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let named = problem["errors"].as_array().expect("errors").iter().any(|e| e["field"].as_str() == Some(field));
        assert!(named, "{body}: {problem}");
    }
    // Every wrong field at once.
    let all = json!({ "name": "", "email": "bad mail", "languages": ["de", "zz"] });
    let problem = assert_problem(
        app.patch_as(&app.admin_token, &path, &all).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "languages[1]", "name"], "{problem}");
    let forbidden = app.patch_as(&desk, &path, &json!({ "name": "Neu" })).await;
    assert_problem(forbidden, StatusCode::FORBIDDEN, "forbidden").await;
    let missing = app.patch_as(&app.admin_token, "/api/v1/staff/niemand", &json!({ "name": "Neu" })).await;
    assert_problem(missing, StatusCode::NOT_FOUND, "staff_not_found").await;

    // Assert: nothing written, nothing recorded as changed.
    let now: Value = app.get_as(&app.admin_token, &path).await.json().await.expect("json");
    assert_eq!(
        (&now["name"], &now["email"], &now["languages"]),
        (&person["name"], &person["email"], &person["languages"])
    );
    assert_eq!(app.audited("staff_changed", &login).await, 0);
}

/// Two admins change the same person through the API: the one who sends back the
/// `details_version` read before the other's change is refused (409 `concurrent_update`), nothing
/// written; sent with the new version, or without one, the change is made.
#[tokio::test]
async fn a_change_of_details_from_an_older_reading_is_refused_through_the_api() {
    // Arrange: both read the person; the other admin changes the name.
    let app = spawn_app().await;
    let person = a_counsellor_of_ads(&app).await;
    let path = format!("/api/v1/staff/{}", person["login"].as_str().expect("login"));
    let read: Value = app.get_as(&app.admin_token, &path).await.json().await.expect("json");
    let version = read["details_version"].clone();
    assert!(version.as_str().is_some_and(|v| !v.is_empty()), "{read}");
    let other =
        app.patch_as(&app.admin_token, &path, &json!({ "name": "Anderer Name", "details_version": version })).await;
    assert_eq!(other.status(), StatusCode::OK, "the first change from the reading");
    let after: Value = other.json().await.expect("json");
    assert_ne!(after["details_version"], version, "the version follows the details");

    // Act: the stale reading.
    let stale =
        app.patch_as(&app.admin_token, &path, &json!({ "email": "neu@example.org", "details_version": version })).await;

    // Assert: refused, nothing written; with the new version it is made.
    assert_problem(stale, StatusCode::CONFLICT, "concurrent_update").await;
    let now: Value = app.get_as(&app.admin_token, &path).await.json().await.expect("json");
    assert_eq!((&now["name"], &now["email"]), (&json!("Anderer Name"), &read["email"]), "nothing written");
    let fresh = json!({ "email": "neu@example.org", "details_version": after["details_version"] });
    let made = app.patch_as(&app.admin_token, &path, &fresh).await;
    assert_eq!(made.status(), StatusCode::OK);
    let blind = app.patch_as(&app.admin_token, &path, &json!({ "name": "Dritter Name" })).await;
    assert_eq!(blind.status(), StatusCode::OK, "without a reading, as before");
}

/// The server, a new counsellor `berater.neu` of `ads` (no email, no languages) and an admin
/// logged in on the pages.
async fn admin_and_new_counsellor() -> (TestApp, Desk) {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("chefin", "admin", None).await;
    app.add_person("berater.neu", "counsellor", Some("ads")).await;
    let admin = Desk::new(&app.address);
    assert_eq!(admin.log_in("chefin", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    (app, admin)
}

#[tokio::test]
async fn an_admin_changes_details_on_the_persons_page_and_a_refusal_keeps_what_was_typed() {
    // Arrange
    let (app, admin) = admin_and_new_counsellor().await;
    let page = "/admin/staff/berater.neu";
    let (status, html) = admin.text(page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="person-lang-tr" name="lang_tr" type="checkbox" value="1">"#), "Turkish unticked");

    // Act: a bad email, with a new name and Turkish ticked.
    let fields = [("name", "Berater Neu"), ("email", "kein@"), ("lang_de", "1"), ("lang_tr", "1")];
    let refused = admin.submit(page, &format!("{page}/details"), &fields).await;

    // Assert: the message at the field, what was typed kept, nothing stored.
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("html");
    assert!(text_of_id(&html, "person-email-error").contains("gültige E-Mail-Adresse"), "{html:.3000}");
    assert!(html.contains(r#"value="Berater Neu""#) && html.contains(r#"value="kein@""#));
    assert!(html.contains(r#"<h2 id="error-summary-title">Bitte korrigieren Sie Folgendes:</h2>"#), "a correction");
    assert!(html.contains(r#"name="lang_tr" type="checkbox" value="1" checked>"#), "the ticks kept");
    let stored: Value = app.get_as(&app.admin_token, "/api/v1/staff/berater.neu").await.json().await.expect("json");
    assert_eq!((&stored["name"], &stored["languages"]), (&json!("berater.neu Test"), &json!([])));

    // Act: corrected.
    let fields = [("name", "Berater Neu"), ("email", "berater@hannover-stadt.de"), ("lang_de", "1"), ("lang_tr", "1")];
    let saved = admin.submit(page, &format!("{page}/details"), &fields).await;

    // Assert: on to the page, which shows the change; the API reads it too.
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), format!("{page}?done=details"));
    let (_, html) = admin.text(&location(&saved)).await;
    assert!(html.contains(r#"id="saved"><p>Die Angaben wurden gespeichert.</p>"#), "{html:.3000}");
    assert!(html.contains(r#"name="lang_tr" type="checkbox" value="1" checked>"#));
    let stored: Value = app.get_as(&app.admin_token, "/api/v1/staff/berater.neu").await.json().await.expect("json");
    assert_eq!(stored["name"], "Berater Neu");
    assert_eq!(stored["email"], "berater@hannover-stadt.de");
    assert_eq!(stored["languages"], json!(["de", "tr"]));
    assert_eq!(app.audited("staff_changed", "berater.neu").await, 1);
}

#[tokio::test]
async fn the_details_form_does_not_undo_a_colleagues_change_made_meanwhile_and_names_every_wrong_field() {
    // Arrange: the admin opens the person's page; a colleague then changes email and languages.
    let (app, admin) = admin_and_new_counsellor().await;
    let page = "/admin/staff/berater.neu";
    let (_, opened) = admin.text(page).await;
    let (csrf, seen) = (csrf_of(&opened), hidden(&opened, "seen"));
    let colleague = json!({ "email": "berater@hannover-stadt.de", "languages": ["de", "tr"] });
    assert_eq!(app.patch_as(&app.admin_token, "/api/v1/staff/berater.neu", &colleague).await.status(), StatusCode::OK);

    // Act: the form as it was opened, with a new name and German only.
    let fields = [("name", "Berater Neu"), ("email", ""), ("lang_de", "1"), ("seen", seen.as_str())];
    let refused = admin.post(&csrf, &format!("{page}/details"), &fields).await;

    // Assert: refused, the colleague's change kept and shown, what was typed kept.
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("html");
    assert!(
        html.contains("inzwischen geändert") && html.contains("berater@hannover-stadt.de; Deutsch, Türkisch"),
        "{html:.3000}"
    );
    assert!(html.contains(r#"value="Berater Neu""#), "typed name kept");
    assert!(html.contains(r#"<h2 id="error-summary-title">Bitte beachten Sie:</h2>"#), "nothing to correct");
    let stored: Value = app.get_as(&app.admin_token, "/api/v1/staff/berater.neu").await.json().await.expect("json");
    assert_eq!((&stored["email"], &stored["languages"]), (&json!("berater@hannover-stadt.de"), &json!(["de", "tr"])));
    assert_eq!((&stored["name"], app.audited("staff_changed", "berater.neu").await), (&json!("berater.neu Test"), 1));

    // Act and assert: saved again from the refusal (it carries what is stored now), knowingly.
    let again = admin
        .post(
            &csrf_of(&html),
            &format!("{page}/details"),
            &[("name", "Berater Neu"), ("email", ""), ("lang_de", "1"), ("seen", &hidden(&html, "seen"))],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let stored: Value = app.get_as(&app.admin_token, "/api/v1/staff/berater.neu").await.json().await.expect("json");
    assert_eq!(
        (&stored["name"], &stored["email"], &stored["languages"]),
        (&json!("Berater Neu"), &Value::Null, &json!(["de"]))
    );

    // Act and assert: a blank name and a wrong email are both named, each at its field.
    let (_, html) = admin.text(page).await;
    let fields = [("name", "   "), ("email", "jana wb@hannover.de"), ("seen", &hidden(&html, "seen"))];
    let refused = admin.post(&csrf_of(&html), &format!("{page}/details"), &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("html");
    assert!(text_of_id(&html, "person-name-error").contains("Bitte füllen Sie dieses Feld aus"), "{html:.3000}");
    assert!(text_of_id(&html, "person-email-error").contains("gültige E-Mail-Adresse"), "{html:.3000}");
}
