//! Correcting the citizen's details of a booking (`PUT /api/v1/bookings/{booking}/citizen` and the
//! page "Kontaktdaten ändern"), with a real SMTP server on loopback: the emails follow the new
//! address, the links sent to the old one stop working, the search finds the new spelling, and
//! the history and the audit name the changed fields without their values.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;

use crate::citizen_link::{book_with_email, booking_now, spawn_citizen_app, token_in};
use crate::helpers::{assert_problem, default_now, spawn_app_with};
use crate::smtp_sink::{Plan, SmtpSink};
use crate::web_client::{Desk, PASSWORD, location};

const OLD: &str = "ayse@example.org";
const NEW: &str = "ayse.demir@example.net";

/// The body that sets the citizen's details to `citizen` (with consent `consent`), for `version`.
fn correction(citizen: Value, consent: bool, version: &Value) -> Value {
    json!({ "citizen": citizen, "email_consent": consent, "version": version })
}

/// Books the `nth` free slot from 1 December for a citizen at the address [`OLD`] (with consent,
/// in German); the confirmation stays queued.
async fn booked_for_old_address(app: &crate::helpers::TestApp, nth: usize) -> Value {
    let slots = app.free_slots("ads", "from=2026-12-01&limit=5").await;
    let body = json!({
        "slot_id": slots[nth]["slot_id"],
        "citizen": { "name": "Ayşe Demir", "email": OLD, "language": "de" },
        "email_consent": true,
    });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("json")
}

fn path(booking: &Value) -> String {
    format!("/api/v1/bookings/{}/citizen", booking["id"].as_str().expect("id"))
}

async fn link_status(app: &crate::helpers::TestApp, token: &str) -> StatusCode {
    app.client.get(format!("{}/t/{token}", app.address)).send().await.expect("page").status()
}

