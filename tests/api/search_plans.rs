//! The free-slot search's page statement runs on PostgreSQL on a pool of its own whose
//! connections plan it generically (`store::search_pool`), in the schema of the service's pool;
//! the service's other statements keep PostgreSQL's default. SQLite has one pool.

use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use terminbuch::domain::ids::StaffId;
use terminbuch::store::blocking::{PageQuery, free_page};
use terminbuch::store::{SEARCH_APPLICATION_NAME, search_pool};

use crate::helpers::{TestApp, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_slot_search_runs_on_a_pool_of_its_own_that_plans_it_generically() {
    let app = spawn_app().await;
    let Some(search) = search_pool(&app.db).await.expect("the search's pool") else {
        assert!(!app.is_postgres(), "PostgreSQL has a pool for the search");
        assert!(!app.free_slots("ads", "limit=3").await.is_empty(), "SQLite searches on its one pool");
        return;
    };
    assert_eq!(setting(&search, "current_schema()").await, setting(&app.db, "current_schema()").await);
    assert_eq!(setting(&search, "current_setting('plan_cache_mode')").await, "force_generic_plan");
    assert_eq!(setting(&app.db, "current_setting('plan_cache_mode')").await, "auto");
    assert_eq!(setting(&search, "current_setting('application_name')").await, SEARCH_APPLICATION_NAME);

    // The page statement's first execution: planned for its values on a pool of the service's
    // kind, generically on the search's.
    let service_kind = app.another_pool().await;
    assert_eq!(plans_of_one_page(&app, &service_kind).await, (0, 1), "generic, custom plans by default");
    assert_eq!(plans_of_one_page(&app, &search).await, (1, 0), "generic, custom plans on the search's pool");

    // The service's own search goes through its search pool: with `slots` locked, the page
    // statement waits on a connection named as the search's.
    let lock = app.db.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE slots IN ACCESS EXCLUSIVE MODE").await.expect("lock");
    let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
    let searching = tokio::spawn(async move {
        let url = format!("{address}/api/v1/units/ads/free-slots?limit=3");
        client.get(url).bearer_auth(token).send().await.expect("send")
    });
    app.until_waiting_for_a_lock("WITH page AS%", &searching).await;
    let waiting = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT string_agg(DISTINCT application_name, ',') AS names FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH page AS%'",
        ))
        .await
        .expect("pg_stat_activity")
        .and_then(|row| row.try_get::<String>("", "names").ok());
    lock.commit().await.expect("release");
    assert_eq!(waiting.as_deref(), Some(SEARCH_APPLICATION_NAME));
    let response = searching.await.expect("task");
    assert_eq!(response.status(), StatusCode::OK);
    let slots: Vec<serde_json::Value> = response.json().await.expect("json");
    assert_eq!(slots.len(), 3, "the search answers once the lock is gone");
}

/// `SELECT <expression>` on `db`, as text.
async fn setting(db: &DatabaseConnection, expression: &str) -> String {
    let sql = format!("SELECT {expression}::text AS value");
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.expect("query").expect("row");
    row.try_get("", "value").expect("value")
}

/// Runs one page of the search for unit `ads` on `db`, then counts the generic and custom plans
/// of its prepared page statement on the same connection.
async fn plans_of_one_page(app: &TestApp, db: &DatabaseConnection) -> (i64, i64) {
    let ids = Statement::from_string(
        DbBackend::Postgres,
        "SELECT DISTINCT s.unit_id AS unit, s.counsellor_id AS counsellor FROM slots s \
         JOIN units u ON u.id = s.unit_id WHERE u.slug = 'ads'",
    );
    let rows = app.db.query_all_raw(ids).await.expect("ids");
    assert!(!rows.is_empty(), "unit ads has slots");
    let counsellors: Vec<StaffId> =
        rows.iter().map(|row| StaffId::new(row.try_get("", "counsellor").expect("counsellor"))).collect();
    let unit_id: i32 = rows[0].try_get("", "unit").expect("unit");
    let now = Utc::now();
    let query = PageQuery {
        unit_id,
        counsellor_ids: &counsellors,
        from: now,
        to: now + TimeDelta::days(28),
        after: None,
        page: 30,
    };
    // A transaction keeps to one connection, whose prepared statements `pg_prepared_statements` shows.
    let txn = db.begin().await.expect("begin");
    free_page(&txn, query).await.expect("a page");
    let plans = Statement::from_string(
        DbBackend::Postgres,
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE 'WITH page AS%'",
    );
    let row = txn.query_one_raw(plans).await.expect("plans").expect("the page statement is prepared");
    txn.rollback().await.expect("rollback");
    (row.try_get("", "generic_plans").expect("generic"), row.try_get("", "custom_plans").expect("custom"))
}
