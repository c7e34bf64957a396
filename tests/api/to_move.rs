//! The appointments to move: what a closure, an absence, a closed day or a counsellor who left
//! strands, listed for the desk until it is moved or cancelled.

use chrono::{DateTime, FixedOffset, TimeDelta};
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::config::ExtraDays;
use terminbuch::domain::access::Role;
use terminbuch::domain::accounts::RequireMfa;
use terminbuch::domain::holidays::HolidayCalendar;

use crate::helpers::{adhoc_anyway, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD};

fn day_of(value: &Value) -> String {
    value["starts_at"].as_str().expect("starts_at")[..10].to_owned()
}

/// The first free slot of `counsellor` whose day is none of `taken`.
async fn slot_on_a_new_day(app: &crate::helpers::TestApp, counsellor: i64, taken: &[&str]) -> Value {
    let slots = app.free_slots("ads", &format!("counsellor={counsellor}&limit=50")).await;
    slots.into_iter().find(|s| !taken.contains(&day_of(s).as_str())).expect("a free slot on another day")
}

/// The list through the API at `base`: (reference, reasons) in the order given, and the total.
async fn listed(base: &str, token: &str) -> (Vec<(String, Vec<String>)>, u64) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/units/ads/bookings-to-move"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let bookings = body["bookings"].as_array().expect("bookings");
    let starts: Vec<DateTime<FixedOffset>> = bookings
        .iter()
        .map(|b| DateTime::parse_from_rfc3339(b["starts_at"].as_str().expect("starts_at")).expect("instant"))
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "soonest first: {body}");
    let rows = bookings
        .iter()
        .map(|b| {
            let reasons = b["reasons"].as_array().expect("reasons").iter().map(|r| r.as_str().expect("r").to_owned());
            (b["reference"].as_str().expect("reference").to_owned(), reasons.collect())
        })
        .collect();
    (rows, body["total"].as_u64().expect("total"))
}

fn reference(booking: &Value) -> String {
    booking["reference"].as_str().expect("reference").to_owned()
}

fn sorted(mut rows: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    rows.sort();
    rows
}

fn entry(booking: &Value, reason: &str) -> (String, Vec<String>) {
    (reference(booking), vec![reason.to_owned()])
}

