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
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::grouped;

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
