//! The desk's safer changes in a real browser, by keyboard, with axe-core at 1280 and 320 px on
//! every new page and state: the read-back that catches mistakes (an address without consent),
//! cancelling with confirmation, moving like booking (finder with filters, other time).

use chrono_tz::Europe::Berlin;
use fantoccini::Locator;
use terminbuch::domain::booking::{Channel, Citizen};
use terminbuch::domain::records::Booking;
use terminbuch::services::bookings::{self, NewBooking, Target};
use terminbuch::store::directory;

use crate::app::{LOGIN, PASSWORD, ServiceDeps, UiApp, spawn};
use crate::browser::{self, Browser, SPACE};

async fn log_in(app: &UiApp, browser: &Browser) {
    browser.goto(&format!("{}/login", app.address)).await;
    browser.type_into("login", LOGIN).await;
    browser.type_into("password", PASSWORD).await;
    browser.enter().await;
    assert_eq!(browser.path().await, "/book");
}

/// Books the first free slot of the anti-discrimination office for a Turkish-speaking citizen
/// who consented to email, as another desk would.
async fn booked_with_email(app: &UiApp) -> Booking {
    let staff = directory::find_staff_by_login(&app.db, LOGIN).await.expect("db").expect("staff");
    let actor = directory::actor_for_staff(&app.db, staff.id).await.expect("db").expect("actor");
    let services = ServiceDeps::new();
    let unit = terminbuch::services::directory::find_unit(&app.db, "ads").await.expect("unit");
    let today = crate::app::now().with_timezone(&Berlin).date_naive();
    let query = terminbuch::services::availability::FreeSlotQuery {
        from: today,
        to: today + chrono::Days::new(30),
        counsellor_id: None,
        language: Some(terminbuch::domain::language::Language::from_stored("tr")),
        daypart: None,
        limit: 1,
    };
    let free =
        terminbuch::services::availability::free_slots(services.book(&app.db), &unit, &query).await.expect("free");
    let citizen = Citizen {
        name: "Ayşe Demir".into(),
        email: Some("ayse.demir@example.org".into()),
        phone: Some("0511 987654".into()),
        language: terminbuch::domain::language::Language::from_stored("tr"),
        interpreter_language: None,
        accessibility_needs: None,
        email_consent: true,
    };
    let new = NewBooking {
        target: Target::Slot(free[0].slot.id),
        citizen,
        channel: Channel::Phone,
        note: None,
        override_reason: None,
    };
    bookings::create(services.book(&app.db), &actor, new).await.expect("booking")
}

fn display(reference: &str) -> String {
    format!("{}-{}", &reference[..4], &reference[4..])
}

#[tokio::test]
async fn the_read_back_warns_of_an_address_without_consent_and_spells_the_buchungsnummer() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    log_in(&app, &browser).await;
    browser.tab_to("slot-link-1").await;
    browser.enter().await;
    browser.type_into("name", "Herr Tippfehler").await;
    browser.type_into("email", "tipp.fehler@exmaple.org").await;
    browser.tab_to("submit").await;
    browser.enter().await;

    assert!(browser.path().await.ends_with("/booked"), "{}", browser.path().await);
    let warning = browser.text_of("#email-warning").await;
    assert!(warning.contains("ohne Einwilligung") && warning.contains("tipp.fehler@exmaple.org"), "{warning}");
    assert!(browser.text_of("#rb-mail").await.contains("NICHT"));
    assert_eq!(browser.text_of("#rb-email").await, "tipp.fehler@exmaple.org", "the address as entered");
    assert_eq!(browser.text_of("#rb-duration").await, "60 Minuten");
    assert!(!browser.text_of("#rb-counsellor").await.is_empty());
    let script = browser.text_of("#readback").await;
    assert!(script.contains("keine E-Mail") && script.contains("Minuten"), "{script}");
    let reference = browser.text_of("#reference").await.replace('-', "");
    let spelled = browser.text_of("#rb-spelled").await;
    let heads: String = spelled.split([',', '–']).filter_map(|part| part.trim().chars().next()).collect();
    assert_eq!(heads, reference, "every character in order: {spelled}");
    assert!(script.contains(&spelled), "the spelling is part of what is read aloud");
    browser.assert_accessible_at_both_widths("read-back, address without consent").await;
}

#[tokio::test]
async fn cancelling_asks_for_confirmation_then_says_the_citizen_is_emailed() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let booking = booked_with_email(&app).await;
    let key = display(booking.reference.as_str());
    log_in(&app, &browser).await;
    browser.goto(&format!("{}/bookings/{key}", app.address)).await;
    assert_eq!(browser.text_of("#resend").await, "Bestätigung erneut senden");
    browser.type_into("reason", "Person hat abgesagt").await;
    browser.tab_to("cancel-submit").await;
    browser.enter().await;

    // The confirmation: nothing has changed yet.
    assert!(browser.text_of("h1").await.contains("Termin absagen?"));
    assert!(browser.text_of("#cx-notify").await.contains("ayse.demir@example.org"));
    assert!(browser.text_of("#cx-facts").await.contains("Person hat abgesagt"));
    browser.assert_accessible_at_both_widths("cancel, confirmation").await;
    browser.tab_to("cancel-keep").await;
    browser.enter().await;
    assert_eq!(browser.text_of("#status-value").await, "gebucht", "keeping changes nothing");

    browser.type_into("reason", "Person hat abgesagt").await;
    browser.tab_to("cancel-submit").await;
    browser.enter().await;
    browser.tab_to("cancel-confirm").await;
    browser.enter().await;
    assert_eq!(browser.text_of("#status-value").await, "abgesagt");
    let notice = browser.text_of("#cancelled").await;
    assert!(notice.contains("abgesagt") && notice.contains("ayse.demir@example.org"), "{notice}");
    assert_eq!(browser.text_of("#resend").await, "Absage erneut senden", "the button says what it resends");
    browser.assert_accessible_at_both_widths("booking, cancelled, emailed").await;
}

