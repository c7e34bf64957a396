//! Counselling hours, slots, DST, holidays, absences and closures.

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{adhoc_body, assert_problem, booking_body, spawn_app, spawn_app_at, spawn_app_with};
use terminbuch::domain::ids::StaffId;

fn starts_on(slot: &Value) -> String {
    slot["starts_at"].as_str().expect("starts_at")[..10].to_owned()
}

#[tokio::test]
async fn a_weekly_nine_oclock_slot_stays_nine_oclock_local_across_both_dst_changes() {
    let app = spawn_app().await;
    app.generate_slots_until(NaiveDate::from_ymd_opt(2027, 11, 30).unwrap()).await;
    // ADS demo hours: Mondays 09:00. DST starts 28 March 2027 and ends 31 October 2027.
    for (day, offset) in
        [("2027-03-22", "+01:00"), ("2027-04-05", "+02:00"), ("2027-10-25", "+02:00"), ("2027-11-01", "+01:00")]
    {
        let slots = app.free_slots("ads", &format!("from={day}&to={day}&limit=50")).await;
        let first = slots.first().unwrap_or_else(|| panic!("slots on {day}"));
        assert_eq!(first["starts_at"], format!("{day}T09:00:00{offset}"), "on {day}");
    }
}

#[tokio::test]
async fn local_times_that_do_not_exist_or_exist_twice_are_refused_not_guessed() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    for (local, label) in [("2027-03-28T02:30", "spring gap"), ("2027-10-31T02:30", "autumn overlap")] {
        let problem = assert_problem(
            app.post_booking(&adhoc_body("ads", counsellor, local, 30)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "starts_at", "{label}");
    }
    let explicit = app.post_booking(&adhoc_body("ads", counsellor, "2027-03-30T14:00:00+02:00", 30)).await;
    assert_eq!(explicit.status(), StatusCode::CREATED, "an instant with offset is unambiguous");
}

#[tokio::test]
async fn the_public_holidays_of_lower_saxony_2026_and_2027_and_closure_days_are_never_bookable() {
    let now = Berlin.with_ymd_and_hms(2025, 12, 1, 8, 0, 0).unwrap().with_timezone(&Utc);
    let app = spawn_app_at(now).await;
    app.generate_slots_until(NaiveDate::from_ymd_opt(2027, 12, 31).unwrap()).await;
    let holidays = [
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-01",
        "2026-05-14",
        "2026-05-25",
        "2026-10-03",
        "2026-10-31",
        "2026-12-25",
        "2026-12-26",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-01",
        "2027-05-06",
        "2027-05-17",
        "2027-10-03",
        "2027-10-31",
        "2027-12-25",
        "2027-12-26",
    ];
    let counsellor = app.counsellor_id("ads", "Deniz Aydın").await;
    for day in holidays {
        let response = app.post_booking(&adhoc_body("ads", counsellor, &format!("{day}T10:00"), 30)).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "public_holiday").await;
    }
    for day in ["2026-12-24", "2026-12-31", "2027-12-24", "2027-12-31"] {
        let response = app.post_booking(&adhoc_body("ads", counsellor, &format!("{day}T10:00"), 30)).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "closure_day").await;
    }
    // Every Monday/Tuesday/Thursday of the two years has ADS slots except the closed days.
    let mut offered = std::collections::BTreeSet::new();
    for (from, to) in [("2026-01-01", "2026-12-31"), ("2027-01-01", "2027-12-31")] {
        for slot in app.free_slots("ads", &format!("from={from}&to={to}&limit=500&counsellor={counsellor}")).await {
            offered.insert(starts_on(&slot));
        }
    }
    for day in holidays.iter().chain(["2026-12-24", "2026-12-31", "2027-12-24", "2027-12-31"].iter()) {
        assert!(!offered.contains(*day), "no slot on {day}");
    }
    for ordinary in ["2026-04-07", "2026-05-26", "2027-03-30", "2027-05-18"] {
        assert!(offered.contains(ordinary), "slots on the ordinary day {ordinary}");
    }
}

