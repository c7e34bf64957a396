//! Interface texts of admins' forms saved from an older reading than what is stored (key, German,
//! English).

pub(super) const TEXTS: &[(&str, &str, &str)] = &[(
    "stale.changed_meanwhile",
    "Jemand hat diese Angaben inzwischen geändert; nichts wurde gespeichert. Bitte prüfen Sie die aktuellen Werte und speichern Sie erneut.",
    "Someone changed these details meanwhile; nothing was saved. Please check the current values and save again.",
)];
