//! Salesforce record ids: the 15-character case-sensitive form, the 18-character form with its
//! case-checksum suffix, validation, and generation of new ids for inserted records.
//!
//! Owns only the id arithmetic. It does not know which object an id belongs to (the store does),
//! and it must not accept an 18-character id whose suffix does not match: a wrong suffix is the
//! usual sign of a hand-edited fixture, and the real API would not resolve it either.

use std::collections::HashMap;

/// The alphabet Salesforce uses for each checksum character (index = 5-bit uppercase mask).
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Why a string is not a usable record id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("'{0}' is not a record id: ids are 15 or 18 letters and digits")]
    Shape(String),
    #[error("'{id}' has the wrong checksum suffix: the 18-character form of {id15} is {expected}")]
    Checksum {
        id: String,
        id15: String,
        expected: String,
    },
}

/// The three checksum characters for a 15-character id.
///
/// Each 5-character chunk gives one character: bit `i` is set when character `i` of the chunk is
/// an uppercase ASCII letter.
pub fn checksum_suffix(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .take(3)
        .map(|chunk| {
            let mask = chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            char::from(SUFFIX_ALPHABET[mask])
        })
        .collect()
}

/// Normalises a 15- or 18-character id to its 18-character form, checking the suffix of an
/// 18-character id.
pub fn to_id18(raw: &str) -> Result<String, IdError> {
    let shape_ok =
        (raw.len() == 15 || raw.len() == 18) && raw.bytes().all(|b| b.is_ascii_alphanumeric());
    if !shape_ok {
        return Err(IdError::Shape(raw.to_string()));
    }
    let id15 = &raw[..15];
    let expected = format!("{id15}{}", checksum_suffix(id15));
    if raw.len() == 18 && raw != expected {
        return Err(IdError::Checksum {
            id: raw.to_string(),
            id15: id15.to_string(),
            expected,
        });
    }
    Ok(expected)
}

/// True when `raw` is an 18-character id with a correct suffix.
pub fn is_valid_id18(raw: &str) -> bool {
    raw.len() == 18 && to_id18(raw).is_ok()
}

/// True when `raw` has the shape of an id (15 or 18 letters/digits) with a correct suffix if it
/// has one. Used to decide whether a custom field's string values are references.
pub fn looks_like_id(raw: &str) -> bool {
    to_id18(raw).is_ok()
}

/// Hands out fresh 18-character ids per key prefix.
///
/// Generated ids carry the marker `5Sim` after the prefix so they never collide with the
/// zero-padded ids people write in fixtures; `is_taken` is still consulted so a fixture that
/// happens to use the same pattern cannot produce a duplicate.
#[derive(Debug, Default, Clone)]
pub struct IdGenerator {
    /// Next sequence number per 3-character key prefix.
    next: HashMap<String, u64>,
}

impl IdGenerator {
    /// A new id with the given 3-character key prefix that `is_taken` does not reject.
    pub fn generate(&mut self, prefix: &str, is_taken: impl Fn(&str) -> bool) -> String {
        loop {
            let n = self.next.entry(prefix.to_string()).or_insert(1);
            let candidate15 = format!("{prefix}5Sim{:08}", *n % 100_000_000);
            *n += 1;
            let candidate = format!("{candidate15}{}", checksum_suffix(&candidate15));
            if !is_taken(&candidate) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_matches_salesforce_for_seed_ids() {
        assert_eq!(checksum_suffix("0PS000000000001"), "GAA");
        assert_eq!(checksum_suffix("0Pa000000000001"), "CAA");
        assert_eq!(checksum_suffix("00D5g000004Seed"), "EAC");
        assert_eq!(checksum_suffix("00e5g000001StdU"), "AAS");
    }

    #[test]
    fn fifteen_character_ids_gain_their_suffix() {
        assert_eq!(
            to_id18("0PL000000000001").as_deref(),
            Ok("0PL000000000001GAA")
        );
    }

    #[test]
    fn wrong_suffix_is_rejected_with_the_expected_form() {
        let err = to_id18("0PS000000000001AAA").unwrap_err();
        assert_eq!(
            err,
            IdError::Checksum {
                id: "0PS000000000001AAA".into(),
                id15: "0PS000000000001".into(),
                expected: "0PS000000000001GAA".into()
            }
        );
    }

    #[test]
    fn wrong_length_or_characters_are_rejected() {
        assert!(matches!(to_id18("005abc"), Err(IdError::Shape(_))));
        assert!(matches!(
            to_id18("005000000000001-AA"),
            Err(IdError::Shape(_))
        ));
    }

    #[test]
    fn generated_ids_are_valid_and_skip_taken_ones() {
        let first = IdGenerator::default().generate("0Pa", |_| false);
        assert!(is_valid_id18(&first));
        assert!(first.starts_with("0Pa"));
        let second = IdGenerator::default().generate("0Pa", |id| id == first.as_str());
        assert!(is_valid_id18(&second));
        assert_ne!(first, second);
    }
}
