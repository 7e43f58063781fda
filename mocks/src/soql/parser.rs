//! Recursive-descent parser from tokens to the [`Query`] AST, with Salesforce's clause order and
//! its "unexpected token: 'X'" errors positioned at the token.
//!
//! It must not consult the schema: unknown names are the evaluator's to report, so that
//! INVALID_TYPE / INVALID_FIELD come after syntax errors, as on Salesforce. Aggregate functions,
//! aliases and GROUP BY parse here; whether a field may be grouped or aggregated is the
//! evaluator's (`aggregate`) question. Constructs outside the simulator's subset (HAVING,
//! GROUP BY ROLLUP / CUBE, date functions, child subqueries, FIELDS(), TYPEOF, WITH, FOR ...) are
//! refused here with MALFORMED_QUERY and a message naming the construct.

use super::ast::{
    AggFn, AggregateCall, Cond, FieldPath, LikeTok, LitAt, Literal, Name, OrderItem, Query,
    RelativeDate, Select, SelectItem, SubQuery,
};
use super::error::{SoqlError, SoqlErrorCode};
use super::lexer::{StrChar, Tok, Token, tokenize};

/// Words SOQL reserves; they cannot be field or object names.
const RESERVED: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST",
    "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH",
];

/// Clause keywords Salesforce accepts but the simulator does not implement.
const UNSUPPORTED_CLAUSES: &[(&str, &str)] = &[
    ("USING", "USING SCOPE"),
    ("WITH", "WITH clauses"),
    ("HAVING", "HAVING"),
    ("FOR", "FOR VIEW / FOR REFERENCE / FOR UPDATE"),
    ("UPDATE", "UPDATE TRACKING / UPDATE VIEWSTAT"),
];

pub(crate) fn parse(text: &str) -> Result<Query, SoqlError> {
    let mut p = Parser {
        text,
        toks: tokenize(text),
        pos: 0,
    };
    p.query()
}

struct Parser<'a> {
    /// The query text, quoted in errors.
    text: &'a str,
    /// All tokens; the last is always `Eof`.
    toks: Vec<Token>,
    /// Index of the next unread token.
    pos: usize,
}

