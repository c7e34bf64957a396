//! The rest of a location's life: a change of its address or floor tells the citizens with
//! upcoming appointments at its units (an email with the new place and a calendar entry that
//! replaces theirs), unless the admin says not to; a location no unit uses can be deleted.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::mail::{book, spawn_with_manual_mail};
use crate::smtp_sink::{Received, SmtpSink};
use crate::web_client::{Desk, PASSWORD, enrol, location};

/// The demo data's one location (every demo unit receives there).
async fn demo_location(app: &TestApp) -> i64 {
    let response = app.get_as(&app.admin_token, "/api/v1/locations").await;
    let locations: Vec<Value> = response.json().await.expect("json");
    locations[0]["id"].as_i64().expect("id")
}

fn fields(street: &str) -> Value {
    json!({
        "name": "Fachbereich Soziales, Hamburger Allee 25",
        "street": street,
        "postal_code": "30161",
        "city": "Hannover",
        "floor": "11. Stock",
        "accessibility_notes": "Aufzug vorhanden",
    })
}

/// Adds a second location; returns its id.
async fn second_location(app: &TestApp) -> i64 {
    let body = json!({
        "name": "Außenstelle", "street": "Am Markt 1", "postal_code": "30159", "city": "Hannover", "floor": "EG",
        "translations": { "en": { "floor": "ground floor" } },
    });
    let response = app.post_as(&app.admin_token, "/api/v1/locations", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
}

async fn exec(app: &TestApp, sql: &str) {
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, sql).await.expect("test step");
}

/// The query of the version (`sequence`) of the booking of the citizen with `address`.
fn sequence_of(address: &str) -> String {
    format!("SELECT CAST(sequence AS BIGINT) AS n FROM bookings WHERE citizen_email = '{address}'")
}

fn id_of(booking: &Value) -> String {
    booking["id"].as_str().expect("id").to_owned()
}

/// The value of the calendar entry's `name:` line.
fn ics_line(calendar: &str, name: &str) -> String {
    calendar.lines().find_map(|line| line.strip_prefix(name)).expect("the line").trim().to_owned()
}

fn to(received: &[Received], address: &str) -> Vec<Received> {
    received.iter().filter(|m| m.rcpt_to.iter().any(|r| r.contains(address))).cloned().collect()
}

#[tokio::test]
async fn a_new_address_tells_the_upcoming_citizens_of_the_location_only_with_a_calendar_entry_that_replaces_theirs() {
    // Arrange: the unit `ads` receives at a second location; bookings at the demo location
    // (English, German, one cancelled, one that begins within the hour) and one at `ads`.
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let id = demo_location(&app).await;
    let other = second_location(&app).await;
    exec(&app, &format!("UPDATE units SET location_id = {other} WHERE slug = 'ads'")).await;
    let english = book(&app, "suedosteuropa", "2026-12-01T10:00", "jane@example.org", "en").await;
    let german = book(&app, "suedosteuropa", "2026-12-01T11:00", "ayse@example.org", "de").await;
    let cancelled = book(&app, "suedosteuropa", "2026-12-01T12:00", "gone@example.org", "de").await;
    assert_eq!(app.cancel_booking(&id_of(&cancelled), "abgesagt").await.status(), StatusCode::OK);
    book(&app, "suedosteuropa", "2026-11-24T08:30", "begun@example.org", "de").await;
    book(&app, "ads", "2026-12-01T10:00", "other@example.org", "de").await;
    mail.run_once().await.expect("a pass");
    let before = sink.received().len();
    app.clock.advance(TimeDelta::hours(1));

    // Act
    let response = app.put_as(&app.admin_token, &format!("/api/v1/locations/{id}"), &fields("Am Küchengarten 5")).await;

    // Assert: two notices (the old fields are still answered), sent as change emails.
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.expect("json");
    assert_eq!(changed["notices_queued"], 2, "{changed}");
    assert_eq!((changed["id"].as_i64(), &changed["street"]), (Some(id), &json!("Am Küchengarten 5")));
    assert_eq!(mail.run_once().await.expect("a pass").sent, 2);
    let received = sink.received();
    assert_eq!(received.len(), before + 2, "nothing for the cancelled, begun or other location's booking");
    for (address, booking, opening) in [
        ("jane@example.org", &english, "The place of your appointment has changed; the time stays the same."),
        ("ayse@example.org", &german, "Der Ort Ihres Termins hat sich geändert, die Zeit bleibt gleich."),
    ] {
        let emails = to(&received, address);
        let (confirmation, notice) = (&emails[0], &emails[1]);
        let text = notice.text();
        assert!(text.contains(opening) && text.contains("Am Küchengarten 5, 30161 Hannover"), "{text}");
        assert!(!text.contains("moved") && !text.contains("verlegt"), "not a move: {text}");
        let (old, new) = (confirmation.calendar(), notice.calendar());
        assert_eq!(ics_line(&new, "UID:"), ics_line(&old, "UID:"), "the same entry");
        assert_eq!(ics_line(&old, "SEQUENCE:"), "0");
        assert_eq!(ics_line(&new, "SEQUENCE:"), "1", "replaces the confirmation's");
        assert!(new.contains("Am Küchengarten 5"), "the new place: {new}");
        assert!(new.contains("DTSTART;TZID=Europe/Berlin:20261201"), "the same time: {new}");
        let history = app.get_booking(&id_of(booking)).await.json::<Value>().await.expect("json");
        let kinds: Vec<&Value> = history["history"].as_array().expect("history").iter().map(|e| &e["kind"]).collect();
        assert!(kinds.contains(&&json!("place_changed")), "{history}");
    }
    let events = "SELECT COUNT(*) AS n FROM booking_events WHERE kind = 'place_changed'";
    assert_eq!(app.count(events).await, 2, "the history of the others is untouched");
    // Their versions as before: the cancelled one's went up once, with its cancellation.
    for (address, version) in [("gone@example.org", 1), ("begun@example.org", 0), ("other@example.org", 0)] {
        assert_eq!(app.count(&sequence_of(address)).await, version, "{address}");
    }
    let audited = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'location_changed' \
                   AND detail LIKE '%\"notices_queued\":2%' AND detail LIKE '%\"street\"%'";
    assert_eq!(app.count(audited).await, 1, "the audit record carries the count");
}

