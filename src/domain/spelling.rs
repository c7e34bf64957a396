//! Spelling a booking reference aloud on the phone: each letter with its word of a spelling
//! alphabet ("V wie Viktor"), each digit on its own ("3"), the two halves of the reference
//! separated by a pause (" – ").
//!
//! German uses the traditional names of DIN 5009 (Anton, Berta, Cäsar …), which the 2022 edition
//! keeps as the informal alternative to its city names and which callers know; English uses the
//! ICAO alphabet (Alfa, Bravo …).

use super::reference::Reference;

/// Which words the letters are spelled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpellingAlphabet {
    /// DIN 5009, traditional names: "A wie Anton".
    German,
    /// The ICAO/NATO alphabet: "A as in Alfa".
    English,
}

/// DIN 5009 traditional names, A to Z.
const GERMAN: [&str; 26] = [
    "Anton",
    "Berta",
    "Cäsar",
    "Dora",
    "Emil",
    "Friedrich",
    "Gustav",
    "Heinrich",
    "Ida",
    "Julius",
    "Kaufmann",
    "Ludwig",
    "Martha",
    "Nordpol",
    "Otto",
    "Paula",
    "Quelle",
    "Richard",
    "Samuel",
    "Theodor",
    "Ulrich",
    "Viktor",
    "Wilhelm",
    "Xanthippe",
    "Ypsilon",
    "Zacharias",
];

/// ICAO spelling alphabet, A to Z.
const ENGLISH: [&str; 26] = [
    "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima",
    "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray",
    "Yankee", "Zulu",
];

impl SpellingAlphabet {
    /// One character as read aloud: "V wie Viktor", "3"; `None` for anything but A–Z and 0–9.
    #[must_use]
    pub fn spell_char(self, c: char) -> Option<String> {
        let upper = c.to_ascii_uppercase();
        if upper.is_ascii_digit() {
            return Some(upper.to_string());
        }
        if !upper.is_ascii_uppercase() {
            return None;
        }
        let index = usize::from(u8::try_from(upper).ok()? - b'A');
        Some(match self {
            Self::German => format!("{upper} wie {}", GERMAN[index]),
            Self::English => format!("{upper} as in {}", ENGLISH[index]),
        })
    }

    /// The whole reference as read aloud: "V wie Viktor, 3, 9, T wie Theodor – …".
    #[must_use]
    pub fn spell(self, reference: &Reference) -> String {
        // Halved by characters: a reference kept as stored (an older release's, hand-edited) may
        // hold a character of several bytes where its middle is.
        let chars: Vec<char> = reference.as_str().chars().collect();
        let (first, second) = chars.split_at(chars.len() / 2);
        let half = |part: &[char]| part.iter().filter_map(|c| self.spell_char(*c)).collect::<Vec<_>>().join(", ");
        format!("{} – {}", half(first), half(second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::ALPHABET;

    #[test]
    fn a_stored_reference_with_a_wide_character_in_its_middle_is_spelled_without_a_panic() {
        // Its fifth byte lies inside the "Ä".
        let reference = Reference::from_stored("ABCÄEFG");
        assert_eq!(
            SpellingAlphabet::German.spell(&reference),
            "A wie Anton, B wie Berta, C wie Cäsar – E wie Emil, F wie Friedrich, G wie Gustav"
        );
    }

    #[test]
    fn a_reference_is_spelled_letter_by_letter_with_digits_one_by_one() {
        let reference = Reference::parse("V39T-CA47").expect("reference");
        assert_eq!(
            SpellingAlphabet::German.spell(&reference),
            "V wie Viktor, 3, 9, T wie Theodor – C wie Cäsar, A wie Anton, 4, 7"
        );
        assert_eq!(
            SpellingAlphabet::English.spell(&reference),
            "V as in Victor, 3, 9, T as in Tango – C as in Charlie, A as in Alfa, 4, 7"
        );
    }

    #[test]
    fn every_character_a_reference_can_hold_has_a_spoken_form() {
        for table in [SpellingAlphabet::German, SpellingAlphabet::English] {
            for c in ALPHABET {
                let spoken = table.spell_char(char::from(*c)).expect("spelled");
                assert!(spoken.starts_with(char::from(*c)), "{spoken}");
            }
        }
    }

    #[test]
    fn the_tables_name_each_letter_by_a_word_beginning_with_it() {
        for (i, (de, en)) in GERMAN.iter().zip(ENGLISH).enumerate() {
            let letter = char::from(b'A' + u8::try_from(i).expect("small"));
            assert!(de.starts_with(letter) && en.starts_with(letter), "{letter}: {de}, {en}");
        }
        assert_eq!(SpellingAlphabet::German.spell_char('q').as_deref(), Some("Q wie Quelle"));
        assert_eq!(SpellingAlphabet::German.spell_char('-'), None);
        assert_eq!(SpellingAlphabet::German.spell_char('Ä'), None);
    }

    #[test]
    fn spelling_keeps_every_character_in_order() {
        let mut rng = rand::rng();
        for _ in 0..200 {
            let reference = Reference::generate(&mut rng);
            let spoken = SpellingAlphabet::German.spell(&reference);
            let heads: String =
                spoken.split([',', '–']).map(str::trim).filter_map(|item| item.chars().next()).collect();
            assert_eq!(heads, reference.as_str(), "{spoken}");
        }
    }
}
