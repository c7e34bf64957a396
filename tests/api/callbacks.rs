//! The callback list (Rückrufliste) through the API: a cancellation makes a waiting caller's
//! entry bookable, one call books it through the booking service, entries expire, access is per
//! unit, and retention deletes ended entries.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};
use terminbuch::domain::ids::CallbackId;

/// Books every free slot of Deniz Aydın before Friday 27 November; returns the bookings.
async fn fill_aydin_until_thursday(app: &TestApp) -> (i64, Vec<Value>) {
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let free = app.free_slots("ads", &format!("counsellor={aydin}&to=2026-11-26&limit=50")).await;
    assert!(!free.is_empty(), "Deniz Aydın counsels this week");
    let mut booked = Vec::new();
    for slot in &free {
        booked.push(app.book_slot(slot["slot_id"].as_i64().expect("slot id")).await);
    }
    assert!(app.free_slots("ads", &format!("counsellor={aydin}&to=2026-11-26")).await.is_empty());
    (aydin, booked)
}

fn entry_body(name: &str, counsellor: i64) -> Value {
    json!({
        "citizen": { "name": name, "phone": "0511 987654", "language": "tr" },
        "wish": { "counsellor": counsellor, "language": "tr", "before": "2026-11-27" },
        "until": "2026-12-04",
        "note": "möchte früher kommen",
    })
}

async fn add_entry(app: &TestApp, body: &Value) -> Value {
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("json")
}

async fn open_entries(app: &TestApp) -> Vec<Value> {
    let response = app.get_as(&app.admin_token, "/api/v1/units/ads/callbacks").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_cancellation_makes_the_oldest_waiting_entry_bookable_and_one_call_books_it() {
    // Arrange: Deniz Aydın is fully booked this week; two callers wait for an earlier time.
    let app = spawn_app().await;
    let (aydin, booked) = fill_aydin_until_thursday(&app).await;
    let first = add_entry(&app, &entry_body("Emre Şencan", aydin)).await;
    let second = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    assert_eq!(first["status"], "open");
    assert_eq!(first["callback_possible"], false, "nothing matches yet: {first}");
    assert!(open_entries(&app).await.iter().all(|e| e["callback_possible"] == false));

    // Act: a booking of Deniz Aydın is cancelled.
    let freed = &booked[1];
    let response = app.cancel_booking(freed["id"].as_str().unwrap(), "Person hat abgesagt").await;
    assert_eq!(response.status(), StatusCode::OK);

    // Assert: the oldest entry is marked with the freed slot, the second still waits.
    let entries = open_entries(&app).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], first["id"]);
    assert_eq!(entries[0]["callback_possible"], true, "{}", entries[0]);
    assert_eq!(entries[0]["offer"]["slot_id"], freed["slot_id"]);
    assert_eq!(entries[0]["offer"]["counsellor"]["name"], "Deniz Aydın");
    assert!(entries[0]["offered_at"].is_string());
    assert_eq!(entries[1]["callback_possible"], false, "one freed seat is offered once");

    // Book it with one call; the booking has the caller's name and phone, and every rule held.
    let id = first["id"].as_i64().unwrap();
    let response = app.post_as(&app.admin_token, &format!("/api/v1/callbacks/{id}/book"), &json!({})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let made: Value = response.json().await.unwrap();
    assert_eq!(made["starts_at"], freed["starts_at"]);
    let booking: Value = app.get_booking(made["reference"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(booking["citizen"]["name"], "Emre Şencan");
    assert_eq!(booking["citizen"]["phone"], "0511 987654");
    assert_eq!(booking["citizen"]["language"], "tr");
    assert_eq!(booking["slot_id"], freed["slot_id"]);
    assert_eq!(booking["status"], "booked");
    let entry: Value = app.get_as(&app.admin_token, &format!("/api/v1/callbacks/{id}")).await.json().await.unwrap();
    assert_eq!(entry["status"], "booked");
    assert_eq!(entry["booking_id"], booking["id"]);
    let remaining = open_entries(&app).await;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0]["id"], second["id"]);
    assert_eq!(remaining[0]["callback_possible"], false, "the slot is taken now");
    let again = app.post_as(&app.admin_token, &format!("/api/v1/callbacks/{id}/book"), &json!({})).await;
    assert_problem(again, StatusCode::CONFLICT, "invalid_status").await;
    let second_id = second["id"].as_i64().unwrap();
    let nothing = app.post_as(&app.admin_token, &format!("/api/v1/callbacks/{second_id}/book"), &json!({})).await;
    assert_problem(nothing, StatusCode::CONFLICT, "no_offer").await;
    let closed: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/ads/callbacks?state=closed").await.json().await.unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["status"], "booked");
}

#[tokio::test]
async fn a_slot_taken_meanwhile_is_refused_and_the_entry_stays_open() {
    let app = spawn_app().await;
    let (aydin, booked) = fill_aydin_until_thursday(&app).await;
    let entry = add_entry(&app, &entry_body("Emre Şencan", aydin)).await;
    app.cancel_booking(booked[0]["id"].as_str().unwrap(), "abgesagt").await;
    let offered = open_entries(&app).await.remove(0);
    assert_eq!(offered["callback_possible"], true);
    // Someone at another desk books the freed slot first.
    app.book_slot(offered["offer"]["slot_id"].as_i64().unwrap()).await;
    let id = entry["id"].as_i64().unwrap();
    let body = json!({ "slot_id": offered["offer"]["slot_id"] });
    let response = app.post_as(&app.admin_token, &format!("/api/v1/callbacks/{id}/book"), &body).await;
    assert_problem(response, StatusCode::CONFLICT, "slot_taken").await;
    let still = open_entries(&app).await.remove(0);
    assert_eq!(still["status"], "open");
    assert_eq!(still["callback_possible"], false);
}