/// Whether a condition is being parsed inside a semi-join (where another one is not allowed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Top,
    Inner,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, k: usize) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + k).min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_kw_at(&self, k: usize, word: &str) -> bool {
        matches!(&self.peek_at(k).tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    fn is_kw(&self, word: &str) -> bool {
        self.is_kw_at(0, word)
    }

    fn eat_kw(&mut self, word: &str) -> bool {
        let hit = self.is_kw(word);
        if hit {
            self.bump();
        }
        hit
    }

    fn expect_kw(&mut self, word: &str) -> Result<Token, SoqlError> {
        if self.is_kw(word) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(self.peek()))
        }
    }

    fn expect(&mut self, want: &Tok) -> Result<Token, SoqlError> {
        if &self.peek().tok == want {
            Ok(self.bump())
        } else {
            Err(self.unexpected(self.peek()))
        }
    }

    fn raw(&self, t: &Token) -> &str {
        self.text.get(t.start..t.end).unwrap_or("")
    }

    fn malformed(&self, offset: usize, detail: &str) -> SoqlError {
        SoqlError::at(SoqlErrorCode::MalformedQuery, self.text, offset, detail)
    }

    /// "unexpected token: 'X'" at `t` (or the lexer's own message for unreadable input).
    fn unexpected(&self, t: &Token) -> SoqlError {
        match &t.tok {
            Tok::Bad(msg) => self.malformed(t.start, msg),
            Tok::Eof => self.malformed(t.start, "unexpected token: '<EOF>'"),
            _ => self.malformed(t.start, &format!("unexpected token: '{}'", self.raw(t))),
        }
    }

    fn unsupported(&self, t: &Token, what: &str) -> SoqlError {
        self.malformed(
            t.start,
            &format!(
                "{what} is not supported by sfsim, the Salesforce simulator. It supports SELECT \
                 of fields, one-level parent fields, COUNT() or the aggregate functions COUNT, \
                 COUNT_DISTINCT, MIN, MAX, SUM and AVG FROM one object, with WHERE (including \
                 one level of IN (SELECT ...)), GROUP BY fields, ORDER BY, LIMIT and OFFSET."
            ),
        )
    }

    /// Refuses a clause keyword Salesforce knows but the simulator does not implement.
    fn reject_unsupported_clause(&self) -> Result<(), SoqlError> {
        let t = self.peek();
        if let Tok::Ident(word) = &t.tok
            && let Some((_, what)) = UNSUPPORTED_CLAUSES
                .iter()
                .find(|(kw, _)| word.eq_ignore_ascii_case(kw))
        {
            return Err(self.unsupported(t, what));
        }
        Ok(())
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let select = self.select_list()?;
        self.expect_kw("FROM")?;
        let from = self.object_name()?;
        self.reject_unsupported_clause()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.condition(Depth::Top)?)
        } else {
            None
        };
        self.reject_unsupported_clause()?;
        let mut group_by = Vec::new();
        if self.is_kw("GROUP") && self.is_kw_at(1, "BY") {
            self.bump();
            self.bump();
            group_by = self.group_items()?;
        }
        self.reject_unsupported_clause()?;
        let mut order_by = Vec::new();
        if self.is_kw("ORDER") && self.is_kw_at(1, "BY") {
            self.bump();
            self.bump();
            order_by = self.order_items()?;
        }
        self.reject_unsupported_clause()?;
        let limit = if self.eat_kw("LIMIT") {
            Some(self.integer()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.integer()?)
        } else {
            None
        };
        self.reject_unsupported_clause()?;
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected(self.peek()));
        }
        let query = Query {
            text: self.text.to_string(),
            select,
            from,
            filter,
            group_by,
            order_by,
            limit,
            offset,
        };
        self.check_select_shape(&query)?;
        Ok(query)
    }

    /// What the grammar alone decides about a SELECT list once the whole query is read: an
    /// alias only in an aggregate query, no alias twice, `COUNT()` not with GROUP BY.
    fn check_select_shape(&self, query: &Query) -> Result<(), SoqlError> {
        let items = match &query.select {
            Select::Count => {
                if let Some(first) = query.group_by.first() {
                    return Err(self.malformed(
                        first.pos,
                        "COUNT() cannot be used with GROUP BY; use COUNT(Id) or COUNT(fieldName)",
                    ));
                }
                return Ok(());
            }
            Select::Items(items) => items,
        };
        let aggregate = query.is_aggregate();
        let mut seen: Vec<String> = Vec::new();
        for item in items {
            let alias = match item {
                SelectItem::Field { alias, .. } => alias.as_ref(),
                SelectItem::Aggregate(call) => call.alias.as_ref(),
            };
            let Some(alias) = alias else { continue };
            if !aggregate {
                return Err(
                    self.malformed(alias.pos, "Only aggregate expressions use field aliasing")
                );
            }
            let key = alias.text.to_ascii_lowercase();
            if seen.contains(&key) {
                return Err(self.malformed(alias.pos, &format!("duplicate alias: {}", alias.text)));
            }
            seen.push(key);
        }
        Ok(())
    }

    /// The fields after GROUP BY; ROLLUP / CUBE and functions are outside the subset.
    fn group_items(&mut self) -> Result<Vec<FieldPath>, SoqlError> {
        let mut items = Vec::new();
        loop {
            let t = self.peek().clone();
            if let Tok::Ident(word) = &t.tok
                && self.peek_at(1).tok == Tok::LParen
            {
                let what =
                    if word.eq_ignore_ascii_case("ROLLUP") || word.eq_ignore_ascii_case("CUBE") {
                        format!("GROUP BY {}", word.to_ascii_uppercase())
                    } else {
                        format!("The function {}() in GROUP BY", word.to_ascii_uppercase())
                    };
                return Err(self.unsupported(&t, &what));
            }
            items.push(self.field_path()?);
            if self.peek().tok == Tok::Comma {
                self.bump();
            } else {
                return Ok(items);
            }
        }
    }

    /// An alias after a SELECT item: a plain name that is not a reserved word, followed by the
    /// next item or FROM (so a misspelt keyword, as in `SELECT Id FORM User`, is still reported
    /// as the unexpected token it is).
    fn alias(&mut self) -> Option<Name> {
        let t = self.peek().clone();
        let ends_item = self.peek_at(1).tok == Tok::Comma || self.is_kw_at(1, "FROM");
        match &t.tok {
            Tok::Ident(word)
                if ends_item && !RESERVED.iter().any(|r| word.eq_ignore_ascii_case(r)) =>
            {
                self.bump();
                Some(Name {
                    text: word.clone(),
                    pos: t.start,
                })
            }
            _ => None,
        }
    }

    /// `FUNC(field)` or `COUNT()` at the current token, which names an aggregate function.
    fn aggregate_call(&mut self, func: AggFn) -> Result<AggregateCall, SoqlError> {
        let name = self.bump();
        self.expect(&Tok::LParen)?;
        let arg = if self.peek().tok == Tok::RParen && func == AggFn::Count {
            None
        } else {
            let t = self.peek().clone();
            if matches!(t.tok, Tok::Ident(_)) && self.peek_at(1).tok == Tok::LParen {
                return Err(self.unsupported(&t, "A function inside an aggregate function"));
            }
            Some(self.field_path()?)
        };
        self.expect(&Tok::RParen)?;
        let alias = self.alias();
        Ok(AggregateCall {
            func,
            arg,
            alias,
            pos: name.start,
        })
    }

    fn select_list(&mut self) -> Result<Select, SoqlError> {
        let mut items = Vec::new();
        let mut count_at: Option<usize> = None;
        loop {
            let t = self.peek().clone();
            match &t.tok {
                Tok::LParen => {
                    return Err(self.unsupported(&t, "A child relationship subquery in SELECT"));
                }
                Tok::Ident(word) if word.eq_ignore_ascii_case("TYPEOF") => {
                    return Err(self.unsupported(&t, "TYPEOF"));
                }
                Tok::Ident(word) if self.peek_at(1).tok == Tok::LParen => {
                    if word.eq_ignore_ascii_case("COUNT")
                        && self.peek_at(2).tok == Tok::RParen
                        && !matches!(&self.peek_at(3).tok, Tok::Ident(w)
                            if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)))
                    {
                        self.bump();
                        self.bump();
                        self.bump();
                        count_at.get_or_insert(t.start);
                    } else if word.eq_ignore_ascii_case("FIELDS") {
                        return Err(self.unsupported(&t, "FIELDS()"));
                    } else if let Some(func) = AggFn::from_name(word) {
                        items.push(SelectItem::Aggregate(self.aggregate_call(func)?));
                    } else {
                        return Err(self.unsupported(
                            &t,
                            &format!("The function {}() in SELECT", word.to_ascii_uppercase()),
                        ));
                    }
                }
                _ => {
                    let path = self.field_path()?;
                    let alias = self.alias();
                    items.push(SelectItem::Field { path, alias });
                }
            }
            if self.peek().tok == Tok::Comma {
                self.bump();
            } else {
                break;
            }
        }
        match count_at {
            None => Ok(Select::Items(items)),
            Some(_) if items.is_empty() => Ok(Select::Count),
            Some(at) => {
                Err(self.malformed(at, "COUNT() must be the only element in the SELECT list"))
            }
        }
    }

    fn name_token(&mut self) -> Result<Name, SoqlError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(word) if !RESERVED.iter().any(|r| word.eq_ignore_ascii_case(r)) => {
                self.bump();
                Ok(Name {
                    text: word.clone(),
                    pos: t.start,
                })
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    fn object_name(&mut self) -> Result<Name, SoqlError> {
        self.name_token()
    }

    fn field_path(&mut self) -> Result<FieldPath, SoqlError> {
        let first = self.name_token()?;
        let pos = first.pos;
        let mut segments = vec![first.text];
        while self.peek().tok == Tok::Dot {
            self.bump();
            let t = self.peek().clone();
            match &t.tok {
                Tok::Ident(word) => {
                    self.bump();
                    segments.push(word.clone());
                }
                _ => return Err(self.unexpected(&t)),
            }
        }
        Ok(FieldPath { segments, pos })
    }

    /// `a AND b AND c` or `a OR b OR c`; mixing AND and OR without parentheses is an error in SOQL.
    fn condition(&mut self, depth: Depth) -> Result<Cond, SoqlError> {
        let first = self.unary(depth)?;
        let (joiner, other) = if self.is_kw("AND") {
            ("AND", "OR")
        } else if self.is_kw("OR") {
            ("OR", "AND")
        } else {
            return Ok(first);
        };
        let mut parts = vec![first];
        while self.eat_kw(joiner) {
            parts.push(self.unary(depth)?);
        }
        if self.is_kw(other) {
            return Err(self.unexpected(self.peek()));
        }
        Ok(if joiner == "AND" {
            Cond::And(parts)
        } else {
            Cond::Or(parts)
        })
    }

    fn unary(&mut self, depth: Depth) -> Result<Cond, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.unary(depth)?)));
        }
        if self.peek().tok == Tok::LParen {
            self.bump();
            let inner = self.condition(depth)?;
            self.expect(&Tok::RParen)?;
            return Ok(inner);
        }
        self.simple(depth)
    }

    fn simple(&mut self, depth: Depth) -> Result<Cond, SoqlError> {
        let field = self.field_path()?;
        let t = self.peek().clone();
        match &t.tok {
            Tok::Op(op) => {
                self.bump();
                let value = self.literal()?;
                Ok(Cond::Compare {
                    field,
                    op: *op,
                    value,
                })
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("LIKE") => {
                self.bump();
                let pattern = self.like_pattern()?;
                Ok(Cond::Like { field, pattern })
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("IN") => {
                self.bump();
                self.in_rhs(field, false, depth)
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("NOT") && self.is_kw_at(1, "IN") => {
                self.bump();
                self.bump();
                self.in_rhs(field, true, depth)
            }
            Tok::Ident(w)
                if w.eq_ignore_ascii_case("INCLUDES") || w.eq_ignore_ascii_case("EXCLUDES") =>
            {
                Err(self.unsupported(&t, "INCLUDES / EXCLUDES (multi-select picklists)"))
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    fn in_rhs(&mut self, field: FieldPath, negated: bool, depth: Depth) -> Result<Cond, SoqlError> {
        self.expect(&Tok::LParen)?;
        if self.is_kw("SELECT") {
            if depth == Depth::Inner {
                let at = self.peek().start;
                return Err(self.malformed(at, "Nesting of semi join sub-selects is not supported"));
            }
            let sub = self.sub_query()?;
            self.expect(&Tok::RParen)?;
            return Ok(Cond::SemiJoin {
                field,
                negated,
                sub: Box::new(sub),
            });
        }
        let mut values = vec![self.literal()?];
        while self.peek().tok == Tok::Comma {
            self.bump();
            values.push(self.literal()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(Cond::In {
            field,
            negated,
            values,
        })
    }

    fn sub_query(&mut self) -> Result<SubQuery, SoqlError> {
        self.expect_kw("SELECT")?;
        let t = self.peek().clone();
        if matches!(t.tok, Tok::Ident(_)) && self.peek_at(1).tok == Tok::LParen {
            return Err(self.unsupported(&t, "A function in a semi-join sub-select"));
        }
        let field = self.field_path()?;
        self.expect_kw("FROM")?;
        let from = self.object_name()?;
        self.reject_unsupported_clause()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.condition(Depth::Inner)?)
        } else {
            None
        };
        self.reject_unsupported_clause()?;
        Ok(SubQuery {
            field,
            from,
            filter,
        })
    }

    fn order_items(&mut self) -> Result<Vec<OrderItem>, SoqlError> {
        let mut items = Vec::new();
        loop {
            let t = self.peek().clone();
            if matches!(t.tok, Tok::Ident(_)) && self.peek_at(1).tok == Tok::LParen {
                return Err(self.unsupported(&t, "ORDER BY a function"));
            }
            let field = self.field_path()?;
            let descending = if self.eat_kw("DESC") {
                true
            } else {
                self.eat_kw("ASC");
                false
            };
            let nulls_first = if self.eat_kw("NULLS") {
                if self.eat_kw("FIRST") {
                    Some(true)
                } else if self.eat_kw("LAST") {
                    Some(false)
                } else {
                    return Err(self.unexpected(self.peek()));
                }
            } else {
                None
            };
            items.push(OrderItem {
                field,
                descending,
                nulls_first,
            });
            if self.peek().tok == Tok::Comma {
                self.bump();
            } else {
                return Ok(items);
            }
        }
    }

    /// A non-negative integer (LIMIT / OFFSET).
    fn integer(&mut self) -> Result<u64, SoqlError> {
        let t = self.peek().clone();
        if let Tok::Number(text) = &t.tok
            && let Ok(n) = text.parse::<u64>()
        {
            self.bump();
            return Ok(n);
        }
        Err(self.unexpected(&t))
    }

    fn literal(&mut self) -> Result<LitAt, SoqlError> {
        let t = self.peek().clone();
        let lit = match &t.tok {
            Tok::Str(chars) => {
                let mut s = String::with_capacity(chars.len());
                for c in chars {
                    match c {
                        StrChar::Plain(ch) => s.push(*ch),
                        StrChar::EscapedWildcard(ch) => {
                            let body = self
                                .text
                                .get(t.start + 1..t.end.saturating_sub(1))
                                .unwrap_or("");
                            return Err(self.malformed(
                                t.start,
                                &format!(
                                    "Invalid string literal '{body}'. Illegal character sequence \
                                     '\\{ch}' in string literal."
                                ),
                            ));
                        }
                    }
                }
                Literal::Str(s)
            }
            Tok::Number(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Literal::Number(v),
                _ => return Err(self.unexpected(&t)),
            },
            Tok::Date(d) => Literal::Date(*d),
            Tok::DateTime(dt) => Literal::DateTime(*dt),
            Tok::RelativeN(rel) => Literal::Relative(*rel),
            Tok::Ident(word) => {
                if word.eq_ignore_ascii_case("NULL") {
                    Literal::Null
                } else if word.eq_ignore_ascii_case("TRUE") {
                    Literal::Bool(true)
                } else if word.eq_ignore_ascii_case("FALSE") {
                    Literal::Bool(false)
                } else if let Some(rel) = RelativeDate::from_keyword(word) {
                    Literal::Relative(rel)
                } else {
                    return Err(self.unexpected(&t));
                }
            }
            _ => return Err(self.unexpected(&t)),
        };
        self.bump();
        Ok(LitAt { lit, pos: t.start })
    }

    /// The quoted pattern after LIKE: `%` any run, `_` one character, `\%` / `\_` literal.
    fn like_pattern(&mut self) -> Result<Vec<LikeTok>, SoqlError> {
        let t = self.peek().clone();
        let Tok::Str(chars) = &t.tok else {
            return Err(self.unexpected(&t));
        };
        self.bump();
        let mut out = Vec::with_capacity(chars.len());
        for c in chars {
            match *c {
                StrChar::Plain('%') => {
                    // Consecutive `%` are one wildcard; collapsing keeps matching linear.
                    if out.last() != Some(&LikeTok::Many) {
                        out.push(LikeTok::Many);
                    }
                }
                StrChar::Plain('_') => out.push(LikeTok::One),
                StrChar::Plain(ch) | StrChar::EscapedWildcard(ch) => {
                    out.extend(ch.to_lowercase().map(LikeTok::Char));
                }
            }
        }
        Ok(out)
    }
}
