//! The staff lifecycle through the API: deactivation, reactivation, taking roles away, the last
//! admin, adding a role without touching the password; each change audited.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::services::auth;

use crate::helpers::{assert_problem, spawn_app};
use crate::web_client::PASSWORD;

#[tokio::test]
async fn deactivating_a_person_ends_their_tokens_at_once_and_reactivating_keeps_them_revoked() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    assert_eq!(app.get_as(&desk, "/api/v1/bookings?unit=ads").await.status(), StatusCode::OK, "cached now");

    // Named as the person logs in, in any case.
    let response = app.post_as(&app.admin_token, "/api/v1/staff/Empfang.ADS/deactivate", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!((&body["login"], &body["active"]), (&json!("empfang.ads"), &json!(false)));
    let refused = app.get_as(&desk, "/api/v1/bookings?unit=ads").await;
    assert_problem(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let list: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/staff").await.json().await.unwrap();
    let person = list.iter().find(|p| p["login"] == "empfang.ads").expect("listed");
    assert_eq!(person["active"], false);
    assert_eq!(person["roles"], json!([{ "role": "front_desk", "unit": "ads" }]));

    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang.ads/activate", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["active"], true);
    let still = app.get_as(&desk, "/api/v1/bookings?unit=ads").await;
    assert_problem(still, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let tokens: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/staff/empfang.ads/tokens").await.json().await.unwrap();
    assert!(tokens.iter().all(|t| t["state"] == "revoked"), "{tokens:?}");

    assert_eq!(app.audited("staff_deactivated", "empfang.ads").await, 1);
    assert_eq!(app.audited("staff_activated", "empfang.ads").await, 1);
    let by_admin = app
        .count(
            "SELECT COUNT(*) AS n FROM audit_events a JOIN staff s ON a.actor_id = s.id \
             WHERE s.login = 'admin' AND a.action IN ('staff_deactivated', 'staff_activated')",
        )
        .await;
    assert_eq!(by_admin, 2, "who did it is recorded");
    let from_where = app
        .count(
            "SELECT COUNT(*) AS n FROM audit_events \
             WHERE action IN ('staff_deactivated', 'staff_activated') AND client_addr = '127.0.0.1'",
        )
        .await;
    assert_eq!(from_where, 2, "and from where");
    let missing = app.post_as(&app.admin_token, "/api/v1/staff/niemand/deactivate", &json!({})).await;
    assert_problem(missing, StatusCode::NOT_FOUND, "staff_not_found").await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_deactivated_or_lose_the_role() {
    let app = spawn_app().await;
    let deactivate = app.post_as(&app.admin_token, "/api/v1/staff/admin/deactivate", &json!({})).await;
    assert_problem(deactivate, StatusCode::CONFLICT, "last_admin").await;
    let demote = app.delete_as(&app.admin_token, "/api/v1/staff/admin/roles/admin").await;
    assert_problem(demote, StatusCode::CONFLICT, "last_admin").await;

    let second = app.token_for("zweit", "admin", None).await;
    let response = app.post_as(&second, "/api/v1/staff/admin/deactivate", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK, "with a second admin the first may go");
    let own = app.post_as(&second, "/api/v1/staff/zweit/deactivate", &json!({})).await;
    assert_problem(own, StatusCode::CONFLICT, "last_admin").await;
    let own = app.delete_as(&second, "/api/v1/staff/zweit/roles/admin").await;
    assert_problem(own, StatusCode::CONFLICT, "last_admin").await;
    let admins = app.count("SELECT COUNT(*) AS n FROM staff WHERE is_admin AND active").await;
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn two_admins_taking_each_others_role_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let logins = ["erste", "zweite"];
    let mut tokens = [app.token_for("erste", "admin", None).await, app.token_for("zweite", "admin", None).await];
    let response = app.post_as(&tokens[0], "/api/v1/staff/admin/deactivate", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK, "two admins are left");
    for round in 0..6 {
        let deactivating = round % 2 == 1;
        let act = |by: usize| {
            let (token, other) = (tokens[by].clone(), logins[1 - by]);
            let app = &app;
            async move {
                if deactivating {
                    app.post_as(&token, &format!("/api/v1/staff/{other}/deactivate"), &json!({})).await.status()
                } else {
                    app.delete_as(&token, &format!("/api/v1/staff/{other}/roles/admin")).await.status()
                }
            }
        };
        let statuses = tokio::join!(act(0), act(1));
        let statuses = [statuses.0, statuses.1];
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "round {round}: {statuses:?}");
        let refused = [StatusCode::CONFLICT, StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED];
        assert!(statuses.iter().all(|s| *s == StatusCode::OK || refused.contains(s)), "round {round}: {statuses:?}");
        let admins = app.count("SELECT COUNT(*) AS n FROM staff WHERE is_admin AND active").await;
        assert_eq!(admins, 1, "round {round}: never zero admins");

        // The survivor makes the other an admin again for the next round.
        let winner = usize::from(statuses[0] != StatusCode::OK);
        let loser = logins[1 - winner];
        let restore = json!({ "login": loser, "name": loser, "role": "admin" });
        assert_eq!(app.post_as(&tokens[winner], "/api/v1/staff", &restore).await.status(), StatusCode::CREATED);
        let activate = app.post_as(&tokens[winner], &format!("/api/v1/staff/{loser}/activate"), &json!({})).await;
        assert_eq!(activate.status(), StatusCode::OK);
        if deactivating {
            tokens[1 - winner] = auth::create_token(&app.db, &app.clock, loser, "again").await.unwrap();
        }
    }
}

#[tokio::test]
async fn taking_a_unit_role_away_takes_the_access_away_at_once() {
    let app = spawn_app().await;
    let lead = app.token_for("leitung", "unit_lead", Some("ads")).await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let hours =
        json!({ "counsellor_id": counsellor, "weekday": 5, "start": "09:00", "end": "11:00", "slot_minutes": 60 });
    let path = "/api/v1/units/ads/counselling-hours";
    assert_eq!(app.post_as(&lead, path, &hours).await.status(), StatusCode::CREATED);

    let response = app.delete_as(&app.admin_token, "/api/v1/staff/leitung/roles/unit_lead?unit=ads").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["roles"], json!([]));
    assert_problem(app.post_as(&lead, path, &hours).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.audited("role_removed", "leitung").await, 1);

    let again = app.delete_as(&app.admin_token, "/api/v1/staff/leitung/roles/unit_lead?unit=ads").await;
    assert_problem(again, StatusCode::NOT_FOUND, "role_not_found").await;
    let no_unit = app.delete_as(&app.admin_token, "/api/v1/staff/leitung/roles/counsellor").await;
    let problem = assert_problem(no_unit, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "unit");
    let unknown = app.delete_as(&app.admin_token, "/api/v1/staff/leitung/roles/boss").await;
    let problem = assert_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "role");
}