#[tokio::test]
async fn entries_expire_after_their_last_day() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let mut body = entry_body("Ayla Kaya", aydin);
    body["until"] = json!("2026-11-25");
    let entry = add_entry(&app, &body).await;
    assert_eq!(open_entries(&app).await.len(), 1);
    app.clock.advance(TimeDelta::days(2));
    assert!(open_entries(&app).await.is_empty(), "expired entries leave the list");
    let id = entry["id"].as_i64().unwrap();
    let expired: Value = app.get_as(&app.admin_token, &format!("/api/v1/callbacks/{id}")).await.json().await.unwrap();
    assert_eq!(expired["status"], "expired");
    let response = app.post_as(&app.admin_token, &format!("/api/v1/callbacks/{id}/book"), &json!({})).await;
    assert_problem(response, StatusCode::CONFLICT, "invalid_status").await;
}

#[tokio::test]
async fn an_entry_can_be_taken_off_the_list_once() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let path = format!("/api/v1/callbacks/{}", entry["id"]);
    let response = app.delete_as(&app.admin_token, &path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "withdrawn");
    assert!(open_entries(&app).await.is_empty());
    assert_problem(app.delete_as(&app.admin_token, &path).await, StatusCode::CONFLICT, "invalid_status").await;
}

#[tokio::test]
async fn bad_entries_are_refused_with_the_field_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let other_unit = app.counsellor_id("sdr", "Lukas Feldmann").await;
    let mut cases = Vec::new();
    let mut past = entry_body("A", aydin);
    past["until"] = json!("2026-11-23");
    cases.push((past, "until"));
    let mut far = entry_body("A", aydin);
    far["until"] = json!("2028-01-01");
    cases.push((far, "until"));
    let mut today = entry_body("A", aydin);
    today["wish"]["before"] = json!("2026-11-24");
    cases.push((today, "wish.before"));
    cases.push((entry_body("A", other_unit), "wish.counsellor"));
    let mut no_phone = entry_body("A", aydin);
    no_phone["citizen"]["phone"] = json!("ruf an");
    cases.push((no_phone, "citizen.phone"));
    let mut bad_date = entry_body("A", aydin);
    bad_date["until"] = json!("bald");
    cases.push((bad_date, "until"));
    let mut bad_part = entry_body("A", aydin);
    bad_part["wish"]["time_of_day"] = json!("evening");
    cases.push((bad_part, "wish.time_of_day"));
    for (body, field) in cases {
        let response = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body} -> {problem}");
    }
    assert!(open_entries(&app).await.is_empty(), "no partial write");
}

#[tokio::test]
async fn only_staff_of_the_unit_see_and_change_its_callback_list() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let outsider = app.token_for("sdr.empfang", "front_desk", Some("sdr")).await;
    let insider = app.token_for("ads.empfang", "front_desk", Some("ads")).await;
    let id = entry["id"].as_i64().unwrap();
    for response in [
        app.get_as(&outsider, "/api/v1/units/ads/callbacks").await,
        app.post_as(&outsider, "/api/v1/units/ads/callbacks", &entry_body("B", aydin)).await,
        app.get_as(&outsider, &format!("/api/v1/callbacks/{id}")).await,
        app.post_as(&outsider, &format!("/api/v1/callbacks/{id}/book"), &json!({})).await,
        app.delete_as(&outsider, &format!("/api/v1/callbacks/{id}")).await,
    ] {
        assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let listed: Vec<Value> = app.get_as(&insider, "/api/v1/units/ads/callbacks").await.json().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(app.get_unauthenticated("/api/v1/units/ads/callbacks").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn retention_deletes_ended_entries_and_erasure_any_entry() {
    use terminbuch::services::callbacks;
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let withdrawn = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    add_entry(&app, &entry_body("Emre Şencan", aydin)).await;
    app.delete_as(&app.admin_token, &format!("/api/v1/callbacks/{}", withdrawn["id"])).await;
    let tz = chrono_tz::Europe::Berlin;
    let cutoff = app.clock.now() + TimeDelta::seconds(1);
    assert_eq!(callbacks::count_ended_before(&app.db, cutoff, tz).await.unwrap(), 1, "a dry run counts what goes");
    let deleted = callbacks::erase_ended_before(&app.db, cutoff, tz).await.unwrap();
    assert_eq!(deleted, 1, "only the ended entry");
    let gone = app.get_as(&app.admin_token, &format!("/api/v1/callbacks/{}", withdrawn["id"])).await;
    assert_problem(gone, StatusCode::NOT_FOUND, "callback_not_found").await;
    assert_eq!(open_entries(&app).await.len(), 1);
    // An open entry goes once its last day lies before the cutoff, or on request.
    let after_last_day = app.clock.now() + TimeDelta::days(30);
    assert_eq!(callbacks::count_ended_before(&app.db, after_last_day, tz).await.unwrap(), 1);
    assert_eq!(callbacks::erase_ended_before(&app.db, after_last_day, tz).await.unwrap(), 1);
    let again = add_entry(&app, &entry_body("Emre Şencan", aydin)).await;
    assert_eq!(callbacks::erase(&app.db, &[CallbackId::new(again["id"].as_i64().unwrap() as i32)]).await.unwrap(), 1);
    assert!(open_entries(&app).await.is_empty());
}

#[tokio::test]
async fn every_access_to_the_callback_list_is_audited_without_names_or_numbers() {
    use terminbuch::domain::audit::AuditAction;

    use crate::audit::records;

    // Arrange
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;

    // Act: put a caller on the list, list it, read the entry, take it off.
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let listed = open_entries(&app).await;
    let path = format!("/api/v1/callbacks/{}", entry["id"]);
    assert_eq!(app.get_as(&app.admin_token, &path).await.status(), StatusCode::OK);
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::OK);

    // Assert: one record per access, naming the entry or the count, never the caller.
    let target = format!("callback:{}", entry["id"]);
    for action in [AuditAction::CallbackAdded, AuditAction::CallbackViewed, AuditAction::CallbackWithdrawn] {
        let found = records(&app, action).await;
        assert_eq!(found.len(), 1, "{action}");
        assert_eq!(found[0].target, target, "{action}");
    }
    let lists = records(&app, AuditAction::CallbacksListed).await;
    assert!(lists.iter().any(|r| r.item_count == Some(i64::try_from(listed.len()).unwrap())), "the list read counted");
    assert!(
        lists.iter().any(|r| r.detail["callback_ids"].as_array().is_some_and(|ids| ids.contains(&entry["id"]))),
        "the list read names the entries shown: {lists:?}"
    );
    let mut everything = String::new();
    for action in AuditAction::ALL {
        everything.push_str(&format!("{:?}", records(&app, *action).await));
    }
    assert!(!everything.contains("Ayla") && !everything.contains("Kaya"), "no caller's name in the audit");
}

/// While a desk books a time for the caller (the entry's claim), another desk cannot take the
/// entry off the list: else the booking would be made for an entry already withdrawn, which then
/// named no booking. Once the claim ends, it can.
#[tokio::test]
async fn an_entry_being_booked_for_cannot_be_withdrawn_meanwhile() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let id = CallbackId::new(i32::try_from(entry["id"].as_i64().expect("id")).expect("fits"));
    let now = app.clock.now();
    // The step `callbacks::book` takes before it books: the claim.
    let until = now + TimeDelta::minutes(1);
    assert!(terminbuch::store::callbacks::claim(&app.db, id, now, until).await.expect("db"));
    let path = format!("/api/v1/callbacks/{}", entry["id"]);

    assert_problem(app.delete_as(&app.admin_token, &path).await, StatusCode::CONFLICT, "callback_busy").await;
    assert_eq!(open_entries(&app).await.len(), 1, "still waiting");

    terminbuch::store::callbacks::release(&app.db, id, until).await.expect("db");
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::OK);
}

