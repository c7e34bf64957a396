//! What unit leads do, attacked: another unit's people reached by changing an id, and two leads
//! changing the same counselling hours at once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;
use terminbuch::domain::ids::{RuleId, StaffId};

use crate::helpers::{assert_problem, default_now, spawn_app, spawn_app_with};
use crate::web_client::{Desk, PASSWORD};

/// A counsellor of the anti-discrimination office who also works at the SDR's front desk: the
/// SDR's lead does not see her absences (the page and the API list the unit's counsellors' only)
/// and must not record or remove any by typing her id or an absence's id, since an absence blocks
/// her appointments of the anti-discrimination office, whose lead recorded it.
#[tokio::test]
async fn a_lead_can_neither_record_nor_remove_absences_of_someone_not_counselling_in_their_unit() {
    // Arrange
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let member = terminbuch::store::directory::find_staff(&app.db, StaffId::new(i32::try_from(jana).expect("id")))
        .await
        .expect("db")
        .expect("Jana");
    let role = json!({ "login": member.login, "name": "Jana Winterberg", "role": "front_desk", "unit": "sdr" });
    assert_eq!(app.post_as(&app.admin_token, "/api/v1/staff", &role).await.status(), StatusCode::CREATED);
    let ads_lead = app.token_for("leitung-ads", "unit_lead", Some("ads")).await;
    let sdr_lead = app.token_for("leitung-sdr", "unit_lead", Some("sdr")).await;
    app.add_person("leitung-sdr-web", "unit_lead", Some("sdr")).await;
    let absence =
        json!({ "counsellor_id": jana, "from_date": "2027-01-11", "until_date": "2027-01-15", "reason": "Kur" });
    let response = app.post_as(&ads_lead, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED, "the lead of her counselling unit records it");
    let recorded: Value = response.json().await.expect("json");
    let id = recorded["id"].as_i64().expect("id");
    let listed: Vec<Value> =
        app.get_as(&sdr_lead, "/api/v1/units/sdr/absences?to=2027-02-01").await.json().await.unwrap();
    assert!(listed.is_empty(), "the SDR lists its counsellors' absences only: {listed:?}");

    // Act: the SDR's lead removes it by its id, through the API and through the page's form.
    let removed = app.delete_as(&sdr_lead, &format!("/api/v1/units/sdr/absences/{id}")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("leitung-sdr-web", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let removed_on_page = desk.submit("/hours?unit=sdr", &format!("/hours/sdr/absences/{id}/delete"), &[]).await;
    // …and records one of her own for Jana.
    let other = json!({ "counsellor_id": jana, "from_date": "2027-02-01", "reason": "Urlaub" });
    let added = app.post_as(&sdr_lead, "/api/v1/units/sdr/absences", &other).await;
    let jana_text = jana.to_string();
    let fields = [
        ("counsellor", jana_text.as_str()),
        ("from", "2027-02-01"),
        ("to", "2027-02-01"),
        ("reason", "Urlaub"),
        ("action", "save"),
    ];
    let added_on_page = desk.submit("/hours?unit=sdr", "/hours/sdr/absences", &fields).await;

    // Assert
    assert_problem(removed, StatusCode::NOT_FOUND, "absence_not_found").await;
    // The page's form too: it answers as for an absence deleted before (a deletion sent twice),
    // which tells nothing of another unit's absences; hers is not touched (below).
    assert_eq!(removed_on_page.status(), StatusCode::SEE_OTHER, "the page's form too");
    let to = crate::web_client::location(&removed_on_page);
    assert!(to.starts_with("/hours?unit=sdr&done=gone_absence&change="), "{to}");
    let problem = assert_problem(added, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "counsellor_id");
    assert_eq!(added_on_page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = added_on_page.text().await.expect("page");
    assert!(html.contains("href=\"#absence-counsellor\""), "the message is at the counsellor");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 1, "hers stays, none added");
    let ads_list: Vec<Value> =
        app.get_as(&ads_lead, "/api/v1/units/ads/absences?to=2027-02-01").await.json().await.unwrap();
    assert_eq!(ads_list.len(), 1, "her counselling unit still has it");
    // Her own unit's lead still removes it.
    let own = app.delete_as(&ads_lead, &format!("/api/v1/units/ads/absences/{id}")).await;
    assert_eq!(own.status(), StatusCode::NO_CONTENT);
}

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
        // SQLite: the change is queued for the write turn the deletion holds.
        app.until_waiting_for_the_write_turn(&save).await;
    }
    assert!(!save.is_finished(), "the change waits while the deletion's transaction is open");
    deletion.commit().await.expect("commit");
    let saved = save.await.expect("task").expect("response");

    // Assert
    assert_problem(saved, StatusCode::NOT_FOUND, "rule_not_found").await;
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM counselling_hours WHERE id = {}", rule["id"])).await, 0);
}

