//! Interface texts of the phone desk's second version: search as people spell, the callback
//! list (Rückrufliste) and the counsellors' calendar subscription: (key, German, English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[(
    "search.hint",
    "Schreibweise egal: „yilmaz“ findet „Yılmaz“, „Mueller“ findet „Müller“; Telefon mit oder ohne Vorwahl, Leerzeichen und +49.",
    "Spelling does not matter: \"yilmaz\" finds \"Yılmaz\", \"Mueller\" finds \"Müller\"; phone with or without area code, spaces and +49.",
)];
