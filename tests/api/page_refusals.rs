//! A rule's refusal or a clash on a staff page is a message at the form with 409/422, never a 500
//! (issue 12: one error mapping for both edges), and nothing is written.

use reqwest::StatusCode;

use crate::helpers::{TestApp, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, hidden, text_of_id};
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
    app.add_person("empfang.zwei", "front_desk", Some("ads")).await;
    let colleague = Desk::new(&app.address);
    assert_eq!(colleague.log_in("empfang.zwei", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let (taken, taken_page) = book_on_page(&colleague, free, "Dritte Person").await;
    // The same desk sending the form again after "Back" (a new form, the name mended).
    let (own, own_page) = book_on_page(&desk, free, "Zweite Persson").await;

    // Assert: the refusal and the clash are named at the slot; only the free slot was booked.
    assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY, "{refused_page}");
    assert!(refused_page.contains("href=\"#slot\""), "the message points at the slot");
    assert!(refused_page.contains("Die Beraterin oder der Berater ist zu dieser Zeit abwesend."), "{refused_page}");
    assert_eq!(first, StatusCode::SEE_OTHER, "the free slot is booked");
    assert_eq!(taken, StatusCode::CONFLICT, "{taken_page}");
    assert!(taken_page.contains("href=\"#slot\""), "the clash points at the slot");
    assert!(taken_page.contains("von jemand anderem vergeben"), "{taken_page}");
    assert_eq!(own, StatusCode::CONFLICT, "{own_page}");
    let reference = stored_reference(&app, "Zweite Person").await;
    assert!(
        own_page.contains(&format!("Diesen Termin haben Sie gerade selbst gebucht: Buchungsnummer {reference}")),
        "{own_page}"
    );
    assert!(!own_page.contains("von jemand anderem"), "not told as someone else's");
    // Another caller (another number) at the same desk: not this caller's booking.
    let slot = free.to_string();
    let fields = [
        ("slot", slot.as_str()),
        ("unit", "ads"),
        ("name", "Andere Anruferin"),
        ("phone", "0170 998877"),
        ("language", "de"),
    ];
    let other = desk.submit(&format!("/book/details?slot={slot}"), "/book", &fields).await;
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert!(other.text().await.expect("page").contains("von jemand anderem vergeben"), "another caller's");
    let names = "SELECT COUNT(*) AS n FROM bookings WHERE citizen_name IN ('Erste Person', 'Dritte Person')";
    assert_eq!(app.count(names).await, 0, "nothing of the refused bookings is stored");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Zweite Person'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Zweite Persson'").await, 0);
}

/// The reference of the booking of `name`, as read out.
async fn stored_reference(app: &TestApp, name: &str) -> String {
    let found: Vec<serde_json::Value> = app.list_bookings(&format!("q={}", name.replace(' ', "+"))).await;
    let booking = found.iter().find(|b| b["citizen"]["name"] == name).expect("the booking");
    booking["reference"].as_str().expect("reference").to_owned()
}

