//! Field values: checking a JSON value against a field's kind and normalising it to the form the
//! store keeps (18-character ids, `2026-01-31T10:00:00.000+0000` datetimes), shared by fixture
//! loading and API writes so both accept exactly the same values.
//!
//! Owns no error codes: callers turn a `ValueError` into a fixture message or a Salesforce error.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use crate::ids::{self, IdError};
use crate::schema::FieldKind;

/// Why a value does not fit a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("{0}")]
    BadId(#[from] IdError),
    #[error("'{0}' is not a date (use YYYY-MM-DD)")]
    BadDate(String),
    #[error("'{0}' is not a datetime (use RFC 3339, e.g. 2026-01-31T10:00:00Z)")]
    BadDateTime(String),
}

/// Short description of a JSON value for error messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string \"{}\"", truncate(s, 60)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Checks `value` against `kind` and returns its stored form. Null passes through; whether null
/// is allowed is the caller's decision.
pub fn coerce(kind: FieldKind, value: &Value) -> Result<Value, ValueError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let wrong = |expected: &'static str| ValueError::WrongType {
        expected,
        found: describe(value),
    };
    match kind {
        FieldKind::Id | FieldKind::Reference => {
            let raw = value
                .as_str()
                .ok_or_else(|| wrong("an 18-character id string"))?;
            Ok(Value::String(ids::to_id18(raw)?))
        }
        FieldKind::String | FieldKind::TextArea | FieldKind::Picklist => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(wrong("a string")),
        },
        FieldKind::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(wrong("true or false")),
        },
        FieldKind::Int => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
                _ => Err(wrong("a whole number")),
            },
            _ => Err(wrong("a whole number")),
        },
        FieldKind::Double => match value {
            Value::Number(_) => Ok(value.clone()),
            _ => Err(wrong("a number")),
        },
        FieldKind::Date => {
            let raw = value.as_str().ok_or_else(|| wrong("a date string"))?;
            parse_date(raw)
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| ValueError::BadDate(raw.to_string()))
        }
        FieldKind::DateTime => {
            let raw = value.as_str().ok_or_else(|| wrong("a datetime string"))?;
            parse_datetime(raw)
                .map(|dt| Value::String(format_datetime(dt)))
                .ok_or_else(|| ValueError::BadDateTime(raw.to_string()))
        }
    }
}

/// `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    if raw.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// RFC 3339 (`2026-01-31T10:00:00Z`, `+01:00`) or Salesforce's own `2026-01-31T10:00:00.000+0000`.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

/// The form Salesforce's REST API writes datetimes in.
pub fn format_datetime(dt: DateTime<Utc>) -> String {
    let rfc = dt.to_rfc3339_opts(SecondsFormat::Millis, true);
    // "2026-01-31T10:00:00.000Z" → "2026-01-31T10:00:00.000+0000"
    match rfc.strip_suffix('Z') {
        Some(base) => format!("{base}+0000"),
        None => rfc,
    }
}

/// Guesses a custom field's kind from one fixture value: `None` for null (no information).
pub fn infer_kind(field: &str, value: &Value) -> Option<FieldKind> {
    match value {
        Value::Null => None,
        Value::Bool(_) => Some(FieldKind::Boolean),
        Value::Number(_) => Some(FieldKind::Double),
        Value::String(s) => {
            if field.ends_with("__c") && ids::looks_like_id(s) && s.len() == 18 {
                Some(FieldKind::Reference)
            } else if parse_date(s).is_some() {
                Some(FieldKind::Date)
            } else if s.contains('T') && parse_datetime(s).is_some() {
                Some(FieldKind::DateTime)
            } else {
                Some(FieldKind::String)
            }
        }
        Value::Array(_) | Value::Object(_) => Some(FieldKind::TextArea),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn datetimes_are_stored_in_salesforce_form() {
        assert_eq!(
            coerce(FieldKind::DateTime, &json!("2026-01-31T11:00:00+01:00")),
            Ok(json!("2026-01-31T10:00:00.000+0000"))
        );
        assert_eq!(
            coerce(FieldKind::DateTime, &json!("2026-01-31T10:00:00.000+0000")),
            Ok(json!("2026-01-31T10:00:00.000+0000"))
        );
    }

    #[test]
    fn references_accept_fifteen_characters_and_store_eighteen() {
        assert_eq!(
            coerce(FieldKind::Reference, &json!("005000000000001")),
            Ok(json!("005000000000001AAA"))
        );
    }

    #[test]
    fn wrong_kinds_are_explained() {
        let err = coerce(FieldKind::Boolean, &json!("yes")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected true or false, found string \"yes\""
        );
        assert!(matches!(
            coerce(FieldKind::Date, &json!("31/01/2026")),
            Err(ValueError::BadDate(_))
        ));
        assert!(coerce(FieldKind::Int, &json!(2.5)).is_err());
    }

    #[test]
    fn custom_fields_infer_references_only_for_id_values_of_custom_fields() {
        assert_eq!(
            infer_kind("nbavs__User__c", &json!("005000000000002AAA")),
            Some(FieldKind::Reference)
        );
        assert_eq!(
            infer_kind("Name", &json!("005000000000002AAA")),
            Some(FieldKind::String)
        );
        assert_eq!(
            infer_kind("nbavs__CTI__c", &json!(true)),
            Some(FieldKind::Boolean)
        );
        assert_eq!(
            infer_kind("Start__c", &json!("2026-01-31")),
            Some(FieldKind::Date)
        );
    }
}
