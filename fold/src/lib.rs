//! Search keys: names and phone numbers folded so that they match however people type them.
//! Shared by the domain (keys of new and changed rows, search queries) and by the migration that
//! fills the keys of rows stored before they existed, so both compute exactly the same keys.
//!
//! - A name folds to lower-case ASCII words (`deunicode`: "Yılmaz" → "yilmaz", "Şencan" →
//!   "sencan", "Müller" → "muller"), and additionally to its German second spelling ("Müller" →
//!   "mueller", "Straße" → "strasse"). A [`name_key`] holds both forms, separated by `|`, and
//!   the sound of each word as German ears write it down ([`sound_form`]: Kölner Phonetik, so
//!   "Mohammed", "Muhammad" and "Mohamed" meet, as do "Şahin" and "Schahin").
//! - A phone number folds to its digits without the German country code and without the
//!   leading zero of the area code: "+49 511 987654", "0049-511-987654", "+49 0511 987654" and
//!   "0511 987654" are all "511987654"; other countries keep their code (and any zero after
//!   it: "+39 06 …" is Rome) ("+90 532 …" → "90532…").

/// Separates the forms of a name in a [`name_key`]; never part of a form.
pub const FORM_SEPARATOR: char = '|';

/// Frames each word's sound code in a [`name_key`] and a query's [`sound_form`] (`~662~`), so a
/// query's sound matches a stored word's whole code, never a part of it.
pub const SOUND_MARK: char = '~';

/// Letters a word needs for its sound to count: shorter names sound alike too easily.
const SOUND_MIN_LETTERS: usize = 4;

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

/// The stored search key of a name: its [`name_forms`], then the sound codes of its words (each
/// framed by [`SOUND_MARK`], `~662~568~`), joined by [`FORM_SEPARATOR`].
pub fn name_key(name: &str) -> String {
    let mut forms = name_forms(name);
    let plain = forms.first().cloned().unwrap_or_default();
    let codes: Vec<String> = plain.split(' ').filter_map(sound_code).collect();
    if !codes.is_empty() {
        forms.push(format!("{SOUND_MARK}{}{SOUND_MARK}", codes.join(&SOUND_MARK.to_string())));
    }
    forms.join(&FORM_SEPARATOR.to_string())
}

/// The sound of one word of a name query, as a stored [`name_key`] holds it (`~662~` for
/// "Muhammad"): how German ears write a name down (Kölner Phonetik of its transliteration, crate
/// `rphonetic`), so that a name heard on the phone is found however it was written down.
/// `None` for a word shorter than four letters or whose code holds fewer than two consonants
/// ("Anna", "Ayşe"): such sounds would match too many names.
pub fn sound_form(word: &str) -> Option<String> {
    let plain = words(&deunicode::deunicode(word));
    sound_code(&plain).map(|code| format!("{SOUND_MARK}{code}{SOUND_MARK}"))
}

/// The Kölner Phonetik code of a folded word (lower-case ASCII), if it tells enough.
fn sound_code(word: &str) -> Option<String> {
    use rphonetic::Encoder;
    let letters: String = word.chars().filter(char::is_ascii_alphabetic).collect();
    if letters.len() < SOUND_MIN_LETTERS || letters.len() != word.len() {
        return None;
    }
    let code = rphonetic::Cologne.encode(&letters);
    // A leading 0 is the vowel the word begins with; the rest are its consonants.
    (code.trim_start_matches('0').len() >= 2).then_some(code)
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

    /// The key's forms before its sounds.
    fn spelled(name: &str) -> String {
        let key = name_key(name);
        key.split(FORM_SEPARATOR).filter(|f| !f.starts_with(SOUND_MARK)).collect::<Vec<_>>().join("|")
    }

    #[test]
    fn names_fold_case_accents_and_special_letters() {
        assert_eq!(spelled("Yılmaz"), "yilmaz");
        assert_eq!(spelled("YILMAZ"), "yilmaz");
        assert_eq!(spelled("Şencan"), "sencan");
        assert_eq!(spelled("Müller"), "muller|mueller");
        assert_eq!(spelled("Weiß-Öztürk"), "weiss ozturk|weiss oeztuerk");
        assert_eq!(spelled("Mueller"), "mueller|muller");
        assert_eq!(spelled("Raphael Goethe"), "raphael goethe|raphal gothe");
        assert_eq!(spelled("Dragan Kovač"), "dragan kovac");
        assert_eq!(spelled("O'Brien"), "obrien");
        assert_eq!(name_key("  A. K.  "), "a k", "no sound for short words");
        assert_eq!(spelled("Ελένη"), "elene");
        assert_eq!(name_key("---"), "");
    }

    #[test]
    fn a_key_ends_with_the_sound_of_each_word_that_tells_enough() {
        assert_eq!(name_key("Mohammed Yılmaz"), "mohammed yilmaz|~662~0568~");
        assert_eq!(name_key("Anna Şahin"), "anna sahin|~86~", "Anna sounds like too many names");
        assert_eq!(name_key("Jo 4711"), "jo 4711");
    }

    #[test]
    fn names_written_down_as_they_sound_meet() {
        for (stored, heard) in [
            ("Mohammed", "Muhammad"),
            ("Mohammed", "Mohamed"),
            ("Mohammed", "Mehmet"),
            ("Muhammad", "Mohammad"),
            ("Şahin", "Schahin"),
            ("Meier", "Mayer"),
            ("Schmidt", "Schmitt"),
            ("Nguyen", "Ngujen"),
            ("Chaudhry", "Chaudhary"),
        ] {
            let form = sound_form(heard).unwrap_or_else(|| panic!("{heard} has a sound"));
            assert!(name_key(stored).contains(&form), "{heard} ({form}) finds {stored} ({})", name_key(stored));
        }
        for (stored, other) in [("Mohammed", "Ahmed"), ("Şahin", "Sohrab"), ("Meier", "Müller")] {
            let form = sound_form(other).expect("a sound");
            assert!(!name_key(stored).contains(&form), "{other} ({form}) does not find {stored}");
        }
        assert_eq!(sound_form("Ali"), None, "short");
        assert_eq!(sound_form("Anna"), None, "one consonant");
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
