//! A page's address or form the service cannot read (a number that is none, a parameter missing,
//! a body over the limit) is answered with the error page in the person's language, not with a
//! line of plain English developer's text; the API keeps its problem documents.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, default_now, spawn_app, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, csrf_of};
use terminbuch::domain::accounts::RequireMfa;

/// Status, content type and body of a page.
async fn page(desk: &Desk, path: &str) -> (StatusCode, String, String) {
    let response = desk.get(path).await;
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (response.status(), content_type, response.text().await.expect("body"))
}

fn assert_error_page(status: StatusCode, content_type: &str, html: &str, lang: &str, message: &str) {
    assert!(content_type.starts_with("text/html"), "an HTML page, not {content_type}: {html}");
    assert!(html.contains(&format!("<html lang=\"{lang}\"")), "in {lang}: {html}");
    assert!(html.contains(message), "{status}: {message} in {html}");
}

/// The server, and a front-desk person of `ads` logged in on it.
async fn front_desk() -> (TestApp, Desk) {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER, "logged in");
    (app, desk)
}

#[tokio::test]
async fn an_address_the_pages_cannot_read_gets_the_error_page_in_the_chosen_language() {
    // Arrange: a front-desk person of `ads`, logged in; a visitor who chose English.
    let (app, desk) = front_desk().await;
    let visitor = Desk::new(&app.address);
    assert_eq!(visitor.get("/lang?to=en&back=/login").await.status(), StatusCode::SEE_OTHER, "English chosen");

    // Act: a page number that is no number, a path id that is none, the language switch
    // without its language, an unknown address, a wrong method.
    let page_no = page(&desk, "/callbacks/closed?unit=ads&page=zwei").await;
    let path_id = desk.post(&csrf_of(&desk.text("/callbacks").await.1), "/callbacks/x7/withdraw", &[]).await;
    let path_id = (path_id.status(), path_id.text().await.expect("body"));
    let german = page(&desk, "/lang").await;
    let english = page(&visitor, "/lang").await;
    let unknown = page(&desk, "/gibt-es-nicht").await;
    let method = desk.post("x", "/day", &[]).await;

    // Assert: the error page with the status kept, in German for the desk, English for the
    // visitor who chose it; what was sent is not repeated.
    assert_eq!(page_no.0, StatusCode::BAD_REQUEST);
    assert_error_page(page_no.0, &page_no.1, &page_no.2, "de", "Die Anfrage ist ungültig.");
    assert!(!page_no.2.contains("zwei") && !page_no.2.contains("invalid digit"), "{}", page_no.2);
    assert_eq!(path_id.0, StatusCode::BAD_REQUEST, "{}", path_id.1);
    assert!(path_id.1.contains("Die Anfrage ist ungültig."), "{}", path_id.1);
    assert_eq!(german.0, StatusCode::BAD_REQUEST);
    assert_error_page(german.0, &german.1, &german.2, "de", "Die Anfrage ist ungültig.");
    assert_eq!(english.0, StatusCode::BAD_REQUEST);
    assert_error_page(english.0, &english.1, &english.2, "en", "The request is invalid.");
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    assert_error_page(unknown.0, &unknown.1, &unknown.2, "de", "Nicht gefunden.");
    assert_eq!(method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(method.headers().get("allow").is_some(), "the Allow header is kept");
    let method = method.text().await.expect("body");
    assert!(method.contains("Die Anfrage ist ungültig."), "{method}");
}

#[tokio::test]
async fn a_form_over_the_limit_gets_413_and_the_error_page_and_changes_nothing() {
    // Arrange: a logged-in front desk; a form of 70 KiB (the limit is 64 KiB).
    let (app, desk) = front_desk().await;
    let (_, callbacks) = desk.text("/callbacks").await;
    let long = "x".repeat(70 * 1024);
    let fields = [
        ("unit", "ads"),
        ("name", "Zu Lang"),
        ("phone", "0511 123456"),
        ("language", "de"),
        ("until", "2026-12-20"),
        ("note", long.as_str()),
    ];

    // Act: the form with its length announced (refused before it is read), and the same size
    // sent in chunks without a length (refused while it is read).
    let announced = desk.post(&csrf_of(&callbacks), "/callbacks", &fields).await;
    let announced = (announced.status(), announced.text().await.expect("body"));
    let chunked = chunked_post(&app, "/login", long.as_bytes()).await;

    // Assert: 413 with the error page saying so; nothing stored.
    assert_eq!(announced.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", announced.1);
    assert!(announced.1.contains("Die Eingabe ist zu groß"), "{}", announced.1);
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("Die Eingabe ist zu groß"), "{chunked}");
    let stored = "SELECT COUNT(*) AS n FROM callback_requests WHERE citizen_name = 'Zu Lang'";
    assert_eq!(app.count(stored).await, 0, "nothing of the form is stored");
}

/// The raw answer to a form posted to `path` in chunks (`Transfer-Encoding: chunked`, no
/// `Content-Length`), as a browser streaming a body would send it.
async fn chunked_post(app: &TestApp, path: &str, body: &[u8]) -> String {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(8 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before it has read everything: a failed write is no error
    // of the test, the answer is what counts.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_citizens_page_over_the_limit_gets_the_citizens_page_in_every_language() {
    // Arrange: a citizen's address (the token need not exist: the body is refused first).
    let app = spawn_app().await;
    let long = "x".repeat(70 * 1024);

    // Act
    let response = app
        .client
        .post(format!("{}/t/AAAAAAAAAAAAAAAAAAAAAAAA/cancel", app.address))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf=x&note={long}"))
        .send()
        .await
        .expect("request");

    // Assert: 413, the citizen's page in every language, German first.
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = response.text().await.expect("body");
    let german = html.find("<div lang=\"de\"").expect("a German block");
    let english = html.find("<div lang=\"en\"").expect("an English block");
    assert!(german < english, "German first: {html}");
    assert!(html.contains("<div lang=\"ar\" dir=\"rtl\">"), "{html}");
}

#[tokio::test]
async fn the_api_keeps_its_problem_documents_and_the_calendar_feed_its_plain_text() {
    let app = spawn_app().await;

    let api = app.get_as(&app.admin_token, "/api/v1/callbacks/x7").await;
    let feed = app.client.get(format!("{}/calendar/unbekannt.ics", app.address)).send().await.expect("feed");

    crate::helpers::assert_problem(api, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(feed.status(), StatusCode::NOT_FOUND);
    let content_type = feed.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
}

/// Answers outside the pages (an address no route knows, the API's docs, the API itself) carry
/// the pages' security headers too: nothing is to be framed, leak its address or use the camera.
#[tokio::test]
async fn answers_outside_the_pages_carry_the_security_headers_too() {
    let app = spawn_app().await;
    for path in ["/nonexistent", "/favicon.ico", "/api/docs/", "/api/v1/units", "/health"] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.expect("answer");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{path}");
        assert!(header("permissions-policy").is_some_and(|v| v.contains("camera=()")), "{path}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
}
