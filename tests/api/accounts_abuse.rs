//! What a stranger, or the holder of a leaked token, can try against the accounts: guessing the
//! current password through a password change, tokens minted by tokens, the second factor's
//! audit, floods of throttled logins, what typed logins reach, and what ends with a deactivation.

use chrono::TimeDelta;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::services::auth;

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::web_client::{Desk, PASSWORD};

const NEW_PASSWORD: &str = "Sonnenblumen über dem Maschsee";

/// A front-desk person `empfang` with the chosen [`PASSWORD`] and an API token of theirs.
async fn person_with_token(app: &TestApp) -> String {
    app.add_person("empfang", "front_desk", Some("ads")).await;
    auth::create_token(&app.db, &app.clock, "empfang", "skript").await.expect("token")
}

async fn change_password(app: &TestApp, token: &str, current: &str) -> reqwest::Response {
    let body = json!({ "current_password": current, "new_password": NEW_PASSWORD });
    app.post_as(token, "/api/v1/me/password", &body).await
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_per_person_and_audited_and_the_right_one_waits_too() {
    // Arrange
    let app = spawn_app().await;
    let token = person_with_token(&app).await;

    // Act: five wrong guesses are checked, then the check waits a minute.
    for n in 1..=5 {
        let problem = assert_problem(
            change_password(&app, &token, &format!("geraten {n}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "current_password", "guess {n}");
    }
    let locked = change_password(&app, &token, PASSWORD).await;

    // Assert
    let retry_after = locked.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(retry_after.as_deref(), Some("60"), "the wait of the first lock");
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER, "the password is unchanged");
    let fields = [("current", PASSWORD), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)];
    let form = desk.submit("/account/password", "/account/password", &fields).await;
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS, "the page's form shares the person's count");
    let page = form.text().await.expect("page");
    assert!(page.contains("id=\"pw-current-error\"") && page.contains("zu oft falsch"), "the reason at the field");
    assert_eq!(app.audited("password_change_failed", "empfang").await, 5);
    assert_eq!(app.audited("password_change_throttled", "empfang").await, 2);

    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(change_password(&app, &token, PASSWORD).await.status(), StatusCode::NO_CONTENT, "after the wait");
    assert_eq!(app.audited("password_changed", "empfang").await, 1);
}

#[tokio::test]
async fn of_20_parallel_guesses_of_the_current_password_5_are_checked() {
    // Arrange
    let app = spawn_app().await;
    let token = person_with_token(&app).await;

    // Act
    let answers = join_all((0..20).map(|n| {
        let (app, token) = (&app, &token);
        async move { change_password(app, token, &format!("geraten {n}")).await.status() }
    }))
    .await;

    // Assert
    let count = |wanted: StatusCode| answers.iter().filter(|s| **s == wanted).count();
    assert_eq!((count(StatusCode::UNPROCESSABLE_ENTITY), count(StatusCode::TOO_MANY_REQUESTS)), (5, 15), "{answers:?}");
    assert_eq!(app.audited("password_change_failed", "empfang").await, 5);
    let _: Value = app.get_as(&token, "/api/v1/me").await.json().await.expect("the token still works");
}
