//! Finding bookings as people spell them, through the API's `q=`: names regardless of case,
//! accents and special letters, phone numbers by their digits, references with or without dash,
//! live bookings before cancelled ones.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, booking_body, spawn_app};
use terminbuch::domain::ids::UnitId;

/// Books the `nth` free slot of the anti-discrimination office for `name` with `phone`.
async fn book_for(app: &TestApp, slots: &[Value], nth: usize, name: &str, phone: Option<&str>) -> Value {
    let mut body = booking_body(slots[nth]["slot_id"].as_i64().expect("slot id"));
    body["citizen"] = json!({ "name": name, "phone": phone });
    let response = app.post_booking(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "booking for {name}");
    response.json().await.expect("json")
}

/// The ids of the bookings `q` finds, in the order listed.
async fn found(app: &TestApp, q: &str) -> Vec<Value> {
    let query: String = form_urlencoded_q(q);
    app.list_bookings(&query).await.iter().map(|b| b["id"].clone()).collect()
}

fn form_urlencoded_q(q: &str) -> String {
    let mut out = String::from("q=");
    for byte in q.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[tokio::test]
async fn names_are_found_regardless_of_case_accents_and_special_letters() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=4").await;
    let yilmaz = book_for(&app, &slots, 0, "Ayşe Yılmaz", None).await;
    let mueller = book_for(&app, &slots, 1, "Jonas Müller", None).await;
    let sencan = book_for(&app, &slots, 2, "Emre Şencan", None).await;
    let spelled = book_for(&app, &slots, 3, "Greta Mueller", None).await;
    for (query, expected) in [
        ("yilmaz", vec![&yilmaz]),
        ("YILMAZ", vec![&yilmaz]),
        ("Yılmaz", vec![&yilmaz]),
        ("ayse yil", vec![&yilmaz]),
        ("muller", vec![&mueller, &spelled]),
        ("Mueller", vec![&mueller, &spelled]),
        ("Müller", vec![&mueller, &spelled]),
        ("MÜLLER", vec![&mueller, &spelled]),
        ("sencan", vec![&sencan]),
        ("ŞENCAN", vec![&sencan]),
    ] {
        let ids: Vec<&Value> = expected.iter().map(|b| &b["id"]).collect();
        let got = found(&app, query).await;
        assert_eq!(got.iter().collect::<Vec<_>>(), ids, "{query} finds {:?}", expected.len());
    }
    assert!(found(&app, "Schmidt").await.is_empty());
}

#[tokio::test]
async fn phone_numbers_are_found_by_their_digits() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=3").await;
    let caller = book_for(&app, &slots, 0, "Frau A.", Some("0511 987654")).await;
    let international = book_for(&app, &slots, 1, "Herr B.", Some("+49 170 5551234")).await;
    let other = book_for(&app, &slots, 2, "Herr C.", Some("+90 532 1112233")).await;
    for (query, expected) in [
        ("0511987654", &caller),
        ("0511 987654", &caller),
        ("0511-98 76 54", &caller),
        ("+49 511 987654", &caller),
        ("+49 (0)511 987654", &caller),
        ("0049511987654", &caller),
        ("987654", &caller),
        ("01705551234", &international),
        ("0170 555 1234", &international),
        ("+491705551234", &international),
        ("0090 532 111 22 33", &other),
    ] {
        assert_eq!(found(&app, query).await, vec![expected["id"].clone()], "{query}");
    }
    assert!(found(&app, "0511 111111").await.is_empty());
}

/// A number the desk wrote down without its area code is found by the caller's whole number, as
/// callers read it out; a stored fragment shorter than five digits is not found by every number
/// that ends in it.
#[tokio::test]
async fn a_number_stored_without_its_area_code_is_found_by_the_whole_number() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=3").await;
    let local = book_for(&app, &slots, 0, "Frau F.", Some("98 76 54")).await;
    let short = book_for(&app, &slots, 1, "Herr G.", Some("7654")).await;
    let mobile = book_for(&app, &slots, 2, "Frau H.", Some("555 1234")).await;
    for (query, expected) in [
        ("0511 987654", vec![&local]),
        ("+49 511 987654", vec![&local]),
        ("987654", vec![&local]),
        ("0170 5551234", vec![&mobile]),
        ("7654", vec![&local, &short]),
    ] {
        let mut ids: Vec<Value> = expected.iter().map(|b| b["id"].clone()).collect();
        let mut got = found(&app, query).await;
        ids.sort_by_key(ToString::to_string);
        got.sort_by_key(ToString::to_string);
        assert_eq!(got, ids, "{query}");
    }
    assert!(found(&app, "0511 987655").await.is_empty(), "another number ending otherwise");
}

