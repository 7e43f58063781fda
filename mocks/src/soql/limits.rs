//! The limits Salesforce puts on a query's text and shape, checked on the parsed query before
//! any name is resolved: the statement length, the length of each string in the WHERE clause,
//! and the semi-join / anti-join rules of the SOQL reference ("Semi-Joins with IN and Anti-Joins
//! with NOT IN"): at most two `IN (SELECT ...)` / `NOT IN (SELECT ...)` per statement, none
//! under `OR` or `NOT`, and never on the outer query's own object.
//!
//! It owns those rules and their messages only. It must not consult the schema (whether the
//! inner field is an Id or reference is the evaluator's check) and must not evaluate anything.
//! Rules the parser already enforces (a single field in the inner SELECT, no nested semi-join, no
//! ORDER BY / LIMIT inside the sub-select) stay there.

use super::ast::{Cond, Literal, Query};
use super::error::{SoqlError, SoqlErrorCode};

/// "Maximum length of SOQL statements: by default, 100,000 characters" (SOQL and SOSL Limits).
pub const MAX_SOQL_CHARS: usize = 100_000;

/// "Strings in SOQL WHERE clauses: 4,000 characters for each string within a WHERE clause"
/// (SOQL and SOSL Limits; the Apex exception for `IN` does not apply to the REST API).
pub const MAX_WHERE_STRING_CHARS: usize = 4_000;

/// "No more than two IN or NOT IN statements per WHERE clause" (semi-join basic limits).
pub const MAX_SEMI_JOINS: usize = 2;

/// Refuses a statement over [`MAX_SOQL_CHARS`] before it is even tokenized, as Salesforce
/// answers it without a position.
pub(crate) fn check_length(text: &str) -> Result<(), SoqlError> {
    let chars = text.chars().count();
    if chars > MAX_SOQL_CHARS {
        return Err(SoqlError::plain(
            SoqlErrorCode::MalformedQuery,
            format!(
                "Query is too long: SOQL statements cannot be longer than {MAX_SOQL_CHARS} \
                 characters; this one has {chars}."
            ),
        ));
    }
    Ok(())
}

/// The WHERE-clause rules on a parsed query (the outer one; its semi-joins' filters included).
pub(crate) fn check(query: &Query) -> Result<(), SoqlError> {
    let Some(filter) = &query.filter else {
        return Ok(());
    };
    let mut joins = Vec::new();
    walk(query, filter, Place::Top, &mut joins)?;
    if joins.len() > MAX_SEMI_JOINS {
        let at = joins[MAX_SEMI_JOINS];
        return Err(SoqlError::at(
            SoqlErrorCode::MalformedQuery,
            &query.text,
            at,
            &format!("Maximum {MAX_SEMI_JOINS} semi join sub-selects are allowed"),
        ));
    }
    Ok(())
}

/// Where a condition sits relative to the top-level AND chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The WHERE itself or a member of its top-level AND.
    Top,
    /// Somewhere below an OR.
    UnderOr,
    /// Somewhere below a NOT.
    UnderNot,
}

/// Checks strings everywhere and semi-joins where they sit; collects each semi-join's position.
fn walk(query: &Query, cond: &Cond, place: Place, joins: &mut Vec<usize>) -> Result<(), SoqlError> {
    match cond {
        Cond::And(parts) => parts.iter().try_for_each(|c| walk(query, c, place, joins)),
        Cond::Or(parts) => {
            let inner = if place == Place::UnderNot {
                place
            } else {
                Place::UnderOr
            };
            parts.iter().try_for_each(|c| walk(query, c, inner, joins))
        }
        Cond::Not(inner) => walk(query, inner, Place::UnderNot, joins),
        Cond::Compare { value, .. } => string_fits(query, &value.lit, value.pos),
        Cond::In { values, .. } => values
            .iter()
            .try_for_each(|v| string_fits(query, &v.lit, v.pos)),
        Cond::Like { field, pattern } => {
            if pattern.len() > MAX_WHERE_STRING_CHARS {
                return Err(too_long_string(query, field.pos, pattern.len()));
            }
            Ok(())
        }
        Cond::SemiJoin { field, sub, .. } => {
            let at = field.pos;
            match place {
                Place::UnderOr => {
                    return Err(SoqlError::at(
                        SoqlErrorCode::MalformedQuery,
                        &query.text,
                        at,
                        "Semi join sub-selects are not allowed with the 'OR' operator",
                    ));
                }
                Place::UnderNot => {
                    return Err(SoqlError::at(
                        SoqlErrorCode::MalformedQuery,
                        &query.text,
                        at,
                        "Semi join sub-selects are only allowed at the top level WHERE \
                         expressions and not in nested WHERE expressions.",
                    ));
                }
                Place::Top => {}
            }
            if sub.from.text.eq_ignore_ascii_case(&query.from.text) {
                return Err(SoqlError::at(
                    SoqlErrorCode::InvalidQueryFilterOperator,
                    &query.text,
                    sub.from.pos,
                    "The inner and outer selects should not be on the same object type",
                ));
            }
            joins.push(at);
            // The inner filter cannot hold another semi-join (the parser refuses that), but its
            // strings obey the same limit.
            match &sub.filter {
                Some(inner) => walk(query, inner, Place::Top, &mut Vec::new()),
                None => Ok(()),
            }
        }
    }
}

fn string_fits(query: &Query, lit: &Literal, pos: usize) -> Result<(), SoqlError> {
    match lit {
        Literal::Str(s) => {
            let n = s.chars().count();
            if n > MAX_WHERE_STRING_CHARS {
                return Err(too_long_string(query, pos, n));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn too_long_string(query: &Query, pos: usize, n: usize) -> SoqlError {
    SoqlError::at(
        SoqlErrorCode::MalformedQuery,
        &query.text,
        pos,
        &format!(
            "String too long: strings in a WHERE clause cannot be longer than \
             {MAX_WHERE_STRING_CHARS} characters; this one has {n}."
        ),
    )
}
