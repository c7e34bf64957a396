//! A counsellor's own absences on the desk (`/absences`): checked for the appointments they
//! affect, saved (those appointments are then to move, and the time cannot be booked) and
//! removed again, each audited; nobody reaches another person's absence or a unit they do not
//! counsel in, and someone who counsels nowhere has no such page.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;

use crate::helpers::{TestApp, assert_problem, booking_body, default_now, spawn_app_with};
use crate::web_client::{Desk, PASSWORD, csrf_of, location, text_of_id};

/// The server with a desk that logs in by password alone.
async fn app() -> TestApp {
    spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await
}

/// `login` added with `role` in the anti-discrimination office and logged in on the pages; their id.
async fn logged_in(app: &TestApp, login: &str, role: &str) -> (Desk, i64) {
    let id = app.add_person(login, role, Some("ads")).await["id"].as_i64().expect("an id");
    let desk = Desk::new(&app.address);
    assert_eq!(desk.log_in(login, PASSWORD).await.status(), StatusCode::SEE_OTHER, "{login} logs in");
    (desk, id)
}

/// Wednesday hours 09:00–12:00 for `counsellor` in the anti-discrimination office; their first
/// free slots (the three of Wednesday 25 November).
async fn wednesday_hours(app: &TestApp, counsellor: i64) -> Vec<Value> {
    let hours =
        json!({ "counsellor_id": counsellor, "weekday": 3, "start": "09:00", "end": "12:00", "slot_minutes": 60 });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/counselling-hours", &hours).await;
    assert_eq!(response.status(), StatusCode::CREATED, "the hours");
    app.free_slots("ads", &format!("counsellor={counsellor}&limit=3")).await
}

/// The absence form's fields for the whole `day` with `action`.
fn whole_day<'a>(unit: &'a str, day: &'a str, reason: &'a str, action: &'a str) -> [(&'static str, &'a str); 5] {
    [("unit", unit), ("from", day), ("to", day), ("reason", reason), ("action", action)]
}

/// The number of audit records of `action` by staff member `actor`.
async fn audited(app: &TestApp, action: &str, actor: i64) -> i64 {
    app.count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = '{action}' AND actor_id = {actor}")).await
}

