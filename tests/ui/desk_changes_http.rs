//! The desk's safer changes through HTTP: overriding a rule is for unit leads (the front desk is
//! refused at the field, nothing written), the override reason shows in the booking, cancelling
//! changes nothing before it is confirmed, and the move page preselects the booking's counsellor.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use terminbuch::domain::access::Role;

use crate::app::{LEAD, LOGIN, UiApp, book_as_front_desk, spawn};
use crate::lead_http::logged_in;
use terminbuch::domain::ids::StaffId;

async fn bookings(app: &UiApp) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM bookings";
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<i64>("", "n").expect("count")
}

async fn first_counsellor(app: &UiApp) -> i32 {
    let unit = terminbuch::services::directory::find_unit(&app.db, "ads").await.expect("unit");
    (terminbuch::store::directory::list_unit_staff(&app.db, unit.id, Some(Role::Counsellor)).await.expect("db")[0].id)
        .get()
}

/// An appointment of `name` with the unit's first counsellor 30 hours from now (the counsellor's
/// id and the booking), made at the front desk.
async fn booked_tomorrow(app: &UiApp, name: &str) -> (i32, terminbuch::domain::records::Booking) {
    let counsellor = first_counsellor(app).await;
    let start = crate::app::now() + chrono::TimeDelta::hours(30);
    let time = terminbuch::domain::time::TimeSlot::new(start, start + chrono::TimeDelta::hours(1)).expect("slot");
    let unit = terminbuch::services::directory::find_unit(&app.db, "ads").await.expect("unit");
    let target = terminbuch::services::bookings::Target::Adhoc {
        unit_id: unit.id,
        counsellor_id: StaffId::new(counsellor),
        time,
    };
    (counsellor, book_as_front_desk(app, target, name, Some("Test")).await)
}

/// The ad-hoc booking form for Sunday 29 November 2026, 10:00, with an override reason.
fn sunday_form(csrf: &str, counsellor: i32) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("unit", "ads".into()),
        ("adhoc", "1".into()),
        ("counsellor", counsellor.to_string()),
        ("date", "2026-11-29".into()),
        ("time", "10:00".into()),
        ("duration", "60".into()),
        ("name", "Herr Sonntag".into()),
        ("language", "de".into()),
        ("override", "Einziger möglicher Tag".into()),
    ]
}

#[tokio::test]
async fn only_unit_leads_override_a_rule_at_the_desk_and_the_reason_shows_in_the_booking() {
    let app = spawn().await;
    let counsellor = first_counsellor(&app).await;
    let (desk, csrf) = logged_in(&app, LOGIN).await;
    let details =
        desk.get(format!("{}/book/details?unit=ads", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(!details.contains("name=\"override\""), "no override field for the front desk");
    let refused =
        desk.post(format!("{}/book", app.address)).form(&sunday_form(&csrf, counsellor)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"time-error\"") && page.contains("Stellenleitung"), "named at the field");
    assert_eq!(bookings(&app).await, 0, "nothing written");

    let (lead, csrf) = logged_in(&app, LEAD).await;
    let details =
        lead.get(format!("{}/book/details?unit=ads", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(details.contains("name=\"override\""), "the lead may give a reason");
    let booked = lead.post(format!("{}/book", app.address)).form(&sunday_form(&csrf, counsellor)).send().await.unwrap();
    assert_eq!(booked.status(), StatusCode::SEE_OTHER);
    let location = booked.headers()["location"].to_str().unwrap().to_owned();
    let key = location.trim_start_matches("/bookings/").trim_end_matches("/booked").to_owned();
    let page = lead.get(format!("{}/bookings/{key}", app.address)).send().await.unwrap().text().await.unwrap();
    let shown = page.split("id=\"override-reason\">").nth(1).expect("the reason is shown");
    assert!(shown.starts_with("Einziger möglicher Tag"), "{}", &shown[..60]);
}

#[tokio::test]
async fn cancelling_changes_nothing_until_it_is_confirmed() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Absage").await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{}/cancel", app.address, booking.reference);
    let first = client.post(&url).form(&[("csrf", csrf.as_str()), ("reason", "verhindert")]).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK, "the confirmation page");
    let page = first.text().await.unwrap();
    assert!(page.contains("id=\"cancel-confirm\"") && page.contains("keine E-Mail"), "no email: said before");
    let status = |app: &UiApp| {
        let id = booking.id;
        let db = app.db.clone();
        async move { terminbuch::store::bookings::find(&db, id).await.expect("db").expect("booking").status }
    };
    assert_eq!(status(&app).await, terminbuch::domain::booking::BookingStatus::Booked, "not yet cancelled");
    // A confirmation without the version its page was made from cancels nothing.
    for version in [None, Some("x")] {
        let mut form = vec![("csrf", csrf.as_str()), ("reason", "verhindert"), ("confirm", "1")];
        form.extend(version.map(|v| ("version", v)));
        let refused = client.post(&url).form(&form).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::CONFLICT, "version {version:?}");
        assert_eq!(status(&app).await, terminbuch::domain::booking::BookingStatus::Booked, "version {version:?}");
    }
    let version = page.split("name=\"version\" value=\"").nth(1).and_then(|v| v.split('"').next()).expect("a version");
    let confirmed = client
        .post(&url)
        .form(&[("csrf", csrf.as_str()), ("reason", "verhindert"), ("confirm", "1"), ("version", version)])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let location = confirmed.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("?cancelled=1"), "{location}");
    assert_eq!(status(&app).await, terminbuch::domain::booking::BookingStatus::Cancelled);
    let page = client.get(format!("{}{location}", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"cancelled\"") && page.contains("NICHT per E-Mail"), "says the citizen is not told");
}