/// Two requests adding the same new login at once (a retry, a form sent twice, two admins) make
/// one account with both roles: the later finds the login made meanwhile and adds its role, as it
/// would a moment later. Before, it was refused (409 `login_taken`) and its role was lost.
#[tokio::test]
async fn two_requests_adding_one_new_login_at_once_make_one_account_with_both_roles() {
    let app = spawn_app().await;
    for round in 0..5 {
        // Act: the login added twice at once, as counsellor of ads and front desk of sdr.
        let login = format!("neu{round}");
        let add = |role: &'static str, unit: &'static str| {
            let body = json!({ "login": login, "name": "Neu Test", "role": role, "unit": unit, "password": PASSWORD });
            let app = &app;
            async move {
                let response = app.post_as(&app.admin_token, "/api/v1/staff", &body).await;
                (response.status(), response.json::<Value>().await.expect("json"))
            }
        };
        let (first, second) = tokio::join!(add("counsellor", "ads"), add("front_desk", "sdr"));

        // Assert: both answered 201, one made the account; one account holds both roles.
        assert_eq!(
            (first.0, second.0),
            (StatusCode::CREATED, StatusCode::CREATED),
            "round {round}: {first:?} {second:?}"
        );
        assert_ne!(first.1["created"], second.1["created"], "round {round}: one made it");
        assert_eq!((first.1["role_added"].clone(), second.1["role_added"].clone()), (json!(true), json!(true)));
        assert_eq!(first.1["id"], second.1["id"], "round {round}: one account");
        let roles = format!("SELECT COUNT(*) AS n FROM memberships WHERE staff_id = {}", first.1["id"]);
        assert_eq!(app.count(&roles).await, 2, "round {round}: both roles");
    }
}

