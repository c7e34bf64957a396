//! The front desk's day in a real browser, keyboard only, with axe-core on every page state.

use fantoccini::Locator;
use terminbuch::services::bookings::Target;

use crate::app::{LEAD, LOGIN, PASSWORD, UiApp, book_as, spawn};
use crate::browser::{self, Browser, SPACE};
use terminbuch::domain::ids::SlotId;

/// Logs in by keyboard and lands on the booking page.
async fn log_in(app: &UiApp, browser: &Browser) {
    browser.goto(&format!("{}/", app.address)).await;
    assert_eq!(browser.path().await, "/login");
    browser.type_into("login", LOGIN).await;
    browser.type_into("password", PASSWORD).await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book");
}

async fn open_first_slot(browser: &Browser) {
    browser.tab_to("slot-link-1").await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book/details");
}

async fn submit_booking(browser: &Browser) {
    browser.tab_to("submit").await;
    browser.enter().await;
}

/// Tabs to the first radio button named `name`, selects it with the space bar.
async fn choose_first_radio(browser: &Browser, name: &str) {
    let first = browser.client.find(Locator::Css(&format!("input[type=radio][name={name}]"))).await.expect("a radio");
    let id = first.attr("id").await.expect("id").expect("radio has an id");
    browser.tab_to(&id).await;
    browser.press(SPACE).await;
}

#[tokio::test]
async fn a_phoned_in_appointment_is_booked_found_rescheduled_and_cancelled_by_keyboard() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;

    // Wrong password first.
    browser.goto(&format!("{}/", app.address)).await;
    assert_eq!(browser.path().await, "/login");
    browser.assert_accessible("login, empty").await;
    browser.assert_fits_320().await;
    browser.type_into("login", LOGIN).await;
    browser.type_into("password", "falsch").await;
    browser.enter().await;
    assert!(browser.text_of("#error-summary").await.contains("Kennung oder Passwort ist falsch"));
    browser.assert_accessible("login, wrong password").await;

    browser.type_into("password", PASSWORD).await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book", "logged in, the booking page with the own unit preselected");
    assert!(browser.text_of("#free-title").await.contains("Antidiskriminierungsstelle"));
    browser.assert_accessible("book, slots listed").await;
    browser.assert_fits_320().await;

    open_first_slot(&browser).await;
    browser.assert_accessible("details, empty").await;
    browser.assert_fits_320().await;

    // Submitting without a name shows the error at the field and in the summary.
    submit_booking(&browser).await;
    assert!(browser.text_of("#error-summary").await.contains("Namen oder ein Pseudonym"));
    let name = browser.client.find(Locator::Id("name")).await.expect("name field");
    assert_eq!(name.attr("aria-invalid").await.expect("attr").as_deref(), Some("true"));
    browser.assert_accessible("details, error").await;

    browser.type_into("name", "Frau Beispiel").await;
    browser.type_into("phone", "0511 123456").await;
    browser.type_into("email", "beispiel@example.org").await;
    browser.tab_to("consent").await;
    browser.press(SPACE).await;
    browser.type_into("access", "Rollstuhl").await;
    browser.assert_accessible("details, filled").await;
    submit_booking(&browser).await;

    // The read-back screen.
    assert!(browser.path().await.ends_with("/booked"), "{}", browser.path().await);
    let script = browser.text_of("#readback").await;
    assert!(script.starts_with("Ihr Termin ist am "), "{script}");
    assert!(script.contains("Uhr") && script.contains("Hamburger Allee 25, 11. Stock"), "{script}");
    let reference = browser.text_of("#reference").await;
    assert_eq!(reference.len(), 9, "{reference}");
    assert!(script.contains(&reference));
    assert!(script.contains("beispiel@example.org"), "the address as entered is read back: {script}");
    assert!(browser.text_of("#rb-mail").await.contains("wird an diese Adresse gesendet"));
    assert!(browser.text_of("#rb-spelled").await.contains(" wie "), "the Buchungsnummer spelled");
    browser.assert_accessible("read-back, success").await;

    // Find it by reference.
    browser.tab_to("nav-search").await;
    browser.enter().await;
    browser.assert_accessible("search, empty").await;
    browser.type_into("q", &reference.to_lowercase()).await;
    browser.enter().await;
    browser.assert_accessible("search, results").await;
    browser.tab_to("row-1").await;
    browser.enter().await;
    assert_eq!(browser.path().await, format!("/bookings/{reference}"));
    assert_eq!(browser.text_of("#status-value").await, "gebucht");
    let first_time = browser.text_of("#when").await;
    browser.assert_accessible("booking details").await;

    // Reschedule.
    browser.tab_to("reschedule-link").await;
    browser.enter().await;
    browser.assert_accessible("reschedule, empty").await;
    browser.tab_to("reschedule-submit").await;
    browser.enter().await;
    assert!(browser.text_of("#error-summary").await.contains("Bitte wählen Sie einen Termin"));
    browser.assert_accessible("reschedule, error").await;
    choose_first_radio(&browser, "slot").await;
    browser.tab_to("reschedule-submit").await;
    browser.enter().await;
    assert!(browser.path().await.ends_with("/moved"), "the read-back of the new time");
    assert_eq!(browser.text_of("#previous").await, first_time, "the previous time beside the new one");
    browser.assert_accessible("read-back after the move").await;
    browser.tab_to("open-booking").await;
    browser.enter().await;
    assert!(browser.source().await.contains("verschoben"), "history shows the move");
    browser.assert_accessible("booking, moved").await;

    // Cancel: first without a reason, then with one.
    browser.tab_to("cancel-submit").await;
    browser.enter().await;
    assert!(browser.text_of("#reason-error").await.contains("Grund"));
    browser.assert_accessible("cancel, error").await;
    browser.type_into("reason", "Person hat telefonisch abgesagt").await;
    browser.tab_to("cancel-submit").await;
    browser.enter().await;
    browser.tab_to("cancel-confirm").await;
    browser.enter().await;
    assert_eq!(browser.text_of("#status-value").await, "abgesagt");
    browser.assert_accessible("booking, cancelled").await;

    // The day list.
    browser.tab_to("nav-day").await;
    browser.enter().await;
    browser.assert_accessible("day list").await;
    browser.assert_fits_320().await;

    // A search that finds nothing.
    browser.goto(&format!("{}/bookings?q=niemand", app.address)).await;
    assert!(browser.text_of("#results-title + p").await.contains("Keine Termine gefunden"));
    browser.assert_accessible("search, no results").await;

    // The same pages in English.
    browser.goto(&format!("{}/lang?to=en&back=/book", app.address)).await;
    assert_eq!(browser.path().await, "/book");
    assert_eq!(
        browser.client.find(Locator::Css("html")).await.expect("html").attr("lang").await.expect("attr").as_deref(),
        Some("en")
    );
    browser.assert_accessible("book, English").await;
    open_first_slot(&browser).await;
    submit_booking(&browser).await;
    assert!(browser.text_of("#error-summary").await.contains("name or pseudonym"), "errors in English");
    browser.assert_accessible("details, error, English").await;
    browser.goto(&format!("{}/bookings/{reference}", app.address)).await;
    browser.assert_accessible("booking details, English").await;
}

