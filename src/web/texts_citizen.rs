//! Staff texts about the citizen's own link: the history of changes made through it and the
//! admins' self-service settings (key, German, English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    (
        "ev.cancelled_by_citizen",
        "Von der Bürgerin / dem Bürger abgesagt (über den Link)",
        "Cancelled by the citizen (through the link)",
    ),
    (
        "ev.rescheduled_by_citizen",
        "Von der Bürgerin / dem Bürger verschoben (über den Link)",
        "Moved by the citizen (through the link)",
    ),
    ("ev.by_citizen", "Bürger/in", "Citizen"),
    ("units.self_service", "Selbstbedienung", "Self-service"),
    ("ss.title", "Selbstbedienung über den Link", "Self-service through the link"),
    (
        "ss.intro",
        "Bürgerinnen und Bürger können ihren Termin über den Link in ihren E-Mails absagen oder verschieben, bis zu dieser Frist vor dem Termin und so oft wie hier erlaubt.",
        "Citizens can cancel or move their appointment through the link in their emails, up to this time before the appointment and as often as allowed here.",
    ),
    ("ss.cutoff", "Frist vor dem Termin (Stunden)", "Cutoff before the appointment (hours)"),
    ("ss.cutoff.range", "Eine ganze Zahl von 0 bis 672.", "A whole number from 0 to 672."),
    ("ss.moves", "Höchstens so oft verschieben", "Moves allowed at most"),
    ("ss.moves.range", "Eine ganze Zahl von 0 bis 20.", "A whole number from 0 to 20."),
    ("ss.counsellor", "Namen der Beratungsperson auf der Seite zeigen", "Show the counsellor's name on the page"),
    ("ss.save", "Speichern", "Save"),
    ("ss.saved", "Gespeichert.", "Saved."),
    ("print.do", "Bestätigung mit Link drucken", "Print confirmation with link"),
    ("print.back", "Zurück zum Termin", "Back to the appointment"),
    (
        "print.refused",
        "Keine Bestätigung gedruckt: Der Termin ist abgesagt oder hat schon begonnen, oder die Daten der Person sind gelöscht. Ein Ausdruck sähe aus wie eine gültige Terminbestätigung.",
        "No confirmation printed: the appointment is cancelled or has begun, or the person's data were erased. A print would look like a valid confirmation.",
    ),
    ("links.revoke", "Links der Person sperren …", "Revoke the citizen's links …"),
    (
        "links.revoke.hint",
        "Alle bisher gemailten und gedruckten Links zu diesem Termin öffnen danach nichts mehr: etwa wenn ein Ausdruck an die falsche Person ging oder jemand anderes das Postfach liest. Links in späteren E-Mails und Ausdrucken funktionieren wieder – liegt es am Postfach, zuerst die E-Mail-Adresse korrigieren oder die Einwilligung entziehen.",
        "Every link to this appointment emailed or printed so far opens nothing afterwards: for a print handed to the wrong person, or a mailbox someone else reads. Links in later emails and prints work again – if the mailbox is the problem, correct the email address or withdraw the consent first.",
    ),
    ("links.revoke.do", "Alle bisherigen Links sperren", "Revoke every link so far"),
    ("links.revoked", "Gesperrte Links:", "Links revoked:"),
];
