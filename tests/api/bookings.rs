//! Booking lifecycle through the API: create, read, search, cancel, reschedule, outcome.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::history::{Created, HistoryEvent, Reason};
use terminbuch::domain::records::Booking;
use terminbuch::domain::reference::Reference;
use terminbuch::store::{self, StoreError};

use crate::helpers::{adhoc_anyway, adhoc_body, assert_problem, booking_body, spawn_app};
use terminbuch::domain::ids::SlotId;

#[tokio::test]
async fn booking_a_free_slot_returns_201_with_reference_and_local_times() {
    // Arrange
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    // Act
    let response = app.post_booking(&booking_body(slot["slot_id"].as_i64().unwrap())).await;
    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.unwrap();
    assert_eq!(booking["status"], "booked");
    assert_eq!(booking["starts_at"], slot["starts_at"]);
    assert_eq!(booking["ends_at"], slot["ends_at"]);
    let reference = booking["reference"].as_str().unwrap();
    assert_eq!(reference.len(), 9, "ABCD-EFGH");
    assert!(reference.chars().all(|c| c == '-' || "ACDEFGHJKMNPQRTUVWXY34679".contains(c)), "{reference}");
    assert!(booking["starts_at"].as_str().unwrap().ends_with("+01:00"), "local winter offset");
    let remaining = app.free_slots("ads", "limit=500").await;
    assert!(remaining.iter().all(|s| s["slot_id"] != slot["slot_id"]), "the booked slot is no longer free");
}

#[tokio::test]
async fn a_booking_is_found_by_id_and_by_reference_as_read_on_the_phone() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let reference = booking["reference"].as_str().unwrap();
    let spoken = reference.replace('-', " ").to_lowercase();
    for key in [booking["id"].as_str().unwrap().to_owned(), reference.to_owned(), spoken.replace(' ', "")] {
        let response = app.get_booking(&key).await;
        assert_eq!(response.status(), StatusCode::OK, "lookup by {key}");
        let found: Value = response.json().await.unwrap();
        assert_eq!(found["id"], booking["id"]);
        assert_eq!(found["history"][0]["kind"], "created", "history starts with creation");
    }
    assert_problem(app.get_booking("ACDE-FGHJ").await, StatusCode::NOT_FOUND, "booking_not_found").await;
}