/// A typo in the address, noticed when the citizen calls back: the corrected address gets a
/// confirmation with a link of its own; the link that went to the wrong address stops working;
/// the version rises; the history and the audit name `email`, never the addresses.
#[tokio::test]
async fn a_corrected_address_gets_the_confirmation_and_the_link_sent_to_the_old_one_stops_working() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "tr").await;
    let old_token = token_in(&email.text());
    assert_eq!(link_status(&app, &old_token).await, StatusCode::OK);

    let citizen = json!({ "name": "Ayşe Demir", "email": NEW, "language": "tr" });
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &booking["version"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let corrected: Value = response.json().await.expect("json");
    assert_eq!(corrected["citizen"]["email"], NEW);
    assert_eq!(corrected["version"], booking["version"].as_i64().expect("version") + 1);
    assert_eq!(corrected["starts_at"], booking["starts_at"], "the time stays");

    assert_eq!(link_status(&app, &old_token).await, StatusCode::NOT_FOUND, "the old address's link is dead");
    let before = sink.received().len();
    dispatcher.run_once().await.expect("dispatch");
    sink.wait_for(before + 1, Duration::from_secs(10)).await;
    let sent = sink.received();
    assert_eq!(sent.len(), before + 1, "one email, to the new address");
    let new_email = &sent[before];
    assert_eq!(new_email.rcpt_to, vec![NEW.to_owned()]);
    let text = new_email.text();
    assert!(text.contains(booking["reference"].as_str().expect("reference")), "{text}");
    let new_token = token_in(&text);
    assert_eq!(link_status(&app, &new_token).await, StatusCode::OK, "the new link opens the booking");

    let now = booking_now(&app, &booking["id"]).await;
    let history: Vec<&Value> = now["history"].as_array().expect("history").iter().collect();
    let event = history.iter().find(|e| e["kind"] == "contact_corrected").expect("the correction in the history");
    assert_eq!(event["detail"], json!({ "fields": "email" }));
    let audit = app
        .count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'contact_corrected' \
             AND detail LIKE '%\"fields\":[\"email\"]%' AND detail LIKE '%\"links_revoked\":true%' \
             AND booking_ids LIKE '%{}%'",
            booking["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(audit, 1, "one audit entry naming the field");
    let leaked = app
        .count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE detail LIKE '%{OLD}%' OR detail LIKE '%{NEW}%'"))
        .await;
    assert_eq!(leaked, 0, "no address in the audit");
    let kept = app.count(&format!("SELECT COUNT(*) AS n FROM outbox_messages WHERE recipient = '{OLD}'")).await;
    assert_eq!(kept, 0, "the mistyped address is forgotten with its emails");

    // Sending again sends the confirmation: the version rose, but the appointment never moved.
    let id = booking["id"].as_str().expect("id");
    let resent = app.post_as(&app.admin_token, &format!("/api/v1/bookings/{id}/resend"), &json!({})).await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let emails: Value = resent.json().await.expect("json");
    let last = emails.as_array().expect("emails").last().cloned().expect("an email");
    assert_eq!(last["kind"], "confirmation", "{emails}");
}

/// A confirmation still queued for the wrong address is never sent there: the only email goes to
/// the corrected one. Withdrawing consent sends none at all.
#[tokio::test]
async fn nothing_queued_for_the_old_address_is_sent_and_withdrawn_consent_sends_nothing() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let first = booked_for_old_address(&app, 0).await;
    let second = booked_for_old_address(&app, 1).await;

    // Act: both confirmations are still queued; one booking's address is corrected, the other's
    // consent withdrawn.
    let moved = correction(json!({ "name": "Ayşe Demir", "email": NEW }), true, &first["version"]);
    assert_eq!(app.put_as(&app.admin_token, &path(&first), &moved).await.status(), StatusCode::OK);
    let withdrawn = correction(json!({ "name": "Ayşe Demir", "email": OLD }), false, &second["version"]);
    let response = app.put_as(&app.admin_token, &path(&second), &withdrawn).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second_now: Value = response.json().await.expect("json");
    assert_eq!(second_now["email_consent"], false);
    let report = dispatcher.run_once().await.expect("dispatch");
    // The corrected address's old row was skipped by the correction itself, the other here.
    assert_eq!((report.sent, report.skipped), (1, 1));
    sink.wait_for(1, Duration::from_secs(10)).await;

    // Assert: one email, to the new address; the others skipped, each with its reason.
    let sent = sink.received();
    assert_eq!(sent.iter().map(|r| r.rcpt_to.clone()).collect::<Vec<_>>(), vec![vec![NEW.to_owned()]]);
    for (booking, reason) in [(&first, "address was corrected"), (&second, "withdrew their consent")] {
        let now = booking_now(&app, &booking["id"]).await;
        let skipped: Vec<&Value> =
            now["emails"].as_array().expect("emails").iter().filter(|e| e["state"] == "skipped").collect();
        assert_eq!(skipped.len(), 1, "{now}");
        assert!(skipped[0]["last_error"].as_str().expect("reason").contains(reason), "{now}");
    }
    assert_eq!(dispatcher.run_once().await.expect("dispatch again").sent, 0, "nothing left to send");

    // Consent withdrawn, then the address corrected: the emails that went to the old address
    // (with their links) are forgotten as for a corrected address.
    let second_now = booking_now(&app, &second["id"]).await;
    let moved = correction(json!({ "name": "Ayşe Demir", "email": NEW }), false, &second_now["version"]);
    assert_eq!(app.put_as(&app.admin_token, &path(&second), &moved).await.status(), StatusCode::OK);
    let kept = app.count(&format!("SELECT COUNT(*) AS n FROM outbox_messages WHERE recipient = '{OLD}'")).await;
    assert_eq!(kept, 0, "no email record keeps the old address");
}