#[tokio::test]
async fn the_move_page_preselects_the_booking_s_counsellor_and_language_until_changed() {
    let app = spawn().await;
    let (counsellor, booking) = booked_tomorrow(&app, "Frau Verlegt").await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{}/reschedule", app.address, booking.reference);
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("<option value=\"{counsellor}\" selected>")), "the same counsellor");
    assert!(page.contains("<option value=\"de\" selected>"), "the same language");
    assert!(page.contains("Bisheriger Termin") && !page.contains("Gewählter Termin"));
    let any = client.get(format!("{url}?counsellor=&language=")).send().await.unwrap().text().await.unwrap();
    let finder = any.split("id=\"f-counsellor\"").nth(1).expect("the finder").split("</select>").next().unwrap();
    assert!(!finder.contains(" selected>"), "\"any\" once chosen: {finder}");
}

#[tokio::test]
async fn a_refused_move_shows_the_finder_as_it_was_chosen() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Umgezogen").await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    // The desk widens the finder to any counsellor and any language, afternoons only.
    let url =
        format!("{}/bookings/{}/reschedule?counsellor=&language=&daypart=afternoon", app.address, booking.reference);
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    let action = page
        .split("<form method=\"post\" action=\"")
        .map(|form| form.split('"').next().unwrap())
        .find(|action| action.contains("/reschedule"))
        .expect("the move form")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(action.contains("daypart=afternoon"), "{action}");

    // Sent without a chosen time: refused at the field.
    let refused = client
        .post(format!("{}{action}", app.address))
        .form(&[("csrf", csrf.as_str()), ("version", &booking.sequence.to_string())])
        .send()
        .await
        .unwrap();

    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = refused.text().await.unwrap();
    assert!(again.contains("id=\"slots-error\""), "named at the field");
    let finder = again.split("id=\"f-counsellor\"").nth(1).expect("the finder").split("</select>").next().unwrap();
    assert!(!finder.contains(" selected>"), "still any counsellor: {finder}");
    let language = again.split("id=\"f-language\"").nth(1).expect("the language").split("</select>").next().unwrap();
    assert!(!language.contains(" selected>"), "still any language: {language}");
    let daypart = again.split("id=\"f-daypart\"").nth(1).expect("the daypart").split("</select>").next().unwrap();
    assert!(daypart.contains("value=\"afternoon\" selected"), "still afternoons: {daypart}");
}

#[tokio::test]
async fn the_move_finder_names_a_past_day_at_its_field() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Gestrig").await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{}/reschedule?day=2026-11-20", app.address, booking.reference);
    let response = client.get(&url).send().await.expect("the move page");
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.expect("page");
    let field = page.split("id=\"f-day-error\"").nth(1).expect("named at the field");
    assert!(field.split("</p>").next().expect("message").contains("Dieser Tag ist vorbei"));
    assert!(page.contains("href=\"#f-day\""), "in the summary");
    assert!(!page.contains("id=\"slot-1\""), "no times offered for a past day");
    assert!(!page.contains("id=\"no-slots\""), "not told that nothing is free");
    assert!(page.contains("id=\"other-title\""), "the other time stays offered");
}

