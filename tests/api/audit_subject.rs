//! The audit read by the person a record concerns (`subject`: the records whose target is
//! `staff:<id>`) on the page, the API and both CSVs, page by page; and the page's details column
//! worded for people while the API and the CSV keep the raw target and detail.

use reqwest::StatusCode;
use serde_json::{Value, json};
use terminbuch::domain::accounts::RequireMfa;
use terminbuch::domain::audit::{AuditAction, AuditEntry, AuditTarget};
use terminbuch::domain::ids::StaffId;

use crate::audit::records;
use crate::helpers::{TestApp, assert_problem, default_now, spawn_app_with};
use crate::web::{WebClient, add_member};

/// The server (admins without a second factor, for the pages) and an admin on the pages.
async fn app_and_admin_page() -> (TestApp, WebClient) {
    let app = spawn_app_with(default_now(), |s| s.require_mfa = RequireMfa::None).await;
    add_member(&app, "verwaltung", "admin", None).await;
    let web = WebClient::logged_in(&app, "verwaltung").await;
    (app, web)
}

/// Adds a front desk member of ADS through the API; returns their id.
async fn add_person(app: &TestApp, login: &str, name: &str) -> StaffId {
    let body = json!({ "login": login, "name": name, "role": "front_desk", "unit": "ads" });
    let response = app.post_as(&app.admin_token, "/api/v1/staff", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{login} added");
    terminbuch::store::directory::find_staff_by_login(&app.db, login).await.expect("db").expect("added").id
}

/// `n` records about `whom` as the system writes a change of their account.
async fn records_about(app: &TestApp, whom: StaffId, n: usize) {
    use sea_orm::TransactionTrait;
    let txn = app.db.begin().await.expect("a transaction");
    for at in 0..n {
        let entry = AuditEntry::system(AuditAction::StaffChanged)
            .target(AuditTarget::Staff(whom))
            .detail(json!({ "fields": ["email"], "n": at }));
        terminbuch::store::audit::insert(&txn, app.clock.now(), &entry).await.expect("recorded");
    }
    txn.commit().await.expect("committed");
}

async fn api_page(app: &TestApp, query: &str) -> Value {
    let response = app.get_as(&app.admin_token, &format!("/api/v1/audit?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "audit?{query}");
    response.json().await.expect("a page of records")
}

/// Every record of the API's pages for `query` (`limit` records a page), following `next_before`.
async fn api_pages(app: &TestApp, query: &str, limit: u64) -> (Vec<Value>, usize) {
    let (mut all, mut pages, mut before) = (Vec::new(), 0, String::new());
    loop {
        let page = api_page(app, &format!("{query}&limit={limit}{before}")).await;
        pages += 1;
        all.extend(page["records"].as_array().expect("records").iter().cloned());
        match page["next_before"].as_i64() {
            Some(next) => before = format!("&before={next}"),
            None => return (all, pages),
        }
    }
}

/// The records of a CSV text (after its header).
fn csv_rows(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.expect("a whole CSV row")).collect()
}

/// The page's rows: how many, and how many name `about` as what they concern.
fn rows_about(html: &str, about: &str) -> (usize, usize) {
    let table = html.split("<tbody>").nth(1).and_then(|rest| rest.split("</tbody>").next()).unwrap_or("");
    (table.matches("<tr>").count(), table.matches(&format!("<li>Betrifft: {about}</li>")).count())
}

/// The `href` of the link with `id` in `html`, its `&amp;` and `&#38;` read as `&`.
fn link(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\" href=\""))? + id.len() + 12;
    Some(html[at..].split('"').next()?.replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn a_staff_change_shows_the_person_and_the_fields_on_the_page_and_stays_raw_in_the_api_and_csv() {
    // Arrange: a person whose name would be markup, whose name and email an admin changes.
    let (app, web) = app_and_admin_page().await;
    let kim = add_person(&app, "kim", "Kim Lee").await;
    let change = json!({ "name": "Kim <b>Lee</b>", "email": "kim@example.org" });
    assert_eq!(app.patch_as(&app.admin_token, "/api/v1/staff/kim", &change).await.status(), StatusCode::OK);

    // Act
    let page = web.get("/admin/audit?action=staff_changed").await;
    assert_eq!(page.status(), StatusCode::OK);
    let german = page.text().await.expect("the page");
    web.get("/lang?to=en&back=/admin/audit").await;
    let english = web.get("/admin/audit?action=staff_changed").await.text().await.expect("the page");

    // Assert: the person by name and login, the fields by their names, nothing unescaped.
    let person = "Kim &#60;b&#62;Lee&#60;/b&#62; (kim)";
    assert_eq!(rows_about(&german, person), (1, 1), "{german}");
    for shown in ["<li>Geänderte Felder: Name, E-Mail</li>", "<li>Anmeldename: kim</li>"] {
        assert!(german.contains(shown), "{shown} in {german}");
    }
    for shown in [format!("<li>Concerns: {person}</li>"), "<li>Changed fields: name, email</li>".to_owned()] {
        assert!(english.contains(&shown), "{shown} in {english}");
    }
    for page in [&german, &english] {
        assert!(!page.contains("<b>Lee</b>"), "the name is escaped");
        assert!(!page.contains(&format!("staff:{kim}")), "no raw target");
        assert!(!page.contains("&quot;fields") && !page.contains("&#34;fields"), "no raw JSON");
    }
    let api = api_page(&app, "action=staff_changed").await;
    let record = &api["records"][0];
    assert_eq!(record["target"], format!("staff:{kim}"));
    assert_eq!(record["detail"], json!({ "fields": ["name", "email"], "login": "kim" }));
    let csv = app.get_as(&app.admin_token, "/api/v1/audit.csv?action=staff_changed").await;
    let rows = csv_rows(&csv.text().await.expect("csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][11], format!("staff:{kim}"), "the raw target");
    assert_eq!(serde_json::from_str::<Value>(&rows[0][12]).expect("JSON"), record["detail"], "the raw detail");
    let desk_csv = web.get("/admin/audit.csv?action=staff_changed").await.text().await.expect("csv");
    assert_eq!(csv_rows(&desk_csv)[0].iter().skip(11).collect::<Vec<_>>(), rows[0].iter().skip(11).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_subject_filter_finds_one_persons_records_page_by_page_on_the_page_the_api_and_the_csv() {
    // Arrange: 58 records about kim (added, role given, 55 changes, one change through the API)
    // and 57 about ole, interleaved.
    let (app, web) = app_and_admin_page().await;
    let kim = add_person(&app, "kim", "Kim Lee").await;
    let ole = add_person(&app, "ole", "Ole Berg").await;
    for _ in 0..5 {
        records_about(&app, kim, 11).await;
        records_about(&app, ole, 11).await;
    }
    let change = json!({ "email": "kim@example.org" });
    assert_eq!(app.patch_as(&app.admin_token, "/api/v1/staff/kim", &change).await.status(), StatusCode::OK);
    let about_kim = format!("staff:{kim}");

    // Act and assert: the API, by login and by id, page by page.
    let (found, pages) = api_pages(&app, "subject=kim", 20).await;
    assert_eq!((found.len(), pages), (58, 3), "every record about kim, on three pages");
    assert!(found.iter().all(|r| r["target"] == about_kim.as_str()), "none about another person");
    let mut ids: Vec<i64> = found.iter().map(|r| r["id"].as_i64().expect("id")).collect();
    ids.dedup();
    assert_eq!(ids.len(), 58, "each once");
    assert_eq!(api_page(&app, &format!("subject={kim}&limit=20")).await["records"], json!(found[..20]));
    let (about_ole, _) = api_pages(&app, "subject=ole&action=staff_changed", 500).await;
    assert_eq!(about_ole.len(), 55, "with another filter");
    let viewed = records(&app, AuditAction::AuditViewed).await;
    assert_eq!(viewed[0].detail["subject"], format!("staff:{ole}"), "the read records its filter");

    // The API's CSV, in two downloads.
    let first = app.get_as(&app.admin_token, "/api/v1/audit.csv?subject=kim&limit=50").await;
    let next = first.headers()["x-next-before"].to_str().expect("more records").to_owned();
    let rest = app.get_as(&app.admin_token, &format!("/api/v1/audit.csv?subject=kim&limit=50&before={next}")).await;
    assert!(rest.headers().get("x-next-before").is_none(), "the last part");
    let mut rows = csv_rows(&first.text().await.expect("csv"));
    rows.extend(csv_rows(&rest.text().await.expect("csv")));
    assert_eq!(rows.len(), 58);
    assert!(rows.iter().all(|r| r[11] == about_kim), "none about another person");

    // The page: 50 rows, then the older ones, both about kim alone.
    let page = web.get("/admin/audit?subject=kim").await.text().await.expect("the page");
    assert_eq!(rows_about(&page, "Kim Lee (kim)"), (50, 50), "{page}");
    let older = link(&page, "audit-older").expect("a link to the older records");
    assert!(older.contains("subject=kim") && older.contains("before="), "{older}");
    let second = web.get(&older).await.text().await.expect("the page");
    assert_eq!(rows_about(&second, "Kim Lee (kim)"), (8, 8), "{second}");
    assert!(link(&second, "audit-older").is_none(), "the last page");
    let download = link(&page, "audit-csv").expect("the download");
    assert!(download.contains("subject=kim"), "{download}");
    let desk_csv = csv_rows(&web.get(&download).await.text().await.expect("csv"));
    assert_eq!(desk_csv.len(), 58);
    assert!(desk_csv.iter().all(|r| r[11] == about_kim));
    let exported = records(&app, AuditAction::AuditExported).await;
    assert_eq!(exported[0].detail["subject"], about_kim, "the export records its filter");
}

#[tokio::test]
async fn the_desks_download_keeps_the_subject_filter_in_every_part() {
    // Arrange: more records about kim than one part holds, with ole's among them.
    let (app, web) = app_and_admin_page().await;
    let kim = add_person(&app, "kim", "Kim Lee").await;
    let ole = add_person(&app, "ole", "Ole Berg").await;
    let max = usize::try_from(terminbuch::services::audit::EXPORT_MAX).expect("a count");
    records_about(&app, kim, 20).await;
    records_about(&app, ole, 20).await;
    records_about(&app, kim, max).await;
    let before = api_pages(&app, "subject=kim", 500).await.0.len();

    // Act
    let response = web.get("/admin/audit.csv?subject=kim").await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let rows = csv_rows(&response.text().await.expect("csv"));
    assert_eq!(rows.len(), before, "every record about kim, in one file");
    assert!(rows.iter().all(|r| r[11] == format!("staff:{kim}")), "none about ole in any part");
    let parts = records(&app, AuditAction::AuditExported).await;
    assert_eq!(parts.len(), 2, "two parts");
    assert!(parts.iter().all(|p| p.detail["subject"] == format!("staff:{kim}")), "{parts:?}");
}

#[tokio::test]
async fn an_unknown_subject_is_refused_at_the_field_and_as_a_problem_naming_subject() {
    let (app, web) = app_and_admin_page().await;
    for path in ["/api/v1/audit?subject=niemand", "/api/v1/audit.csv?subject=niemand"] {
        let response = app.get_as(&app.admin_token, path).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "subject", "{path}: {problem}");
    }

    let page = web.get("/admin/audit?subject=niemand").await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text().await.expect("the page");
    assert!(html.contains("id=\"audit-subject-error\">Niemand hat diese Anmeldung.</p>"), "{html}");
    assert!(html.contains("<a href=\"#audit-subject\">"), "the summary leads to the field");
    assert_eq!(web.get("/admin/audit.csv?subject=niemand").await.status(), StatusCode::BAD_REQUEST);

    let doc: Value = app.get_unauthenticated("/api/openapi.json").await.json().await.expect("the document");
    for path in ["/api/v1/audit", "/api/v1/audit.csv"] {
        let parameters = doc["paths"][path]["get"]["parameters"].as_array().expect("parameters");
        assert!(!parameters.is_empty() && parameters.iter().all(|p| p["in"] == "query"), "{path}: {parameters:?}");
        let subject = parameters.iter().find(|p| p["name"] == "subject").expect("subject is documented");
        assert_eq!(subject["required"], json!(false), "{path}: {subject}");
    }
}