/// A confirmation page shows one time; if another desk (or the citizen) moves the booking before
/// "Ja, absagen" or "Verschieben" is pressed, the press changes nothing and the page says why, so
/// nobody cancels or moves a time they were not shown. A fresh page then works.
#[tokio::test]
async fn a_cancel_or_move_confirmed_on_a_page_showing_an_earlier_time_changes_nothing() {
    // Arrange: a booking, and the cancel confirmation and move page as the desk sees them.
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let free = app.free_slots("ads", "limit=3").await;
    let slot = |i: usize| free[i]["slot_id"].as_i64().expect("a slot");
    let booked = app.book_slot(slot(0)).await;
    let reference = booked["reference"].as_str().expect("reference").to_owned();
    let page = format!("/bookings/{reference}");
    let cancel = format!("/bookings/{reference}/cancel");
    let move_to = format!("/bookings/{reference}/reschedule");
    let confirm = desk.submit(&page, &cancel, &[("reason", "Termin passt nicht")]).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let shown = hidden(&confirm.text().await.expect("page"), "version");
    let (_, move_page) = desk.text(&move_to).await;
    let move_shown = hidden(&move_page, "version");

    // Act: another desk moves the booking; then this desk confirms on its pages.
    let body = serde_json::json!({ "slot_id": slot(1) });
    assert_eq!(app.reschedule_booking(&reference, &body).await.status(), StatusCode::OK);
    let yes = [("reason", "Termin passt nicht"), ("confirm", "1"), ("version", shown.as_str())];
    let cancelled = desk.submit(&page, &cancel, &yes).await;
    let slot_two = slot(2).to_string();
    let moved = desk.submit(&page, &move_to, &[("slot", slot_two.as_str()), ("version", move_shown.as_str())]).await;

    // Assert: both refused with the reason on the page; the booking is where the other desk put it.
    assert_eq!(cancelled.status(), StatusCode::CONFLICT);
    assert!(cancelled.text().await.expect("page").contains("gleichzeitig geändert"), "the page says why");
    assert_eq!(moved.status(), StatusCode::CONFLICT);
    assert!(moved.text().await.expect("page").contains("gleichzeitig geändert"), "the page says why");
    let now: serde_json::Value = app.get_booking(&reference).await.json().await.expect("json");
    assert_eq!(now["status"], "booked");
    assert_eq!(now["starts_at"], free[1]["starts_at"]);
    let cancellations = "SELECT COUNT(*) AS n FROM outbox_messages WHERE kind = 'cancellation'";
    assert_eq!(app.count(cancellations).await, 0, "no cancellation email");

    // A fresh confirmation shows the new time and cancels it.
    let confirm = desk.submit(&page, &cancel, &[("reason", "Termin passt nicht")]).await;
    let fresh = hidden(&confirm.text().await.expect("page"), "version");
    assert_ne!(fresh, shown);
    let yes = [("reason", "Termin passt nicht"), ("confirm", "1"), ("version", fresh.as_str())];
    assert_eq!(desk.submit(&page, &cancel, &yes).await.status(), StatusCode::SEE_OTHER);
    let now: serde_json::Value = app.get_booking(&reference).await.json().await.expect("json");
    assert_eq!(now["status"], "cancelled");
}

/// The desk has the booking form of a slot open while the lead changes the hours so that the slot
/// is no more: the booking is refused at the slot with the form kept as typed and other free
/// times offered (it was a bare 404 page that lost what was typed).
#[tokio::test]
async fn a_slot_gone_while_the_form_was_open_keeps_what_was_typed() {
    // Arrange: the form of a free slot is open; the lead removes the hours that made the slot.
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");
    let (status, _) = desk.text(&format!("/book/details?slot={slot}")).await;
    assert_eq!(status, StatusCode::OK);
    let id = terminbuch::domain::ids::SlotId::new(i32::try_from(slot).expect("id"));
    let stored = terminbuch::store::slots::find(&app.db, id).await.expect("db").expect("the slot");
    let rule = stored.rule_id.expect("a slot of weekly hours");
    let removed = app.delete_as(&app.admin_token, &format!("/api/v1/units/ads/counselling-hours/{rule}")).await;
    assert_eq!(removed.status(), StatusCode::OK);

    // Act: the desk books it with what the caller said (the form as the open page sends it).
    let slot_field = slot.to_string();
    let fields = [
        ("slot", slot_field.as_str()),
        ("unit", "ads"),
        ("name", "Vierte Person"),
        ("phone", "0511 123456"),
        ("language", "de"),
    ];
    let response = desk.submit("/book", "/book", &fields).await;
    let (status, html) = (response.status(), response.text().await.expect("page"));

    // Assert: a message at the slot, the name still in the form, nothing stored.
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("Diesen Termin gibt es nicht mehr"), "{html}");
    assert!(html.contains("href=\"#slot\""), "the message points at the slot");
    assert!(html.contains("value=\"Vierte Person\""), "what was typed is kept");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Vierte Person'").await, 0);
}

