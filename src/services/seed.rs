//! Demo data: the department's units from the city's notice, with invented counsellors and
//! plausible counselling hours. Idempotent: running it again adds only what is missing.
//! Phone numbers are in the city's format but fictional; no real person's name is used.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sea_orm::ConnectionTrait;

use super::ServiceError;
use crate::clock::Clock;
use crate::domain::access::Role;
use crate::domain::language::Language;
use crate::domain::records::{Location, StaffMember};
use crate::store::directory::{self, NewLocation, NewStaff, NewUnit};
use crate::store::schedule::{self, RuleFields};

/// The department's address (from the city's notice).
const LOCATION_NAME: &str = "Fachbereich Soziales, Hamburger Allee 25";

struct DemoUnit {
    slug: &'static str,
    name: &'static str,
    short_name: &'static str,
    phone: &'static str,
    languages: &'static [&'static str],
    confidential: bool,
    minutes: i32,
    counsellors: &'static [(&'static str, &'static str, &'static [&'static str])],
    /// (weekday 1..=7, start, end)
    hours: &'static [(u8, &'static str, &'static str)],
}

const UNITS: &[DemoUnit] = &[
    DemoUnit {
        slug: "ads",
        name: "Antidiskriminierungsstelle",
        short_name: "ADS",
        phone: "0511 168-49001 (fiktiv)",
        languages: &["de", "en", "tr", "ar"],
        confidential: true,
        minutes: 60,
        counsellors: &[
            ("j.winterberg", "Jana Winterberg", &["de", "en"]),
            ("d.aydin", "Deniz Aydın", &["de", "tr", "en"]),
            ("s.haddad", "Samira Haddad", &["de", "ar", "fr"]),
        ],
        hours: &[(1, "09:00", "12:00"), (2, "14:00", "17:00"), (4, "09:00", "12:00")],
    },
    DemoUnit {
        slug: "sdr",
        name: "Stelle für Demokratiestärkung und gegen Rechtsextremismus",
        short_name: "SDR",
        phone: "0511 168-49002 (fiktiv)",
        languages: &["de", "en"],
        confidential: true,
        minutes: 60,
        counsellors: &[
            ("l.feldmann", "Lukas Feldmann", &["de", "en"]),
            ("m.nowak", "Marta Nowak", &["de", "pl", "en"]),
        ],
        hours: &[(2, "10:00", "13:00"), (3, "14:00", "16:00")],
    },
    DemoUnit {
        slug: "suedosteuropa",
        name: "Koordinierungsstelle Südosteuropa",
        short_name: "KS Südosteuropa",
        phone: "0511 168-49003 (fiktiv)",
        languages: &["de", "ro", "bg", "bs", "hr", "sr", "tr"],
        confidential: false,
        minutes: 45,
        counsellors: &[
            ("e.popescu", "Elena Popescu", &["de", "ro", "en"]),
            ("d.kovac", "Dragan Kovač", &["de", "bs", "hr", "sr"]),
        ],
        hours: &[(1, "13:00", "16:00"), (3, "09:00", "12:00"), (4, "13:00", "16:00")],
    },
    DemoUnit {
        slug: "esf",
        name: "Koordinierungsstelle Europäischer Sozialfonds",
        short_name: "ESF",
        phone: "0511 168-49004 (fiktiv)",
        languages: &["de", "en"],
        confidential: false,
        minutes: 60,
        counsellors: &[("j.brandt", "Johanna Brandt", &["de", "en"])],
        hours: &[(3, "10:00", "12:00")],
    },
    DemoUnit {
        slug: "ia",
        name: "Geschäftsstelle Internationaler Ausschuss",
        short_name: "IA",
        phone: "0511 168-49005 (fiktiv)",
        languages: &["de", "en"],
        confidential: false,
        minutes: 30,
        counsellors: &[("t.reinholz", "Tobias Reinholz", &["de", "en"])],
        hours: &[(2, "09:00", "11:00")],
    },
    DemoUnit {
        slug: "gfz",
        name: "Gesellschaftsfonds Zusammenleben",
        short_name: "GFZ",
        phone: "0511 168-49006 (fiktiv)",
        languages: &["de", "tr", "en"],
        confidential: false,
        minutes: 45,
        counsellors: &[("a.sahin", "Aylin Şahin", &["de", "tr"])],
        hours: &[(4, "14:00", "17:00")],
    },
    DemoUnit {
        slug: "sms",
        name: "Stadt macht Schule",
        short_name: "SMS",
        phone: "0511 168-49007 (fiktiv)",
        languages: &["de"],
        confidential: false,
        minutes: 60,
        counsellors: &[("f.lohmann", "Frederike Lohmann", &["de", "en"])],
        hours: &[(5, "09:00", "12:00")],
    },
];