#[tokio::test]
async fn invalid_citizen_fields_are_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let body = json!({
        "slot_id": slot["slot_id"],
        "citizen": { "name": "", "email": "not-an-address", "phone": "call me", "language": "Turkish" },
    });
    let problem =
        assert_problem(app.post_booking(&body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for field in ["citizen.name", "citizen.email", "citizen.phone", "citizen.language"] {
        assert!(fields.contains(&field), "{field} named in {fields:?}");
    }
    assert!(app.list_bookings("").await.is_empty(), "no partial write");
    let still_free = app.free_slots("ads", "limit=1").await.remove(0);
    assert_eq!(still_free["slot_id"], slot["slot_id"]);
}

#[tokio::test]
async fn malformed_json_and_unknown_slots_get_problem_documents() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/v1/bookings", app.address))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body("{\"slot_id\": ")
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert_problem(app.post_booking(&booking_body(999_999)).await, StatusCode::NOT_FOUND, "slot_not_found").await;
    let no_target = json!({ "citizen": { "name": "X" } });
    assert_problem(app.post_booking(&no_target).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn a_value_of_the_wrong_type_or_an_unknown_choice_is_refused_with_the_field_named() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let slot_id = slot["slot_id"].as_i64().unwrap();
    let mut without_citizen = booking_body(slot_id);
    without_citizen.as_object_mut().unwrap().remove("citizen");
    let changed = |pointer: &str, value: Value| {
        let mut body = booking_body(slot_id);
        *body.pointer_mut(pointer).expect("field of the body") = value;
        body
    };
    for (body, field) in [
        (changed("/channel", json!("fax")), "channel"),
        (changed("/slot_id", json!("zwölf")), "slot_id"),
        (changed("/citizen/name", json!(42)), "citizen.name"),
        (changed("/email_consent", json!("ja")), "email_consent"),
        (without_citizen, "citizen"),
    ] {
        let problem =
            assert_problem(app.post_booking(&body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body} -> {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.starts_with(&format!("{field}: ")) && !detail.contains("line 1"), "{detail}");
    }
    let problem = assert_problem(
        app.post_booking(&json!({ "slot_id": slot_id, "citizen": { "name": "X" }, "channel": "fax" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("phone"), "the choices are listed: {problem}");
    let plain = app
        .client
        .post(format!("{}/api/v1/bookings", app.address))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/plain")
        .body(booking_body(slot_id).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let trailing = app
        .client
        .post(format!("{}/api/v1/bookings", app.address))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json; charset=utf-8")
        .body(format!("{} x", booking_body(slot_id)))
        .send()
        .await
        .unwrap();
    assert_problem(trailing, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert!(app.list_bookings("").await.is_empty(), "nothing was booked");
}

#[tokio::test]
async fn a_query_parameter_of_the_wrong_type_is_refused_with_the_parameter_named() {
    let app = spawn_app().await;
    for (query, field) in [("limit=viele", "limit"), ("counsellor=-x&limit=3", "counsellor")] {
        let response = app.get_as(&app.admin_token, &format!("/api/v1/units/ads/free-slots?{query}")).await;
        let problem = assert_problem(response, StatusCode::BAD_REQUEST, "invalid_query").await;
        assert_eq!(problem["errors"][0]["field"], field, "{query} -> {problem}");
    }
    let response = app.get_as(&app.admin_token, "/api/v1/bookings?limit=alle").await;
    let problem = assert_problem(response, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert!(problem["detail"].as_str().unwrap().contains("limit"), "{problem}");
}

#[tokio::test]
async fn an_adhoc_booking_overlapping_an_existing_one_is_refused() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Deniz Aydın").await;
    // Wednesday 25 November is outside the demo counselling hours: booked with an override.
    let first = app.post_booking(&adhoc_anyway("ads", counsellor, "2026-11-25T15:00", 60)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let overlapping = app.post_booking(&adhoc_anyway("ads", counsellor, "2026-11-25T15:30", 60)).await;
    assert_problem(overlapping, StatusCode::CONFLICT, "counsellor_busy").await;
    let adjacent = app.post_booking(&adhoc_anyway("ads", counsellor, "2026-11-25T16:00", 30)).await;
    assert_eq!(adjacent.status(), StatusCode::CREATED, "back-to-back is fine");
    let colleague = app.counsellor_id("ads", "Jana Winterberg").await;
    let mut other = adhoc_anyway("ads", colleague, "2026-11-25T15:30", 60);
    other["counsellor_id"] = other["counsellor"].take();
    other.as_object_mut().unwrap().remove("counsellor");
    let other = app.post_booking(&other).await;
    assert_eq!(other.status(), StatusCode::CREATED, "another counsellor is free (named with `counsellor_id`)");
}

#[tokio::test]
async fn a_regular_slot_overlapping_an_adhoc_booking_is_neither_offered_nor_bookable() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let counsellor = slot["counsellor"]["id"].as_i64().unwrap();
    let starts_at = slot["starts_at"].as_str().unwrap();
    let adhoc = app.post_booking(&adhoc_body("ads", counsellor, starts_at, 30)).await;
    assert_eq!(adhoc.status(), StatusCode::CREATED);
    let free = app.free_slots("ads", "limit=500").await;
    assert!(free.iter().all(|s| s["slot_id"] != slot["slot_id"]), "hidden from free slots");
    let response = app.post_booking(&booking_body(slot["slot_id"].as_i64().unwrap())).await;
    assert_problem(response, StatusCode::CONFLICT, "counsellor_busy").await;
}

#[tokio::test]
async fn bookings_in_the_past_need_an_override_reason_which_is_recorded() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Deniz Aydın").await;
    let past = adhoc_body("ads", counsellor, "2026-11-23T10:00", 60);
    assert_problem(app.post_booking(&past).await, StatusCode::UNPROCESSABLE_ENTITY, "in_the_past").await;
    let mut overridden = past.clone();
    overridden["override_reason"] = json!("Nachtrag eines Termins von gestern");
    let response = app.post_booking(&overridden).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.unwrap();
    assert_eq!(booking["override_reason"], "Nachtrag eines Termins von gestern");
    let details: Value = app.get_booking(booking["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(details["history"][0]["detail"]["override_reason"], "Nachtrag eines Termins von gestern");
}

#[tokio::test]
async fn rescheduling_keeps_the_reference_and_frees_the_old_slot() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=5").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().unwrap()).await;
    let id = booking["id"].as_str().unwrap();
    let response = app.reschedule_booking(id, &json!({ "slot_id": slots[4]["slot_id"] })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let moved: Value = response.json().await.unwrap();
    assert_eq!(moved["reference"], booking["reference"]);
    assert_eq!(moved["id"], booking["id"]);
    assert_eq!(moved["starts_at"], slots[4]["starts_at"]);
    let free = app.free_slots("ads", "limit=500").await;
    assert!(free.iter().any(|s| s["slot_id"] == slots[0]["slot_id"]), "old slot free again");
    assert!(free.iter().all(|s| s["slot_id"] != slots[4]["slot_id"]), "new slot taken");
    let details: Value = app.get_booking(id).await.json().await.unwrap();
    assert_eq!(details["history"][1]["kind"], "rescheduled");
    assert_eq!(details["history"][1]["detail"]["from"]["slot_id"], slots[0]["slot_id"]);
}

#[tokio::test]
async fn rescheduling_into_a_taken_slot_fails_and_keeps_the_old_time() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let mine = app.book_slot(slots[0]["slot_id"].as_i64().unwrap()).await;
    app.book_slot(slots[1]["slot_id"].as_i64().unwrap()).await;
    let response =
        app.reschedule_booking(mine["id"].as_str().unwrap(), &json!({ "slot_id": slots[1]["slot_id"] })).await;
    assert_problem(response, StatusCode::CONFLICT, "slot_taken").await;
    let unchanged: Value = app.get_booking(mine["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(unchanged["slot_id"], slots[0]["slot_id"]);
    assert_eq!(unchanged["history"].as_array().unwrap().len(), 1, "no half-written move");
    let free = app.free_slots("ads", "limit=500").await;
    assert!(free.iter().all(|s| s["slot_id"] != slots[0]["slot_id"]), "old slot still taken");
}

#[tokio::test]
async fn cancelling_frees_the_slot_and_cannot_happen_twice() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let id = booking["id"].as_str().unwrap();
    let response = app.cancel_booking(id, "Bürgerin hat abgesagt").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "Bürgerin hat abgesagt");
    assert_eq!(app.free_slots("ads", "limit=1").await[0]["slot_id"], slot["slot_id"], "bookable again");
    assert_problem(app.cancel_booking(id, "nochmal").await, StatusCode::CONFLICT, "invalid_status").await;
    let rebook = app.post_booking(&booking_body(slot["slot_id"].as_i64().unwrap())).await;
    assert_eq!(rebook.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_change_sent_with_the_version_seen_is_refused_once_the_booking_has_moved_on() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=3").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().unwrap()).await;
    let id = booking["id"].as_str().unwrap();
    let seen = booking["version"].as_i64().unwrap();
    let moved = app.reschedule_booking(id, &json!({ "slot_id": slots[1]["slot_id"], "version": seen })).await;
    assert_eq!(moved.status(), StatusCode::OK, "the version seen is the booking's version");
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["version"].as_i64().unwrap(), seen + 1, "a move makes a new version");

    // A colleague who still has the first version on screen neither moves nor cancels the new time.
    let stale_move = app.reschedule_booking(id, &json!({ "slot_id": slots[2]["slot_id"], "version": seen })).await;
    assert_problem(stale_move, StatusCode::CONFLICT, "concurrent_update").await;
    let stale_cancel = app
        .post_as(
            &app.admin_token,
            &format!("/api/v1/bookings/{id}/cancel"),
            &json!({ "reason": "abgesagt", "version": seen }),
        )
        .await;
    assert_problem(stale_cancel, StatusCode::CONFLICT, "concurrent_update").await;
    let now: Value = app.get_booking(id).await.json().await.unwrap();
    assert_eq!(now["status"], "booked");
    assert_eq!(now["slot_id"], slots[1]["slot_id"], "the stale requests changed nothing");
    assert_eq!(now["history"].as_array().unwrap().len(), 2, "created and moved, nothing else");
    assert!(app.free_slots("ads", "limit=500").await.iter().any(|s| s["slot_id"] == slots[2]["slot_id"]));

    // With the version it has now, it is cancelled; without one, the API keeps its old behaviour.
    let cancelled = app
        .post_as(
            &app.admin_token,
            &format!("/api/v1/bookings/{id}/cancel"),
            &json!({ "reason": "abgesagt", "version": moved["version"] }),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["version"].as_i64().unwrap(), seen + 2);
    let other = app.book_slot(slots[2]["slot_id"].as_i64().unwrap()).await;
    let unversioned =
        app.reschedule_booking(other["id"].as_str().unwrap(), &json!({ "slot_id": slots[0]["slot_id"] })).await;
    assert_eq!(unversioned.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_outcome_is_recorded_only_once_the_appointment_has_begun() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let id = booking["id"].as_str().unwrap();
    assert_problem(app.record_outcome(id, "attended").await, StatusCode::UNPROCESSABLE_ENTITY, "too_early").await;
    app.clock.advance(TimeDelta::days(30));
    let response = app.record_outcome(id, "no_show").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "no_show");
    let corrected = app.record_outcome(id, "attended").await;
    assert_eq!(corrected.json::<Value>().await.unwrap()["status"], "attended", "an outcome can be corrected");
    assert_problem(app.cancel_booking(id, "zu spät").await, StatusCode::CONFLICT, "invalid_status").await;
}

#[tokio::test]
async fn bookings_are_searchable_by_reference_name_and_phone() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let first = app.book_slot(slots[0]["slot_id"].as_i64().unwrap()).await;
    let mut other = booking_body(slots[1]["slot_id"].as_i64().unwrap());
    other["citizen"] = json!({ "name": "Olena Petrenko", "phone": "0170 555111" });
    assert_eq!(app.post_booking(&other).await.status(), StatusCode::CREATED);
    let by_reference = app.list_bookings(&format!("q={}", first["reference"].as_str().unwrap())).await;
    assert_eq!(by_reference.len(), 1);
    assert_eq!(by_reference[0]["id"], first["id"]);
    let by_name = app.list_bookings("q=Petrenko").await;
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0]["citizen"]["name"], "Olena Petrenko");
    let by_phone = app.list_bookings("q=555111").await;
    assert_eq!(by_phone.len(), 1);
    let ignoring_case = app.list_bookings("q=oLENA%20pet").await;
    assert_eq!(ignoring_case.len(), 1, "the search ignores case on every engine");
    let wildcard = app.get_as(&app.admin_token, "/api/v1/bookings?q=%25").await;
    assert_eq!(wildcard.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY, "LIKE's wildcard alone is no search");
    assert_eq!(app.list_bookings("unit=ads&from=2026-11-24&to=2027-03-01").await.len(), 2);
    assert!(app.list_bookings("unit=sdr").await.is_empty());
}

#[tokio::test]
async fn a_new_booking_and_its_created_event_are_written_together_or_not_at_all() {
    // Arrange: one booking through the API; a second one that reuses its reference.
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let first = app.book_slot(slots[0]["slot_id"].as_i64().unwrap()).await;
    let first_id = uuid::Uuid::parse_str(first["id"].as_str().unwrap()).unwrap();
    let stored = store::bookings::find(&app.db, first_id).await.unwrap().expect("the first booking");
    let clash = Booking {
        id: uuid::Uuid::now_v7(),
        slot_id: SlotId::new(slots[1]["slot_id"].as_i64().unwrap() as i32),
        ..stored
    };
    let created = Created {
        slot_id: clash.slot_id,
        starts_at: clash.starts_at,
        ends_at: clash.ends_at,
        adhoc: false,
        channel: clash.channel,
        override_reason: Reason::NotGiven,
    };

    // Act
    let refused = store::bookings::insert_created(&app.db, &clash, created.clone()).await;

    // Assert: the collision is recognisable (the service retries on it) and left nothing behind.
    match refused {
        Err(StoreError::Duplicate(message)) => assert!(message.contains("reference"), "{message}"),
        other => panic!("a duplicate reference must be refused as Duplicate, got {other:?}"),
    }
    assert!(store::bookings::find(&app.db, clash.id).await.unwrap().is_none(), "no booking row");
    assert!(store::bookings::events(&app.db, clash.id).await.unwrap().is_empty(), "no event row");

    // And with a fresh reference both rows are there.
    let stored = clash.reference.as_str().to_owned();
    let last = if stored.ends_with('X') { 'Y' } else { 'X' };
    let fresh =
        Booking { reference: Reference::from_stored(&format!("{}{last}", &stored[..stored.len() - 1])), ..clash };
    store::bookings::insert_created(&app.db, &fresh, created.clone()).await.expect("stored");
    let events = store::bookings::events(&app.db, fresh.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((&events[0].what, events[0].actor_id), (&HistoryEvent::Created(created), fresh.created_by));
    let found = store::bookings::find(&app.db, fresh.id).await.unwrap().expect("the booking row");
    assert_eq!((&found.reference, found.slot_id), (&fresh.reference, fresh.slot_id));
}

/// The reason for a cancellation is trimmed and checked by the service, as the desk's form is:
/// spaces around it are not counted, a blank or overlong one is refused naming `reason`.
#[tokio::test]
async fn a_cancellation_reason_is_trimmed_and_limited_as_on_the_desk() {
    let app = spawn_app().await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booking = app.book_slot(slot["slot_id"].as_i64().expect("slot id")).await;
    let path = format!("/api/v1/bookings/{}/cancel", booking["id"].as_str().expect("id"));
    for reason in ["   ".to_owned(), "x".repeat(501)] {
        let response = app.post_as(&app.admin_token, &path, &json!({ "reason": reason })).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "reason", "{problem}");
    }
    let padded = format!("Krank{}", " ".repeat(496));
    let response = app.post_as(&app.admin_token, &path, &json!({ "reason": padded })).await;
    assert_eq!(response.status(), StatusCode::OK, "500 characters once trimmed are fine");
    let cancelled: Value = app.get_booking(booking["id"].as_str().expect("id")).await.json().await.expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "Krank", "stored trimmed: {cancelled}");
}

/// A misspelled field is refused, naming it, not ignored: an ignored "versoin" would drop the
/// guard against a concurrent change, an ignored "emailConsent" book without the consent meant,
/// an ignored "untill_date" record a one-day absence. Nothing is written.
#[tokio::test]
async fn a_misspelled_field_is_refused_with_the_field_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let booked = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let id = booked["id"].as_str().expect("id").to_owned();

    let mut body = booking_body(slots[1]["slot_id"].as_i64().expect("slot"));
    body["emailConsent"] = json!(true);
    let created = app.post_booking(&body).await;
    let mut citizen = booking_body(0)["citizen"].clone();
    citizen["phon"] = json!("0511 1");
    let mut nested = booking_body(slots[1]["slot_id"].as_i64().expect("slot"));
    nested["citizen"] = citizen;
    let created_nested = app.post_booking(&nested).await;
    let cancel = json!({ "reason": "verlegt", "versoin": 0 });
    let cancelled = app.post_as(&app.admin_token, &format!("/api/v1/bookings/{id}/cancel"), &cancel).await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let span =
        json!({ "counsellor_id": jana, "from_date": "2027-01-11", "untill_date": "2027-01-15", "reason": "Kur" });
    let absence = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &span).await;

    for (response, field) in
        [(created, "emailConsent"), (created_nested, "citizen.phon"), (cancelled, "versoin"), (absence, "untill_date")]
    {
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "named once, by its own path: {problem}");
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings").await, 1, "no booking added");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE status = 'booked'").await, 1, "none cancelled");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 0, "no absence");
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.expect("openapi");
    for name in ["CreateBookingRequest", "CancelRequest", "AbsenceRequest", "ClosureRequest", "CitizenInput"] {
        assert_eq!(doc["components"]["schemas"][name]["additionalProperties"], json!(false), "{name}");
    }
}