#[tokio::test]
async fn adding_a_role_to_an_existing_login_keeps_its_password() {
    let app = spawn_app().await;
    let created = app.add_person("j.winter", "counsellor", Some("ads")).await;
    assert_eq!(created["created"], true);
    assert!(created.get("generated_password").is_none(), "a chosen password is not echoed");

    let body = json!({ "login": "j.winter", "name": "Anders", "role": "unit_lead", "unit": "sdr",
                       "password": "ein ganz anderes Passwort 77" });
    let response = app.post_as(&app.admin_token, "/api/v1/staff", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let added: Value = response.json().await.unwrap();
    assert_eq!((added["created"].clone(), added["role_added"].clone()), (json!(false), json!(true)));
    assert!(added.get("generated_password").is_none(), "no password for an existing login");
    assert_eq!(added["name"], "j.winter Test", "the name stays too");
    let without = json!({ "login": "j.winter", "name": "x", "role": "unit_lead", "unit": "sdr" });
    let again: Value = app.post_as(&app.admin_token, "/api/v1/staff", &without).await.json().await.unwrap();
    assert_eq!((again["role_added"].clone(), again.get("generated_password")), (json!(false), None));

    assert!(
        matches!(auth::authenticate_password(&app.db, "j.winter", PASSWORD).await.unwrap(), auth::Checked::Right(..)),
        "the old password works"
    );
    let other = auth::authenticate_password(&app.db, "j.winter", "ein ganz anderes Passwort 77").await.unwrap();
    assert!(matches!(other, auth::Checked::Wrong), "the given one was ignored");
    assert_eq!(app.audited("role_added", "j.winter").await, 2, "counsellor at creation, then unit lead");
    assert_eq!(app.audited("staff_added", "j.winter").await, 1);
}

#[tokio::test]
async fn weak_or_personal_passwords_are_refused_when_staff_are_added() {
    let app = spawn_app().await;
    for (password, case) in [
        ("aaaaaaaaaa", "ten characters"),
        ("password1234", "a breached password"),
        ("neue.kollegin2026", "built from the login"),
        ("Hannover2026!", "the city and a year, sprayed first"),
    ] {
        let body = json!({ "login": "neue.kollegin", "name": "Neue Kollegin", "role": "counsellor", "unit": "ads",
                           "password": password });
        let response = app.post_as(&app.admin_token, "/api/v1/staff", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "password", "{case}");
    }
    // A login of dots alone would be a path step in the address of the person's page.
    for login in [".", ".."] {
        let body = json!({ "login": login, "name": "Punkt Test", "role": "counsellor", "unit": "ads" });
        let response = app.post_as(&app.admin_token, "/api/v1/staff", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "login", "{login}");
    }
    let generated = json!({ "login": "neue.kollegin", "name": "Neue Kollegin", "role": "counsellor", "unit": "ads" });
    let body: Value = app.post_as(&app.admin_token, "/api/v1/staff", &generated).await.json().await.unwrap();
    assert_eq!(body["generated_password"].as_str().unwrap().len(), 16);
    let must_change =
        app.count("SELECT COUNT(*) AS n FROM staff WHERE login = 'neue.kollegin' AND must_change_password").await;
    assert_eq!(must_change, 1, "a generated password must be changed at the first login");
    let first_admin = app.count("SELECT COUNT(*) AS n FROM staff WHERE login = 'admin' AND must_change_password").await;
    assert_eq!(first_admin, 1, "so must the first admin's printed one");
}

#[tokio::test]
async fn only_admins_use_the_staff_routes() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let id = app.count("SELECT CAST(MIN(id) AS BIGINT) AS n FROM api_tokens").await;
    let calls = [
        app.get_as(&desk, "/api/v1/staff").await,
        app.get_as(&desk, "/api/v1/staff/admin").await,
        app.post_as(&desk, "/api/v1/staff/admin/deactivate", &json!({})).await,
        app.post_as(&desk, "/api/v1/staff/empfang/activate", &json!({})).await,
        app.delete_as(&desk, "/api/v1/staff/admin/roles/admin").await,
        app.post_as(&desk, "/api/v1/staff/admin/password-reset", &json!({})).await,
        app.post_as(&desk, "/api/v1/staff/admin/mfa-reset", &json!({})).await,
        app.get_as(&desk, "/api/v1/staff/admin/tokens").await,
        app.delete_as(&desk, "/api/v1/staff/admin/tokens").await,
        app.delete_as(&desk, &format!("/api/v1/tokens/{id}")).await,
    ];
    for response in calls {
        assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let denials = app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied'").await;
    assert_eq!(denials, 10, "every refusal is audited");
    let me: Value = app.get_as(&desk, "/api/v1/me").await.json().await.unwrap();
    assert_eq!((me["login"].clone(), me["is_admin"].clone()), (json!("empfang"), json!(false)));
}

#[tokio::test]
async fn the_account_routes_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/staff", "get"),
        ("/api/v1/staff", "post"),
        ("/api/v1/staff/{login}", "get"),
        ("/api/v1/staff/{login}/deactivate", "post"),
        ("/api/v1/staff/{login}/activate", "post"),
        ("/api/v1/staff/{login}/roles/{role}", "delete"),
        ("/api/v1/staff/{login}/password-reset", "post"),
        ("/api/v1/staff/{login}/mfa-reset", "post"),
        ("/api/v1/staff/{login}/tokens", "get"),
        ("/api/v1/staff/{login}/tokens", "delete"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/tokens", "get"),
        ("/api/v1/me/tokens", "post"),
        ("/api/v1/me/tokens/{id}", "delete"),
        ("/api/v1/me/password", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} documented");
    }
}

