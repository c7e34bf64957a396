//! Which moves the citizen's page offers and accepts: none for a booking with an interpreter
//! arranged or in a unit that allows none (each saying why), and a slot offered by the list's
//! rules though a slot freed meanwhile pushed it down the list.

use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::citizen_link::{booking_now, browser, csrf_of, spawn_citizen_app, version_of};
use crate::citizen_link_actions::{booked_with_link, minutes_of, page, post, slot_ids};
use crate::helpers::TestApp;
use crate::smtp_sink::SmtpSink;

const INTERPRETER: &str =
    "Für diesen Termin ist eine Dolmetscherin oder ein Dolmetscher bestellt. Zum Verschieben rufen Sie uns bitte an.";
const NOT_OFFERED: &str = "Termine können hier nicht verschoben werden.";
const MOVES_USED: &str = "so oft verschoben";

/// A free slot of `ads` the booking could move to by the list's rules, were moving offered: the
/// same counsellor, as long, another slot, after the cutoff (December) and within four weeks.
async fn a_slot_to_move_to(app: &TestApp, booking: &Value) -> String {
    let free = app.free_slots("ads", "from=2026-12-02&to=2026-12-20&limit=50").await;
    let slot = free
        .iter()
        .find(|s| {
            s["counsellor"]["id"] == booking["counsellor_id"]
                && s["slot_id"] != booking["slot_id"]
                && s["duration_minutes"] == minutes_of(booking)
        })
        .expect("a free slot of the same counsellor, as long");
    slot["slot_id"].to_string()
}

