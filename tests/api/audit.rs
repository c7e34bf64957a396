//! The audit records every access to personal data (reads, searches, lists, changes, logins,
//! admin acts, refusals) with who, from where and what, through the API and the pages alike.

use chrono::{Datelike, TimeDelta};
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::clock::Clock;
use terminbuch::domain::audit::{AuditAction, AuditActor, AuditEntry, AuditFilter, AuditRecord};
use terminbuch::services::audit;
use terminbuch::services::directory::{self, StaffInput, StaffRole};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use terminbuch::domain::ids::{StaffId, UnitId};

/// Every record with `action`, newest first.
pub async fn records(app: &TestApp, action: AuditAction) -> Vec<AuditRecord> {
    let filter = AuditFilter { action: Some(action), ..AuditFilter::newest(1000) };
    terminbuch::store::audit::list(&app.db, &filter).await.expect("audit records")
}

/// The single record with `action`.
async fn the_record(app: &TestApp, action: AuditAction) -> AuditRecord {
    let mut found = records(app, action).await;
    assert_eq!(found.len(), 1, "one {action} record: {found:?}");
    found.remove(0)
}

fn uuid(value: &Value) -> Uuid {
    Uuid::parse_str(value.as_str().expect("an id")).expect("a uuid")
}

async fn admin_id(app: &TestApp) -> i32 {
    (terminbuch::store::directory::find_staff_by_login(&app.db, "admin")
        .await
        .expect("test step")
        .expect("test step")
        .id)
        .get()
}

/// A staff member with a password, for the pages.
async fn add_with_password(app: &TestApp, login: &str, role: &str, unit: Option<&str>) -> i32 {
    let input = StaffInput {
        login: login.to_owned(),
        display_name: login.to_owned(),
        email: None,
        languages: vec![terminbuch::domain::language::Language::GERMAN],
        role: StaffRole::parse(role).expect("test step"),
        unit: unit.map(str::to_owned),
        password: Some("richtig-pferd-42".to_owned()),
    };
    (directory::add_staff(&app.db, &app.clock, input).await.expect("test step").member.id).get()
}

/// Logs in through the login page; returns the session's client and the answer's status.
async fn log_in(app: &TestApp, login: &str, password: &str) -> (reqwest::Client, StatusCode) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("test step");
    let page =
        client.get(format!("{}/login", app.address)).send().await.expect("test step").text().await.expect("test step");
    let start = page.find("name=\"csrf\" value=\"").expect("test step") + 19;
    let csrf = page[start..].split('"').next().expect("test step").to_owned();
    let form = [("csrf", csrf.as_str()), ("login", login), ("password", password)];
    let response = client.post(format!("{}/login", app.address)).form(&form).send().await.expect("test step");
    (client, response.status())
}

