//! Requests of the person concerned: the export holds everything, the erasure leaves nothing
//! personal (and the figures as they were), both audited without the email or phone in clear;
//! admins for all units, unit leads for theirs, nobody else.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::audit::AuditAction;

use crate::audit::records;
use crate::helpers::{TestApp, assert_problem, default_now, spawn_app_with_manual_mail};
use crate::retention::{EMAIL, NAME, PHONE, assert_nothing_personal, book};

#[tokio::test]
async fn the_export_holds_everything_and_the_erasure_leaves_nothing_personal() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let ads = book(&app, "ads", 0).await;
    let sdr = book(&app, "sdr", 0).await;
    let id = ads["id"].as_str().expect("test step");
    assert_eq!(app.cancel_booking(id, "Frau ist krank").await.status(), StatusCode::OK);
    mail.run_once().await.expect("test step");
    let callback = json!({ "citizen": { "name": NAME, "phone": "+49 511 4455667", "language": "tr" },
                           "wish": { "language": "tr" }, "until": "2026-12-20", "note": "möchte früher" });
    let added = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &callback).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let figures = app
        .get_as(&app.admin_token, "/api/v1/statistics?from=2026-11&to=2027-01")
        .await
        .text()
        .await
        .expect("test step");

    // By phone, spelt differently: both bookings and the callback entry.
    let by_phone: Value = app
        .get_as(&app.admin_token, "/api/v1/data-subject?phone=%2B49%20511%2044%2055%20667")
        .await
        .json()
        .await
        .expect("test step");
    assert_eq!(by_phone["bookings"].as_array().expect("test step").len(), 2, "{by_phone}");
    assert_eq!(by_phone["callbacks"].as_array().expect("test step").len(), 1);
    let first = &by_phone["bookings"][0];
    for field in ["name", "email", "phone", "note", "accessibility_needs", "interpreter_language", "reference"] {
        assert!(!first[field].is_null(), "{field} exported");
    }
    assert!(by_phone.to_string().contains("Frau ist krank"), "history exported");
    // Times as every other answer gives them: local, with the offset (the hour the person knows).
    let exported = by_phone["bookings"].as_array().expect("bookings");
    for booked in [&ads, &sdr] {
        let same = exported.iter().find(|b| b["id"] == booked["id"]).expect("the booking exported");
        assert_eq!(same["starts_at"], booked["starts_at"], "{same}");
        assert!(same["starts_at"].as_str().is_some_and(|at| at.ends_with("+01:00")), "{same}");
    }
    let history_at = &exported[0]["history"][0]["at"];
    assert!(history_at.as_str().is_some_and(|at| at.ends_with("+01:00")), "{history_at}");
    assert!(by_phone.to_string().contains(EMAIL), "emails exported");
    let by_email: Value = app
        .get_as(&app.admin_token, "/api/v1/data-subject?email=%20Zeynep.Loeschtest@EXAMPLE.org")
        .await
        .json()
        .await
        .expect("test step");
    assert_eq!(by_email["bookings"].as_array().expect("test step").len(), 2);
    // The same, the identifier in the body rather than the address (no access log holds it).
    let posted = app
        .post_as(&app.admin_token, "/api/v1/data-subject/export", &json!({ "email": " Zeynep.Loeschtest@EXAMPLE.org" }))
        .await;
    assert_eq!(posted.status(), StatusCode::OK);
    let posted: Value = posted.json().await.expect("test step");
    assert_eq!(posted, by_email, "the same export either way");
    let posted_both =
        app.post_as(&app.admin_token, "/api/v1/data-subject/export", &json!({ "phone": "1", "email": "a@b" })).await;
    assert_problem(posted_both, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A unit lead of SDR sees and erases only SDR's; a counsellor nothing.
    let lead = app.token_for("leitung", "unit_lead", Some("sdr")).await;
    let led: Value =
        app.get_as(&lead, "/api/v1/data-subject?email=zeynep.loeschtest@example.org").await.json().await.expect("s");
    assert_eq!(led["bookings"].as_array().expect("test step").len(), 1);
    assert_eq!(led["bookings"][0]["id"], sdr["id"]);
    let counsellor = app.token_for("berater", "counsellor", Some("sdr")).await;
    assert_problem(
        app.get_as(&counsellor, "/api/v1/data-subject?phone=0511%204455667").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let both = app.get_as(&app.admin_token, "/api/v1/data-subject?phone=1&email=a@b").await;
    assert_problem(both, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let no_reason = app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &json!({ "phone": PHONE })).await;
    assert_problem(no_reason, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let erased = app
        .post_as(
            &app.admin_token,
            "/api/v1/data-subject/erase",
            &json!({ "phone": "0511-4455667", "reason": "request" }),
        )
        .await;
    assert_eq!(erased.status(), StatusCode::OK);
    let counts: Value = erased.json().await.expect("test step");
    assert_eq!((counts["bookings"].as_i64(), counts["callbacks"].as_i64()), (Some(2), Some(1)), "{counts}");
    assert!(counts["emails"].as_i64() >= Some(2));
    for key in [id, sdr["id"].as_str().expect("test step")] {
        let booking: Value = app.get_booking(key).await.json().await.expect("test step");
        assert_nothing_personal(&booking);
    }
    let again: Value =
        app.get_as(&app.admin_token, "/api/v1/data-subject?phone=05114455667").await.json().await.expect("s");
    assert_eq!(again, json!({ "bookings": [], "callbacks": [] }));
    let mail_dir = dir.path().join("mail");
    assert_eq!(std::fs::read_dir(&mail_dir).map(|d| d.count()).unwrap_or(0), 0, ".eml files removed");
    let after = app
        .get_as(&app.admin_token, "/api/v1/statistics?from=2026-11&to=2027-01")
        .await
        .text()
        .await
        .expect("test step");
    assert_eq!(after, figures, "statistics unchanged");

    let exported = records(&app, AuditAction::DataSubjectExported).await;
    assert_eq!(exported.len(), 5, "admin by phone, by email (read and posted), lead, after the erasure");
    let erasures = records(&app, AuditAction::DataSubjectErased).await;
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0].detail["reason"], "request");
    assert_eq!(erasures[0].booking_ids.len(), 2);
    let text = format!("{exported:?}{erasures:?}");
    for personal in [NAME, EMAIL, "4455667", "zeynep"] {
        assert!(!text.to_lowercase().contains(&personal.to_lowercase()), "{personal} in the audit");
    }
}

