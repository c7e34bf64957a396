//! Names shown in pages, lists, email headers and logs (of units, staff and locations): one
//! line of text without control characters, so none can break a header or forge a line. And the
//! line breaks of the texts typed in several lines, counted and stored alike from every edge.

use std::borrow::Cow;

/// What is wrong with a name (the message names no field; the caller does).
pub const CONTROL_CHARACTERS: &str = "must not contain line breaks, tabs or other control characters";

/// What is wrong with any text that holds U+0000 (NUL): no keyboard types it, and PostgreSQL
/// cannot store it in a text column.
pub const NUL_IN_TEXT: &str = "must not contain the character U+0000 (NUL)";

/// `text` with every line break as one `\n`. Browsers send a text area's line breaks as `\r\n`
/// (and a lone `\r` is one too), API clients mostly as `\n`: every length check of a typed text
/// counts after this (`domain::citizen`), so a text is as long at the desk as through the API,
/// and it is stored so.
pub fn normalise_line_breaks(text: &str) -> Cow<'_, str> {
    if text.contains('\r') { Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n")) } else { Cow::Borrowed(text) }
}

/// Whether `c` may not appear in a name: a control character (CR, LF, NUL, TAB, DEL, C1), a
/// Unicode line or paragraph separator, or a bidirectional embedding, override or isolate
/// (U+202A–U+202E, U+2066–U+2069), which turns the text after the name around in an email's
/// line or a list (no keyboard types them; the marks U+200E and U+200F stay allowed).
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a name given by a person.
///
/// # Errors
/// [`CONTROL_CHARACTERS`] when it holds a forbidden character.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.chars().any(is_forbidden_in_name) { Err(CONTROL_CHARACTERS) } else { Ok(()) }
}

/// The name with every forbidden character replaced by a space, trimmed (for names stored
/// before the rule, and wherever one must still be shown on one line).
pub fn one_line(name: &str) -> String {
    name.chars().map(|c| if is_forbidden_in_name(c) { ' ' } else { c }).collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_line_separators_are_refused() {
        for bad in [
            "Stelle\r\nBcc: x@example.org",
            "a\nb",
            "a\0b",
            "a\tb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{2028}b",
            "a\u{202E}b",
            "a\u{2067}b",
        ] {
            assert_eq!(check_name(bad), Err(CONTROL_CHARACTERS), "{bad:?}");
        }
        for good in
            ["Antidiskriminierungsstelle", "Büro für Demokratiestärkung", "Ayşe Ünal-O'Brien", "日本語", "\u{200F}أحمد"]
        {
            assert_eq!(check_name(good), Ok(()), "{good:?}");
        }
        assert_eq!(one_line(" Stelle\r\nBcc: x "), "Stelle  Bcc: x");
    }

    #[test]
    fn every_line_break_is_one_character_however_it_was_sent() {
        assert_eq!(normalise_line_breaks("Rollstuhl\r\nAufzug\rRampe\nTür"), "Rollstuhl\nAufzug\nRampe\nTür");
        assert_eq!(normalise_line_breaks("a\r\n\r\nb\n\rc"), "a\n\nb\n\nc", "each break once, none lost");
        assert_eq!(normalise_line_breaks("\r\n\r"), "\n\n");
        assert!(matches!(normalise_line_breaks("eine Zeile\nzwei"), Cow::Borrowed(_)), "nothing to change: not copied");
        let browser = vec!["x".repeat(40); 12].join("\r\n");
        assert_eq!(browser.chars().count(), 502);
        assert_eq!(normalise_line_breaks(&browser).chars().count(), 491, "as long as the API's");
    }
}
