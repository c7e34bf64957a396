//! Password hashing is bounded: with every hashing thread busy, a login waits briefly and then
//! gets a 503 error page, an API call that hashes a 503 problem, both with `Retry-After`; the
//! refused logins are not counted by the throttle.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use terminbuch::services::hashing;

use crate::EXCLUSIVE;
use crate::helpers::{assert_problem, spawn_app};
use crate::web::{Attempt, PASSWORD, WebClient, add_member};

#[tokio::test]
async fn with_every_hashing_thread_busy_logins_and_new_passwords_get_503_with_retry_after() {
    // Arrange: this test holds every hashing thread of the process.
    let _exclusive = EXCLUSIVE.lock().await;
    let app = spawn_app().await;
    add_member(&app, "mueller", "front_desk", Some("ads")).await;
    let web = WebClient::open(&app).await;
    let mut held = Vec::new();
    for _ in 0..hashing::threads() {
        held.push(hashing::slot(None).await.expect("a free hashing thread"));
    }

    // Act
    let staff = json!({ "login": "neu", "name": "Neu", "role": "counsellor", "unit": "ads" });
    let api = app.post_as(&app.admin_token, "/api/v1/staff", &staff).await;
    // Five at once: each is reserved (counted until it is checked) before it waits for a thread.
    let logins = join_all((0..5).map(|_| web.log_in("mueller", PASSWORD, None))).await;

    // Assert
    let retry_after = api.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(retry_after.as_deref(), Some("2"), "API Retry-After");
    assert_problem(api, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
    for login in &logins {
        let Attempt::Other(status, body) = login else { panic!("a 503 page expected: {login:?}") };
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("<html"), "an error page: {body}");
    }

    // Assert: the five refused attempts were taken back (five failures would lock the login).
    drop(held);
    assert_eq!(web.log_in("mueller", PASSWORD, None).await, Attempt::LoggedIn);
}

#[tokio::test]
async fn the_login_page_answers_503_with_retry_after_while_hashing_is_saturated() {
    // Arrange
    let _exclusive = EXCLUSIVE.lock().await;
    let app = spawn_app().await;
    let web = WebClient::open(&app).await;
    let mut held = Vec::new();
    for _ in 0..hashing::threads() {
        held.push(hashing::slot(None).await.expect("a free hashing thread"));
    }

    // Act
    let response = web
        .client
        .post(format!("{}/login", app.address))
        .form(&[("csrf", web.csrf_of("/login").await.as_str()), ("login", "mueller"), ("password", "x")])
        .send()
        .await
        .expect("login request");

    // Assert
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "2");
    let body = response.text().await.expect("page");
    assert!(body.contains("Gerade melden sich sehr viele Personen gleichzeitig an"), "{body}");
    drop(held);
}
