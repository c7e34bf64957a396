//! Interface texts of the login's hardening: overload, names without control characters
//! (key, German, English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    (
        "error.overloaded",
        "Gerade melden sich sehr viele Personen gleichzeitig an. Bitte versuchen Sie es in einigen Sekunden erneut.",
        "Very many people are logging in at once. Please try again in a few seconds.",
    ),
    (
        "err.control",
        "Bitte ohne Zeilenumbrüche, Tabulatoren oder andere Steuerzeichen eingeben.",
        "Please enter this without line breaks, tabs or other control characters.",
    ),
];
