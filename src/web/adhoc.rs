//! The "other time" (ad hoc) fields of the booking and the move pages, and the reason a unit
//! lead gives to override a rule: parsed from the typed form into typed values, or messages at
//! the fields.

use chrono::{NaiveTime, TimeDelta};

use super::auth::FieldError;
use super::book::BookForm;
use super::page::Page;
use crate::domain::time::TimeSlot;

/// The counsellor and time of an ad-hoc appointment, or `None` with the errors pushed.
pub(super) fn parse(
    form: &BookForm,
    page: &Page,
    tz: chrono_tz::Tz,
    errors: &mut Vec<FieldError>,
) -> Option<(i32, TimeSlot)> {
    let counsellor_id = form.counsellor.parse::<i32>().ok();
    if counsellor_id.is_none() {
        errors.push(FieldError::new("counsellor", page.t("err.counsellor")));
    }
    let date = crate::domain::time::parse_date(&form.date).ok();
    if date.is_none() {
        errors.push(FieldError::new("date", page.t("err.date")));
    }
    let time = NaiveTime::parse_from_str(form.time.trim(), "%H:%M").ok();
    if time.is_none() {
        errors.push(FieldError::new("time", page.t("err.time")));
    }
    let minutes = form.duration.trim().parse::<i64>().ok().filter(|m| (5..=480).contains(m));
    if minutes.is_none() {
        errors.push(FieldError::new("duration", page.t("err.duration")));
    }
    let (counsellor_id, date, time, minutes) = (counsellor_id?, date?, time?, minutes?);
    match TimeSlot::from_local(date.and_time(time), TimeDelta::minutes(minutes), tz) {
        Ok(slot) => Some((counsellor_id, slot)),
        Err(_) => {
            errors.push(FieldError::new("time", page.t("err.time")));
            None
        }
    }
}

/// The override reason as typed: `None` when empty; 3 to 500 characters, else an error at the
/// field.
pub(super) fn override_reason(form: &BookForm, page: &Page, errors: &mut Vec<FieldError>) -> Option<String> {
    let reason = Some(form.override_reason.trim().to_owned()).filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| !(3..=500).contains(&r.chars().count())) {
        errors.push(FieldError::new("override", page.t("err.override")));
    }
    reason
}
