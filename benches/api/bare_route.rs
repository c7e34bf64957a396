//! One client: the same-work ceiling's booking behind a bare HTTP route, to tell what the HTTP
//! exchange and the runtime cost from what the service's own work costs. The route is an axum
//! handler on a server of its own in the bench's runtime, reached with the service's request body
//! by a client configured as the bench's (one of its own, whose connection closes with it). It has
//! no authentication, no rules and no rows to build, and answers 201 with the booking's id.
//!
//! SQLite: it runs [`ceilings::same_work_booking`] for the slot named in the body, two ways:
//! - `Hand::Writer`: the request hands the booking to a thread with its own connection (a queue
//!   in, a one-shot channel out), as the service's booking writer does;
//! - `Hand::Request`: the request runs it itself, blocking its runtime worker for the transaction
//!   and its `fsync` (the service does not do that; this shows what the hand-over costs).
//!
//! PostgreSQL ([`measure_pg`]): the request runs pgbench's same-work statement
//! (`benches/pgbench_booking.sql`, prepared) on one connection of its own, as the service runs its
//! one statement from the request.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::ensure;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use entity::slot;
use rusqlite::Connection;
use sea_orm::DatabaseConnection;
use sqlx::Connection as _;
use tokio::sync::{mpsc, oneshot};

use super::{Run, ceilings, run_concurrently};

/// Who runs the booking's transaction.
#[derive(Clone, Copy)]
pub enum Hand {
    Writer,
    Request,
}

struct Job {
    slot_id: i32,
    answer: oneshot::Sender<Result<String, String>>,
}

#[derive(Clone)]
struct Route {
    writes: Writes,
    slots: Arc<HashMap<i32, slot::Model>>,
    actor: i32,
}

/// Where the route's bookings are written ([`Hand`]).
#[derive(Clone)]
enum Writes {
    /// Handed to the writer thread's queue.
    Thread(mpsc::Sender<Job>),
    /// Run by the request on this connection.
    Request(Arc<Mutex<Connection>>),
}

/// Books `slots` one after the other through the bare route.
pub async fn measure(db_file: &Path, slots: Vec<slot::Model>, actor: i32, hand: Hand) -> anyhow::Result<Run> {
    let ids: Vec<i32> = slots.iter().map(|slot| slot.id).collect();
    let slots: Arc<HashMap<i32, slot::Model>> = Arc::new(slots.into_iter().map(|slot| (slot.id, slot)).collect());
    let connection = ceilings::open(db_file)?;
    let writes = match hand {
        Hand::Request => Writes::Request(Arc::new(Mutex::new(connection))),
        Hand::Writer => {
            let (jobs, mut queue) = mpsc::channel::<Job>(1024);
            let writer_slots = Arc::clone(&slots);
            // The thread ends when the route (the last sender) is dropped with the server.
            std::thread::spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    let booked = ceilings::same_work_booking(&connection, &writer_slots[&job.slot_id], actor);
                    let _ = job.answer.send(booked.map_err(|err| err.to_string()));
                }
            });
            Writes::Thread(jobs)
        }
    };
    let route = Route { writes, slots, actor };
    serve_and_book(Router::new().route("/book", post(book)).with_state(route), ids).await
}

/// PostgreSQL: books `slots` one after the other through the bare route, which runs the
/// same-work statement on a connection of its own (the statement takes the next slot of the
/// list, in the order the client names them).
pub async fn measure_pg(
    db: &DatabaseConnection,
    url: &str,
    slots: Vec<slot::Model>,
    actor: i32,
) -> anyhow::Result<Run> {
    ceilings::load_free_slots(db, &slots).await?;
    // Read once per process: sqlx takes a statement's text as `&'static str`.
    static STATEMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if STATEMENT.get().is_none() {
        let _ = STATEMENT.set(ceilings::pg_same_work_statement()?);
    }
    let statement = STATEMENT.get().map(String::as_str).unwrap_or_default();
    let connection = sqlx::PgConnection::connect(url).await?;
    let route = PgRoute { connection: Arc::new(tokio::sync::Mutex::new(connection)), statement, actor };
    let ids = slots.iter().map(|slot| slot.id).collect();
    serve_and_book(Router::new().route("/book", post(book_pg)).with_state(route), ids).await
}