/// An absence's reason may be an illness: the unit's desk sees who is away and when, the lead,
/// the admins and the absent counsellor also why.
#[tokio::test]
async fn the_reason_of_an_absence_is_for_the_lead_and_the_absent_counsellor_only() {
    // Arrange
    let app = spawn_app().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let member = terminbuch::store::directory::find_staff(&app.db, StaffId::new(i32::try_from(jana).expect("id")))
        .await
        .expect("db")
        .expect("Jana");
    let lead = app.token_for("leitung-ads", "unit_lead", Some("ads")).await;
    let desk = app.token_for("empfang-ads", "front_desk", Some("ads")).await;
    let colleague = app.token_for("berater-ads", "counsellor", Some("ads")).await;
    let herself = app.token_for(&member.login, "counsellor", Some("ads")).await;
    let absence =
        json!({ "counsellor_id": jana, "from_date": "2027-01-11", "until_date": "2027-01-15", "reason": "Reha" });
    assert_eq!(app.post_as(&lead, "/api/v1/units/ads/absences", &absence).await.status(), StatusCode::CREATED);

    // Act
    let mut seen = Vec::new();
    for token in [&lead, &app.admin_token, &herself, &desk, &colleague] {
        let listed: Vec<Value> =
            app.get_as(token, "/api/v1/units/ads/absences?to=2027-02-01").await.json().await.expect("json");
        seen.push(listed);
    }

    // Assert: everyone sees who and when; only the first three see why.
    for (n, listed) in seen.iter().enumerate() {
        assert_eq!(listed.len(), 1, "reader {n}");
        assert_eq!(listed[0]["counsellor_id"], jana, "reader {n}");
        assert!(listed[0]["starts_at"].as_str().expect("start").starts_with("2027-01-11"), "reader {n}");
        let reason = if n < 3 { json!("Reha") } else { Value::Null };
        assert_eq!(listed[0].get("reason").cloned().unwrap_or(Value::Null), reason, "reader {n}");
    }
}

/// Someone who does not work in a unit is refused the removal of any absence of it, one that
/// exists and one that does not alike (and recorded): before, an existing id was refused (403)
/// and a missing one not found (404), which told outsiders which absences exist.
#[tokio::test]
async fn removing_an_absence_of_a_unit_one_does_not_work_in_is_refused_whether_or_not_it_exists() {
    let app = spawn_app().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let ads_lead = app.token_for("leitung-ads", "unit_lead", Some("ads")).await;
    let sdr_desk = app.token_for("empfang-sdr", "front_desk", Some("sdr")).await;
    let absence = json!({ "counsellor_id": jana, "from_date": "2027-01-11", "reason": "Kur" });
    let response = app.post_as(&ads_lead, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.expect("json")["id"].as_i64().expect("id");

    let existing = app.delete_as(&sdr_desk, &format!("/api/v1/units/ads/absences/{id}")).await;
    let missing = app.delete_as(&sdr_desk, &format!("/api/v1/units/ads/absences/{}", id + 1000)).await;

    assert_problem(existing, StatusCode::FORBIDDEN, "forbidden").await;
    assert_problem(missing, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 1, "it stays");
    let denied =
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied' AND detail LIKE '%absence.write%'";
    assert_eq!(app.count(denied).await, 2, "both refusals recorded");
    // The unit's lead removes it; once removed, it is not found.
    assert_eq!(
        app.delete_as(&ads_lead, &format!("/api/v1/units/ads/absences/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = app.delete_as(&ads_lead, &format!("/api/v1/units/ads/absences/{id}")).await;
    assert_problem(again, StatusCode::NOT_FOUND, "absence_not_found").await;
}
