//! The list of appointments to move (`GET /api/v1/units/{unit}/bookings-to-move`) on the bench
//! unit's future bookings (`BENCH_ONLY=to-move`, and at the end of a full run).
//!
//! Absences of a quarter of the counsellors for two weeks strand some of the unit's future
//! appointments. Then, interleaved, three reads: the list through HTTP; the list's rule alone
//! (`store::blocking::stranded`, the SQL the service runs, on the bench's pool, with the read of
//! the unit's latest appointment the service makes first); and, as the baseline, a count of the
//! unit's future booked appointments without the rule (the scan the rule cannot do with less,
//! without reading rows out). The ratio of the rule to the count is what the rule's correlated
//! lookups (closures, absences, closed days, memberships) and its listed rows cost.

use std::time::Instant;

use anyhow::ensure;
use chrono::{Days, Utc};
use entity::booking::{self, BookingStatus};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use terminbuch::domain::blocking::closed_spans;
use terminbuch::domain::holidays::HolidayCalendar;
use terminbuch::domain::time::local_date;
use terminbuch::store::blocking::{StrandedQuery, stranded};

use super::{Fixture, Latencies, Report};

/// Reads of each kind, after [`WARMUP`] unmeasured ones.
const READS: usize = 100;
const WARMUP: usize = 5;
/// As the service lists at most.
const LISTED: u64 = 500;

pub async fn measure(
    name: &str,
    report: &mut Report,
    db: &DatabaseConnection,
    client: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
) -> anyhow::Result<()> {
    let from_date = fixture.today + Days::new(7);
    let until_date = from_date + Days::new(13);
    let absent = &fixture.counsellor_ids[..fixture.counsellor_ids.len() / 4];
    for counsellor in absent {
        let body = serde_json::json!({
            "counsellor_id": counsellor.get(),
            "from_date": from_date.to_string(),
            "until_date": until_date.to_string(),
            "reason": "Bench",
        });
        let response = client
            .post(format!("{base}/api/v1/units/{}/absences", fixture.unit_slug))
            .bearer_auth(&fixture.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        ensure!(status.is_success(), "absence: {status}: {}", response.text().await?);
    }

    let url = format!("{base}/api/v1/units/{}/bookings-to-move", fixture.unit_slug);
    let calendar = HolidayCalendar::default();
    let (mut http, mut rule, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    let (mut future_booked, mut total) = (0_u64, 0);
    for i in 0..WARMUP + READS {
        let started = Instant::now();
        let response = client.get(&url).bearer_auth(&fixture.token).send().await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        ensure!(status.is_success(), "{url}: {status}: {body}");
        let took = started.elapsed();
        total = body["total"].as_u64().unwrap_or(0);

        // The rule as the service asks it: the closed days from today to the latest appointment.
        let started = Instant::now();
        let now = Utc::now();
        let latest = booking::Entity::find()
            .filter(booking::Column::UnitId.eq(fixture.unit_id.get()))
            .filter(booking::Column::Status.eq(BookingStatus::Booked))
            .order_by_desc(booking::Column::StartsAt)
            .one(db)
            .await?
            .map_or(fixture.today, |b| local_date(b.starts_at, fixture.tz));
        let spans = closed_spans(&calendar, fixture.tz, local_date(now, fixture.tz), latest);
        let query =
            StrandedQuery { unit_id: fixture.unit_id, from: now, to: None, counsellors: None, closed_days: &spans };
        let (listed, counted) = stranded(db, query, LISTED).await?;
        let took_rule = started.elapsed();
        ensure!(counted == total, "the rule counts {counted}, the list {total}");
        ensure!(!listed.is_empty(), "the absences strand nothing");

        let started = Instant::now();
        future_booked = booking::Entity::find()
            .filter(booking::Column::UnitId.eq(fixture.unit_id.get()))
            .filter(booking::Column::Status.eq(BookingStatus::Booked))
            .filter(booking::Column::StartsAt.gte(Utc::now()))
            .count(db)
            .await?;
        let took_plain = started.elapsed();
        if i >= WARMUP {
            http.push(took);
            rule.push(took_rule);
            plain.push(took_plain);
        }
    }
    let (http, rule, plain) = (Latencies::new(http), Latencies::new(rule), Latencies::new(plain));
    eprintln!(
        "[{name}] list to move ({future_booked} future booked, {total} to move): HTTP {}; the rule's SQL {}; \
         count without it {}",
        http.describe(),
        rule.describe(),
        plain.describe()
    );
    report.info(name, "list to move: future booked appointments of the unit", future_booked as f64);
    report.info(name, "list to move: appointments to move (absences of a quarter of the counsellors)", total as f64);
    report.info(name, "list to move through HTTP: p50, ms", http.p50_ms());
    report.info(name, "list to move through HTTP: p99, ms", http.p99_ms());
    report.info(name, "list to move, the rule's SQL alone: p50, ms", rule.p50_ms());
    report.info(name, "the unit's future booked appointments counted without the rule: p50, ms", plain.p50_ms());
    report.info(name, "list to move, the rule's SQL / the count without it (p50)", rule.p50_ms() / plain.p50_ms());
    Ok(())
}