/// The booking's version as the confirmation page `page` shows it.
fn shown_version(page: &str) -> String {
    page.split("name=\"version\" value=\"").nth(1).and_then(|v| v.split('"').next()).expect("a version").to_owned()
}

#[tokio::test]
async fn a_refused_cancellation_says_what_was_not_done_and_keeps_the_typed_reason() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Doppelt").await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{}/cancel", app.address, booking.reference);
    let reason = "Erkrankt, meldet sich nächste Woche";
    let confirm = |version: String| {
        let form =
            [("csrf", csrf.clone()), ("reason", reason.to_owned()), ("confirm", "1".to_owned()), ("version", version)];
        client.post(&url).form(&form).send()
    };
    let asked = client.post(&url).form(&[("csrf", csrf.as_str()), ("reason", reason)]).send().await.expect("ask");
    let version = shown_version(&asked.text().await.expect("the confirmation page"));
    // A colleague changes the booking while the confirmation page is open.
    let bump =
        format!("UPDATE bookings SET sequence = sequence + 1 WHERE reference = '{}'", booking.reference.as_str());
    app.db.execute_unprepared(&bump).await.expect("a colleague's change");

    let stale = confirm(version).await.expect("the stale confirmation");

    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let page = stale.text().await.expect("the booking's page");
    assert!(!page.contains("kann nicht gebucht werden"), "no booking prefix");
    assert!(page.contains("Der Termin wurde nicht abgesagt: Jemand hat den Termin"), "says what was not done");
    assert!(page.contains(&format!(">{reason}</textarea>")), "the typed reason is kept");

    // Confirmed from the page as it is now, then the same confirmation sent a second time.
    let asked = client.post(&url).form(&[("csrf", csrf.as_str()), ("reason", reason)]).send().await.expect("ask");
    let version = shown_version(&asked.text().await.expect("the confirmation page"));
    assert_eq!(confirm(version.clone()).await.expect("the confirmation").status(), StatusCode::SEE_OTHER);
    let twice = confirm(version).await.expect("the second press");

    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let page = twice.text().await.expect("the booking's page");
    assert!(!page.contains("kann nicht gebucht werden") && !page.contains("nicht abgesagt"), "no misleading prefix");
    assert!(page.contains("Der Termin ist schon abgesagt"), "says it is done");
    // Nothing in a form to correct: the summary asks to take note.
    assert!(page.contains(r#"<h2 id="error-summary-title">Bitte beachten Sie:</h2>"#), "{page:.2000}");
    assert!(!page.contains("Bitte korrigieren"), "nothing to correct");
}

/// The value of the hidden field `name` of `page`.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    page.split(&marker).nth(1).and_then(|v| v.split('"').next()).expect("the hidden field").to_owned()
}

/// Cancels `reference` through the desk's two steps.
async fn cancel_at_the_desk(app: &UiApp, client: &reqwest::Client, csrf: &str, reference: &str) {
    let url = format!("{}/bookings/{reference}/cancel", app.address);
    let asked = client.post(&url).form(&[("csrf", csrf), ("reason", "verhindert")]).send().await.expect("ask");
    let version = shown_version(&asked.text().await.expect("the confirmation page"));
    let form = [("csrf", csrf), ("reason", "verhindert"), ("confirm", "1"), ("version", version.as_str())];
    let confirmed = client.post(&url).form(&form).send().await.expect("confirm");
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER, "cancelled");
}

