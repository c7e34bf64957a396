//! The phone desk's second version in a real browser, by keyboard, with axe-core at 1280 and
//! 320 px on every new page and state: search as people spell (Alt + S), the callback list
//! (a cancellation makes an entry bookable, booked with one action), the calendar subscription.

use chrono_tz::Europe::Berlin;
use fantoccini::Locator;
use terminbuch::domain::access::Actor;
use terminbuch::domain::booking::{Channel, Citizen};
use terminbuch::domain::records::Booking;
use terminbuch::services::availability::{self, FreeSlotQuery};
use terminbuch::services::bookings::{self, NewBooking, Target};
use terminbuch::services::directory as directory_service;
use terminbuch::store::directory;

use crate::app::{LOGIN, PASSWORD, ServiceDeps, UiApp, now, spawn};
use crate::browser::{self, Browser};
use terminbuch::domain::ids::{SlotId, StaffId};

const ALT: &str = "\u{e00a}";

async fn log_in(app: &UiApp, browser: &Browser) {
    browser.goto(&format!("{}/login", app.address)).await;
    browser.type_into("login", LOGIN).await;
    browser.type_into("password", PASSWORD).await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book");
}

async fn front_desk(app: &UiApp) -> Actor {
    let staff = directory::find_staff_by_login(&app.db, LOGIN).await.expect("db").expect("staff");
    directory::actor_for_staff(&app.db, staff.id).await.expect("db").expect("actor")
}

/// Books `target` for `name` with `phone`, as another desk would.
async fn book_for(app: &UiApp, target: Target, name: &str, phone: &str) -> Booking {
    let actor = front_desk(app).await;
    let services = ServiceDeps::new();
    let citizen = Citizen {
        name: name.to_owned(),
        email: None,
        phone: Some(phone.to_owned()),
        language: terminbuch::domain::language::Language::from_stored("tr"),
        interpreter_language: None,
        accessibility_needs: None,
        email_consent: false,
    };
    let new = NewBooking { target, citizen, channel: Channel::Phone, note: None, override_reason: None };
    bookings::create(services.book(&app.db), &actor, new).await.expect("booking")
}

/// The free slots of the anti-discrimination office of `counsellor` (any if `None`) until `to_days`.
async fn free_slots(app: &UiApp, counsellor: Option<StaffId>, to_days: u64) -> Vec<SlotId> {
    let services = ServiceDeps::new();
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let today = now().with_timezone(&Berlin).date_naive();
    let query = FreeSlotQuery {
        from: today,
        to: today + chrono::Days::new(to_days),
        counsellor_id: counsellor,
        language: None,
        daypart: None,
        limit: 50,
    };
    let free = availability::free_slots(services.book(&app.db), &unit, &query).await.expect("free slots");
    free.iter().map(|f| f.slot.id).collect()
}

/// Presses Alt + `key` (the page's access key) and waits for the page it opens.
async fn access_key(browser: &Browser, key: &str) {
    browser.navigate_by_keys(&format!("{ALT}{key}")).await;
}

#[tokio::test]
async fn alt_s_opens_the_search_focused_and_names_are_found_as_people_spell_them() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let slots = free_slots(&app, None, 30).await;
    let yilmaz = book_for(&app, Target::Slot(SlotId::new((slots[0]).get())), "Ayşe Yılmaz", "0511 987654").await;
    let mueller = book_for(&app, Target::Slot(SlotId::new((slots[1]).get())), "Jonas Müller", "+49 170 5551234").await;
    let sencan = book_for(&app, Target::Slot(SlotId::new((slots[2]).get())), "Emre Şencan", "0511 444555").await;
    log_in(&app, &browser).await;
    assert!(browser.text_of("#shortcuts").await.contains("Alt + S"), "the shortcut is listed at the foot");

    access_key(&browser, "s").await;
    assert_eq!(browser.path().await, "/bookings");
    assert_eq!(browser.focus_settled_on("q").await, "q", "the search field has the focus on arrival");
    browser.assert_accessible_at_both_widths("search, empty").await;

    for (query, expected) in [
        ("yilmaz", &yilmaz),
        ("YILMAZ", &yilmaz),
        ("Yılmaz", &yilmaz),
        ("muller", &mueller),
        ("Mueller", &mueller),
        ("Müller", &mueller),
        ("sencan", &sencan),
        ("0511987654", &yilmaz),
        ("0170-555 1234", &mueller),
    ] {
        access_key(&browser, "s").await;
        assert_eq!(browser.focus_settled_on("q").await, "q");
        browser.press(query).await;
        browser.enter().await;
        let results = browser.text_of("#results-title + .table-wrap").await;
        assert!(results.contains(&expected.citizen.name), "{query} finds {}: {results}", expected.citizen.name);
        // The form is posted: what was searched for is in no address (history, proxies' logs).
        let url = browser.client.current_url().await.expect("url");
        assert_eq!(url.path(), "/bookings");
        let kept = url.query().and_then(|q| q.strip_prefix("s="));
        assert!(
            kept.is_some_and(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())),
            "only an id: {url}"
        );
        let rows = browser.client.find_all(Locator::Css("#results-title + .table-wrap tbody tr")).await.expect("rows");
        assert_eq!(rows.len(), 1, "{query} finds one booking");
    }
    browser.assert_accessible_at_both_widths("search, results").await;
    browser.tab_to("row-1").await;
    browser.enter().await;
    assert!(browser.path().await.starts_with("/bookings/"), "a result opens by keyboard");
}

