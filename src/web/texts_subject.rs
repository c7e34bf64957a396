//! Interface texts of the printed answer to a request of the person concerned: the stored
//! states and reasons in words (key, German, English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    ("dss.cb.open", "wartet auf der Liste auf einen Rückruf", "waiting on the list for a callback"),
    ("dss.sent_on", "gesendet am", "sent on"),
    (
        "dss.skip.moved_or_cancelled",
        "der Termin war inzwischen verlegt oder abgesagt",
        "the appointment had been moved or cancelled meanwhile",
    ),
    (
        "dss.skip.superseded",
        "der Termin hatte sich wieder geändert; eine neuere Nachricht ersetzte diese",
        "the appointment had changed again; a newer notice replaced this one",
    ),
    ("dss.skip.begun", "zu spät: der Termin hatte schon begonnen", "too late: the appointment had already begun"),
    (
        "dss.skip.address_corrected",
        "die E-Mail-Adresse war inzwischen berichtigt",
        "the email address had been corrected meanwhile",
    ),
    (
        "dss.skip.consent_withdrawn",
        "die Einwilligung in E-Mails war inzwischen widerrufen",
        "the consent to emails had been withdrawn meanwhile",
    ),
    (
        "dss.skip.erased",
        "die Daten des Termins waren inzwischen gelöscht",
        "the appointment's data had been erased meanwhile",
    ),
];
