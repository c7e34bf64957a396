//! The citizen's own page in a real browser on a phone-sized window (375 × 667) in German,
//! Turkish, Arabic and Persian (both right to left), by keyboard, with axe-core on every state:
//! the appointment, the free slots, the move confirmation, moved, the cancel confirmation,
//! cancelled. Also the admins' self-service settings and the desk's printable confirmation with
//! the link as QR code.

use chrono::Days;
use chrono_tz::Europe::Berlin;
use serde_json::Value;
use terminbuch::domain::booking::{Channel, Citizen};
use terminbuch::domain::citizen_link::{new_token, token_hash};
use terminbuch::services::availability::{self, FreeSlotQuery};
use terminbuch::services::bookings::{self, NewBooking, Target};
use terminbuch::services::directory as directory_service;
use terminbuch::store::{citizen_links, directory};

use crate::app::{LOGIN, ServiceDeps, UiApp, now, spawn};
use crate::browser::{self, Browser, SPACE};

/// Books a free slot a week ahead for a citizen speaking `language`; returns a link token for it
/// and the booking's reference.
async fn booking_with_link(app: &UiApp, language: &str) -> (String, String) {
    let services = ServiceDeps::new();
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let from = now().with_timezone(&Berlin).date_naive() + Days::new(7);
    let query =
        FreeSlotQuery { from, to: from + Days::new(14), counsellor_id: None, language: None, daypart: None, limit: 1 };
    let slot = availability::free_slots(services.book(&app.db), &unit, &query).await.expect("free")[0].slot.id;
    let staff = directory::find_staff_by_login(&app.db, LOGIN).await.expect("db").expect("staff");
    let actor = directory::actor_for_staff(&app.db, staff.id).await.expect("db").expect("actor");
    let citizen = Citizen {
        name: "Ayşe Demir".into(),
        email: None,
        phone: None,
        language: terminbuch::domain::language::Language::from_stored(language),
        interpreter_language: None,
        accessibility_needs: None,
        email_consent: false,
    };
    let new =
        NewBooking { target: Target::Slot(slot), citizen, channel: Channel::Phone, note: None, override_reason: None };
    let booking = bookings::create(services.book(&app.db), &actor, new).await.expect("booking");
    let token = new_token();
    let printed = terminbuch::domain::citizen_link::Origin::Printed(actor.staff_id());
    citizen_links::insert(&app.db, booking.id, token_hash(&token), printed, now()).await.expect("link");
    (token, booking.reference.as_str().to_owned())
}

/// Checks the phone-sized window's page: the axe-core rules, no sideways scrolling, the writing
/// direction of the document and of its main text.
async fn check_state(browser: &Browser, state: &str, dir: &str) {
    let measured = browser
        .client
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth, document.documentElement.dir, \
             getComputedStyle(document.querySelector('main')).direction]",
            vec![],
        )
        .await
        .expect("measure");
    let width = measured[0].as_i64().unwrap_or(0);
    assert!(width <= 375, "{state}: a phone-sized window ({measured})");
    assert!(measured[1].as_i64().unwrap_or(i64::MAX) <= width + 1, "{state}: no sideways scrolling ({measured})");
    assert_eq!(measured[2], Value::from(dir), "{state}: the document's direction");
    assert_eq!(measured[3], Value::from(dir), "{state}: the text runs {dir}");
    browser.assert_accessible(state).await;
}

