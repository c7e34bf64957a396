//! The write of a booking of a stored slot (PostgreSQL: one statement around `take_seat`; SQLite:
//! the writer's transaction): a booking that waits for a new absence's lock is refused once the
//! absence commits, a refusal leaves no row behind, and (PostgreSQL) a slot that changed after it
//! was read takes no seat.

use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set, Statement};
use serde_json::{Value, json};
use terminbuch::domain::history::{Created, Reason};
use terminbuch::domain::ids::{SlotId, StaffId};
use terminbuch::domain::reference::Reference;
use terminbuch::store::booking_pool::BookingPool;
use terminbuch::store::bookings::{self, Seat};
use terminbuch::store::schedule::{self, Scope};
use terminbuch::store::{self, StoreError, slots};

use crate::helpers::{TestApp, booking_body, spawn_app};

/// Rows a booking writes, counted over the whole database, and the seats taken of `slot_id`.
async fn written(app: &TestApp, slot_id: i64) -> Vec<i64> {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM bookings) AS bookings, (SELECT COUNT(*) FROM booking_events) AS events, \
         (SELECT COUNT(*) FROM audit_events WHERE action = 'booking_created') AS audits, \
         (SELECT COUNT(*) FROM outbox_messages) AS emails, \
         (SELECT CAST(booked_count AS BIGINT) FROM slots WHERE id = {slot_id}) AS seats"
    );
    let backend = app.db.get_database_backend();
    let row = app.db.query_one_raw(Statement::from_string(backend, sql)).await.expect("count").expect("row");
    ["bookings", "events", "audits", "emails", "seats"].iter().map(|c| row.try_get::<i64>("", c).expect(c)).collect()
}