/// An appointment whose personal data were erased still holds its seat: the desk may cancel it,
/// but the reason typed then (often why the person asked) is not stored, neither in the booking
/// nor in its history, since nothing would ever erase it again. A cancellation decided on the
/// booking as read before the erasure is refused as a change made meanwhile.
#[tokio::test]
async fn an_erased_appointment_can_be_cancelled_but_keeps_no_new_reason() {
    use sea_orm::{ConnectionTrait, Statement};
    use terminbuch::domain::clash::Clash;
    use terminbuch::services::ServiceError;
    use terminbuch::services::bookings::{self, By};

    let app = crate::helpers::spawn_app().await;
    let first = book(&app, "ads", 0).await;
    let second = book(&app, "ads", 1).await;
    let stale = terminbuch::store::bookings::find(&app.db, second["id"].as_str().expect("id").parse().expect("uuid"))
        .await
        .expect("db")
        .expect("the booking");
    let erased = app
        .post_as(&app.admin_token, "/api/v1/data-subject/erase", &json!({ "email": EMAIL, "reason": "request" }))
        .await;
    assert_eq!(erased.status(), StatusCode::OK);

    // The desk, after the erasure.
    let id = first["id"].as_str().expect("id");
    let cancelled = app.cancel_booking(id, "Frau Löschtest ist krank").await;
    assert_eq!(cancelled.status(), StatusCode::OK, "the seat is freed");
    let cancelled: Value = cancelled.json().await.expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled.get("cancel_reason").is_none_or(Value::is_null), "{cancelled}");
    let backend = app.db.get_database_backend();
    let kept = |sql: &str| Statement::from_string(backend, sql.to_owned());
    let rows = app
        .db
        .query_all_raw(kept(
            "SELECT b.cancel_reason AS reason FROM bookings b WHERE b.cancel_reason IS NOT NULL \
             UNION ALL SELECT e.detail AS reason FROM booking_events e WHERE e.detail LIKE '%krank%'",
        ))
        .await
        .expect("db");
    assert!(rows.is_empty(), "no reason stored anywhere");

    // A cancellation decided on the booking as read before the erasure.
    let parts = crate::helpers::ServiceParts::new(app.clock.clone());
    let deps = parts.book(&app.db);
    let refused = bookings::cancel_booking(deps, By::Citizen { link: None }, &stale, Some("Geheimnis".into())).await;
    assert!(
        matches!(refused, Err(ServiceError::Conflict { clash: Clash::ConcurrentUpdate, .. })),
        "refused: {refused:?}"
    );
    let still: Value = app.get_booking(second["id"].as_str().expect("id")).await.json().await.expect("json");
    assert_eq!(still["status"], "booked", "nothing written");
}

