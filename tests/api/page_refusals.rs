//! A rule's refusal or a clash on a staff page is a message at the form with 409/422, never a 500
//! (issue 12: one error mapping for both edges), and nothing is written.

use reqwest::StatusCode;

use crate::helpers::{TestApp, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD};
use terminbuch::domain::accounts::RequireMfa;

async fn front_desk(app: &TestApp) -> Desk {
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER, "logged in");
    desk
}

async fn book_on_page(desk: &Desk, slot: i64, name: &str) -> (StatusCode, String) {
    let slot = slot.to_string();
    let page = format!("/book/details?slot={slot}");
    // As the page sends them: the slot, its unit (a hidden field) and the caller's details.
    let fields =
        [("slot", slot.as_str()), ("unit", "ads"), ("name", name), ("phone", "0511 123456"), ("language", "de")];
    let response = desk.submit(&page, "/book", &fields).await;
    (response.status(), response.text().await.expect("page"))
}

#[tokio::test]
async fn a_refused_or_taken_slot_on_the_booking_form_is_a_message_at_the_slot() {
    // Arrange: a front-desk person; a counsellor away over the next days; another's free slot.
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let absent = app.counsellor_id("ads", "Jana Winterberg").await;
    let in_absence =
        app.free_slots("ads", &format!("counsellor={absent}&limit=1")).await[0]["slot_id"].as_i64().expect("a slot");
    let absence = serde_json::json!({
        "counsellor_id": absent, "from_date": "2026-11-24", "until_date": "2026-12-04", "reason": "krank",
    });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let other = app.counsellor_id("ads", "Samira Haddad").await;
    let free =
        app.free_slots("ads", &format!("counsellor={other}&limit=1")).await[0]["slot_id"].as_i64().expect("a slot");

    // Act: book the absent counsellor's slot; then the free slot twice.
    let (refused, refused_page) = book_on_page(&desk, in_absence, "Erste Person").await;
    let (first, _) = book_on_page(&desk, free, "Zweite Person").await;
    let (taken, taken_page) = book_on_page(&desk, free, "Dritte Person").await;

    // Assert: the refusal and the clash are named at the slot; only the free slot was booked.
    assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY, "{refused_page}");
    assert!(refused_page.contains("href=\"#slot\""), "the message points at the slot");
    assert!(refused_page.contains("Die Beraterin oder der Berater ist zu dieser Zeit abwesend."), "{refused_page}");
    assert_eq!(first, StatusCode::SEE_OTHER, "the free slot is booked");
    assert_eq!(taken, StatusCode::CONFLICT, "{taken_page}");
    assert!(taken_page.contains("href=\"#slot\""), "the clash points at the slot");
    let names = "SELECT COUNT(*) AS n FROM bookings WHERE citizen_name IN ('Erste Person', 'Dritte Person')";
    assert_eq!(app.count(names).await, 0, "nothing of the refused bookings is stored");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Zweite Person'").await, 1);
}