#[tokio::test]
async fn viewing_listing_searching_and_changing_bookings_through_the_api_is_recorded() {
    let app = spawn_app().await;
    let admin = admin_id(&app).await;
    let slots = app.free_slots("ads", "limit=3").await;
    let booked = app.book_slot(slots[0]["slot_id"].as_i64().unwrap()).await;
    let id = uuid(&booked["id"]);
    let unit = UnitId::new(i32::try_from(booked["unit_id"].as_i64().unwrap()).unwrap());

    let created = the_record(&app, AuditAction::BookingCreated).await;
    assert_eq!(
        (created.actor, created.unit_id, created.booking_ids.clone()),
        (AuditActor::Staff(StaffId::new(admin)), Some(unit), vec![id])
    );
    assert_eq!(created.client.as_deref(), Some("127.0.0.1"), "from where");

    assert_eq!(app.get_booking(booked["reference"].as_str().unwrap()).await.status(), StatusCode::OK);
    let viewed = the_record(&app, AuditAction::BookingViewed).await;
    assert_eq!((viewed.actor, viewed.booking_ids.clone()), (AuditActor::Staff(StaffId::new(admin)), vec![id]));
    assert_eq!(viewed.at, app.clock.now(), "when");

    app.list_bookings("unit=ads").await;
    let listed = the_record(&app, AuditAction::BookingsListed).await;
    assert_eq!((listed.unit_id, listed.booking_ids.clone(), listed.item_count), (Some(unit), vec![id], Some(1)));

    app.list_bookings("q=Demir").await;
    app.list_bookings(&format!("q={}", booked["reference"].as_str().unwrap())).await;
    let searches = records(&app, AuditAction::BookingsSearched).await;
    assert_eq!(searches.len(), 2);
    assert_eq!(searches[1].detail, json!({ "search": "text" }));
    assert_eq!(searches[0].detail, json!({ "search": "reference" }));
    for search in &searches {
        assert_eq!(search.booking_ids, vec![id], "what was found is recorded");
        let stored = format!("{search:?}");
        assert!(!stored.contains("Demir") && !stored.contains(&booked["reference"].as_str().unwrap()[..4]), "{stored}");
    }

    let path = format!("/api/v1/bookings/{id}/reschedule");
    let moved = app.post_as(&app.admin_token, &path, &json!({ "slot_id": slots[1]["slot_id"] })).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let rescheduled = the_record(&app, AuditAction::BookingRescheduled).await;
    assert_eq!(rescheduled.target, format!("slot:{}", slots[1]["slot_id"]));
    app.clock.advance(TimeDelta::days(30));
    assert_eq!(app.record_outcome(&id.to_string(), "no_show").await.status(), StatusCode::OK);
    assert_eq!(the_record(&app, AuditAction::OutcomeRecorded).await.detail, json!({ "status": "no_show" }));
    let other = app.book_slot(app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().unwrap()).await;
    assert_eq!(app.cancel_booking(other["id"].as_str().unwrap(), "abgesagt").await.status(), StatusCode::OK);
    assert_eq!(the_record(&app, AuditAction::BookingCancelled).await.booking_ids, vec![uuid(&other["id"])]);
}

#[tokio::test]
async fn a_refused_change_leaves_its_refusal_but_no_change_record() {
    let app = spawn_app().await;
    let sdr_desk = app.token_for("empfang.sdr", "front_desk", Some("sdr")).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booked = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let path = format!("/api/v1/bookings/{}/cancel", booked["id"].as_str().unwrap());
    let cancel = app.post_as(&sdr_desk, &path, &json!({ "reason": "x" })).await;
    assert_eq!(cancel.status(), StatusCode::FORBIDDEN);
    let denied = the_record(&app, AuditAction::AccessDenied).await;
    assert_eq!(denied.detail, json!({ "attempted": "booking.change" }));
    assert_eq!(denied.booking_ids, vec![uuid(&booked["id"])]);
    assert!(records(&app, AuditAction::BookingCancelled).await.is_empty());
}

