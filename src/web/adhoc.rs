//! The "other time" (ad hoc) fields of the booking and the move pages, and the reason a unit
//! lead gives to override a rule: parsed from the typed form into typed values, or messages at
//! the fields.

use chrono::NaiveTime;

use super::auth::FieldError;
use super::book::BookForm;
use super::page::Page;
use crate::domain::citizen::appointment_length;
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
    let length = form.duration.trim().parse::<i64>().ok().and_then(|m| appointment_length(m).ok());
    if length.is_none() {
        errors.push(FieldError::new("duration", page.t("err.duration")));
    }
    let (counsellor_id, date, time, length) = (counsellor_id?, date?, time?, length?);
    match TimeSlot::from_local(date.and_time(time), length, tz) {
        Ok(slot) => Some((counsellor_id, slot)),
        // A time the clocks skip or have twice that day (daylight saving) is said as such, as
        // the absence form says it, not as a time to be entered.
        Err(err) => {
            let key = match err {
                crate::domain::DomainError::AmbiguousLocalTime(_) => "err.time.twice",
                crate::domain::DomainError::NonexistentLocalTime(_) => "err.time.skipped",
                _ => "err.time",
            };
            errors.push(FieldError::new("time", page.t(key)));
            None
        }
    }
}

/// The override reason as typed: `None` when empty; 3 to 500 characters, else an error at the
/// field.
pub(super) fn override_reason(form: &BookForm, page: &Page, errors: &mut Vec<FieldError>) -> Option<String> {
    crate::domain::citizen::override_reason(Some(&form.override_reason)).unwrap_or_else(|_| {
        errors.push(FieldError::new("override", page.t("err.override")));
        None
    })
}