/// A new phone number and the name as the caller spells it: the search finds the booking by the
/// new spelling and number, not the old; the version, the emails and the links stay as they were.
#[tokio::test]
async fn a_new_name_and_number_are_found_and_keep_the_version_the_links_and_the_emails() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, email) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let token = token_in(&email.text());

    let citizen = json!({ "name": "Aysche Demirci", "email": OLD, "phone": "0176 5550123", "language": "de" });
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &booking["version"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let corrected: Value = response.json().await.expect("json");
    assert_eq!(corrected["version"], booking["version"], "no new version: nothing about the emails changed");
    assert_eq!(corrected["citizen"]["name"], "Aysche Demirci");

    let found = |q: &'static str| {
        let app = &app;
        async move { app.list_bookings(&format!("q={q}")).await.iter().map(|b| b["id"].clone()).collect::<Vec<_>>() }
    };
    assert_eq!(found("demirci").await, vec![booking["id"].clone()]);
    assert_eq!(found("5550123").await, vec![booking["id"].clone()]);
    assert!(found("ayse").await.is_empty(), "the old spelling is gone");
    assert_eq!(link_status(&app, &token).await, StatusCode::OK, "the link stays");
    assert_eq!(dispatcher.run_once().await.expect("dispatch").sent, 0, "no email for a phone number");
    let now = booking_now(&app, &booking["id"]).await;
    let event = now["history"].as_array().expect("history").iter().find(|e| e["kind"] == "contact_corrected").cloned();
    assert_eq!(event.expect("an event")["detail"], json!({ "fields": "name,phone" }));

    // The same details again: nothing to write, no second event.
    let citizen = json!({ "name": "Aysche Demirci", "email": OLD, "phone": "0176 5550123", "language": "de" });
    let again = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &Value::Null)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let now = booking_now(&app, &booking["id"]).await;
    let events =
        now["history"].as_array().expect("history").iter().filter(|e| e["kind"] == "contact_corrected").count();
    assert_eq!(events, 1);
}

/// Wrong details at their fields, an earlier version, a cancelled booking and another unit's
/// booking are refused, and none of them writes anything.
#[tokio::test]
async fn bad_details_stale_versions_cancelled_bookings_and_other_units_are_refused() {
    let app = spawn_app_with(default_now(), |_| {}).await;
    let slots = app.free_slots("ads", "limit=2").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let good = json!({ "name": "A. K.", "phone": "0511 123456" });

    let bad = correction(json!({ "name": "A.\nK.", "email": "not an address" }), true, &booking["version"]);
    let problem = assert_problem(
        app.put_as(&app.admin_token, &path(&booking), &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&"citizen.name") && fields.contains(&"citizen.email"), "{problem}");

    let stale = json!(booking["version"].as_i64().expect("version") - 1);
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(good.clone(), false, &stale)).await;
    assert_problem(response, StatusCode::CONFLICT, "concurrent_update").await;

    let sdr = app.token_for("sdr-desk", "front_desk", Some("sdr")).await;
    let response = app.put_as(&sdr, &path(&booking), &correction(json!({ "name": "X" }), false, &Value::Null)).await;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;

    assert_eq!(app.cancel_booking(booking["id"].as_str().expect("id"), "verlegt").await.status(), StatusCode::OK);
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(good, false, &Value::Null)).await;
    assert_problem(response, StatusCode::CONFLICT, "invalid_status").await;

    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["citizen"]["name"], booking["citizen"]["name"], "nothing written");
    assert!(now["history"].as_array().expect("history").iter().all(|e| e["kind"] != "contact_corrected"));
}

