//! Interface texts of the unit leads' hours page added with its fixes: a wrong rule named at its
//! field for its reason, hours in the past, whole-day periods, deletions asked first (hours, absences,
//! closures) and those already made: (key, German, English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    ("hours.end.hint", "Uhrzeit, z. B. 12:00", "Time, e.g. 12:00"),
    ("hours.buffer.column", "Pause in Minuten", "Break in minutes"),
    ("hours.buffer.hint", "Leer lassen für keine Pause.", "Leave empty for no break."),
    ("hours.err.end_after_start", "Das Ende muss nach dem Beginn liegen.", "The end must be after the start."),
    (
        "hours.err.slot_too_long",
        "Die Termindauer ist länger als die Zeit von Beginn bis Ende: So passt kein Termin hinein.",
        "The appointment length is longer than the time from start to end: no appointment fits.",
    ),
    (
        "hours.err.until_before_from",
        "„Gültig bis“ darf nicht vor „Gültig ab“ liegen.",
        "\"Valid until\" must not be before \"valid from\".",
    ),
    (
        "hours.err.until_past",
        "„Gültig bis“ liegt in der Vergangenheit: Diese Zeiten ergäben keinen Termin mehr. Bitte geben Sie heute oder ein späteres Datum an.",
        "\"Valid until\" lies in the past: these hours would give no more appointments. Please enter today or a later date.",
    ),
    ("field.start", "Bitte prüfen Sie den Beginn.", "Please check the start."),
    ("field.end", "Bitte prüfen Sie das Ende.", "Please check the end."),
    ("field.valid_until", "Bitte prüfen Sie „Gültig bis“.", "Please check \"valid until\"."),
    ("period.whole_day", "ganztägig", "whole day"),
    (
        "period.reason.hint",
        "Pflichtfeld, z. B. „Fortbildung“ oder „Urlaub“.",
        "Required, e.g. \"Training\" or \"Holiday\".",
    ),
    ("hours.delete.title", "Beratungszeit löschen?", "Delete these counselling hours?"),
    (
        "hours.delete.what",
        "Die freien Termine dieser Beratungszeit werden aus dem Angebot genommen; gebuchte Termine bleiben bestehen.",
        "The free appointments of these hours leave the offer; booked appointments stay.",
    ),
    ("hours.delete.do", "Ja, löschen", "Yes, delete"),
    (
        "hours.gone.rule",
        "Diese Beratungszeit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde.",
        "These counselling hours are not here (any more), for example because they were deleted already.",
    ),
    (
        "hours.gone.absence",
        "Diese Abwesenheit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde.",
        "This absence is not here (any more), for example because it was deleted already.",
    ),
    (
        "hours.gone.closure",
        "Diese Schließzeit gibt es hier nicht (mehr), etwa weil sie bereits gelöscht wurde.",
        "This closure is not here (any more), for example because it was deleted already.",
    ),
    ("absence.delete.title", "Abwesenheit löschen?", "Delete this absence?"),
    ("closure.delete.title", "Schließzeit löschen?", "Delete this closure?"),
    (
        "period.delete.what",
        "Die Zeit kann danach wieder gebucht werden, soweit Beratungszeiten bestehen; gebuchte Termine bleiben unverändert.",
        "Afterwards the time can be booked again where there are counselling hours; booked appointments stay as they are.",
    ),
    ("period.delete.no", "Nicht löschen", "Keep it"),
];
