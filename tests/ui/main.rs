//! Staff desk tests: HTTP-level checks of sessions, CSRF and security headers (`http`), and
//! real headless Chromium driven through chromedriver with axe-core checks (`browser`).

mod accounts;
mod app;
mod audit_pages;
mod browser;
mod citizen_page;
mod desk_changes;
mod desk_changes_http;
mod desk_http;
mod flows;
mod http;
mod lead;
mod lead_http;
mod own_absences;
mod phone_desk;
mod privacy;
#[path = "../api/serve.rs"]
mod serve;
#[path = "../api/test_db.rs"]
#[allow(dead_code)] // the API tests use all of it, these tests only `create`
mod test_db;
mod week_glance;
