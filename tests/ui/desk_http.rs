//! The booking desk through HTTP: the admin's first unit, the language switch, and recording
//! the outcome of an appointment.

use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use terminbuch::domain::access::Role;
use terminbuch::domain::time::TimeSlot;
use terminbuch::services::bookings::Target;
use terminbuch::services::directory as directory_service;
use terminbuch::store::directory;

use crate::app::{ADMIN, LOGIN, UiApp, book_as_front_desk, spawn};
use crate::lead_http::logged_in;

/// A booking of the anti-discrimination office that began yesterday (booked with an override,
/// as staff do when they enter an appointment afterwards).
async fn yesterdays_booking(app: &UiApp) -> String {
    adhoc_at(app, (2026, 11, 23, 10), "Herr Gestern", Some("nachgetragen")).await
}

/// An ad-hoc appointment of the anti-discrimination office at a local (year, month, day, hour).
async fn adhoc_at(app: &UiApp, (y, m, d, h): (i32, u32, u32, u32), name: &str, reason: Option<&str>) -> String {
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let counsellor =
        directory::list_unit_staff(&app.db, unit.id, Some(Role::Counsellor)).await.expect("db").remove(0).id;
    let start = Berlin.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("instant").with_timezone(&chrono::Utc);
    let time = TimeSlot::new(start, start + chrono::TimeDelta::hours(1)).expect("slot");
    let target = Target::Adhoc { unit_id: unit.id, counsellor_id: counsellor, time };
    book_as_front_desk(app, target, name, reason).await.reference.as_str().to_owned()
}

#[tokio::test]
async fn the_week_view_shows_a_weekend_day_only_when_something_is_booked_then() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let week = |date: &'static str| {
        let url = format!("{}/week?unit=ads&date={date}", app.address);
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = week("2026-11-23").await;
    assert!(before.contains("id=\"day-2026-11-27\"") && !before.contains("id=\"day-2026-11-28\""), "Monday to Friday");
    adhoc_at(&app, (2026, 11, 28, 11), "Frau Samstag", Some("Samstagstermin")).await;
    let after = week("2026-11-23").await;
    assert!(after.contains("id=\"day-2026-11-28\"") && after.contains("Frau Samstag"), "the Saturday appointment");
    assert!(!after.contains("id=\"day-2026-11-29\""), "Sunday stays hidden");
}

#[tokio::test]
async fn an_admin_without_a_unit_starts_booking_with_the_first_unit() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, ADMIN).await;
    let page = client.get(format!("{}/book", app.address)).send().await.unwrap().text().await.unwrap();
    let title = page.split("id=\"free-title\"").nth(1).expect("the free slots' heading");
    assert!(title[..200].contains("Antidiskriminierungsstelle"), "{}", &title[..200]);
    assert!(page.contains("id=\"slot-link-1\""), "free slots are listed");
}

#[tokio::test]
async fn the_language_switch_returns_to_the_same_page_and_only_to_this_site() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let page =
        client.get(format!("{}/book?daypart=afternoon", app.address)).send().await.unwrap().text().await.unwrap();
    let link = page.split("/lang?to=en&amp;back=").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default();
    assert_eq!(link, "/book%3Fdaypart%3Dafternoon", "the switch keeps the query");
    let switch = |back: &'static str| {
        let client = client.clone();
        let query = serde_urlencoded::to_string([("to", "en"), ("back", back)]).expect("query");
        let url = format!("{}/lang?{query}", app.address);
        async move { client.get(url).send().await.unwrap() }
    };
    let back = switch("/book?daypart=afternoon").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "/book?daypart=afternoon");
    for foreign in ["//evil.example/", "/\\evil.example/", "https://evil.example/"] {
        assert_eq!(switch(foreign).await.headers()["location"], "/", "{foreign}");
    }
}

#[tokio::test]
async fn the_outcome_is_recorded_and_shown_in_the_history() {
    let app = spawn().await;
    let reference = yesterdays_booking(&app).await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let url = format!("{}/bookings/{reference}/outcome", app.address);
    let post = |outcome: &'static str| client.post(&url).form(&[("csrf", csrf.as_str()), ("outcome", outcome)]).send();
    assert_eq!(post("vielleicht").await.unwrap().status(), StatusCode::BAD_REQUEST, "an unknown outcome");
    let details = format!("{}/bookings/{reference}", app.address);
    let page = client.get(&details).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"outcome-title\""), "a past booking offers the outcome");
    assert!(!page.contains("als nicht erschienen erfasst"));

    assert_eq!(post("no_show").await.unwrap().status(), StatusCode::SEE_OTHER);
    let page = client.get(&details).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("nicht erschienen"), "status shown");
    assert!(page.contains("als nicht erschienen erfasst"), "history names the outcome");

    assert_eq!(post("attended").await.unwrap().status(), StatusCode::SEE_OTHER, "an outcome can be corrected");
    let page = client.get(&details).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("als wahrgenommen erfasst"), "history names the corrected outcome");
}