/// At the desk: the booking's page links to the form, which shows the stored details; a wrong
/// address is refused at its field with the typed values kept; a saved correction returns to the
/// booking's page, which says so and shows the new number.
#[tokio::test]
async fn the_desk_corrects_a_number_on_the_page_and_is_told_at_the_field_when_an_address_is_wrong() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let slots = app.free_slots("ads", "limit=1").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    let page = format!("/bookings/{reference}");
    let (_, html) = desk.text(&page).await;
    assert!(html.contains(&format!("href=\"/bookings/{reference}/contact\"")), "{html}");

    let form = format!("/bookings/{reference}/contact");
    let (status, html) = desk.text(&form).await;
    assert_eq!(status, StatusCode::OK);
    let name = booking["citizen"]["name"].as_str().expect("name");
    assert!(html.contains(&format!("value=\"{name}\"")), "the stored name is filled in: {html}");
    let version = booking["version"].to_string();

    let wrong = [
        ("version", version.as_str()),
        ("name", name),
        ("phone", "0176 5550123"),
        ("email", "kein@"),
        ("consent", "1"),
        ("language", "de"),
    ];
    let response = desk.submit(&form, &form, &wrong).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(html.contains(r#"id="email-error""#) && html.contains("0176 5550123"), "{html}");

    let right = [("version", version.as_str()), ("name", name), ("phone", "0176 5550123"), ("language", "de")];
    let response = desk.submit(&form, &form, &right).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/bookings/{reference}?corrected=saved"));
    let (_, html) = desk.text(&format!("/bookings/{reference}?corrected=saved")).await;
    assert!(html.contains(r#"id="corrected""#) && html.contains("0176 5550123"), "{html}");
    assert!(html.contains("Kontaktdaten berichtigt"), "the history says so: {html}");
}

/// Two colleagues open the form; one saves a new number, the other then saves a language from
/// the form showing the old number: refused, with the stored details shown above the typed ones,
/// so the new number is not put back unseen. Saved again from there, it is the colleague's choice.
#[tokio::test]
async fn a_form_showing_details_changed_since_is_refused_with_the_stored_ones_shown() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let (first, second) = (Desk::new(&app.address), Desk::new(&app.address));
    for desk in [&first, &second] {
        assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    }
    let slots = app.free_slots("ads", "limit=1").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    let form = format!("/bookings/{reference}/contact");
    let (_, shown_to_second) = second.text(&form).await;
    let name = booking["citizen"]["name"].as_str().expect("name").to_owned();
    // The value of the input named `name` (its attributes in any order).
    let field = |html: &str, name: &str| {
        let at = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("{name} in the form"));
        let tag_start = html[..at].rfind('<').expect("the input's tag");
        let tag = &html[tag_start..at + html[at..].find('>').expect("the tag's end")];
        let start = tag.find("value=\"").expect("a value") + "value=\"".len();
        tag[start..].split('"').next().expect("value").to_owned()
    };
    let (version, shown) = (field(&shown_to_second, "version"), field(&shown_to_second, "shown"));
    let old_phone = field(&shown_to_second, "phone");

    let new_number = [
        ("version", version.as_str()),
        ("shown", shown.as_str()),
        ("name", name.as_str()),
        ("phone", "0176 5550123"),
        ("language", "de"),
    ];
    let response = first.submit(&form, &form, &new_number).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let stale = [
        ("version", version.as_str()),
        ("shown", shown.as_str()),
        ("name", name.as_str()),
        ("phone", old_phone.as_str()),
        ("language", "en"),
    ];
    let response = second.submit(&form, &form, &stale).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.expect("page");
    assert!(html.contains(r#"id="stored-now""#) && html.contains("0176 5550123"), "the stored number shown: {html}");
    assert!(html.contains(r#"<option value="en" selected>"#), "the typed language kept: {html}");
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(
        (now["citizen"]["phone"].as_str(), now["citizen"]["language"].as_str()),
        (Some("0176 5550123"), Some("de"))
    );

    // From the refused page (it carries the stored version now) the colleague decides.
    let (version, shown) = (field(&html, "version"), field(&html, "shown"));
    let decided = [
        ("version", version.as_str()),
        ("shown", shown.as_str()),
        ("name", name.as_str()),
        ("phone", "0176 5550123"),
        ("language", "en"),
    ];
    let response = second.submit(&form, &form, &decided).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(
        (now["citizen"]["phone"].as_str(), now["citizen"]["language"].as_str()),
        (Some("0176 5550123"), Some("en"))
    );
}

/// A new phone number inside the reminder's lead time does not cost the citizen the reminder
/// (only a booking made or moved that late goes without one).
#[tokio::test]
async fn a_correction_inside_the_reminders_lead_time_keeps_the_reminder() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let (booking, _) = book_with_email(&app, &dispatcher, &sink, "ads", 0, "de").await;
    let starts_at: chrono::DateTime<chrono::Utc> = booking["starts_at"].as_str().expect("start").parse().expect("time");
    app.clock.advance(starts_at - chrono::TimeDelta::hours(12) - app.clock.now());

    let citizen = json!({ "name": "Ayşe Demir", "email": OLD, "phone": "0176 5550123", "language": "de" });
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &booking["version"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report = dispatcher.run_once().await.expect("dispatch");
    assert_eq!((report.reminders_queued, report.sent), (1, 1), "{report:?}");
}

/// PostgreSQL and SQLite: an erasure for the old address that waits while a correction to
/// another address commits leaves the corrected booking alone (it is no longer that person's).
#[tokio::test]
async fn an_erasure_for_the_old_address_waiting_for_a_correction_leaves_the_corrected_booking_alone() {
    let app = spawn_app_with(default_now(), |_| {}).await;
    let booking = booked_for_old_address(&app, 0).await;
    let id: uuid::Uuid = booking["id"].as_str().expect("id").parse().expect("uuid");
    let stored = terminbuch::store::bookings::find(&app.db, id).await.expect("db").expect("booking");
    let corrected = terminbuch::domain::booking::Citizen { email: Some(NEW.to_owned()), ..stored.citizen.clone() };

    // The correction's transaction, written and not yet committed.
    let txn = terminbuch::store::begin_write(&app.db).await.expect("begin");
    let now = app.clock.now();
    assert!(terminbuch::store::bookings::set_citizen(&txn, &stored, &corrected, true, None, now).await.expect("set"));
    let erasure = tokio::spawn({
        let (client, address, token) = (app.client.clone(), app.address.clone(), app.admin_token.clone());
        async move {
            let body = json!({ "email": OLD, "reason": "request" });
            client.post(format!("{address}/api/v1/data-subject/erase")).bearer_auth(token).json(&body).send().await
        }
    });
    if app.is_postgres() {
        app.until_waiting_for_a_lock("%FOR UPDATE%", &erasure).await;
    }
    assert!(!erasure.is_finished(), "the erasure waits for the correction");
    txn.commit().await.expect("commit");

    let response = erasure.await.expect("task").expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let counts: Value = response.json().await.expect("json");
    assert_eq!(counts["bookings"], 0, "{counts}");
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["citizen"]["email"], NEW, "{now}");
    assert_eq!(now["citizen"]["name"], "Ayşe Demir");
}

/// A confirmation queued in German goes out in Turkish when the caller's language is corrected
/// before it is sent: the emails speak the language the citizen has now.
#[tokio::test]
async fn a_queued_email_goes_out_in_the_corrected_language() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let booking = booked_for_old_address(&app, 0).await;
    let citizen = json!({ "name": "Ayşe Demir", "email": OLD, "language": "tr" });
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &booking["version"])).await;
    assert_eq!(response.status(), StatusCode::OK);

    let report = dispatcher.run_once().await.expect("dispatch");
    assert_eq!(report.sent, 1, "{report:?}");
    let sent = sink.wait_for(1, Duration::from_secs(10)).await;
    let subject = sent[0].parsed().subject().map(str::to_owned).unwrap_or_default();
    assert!(subject.contains("randevu") || subject.contains("Randevu"), "{subject}");
}

/// A colleague's save that commits while another's is on its way (read, not yet written) is not
/// overwritten: the later save is refused. On PostgreSQL it has read the booking and waits for its
/// lock (the check inside the write refuses it); on SQLite the request waits for the file's write
/// turn before it reads, and the check of what its form showed refuses it.
#[tokio::test]
async fn a_save_overtaken_between_its_read_and_its_write_is_refused() {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    app.add_person("empfang", "front_desk", Some("ads")).await;
    let desk = std::sync::Arc::new(Desk::new(&app.address));
    assert_eq!(desk.log_in("empfang", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let slots = app.free_slots("ads", "limit=1").await;
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let reference = booking["reference"].as_str().expect("reference").to_owned();
    let form = format!("/bookings/{reference}/contact");
    let (_, html) = desk.text(&form).await;
    let hidden = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).unwrap_or_else(|| panic!("{name}")) + marker.len();
        html[start..].split('"').next().expect("value").to_owned()
    };
    let (csrf, version, shown) = (crate::web_client::csrf_of(&html), hidden("version"), hidden("shown"));
    let name = booking["citizen"]["name"].as_str().expect("name").to_owned();

    // The first colleague's correction: written, not yet committed.
    let id: uuid::Uuid = booking["id"].as_str().expect("id").parse().expect("uuid");
    let stored = terminbuch::store::bookings::find(&app.db, id).await.expect("db").expect("booking");
    let first =
        terminbuch::domain::booking::Citizen { phone: Some("0176 5550123".to_owned()), ..stored.citizen.clone() };
    let txn = terminbuch::store::begin_write(&app.db).await.expect("begin");
    let now = app.clock.now();
    assert!(terminbuch::store::bookings::set_citizen(&txn, &stored, &first, false, None, now).await.expect("set"));

    let second = tokio::spawn({
        let (desk, form, name) = (desk.clone(), form.clone(), name.clone());
        async move {
            let fields =
                [("version", version.as_str()), ("shown", shown.as_str()), ("name", name.as_str()), ("language", "en")];
            desk.post(&csrf, &form, &fields).await
        }
    });
    if app.is_postgres() {
        app.until_waiting_for_a_lock("%FOR UPDATE%", &second).await;
    }
    assert!(!second.is_finished(), "the second save waits for the first");
    txn.commit().await.expect("commit");

    let response = second.await.expect("task");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["citizen"]["phone"], "0176 5550123", "the first save stays");
    assert_eq!(now["citizen"]["language"], booking["citizen"]["language"], "the second was not written");
}

