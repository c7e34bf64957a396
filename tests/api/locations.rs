//! Locations: admins add them and change their address, floor and accessibility notes (also in
//! the emails' other languages) through the API and the admin page; the citizen's email, page and
//! calendar entry tell the floor and notes in the citizen's language, German where there is none;
//! the desk's pages tell the floor in the page's language.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::mail::{book, spawn_with_manual_mail};
use crate::smtp_sink::SmtpSink;
use crate::web_client::{Desk, PASSWORD, enrol, location, text_of_id};

/// The demo data's one location.
async fn the_location(app: &TestApp) -> Value {
    let response = app.get_as(&app.admin_token, "/api/v1/locations").await;
    assert_eq!(response.status(), StatusCode::OK);
    let locations: Vec<Value> = response.json().await.expect("json");
    assert_eq!(locations.len(), 1, "{locations:?}");
    locations[0].clone()
}

fn fields(floor: &str) -> Value {
    json!({
        "name": "Fachbereich Soziales, Hamburger Allee 25",
        "street": "Hamburger Allee 25",
        "postal_code": "30161",
        "city": "Hannover",
        "floor": floor,
        "accessibility_notes": "Aufzug vorhanden",
    })
}

#[tokio::test]
async fn an_english_email_tells_the_floor_and_notes_in_english_and_a_turkish_one_in_german_where_none_are_given() {
    // Arrange: the location gets English texts.
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let id = the_location(&app).await["id"].as_i64().expect("id");
    let mut body = fields("11. Stock");
    body["translations"] = json!({ "en": { "floor": "11th floor", "accessibility_notes": "Lift available" } });
    let response = app.put_as(&app.admin_token, &format!("/api/v1/locations/{id}"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.expect("json");
    assert_eq!(changed["translations"]["en"]["floor"], "11th floor");

    // Act: an English and a Turkish citizen are booked, and their confirmations sent.
    book(&app, "suedosteuropa", "2026-12-01T10:00", "jane@example.org", "en").await;
    book(&app, "suedosteuropa", "2026-12-01T11:00", "ayse@example.org", "tr").await;
    assert_eq!(mail.run_once().await.expect("a pass").sent, 2);

    // Assert
    let received = sink.received();
    let english = received.iter().find(|m| m.text().contains("Floor:")).expect("the English email").text();
    assert!(english.contains("Floor: 11th floor") && english.contains("Accessibility: Lift available"), "{english}");
    assert!(!english.contains("11. Stock") && !english.contains("Aufzug"), "{english}");
    let calendar = received.iter().find(|m| m.text().contains("Floor:")).expect("English").calendar();
    assert!(calendar.contains("11th floor"), "the calendar entry's place: {calendar}");
    let turkish = received.iter().find(|m| !m.text().contains("Floor:")).expect("the Turkish email").text();
    assert!(turkish.contains("11. Stock") && turkish.contains("Aufzug vorhanden"), "{turkish}");
}

/// The desk speaks the page's language, and the place it shows too: the read-back (read aloud with
/// the page's date, time and spelling alphabet), the booking's page and the booking form give the
/// floor in English on the English page, where the location has an English floor, whatever the
/// caller's language (their emails follow theirs, see above).
#[tokio::test]
async fn the_desk_pages_give_the_floor_in_the_pages_language() {
    // Arrange: the location gets an English floor; a Turkish caller is booked.
    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("suedosteuropa")).await;
    let id = the_location(&app).await["id"].as_i64().expect("id");
    let mut body = fields("11. Stock");
    body["translations"] = json!({ "en": { "floor": "11th floor" }, "tr": { "floor": "11. kat" } });
    let response = app.put_as(&app.admin_token, &format!("/api/v1/locations/{id}"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let booking = book(&app, "suedosteuropa", "2026-12-01T10:00", "ayse@example.org", "tr").await;
    let reference = booking["reference"].as_str().expect("a reference");
    let slot = app.free_slots("suedosteuropa", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let pages = [
        format!("/bookings/{reference}/booked"),
        format!("/bookings/{reference}"),
        format!("/book/details?slot={slot}"),
    ];

    // Act and assert
    for page in &pages {
        let (status, html) = desk.text(page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains("Hamburger Allee 25, 11. Stock"), "{page} in German: {html}");
        assert!(!html.contains("11th floor") && !html.contains("11. kat"), "{page} in German");
    }
    desk.get("/lang?to=en&back=/").await;
    for page in &pages {
        let (status, html) = desk.text(page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains("Hamburger Allee 25, 11th floor"), "{page} in English: {html}");
        assert!(!html.contains("11. Stock") && !html.contains("11. kat"), "{page} in English");
    }
}

#[tokio::test]
async fn only_admins_change_locations_bad_fields_are_named_and_every_change_is_audited() {
    // Arrange
    let app = spawn_app().await;
    let desk_token = app.token_for("empfang-loc", "front_desk", Some("suedosteuropa")).await;
    let id = the_location(&app).await["id"].as_i64().expect("id");
    let path = format!("/api/v1/locations/{id}");

    // Act and assert: staff may read, not write.
    assert_eq!(app.get_as(&desk_token, &path).await.status(), StatusCode::OK);
    assert_eq!(app.put_as(&desk_token, &path, &fields("EG")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post_as(&desk_token, "/api/v1/locations", &fields("EG")).await.status(), StatusCode::FORBIDDEN);

    // Bad fields: a line break (it would forge a line of the email), an empty street, a
    // language not supported, German as a translation; nothing of them is stored.
    let with_break = fields("11. Stock\r\nBcc: x@example.org");
    let problem = assert_problem(
        app.put_as(&app.admin_token, &path, &with_break).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(problem.to_string().contains("floor"), "{problem}");
    let mut no_street = fields("EG");
    no_street["street"] = json!("  ");
    let problem = assert_problem(
        app.put_as(&app.admin_token, &path, &no_street).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(problem.to_string().contains("street"), "{problem}");
    // A postal code with a typo would go into every citizen's email.
    let mut typo = fields("EG");
    typo["postal_code"] = json!("3O161");
    let problem = assert_problem(
        app.put_as(&app.admin_token, &path, &typo).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "postal_code", "{problem}");
    for language in ["xx", "de"] {
        let mut body = fields("EG");
        body["translations"] = json!({ language: { "floor": "x" } });
        let problem = assert_problem(
            app.put_as(&app.admin_token, &path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(problem.to_string().contains("translations"), "{language}: {problem}");
    }
    assert_eq!(the_location(&app).await["floor"], "11. Stock", "nothing stored");
    let missing = app.put_as(&app.admin_token, "/api/v1/locations/999999", &fields("EG")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // A new one and a change, each with its audit record naming what changed.
    let created = app.post_as(&app.admin_token, "/api/v1/locations", &json!({
        "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover", "floor": "EG",
    })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["accessibility_notes"], "");
    assert_eq!(app.put_as(&app.admin_token, &path, &fields("12. Stock")).await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'location_created'").await, 1);
    let changed = app
        .count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'location_changed' AND detail LIKE '%\"floor\"%'")
        .await;
    assert_eq!(changed, 1, "one change, naming the floor");
    // A unit can now be added at the new location, which the units list names by id.
    let unit = app
        .post_as(
            &app.admin_token,
            "/api/v1/units",
            &json!({
                "slug": "aussen", "name": "Außenstelle Beratung", "short_name": "AB", "phone": "0511 168-0",
                "email": "aussen@example.org", "location_id": created["id"], "default_appointment_minutes": 45,
            }),
        )
        .await;
    assert_eq!(unit.status(), StatusCode::CREATED);
    let unit: Value = unit.json().await.expect("json");
    assert_eq!(unit["location"]["id"], created["id"]);
}

/// `notify_citizens` is for a change: a new location has no appointments. The OpenAPI document
/// lists it for `PUT` only, and `POST` refuses it as any unknown field, naming it; nothing is added.
#[tokio::test]
async fn a_new_location_refuses_notify_citizens_as_its_schema_does_not_list_it() {
    // Arrange
    let app = spawn_app().await;
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.expect("openapi");
    let body_schema = |method: &str| {
        let schema = &doc["paths"]["/api/v1/locations"][method]["requestBody"]["content"]["application/json"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(reference) => &doc["components"]["schemas"][reference.rsplit('/').next().expect("a name")],
            None => schema,
        };
        schema.clone()
    };
    let put = &doc["paths"]["/api/v1/locations/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"];
    let put = &doc["components"]["schemas"][put["$ref"].as_str().expect("a ref").rsplit('/').next().expect("name")];
    let mut body = json!({
        "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover", "floor": "EG",
    });
    body["notify_citizens"] = json!(false);

    // Act
    let refused = app.post_as(&app.admin_token, "/api/v1/locations", &body).await;

    // Assert
    let post = body_schema("post");
    assert!(post["properties"].get("notify_citizens").is_none(), "{post}");
    assert!(post["properties"].get("floor").is_some(), "{post}");
    assert_eq!(post["additionalProperties"], json!(false), "unknown fields are refused: {post}");
    assert!(put["properties"].get("notify_citizens").is_some(), "a change takes it: {put}");
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "notify_citizens", "{problem}");
    assert!(problem["detail"].as_str().expect("a detail").contains("notify_citizens"), "{problem}");
    let response = app.get_as(&app.admin_token, "/api/v1/locations").await;
    assert_eq!(response.json::<Vec<Value>>().await.expect("json").len(), 1, "nothing added");
    body.as_object_mut().expect("an object").remove("notify_citizens");
    let created = app.post_as(&app.admin_token, "/api/v1/locations", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED, "the same without it");
}

#[tokio::test]
async fn an_admin_adds_and_changes_a_location_on_the_page_and_a_reload_sends_nothing_again() {
    // Arrange: an admin logged in with a second factor.
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("verwaltung", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    enrol(&app, &desk).await;
    let add = [
        ("name", "Außenstelle"),
        ("street", "Am Markt 1"),
        ("postal_code", "30159"),
        ("city", "Hannover"),
        ("floor", "EG"),
        ("accessibility_notes", ""),
        ("floor_en", "ground floor"),
        ("notes_en", ""),
        ("floor_fa", "طبقه همکف"),
    ];

    // Act: a form with an empty street, then the whole form.
    let mut empty_street = add;
    empty_street[1] = ("street", " ");
    let refused = desk.submit("/admin/locations", "/admin/locations", &empty_street).await;
    let refused_status = refused.status();
    let refused = refused.text().await.expect("page");
    let added = desk.submit("/admin/locations", "/admin/locations", &add).await;

    // Assert: the refusal at its field, typed values kept; the addition leads to the list.
    assert_eq!(refused_status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains(r#"id="loc-street-error""#), "{refused}");
    assert!(refused.contains(r#"value="ground floor""#), "what was typed is kept");
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), "/admin/locations?done=added");
    let (_, list) = desk.text("/admin/locations?done=added").await;
    assert!(list.contains(r#"id="saved""#) && list.contains("Außenstelle") && list.contains("Englisch"), "{list}");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM locations WHERE name = 'Außenstelle'").await, 1);

    // Change it: the edit page holds the stored texts; saving leads back to the list.
    let id = app.count("SELECT CAST(id AS BIGINT) AS n FROM locations WHERE name = 'Außenstelle'").await;
    let edit = format!("/admin/locations/{id}");
    let (status, form) = desk.text(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(r#"value="ground floor""#) && form.contains(r#"value="Am Markt 1""#), "{form}");
    assert!(form.contains(r#"id="loc-floor-fa" name="floor_fa" type="text" value="طبقه همکف""#), "{form}");
    // Typed right to left where the text is (every text input takes its direction from its text).
    let floor_fa = form.split(r#"id="loc-floor-fa""#).nth(1).and_then(|s| s.split('>').next()).expect("the input");
    assert!(floor_fa.contains(r#"dir="auto""#), "{floor_fa}");
    // A Polish text given through the API, which the form does not show, outlives the page's save.
    let mut with_polish = json!({
        "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover", "floor": "EG",
    });
    with_polish["translations"] = json!({
        "pl": { "floor": "parter" }, "en": { "floor": "ground floor" }, "fa": { "floor": "طبقه همکف" },
    });
    let put = app.put_as(&app.admin_token, &format!("/api/v1/locations/{id}"), &with_polish).await;
    assert_eq!(put.status(), StatusCode::OK);
    let mut change = add;
    change[4] = ("floor", "1. OG");
    // A new floor with the translations as they were: asked first (they would send the people who
    // read them to the old floor), at the first of them, nothing saved.
    let asked = desk.submit(&edit, &edit, &change).await;
    assert_eq!(asked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let asked = asked.text().await.expect("page");
    let at_english = text_of_id(&asked, "loc-floor-en-error");
    assert!(at_english.contains("die Übersetzungen (en, fa) nennen noch das bisherige"), "{at_english}");
    assert!(asked.contains(r#"id="loc-floor-kept""#), "the form asks whether they still hold");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM locations WHERE floor = '1. OG'").await, 0, "nothing saved");
    // Confirmed: they still hold.
    let confirmed: Vec<(&str, &str)> = change.iter().copied().chain([("floor_kept", "1")]).collect();
    let saved = desk.submit(&edit, &edit, &confirmed).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), "/admin/locations?done=saved&notices=0", "a floor of no appointment's place");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM locations WHERE floor = '1. OG'").await, 1);
    let kept = app.get_as(&app.admin_token, &format!("/api/v1/locations/{id}")).await;
    let kept: Value = kept.json().await.expect("json");
    assert_eq!(kept["translations"]["pl"]["floor"], "parter", "{kept}");
    assert_eq!(kept["translations"]["en"]["floor"], "ground floor", "{kept}");
    assert_eq!(kept["translations"]["fa"]["floor"], "طبقه همکف", "{kept}");
    assert_eq!(desk.get("/admin/locations/999999").await.status(), StatusCode::NOT_FOUND);
}