#[tokio::test]
async fn references_are_found_with_or_without_dash_in_any_case() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let booking = book_for(&app, &slots, 0, "Frau D.", None).await;
    book_for(&app, &slots, 1, "Frau E.", None).await;
    let reference = booking["reference"].as_str().unwrap();
    let compact = reference.replace('-', "");
    for query in [reference.to_owned(), compact.clone(), compact.to_lowercase(), reference.replace('-', " ")] {
        assert_eq!(found(&app, &query).await, vec![booking["id"].clone()], "{query}");
    }
}

#[tokio::test]
async fn an_email_address_is_found_whole_in_any_case() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=3").await;
    let mut with_email = booking_body(slots[0]["slot_id"].as_i64().expect("slot id"));
    with_email["citizen"] = json!({ "name": "Jonas Müller", "email": "J.Mueller@Example.org" });
    let response = app.post_booking(&with_email).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booking: Value = response.json().await.expect("json");
    book_for(&app, &slots, 1, "Frau Mueller", None).await;
    let mut other = booking_body(slots[2]["slot_id"].as_i64().expect("slot id"));
    other["citizen"] = json!({ "name": "Jo Mueller", "email": "jo.mueller@example.org" });
    assert_eq!(app.post_booking(&other).await.status(), StatusCode::CREATED);

    for query in ["j.mueller@example.org", "J.MUELLER@EXAMPLE.ORG", " J.Mueller@Example.org "] {
        assert_eq!(found(&app, query).await, vec![booking["id"].clone()], "{query}: that address alone");
    }
    assert!(found(&app, "mueller@example.org").await.is_empty(), "an address is matched whole, not in part");
}

#[tokio::test]
async fn live_bookings_are_listed_before_cancelled_ones() {
    let app = spawn_app().await;
    // Three different times (several counsellors may be free at one time).
    let mut slots = app.free_slots("ads", "limit=30").await;
    slots.dedup_by(|a, b| a["starts_at"] == b["starts_at"]);
    let earlier = book_for(&app, &slots, 0, "Fatma Yılmaz", Some("0511 444555")).await;
    let later = book_for(&app, &slots, 1, "Fatma Yılmaz", Some("0511 444555")).await;
    let latest = book_for(&app, &slots, 2, "Fatma Yılmaz", Some("0511 444555")).await;
    let response = app.cancel_booking(earlier["id"].as_str().unwrap(), "verlegt").await;
    assert_eq!(response.status(), StatusCode::OK);
    let expected = vec![later["id"].clone(), latest["id"].clone(), earlier["id"].clone()];
    assert_eq!(found(&app, "yilmaz").await, expected, "by name");
    assert_eq!(found(&app, "0511444555").await, expected, "by phone");
    let listed = app.list_bookings("unit=ads").await;
    assert_eq!(listed[0]["id"], earlier["id"], "without a search the list stays soonest first");
}

#[tokio::test]
async fn a_search_without_letters_or_digits_or_an_overlong_one_is_refused_as_on_the_page() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=1").await;
    book_for(&app, &slots, 0, "Frau F.", Some("0511 1")).await;
    let searched = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'bookings_searched'";
    let before = app.count(searched).await;
    for q in ["%25_".to_owned(), "a".repeat(201)] {
        let response = app.get_as(&app.admin_token, &format!("/api/v1/bookings?q={q}")).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "q", "{q}");
    }
    assert_eq!(app.count(searched).await, before, "no search recorded");
    let padded = format!("/api/v1/bookings?q={}%20", "a".repeat(200));
    assert_eq!(app.get_as(&app.admin_token, &padded).await.status(), StatusCode::OK, "spaces around are not counted");
}