/// A number written with the country code and the trunk zero after it ("+49 0511 …") is the
/// person's "0511 …" to a request and to the desk's search; the upgrade computes the keys an
/// earlier release stored with that zero again.
#[tokio::test]
async fn a_number_written_plus_49_zero_is_found_by_its_national_spelling_also_after_the_upgrade() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

    let app = crate::helpers::spawn_app().await;
    let slots = app.free_slots("ads", "limit=1").await;
    let mut body = crate::retention::personal_booking(slots[0]["slot_id"].as_i64().expect("slot"));
    body["citizen"]["phone"] = json!("+49 0511 7766554");
    let booked = app.post_booking(&body).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let booked: Value = booked.json().await.expect("json");
    assert_eq!(found_by_national_spelling(&app).await, [booked["id"].clone()], "a new booking");

    // As an earlier release stored its key, before this release's migration ran.
    let id = booked["id"].as_str().expect("id");
    entity::booking::Entity::update_many()
        .col_expr(entity::booking::Column::SearchPhone, sea_orm::sea_query::Expr::value("05117766554"))
        .filter(entity::booking::Column::Id.eq(uuid::Uuid::parse_str(id).expect("uuid")))
        .exec(&app.db)
        .await
        .expect("an earlier release's key");
    let forget = "DELETE FROM seaql_migrations WHERE version = 'm20261206_100000_phone_keys_without_trunk_zero'";
    app.db.execute_unprepared(forget).await.expect("the migration not yet applied");
    assert!(found_by_national_spelling(&app).await.is_empty(), "the earlier key misses the national spelling");
    Migrator::up(&app.db, None).await.expect("the upgrade");
    assert_eq!(found_by_national_spelling(&app).await, [booked["id"].clone()], "after the upgrade");
    let desk: Value = app.get_as(&app.admin_token, "/api/v1/bookings?q=0511%207766554").await.json().await.expect("s");
    assert!(desk.to_string().contains(id), "the desk's search: {desk}");
}

/// The ids of the bookings a request by the national spelling "0511 7766554" finds.
async fn found_by_national_spelling(app: &crate::helpers::TestApp) -> Vec<Value> {
    let answer: Value =
        app.get_as(&app.admin_token, "/api/v1/data-subject?phone=0511%207766554").await.json().await.expect("json");
    answer["bookings"].as_array().expect("bookings").iter().map(|b| b["id"].clone()).collect()
}