/// The references of the unit's bookings whose emails could not be delivered.
async fn failed_references(app: &crate::helpers::TestApp) -> Vec<Value> {
    let list: Vec<Value> =
        app.get_as(&app.admin_token, "/api/v1/units/ads/failed-emails").await.json().await.expect("json");
    list.iter().map(|f| f["reference"].clone()).collect()
}

/// The confirmation bounced, the desk called the citizen and corrected the address: the booking
/// leaves the list of emails to call back about, and the bounce (which quoted the old address)
/// keeps no trace of it.
#[tokio::test]
async fn a_bounce_to_a_corrected_address_leaves_the_call_back_list() {
    let sink = SmtpSink::start().await;
    sink.plan(Plan::Reply("550 5.1.1 <ayse@example.org>: no such mailbox"));
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let booking = booked_for_old_address(&app, 0).await;
    assert_eq!(dispatcher.run_once().await.expect("dispatch").failed, 1);
    assert_eq!(failed_references(&app).await, vec![booking["reference"].clone()]);

    let citizen = json!({ "name": "Ayşe Demir", "email": NEW, "language": "de" });
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &booking["version"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(failed_references(&app).await.is_empty(), "the new confirmation is on its way");
    let quoted = app.count("SELECT COUNT(*) AS n FROM outbox_messages WHERE last_error LIKE '%ayse@%'").await;
    assert_eq!(quoted, 0, "the bounce's text quoting the old address is gone");
    assert_eq!(dispatcher.run_once().await.expect("dispatch").sent, 1);
}

/// Two API clients correct the same caller's details from the same reading: with `citizen_tag`
/// the second is refused and nothing of the first is undone; a correction that keeps the
/// recipient leaves `version` as it is, so `version` alone could not tell.
#[tokio::test]
async fn a_correction_sent_with_the_citizen_tag_it_saw_does_not_undo_one_saved_meanwhile() {
    let app = spawn_app_with(default_now(), |_| {}).await;
    let booking = booked_for_old_address(&app, 0).await;
    let tag = booking["citizen_tag"].clone();
    assert!(tag.as_str().is_some_and(|t| !t.is_empty()), "every booking has its tag: {booking}");
    let with_tag = |citizen: Value, tag: &Value| {
        let mut body = correction(citizen, true, &booking["version"]);
        body["citizen_tag"] = tag.clone();
        body
    };

    let first = with_tag(json!({ "name": "Ayşe Demir", "email": OLD, "phone": "0511 111111" }), &tag);
    let response = app.put_as(&app.admin_token, &path(&booking), &first).await;
    assert_eq!(response.status(), StatusCode::OK);
    let after_first: Value = response.json().await.expect("json");
    assert_eq!(after_first["version"], booking["version"], "the same recipient: the version stays");
    assert_ne!(after_first["citizen_tag"], tag, "the tag follows the details");

    let second = with_tag(json!({ "name": "Ayse Demir", "email": OLD }), &tag);
    let response = app.put_as(&app.admin_token, &path(&booking), &second).await;
    assert_problem(response, StatusCode::CONFLICT, "concurrent_update").await;
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!((&now["citizen"]["name"], &now["citizen"]["phone"]), (&json!("Ayşe Demir"), &json!("0511 111111")));

    let again =
        with_tag(json!({ "name": "Ayse Demir", "email": OLD, "phone": "0511 111111" }), &after_first["citizen_tag"]);
    let response = app.put_as(&app.admin_token, &path(&booking), &again).await;
    assert_eq!(response.status(), StatusCode::OK, "sent with the tag now stored");
    let now = booking_now(&app, &booking["id"]).await;
    assert_eq!(now["citizen"]["name"], "Ayse Demir");
}

/// A phone booking's printed link gives a calendar entry; the address added later brings a
/// confirmation whose entry has the same UID, so the citizen's calendar updates the entry it has
/// instead of holding two.
#[tokio::test]
async fn the_calendar_entry_of_a_printed_link_and_of_a_later_email_are_one_entry() {
    let sink = SmtpSink::start().await;
    let (app, dispatcher) = spawn_citizen_app(&sink, false).await;
    let slots = app.free_slots("ads", "from=2026-12-01&limit=1").await;
    let body = json!({ "slot_id": slots[0]["slot_id"], "citizen": { "name": "Ayşe Demir", "phone": "0511 987654" } });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.expect("json");
    app.add_person("empfang.druck", "front_desk", Some("ads")).await;
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in("empfang.druck", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let page = format!("/bookings/{}", booking["reference"].as_str().expect("reference"));
    let printed = desk.submit(&page, &format!("{page}/print"), &[]).await;
    let token = token_in(&printed.text().await.expect("the print"));
    let ics = app.client.get(format!("{}/t/{token}/termin.ics", app.address)).send().await.expect("ics");
    let uid = |ics: &str| {
        ics.replace("\r\n ", "").lines().find_map(|l| l.strip_prefix("UID:").map(str::to_owned)).expect("a UID")
    };
    let from_print = uid(&ics.text().await.expect("ics"));

    let citizen = json!({ "name": "Ayşe Demir", "phone": "0511 987654", "email": NEW, "language": "de" });
    let response = app.put_as(&app.admin_token, &path(&booking), &correction(citizen, true, &booking["version"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    dispatcher.run_once().await.expect("dispatch");
    sink.wait_for(1, Duration::from_secs(10)).await;
    let email =
        sink.received().into_iter().find(|r| r.rcpt_to.iter().any(|t| t.contains(NEW))).expect("the confirmation");
    assert_eq!(uid(&email.calendar()), from_print);
}