#[tokio::test]
async fn keys_follow_a_changed_name_and_are_cleared_with_erased_data() {
    use terminbuch::store::booking_search::{clear_search_keys, refresh_search_keys};
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=1").await;
    let booking = book_for(&app, &slots, 0, "Olga Schäfer", Some("0511 202020")).await;
    let id: uuid::Uuid = booking["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(found(&app, "schaefer").await.len(), 1);
    // A name written by other means (as an erasure or an edit would) takes effect once the keys
    // are refreshed; cleared keys match no name or phone, the reference still finds it.
    use sea_orm::ConnectionTrait;
    let rename = sea_orm::Statement::from_sql_and_values(
        app.db.get_database_backend(),
        if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            "UPDATE bookings SET citizen_name = $1 WHERE id = $2"
        } else {
            "UPDATE bookings SET citizen_name = ? WHERE id = ?"
        },
        ["Olga Çelik".into(), id.into()],
    );
    app.db.execute_raw(rename).await.unwrap();
    refresh_search_keys(&app.db, &[id]).await.unwrap();
    assert_eq!(found(&app, "celik").await.len(), 1);
    assert!(found(&app, "schaefer").await.is_empty());
    clear_search_keys(&app.db, &[id]).await.unwrap();
    assert!(found(&app, "celik").await.is_empty());
    assert!(found(&app, "0511202020").await.is_empty());
    assert_eq!(found(&app, booking["reference"].as_str().unwrap()).await.len(), 1);
}

#[tokio::test]
async fn the_migration_fills_the_keys_of_bookings_stored_before_it() {
    use chrono::TimeDelta;
    use migration::{Alias, Migrator, MigratorTrait, Query};
    use sea_orm::ConnectionTrait;
    use terminbuch::clock::Clock;
    use terminbuch::domain::holidays::HolidayCalendar;
    use terminbuch::services::{schedule, seed};
    use terminbuch::store::bookings::{BookingFilter, list};

    // Arrange: the schema up to the migration that adds the search keys, with two bookings in it.
    let test_db = crate::test_db::TestDb::create().await;
    let db = &test_db.conn;
    let before_keys = Migrator::migrations()
        .iter()
        .position(|m| m.name().starts_with("m20261202_170001"))
        .expect("the search keys' migration is listed");
    Migrator::up(db, Some(u32::try_from(before_keys).unwrap())).await.unwrap();
    // Today's entities (which the seed writes through) know columns that later migrations add:
    // add them here, and below apply only the search keys' migration.
    for later in [
        "ALTER TABLE units ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 90",
        "ALTER TABLE bookings ADD COLUMN erased_at TIMESTAMP WITH TIME ZONE NULL",
        "ALTER TABLE locations ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE units ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    ] {
        let sql = if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            later.replace("TIMESTAMP WITH TIME ZONE", "TEXT")
        } else {
            later.to_owned()
        };
        db.execute_unprepared(&sql).await.unwrap();
    }
    let now = crate::helpers::default_now();
    let today = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    seed::demo(db, &Clock::fixed(now), today).await.unwrap();
    let calendar = HolidayCalendar::new(vec![]);
    schedule::regenerate_all(db, &calendar, chrono_tz::Europe::Berlin, today + chrono::Days::new(14), now)
        .await
        .unwrap();
    let slots: Vec<(i32, i32, i32)> = {
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT id, unit_id, counsellor_id FROM slots ORDER BY id LIMIT 2",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.try_get("", "id").unwrap(),
                    r.try_get("", "unit_id").unwrap(),
                    r.try_get("", "counsellor_id").unwrap(),
                )
            })
            .collect()
    };
    for ((slot, unit, counsellor), (reference, name, phone)) in
        slots.iter().zip([("ACDEFGH3", "Ayşe Yılmaz", Some("+49 511 987654")), ("ACDEFGH4", "Jonas Müller", None)])
    {
        let insert = Query::insert()
            .into_table(Alias::new("bookings"))
            .columns(
                [
                    "id",
                    "reference",
                    "unit_id",
                    "counsellor_id",
                    "slot_id",
                    "starts_at",
                    "ends_at",
                    "status",
                    "channel",
                    "citizen_name",
                    "citizen_phone",
                    "citizen_language",
                    "email_consent",
                    "sequence",
                    "created_at",
                    "updated_at",
                ]
                .map(Alias::new),
            )
            .values_panic([
                uuid::Uuid::now_v7().into(),
                reference.into(),
                (*unit).into(),
                (*counsellor).into(),
                (*slot).into(),
                now.into(),
                (now + TimeDelta::hours(1)).into(),
                "booked".into(),
                "phone".into(),
                name.into(),
                phone.map(str::to_owned).into(),
                "de".into(),
                false.into(),
                0.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        db.execute(&insert).await.unwrap();
    }
    // Act: the search keys' migration
    Migrator::up(db, Some(1)).await.unwrap();
    // Assert
    let search = |q: &str| BookingFilter {
        unit_ids: slots.iter().map(|s| UnitId::new(s.1)).collect(),
        search: Some(q.to_owned()),
        limit: 10,
        ..Default::default()
    };
    for (q, reference) in [("yilmaz", "ACDEFGH3"), ("0511987654", "ACDEFGH3"), ("mueller", "ACDEFGH4")] {
        let found = list(db, &search(q)).await.unwrap();
        assert_eq!(found.iter().map(|b| b.reference.as_str()).collect::<Vec<_>>(), [reference], "{q}");
    }
}

#[tokio::test]
async fn a_name_is_found_by_its_words_in_any_order() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=3").await;
    let booked = book_for(&app, &slots, 0, "Ayşe Nur Demir", Some("0511 444555")).await;
    for q in ["Demir, Ayşe", "ayse demir", "DEMIR nur", "nur ayşe"] {
        assert_eq!(found(&app, q).await, [booked["id"].clone()], "{q}");
    }
    assert!(found(&app, "Demir Müller").await.is_empty(), "every word must match");
}