#[tokio::test]
async fn day_and_week_lists_and_logins_through_the_pages_are_recorded() {
    let app = spawn_app().await;
    let desk = add_with_password(&app, "empfang", "front_desk", Some("ads")).await;
    let slot = app.free_slots("ads", "limit=1").await.remove(0);
    let booked = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let day = &slot["starts_at"].as_str().unwrap()[..10];

    let (_, status) = log_in(&app, "empfang", "falsch-falsch").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the login page again, with the refusal at the field");
    let (_, _) = log_in(&app, "niemand", "falsch-falsch").await;
    let failed = records(&app, AuditAction::LoginFailed).await;
    assert_eq!(
        failed.iter().map(|r| r.actor).collect::<Vec<_>>(),
        [AuditActor::Anonymous, AuditActor::Staff(StaffId::new(desk))]
    );
    assert!(failed.iter().all(|r| r.client.as_deref() == Some("127.0.0.1")));
    assert!(!format!("{failed:?}").contains("niemand"), "an unknown login's text is not kept");
    for _ in 0..4 {
        log_in(&app, "empfang", "falsch-falsch").await;
    }
    log_in(&app, "empfang", "richtig-pferd-42").await;
    assert_eq!(the_record(&app, AuditAction::LoginThrottled).await.actor, AuditActor::Staff(StaffId::new(desk)));
    add_with_password(&app, "leitung", "unit_lead", Some("ads")).await;
    let (client, status) = log_in(&app, "leitung", "richtig-pferd-42").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let lead = terminbuch::store::directory::find_staff_by_login(&app.db, "leitung").await.unwrap().unwrap().id;
    assert_eq!(the_record(&app, AuditAction::LoginSucceeded).await.actor, AuditActor::Staff(lead));

    let page = client.get(format!("{}/day?unit=ads&date={day}", app.address)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let listed = the_record(&app, AuditAction::DayListViewed).await;
    assert_eq!((listed.actor, listed.booking_ids.clone()), (AuditActor::Staff(lead), vec![uuid(&booked["id"])]));
    assert_eq!(listed.detail["from"], day);
    let page = client.get(format!("{}/week?unit=ads&date={day}", app.address)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let week = the_record(&app, AuditAction::WeekListViewed).await;
    assert_eq!(
        (week.booking_ids.clone(), week.item_count),
        (vec![uuid(&booked["id"])], Some(1)),
        "one record for the week"
    );
    assert_eq!(records(&app, AuditAction::DayListViewed).await.len(), 1, "the week is not seven day lists");
    let reference = booked["reference"].as_str().unwrap();
    let details = client.get(format!("{}/bookings/{reference}", app.address)).send().await.unwrap();
    assert_eq!(details.status(), StatusCode::OK);
    assert_eq!(the_record(&app, AuditAction::BookingViewed).await.actor, AuditActor::Staff(lead));
    let search = client.get(format!("{}/bookings?q=Ay%C5%9Fe", app.address)).send().await.unwrap();
    assert_eq!(search.status(), StatusCode::OK);
    let searched = the_record(&app, AuditAction::BookingsSearched).await;
    assert!(!format!("{searched:?}").contains("Ayşe"));
}

#[tokio::test]
async fn administrative_acts_are_recorded() {
    let app = spawn_app().await;
    let admin = admin_id(&app).await;
    let staff = json!({ "login": "neu", "name": "Neue Kollegin", "role": "front_desk", "unit": "ads" });
    assert_eq!(app.post_as(&app.admin_token, "/api/v1/staff", &staff).await.status(), StatusCode::CREATED);
    let added = records(&app, AuditAction::StaffAdded).await.remove(0);
    let new_id = terminbuch::store::directory::find_staff_by_login(&app.db, "neu").await.unwrap().unwrap().id;
    assert_eq!(
        (added.actor, added.target.clone()),
        (AuditActor::Staff(StaffId::new(admin)), format!("staff:{new_id}"))
    );
    let role = records(&app, AuditAction::RoleAdded).await.remove(0);
    assert_eq!((role.actor, role.target.clone()), (AuditActor::Staff(StaffId::new(admin)), format!("staff:{new_id}")));
    assert_eq!((role.detail["role"].clone(), role.detail["unit"].clone()), (json!("front_desk"), json!("ads")));
    let tokens = records(&app, AuditAction::TokenCreated).await;
    assert!(tokens.iter().all(|r| r.actor == AuditActor::System), "tokens come from the command line");

    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let hours =
        json!({ "counsellor_id": counsellor, "weekday": 5, "start": "09:00", "end": "11:00", "slot_minutes": 60 });
    let rule: Value =
        app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &hours).await.json().await.unwrap();
    assert_eq!(the_record(&app, AuditAction::HoursSaved).await.target, format!("rule:{}", rule["rule"]["id"]));
    let slot = app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await.remove(0);
    let booked = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    let day = &slot["starts_at"].as_str().unwrap()[..10];
    let absence = json!({ "counsellor_id": counsellor, "from_date": day, "reason": "Fortbildung" });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    assert_eq!(the_record(&app, AuditAction::AbsenceAdded).await.target, format!("absence:{}", absence["id"]));
    let affected = the_record(&app, AuditAction::AffectedBookingsViewed).await;
    assert_eq!(affected.booking_ids, vec![uuid(&booked["id"])], "the lead saw whose appointment is affected");
    let path = format!("/api/v1/units/ads/absences/{}", absence["id"]);
    assert_eq!(app.delete_as(&app.admin_token, &path).await.status(), StatusCode::NO_CONTENT);
    the_record(&app, AuditAction::AbsenceRemoved).await;
}

#[tokio::test]
async fn the_appointments_a_change_of_hours_leaves_outside_them_are_recorded_as_shown() {
    // Arrange: hours with a booked appointment.
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let hours =
        json!({ "counsellor_id": counsellor, "weekday": 5, "start": "09:00", "end": "11:00", "slot_minutes": 60 });
    let rule: Value =
        app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &hours).await.json().await.unwrap();
    let friday_nine = |s: &&Value| {
        let at = chrono::DateTime::parse_from_rfc3339(s["starts_at"].as_str().unwrap()).unwrap();
        at.weekday() == chrono::Weekday::Fri && at.format("%H:%M").to_string() == "09:00"
    };
    let free = app.free_slots("ads", &format!("counsellor={counsellor}&limit=500")).await;
    let slot = free.iter().find(friday_nine).expect("a slot of the new hours");
    let booked = app.book_slot(slot["slot_id"].as_i64().unwrap()).await;
    assert!(records(&app, AuditAction::AffectedBookingsViewed).await.is_empty());

    // Act: the hours are deleted; the answer names the appointment.
    let path = format!("/api/v1/units/ads/counselling-hours/{}", rule["rule"]["id"]);
    let deleted: Value = app.delete_as(&app.admin_token, &path).await.json().await.unwrap();

    // Assert
    assert_eq!(deleted["affected_bookings"][0]["id"], booked["id"], "{deleted}");
    let shown = the_record(&app, AuditAction::AffectedBookingsViewed).await;
    assert_eq!(shown.booking_ids, vec![uuid(&booked["id"])], "the lead was answered whose appointment it is");
}