/// An ad-hoc time that would end after 9999-12-31 is refused at the time field on the page, as
/// the API refuses it, even with an override (it was a 500: the database's check on the end).
#[tokio::test]
async fn an_adhoc_time_ending_after_the_last_date_is_a_message_at_the_time() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("leitung", "unit_lead", Some("ads")).await;
    let lead = Desk::new(&app.address);
    assert_eq!(lead.log_in("leitung", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await.to_string();
    let fields = [
        ("adhoc", "1"),
        ("unit", "ads"),
        ("counsellor", counsellor.as_str()),
        ("date", "9999-12-31"),
        ("time", "23:00"),
        ("duration", "120"),
        ("override", "Ausnahme laut Leitung"),
        ("name", "Fünfte Person"),
        ("phone", "0511 123456"),
        ("language", "de"),
    ];
    let response = lead.submit("/book/details?unit=ads", "/book", &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(html.contains("href=\"#time\""), "the message points at the time: {html}");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Fünfte Person'").await, 0);

    // A time the clocks skip (last Sunday of March) or have twice (last Sunday of October) is
    // said as such at the time, not as a time still to be entered.
    for (date, said) in [("2027-03-28", "Die Uhr wird in dieser Nacht vorgestellt"), ("2027-10-31", "zweimal")] {
        let mut at_night = fields;
        at_night[3] = ("date", date);
        at_night[4] = ("time", "02:30");
        let response = lead.submit("/book/details?unit=ads", "/book", &at_night).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.expect("page");
        let message = text_of_id(&html, "time-error");
        assert!(message.contains(said), "{date}: {message}");
    }
}

/// A cancelled appointment has no confirmation to print: no button, and a posted form is refused
/// without a new citizen's link (the paper read like a confirmation of the cancelled time).
#[tokio::test]
async fn a_cancelled_booking_prints_no_confirmation() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");
    let reference = app.book_slot(slot).await["reference"].as_str().expect("reference").to_owned();
    let page = format!("/bookings/{reference}");
    let print = format!("/bookings/{reference}/print");
    let (_, booked) = desk.text(&page).await;
    assert!(booked.contains("id=\"print\""), "a booked appointment can be printed");
    assert_eq!(app.cancel_booking(&reference, "abgesagt").await.status(), StatusCode::OK);
    let links = "SELECT COUNT(*) AS n FROM citizen_links";
    let before = app.count(links).await;

    let (_, cancelled) = desk.text(&page).await;
    let printed = desk.submit(&page, &print, &[]).await;

    assert!(!cancelled.contains("id=\"print\""), "no print button for a cancelled appointment");
    assert_eq!(printed.status(), StatusCode::CONFLICT);
    assert_eq!(app.count(links).await, before, "no new link for a cancelled appointment");
}

/// An appointment that has begun, or whose person's data were erased, has no confirmation to
/// print either: no button, and a form posted from a page shown before is refused with a message
/// that says why, without a new citizen's link (the paper of a begun or past appointment would
/// read like a confirmation; an erased one's link would open nothing).
#[tokio::test]
async fn a_begun_or_erased_booking_prints_no_confirmation() {
    // Arrange: Tuesday 24 November 2026, ten minutes before the afternoon's first slot.
    let before_two = default_now() + chrono::TimeDelta::minutes(5 * 60 + 50);
    let app = spawn_app_with(before_two, |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let today = app.free_slots("ads", "limit=1").await;
    let first = app.book_slot(today[0]["slot_id"].as_i64().expect("a slot")).await;
    let later = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let mut body = crate::helpers::booking_body(later[0]["slot_id"].as_i64().expect("a slot"));
    body["citizen"]["phone"] = serde_json::json!("0511 555555");
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: serde_json::Value = response.json().await.expect("booking");
    let (soon, erased) = (first["reference"].as_str().expect("reference"), second["reference"].as_str().expect("ref"));
    for reference in [soon, erased] {
        let (_, booked) = desk.text(&format!("/bookings/{reference}")).await;
        assert!(booked.contains(r#"id="print""#), "{reference}: a booked appointment ahead can be printed");
    }
    let erase = serde_json::json!({ "phone": "0511 555555", "reason": "request" });
    assert_eq!(app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &erase).await.status(), StatusCode::OK);
    app.clock.advance(chrono::TimeDelta::minutes(15));
    let starts_at =
        chrono::DateTime::parse_from_rfc3339(first["starts_at"].as_str().expect("start")).expect("time").to_utc();
    assert!(starts_at <= app.clock.now() && app.clock.now() - starts_at < chrono::TimeDelta::hours(1), "begun");
    let links = "SELECT COUNT(*) AS n FROM citizen_links";
    let before = app.count(links).await;

    for (reference, case) in [(soon, "begun"), (erased, "erased")] {
        // Act
        let page = format!("/bookings/{reference}");
        let (_, shown) = desk.text(&page).await;
        let printed = desk.submit(&page, &format!("{page}/print"), &[]).await;

        // Assert
        assert!(!shown.contains(r#"id="print""#), "{case}: no print button");
        assert_eq!(printed.status(), StatusCode::CONFLICT, "{case}");
        let html = printed.text().await.expect("page");
        assert!(html.contains("Keine Bestätigung gedruckt"), "{case}: the desk is told why: {html}");
    }
    assert_eq!(app.count(links).await, before, "no new link");
}

/// A counsellor who leaves keeps their name on the bookings still in the book (which the desk
/// must move): the booking's page, the day list with its grid, the week and the move page name
/// them (they showed "#id", and the day's grid had no column for them).
#[tokio::test]
async fn a_deactivated_counsellors_bookings_still_name_them() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await;
    let free = app.free_slots("ads", &format!("counsellor={counsellor}&limit=1")).await;
    let booked = app.book_slot(free[0]["slot_id"].as_i64().expect("a slot")).await;
    let reference = booked["reference"].as_str().expect("reference");
    let day = free[0]["starts_at"].as_str().expect("start")[..10].to_owned();
    let id = terminbuch::domain::ids::StaffId::new(i32::try_from(counsellor).expect("id"));
    let login = terminbuch::store::directory::find_staff(&app.db, id).await.expect("db").expect("staff").login;
    let gone =
        app.post_as(&app.admin_token, &format!("/api/v1/staff/{login}/deactivate"), &serde_json::json!({})).await;
    assert_eq!(gone.status(), StatusCode::OK);

    for page in [
        format!("/bookings/{reference}"),
        format!("/day?unit=ads&date={day}"),
        format!("/week?unit=ads&date={day}"),
        format!("/bookings/{reference}/reschedule"),
    ] {
        let (status, html) = desk.text(&page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains("Jana Winterberg"), "{page} names the counsellor");
        assert!(!html.contains(&format!("#{counsellor}<")), "{page} shows no bare id");
    }
}

/// An absence or closure needs a reason of one line, as through the API: the pages took an empty
/// one, 60,000 characters or line breaks. Each is a message at the reason, and nothing is stored.
#[tokio::test]
async fn an_absence_or_closure_without_a_proper_reason_is_a_message_at_the_reason() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("leitung", "unit_lead", Some("ads")).await;
    let lead = Desk::new(&app.address);
    assert_eq!(lead.log_in("leitung", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await.to_string();
    let long = "x".repeat(60_000);
    let periods = "SELECT (SELECT COUNT(*) FROM absences) + (SELECT COUNT(*) FROM closures) AS n";
    let before = app.count(periods).await;
    for reason in ["", "   ", long.as_str(), "Fortbildung\r\nBcc: x@example.org"] {
        for (action, field) in [("/hours/ads/absences", "absence-reason"), ("/hours/ads/closures", "closure-reason")] {
            let fields = [
                ("counsellor", counsellor.as_str()),
                ("from", "2027-01-11"),
                ("to", "2027-01-12"),
                ("reason", reason),
                ("action", "save"),
            ];
            let response = lead.submit("/hours?unit=ads", action, &fields).await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{action} {:.20}", reason);
            let html = response.text().await.expect("page");
            assert!(html.contains(&format!("href=\"#{field}\"")), "the message points at the reason: {action}");
        }
    }
    // The API trimmed after checking the length: a reason of spaces was stored empty.
    let blank = serde_json::json!({ "counsellor_id": counsellor.parse::<i64>().expect("id"), "from_date": "2027-01-11", "reason": "   " });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &blank).await;
    let problem = crate::helpers::assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    assert_eq!(app.count(periods).await, before, "nothing stored");
    let fields = [
        ("counsellor", counsellor.as_str()),
        ("from", "2027-01-11"),
        ("to", "2027-01-12"),
        ("reason", " Fortbildung "),
        ("action", "save"),
    ];
    assert_eq!(lead.submit("/hours?unit=ads", "/hours/ads/absences", &fields).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences WHERE reason = 'Fortbildung'").await, 1, "trimmed");
}

/// A search text that is no search (too long, or no letters or digits) is a message at the field,
/// not "no appointments found" (which would send the desk looking elsewhere for a caller).
#[tokio::test]
async fn a_search_text_that_is_no_search_is_a_message_at_the_field() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let long = format!("/bookings?q={}", "a".repeat(201));
    for (path, says) in [(long.as_str(), "höchstens 200 Zeichen"), ("/bookings?q=%21%3F%21", "Buchstaben oder Ziffern")]
    {
        let (status, html) = desk.text(path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(html.contains("id=\"q-error\"") && html.contains(says), "{html}");
        assert!(!html.contains("Keine Termine gefunden"), "{path}");
    }
    let (status, html) = desk.text("/bookings?q=Meyer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Keine Termine gefunden") && !html.contains("q-error"));
}

/// The callback list's form answers a refusal with 422 and the message at the field (it answered
/// 200, as if the entry had been added), and adds nothing.
#[tokio::test]
async fn a_callback_without_a_name_is_refused_with_422() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let fields = [("unit", "ads"), ("name", ""), ("phone", "0511 123456"), ("language", "de"), ("until", "2027-01-15")];
    let response = desk.submit("/callbacks?unit=ads", "/callbacks", &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.expect("page").contains("href=\"#cb-name\""), "the message points at the name");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM callback_requests").await, 0);
}

/// The booking form sent twice at once (a double click, Enter twice) or again later (the back
/// button) books once, and every answer leads to that booking; a sending that booked nothing
/// (the slot was taken) leaves the form to be sent again.
#[tokio::test]
async fn the_booking_form_sent_twice_books_once_and_every_answer_leads_to_the_booking() {
    // Arrange
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let slots = app.free_slots("ads", "limit=2").await;
    let (slot, other) = (slots[0]["slot_id"].to_string(), slots[1]["slot_id"].to_string());
    let (_, html) = desk.text(&format!("/book/details?slot={slot}")).await;
    let (csrf, submission) = (crate::web_client::csrf_of(&html), hidden(&html, "submission"));
    let fields = [
        ("slot", slot.as_str()),
        ("unit", "ads"),
        ("name", "Doppel Klick"),
        ("phone", "0511 123456"),
        ("language", "de"),
        ("submission", submission.as_str()),
    ];

    // Act: sent twice at once, then once more.
    let (one, two) = tokio::join!(desk.post(&csrf, "/book", &fields), desk.post(&csrf, "/book", &fields));
    let again = desk.post(&csrf, "/book", &fields).await;

    // Assert
    for response in [&one, &two, &again] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let booked = crate::web_client::location(&one);
    assert!(booked.ends_with("/booked"), "{booked}");
    assert_eq!(crate::web_client::location(&two), booked, "the second sending leads to the first's booking");
    assert_eq!(crate::web_client::location(&again), booked);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bookings WHERE citizen_name = 'Doppel Klick'").await, 1);
    // Booked without an address: the read-back offers to add one (the contact form).
    let (_, read_back) = desk.text(&booked).await;
    let contact = booked.replace("/booked", "/contact");
    assert!(
        read_back.contains(&format!(r#"<a href="{contact}" id="rb-add-email">E-Mail-Adresse nachtragen</a>"#)),
        "{read_back:.3000}"
    );
    assert_eq!(desk.text(&contact).await.0, StatusCode::OK, "the contact form");

    // A form whose sending booked nothing is handled anew when sent again.
    let (_, html) = desk.text(&format!("/book/details?slot={other}")).await;
    let taken_first = app.post_booking(&crate::retention::personal_booking(other.parse().expect("test step"))).await;
    assert_eq!(taken_first.status(), StatusCode::CREATED);
    let submission = hidden(&html, "submission");
    let fields = [
        ("slot", other.as_str()),
        ("unit", "ads"),
        ("name", "Zu Spät"),
        ("phone", "0511 123456"),
        ("language", "de"),
        ("submission", submission.as_str()),
    ];
    for _ in 0..2 {
        let response = desk.post(&crate::web_client::csrf_of(&html), "/book", &fields).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let page = response.text().await.expect("page");
        assert!(page.contains("von jemand anderem vergeben"), "taken, each time: {page}");
        assert_eq!(hidden(&page, "submission"), submission, "the form keeps its id");
    }
}

/// The move page opens with free slots to choose from: for a caller whose language the booking's
/// counsellor does not counsel in (a booking with an interpreter), and after the counsellor left.
#[tokio::test]
async fn the_move_page_opens_with_free_slots_for_an_interpreters_booking_and_after_the_counsellor_left() {
    // Arrange: a Ukrainian caller booked with Jana Winterberg (German and English).
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let slots = app.free_slots("ads", &format!("counsellor={jana}&limit=1")).await;
    let mut body = crate::helpers::booking_body(slots[0]["slot_id"].as_i64().expect("a slot"));
    body["citizen"]["language"] = "uk".into();
    body["citizen"]["interpreter_language"] = "uk".into();
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booked: serde_json::Value = response.json().await.expect("json");
    let page = format!("/bookings/{}/reschedule", booked["reference"].as_str().expect("a reference"));

    // Act and assert: Jana is preselected, the language is not.
    let (status, html) = desk.text(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"slot-1\"") && !html.contains("id=\"no-slots\""), "free slots are offered");
    assert!(html.contains("Jana Winterberg"), "{html}");

    // Jana no longer counsels in the unit: any counsellor's free slots.
    let member = terminbuch::store::directory::find_staff(&app.db, terminbuch::domain::ids::StaffId::new(jana as i32))
        .await
        .expect("test step")
        .expect("Jana");
    let removed =
        app.delete_as(&app.admin_token, &format!("/api/v1/staff/{}/roles/counsellor?unit=ads", member.login)).await;
    assert!(removed.status().is_success(), "{}", removed.status());
    let (status, html) = desk.text(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"slot-1\"") && !html.contains("id=\"no-slots\""), "other counsellors' slots");
}

/// A slot found with the finder's language filter opens the booking form with the caller's
/// language set to it (the confirmation would otherwise go out in German).
#[tokio::test]
async fn a_slot_found_for_a_language_opens_the_form_in_that_language() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let (status, finder) = desk.text("/book?unit=ads&language=tr").await;
    assert_eq!(status, StatusCode::OK);
    let start = finder.find("id=\"slot-link-1\"").expect("a free slot for Turkish");
    let href = finder[start..].split("href=\"").nth(1).and_then(|h| h.split('"').next()).expect("its link");
    let href = href.replace("&amp;", "&");
    assert!(href.ends_with("&language=tr"), "{href}");
    let (status, form) = desk.text(&href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("<option value=\"tr\" selected>"), "the caller's language is Turkish");
    // A language no counsellor of the unit counsels in: said so, not "nothing free".
    let (status, finder) = desk.text("/book?unit=ads&language=so").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text_of_id(&finder, "no-one-speaks").contains("Niemand in dieser Stelle berät auf Somali"),
        "{finder:.4000}"
    );
    assert!(finder.contains(r#"<a href="/book?unit=ads" id="any-language">"#), "a way to any language");
    // "Another time" leads back to the finder with the language still chosen.
    assert!(form.contains(r#"<a href="/book?unit=ads&amp;language=tr" id="other-slot">"#), "{form:.3000}");
}

/// A day with nothing free because it is closed says why: a public holiday, the administration's
/// closure day, a closure of the unit, a day beyond the slots opened so far; a day that is merely
/// full says nothing of the kind.
#[tokio::test]
async fn the_finder_says_why_a_closed_day_offers_nothing() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let closure = serde_json::json!({ "from_date": "2026-12-15", "reason": "Betriebsausflug" });
    assert_eq!(
        app.post_as(&app.admin_token, "/api/v1/units/ads/closures", &closure).await.status(),
        StatusCode::CREATED
    );

    for (day, said) in [
        ("2026-12-25", "An diesem Tag ist Feiertag (1. Weihnachtstag)"),
        ("2026-12-24", "An diesem Tag ist die Stadtverwaltung geschlossen"),
        ("2026-12-15", "Die Stelle ist an diesem Tag geschlossen"),
    ] {
        let (status, finder) = desk.text(&format!("/book?unit=ads&day={day}")).await;
        assert_eq!(status, StatusCode::OK, "{day}");
        assert!(text_of_id(&finder, "day-closed").contains(said), "{day}: {finder:.4000}");
        assert!(!finder.contains("Betriebsausflug"), "{day}: the closure's reason is the lead's");
    }
    let (_, open_day) = desk.text("/book?unit=ads&day=2026-12-16").await;
    assert!(!open_day.contains("id=\"day-closed\""), "an open day");

    // Beyond the slots opened so far (the rolling horizon): said, with the last day opened.
    let (status, beyond) = desk.text("/book?unit=ads&day=2028-06-06").await;
    assert_eq!(status, StatusCode::OK);
    let said = text_of_id(&beyond, "day-closed");
    assert!(said.starts_with("Für diesen Tag sind noch keine Termine freigegeben: Sie reichen bis "), "{said}");
    assert!(said.contains("2027"), "the last day opened: {said}");
}

/// A cancellation reason that is refused (over 500 characters) comes back in its field, and a
/// callback entry's slot that is gone since the list was shown is a message on the list, not a
/// bare "not found" page.
#[tokio::test]
async fn a_refused_reason_is_kept_and_a_callbacks_slot_gone_is_a_message_on_the_list() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let slots = app.free_slots("ads", "limit=1").await;
    let booked = app.book_slot(slots[0]["slot_id"].as_i64().expect("a slot")).await;
    let page = format!("/bookings/{}", booked["reference"].as_str().expect("a reference"));
    let long = format!("Anruf der Person: {}", "sehr lange Begründung ".repeat(30));
    let response = desk.submit(&page, &format!("{page}/cancel"), &[("reason", long.as_str())]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(html.contains(&format!(">{long}</textarea>")), "the typed reason is kept");
    assert!(html.contains("maxlength=\"500\""));

    let entry = serde_json::json!({
        "citizen": { "name": "Emre Şencan", "phone": "0511 987654", "language": "tr" },
        "wish": {}, "until": "2026-12-04",
    });
    let added = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &entry).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let id = added.json::<serde_json::Value>().await.expect("json")["id"].clone();
    let fields = [("unit", "ads"), ("slot", "999999")];
    let response = desk.submit("/callbacks?unit=ads", &format!("/callbacks/{id}/book"), &fields).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.expect("page");
    assert!(html.contains("Diesen Termin gibt es nicht mehr"), "the list again, with the reason");
}

/// A wrong slot length or break on the hours form is named at its own field.
#[tokio::test]
async fn a_wrong_slot_length_or_break_is_named_at_its_field() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("leitung", "unit_lead", Some("ads")).await;
    let lead = Desk::new(&app.address);
    assert_eq!(lead.log_in("leitung", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let counsellor = app.counsellor_id("ads", "Jana Winterberg").await.to_string();
    for (slot, buffer, field) in [("3", "0", "rule-slot"), ("30", "-15", "rule-buffer"), ("30", "240", "rule-buffer")] {
        let fields = [
            ("counsellor", counsellor.as_str()),
            ("weekday", "6"),
            ("start", "08:00"),
            ("end", "10:00"),
            ("slot", slot),
            ("buffer", buffer),
            ("capacity", "1"),
            ("from", "2026-11-24"),
        ];
        let response = lead.submit("/hours?unit=ads", "/hours/ads/rules", &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{slot} {buffer}");
        let html = response.text().await.expect("page");
        assert!(html.contains(&format!("href=\"#{field}\"")), "{slot} {buffer}: named at {field}");
    }
}

/// The move page of a cancelled appointment says at once that it cannot be moved (409), instead
/// of showing the finder and refusing only after a time was chosen.
#[tokio::test]
async fn the_move_page_of_a_cancelled_appointment_says_so_at_once() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");
    let booking = app.book_slot(slot).await;
    let reference = booking["reference"].as_str().expect("reference");
    let (status, _) = desk.text(&format!("/bookings/{reference}/reschedule")).await;
    assert_eq!(status, StatusCode::OK, "a booked appointment's move page");

    let cancelled = app.cancel_booking(booking["id"].as_str().expect("id"), "Person hat abgesagt").await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let (status, page) = desk.text(&format!("/bookings/{reference}/reschedule")).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("nicht mehr gebucht") && page.contains("neuen Termin"), "{page:.1500}");
    assert!(!page.contains("id=\"f-day\""), "no finder");
}

/// "Ja, Termin absagen" pressed twice at once (both requests read the booking before either
/// wrote): the second finds the cancellation its twin made and leads to the same page as the
/// first, instead of saying someone changed the appointment at the same time. One cancellation.
#[tokio::test]
async fn a_cancellation_confirmed_twice_at_once_leads_both_presses_to_the_cancelled_booking() {
    use sea_orm::{ConnectionTrait, Statement};
    // Arrange: the confirmation page of a booking.
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let booked = app.book_slot(app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot")).await;
    let reference = booked["reference"].as_str().expect("reference").to_owned();
    let (page, cancel) = (format!("/bookings/{reference}"), format!("/bookings/{reference}/cancel"));
    let confirm = desk.submit(&page, &cancel, &[("reason", "Termin passt nicht")]).await;
    let html = confirm.text().await.expect("page");
    let (csrf, version) = (crate::web_client::csrf_of(&html), hidden(&html, "version"));

    // Act: both presses wait behind a write the test holds (SQLite: the write turn; PostgreSQL:
    // the booking's row), so both have read the booking before either writes.
    let held = terminbuch::store::begin_write(&app.db).await.expect("a write transaction");
    if app.is_postgres() {
        let lock = "SELECT id FROM bookings WHERE reference = $1 FOR UPDATE";
        let stored = reference.replace('-', "");
        held.query_all_raw(Statement::from_sql_and_values(held.get_database_backend(), lock, [stored.into()]))
            .await
            .expect("the row locked");
    }
    let press = || {
        let (desk, csrf, cancel, version) = (desk.clone(), csrf.clone(), cancel.clone(), version.clone());
        tokio::spawn(async move {
            let yes = [("reason", "Termin passt nicht"), ("confirm", "1"), ("version", version.as_str())];
            desk.post(&csrf, &cancel, &yes).await
        })
    };
    let (first, second) = (press(), press());
    for _ in 0..2000 {
        if waiting_writers(&app).await >= 2 {
            break;
        }
        assert!(!first.is_finished() && !second.is_finished(), "a press finished instead of waiting");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(waiting_writers(&app).await >= 2, "both presses wait");
    held.commit().await.expect("released");

    // Assert: both lead to the cancelled booking; cancelled once.
    for press in [first, second] {
        let answer = press.await.expect("the press");
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(crate::web_client::location(&answer), format!("/bookings/{reference}?cancelled=1"));
    }
    let now: serde_json::Value = app.get_booking(&reference).await.json().await.expect("json");
    assert_eq!(now["status"], "cancelled");
    assert_eq!(now["version"], version.parse::<i64>().expect("a version") + 1, "one change");
}

/// How many writers wait behind the test's write: SQLite's write turn of this process, or
/// PostgreSQL sessions of this database waiting for a lock.
async fn waiting_writers(app: &TestApp) -> usize {
    if !app.is_postgres() {
        return terminbuch::store::writers_waiting(&app.db);
    }
    let sql = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
               AND wait_event_type = 'Lock'";
    usize::try_from(app.count(sql).await).expect("a count")
}

/// The `maxlength` of the input or textarea with `id` in `html`.
fn maxlength_of(html: &str, id: &str) -> Option<usize> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let tag = &html[start..start + html[start..].find('>')?];
    let value = tag.split("maxlength=\"").nth(1)?.split('"').next()?;
    value.parse().ok()
}

/// Every free-text field of the desk's forms stops where the service does: a caller's details
/// pasted too long are cut by the browser, never sent past the limit (nor past the 64 KiB of a
/// form, which would lose everything typed).
#[tokio::test]
async fn the_desks_text_fields_hold_no_more_than_the_service_takes() {
    use terminbuch::domain::citizen::{EMAIL_MAX_CHARS, NAME_CHARS, PHONE_CHARS, TEXT_MAX_CHARS};
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    let desk = front_desk(&app).await;
    let slot = app.free_slots("ads", "limit=1").await[0]["slot_id"].as_i64().expect("a slot");

    let (_, booking) = desk.text(&format!("/book/details?slot={slot}")).await;
    let (_, callbacks) = desk.text("/callbacks?unit=ads").await;

    for (html, id, limit) in [
        (&booking, "name", *NAME_CHARS.end()),
        (&booking, "phone", *PHONE_CHARS.end()),
        (&booking, "email", EMAIL_MAX_CHARS),
        (&booking, "access", TEXT_MAX_CHARS),
        (&booking, "note", TEXT_MAX_CHARS),
        (&callbacks, "cb-name", *NAME_CHARS.end()),
        (&callbacks, "cb-phone", *PHONE_CHARS.end()),
        (&callbacks, "cb-note", TEXT_MAX_CHARS),
    ] {
        assert_eq!(maxlength_of(html, id), Some(limit), "#{id}");
    }
}
