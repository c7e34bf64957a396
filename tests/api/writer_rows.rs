//! The rows a booking of a stored slot stores are the rows the pool stores: on SQLite the booking
//! writer writes them through a connection of its own (rusqlite, `store::sqlite_direct`), an
//! ad-hoc booking through sqlx. Column by column, in every table a booking writes, the values
//! have the same storage types, and on SQLite the times the same text format (SQLite compares
//! times as text, so a second format would sort wrongly). On PostgreSQL both go through sqlx.

use chrono::DateTime;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn citizen() -> Value {
    json!({ "name": "Ayşe Demir", "email": "ayse@example.org", "phone": "0511 987654", "language": "tr" })
}

async fn book(app: &TestApp, mut body: Value) -> String {
    body["citizen"] = citizen();
    body["email_consent"] = json!(true);
    body["channel"] = json!("phone");
    body["note"] = json!("Rückruf erbeten");
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.expect("json");
    booking["id"].as_str().expect("id").to_owned()
}

/// Each column of the row of `table` selected by `filter` (with `?` for the booking's id as
/// stored, `$` for its text) as
/// (name, storage type, value as text).
async fn row(app: &TestApp, table: &str, columns: &[&str], filter: &str, id: &str) -> Vec<(String, String, String)> {
    let backend = app.db.get_database_backend();
    let (key, selected): (_, Vec<String>) = match backend {
        DbBackend::Postgres => (
            format!("'{id}'::uuid"),
            columns.iter().map(|c| format!("pg_typeof({c})::text AS {c}_type, CAST({c} AS TEXT) AS {c}_text")).collect(),
        ),
        _ => (
            format!("x'{}'", id.replace('-', "")),
            columns
                .iter()
                .map(|c| {
                    format!("typeof({c}) AS {c}_type, CASE typeof({c}) WHEN 'blob' THEN hex({c}) ELSE CAST({c} AS TEXT) END AS {c}_text")
                })
                .collect(),
        ),
    };
    let filter = filter.replace('?', &key).replace('$', id);
    let sql = format!("SELECT {} FROM {table} WHERE {filter} LIMIT 1", selected.join(", "));
    let found = app.db.query_one_raw(Statement::from_string(backend, sql)).await.expect("query").expect("a row");
    columns
        .iter()
        .map(|c| {
            let kind: String = found.try_get("", &format!("{c}_type")).expect("type");
            let value: Option<String> = found.try_get("", &format!("{c}_text")).expect("text");
            ((*c).to_owned(), kind, value.unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn a_booking_of_a_slot_stores_its_rows_as_an_adhoc_booking_through_the_pool_does() {
    // Arrange: two free slots at different times.
    let app = spawn_app().await;
    let free = app.free_slots("ads", "limit=40").await;
    let first = &free[0];
    let other = free.iter().find(|s| s["starts_at"] != first["starts_at"]).expect("a slot at another time");

    // Act: a stored slot (SQLite: the writer's own connection) and an ad-hoc time (the pool).
    let by_writer = book(&app, json!({ "slot_id": first["slot_id"] })).await;
    let adhoc = json!({
        "unit": "ads",
        "counsellor": other["counsellor"]["id"],
        "starts_at": other["starts_at"],
        "duration_minutes": 30,
    });
    let by_pool = book(&app, adhoc).await;

    // Assert
    let tables: [(&str, &[&str], &str); 4] = [
        (
            "bookings",
            &[
                "id",
                "reference",
                "unit_id",
                "slot_id",
                "starts_at",
                "ends_at",
                "status",
                "channel",
                "citizen_name",
                "citizen_email",
                "citizen_phone",
                "citizen_language",
                "email_consent",
                "note",
                "sequence",
                "created_at",
                "created_by",
                "updated_at",
                "search_name",
                "search_phone",
            ],
            "id = ?",
        ),
        ("booking_events", &["id", "booking_id", "at", "actor_id", "kind", "detail"], "booking_id = ?"),
        (
            "outbox_messages",
            &[
                "id",
                "booking_id",
                "kind",
                "state",
                "recipient",
                "message_id",
                "starts_at",
                "next_attempt_at",
                "created_at",
            ],
            "booking_id = ?",
        ),
        (
            "audit_events",
            &["id", "at", "actor_id", "action", "unit_id", "booking_ids", "target"],
            "booking_ids LIKE '%$%'",
        ),
    ];
    for (table, columns, filter) in tables {
        let written = row(&app, table, columns, filter, &by_writer).await;
        let pooled = row(&app, table, columns, filter, &by_pool).await;
        for ((column, kind, value), (_, pooled_kind, pooled_value)) in written.iter().zip(&pooled) {
            assert_eq!(kind, pooled_kind, "{table}.{column}: {value:?} against {pooled_value:?}");
            assert_ne!(kind, "null", "{table}.{column} is set");
            if app.db.get_database_backend() == DbBackend::Sqlite && (column.ends_with("_at") || column == "at") {
                assert!(DateTime::parse_from_rfc3339(value).is_ok(), "{table}.{column}: {value}");
                assert_eq!(value.len(), pooled_value.len(), "{table}.{column}: {value} against {pooled_value}");
                assert_eq!(&value[10..11], "T", "{table}.{column}: {value}");
            }
        }
    }
}
