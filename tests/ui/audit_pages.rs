//! The admins' audit log and the statistics page in a real browser: filters (also by the person
//! concerned, with the details in words), errors, empty and filled states pass axe-core at 1280
//! and 320 px; the CSV downloads through the session; who may open them.

use chrono::TimeDelta;
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use terminbuch::domain::booking::Outcome;
use terminbuch::domain::records::Booking;
use terminbuch::domain::time::TimeSlot;
use terminbuch::services::bookings::{self, Target};
use terminbuch::services::directory as directory_service;
use terminbuch::store::directory;

use crate::app::{ADMIN, LEAD, LOGIN, ServiceDeps, UiApp, book_as_front_desk, now, spawn};
use crate::browser::{self, Browser};
use crate::lead::{follow, log_in_as, press_button, wait_text};
use crate::lead_http::logged_in;

/// axe-core at 1280 px and at 320 px, and no sideways scrolling at 320 px.
async fn accessible_at_both_widths(browser: &Browser, state: &str) {
    browser.assert_accessible(&format!("{state}, 1280 px")).await;
    browser.client.set_window_size(320, 800).await.expect("resize");
    browser.assert_accessible(&format!("{state}, 320 px")).await;
    browser.assert_fits_320().await;
}

/// An ad-hoc appointment of the anti-discrimination office `days_ago` days back at 10:00, entered
/// afterwards by the unit lead (only leads override the rule against past times).
async fn past_booking(app: &UiApp, days_ago: i64, name: &str) -> Booking {
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let counsellor = directory_service::counsellors(&app.db, &unit).await.expect("counsellors")[0].id;
    let day = (now() - TimeDelta::days(days_ago)).with_timezone(&Berlin).date_naive();
    let starts_at = terminbuch::domain::time::local_to_utc(day.and_hms_opt(10, 0, 0).expect("time"), Berlin)
        .expect("a plain local time");
    let time = TimeSlot::new(starts_at, starts_at + TimeDelta::minutes(45)).expect("a slot");
    let target = Target::Adhoc { unit_id: unit.id, counsellor_id: counsellor, time };
    book_as_front_desk(app, target, name, Some("nachgetragen")).await
}

/// Four appointments of November 2026: attended, no-show, cancelled, open.
async fn settled_bookings(app: &UiApp) {
    let staff = directory::find_staff_by_login(&app.db, LOGIN).await.expect("db").expect("staff");
    let actor = directory::actor_for_staff(&app.db, staff.id).await.expect("db").expect("actor");
    let services = ServiceDeps::new();
    let deps = services.book(&app.db);
    let attended = past_booking(app, 7, "Erschienen").await;
    let absent = past_booking(app, 6, "Fehlt").await;
    let cancelled = past_booking(app, 5, "Abgesagt").await;
    past_booking(app, 4, "Offen").await;
    bookings::record_outcome(deps, &actor, &attended.id.to_string(), Outcome::Attended).await.expect("attended");
    bookings::record_outcome(deps, &actor, &absent.id.to_string(), Outcome::NoShow).await.expect("no-show");
    bookings::cancel(deps, &actor, &cancelled.id.to_string(), "abgesagt", None).await.expect("cancelled");
}

#[tokio::test]
async fn an_admin_filters_the_audit_log_and_downloads_it() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let booking = past_booking(&app, 3, "Frau Protokoll").await;
    let reference = booking.reference.to_string();
    log_in_as(&app, &browser, ADMIN).await;

    follow(&browser, "nav-audit", "Protokoll").await;
    wait_text(&browser, "#audit", "Anmeldung").await;
    wait_text(&browser, "#audit", "Termin gebucht").await;
    accessible_at_both_widths(&browser, "audit log, newest entries").await;

    // Entered afterwards (a past time overrides a rule): the unit lead booked it.
    browser.set_value("audit-actor", LEAD).await;
    browser.set_value("audit-action", "booking_created").await;
    press_button(&browser, "audit-show").await;
    wait_text(&browser, "#audit", &reference).await;
    let rows = browser.client.find_all(fantoccini::Locator::Css("#audit tbody tr")).await.expect("rows");
    assert_eq!(rows.len(), 1, "one booking by the unit lead");
    assert!(!browser.source().await.contains("Frau Protokoll"), "the audit shows no citizen's name");
    let csv = browser.client.find(fantoccini::Locator::Id("audit-csv")).await.expect("csv link");
    let href = csv.attr("href").await.expect("attr").expect("href");
    assert!(href.contains("action=booking_created") && href.contains(&format!("actor={LEAD}")), "{href}");
    accessible_at_both_widths(&browser, "audit log, filtered").await;

    browser.set_value("audit-booking", "ZZZZ-ZZZZ").await;
    press_button(&browser, "audit-show").await;
    wait_text(&browser, "#error-summary", "Kein Termin").await;
    accessible_at_both_widths(&browser, "audit log, unknown appointment").await;

    browser.set_value("audit-booking", "").await;
    browser.set_value("audit-from", "2030-01-01").await;
    press_button(&browser, "audit-show").await;
    wait_text(&browser, "#audit-none", "Keine Einträge").await;
    accessible_at_both_widths(&browser, "audit log, nothing found").await;

    browser.goto(&format!("{}/lang?to=en&back=/admin/audit", app.address)).await;
    wait_text(&browser, "h1", "Audit log").await;
    accessible_at_both_widths(&browser, "audit log, English").await;

    let (admin, _) = logged_in(&app, ADMIN).await;
    let download = admin.get(format!("{}{href}", app.address)).send().await.expect("csv");
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "text/csv; charset=utf-8");
    let text = download.text().await.expect("text");
    assert!(text.starts_with("id,at,actor_kind") && text.contains(&reference) && text.lines().count() == 2, "{text}");
    let (lead, _) = logged_in(&app, LEAD).await;
    for path in ["/admin/audit", "/admin/audit.csv"] {
        let refused = lead.get(format!("{}{path}", app.address)).send().await.expect("page");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path} is for admins");
    }
}

