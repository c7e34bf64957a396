//! A client that sends no request headers (or only part of them) within the header read timeout
//! (`TERMINBUCH_HEADER_READ_TIMEOUT_MS`) is disconnected by the server, and so is a kept-alive
//! connection that stays idle; a complete request is answered.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{default_now, spawn_app_with};

/// Sends `request` and reads until the server closes the connection; everything it sent.
/// The bound is far above the timeout: it only keeps a server that never closes from hanging the test.
async fn send_and_read_until_closed(address: &str, request: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(address).await.map_err(|err| err.to_string())?;
    stream.write_all(request.as_bytes()).await.map_err(|err| err.to_string())?;
    let mut received = Vec::new();
    match tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut received)).await {
        Ok(Ok(_)) => Ok(String::from_utf8_lossy(&received).into_owned()),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionReset => Ok(String::new()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("the server kept the connection open".to_owned()),
    }
}

#[tokio::test]
async fn a_client_that_does_not_finish_its_request_headers_is_disconnected() {
    // Arrange: a short timeout.
    let app = spawn_app_with(default_now(), |settings| settings.header_read_timeout_ms = 300).await;
    let address = app.address.trim_start_matches("http://");
    let cases = [
        ("nothing sent", "", false),
        ("half a header", "GET /health HTTP/1.1\r\nHost: terminbuch\r\nX-Slow: ", false),
        ("a complete request, then idle", "GET /health HTTP/1.1\r\nHost: terminbuch\r\n\r\n", true),
    ];
    for (case, request, answered) in cases {
        // Act
        let received = send_and_read_until_closed(address, request).await;

        // Assert: closed by the server (Ok), answered only when the request was complete.
        let received = received.unwrap_or_else(|err| panic!("{case}: {err}"));
        assert_eq!(received.starts_with("HTTP/1.1 200"), answered, "{case}: {received:?}");
    }
}
