//! API tokens: expiry (also from the cache), revocation and deactivation on this process and on
//! a second server process of the same database, one's own tokens, the last use, the migration.

use std::time::Duration;

use chrono::TimeDelta;
use migration::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, default_now, spawn_app, spawn_app_with};
use crate::test_db::TestDb;
use terminbuch::domain::ids::StaffId;
use terminbuch::services::tokens;

/// Asks `path` with `token` at `address` until it is refused, for at most `within`.
async fn refused_within(address: &str, token: &str, within: Duration) -> bool {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let status =
            client.get(format!("{address}/api/v1/me")).bearer_auth(token).send().await.expect("request").status();
        if status == StatusCode::UNAUTHORIZED {
            return true;
        }
        assert_eq!(status, StatusCode::OK);
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn status_at(address: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn a_deactivation_on_one_process_ends_tokens_on_another_within_its_cache_lifetime_and_at_once_without_cache() {
    let app = spawn_app_with(default_now(), |s| s.token_cache_ms = 60_000).await;
    let cached = app.another_process(|s| s.token_cache_ms = 300).await;
    let uncached = app.another_process(|s| s.token_cache_ms = 0).await;
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    for address in [&app.address, &cached, &uncached] {
        assert_eq!(status_at(address, &desk).await, StatusCode::OK, "{address} knows the token (and caches it)");
    }
    let response = app.post_as(&app.admin_token, "/api/v1/staff/empfang.ads/deactivate", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(status_at(&app.address, &desk).await, StatusCode::UNAUTHORIZED, "at once where it was done");
    assert_eq!(status_at(&uncached, &desk).await, StatusCode::UNAUTHORIZED, "at once without a cache");
    // The deadline is generous for a slow machine; the cache keeps entries 300 ms.
    assert!(refused_within(&cached, &desk, Duration::from_secs(10)).await, "within the cache's lifetime");
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_here_and_within_the_cache_lifetime_on_another_process() {
    let app = spawn_app_with(default_now(), |s| s.token_cache_ms = 60_000).await;
    let cached = app.another_process(|s| s.token_cache_ms = 300).await;
    let uncached = app.another_process(|s| s.token_cache_ms = 0).await;
    let created = app.post_as(&app.admin_token, "/api/v1/me/tokens", &json!({ "name": "Kalender" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    for address in [&app.address, &cached, &uncached] {
        assert_eq!(status_at(address, &token).await, StatusCode::OK);
    }
    let id = created["id"].as_i64().unwrap();
    let revoke = app.delete_as(&app.admin_token, &format!("/api/v1/me/tokens/{id}")).await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_eq!(status_at(&app.address, &token).await, StatusCode::UNAUTHORIZED, "at once where it was done");
    assert_eq!(status_at(&uncached, &token).await, StatusCode::UNAUTHORIZED, "at once without a cache");
    assert!(refused_within(&cached, &token, Duration::from_secs(10)).await, "within the cache's lifetime");
    assert_eq!(app.audited("token_revoked", "admin").await, 1);
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime_even_from_the_cache() {
    let app = spawn_app_with(default_now(), |s| s.token_cache_ms = 60_000).await;
    let body = json!({ "name": "kurz", "expires_in_days": 1 });
    let created: Value = app.post_as(&app.admin_token, "/api/v1/me/tokens", &body).await.json().await.unwrap();
    let short = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["expires_at"], "2026-11-25T08:00:00+01:00");
    assert_eq!(app.get_as(&short, "/api/v1/me").await.status(), StatusCode::OK, "cached now");
    app.clock.advance(TimeDelta::days(1));
    assert_problem(app.get_as(&short, "/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    // A token made without a lifetime (the CLI's default) lives 90 days.
    assert_eq!(app.get_as(&app.admin_token, "/api/v1/me").await.status(), StatusCode::OK);
    app.clock.advance(TimeDelta::days(89) - TimeDelta::seconds(1));
    assert_eq!(app.get_as(&app.admin_token, "/api/v1/me").await.status(), StatusCode::OK, "day 90, cached");
    app.clock.advance(TimeDelta::seconds(1));
    let expired = app.get_as(&app.admin_token, "/api/v1/me").await;
    assert_problem(expired, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn own_tokens_are_listed_and_revoked_and_admins_revoke_anyones() {
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let created: Value = app
        .post_as(&desk, "/api/v1/me/tokens", &json!({ "name": "Skript", "expires_in_days": 30 }))
        .await
        .json()
        .await
        .unwrap();
    let listed: Vec<Value> = app.get_as(&desk, "/api/v1/me/tokens").await.json().await.unwrap();
    assert_eq!(listed.len(), 2, "the test token and the new one");
    assert_eq!((listed[0]["name"].clone(), listed[0]["state"].clone()), (json!("Skript"), json!("valid")));
    assert!(listed.iter().all(|t| t.get("token").is_none()), "never the token itself");

    let admins_id = app.count("SELECT CAST(MIN(id) AS BIGINT) AS n FROM api_tokens").await;
    let foreign = app.delete_as(&desk, &format!("/api/v1/me/tokens/{admins_id}")).await;
    assert_problem(foreign, StatusCode::NOT_FOUND, "token_not_found").await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(app.delete_as(&app.admin_token, &format!("/api/v1/tokens/{id}")).await.status(), StatusCode::NO_CONTENT);
    let token = created["token"].as_str().unwrap();
    assert_problem(app.get_as(token, "/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let missing = app.delete_as(&app.admin_token, "/api/v1/tokens/999999").await;
    assert_problem(missing, StatusCode::NOT_FOUND, "token_not_found").await;

    let all: Value = app.delete_as(&app.admin_token, "/api/v1/staff/empfang/tokens").await.json().await.unwrap();
    assert_eq!(all["revoked"], 1, "the one still valid");
    assert_problem(app.get_as(&desk, "/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let states: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/staff/empfang/tokens").await.json().await.unwrap();
    assert!(states.iter().all(|t| t["state"] == "revoked"));

    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x", "expires_in_days": 0 }), "expires_in_days"),
        (json!({ "name": "x", "expires_in_days": 366 }), "expires_in_days"),
    ] {
        let response = app.post_as(&app.admin_token, "/api/v1/me/tokens", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
}

#[tokio::test]
async fn a_tokens_last_use_is_written_at_most_once_a_minute() {
    let app = spawn_app_with(default_now(), |s| s.token_cache_ms = 0).await;
    let last_used = || async {
        let list: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/me/tokens").await.json().await.unwrap();
        list[0]["last_used_at"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(last_used().await, "2026-11-24T08:00:00+01:00");
    app.clock.advance(TimeDelta::seconds(59));
    assert_eq!(last_used().await, "2026-11-24T08:00:00+01:00", "not again within the minute");
    app.clock.advance(TimeDelta::seconds(1));
    assert_eq!(last_used().await, "2026-11-24T08:01:00+01:00");
}

#[tokio::test]
async fn the_migration_gives_existing_tokens_an_expiry_and_existing_passwords_a_forced_change() {
    let db = TestDb::create().await;
    let released = Migrator::migrations().iter().position(|m| m.name().starts_with("m20261202_100001")).unwrap();
    Migrator::up(&db.conn, Some(u32::try_from(released).unwrap())).await.unwrap();
    let backend = db.conn.get_database_backend();
    let at = default_now();
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO staff (login, display_name, languages, is_admin, password_hash, active, created_at) \
             VALUES ('alt', 'Alt', 'de', true, 'hash', true, $1)",
            [at.into()],
        ))
        .await
        .unwrap();
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO api_tokens (staff_id, token_hash, label, created_at) \
             SELECT id, 'h', 'alt', $1 FROM staff WHERE login = 'alt'",
            [at.into()],
        ))
        .await
        .unwrap();
    Migrator::up(&db.conn, None).await.unwrap();
    let token = terminbuch::store::directory::list_tokens(&db.conn, StaffId::new(1), None).await.unwrap();
    assert_eq!(token[0].expires_at, Some(at + TimeDelta::days(90)), "90 days after it was made");
    let row = db
        .conn
        .query_one_raw(Statement::from_string(backend, "SELECT must_change_password FROM staff WHERE login = 'alt'"))
        .await
        .unwrap()
        .unwrap();
    assert!(row.try_get::<bool>("", "must_change_password").unwrap());
}

/// A token made with a token at the moment that token is revoked, or its person deactivated:
/// the making waits for the revocation (PostgreSQL: the rows are locked; SQLite: one writer) and
/// is refused, instead of leaving a token that outlives its parent or its person.
#[tokio::test]
async fn a_token_made_while_its_parent_is_revoked_or_its_person_deactivated_is_refused() {
    use terminbuch::services::ServiceError;
    use terminbuch::services::tokens::{BearerToken, TokenSpec, create_for_login, create_own};
    use terminbuch::store::directory;

    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let member = directory::find_staff_by_login(&app.db, "empfang").await.expect("test step").expect("test step");
    let actor = directory::actor_for_staff(&app.db, member.id).await.expect("test step").expect("test step");
    for revoke_parent in [true, false] {
        let parent = create_for_login(&app.db, &app.clock, "empfang", &TokenSpec::named("Kalender")).await;
        let parent = parent.expect("the parent token").info;
        let bearer = BearerToken { id: parent.id, expires_at: parent.expires_at.expect("test step") };
        let other = app.another_pool().await;
        let txn = terminbuch::store::begin_write(&other).await.expect("test step");
        if revoke_parent {
            directory::revoke_token(&txn, parent.id, app.clock.now()).await.expect("test step");
        } else {
            let sql = format!("UPDATE staff SET active = false WHERE id = {}", member.id.get());
            txn.execute_unprepared(&sql).await.expect("test step");
            directory::revoke_all_tokens(&txn, member.id, app.clock.now()).await.expect("test step");
        }
        let (db, clock, actor) = (app.db.clone(), app.clock.clone(), actor.clone());
        let making = tokio::spawn(async move {
            create_own(&db, &clock, &actor, bearer, &TokenSpec::named("Kind")).await.map(|made| made.info.id)
        });
        if app.is_postgres() {
            app.until_waiting_for_a_lock("%FOR UPDATE%", &making).await;
        }
        txn.commit().await.expect("test step");
        let made = making.await.expect("test step");
        assert!(matches!(made, Err(ServiceError::NotFound { .. })), "revoke_parent {revoke_parent}: {made:?}");
        let tokens = directory::list_tokens(&app.db, member.id, None).await.expect("test step");
        assert!(tokens.iter().all(|t| t.revoked_at.is_some()), "no valid token is left: {tokens:?}");
        let sql = format!("UPDATE staff SET active = true WHERE id = {}", member.id.get());
        app.db.execute_unprepared(&sql).await.expect("test step");
    }
}

/// "Revoke all tokens" at the moment a token is being made with one of them (the person's row
/// and the parent held, the new token stored, not yet committed): the revocation waits and
/// revokes the new token too (PostgreSQL; SQLite has one writer).
#[tokio::test]
async fn revoking_all_tokens_while_one_is_being_made_revokes_it_too() {
    use terminbuch::services::accounts::ChangedBy;
    use terminbuch::services::tokens::{TokenCache, TokenSpec, create_for_login, revoke_all};
    use terminbuch::store::directory::{self, NewToken};

    let app = spawn_app().await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let member = directory::find_staff_by_login(&app.db, "empfang").await.expect("test step").expect("test step");
    let parent = create_for_login(&app.db, &app.clock, "empfang", &TokenSpec::named("Kalender")).await;
    let parent = parent.expect("the parent token").info;
    // What making a token with a token holds until it commits.
    let other = app.another_pool().await;
    let txn = terminbuch::store::begin_write(&other).await.expect("test step");
    directory::lock_staff(&txn, member.id).await.expect("test step");
    directory::lock_token(&txn, parent.id).await.expect("test step");
    let child = NewToken {
        staff_id: member.id.get(),
        token_hash: "0".repeat(64),
        label: "Kind",
        created_at: app.clock.now(),
        expires_at: parent.expires_at.expect("test step"),
        parent_token_id: Some(parent.id),
    };
    let child = directory::insert_token(&txn, child).await.expect("test step");

    let (db, clock, whom) = (app.db.clone(), app.clock.clone(), member.clone());
    let revoking = tokio::spawn(async move {
        let cache = TokenCache::new(Duration::ZERO, clock.clone());
        revoke_all(&db, &clock, &cache, ChangedBy::operator(), &whom).await
    });
    if app.is_postgres() {
        app.until_waiting_for_a_lock("%FOR UPDATE%", &revoking).await;
    }
    txn.commit().await.expect("test step");
    revoking.await.expect("test step").expect("revoked");

    let tokens = directory::list_tokens(&app.db, member.id, None).await.expect("test step");
    let made = tokens.iter().find(|t| t.id == child.id).expect("the new token");
    assert!(made.revoked_at.is_some(), "the token made meanwhile is revoked too");
    assert!(tokens.iter().all(|t| t.revoked_at.is_some()));
}

/// A person holds at most `MAX_VALID_TOKENS` valid tokens: of 20 parallel requests for the last
/// 4 places, 4 get one and 16 a 409 (the count is taken with the person's row locked); a revoked
/// token frees its place.
#[tokio::test]
async fn a_person_gets_at_most_50_valid_tokens_even_from_parallel_requests() {
    // Arrange: the request's token and 45 more, 46 of 50.
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    for n in 0..45 {
        let spec = tokens::TokenSpec::named(&format!("vorher {n}"));
        tokens::create_for_login(&app.db, &app.clock, "empfang", &spec).await.expect("a token below the cap");
    }

    // Act
    let answers = futures_util::future::join_all((0..20).map(|n| {
        let (app, desk) = (&app, &desk);
        async move { app.post_as(desk, "/api/v1/me/tokens", &json!({ "name": format!("parallel {n}") })).await }
    }))
    .await;

    // Assert
    let created = answers.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    assert_eq!(created, 4, "the last four places");
    let refused = answers.into_iter().find(|r| r.status() != StatusCode::CREATED).expect("refusals");
    assert_problem(refused, StatusCode::CONFLICT, "too_many_tokens").await;
    let valid = "SELECT COUNT(*) AS n FROM api_tokens t JOIN staff s ON s.id = t.staff_id \
                 WHERE s.login = 'empfang' AND t.revoked_at IS NULL";
    assert_eq!(app.count(valid).await, 50, "no more than the cap");
    assert_eq!(app.audited("token_created", "empfang").await, 50, "one record per token made");
    let spec = tokens::TokenSpec::named("CLI");
    let by_cli = tokens::create_for_login(&app.db, &app.clock, "empfang", &spec).await;
    assert!(by_cli.is_err(), "the operator's command line is held to it too");

    let listed: Vec<Value> = app.get_as(&desk, "/api/v1/me/tokens").await.json().await.expect("json");
    let id = listed.first().and_then(|t| t["id"].as_i64()).expect("the newest token");
    assert_eq!(app.delete_as(&desk, &format!("/api/v1/me/tokens/{id}")).await.status(), StatusCode::NO_CONTENT);
    let again = app.post_as(&desk, "/api/v1/me/tokens", &json!({ "name": "wieder" })).await;
    assert_eq!(again.status(), StatusCode::CREATED, "a revoked token frees its place");
}

#[tokio::test]
async fn a_token_list_can_hold_every_valid_token_and_only_the_newest_ended_ones() {
    // Arrange: one expired token, four revoked, and two valid (the test's own and the newest).
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let make = |name: &'static str, days: i64| {
        let (app, desk) = (&app, &desk);
        async move {
            app.clock.advance(TimeDelta::seconds(1));
            let body = json!({ "name": name, "expires_in_days": days });
            let created: Value = app.post_as(desk, "/api/v1/me/tokens", &body).await.json().await.expect("json");
            created["id"].as_i64().expect("an id")
        }
    };
    make("kurz", 1).await;
    app.clock.advance(TimeDelta::days(1));
    for name in ["eins", "zwei", "drei", "vier"] {
        let id = make(name, 30).await;
        let revoked = app.delete_as(&desk, &format!("/api/v1/me/tokens/{id}")).await;
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT, "{name}");
    }
    make("neu", 30).await;
    let names =
        |list: &[Value]| list.iter().map(|t| t["name"].as_str().expect("a name").to_owned()).collect::<Vec<_>>();

    // Act
    let all: Vec<Value> = app.get_as(&desk, "/api/v1/me/tokens").await.json().await.expect("json");
    let two: Vec<Value> = app.get_as(&desk, "/api/v1/me/tokens?ended=2").await.json().await.expect("json");
    let none: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/staff/empfang/tokens?ended=0").await.json().await.expect("json");
    let bad = app.get_as(&desk, "/api/v1/me/tokens?ended=zwei").await;

    // Assert
    assert_eq!(all.len(), 7, "without the parameter every token, as before: {:?}", names(&all));
    assert_eq!(names(&two)[..3], ["neu", "vier", "drei"], "newest first");
    assert_eq!(two.len(), 4, "the two valid ones and the two newest ended ones: {:?}", names(&two));
    assert!(none.iter().all(|t| t["state"] == "valid") && none.len() == 2, "{:?}", names(&none));
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// A person's token list a page at a time: the first page holds every valid token and `ended`
/// ended ones, `X-Next-Before` names where the rest start, and the next pages hold ended ones
/// alone, newest first, until the last; a `before` that is none of the person's tokens is a 422.
#[tokio::test]
async fn ended_tokens_are_listed_a_page_at_a_time_with_the_next_page_named() {
    // Arrange: five revoked tokens between the test's own and a newer valid one.
    let app = spawn_app().await;
    let desk = app.token_for("empfang", "front_desk", Some("ads")).await;
    let create = |name: String| {
        let (app, desk) = (&app, &desk);
        async move {
            app.clock.advance(TimeDelta::seconds(1));
            let body = json!({ "name": name, "expires_in_days": 30 });
            let created: Value = app.post_as(desk, "/api/v1/me/tokens", &body).await.json().await.expect("json");
            created["id"].as_i64().expect("an id")
        }
    };
    let mut revoked = Vec::new();
    for n in 0..5 {
        let id = create(format!("alt {n}")).await;
        assert_eq!(app.delete_as(&desk, &format!("/api/v1/me/tokens/{id}")).await.status(), StatusCode::NO_CONTENT);
        revoked.insert(0, id);
    }
    let newest = create("neu".to_owned()).await;
    let admins_own: Vec<Value> = app.get_as(&app.admin_token, "/api/v1/me/tokens").await.json().await.expect("json");
    let read = |token: String, path: String| {
        let app = &app;
        async move {
            let response = app.get_as(&token, &path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let next = response.headers().get("x-next-before").map(|v| v.to_str().expect("ascii").to_owned());
            let listed: Vec<Value> = response.json().await.expect("a bare list");
            let states =
                listed.iter().map(|t| (t["id"].as_i64().expect("id"), t["state"].as_str().expect("state").to_owned()));
            (states.collect::<Vec<_>>(), next)
        }
    };

    // Act
    let (first, next) = read(desk.clone(), "/api/v1/me/tokens?ended=2".to_owned()).await;
    let next = next.expect("more ended tokens");
    let (second, then) =
        read(app.admin_token.clone(), format!("/api/v1/staff/empfang/tokens?ended=2&before={next}")).await;
    let then = then.expect("more ended tokens");
    let (last, after_last) = read(desk.clone(), format!("/api/v1/me/tokens?ended=2&before={then}")).await;
    let (whole, after_whole) = read(desk.clone(), "/api/v1/me/tokens".to_owned()).await;
    let foreign = app.get_as(&desk, &format!("/api/v1/me/tokens?before={}", admins_own[0]["id"])).await;

    // Assert
    let ids = |list: &[(i64, String)]| list.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    assert_eq!(first[0], (newest, "valid".to_owned()), "newest first");
    assert_eq!(first.iter().filter(|(_, state)| state == "valid").count(), 2, "every valid one: {first:?}");
    assert_eq!(ids(&first[1..3]), revoked[..2], "and the two newest ended ones: {first:?}");
    assert_eq!(next, revoked[1].to_string());
    assert_eq!(ids(&second), revoked[2..4], "then the next two ended ones alone");
    assert_eq!((ids(&last), after_last), (revoked[4..].to_vec(), None), "the last page names no next");
    assert_eq!((whole.len(), after_whole), (7, None), "without parameters every token, as before (up to 100 ended)");
    let problem = assert_problem(foreign, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "before", "{problem}");
}