/// A desk whose claim ran out (its booking took longer) and that then gives up releases only its
/// own claim: another desk's claim made meanwhile stays, so no third desk books the caller too.
#[tokio::test]
async fn giving_up_after_ones_claim_ran_out_leaves_the_next_desks_claim() {
    use terminbuch::store::callbacks::{claim, release};
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let id = CallbackId::new(i32::try_from(entry["id"].as_i64().expect("id")).expect("fits"));
    let t0 = app.clock.now();
    let (first, second) = (t0 + TimeDelta::seconds(60), t0 + TimeDelta::seconds(121));

    // The first desk claims; its claim runs out; the second desk claims.
    assert!(claim(&app.db, id, t0, first).await.expect("db"), "the first desk's claim");
    assert!(!claim(&app.db, id, t0 + TimeDelta::seconds(30), first).await.expect("db"), "held meanwhile");
    assert!(claim(&app.db, id, t0 + TimeDelta::seconds(61), second).await.expect("db"), "the second desk's claim");

    // The first desk gives up late: the second's claim stays; once it releases, the entry is free.
    release(&app.db, id, first).await.expect("db");
    assert!(!claim(&app.db, id, t0 + TimeDelta::seconds(62), second).await.expect("db"), "the second's claim stays");
    release(&app.db, id, second).await.expect("db");
    assert!(claim(&app.db, id, t0 + TimeDelta::seconds(63), t0 + TimeDelta::seconds(123)).await.expect("db"), "free");
}

