//! Tokenizer for SOQL text: turns the query into tokens carrying byte offsets into the text.
//!
//! It must not decide grammar. A piece it cannot read (unterminated string, bad escape, stray
//! character) becomes a `Tok::Bad` and lexing stops there, so the parser reports the first
//! problem in source order with the right position.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};

use super::ast::{CmpOp, RelativeDate};

/// One character of a string literal. `\%` and `\_` are kept apart from plain `%`/`_` because
/// they mean "a literal wildcard character" in LIKE and are illegal everywhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrChar {
    Plain(char),
    EscapedWildcard(char),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Identifiers and keywords alike (keywords are recognised by the parser, case-insensitively).
    Ident(String),
    /// A single-quoted string, escapes decoded.
    Str(Vec<StrChar>),
    /// A number as written (sign and decimal point included).
    Number(String),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    /// `LAST_N_DAYS:n` and the other `NAME:n` date literals.
    RelativeN(RelativeDate),
    Op(CmpOp),
    Comma,
    Dot,
    LParen,
    RParen,
    /// Any other single character (`:`, `;`, `"`...): never valid, reported as unexpected.
    Other,
    /// Unreadable input; the message says why.
    Bad(String),
    Eof,
}

/// A token and the byte range of the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    /// Byte offset of the first character.
    pub(crate) start: usize,
    /// Byte offset just past the last character.
    pub(crate) end: usize,
}

