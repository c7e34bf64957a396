//! Finding a booking as people spell it: what a search text means, and the keys stored beside a
//! citizen's name and phone number so that both engines match them alike (crate `fold`).

use super::reference::Reference;

/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Why a search text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("the search text may have at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the search text has no letters or digits")]
    Empty,
}

/// The stored search keys of a citizen's name and phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKeys {
    pub name: String,
    pub phone: Option<String>,
}

impl SearchKeys {
    /// The keys of a name and an optional phone number.
    pub fn of(name: &str, phone: Option<&str>) -> Self {
        Self { name: fold::name_key(name), phone: phone.and_then(fold::phone_key) }
    }

    /// The keys of erased personal data: they match no search.
    pub fn cleared() -> Self {
        Self { name: String::new(), phone: None }
    }
}

/// A search text, read once: an email address matches the stored address whole (in any case),
/// a phone number (only digits and `+ ( ) / . -`) on its digits, anything else on the forms of a
/// name; either may also be a reference, with or without its dash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    name_words: Vec<Vec<String>>,
    phone_digits: Option<String>,
    reference: Option<String>,
    /// Half a reference (four characters): the caller read out only one half.
    reference_half: Option<String>,
    /// An email address, lower-case: callers often give theirs.
    email: Option<String>,
}

impl SearchQuery {
    /// Reads what staff typed into a search field.
    ///
    /// # Errors
    /// `TooLong` past [`MAX_QUERY_CHARS`], `Empty` without letters or digits.
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::TooLong);
        }
        let email = Some(text.trim()).filter(|t| super::citizen::is_email(t)).map(str::to_lowercase);
        let phone_like = text.chars().any(|c| c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_digit() || c.is_whitespace() || "+()/.-".contains(c));
        let (name_words, phone_digits) = if email.is_some() {
            (Vec::new(), None)
        } else if phone_like {
            (Vec::new(), fold::phone_key(text))
        } else {
            (name_words(text), None)
        };
        let reference = Reference::parse(text).ok().map(|r| r.as_str().to_owned());
        let reference_half = Reference::half(text);
        if name_words.is_empty() && phone_digits.is_none() && reference.is_none() && email.is_none() {
            return Err(SearchError::Empty);
        }
        Ok(Self { name_words, phone_digits, reference, reference_half, email })
    }

    /// The words of a name, each as its folded forms: a stored name key must contain every word
    /// in one of its forms, in any order ("Demir, Ayşe" finds "Ayşe Nur Demir"). Empty for a
    /// phone number.
    pub fn name_words(&self) -> &[Vec<String>] {
        &self.name_words
    }

    /// The folded digits a stored phone key must contain.
    pub fn phone_digits(&self) -> Option<&str> {
        self.phone_digits.as_deref()
    }

    /// The email address the text is, lower-case (it is matched whole, in any case).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The stored form of a reference the text spells.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    /// The first or the last four characters of a reference the text spells (upper case).
    pub fn reference_half(&self) -> Option<&str> {
        self.reference_half.as_deref()
    }
}

/// Words of a name query taken into account; further ones are left out (the match only widens).
const MAX_QUERY_WORDS: usize = 12;

/// The words of a name query (split where neither a letter, a digit nor an apostrophe stands),
/// each as its folded forms.
fn name_words(text: &str) -> Vec<Vec<String>> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '\'' | '`' | '\u{2019}')))
        .map(|word| {
            let mut forms = fold::name_forms(word);
            // A form shorter than three letters besides the word itself ("Joe" as "jo") would
            // match nearly every name.
            let mut first = true;
            forms.retain(|form| std::mem::take(&mut first) || form.len() >= 3);
            // And as it sounds: a name heard on the phone ("Muhammad") finds it as written
            // down ("Mohammed").
            if !forms.is_empty() {
                forms.extend(fold::sound_form(word));
            }
            forms
        })
        .filter(|forms| !forms.is_empty())
        .take(MAX_QUERY_WORDS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_search_digits_and_names_search_forms() {
        let phone = SearchQuery::parse("+49 511 98-76-54").expect("a phone number");
        assert_eq!(phone.phone_digits(), Some("511987654"));
        assert!(phone.name_words().is_empty());
        let name = SearchQuery::parse("Müller").expect("a name");
        assert_eq!(name.name_words(), [vec!["muller", "mueller", "~657~"]]);
        assert_eq!(name.phone_digits(), None);
    }

    #[test]
    fn a_name_is_searched_word_by_word_in_any_order() {
        let name = SearchQuery::parse("Demir, Ayşe  O'Brien").expect("a name");
        assert_eq!(name.name_words(), [vec!["demir", "~267~"], vec!["ayse"], vec!["obrien", "~0176~"]]);
        let short = SearchQuery::parse("Joe Rae").expect("a name");
        assert_eq!(short.name_words(), [vec!["joe"], vec!["rae"]], "no forms that match nearly every name");
        let many = SearchQuery::parse(&"a ".repeat(40)).expect("a name");
        assert_eq!(many.name_words().len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn an_email_address_is_searched_whole_not_as_name_words() {
        let email = SearchQuery::parse(" J.Mueller@Example.org ").expect("an address");
        assert_eq!(email.email(), Some("j.mueller@example.org"));
        assert!(email.name_words().is_empty() && email.phone_digits().is_none());
        assert_eq!(SearchQuery::parse("Müller").expect("a name").email(), None);
        assert_eq!(SearchQuery::parse("mueller@").expect("a name").email(), None, "no address");
    }

    #[test]
    fn references_are_read_with_or_without_dash() {
        for text in ["ACDE-FGH3", "acdefgh3", "acde fgh3"] {
            assert_eq!(SearchQuery::parse(text).expect("valid").reference(), Some("ACDEFGH3"), "{text}");
        }
        assert_eq!(SearchQuery::parse("Yılmaz").expect("valid").reference(), None);
        for text in ["ACDE", "fgh3", "-FGH3", " acde "] {
            let half = SearchQuery::parse(text).expect("valid").reference_half().map(str::to_owned);
            assert_eq!(half.map(|h| h.len()), Some(4), "{text}");
        }
        for text in ["ACDEF", "ACD", "ACDB", "ACDE-FGH3"] {
            assert_eq!(SearchQuery::parse(text).expect("valid").reference_half(), None, "{text}");
        }
    }

    #[test]
    fn empty_and_overlong_texts_are_refused() {
        assert_eq!(SearchQuery::parse(" -- "), Err(SearchError::Empty));
        assert_eq!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(SearchError::TooLong));
        assert!(SearchQuery::parse(&"ä".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn keys_of_a_citizen_and_of_erased_data() {
        let keys = SearchKeys::of("Ayşe Yılmaz", Some("0511 987654"));
        assert_eq!(keys, SearchKeys { name: "ayse yilmaz|~0568~".into(), phone: Some("511987654".into()) });
        assert_eq!(SearchKeys::cleared().name, "");
    }
}