#[tokio::test]
async fn regenerating_slots_is_idempotent_and_never_touches_booked_slots() {
    let app = spawn_app().await;
    let before = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    app.generate_slots_until(NaiveDate::from_ymd_opt(2027, 2, 15).unwrap()).await;
    app.generate_slots_until(NaiveDate::from_ymd_opt(2027, 2, 15).unwrap()).await;
    assert_eq!(app.free_slots("esf", "limit=500&to=2027-02-15").await, before, "same slots after regenerating");
    let booked = app.book_slot(before[0]["slot_id"].as_i64().unwrap()).await;
    // The lead moves the ESF hours from 10:00–12:00 to 13:00–15:00.
    let rules: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/esf/counselling-hours").await.json().await.unwrap();
    let rule = &rules[0];
    let body = json!({ "counsellor_id": rule["counsellor_id"], "weekday": 3, "start": "13:00", "end": "15:00", "slot_minutes": 60 });
    let response =
        app.put_as(&app.admin_token, &format!("/api/v1/units/esf/counselling-hours/{}", rule["id"]), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["affected_total"], 1, "the answer names the appointment left outside the hours: {changed}");
    assert_eq!(changed["affected_bookings"][0]["reference"], booked["reference"]);
    let after = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    assert!(
        after.iter().all(|s| s["starts_at"].as_str().unwrap().contains("T13:00")
            || s["starts_at"].as_str().unwrap().contains("T14:00"))
    );
    let kept: Value = app.get_booking(booked["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(kept["status"], "booked");
    assert_eq!(kept["starts_at"], before[0]["starts_at"], "the booked slot stays where it was");

    // The new hours deleted, with a booking in them: the answer names it too.
    let later = app.book_slot(after[0]["slot_id"].as_i64().unwrap()).await;
    let response =
        app.delete_as(&app.admin_token, &format!("/api/v1/units/esf/counselling-hours/{}", rule["id"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted["affected_total"], 1, "{deleted}");
    assert_eq!(deleted["affected_bookings"][0]["reference"], later["reference"]);
}

#[tokio::test]
async fn an_absence_hides_slots_refuses_bookings_and_reports_affected_bookings() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let mine = app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await.remove(0);
    let booked = app.book_slot(mine["slot_id"].as_i64().unwrap()).await;
    let day = starts_on(&mine);
    let response = app
        .post_as(
            &app.admin_token,
            "/api/v1/units/ads/absences",
            &json!({ "counsellor_id": counsellor, "from_date": day, "reason": "Fortbildung" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    assert_eq!(absence["affected_bookings"][0]["id"], booked["id"], "the lead sees what to move");
    let free = app.free_slots("ads", &format!("counsellor={counsellor}&from={day}&to={day}")).await;
    assert!(free.is_empty(), "no free slots of an absent counsellor");
    let adhoc = app.post_booking(&adhoc_body("ads", counsellor, &format!("{day}T16:00"), 30)).await;
    assert_problem(adhoc, StatusCode::UNPROCESSABLE_ENTITY, "counsellor_absent").await;
    let delete = app.delete_as(&app.admin_token, &format!("/api/v1/units/ads/absences/{}", absence["id"])).await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert!(!app.free_slots("ads", &format!("counsellor={counsellor}&from={day}&to={day}")).await.is_empty());
}

/// The search reads candidates a page at a time (a few more than the limit); when a whole page is
/// blocked it goes on to the next, and finds what a search over all slots finds.
#[tokio::test]
async fn a_search_whose_first_candidates_are_all_blocked_goes_on_to_later_ones() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let all = app.free_slots("ads", &format!("counsellor={counsellor}&limit=500")).await;
    let first_day = starts_on(&all[0]);
    // Absent long enough to block more than one page of candidates for `limit=1`.
    let blocked_days: Vec<String> = {
        let mut days: Vec<String> = all.iter().map(starts_on).collect();
        days.dedup();
        days.into_iter().take(5).collect()
    };
    let blocked = all.iter().filter(|s| blocked_days.contains(&starts_on(s))).count();
    assert!(blocked > 6, "the absence covers more than a page for limit=1 ({blocked} slots)");
    let until = blocked_days.last().unwrap();
    let body = json!({ "counsellor_id": counsellor, "from_date": first_day, "until_date": until, "reason": "Kur" });
    assert_eq!(app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &body).await.status(), StatusCode::CREATED);
    let expected = all.iter().find(|s| !blocked_days.contains(&starts_on(s))).expect("a slot after the absence");
    let found = app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["slot_id"], expected["slot_id"]);
    let whole_unit = app.free_slots("ads", "limit=3").await;
    assert!(
        whole_unit.iter().all(|s| s["counsellor"]["id"] != json!(counsellor) || !blocked_days.contains(&starts_on(s)))
    );
}

#[tokio::test]
async fn a_closure_of_the_unit_hides_its_slots_and_refuses_bookings() {
    let app = spawn_app().await;
    let slot = app.free_slots("sdr", "limit=1").await.remove(0);
    let day = starts_on(&slot);
    let response = app
        .post_as(
            &app.admin_token,
            "/api/v1/units/sdr/closures",
            &json!({ "from_date": day, "reason": "Betriebsausflug" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(app.free_slots("sdr", &format!("from={day}&to={day}")).await.is_empty());
    let refused = app.post_booking(&booking_body(slot["slot_id"].as_i64().unwrap())).await;
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "unit_closed").await;
    assert!(!app.free_slots("ads", "limit=1").await.is_empty(), "other units stay open");
}

#[tokio::test]
async fn counselling_hours_with_bad_values_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    for (body, field) in [
        (
            json!({ "counsellor_id": counsellor, "weekday": 8, "start": "09:00", "end": "10:00", "slot_minutes": 30 }),
            "weekday",
        ),
        (
            json!({ "counsellor_id": counsellor, "weekday": 1, "start": "9 Uhr", "end": "10:00", "slot_minutes": 30 }),
            "start",
        ),
        (
            json!({ "counsellor_id": counsellor, "weekday": 1, "start": "11:00", "end": "10:00", "slot_minutes": 30 }),
            "end",
        ),
        (
            json!({ "counsellor_id": 9999, "weekday": 1, "start": "09:00", "end": "10:00", "slot_minutes": 30 }),
            "counsellor_id",
        ),
    ] {
        let response = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn changing_a_rules_counsellor_or_capacity_changes_its_free_and_booked_slots() {
    let app = spawn_app().await;
    let rules: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/esf/counselling-hours").await.json().await.unwrap();
    let rule = &rules[0];
    let before = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    let booked = app.book_slot(before[0]["slot_id"].as_i64().unwrap()).await;
    // A counsellor of the anti-discrimination office now also counsels for the ESF office.
    let colleague = app.counsellor_id("ads", "Jana Winterberg").await;
    let login = terminbuch::store::directory::find_staff(&app.db, StaffId::new(i32::try_from(colleague).expect("id")))
        .await
        .expect("db")
        .expect("colleague")
        .login;
    let role = json!({ "login": login, "name": "Jana Winterberg", "role": "counsellor", "unit": "esf" });
    assert_eq!(app.post_as(&app.admin_token, "/api/v1/staff", &role).await.status(), StatusCode::CREATED);
    let url = format!("/api/v1/units/esf/counselling-hours/{}", rule["id"]);
    let mut body = json!({ "counsellor_id": rule["counsellor_id"], "weekday": rule["weekday"], "start": rule["start"],
        "end": rule["end"], "slot_minutes": rule["slot_minutes"], "buffer_minutes": rule["buffer_minutes"], "capacity": 2 });
    assert_eq!(app.put_as(&app.admin_token, &url, &body).await.status(), StatusCode::OK);
    let after = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    assert_eq!(after.len(), before.len(), "the booked slot has a seat left now");
    assert!(after.iter().all(|s| s["seats_left"] == 2 || s["slot_id"] == before[0]["slot_id"]), "{after:?}");
    let second = after.iter().find(|s| s["slot_id"] == before[0]["slot_id"]).expect("the booked slot is offered");
    assert_eq!(second["seats_left"], 1);
    app.book_slot(before[0]["slot_id"].as_i64().unwrap()).await;

    body["counsellor_id"] = json!(colleague);
    body["capacity"] = json!(1);
    assert_eq!(app.put_as(&app.admin_token, &url, &body).await.status(), StatusCode::OK);
    let moved = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    assert_eq!(moved.len(), before.len(), "the booked time is the new counsellor's to offer");
    assert!(moved.iter().all(|s| s["counsellor"]["id"] == json!(colleague)), "free slots follow the new counsellor");
    assert!(
        moved.iter().all(|s| s["slot_id"] != before[0]["slot_id"]),
        "the booked slot stays its counsellor's and is not offered"
    );
    let kept: Value = app.get_booking(booked["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(kept["counsellor_id"], rule["counsellor_id"], "a booking keeps its counsellor");
}

/// The horizon refresh (every six hours, and in every other server process) may run while a lead
/// saves hours. Had the save not waited for the refresh, the refresh, having read the rules
/// before the save committed, would write the old capacity back over the new slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_hours_waits_for_a_running_refresh_of_the_units_slots() {
    let app = spawn_app().await;
    let rules: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/esf/counselling-hours").await.json().await.unwrap();
    let rule = &rules[0];
    let url = format!("/api/v1/units/esf/counselling-hours/{}", rule["id"]);
    let body = json!({ "counsellor_id": rule["counsellor_id"], "weekday": rule["weekday"], "start": rule["start"],
        "end": rule["end"], "slot_minutes": rule["slot_minutes"], "buffer_minutes": rule["buffer_minutes"],
        "capacity": 2 });
    let esf = terminbuch::services::directory::find_unit(&app.db, "esf").await.expect("unit");
    let (calendar, now) = (app.settings.holiday_calendar(), app.clock.now());
    let today = now.with_timezone(&Berlin).date_naive();
    let until = NaiveDate::from_ymd_opt(2027, 2, 16).unwrap();
    let refresh = terminbuch::store::begin_write(&app.db).await.expect("transaction");
    terminbuch::services::schedule::regenerate_unit_in(&refresh, &calendar, Berlin, esf.id, today, until, now)
        .await
        .expect("refresh");
    let save = tokio::spawn({
        let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
        async move { client.put(format!("{address}{url}")).bearer_auth(token).json(&body).send().await }
    });
    if app.is_postgres() {
        // Exact: the save's session is seen waiting for the unit's lock.
        app.until_waiting_for_a_lock("%pg_advisory_xact_lock%", &save).await;
    } else {
        // SQLite: the save is queued for the write turn the refresh holds.
        app.until_waiting_for_the_write_turn(&save).await;
    }
    assert!(!save.is_finished(), "the save waits while the refresh's transaction is open");
    refresh.commit().await.expect("commit");
    let saved = save.await.expect("task").expect("response");
    assert_eq!(saved.status(), StatusCode::OK);
    let slots = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    assert!(!slots.is_empty());
    assert!(slots.iter().all(|s| s["seats_left"] == 2), "every free slot has the new capacity: {slots:?}");
}

/// The free-slot search keeps a unit's counsellors in memory for a moment; a counsellor added
/// through this server is offered at once, not after that moment.
#[tokio::test]
async fn a_counsellor_added_to_a_unit_is_offered_at_once() {
    let app = spawn_app_with(crate::helpers::default_now(), |s| s.token_cache_ms = 60_000).await;
    let before = app.free_slots("sms", "limit=500").await;
    assert!(!before.is_empty(), "the unit has slots, so its counsellors are cached now");
    let new = json!({ "login": "n.okafor", "name": "Nkechi Okafor", "role": "counsellor", "unit": "sms",
        "languages": ["de", "en"], "password": "lang-genug-123" });
    let created = app.post_as(&app.admin_token, "/api/v1/staff", &new).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].clone();
    let hours = json!({ "counsellor_id": id, "weekday": 3, "start": "08:00", "end": "09:00", "slot_minutes": 60 });
    let response = app.post_as(&app.admin_token, "/api/v1/units/sms/counselling-hours", &hours).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let after = app.free_slots("sms", "limit=500").await;
    assert!(after.iter().any(|s| s["counsellor"]["id"] == id), "the new counsellor's slots are offered");
}

#[tokio::test]
async fn a_group_slot_takes_as_many_bookings_as_its_capacity() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("sms", "Frederike Lohmann").await;
    let body = json!({ "counsellor_id": counsellor, "weekday": 3, "start": "15:00", "end": "17:00", "slot_minutes": 120, "capacity": 3 });
    let response = app.post_as(&app.admin_token, "/api/v1/units/sms/counselling-hours", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let group = app.free_slots("sms", "limit=50").await.into_iter().find(|s| s["seats_left"] == 3).expect("group slot");
    let id = group["slot_id"].as_i64().unwrap();
    for _ in 0..3 {
        app.book_slot(id).await;
    }
    assert_problem(app.post_booking(&booking_body(id)).await, StatusCode::CONFLICT, "slot_taken").await;
}

/// A cancelled booking keeps its slot as its record. Such a slot once stopped every later change
/// of the unit's hours (its deletion broke the foreign key: a 500) and the refresh of every unit
/// after it; a slot of hours that were removed came back as free when its bookings were
/// cancelled; and a group made smaller kept its old size where it was partly booked.
#[tokio::test]
async fn hours_follow_the_lead_whatever_was_booked_and_cancelled_before() {
    let app = spawn_app().await;
    let rules: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/esf/counselling-hours").await.json().await.unwrap();
    let rule = &rules[0];
    let url = format!("/api/v1/units/esf/counselling-hours/{}", rule["id"]);
    let mut body = json!({ "counsellor_id": rule["counsellor_id"], "weekday": rule["weekday"], "start": rule["start"],
        "end": rule["end"], "slot_minutes": rule["slot_minutes"], "buffer_minutes": rule["buffer_minutes"], "capacity": 3 });
    let before = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    let slot = before[0]["slot_id"].as_i64().unwrap();
    let cancelled = app.book_slot(slot).await;
    let reference = cancelled["reference"].as_str().unwrap();
    assert_eq!(app.cancel_booking(reference, "Termin passt nicht").await.status(), StatusCode::OK);

    // A larger group: the free slots keep their ids (a slot listed a moment ago stays bookable).
    assert_eq!(app.put_as(&app.admin_token, &url, &body).await.status(), StatusCode::OK);
    let grown = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    let ids = |slots: &[Value]| slots.iter().map(|s| s["slot_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&grown), ids(&before));
    assert!(grown.iter().all(|s| s["seats_left"] == 3), "{grown:?}");

    // Two of three seats taken, then the group made smaller than that: full, not offered.
    app.book_slot(slot).await;
    let kept = app.book_slot(slot).await;
    body["capacity"] = json!(1);
    assert_eq!(app.put_as(&app.admin_token, &url, &body).await.status(), StatusCode::OK);
    let smaller = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    assert!(smaller.iter().all(|s| s["slot_id"] != json!(slot) && s["seats_left"] == 1), "{smaller:?}");
    assert_problem(app.post_booking(&booking_body(slot)).await, StatusCode::CONFLICT, "slot_taken").await;

    // The hours removed: nothing of them is offered, not even after their bookings are cancelled.
    assert_eq!(app.delete_as(&app.admin_token, &url).await.status(), StatusCode::OK);
    assert!(app.free_slots("esf", "limit=500&to=2027-02-15").await.is_empty());
    let kept_booking: Value = app.get_booking(kept["reference"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(kept_booking["status"], "booked", "removing hours leaves their bookings alone");
    for booking in app.list_bookings("unit=esf&status=booked").await {
        let reference = booking["reference"].as_str().unwrap();
        assert_eq!(app.cancel_booking(reference, "Sprechzeit entfällt").await.status(), StatusCode::OK);
    }
    assert!(app.free_slots("esf", "limit=500&to=2027-02-15").await.is_empty(), "removed hours stay removed");
    assert_problem(app.post_booking(&booking_body(slot)).await, StatusCode::NOT_FOUND, "slot_not_found").await;

    // The same hours again, and the refresh of every unit: offered as before, at the same times.
    body["capacity"] = json!(1);
    let response = app.post_as(&app.admin_token, "/api/v1/units/esf/counselling-hours", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    app.generate_slots_until(NaiveDate::from_ymd_opt(2027, 2, 15).unwrap()).await;
    let again = app.free_slots("esf", "limit=500&to=2027-02-15").await;
    let times = |slots: &[Value]| slots.iter().map(|s| s["starts_at"].clone()).collect::<Vec<_>>();
    assert_eq!(times(&again), times(&before));
    assert!(again.iter().all(|s| s["slot_id"] != json!(slot)), "the cancelled bookings' slot stays their record");
    let record: Value = app.get_booking(reference).await.json().await.unwrap();
    assert_eq!(record["status"], "cancelled");
    assert_eq!(record["starts_at"], before[0]["starts_at"]);
}

/// An absence is the person's, in every unit they counsel in: the lead of one unit sees its own
/// stranded appointments listed and the other units' only counted, never named.
#[tokio::test]
async fn an_absence_counts_what_it_strands_in_the_counsellors_other_units_without_naming_it() {
    use crate::web_client::{Desk, PASSWORD};
    use terminbuch::domain::access::Role;
    use terminbuch::domain::accounts::RequireMfa;

    let app = spawn_app_with(crate::helpers::default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let mine = app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await.remove(0);
    let here = app.book_slot(mine["slot_id"].as_i64().unwrap()).await;
    let day = starts_on(&mine);
    let esf = terminbuch::store::directory::find_unit(&app.db, "esf").await.expect("db").expect("esf");
    let staff_id = StaffId::new(i32::try_from(counsellor).expect("id"));
    terminbuch::store::directory::add_membership(&app.db, staff_id, esf.id, Role::Counsellor).await.expect("db");
    let there = app.post_booking(&crate::helpers::adhoc_anyway("esf", counsellor, &format!("{day}T16:00"), 30)).await;
    assert_eq!(there.status(), StatusCode::CREATED, "an appointment of the same person in ESF");
    let there: Value = there.json().await.unwrap();
    let secrets = [there["id"].as_str().expect("id").to_owned(), there["reference"].as_str().expect("ref").to_owned()];

    // The lead's page, before saving: the count, never the other unit's booking.
    app.add_person("leitung", "unit_lead", Some("ads")).await;
    let lead = Desk::new(&app.address);
    assert_eq!(lead.log_in("leitung", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let fields = [
        ("counsellor", counsellor.to_string()),
        ("from", day.clone()),
        ("to", day.clone()),
        ("reason", "Fortbildung".to_owned()),
        ("action", "preview".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = lead.submit("/hours?unit=ads", "/hours/ads/absences", &fields).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(here["reference"].as_str().expect("ref")), "this unit's appointment is listed");
    let elsewhere = html.split("id=\"affected-elsewhere\"").nth(1).expect("the count of other units'");
    assert!(elsewhere.split("</p>").next().expect("line").contains("<strong>1</strong>"), "{elsewhere:.300}");
    assert!(secrets.iter().all(|s| !html.contains(s.as_str())), "the other unit's booking is not named");
    // Nor can the lead count the appointments of another unit's counsellor by naming them.
    let other_unit = app.counsellor_id("sdr", "Lukas Feldmann").await.to_string();
    let mut probe = fields.clone();
    probe[0] = ("counsellor", other_unit.as_str());
    let refused = lead.submit("/hours?unit=ads", "/hours/ads/absences", &probe).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("href=\"#absence-counsellor\"") && !html.contains("id=\"affected\""), "refused at the field");

    let body = json!({ "counsellor_id": counsellor, "from_date": day, "reason": "Fortbildung" });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = response.text().await.unwrap();
    let absence: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<&Value> =
        absence["affected_bookings"].as_array().expect("listed").iter().map(|b| &b["id"]).collect();
    assert_eq!(listed, vec![&here["id"]], "only this unit's appointment is listed");
    assert_eq!(absence["affected_total"], 1);
    assert_eq!(absence["affected_in_other_units"], 1, "the ESF appointment is counted");
    assert!(secrets.iter().all(|s| !text.contains(s.as_str())), "the other unit's booking is not named");

    // A closure is the unit's alone: nothing of other units, and no count of them.
    let body = json!({ "from_date": day, "reason": "Betriebsausflug" });
    let closure: Value = app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &body).await.json().await.unwrap();
    assert_eq!(closure["affected_total"], 1);
    assert!(closure.get("affected_in_other_units").is_none(), "absent when none: {closure}");
}

/// The stranded appointments of a period: every one that overlaps it is counted, however it
/// straddles the period's edges, and the list holds the soonest up to its limit.
#[tokio::test]
async fn a_period_counts_every_overlapping_appointment_and_lists_the_soonest() {
    use chrono::TimeDelta;
    use terminbuch::store::bookings::{InUnits, booked_overlapping};

    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    // Three half-hour appointments back to back after the day's hours, where nothing else is.
    let day = starts_on(&app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await[0]);
    let mut booked = Vec::new();
    for time in ["17:00", "17:30", "18:00"] {
        let response =
            app.post_booking(&crate::helpers::adhoc_anyway("ads", counsellor, &format!("{day}T{time}"), 30)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{day} {time}");
        booked.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let local = |time: &str| {
        let at = chrono::NaiveDateTime::parse_from_str(&format!("{day} {time}"), "%Y-%m-%d %H:%M").expect("time");
        Berlin.from_local_datetime(&at).single().expect("one instant").with_timezone(&Utc)
    };
    let ads = terminbuch::store::directory::find_unit(&app.db, "ads").await.expect("db").expect("ads");
    let jana = Some(StaffId::new(i32::try_from(counsellor).expect("id")));
    let ids = |list: &[terminbuch::domain::records::Booking]| list.iter().map(|b| b.id.to_string()).collect::<Vec<_>>();

    let whole = (local("17:00"), local("18:30"));
    let (listed, total) = booked_overlapping(&app.db, InUnits::Only(ads.id), jana, whole, 2).await.expect("db");
    assert_eq!((ids(&listed), total), (booked[..2].to_vec(), 3), "the soonest two listed, all three counted");

    let after_the_first = (local("17:30"), whole.1);
    let (_, total) = booked_overlapping(&app.db, InUnits::Only(ads.id), jana, after_the_first, 10).await.expect("db");
    assert_eq!(total, 2, "an appointment ending where the period begins is not in it");

    let inside_the_first = (whole.0 + TimeDelta::minutes(1), whole.0 + TimeDelta::minutes(2));
    let (listed, total) =
        booked_overlapping(&app.db, InUnits::Only(ads.id), jana, inside_the_first, 10).await.expect("db");
    assert_eq!((ids(&listed), total), (booked[..1].to_vec(), 1), "begun before the period, still in it");

    let (listed, total) = booked_overlapping(&app.db, InUnits::Only(ads.id), jana, whole, 0).await.expect("db");
    assert_eq!((listed.len(), total), (0, 3), "a count alone");
    let (_, elsewhere) = booked_overlapping(&app.db, InUnits::Except(ads.id), jana, whole, 0).await.expect("db");
    assert_eq!(elsewhere, 0, "nothing in other units");
}

/// The day's view (its columns are the week's) shows every free slot of the day, also more than
/// 50 (four counsellors from 09:00 to 16:00 in half hours are 56; here one in ten minutes, 60).
#[tokio::test]
async fn the_day_view_shows_every_free_slot_of_a_busy_day() {
    let app = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| {
        s.require_mfa = terminbuch::domain::accounts::RequireMfa::None;
    })
    .await;
    crate::web::add_member(&app, "empfang", "front_desk", Some("ads")).await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    // Saturdays, 08:00 to 18:00 in ten minutes: 60 slots on Saturday 28 November.
    let body =
        json!({ "counsellor_id": counsellor, "weekday": 6, "start": "08:00", "end": "18:00", "slot_minutes": 10 });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
    let free = app.free_slots("ads", "from=2026-11-28&to=2026-11-28&limit=500").await;
    assert_eq!(free.len(), 60);

    let web = crate::web::WebClient::logged_in(&app, "empfang").await;
    let html = web.get("/day?unit=ads&date=2026-11-28").await.text().await.expect("test step");

    let shown = html.matches("free-").count();
    for slot in &free {
        let id = format!("free-{}\"", slot["slot_id"]);
        assert!(html.contains(&id), "slot {} is shown ({shown} free shown)", slot["slot_id"]);
    }
}

/// The day list is what the desk prints for the counsellors: an appointment that cannot take
/// place as booked (its counsellor is absent) carries the grid's warning in the list's own row,
/// not only in the grid that is not printed.
#[tokio::test]
async fn the_printed_day_list_warns_of_an_appointment_whose_counsellor_is_absent() {
    // Arrange: an appointment of Jana Winterberg; then she is absent that day.
    let app = spawn_app().await;
    crate::web::add_member(&app, "empfang", "front_desk", Some("ads")).await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let slot = &app.free_slots("ads", &format!("counsellor={jana}&limit=1")).await[0];
    let booked = app.book_slot(slot["slot_id"].as_i64().expect("slot")).await;
    let day = crate::retention::local_day(&booked["starts_at"]);
    let absence = json!({ "counsellor_id": jana, "from_date": day.to_string(), "until_date": day.to_string(),
        "reason": "krank" });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Act
    let web = crate::web::WebClient::logged_in(&app, "empfang").await;
    let html = web.get(&format!("/day?unit=ads&date={day}")).await.text().await.expect("the day list");

    // Assert: the row of the list (printed) says so.
    let list = &html[html.find("id=\"day-rows\"").expect("the list")..];
    let row = &list[list.find(booked["reference"].as_str().expect("reference")).expect("the row")..];
    let row = &row[..row.find("</tr>").expect("the row's end")];
    assert!(row.contains("Achtung: Beratende Person abwesend – Termin verlegen oder absagen"), "{row}");
}
