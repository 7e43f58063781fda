//! SOQL errors as Salesforce reports them: an error code plus a message that, for errors tied to
//! a place in the query, quotes the query line with a caret and "ERROR at Row:r:Column:c".
//!
//! It owns the message layout only; deciding which error applies belongs to the parser and the
//! evaluator, and turning errors into HTTP bodies belongs to the server.

use std::fmt;

/// Salesforce `errorCode` values the engine can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoqlErrorCode {
    /// Syntax error, or a construct the simulator does not implement.
    MalformedQuery,
    /// Unknown field or relationship, or a literal of the wrong type for its field.
    InvalidField,
    /// Unknown sObject in FROM.
    InvalidType,
    /// Operator not allowed for the field type, or a malformed id literal.
    InvalidQueryFilterOperator,
    /// A number outside what Salesforce accepts (OFFSET above 2000).
    NumberOutsideValidRange,
}

impl SoqlErrorCode {
    /// The wire spelling of the code, e.g. "MALFORMED_QUERY".
    pub fn as_str(&self) -> &'static str {
        match self {
            SoqlErrorCode::MalformedQuery => "MALFORMED_QUERY",
            SoqlErrorCode::InvalidField => "INVALID_FIELD",
            SoqlErrorCode::InvalidType => "INVALID_TYPE",
            SoqlErrorCode::InvalidQueryFilterOperator => "INVALID_QUERY_FILTER_OPERATOR",
            SoqlErrorCode::NumberOutsideValidRange => "NUMBER_OUTSIDE_VALID_RANGE",
        }
    }
}

impl fmt::Display for SoqlErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A query the org refuses, with the code and message the REST API would put in its error body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SoqlError {
    /// The `errorCode` clients branch on.
    pub code: SoqlErrorCode,
    /// The `message`, positioned like Salesforce's when the error has a place in the query.
    pub message: String,
}

/// How many characters of the query line are quoted on each side of the caret; Salesforce also
/// quotes a window, not the whole of a long line.
const EXCERPT_RADIUS: usize = 40;

impl SoqlError {
    /// An error without a position (Salesforce gives none for limits).
    pub(crate) fn plain(code: SoqlErrorCode, detail: impl Into<String>) -> Self {
        SoqlError {
            code,
            message: detail.into(),
        }
    }

    /// An error positioned at byte `offset` of `text`:
    /// "\n<line excerpt>\n<spaces>^\nERROR at Row:r:Column:c\n<detail>".
    pub(crate) fn at(code: SoqlErrorCode, text: &str, offset: usize, detail: &str) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let row = text[..offset].matches('\n').count() + 1;
        let line: Vec<char> = text[line_start..line_end]
            .trim_end_matches('\r')
            .chars()
            .collect();
        let caret = text[line_start..offset].chars().count();
        let column = caret + 1;

        let (from, to) = excerpt_window(&line, caret);
        let excerpt: String = line[from..to].iter().collect();
        let pad = " ".repeat(caret - from);
        SoqlError {
            code,
            message: format!("\n{excerpt}\n{pad}^\nERROR at Row:{row}:Column:{column}\n{detail}"),
        }
    }
}

/// The [from, to) char range of `line` to quote around `caret`: at most `EXCERPT_RADIUS` chars
/// each side, trimmed so it does not start or end in the middle of a word when that is cheap.
fn excerpt_window(line: &[char], caret: usize) -> (usize, usize) {
    let caret = caret.min(line.len());
    let mut from = caret.saturating_sub(EXCERPT_RADIUS);
    if from > 0 {
        // Start after a separator so the excerpt begins with a whole word.
        if let Some(skip) = line[from..caret]
            .iter()
            .position(|c| c.is_whitespace() || *c == ',')
        {
            from += skip + 1;
        }
    }
    let mut to = (caret + EXCERPT_RADIUS).min(line.len());
    // Finish the word under the cut rather than splitting it.
    while to < line.len() && to < caret + 2 * EXCERPT_RADIUS && !line[to].is_whitespace() {
        to += 1;
    }
    (from, to)
}