#[tokio::test]
async fn a_slot_taken_meanwhile_offers_the_next_slots_and_keeps_what_was_typed() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in(&app, &browser).await;
    open_first_slot(&browser).await;
    browser.type_into("name", "Herr Anrufer").await;
    browser.type_into("phone", "0511 654321").await;

    // Someone else (the unit lead, at another desk) books the same slot meanwhile.
    let field = browser.client.find(Locator::Css("input[name=slot]")).await.expect("slot field");
    let slot_id: i32 = field.attr("value").await.expect("attr").expect("value").parse().expect("id");
    book_as(&app, LEAD, Target::Slot(SlotId::new(slot_id)), "Andere Person", None).await;

    submit_booking(&browser).await;
    assert!(browser.text_of("#error-summary").await.contains("gerade von jemand anderem vergeben"));
    let name = browser.client.find(Locator::Id("name")).await.expect("name");
    assert_eq!(name.prop("value").await.expect("value").as_deref(), Some("Herr Anrufer"));
    browser.assert_accessible("details, slot taken").await;

    choose_first_radio(&browser, "slot").await;
    submit_booking(&browser).await;
    assert!(browser.path().await.ends_with("/booked"));
    assert!(browser.text_of("#readback").await.contains("Ihr Termin ist am"));
}

#[tokio::test]
async fn an_appointment_at_another_time_is_booked_by_keyboard_and_a_clash_is_named_at_the_field() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in(&app, &browser).await;
    browser.tab_to("other-time").await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book/details");
    browser.assert_accessible("other time, empty").await;
    browser.assert_fits_320().await;

    submit_booking(&browser).await;
    assert!(browser.text_of("#error-summary").await.contains("Datum"), "the date is asked for");
    browser.assert_accessible("other time, error").await;

    // Wednesday 25 November 2026, 15:00: outside the counselling hours, refused at the field.
    browser.set_value("date", "2026-11-25").await;
    browser.set_value("time", "15:00").await;
    browser.type_into("name", "Herr Spät").await;
    browser.assert_accessible("other time, filled").await;
    submit_booking(&browser).await;
    assert!(browser.text_of("#time-error").await.contains("außerhalb der Beratungszeiten"));
    browser.assert_accessible("other time, outside the hours").await;

    // Tuesday 1 December 2026, 15:30: within the hours (14–17), though no slot starts then.
    browser.set_value("date", "2026-12-01").await;
    browser.set_value("time", "15:30").await;
    submit_booking(&browser).await;
    assert!(browser.path().await.ends_with("/booked"), "{}", browser.path().await);
    let script = browser.text_of("#readback").await;
    assert!(script.contains("1. Dezember 2026") && script.contains("15:30 Uhr"), "{script}");

    // The same counsellor at an overlapping time: refused, named at the time field.
    browser.goto(&format!("{}/book/details?unit=ads", app.address)).await;
    browser.set_value("date", "2026-12-01").await;
    browser.set_value("time", "16:00").await;
    browser.type_into("name", "Frau Gleichzeitig").await;
    submit_booking(&browser).await;
    let time = browser.client.find(Locator::Id("time")).await.expect("time field");
    assert_eq!(time.attr("aria-invalid").await.expect("attr").as_deref(), Some("true"));
    assert!(
        browser.text_of("#time-error").await.contains("zu dieser Zeit schon einen Termin"),
        "the clash, at the field"
    );
    let name = browser.client.find(Locator::Id("name")).await.expect("name");
    assert_eq!(name.prop("value").await.expect("value").as_deref(), Some("Frau Gleichzeitig"), "typed data kept");
    browser.assert_accessible("other time, counsellor busy").await;
}

#[tokio::test]
async fn a_forged_form_without_csrf_token_is_refused_in_the_browser() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in(&app, &browser).await;
    let forge = r#"
        const f = document.createElement('form');
        f.method = 'post'; f.action = '/book';
        for (const [k, v] of [['slot', '1'], ['name', 'Forged']]) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();
    "#;
    browser.navigate_by_script(forge).await;
    assert!(browser.source().await.contains("Das Formular ist abgelaufen oder ungültig"));
    browser.assert_accessible("error page").await;
}
