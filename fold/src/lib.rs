//! Search keys: names and phone numbers folded so that they match however people type them.
//! Shared by the domain (keys of new and changed rows, search queries) and by the migration that
//! fills the keys of rows stored before they existed, so both compute exactly the same keys.
//!
//! - A name folds to lower-case ASCII words (`deunicode`: "Yılmaz" → "yilmaz", "Şencan" →
//!   "sencan", "Müller" → "muller"), and additionally to its German second spelling ("Müller" →
//!   "mueller", "Straße" → "strasse"). A [`name_key`] holds both forms, separated by `|`.
//! - A phone number folds to its digits without the German country code and without the
//!   leading zero of the area code: "+49 511 987654", "0049-511-987654", "+49 0511 987654" and
//!   "0511 987654" are all "511987654"; other countries keep their code (and any zero after
//!   it: "+39 06 …" is Rome) ("+90 532 …" → "90532…").

/// Separates the forms of a name in a [`name_key`]; never part of a form.
pub const FORM_SEPARATOR: char = '|';

/// The forms of a name or of a name query: the plain transliteration first, then the German
/// second spelling, then the German spelling's "ae", "oe", "ue" as one letter (so "Muller" and
/// "Mueller" meet, however the name was stored), each only if it differs from those before.
/// Empty when the text has no letters or digits.
pub fn name_forms(text: &str) -> Vec<String> {
    let plain = words(&deunicode::deunicode(text));
    let german = words(&deunicode::deunicode(&german_spelling(text)));
    let collapsed = german.replace("ae", "a").replace("oe", "o").replace("ue", "u");
    let mut forms = Vec::with_capacity(3);
    for form in [plain, german, collapsed] {
        if !form.is_empty() && !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// The stored search key of a name: its [`name_forms`] joined by [`FORM_SEPARATOR`].
pub fn name_key(name: &str) -> String {
    name_forms(name).join(&FORM_SEPARATOR.to_string())
}

/// The stored search key of a phone number (or the digits of a phone query); `None` without
/// any digit.
pub fn phone_key(phone: &str) -> Option<String> {
    let (digits, international) = dialled(phone);
    let key = match international.map(|prefix| &digits[prefix..]) {
        // "+49 0511 …": the trunk zero written after the country code anyway (no German area
        // code starts with 0), as "+49 (0)511" without the brackets.
        Some(number) => {
            number.strip_prefix("49").map_or(number, |national| national.strip_prefix('0').unwrap_or(national))
        }
        None => digits.strip_prefix('0').unwrap_or(&digits),
    };
    (!key.is_empty()).then(|| key.to_owned())
}

/// Which telephone line a number names, for telling two numbers apart where it matters (the
/// requests of the person concerned): the search key, but a number written with a foreign
/// country code keeps it, marked with `+`. "0431 1234567" (Kiel) and "+43 1 1234567" (Vienna)
/// share their search key, not their line; "+49 431 1234567" is Kiel's. `None` without any digit.
pub fn phone_identity(phone: &str) -> Option<String> {
    let (digits, international) = dialled(phone);
    match international.map(|prefix| &digits[prefix..]) {
        Some(number) if !number.is_empty() && !number.starts_with("49") => Some(format!("+{number}")),
        _ => phone_key(phone),
    }
}

/// The digits of a phone number, and where its country code starts when it is written with one
/// (`+` or `00`: the length of that prefix in the digits, 0 or 2).
fn dialled(phone: &str) -> (String, Option<usize>) {
    // "+49 (0)511 …": the bracketed trunk zero is not dialled after a country code.
    let ascii = deunicode::deunicode(phone).replace("(0)", "");
    let trimmed = ascii.trim_start();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') { Some(0) } else { digits.starts_with("00").then_some(2) };
    (digits, international)
}

/// ä → ae, ö → oe, ü → ue, ß → ss (and their capitals): how Germans write umlauts without them.
fn german_spelling(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            'ẞ' => out.push_str("SS"),
            other => out.push(other),
        }
    }
    out
}

/// Lower-case ASCII letters and digits; apostrophes vanish ("O'Brien" → "obrien"), every other
/// run of characters becomes one space.
fn words(ascii: &str) -> String {
    let mut out = String::with_capacity(ascii.len());
    let mut gap = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else if !matches!(c, '\'' | '`') {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_accents_and_special_letters() {
        assert_eq!(name_key("Yılmaz"), "yilmaz");
        assert_eq!(name_key("YILMAZ"), "yilmaz");
        assert_eq!(name_key("Şencan"), "sencan");
        assert_eq!(name_key("Müller"), "muller|mueller");
        assert_eq!(name_key("Weiß-Öztürk"), "weiss ozturk|weiss oeztuerk");
        assert_eq!(name_key("Mueller"), "mueller|muller");
        assert_eq!(name_key("Raphael Goethe"), "raphael goethe|raphal gothe");
        assert_eq!(name_key("Dragan Kovač"), "dragan kovac");
        assert_eq!(name_key("O'Brien"), "obrien");
        assert_eq!(name_key("  A. K.  "), "a k");
        assert_eq!(name_key("Ελένη"), "elene");
        assert_eq!(name_key("---"), "");
    }

    #[test]
    fn a_query_matches_the_key_in_one_of_its_forms() {
        let key = name_key("Müller");
        for query in ["muller", "Mueller", "Müller", "MÜLLER", "müll"] {
            let forms = name_forms(query);
            assert!(forms.iter().any(|form| key.contains(form.as_str())), "{query} finds Müller");
        }
        let spelled = name_key("Mueller");
        assert!(name_forms("Müller").iter().any(|form| spelled.contains(form.as_str())), "Müller finds Mueller");
        assert!(name_forms("Muller").iter().any(|form| spelled.contains(form.as_str())), "Muller finds Mueller");
        let plain = name_key("Muller");
        assert!(name_forms("Mueller").iter().any(|form| plain.contains(form.as_str())), "Mueller finds Muller");
        assert!(name_forms("x|y").iter().all(|form| !form.contains(FORM_SEPARATOR)));
    }

    #[test]
    fn a_foreign_number_names_another_line_than_the_national_number_of_the_same_digits() {
        assert_eq!(phone_key("0431 1234567"), phone_key("+43 1 1234567"), "one search key");
        assert_ne!(phone_identity("0431 1234567"), phone_identity("+43 1 1234567"));
        for kiel in ["+49 431 1234567", "0049 431 1234567", "+49 (0)431 1234567", "0431/123 45 67"] {
            assert_eq!(phone_identity(kiel), phone_identity("0431 1234567"), "{kiel}");
        }
        assert_eq!(phone_identity("0043 1 1234567"), phone_identity("+43 1 1234567"));
        assert_eq!(phone_identity("+43 1 1234567").as_deref(), Some("+4311234567"));
        assert_eq!(phone_identity("keine"), None);
    }

    #[test]
    fn phone_numbers_fold_to_their_national_digits() {
        for phone in [
            "0511 987654",
            "0511-987654",
            "+49 511 987654",
            "+49 (0)511 987654",
            "0049 511 987654",
            "+49 0511 987654",
            "0049 0511 987654",
            "+490511987654",
        ] {
            assert_eq!(phone_key(phone).as_deref(), Some("511987654"), "{phone}");
        }
        assert_eq!(phone_key("+90 532 123 45 67").as_deref(), Some("905321234567"));
        assert_eq!(phone_key("0090 532 123 45 67").as_deref(), Some("905321234567"));
        assert_eq!(phone_key("987654").as_deref(), Some("987654"));
        assert_eq!(phone_key("+49"), None);
        assert_eq!(phone_key("call me"), None);
    }
}
