//! Counts as people read them: `12,345 seats`, `100,000 users`. Every terminal line, aligned
//! table and Markdown report formats its counts through [`grouped`], so they look the same
//! everywhere.
//!
//! Must not: be used for JSON, CSV or any other output a program reads (those keep plain digits),
//! or for amounts of money (their own formatting owns decimals and currency), or for ids, years
//! and API versions, which are not counts.

/// An integer count of any width (`usize` included, which has no `Into<i128>`).
pub trait Count {
    fn widen(self) -> i128;
}

macro_rules! count {
    ($($t:ty),*) => {$(
        impl Count for $t {
            fn widen(self) -> i128 {
                // Every one of these types fits in an i128.
                self as i128
            }
        }
    )*};
}
count!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// `n` with a comma between each group of three digits: `0`, `999`, `1,000`, `-1,234,567`.
pub fn grouped(n: impl Count) -> String {
    let n = n.widen();
    let digits = group_digits(&n.unsigned_abs().to_string());
    if n < 0 { format!("-{digits}") } else { digits }
}

/// `x` rounded to `places` decimals, its whole part grouped: `12,345.6`, `-1,000.0`. Not a
/// finite number: as Rust writes it (`NaN`, `inf`).
pub fn grouped_decimal(x: f64, places: usize) -> String {
    let text = format!("{x:.places$}");
    if !x.is_finite() {
        return text;
    }
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    // The whole part of a finite f64 written in decimal is digits only; u128 holds up to ~3e38.
    let whole = match whole.parse::<u128>() {
        Ok(n) => group_digits(&n.to_string()),
        Err(_) => whole.to_string(),
    };
    match fraction {
        Some(f) => format!("{sign}{whole}.{f}"),
        None => format!("{sign}{whole}"),
    }
}

/// Commas between groups of three in a string of digits.
fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{grouped, grouped_decimal};

    #[test]
    fn decimals_group_the_whole_part_only() {
        assert_eq!(grouped_decimal(0.0, 1), "0.0");
        assert_eq!(grouped_decimal(999.94, 1), "999.9");
        assert_eq!(grouped_decimal(999.96, 1), "1,000.0");
        assert_eq!(grouped_decimal(1_234_567.25, 2), "1,234,567.25");
        assert_eq!(grouped_decimal(-1_234.5, 1), "-1,234.5");
        assert_eq!(grouped_decimal(12_345.0, 0), "12,345");
        assert_eq!(grouped_decimal(f64::NAN, 1), "NaN");
    }

    #[test]
    fn groups_of_three_from_the_right() {
        assert_eq!(grouped(0u64), "0");
        assert_eq!(grouped(7u8), "7");
        assert_eq!(grouped(999u32), "999");
        assert_eq!(grouped(1_000u32), "1,000");
        assert_eq!(grouped(12_345usize), "12,345");
        assert_eq!(grouped(100_000u64), "100,000");
        assert_eq!(grouped(1_234_567u64), "1,234,567");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn negatives_keep_their_sign_outside_the_groups() {
        assert_eq!(grouped(-1i64), "-1");
        assert_eq!(grouped(-999i64), "-999");
        assert_eq!(grouped(-1_000i64), "-1,000");
        assert_eq!(grouped(-123_456i64), "-123,456");
        assert_eq!(grouped(i64::MIN), "-9,223,372,036,854,775,808");
    }
}