async fn walk_through(language: &str, dir: &str, moved: &str, cancelled: &str) {
    let Some(browser) = browser::start().await else { return };
    browser.client.set_window_size(375, 667).await.expect("phone-sized window");
    let app = spawn().await;
    let (token, _) = booking_with_link(&app, language).await;
    browser.goto(&format!("{}/t/{token}", app.address)).await;
    let html = browser.source().await;
    assert!(html.contains(&format!(r#"lang="{language}""#)), "{language}: the booking's language");
    check_state(&browser, &format!("{language}: the appointment"), dir).await;

    // Move: to the list of free slots, choose the first by keyboard, confirm.
    browser.tab_to("move").await;
    browser.enter().await;
    assert!(browser.path().await.ends_with("/move"));
    check_state(&browser, &format!("{language}: free slots"), dir).await;
    let source = browser.source().await;
    let first = source.split(r#"name="slot" id=""#).nth(1).expect("a free slot");
    let radio: String = first.chars().take_while(|c| *c != '"').collect();
    browser.tab_to(&radio).await;
    browser.press(SPACE).await;
    browser.tab_to("move-next").await;
    browser.enter().await;
    check_state(&browser, &format!("{language}: move confirmation"), dir).await;
    browser.tab_to("move-do").await;
    browser.enter().await;
    assert!(browser.text_of("[role=status]").await.contains(moved), "{language}: moved");
    check_state(&browser, &format!("{language}: moved"), dir).await;

    // Cancel: the confirmation step with an optional reason, then the cancelled appointment.
    browser.tab_to("cancel").await;
    browser.enter().await;
    check_state(&browser, &format!("{language}: cancel confirmation"), dir).await;
    browser.type_into("reason", "—").await;
    browser.tab_to("cancel-do").await;
    browser.enter().await;
    assert!(browser.text_of("[role=status]").await.contains(cancelled), "{language}: cancelled");
    // The cancellation's calendar entry (`STATUS:CANCELLED`) updates or removes it in a calendar.
    assert!(browser.source().await.contains(r#"id="calendar""#), "{language}: the cancellation for the calendar");
    check_state(&browser, &format!("{language}: cancelled"), dir).await;
}

#[tokio::test]
async fn german_by_keyboard_on_a_phone() {
    walk_through("de", "ltr", "Ihr Termin ist verschoben", "Ihr Termin ist abgesagt").await;
}

#[tokio::test]
async fn turkish_by_keyboard_on_a_phone() {
    walk_through("tr", "ltr", "Randevunuz değiştirildi", "Randevunuz iptal edildi").await;
}

#[tokio::test]
async fn arabic_right_to_left_by_keyboard_on_a_phone() {
    walk_through("ar", "rtl", "تم تغيير موعدك", "تم إلغاء موعدك").await;
}

#[tokio::test]
async fn persian_right_to_left_by_keyboard_on_a_phone() {
    walk_through("fa", "rtl", "نوبت شما تغییر کرد", "نوبت شما لغو شد").await;
}

#[tokio::test]
async fn an_admin_sets_a_units_self_service_by_keyboard_and_the_page_follows() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let (token, _) = booking_with_link(&app, "de").await;
    crate::lead::log_in_as(&app, &browser, crate::app::ADMIN).await;
    browser.goto(&format!("{}/admin/units/ads/self-service", app.address)).await;
    browser.assert_accessible_at_both_widths("self-service settings").await;
    browser.set_value("ss-cutoff", "9999").await;
    browser.tab_to("ss-save").await;
    browser.enter().await;
    crate::lead::wait_text(&browser, "#ss-cutoff-error", "0 bis 672").await;
    browser.assert_accessible_at_both_widths("self-service settings, out of range").await;
    browser.set_value("ss-cutoff", "672").await;
    browser.set_value("ss-moves", "0").await;
    browser.tab_to("ss-save").await;
    browser.enter().await;
    crate::lead::wait_text(&browser, "#saved", "Gespeichert").await;
    browser.assert_accessible_at_both_widths("self-service settings, saved").await;
    // Four weeks' notice: the appointment a week ahead can no longer be changed through the link.
    browser.goto(&format!("{}/t/{token}", app.address)).await;
    let html = browser.source().await;
    assert!(html.contains("Bitte rufen Sie uns an") && !html.contains(r#"id="cancel""#), "{html}");
}

#[tokio::test]
async fn the_desk_prints_a_confirmation_with_the_link_as_qr_code_in_the_citizens_language() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let (_, reference) = booking_with_link(&app, "tr").await;
    crate::lead::log_in_as(&app, &browser, LOGIN).await;
    browser.goto(&format!("{}/bookings/{reference}", app.address)).await;
    browser.tab_to("print").await;
    browser.enter().await;
    let html = browser.source().await;
    assert!(html.contains(r#"lang="tr""#) && html.contains("Randevu numarası"), "the citizen's language");
    assert!(html.contains("<svg") && html.contains(r#"id="qr""#), "the QR code");
    assert!(!browser.text_of("h1").await.contains("Antidiskriminierungsstelle"), "a neutral heading");
    browser.assert_accessible_at_both_widths("printable confirmation").await;
    let link = browser.text_of("#link").await;
    assert!(link.starts_with(&format!("{}/t/", app.address)), "{link}");
    browser.goto(&link).await;
    assert!(browser.source().await.contains("Randevunuz"), "the printed link opens the citizen's page");
}