/// A caller booked from the callback list who later gives another phone number and an email:
/// asked for by that email, the export holds the callback entry the booking was made from (with
/// the caller's wishes) and the erasure removes it, whatever number the entry still holds.
#[tokio::test]
async fn the_entry_a_persons_booking_was_made_from_is_exported_and_erased_with_it() {
    // Arrange: booked from the list.
    let app = spawn_app().await;
    let (aydin, booked) = fill_aydin_until_thursday(&app).await;
    let entry = add_entry(&app, &entry_body("Emre Şencan", aydin)).await;
    assert_eq!(app.cancel_booking(booked[0]["id"].as_str().unwrap(), "abgesagt").await.status(), StatusCode::OK);
    let id = entry["id"].as_i64().unwrap();
    let made = app.post_as(&app.admin_token, &format!("/api/v1/callbacks/{id}/book"), &json!({})).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    let booking: Value = app.get_booking(made["reference"].as_str().unwrap()).await.json().await.unwrap();
    // The caller's details change on the booking: a new number, an email.
    let citizen = json!({ "name": "Emre Şencan", "phone": "0170 1112223", "email": "emre.s@example.org",
                          "language": "tr" });
    let path = format!("/api/v1/bookings/{}/citizen", booking["id"].as_str().unwrap());
    let corrected = app
        .put_as(
            &app.admin_token,
            &path,
            &json!({ "citizen": citizen, "email_consent": true,
                                                  "version": booking["version"] }),
        )
        .await;
    assert_eq!(corrected.status(), StatusCode::OK);

    // Act
    let found: Value =
        app.get_as(&app.admin_token, "/api/v1/data-subject?email=emre.s@example.org").await.json().await.unwrap();
    let lead = crate::web_client::Desk::new(&app.address);
    app.add_person("leitung.rueckruf", "unit_lead", Some("ads")).await;
    assert_eq!(lead.log_in("leitung.rueckruf", crate::web_client::PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let printed =
        lead.submit("/data-subject", "/data-subject", &[("email", "emre.s@example.org"), ("step", "print")]).await;
    let printed = printed.text().await.expect("page");
    let erase = json!({ "email": "emre.s@example.org", "reason": "request" });
    let erased = app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &erase).await;

    // Assert
    let callbacks = found["callbacks"].as_array().expect("callbacks");
    assert_eq!(callbacks.len(), 1, "{found}");
    assert_eq!(callbacks[0]["id"], entry["id"]);
    assert_eq!(callbacks[0]["phone"], "0511 987654", "the number the entry holds");
    assert_eq!(callbacks[0]["wished_counsellor_id"], aydin);
    assert_eq!(callbacks[0]["wished_before"], "2026-11-27");
    assert_eq!(callbacks[0]["booking_id"], booking["id"]);
    let reference = booking["reference"].as_str().unwrap();
    let booked_as =
        printed.find("Daraus gebuchter Termin").map(|at| &printed[at..]).expect("the entry's booking named");
    assert!(booked_as[..200.min(booked_as.len())].contains(reference), "{booked_as:.300}");
    assert_eq!(erased.status(), StatusCode::OK);
    let counts: Value = erased.json().await.unwrap();
    assert_eq!(counts["callbacks"], 1, "{counts}");
    let gone = app.get_as(&app.admin_token, &format!("/api/v1/callbacks/{id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// Every look at the list searches a slot for each open entry: a unit's list holds at most
/// `MAX_OPEN` of them, and the next is refused with its own code, nothing written.
#[tokio::test]
async fn a_full_list_refuses_the_next_entry() {
    use terminbuch::domain::callback::{NewCallback, Wish};
    use terminbuch::domain::language::Language;
    use terminbuch::services::callbacks::MAX_OPEN;
    use terminbuch::store::{callbacks, directory};

    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let unit = directory::find_unit(&app.db, "ads").await.expect("db").expect("ads");
    let admin = directory::find_staff_by_login(&app.db, "admin").await.expect("db").expect("admin");
    let waiting = |name: String, until: chrono::NaiveDate| NewCallback {
        unit_id: unit.id,
        citizen_name: name,
        citizen_phone: "0511 987654".into(),
        citizen_language: Language::parse("tr").expect("tr"),
        wish: Wish { counsellor_id: None, language: None, time_of_day: None, before: None },
        until,
        note: None,
    };
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).expect("a day");
    for n in 1..MAX_OPEN {
        callbacks::insert(&app.db, waiting(format!("Wartend {n}"), day(4)), admin.id, app.clock.now())
            .await
            .expect("inserted");
    }
    // One more whose last day has passed (not yet marked expired): it does not count.
    let yesterday = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("yesterday");
    callbacks::insert(&app.db, waiting("Abgelaufen".into(), yesterday), admin.id, app.clock.now())
        .await
        .expect("inserted");
    add_entry(&app, &entry_body("Die Letzte", aydin)).await;

    let response =
        app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &entry_body("Eine zu viel", aydin)).await;

    assert_problem(response, StatusCode::CONFLICT, "callback_list_full").await;
    let open = app.count("SELECT COUNT(*) AS n FROM callback_requests WHERE status = 'open'").await;
    assert_eq!(open, i64::try_from(MAX_OPEN).expect("small"), "nothing written; the past one expired");
}

/// The same caller with the same wishes sent twice (a double click at the desk, a client's retry)
/// is one entry: the second answer is the open entry, even on a full list. Another wish of the
/// same caller is a second entry.
#[tokio::test]
async fn the_same_entry_sent_twice_is_one_entry() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let body = entry_body("Frau Zweimal", aydin);

    let first = add_entry(&app, &body).await;
    let again = add_entry(&app, &body).await;

    assert_eq!(again["id"], first["id"], "the open entry is the answer");
    let named: Vec<Value> =
        open_entries(&app).await.into_iter().filter(|e| e["citizen"]["name"] == "Frau Zweimal").collect();
    assert_eq!(named.len(), 1, "{named:?}");
    let added = app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'callback_added'").await;
    assert_eq!(added, 1, "one entry added, once recorded");
    let shown_again = format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'callback_viewed' AND target = 'callback:{}' \
         AND detail LIKE '%sent_again%'",
        first["id"]
    );
    assert_eq!(app.count(&shown_again).await, 1, "the entry answered again is a recorded read");
    let mut other = body.clone();
    other["wish"]["before"] = json!("2026-11-26");
    let second = add_entry(&app, &other).await;
    assert_ne!(second["id"], first["id"], "another wish is another entry");
}

/// A callback entry's note counts a line break once, however it is sent, as the booking's note
/// does (the API counted a client's CRLF twice).
#[tokio::test]
async fn a_callback_note_counts_a_line_break_once() {
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let lines = vec!["x".repeat(40); 12];
    let (typed, sent) = (lines.join("\n"), lines.join("\r\n"));
    let mut body = entry_body("Frau Zeilen", aydin);
    body["note"] = json!(sent);

    let added = add_entry(&app, &body).await;

    assert_eq!(added["note"], typed.as_str(), "stored with one character per line break");
    body["note"] = json!(format!("{sent}{}", "x".repeat(10)));
    body["citizen"]["name"] = json!("Herr Zeilen");
    let refused = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &body).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "note", "{problem}");
}