#[tokio::test]
async fn a_counsellor_checks_saves_and_removes_their_absence_and_its_appointments_are_to_move() {
    // Arrange: the counsellor's appointment at 09:00 on Wednesday; 10:00 still free.
    let app = app().await;
    let (desk, me) = logged_in(&app, "p.berat", "counsellor").await;
    let slots = wednesday_hours(&app, me).await;
    let day = slots[0]["starts_at"].as_str().expect("start")[..10].to_owned();
    assert_eq!(&slots[1]["starts_at"].as_str().expect("start")[..10], day, "two slots that day");
    let booking = app.book_slot(slots[0]["slot_id"].as_i64().expect("slot")).await;
    let reference = booking["reference"].as_str().expect("reference");
    let booking_id = booking["id"].as_str().expect("id");

    // Act: the page, from the menu.
    let (status, start) = desk.text("/book").await;
    assert_eq!(status, StatusCode::OK);
    assert!(start.contains("id=\"nav-absences\" href=\"/absences\""), "in the menu");
    let (status, html) = desk.text("/absences").await;

    // Assert: one unit, so no select; nothing recorded yet.
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Meine Abwesenheiten</h1>"));
    assert!(html.contains("Antidiskriminierungsstelle"), "the unit is named");
    assert!(!html.contains("id=\"absence-unit\""), "nothing to choose with one unit");
    assert!(html.contains("<input type=\"hidden\" name=\"unit\" value=\"ads\">"), "the unit goes with the form");

    // Act: the check.
    let checked = desk.post(&csrf_of(&html), "/absences", &whole_day("ads", &day, "Fortbildung", "preview")).await;

    // Assert: the appointment is named, nothing is recorded.
    assert_eq!(checked.status(), StatusCode::OK);
    let html = checked.text().await.expect("page");
    assert!(html.contains("noch nicht gespeichert"), "a preview");
    let affected = html.split("id=\"affected\"").nth(1).expect("the affected appointments");
    assert!(affected.contains(&format!("href=\"/bookings/{reference}\"")), "linked by its reference");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 0, "the check records nothing");

    // Act: saved.
    let saved = desk.post(&csrf_of(&html), "/absences", &whole_day("ads", &day, "Fortbildung", "save")).await;

    // Assert: on to the page (a reload saves nothing again), which names the appointment.
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let to = location(&saved);
    assert!(to.starts_with("/absences?unit=ads&done=saved&change="), "{to}");
    for _ in 0..2 {
        let (status, html) = desk.text(&to).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("id=\"saved\""), "the notice");
        let affected = html.split("id=\"affected\"").nth(1).expect("the affected appointments");
        assert!(affected.contains(&format!("href=\"/bookings/{reference}\"")), "{affected:.800}");
        let listed = html.split("id=\"absences-list\"").nth(1).expect("the absences");
        assert!(listed.contains("Fortbildung"), "their own reason is shown");
    }
    let mine = format!("SELECT COUNT(*) AS n FROM absences WHERE staff_id = {me}");
    assert_eq!(app.count(&mine).await, 1, "recorded once, for them");
    let (_, html) = desk.text("/absences").await;
    let delete = html.split("action=\"/absences/").nth(1).expect("a delete button");
    let id = delete.split('/').next().expect("the absence's id").to_owned();

    // Audited: the absence, and each list of the appointment they were shown.
    let shown = format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'affected_bookings_viewed' AND actor_id = {me} \
         AND booking_ids LIKE '%{booking_id}%'"
    );
    assert_eq!(app.count(&shown).await, 4, "the check, the save and the two views of the page after it");
    let added =
        format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'absence_added' AND target = 'absence:{id}'");
    assert_eq!(app.count(&format!("{added} AND actor_id = {me}")).await, 1, "the absence");

    // The appointment is to move, and the rest of the day cannot be booked.
    let (status, to_move) = desk.text("/to-move?unit=ads").await;
    assert_eq!(status, StatusCode::OK);
    assert!(to_move.contains(reference), "on the unit's list to move");
    let refused = app.post_booking(&booking_body(slots[1]["slot_id"].as_i64().expect("slot"))).await;
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "counsellor_absent").await;

    // Act: "Löschen" pressed.
    let delete = format!("/absences/{id}/delete");
    let asked = desk.post(&csrf_of(&html), &delete, &[]).await;

    // Assert: asked, naming the absence; nothing removed yet.
    assert_eq!(asked.status(), StatusCode::OK);
    let asked = asked.text().await.expect("page");
    assert_eq!(text_of_id(&asked, "absences-delete-title"), "Abwesenheit löschen?");
    assert!(text_of_id(&asked, "absences-delete-what").ends_with(", Fortbildung"), "when and why");
    assert!(asked.contains("id=\"absences-delete-confirm\">Ja, löschen</button>"));
    assert!(asked.contains("href=\"/absences\" class=\"button secondary\" id=\"absences-delete-keep\">Nicht löschen"));
    assert_eq!(app.count(&mine).await, 1, "not removed by the first press");
    assert_eq!(audited(&app, "absence_removed", me).await, 0);

    // Act: confirmed, then the confirmation sent again (the back button, a double click).
    let removed = desk.post(&csrf_of(&asked), &delete, &[("confirm", "1")]).await;
    let again = desk.post(&csrf_of(&asked), &delete, &[("confirm", "1")]).await;
    let asked_again = desk.post(&csrf_of(&asked), &delete, &[]).await;

    // Assert: removed once; the second sending leads back to the page, which says so.
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&removed), "/absences?done=deleted");
    let (_, html) = desk.text("/absences?done=deleted").await;
    assert!(html.contains("Gelöscht."), "the notice");
    assert_eq!(app.count(&mine).await, 0, "removed");
    assert_eq!(audited(&app, "absence_removed", me).await, 1, "the removal, once");
    for response in [again, asked_again] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/absences?done=gone_absence");
        let (status, html) = desk.text("/absences?done=gone_absence").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            text_of_id(&html, "saved"),
            "Diese Abwesenheit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde."
        );
    }
    let booked = app.post_booking(&booking_body(slots[1]["slot_id"].as_i64().expect("slot"))).await;
    assert_eq!(booked.status(), StatusCode::CREATED, "the time can be booked again");
}