fn with_email(slot_id: i64) -> Value {
    let mut body = booking_body(slot_id);
    body["citizen"]["email"] = json!("ayse.demir@example.org");
    body["email_consent"] = json!(true);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_waiting_for_a_new_absences_lock_is_refused_once_the_absence_commits() {
    let app = spawn_app().await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let slot = app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await.remove(0);
    let slot_id = slot["slot_id"].as_i64().expect("slot id");
    let stored =
        slots::find(&app.db, SlotId::new(i32::try_from(slot_id).expect("i32"))).await.expect("db").expect("slot");
    let before = written(&app, slot_id).await;

    // The absence's transaction as the service runs it: the counsellor's scope and the covered
    // slots locked, the absence written, not yet committed.
    let staff = StaffId::new(i32::try_from(counsellor).expect("i32"));
    let span = (stored.starts_at - chrono::TimeDelta::hours(1), stored.ends_at + chrono::TimeDelta::hours(1));
    let absence = store::begin_write(&app.db).await.expect("begin");
    schedule::lock_scope(&absence, Scope::Counsellor(staff), Some(span)).await.expect("lock");
    let now = app.clock.now();
    schedule::insert_absence(&absence, staff, span.0, span.1, "krank", StaffId::new(1), now).await.expect("absence");

    let booking = tokio::spawn({
        let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
        let body = with_email(slot_id);
        async move { client.post(format!("{address}/api/v1/bookings")).bearer_auth(token).json(&body).send().await }
    });
    if app.is_postgres() {
        // Exact: the booking's statement has begun and waits for the slot's row lock (its text
        // begins with the inserts; `take_seat` is past what `pg_stat_activity` keeps of it).
        app.until_waiting_for_a_lock("WITH %created_booking%", &booking).await;
    }
    // SQLite: the absence holds the file's write turn, so the writer cannot begin before it
    // commits, however far the request has come.
    assert!(!booking.is_finished(), "the booking waits while the absence's transaction is open");
    absence.commit().await.expect("commit");

    let response = booking.await.expect("task").expect("response");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.expect("json");
    assert_eq!(problem["code"], "counsellor_absent", "{problem}");
    assert_eq!(written(&app, slot_id).await, before, "no booking, event, audit record, email or seat");
}

#[tokio::test]
async fn a_refused_booking_leaves_no_row_and_a_free_one_writes_all_of_them_at_once() {
    let app = spawn_app().await;
    let free = app.free_slots("ads", "limit=2").await;
    let closed = free[0]["slot_id"].as_i64().expect("id");
    // The next slot after the closed one's time (others of that time are closed too).
    let later =
        app.free_slots("ads", &format!("from={}&limit=50", &free[0]["ends_at"].as_str().expect("end")[..10])).await;
    let open = later
        .iter()
        .find(|s| s["starts_at"].as_str() >= free[0]["ends_at"].as_str())
        .and_then(|s| s["slot_id"].as_i64())
        .expect("a later slot");
    let stored =
        slots::find(&app.db, SlotId::new(i32::try_from(closed).expect("i32"))).await.expect("db").expect("slot");
    let now = app.clock.now();
    let unit = Some(stored.unit_id);
    schedule::insert_closure(&app.db, unit, stored.starts_at, stored.ends_at, "Betriebsausflug", StaffId::new(1), now)
        .await
        .expect("closure");
    let before = written(&app, closed).await;

    let refused = app.post_booking(&with_email(closed)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json::<Value>().await.expect("json")["code"], "unit_closed");
    assert_eq!(written(&app, closed).await, before, "nothing of the refused booking");

    let booked = app.post_booking(&with_email(open)).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let booked_id = booked.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    let after = written(&app, open).await;
    assert_eq!(after[..4], [before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1], "all four rows");
    assert_eq!(after[4], 1, "the seat");

    if app.is_postgres() {
        // The statement's own guard: a slot read before its counsellor changed takes no seat.
        let mut changed =
            slots::find(&app.db, SlotId::new(i32::try_from(open).expect("i32"))).await.expect("db").expect("slot");
        changed.counsellor_id = StaffId::new(changed.counsellor_id.get() + 1);
        let id = booked_id.parse().expect("uuid");
        let mut copy = bookings::find(&app.db, id).await.expect("db").expect("booking");
        copy.id = uuid::Uuid::now_v7();
        copy.reference = Reference::generate(&mut rand::rng());
        let created = Created {
            slot_id: changed.id,
            starts_at: changed.starts_at,
            ends_at: changed.ends_at,
            adhoc: false,
            channel: copy.channel,
            override_reason: Reason::from(None),
        };
        let seat = Seat { slot: &changed, check_unblocked: true };
        let outcome = bookings::insert_taking_seat(&app.db, seat, &copy, created, Vec::new()).await;
        assert!(matches!(outcome, Err(StoreError::SeatNotAsRead)), "{outcome:?}");
        assert_eq!(written(&app, open).await, after, "nothing of the statement");
    }
}

/// Books `slot_id` as the admin. On PostgreSQL the table `slots` is locked exclusively first, so
/// that the booking's first statement that touches slots waits: it must be one whose text is
/// like `first_like` (in `pg_stat_activity`); then the lock is released and the answer returned.
async fn book_with_first_statement(app: &TestApp, slot_id: i64, first_like: &str) -> reqwest::Response {
    use sea_orm::TransactionTrait;
    let lock = if app.is_postgres() {
        let txn = app.db.begin().await.expect("begin");
        txn.execute_unprepared("LOCK TABLE slots IN ACCESS EXCLUSIVE MODE").await.expect("lock");
        Some(txn)
    } else {
        None
    };
    let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
    let body = booking_body(slot_id);
    let booking = tokio::spawn(async move {
        client.post(format!("{address}/api/v1/bookings")).bearer_auth(token).json(&body).send().await.expect("send")
    });
    if let Some(lock) = lock {
        app.until_waiting_for_a_lock(first_like, &booking).await;
        lock.commit().await.expect("release");
    }
    booking.await.expect("task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_the_search_listed_is_booked_in_one_statement_and_a_slot_not_listed_is_read_first() {
    let app = spawn_app().await;
    let slot_id = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("slot id");
    let before = written(&app, slot_id).await;

    // Listed: the booking's first statement is its one write (PostgreSQL).
    let response = book_with_first_statement(&app, slot_id, "WITH %created_booking%").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let after = written(&app, slot_id).await;
    assert_eq!(after[..3], [before[0] + 1, before[1] + 1, before[2] + 1], "booking, event, audit record");
    assert_eq!(after[4], 1, "the seat");

    // The booking took the slot off the list: booked again, it is read first, and found full.
    let response = book_with_first_statement(&app, slot_id, "SELECT % FROM \"slots\" WHERE%").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.json::<Value>().await.expect("json")["code"], "slot_taken");
    assert_eq!(written(&app, slot_id).await, after, "nothing more");
}

#[tokio::test]
async fn a_slot_changed_or_taken_after_the_search_listed_it_is_booked_as_it_is_now() {
    let app = spawn_app().await;
    let listed = app.free_slots("ads", "limit=2").await;
    let [moved, taken] = [&listed[0], &listed[1]].map(|s| s["slot_id"].as_i64().expect("slot id"));
    // A change of hours after the search: the first slot starts and ends ten minutes later, and
    // the second slot's only seat is taken by another process.
    let ten = chrono::TimeDelta::minutes(10);
    let model = entity::slot::Entity::find_by_id(i32::try_from(moved).expect("i32"))
        .one(&app.db)
        .await
        .expect("db")
        .expect("slot");
    let (starts_at, ends_at) = (model.starts_at + ten, model.ends_at + ten);
    let mut shifted = model.into_active_model();
    shifted.starts_at = Set(starts_at);
    shifted.ends_at = Set(ends_at);
    // Off its rule, with one of two seats taken. A refresh of the slot horizon would retire it (a
    // 404 then); the test apps start after the server's first refresh (`helpers::spawn_on`), and
    // the next is six hours away.
    shifted.rule_id = Set(None);
    shifted.capacity = Set(2);
    shifted.booked_count = Set(1);
    shifted.update(&app.db).await.expect("move");
    let backend = app.db.get_database_backend();
    let take = format!("UPDATE slots SET booked_count = capacity WHERE id = {taken}");
    app.db.execute_raw(Statement::from_string(backend, take)).await.expect("take");
    let now = slots::find(&app.db, SlotId::new(i32::try_from(moved).expect("i32"))).await.expect("db").expect("slot");
    let listed_start: chrono::DateTime<chrono::Utc> =
        listed[0]["starts_at"].as_str().expect("start").parse().expect("a time");
    assert_eq!(now.starts_at, listed_start + ten, "the slot moved");

    let booked = app.post_booking(&booking_body(moved)).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let booking: Value = booked.json().await.expect("json");
    let starts_at: chrono::DateTime<chrono::Utc> = booking["starts_at"].as_str().expect("start").parse().expect("time");
    assert_eq!(starts_at, now.starts_at, "the time as it is now, not as listed");
    let id = booking["id"].as_str().expect("id").parse().expect("uuid");
    let stored = bookings::find(&app.db, id).await.expect("db").expect("booking");
    assert_eq!((stored.starts_at, stored.ends_at), (now.starts_at, now.ends_at), "stored as it is now");

    let refused = app.post_booking(&booking_body(taken)).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(refused.json::<Value>().await.expect("json")["code"], "slot_taken");
    assert_eq!(written(&app, taken).await[4], 1, "the one seat, taken by the other process only");
}

/// Server processes that ran the pool's statements at `steps` (see the test below).
async fn processes(app: &TestApp, steps: std::ops::RangeInclusive<i32>) -> Vec<i32> {
    let sql = "SELECT DISTINCT pid FROM pool_visits WHERE step BETWEEN $1 AND $2 ORDER BY pid";
    let statement = Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        sql,
        [(*steps.start()).into(), (*steps.end()).into()],
    );
    let rows = app.db.query_all_raw(statement).await.expect("visits");
    rows.iter().map(|row| row.try_get::<i32>("", "pid").expect("pid")).collect()
}

