//! The parsed form of a SOQL query: names as written (not yet checked against any schema) with
//! byte positions, so the evaluator can report schema errors at the right Row/Column.
//!
//! It must not resolve names or touch data; that is the evaluator's job.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate};

/// A parsed SOQL query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The original text: schema errors found at execution quote it with a caret.
    pub(crate) text: String,
    /// The SELECT list.
    pub(crate) select: Select,
    /// The sObject after FROM, as written.
    pub(crate) from: Name,
    /// The WHERE condition, if any.
    pub(crate) filter: Option<Cond>,
    /// GROUP BY fields in the order written; empty when absent.
    pub(crate) group_by: Vec<FieldPath>,
    /// ORDER BY items in priority order; empty when absent.
    pub(crate) order_by: Vec<OrderItem>,
    /// LIMIT n, if given.
    pub(crate) limit: Option<u64>,
    /// OFFSET n, if given.
    pub(crate) offset: Option<u64>,
}

impl Query {
    /// The sObject named after FROM, as written in the query (not canonicalised).
    pub fn object(&self) -> &str {
        &self.from.text
    }

    /// The query text this was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True for `SELECT COUNT() ...`, which the REST API answers with `totalSize` and no records.
    pub fn is_count(&self) -> bool {
        matches!(self.select, Select::Count)
    }

    /// True for a query answered with `AggregateResult` rows: one with GROUP BY or with an
    /// aggregate function other than a lone `COUNT()`.
    pub fn is_aggregate(&self) -> bool {
        !self.group_by.is_empty()
            || matches!(&self.select, Select::Items(items)
                if items.iter().any(|i| matches!(i, SelectItem::Aggregate(_))))
    }
}

/// A name as written, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// The identifier exactly as written.
    pub(crate) text: String,
    /// Byte offset of its first character in the query text.
    pub(crate) pos: usize,
}

/// What the query selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Select {
    /// `COUNT()` alone.
    Count,
    /// Fields, parent paths and aggregate functions in the order written.
    Items(Vec<SelectItem>),
}

/// One element of the SELECT list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SelectItem {
    /// A field or parent path, with its alias if one was written (aggregate queries only).
    Field {
        path: FieldPath,
        alias: Option<Name>,
    },
    /// `COUNT(Id)`, `MAX(CallStartDateTime) lastCall`...
    Aggregate(AggregateCall),
}

/// Aggregate functions of SOQL (SOQL and SOSL Reference, "Aggregate Functions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggFn {
    Avg,
    Count,
    CountDistinct,
    Min,
    Max,
    Sum,
}

impl AggFn {
    /// The function for a name as written, case-insensitively.
    pub(crate) fn from_name(word: &str) -> Option<AggFn> {
        Some(match word.to_ascii_uppercase().as_str() {
            "AVG" => AggFn::Avg,
            "COUNT" => AggFn::Count,
            "COUNT_DISTINCT" => AggFn::CountDistinct,
            "MIN" => AggFn::Min,
            "MAX" => AggFn::Max,
            "SUM" => AggFn::Sum,
            _ => return None,
        })
    }

    /// The name Salesforce uses in its messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AggFn::Avg => "AVG",
            AggFn::Count => "COUNT",
            AggFn::CountDistinct => "COUNT_DISTINCT",
            AggFn::Min => "MIN",
            AggFn::Max => "MAX",
            AggFn::Sum => "SUM",
        }
    }
}

/// An aggregate function in the SELECT list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AggregateCall {
    /// Which function.
    pub(crate) func: AggFn,
    /// Its field; None only for `COUNT()` (which then counts rows, like `COUNT(Id)`).
    pub(crate) arg: Option<FieldPath>,
    /// The alias written after the call; without one the column is `expr0`, `expr1`...
    pub(crate) alias: Option<Name>,
    /// Byte offset of the function name, for errors.
    pub(crate) pos: usize,
}

/// `Field` or `Relationship.Field` (longer paths parse but are refused at execution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    /// Dot-separated segments as written.
    pub(crate) segments: Vec<String>,
    /// Byte offset of the first segment.
    pub(crate) pos: usize,
}

impl FieldPath {
    /// The path as written, for messages.
    pub(crate) fn display(&self) -> String {
        self.segments.join(".")
    }
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// `path op literal`.
    Compare {
        field: FieldPath,
        op: CmpOp,
        value: LitAt,
    },
    /// `path [NOT] IN (literal, ...)`.
    In {
        field: FieldPath,
        negated: bool,
        values: Vec<LitAt>,
    },
    /// `path [NOT] IN (SELECT field FROM object [WHERE ...])`.
    SemiJoin {
        field: FieldPath,
        negated: bool,
        sub: Box<SubQuery>,
    },
    /// `path LIKE 'pattern'`.
    Like {
        field: FieldPath,
        pattern: Vec<LikeTok>,
    },
}

/// The inner query of a semi-join or anti-join.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubQuery {
    /// The single selected field (an Id or reference).
    pub(crate) field: FieldPath,
    /// The inner sObject.
    pub(crate) from: Name,
    /// The inner WHERE, which may not itself contain a semi-join.
    pub(crate) filter: Option<Cond>,
}

/// One ORDER BY item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderItem {
    /// The field or parent path sorted on.
    pub(crate) field: FieldPath,
    /// DESC was given.
    pub(crate) descending: bool,
    /// NULLS FIRST / NULLS LAST if given; Salesforce defaults to first for ASC, last for DESC.
    pub(crate) nulls_first: Option<bool>,
}

