//! The page for requests of the person concerned in a real browser: search by email, the
//! results, the confirmation step and the erasure pass axe-core at 1280 and 320 px; a
//! counsellor may not open it.

use chrono::TimeDelta;
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use terminbuch::domain::time::TimeSlot;
use terminbuch::services::bookings::Target;
use terminbuch::services::directory as directory_service;

use crate::app::{ADMIN, LOGIN, UiApp, book_as_front_desk, now, spawn};
use crate::browser::{self, Browser};
use crate::lead::{follow, log_in_as, press_button, wait_text};
use crate::lead_http::logged_in;

const EMAIL: &str = "frau.antrag@example.org";

/// An appointment of the anti-discrimination office tomorrow at 10:00 with an email address.
async fn booking_with_email(app: &UiApp) {
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let counsellor = directory_service::counsellors(&app.db, &unit).await.expect("counsellors")[0].id;
    let day = (now() + TimeDelta::days(1)).with_timezone(&Berlin).date_naive();
    let starts_at = terminbuch::domain::time::local_to_utc(day.and_hms_opt(10, 0, 0).expect("time"), Berlin)
        .expect("a plain local time");
    let time = TimeSlot::new(starts_at, starts_at + TimeDelta::minutes(45)).expect("a slot");
    let target = Target::Adhoc { unit_id: unit.id, counsellor_id: counsellor, time };
    let booking = book_as_front_desk(app, target, "Frau Antrag", Some("nachgetragen")).await;
    let row = entity::booking::ActiveModel {
        id: Set(booking.id),
        citizen_email: Set(Some(EMAIL.into())),
        ..Default::default()
    };
    row.update(&app.db).await.expect("email stored");
}

async fn both_widths(browser: &Browser, state: &str) {
    browser.assert_accessible_at_both_widths(state).await;
}

#[tokio::test]
async fn an_admin_finds_and_erases_a_persons_data_after_confirming() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    booking_with_email(&app).await;
    log_in_as(&app, &browser, ADMIN).await;

    follow(&browser, "nav-data-subject", "Auskunft").await;
    both_widths(&browser, "request page, empty").await;

    press_button(&browser, "ds-search").await;
    wait_text(&browser, "#error-summary", "eine Telefonnummer oder eine Buchungsnummer").await;
    both_widths(&browser, "request page, nothing entered").await;

    browser.set_value("ds-email", EMAIL).await;
    press_button(&browser, "ds-search").await;
    wait_text(&browser, "#ds-bookings", "Frau Antrag").await;
    both_widths(&browser, "request page, results").await;

    // The complete answer to print, for the person: stored codes in words, times local.
    follow(&browser, "ds-print", "Auskunft über gespeicherte Daten").await;
    let printed = browser.text_of(".dsp-booking").await;
    assert!(printed.contains("Vereinbart über\nTelefon"), "the channel in words: {printed}");
    assert!(!printed.contains("phone"), "no stored code: {printed}");
    assert!(printed.contains(", 10:00 – 10:45 Uhr"), "the appointment's local time: {printed}");
    let history = browser.text_of(".dsp-history").await;
    assert!(history.contains("angelegt für") && history.contains(", 10:00"), "local time: {history}");
    both_widths(&browser, "printed answer").await;
    follow(&browser, "dsp-back", "Auskunft").await;
    browser.set_value("ds-email", EMAIL).await;
    press_button(&browser, "ds-search").await;
    wait_text(&browser, "#ds-bookings", "Frau Antrag").await;

    press_button(&browser, "ds-erase-ask").await;
    wait_text(&browser, "#ds-confirm", "Wirklich löschen").await;
    both_widths(&browser, "request page, confirmation").await;

    press_button(&browser, "ds-erase").await;
    wait_text(&browser, "#ds-erased", "gelöscht").await;
    assert_eq!(browser.text_of("#ds-erased-bookings").await, "1");
    assert!(!browser.source().await.contains("Frau Antrag"));
    both_widths(&browser, "request page, erased").await;

    let (counsellor, _) = logged_in(&app, LOGIN).await;
    let refused = counsellor.get(format!("{}/data-subject", app.address)).send().await.expect("page");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "front desk may not answer requests");
}
