//! The week at a glance and the day list: free slots open the booking form with the slot chosen,
//! an absence flags the bookings it strands, holidays are named; the day list shows duration,
//! language, interpreter, accessibility needs and the start of the note. By keyboard, axe-core at
//! 1280 and 320 px.

use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use fantoccini::Locator;
use terminbuch::domain::booking::{Channel, Citizen};
use terminbuch::services::bookings::{self, NewBooking, Target};
use terminbuch::services::{directory as directory_service, hours};
use terminbuch::store::directory;

use crate::app::{LEAD, LOGIN, PASSWORD, ServiceDeps, UiApp, spawn};
use crate::browser::{self, Browser};
use crate::lead_http::logged_in;

async fn log_in(app: &UiApp, browser: &Browser) {
    browser.goto(&format!("{}/login", app.address)).await;
    browser.type_into("login", LOGIN).await;
    browser.type_into("password", PASSWORD).await;
    browser.enter().await;
}

/// Books Jana Winterberg's slot of Thursday 26 November 2026, 09:00, for a caller with an
/// interpreter, accessibility needs and a long note.
async fn thursday_booking(app: &UiApp) -> terminbuch::domain::records::Booking {
    let services = ServiceDeps::new();
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let jana = directory::find_staff_by_login(&app.db, "j.winterberg").await.expect("db").expect("jana");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let query = terminbuch::services::availability::FreeSlotQuery {
        from: day,
        to: day,
        counsellor_id: Some(jana.id),
        language: None,
        daypart: None,
        limit: 1,
    };
    let free =
        terminbuch::services::availability::free_slots(services.book(&app.db), &unit, &query).await.expect("free");
    let staff = directory::find_staff_by_login(&app.db, LOGIN).await.expect("db").expect("staff");
    let actor = directory::actor_for_staff(&app.db, staff.id).await.expect("db").expect("actor");
    let citizen = Citizen {
        name: "Olena Kowalenko".into(),
        email: None,
        phone: Some("0511 222333".into()),
        language: terminbuch::domain::language::Language::from_stored("uk"),
        interpreter_language: Some(terminbuch::domain::language::Language::from_stored("uk")),
        accessibility_needs: Some("Rollstuhl".into()),
        email_consent: false,
    };
    let note = "Arbeitgeber zahlt den Lohn seit drei Monaten nicht; Unterlagen bringt sie mit, auch die Verträge.";
    let new = NewBooking {
        target: Target::Slot(free[0].slot.id),
        citizen,
        channel: Channel::Phone,
        note: Some(note.into()),
        override_reason: None,
    };
    bookings::create(services.book(&app.db), &actor, new).await.expect("booking")
}

#[tokio::test]
async fn the_day_list_shows_what_the_counsellor_needs_to_prepare() {
    let app = spawn().await;
    thursday_booking(&app).await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let page = client.get(format!("{}/day?unit=ads&date=2026-11-26", app.address)).send().await.unwrap();
    let page = page.text().await.unwrap();
    let row = page.split("id=\"day-rows\"").nth(1).expect("the day list").split("</tbody>").next().unwrap();
    for expected in ["60 Min.", "Ukrainisch", "Rollstuhl", "Arbeitgeber zahlt den Lohn seit drei Monaten nicht;", "…"]
    {
        assert!(row.contains(expected), "{expected} in {row}");
    }
    assert!(!row.contains("auch die Verträge"), "only the start of the note");
    // On wide screens the same day as a grid with the counsellors as columns.
    let grid = page.split("id=\"day-grid\"").nth(1).expect("the day grid").split("</table>").next().unwrap();
    assert!(grid.contains("<th scope=\"col\">Jana Winterberg</th>") && grid.contains("Olena Kowalenko"), "{grid}");
}

#[tokio::test]
async fn the_week_shows_free_slots_to_book_and_flags_bookings_an_absence_strands() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let booking = thursday_booking(&app).await;
    // The lead records Jana Winterberg's absence on Thursday.
    let services = ServiceDeps::new();
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let lead = directory::find_staff_by_login(&app.db, LEAD).await.expect("db").expect("lead");
    let lead = directory::actor_for_staff(&app.db, lead.id).await.expect("db").expect("actor");
    let from = Berlin.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).single().expect("t").with_timezone(&chrono::Utc);
    let until = from + chrono::TimeDelta::days(1);
    hours::add_absence(services.book(&app.db), &lead, &unit, booking.counsellor_id, from, until, "krank")
        .await
        .expect("absence");

    log_in(&app, &browser).await;
    browser.goto(&format!("{}/week?unit=ads&date=2026-11-23", app.address)).await;
    // Days as columns, hours as rows; the absence covers all of Thursday.
    let grid = browser.text_of("#week-grid").await;
    assert!(grid.contains("ganztägig") && grid.contains("09:00") && grid.contains("Olena Kowalenko"), "{grid}");
    assert!(grid.contains("Beratende Person abwesend"), "the stranded booking is flagged: {grid}");
    assert!(grid.contains("frei – buchen"), "free slots are shown");
    assert!(!browser.source().await.contains("krank"), "the absence's reason stays with the lead");
    let stranded = browser.client.find(Locator::Css("#week-grid li.stranded")).await.expect("flagged");
    assert!(stranded.text().await.expect("text").contains("Olena Kowalenko"));
    browser.assert_accessible_at_both_widths("week at a glance").await;
    // At 320 px the same days are a list.
    browser.client.set_window_size(320, 800).await.expect("resize");
    let thursday = browser.text_of("#col-2026-11-26").await;
    assert!(thursday.contains("Olena Kowalenko") && thursday.contains("abwesend"), "{thursday}");
    browser.client.set_window_size(1280, 900).await.expect("resize back");

    // A free slot opens the booking form with it chosen, by keyboard.
    let link = browser.client.find(Locator::Css("#week-grid a[id^='g-free-']")).await.expect("a free slot");
    let href = link.attr("href").await.expect("attr").expect("href");
    let slot = href.split("slot=").nth(1).expect("slot id").to_owned();
    let id = format!("g-free-{slot}");
    browser.tab_to(&id).await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book/details");
    let chosen = browser.client.find(Locator::Css("input[name=slot]")).await.expect("the slot");
    assert_eq!(chosen.attr("value").await.expect("attr").as_deref(), Some(slot.as_str()));
    browser.type_into("name", "Frau Wochenblick").await;
    browser.tab_to("submit").await;
    browser.enter().await;
    assert!(browser.path().await.ends_with("/booked"), "{}", browser.path().await);

    // Christmas week: the holiday is named.
    browser.goto(&format!("{}/week?unit=ads&date=2026-12-21", app.address)).await;
    assert!(browser.text_of("#g-2026-12-25").await.contains("Weihnachtstag"));
    browser.assert_accessible_at_both_widths("week with holidays").await;

    // The day of the absence: the counsellors as columns, the flagged booking in the list too.
    browser.goto(&format!("{}/day?unit=ads&date=2026-11-26", app.address)).await;
    assert!(browser.text_of("#day-grid").await.contains("Beratende Person abwesend"));
    browser.assert_accessible_at_both_widths("day list with the counsellors as columns").await;
}