#[tokio::test]
async fn nothing_is_queued_for_the_name_or_notes_or_when_told_not_to_and_a_refused_change_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let id = demo_location(&app).await;
    let path = format!("/api/v1/locations/{id}");
    book(&app, "suedosteuropa", "2026-12-01T10:00", "jane@example.org", "en").await;
    let notices = "SELECT COUNT(*) AS n FROM outbox_messages WHERE sequence > 0";
    let events = "SELECT COUNT(*) AS n FROM booking_events WHERE kind = 'place_changed'";
    let sequence = sequence_of("jane@example.org");

    // Act and assert: the name and the notes do not move the appointment.
    let mut body = fields("Hamburger Allee 25");
    body["name"] = json!("Sozialamt");
    body["accessibility_notes"] = json!("Aufzug zurzeit außer Betrieb");
    let response = app.put_as(&app.admin_token, &path, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json")["notices_queued"], 0);
    assert_eq!((app.count(notices).await, app.count(events).await), (0, 0));

    // A refused change (a line break in the floor) together with a new street writes nothing.
    let mut refused = fields("Am Markt 1");
    refused["floor"] = json!("1. OG\r\nBcc: x@example.org");
    assert_problem(
        app.put_as(&app.admin_token, &path, &refused).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let unknown = app.put_as(&app.admin_token, "/api/v1/locations/999999", &fields("Am Markt 1")).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!((app.count(notices).await, app.count(events).await, app.count(&sequence).await), (0, 0, 0));
    let street = "SELECT COUNT(*) AS n FROM locations WHERE street = 'Hamburger Allee 25'";
    assert_eq!(app.count(street).await, 1, "the location as it was");

    // Told not to: the history records it, nothing is queued and the booking stays its version.
    let mut quiet = fields("Am Markt 1");
    quiet["notify_citizens"] = json!(false);
    let response = app.put_as(&app.admin_token, &path, &quiet).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json")["notices_queued"], 0);
    assert_eq!((app.count(notices).await, app.count(events).await, app.count(&sequence).await), (0, 1, 0));
    let not_notified = "SELECT COUNT(*) AS n FROM booking_events WHERE detail LIKE '%\"notified\":false%'";
    assert_eq!(app.count(not_notified).await, 1);
}

/// A translation of the floor added is the same floor in another language: no citizen is told
/// that their place changed, and no booking becomes a new version (a form a citizen or the desk
/// opened before stays current). A translation changed tells its readers only.
#[tokio::test]
async fn a_floor_translated_tells_nobody_and_a_translation_changed_tells_its_readers_only() {
    // Arrange: an English, a Russian and a German citizen at the demo location.
    let app = spawn_app().await;
    let id = demo_location(&app).await;
    let path = format!("/api/v1/locations/{id}");
    for (at, address, language) in [
        ("2026-12-01T10:00", "jane@example.org", "en"),
        ("2026-12-01T11:00", "olga@example.org", "ru"),
        ("2026-12-01T12:00", "ayse@example.org", "de"),
    ] {
        book(&app, "suedosteuropa", at, address, language).await;
    }
    let with = |translations: Value| {
        let mut body = fields("Hamburger Allee 25");
        body["translations"] = translations;
        body
    };
    let versions = || async {
        let mut seen = Vec::new();
        for address in ["jane@example.org", "olga@example.org", "ayse@example.org"] {
            seen.push(app.count(&sequence_of(address)).await);
        }
        seen
    };

    // Act: English, Turkish and Arabic texts of the floor added.
    let added =
        with(json!({ "en": { "floor": "11th floor" }, "tr": { "floor": "11. kat" }, "ar": { "floor": "الطابق 11" } }));
    let response = app.put_as(&app.admin_token, &path, &added).await;

    // Assert: nobody told, nothing written to the bookings.
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json")["notices_queued"], 0);
    let events = "SELECT COUNT(*) AS n FROM booking_events WHERE kind = 'place_changed'";
    assert_eq!((app.count(events).await, versions().await), (0, vec![0, 0, 0]));

    // Act: the English text changed.
    let corrected =
        with(json!({ "en": { "floor": "12th floor" }, "tr": { "floor": "11. kat" }, "ar": { "floor": "الطابق 11" } }));
    let response = app.put_as(&app.admin_token, &path, &corrected).await;

    // Assert: the English reader only.
    assert_eq!(response.json::<Value>().await.expect("json")["notices_queued"], 1);
    assert_eq!((app.count(events).await, versions().await), (1, vec![1, 0, 0]));
    // The notice is the booking's new version's email (a change, or a new confirmation when the
    // first one was not sent yet: the sender's timing decides).
    let notices = "SELECT COUNT(*) AS n FROM outbox_messages WHERE sequence > 0 AND recipient = 'jane@example.org'";
    assert_eq!(app.count(notices).await, 1);
    let others = "SELECT COUNT(*) AS n FROM outbox_messages WHERE sequence > 0 AND recipient <> 'jane@example.org'";
    assert_eq!(app.count(others).await, 0, "nobody else");
}

#[tokio::test]
async fn an_unused_location_is_deleted_with_its_texts_and_one_in_use_is_refused_naming_its_units() {
    // Arrange
    let app = spawn_app().await;
    let used = demo_location(&app).await;
    let unused = second_location(&app).await;
    let desk_token = app.token_for("empfang-del", "front_desk", Some("suedosteuropa")).await;

    // Act and assert
    let problem = assert_problem(
        app.delete_as(&app.admin_token, &format!("/api/v1/locations/{used}")).await,
        StatusCode::CONFLICT,
        "location_in_use",
    )
    .await;
    assert!(problem["detail"].as_str().expect("detail").starts_with("7 units"), "{problem}");
    let path = format!("/api/v1/locations/{unused}");
    assert_eq!(app.delete_as(&desk_token, &path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_as(&app.admin_token, &path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::NOT_FOUND);
    let texts = format!("SELECT COUNT(*) AS n FROM location_texts WHERE location_id = {unused}");
    assert_eq!(app.count(&texts).await, 0, "its texts went with it");
    let audited = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'location_deleted'";
    assert_eq!(app.count(audited).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM locations").await, 1, "the used one stays");

    // The units' key refuses a unit at the deleted location on both engines, whatever read it
    // before (a unit added at the same moment as the delete).
    let unit = terminbuch::store::directory::NewUnit {
        slug: "spaet",
        name: "Zu spät",
        short_name: "ZS",
        phone: "0511 1",
        email: "spaet@example.org",
        location_id: i32::try_from(unused).expect("an id"),
        default_slot_minutes: 30,
        languages: &[],
        confidential: false,
        retention_days: 30,
    };
    let refused = terminbuch::store::directory::insert_unit(&app.db, unit, app.clock.now()).await;
    assert!(matches!(refused, Err(terminbuch::store::StoreError::MissingReference(_))), "{refused:?}");
}

#[tokio::test]
async fn the_page_offers_to_notify_says_how_many_were_and_deletes_only_an_unused_location() {
    // Arrange: an admin logged in with a second factor; a booking at the demo location.
    let app = spawn_app().await;
    app.add_person("verwaltung", "admin", None).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("verwaltung", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    enrol(&app, &desk).await;
    book(&app, "suedosteuropa", "2026-12-01T10:00", "jane@example.org", "en").await;
    let id = demo_location(&app).await;
    let unused = second_location(&app).await;
    let edit = format!("/admin/locations/{id}");
    let change = [
        ("name", "Fachbereich Soziales"),
        ("street", "Am Küchengarten 5"),
        ("postal_code", "30161"),
        ("city", "Hannover"),
        ("floor", "11. Stock"),
        ("accessibility_notes", ""),
        ("notify", "1"),
    ];

    // Act
    let (_, form) = desk.text(&edit).await;
    let saved = desk.submit(&edit, &edit, &change).await;
    let (_, list) = desk.text(&location(&saved)).await;
    let (_, unused_form) = desk.text(&format!("/admin/locations/{unused}")).await;
    let unused_delete = format!("/admin/locations/{unused}/delete");
    let deleted = desk.submit(&format!("/admin/locations/{unused}"), &unused_delete, &[]).await;
    let in_use = desk.submit(&edit, &format!("{edit}/delete"), &[]).await;

    // Assert: the box is ticked, the list says how many were told; only the unused one offers
    // its deletion, and the used one is refused even when asked.
    assert!(
        form.contains(r#"name="notify" type="checkbox" value="1" aria-describedby="loc-notify-hint" checked"#),
        "{form}"
    );
    assert!(!form.contains(r#"id="location-delete""#), "a used location offers no deletion");
    assert_eq!(location(&saved), "/admin/locations?done=saved&notices=1");
    assert!(list.contains(r#"id="notices-queued""#) && list.contains(": 1"), "{list}");
    assert!(unused_form.contains(r#"id="location-delete""#), "{unused_form}");
    assert_eq!(location(&deleted), "/admin/locations?done=deleted");
    assert_eq!(in_use.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM locations").await, 1);
}

/// A change of place while an earlier notice still waits to be sent (a new booking's confirmation,
/// a move's change notice; the mail server was down): the waiting one is superseded, so the
/// citizen gets that notice again with the new place, never one saying only the place changed
/// and the time stayed.
#[tokio::test]
async fn a_notice_still_waiting_is_sent_again_with_the_new_place_not_replaced_by_a_place_notice() {
    // Arrange: one booking's confirmation unsent; another's move unsent.
    let sink = SmtpSink::start().await;
    let (app, mail) = spawn_with_manual_mail(sink.addr.port()).await;
    let id = demo_location(&app).await;
    let moved = book(&app, "suedosteuropa", "2026-12-01T10:00", "moved@example.org", "de").await;
    mail.run_once().await.expect("a pass");
    let response = app
        .reschedule_booking(
            &id_of(&moved),
            &json!({ "starts_at": "2026-12-01T13:00", "override_reason": "Test: verlegt" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    book(&app, "suedosteuropa", "2026-12-01T11:00", "new@example.org", "de").await;
    let before = sink.received().len();

    // Act
    let response = app.put_as(&app.admin_token, &format!("/api/v1/locations/{id}"), &fields("Am Küchengarten 5")).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json")["notices_queued"], 2);
    mail.run_once().await.expect("a pass");
    let received = sink.received()[before..].to_vec();
    let place_sentence = "Der Ort Ihres Termins hat sich geändert";
    let only = |address: &str| {
        let emails = to(&received, address);
        assert_eq!(emails.len(), 1, "the waiting notice is superseded, one email to {address}");
        emails[0].clone()
    };
    let confirmation = only("new@example.org");
    let text = confirmation.text();
    assert!(text.contains("Am Küchengarten 5") && !text.contains(place_sentence), "{text}");
    assert!(!text.contains("verlegt"), "a confirmation, not a move: {text}");
    assert_eq!(ics_line(&confirmation.calendar(), "SEQUENCE:"), "1");
    let change = only("moved@example.org");
    let text = change.text();
    assert!(text.contains("verlegt") && text.contains("Am Küchengarten 5"), "the move, with the new place: {text}");
    assert!(!text.contains(place_sentence), "{text}");
    assert!(change.calendar().contains("DTSTART;TZID=Europe/Berlin:20261201T130000"), "the new time");
    let filter = terminbuch::domain::audit::AuditFilter {
        booking: Some(id_of(&moved).parse().expect("uuid")),
        action: Some(terminbuch::domain::audit::AuditAction::LocationChanged),
        ..terminbuch::domain::audit::AuditFilter::newest(10)
    };
    let records = terminbuch::store::audit::list(&app.db, &filter).await.expect("audit");
    assert_eq!(records.len(), 1, "the audit record names the bookings it changed: {records:?}");
}