/// An erasure while a desk books a time from one of the person's callback entries would be
/// followed by a booking made from that entry's name and phone: it is refused (409
/// `callback_busy`, on the page at the form), nothing erased; once the desk is done, an erasure
/// takes the entry and the new booking alike.
#[tokio::test]
async fn an_erasure_waits_for_a_desk_booking_from_the_persons_callback_entry() {
    use crate::web_client::{Desk, PASSWORD};

    let app = crate::helpers::spawn_app().await;
    let ads = book(&app, "ads", 0).await;
    let callback = json!({ "citizen": { "name": NAME, "phone": PHONE, "language": "tr" },
                           "wish": { "language": "tr" }, "until": "2026-12-20" });
    let added = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &callback).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let entry: Value = added.json().await.expect("json");
    let entry_id =
        terminbuch::domain::ids::CallbackId::new(i32::try_from(entry["id"].as_i64().expect("id")).expect("id"));
    // A desk has claimed the entry to book from it, as `callbacks::book` does.
    let now = app.clock.now();
    let until = now + chrono::TimeDelta::minutes(2);
    let claimed = terminbuch::store::callbacks::claim(&app.db, entry_id, now, until).await.expect("claim");
    assert!(claimed);

    let body = json!({ "phone": PHONE, "reason": "request" });
    let refused = app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &body).await;
    assert_problem(refused, StatusCode::CONFLICT, "callback_busy").await;
    let booking: Value = app.get_booking(ads["id"].as_str().expect("id")).await.json().await.expect("json");
    assert_eq!(booking["citizen"]["name"], NAME, "nothing erased");
    let lead = Desk::new(&app.address);
    app.add_person("leitung.ds", "unit_lead", Some("ads")).await;
    assert_eq!(lead.log_in("leitung.ds", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let page = lead
        .submit("/data-subject", "/data-subject", &[("phone", PHONE), ("reason", "request"), ("step", "erase")])
        .await;
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let html = page.text().await.expect("page");
    assert!(html.contains("Gerade bucht jemand einen Termin"), "said at the form");
    assert!(html.contains("id=\"ds-erase\""), "the confirmation to try again");

    // The desk is done (here: gave up); the erasure goes through.
    terminbuch::store::callbacks::release(&app.db, entry_id, until).await.expect("release");
    let erased = app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &body).await;
    assert_eq!(erased.status(), StatusCode::OK);
    let counts: Value = erased.json().await.expect("json");
    assert_eq!((counts["bookings"].as_i64(), counts["callbacks"].as_i64()), (Some(1), Some(1)), "{counts}");
}

/// The booking made from the person's callback entry is theirs, also where the person's own
/// details no longer find it (its number corrected since; or, on PostgreSQL, a desk's booking from
/// the entry committed between the erasure's reads of the bookings and of the entries): the
/// erasure takes it with the entry, and nothing of the caller stays.
#[tokio::test]
async fn the_booking_made_from_the_persons_callback_entry_is_erased_with_it() {
    // Arrange: the caller on the callback list; a desk books from the entry; the booking's number
    // is corrected later to another line.
    let app = crate::helpers::spawn_app().await;
    let callback = json!({ "citizen": { "name": NAME, "phone": PHONE, "language": "tr" },
                           "wish": { "language": "tr" }, "until": "2026-12-20" });
    let added = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &callback).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let entry: Value = added.json().await.expect("json");
    let slot = app.free_slots("ads", "from=2026-12-01&limit=1").await[0]["slot_id"].clone();
    let path = format!("/api/v1/callbacks/{}/book", entry["id"]);
    let booked = app.post_as(&app.admin_token, &path, &json!({ "slot_id": slot })).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let booked: Value = booked.json().await.expect("json");
    let id = booked["booking_id"].as_str().expect("the booking's id").to_owned();
    let current: Value = app.get_booking(&id).await.json().await.expect("json");
    let corrected = json!({ "citizen": { "name": NAME, "phone": "0511 999888", "language": "tr" },
                            "email_consent": false, "version": current["version"] });
    let response = app.put_as(&app.admin_token, &format!("/api/v1/bookings/{id}/citizen"), &corrected).await;
    assert_eq!(response.status(), StatusCode::OK, "corrected");

    // Act: the erasure asked for by the number the caller gave the list.
    let erased = app
        .post_as(&app.admin_token, "/api/v1/data-subject/erase", &json!({ "phone": PHONE, "reason": "request" }))
        .await;

    // Assert: the entry and the booking made from it, with its name and number.
    assert_eq!(erased.status(), StatusCode::OK);
    let counts: Value = erased.json().await.expect("json");
    assert_eq!((counts["bookings"].as_i64(), counts["callbacks"].as_i64()), (Some(1), Some(1)), "{counts}");
    let after: Value = app.get_booking(&id).await.json().await.expect("json");
    assert_ne!(after["citizen"]["name"], NAME, "{after}");
    assert!(after["citizen"]["phone"].is_null(), "{after}");
}