/// The desk's search shows the caller's upcoming appointment first, also when more than the 50
/// shown match (past ones follow, latest first), and says that there are more.
#[tokio::test]
async fn the_desk_search_shows_the_upcoming_appointment_before_many_past_ones() {
    use crate::web::{WebClient, add_member};
    let app = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| {
        s.require_mfa = terminbuch::domain::accounts::RequireMfa::None;
    })
    .await;
    add_member(&app, "empfang", "front_desk", Some("ads")).await;
    let mut slots = app.free_slots("ads", "from=2026-11-24&to=2027-02-10&limit=500").await;
    slots.dedup_by(|a, b| a["starts_at"] == b["starts_at"]);
    assert!(slots.len() > 62, "enough distinct times: {}", slots.len());
    let mut past = Vec::new();
    for nth in 0..55 {
        past.push(book_for(&app, &slots, nth, "Ali Yılmaz", None).await["reference"].clone());
    }
    let upcoming = book_for(&app, &slots, 62, "Ali Yılmaz", None).await["reference"].clone();
    // Time passes: the 55 are over, the last one is still to come.
    let after: chrono::DateTime<chrono::Utc> =
        slots[58]["starts_at"].as_str().expect("test step").parse().expect("test step");
    app.clock.advance(after - app.clock.now());

    let web = WebClient::logged_in(&app, "empfang").await;
    let html = web.get("/bookings?q=yilmaz").await.text().await.expect("test step");

    let at = |reference: &Value| html.find(&format!(">{}<", reference.as_str().expect("test step")));
    let (first, latest_past, next_past) = (at(&upcoming), at(&past[54]), at(&past[53]));
    assert!(first.is_some() && first < latest_past && latest_past < next_past, "upcoming, then latest past first");
    assert!(at(&past[0]).is_none(), "the oldest are left out");
    assert!(html.contains("id=\"search-more\""), "there are more than shown");
    assert_eq!(html.matches("id=\"row-").count(), 50);
    let recorded =
        "SELECT item_count AS n FROM audit_events WHERE action = 'bookings_searched' ORDER BY id DESC LIMIT 1";
    assert_eq!(app.count(recorded).await, 50, "only the bookings shown are recorded as seen");
}

