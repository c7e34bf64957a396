//! Counsellors' calendar subscriptions: the feed parses as RFC 5545, lists the owner's
//! appointments of the past 2 and next 12 weeks without citizen data, and stops working once
//! revoked, replaced or its owner deactivated.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use terminbuch::domain::audit::{AuditAction, AuditActor};
use terminbuch::domain::ids::StaffId;
use terminbuch::services::auth;
use uuid::Uuid;

use crate::audit::records;
use crate::helpers::{TestApp, adhoc_body, spawn_app};

/// A booking of Deniz Aydın at local `starts_at` (overridden: it may be in the past).
async fn aydin_at(app: &TestApp, aydin: i64, starts_at: &str) -> Value {
    let mut body = adhoc_body("ads", aydin, starts_at, 60);
    body["citizen"] = json!({ "name": "Ayşe Demir", "phone": "0511 987654", "email": "ayse.demir@example.org" });
    body["email_consent"] = json!(true);
    body["note"] = json!("Nachbarschaftsstreit");
    body["override_reason"] = json!("Nachtrag für den Test");
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "booking at {starts_at}");
    response.json().await.expect("json")
}

/// The feed's path from its URL (`http://host/calendar/….ics`).
fn path_of(url: &str) -> String {
    let start = url.find("/calendar/").expect("a calendar URL");
    url[start..].to_owned()
}

async fn fetch(app: &TestApp, path: &str) -> reqwest::Response {
    app.get_unauthenticated(path).await
}

