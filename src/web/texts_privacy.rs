//! Interface texts of retention, requests of the person concerned and erasure (key, German,
//! English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    ("retention.title", "Löschfrist ändern", "Change the retention period"),
    ("retention.days", "Löschfrist in Tagen", "Retention in days"),
    (
        "retention.hint",
        "So viele Tage nach dem Termin (bei Absagen: nach der Absage) werden Name, Kontaktdaten, Notizen und E-Mails gelöscht; anonyme Angaben für die Statistik bleiben.",
        "This many days after the appointment (cancelled ones: after the cancellation) name, contact details, notes and emails are deleted; anonymous facts for the statistics stay.",
    ),
    ("retention.save", "Löschfrist speichern", "Save the retention period"),
    ("retention.saved", "Die Löschfrist wurde gespeichert.", "The retention period was saved."),
    ("retention.range", "Bitte eine Zahl von 1 bis 3650 eingeben.", "Please enter a number from 1 to 3650."),
    ("field.retention_days", "Bitte eine Zahl von 1 bis 3650 eingeben.", "Please enter a number from 1 to 3650."),
];