#[tokio::test]
async fn nobody_reaches_another_persons_absence_or_a_unit_they_do_not_counsel_in() {
    // Arrange: Jana's absence, recorded by the admin; a colleague of hers on the pages.
    let app = app().await;
    let jana = app.counsellor_id("ads", "Jana Winterberg").await;
    let absence =
        json!({ "counsellor_id": jana, "from_date": "2027-01-11", "until_date": "2027-01-15", "reason": "Reha" });
    let response = app.post_as(&app.admin_token, "/api/v1/units/ads/absences", &absence).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let jana_absence = response.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let (colleague, colleague_id) = logged_in(&app, "p.kollegin", "counsellor").await;
    let denied = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied'";
    let denied_before = app.count(denied).await;

    // Act
    let (status, html) = colleague.text("/absences").await;
    let removed = colleague.post(&csrf_of(&html), &format!("/absences/{jana_absence}/delete"), &[]).await;
    let confirmed =
        colleague.post(&csrf_of(&html), &format!("/absences/{jana_absence}/delete"), &[("confirm", "1")]).await;
    let other_unit = colleague.text("/absences?unit=sdr").await.0;
    let no_unit = colleague.text("/absences?unit=gibtsnicht").await.0;
    let other_unit_added =
        colleague.post(&csrf_of(&html), "/absences", &whole_day("sdr", "2027-02-01", "Urlaub", "save")).await;

    // Assert: Jana's absence is neither shown nor removed; the other unit is refused and recorded.
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Reha"), "another person's absence is not listed");
    // Answered as one deleted before (a deletion sent twice): nothing of hers is named.
    for response in [removed, confirmed] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "another person's absence is not found");
        assert_eq!(location(&response), "/absences?done=gone_absence");
    }
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM absences WHERE id = {jana_absence}")).await, 1);
    assert_eq!(audited(&app, "absence_removed", colleague_id).await, 0);
    assert_eq!(other_unit, StatusCode::FORBIDDEN, "a unit they do not counsel in");
    assert_eq!(no_unit, StatusCode::NOT_FOUND, "a unit that does not exist");
    assert_eq!(other_unit_added.status(), StatusCode::FORBIDDEN, "nor recorded there");
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM absences WHERE staff_id = {colleague_id}")).await, 0);
    assert_eq!(app.count(denied).await, denied_before + 2, "both refusals recorded");
}

#[tokio::test]
async fn someone_who_counsels_nowhere_has_no_absences_page() {
    // Arrange
    let app = app().await;
    let (desk, front_desk) = logged_in(&app, "p.empfang", "front_desk").await;

    // Act
    let (_, start) = desk.text("/book").await;
    let (status, page) = desk.text("/absences").await;
    let added = desk.post(&csrf_of(&start), "/absences", &whole_day("ads", "2027-02-01", "Urlaub", "save")).await;

    // Assert: no menu entry, the usual refusal page, nothing recorded but the refusals.
    assert!(!start.contains("nav-absences"), "no menu entry");
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("keinen Zugriff"), "the refusal page");
    assert_eq!(added.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 0);
    assert_eq!(audited(&app, "access_denied", front_desk).await, 2, "each refusal recorded");
}

/// Fields of the absence form, the input a refusal of them is named at, and the buttons tried.
struct Case<'a> {
    fields: &'a [(&'a str, &'a str)],
    at: &'static str,
    actions: &'static [&'static str],
}

#[tokio::test]
async fn wrong_dates_and_reasons_are_named_at_their_field_and_nothing_is_recorded() {
    // Arrange
    let app = app().await;
    let (desk, me) = logged_in(&app, "p.berat", "counsellor").await;
    let (_, html) = desk.text("/absences").await;
    let csrf = csrf_of(&html);
    const BOTH: &[&str] = &["preview", "save"];
    // The check lists what the period would affect: the reason is needed only to save, but one
    // typed is checked as saving checks it (a check that passes is not refused by saving).
    let too_long = "x".repeat(terminbuch::services::hours::PERIOD_REASON_CHARS + 1);
    let cases = [
        Case {
            fields: &[("from", "2027-03-01"), ("to", "2027-03-01"), ("reason", too_long.as_str())],
            at: "absence-reason",
            actions: BOTH,
        },
        Case {
            fields: &[("from", "31.02.2027"), ("to", "2027-03-01"), ("reason", "Urlaub")],
            at: "absence-from",
            actions: BOTH,
        },
        Case {
            fields: &[("from", "2027-03-01"), ("to", "2027-03-01"), ("to_time", "25:00"), ("reason", "Urlaub")],
            at: "absence-to-time",
            actions: BOTH,
        },
        Case {
            fields: &[("from", "2027-03-02"), ("to", "2027-03-01"), ("reason", "Urlaub")],
            at: "absence-to",
            actions: BOTH,
        },
        Case {
            fields: &[("from", "2027-03-01"), ("to", "2027-03-01"), ("reason", " ")],
            at: "absence-reason",
            actions: &["save"],
        },
    ];

    for Case { fields, at, actions } in cases {
        for &action in actions {
            // Act
            let mut form = vec![("unit", "ads"), ("action", action)];
            form.extend_from_slice(fields);
            let response = desk.post(&csrf, "/absences", &form).await;

            // Assert
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{at} ({action})");
            let html = response.text().await.expect("page");
            assert!(html.contains(&format!("href=\"#{at}\"")), "named in the summary: {at} ({action})");
            let input = html.split(&format!("id=\"{at}\"")).nth(1).expect("the input");
            assert!(input.split('>').next().expect("tag").contains("aria-invalid=\"true\""), "{at} ({action})");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM absences").await, 0, "nothing recorded");
    assert_eq!(audited(&app, "absence_added", me).await, 0);
}
