//! Booking reference codes that are easy to read out on the phone.
//! Eight characters from an alphabet without look-alikes, shown as "ABCD-EFGH".

use std::fmt;
use std::str::FromStr;

use rand::{Rng, RngExt};

use super::DomainError;

/// Characters used in references: no 0/O, 1/I/L, 2/Z, 5/S or 8/B.
pub const ALPHABET: &[u8; 25] = b"ACDEFGHJKMNPQRTUVWXY34679";

/// Number of characters in a reference (without the display dash).
pub const LENGTH: usize = 8;

/// A booking reference, stored as eight uppercase characters from [`ALPHABET`].
///
/// [`Display`](fmt::Display) inserts a dash in the middle ("ACDE-FGH3");
/// [`Reference::as_str`] gives the stored form without it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference(String);

impl Reference {
    /// Draws a new random reference (25^8 ≈ 1.5 · 10^11 possibilities).
    ///
    /// Uniqueness is not guaranteed; callers must check for collisions.
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let code = (0..LENGTH).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
        Self(code)
    }

    /// Parses user input: surrounding and inner whitespace and dashes are removed
    /// and letters are uppercased, so `" acde-fgh3 "` is accepted.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidReference`] if what remains is not exactly eight
    /// characters from [`ALPHABET`].
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut code = String::with_capacity(LENGTH);
        for c in s.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            let upper = c.to_ascii_uppercase();
            let allowed = u8::try_from(upper).is_ok_and(|byte| ALPHABET.contains(&byte));
            if !allowed || code.len() == LENGTH {
                return Err(DomainError::InvalidReference);
            }
            code.push(upper);
        }
        if code.len() != LENGTH {
            return Err(DomainError::InvalidReference);
        }
        Ok(Self(code))
    }

    /// One half of a reference as a caller reads it out ("ACDE" of "ACDE-FGH3", in any case):
    /// exactly four characters from [`ALPHABET`], spaces and dashes aside; `None` otherwise.
    #[must_use]
    pub fn half(s: &str) -> Option<String> {
        let code: String =
            s.chars().filter(|c| !(c.is_whitespace() || *c == '-')).map(|c| c.to_ascii_uppercase()).collect();
        let allowed = code.bytes().all(|byte| ALPHABET.contains(&byte));
        (allowed && code.len() == LENGTH / 2).then_some(code)
    }

    /// A reference as the database holds it; a value that does not parse (written by hand or by
    /// an older release) is kept as it is, so that it can still be shown and found.
    #[must_use]
    pub fn from_stored(stored: &str) -> Self {
        Self::parse(stored).unwrap_or_else(|_| Self(stored.to_owned()))
    }

    /// The stored form: eight uppercase characters without dash.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `s` would be accepted by [`Reference::parse`].
#[must_use]
pub fn looks_like_reference(s: &str) -> bool {
    Reference::parse(s).is_ok()
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.len() == LENGTH).then(|| self.0.split_at_checked(LENGTH / 2)).flatten() {
            Some((first, second)) => write!(f, "{first}-{second}"),
            None => f.write_str(&self.0),
        }
    }
}

impl FromStr for Reference {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Reference {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_has_no_lookalikes_or_duplicates() {
        for c in b"0O1IL2Z5S8B" {
            assert!(!ALPHABET.contains(c), "{}", char::from(*c));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len());
    }

    #[test]
    fn generated_codes_round_trip() {
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let reference = Reference::generate(&mut rng);
            let stored = reference.as_str();
            assert_eq!(stored.len(), LENGTH);
            assert!(stored.bytes().all(|b| ALPHABET.contains(&b)));
            let shown = reference.to_string();
            assert_eq!(shown.len(), LENGTH + 1);
            assert_eq!(&shown[4..5], "-");
            assert_eq!(Reference::parse(&shown), Ok(reference.clone()));
            assert_eq!(Reference::parse(stored), Ok(reference));
        }
    }

    #[test]
    fn generate_works_with_unsized_rng() {
        let mut rng = rand::rng();
        let dyn_rng: &mut dyn rand::Rng = &mut rng;
        assert!(looks_like_reference(Reference::generate(dyn_rng).as_str()));
    }

    #[test]
    fn accepts_lowercase_and_spacing() {
        let expected = Reference::parse("ACDEFGH3").unwrap();
        for input in ["acde-fgh3", " acde fgh3 ", "AcDe - FgH3", "a-c-d-e-f-g-h-3", "acdefgh3\n"] {
            assert_eq!(Reference::parse(input), Ok(expected.clone()), "{input:?}");
            assert!(looks_like_reference(input));
        }
        assert_eq!(expected.to_string(), "ACDE-FGH3");
        assert_eq!(expected.as_str(), "ACDEFGH3");
        assert_eq!("acde-fgh3".parse::<Reference>(), Ok(expected));
    }

    #[test]
    fn rejects_ambiguous_characters_and_wrong_lengths() {
        for input in [
            "ACDE-FGH0",
            "ACDE-FGHO",
            "ACDE-FGH1",
            "ACDE-FGHI",
            "ACDE-FGHL",
            "ACDE-FGH2",
            "ACDE-FGHZ",
            "ACDE-FGH5",
            "ACDE-FGHS",
            "ACDE-FGH8",
            "ACDE-FGHB",
            "ACDE-FGH",
            "ACDE-FGH34",
            "",
            "--------",
            "ACDE_FGH3",
            "ACDE.FGH3",
            "ÄCDE-FGH3",
            "ACDE-FGH3-ACDE-FGH3",
        ] {
            assert_eq!(Reference::parse(input), Err(DomainError::InvalidReference), "{input:?}");
            assert!(!looks_like_reference(input));
        }
    }
}