/// Comparison operators (`<>` is parsed as `Ne`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One element of a LIKE pattern; literal characters are stored lowercased because LIKE is
/// case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LikeTok {
    Char(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters, including none.
    Many,
}

/// A literal with the byte offset where it starts (type errors point at the value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LitAt {
    /// The value as written.
    pub(crate) lit: Literal,
    /// Byte offset of its first character.
    pub(crate) pos: usize,
}

/// A literal value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    /// A quoted string, escapes decoded.
    Str(String),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    Relative(RelativeDate),
}

/// Date literals relative to "today" (`TODAY`, `LAST_N_DAYS:n`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelativeDate {
    Today,
    Yesterday,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    LastYear,
    ThisYear,
    NextYear,
    Last90Days,
    Next90Days,
    LastNDays(u32),
    NextNDays(u32),
    NDaysAgo(u32),
}

impl RelativeDate {
    /// The literal for a bare keyword (not the `NAME:n` forms), case-insensitively.
    pub(crate) fn from_keyword(word: &str) -> Option<RelativeDate> {
        let upper = word.to_ascii_uppercase();
        Some(match upper.as_str() {
            "TODAY" => RelativeDate::Today,
            "YESTERDAY" => RelativeDate::Yesterday,
            "TOMORROW" => RelativeDate::Tomorrow,
            "LAST_WEEK" => RelativeDate::LastWeek,
            "THIS_WEEK" => RelativeDate::ThisWeek,
            "NEXT_WEEK" => RelativeDate::NextWeek,
            "LAST_MONTH" => RelativeDate::LastMonth,
            "THIS_MONTH" => RelativeDate::ThisMonth,
            "NEXT_MONTH" => RelativeDate::NextMonth,
            "LAST_YEAR" => RelativeDate::LastYear,
            "THIS_YEAR" => RelativeDate::ThisYear,
            "NEXT_YEAR" => RelativeDate::NextYear,
            "LAST_90_DAYS" => RelativeDate::Last90Days,
            "NEXT_90_DAYS" => RelativeDate::Next90Days,
            _ => return None,
        })
    }

    /// The `NAME:n` forms, case-insensitively.
    pub(crate) fn from_keyword_n(word: &str, n: u32) -> Option<RelativeDate> {
        let upper = word.to_ascii_uppercase();
        Some(match upper.as_str() {
            "LAST_N_DAYS" => RelativeDate::LastNDays(n),
            "NEXT_N_DAYS" => RelativeDate::NextNDays(n),
            "N_DAYS_AGO" => RelativeDate::NDaysAgo(n),
            _ => return None,
        })
    }

    /// Whether `word` names a `NAME:n` literal (so the lexer keeps `:n` with it).
    pub(crate) fn takes_n(word: &str) -> bool {
        Self::from_keyword_n(word, 0).is_some()
    }

    /// The inclusive range of dates the literal covers, given today. Weeks start on Sunday (the
    /// default en_US locale); `LAST_N_DAYS:n` covers today and the n days before it.
    pub(crate) fn range(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let minus = |n: u32| {
            today
                .checked_sub_days(Days::new(u64::from(n)))
                .unwrap_or(NaiveDate::MIN)
        };
        let plus = |n: u32| {
            today
                .checked_add_days(Days::new(u64::from(n)))
                .unwrap_or(NaiveDate::MAX)
        };
        let week_start = minus(today.weekday().num_days_from_sunday());
        let shift_days = |d: NaiveDate, n: i64| {
            if n >= 0 {
                d.checked_add_days(Days::new(n.unsigned_abs()))
            } else {
                d.checked_sub_days(Days::new(n.unsigned_abs()))
            }
            .unwrap_or(d)
        };
        let week = |offset: i64| {
            let start = shift_days(week_start, 7 * offset);
            (start, shift_days(start, 6))
        };
        let month_start = today.with_day(1).unwrap_or(today);
        let month = |offset: i32| {
            let start = if offset >= 0 {
                month_start.checked_add_months(Months::new(offset.unsigned_abs()))
            } else {
                month_start.checked_sub_months(Months::new(offset.unsigned_abs()))
            }
            .unwrap_or(month_start);
            let end = start
                .checked_add_months(Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(start);
            (start, end)
        };
        let year = |offset: i32| {
            let y = today.year().saturating_add(offset);
            match (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
            ) {
                (Some(start), Some(end)) => (start, end),
                _ => (today, today),
            }
        };
        match self {
            RelativeDate::Today => (today, today),
            RelativeDate::Yesterday => (minus(1), minus(1)),
            RelativeDate::Tomorrow => (plus(1), plus(1)),
            RelativeDate::LastWeek => week(-1),
            RelativeDate::ThisWeek => week(0),
            RelativeDate::NextWeek => week(1),
            RelativeDate::LastMonth => month(-1),
            RelativeDate::ThisMonth => month(0),
            RelativeDate::NextMonth => month(1),
            RelativeDate::LastYear => year(-1),
            RelativeDate::ThisYear => year(0),
            RelativeDate::NextYear => year(1),
            RelativeDate::Last90Days => (minus(90), today),
            RelativeDate::Next90Days => (plus(1), plus(90)),
            RelativeDate::LastNDays(n) => (minus(n), today),
            RelativeDate::NextNDays(n) => (plus(1), plus(n)),
            RelativeDate::NDaysAgo(n) => (minus(n), minus(n)),
        }
    }
}