/// Asks the page of the booking behind `token` to move it to `slot` every way the citizen can (the
/// page, the list, the confirmation, the form sent anyway): each says `why` and nothing moves,
/// while cancelling stays possible.
async fn assert_no_move(app: &TestApp, token: &str, booking: &Value, slot: &str, why: &str, case: &str) {
    let client = browser();
    let (status, html) = page(&client, app, &format!("/t/{token}")).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert!(html.contains(why), "{case}: the page says why: {html}");
    assert!(!html.contains(MOVES_USED) || why == MOVES_USED, "{case}: not the text of moves used up: {html}");
    assert!(!html.contains(r#"id="move""#) && html.contains(r#"id="cancel""#), "{case}: cancel only: {html}");
    for step in [format!("/t/{token}/move"), format!("/t/{token}/move?slot={slot}")] {
        let (status, html) = page(&client, app, &step).await;
        assert_eq!(status, StatusCode::CONFLICT, "{case}: {step}");
        assert!(html.contains(why) && !html.contains(r#"id="move-do""#), "{case}: {step}: {html}");
    }
    let (_, cancel_step) = page(&client, app, &format!("/t/{token}/cancel")).await;
    let form = [("csrf", csrf_of(&cancel_step)), ("version", version_of(&cancel_step)), ("slot", slot.to_owned())];
    let sent = client.post(format!("{}/t/{token}/move", app.address)).form(&form).send().await.expect("post");
    assert_eq!(sent.status(), StatusCode::CONFLICT, "{case}: the form sent anyway");
    assert!(sent.text().await.expect("html").contains(why), "{case}: the refusal says why");
    let now = booking_now(app, &booking["id"]).await;
    assert_eq!((&now["slot_id"], &now["version"]), (&booking["slot_id"], &json!(0)), "{case}: not moved");

    let done =
        post(&client, app, &format!("/t/{token}/cancel"), &[("csrf", &form[0].1), ("version", &form[1].1)]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{case}: cancelled");
    assert_eq!(booking_now(app, &booking["id"]).await["status"], "cancelled", "{case}");
}

/// Staff arrange an interpreter for the appointment's time; a move by the citizen would leave
/// them waiting at the old time, so the link cancels such a booking but does not move it.
#[tokio::test]
async fn a_booking_with_an_interpreter_arranged_is_cancelled_but_not_moved_through_the_link() {
    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let slots = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let body = json!({ "slot_id": slots[0]["slot_id"], "citizen": { "interpreter_language": "ar" } });
    let (booking, token) = booked_with_link(&app, &dispatcher, &sink, body).await;
    assert_eq!(booking["citizen"]["interpreter_language"], "ar");
    let slot = a_slot_to_move_to(&app, &booking).await;

    // Act and assert
    assert_no_move(&app, &token, &booking, &slot, INTERPRETER, "an interpreter arranged").await;
}

/// A unit that lets citizens move no appointment: the page says moving is not offered here (not
/// that the citizen moved it too often: they never did), and to call.
#[tokio::test]
async fn where_the_unit_allows_no_moves_the_page_says_so_not_that_the_moves_are_used() {
    // Arrange
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let settings =
        json!({ "self_service_cutoff_hours": 24, "self_service_max_moves": 0, "self_service_shows_counsellor": false });
    let response = app.put_as(&app.admin_token, "/api/v1/units/ads/self-service", &settings).await;
    assert_eq!(response.status(), StatusCode::OK);
    let slots = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let (booking, token) = booked_with_link(&app, &dispatcher, &sink, json!({ "slot_id": slots[0]["slot_id"] })).await;
    let slot = a_slot_to_move_to(&app, &booking).await;

    // Act and assert
    assert_no_move(&app, &token, &booking, &slot, NOT_OFFERED, "no moves in the unit").await;
}

/// The ids the move list offers of the booking's own counsellor (listed before the others').
async fn same_counsellor_offered(client: &reqwest::Client, app: &TestApp, token: &str) -> Vec<String> {
    let (status, html) = page(client, app, &format!("/t/{token}/move")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let same = html.split("Bei anderen Beratenden").next().expect("the list");
    slot_ids(same)
}

/// The citizen lists the free slots and chooses the last of their counsellor's; meanwhile an
/// earlier slot of that counsellor becomes free (a cancellation), so the chosen one is no longer
/// among the first the list shows. It is still free and offered by the list's rules: the
/// confirmation shows it and the move succeeds.
#[tokio::test]
async fn a_slot_pushed_down_the_list_by_a_slot_freed_meanwhile_is_still_confirmed_and_moved_to() {
    // Arrange: the list as the citizen saw it, with an earlier slot taken by someone else.
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let slots = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let (booking, token) = booked_with_link(&app, &dispatcher, &sink, json!({ "slot_id": slots[0]["slot_id"] })).await;
    let client = browser();
    let first = same_counsellor_offered(&client, &app, &token).await;
    assert_eq!(first.len(), 8, "a full list: {first:?}");
    let other = app.book_slot(first[0].parse().expect("id")).await;
    let seen = same_counsellor_offered(&client, &app, &token).await;
    assert_eq!(seen[..7], first[1..], "the list moved up by one");
    let chosen = seen[7].clone();

    // Act: the earlier slot is freed, then the citizen confirms the last slot they saw.
    let cancelled = app.cancel_booking(other["id"].as_str().expect("id"), "krank").await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert!(!same_counsellor_offered(&client, &app, &token).await.contains(&chosen), "now ninth, not listed");
    let (status, confirm) = page(&client, &app, &format!("/t/{token}/move?slot={chosen}")).await;
    assert_eq!(status, StatusCode::OK, "{confirm}");
    assert!(confirm.contains(&format!(r#"name="slot" value="{chosen}""#)), "the confirmation: {confirm}");
    // Its links say where they lead: another time (the list), or back to the appointment.
    assert!(
        confirm.contains(&format!(r#"<a href="/t/{token}/move" id="other-time">Andere Zeit wählen</a>"#)),
        "{confirm}"
    );
    assert!(confirm.contains(&format!(r#"<a href="/t/{token}" id="back">Zurück zum Termin</a>"#)), "{confirm}");
    let form = [("csrf", csrf_of(&confirm)), ("version", version_of(&confirm)), ("slot", chosen.clone())];
    let done = client.post(format!("{}/t/{token}/move", app.address)).form(&form).send().await.expect("post");

    // Assert
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{:?}", done.text().await);
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!((now["slot_id"].to_string(), &now["status"]), (chosen, &json!("booked")));
}

/// The time chosen was closed while the citizen confirmed it (the unit closed the day): the page
/// says it is no longer available, not that someone else took it, and nothing moves.
#[tokio::test]
async fn a_time_closed_while_confirming_is_said_to_be_unavailable_not_taken() {
    // Arrange: the confirmation of a move is open.
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let slots = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let (booking, token) = booked_with_link(&app, &dispatcher, &sink, json!({ "slot_id": slots[0]["slot_id"] })).await;
    let client = browser();
    let (_, list) = page(&client, &app, &format!("/t/{token}/move")).await;
    let slot = slot_ids(&list).first().cloned().expect("a time offered");
    let (_, confirm) = page(&client, &app, &format!("/t/{token}/move?slot={slot}")).await;
    let form = [("csrf", csrf_of(&confirm)), ("version", version_of(&confirm)), ("slot", slot.clone())];
    let id: i32 = slot.parse().expect("a slot id");
    let stored = entity::slot::Entity::find_by_id(id).one(&app.db).await.expect("read").expect("the slot");
    let day = terminbuch::domain::time::local_date(stored.starts_at, chrono_tz::Europe::Berlin).to_string();
    let closure = json!({ "from_date": day, "until_date": day, "reason": "Betriebsausflug" });
    let closed = app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure).await;
    assert_eq!(closed.status(), StatusCode::CREATED, "{:?}", closed.text().await);

    // Act
    let sent = client.post(format!("{}/t/{token}/move", app.address)).form(&form).send().await.expect("post");

    // Assert
    assert_eq!(sent.status(), StatusCode::CONFLICT);
    let html = sent.text().await.expect("html");
    assert!(html.contains("Dieser Termin ist nicht mehr möglich."), "{html}");
    assert!(!html.contains("inzwischen vergeben"), "not taken by someone: {html}");
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["slot_id"], booking["slot_id"], "not moved");
}
