//! Staff desk tests: HTTP-level checks of sessions, CSRF and security headers (`http`), and
//! real headless Chromium driven through chromedriver with axe-core checks (`browser`).

mod app;
mod browser;
mod desk_http;
mod flows;
mod http;
mod lead;
mod lead_http;
mod phone_desk;