#[tokio::test]
async fn the_desk_lists_what_cannot_take_place_as_booked_and_why_until_it_is_moved() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let admin = app.admin_token.clone();
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let deniz = app.counsellor_id("ads", "Deniz Aydın").await;
    let samira = app.counsellor_id("ads", "Samira Haddad").await;

    // A: Jana's, then absent that day. B: Deniz's on another day, which the unit closes.
    let slot_a = slot_on_a_new_day(&app, jana, &[]).await;
    let day_a = day_of(&slot_a);
    let slot_b = slot_on_a_new_day(&app, deniz, &[&day_a]).await;
    let day_b = day_of(&slot_b);
    let slot_f = slot_on_a_new_day(&app, jana, &[&day_a, &day_b]).await;
    let day_f = day_of(&slot_f);
    let a = app.book_slot(slot_a["slot_id"].as_i64().unwrap()).await;
    let b = app.book_slot(slot_b["slot_id"].as_i64().unwrap()).await;
    // F: Jana's on a third day, where nothing blocks it.
    let f = app.book_slot(slot_f["slot_id"].as_i64().unwrap()).await;
    let absence = json!({ "counsellor_id": jana, "from_date": day_a, "reason": "Fortbildung" });
    assert_eq!(app.post_as(&admin, "/api/v1/units/ads/absences", &absence).await.status(), StatusCode::CREATED);
    let closure = json!({ "from_date": day_b, "reason": "Betriebsausflug" });
    assert_eq!(app.post_as(&admin, "/api/v1/units/ads/closures", &closure).await.status(), StatusCode::CREATED);

    // C: placed into the closure afterwards by a lead's override (which passes every rule at
    // once, so it does not tell that the lead knew of the closure): listed with its reason.
    app.clock.advance(TimeDelta::minutes(1));
    let c = app.post_booking(&adhoc_anyway("ads", deniz, &format!("{day_b}T18:00"), 30)).await;
    assert_eq!(c.status(), StatusCode::CREATED, "an override into the closure");
    let c: Value = c.json().await.unwrap();
    // G: Samira's, placed by override on F's day; an absence recorded later strands it.
    let g = app.post_booking(&adhoc_anyway("ads", samira, &format!("{day_f}T18:00"), 30)).await;
    assert_eq!(g.status(), StatusCode::CREATED);
    let g: Value = g.json().await.unwrap();
    // E: a new counsellor's, who then leaves.
    let newcomer = app.add_person("p.neu", "counsellor", Some("ads")).await;
    let newcomer = newcomer["id"].as_i64().expect("id");
    let e = app.post_booking(&adhoc_anyway("ads", newcomer, &format!("{day_f}T19:00"), 30)).await;
    assert_eq!(e.status(), StatusCode::CREATED);
    let e: Value = e.json().await.unwrap();
    app.clock.advance(TimeDelta::minutes(1));
    let absence = json!({ "counsellor_id": samira, "from_date": day_f, "reason": "krank" });
    assert_eq!(app.post_as(&admin, "/api/v1/units/ads/absences", &absence).await.status(), StatusCode::CREATED);
    let left = app.post_as(&admin, "/api/v1/staff/p.neu/deactivate", &json!({})).await;
    assert_eq!(left.status(), StatusCode::OK);
    // H: Deniz's on a fourth day; he also counsels in ESF, whose lead records his absence.
    let slot_h = slot_on_a_new_day(&app, deniz, &[&day_a, &day_b, &day_f]).await;
    let day_h = day_of(&slot_h);
    let h = app.book_slot(slot_h["slot_id"].as_i64().unwrap()).await;
    let esf = terminbuch::store::directory::find_unit(&app.db, "esf").await.expect("db").expect("esf");
    let deniz_id = terminbuch::domain::ids::StaffId::new(i32::try_from(deniz).expect("id"));
    terminbuch::store::directory::add_membership(&app.db, deniz_id, esf.id, Role::Counsellor).await.expect("db");
    let absence = json!({ "counsellor_id": deniz, "from_date": day_h, "reason": "Termin in der ESF" });
    assert_eq!(app.post_as(&admin, "/api/v1/units/esf/absences", &absence).await.status(), StatusCode::CREATED);
    // Another unit's closure on F's day strands nothing here.
    let closure = json!({ "from_date": day_f, "reason": "Betriebsausflug der SDR" });
    assert_eq!(app.post_as(&admin, "/api/v1/units/sdr/closures", &closure).await.status(), StatusCode::CREATED);
    // By override on a public holiday and on the configured closure day 24 December.
    let holiday = app.post_booking(&adhoc_anyway("ads", jana, "2026-12-25T10:00", 30)).await;
    assert_eq!(holiday.status(), StatusCode::CREATED, "by override on Christmas Day");
    let holiday: Value = holiday.json().await.unwrap();
    let eve = app.post_booking(&adhoc_anyway("ads", jana, "2026-12-24T10:00", 30)).await;
    assert_eq!(eve.status(), StatusCode::CREATED, "by override on Christmas Eve");
    let eve: Value = eve.json().await.unwrap();

    let expected = vec![
        entry(&a, "absence"),
        entry(&b, "closure"),
        entry(&c, "closure"),
        entry(&g, "absence"),
        entry(&e, "no_counsellor"),
        entry(&h, "absence"),
        entry(&eve, "closed_day"),
        entry(&holiday, "closed_day"),
    ];
    let (rows, total) = listed(&app.address, &admin).await;
    assert_eq!(sorted(rows), sorted(expected.clone()), "all but F, which nothing blocks");
    assert_eq!(total, 8);
    let body: Value = app.get_as(&admin, "/api/v1/units/ads/bookings-to-move").await.json().await.unwrap();
    let overridden = |booking: &Value| {
        let found = body["bookings"].as_array().unwrap().iter().find(|b| b["reference"] == booking["reference"]);
        found.expect("listed").get("override_reason").cloned()
    };
    assert_eq!(overridden(&c), Some(json!("Test: außerhalb der Beratungszeiten")), "the override's reason shows");
    assert_eq!(overridden(&b), None, "left out when none");

    // Correcting G's details (the call the list asks for) leaves it on the list until it is moved.
    app.clock.advance(TimeDelta::minutes(1));
    let corrected = json!({ "citizen": { "name": "Pseudonym K.", "email": "k@example.org" }, "email_consent": true });
    let response = app.put_as(&admin, &format!("/api/v1/bookings/{}/citizen", reference(&g)), &corrected).await;
    assert_eq!(response.status(), StatusCode::OK, "corrected");
    let (rows, _) = listed(&app.address, &admin).await;
    assert!(rows.contains(&entry(&g, "absence")), "still to move after a correction: {rows:?}");

    // The desk's page: the same appointments with why, each a link to move it; the read is audited.
    app.add_person("empfang.test", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.test", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let (status, html) = desk.text("/to-move?unit=ads").await;
    assert_eq!(status, StatusCode::OK);
    for (listed, _) in &expected {
        assert!(html.contains(&format!("href=\"/bookings/{listed}/reschedule\"")), "{listed} to move");
    }
    assert!(!html.contains(&reference(&f)), "only what must move");
    assert!(html.contains("Test: außerhalb der Beratungszeiten"), "an override's reason is shown");
    assert!(html.contains("Beratende Person abwesend") && html.contains("berät hier nicht mehr"), "why");
    let audited = |login: &str| {
        format!(
            "SELECT COUNT(*) AS n FROM audit_events a JOIN staff s ON a.actor_id = s.id \
             WHERE a.action = 'affected_bookings_viewed' AND a.detail LIKE '%to_move%' AND a.item_count = 8 \
             AND s.login = '{login}'"
        )
    };
    assert_eq!(app.count(&audited("empfang.test")).await, 1);
    assert_eq!(app.count(&audited("admin")).await, 3, "the three lists through the API");

    // The week view marks both in the closure, by the same rule.
    let (_, week) = desk.text(&format!("/week?unit=ads&date={day_b}")).await;
    let marked = |booking: &Value| {
        let entries: Vec<&str> = week
            .split(&format!("href=\"/bookings/{}\"", reference(booking)))
            .skip(1)
            .map(|after| after.split("</li>").next().expect("entry"))
            .collect();
        assert!(!entries.is_empty(), "{} in the week", reference(booking));
        entries.iter().all(|entry| entry.contains("Stelle geschlossen – Termin verlegen"))
    };
    assert!(marked(&b) && marked(&c), "B and C marked");

    // Another unit's staff may not read it.
    let stranger = app.token_for("empfang.sdr", "front_desk", Some("sdr")).await;
    let refused = app.get_as(&stranger, "/api/v1/units/ads/bookings-to-move").await;
    crate::helpers::assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;

    // Moved or cancelled, an appointment leaves the list.
    let free = slot_on_a_new_day(&app, jana, &[&day_a, &day_b, &day_f, &day_h]).await;
    let moved = app
        .post_as(
            &admin,
            &format!("/api/v1/bookings/{}/reschedule", reference(&a)),
            &json!({ "slot_id": free["slot_id"] }),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK, "moved");
    let cancel = json!({ "reason": "Stelle geschlossen, Person verständigt" });
    let cancelled = app.post_as(&admin, &format!("/api/v1/bookings/{}/cancel", reference(&b)), &cancel).await;
    assert_eq!(cancelled.status(), StatusCode::OK, "cancelled");
    let (rows, total) = listed(&app.address, &admin).await;
    assert_eq!(sorted(rows), sorted(expected[2..].to_vec()));
    assert_eq!(total, 6);

    // A closure day the operator configures later strands everything booked on it (F, G and E),
    // seen by a server started with it.
    let month_day = &day_f[5..];
    let days = HolidayCalendar::parse_extra_days(&format!("12-24,12-31,{month_day}")).expect("days");
    let later = app.another_process(|s| s.extra_closure_days = ExtraDays(days)).await;
    let (rows, total) = listed(&later, &admin).await;
    let with =
        |booking: &Value, reasons: &[&str]| (reference(booking), reasons.iter().map(|r| (*r).to_owned()).collect());
    let expected = vec![
        entry(&c, "closure"),
        with(&f, &["closed_day"]),
        with(&g, &["absence", "closed_day"]),
        with(&e, &["closed_day", "no_counsellor"]),
        entry(&h, "absence"),
        entry(&eve, "closed_day"),
        entry(&holiday, "closed_day"),
    ];
    assert_eq!(sorted(rows), sorted(expected));
    assert_eq!(total, 7);
}

