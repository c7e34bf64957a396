//! What the citizen does through their link: cancel (with the form's CSRF check), move within
//! the cutoff and the move limit, the unit's settings, and a citizen's cancel racing a staff move.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use terminbuch::mail::Dispatcher;

use crate::citizen_link::{book_with_email, booking_now, browser, csrf_of, spawn_citizen_app, token_in, version_of};
use crate::helpers::{TestApp, assert_problem};
use crate::smtp_sink::SmtpSink;
use crate::web_client::{Desk, PASSWORD};

pub async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = client.get(format!("{}{path}", app.address)).send().await.expect("request");
    (response.status(), response.text().await.expect("html"))
}

pub async fn post(client: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(format!("{}{path}", app.address)).form(form).send().await.expect("request")
}

pub fn slot_ids(html: &str) -> Vec<String> {
    html.split(r#"name="slot" id="slot-"#)
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .collect()
}

#[tokio::test]
async fn the_citizen_cancels_after_a_confirmation_and_the_slot_is_free_at_once() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let token = token_in(&email.text());
    let client = browser();
    let (status, html) = page(&client, &app, &format!("/t/{token}/cancel")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Termin wirklich absagen?"), "{html}");
    let (csrf, version) = (csrf_of(&html), version_of(&html));
    let forged = post(&browser(), &app, &format!("/t/{token}/cancel"), &[("csrf", &csrf), ("version", &version)]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a form without the cookie is refused");
    // A reason with a bidirectional override (it would turn the staff's history line around
    // after it) is refused, nothing cancelled.
    let turned = [("csrf", csrf.as_str()), ("version", version.as_str()), ("reason", "krank \u{202E}")];
    let turned = post(&client, &app, &format!("/t/{token}/cancel"), &turned).await;
    assert_eq!(turned.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(booking_now(&app, &booking["id"]).await["status"], "booked");
    let done = post(
        &client,
        &app,
        &format!("/t/{token}/cancel"),
        &[("csrf", &csrf), ("version", &version), ("reason", "Ich bin krank")],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], format!("/t/{token}?done=cancelled").as_str());

    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["status"], "cancelled");
    assert_eq!(now["cancel_reason"], "Ich bin krank");
    let last = now["history"].as_array().expect("history").last().expect("an event").clone();
    assert_eq!((last["kind"].as_str(), last["actor_id"].as_i64()), (Some("cancelled_by_citizen"), None));
    let free = app.free_slots("ads", "from=2026-12-01&limit=20").await;
    assert!(free.iter().any(|s| s["slot_id"] == booking["slot_id"]), "the slot is free again");

    dispatcher.run_once().await.expect("dispatch");
    let received = sink.wait_for(2, Duration::from_secs(10)).await;
    assert!(received[1].calendar().contains("METHOD:CANCEL"), "the cancellation email");
    let (status, html) = page(&client, &app, &format!("/t/{token}?done=cancelled")).await;
    assert_eq!(status, StatusCode::OK, "the link still shows the cancelled appointment");
    assert!(html.contains("Abgesagt") && html.contains("Ihr Termin ist abgesagt"), "{html}");
    assert!(html.contains("Sie erhalten eine Bestätigung per E-Mail"), "an email follows: {html}");
    assert!(!html.contains(r#"id="cancel""#) && !html.contains(r#"id="move""#), "nothing left to change");
    assert_cancellation_in_calendar(&client, &app, &token, &html).await;
    // The same form sent again (a double click): led to the same page, nothing done twice.
    let again = post(&client, &app, &format!("/t/{token}/cancel"), &[("csrf", &csrf), ("version", &version)]).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()["location"], format!("/t/{token}?done=cancelled").as_str());
    let history = booking_now(&app, &booking["id"]).await["history"].clone();
    let cancellations = history.as_array().expect("history").iter().filter(|e| e["kind"] == "cancelled_by_citizen");
    assert_eq!(cancellations.count(), 1, "{history}");
    // An address that names another outcome says nothing untrue.
    let (_, html) = page(&client, &app, &format!("/t/{token}?done=moved")).await;
    assert!(html.contains("Abgesagt") && !html.contains("Ihr Termin ist verschoben"), "no notice of a move: {html}");
}

/// The page of a cancelled booking offers its calendar entry, labelled as the cancellation, and
/// the entry served is the cancellation (published, `STATUS:CANCELLED`, the same UID), which
/// removes or updates the entry a calendar holds.
async fn assert_cancellation_in_calendar(client: &reqwest::Client, app: &TestApp, token: &str, html: &str) {
    let href = format!(r#"id="calendar" href="/t/{token}/termin.ics""#);
    assert!(html.contains(&href), "the calendar link of the cancelled appointment: {html}");
    assert!(html.contains("Absage in den Kalender übernehmen"), "labelled as the cancellation: {html}");
    let (status, ics) = page(client, app, &format!("/t/{token}/termin.ics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ics.contains("METHOD:PUBLISH\r\n") && ics.contains("STATUS:CANCELLED\r\n"), "{ics}");
    assert!(!ics.contains("METHOD:CANCEL") && !ics.contains("ATTENDEE"), "no cancellation of an invitation: {ics}");
}

/// Prints the booking's confirmation with a link at the `desk`; returns the link's token.
async fn printed_token(desk: &Desk, reference: &str) -> String {
    let page = format!("/bookings/{reference}");
    let printed = desk.submit(&page, &format!("{page}/print"), &[]).await;
    assert_eq!(printed.status(), StatusCode::OK);
    token_in(&printed.text().await.expect("the print"))
}

/// Moves the booking behind `token` to the first slot offered; returns the chosen slot id.
async fn move_once(client: &reqwest::Client, app: &TestApp, token: &str) -> String {
    let (status, list) = page(client, app, &format!("/t/{token}/move")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let slot = slot_ids(&list).first().cloned().expect("a free slot offered");
    let (status, confirm) = page(client, app, &format!("/t/{token}/move?slot={slot}")).await;
    assert_eq!(status, StatusCode::OK);
    let (csrf, version) = (csrf_of(&confirm), version_of(&confirm));
    let done =
        post(client, app, &format!("/t/{token}/move"), &[("csrf", &csrf), ("version", &version), ("slot", &slot)])
            .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{:?}", done.text().await);
    // The same form sent again (a double click): the same page, not "changed meanwhile".
    let again =
        post(client, app, &format!("/t/{token}/move"), &[("csrf", &csrf), ("version", &version), ("slot", &slot)])
            .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER, "{:?}", again.text().await);
    assert_eq!(again.headers()["location"], format!("/t/{token}?done=moved").as_str());
    slot
}

#[tokio::test]
async fn the_citizen_moves_within_the_cutoff_up_to_the_units_limit() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 3, "de").await;
    let token = token_in(&email.text());
    let client = browser();
    let slot = move_once(&client, &app, &token).await;
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["slot_id"].to_string(), slot);
    assert_eq!(now["status"], "booked");
    let last = now["history"].as_array().expect("history").last().expect("an event").clone();
    assert_eq!(last["kind"], "rescheduled_by_citizen");

    dispatcher.run_once().await.expect("dispatch");
    let received = sink.wait_for(2, Duration::from_secs(10)).await;
    let second = token_in(&received[1].text());
    assert_ne!(second, token, "the change email carries a link of its own");
    assert!(received[1].calendar().contains("SEQUENCE:1"));
    for link in [&token, &second] {
        assert_eq!(page(&client, &app, &format!("/t/{link}")).await.0, StatusCode::OK, "both links work");
    }
    move_once(&client, &app, &second).await;
    // The unit allows two moves (the default): the third is refused, the page says to call.
    let (status, html) = page(&client, &app, &format!("/t/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("so oft verschoben") && !html.contains(r#"id="move""#), "{html}");
    assert!(html.contains(r#"id="cancel""#), "cancelling is still possible");
    assert_eq!(page(&client, &app, &format!("/t/{token}/move")).await.0, StatusCode::CONFLICT);
    let (_, any) = page(&client, &app, &format!("/t/{token}/cancel")).await;
    let csrf = csrf_of(&any);
    let form = [("csrf", csrf.as_str()), ("version", "2"), ("slot", &slot)];
    let refused = post(&client, &app, &format!("/t/{token}/move"), &form).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn closer_than_the_units_cutoff_the_page_says_to_call_and_changes_are_refused() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "en").await;
    let token = token_in(&email.text());
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.expect("openapi");
    let documented = &doc["paths"]["/api/v1/units/{unit}/self-service"];
    assert!(documented["get"].is_object() && documented["put"]["responses"]["422"].is_object(), "{documented}");
    let path = "/api/v1/units/ads/self-service";
    let defaults: Value = app.get_as(&app.admin_token, path).await.json().await.expect("json");
    assert_eq!(
        defaults,
        json!({
            "self_service_cutoff_hours": 24,
            "self_service_max_moves": 2,
            "self_service_shows_counsellor": false,
            "version": 1,
        })
    );
    let lead = app.token_for("lead", "unit_lead", Some("ads")).await;
    let settings = json!({ "self_service_cutoff_hours": 672, "self_service_max_moves": 2, "self_service_shows_counsellor": false });
    assert_problem(app.put_as(&lead, path, &settings).await, StatusCode::FORBIDDEN, "forbidden").await;
    let bad =
        json!({ "self_service_cutoff_hours": -1, "self_service_max_moves": 2, "self_service_shows_counsellor": false });
    assert_problem(
        app.put_as(&app.admin_token, path, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // The citizen opened the cancel step before the unit changed its cutoff to four weeks.
    let client = browser();
    let (status, confirm) = page(&client, &app, &format!("/t/{token}/cancel")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.put_as(&app.admin_token, path, &settings).await.status(), StatusCode::OK);
    let (status, html) = page(&client, &app, &format!("/t/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Please call us") && !html.contains(r#"id="cancel""#), "{html}");
    assert_eq!(page(&client, &app, &format!("/t/{token}/cancel")).await.0, StatusCode::CONFLICT);
    assert_eq!(page(&client, &app, &format!("/t/{token}/move")).await.0, StatusCode::CONFLICT);
    let form = [("csrf", csrf_of(&confirm)), ("version", "0".to_owned())];
    let refused = client.post(format!("{}/t/{token}/cancel", app.address)).form(&form).send().await.expect("post");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.expect("html").contains("no longer possible here"));
    assert_eq!(booking_now(&app, &booking["id"]).await["status"], "booked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizens_cancel_racing_a_staff_move_has_one_winner_and_no_half_state() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    for round in 0..4 {
        let (booking, email) = book_with_email(&app, &dispatcher, &sink, "sdr", round * 2, "de").await;
        let token = token_in(&email.text());
        let free = app.free_slots("sdr", "from=2026-12-20&limit=20").await;
        let target = free[round]["slot_id"].clone();
        let client = browser();
        let (_, html) = page(&client, &app, &format!("/t/{token}/cancel")).await;
        let (csrf, version) = (csrf_of(&html), version_of(&html));
        let key = booking["id"].as_str().expect("id").to_owned();
        // Two tasks on two worker threads, each with its own connection: really at once.
        let citizen = client
            .post(format!("{}/t/{token}/cancel", app.address))
            .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
            .send();
        let staff = app
            .client
            .post(format!("{}/api/v1/bookings/{key}/reschedule", app.address))
            .bearer_auth(&app.admin_token)
            .json(&json!({ "slot_id": target }))
            .send();
        let (citizen, staff) = (tokio::spawn(citizen), tokio::spawn(staff));
        let citizen = citizen.await.expect("task").expect("request").status();
        let staff = staff.await.expect("task").expect("request").status();
        let now = booking_now(&app, &booking["id"]).await;
        let booked = |slot: Value| {
            let db = app.db.clone();
            async move {
                let id = i32::try_from(slot.as_i64().expect("slot id")).expect("i32");
                entity::slot::Entity::find_by_id(id).one(&db).await.expect("slot").expect("exists").booked_count
            }
        };
        let (old_seats, new_seats) = (booked(booking["slot_id"].clone()).await, booked(target.clone()).await);
        match (citizen, staff) {
            (StatusCode::SEE_OTHER, StatusCode::CONFLICT) => {
                assert_eq!(now["status"], "cancelled", "round {round}");
                assert_eq!((old_seats, new_seats), (0, 0), "round {round}: both slots free");
            }
            (StatusCode::CONFLICT, StatusCode::OK) => {
                assert_eq!(now["status"], "booked", "round {round}");
                assert_eq!(now["slot_id"], target, "round {round}");
                assert_eq!((old_seats, new_seats), (0, 1), "round {round}: only the new slot taken");
            }
            other => panic!("round {round}: one must win, the other be told: {other:?}"),
        }
        let kinds: Vec<&str> =
            now["history"].as_array().expect("history").iter().filter_map(|e| e["kind"].as_str()).collect();
        assert_eq!(kinds.len(), 2, "round {round}: created and exactly one change: {kinds:?}");
    }
}

/// The citizen's looks at the booking recorded so far, as their `what`.
async fn citizen_views(app: &TestApp) -> Vec<String> {
    let audit = entity::audit_event::Entity::find().all(&app.db).await.expect("audit");
    audit
        .iter()
        .filter(|r| r.actor_kind == "citizen" && r.action == "booking_viewed")
        .map(|r| serde_json::from_str::<Value>(&r.detail).expect("detail")["what"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_form_answered_with_the_appointment_records_the_look() {
    // Arrange: the cancel step as a browser opens it (its form's CSRF cookie and version).
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (_, email) = book_with_email(&app, &dispatcher, &sink, "sdr", 0, "de").await;
    let token = token_in(&email.text());
    let client = browser();
    let (status, html) = page(&client, &app, &format!("/t/{token}/cancel")).await;
    assert_eq!(status, StatusCode::OK);
    let (csrf, version) = (csrf_of(&html), version_of(&html));
    assert_eq!(citizen_views(&app).await, ["cancel"]);
    let too_long = "x".repeat(501);
    /// The step posted to, the form's fields besides the CSRF token, the answer, the case.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: [Case; 4] = [
        ("cancel", vec![("version", "99"), ("reason", "")], StatusCode::CONFLICT, "a cancel of an older version"),
        (
            "cancel",
            vec![("version", &version), ("reason", &too_long)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reason too long",
        ),
        ("move", vec![("version", "99"), ("slot", "1")], StatusCode::CONFLICT, "a move of an older version"),
        ("move", vec![("version", &version), ("slot", "abc")], StatusCode::UNPROCESSABLE_ENTITY, "no slot chosen"),
    ];

    for (n, (step, fields, expected, case)) in cases.into_iter().enumerate() {
        // Act
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let response = post(&client, &app, &format!("/t/{token}/{step}"), &form).await;

        // Assert: the answer shows the appointment, and the look is recorded.
        assert_eq!(response.status(), expected, "{case}");
        let html = response.text().await.expect("html");
        assert!(html.contains("Dezember 2026"), "{case}: the appointment is shown");
        let views = citizen_views(&app).await;
        assert_eq!(views.len(), n + 2, "{case}: one more look recorded: {views:?}");
        assert_eq!(views.last().map(String::as_str), Some(step), "{case}: {views:?}");
    }
    assert_eq!(citizen_views(&app).await.len(), 5, "one record per page shown");
    let booking = entity::booking::Entity::find().all(&app.db).await.expect("bookings");
    assert!(booking.iter().all(|b| b.sequence == 0), "nothing changed");
}

/// Adds counselling hours for the one counsellor of `sms` (who has 60-minute one-to-one slots on
/// Friday mornings): 90-minute one-to-one slots on Wednesdays, 120-minute one-to-one slots on
/// Mondays and 120-minute group sessions of three seats on Thursdays. Returns her id.
async fn slots_of_every_length_and_kind(app: &TestApp) -> i64 {
    let counsellor = app.counsellor_id("sms", "Frederike Lohmann").await;
    for (weekday, slot_minutes, capacity) in [(3, 90, 1), (1, 120, 1), (4, 120, 3)] {
        let body = json!({ "counsellor_id": counsellor, "weekday": weekday, "start": "09:00", "end": "13:00",
            "slot_minutes": slot_minutes, "buffer_minutes": 0, "capacity": capacity });
        let response = app.post_as(&app.admin_token, "/api/v1/units/sms/counselling-hours", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
    }
    counsellor
}

/// The ids of the free slots of `sms` in the move list's four weeks lasting `minutes` with `seats`
/// seats (1: one-to-one, 3: a group session nobody booked).
async fn sms_slots(app: &TestApp, minutes: i64, seats: i64) -> Vec<String> {
    let free = app.free_slots("sms", "from=2026-11-25&to=2026-12-23&limit=500").await;
    free.iter()
        .filter(|s| s["duration_minutes"] == minutes && s["seats_left"] == seats)
        .map(|s| s["slot_id"].to_string())
        .collect()
}

/// Books `body` (a citizen with email, and any fields of `body`'s `citizen`) and sends the
/// confirmation; returns the booking and the token of its link.
pub async fn booked_with_link(
    app: &TestApp,
    dispatcher: &Dispatcher,
    sink: &SmtpSink,
    mut body: Value,
) -> (Value, String) {
    let mut citizen = json!({ "name": "Ayşe Demir", "email": "ayse@example.org", "language": "de" });
    for (field, value) in body["citizen"].as_object().into_iter().flatten() {
        citizen[field] = value.clone();
    }
    body["citizen"] = citizen;
    body["email_consent"] = json!(true);
    body["channel"] = json!("phone");
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
    let booking: Value = response.json().await.expect("json");
    let before = sink.received().len();
    dispatcher.run_once().await.expect("dispatch");
    sink.wait_for(before + 1, Duration::from_secs(10)).await;
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    let email =
        sink.received()[before..].iter().find(|r| r.text().contains(&reference)).cloned().expect("confirmation");
    (booking, token_in(&email.text()))
}

/// The minutes between the booking's start and end as the API shows them.
pub fn minutes_of(booking: &Value) -> i64 {
    let at = |field: &str| chrono::DateTime::parse_from_rfc3339(booking[field].as_str().expect(field)).expect(field);
    (at("ends_at") - at("starts_at")).num_minutes()
}

/// Posts a move of the booking behind `token` to `slot` (a form made from an offered slot's
/// confirmation step, the slot changed as a crafted or stale form would); the booking must stay
/// where it was.
async fn refused_move(client: &reqwest::Client, app: &TestApp, token: &str, offered: &str, slot: &str, case: &str) {
    let (_, confirm) = page(client, app, &format!("/t/{token}/move?slot={offered}")).await;
    let (csrf, version) = (csrf_of(&confirm), version_of(&confirm));
    let form = [("csrf", csrf.as_str()), ("version", version.as_str()), ("slot", slot)];
    let response = post(client, app, &format!("/t/{token}/move"), &form).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "{case}");
}

/// A move takes the new slot's times and seat: an ad-hoc appointment of 90 minutes (with an
/// interpreter, say) is offered only 90-minute one-to-one slots, a posted 60-minute slot is
/// refused without change, and the confirmation step says how long the new appointment is.
#[tokio::test]
async fn a_90_minute_appointment_is_moved_only_into_a_slot_as_long() {
    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let counsellor = slots_of_every_length_and_kind(&app).await;
    let adhoc = json!({ "unit": "sms", "counsellor_id": counsellor, "starts_at": "2026-12-04T09:00",
        "duration_minutes": 90 });
    let (booking, token) = booked_with_link(&app, &dispatcher, &sink, adhoc).await;
    let (ninety, sixty) = (sms_slots(&app, 90, 1).await, sms_slots(&app, 60, 1).await);
    let (one_to_one_120, groups) = (sms_slots(&app, 120, 1).await, sms_slots(&app, 120, 3).await);
    assert!(!ninety.is_empty() && !sixty.is_empty() && !one_to_one_120.is_empty() && !groups.is_empty());
    let client = browser();

    // Act
    let (status, list) = page(&client, &app, &format!("/t/{token}/move")).await;

    // Assert: only 90-minute one-to-one slots.
    assert_eq!(status, StatusCode::OK);
    let offered = slot_ids(&list);
    assert!(!offered.is_empty(), "the 90-minute slots are offered: {list}");
    assert!(offered.iter().all(|id| ninety.contains(id)), "only 90-minute one-to-one slots: {offered:?}");
    refused_move(&client, &app, &token, &offered[0], &sixty[0], "a 60-minute slot").await;
    refused_move(&client, &app, &token, &offered[0], &groups[0], "a group session").await;
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!((now["slot_id"].clone(), now["version"].clone()), (booking["slot_id"].clone(), json!(0)));
    assert_eq!(minutes_of(&now), 90, "unchanged");

    let (status, confirm) = page(&client, &app, &format!("/t/{token}/move?slot={}", offered[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains(r#"<dd id="new-duration">90 Minuten</dd>"#), "the new length: {confirm}");
    let moved = move_once(&client, &app, &token).await;
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["slot_id"].to_string(), moved);
    assert_eq!(minutes_of(&now), 90, "moved, still 90 minutes");
}

/// A seat in a group session moves only to another group session, and a one-to-one appointment
/// never into a group session with other citizens (both 120 minutes long here).
#[tokio::test]
async fn a_group_seat_and_a_one_to_one_appointment_keep_their_kind_when_moved() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    slots_of_every_length_and_kind(&app).await;
    let (one_to_one, groups) = (sms_slots(&app, 120, 1).await, sms_slots(&app, 120, 3).await);
    let slot_body = |id: &str| json!({ "slot_id": id.parse::<i64>().expect("id") });
    let (in_group, group_token) = booked_with_link(&app, &dispatcher, &sink, slot_body(&groups[0])).await;
    let (alone, alone_token) = booked_with_link(&app, &dispatcher, &sink, slot_body(&one_to_one[0])).await;
    let client = browser();

    for (booking, token, kind, other_kind, case) in [
        (&in_group, &group_token, &groups, &one_to_one, "a group seat"),
        (&alone, &alone_token, &one_to_one, &groups, "a one-to-one appointment"),
    ] {
        let (status, list) = page(&client, &app, &format!("/t/{token}/move")).await;
        assert_eq!(status, StatusCode::OK, "{case}");
        let offered = slot_ids(&list);
        assert!(!offered.is_empty(), "{case}: slots of its kind are offered: {list}");
        assert!(offered.iter().all(|id| kind.contains(id)), "{case}: only its kind: {offered:?}");
        // The soonest free slot of the other kind (the one-to-one appointment took the first).
        let taken = alone["slot_id"].to_string();
        let other = other_kind.iter().find(|id| **id != taken).expect("a slot of the other kind");
        refused_move(&client, &app, token, &offered[0], other, case).await;
        let now = booking_now(&app, &booking["id"]).await;
        assert_eq!((now["slot_id"].clone(), now["version"].clone()), (booking["slot_id"].clone(), json!(0)), "{case}");
    }
}

/// A form whose check fails (its cookie lost when the browser closed, or replaced when the link
/// was opened again in another tab, from webmail say) changes nothing and answers with the same
/// step again in the booking's language, not with the staff's error page: its form carries the
/// token of the browser's cookie now, so pressing the button again works.
#[tokio::test]
async fn a_form_whose_cookie_was_lost_or_replaced_shows_the_step_again_and_pressing_again_works() {
    // Arrange: the cancel step and a move confirmation, each opened in a first tab.
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (to_cancel, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "tr").await;
    let cancel_token = token_in(&email.text());
    let (to_move, email) = book_with_email(&app, &dispatcher, &sink, "ads", 1, "uk").await;
    let move_token = token_in(&email.text());
    let first_tab = browser();
    let (_, cancel_step) = page(&first_tab, &app, &format!("/t/{cancel_token}/cancel")).await;
    let (_, list) = page(&first_tab, &app, &format!("/t/{move_token}/move")).await;
    let slot = slot_ids(&list).first().cloned().expect("a free slot offered");
    let (_, confirm) = page(&first_tab, &app, &format!("/t/{move_token}/move?slot={slot}")).await;
    let (cancel_csrf, cancel_version) = (csrf_of(&cancel_step), version_of(&cancel_step));
    let (move_csrf, move_version) = (csrf_of(&confirm), version_of(&confirm));
    let (cancel_path, move_path) = (format!("/t/{cancel_token}/cancel"), format!("/t/{move_token}/move"));
    // The link opened again elsewhere: that browser holds a cookie of its own.
    let replaced = browser();
    assert_eq!(page(&replaced, &app, &format!("/t/{cancel_token}")).await.0, StatusCode::OK);
    let lost = browser();
    let mut shown = Vec::new();

    for (client, case) in [(&replaced, "a replaced cookie"), (&lost, "no cookie")] {
        // Act: the cancel and the move sent with the first tab's token.
        let cancel_form = [("csrf", cancel_csrf.as_str()), ("version", &cancel_version), ("reason", "Hastayım")];
        let cancel = post(client, &app, &cancel_path, &cancel_form).await;
        let moved =
            post(client, &app, &move_path, &[("csrf", &move_csrf), ("version", &move_version), ("slot", &slot)]).await;

        // Assert: each step again, in the booking's language, asking to press once more.
        assert_eq!((cancel.status(), moved.status()), (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN), "{case}");
        let (cancel, moved) = (cancel.text().await.expect("html"), moved.text().await.expect("html"));
        for (html, lang, again, step) in [
            (&cancel, "tr", "Hiçbir şey değiştirilmedi", r#"id="cancel-do""#),
            (&moved, "uk", "Нічого не змінено", r#"id="move-do""#),
        ] {
            assert!(html.contains(&format!(r#"<html lang="{lang}""#)), "{case}: the booking's language: {html}");
            assert!(html.contains(again) && html.contains(step), "{case}: the same step, asking again: {html}");
            assert!(!html.contains(r#"href="/""#), "{case}: no way to the staff's login: {html}");
            assert_ne!(csrf_of(html), cancel_csrf, "{case}: the token of the browser's cookie");
        }
        assert!(cancel.contains(">Hastayım</textarea>"), "{case}: the reason typed is kept");
        assert!(moved.contains(&format!(r#"name="slot" value="{slot}""#)), "{case}: the slot chosen is kept");
        for booking in [&to_cancel, &to_move] {
            let now = booking_now(&app, &booking["id"]).await;
            assert_eq!((&now["status"], &now["version"]), (&json!("booked"), &json!(0)), "{case}: nothing changed");
        }
        shown = vec![cancel, moved];
    }

    // Act: the buttons pressed again, the forms of the pages just shown.
    let (cancel, moved) = (&shown[0], &shown[1]);
    let cancel_form = [("csrf", csrf_of(cancel)), ("version", version_of(cancel)), ("reason", "Hastayım".to_owned())];
    let cancelled = lost.post(format!("{}{cancel_path}", app.address)).form(&cancel_form).send().await.expect("post");
    let move_form = [("csrf", csrf_of(moved)), ("version", version_of(moved)), ("slot", slot.clone())];
    let done = lost.post(format!("{}{move_path}", app.address)).form(&move_form).send().await.expect("post");

    // Assert
    assert_eq!((cancelled.status(), done.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    let (cancelled, moved) = (booking_now(&app, &to_cancel["id"]).await, booking_now(&app, &to_move["id"]).await);
    assert_eq!((&cancelled["status"], &cancelled["cancel_reason"]), (&json!("cancelled"), &json!("Hastayım")));
    assert_eq!(moved["slot_id"].to_string(), slot);
}

/// After a move or a cancel through the link the page says whether an email follows: only for a
/// citizen with an address and consent; the others (who mostly hold a printed link) are told none
/// follows and pointed to the calendar file, which for the cancelled appointment is offered too.
#[tokio::test]
async fn the_notice_after_a_change_says_an_email_follows_only_where_one_is_sent() {
    let sink = SmtpSink::start().await;
    let (app, _dispatcher) = spawn_citizen_app(&sink, false).await;
    let slots = app.free_slots("ads", "from=2026-12-01&limit=20").await;
    app.add_person("empfang.druck", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.druck", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    for (nth, consent, moved, cancelled) in [
        (0, false, "Sie erhalten dazu keine E-Mail. Bitte notieren", "Sie erhalten dazu keine E-Mail. Steht"),
        (1, true, "Sie erhalten eine Bestätigung per E-Mail", "Sie erhalten eine Bestätigung per E-Mail"),
    ] {
        // Arrange: an address, with or without consent, and the link printed at the desk.
        let body = json!({
            "slot_id": slots[nth]["slot_id"],
            "citizen": { "name": "Ayşe Demir", "email": "ayse@example.org", "language": "de" },
            "email_consent": consent,
            "channel": "phone",
        });
        let response = app.post_booking(&body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let booking: Value = response.json().await.expect("json");
        let token = printed_token(&desk, booking["reference"].as_str().expect("reference")).await;
        let client = browser();

        // Act: a move, then a cancel.
        move_once(&client, &app, &token).await;
        let (_, after_move) = page(&client, &app, &format!("/t/{token}?done=moved")).await;
        let (_, step) = page(&client, &app, &format!("/t/{token}/cancel")).await;
        let form = [("csrf", csrf_of(&step)), ("version", version_of(&step))];
        let done = client.post(format!("{}/t/{token}/cancel", app.address)).form(&form).send().await.expect("post");
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let (_, after_cancel) = page(&client, &app, &format!("/t/{token}?done=cancelled")).await;

        // Assert: the notices as the emails queued, and the cancellation's calendar entry.
        let case = format!("consent={consent}");
        assert!(after_move.contains(moved), "{case}: {after_move}");
        assert!(after_cancel.contains(cancelled), "{case}: {after_cancel}");
        let emails = entity::outbox_message::Entity::find().all(&app.db).await.expect("outbox");
        let id = booking["id"].as_str().expect("id");
        let queued = emails.iter().filter(|m| m.booking_id.to_string() == id).count();
        assert_eq!(queued > 0, consent, "{case}: {queued} emails queued");
        assert_cancellation_in_calendar(&client, &app, &token, &after_cancel).await;
    }
}

/// A booking of `ads` with an address and consent, its confirmation sent, and the token of the
/// link the confirmation carried (for tests that drive the link's service step by step).
async fn booked_with_its_link() -> (TestApp, Value, String) {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 3, "de").await;
    (app, booking, token_in(&email.text()))
}

/// A link the desk revoked after the citizen's page opened it (the print went to the wrong
/// person) cancels and moves nothing: the change checks the link again in its transaction. The
/// interleaving is driven step by step: the link is opened (the page's read), the desk revokes,
/// then the citizen's cancel and move are written.
#[tokio::test]
async fn a_link_revoked_after_the_page_opened_it_changes_nothing() {
    use terminbuch::domain::clash::Clash;
    use terminbuch::services::{ServiceError, citizen_link};

    // Arrange: a booking with its emailed link, opened; a slot the link may move to.
    let (app, booking, token) = booked_with_its_link().await;
    let parts = crate::helpers::ServiceParts::new(app.clock.clone());
    let deps = parts.book(&app.db);
    let opened = citizen_link::open(deps, &token).await.expect("open").expect("a live link");
    let target = citizen_link::move_options(deps, &opened).await.expect("options")[0].slot.id;

    // Act: the desk ends the links; then the citizen's cancel and move.
    let id = booking["id"].as_str().expect("id");
    let revoked =
        app.post_as(&app.admin_token, &format!("/api/v1/bookings/{id}/citizen-links/revoke"), &json!({})).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let cancelled = citizen_link::cancel(deps, &opened, None).await;
    let moved = citizen_link::move_to(deps, &opened, target).await;

    // Assert: both refused as changed meanwhile; the booking is as it was; the page now finds
    // the link unknown.
    for (what, result) in [("cancel", &cancelled), ("move", &moved)] {
        let refused = matches!(result, Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }));
        assert!(refused, "{what}: {:?}", result.as_ref().map(|b| b.status));
    }
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(
        (now["status"].clone(), now["slot_id"].clone()),
        (booking["status"].clone(), booking["slot_id"].clone())
    );
    assert_eq!(
        app.client.get(format!("{}/t/{token}", app.address)).send().await.expect("page").status(),
        StatusCode::NOT_FOUND
    );
}

/// The same move sent twice at once (a double-click on "Verschieben"): both requests read the
/// booking before either wrote. The second finds its slot taken, by this very booking: it answers
/// with the booking moved, not "this time was just taken", and writes nothing again (one move in
/// the history, one change email). A stale move to another time is "changed meanwhile", not
/// "taken". Driven step by step: the link opened twice, then the moves written in turn.
#[tokio::test]
async fn the_same_move_sent_twice_at_once_is_done_once_and_answered_as_done_both_times() {
    use terminbuch::domain::clash::Clash;
    use terminbuch::services::bookings::{By, Target, move_booking};
    use terminbuch::services::{ServiceError, citizen_link};

    // Arrange: a booking with its emailed link, opened by two requests; two slots it may move to.
    let (app, booking, token) = booked_with_its_link().await;
    let parts = crate::helpers::ServiceParts::new(app.clock.clone());
    let deps = parts.book(&app.db);
    let first = citizen_link::open(deps, &token).await.expect("open").expect("a live link");
    let second = citizen_link::open(deps, &token).await.expect("open").expect("a live link");
    let options = citizen_link::move_options(deps, &first).await.expect("options");
    let (target, other) = (options[0].slot.id, options[1].slot.id);

    // Act
    let moved = citizen_link::move_to(deps, &first, target).await.expect("the first request moves it");
    let again = citizen_link::move_to(deps, &second, target).await;
    let again_written =
        move_booking(deps, By::Citizen { link: None }, &second.booking, Target::Slot(target), None).await;
    let elsewhere = citizen_link::move_to(deps, &second, other).await;

    // Assert
    for (what, result) in [("through the link's check", &again), ("through the write", &again_written)] {
        let answered = result.as_ref().map(|b| (b.slot_id, b.sequence)).map_err(ToString::to_string);
        assert_eq!(answered, Ok((target, moved.sequence)), "{what}: done, as it is");
    }
    let changed = matches!(elsewhere, Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. }));
    assert!(changed, "another time: changed meanwhile, not taken: {:?}", elsewhere.map(|b| b.slot_id));
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!((now["slot_id"].as_i64(), now["version"].as_i64()), (Some(i64::from(target.get())), Some(1)));
    let kinds = |list: &str, kind: &str| {
        now[list].as_array().expect("a list").iter().filter(|e| e["kind"].as_str() == Some(kind)).count()
    };
    let moves = kinds("history", "rescheduled_by_citizen");
    assert_eq!((moves, kinds("emails", "change")), (1, 1), "moved once, told once: {now}");
}