#[tokio::test]
async fn the_recording_function_takes_system_and_citizen_entries_and_the_first_shape_still_works() {
    let app = spawn_app().await;
    let booking = Uuid::now_v7();
    let entry = AuditEntry::system(AuditAction::RetentionRun).count(3).detail(json!({ "bookings": 3 }));
    audit::record(&app.db, &app.clock, entry).await.unwrap();
    let citizen = AuditEntry::citizen(AuditAction::BookingViewed, booking);
    audit::record(&app.db, &Clock::fixed(app.clock.now()), citizen).await.unwrap();
    // Even given an address, a citizen's record holds none.
    let with_address = AuditEntry::attempt(AuditAction::BookingViewed, AuditActor::Citizen, "192.0.2.7".parse().ok());
    assert_eq!(with_address.client(), None);
    terminbuch::store::audit::record(&app.db, app.clock.now(), None, "data_subject_erased", "", r#"{"bookings":2}"#)
        .await
        .unwrap();
    let unknown = terminbuch::store::audit::record(&app.db, app.clock.now(), None, "whatever", "", "{}").await;
    assert!(unknown.is_err(), "only typed actions are stored");

    let run = the_record(&app, AuditAction::RetentionRun).await;
    assert_eq!(
        (run.actor, run.item_count, run.detail.clone()),
        (AuditActor::System, Some(3), json!({ "bookings": 3 }))
    );
    let viewed = the_record(&app, AuditAction::BookingViewed).await;
    assert_eq!((viewed.actor, viewed.booking_ids.clone()), (AuditActor::Citizen, vec![booking]));
    assert_eq!(viewed.client, None, "no citizen's address");
    assert_eq!(the_record(&app, AuditAction::DataSubjectErased).await.detail, json!({ "bookings": 2 }));
    let first_admin = the_record(&app, AuditAction::StaffAdded).await;
    assert_eq!(first_admin.target, format!("staff:{}", admin_id(&app).await));
    assert_eq!((first_admin.actor, first_admin.detail["first_admin"].clone()), (AuditActor::System, json!(true)));
}