/// A person whose address and number changed (or who gave neither) shows their confirmation:
/// the reference finds that one booking, not the others of the same number, for the export and
/// for the erasure; the audit names the way, never the reference's person.
#[tokio::test]
async fn a_booking_reference_finds_and_erases_that_booking_alone() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let first = book(&app, "ads", 0).await;
    let other = book(&app, "sdr", 0).await;
    let reference = first["reference"].as_str().expect("a reference").to_lowercase().replace('-', " ");

    let found: Value = app
        .post_as(&app.admin_token, "/api/v1/data-subject/export", &json!({ "reference": reference }))
        .await
        .json()
        .await
        .expect("test step");

    let bookings = found["bookings"].as_array().expect("bookings");
    assert_eq!(bookings.len(), 1, "that booking alone: {found}");
    assert_eq!(bookings[0]["id"], first["id"]);
    // The page: the unit's lead finds it by the reference too; a wrong one is named at its field.
    let lead = crate::web_client::Desk::new(&app.address);
    app.add_person("leitung.ref", "unit_lead", Some("ads")).await;
    assert_eq!(lead.log_in("leitung.ref", crate::web_client::PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let page = lead.submit("/data-subject", "/data-subject", &[("reference", &reference), ("step", "search")]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("page");
    assert!(html.contains(first["reference"].as_str().expect("reference")), "the booking is listed");
    assert!(!html.contains(other["reference"].as_str().expect("reference")), "the other unit's is not");
    let wrong = lead.submit("/data-subject", "/data-subject", &[("reference", "K7M4"), ("step", "search")]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.expect("page").contains("id=\"ds-reference-error\""), "named at the field");
    // A phone number or address that is none is named as such at its field (not "give one").
    for (field, value, said) in [("phone", "abc", "keine Telefonnummer"), ("email", "kein-at", "gültige E-Mail")] {
        let wrong = lead.submit("/data-subject", "/data-subject", &[(field, value), ("step", "search")]).await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = wrong.text().await.expect("page");
        let error = crate::web_client::text_of_id(&html, &format!("ds-{field}-error"));
        assert!(error.contains(said), "{field}: {error}");
    }
    for (body, field) in [
        (json!({ "reference": "K7M4" }), "reference"),
        (json!({ "reference": reference, "phone": PHONE }), "reference"),
    ] {
        let response = app.post_as(&app.admin_token, "/api/v1/data-subject/export", &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let erase = json!({ "reference": reference, "reason": "request" });
    let counts: Value =
        app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &erase).await.json().await.expect("json");
    assert_eq!(counts["bookings"], 1, "{counts}");
    let erased: Value = app.get_booking(first["id"].as_str().expect("id")).await.json().await.expect("json");
    assert!(erased["citizen"]["name"].as_str().is_none_or(str::is_empty), "erased: {erased}");
    let kept: Value = app.get_booking(other["id"].as_str().expect("id")).await.json().await.expect("json");
    assert_eq!(kept["citizen"]["name"], NAME, "the other booking of the same number stays");
    let recorded = records(&app, AuditAction::DataSubjectErased).await;
    assert_eq!(recorded[0].detail["by"], "reference");
}

/// The printed answer for the person with the number `PHONE`, asked for by a lead of `ads`.
async fn printed_by_a_lead(app: &TestApp) -> reqwest::Response {
    let lead = crate::web_client::Desk::new(&app.address);
    app.add_person("leitung.druck", "unit_lead", Some("ads")).await;
    assert_eq!(lead.log_in("leitung.druck", crate::web_client::PASSWORD).await.status(), StatusCode::SEE_OTHER);
    lead.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "print")]).await
}