#[tokio::test]
async fn error_pages_are_in_the_language_the_person_chose() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Sprache").await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let missing = format!("{}/bookings/ZZZZ-ZZZZ", app.address);
    let german = client.get(&missing).send().await.expect("German");
    assert_eq!(german.status(), StatusCode::NOT_FOUND);
    let german = german.text().await.expect("the page");
    assert!(german.contains("<html lang=\"de\">") && german.contains("Nicht gefunden."), "{german}");
    cancel_at_the_desk(&app, &client, &csrf, booking.reference.as_str()).await;

    let switched = client.get(format!("{}/lang?to=en&back=/book", app.address)).send().await.expect("switch");
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    let english = client.get(&missing).send().await.expect("English");
    let print = format!("{}/bookings/{}/print", app.address, booking.reference);
    let refused = client.post(&print).form(&[("csrf", csrf.as_str())]).send().await.expect("print");

    assert_eq!(english.status(), StatusCode::NOT_FOUND);
    let english = english.text().await.expect("the page");
    assert!(english.contains("<html lang=\"en\">") && english.contains("Not found."), "{english}");
    assert!(english.contains("To the start page") && !english.contains("Nicht gefunden"), "{english}");
    assert_eq!(refused.status(), StatusCode::CONFLICT, "a cancelled appointment is not printed");
    let refused = refused.text().await.expect("the page");
    assert!(refused.contains("No confirmation printed") && !refused.contains("Keine Bestätigung"), "{refused}");
}

#[tokio::test]
async fn a_correction_of_a_booking_cancelled_meanwhile_is_refused_at_the_form_with_the_typed_details() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Herr Kontakt").await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{}/contact", app.address, booking.reference);
    let form_page = client.get(&url).send().await.expect("the form").text().await.expect("the form");
    let (version, shown) = (hidden(&form_page, "version"), hidden(&form_page, "shown"));
    // A colleague cancels the appointment while the form is open.
    cancel_at_the_desk(&app, &client, &csrf, booking.reference.as_str()).await;

    let form = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("shown", shown.as_str()),
        ("name", "Herr Kontakt"),
        ("phone", "0511 987654"),
        ("language", "de"),
    ];
    let refused = client.post(&url).form(&form).send().await.expect("the correction");

    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.expect("the form again");
    assert!(page.contains("id=\"error-summary\"") && page.contains("nicht mehr gebucht"), "said at the form");
    assert!(page.contains("value=\"0511 987654\""), "the typed number is kept");
    assert!(page.contains("action=\"/bookings/") && page.contains("/contact\""), "the form itself");
}

#[tokio::test]
async fn texts_typed_in_several_lines_count_each_line_break_once_as_the_api_does() {
    let app = spawn().await;
    let counsellor = first_counsellor(&app).await;
    let (lead, csrf) = logged_in(&app, LEAD).await;
    // 12 lines of 40 characters as a browser sends them: 502 characters with CRLF, 491 as typed.
    let lines = vec!["x".repeat(40); 12];
    let (typed, sent) = (lines.join("\n"), lines.join("\r\n"));
    let mut form = sunday_form(&csrf, counsellor);
    form.retain(|(field, _)| *field != "override");
    form.extend([("override", sent.clone()), ("note", sent.clone()), ("access", sent.clone())]);

    let booked = lead.post(format!("{}/book", app.address)).form(&form).send().await.expect("the booking");

    assert_eq!(booked.status(), StatusCode::SEE_OTHER, "accepted");
    let location = booked.headers()["location"].to_str().expect("a location").to_owned();
    let key = location.trim_start_matches("/bookings/").trim_end_matches("/booked").to_owned();
    let reference = terminbuch::domain::reference::Reference::parse(&key).expect("a reference");
    let stored = |app: &UiApp| {
        let (db, reference) = (app.db.clone(), reference.as_str().to_owned());
        async move { terminbuch::store::bookings::find_by_reference(&db, &reference).await.expect("db").expect("booking") }
    };
    let booking = stored(&app).await;
    assert_eq!(booking.note.as_deref(), Some(typed.as_str()), "the note as the API stores it");
    assert_eq!(booking.override_reason.as_deref(), Some(typed.as_str()), "the override's reason");
    assert_eq!(booking.citizen.accessibility_needs.as_deref(), Some(typed.as_str()), "the accessibility needs");

    // The cancellation's reason likewise; one character more is too long, and says so.
    let url = format!("{}/bookings/{key}/cancel", app.address);
    let too_long = format!("{sent}{}", "x".repeat(10));
    let refused = lead.post(&url).form(&[("csrf", csrf.as_str()), ("reason", &too_long)]).send().await.expect("ask");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "501 characters");
    let page = refused.text().await.expect("the booking's page");
    assert!(page.contains("Bitte kürzen Sie den Grund auf höchstens 500 Zeichen"), "too long, at the field");
    assert!(!page.contains("Bitte geben Sie einen Grund an"), "not told to give one");
    let asked = lead.post(&url).form(&[("csrf", csrf.as_str()), ("reason", &sent)]).send().await.expect("ask");
    assert_eq!(asked.status(), StatusCode::OK, "the confirmation page");
    let version = shown_version(&asked.text().await.expect("the confirmation page"));
    let form = [("csrf", csrf.as_str()), ("reason", &sent), ("confirm", "1"), ("version", &version)];
    let confirmed = lead.post(&url).form(&form).send().await.expect("confirm");
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER, "cancelled");
    assert_eq!(stored(&app).await.cancel_reason.as_deref(), Some(typed.as_str()), "the reason as the API stores it");
}

