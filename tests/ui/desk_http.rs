//! The booking desk through HTTP: the admin's first unit, the language switch, and recording
//! the outcome of an appointment.

use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use terminbuch::domain::access::Role;
use terminbuch::domain::time::TimeSlot;
use terminbuch::services::bookings::Target;
use terminbuch::services::directory as directory_service;
use terminbuch::store::directory;

use crate::app::{ADMIN, LOGIN, UiApp, book_as_front_desk, spawn};
use crate::lead_http::logged_in;

/// A booking of the anti-discrimination office that began yesterday (booked with an override,
/// as staff do when they enter an appointment afterwards).
async fn yesterdays_booking(app: &UiApp) -> String {
    adhoc_at(app, (2026, 11, 23, 10), "Herr Gestern", Some("nachgetragen")).await
}

/// An ad-hoc appointment of the anti-discrimination office at a local (year, month, day, hour).
async fn adhoc_at(app: &UiApp, (y, m, d, h): (i32, u32, u32, u32), name: &str, reason: Option<&str>) -> String {
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let counsellor =
        directory::list_unit_staff(&app.db, unit.id, Some(Role::Counsellor)).await.expect("db").remove(0).id;
    let start = Berlin.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("instant").with_timezone(&chrono::Utc);
    let time = TimeSlot::new(start, start + chrono::TimeDelta::hours(1)).expect("slot");
    let target = Target::Adhoc { unit_id: unit.id, counsellor_id: counsellor, time };
    book_as_front_desk(app, target, name, reason).await.reference.as_str().to_owned()
}

#[tokio::test]
async fn the_week_view_shows_a_weekend_day_only_when_something_is_booked_then() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let week = |date: &'static str| {
        let url = format!("{}/week?unit=ads&date={date}", app.address);
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = week("2026-11-23").await;
    assert!(before.contains("id=\"day-2026-11-27\"") && !before.contains("id=\"day-2026-11-28\""), "Monday to Friday");
    adhoc_at(&app, (2026, 11, 28, 11), "Frau Samstag", Some("Samstagstermin")).await;
    let after = week("2026-11-23").await;
    assert!(after.contains("id=\"day-2026-11-28\"") && after.contains("Frau Samstag"), "the Saturday appointment");
    assert!(!after.contains("id=\"day-2026-11-29\""), "Sunday stays hidden");
}

#[tokio::test]
async fn an_admin_without_a_unit_starts_booking_with_the_first_unit() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, ADMIN).await;
    let page = client.get(format!("{}/book", app.address)).send().await.unwrap().text().await.unwrap();
    let title = page.split("id=\"free-title\"").nth(1).expect("the free slots' heading");
    assert!(title[..200].contains("Antidiskriminierungsstelle"), "{}", &title[..200]);
    assert!(page.contains("id=\"slot-link-1\""), "free slots are listed");
}

#[tokio::test]
async fn the_language_switch_returns_to_the_same_page_and_only_to_this_site() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let page =
        client.get(format!("{}/book?daypart=afternoon", app.address)).send().await.unwrap().text().await.unwrap();
    let link = page.split("/lang?to=en&amp;back=").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default();
    assert_eq!(link, "/book%3Fdaypart%3Dafternoon", "the switch keeps the query");
    let switch = |back: &'static str| {
        let client = client.clone();
        let query = serde_urlencoded::to_string([("to", "en"), ("back", back)]).expect("query");
        let url = format!("{}/lang?{query}", app.address);
        async move { client.get(url).send().await.unwrap() }
    };
    let back = switch("/book?daypart=afternoon").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "/book?daypart=afternoon");
    for foreign in ["//evil.example/", "/\\evil.example/", "https://evil.example/"] {
        assert_eq!(switch(foreign).await.headers()["location"], "/", "{foreign}");
    }
}

#[tokio::test]
async fn the_outcome_is_recorded_and_shown_in_the_history() {
    let app = spawn().await;
    let reference = yesterdays_booking(&app).await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{reference}/outcome", app.address);
    let post = |outcome: &'static str| client.post(&url).form(&[("csrf", csrf.as_str()), ("outcome", outcome)]).send();
    assert_eq!(post("vielleicht").await.unwrap().status(), StatusCode::BAD_REQUEST, "an unknown outcome");
    let details = format!("{}/bookings/{reference}", app.address);
    let page = client.get(&details).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"outcome-title\""), "a past booking offers the outcome");
    assert!(!page.contains("als nicht erschienen erfasst"));

    assert_eq!(post("no_show").await.unwrap().status(), StatusCode::SEE_OTHER);
    let page = client.get(&details).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("nicht erschienen"), "status shown");
    assert!(page.contains("als nicht erschienen erfasst"), "history names the outcome");

    assert_eq!(post("attended").await.unwrap().status(), StatusCode::SEE_OTHER, "an outcome can be corrected");
    let page = client.get(&details).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("als wahrgenommen erfasst"), "history names the corrected outcome");
}