/// What a seed run added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub units: usize,
    pub staff: usize,
    pub rules: usize,
}

/// Adds the demo units, counsellors and counselling hours that are missing. Slots are not made
/// here; call `schedule::regenerate_all` afterwards.
///
/// # Errors
/// Database failures.
pub async fn demo<C: ConnectionTrait>(db: &C, clock: &Clock, valid_from: NaiveDate) -> Result<Seeded, ServiceError> {
    let now = clock.now();
    let mut seeded = Seeded::default();
    let location = demo_location(db).await?;
    for demo in UNITS {
        let unit = match directory::find_unit(db, demo.slug).await? {
            Some(unit) => unit,
            None => {
                seeded.units += 1;
                let languages: Vec<Language> = demo.languages.iter().map(|l| Language::from_stored(l)).collect();
                let new = NewUnit {
                    slug: demo.slug,
                    name: demo.name,
                    short_name: demo.short_name,
                    phone: demo.phone,
                    email: "migration-integration@example.invalid",
                    location_id: location.id.get(),
                    default_slot_minutes: demo.minutes,
                    languages: &languages,
                    confidential: demo.confidential,
                    retention_days: demo_retention_days(demo.slug),
                };
                directory::insert_unit(db, new, now).await?
            }
        };
        let has_rules = !schedule::list_rules(db, unit.id).await?.is_empty();
        for (login, name, langs) in demo.counsellors {
            let member = demo_counsellor(db, login, name, langs, now, &mut seeded).await?;
            directory::add_membership(db, member.id, unit.id, Role::Counsellor).await?;
            if has_rules {
                continue;
            }
            for (weekday, start, end) in demo.hours {
                let fields = RuleFields {
                    unit_id: unit.id,
                    counsellor_id: member.id,
                    weekday: *weekday,
                    start_local: demo_time(start),
                    end_local: demo_time(end),
                    slot_minutes: demo.minutes,
                    buffer_minutes: 15,
                    capacity: 1,
                    valid_from,
                    valid_until: None,
                };
                schedule::save_rule(db, None, fields, member.id, now).await?;
                seeded.rules += 1;
            }
        }
    }
    Ok(seeded)
}

/// The department's address (Hamburger Allee 25, 11th floor), added once.
async fn demo_location<C: ConnectionTrait>(db: &C) -> Result<Location, ServiceError> {
    if let Some(location) = directory::find_location_by_name(db, LOCATION_NAME).await? {
        return Ok(location);
    }
    let new = NewLocation {
        name: LOCATION_NAME,
        street: "Hamburger Allee 25",
        postal_code: "30161",
        city: "Hannover",
        floor: "11. Stock",
        accessibility_notes: "Aufzug vorhanden; Zugang über den Haupteingang (Demo-Angabe, bitte prüfen).",
    };
    Ok(directory::insert_location(db, new).await?)
}

/// A demo counsellor by login, added when missing.
async fn demo_counsellor<C: ConnectionTrait>(
    db: &C,
    login: &str,
    name: &str,
    langs: &[&str],
    now: DateTime<Utc>,
    seeded: &mut Seeded,
) -> Result<StaffMember, ServiceError> {
    if let Some(member) = directory::find_staff_by_login(db, login).await? {
        return Ok(member);
    }
    seeded.staff += 1;
    let langs: Vec<Language> = langs.iter().map(|l| Language::from_stored(l)).collect();
    let new =
        NewStaff { login, display_name: name, email: None, languages: &langs, is_admin: false, password_hash: None };
    Ok(directory::insert_staff(db, new, now).await?)
}

fn demo_time(hh_mm: &str) -> NaiveTime {
    NaiveTime::parse_from_str(hh_mm, "%H:%M").unwrap_or(NaiveTime::MIN)
}

/// The demo's retention of personal data: 30 days for the anti-discrimination office, else 90.
fn demo_retention_days(slug: &str) -> i32 {
    if slug == "ads" { 30 } else { crate::domain::retention::DEFAULT_RETENTION_DAYS }
}