/// Splits `text` into tokens; the result always ends with exactly one `Eof` (possibly preceded
/// by a `Bad`).
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut lx = Lexer {
        text,
        chars: text.char_indices().collect(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_whitespace();
        let start = lx.offset();
        let Some(c) = lx.peek(0) else {
            out.push(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
            return out;
        };
        let tok = lx.token(c);
        let end = lx.offset();
        let bad = matches!(tok, Tok::Bad(_));
        out.push(Token { tok, start, end });
        if bad {
            let len = text.len();
            out.push(Token {
                tok: Tok::Eof,
                start: len,
                end: len,
            });
            return out;
        }
    }
}

struct Lexer<'a> {
    /// The query text, sliced for identifiers and numbers.
    text: &'a str,
    /// Characters with their byte offsets, for lookahead by character.
    chars: Vec<(usize, char)>,
    /// Index of the next unread entry of `chars`.
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.i).map_or(self.text.len(), |&(o, _)| o)
    }

    fn skip_whitespace(&mut self) {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn digit_at(&self, k: usize) -> bool {
        self.peek(k).is_some_and(|c| c.is_ascii_digit())
    }

    fn token(&mut self, c: char) -> Tok {
        match c {
            '\'' => self.string(),
            ',' => self.single(Tok::Comma),
            '.' => self.single(Tok::Dot),
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            '=' => self.single(Tok::Op(CmpOp::Eq)),
            '!' if self.peek(1) == Some('=') => self.double(Tok::Op(CmpOp::Ne)),
            '<' if self.peek(1) == Some('>') => self.double(Tok::Op(CmpOp::Ne)),
            '<' if self.peek(1) == Some('=') => self.double(Tok::Op(CmpOp::Le)),
            '<' => self.single(Tok::Op(CmpOp::Lt)),
            '>' if self.peek(1) == Some('=') => self.double(Tok::Op(CmpOp::Ge)),
            '>' => self.single(Tok::Op(CmpOp::Gt)),
            '-' | '+' if self.digit_at(1) => self.number(),
            c if c.is_ascii_digit() => {
                if self.looks_like_date() {
                    self.date_or_datetime()
                } else {
                    self.number()
                }
            }
            c if c.is_alphabetic() || c == '_' => self.ident(),
            _ => self.single(Tok::Other),
        }
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.i += 1;
        tok
    }

    fn double(&mut self, tok: Tok) -> Tok {
        self.i += 2;
        tok
    }

    fn ident(&mut self) -> Tok {
        let start = self.offset();
        while self
            .peek(0)
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            self.i += 1;
        }
        let word = self.text[start..self.offset()].to_string();
        // `LAST_N_DAYS:30` is one literal; keep the `:n` with its name.
        if RelativeDate::takes_n(&word) && self.peek(0) == Some(':') {
            self.i += 1;
            let digits_start = self.offset();
            while self.digit_at(0) {
                self.i += 1;
            }
            let digits = &self.text[digits_start..self.offset()];
            return match digits
                .parse::<u32>()
                .ok()
                .and_then(|n| RelativeDate::from_keyword_n(&word, n))
            {
                Some(rel) => Tok::RelativeN(rel),
                None => Tok::Bad(format!(
                    "Invalid date literal '{word}:{digits}': {word} needs a whole number of days, \
                     e.g. {word}:30"
                )),
            };
        }
        Tok::Ident(word)
    }

    fn number(&mut self) -> Tok {
        let start = self.offset();
        if matches!(self.peek(0), Some('-' | '+')) {
            self.i += 1;
        }
        while self.digit_at(0) {
            self.i += 1;
        }
        if self.peek(0) == Some('.') && self.digit_at(1) {
            self.i += 1;
            while self.digit_at(0) {
                self.i += 1;
            }
        }
        Tok::Number(self.text[start..self.offset()].to_string())
    }

    /// `dddd-dd-dd` ahead.
    fn looks_like_date(&self) -> bool {
        (0..4).all(|k| self.digit_at(k))
            && self.peek(4) == Some('-')
            && self.digit_at(5)
            && self.digit_at(6)
            && self.peek(7) == Some('-')
            && self.digit_at(8)
            && self.digit_at(9)
    }

    /// Reads `n` digits as a number; the caller checked they are digits or accepts failure.
    fn take_digits(&mut self, n: usize) -> Option<u32> {
        let mut v: u32 = 0;
        for _ in 0..n {
            let d = self.peek(0)?.to_digit(10)?;
            v = v * 10 + d;
            self.i += 1;
        }
        Some(v)
    }

    fn date_or_datetime(&mut self) -> Tok {
        let start = self.offset();
        let parts = (|| {
            let y = self.take_digits(4)?;
            self.i += 1;
            let m = self.take_digits(2)?;
            self.i += 1;
            let d = self.take_digits(2)?;
            Some((y, m, d))
        })();
        let date =
            parts.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d));
        let Some(date) = date else {
            return Tok::Bad(format!(
                "Invalid date: {}. Dates are written YYYY-MM-DD",
                &self.text[start..self.offset()]
            ));
        };
        if !matches!(self.peek(0), Some('T' | 't')) {
            return Tok::Date(date);
        }
        self.i += 1;
        let parsed = self
            .time_and_offset()
            .and_then(|(time, offset)| offset.from_local_datetime(&date.and_time(time)).single());
        match parsed {
            Some(v) => Tok::DateTime(v),
            None => {
                // Consume the rest of the malformed literal so the message quotes all of it.
                while self.peek(0).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-')
                }) {
                    self.i += 1;
                }
                self.bad_datetime(start)
            }
        }
    }

    fn bad_datetime(&self, start: usize) -> Tok {
        Tok::Bad(format!(
            "Invalid dateTime: {}. DateTimes are written YYYY-MM-DDThh:mm:ssZ or \
             YYYY-MM-DDThh:mm:ss+hh:mm",
            &self.text[start..self.offset()]
        ))
    }

    /// `hh:mm:ss[.fff](Z|±hh:mm)` after the `T`.
    fn time_and_offset(&mut self) -> Option<(NaiveTime, FixedOffset)> {
        let h = self.take_digits(2)?;
        (self.peek(0) == Some(':')).then_some(())?;
        self.i += 1;
        let mi = self.take_digits(2)?;
        (self.peek(0) == Some(':')).then_some(())?;
        self.i += 1;
        let s = self.take_digits(2)?;
        let mut nanos: u32 = 0;
        if self.peek(0) == Some('.') {
            self.i += 1;
            let mut scale = 100_000_000u32;
            let mut any = false;
            while let Some(d) = self.peek(0).and_then(|c| c.to_digit(10)) {
                nanos += d * scale;
                scale /= 10;
                any = true;
                self.i += 1;
            }
            any.then_some(())?;
        }
        let offset_secs: i32 = match self.peek(0)? {
            'Z' | 'z' => {
                self.i += 1;
                0
            }
            sign @ ('+' | '-') => {
                self.i += 1;
                let oh = self.take_digits(2)?;
                (self.peek(0) == Some(':')).then_some(())?;
                self.i += 1;
                let om = self.take_digits(2)?;
                let secs = i32::try_from(oh * 3600 + om * 60).ok()?;
                if sign == '-' { -secs } else { secs }
            }
            _ => return None,
        };
        let time = NaiveTime::from_hms_nano_opt(h, mi, s, nanos)?;
        let offset = FixedOffset::east_opt(offset_secs)?;
        Some((time, offset))
    }

    fn string(&mut self) -> Tok {
        let start = self.offset();
        self.i += 1; // opening quote
        let mut out = Vec::new();
        let mut illegal: Option<String> = None;
        loop {
            let Some(c) = self.peek(0) else {
                return Tok::Bad(format!(
                    "Unterminated string literal starting with {}: a closing single quote is \
                     missing (write a quote inside a string as \\')",
                    preview(&self.text[start..])
                ));
            };
            self.i += 1;
            match c {
                '\'' => break,
                '\\' => {
                    let Some(e) = self.peek(0) else { continue };
                    self.i += 1;
                    let decoded = match e {
                        'n' | 'N' => StrChar::Plain('\n'),
                        'r' | 'R' => StrChar::Plain('\r'),
                        't' | 'T' => StrChar::Plain('\t'),
                        'b' | 'B' => StrChar::Plain('\u{8}'),
                        'f' | 'F' => StrChar::Plain('\u{c}'),
                        '"' => StrChar::Plain('"'),
                        '\'' => StrChar::Plain('\''),
                        '\\' => StrChar::Plain('\\'),
                        '_' | '%' => StrChar::EscapedWildcard(e),
                        'u' => match self.unicode_escape() {
                            Some(ch) => StrChar::Plain(ch),
                            None => {
                                illegal.get_or_insert_with(|| "\\u".to_string());
                                continue;
                            }
                        },
                        other => {
                            illegal.get_or_insert_with(|| format!("\\{other}"));
                            continue;
                        }
                    };
                    out.push(decoded);
                }
                other => out.push(StrChar::Plain(other)),
            }
        }
        match illegal {
            None => Tok::Str(out),
            Some(seq) => {
                let body = &self.text[start + 1..self.offset() - 1];
                Tok::Bad(format!(
                    "Invalid string literal '{body}'. Illegal character sequence '{seq}' in string \
                     literal."
                ))
            }
        }
    }

    /// The 4 hex digits after `\u`.
    fn unicode_escape(&mut self) -> Option<char> {
        let mut v: u32 = 0;
        for _ in 0..4 {
            let d = self.peek(0)?.to_digit(16)?;
            v = v * 16 + d;
            self.i += 1;
        }
        char::from_u32(v)
    }
}

/// The first characters of a long piece of text, for messages.
fn preview(s: &str) -> String {
    const MAX: usize = 30;
    let mut out: String = s.chars().take(MAX).collect();
    if s.chars().nth(MAX).is_some() {
        out.push_str("...");
    }
    out
}