#[tokio::test]
async fn moving_uses_the_finder_with_the_counsellor_and_language_preselected_and_other_times() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let booking = booked_with_email(&app).await;
    let key = display(booking.reference.as_str());
    log_in(&app, &browser).await;
    browser.goto(&format!("{}/bookings/{key}", app.address)).await;
    let first_time = browser.text_of("#when").await;
    browser.tab_to("reschedule-link").await;
    browser.enter().await;

    assert_eq!(browser.text_of("#current-title").await, "Bisheriger Termin");
    assert!(browser.text_of("#current").await.contains(&first_time));
    let selected = |id: &'static str| {
        let browser = &browser;
        async move {
            let field = browser.client.find(Locator::Id(id)).await.expect("field");
            field.prop("value").await.expect("value").unwrap_or_default()
        }
    };
    assert_eq!(selected("f-counsellor").await, booking.counsellor_id.to_string(), "the same counsellor");
    assert_eq!(selected("f-language").await, "tr", "the same language");
    browser.assert_accessible_at_both_widths("move, finder preselected").await;

    // Another counsellor who speaks Turkish, afternoons only.
    let other = directory::find_staff_by_login(&app.db, "d.aydin").await.expect("db").expect("staff");
    let other = if other.id == booking.counsellor_id {
        directory::find_staff_by_login(&app.db, "j.winterberg").await.expect("db").expect("staff")
    } else {
        other
    };
    browser.set_value("f-counsellor", &other.id.to_string()).await;
    browser.set_value("f-language", "").await;
    browser.set_value("f-daypart", "afternoon").await;
    browser.tab_to("finder-show").await;
    browser.enter().await;
    let listed = browser.text_of("#slots").await;
    assert!(listed.contains(&other.display_name), "{listed}");
    assert!(listed.contains("14:00") || listed.contains("15:15"), "afternoon slots: {listed}");
    browser.assert_accessible_at_both_widths("move, filtered").await;
    let first = browser.client.find(Locator::Css("input[name=slot]")).await.expect("a slot");
    let id = first.attr("id").await.expect("attr").expect("id");
    browser.tab_to(&id).await;
    browser.press(SPACE).await;
    browser.tab_to("reschedule-submit").await;
    browser.enter().await;
    assert!(browser.path().await.ends_with("/moved"), "{}", browser.path().await);
    assert_eq!(browser.text_of("#previous").await, first_time);
    assert!(browser.text_of("#readback").await.contains("verlegt"));
    assert_eq!(browser.text_of("#rb-counsellor").await, other.display_name);
    browser.assert_accessible_at_both_widths("read-back after the move").await;

    // Other time: a Sunday is outside the counselling hours, refused at the field.
    browser.goto(&format!("{}/bookings/{key}/reschedule", app.address)).await;
    browser.set_value("date", "2026-11-29").await;
    browser.set_value("time", "10:00").await;
    browser.tab_to("adhoc-submit").await;
    browser.enter().await;
    assert!(browser.text_of("#time-error").await.contains("außerhalb der Beratungszeiten"));
    browser.assert_accessible_at_both_widths("move, other time refused").await;
    browser.set_value("date", "2026-12-01").await;
    browser.set_value("time", "16:00").await;
    browser.tab_to("adhoc-submit").await;
    browser.enter().await;
    assert!(browser.path().await.ends_with("/moved"), "{}", browser.path().await);
    assert!(browser.text_of("#rb-time").await.contains("16:00"));
}

#[tokio::test]
async fn correcting_the_callers_address_by_keyboard_names_a_wrong_one_at_its_field_then_says_where_emails_go() {
    let Some(browser) = browser::start().await else { return };
    let app = spawn().await;
    let booking = booked_with_email(&app).await;
    let key = display(booking.reference.as_str());
    log_in(&app, &browser).await;
    browser.goto(&format!("{}/bookings/{key}", app.address)).await;
    browser.tab_to("contact-link").await;
    browser.enter().await;

    // The form shows what is stored.
    assert!(browser.path().await.ends_with("/contact"), "{}", browser.path().await);
    assert!(browser.source().await.contains(r#"value="ayse.demir@example.org""#));
    browser.assert_accessible_at_both_widths("contact details, as stored").await;
    browser.set_value("email", "").await;
    browser.type_into("email", "ayse.demir@").await;
    browser.tab_to("submit").await;
    browser.enter().await;
    assert!(browser.text_of("#email-error").await.contains("E-Mail"), "named at the field");
    assert!(!browser.text_of("#when").await.is_empty(), "the appointment stays in view");
    browser.assert_accessible_at_both_widths("contact details, wrong address").await;

    browser.set_value("email", "").await;
    browser.type_into("email", "ayse.demir@example.net").await;
    browser.tab_to("submit").await;
    browser.enter().await;
    let notice = browser.text_of("#corrected").await;
    assert!(notice.contains("gespeichert") && notice.contains("neue"), "{notice}");
    assert!(browser.source().await.contains("ayse.demir@example.net"));
    browser.assert_accessible_at_both_widths("booking, contact details corrected").await;
}