/// `booking`'s name key as an earlier release stored it (`key`), with `migration` not yet applied.
async fn before_the_upgrade(app: &TestApp, booking: &Value, key: &str, migration: &str) {
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
    let id = uuid::Uuid::parse_str(booking["id"].as_str().expect("id")).expect("uuid");
    entity::booking::Entity::update_many()
        .col_expr(entity::booking::Column::SearchName, sea_orm::sea_query::Expr::value(key))
        .filter(entity::booking::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("an earlier release's key");
    let forget = format!("DELETE FROM seaql_migrations WHERE version = '{migration}'");
    app.db.execute_unprepared(&forget).await.expect("the migration not yet applied");
}

/// A name stored as "Mueller" is found by "Muller" and one stored as "Muller" by "Mueller", also
/// for bookings stored before this release (the upgrade computes their keys again).
#[tokio::test]
async fn a_name_with_or_without_its_umlaut_spelling_is_found_also_after_the_upgrade() {
    use migration::{Migrator, MigratorTrait};

    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let spelled = book_for(&app, &slots, 0, "Jonas Mueller", None).await;
    let plain = book_for(&app, &slots, 1, "Lena Muller", None).await;
    assert_eq!(found(&app, "jonas muller").await, [spelled["id"].clone()]);
    assert_eq!(found(&app, "lena mueller").await, [plain["id"].clone()]);

    before_the_upgrade(&app, &spelled, "jonas mueller", "m20261206_400000_name_keys_meet_without_umlaut_spelling")
        .await;
    assert!(found(&app, "jonas muller").await.is_empty(), "the earlier key misses the plain spelling");
    Migrator::up(&app.db, None).await.expect("the upgrade");
    assert_eq!(found(&app, "jonas muller").await, [spelled["id"].clone()], "after the upgrade");
}

/// A name heard on the phone is found as it was written down, by its sound (Kölner Phonetik),
/// also for bookings stored before this release; a sound alike only in part finds nothing.
#[tokio::test]
async fn a_name_is_found_by_how_it_sounds_also_after_the_upgrade() {
    use migration::{Migrator, MigratorTrait};

    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=3").await;
    let mohammed = book_for(&app, &slots, 0, "Mohammed Yılmaz", None).await;
    let sahin = book_for(&app, &slots, 1, "Şahin Demir", None).await;
    let ahmed = book_for(&app, &slots, 2, "Ahmed Yılmaz", None).await;
    assert_eq!(found(&app, "Muhammad Yilmaz").await, [mohammed["id"].clone()]);
    assert_eq!(found(&app, "Mohamed").await, [mohammed["id"].clone()]);
    assert_eq!(found(&app, "schahin").await, [sahin["id"].clone()]);
    let mut yilmaz = found(&app, "Jilmas").await;
    yilmaz.sort_by_key(ToString::to_string);
    let mut both = vec![mohammed["id"].clone(), ahmed["id"].clone()];
    both.sort_by_key(ToString::to_string);
    assert_eq!(yilmaz, both, "Yılmaz as heard");
    assert!(found(&app, "Karim").await.is_empty(), "another name");

    before_the_upgrade(&app, &mohammed, "mohammed yilmaz", "m20261212_200000_name_keys_hold_the_sound_of_names").await;
    assert!(found(&app, "Muhammad").await.is_empty(), "the earlier key has no sound");
    Migrator::up(&app.db, None).await.expect("the upgrade");
    assert_eq!(found(&app, "Muhammad").await, [mohammed["id"].clone()], "after the upgrade");
}

/// A name found only by its sound comes after the names found as spelled: "Meier" lists Jonas
/// Meier before Maria Lange (whose first name sounds alike), though her appointment is sooner.
#[tokio::test]
async fn names_found_only_by_their_sound_come_after_those_found_as_spelled() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=2").await;
    let maria = book_for(&app, &slots, 0, "Maria Lange", None).await;
    let meier = book_for(&app, &slots, 1, "Jonas Meier", None).await;
    assert_eq!(found(&app, "Meier").await, [meier["id"].clone(), maria["id"].clone()]);
    assert_eq!(found(&app, "Maria").await, [maria["id"].clone(), meier["id"].clone()]);
}

/// A caller who reads out only one half of the reference is found by either half.
#[tokio::test]
async fn half_a_reference_finds_the_booking() {
    let app = spawn_app().await;
    let slots = app.free_slots("ads", "limit=1").await;
    let booked = book_for(&app, &slots, 0, "Ana Lima", None).await;
    let reference = booked["reference"].as_str().expect("reference").replace('-', "");
    let (first, last) = reference.split_at(4);
    assert_eq!(found(&app, first).await, [booked["id"].clone()], "the first half");
    assert_eq!(found(&app, &last.to_lowercase()).await, [booked["id"].clone()], "the last half, in any case");
    let middle = &reference[2..6];
    assert!(found(&app, middle).await.is_empty(), "not any four characters of it");
}