#[tokio::test]
async fn an_admin_reads_what_concerned_one_person_in_words() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in_as(&app, &browser, ADMIN).await;
    browser.goto(&format!("{}/admin/staff/{LEAD}", app.address)).await;
    browser.set_value("person-name", "Lena Leitung").await;
    browser.set_value("person-email", "lena@example.org").await;
    press_button(&browser, "person-save").await;
    wait_text(&browser, "#saved", "").await;

    follow(&browser, "nav-audit", "Protokoll").await;
    browser.set_value("audit-subject", LEAD).await;
    press_button(&browser, "audit-show").await;
    wait_text(&browser, "#audit", "Geänderte Felder: Name, E-Mail").await;
    let cells = browser.client.find_all(fantoccini::Locator::Css("#audit td.detail")).await.expect("cells");
    assert!(cells.len() >= 2, "added and changed");
    for cell in cells {
        let text = cell.text().await.expect("text");
        assert!(text.starts_with("Betrifft: Lena Leitung (leitung)"), "only what concerned the lead: {text}");
    }
    let csv = browser.client.find(fantoccini::Locator::Id("audit-csv")).await.expect("csv link");
    let href = csv.attr("href").await.expect("attr").expect("href");
    assert!(href.contains(&format!("subject={LEAD}")), "{href}");
    accessible_at_both_widths(&browser, "audit log, about one person").await;

    browser.goto(&format!("{}/admin/audit?subject=niemand", app.address)).await;
    wait_text(&browser, "#error-summary", "Niemand hat diese Anmeldung").await;
    wait_text(&browser, "#audit-subject-error", "Niemand hat diese Anmeldung").await;
    accessible_at_both_widths(&browser, "audit log, unknown person concerned").await;

    browser.goto(&format!("{}/lang?to=en&back=%2Fadmin%2Faudit%3Fsubject%3D{LEAD}", app.address)).await;
    wait_text(&browser, "#audit", "Changed fields: name, email").await;
    wait_text(&browser, "#audit", "Concerns: Lena Leitung (leitung)").await;
}

#[tokio::test]
async fn a_unit_lead_reads_the_statistics_as_charts_with_their_tables() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    settled_bookings(&app).await;
    log_in_as(&app, &browser, LEAD).await;

    follow(&browser, "nav-statistics", "Statistik").await;
    wait_text(&browser, "h1", "Antidiskriminierungsstelle").await;
    let month = browser.text_of("#per-month tbody tr:last-child").await;
    assert_eq!(month.split_whitespace().collect::<Vec<_>>(), ["November", "2026", "4", "1", "1", "1", "1"]);
    let total = browser.text_of("#per-month tfoot").await;
    assert_eq!(total.split_whitespace().collect::<Vec<_>>(), ["Summe", "4", "1", "1", "1", "1"]);
    let chart = browser.client.find(fantoccini::Locator::Css("#per-month svg")).await.expect("a chart");
    assert_eq!(chart.attr("role").await.expect("attr").as_deref(), Some("img"));
    wait_text(&browser, "#by-weekday", "Dienstag").await;
    wait_text(&browser, "#by-language", "Deutsch").await;
    wait_text(&browser, "#by-channel", "Telefon").await;
    accessible_at_both_widths(&browser, "statistics, filled").await;

    browser.set_value("stats-from", "2026-12").await;
    browser.set_value("stats-to", "2026-01").await;
    press_button(&browser, "stats-show").await;
    wait_text(&browser, "#error-summary", "nicht nach dem Ende").await;
    accessible_at_both_widths(&browser, "statistics, range error").await;

    browser.set_value("stats-from", "2020-01").await;
    browser.set_value("stats-to", "2020-03").await;
    press_button(&browser, "stats-show").await;
    wait_text(&browser, "#per-month", "Keine Termine").await;
    accessible_at_both_widths(&browser, "statistics, empty").await;

    browser.goto(&format!("{}/lang?to=en&back=/statistics", app.address)).await;
    wait_text(&browser, "h1", "Statistics").await;
    accessible_at_both_widths(&browser, "statistics, English").await;

    let (lead, _) = logged_in(&app, LEAD).await;
    let csv = lead.get(format!("{}/statistics.csv?unit=ads&from=2026-11&to=2026-11", app.address)).send().await;
    let text = csv.expect("csv").text().await.expect("text");
    assert!(text.lines().any(|line| line == "ads,2026-11,total,,,4,1,1,1,1"), "{text}");
    let (desk, _) = logged_in(&app, LOGIN).await;
    let refused = desk.get(format!("{}/statistics", app.address)).send().await.expect("page");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "statistics are for unit leads and admins");
    let other = lead.get(format!("{}/statistics?unit=sdr", app.address)).send().await.expect("page");
    assert_eq!(other.status(), StatusCode::FORBIDDEN, "a lead sees their own units only");
}
