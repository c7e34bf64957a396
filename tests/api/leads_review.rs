//! What unit leads do, attacked: two leads changing the same counselling hours at once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::ids::RuleId;

use crate::helpers::{assert_problem, spawn_app};

/// One lead deletes counselling hours while another saves a change of them: the change, which
/// passed its check before the deletion committed, finds the hours gone: 404, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_hours_deleted_meanwhile_is_refused_as_not_found() {
    // Arrange
    let app = spawn_app().await;
    let rules: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/esf/counselling-hours").await.json().await.unwrap();
    let rule = &rules[0];
    let url = format!("/api/v1/units/esf/counselling-hours/{}", rule["id"]);
    let body = json!({ "counsellor_id": rule["counsellor_id"], "weekday": rule["weekday"], "start": rule["start"],
        "end": rule["end"], "slot_minutes": rule["slot_minutes"], "buffer_minutes": rule["buffer_minutes"],
        "capacity": 2 });
    let deletion = terminbuch::store::begin_write(&app.db).await.expect("transaction");
    let rule_id = RuleId::new(i32::try_from(rule["id"].as_i64().expect("id")).expect("small"));
    terminbuch::store::schedule::delete_rule(&deletion, rule_id).await.expect("delete");

    // Act: the change starts while the deletion is not yet committed.
    let save = tokio::spawn({
        let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
        async move { client.put(format!("{address}{url}")).bearer_auth(token).json(&body).send().await }
    });
    if app.is_postgres() {
        // Exact: the change's update waits for the deleted row.
        app.until_waiting_for_a_lock("%UPDATE%counselling_hours%", &save).await;
    } else {
        // SQLite: the change waits for the write lock the deletion holds.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(!save.is_finished(), "the change waits while the deletion's transaction is open");
    deletion.commit().await.expect("commit");
    let saved = save.await.expect("task").expect("response");

    // Assert
    assert_problem(saved, StatusCode::NOT_FOUND, "rule_not_found").await;
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM counselling_hours WHERE id = {}", rule["id"])).await, 0);
}