/// The desk's search form is posted: what was searched for (a caller's name or number) is kept in
/// the session and never put into an address (the browser's history, a proxy's log). The results'
/// address names the search by an id that works in this session only, for its last ten searches.
#[tokio::test]
async fn the_desk_search_keeps_what_was_searched_for_out_of_addresses() {
    use crate::web::{WebClient, add_member};
    let app = crate::helpers::spawn_app_with(crate::helpers::default_now(), |s| {
        s.require_mfa = terminbuch::domain::accounts::RequireMfa::None;
    })
    .await;
    add_member(&app, "empfang", "front_desk", Some("ads")).await;
    let slots = app.free_slots("ads", "limit=2").await;
    let booked = book_for(&app, &slots, 0, "Ayşe Yılmaz", Some("0511 987654")).await;
    let reference = booked["reference"].as_str().expect("reference").to_owned();
    let web = WebClient::logged_in(&app, "empfang").await;

    let empty = web.get("/bookings").await.text().await.expect("page");
    assert!(empty.contains("<form method=\"post\" action=\"/bookings\""), "the form is posted: {empty}");
    let searched = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'bookings_searched'";
    assert_eq!(app.count(searched).await, 0);

    let results_of = |response: reqwest::Response| {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()["location"].to_str().expect("location").to_owned();
        assert!(location.starts_with("/bookings?s="), "{location}");
        location
    };
    let address = results_of(web.post_form("/bookings", &[("q", "Yılmaz")]).await);
    for term in ["yilmaz", "y%C4%B1lmaz", "Y%C4%B1lmaz", "ılmaz"] {
        assert!(!address.to_lowercase().contains(term), "{address} says nothing of the term");
    }
    let html = web.get(&address).await.text().await.expect("page");
    assert!(html.contains(&reference), "the results: {html}");
    assert!(html.contains("value=\"Yılmaz\""), "the term is back in the field");
    assert_eq!(app.count(searched).await, 1, "showing the results is a recorded search");
    // A reload shows them again, and is recorded again.
    assert!(web.get(&address).await.text().await.expect("page").contains(&reference));
    assert_eq!(app.count(searched).await, 2);
    // The same text again keeps its address; a phone number is a search of its own.
    assert_eq!(results_of(web.post_form("/bookings", &[("q", "  Yılmaz ")]).await), address);
    let by_phone = results_of(web.post_form("/bookings", &[("q", "0511 987654")]).await);
    assert_ne!(by_phone, address);
    assert!(!by_phone.contains("987654"), "{by_phone}");
    assert!(web.get(&by_phone).await.text().await.expect("page").contains(&reference));

    // Another session (another browser, another colleague) cannot open them.
    let other = WebClient::logged_in(&app, "empfang").await;
    let html = other.get(&by_phone).await.text().await.expect("page");
    assert!(html.contains("id=\"search-gone\"") && !html.contains(&reference), "{html}");

    // Eight more searches keep ten in all; the eleventh pushes out the oldest (the name).
    for nth in 1..=8 {
        results_of(web.post_form("/bookings", &[("q", &format!("Name{nth}"))]).await);
    }
    assert!(web.get(&address).await.text().await.expect("page").contains(&reference), "still kept");
    results_of(web.post_form("/bookings", &[("q", "Name9")]).await);
    let html = web.get(&address).await.text().await.expect("page");
    assert!(html.contains("id=\"search-gone\"") && !html.contains(&reference), "pushed out: {html}");
    assert!(web.get(&by_phone).await.text().await.expect("page").contains(&reference), "the number still kept");

    // A text that is no search is refused at the field, and nothing is kept for it.
    let refused = web.post_form("/bookings", &[("q", "!?!")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("page");
    assert!(html.contains("id=\"q-error\"") && html.contains("value=\"!?!\""), "{html}");
    // An empty one leads to the empty page.
    let empty = web.post_form("/bookings", &[("q", "  ")]).await;
    assert_eq!(empty.status(), StatusCode::SEE_OTHER);
    assert_eq!(empty.headers()["location"], "/bookings");
    // Without the form's token nothing is searched.
    let forged = web.client.post(format!("{}/bookings", app.address)).form(&[("q", "Yılmaz")]).send().await;
    assert_ne!(forged.expect("request").status(), StatusCode::SEE_OTHER);

    // After logging out, the address leads to the login, and the search is gone with the session.
    assert_eq!(web.post_form("/logout", &[]).await.status(), StatusCode::SEE_OTHER);
    let after = web.get(&by_phone).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(after.headers()["location"].to_str().expect("location").starts_with("/login"));
}
