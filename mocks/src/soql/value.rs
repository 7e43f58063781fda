//! Values in a filter: a literal typed for its field ([`TypedVal`]), a record's value read with
//! the field's type ([`FieldVal`]), how the two compare (case-insensitive text, ids on their
//! 15-character form, dates as inclusive ranges), LIKE matching and the date-time formats
//! records hold.
//!
//! Must not: resolve names against the catalog, report query errors, or allocate per record on
//! the common paths (ASCII text, the REST API's date-time layout): the scan in [`super::eval`]
//! calls these once per record.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use super::FieldType;
use super::ast::LikeTok;

/// Ids compare on their case-sensitive 15-character form, so 15- and 18-character spellings of
/// one id are equal.
const ID_PREFIX: usize = 15;

/// The case-sensitive 15-character form of an id.
pub(super) fn id_key(id: &str) -> &str {
    id.get(..ID_PREFIX).unwrap_or(id)
}

/// A literal converted to the field's type.
#[derive(Debug, Clone)]
pub(super) enum TypedVal<'q> {
    /// Folded to lower case ([`fold`]): string comparisons are case-insensitive.
    Str(String),
    /// 15-character id, borrowed from the query text.
    Id(&'q str),
    Bool(bool),
    Num(f64),
    /// Inclusive date range: a date literal (one day) or a relative date literal.
    Days(NaiveDate, NaiveDate),
    Instant(DateTime<Utc>),
}

/// A record's value read with the field's type.
pub(super) enum FieldVal<'a> {
    Str(std::borrow::Cow<'a, str>),
    Id(&'a str),
    Bool(bool),
    Num(f64),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

/// Reads a JSON value as `ty`; None for null and for values that do not parse as the type (a
/// corrupt fixture value then matches nothing rather than failing the query).
pub(super) fn field_val(v: Option<&Value>, ty: FieldType) -> Option<FieldVal<'_>> {
    if ty == FieldType::Boolean {
        // Booleans are never null on Salesforce: a missing value reads as false.
        return Some(FieldVal::Bool(v.and_then(Value::as_bool).unwrap_or(false)));
    }
    let v = v?;
    match ty {
        FieldType::String => match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(FieldVal::Str(s.as_str().into())),
            Value::Number(n) => Some(FieldVal::Str(n.to_string().into())),
            Value::Bool(b) => Some(FieldVal::Str(b.to_string().into())),
            _ => None,
        },
        FieldType::Id | FieldType::Reference => {
            v.as_str().filter(|s| !s.is_empty()).map(FieldVal::Id)
        }
        FieldType::Boolean => None,
        FieldType::Int | FieldType::Double => match v {
            Value::Number(n) => n.as_f64().map(FieldVal::Num),
            Value::String(s) => s.trim().parse().ok().map(FieldVal::Num),
            _ => None,
        },
        FieldType::Date => v.as_str().and_then(parse_date).map(FieldVal::Date),
        FieldType::DateTime => v.as_str().and_then(parse_datetime).map(FieldVal::Instant),
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Accepts RFC 3339 and the REST API's own `2026-01-31T10:00:00.000+0000`.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    // Filters on 200 000 VoiceCall rows parse one of these per row: try the fixed layouts
    // by hand before chrono's general (and much slower) format parsing.
    if let Some(dt) = parse_datetime_fast(s.as_bytes()) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// `YYYY-MM-DDThh:mm:ss[.fff](Z|±hhmm|±hh:mm)`; None for anything else.
fn parse_datetime_fast(b: &[u8]) -> Option<DateTime<Utc>> {
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 2)?, num(8, 2)?)?;
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if at(i, b'.') {
        i += 1;
        let mut scale = 100_000_000u32;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            nanos += u32::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') => {
            let oh = num(i + 1, 2)?;
            let (om, end) = if at(i + 3, b':') {
                (num(i + 4, 2)?, i + 6)
            } else {
                (num(i + 3, 2)?, i + 5)
            };
            if end != b.len() {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let local = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    let utc = local.checked_sub_signed(chrono::TimeDelta::try_seconds(offset_secs)?)?;
    Some(utc.and_utc())
}

/// Folds text to lower case one character at a time (the same folding [`cmp_ci`] and LIKE use),
/// borrowing when there is nothing to fold, as for most stored values.
pub(super) fn fold(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().flat_map(char::to_lowercase).collect())
    }
}

/// Case-insensitive comparison of a record string with an already-folded literal, without
/// allocating per record.
fn cmp_ci(value: &str, folded: &str) -> Ordering {
    if value.is_ascii() {
        // UTF-8 orders bytes like code points, so this agrees with the general branch.
        value
            .bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(folded.bytes())
    } else {
        value
            .chars()
            .flat_map(char::to_lowercase)
            .cmp(folded.chars())
    }
}

/// How a record value stands against a literal: Equal when it matches (for a date range, when it
/// falls inside it), None when the two cannot be compared.
pub(super) fn compare(v: &FieldVal<'_>, lit: &TypedVal<'_>) -> Option<Ordering> {
    let in_range = |d: NaiveDate, a: NaiveDate, b: NaiveDate| {
        if d < a {
            Ordering::Less
        } else if d > b {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    };
    match (v, lit) {
        (FieldVal::Str(s), TypedVal::Str(l)) => Some(cmp_ci(s, l)),
        (FieldVal::Id(s), TypedVal::Id(l)) => Some(id_key(s).cmp(l)),
        (FieldVal::Bool(b), TypedVal::Bool(l)) => Some(b.cmp(l)),
        (FieldVal::Num(n), TypedVal::Num(l)) => n.partial_cmp(l),
        (FieldVal::Date(d), TypedVal::Days(a, b)) => Some(in_range(*d, *a, *b)),
        (FieldVal::Instant(t), TypedVal::Days(a, b)) => Some(in_range(t.date_naive(), *a, *b)),
        (FieldVal::Instant(t), TypedVal::Instant(l)) => Some(t.cmp(l)),
        _ => None,
    }
}

/// LIKE matching over lowercased characters; `%` backtracks to its last position only, which
/// keeps it linear-ish and free of recursion. ASCII values (nearly all) are matched in place;
/// others are folded into a buffer first.
pub(crate) fn like_match(value: &str, pattern: &[LikeTok]) -> bool {
    if value.is_ascii() {
        let bytes = value.as_bytes();
        like_run(
            bytes.len(),
            |i| char::from(bytes[i].to_ascii_lowercase()),
            pattern,
        )
    } else {
        let text: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
        like_run(text.len(), |i| text[i], pattern)
    }
}

/// The LIKE automaton over `len` folded characters, `at(i)` giving the i-th.
fn like_run(len: usize, at: impl Fn(usize) -> char, pattern: &[LikeTok]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < len {
        match pattern.get(p) {
            Some(LikeTok::Char(c)) if *c == at(t) => {
                t += 1;
                p += 1;
            }
            Some(LikeTok::One) => {
                t += 1;
                p += 1;
            }
            Some(LikeTok::Many) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|tok| *tok == LikeTok::Many)
}