/// The closed entries on the desk's page: the last closed first, 50 to a page with a link to the
/// older ones, each with how it ended; recorded as listed; not for staff of another unit.
#[tokio::test]
async fn closed_entries_are_listed_on_the_page_the_last_closed_first_a_page_at_a_time() {
    use terminbuch::domain::audit::AuditAction;

    use crate::audit::records;
    use crate::web_client::{Desk, PASSWORD};

    // Arrange: 51 entries put on the list and taken off again, one after the other.
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let name = |n: u8| format!("Kaya {}{}", char::from(b'A' + n / 26), char::from(b'a' + n % 26));
    for n in 0..51 {
        let entry = add_entry(&app, &entry_body(&name(n), aydin)).await;
        let withdrawn = app.delete_as(&app.admin_token, &format!("/api/v1/callbacks/{}", entry["id"])).await;
        assert_eq!(withdrawn.status(), StatusCode::OK);
    }
    app.add_person("empfang.cb", "front_desk", Some("ads")).await;
    app.add_person("empfang.sdr", "front_desk", Some("sdr")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.cb", PASSWORD).await.status(), StatusCode::SEE_OTHER);

    // Act
    let (_, open) = desk.text("/callbacks?unit=ads").await;
    let (first_status, first) = desk.text("/callbacks/closed?unit=ads").await;
    let (_, second) = desk.text("/callbacks/closed?unit=ads&page=1").await;

    // Assert
    assert!(open.contains("href=\"/callbacks/closed?unit=ads\""), "the open list leads to the closed ones");
    assert_eq!(first_status, StatusCode::OK);
    assert_eq!(first.matches("<li class=\"entry\">").count(), 50, "50 to a page");
    let (newest, oldest) = (first.find(&name(50)).expect("the last closed"), first.find(&name(1)).expect("an older"));
    assert!(newest < oldest, "the last closed first");
    assert!(!first.contains(&name(0)) && first.contains("id=\"cb-older\"") && !first.contains("id=\"cb-newer\""));
    assert!(first.contains("Von der Liste genommen"), "how it ended");
    assert_eq!(second.matches("<li class=\"entry\">").count(), 1);
    assert!(second.contains(&name(0)) && second.contains("id=\"cb-newer\"") && !second.contains("id=\"cb-older\""));
    for page in ["2", "18446744073709551615"] {
        let (status, past) = desk.text(&format!("/callbacks/closed?unit=ads&page={page}")).await;
        assert_eq!(status, StatusCode::OK, "page {page}");
        assert!(past.contains("id=\"cb-closed-empty\"") && past.contains("id=\"cb-newer\""), "page {page}");
    }
    let (status, _) = desk.text("/callbacks/closed?unit=ads&page=zwei").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no page number");
    let lists = records(&app, AuditAction::CallbacksListed).await;
    for count in [50, 1] {
        assert!(lists.iter().any(|r| r.item_count == Some(count)), "the page of {count} recorded as listed: {lists:?}");
    }
    let other = Desk::new(&app.address);
    assert_eq!(other.log_in("empfang.sdr", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let (status, page) = other.text("/callbacks/closed?unit=ads").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another unit's staff");
    assert!(!page.contains("Kaya"), "nothing of the unit's callers");
}

/// The steps of `callbacks::book` before its last, for one desk: its claim at `at` and the
/// booking it makes for the caller (an ordinary booking of `slot`). Returns the claim and the
/// booking as the service holds it.
async fn claim_and_book(
    app: &TestApp,
    id: CallbackId,
    slot: i64,
) -> (chrono::DateTime<chrono::Utc>, terminbuch::domain::records::Booking) {
    let now = app.clock.now();
    let until = now + TimeDelta::seconds(60);
    assert!(terminbuch::store::callbacks::claim(&app.db, id, now, until).await.expect("db"), "the desk's claim");
    let made = app.book_slot(slot).await;
    let id = uuid::Uuid::parse_str(made["id"].as_str().expect("id")).expect("uuid");
    (until, terminbuch::store::bookings::find(&app.db, id).await.expect("db").expect("the booking"))
}

async fn admin_actor(app: &TestApp) -> terminbuch::domain::access::Actor {
    let admin = terminbuch::store::directory::find_staff_by_login(&app.db, "admin").await.expect("db").expect("admin");
    terminbuch::domain::access::Actor::new(admin.id, "admin".to_owned(), true, vec![])
}

async fn booking_status(app: &TestApp, id: uuid::Uuid) -> Value {
    let response = app.get_booking(&id.to_string()).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.expect("json")["status"].clone()
}

/// A desk whose claim ran out while its booking was made (the database kept it waiting), while
/// another desk took the entry and booked the caller, cancels its own booking again: the caller
/// is booked once, by the entry's booking. Before, both bookings stood. Driven step by step: the
/// first desk's claim and booking, the second desk's whole booking a minute later, then the
/// first desk's last step.
#[tokio::test]
async fn a_desk_whose_claim_ran_out_undoes_its_booking_when_another_desk_booked_the_caller() {
    use terminbuch::domain::clash::Clash;
    use terminbuch::services::{ServiceError, callbacks};

    // Arrange: an entry; two free times of the wished counsellor.
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let id = CallbackId::new(i32::try_from(entry["id"].as_i64().expect("id")).expect("fits"));
    let free = app.free_slots("ads", &format!("counsellor={aydin}&limit=2")).await;
    let slot = |i: usize| free[i]["slot_id"].as_i64().expect("slot id");

    // Act: the first desk claims and books; its claim runs out; the second desk books the caller
    // through the list; then the first desk's last step.
    let (first_claim, first) = claim_and_book(&app, id, slot(0)).await;
    app.clock.advance(TimeDelta::seconds(61));
    let path = format!("/api/v1/callbacks/{}/book", entry["id"]);
    let second = app.post_as(&app.admin_token, &path, &json!({ "slot_id": slot(1) })).await;
    assert_eq!(second.status(), StatusCode::CREATED, "the second desk books");
    let second: Value = second.json().await.expect("json");
    let parts = crate::helpers::ServiceParts::new(app.clock.clone());
    let settled =
        callbacks::settle(parts.book(&app.db), &admin_actor(&app).await, id, first_claim, first.clone()).await;

    // Assert: the first desk is refused and its booking cancelled; the entry names the second's.
    assert!(
        matches!(settled, Err(ServiceError::Conflict { clash: Clash::InvalidStatus, .. })),
        "{:?}",
        settled.map(|b| b.id)
    );
    assert_eq!(booking_status(&app, first.id).await, "cancelled");
    let second_id = uuid::Uuid::parse_str(second["booking_id"].as_str().expect("id")).expect("uuid");
    assert_eq!(booking_status(&app, second_id).await, "booked");
    let stored = terminbuch::store::callbacks::find(&app.db, id).await.expect("db").expect("the entry");
    assert_eq!(stored.booking_id, Some(second_id));
}

/// A desk whose claim ran out while it booked, where no other desk took the entry meanwhile,
/// still closes it with its booking; where another desk holds the entry right now, it gives way
/// (its booking cancelled, the entry open for that desk).
#[tokio::test]
async fn a_late_desk_closes_an_entry_nobody_took_and_gives_way_to_a_desk_booking_it_now() {
    use terminbuch::domain::clash::Clash;
    use terminbuch::services::{ServiceError, callbacks};

    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let free = app.free_slots("ads", &format!("counsellor={aydin}&limit=2")).await;
    let slot = |i: usize| free[i]["slot_id"].as_i64().expect("slot id");
    let parts = crate::helpers::ServiceParts::new(app.clock.clone());
    let actor = admin_actor(&app).await;

    // Nobody took it: the late desk closes it.
    let entry = add_entry(&app, &entry_body("Ayla Kaya", aydin)).await;
    let id = CallbackId::new(i32::try_from(entry["id"].as_i64().expect("id")).expect("fits"));
    let (late_claim, booking) = claim_and_book(&app, id, slot(0)).await;
    app.clock.advance(TimeDelta::seconds(61));
    let settled = callbacks::settle(parts.book(&app.db), &actor, id, late_claim, booking.clone()).await;
    assert_eq!(settled.expect("closed").id, booking.id);
    let stored = terminbuch::store::callbacks::find(&app.db, id).await.expect("db").expect("the entry");
    assert_eq!(stored.booking_id, Some(booking.id));
    assert_eq!(booking_status(&app, booking.id).await, "booked");

    // Another desk claims the next entry after the late desk's claim ran out, and is booking now.
    let entry = add_entry(&app, &entry_body("Murat Kaya", aydin)).await;
    let id = CallbackId::new(i32::try_from(entry["id"].as_i64().expect("id")).expect("fits"));
    let (late_claim, booking) = claim_and_book(&app, id, slot(1)).await;
    app.clock.advance(TimeDelta::seconds(61));
    let now = app.clock.now();
    assert!(terminbuch::store::callbacks::claim(&app.db, id, now, now + TimeDelta::seconds(60)).await.expect("db"));
    let settled = callbacks::settle(parts.book(&app.db), &actor, id, late_claim, booking.clone()).await;
    assert!(
        matches!(settled, Err(ServiceError::Conflict { clash: Clash::CallbackBusy, .. })),
        "{:?}",
        settled.map(|b| b.id)
    );
    assert_eq!(booking_status(&app, booking.id).await, "cancelled");
    let stored = terminbuch::store::callbacks::find(&app.db, id).await.expect("db").expect("the entry");
    assert_eq!((stored.status, stored.booking_id), (terminbuch::domain::callback::CallbackStatus::Open, None));
}

/// Callers with the same wish each get a free time of their own as long as there are free times,
/// the oldest entry the soonest. Before, each entry looked at the first 20 free times only, so the
/// 21st caller with the same wish got none while later times stood free. (The list now reads one
/// search per wish, not one per entry.)
#[tokio::test]
async fn callers_with_the_same_wish_each_get_a_free_time_while_there_are_any() {
    // Arrange: every free time of Deniz Aydın until 8 January.
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let free = app.free_slots("ads", &format!("counsellor={aydin}&to=2027-01-08&limit=500")).await;
    assert!(free.len() > 20, "more free times than one entry's first look: {}", free.len());

    // Act: two more callers than free times, with the same wish.
    for n in 0..free.len() + 2 {
        let body = json!({
            "citizen": { "name": format!("Anrufende {n}"), "phone": "0511 987654", "language": "tr" },
            "wish": { "counsellor": aydin },
            "until": "2027-01-08",
        });
        add_entry(&app, &body).await;
    }
    let entries = open_entries(&app).await;

    // Assert: the oldest entries took every free time, soonest first, each once; the last two none.
    let offered: Vec<Value> = entries.iter().map(|e| e["offer"]["slot_id"].clone()).collect();
    let expected: Vec<Value> = free.iter().map(|f| f["slot_id"].clone()).collect();
    assert_eq!(offered[..free.len()], expected[..], "each free time once, soonest first");
    assert!(offered[free.len()..].iter().all(Value::is_null), "{:?}", &offered[free.len()..]);
}

/// The API's closed entries a page at a time: `limit` of them in the order they were entered,
/// `X-Next-After` naming where the next page starts until the last, each page recorded as listed
/// on its own (a long list is never one large record); a `limit` out of range is a 422 naming it.
#[tokio::test]
async fn closed_entries_are_listed_by_the_api_a_page_at_a_time_with_the_next_page_named() {
    use terminbuch::domain::audit::AuditAction;

    use crate::audit::records;

    // Arrange: five entries put on the list and taken off again.
    let app = spawn_app().await;
    let aydin = app.counsellor_id("ads", "Deniz Aydın").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let entry = add_entry(&app, &entry_body(&format!("Kaya {n}"), aydin)).await;
        let withdrawn = app.delete_as(&app.admin_token, &format!("/api/v1/callbacks/{}", entry["id"])).await;
        assert_eq!(withdrawn.status(), StatusCode::OK);
        ids.push(entry["id"].as_i64().expect("an id"));
    }
    let path = "/api/v1/units/ads/callbacks?state=closed";
    let read = |query: String| {
        let app = &app;
        async move {
            let response = app.get_as(&app.admin_token, &format!("{path}{query}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            let next = response.headers().get("x-next-after").map(|v| v.to_str().expect("ascii").to_owned());
            let listed: Vec<Value> = response.json().await.expect("a bare list");
            (listed.iter().map(|e| e["id"].as_i64().expect("an id")).collect::<Vec<_>>(), next)
        }
    };

    // Act
    let (first, after_first) = read("&limit=2".to_owned()).await;
    let (second, after_second) = read(format!("&limit=2&after={}", after_first.clone().expect("more follow"))).await;
    let (third, after_third) = read(format!("&limit=2&after={}", after_second.clone().expect("more follow"))).await;
    let (whole, after_whole) = read(String::new()).await;
    let mut refused = Vec::new();
    for limit in ["0", "1001"] {
        refused.push(app.get_as(&app.admin_token, &format!("{path}&limit={limit}")).await);
    }

    // Assert
    assert_eq!((first, after_first), (ids[..2].to_vec(), Some(ids[1].to_string())), "the first two");
    assert_eq!((second, after_second), (ids[2..4].to_vec(), Some(ids[3].to_string())), "the next two");
    assert_eq!((third, after_third), (ids[4..].to_vec(), None), "the last: no next page named");
    assert_eq!((whole, after_whole), (ids.clone(), None), "without parameters as before: all (up to 100)");
    for response in refused {
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "limit", "{problem}");
    }
    let counts: Vec<Option<i64>> =
        records(&app, AuditAction::CallbacksListed).await.iter().map(|r| r.item_count).collect();
    for count in [2, 1, 5] {
        assert!(counts.contains(&Some(count)), "a page of {count} recorded as listed: {counts:?}");
    }
}

/// A caller who waits for an earlier time has an appointment already. The entry names it (found
/// by the number however it was written), and booking with `move_booking_id` moves it to the
/// freed slot instead of booking the caller a second time: its details stay, the citizen is
/// told of the change by email, and the entry closes as booked by it. An appointment of someone
/// else is refused at `move_booking_id`, nothing changed.
#[tokio::test]
async fn a_caller_waiting_for_an_earlier_time_gets_their_appointment_moved_not_a_second_one() {
    // Arrange: Deniz Aydın is full this week; Eva Früh has an appointment with him next week.
    let app = spawn_app().await;
    let (aydin, booked) = fill_aydin_until_thursday(&app).await;
    let next_week = app.free_slots("ads", &format!("counsellor={aydin}&from=2026-11-30&limit=1")).await;
    let body = json!({
        "slot_id": next_week[0]["slot_id"],
        "citizen": { "name": "Eva Früh", "phone": "+49 511 4444-55", "email": "eva@example.org", "language": "de" },
        "email_consent": true,
        "channel": "phone",
    });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let later: Value = response.json().await.unwrap();
    let mut wish = entry_body("Eva Früh", aydin);
    wish["citizen"]["phone"] = json!("0511 444455");
    let id = add_entry(&app, &wish).await["id"].as_i64().unwrap();
    let entry: Value = app.get_as(&app.admin_token, &format!("/api/v1/callbacks/{id}")).await.json().await.unwrap();

    // The entry names her appointment, and no one else's; the look at it records that it was seen.
    let appointments = entry["appointments"].as_array().expect("appointments");
    assert_eq!(appointments.len(), 1, "{entry}");
    assert_eq!(appointments[0]["reference"], later["reference"]);
    assert_eq!(appointments[0]["booking_id"], later["id"]);
    let viewed = crate::audit::records(&app, terminbuch::domain::audit::AuditAction::CallbackViewed).await;
    let seen: Vec<String> = viewed[0].booking_ids.iter().map(ToString::to_string).collect();
    assert_eq!(seen, [later["id"].as_str().unwrap()], "recorded as seen with the entry");
    let listed = open_entries(&app).await;
    assert_eq!(listed[0]["appointments"][0]["reference"], later["reference"], "named in the list too");
    let shown = crate::audit::records(&app, terminbuch::domain::audit::AuditAction::CallbacksListed).await;
    assert!(shown[0].booking_ids.iter().any(|b| b.to_string() == later["id"].as_str().unwrap()), "{shown:?}");
    let freed = &booked[1];
    assert_eq!(app.cancel_booking(freed["id"].as_str().unwrap(), "abgesagt").await.status(), StatusCode::OK);

    // Act: someone else's appointment is refused.
    let book = format!("/api/v1/callbacks/{id}/book");
    let other = json!({ "move_booking_id": booked[0]["id"] });
    let refused = app.post_as(&app.admin_token, &book, &other).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "move_booking_id", "{problem}");

    // Act: hers is moved.
    let moved = app.post_as(&app.admin_token, &book, &json!({ "move_booking_id": later["id"] })).await;

    // Assert: one appointment, at the freed time, with her details; told by email; entry closed.
    assert_eq!(moved.status(), StatusCode::CREATED);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["booking_id"], later["id"]);
    assert_eq!(moved["reference"], later["reference"]);
    assert_eq!(moved["starts_at"], freed["starts_at"]);
    assert_moved_once(&app, &later, freed, id).await;
}

/// The booking `later` of Eva Früh sits in the slot `freed`, her only one, she is told by email
/// and the entry `id` is closed as booked by it.
async fn assert_moved_once(app: &TestApp, later: &Value, freed: &Value, id: i64) {
    let now: Value = app.get_booking(later["id"].as_str().expect("test step")).await.json().await.expect("test step");
    assert_eq!(now["slot_id"], freed["slot_id"]);
    assert_eq!(now["status"], "booked");
    assert_eq!(now["citizen"]["email"], "eva@example.org");
    assert_eq!(now["version"], later["version"].as_i64().expect("test step") + 1);
    let hers = app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Eva Früh'").await;
    assert_eq!(hers, 1, "not booked twice");
    // The email of the moved version: a change notice, or a new confirmation when the first one
    // had not gone out yet (the sender's timing decides which).
    let told = format!(
        "SELECT COUNT(*) AS n FROM outbox_messages WHERE recipient = 'eva@example.org' AND sequence = {}",
        now["version"]
    );
    assert_eq!(app.count(&told).await, 1, "the email of the new time");
    let closed: Value =
        app.get_as(&app.admin_token, &format!("/api/v1/callbacks/{id}")).await.json().await.expect("test step");
    assert_eq!(closed["status"], "booked");
    assert_eq!(closed["booking_id"], later["id"]);
    assert_eq!(closed["appointments"].as_array().map(Vec::len), Some(0), "closed: none named");
}

/// The same on the desk's page: the entry names the caller's appointment with a button that
/// moves it to the offered time (the plain booking stays, as "Zusätzlich neu buchen"); a move of
/// an appointment that is not the caller's is refused with the list and its reason.
#[tokio::test]
async fn the_callback_page_names_the_callers_appointment_and_moves_it_here() {
    use crate::web_client::{Desk, PASSWORD, location, text_of_id};

    // Arrange: as above, on the page of a front-desk person.
    let app = spawn_app().await;
    let (aydin, booked) = fill_aydin_until_thursday(&app).await;
    let next_week = app.free_slots("ads", &format!("counsellor={aydin}&from=2026-11-30&limit=1")).await;
    let body = json!({
        "slot_id": next_week[0]["slot_id"],
        "citizen": { "name": "Eva Früh", "phone": "0511 444455", "email": "eva@example.org", "language": "de" },
        "email_consent": true,
        "channel": "phone",
    });
    let later: Value = app.post_booking(&body).await.json().await.unwrap();
    let mut wish = entry_body("Eva Früh", aydin);
    wish["citizen"]["phone"] = json!("(0511) 44 44 55");
    let id = add_entry(&app, &wish).await["id"].as_i64().unwrap();
    let freed = &booked[1];
    assert_eq!(app.cancel_booking(freed["id"].as_str().unwrap(), "abgesagt").await.status(), StatusCode::OK);
    app.add_person("empfang.verlegen", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.verlegen", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let reference = later["reference"].as_str().unwrap();

    // The page names her appointment and offers to move it.
    let (_, page) = desk.text("/callbacks?unit=ads").await;
    assert!(
        page.contains(&format!("id=\"cb-{id}-has\"><a href=\"/bookings/{reference}\">{reference}</a>")),
        "{page:.6000}"
    );
    let move_button = text_of_id(&page, &format!("cb-{id}-move-1"));
    assert_eq!(move_button, format!("Hierher verlegen: {reference}"));
    assert_eq!(text_of_id(&page, &format!("cb-{id}-book")), "Zusätzlich neu buchen");

    // Someone else's appointment, sent as if it were hers: refused, nothing moved.
    let slot = freed["slot_id"].to_string();
    let csrf = crate::web_client::csrf_of(&page);
    let other = booked[0]["id"].as_str().unwrap();
    let fields = [("unit", "ads"), ("slot", slot.as_str()), ("move", other)];
    let refused = desk.post(&csrf, &format!("/callbacks/{id}/book"), &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Nicht verlegt: Dieser Termin ist kein kommender Termin dieser Person"), "{html:.4000}");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM callback_requests WHERE status = 'open'").await, 1, "still open");

    // Act: the button.
    let fields = [("unit", "ads"), ("slot", slot.as_str()), ("move", later["id"].as_str().unwrap())];
    let moved = desk.post(&csrf, &format!("/callbacks/{id}/book"), &fields).await;

    // Assert: on to the read-back of the move.
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&moved), format!("/bookings/{reference}/moved"));
    assert_moved_once(&app, &later, freed, id).await;
}
