//! The real server with demo data and a front-desk login of the anti-discrimination office, on
//! SQLite or, with `TEST_DATABASE_URL`, PostgreSQL (the API tests' `TestDb`: a schema per test).

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use terminbuch::clock::Clock;
use terminbuch::config::Settings;
use terminbuch::domain::ids::StaffId;
use terminbuch::services::directory::{StaffInput, StaffRole};
use terminbuch::services::{directory, schedule, seed};
use terminbuch::startup::{Application, Dependencies, bootstrap};

use crate::test_db::TestDb;

pub const LOGIN: &str = "empfang";
pub const PASSWORD: &str = "richtig-pferd-42";
/// The unit lead of the anti-discrimination office.
pub const LEAD: &str = "leitung";
/// An administrator.
pub const ADMIN: &str = "verwaltung";

pub struct UiApp {
    pub address: String,
    pub db: sea_orm::DatabaseConnection,
    _db_guard: TestDb,
}

/// What the service calls of a test need besides the database: the tests' fixed clock, the public
/// holidays only, an email dispatcher nobody listens to, no counsellor cache.
pub struct ServiceDeps {
    clock: Clock,
    calendar: terminbuch::domain::holidays::HolidayCalendar,
    mail: terminbuch::mail::Nudge,
    counsellors: directory::CounsellorCache,
    listed: terminbuch::services::bookings::ListedSlots,
}

impl ServiceDeps {
    pub fn new() -> Self {
        Self {
            clock: Clock::fixed(now()),
            calendar: terminbuch::domain::holidays::HolidayCalendar::new(vec![]),
            mail: terminbuch::mail::Nudge::default(),
            counsellors: directory::CounsellorCache::off(),
            listed: terminbuch::services::bookings::ListedSlots::off(),
        }
    }

    pub fn book<'a>(&'a self, db: &'a sea_orm::DatabaseConnection) -> terminbuch::services::bookings::Book<'a> {
        terminbuch::services::bookings::Book {
            db,
            search_db: db,
            clock: &self.clock,
            calendar: &self.calendar,
            tz: Berlin,
            mail: &self.mail,
            mail_domain: "example.org",
            counsellors: &self.counsellors,
            listed: &self.listed,
            writer: None,
            booking_pool: None,
        }
    }
}

/// Tuesday 24 November 2026, 08:00 in Hannover.
pub fn now() -> DateTime<Utc> {
    Berlin.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).single().expect("valid instant").with_timezone(&Utc)
}

pub async fn spawn() -> UiApp {
    spawn_with(|_| {}).await
}

/// Like [`spawn`], with the settings changed first.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> UiApp {
    // A SQLite file of its own, or a schema of its own with TEST_DATABASE_URL=postgres://…
    let test_db = TestDb::create().await;
    let mut settings = Settings::for_tests(&test_db.url);
    settings.data_dir = test_db.data_dir().to_owned();
    // The desk's tests log in by password alone; the accounts tests require a second factor.
    settings.require_mfa = terminbuch::domain::accounts::RequireMfa::None;
    configure(&mut settings);
    let db = test_db.conn.clone();
    let clock = Clock::fixed(now());
    let deps = Dependencies { db: db.clone(), clock: clock.clone() };
    bootstrap(&settings, &deps).await.expect("migrations");
    let today = now().with_timezone(&Berlin).date_naive();
    seed::demo(&db, &clock, today).await.expect("demo data");
    schedule::regenerate_all(&db, &settings.holiday_calendar(), Berlin, today + chrono::Days::new(56), now())
        .await
        .expect("slots");
    add_person(&db, LOGIN, "Empfang Test", "front_desk", Some("ads")).await;
    for (login, role, unit) in [(LEAD, "unit_lead", Some("ads")), (ADMIN, "admin", None)] {
        add_person(&db, login, &format!("{login} Test"), role, unit).await;
    }
    let app = Application::build(settings, deps).await.expect("build");
    let address = crate::serve::serve(app).await;
    UiApp { address, db, _db_guard: test_db }
}

/// Adds `login` with `role` (in `unit`) and the tests' password; their id.
pub async fn add_person(
    db: &sea_orm::DatabaseConnection,
    login: &str,
    display_name: &str,
    role: &str,
    unit: Option<&str>,
) -> StaffId {
    let input = StaffInput {
        login: login.to_owned(),
        display_name: display_name.to_owned(),
        email: None,
        languages: vec![terminbuch::domain::language::Language::GERMAN],
        role: StaffRole::parse(role).expect("role"),
        unit: unit.map(str::to_owned),
        password: Some(PASSWORD.to_owned()),
    };
    directory::add_staff(db, &Clock::fixed(now()), input).await.expect("staff added").member.id
}

/// Books `target` for a citizen called `name` (no email) as the front desk would, bypassing the
/// browser: the front desk's own booking at another moment, or an appointment entered afterwards
/// by the unit lead (`override_reason`).
pub async fn book_as_front_desk(
    app: &UiApp,
    target: terminbuch::services::bookings::Target,
    name: &str,
    override_reason: Option<&str>,
) -> terminbuch::domain::records::Booking {
    // Overriding a rule is for unit leads: an appointment entered afterwards is the lead's.
    let login = if override_reason.is_some() { LEAD } else { LOGIN };
    book_as(app, login, target, name, override_reason).await
}

/// [`book_as_front_desk`] as the staff member `login` (another person at another desk).
pub async fn book_as(
    app: &UiApp,
    login: &str,
    target: terminbuch::services::bookings::Target,
    name: &str,
    override_reason: Option<&str>,
) -> terminbuch::domain::records::Booking {
    use terminbuch::domain::booking::{Channel, Citizen};
    use terminbuch::services::bookings::{self, NewBooking};
    use terminbuch::store::directory as store;
    let staff = store::find_staff_by_login(&app.db, login).await.expect("db").expect("staff");
    let actor = store::actor_for_staff(&app.db, staff.id).await.expect("db").expect("actor");
    let services = ServiceDeps::new();
    let deps = services.book(&app.db);
    let citizen = Citizen {
        name: name.to_owned(),
        email: None,
        phone: None,
        language: terminbuch::domain::language::Language::GERMAN,
        interpreter_language: None,
        accessibility_needs: None,
        email_consent: false,
    };
    let new = NewBooking {
        target,
        citizen,
        channel: Channel::Phone,
        note: None,
        override_reason: override_reason.map(str::to_owned),
    };
    bookings::create(deps, &actor, new).await.expect("booking")
}
