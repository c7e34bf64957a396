//! German first, English switchable: the interface texts by key.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::domain::citizen::{MAX_APPOINTMENT_MINUTES, MIN_APPOINTMENT_MINUTES};
use crate::domain::clash::{Clash, Reserved};
use crate::domain::refusal::Refusal;
use crate::services::ServiceError;
use crate::services::hours::AFFECTED_LISTED;

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "de" => Some(Self::De),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::De => "de",
            Self::En => "en",
        }
    }

    /// The interface text for `key`; the key itself when it is missing (a test checks all keys).
    pub fn t(self, key: &str) -> &'static str {
        match all_texts().find(|(k, _, _)| *k == key) {
            Some((_, de, en)) => with_limits(match self {
                Self::De => de,
                Self::En => en,
            }),
            None => "??",
        }
    }
}

/// The limits texts name by placeholder, filled in from the constants that enforce them, so a
/// changed limit changes every text that names it.
const LIMITS: [(&str, i64); 3] = [
    ("{min_minutes}", MIN_APPOINTMENT_MINUTES),
    ("{max_minutes}", MAX_APPOINTMENT_MINUTES),
    ("{affected_listed}", AFFECTED_LISTED.cast_signed()),
];

/// `text` with the limits it names filled in (each such text is filled once, then kept).
fn with_limits(text: &'static str) -> &'static str {
    static FILLED: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
        let fill =
            |text: &str| LIMITS.iter().fold(text.to_owned(), |t, (name, value)| t.replace(name, &value.to_string()));
        all_texts()
            .flat_map(|(_, de, en)| [*de, *en])
            .filter(|text| LIMITS.iter().any(|(name, _)| text.contains(name)))
            .map(|text| (text, fill(text)))
            .collect()
    });
    if !text.contains('{') {
        return text;
    }
    FILLED.iter().find(|(raw, _)| *raw == text).map_or(text, |(_, filled)| filled.as_str())
}

/// Every interface text: this file's, and the tables of the pages that keep their own.
fn all_texts() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    [
        TEXTS,
        super::texts::TEXTS,
        super::texts_accounts::TEXTS,
        super::texts_audit::TEXTS,
        super::texts_audit_detail::TEXTS,
        super::texts_desk::TEXTS,
        super::texts_harden::TEXTS,
        super::texts_privacy::TEXTS,
        super::texts_places::TEXTS,
        super::texts_citizen::TEXTS,
        super::texts_desk2::TEXTS,
        super::texts_hours2::TEXTS,
        super::texts_hours3::TEXTS,
        super::texts_subject::TEXTS,
        super::texts_stale::TEXTS,
    ]
    .into_iter()
    .flatten()
}

/// The German or English text for a service error the user can act on (by its reason or field,
/// never the English message of the service).
pub fn service_message(lang: Lang, err: &ServiceError) -> &'static str {
    match err {
        ServiceError::Rule(refusal) => lang.t(refusal_key(refusal)),
        ServiceError::Conflict { clash, .. } => lang.t(clash_key(*clash)),
        ServiceError::NotPermitted(reserved) => lang.t(reserved_key(*reserved)),
        ServiceError::Invalid { field, .. } => match lang.t(&format!("field.{field}")) {
            "??" => lang.t("field.other"),
            text => text,
        },
        ServiceError::Busy => lang.t("svc.busy"),
        ServiceError::NotFound(crate::domain::missing::Missing::Slot) => lang.t("svc.slot_gone"),
        ServiceError::Throttled { .. } => lang.t("svc.throttled"),
        _ => lang.t("svc.other"),
    }
}

/// The text of a rule's refusal.
fn refusal_key(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::InThePast => "svc.in_the_past",
        Refusal::PublicHoliday { .. } => "svc.public_holiday",
        Refusal::ClosureDay { .. } => "svc.closure_day",
        Refusal::UnitClosed { .. } => "svc.unit_closed",
        Refusal::CounsellorAbsent => "svc.counsellor_absent",
        Refusal::OutsideHours => "svc.outside_hours",
        Refusal::TooEarly => "svc.too_early",
        Refusal::SelfServiceClosed => "svc.other",
    }
}