#[tokio::test]
async fn the_finder_names_a_past_or_malformed_day_at_its_field_instead_of_listing_from_today() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LOGIN).await;
    let finder = |query: String| {
        let url = format!("{}/book?unit=ads&{query}", app.address);
        let client = client.clone();
        async move {
            let response = client.get(url).send().await.expect("the finder");
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.expect("page")
        }
    };
    // The fixed clock's today is Tuesday 24 November 2026; the unit counsels on Thursdays.
    let thursday = finder("day=2026-11-26".to_owned()).await;
    assert!(thursday.contains("class=\"slot\""), "a coming day lists its slots");
    assert!(thursday.contains("Donnerstag, 26. November 2026"), "that day's: {thursday}");
    assert!(thursday.contains("min=\"2026-11-24\""), "the day field starts today");
    assert!(!thursday.contains("id=\"day-error\""));

    for (day, message) in [
        ("2026-11-23", "Dieser Tag ist vorbei"),
        ("24.11.2026", "Bitte den Tag als Datum angeben"),
        ("morgen", "Bitte den Tag als Datum angeben"),
    ] {
        let page = finder(format!("day={day}")).await;
        let field = page.split("id=\"day-error\"").nth(1).unwrap_or_else(|| panic!("named at the field: {day}"));
        assert!(field.split("</p>").next().expect("message").contains(message), "{day}");
        assert!(page.contains("aria-describedby=\"day-error\""), "{day}");
        assert!(page.contains("href=\"#day\""), "in the summary: {day}");
        assert!(!page.contains("class=\"slot\""), "no slots listed for {day}");
        assert!(!page.contains("Keine freien Termine"), "not told that nothing is free: {day}");
        assert!(page.contains(&format!("value=\"{day}\"")), "the day kept as typed: {day}");
    }

    // A counsellor of another unit (the unit changed with them chosen), a language and a time of
    // day that are not offered: searched as "any", which is what the lists show.
    let other = directory_service::find_unit(&app.db, "sdr").await.expect("unit");
    let foreign = directory::list_unit_staff(&app.db, other.id, Some(Role::Counsellor)).await.expect("db");
    let foreign = foreign.first().expect("a counsellor of another unit").id;
    let page = finder(format!("counsellor={foreign}&language=xx&daypart=night")).await;
    assert!(page.contains("class=\"slot\""), "the unit's slots, for any counsellor");
    let filters = page.split("id=\"counsellor\"").nth(1).expect("the filters").split("type=\"submit\"").next().unwrap();
    assert!(!filters.contains(" selected>"), "every filter shows \"any\": {filters}");
}

#[tokio::test]
async fn the_callers_language_follows_to_other_time_and_to_the_alternatives_of_a_taken_slot() {
    let app = spawn().await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let get = |path: String| {
        let url = format!("{}{path}", app.address);
        let client = client.clone();
        async move { client.get(url).send().await.expect("page").text().await.expect("page") }
    };
    let unit = directory_service::find_unit(&app.db, "ads").await.expect("unit");
    let staff = directory::list_unit_staff(&app.db, unit.id, Some(Role::Counsellor)).await.expect("db");
    let arabic = staff.iter().find(|m| m.display_name == "Samira Haddad").expect("the Arabic-speaking counsellor");

    // Nothing fits on the phone: "other time" opens with the finder's language, counsellor and day.
    let finder = get(format!("/book?unit=ads&language=ar&counsellor={}&day=2026-11-26", arabic.id)).await;
    let link = finder.split("id=\"other-time\" href=\"").nth(1).expect("the link").split('"').next().unwrap();
    let link = link.replace("&amp;", "&");
    assert!(link.contains("language=ar") && link.contains("day=2026-11-26"), "{link}");
    let other = get(link).await;
    assert!(other.contains("<option value=\"ar\" selected>"), "the caller's language preselected");
    assert!(other.contains(&format!("<option value=\"{}\" selected>", arabic.id)), "the counsellor preselected");
    assert!(other.contains("value=\"2026-11-26\""), "the day filled in");

    // A slot taken while the caller spoke: the alternatives are in the caller's language.
    let any = get("/book?unit=ads".to_owned()).await;
    let slot = any.split("/book/details?slot=").nth(1).expect("a free slot").split(['"', '&']).next().unwrap();
    let form = |name: &'static str, submission: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("unit", "ads".to_owned()),
            ("slot", slot.to_owned()),
            ("submission", submission.to_owned()),
            ("name", name.to_owned()),
            ("language", "ar".to_owned()),
        ]
    };
    let first =
        client.post(format!("{}/book", app.address)).form(&form("Frau Erste", "s-first-0000000000000000")).send();
    assert_eq!(first.await.expect("booked").status(), StatusCode::SEE_OTHER, "the first caller books it");
    let second = client.post(format!("{}/book", app.address)).form(&form("Herr Zweiter", "s-second-000000000000000"));
    let refused = second.send().await.expect("refused");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.expect("page");
    let alternatives: Vec<&str> =
        page.split("id=\"alt-").skip(1).map(|alt| alt.split("</label>").next().expect("label")).collect();
    assert!(!alternatives.is_empty(), "alternatives offered");
    assert!(alternatives.iter().all(|alt| alt.contains("Samira Haddad")), "{alternatives:?}");
}