#[tokio::test]
async fn a_cancellation_makes_a_waiting_caller_bookable_and_one_action_books_the_slot() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    // Deniz Aydın is fully booked until Thursday.
    let aydin = directory::find_staff_by_login(&app.db, "d.aydin").await.expect("db").expect("staff");
    let mut taken = Vec::new();
    for slot in free_slots(&app, Some(aydin.id), 2).await {
        taken.push(book_for(&app, Target::Slot(slot), "Bisher Gebucht", "0511 111111").await);
    }
    assert!(!taken.is_empty());
    log_in(&app, &browser).await;

    browser.tab_to("nav-callbacks").await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/callbacks");
    assert!(browser.text_of("#cb-empty").await.contains("Niemand wartet"));
    browser.assert_accessible_at_both_widths("callback list, empty").await;

    browser.tab_to("cb-save").await;
    browser.enter().await;
    assert!(browser.text_of("#error-summary").await.contains("Namen"));
    browser.assert_accessible_at_both_widths("callback list, errors").await;

    browser.type_into("cb-name", "Emre Şencan").await;
    browser.type_into("cb-phone", "0511 987654").await;
    browser.set_value("cb-counsellor", &aydin.id.to_string()).await;
    browser.set_value("cb-before", "2026-11-27").await;
    browser.set_value("cb-until", "2026-12-04").await;
    browser.assert_accessible_at_both_widths("callback list, form filled").await;
    browser.tab_to("cb-save").await;
    browser.enter().await;
    assert!(browser.text_of("#saved").await.contains("Rückrufliste"));
    assert!(browser.text_of("#callbacks").await.contains("wartet"), "no slot matches yet");
    browser.assert_accessible_at_both_widths("callback list, waiting").await;

    // Another desk cancels one of Deniz Aydın's appointments.
    let services = ServiceDeps::new();
    let actor = front_desk(&app).await;
    bookings::cancel(services.book(&app.db), &actor, &taken[0].id.to_string(), "abgesagt", None).await.expect("cancel");

    browser.tab_to("nav-callbacks").await;
    browser.enter().await;
    let entry = browser.text_of("#callbacks").await;
    assert!(entry.contains("Rückruf möglich") && entry.contains("Deniz Aydın"), "{entry}");
    browser.assert_accessible_at_both_widths("callback list, callback possible").await;
    let button = browser.client.find(Locator::Css("#callbacks button.primary")).await.expect("book button");
    let id = button.attr("id").await.expect("attr").expect("id");
    browser.tab_to(&id).await;
    browser.enter().await;

    assert!(browser.path().await.ends_with("/booked"), "{}", browser.path().await);
    let reference = browser.text_of("#reference").await;
    let services = ServiceDeps::new();
    let details = bookings::get(services.book(&app.db), &actor, &reference).await.expect("the booking");
    assert_eq!(details.booking.citizen.name, "Emre Şencan");
    assert_eq!(details.booking.citizen.phone.as_deref(), Some("0511 987654"));
    assert_eq!(details.booking.slot_id, taken[0].slot_id, "the freed slot");
    browser.tab_to("nav-callbacks").await;
    browser.enter().await;
    assert!(browser.text_of("#cb-empty").await.contains("Niemand wartet"), "the entry left the list");

    // The closed entries, by keyboard: the booked one, with its appointment.
    browser.tab_to("cb-closed-link").await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/callbacks/closed");
    let closed = browser.text_of("#callbacks-closed").await;
    assert!(closed.contains("Emre Şencan") && closed.contains("Termin gebucht"), "{closed}");
    browser.assert_accessible_at_both_widths("closed callbacks").await;
}

#[tokio::test]
async fn a_counsellor_creates_and_revokes_a_calendar_subscription_by_keyboard() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in(&app, &browser).await;
    browser.tab_to("nav-calendar").await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/me/calendar");
    browser.assert_accessible_at_both_widths("calendar, none yet").await;

    browser.tab_to("feed-create").await;
    browser.enter().await;
    let field = browser.client.find(Locator::Id("feed-url")).await.expect("the address");
    let url = field.prop("value").await.expect("value").expect("an address");
    assert!(url.contains("/calendar/") && url.ends_with(".ics"), "{url}");
    browser.assert_accessible_at_both_widths("calendar, address shown once").await;
    let feed = reqwest::get(&url).await.expect("fetch");
    assert_eq!(feed.status(), reqwest::StatusCode::OK);
    assert!(feed.text().await.expect("text").starts_with("BEGIN:VCALENDAR"));

    browser.goto(&format!("{}/me/calendar", app.address)).await;
    assert!(!browser.source().await.contains(&url), "the address is shown only once");
    browser.assert_accessible_at_both_widths("calendar, active").await;
    browser.tab_to("feed-revoke").await;
    browser.enter().await;
    assert!(browser.text_of("#saved").await.contains("widerrufen"));
    browser.assert_accessible_at_both_widths("calendar, revoked").await;
    assert_eq!(reqwest::get(&url).await.expect("fetch").status(), reqwest::StatusCode::NOT_FOUND);
}