/// The text of a clash with the current state.
fn clash_key(clash: Clash) -> &'static str {
    match clash {
        Clash::SlotTaken => "svc.slot_taken",
        Clash::CounsellorBusy => "svc.counsellor_busy",
        Clash::ConcurrentUpdate => "svc.concurrent_update",
        Clash::InvalidStatus => "svc.invalid_status",
        Clash::NoOffer => "svc.no_offer",
        Clash::CallbackBusy => "svc.callback_busy",
        Clash::CallbackListFull => "svc.callback_list_full",
        Clash::NoEmailConsent => "svc.no_email_consent",
        Clash::LastAdmin => "svc.last_admin",
        Clash::LoginTaken => "svc.login_taken",
        Clash::SlugTaken => "svc.slug_taken",
        Clash::TooManyTokens => "svc.too_many_tokens",
        Clash::LocationInUse => "svc.location_in_use",
        Clash::EmailQueued => "svc.email_queued",
        Clash::HoursOverlap => "svc.hours_overlap",
    }
}

/// The text of an action reserved to other roles.
fn reserved_key(reserved: Reserved) -> &'static str {
    match reserved {
        Reserved::RuleOverride => "svc.override_not_permitted",
    }
}

/// (key, German, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("app", "Terminbuch", "Appointment book"),
    ("dept", "Migration und Integration · Landeshauptstadt Hannover", "Migration and Integration · City of Hannover"),
    ("skip", "Zum Inhalt springen", "Skip to content"),
    ("nav", "Hauptnavigation", "Main navigation"),
    ("nav.book", "Termin buchen", "Book appointment"),
    ("nav.search", "Termin suchen", "Find appointment"),
    ("nav.day", "Tagesliste", "Day list"),
    ("logout", "Abmelden", "Log out"),
    ("lang.switch", "English", "Deutsch"),
    ("lang.switch.label", "Switch to English", "Auf Deutsch umschalten"),
    ("login.title", "Anmelden", "Log in"),
    ("login.intro", "Bitte melden Sie sich mit Ihrer Kennung an.", "Please log in with your user name."),
    ("login.login", "Kennung", "User name"),
    ("login.password", "Passwort", "Password"),
    ("login.submit", "Anmelden", "Log in"),
    ("login.wrong", "Kennung oder Passwort ist falsch.", "User name or password is wrong."),
    (
        "login.throttled",
        "Zu viele Fehlversuche. Bitte warten Sie einige Minuten und versuchen Sie es dann erneut.",
        "Too many failed attempts. Please wait a few minutes, then try again.",
    ),
    ("login.required", "Bitte geben Sie Kennung und Passwort ein.", "Please enter user name and password."),
    ("errors.title", "Bitte korrigieren Sie Folgendes:", "Please correct the following:"),
    ("errors.title_refused", "Bitte beachten Sie:", "Please note:"),
    ("book.title", "Termin buchen", "Book an appointment"),
    ("book.unit", "Stelle", "Unit"),
    ("book.filters", "Freie Termine suchen", "Find free slots"),
    ("book.counsellor", "Berater/in", "Counsellor"),
    ("book.any", "alle", "any"),
    ("book.language", "Sprache der Beratung", "Language of counselling"),
    ("book.day", "Tag", "Day"),
    ("book.daypart", "Tageszeit", "Time of day"),
    (
        "book.day_past",
        "Dieser Tag ist vorbei. Bitte heute oder einen späteren Tag wählen.",
        "This day has passed. Please choose today or a later day.",
    ),
    (
        "book.day_invalid",
        "Bitte den Tag als Datum angeben, z. B. 2026-12-01.",
        "Please give the day as a date, e.g. 2026-12-01.",
    ),
    ("book.morning", "vormittags", "morning"),
    ("book.afternoon", "nachmittags", "afternoon"),
    ("book.show", "Termine anzeigen", "Show slots"),
    ("book.free", "Nächste freie Termine", "Next free slots"),
    (
        "book.none",
        "Keine freien Termine gefunden. Ändern Sie die Filter oder vereinbaren Sie eine andere Zeit.",
        "No free slots found. Change the filters or arrange another time.",
    ),
    ("book.choose", "Wählen", "Choose"),
    ("book.other", "Andere Zeit vereinbaren (frei vereinbarter Termin)", "Arrange another time (ad-hoc appointment)"),
    ("book.when", "Wann", "When"),
    ("book.with", "bei", "with"),
    ("details.title", "Angaben zur Person", "Citizen's details"),
    ("details.slot", "Gewählter Termin", "Chosen slot"),
    ("details.adhoc", "Frei vereinbarter Termin", "Ad-hoc appointment"),
    ("details.date", "Datum", "Date"),
    ("details.time", "Uhrzeit", "Time"),
    ("details.duration", "Dauer in Minuten", "Duration in minutes"),
    ("details.name", "Name oder Pseudonym", "Name or pseudonym"),
    ("details.name.hint", "Ein Pseudonym genügt.", "A pseudonym is enough."),
    ("details.phone", "Telefon", "Phone"),
    ("details.email", "E-Mail", "Email"),
    ("details.optional", "(freiwillig)", "(optional)"),
    ("details.clang", "Sprache der Person", "Citizen's language"),
    ("details.interpreter", "Dolmetschung benötigt für", "Interpreter needed for"),
    ("details.no_interpreter", "keine Dolmetschung", "no interpreter"),
    ("details.access", "Barrierefreiheit: besondere Bedürfnisse", "Accessibility needs"),
    (
        "details.consent",
        "Die Person ist einverstanden, per E-Mail über diesen Termin informiert zu werden.",
        "The citizen agrees to be emailed about this appointment.",
    ),
    ("details.note", "Kurze Notiz", "Short note"),
    ("details.note.hint", "Keine sensiblen Details zum Anliegen.", "No sensitive details about the matter."),
    ("details.submit", "Termin verbindlich buchen", "Book appointment"),
    ("details.back", "Anderen Termin wählen", "Choose another slot"),
    (
        "details.gone",
        "Diesen Termin gibt es nicht mehr: Die Sprechzeiten wurden gerade geändert. Bitte wählen Sie einen der nächsten freien Termine. Ihre Eingaben bleiben erhalten.",
        "This slot no longer exists: the counselling hours have just been changed. Please choose one of the next free slots. What you typed is kept.",
    ),
    (
        "details.taken",
        "Dieser Termin wurde gerade von jemand anderem vergeben. Bitte wählen Sie einen der nächsten freien Termine. Ihre Eingaben bleiben erhalten.",
        "Someone else has just taken this slot. Please choose one of the next free slots. What you typed is kept.",
    ),
    (
        "details.taken.own",
        "Diesen Termin haben Sie gerade selbst gebucht: Buchungsnummer {reference}. Um Angaben zu korrigieren, öffnen Sie die Buchung (Suche: Alt + S, die Buchungsnummer) und wählen „Kontaktdaten ändern“. Nur für einen weiteren Termin wählen Sie unten eine andere Zeit.",
        "You booked this slot yourself a moment ago: booking number {reference}. To correct details, open the booking (search: Alt + S, the booking number) and choose \"Change contact details\". Choose another time below only for a further appointment.",
    ),
    ("details.pick", "Neuen Termin wählen", "Choose a new slot"),
    (
        "details.busy",
        "Dieses Formular wurde schon abgeschickt und wird noch gespeichert. Bitte sehen Sie in der Terminliste nach, bevor Sie noch einmal buchen.",
        "This form was sent already and is still being saved. Please look in the list of appointments before booking again.",
    ),
    (
        "err.name",
        "Bitte geben Sie einen Namen oder ein Pseudonym ein (mit mindestens einem Buchstaben oder einer Ziffer, höchstens 200 Zeichen, in einer Zeile, ohne Tabulatoren oder Steuerzeichen).",
        "Please enter a name or pseudonym (with at least one letter or digit, at most 200 characters, on one line, without tabs or control characters).",
    ),
    (
        "err.phone",
        "Bitte geben Sie eine Telefonnummer nur mit Ziffern, Leerzeichen und + ( ) / - ein (3 bis 40 Zeichen).",
        "Please enter a phone number using digits, spaces and + ( ) / - only (3 to 40 characters).",
    ),
    (
        "err.email",
        "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.",
        "Please enter a valid email address, e.g. name@example.org.",
    ),
    (
        "err.consent",
        "Für die Einwilligung wird eine E-Mail-Adresse benötigt.",
        "Consent to email needs an email address.",
    ),
    (
        "err.long",
        "Bitte kürzen Sie den Text auf höchstens 500 Zeichen.",
        "Please shorten the text to at most 500 characters.",
    ),
    ("err.slot", "Bitte wählen Sie einen Termin.", "Please choose a slot."),
    ("err.language", "Bitte wählen Sie eine Sprache aus der Liste.", "Please choose a language from the list."),
    ("err.date", "Bitte geben Sie ein Datum ein, z. B. 2026-12-01.", "Please enter a date, e.g. 2026-12-01."),
    ("err.time", "Bitte geben Sie eine Uhrzeit ein, z. B. 09:30.", "Please enter a time, e.g. 09:30."),
    (
        "err.duration",
        "Bitte geben Sie eine Dauer zwischen {min_minutes} und {max_minutes} Minuten ein.",
        "Please enter a duration between {min_minutes} and {max_minutes} minutes.",
    ),
    ("err.counsellor", "Bitte wählen Sie eine Beraterin oder einen Berater.", "Please choose a counsellor."),
    ("err.reason", "Bitte geben Sie einen Grund an.", "Please give a reason."),
    ("err.rule", "Zu dieser Zeit kann nicht gebucht werden", "This time cannot be booked"),
    ("done.title", "Termin gebucht", "Appointment booked"),
    ("done.read", "Bitte lesen Sie der anrufenden Person vor:", "Please read this to the caller:"),
    ("done.ref", "Buchungsnummer", "Reference"),
    ("done.next", "Nächsten Termin buchen", "Book the next appointment"),
    ("done.open", "Termin ansehen", "View appointment"),
    ("search.title", "Termin suchen", "Find an appointment"),
    ("search.q", "Buchungsnummer, Name, Telefon oder E-Mail", "Reference, name, phone or email"),
    ("search.submit", "Suchen", "Search"),
    ("search.none", "Keine Termine gefunden.", "No appointments found."),
    ("search.too_long", "Bitte höchstens 200 Zeichen eingeben.", "Please enter at most 200 characters."),
    (
        "search.no_terms",
        "Bitte geben Sie einen Namen, eine Telefonnummer oder eine Buchungsnummer ein: Buchstaben oder Ziffern.",
        "Please enter a name, a phone number or a reference: letters or digits.",
    ),
    ("search.results", "Gefundene Termine", "Appointments found"),
    (
        "search.more",
        "Es gibt mehr Treffer als die 50 hier gezeigten (kommende zuerst, dann die letzten vergangenen). Bitte genauer suchen, z. B. mit Vor- und Nachnamen oder der Telefonnummer.",
        "There are more matches than the 50 shown here (upcoming first, then the latest past ones). Please search more precisely, e.g. with first and last name or the phone number.",
    ),
    ("b.title", "Termin", "Appointment"),
    ("b.status", "Status", "Status"),
    ("b.citizen", "Person", "Citizen"),
    ("b.place", "Ort", "Place"),
    ("b.history", "Verlauf", "History"),
    ("b.cancel", "Termin absagen", "Cancel appointment"),
    ("b.cancel.reason", "Grund der Absage", "Reason for cancelling"),
    ("b.cancel.submit", "Absagen", "Cancel appointment"),
    ("b.reschedule", "Termin verschieben", "Reschedule appointment"),
    (
        "move.not_booked",
        "Dieser Termin ist nicht mehr gebucht (abgesagt, oder schon vorbei und eingetragen) und kann nicht verlegt werden. Buchen Sie bei Bedarf einen neuen Termin.",
        "This appointment is no longer booked (cancelled, or past and recorded) and cannot be moved. Book a new one if needed.",
    ),
    ("b.reschedule.submit", "Auf diesen Termin verschieben", "Move to this slot"),
    ("b.outcome", "Wahrnehmung", "Attendance"),
    ("b.attended", "Erschienen", "Attended"),
    ("b.no_show", "Nicht erschienen", "Did not come"),
    ("b.cancelled.note", "Grund der Absage", "Reason"),
    ("b.changed", "Gespeichert.", "Saved."),
    ("status.booked", "gebucht", "booked"),
    ("status.cancelled", "abgesagt", "cancelled"),
    ("status.attended", "erschienen", "attended"),
    ("status.no_show", "nicht erschienen", "did not come"),
    ("day.title", "Tagesliste", "Day list"),
    ("day.show", "Anzeigen", "Show"),
    ("day.none", "Keine Termine an diesem Tag.", "No appointments on this day."),
    ("day.print", "Zum Drucken: Strg + P", "To print: Ctrl + P"),
    ("error.title", "Fehler", "Error"),
    ("error.forbidden", "Sie haben keinen Zugriff auf diese Seite.", "You may not open this page."),
    ("error.notfound", "Nicht gefunden.", "Not found."),
    (
        "error.csrf",
        "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "The form has expired or is invalid. Please reload the page and try again.",
    ),
    (
        "error.internal",
        "Ein technischer Fehler ist aufgetreten. Bitte versuchen Sie es noch einmal.",
        "A technical error occurred. Please try again.",
    ),
    ("error.bad", "Die Anfrage ist ungültig.", "The request is invalid."),
    (
        "error.unavailable",
        "Der Dienst hat nicht rechtzeitig geantwortet. Es wurde vielleicht nichts gespeichert: Bitte prüfen Sie es und versuchen Sie es in einigen Sekunden noch einmal.",
        "The service did not answer in time. Perhaps nothing was saved: please check and try again in a few seconds.",
    ),
    (
        "error.toolarge",
        "Die Eingabe ist zu groß und wurde nicht gespeichert. Bitte kürzen Sie sie.",
        "The input is too large and was not saved. Please shorten it.",
    ),
    ("error.back", "Zur Startseite", "To the start page"),
    ("ev.cancelled", "abgesagt", "cancelled"),
    ("ev.rescheduled", "verschoben", "rescheduled"),
    ("ev.attended", "als wahrgenommen erfasst", "recorded as attended"),
    ("ev.no_show", "als nicht erschienen erfasst", "recorded as no-show"),
    ("ev.email_resent", "E-Mail erneut in den Versand gegeben", "email queued again"),
    ("ev.created_for", "angelegt für", "created for"),
    ("ev.other", "weiterer Eintrag", "other entry"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_translated() {
        let all: Vec<_> = all_texts().collect();
        for (i, (key, de, en)) in all.iter().enumerate() {
            assert!(!de.is_empty() && !en.is_empty(), "{key}");
            assert!(all[i + 1..].iter().all(|(k, _, _)| k != key), "duplicate {key}");
        }
        assert_eq!(Lang::En.t("logout"), "Log out");
        assert_eq!(Lang::De.t("no such key"), "??");
    }

    #[test]
    fn duration_texts_name_the_limits_the_checks_enforce() {
        let (min, max) = (MIN_APPOINTMENT_MINUTES.to_string(), MAX_APPOINTMENT_MINUTES.to_string());
        for key in ["err.duration", "field.slot_minutes", "field.duration_minutes"] {
            for lang in [Lang::De, Lang::En] {
                let text = lang.t(key);
                assert!(text.contains(&min) && text.contains(&max), "{key}: {text}");
            }
        }
        let expected = format!("Please enter a duration between {min} and {max} minutes.");
        assert_eq!(Lang::En.t("err.duration"), expected);
        for (key, _, _) in all_texts() {
            for lang in [Lang::De, Lang::En] {
                assert!(LIMITS.iter().all(|(name, _)| !lang.t(key).contains(name)), "{key} left unfilled");
            }
        }
    }

    #[test]
    fn service_errors_are_worded_by_their_reason_not_by_their_english_message() {
        let taken = ServiceError::conflict_with(Clash::SlotTaken, "the slot has just been taken");
        assert_eq!(service_message(Lang::De, &taken), "Dieser Termin wurde gerade vergeben.");
        assert_eq!(service_message(Lang::En, &taken), "This slot has just been taken.");
        let gone = ServiceError::not_found(crate::domain::missing::Missing::Unit);
        assert_eq!(service_message(Lang::De, &gone), "Das ist so nicht möglich.");
        let past = ServiceError::Rule(Refusal::InThePast);
        assert_eq!(service_message(Lang::En, &past), "The time lies in the past.");
        let field = ServiceError::Invalid { field: "capacity", message: "must be between 1 and 100".into() };
        assert_eq!(service_message(Lang::De, &field), "Bitte geben Sie 1 bis 100 Plätze an.");
        let other_field = ServiceError::Invalid { field: "nonsense", message: "x".into() };
        assert_eq!(service_message(Lang::En, &other_field), "Please check the input.");
    }

    #[test]
    fn every_clash_refusal_and_reserved_action_has_a_german_and_an_english_text() {
        let keys = Clash::ALL.into_iter().map(clash_key).chain(Reserved::ALL.into_iter().map(reserved_key));
        for key in keys {
            assert_ne!(Lang::De.t(key), "??", "{key}");
            assert_ne!(Lang::En.t(key), "??", "{key}");
        }
        let day = chrono::NaiveDate::MIN;
        for refusal in [
            Refusal::InThePast,
            Refusal::PublicHoliday { day, name: String::new() },
            Refusal::ClosureDay { day },
            Refusal::UnitClosed { reason: String::new() },
            Refusal::CounsellorAbsent,
            Refusal::OutsideHours,
            Refusal::TooEarly,
            Refusal::SelfServiceClosed,
        ] {
            assert_ne!(Lang::De.t(refusal_key(&refusal)), "??", "{refusal:?}");
            assert_ne!(Lang::En.t(refusal_key(&refusal)), "??", "{refusal:?}");
        }
    }
}