#[tokio::test]
async fn a_new_login_that_differs_from_an_existing_one_only_in_case_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    let staff = "SELECT COUNT(*) AS n FROM staff";
    let before = app.count(staff).await;

    // Act: the admin types the login with capitals, meaning the colleague.
    let body = json!({ "login": "Empfang.ADS", "name": "Empfang", "role": "counsellor", "unit": "sdr" });
    let refused = app.post_as(&app.admin_token, "/api/v1/staff", &body).await;
    let exact = json!({ "login": "empfang.ads", "name": "Empfang", "role": "counsellor", "unit": "sdr" });
    let added = app.post_as(&app.admin_token, "/api/v1/staff", &exact).await;

    // Assert: no second account beside the first; the exact login gets the role.
    let problem = assert_problem(refused, StatusCode::CONFLICT, "login_taken").await;
    assert!(problem["detail"].as_str().expect("detail").contains("`empfang.ads`"), "{problem}");
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.expect("json");
    assert_eq!(added["role_added"], true);
    assert_eq!(added["created"], false);
    assert_eq!(app.count(staff).await, before, "no account was created");
}

/// On PostgreSQL, makes every insert into `table` hold its transaction open a moment longer (a
/// trigger sleeping 0.3 s), so that a request racing it runs its checks meanwhile; SQLite runs
/// one write transaction at a time anyway.
async fn slow_inserts_into(app: &crate::helpers::TestApp, table: &str) {
    if !app.is_postgres() {
        return;
    }
    for sql in [
        "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$"
            .to_owned(),
        format!("CREATE TRIGGER {table}_slow AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION test_slow_insert()"),
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&app.db, &sql).await.expect("a slow insert trigger");
    }
}

/// Two requests adding logins that differ only in case at the same moment: both pass the check
/// before the (slow) password hashing, so the check is made again in the write transaction, in
/// turn: one account is made, the other request is refused.
#[tokio::test]
async fn two_logins_differing_only_in_case_added_at_once_make_one_account() {
    // Arrange
    let app = spawn_app().await;
    let names = [("Mueller", "mueller"), ("Schmidt", "SCHMIDT"), ("Yilmaz", "yilmaz")];
    slow_inserts_into(&app, "staff").await;

    // Act
    let answers = futures_util::future::join_all(names.iter().flat_map(|(a, b)| [*a, *b]).map(|login| {
        let app = &app;
        async move {
            let body = json!({ "login": login, "name": "Neu", "role": "counsellor", "unit": "sdr" });
            app.post_as(&app.admin_token, "/api/v1/staff", &body).await
        }
    }))
    .await;

    // Assert
    let created = answers.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    assert_eq!(created, 3, "one of each pair");
    for refused in answers.into_iter().filter(|r| r.status() != StatusCode::CREATED) {
        assert_problem(refused, StatusCode::CONFLICT, "login_taken").await;
    }
    for (login, _) in names {
        let sql = format!("SELECT COUNT(*) AS n FROM staff WHERE lower(login) = '{}'", login.to_lowercase());
        assert_eq!(app.count(&sql).await, 1, "one account for {login}");
    }
}

/// Two reset links made at the same moment: only the later works ("earlier links stop working").
#[tokio::test]
async fn of_two_reset_links_made_at_once_one_stays_usable() {
    // Arrange
    let app = spawn_app().await;
    app.token_for("empfang", "front_desk", Some("ads")).await;
    slow_inserts_into(&app, "password_resets").await;

    // Act
    let answers = futures_util::future::join_all((0..6).map(|_| {
        let app = &app;
        async move { app.post_as(&app.admin_token, "/api/v1/staff/empfang/password-reset", &json!({})).await }
    }))
    .await;

    // Assert
    assert!(answers.iter().all(|r| r.status() == StatusCode::CREATED), "every request made a link");
    let live = "SELECT COUNT(*) AS n FROM password_resets WHERE used_at IS NULL";
    assert_eq!(app.count(live).await, 1, "one live link");
}