/// The printed answer holds every stored field of the person's bookings, their history and
/// emails, and their callback-list entries, not only the overview the search shows; printing it
/// is recorded as an export.
#[tokio::test]
async fn the_printed_answer_holds_every_stored_detail() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let booked = book(&app, "ads", 0).await;
    let id = booked["id"].as_str().expect("id");
    assert_eq!(app.cancel_booking(id, "Frau ist krank").await.status(), StatusCode::OK);
    mail.run_once().await.expect("the emails go out");
    let wish = json!({
        "citizen": { "name": "Zeynep L.", "phone": PHONE, "language": "tr" },
        "wish": { "language": "tr", "before": "2026-12-20" },
        "until": "2026-12-24",
        "note": "ruft abends zurück",
    });
    let added = app.post_as(&app.admin_token, "/api/v1/units/ads/callbacks", &wish).await;
    assert_eq!(added.status(), StatusCode::CREATED);

    let printed = printed_by_a_lead(&app).await;

    assert_eq!(printed.status(), StatusCode::OK);
    assert_eq!(printed.headers()["cache-control"], "no-store", "kept by no browser cache");
    let html = printed.text().await.expect("page");
    let expected = [
        NAME,
        PHONE,
        EMAIL,
        "Kurdisch",
        "Rollstuhl, Begleitperson",
        "Vorfall am Arbeitsplatz",
        "Frau ist krank",
        "abgesagt",
        "angelegt",
        "Terminbestätigung",
        "Terminabsage",
        "Zeynep L.",
        "ruft abends zurück",
        "Termin gewünscht vor",
    ];
    for detail in expected {
        assert!(html.contains(detail), "{detail} in the printed answer: {html}");
    }
    assert!(html.contains(booked["reference"].as_str().expect("reference")));
    let exported = records(&app, AuditAction::DataSubjectExported).await;
    assert_eq!(exported.len(), 1, "printing is recorded as an export");
    assert!(!format!("{exported:?}").contains(PHONE), "the record names no number");
}

/// Numbers of two lines can share their search key (Kiel's "0431 1234567" and Vienna's
/// "+43 1 1234567"): a request by phone finds the bookings of the line asked for, however it is
/// written, and never the other line's.
#[tokio::test]
async fn a_request_by_phone_finds_the_line_asked_for_not_one_with_the_same_digits() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let slots = app.free_slots("ads", "limit=10").await;
    let mut ids = Vec::new();
    for (n, phone) in [(0, "0431 1234567"), (1, "+43 1 1234567")] {
        let mut body = crate::retention::personal_booking(slots[n]["slot_id"].as_i64().expect("slot"));
        body["citizen"]["phone"] = json!(phone);
        let response = app.post_booking(&body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(response.json::<Value>().await.expect("json")["id"].clone());
    }
    let found = |phone: &'static str| {
        let app = &app;
        async move {
            let body = json!({ "phone": phone });
            let bundle: Value =
                app.post_as(&app.admin_token, "/api/v1/data-subject/export", &body).await.json().await.expect("json");
            bundle["bookings"].as_array().expect("bookings").iter().map(|b| b["id"].clone()).collect::<Vec<_>>()
        }
    };

    assert_eq!(found("0431 1234567").await, [ids[0].clone()], "Kiel");
    assert_eq!(found("+49 431 1234567").await, [ids[0].clone()], "Kiel, written internationally");
    assert_eq!(found("+43 1 1234567").await, [ids[1].clone()], "Vienna");
    assert_eq!(found("0043 1 1234567").await, [ids[1].clone()], "Vienna, written with 00");
    let erase = json!({ "phone": "+43 1 1234567", "reason": "request" });
    let counts: Value =
        app.post_as(&app.admin_token, "/api/v1/data-subject/erase", &erase).await.json().await.expect("json");
    assert_eq!(counts["bookings"], 1, "{counts}");
    let kiel: Value = app.get_booking(ids[0].as_str().expect("id")).await.json().await.expect("json");
    assert_eq!(kiel["citizen"]["phone"], "0431 1234567", "the other line's booking stays");
}

