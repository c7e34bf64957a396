//! The unit leads' and admins' pages through HTTP: who may open them, and what they refuse.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::app::{ADMIN, LEAD, LOGIN, PASSWORD, UiApp, spawn};

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client")
}

pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..].split('"').next().expect("token").to_owned()
}

pub async fn logged_in(app: &UiApp, login: &str) -> (reqwest::Client, String) {
    let client = client();
    let page = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("helper step")
        .text()
        .await
        .expect("helper step");
    let csrf = csrf_of(&page);
    let response = client
        .post(format!("{}/login", app.address))
        .form(&[("csrf", csrf.as_str()), ("login", login), ("password", PASSWORD)])
        .send()
        .await
        .expect("helper step");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{login} logs in");
    let page = client
        .get(format!("{}/day", app.address))
        .send()
        .await
        .expect("helper step")
        .text()
        .await
        .expect("helper step");
    let csrf = csrf_of(&page);
    (client, csrf)
}

async fn denials(app: &UiApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'access_denied'",
        ))
        .await
        .expect("helper step")
        .expect("helper step");
    row.try_get::<i64>("", "n").expect("helper step")
}

#[tokio::test]
async fn front_desk_gets_403_on_lead_and_admin_pages_and_each_refusal_is_logged() {
    let app = spawn().await;
    let (client, csrf) = logged_in(&app, LOGIN).await;
    let before = denials(&app).await;
    for path in ["/hours", "/hours?unit=ads", "/admin/units", "/admin/staff"] {
        let response = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "GET {path}");
        assert!(response.text().await.unwrap().contains("keinen Zugriff"), "GET {path}");
    }
    let posts: [(&str, Vec<(&str, &str)>); 5] = [
        ("/hours/ads/rules", vec![("start", "09:00"), ("end", "10:00"), ("weekday", "1")]),
        ("/hours/ads/absences", vec![("from", "2026-12-01"), ("to", "2026-12-01")]),
        ("/hours/ads/closures", vec![("from", "2026-12-01"), ("to", "2026-12-01")]),
        ("/admin/units", vec![("slug", "neu"), ("name", "Neu")]),
        ("/admin/staff", vec![("login", "neu"), ("name", "Neu"), ("role", "admin")]),
    ];
    for (path, mut form) in posts {
        form.push(("csrf", &csrf));
        let response = client.post(format!("{}{path}", app.address)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    assert!(denials(&app).await >= before + 9, "every refusal is in the audit log");
}

#[tokio::test]
async fn a_unit_lead_may_manage_hours_but_not_units_or_staff() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LEAD).await;
    let hours = client.get(format!("{}/hours", app.address)).send().await.unwrap();
    assert_eq!(hours.status(), StatusCode::OK);
    assert!(hours.text().await.unwrap().contains("Wöchentliche Beratungszeiten"));
    let other = client.get(format!("{}/hours?unit=sdr", app.address)).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN, "a lead of another unit");
    for path in ["/admin/units", "/admin/staff"] {
        let response = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn an_admin_opens_every_new_page() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, ADMIN).await;
    for path in ["/hours", "/hours?unit=sdr", "/admin/units", "/admin/staff", "/week", "/emails/failed"] {
        let response = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn forms_of_the_new_pages_need_the_csrf_token() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, ADMIN).await;
    for path in ["/hours/ads/rules", "/hours/ads/closures", "/admin/units", "/admin/staff"] {
        let response = client.post(format!("{}{path}", app.address)).form(&[("name", "x")]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn the_new_pages_speak_english_when_switched() {
    let app = spawn().await;
    let (client, _) = logged_in(&app, LEAD).await;
    let switch = client.get(format!("{}/lang?to=en&back=/hours", app.address)).send().await.unwrap();
    assert_eq!(switch.status(), StatusCode::SEE_OTHER);
    let page = client.get(format!("{}/hours", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains("Weekly counselling hours"), "{page}");
    assert!(page.contains("Alt + B: book appointment"), "shortcuts in English");
    let week = client.get(format!("{}/week", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(week.contains("Week view") && week.contains("Previous week"));
}

/// The admin pages keep the limits the API keeps (counted in characters), each named at its
/// field, nothing stored; a long name in another script within them is taken.
#[tokio::test]
async fn the_admin_forms_keep_the_apis_limits_at_the_field() {
    let app = spawn().await;
    let (client, csrf) = logged_in(&app, ADMIN).await;
    let long = "N".repeat(201);
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(fields);
        let request = client.post(format!("{}{path}", app.address)).form(&form);
        async move {
            let response = request.send().await.expect("sent");
            (response.status(), response.text().await.expect("page"))
        }
    };
    let person = |name: &str, email: &str| {
        vec![
            ("login", "neu.person".to_owned()),
            ("name", name.to_owned()),
            ("email", email.to_owned()),
            ("role", "front_desk".to_owned()),
            ("unit", "ads".to_owned()),
        ]
    };
    for (fields, id) in [(person(&long, ""), "staff-name"), (person("Neu Person", "neu@x"), "staff-email")] {
        let (status, page) = post("/admin/staff", fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        assert!(page.contains(&format!("id=\"{id}-error\"")), "named at {id}");
    }
    let unit = |short: &str, email: &str| {
        vec![
            ("slug", "neu".to_owned()),
            ("name", "Neue Stelle".to_owned()),
            ("short_name", short.to_owned()),
            ("phone", "0511 168-1".to_owned()),
            ("email", email.to_owned()),
            ("location", "1".to_owned()),
            ("minutes", "60".to_owned()),
            ("retention_days", "90".to_owned()),
        ]
    };
    let short = "K".repeat(61);
    for (fields, id) in [(unit(&short, "neu@hannover-stadt.de"), "unit-short"), (unit("NEU", "neu@x"), "unit-email")] {
        let (status, page) = post("/admin/units", fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        assert!(page.contains(&format!("id=\"{id}-error\"")), "named at {id}");
    }
    let cyrillic = "Ж".repeat(150);
    let (status, _) = post("/admin/staff", person(&cyrillic, "neu@hannover-stadt.de")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "150 letters of two bytes each are 150 characters");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM staff WHERE login = 'neu.person'").await, 1, "only the good one");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM units WHERE slug = 'neu'").await, 0, "no unit stored");
}

async fn count(app: &UiApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let statement = Statement::from_string(app.db.get_database_backend(), sql.to_owned());
    let row = app.db.query_one_raw(statement).await.expect("db").expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}