/// Structural rules of RFC 5545 the parser may be lenient about: CRLF line ends, folded lines of
/// at most 75 octets, balanced components, the required properties, a VTIMEZONE for each TZID.
fn assert_rfc5545(text: &str) {
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'), "CRLF line ends");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines.iter().all(|l| l.len() <= 75), "lines are folded at 75 octets");
    let mut open: Vec<&str> = Vec::new();
    for line in &lines {
        if let Some(name) = line.strip_prefix("BEGIN:") {
            open.push(name);
        } else if let Some(name) = line.strip_prefix("END:") {
            assert_eq!(open.pop(), Some(name), "END:{name} closes what was opened");
        }
    }
    assert!(open.is_empty(), "every component is closed");
    assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
    for required in ["VERSION:2.0", "PRODID:"] {
        assert!(lines.iter().any(|l| l.starts_with(required)), "{required}");
    }
    let unfolded = text.replace("\r\n ", "");
    for event in unfolded.split("BEGIN:VEVENT").skip(1) {
        for required in ["\r\nUID:", "\r\nDTSTAMP:", "\r\nDTSTART;TZID=Europe/Berlin:", "\r\nDTEND;TZID=Europe/Berlin:"]
        {
            assert!(event.contains(required), "{required} in {event}");
        }
    }
    if unfolded.contains("TZID=Europe/Berlin") {
        assert!(unfolded.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"), "the VTIMEZONE of the TZID");
    }
}

#[tokio::test]
async fn the_feed_parses_as_rfc_5545_lists_the_window_and_carries_no_citizen_data() {
    // Arrange: Deniz Aydın has appointments 3 weeks ago, 10 days ago, next week (and one of
    // those cancelled), in 11 weeks; Jana Winterberg has one too.
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let too_old = aydin_at(&app, aydin, "2026-11-03T10:00").await;
    let recent = aydin_at(&app, aydin, "2026-11-13T10:00").await;
    let soon = aydin_at(&app, aydin, "2026-12-01T15:00").await;
    let cancelled = aydin_at(&app, aydin, "2026-12-03T10:00").await;
    app.cancel_booking(cancelled["id"].as_str().unwrap(), "abgesagt").await;
    let later = aydin_at(&app, aydin, "2027-02-08T10:00").await;
    let winterberg = app.counsellor_id("ads", "Jana Winterberg").await;
    let free = app.free_slots("ads", &format!("counsellor={winterberg}&limit=1")).await;
    let others = app.book_slot(free[0]["slot_id"].as_i64().unwrap()).await;
    let token = auth::create_token(&app.db, &app.clock, "d.aydin", "test").await.unwrap();

    // Act
    let response = app.post_as(&token, "/api/v1/me/calendar-feed", &json!({})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let url = created["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(".ics"), "{url}");
    let response = fetch(&app, &path_of(url)).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
    let text = response.text().await.unwrap();
    assert_rfc5545(&text);
    let calendar: icalendar::Calendar = text.parse().expect("the feed parses");
    let unfolded = text.replace("\r\n ", "");
    let events = calendar.events().count();
    assert_eq!(events, 3, "10 days ago, next week and in 11 weeks:\n{text}");
    for shown in [&recent, &soon, &later] {
        assert!(unfolded.contains(&format!("UID:{}@", shown["id"].as_str().unwrap())), "{shown}");
        assert!(unfolded.contains(shown["reference"].as_str().unwrap()), "the reference is shown");
    }
    for hidden in [&too_old, &cancelled, &others] {
        assert!(!unfolded.contains(hidden["id"].as_str().unwrap()), "{hidden} is not in the feed");
    }
    assert!(unfolded.contains("DTSTART;TZID=Europe/Berlin:20261201T150000"), "local times in the zone");
    assert!(unfolded.contains("Antidiskriminierungsstelle"), "the unit");
    assert!(unfolded.contains("LOCATION:Hamburger Allee 25"), "the place");
    for citizen_data in ["Ayşe", "Demir", "987654", "ayse.demir", "Nachbarschaft", "Nachtrag"] {
        assert!(!unfolded.contains(citizen_data), "{citizen_data} must not be in the feed");
    }
    let status: Value = app.get_as(&token, "/api/v1/me/calendar-feed").await.json().await.unwrap();
    assert_eq!(status["active"], true);
    assert!(status["last_used_at"].is_string(), "the fetch is recorded: {status}");
}

#[tokio::test]
async fn the_feed_stops_working_once_revoked_replaced_or_its_owner_deactivated() {
    let app = spawn_app().await;
    let free = app.free_slots("ads", "limit=1").await;
    app.book_slot(free[0]["slot_id"].as_i64().unwrap()).await;
    let token = auth::create_token(&app.db, &app.clock, "d.aydin", "test").await.unwrap();
    let create =
        || async { app.post_as(&token, "/api/v1/me/calendar-feed", &json!({})).await.json::<Value>().await.unwrap() };

    // Revoked.
    let first = path_of(create().await["url"].as_str().unwrap());
    assert_eq!(fetch(&app, &first).await.status(), StatusCode::OK);
    assert_eq!(app.delete_as(&token, "/api/v1/me/calendar-feed").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(fetch(&app, &first).await.status(), StatusCode::NOT_FOUND);
    let status: Value = app.get_as(&token, "/api/v1/me/calendar-feed").await.json().await.unwrap();
    assert_eq!(status["active"], false);

    // Replaced: the new address works, the earlier one does not.
    let second = path_of(create().await["url"].as_str().unwrap());
    let third = path_of(create().await["url"].as_str().unwrap());
    assert_ne!(second, third);
    assert_eq!(fetch(&app, &second).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(fetch(&app, &third).await.status(), StatusCode::OK);

    // Its owner deactivated.
    let deactivate = Statement::from_string(
        app.db.get_database_backend(),
        "UPDATE staff SET active = false WHERE login = 'd.aydin'",
    );
    app.db.execute_raw(deactivate).await.unwrap();
    let response = fetch(&app, &third).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(!response.text().await.unwrap().contains("BEGIN:VCALENDAR"));

    // Addresses that never were.
    for path in [
        "/calendar/nothing.ics",
        "/calendar/nothing",
        &third.replace(".ics", ""),
        &format!("/calendar/{}.ics", "x".repeat(500)),
    ] {
        assert_eq!(fetch(&app, path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get_unauthenticated("/api/v1/me/calendar-feed").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_feed_of_someone_without_appointments_is_an_empty_calendar() {
    let app = spawn_app().await;
    let response = app.post_as(&app.admin_token, "/api/v1/me/calendar-feed", &json!({})).await;
    let created: Value = response.json().await.unwrap();
    let text = fetch(&app, &path_of(created["url"].as_str().unwrap())).await.text().await.unwrap();
    assert_rfc5545(&text);
    let calendar: icalendar::Calendar = text.parse().expect("parses");
    assert_eq!(calendar.events().count(), 0);
}

#[tokio::test]
async fn every_read_of_the_feed_is_recorded_as_the_owners_list_of_its_bookings() {
    // Arrange: two appointments of Deniz Aydın and his subscription.
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let first = aydin_at(&app, aydin, "2026-12-01T15:00").await;
    let second = aydin_at(&app, aydin, "2026-12-02T10:00").await;
    let token = auth::create_token(&app.db, &app.clock, "d.aydin", "test").await.unwrap();
    let created: Value = app.post_as(&token, "/api/v1/me/calendar-feed", &json!({})).await.json().await.unwrap();
    let path = path_of(created["url"].as_str().unwrap());
    let before = records(&app, AuditAction::BookingsListed).await.len();

    // Act: the calendar program polls twice; someone tries an unknown secret.
    for _ in 0..2 {
        assert_eq!(fetch(&app, &path).await.status(), StatusCode::OK);
    }
    assert_eq!(fetch(&app, "/calendar/unknownsecret.ics").await.status(), StatusCode::NOT_FOUND);

    // Assert: one record per read, by the owner, naming the bookings it held.
    let listed = records(&app, AuditAction::BookingsListed).await;
    assert_eq!(listed.len(), before + 2, "{listed:?}");
    let ids: Vec<Uuid> =
        [&first, &second].iter().map(|b| Uuid::parse_str(b["id"].as_str().unwrap()).unwrap()).collect();
    for record in &listed[..2] {
        assert_eq!(record.actor, AuditActor::Staff(StaffId::new(i32::try_from(aydin).unwrap())));
        assert_eq!(record.detail, json!({ "via": "calendar_feed" }));
        assert_eq!(record.item_count, Some(2));
        assert_eq!(record.booking_ids, ids);
        assert!(record.client.is_some(), "from where");
    }
}

/// A feed fetched more often than a calendar program polls is refused for the minute (429 with
/// `Retry-After` and the two lines), unread and unrecorded; other feeds go on.
#[tokio::test]
async fn a_feed_fetched_too_often_is_refused_for_the_minute_unread_and_unrecorded() {
    // Arrange: Deniz Aydın's subscription.
    let app = spawn_app().await;
    let token = auth::create_token(&app.db, &app.clock, "d.aydin", "test").await.unwrap();
    let created: Value = app.post_as(&token, "/api/v1/me/calendar-feed", &json!({})).await.json().await.unwrap();
    let path = path_of(created["url"].as_str().unwrap());
    let before = records(&app, AuditAction::BookingsListed).await.len();

    // Act: as many fetches as a minute allows, and one more.
    let limit = terminbuch::services::calendar_feed::FEED_PER_MINUTE;
    for i in 0..limit {
        assert_eq!(fetch(&app, &path).await.status(), StatusCode::OK, "fetch {i}");
    }
    let refused = fetch(&app, &path).await;

    // Assert
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_two_lines(refused, "Der Kalender wurde zu oft abgerufen", "The calendar was fetched too often", &[]).await;
    let listed = records(&app, AuditAction::BookingsListed).await.len();
    assert_eq!(listed, before + limit as usize, "the refused fetch is not recorded");
    assert_eq!(fetch(&app, "/calendar/another.ics").await.status(), StatusCode::NOT_FOUND, "another feed goes on");
}

/// A feed made through the API ends with the token it was made with (revoked here; expired
/// alike); a unit's entries leave the feed when its owner's role there is taken away.
#[tokio::test]
async fn a_feed_made_with_a_token_ends_with_it_and_a_units_entries_with_the_role() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let booked = aydin_at(&app, aydin, "2026-11-26T10:00").await;
    let reference = booked["reference"].as_str().expect("a reference").to_owned();
    let token = auth::create_token(&app.db, &app.clock, "d.aydin", "Kalender").await.expect("test step");
    let created: Value = app.post_as(&token, "/api/v1/me/calendar-feed", &json!({})).await.json().await.expect("json");
    let path = path_of(created["url"].as_str().expect("its url"));
    let text = fetch(&app, &path).await.text().await.expect("test step").replace("\r\n ", "");
    assert!(text.contains(&reference), "the appointment is listed");

    // The role in the unit taken away: the feed stays, that unit's entries go.
    let removed = app.delete_as(&app.admin_token, "/api/v1/staff/d.aydin/roles/counsellor?unit=ads").await;
    assert!(removed.status().is_success(), "{}", removed.status());
    let response = fetch(&app, &path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("test step").replace("\r\n ", "");
    assert!(text.contains("BEGIN:VCALENDAR") && !text.contains(&reference), "no entry of the unit");

    // The token revoked: the feed ends with it.
    let tokens: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/staff/d.aydin/tokens").await.json().await.expect("json");
    let id = tokens.iter().find(|t| t["name"] == "Kalender").expect("the token")["id"].clone();
    assert!(app.delete_as(&app.admin_token, &format!("/api/v1/tokens/{id}")).await.status().is_success());
    assert_eq!(fetch(&app, &path).await.status(), StatusCode::NOT_FOUND);
}

/// A subscription made on the page belongs to no API token: an admin's "revoke all tokens" after
/// a suspected compromise ends it too; and none is made for a person deactivated meanwhile.
#[tokio::test]
async fn revoking_a_persons_tokens_ends_a_feed_made_on_the_page_and_an_inactive_person_gets_none() {
    use terminbuch::services::calendar_feed;
    use terminbuch::store::directory;

    let app = spawn_app().await;
    let member = directory::find_staff_by_login(&app.db, "d.aydin").await.expect("db").expect("d.aydin");
    let actor = directory::actor_for_staff(&app.db, member.id).await.expect("db").expect("actor");
    let secret = calendar_feed::create(&app.db, &app.clock, &actor, None).await.expect("made on the page");
    let path = format!("/calendar/{secret}.ics");
    assert_eq!(fetch(&app, &path).await.status(), StatusCode::OK);

    let revoked: Value =
        app.delete_as(&app.admin_token, "/api/v1/staff/d.aydin/tokens").await.json().await.expect("json");

    assert_eq!(revoked["calendar_feed_deleted"], true, "{revoked}");
    assert_eq!(fetch(&app, &path).await.status(), StatusCode::NOT_FOUND);
    let again: Value =
        app.delete_as(&app.admin_token, "/api/v1/staff/d.aydin/tokens").await.json().await.expect("json");
    assert_eq!(again["calendar_feed_deleted"], false, "nothing left: {again}");
    let deactivate = Statement::from_string(
        app.db.get_database_backend(),
        "UPDATE staff SET active = false WHERE login = 'd.aydin'",
    );
    app.db.execute_raw(deactivate).await.expect("deactivated");
    // The actor was read before the deactivation committed, as a request's would be.
    let refused = calendar_feed::create(&app.db, &app.clock, &actor, None).await;
    assert!(refused.is_err(), "no subscription for an inactive person");
    let feeds = app.count("SELECT COUNT(*) AS n FROM calendar_feeds").await;
    assert_eq!(feeds, 0, "nothing written that a reactivation would bring back");
}

#[tokio::test]
async fn a_feed_that_fails_or_is_unknown_answers_its_status_with_a_german_and_an_english_line() {
    let app = spawn_app().await;
    let response = app.post_as(&app.admin_token, "/api/v1/me/calendar-feed", &json!({})).await;
    let path = path_of(response.json::<Value>().await.expect("json")["url"].as_str().expect("url"));

    let unknown = fetch(&app, "/calendar/nothing.ics").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.headers()["content-type"], "text/plain; charset=utf-8");
    let text = unknown.text().await.expect("text");
    assert!(text.contains("Diesen Kalender gibt es nicht") && text.contains("This calendar does not exist"), "{text}");

    app.db.execute_unprepared("ALTER TABLE calendar_feeds RENAME TO calendar_feeds_away").await.expect("away");
    let failed = fetch(&app, &path).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let german = "Der Kalender konnte nicht erstellt werden";
    let hidden = ["calendar_feeds", "SQL", "relation", "no such table"];
    assert_two_lines(failed, german, "The calendar could not be made", &hidden).await;
}

/// A plain-text answer of the feed: a line in German, one in English, nothing of the cause.
async fn assert_two_lines(response: reqwest::Response, german: &str, english: &str, hidden: &[&str]) {
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    let text = response.text().await.expect("text");
    let lines = text.split_once('\n').expect("two lines");
    assert!(lines.0.starts_with(german) && lines.1.starts_with(english), "{text}");
    for inner in hidden {
        assert!(!text.contains(inner), "{inner} in {text}");
    }
}

/// A database that cannot be reached (here: the server's pool closed, which every engine answers
/// at once as a connection it cannot have) is a 503 with `Retry-After`, and the German and English
/// line of a calendar "not available just now", never the cause.
#[tokio::test]
async fn a_feed_whose_database_is_busy_answers_503_with_retry_after_and_a_german_and_an_english_line() {
    // Arrange
    let app = spawn_app().await;
    let response = app.post_as(&app.admin_token, "/api/v1/me/calendar-feed", &json!({})).await;
    let path = path_of(response.json::<Value>().await.expect("json")["url"].as_str().expect("url"));
    assert_eq!(fetch(&app, &path).await.status(), StatusCode::OK, "the feed works before");
    app.db.clone().close().await.expect("the server's pool closed");

    // Act
    let busy = fetch(&app, &path).await;

    // Assert
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "60", "a calendar program tries again in a minute");
    let german = "Der Kalender ist gerade nicht erreichbar";
    let english = "The calendar is not available just now";
    assert_two_lines(busy, german, english, &["pool", "closed", "database", "SQL"]).await;
}