/// A closure day on every odd day of the month and appointments years ahead: the closed days up
/// to them are over a thousand spans, and the list still answers (a flat `OR` of that many was
/// too deep for SQLite). A counsellor whose role in the unit was taken away (not deactivated)
/// strands their appointments as one who left does.
#[tokio::test]
async fn years_of_closure_days_and_a_role_taken_away() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let admin = app.admin_token.clone();
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let closed = app.post_booking(&adhoc_anyway("ads", jana, "2036-03-05T10:00", 30)).await;
    assert_eq!(closed.status(), StatusCode::CREATED, "by override, years ahead");
    let closed: Value = closed.json().await.unwrap();
    let open = app.post_booking(&adhoc_anyway("ads", jana, "2036-03-06T10:00", 30)).await;
    assert_eq!(open.status(), StatusCode::CREATED);
    // A counsellor who stays active but no longer counsels in the unit.
    let moved_on = app.add_person("p.wechsel", "counsellor", Some("ads")).await;
    let moved_on = moved_on["id"].as_i64().expect("id");
    let theirs = app.post_booking(&adhoc_anyway("ads", moved_on, "2036-03-06T11:00", 30)).await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    let theirs: Value = theirs.json().await.unwrap();
    let (rows, _) = listed(&app.address, &admin).await;
    assert!(rows.iter().all(|(r, _)| *r != reference(&theirs)), "still counselling here: {rows:?}");
    let taken = app.delete_as(&admin, "/api/v1/staff/p.wechsel/roles/counsellor?unit=ads").await;
    assert_eq!(taken.status(), StatusCode::OK, "role taken away");

    let odd_days: Vec<String> = (1..=12_u32)
        .flat_map(|month| (1..=31_u32).step_by(2).map(move |day| (month, day)))
        .filter(|&(month, day)| chrono::NaiveDate::from_ymd_opt(2028, month, day).is_some())
        .map(|(month, day)| format!("{month:02}-{day:02}"))
        .collect();
    let days = HolidayCalendar::parse_extra_days(&odd_days.join(",")).expect("days");
    let spans = terminbuch::domain::blocking::closed_spans(
        &HolidayCalendar::new(days.clone()),
        chrono_tz::Europe::Berlin,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"),
        chrono::NaiveDate::from_ymd_opt(2036, 3, 6).expect("date"),
    );
    assert!(spans.len() > 1_000, "{} spans", spans.len());
    let later = app.another_process(|s| s.extra_closure_days = ExtraDays(days)).await;
    let (rows, total) = listed(&later, &admin).await;
    let mut expected = vec![entry(&closed, "closed_day"), entry(&theirs, "no_counsellor")];
    expected.sort();
    assert_eq!(sorted(rows), expected, "the open day's appointment is not listed");
    assert_eq!(total, 2);
}
