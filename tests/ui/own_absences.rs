//! A counsellor's own absences page in a real browser: reached from the menu, an error, a check
//! of the appointment it affects, saved and removed, by keyboard (dates set by script, as their
//! typed format depends on the browser's locale), with axe-core at 1280 and 320 px.

use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use terminbuch::domain::time::TimeSlot;
use terminbuch::services::bookings::Target;
use terminbuch::services::directory;

use crate::app::{add_person, book_as_front_desk, spawn};
use crate::browser::{self, Browser};
use crate::lead::{follow, log_in_as, press_button, wait_text};

const COUNSELLOR: &str = "beraterin";

/// The id of the first element matching `css`.
async fn id_of(browser: &Browser, css: &str) -> String {
    let element = browser.client.find(fantoccini::Locator::Css(css)).await.expect("the element");
    element.attr("id").await.expect("attr").expect("an id")
}

#[tokio::test]
async fn a_counsellor_checks_saves_and_removes_their_absence_by_keyboard() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    // A counsellor of the anti-discrimination office with an appointment on Wednesday 2 December.
    let counsellor = add_person(&app.db, COUNSELLOR, "Beraterin Test", "counsellor", Some("ads")).await;
    let unit = directory::find_unit(&app.db, "ads").await.expect("unit");
    let start = Berlin.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).single().expect("instant").with_timezone(&chrono::Utc);
    let time = TimeSlot::new(start, start + chrono::TimeDelta::hours(1)).expect("slot");
    let target = Target::Adhoc { unit_id: unit.id, counsellor_id: counsellor, time };
    let booking = book_as_front_desk(&app, target, "Frau Mittwoch", Some("nachgetragen")).await;
    let reference = booking.reference.to_string();

    log_in_as(&app, &browser, COUNSELLOR).await;
    follow(&browser, "nav-absences", "Meine Abwesenheiten").await;
    assert_eq!(browser.path().await, "/absences");
    browser.assert_accessible_at_both_widths("own absences, none yet").await;

    // Error: no dates.
    press_button(&browser, "absence-save").await;
    wait_text(&browser, "#error-summary", "Datum").await;
    browser.assert_accessible_at_both_widths("own absences, error").await;

    // The check names the appointment and records nothing.
    browser.set_value("absence-from", "2026-12-02").await;
    browser.set_value("absence-to", "2026-12-02").await;
    browser.type_into("absence-reason", "Fortbildung").await;
    press_button(&browser, "absence-preview").await;
    wait_text(&browser, "#saved", "noch nicht gespeichert").await;
    wait_text(&browser, "#affected", &reference).await;
    assert!(browser.text_of("main").await.contains("Keine Einträge."), "nothing recorded by the check");
    browser.assert_accessible_at_both_widths("own absences, checked").await;

    // Saved: the page lists the absence and the appointment to move.
    press_button(&browser, "absence-save").await;
    wait_text(&browser, "#saved", "Gespeichert").await;
    wait_text(&browser, "#affected", &reference).await;
    wait_text(&browser, "#absences-list", "Fortbildung").await;
    browser.assert_accessible_at_both_widths("own absences, saved").await;

    // Removed.
    let delete = id_of(&browser, "[id^='absences-delete-']").await;
    press_button(&browser, &delete).await;
    wait_text(&browser, "#absences-delete-ask", "Abwesenheit löschen?").await;
    wait_text(&browser, "#absences-delete-what", "Fortbildung").await;
    browser.assert_accessible_at_both_widths("own absences, asked before deleting").await;
    press_button(&browser, "absences-delete-confirm").await;
    wait_text(&browser, "#saved", "Gelöscht").await;
    assert!(browser.client.find(fantoccini::Locator::Id(&delete)).await.is_err(), "gone from the list");
    browser.assert_accessible_at_both_widths("own absences, removed").await;
}