#[tokio::test]
async fn a_move_refused_because_a_colleague_changed_the_booking_says_it_was_not_moved() {
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Verschoben").await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{}/reschedule", app.address, booking.reference);
    let page = client.get(&url).send().await.expect("the move page").text().await.expect("page");
    let slot = page.split("name=\"slot\" value=\"").nth(1).and_then(|v| v.split('"').next()).expect("a free time");
    // A colleague changes the booking while the move page is open.
    let bump =
        format!("UPDATE bookings SET sequence = sequence + 1 WHERE reference = '{}'", booking.reference.as_str());
    app.db.execute_unprepared(&bump).await.expect("a colleague's change");

    let form = [("csrf", csrf.as_str()), ("version", &booking.sequence.to_string()), ("slot", slot)];
    let refused = client.post(&url).form(&form).send().await.expect("the stale move");

    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.expect("the move page again");
    assert!(page.contains("Der Termin wurde nicht verlegt: Jemand hat"), "says what was not done");
    assert!(!page.contains("kann nicht gebucht werden"), "not the booking form's prefix");
}

/// An interpreter arranged for an appointment is the desk's to rebook after a move and to call
/// off after a cancellation: the moved read-back and the cancellation's confirmation say so.
#[tokio::test]
async fn moving_or_cancelling_reminds_the_desk_of_the_interpreter_arranged() {
    // Arrange: an appointment with an interpreter for Turkish.
    let app = spawn().await;
    let (_, booking) = booked_tomorrow(&app, "Frau Dolmetsch").await;
    let reference = booking.reference.as_str();
    let with_interpreter = format!("UPDATE bookings SET interpreter_language = 'tr' WHERE reference = '{reference}'");
    app.db.execute_unprepared(&with_interpreter).await.expect("an interpreter arranged");
    let (client, csrf) = logged_in(&app, LOGIN).await;

    // Act: moved to the first free time the move page offers.
    let url = format!("{}/bookings/{reference}/reschedule", app.address);
    let page = client.get(&url).send().await.expect("the move page").text().await.expect("page");
    let slot = page.split("name=\"slot\" value=\"").nth(1).and_then(|v| v.split('"').next()).expect("a free time");
    let form = [("csrf", csrf.as_str()), ("version", &booking.sequence.to_string()), ("slot", slot)];
    let moved = client.post(&url).form(&form).send().await.expect("the move");

    // Assert: the read-back after the move asks for the interpreter to be rebooked.
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let location = moved.headers()["location"].to_str().expect("a path").to_owned();
    let read_back = client.get(format!("{}{location}", app.address)).send().await.expect("read-back");
    let read_back = read_back.text().await.expect("page");
    let rebook =
        "Für diesen Termin ist eine Dolmetschung (Türkisch) vorgesehen: Bitte bestellen Sie sie auf die neue Zeit um.";
    assert!(read_back.contains(rebook), "{read_back:.3000}");

    // Act and assert: the cancellation's confirmation asks for it to be called off.
    let cancel = format!("{}/bookings/{reference}/cancel", app.address);
    let asked =
        client.post(&cancel).form(&[("csrf", csrf.as_str()), ("reason", "verhindert")]).send().await.expect("ask");
    let asked = asked.text().await.expect("the confirmation page");
    assert!(
        asked.contains("id=\"cx-interpreter\"") && asked.contains("Bitte bestellen Sie sie nach der Absage ab."),
        "{asked:.3000}"
    );
}