#[derive(Clone)]
struct PgRoute {
    connection: Arc<tokio::sync::Mutex<sqlx::PgConnection>>,
    statement: &'static str,
    actor: i32,
}

async fn book_pg(
    State(route): State<PgRoute>,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    let Some(slot_id) = body["slot_id"].as_i64() else {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "no slot_id" })));
    };
    let mut connection = route.connection.lock().await;
    match sqlx::query(route.statement).bind(route.actor).execute(&mut *connection).await {
        Ok(done) if done.rows_affected() == 1 => (StatusCode::CREATED, Json(serde_json::json!({ "slot_id": slot_id }))),
        Ok(_) => (StatusCode::CONFLICT, Json(serde_json::json!({ "error": "no seat" }))),
        Err(err) => (StatusCode::CONFLICT, Json(serde_json::json!({ "error": err.to_string() }))),
    }
}

/// Serves `app` on a port of its own and books `ids` through it, one after the other, with a
/// client configured as the bench's. The client is dropped at the end, and its kept-alive
/// connection with it, so the server's connection task ends too and with it the route's state:
/// its writer thread and its database connections.
async fn serve_and_book(app: Router, ids: Vec<i32>) -> anyhow::Result<Run> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/book", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let run = run_concurrently(ids, 1, move |&slot_id| {
        let request = client.post(&url).json(&super::booking_body(slot_id));
        async move {
            let response = request.send().await?;
            let status = response.status();
            let text = response.text().await?;
            ensure!(status == reqwest::StatusCode::CREATED, "bare route (slot {slot_id}): {status}: {text}");
            Ok(())
        }
    })
    .await;
    server.abort();
    run
}

async fn book(
    State(route): State<Route>,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    let slot_id = body["slot_id"].as_i64().and_then(|id| i32::try_from(id).ok());
    let Some(slot) = slot_id.and_then(|id| route.slots.get(&id)) else {
        return (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "no such slot" })));
    };
    let booked = match &route.writes {
        Writes::Request(connection) => {
            let connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            ceilings::same_work_booking(&connection, slot, route.actor).map_err(|err| err.to_string())
        }
        Writes::Thread(jobs) => {
            let (answer, answered) = oneshot::channel();
            match jobs.send(Job { slot_id: slot.id, answer }).await {
                Ok(()) => answered.await.unwrap_or_else(|_| Err("the writer thread ended".into())),
                Err(_) => Err("the writer thread ended".into()),
            }
        }
    };
    match booked {
        Ok(id) => (StatusCode::CREATED, Json(serde_json::json!({ "id": id, "slot_id": slot.id }))),
        Err(err) => (StatusCode::CONFLICT, Json(serde_json::json!({ "error": err }))),
    }
}

/// The bare route's figures, each `way` with its rate, p50 and share of the same-work ceiling,
/// and the service's share of the first way (the service's own way of writing).
pub fn report(report: &mut super::Report, name: &str, service: &Run, same_work: &Run, ways: &[(&str, &Run)]) {
    let ceiling = same_work.throughput();
    for (way, run) in ways {
        let label = format!("booking creation c=1: bare HTTP route with the same-work SQL, {way}");
        report.info(name, &format!("{label}: bookings/s"), run.throughput());
        report.info(name, &format!("{label}: p50, ms"), run.latencies.p50_ms());
        report.share(name, &format!("{label}: share of the same-work ceiling"), run.throughput(), ceiling);
    }
    if let Some((way, run)) = ways.first() {
        let figure = format!("booking creation c=1: service's share of the bare route {way}");
        report.share(name, &figure, service.throughput(), run.throughput());
    }
}
