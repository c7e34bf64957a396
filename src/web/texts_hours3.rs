//! Interface texts of the hours page's warnings before a change: hours changed to begin later,
//! which would leave the days until then without hours, and a capacity below the seats already
//! booked: (key, German, English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    ("hours.left_out.title", "Bis dahin fehlt diese Beratungszeit", "These hours are missing until then"),
    (
        "hours.left_out.many",
        "Diese Beratungszeit gilt schon. Als Änderung gespeichert, endet sie sofort, und die geänderte beginnt erst am {from}. An {days} {weekday}en, vom {first} bis zum {last}, hätte {counsellor} dann keine Beratungszeit.",
        "These hours already apply. Saved as a change, they end at once and the changed hours begin only on {from}. On {days} {weekday}s, from {first} to {last}, {counsellor} would then have no counselling hours.",
    ),
    (
        "hours.left_out.one",
        "Diese Beratungszeit gilt schon. Als Änderung gespeichert, endet sie sofort, und die geänderte beginnt erst am {from}. Am {weekday}, {first}, hätte {counsellor} dann keine Beratungszeit.",
        "These hours already apply. Saved as a change, they end at once and the changed hours begin only on {from}. On {weekday}, {first}, {counsellor} would then have no counselling hours.",
    ),
    (
        "hours.left_out.follow",
        "Bisherige Zeit bis {until} behalten, Änderung ab {from}",
        "Keep the current hours until {until} and change them from {from}",
    ),
    ("hours.left_out.replace", "Trotzdem sofort ändern", "Change at once anyway"),
    (
        "hours.left_out.booked",
        "In dieser Zeit sind {count} Termine gebucht: Sofort geändert, lägen sie außerhalb der Beratungszeiten.",
        "{count} appointments are booked in that time: changed at once, they would lie outside the hours.",
    ),
    (
        "hours.left_out.booked.one",
        "In dieser Zeit ist ein Termin gebucht: Sofort geändert, läge er außerhalb der Beratungszeiten.",
        "One appointment is booked in that time: changed at once, it would lie outside the hours.",
    ),
    (
        "hours.fuller",
        "{count} Termine dieser Beratungszeit sind schon mit mehr Personen belegt, als die neue Platzzahl erlaubt. Diese Buchungen bleiben bestehen; dort wird erst wieder gebucht, wenn weniger Plätze belegt sind.",
        "{count} appointments of these hours already have more people booked than the new number of places allows. Those bookings stay; those times take new bookings only once fewer places are taken.",
    ),
    (
        "hours.fuller.one",
        "Ein Termin dieser Beratungszeit ist schon mit mehr Personen belegt, als die neue Platzzahl erlaubt. Diese Buchungen bleiben bestehen; dort wird erst wieder gebucht, wenn weniger Plätze belegt sind.",
        "One appointment of these hours already has more people booked than the new number of places allows. Those bookings stay; that time takes new bookings only once fewer places are taken.",
    ),
    (
        "field.valid_from",
        "„Gültig ab“ muss nach heute und nach dem Beginn der bisherigen Zeit liegen, damit diese bis dahin weiter gilt.",
        "\"Valid from\" must lie after today and after the start of the current hours, for these to apply until then.",
    ),
    (
        "err.time.skipped",
        "Diese Uhrzeit gibt es an diesem Tag nicht: Die Uhr wird in dieser Nacht vorgestellt (Sommerzeit). Bitte wählen Sie eine Zeit davor oder danach.",
        "This time does not exist on that day: the clocks go forward that night (summer time). Please choose a time before or after it.",
    ),
    (
        "err.time.twice",
        "Diese Uhrzeit gibt es an diesem Tag zweimal: Die Uhr wird in dieser Nacht zurückgestellt (Winterzeit). Bitte wählen Sie eine Zeit davor oder danach.",
        "This time occurs twice on that day: the clocks go back that night (winter time). Please choose a time before or after it.",
    ),
    (
        "stats.err.month",
        "Bitte geben Sie einen Monat als JJJJ-MM an, z. B. 2026-11.",
        "Please enter a month as YYYY-MM, e.g. 2026-11.",
    ),
    (
        "ds.confirm.upcoming",
        "{count} dieser Termine stehen noch bevor. Sie bleiben gebucht, aber ohne Namen und Kontaktdaten: Die Person kann nicht mehr benachrichtigt werden, und ihr Link zum Termin gilt nicht mehr. Sollen sie nicht stattfinden, sagen Sie sie vorher ab.",
        "{count} of these appointments are still to come. They stay booked, but without a name or contact details: the person can no longer be told anything, and their link to the appointment stops working. If they are not to take place, cancel them first.",
    ),
    (
        "ds.confirm.upcoming.one",
        "Einer dieser Termine steht noch bevor. Er bleibt gebucht, aber ohne Namen und Kontaktdaten: Die Person kann nicht mehr benachrichtigt werden, und ihr Link zum Termin gilt nicht mehr. Soll er nicht stattfinden, sagen Sie ihn vorher ab.",
        "One of these appointments is still to come. It stays booked, but without a name or contact details: the person can no longer be told anything, and their link to the appointment stops working. If it is not to take place, cancel it first.",
    ),
];