/// The page names the other numbers and addresses the bookings found hold: bookings stored only
/// under them are found by them, and an erasure by this request takes them off these bookings.
#[tokio::test]
async fn the_page_names_the_other_ways_the_person_is_stored_under() {
    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    book(&app, "ads", 0).await;
    let lead = crate::web_client::Desk::new(&app.address);
    app.add_person("leitung.wege", "unit_lead", Some("ads")).await;
    assert_eq!(lead.log_in("leitung.wege", crate::web_client::PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let also = |html: &str| {
        html.split("id=\"ds-also\"").nth(1).map(|rest| rest.split("</div>").next().expect("end").to_owned())
    };

    // The same line written twice more otherwise, on two more of the person's bookings.
    let slots = app.free_slots("ads", "limit=10").await;
    for (n, spelled) in [(1, "+49 511 4455667"), (2, "0511-4455667")] {
        let mut body = crate::retention::personal_booking(slots[n]["slot_id"].as_i64().expect("a slot"));
        body["citizen"]["phone"] = json!(spelled);
        assert_eq!(app.post_booking(&body).await.status(), StatusCode::CREATED);
    }

    let by_email = lead.submit("/data-subject", "/data-subject", &[("email", EMAIL), ("step", "search")]).await;
    let by_phone = lead.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "search")]).await;

    let listed = also(&by_email.text().await.expect("page")).expect("named after a search by email");
    assert!(listed.contains(PHONE) && !listed.contains(EMAIL), "{listed}");
    assert_eq!(listed.matches("<li>").count(), 1, "one line, once, however spelled: {listed}");
    let listed = also(&by_phone.text().await.expect("page")).expect("named after a search by phone");
    assert!(listed.contains(EMAIL) && !listed.contains(PHONE), "{listed}");
}

