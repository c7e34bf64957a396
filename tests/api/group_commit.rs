//! SQLite's group commit: bookings that wait while another write holds the database are written
//! in one transaction, each in a savepoint of its own (on PostgreSQL the same requests race).

use chrono_tz::Europe::Berlin;
use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use terminbuch::domain::booking::{Channel, Citizen};
use terminbuch::services::ServiceError;
use terminbuch::services::bookings::{self, Book, NewBooking, Target, Writer, WriterDeps};
use terminbuch::services::directory::CounsellorCache;
use terminbuch::store::{self, directory};

use crate::helpers::{TestApp, spawn_app};
use terminbuch::domain::ids::SlotId;

fn new_booking(slot_id: i64, name: &str) -> NewBooking {
    NewBooking {
        target: Target::Slot(SlotId::new(i32::try_from(slot_id).expect("slot id"))),
        citizen: Citizen {
            name: name.into(),
            email: Some(format!("{}@example.org", name.to_lowercase().replace(' ', "."))),
            phone: None,
            language: terminbuch::domain::language::Language::GERMAN,
            interpreter_language: None,
            accessibility_needs: None,
            email_consent: true,
        },
        channel: Channel::Phone,
        note: None,
        override_reason: None,
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("a count")
}

#[tokio::test]
async fn one_group_commits_the_last_seat_once_and_the_refusals_leave_the_others_booked() {
    // Arrange: a slot of an absent counsellor, one last seat wanted three times, three free slots.
    let app = spawn_app().await;
    let absent = app.counsellor_id("ads", "Jana Winterberg").await;
    let in_absence = app.free_slots("ads", &format!("counsellor={absent}&limit=1")).await[0]["slot_id"].as_i64();
    let absence = serde_json::json!({
        "counsellor_id": absent, "from_date": "2026-11-24", "until_date": "2026-12-04", "reason": "krank",
    });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let other = app.counsellor_id("ads", "Samira Haddad").await;
    let free: Vec<i64> = app
        .free_slots("ads", &format!("counsellor={other}&limit=5"))
        .await
        .iter()
        .map(|slot| slot["slot_id"].as_i64().expect("slot id"))
        .collect();
    let (last_seat, distinct) = (free[0], &free[1..]);
    let requests = [
        new_booking(distinct[0], "Erste Person"),
        new_booking(last_seat, "Zweite Person"),
        new_booking(in_absence.expect("a slot"), "Dritte Person"),
        new_booking(last_seat, "Vierte Person"),
        new_booking(distinct[1], "Fünfte Person"),
        new_booking(last_seat, "Sechste Person"),
        new_booking(distinct[2], "Siebte Person"),
    ];
    let admin = directory::find_staff_by_login(&app.db, "admin").await.expect("db").expect("admin");
    let actor = directory::actor_for_staff(&app.db, admin.id).await.expect("db").expect("actor");
    let calendar = std::sync::Arc::new(app.settings.holiday_calendar());
    let writer = Writer::start(WriterDeps {
        db: app.db.clone(),
        clock: app.clock.clone(),
        calendar: calendar.clone(),
        tz: Berlin,
        mail_domain: "example.org".into(),
        counsellors: CounsellorCache::off(),
    })
    .expect("the writer's thread");
    let nudge = terminbuch::mail::Nudge::default();
    let counsellors = CounsellorCache::off();
    let book = Book {
        db: &app.db,
        search_db: &app.db,
        clock: &app.clock,
        calendar: &calendar,
        tz: Berlin,
        mail: &nudge,
        mail_domain: "example.org",
        counsellors: &counsellors,
        listed: &terminbuch::services::bookings::ListedSlots::off(),
        writer: writer.as_ref(),
        booking_pool: None,
    };

    // Act: while another write holds the database (SQLite), every booking joins the writer's
    // queue; released, the writer takes them all into one transaction.
    let turn = store::write_turn(&app.db);
    let held = match &turn {
        Some(turn) => Some(turn.lock().await),
        None => None,
    };
    let all = join_all(requests.iter().map(|new| bookings::create(book, &actor, new.clone())));
    tokio::pin!(all);
    assert!(futures_util::poll!(&mut all).is_pending(), "nothing is answered before the commit");
    drop(held);
    let outcomes = all.await;

    // Assert: statuses in order, then the rows.
    let summary: Vec<&str> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(_) => "booked",
            Err(ServiceError::Conflict { clash, .. }) => clash.code(),
            Err(ServiceError::Rule(refusal)) => refusal.code(),
            Err(_) => "other error",
        })
        .collect();
    for (i, outcome) in [(0, "booked"), (2, "counsellor_absent"), (4, "booked"), (6, "booked")] {
        assert_eq!(summary[i], outcome, "request {i} of {summary:?}");
    }
    let last_seat_outcomes = [summary[1], summary[3], summary[5]];
    let won = last_seat_outcomes.iter().filter(|s| **s == "booked").count();
    let lost = last_seat_outcomes.iter().filter(|s| **s == "slot_taken").count();
    assert_eq!((won, lost), (1, 2), "the last seat is booked once: {summary:?}");
    if turn.is_some() {
        assert_eq!(summary[1], "booked", "one group is written in the order the bookings came: {summary:?}");
    }
    for booking in outcomes.iter().filter_map(|o| o.as_ref().ok()) {
        let response = app.get_booking(&booking.id.to_string()).await;
        assert_eq!(response.status(), StatusCode::OK, "booking {} is stored", booking.id);
    }
    let slots = [distinct[0], distinct[1], distinct[2], last_seat, in_absence.expect("a slot")];
    let slots = slots.map(|id| id.to_string()).join(",");
    let bookings = format!("SELECT id FROM bookings WHERE slot_id IN ({slots})");
    assert_eq!(count(&app, &format!("SELECT COUNT(*) AS n FROM ({bookings}) b")).await, 4);
    assert_eq!(count(&app, &format!("SELECT SUM(booked_count) AS n FROM slots WHERE id IN ({slots})")).await, 4);
    let events =
        format!("SELECT COUNT(*) AS n FROM booking_events WHERE kind = 'created' AND booking_id IN ({bookings})");
    assert_eq!(count(&app, &events).await, 4, "each booking with its event");
    let emails = format!("SELECT COUNT(*) AS n FROM outbox_messages WHERE booking_id IN ({bookings})");
    assert_eq!(count(&app, &emails).await, 4, "each booking with its confirmation");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM outbox_messages").await, 4, "no email of a refusal");

    // Act and assert, one at a time (a group of one each, written without a savepoint): a refusal
    // leaves nothing, a booking is stored with its event and email, the same seat again is taken.
    let alone = |id: i64| bookings::create(book, &actor, new_booking(id, "Achte Person"));
    let refused = alone(in_absence.expect("a slot")).await;
    assert!(matches!(refused, Err(ServiceError::Rule(_))), "an absence refuses: {refused:?}");
    let booked = alone(free[4]).await.expect("a free slot alone is booked");
    let again = alone(free[4]).await;
    assert!(matches!(&again, Err(ServiceError::Conflict { clash, .. }) if clash.code() == "slot_taken"), "{again:?}");
    assert_eq!(app.get_booking(&booked.id.to_string()).await.status(), StatusCode::OK, "the booking alone is stored");
    let eighth = "SELECT id FROM bookings WHERE citizen_name = 'Achte Person'";
    assert_eq!(count(&app, &format!("SELECT COUNT(*) AS n FROM ({eighth}) b")).await, 1);
    let its_events = format!("SELECT COUNT(*) AS n FROM booking_events WHERE booking_id IN ({eighth})");
    assert_eq!(count(&app, &its_events).await, 1, "the booking alone with its event");
    assert_eq!(
        count(&app, &format!("SELECT CAST(booked_count AS BIGINT) AS n FROM slots WHERE id = {}", free[4])).await,
        1
    );
    let seats = format!("SELECT SUM(booked_count) AS n FROM slots WHERE id IN ({slots})");
    assert_eq!(count(&app, &seats).await, 4, "the refusal alone took no seat");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM outbox_messages").await, 5, "one more email, none for refusals");
}
