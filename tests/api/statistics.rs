//! Anonymous statistics per unit and month match the bookings made, cancelled and attended,
//! do not change when the personal data is removed, and are for unit leads and admins only.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// The figures a booking adds to, by its final status.
fn counts(statuses: &[&str]) -> Value {
    let n = |s: &str| statuses.iter().filter(|x| **x == s).count();
    json!({
        "bookings": statuses.len(), "attended": n("attended"), "no_shows": n("no_show"),
        "cancellations": n("cancelled"), "open": n("booked"),
    })
}

/// Expected figures of one month: per dimension, key → statuses.
#[derive(Default)]
struct Expected {
    totals: Vec<&'static str>,
    by: BTreeMap<(&'static str, String), Vec<&'static str>>,
}

/// Books every seventh free slot of ADS over the next weeks with changing channels and languages,
/// cancels some, records outcomes for others; returns the expected figures per month.
async fn book_and_settle(app: &TestApp) -> BTreeMap<String, Expected> {
    let slots = app.free_slots("ads", "limit=200&to=2027-01-20").await;
    let (channels, languages) = (["phone", "walk_in", "email"], ["tr", "ar", "de", "tr"]);
    let mut made = Vec::new();
    for (i, slot) in slots.iter().step_by(7).take(14).enumerate() {
        let body = json!({
            "slot_id": slot["slot_id"],
            "citizen": { "name": format!("Person {i}"), "phone": "0511 123456", "language": languages[i % 4] },
            "channel": channels[i % 3],
        });
        let response = app.post_booking(&body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let booking: Value = response.json().await.expect("test step");
        let status = if i % 4 == 3 { "cancelled" } else { ["attended", "no_show", "booked"][i % 3] };
        if status == "cancelled" {
            assert_eq!(
                app.cancel_booking(booking["id"].as_str().expect("test step"), "abgesagt").await.status(),
                StatusCode::OK
            );
        }
        made.push((booking, channels[i % 3], languages[i % 4], status));
    }
    app.clock.advance(TimeDelta::days(70));
    let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
    for (booking, channel, language, status) in made {
        if status == "attended" || status == "no_show" {
            let response = app.record_outcome(booking["id"].as_str().expect("test step"), status).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        let starts: DateTime<FixedOffset> =
            booking["starts_at"].as_str().expect("test step").parse().expect("test step");
        let month = expected.entry(starts.format("%Y-%m").to_string()).or_default();
        month.totals.push(status);
        let weekday = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            [starts.weekday().num_days_from_monday() as usize];
        for key in [
            ("by_channel", channel.to_owned()),
            ("by_language", language.to_owned()),
            ("by_weekday", weekday.to_owned()),
            ("by_counsellor", booking["counsellor_id"].to_string()),
        ] {
            month.by.entry(key).or_default().push(status);
        }
    }
    expected
}

fn assert_month_matches(month: &Value, expected: &Expected) {
    let name = month["month"].as_str().expect("test step");
    assert_eq!(month["totals"], counts(&expected.totals), "{name}: totals");
    for dimension in ["by_channel", "by_language", "by_weekday", "by_counsellor"] {
        let got: BTreeMap<String, Value> = month[dimension]
            .as_array()
            .expect("test step")
            .iter()
            .map(|entry| {
                let mut figures = entry.clone();
                let object = figures.as_object_mut().expect("test step");
                let key = object.remove("key").expect("test step").as_str().expect("test step").to_owned();
                object.remove("name");
                (key, figures)
            })
            .collect();
        let wanted: BTreeMap<String, Value> = expected
            .by
            .iter()
            .filter(|((d, _), _)| *d == dimension)
            .map(|((_, key), statuses)| (key.clone(), counts(statuses)))
            .collect();
        assert_eq!(got, wanted, "{name}: {dimension}");
    }
}

async fn statistics(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.get_as(token, &format!("/api/v1/statistics?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "statistics?{query}");
    response.json().await.expect("test step")
}

#[tokio::test]
async fn statistics_match_the_bookings_and_stay_when_the_personal_data_goes() {
    let app = spawn_app().await;
    let expected = book_and_settle(&app).await;
    assert!(expected.len() >= 2, "the bookings span more than one month");
    let sdr_slot = app.free_slots("sdr", "limit=1").await.remove(0);
    app.book_slot(sdr_slot["slot_id"].as_i64().unwrap()).await;

    let query = "unit=ads&from=2026-10&to=2027-02";
    let figures = statistics(&app, &app.admin_token, query).await;
    assert_eq!((figures["from"].as_str(), figures["to"].as_str()), (Some("2026-10"), Some("2027-02")));
    let units = figures["units"].as_array().unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["unit"]["slug"], "ads");
    let months = units[0]["months"].as_array().unwrap();
    assert_eq!(months.len(), 5, "every month of the range, with or without bookings");
    for month in months {
        match expected.get(month["month"].as_str().unwrap()) {
            Some(wanted) => assert_month_matches(month, wanted),
            None => assert_eq!(month["totals"]["bookings"], 0),
        }
    }
    let named = months.iter().flat_map(|m| m["by_counsellor"].as_array().unwrap()).next().unwrap();
    assert!(named["name"].as_str().is_some_and(|n| !n.is_empty()), "counsellors are named: {named}");

    // What the retention of personal data leaves: the anonymous columns only.
    let backend = app.db.get_database_backend();
    let erase = "UPDATE bookings SET citizen_name = '', citizen_phone = NULL, citizen_email = NULL, note = NULL, \
                 accessibility_needs = NULL, interpreter_language = NULL, cancel_reason = NULL";
    app.db.execute_raw(sea_orm::Statement::from_string(backend, erase)).await.unwrap();
    assert_eq!(statistics(&app, &app.admin_token, query).await, figures, "unchanged by the removal of personal data");

    let csv = app.get_as(&app.admin_token, &format!("/api/v1/statistics.csv?{query}")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["unit", "month", "dimension", "key", "name", "bookings", "attended", "no_shows", "cancellations", "open"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let breakdown_rows: usize = months
        .iter()
        .map(|m| {
            ["by_channel", "by_language", "by_weekday", "by_counsellor"]
                .iter()
                .map(|d| m[d].as_array().unwrap().len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(rows.len(), months.len() + breakdown_rows);
    for month in months {
        let total = rows.iter().find(|r| &r[1] == month["month"].as_str().unwrap() && &r[2] == "total").unwrap();
        assert_eq!(&total[0], "ads");
        let figures: Vec<u64> = (5..10).map(|i| total[i].parse().unwrap()).collect();
        let t = &month["totals"];
        let wanted: Vec<u64> = ["bookings", "attended", "no_shows", "cancellations", "open"]
            .iter()
            .map(|k| t[k].as_u64().unwrap())
            .collect();
        assert_eq!(figures, wanted, "{}", month["month"]);
    }
}

#[tokio::test]
async fn unit_leads_see_the_statistics_of_their_units_and_others_none() {
    let app = spawn_app().await;
    let lead = app.token_for("leitung.ads", "unit_lead", Some("ads")).await;
    let desk = app.token_for("empfang.ads", "front_desk", Some("ads")).await;
    let own = statistics(&app, &lead, "").await;
    let slugs: Vec<&str> =
        own["units"].as_array().unwrap().iter().map(|u| u["unit"]["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["ads"]);
    assert_eq!(
        (own["from"].as_str(), own["to"].as_str()),
        (Some("2025-12"), Some("2026-11")),
        "the last twelve months"
    );
    let all = statistics(&app, &app.admin_token, "").await;
    assert!(all["units"].as_array().unwrap().len() > 1, "admins see every unit");
    assert_problem(app.get_as(&lead, "/api/v1/statistics?unit=sdr").await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_problem(app.get_as(&desk, "/api/v1/statistics").await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_problem(app.get_as(&desk, "/api/v1/statistics.csv?unit=ads").await, StatusCode::FORBIDDEN, "forbidden")
        .await;
}

#[tokio::test]
async fn bad_statistics_ranges_are_problems() {
    let app = spawn_app().await;
    for (query, status, code, field) in [
        ("from=2026-13", StatusCode::BAD_REQUEST, "invalid_query", "from"),
        ("to=2026-1", StatusCode::BAD_REQUEST, "invalid_query", "to"),
        ("from=1899-12", StatusCode::BAD_REQUEST, "invalid_query", "from"),
        ("from=2027-01&to=2026-12", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "from"),
        ("from=2000-01&to=2026-12", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "to"),
    ] {
        let response = app.get_as(&app.admin_token, &format!("/api/v1/statistics?{query}")).await;
        let problem = assert_problem(response, status, code).await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    assert_problem(
        app.get_as(&app.admin_token, "/api/v1/statistics?unit=nope").await,
        StatusCode::NOT_FOUND,
        "unit_not_found",
    )
    .await;
}