/// An erasure on request answers once it is committed, also while a slow reader (a large list,
/// an audit export) still uses SQLite's write-ahead log: emptying the log, which must wait for
/// that reader and holds the write lock meanwhile, runs afterwards in short tries, so bookings
/// go on. Once the reader is done, the erased name leaves the log and the file.
#[tokio::test]
async fn an_erasure_does_not_wait_for_a_slow_reader_and_the_log_is_emptied_after_it() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |_| {}).await;
    book(&app, "ads", 0).await;
    let backend = app.db.get_database_backend();
    let reading = app.db.begin().await.expect("a read transaction on one of the service's connections");
    let count = Statement::from_string(backend, "SELECT count(*) FROM bookings");
    reading.query_one_raw(count).await.expect("the reader reads").expect("a row");

    let erased = app
        .post_as(&app.admin_token, "/api/v1/data-subject/erase", &json!({ "email": EMAIL, "reason": "request" }))
        .await;
    assert_eq!(erased.status(), StatusCode::OK, "answered while the reader still reads");
    assert_eq!(erased.json::<Value>().await.expect("json")["bookings"], 1);
    let later = book(&app, "ads", 1).await;
    assert_eq!(later["status"], "booked", "bookings go on while the log waits for the reader");
    reading.rollback().await.expect("the reader is done");

    if app.is_postgres() {
        return;
    }
    let file = app.settings.database_url.trim_start_matches("sqlite://").split('?').next().expect("path").to_owned();
    let holds_name = || {
        let mut bytes = std::fs::read(&file).expect("the database file");
        bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
        bytes.windows(NAME.len()).any(|w| w == NAME.as_bytes())
    };
    // The second booking is the same person's (the helper books one citizen), so its name is
    // written anew; erase it too, then wait for the background tries to empty the log.
    let again = app
        .post_as(&app.admin_token, "/api/v1/data-subject/erase", &json!({ "email": EMAIL, "reason": "request" }))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while holds_name() {
        assert!(std::time::Instant::now() < deadline, "the erased name is still in the SQLite file or its log");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The printed answer words a booking's history (German, times in Europe/Berlin) instead of
/// showing the stored details as JSON.
#[tokio::test]
async fn the_printed_history_of_a_booked_moved_and_cancelled_booking_reads_as_text() {
    use chrono::{DateTime, Datelike, FixedOffset};
    use chrono_tz::Europe::Berlin;

    let dir = tempfile::tempdir().expect("test step");
    let data_dir = dir.path().to_owned();
    let (app, _mail) = spawn_app_with_manual_mail(default_now(), |s| s.data_dir = data_dir).await;
    let booked = book(&app, "ads", 0).await;
    let id = booked["id"].as_str().expect("id");
    let free = app.free_slots("ads", "limit=5").await;
    let moved = app.reschedule_booking(id, &json!({ "slot_id": free[3]["slot_id"] })).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.expect("json");
    assert_eq!(app.cancel_booking(id, "Frau ist krank").await.status(), StatusCode::OK);

    let printed = printed_by_a_lead(&app).await;

    assert_eq!(printed.status(), StatusCode::OK);
    let html = printed.text().await.expect("page");
    let local = |value: &Value| {
        let at: DateTime<FixedOffset> = value.as_str().expect("an instant").parse().expect("RFC 3339");
        let at = at.with_timezone(&Berlin);
        let day = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"][at.weekday().num_days_from_monday() as usize];
        format!("{day}, {}", at.format("%d.%m.%Y, %H:%M"))
    };
    let history = &html[html.find(r#"<ul class="dsp-history">"#).expect("the history")..];
    let history = &history[..history.find("</ul>").expect("its end")];
    for line in [
        format!("angelegt für {}", local(&booked["starts_at"])),
        format!("verschoben: {} → {}", local(&booked["starts_at"]), local(&moved["starts_at"])),
        "abgesagt: Frau ist krank".to_owned(),
    ] {
        assert!(history.contains(&line), "{line} in the history: {history}");
    }
    for json in ["{\"", "{&#34;", "{&quot;", "\"reason\"", "slot_id"] {
        assert!(!html.contains(json), "no stored detail as JSON ({json}): {history}");
    }
}

/// On the request page, the confirmation of an erasure says that the person's appointments still
/// to come stay booked without a way to reach them (to be cancelled first if they are not to
/// be); the erasure leads on to a page that says what it removed, and reloading that page erases
/// nothing again and records no second erasure.
#[tokio::test]
async fn the_erasure_page_warns_of_appointments_to_come_and_a_reload_erases_nothing_again() {
    use crate::web_client::{Desk, PASSWORD, location, text_of_id};

    // Arrange: an appointment to come; a unit lead on the request page.
    let app = crate::helpers::spawn_app().await;
    let booked = book(&app, "ads", 0).await;
    app.add_person("leitung.ds", "unit_lead", Some("ads")).await;
    let lead = Desk::new(&app.address);
    assert_eq!(lead.log_in("leitung.ds", PASSWORD).await.status(), StatusCode::SEE_OTHER);

    // Act: the confirmation step.
    let asked = lead.submit("/data-subject", "/data-subject", &[("phone", PHONE), ("step", "confirm")]).await;

    // Assert: the warning at the confirmation.
    assert_eq!(asked.status(), StatusCode::OK);
    let html = asked.text().await.expect("page");
    assert!(text_of_id(&html, "ds-upcoming").starts_with("Einer dieser Termine steht noch bevor."), "{html:.3000}");

    // Act: erased.
    let fields = [("phone", PHONE), ("reason", "request"), ("step", "erase")];
    let erased = lead.post(&crate::web_client::csrf_of(&html), "/data-subject", &fields).await;

    // Assert: on to the page that says so, also when reloaded; one erasure recorded.
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    let to = location(&erased);
    assert_eq!(to, "/data-subject?done=erased");
    for _ in 0..2 {
        let (status, page) = lead.text(&to).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text_of_id(&page, "ds-erased-bookings"), "1", "{page:.3000}");
    }
    assert_eq!(records(&app, AuditAction::DataSubjectErased).await.len(), 1, "erased once");

    // Assert: the appointment still to come says that its person's data are gone, on its page,
    // in the day list and in the API, instead of an empty name.
    let reference = booked["reference"].as_str().expect("reference");
    let (_, page) = lead.text(&format!("/bookings/{reference}")).await;
    let notice = text_of_id(&page, "erased");
    assert!(notice.starts_with("Persönliche Daten gelöscht am "), "{notice}");
    assert!(notice.contains("Der Termin bleibt gebucht"), "{notice}");
    let day = crate::retention::local_day(&booked["starts_at"]);
    let (_, list) = lead.text(&format!("/day?unit=ads&date={day}")).await;
    assert!(list.contains("(Daten gelöscht)"), "{list:.4000}");
    let read: Value = app.get_booking(booked["id"].as_str().expect("id")).await.json().await.expect("json");
    assert!(
        read["erased_at"].as_str().is_some_and(|at| at.parse::<chrono::DateTime<chrono::FixedOffset>>().is_ok()),
        "{read}"
    );
    assert_eq!(read["status"], "booked");
}