/// The booking pool of `app` with a table `pool_visits` for its statements to record their
/// server process in; `None` on SQLite, where there is no such pool (asserted).
async fn pool_with_visits(app: &TestApp) -> Option<BookingPool> {
    let pool = BookingPool::for_db(&app.db).await.expect("the pool");
    if !app.is_postgres() {
        assert!(pool.is_none(), "SQLite's bookings go through the writer's own connection");
        return None;
    }
    app.db.execute_unprepared("CREATE TABLE pool_visits (pid INT NOT NULL, step INT NOT NULL)").await.expect("table");
    Some(pool.expect("a pool on PostgreSQL"))
}

/// One statement that records the server process it ran on (as step `step`), after `pause`
/// seconds.
fn visit(step: i32, pause: f64) -> Statement {
    let sql = "INSERT INTO pool_visits SELECT pg_backend_pid(), $1 FROM pg_sleep($2)";
    Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, [step.into(), pause.into()])
}

/// `connections` statements at once (step 0, 0.3 s each), so that each runs on a connection of
/// its own.
async fn burst(pool: &BookingPool, connections: usize) {
    let statements = (0..connections).map(|_| pool.run(visit(0, 0.3)));
    for outcome in futures_util::future::join_all(statements).await {
        outcome.expect("a statement of the burst");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_booking_pool_hands_out_the_connection_returned_last_and_replaces_a_lost_one() {
    let app = spawn_app().await;
    let Some(pool) = pool_with_visits(&app).await else { return };
    // Arrange: four statements at once open four connections.
    burst(&pool, 4).await;
    assert_eq!(processes(&app, 0..=0).await.len(), 4, "four server processes");
    assert_eq!(pool.open_connections(), 4);

    // Act: ten statements one after another.
    for step in 1..=10 {
        pool.run(visit(step, 0.0)).await.expect("a statement");
    }

    // Assert: all ten ran on one server process, the one returned last; sqlx's pool would have
    // handed out each of the four in turn.
    let one = processes(&app, 1..=10).await;
    assert_eq!(one.len(), 1, "one server process for one client: {one:?}");

    // A lost connection (its server process ended): the statement on it fails as `Busy` (503),
    // nothing is written, the idle connections are closed with it, and the next statement runs
    // on a new connection.
    let ended = Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_terminate_backend(pid, 5000) AS ended FROM unnest($1::int[]) AS pid",
        [one.clone().into()],
    );
    app.db.query_one_raw(ended).await.expect("terminate").expect("row");
    let lost = pool.run(visit(11, 0.0)).await;
    assert!(matches!(lost, Err(StoreError::Busy)), "{lost:?}");
    assert!(processes(&app, 11..=11).await.is_empty(), "nothing written");
    assert_eq!(pool.open_connections(), 0, "the idle connections are closed too");
    pool.run(visit(12, 0.0)).await.expect("a statement on a new connection");
    let new = processes(&app, 12..=12).await;
    assert_eq!(new.len(), 1);
    assert!(!processes(&app, 0..=10).await.contains(&new[0]), "a new server process");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_statement_cancelled_before_its_answer_closes_its_connection() {
    use sea_orm::TransactionTrait;
    let app = spawn_app().await;
    let Some(pool) = pool_with_visits(&app).await else { return };
    pool.run(visit(0, 0.0)).await.expect("a first statement");
    let first = processes(&app, 0..=0).await;
    assert_eq!(pool.open_connections(), 1);

    // Act: the next statement waits for a lock, and its request is cancelled meanwhile (as when
    // the client goes away).
    let lock = app.db.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE pool_visits IN ACCESS EXCLUSIVE MODE").await.expect("lock");
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move { pool.run(visit(1, 0.0)).await }
    });
    app.until_waiting_for_a_lock("INSERT INTO pool_visits%", &waiting).await;
    waiting.abort();
    assert!(waiting.await.expect_err("cancelled").is_cancelled());

    // Assert: its connection is closed, not returned with the answer unread; the next statement
    // runs on a new one.
    assert_eq!(pool.open_connections(), 0, "the cancelled statement's connection is closed");
    lock.commit().await.expect("release");
    pool.run(visit(2, 0.0)).await.expect("a statement on a new connection");
    let new = processes(&app, 2..=2).await;
    assert_eq!(new.len(), 1);
    assert_ne!(new, first, "a new server process");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_booking_pool_closes_the_connections_unused_since_the_cutoff_and_keeps_the_others() {
    let app = spawn_app().await;
    let Some(pool) = pool_with_visits(&app).await else { return };
    // Arrange: a burst opens three connections; after the cutoff one of them is used again.
    burst(&pool, 3).await;
    let opened = processes(&app, 0..=0).await;
    assert_eq!(opened.len(), 3);
    let cutoff = std::time::Instant::now();
    pool.run(visit(1, 0.0)).await.expect("a statement after the cutoff");
    let used = processes(&app, 1..=1).await;

    // Act
    let closed = pool.close_unused_since(cutoff).await;

    // Assert: the two unused ones are closed, in the pool and on the server; the one used after
    // the cutoff stays and runs the next statement.
    assert_eq!(closed, 2);
    assert_eq!(pool.open_connections(), 1);
    let alive = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = ANY($1)";
    let mut on_server = 0;
    for _ in 0..1000 {
        let poll = Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, alive, [opened.clone().into()]);
        let row = app.db.query_one_raw(poll).await.expect("activity").expect("row");
        on_server = row.try_get::<i64>("", "n").expect("n");
        if on_server == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(on_server, 1, "the server ended the two closed sessions");
    pool.run(visit(2, 0.0)).await.expect("a statement");
    assert_eq!(processes(&app, 2..=2).await, used, "the kept connection");
    assert_eq!(pool.close_unused_since(cutoff).await, 0, "used since the cutoff: kept");
}