/// Follows the language switch of `page` (a form's answer) and answers where it led and the
/// status of that page.
async fn switch_from(app: &UiApp, client: &reqwest::Client, page: &str) -> (String, StatusCode) {
    let back = page
        .split("/lang?to=en&amp;back=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the language switch")
        .replace("&amp;", "&");
    let switched = client.get(format!("{}/lang?to=en&back={back}", app.address)).send().await.expect("switch");
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    let location = switched.headers()["location"].to_str().expect("a location").to_owned();
    let opened = client.get(format!("{}{location}", app.address)).send().await.expect("the page");
    (location, opened.status())
}

#[tokio::test]
async fn after_a_form_that_only_answers_post_the_language_switch_opens_a_page() {
    let app = spawn().await;
    let (client, csrf) = logged_in(&app, ADMIN).await;
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let mut form = form;
        form.push(("csrf", csrf.clone()));
        client.post(format!("{}{path}", app.address)).form(&form).send()
    };
    // A caller on the callback list, then a booking of a slot that is no longer there.
    let caller = vec![
        ("unit", "ads".to_owned()),
        ("name", "Frau Rückruf".to_owned()),
        ("phone", "0511 123456".to_owned()),
        ("language", "de".to_owned()),
        ("until", "2026-12-10".to_owned()),
    ];
    assert_eq!(post("/callbacks", caller).await.expect("listed").status(), StatusCode::SEE_OTHER);
    let id: i32 = the_entry(&app, "SELECT id FROM callback_requests").await.try_get("", "id").expect("an id");
    let booked = post(&format!("/callbacks/{id}/book"), vec![("unit", "ads".into()), ("slot", "999999".into())]);
    let booked = booked.await.expect("the refused booking");
    assert_eq!(booked.status(), StatusCode::CONFLICT, "the slot is gone");
    let retention = post("/admin/units/retention", vec![("unit", "ads".into()), ("retention_days", "viele".into())]);
    let retention = retention.await.expect("the refused retention");
    assert_eq!(retention.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let after_booking = switch_from(&app, &client, &booked.text().await.expect("the page")).await;
    let after_retention = switch_from(&app, &client, &retention.text().await.expect("the page")).await;

    assert_eq!(after_booking, ("/callbacks".to_owned(), StatusCode::OK));
    assert_eq!(after_retention, ("/admin/units".to_owned(), StatusCode::OK));
}

/// The callback list's note counts a line break once at the desk too: a note typed in several
/// lines just under the limit is put on the list, stored with one character per line break.
#[tokio::test]
async fn a_callback_note_in_several_lines_is_counted_as_typed() {
    let app = spawn().await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let lines = vec!["x".repeat(40); 12];
    let form = [
        ("csrf", csrf.clone()),
        ("unit", "ads".to_owned()),
        ("name", "Frau Mehrzeilig".to_owned()),
        ("phone", "0511 654321".to_owned()),
        ("language", "de".to_owned()),
        ("until", "2026-12-10".to_owned()),
        ("note", lines.join("\r\n")),
    ];

    let listed = client.post(format!("{}/callbacks", app.address)).form(&form).send().await.expect("listed");

    assert_eq!(listed.status(), StatusCode::SEE_OTHER, "put on the list");
    let sql = "SELECT note FROM callback_requests WHERE citizen_name = 'Frau Mehrzeilig'";
    let note: String = the_entry(&app, sql).await.try_get("", "note").expect("note");
    assert_eq!(note, lines.join("\n"));
}

/// The one row `sql` reads (a callback entry).
async fn the_entry(app: &UiApp, sql: &str) -> sea_orm::QueryResult {
    let statement = sea_orm::Statement::from_string(app.db.get_database_backend(), sql);
    app.db.query_one_raw(statement).await.expect("query").expect("the entry")
}
