//! Money: amounts in exact fixed point, ISO 4217 currencies, prices per seat per month, and the
//! one way every output writes an amount ("USD 1,234.50 / month, USD 14,814.00 / year").
//!
//! Owns: [`Amount`] (millionths of a currency unit in an `i128`: no floating point, so
//! `0.1 + 0.2` is `0.3`, and a per-minute rate such as `0.0125` is exact), [`Currency`] (a
//! checked ISO 4217 code and its minor-unit digits), [`Prices`] (the checked `[org.prices]`) and
//! [`Worth`] (an amount per month and per year, as reports carry it).
//!
//! Rounding happens only when an amount is written out, to the currency's minor unit (cents for
//! USD, none for JPY, fils for KWD), half away from zero; sums and ×12 are exact before that.
//!
//! Must not: do I/O, read the clock, or make up a price: a license without a configured price
//! has no worth ([`Prices::seat_monthly`] is `None`), and callers show its seats without money.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Fixed-point digits of an [`Amount`]: millionths of a unit.
const SCALE_DIGITS: u32 = 6;
/// `10^SCALE_DIGITS`.
const SCALE: i128 = 1_000_000;

/// Largest price accepted from a config: a billion units (a typo, not a price, beyond that).
const MAX_PRICE_UNITS: i128 = 1_000_000_000;

/// An amount of money in millionths of its currency's unit. The currency travels beside it
/// ([`Prices::currency`]); amounts of one report are all in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(i128);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// The amount of `micros` millionths of a unit.
    pub const fn from_micros(micros: i128) -> Amount {
        Amount(micros)
    }

    /// Millionths of a unit.
    pub const fn micros(self) -> i128 {
        self.0
    }

    /// A price as written: digits, at most one `.`, at most six decimals, not negative
    /// ("12", "12.5", "0.0125"). The error says what is wrong, for the config checker.
    pub fn parse_price(text: &str) -> Result<Amount, String> {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(format!("`{t}` is negative: a price is 0 or more"));
        }
        let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
            return Err(format!(
                "`{t}` is not a price: write a decimal number such as 12.50"
            ));
        }
        if fraction.len() > SCALE_DIGITS as usize {
            return Err(format!(
                "`{t}` has more than {SCALE_DIGITS} decimals: round it to at most {SCALE_DIGITS}"
            ));
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .map_err(|_| format!("`{t}` is too large for a price"))?
        };
        if whole >= MAX_PRICE_UNITS {
            return Err(format!(
                "`{t}` is too large for a price (at most {MAX_PRICE_UNITS} a unit)"
            ));
        }
        let mut frac: i128 = 0;
        for (i, b) in fraction.bytes().enumerate() {
            frac += i128::from(b - b'0') * 10i128.pow(SCALE_DIGITS - 1 - i as u32);
        }
        Ok(Amount(whole * SCALE + frac))
    }

    /// A price written in TOML as a number (`12.5`) or a string (`"12.50"`). A float is read
    /// through its shortest decimal spelling (Rust's `Display` of `f64`, which never uses an
    /// exponent), so `0.1` is exactly one tenth, not the binary float nearest to it.
    pub fn from_toml(value: &toml::Value) -> Result<Amount, String> {
        match value {
            toml::Value::Integer(i) => Amount::parse_price(&i.to_string()),
            toml::Value::Float(f) if f.is_finite() => Amount::parse_price(&f.to_string()),
            toml::Value::Float(f) => Err(format!("`{f}` is not a price")),
            toml::Value::String(s) => Amount::parse_price(s),
            other => Err(format!(
                "expected a price (a number such as 12.50, or a string \"12.50\"), found a {}",
                other.type_str()
            )),
        }
    }

    /// This amount `n` times (seats, minutes).
    pub fn times(self, n: i64) -> Amount {
        Amount(self.0.saturating_mul(i128::from(n)))
    }

    /// The yearly amount of a monthly one.
    pub fn yearly(self) -> Amount {
        self.times(12)
    }

    /// The amount as the nearest `f64`, for the few outputs that have always been JSON numbers
    /// (the usage report's telephony cost).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// Rounded to `digits` decimals (half away from zero), in units of `10^-digits`.
    fn rounded(self, digits: u32) -> i128 {
        let step = 10i128.pow(SCALE_DIGITS - digits.min(SCALE_DIGITS));
        let half = step / 2;
        if self.0 >= 0 {
            (self.0 + half) / step
        } else {
            -((-self.0 + half) / step)
        }
    }

    /// Plain decimal text at the currency's minor unit, for machines: "1234.50", "-3.00",
    /// "1235" (JPY). No thousands separators, no currency.
    pub fn plain(self, currency: &Currency) -> String {
        write_decimal(
            self.rounded(currency.minor_digits),
            currency.minor_digits,
            "",
        )
    }

    /// For people: the currency code and the amount with thousands separators,
    /// "USD 1,234.50".
    pub fn display(self, currency: &Currency) -> String {
        format!(
            "{} {}",
            currency.code,
            write_decimal(
                self.rounded(currency.minor_digits),
                currency.minor_digits,
                ","
            )
        )
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Amount {
    fn add_assign(&mut self, other: Amount) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, |a, b| a + b)
    }
}

/// `units` (in `10^-digits`) as decimal text, whole part grouped by threes with `separator`.
fn write_decimal(units: i128, digits: u32, separator: &str) -> String {
    let negative = units < 0;
    let units = units.unsigned_abs();
    let step = 10u128.pow(digits);
    let whole = (units / step).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push_str(separator);
        }
        grouped.push(ch);
    }
    let sign = if negative { "-" } else { "" };
    if digits == 0 {
        format!("{sign}{grouped}")
    } else {
        format!(
            "{sign}{grouped}.{:0width$}",
            units % step,
            width = digits as usize
        )
    }
}

/// A checked ISO 4217 currency: its code and how many decimals its minor unit has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    /// The three-letter code, upper case ("USD").
    pub code: String,
    /// Decimals of the minor unit: 2 (cents), 0 (JPY), 3 (KWD), 4 (CLF).
    pub minor_digits: u32,
}

/// Active ISO 4217 codes (funds and precious metals, test and "no currency" codes left out),
/// with their minor-unit digits where not 2.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD:3 BIF:0 BMD \
     BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF:4 CLP:0 CNY COP COU CRC CUP CVE \
     CZK DJF:0 DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF:0 GTQ GYD HKD HNL HTG \
     HUF IDR ILS INR IQD:3 IRR ISK:0 JMD JOD:3 JPY:0 KES KGS KHR KMF:0 KPW KRW:0 KWD:3 KYD KZT \
     LAK LBP LKR LRD LSL LYD:3 MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD \
     NGN NIO NOK NPR NZD OMR:3 PAB PEN PGK PHP PKR PLN PYG:0 QAR RON RSD RUB RWF:0 SAR SBD SCR \
     SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND:3 TOP TRY TTD TWD TZS UAH \
     UGX:0 USD USN UYI:0 UYU UYW:4 UZS VED VES VND:0 VUV:0 WST XAF:0 XCD XCG XOF:0 XPF:0 YER \
     ZAR ZMW ZWG";

impl Currency {
    /// Checks an ISO 4217 code (any case; stored upper case). The error says what to write.
    pub fn parse(text: &str) -> Result<Currency, String> {
        let code = text.trim().to_ascii_uppercase();
        ISO_4217
            .split_whitespace()
            .find_map(|entry| {
                let (c, digits) = entry.split_once(':').unwrap_or((entry, "2"));
                (c == code).then(|| Currency {
                    code: c.to_string(),
                    minor_digits: digits.parse().unwrap_or(2),
                })
            })
            .ok_or_else(|| {
                format!(
                    "`{}` is not an ISO 4217 currency code: write three letters such as \"USD\", \
                     \"EUR\" or \"GBP\"",
                    text.trim()
                )
            })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

/// `[org.prices]`, checked: what a seat costs per month, by license, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices {
    /// The currency of every price.
    pub currency: Currency,
    /// Price per seat per month by license `DeveloperName` (as the findings and the ledger name
    /// it); a license not in it has no price and shows no money.
    pub seat_monthly: BTreeMap<String, Amount>,
}

impl Prices {
    /// The monthly price of one seat of `psl`, if configured.
    pub fn seat_monthly(&self, psl: &str) -> Option<Amount> {
        self.seat_monthly.get(psl).copied()
    }

    /// What `seats` seats of `psl` are worth, if `psl` has a price.
    pub fn seats_worth(&self, psl: &str, seats: u32) -> Option<Worth> {
        self.seat_monthly(psl)
            .map(|price| self.worth(price.times(i64::from(seats))))
    }

    /// `monthly` as a [`Worth`] in this currency.
    pub fn worth(&self, monthly: Amount) -> Worth {
        Worth::of(monthly, &self.currency)
    }

    /// Prices seats given by license name (`None`: a license whose name is not known): the
    /// monthly total and how many seats had no price.
    pub fn price_seats<'a>(
        &self,
        seats: impl IntoIterator<Item = (Option<&'a str>, u32)>,
    ) -> (Amount, u32) {
        let mut monthly = Amount::ZERO;
        let mut unpriced = 0u32;
        for (name, n) in seats {
            match name.and_then(|psl| self.seat_monthly(psl)) {
                Some(price) => monthly += price.times(i64::from(n)),
                None => unpriced = unpriced.saturating_add(n),
            }
        }
        (monthly, unpriced)
    }

    /// ", worth USD 50.00 / month, USD 600.00 / year" (and the unpriced seats left out), to
    /// follow "freeing N seat(s)".
    pub fn worth_clause(&self, monthly: Amount, unpriced: u32) -> String {
        let mut text = format!(", worth {}", per_month_and_year(monthly, &self.currency));
        if unpriced > 0 {
            text.push_str(&format!(
                " ({unpriced} seat(s) of unpriced licenses not counted)"
            ));
        }
        text
    }

    /// Configured license names the org does not have (`known` holds its DeveloperNames):
    /// worth a warning (a typo, or a license the org does not have), not an error.
    pub fn unknown_licenses<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let known: std::collections::BTreeSet<&str> = known.into_iter().collect();
        self.seat_monthly
            .keys()
            .filter(|name| !known.contains(name.as_str()))
            .cloned()
            .collect()
    }
}

/// An amount per month and per year, as reports carry it: exact decimals as strings (no JSON
/// float can lose a cent) and the sentence people read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worth {
    /// Per month, plain decimal at the currency's minor unit ("1234.50").
    pub monthly: String,
    /// Per year (12 months), plain decimal ("14814.00").
    pub yearly: String,
    /// Per month for people, for a table cell: "USD 1,234.50".
    pub monthly_text: String,
    /// Per year for people: "USD 14,814.00".
    pub yearly_text: String,
    /// For people, in a sentence: "USD 1,234.50 / month, USD 14,814.00 / year".
    pub text: String,
}

impl Worth {
    /// The worth of `monthly` in `currency`.
    pub fn of(monthly: Amount, currency: &Currency) -> Worth {
        Worth {
            monthly: monthly.plain(currency),
            yearly: monthly.yearly().plain(currency),
            monthly_text: monthly.display(currency),
            yearly_text: monthly.yearly().display(currency),
            text: per_month_and_year(monthly, currency),
        }
    }
}

/// "USD 1,234.50 / month, USD 14,814.00 / year".
pub fn per_month_and_year(monthly: Amount, currency: &Currency) -> String {
    format!(
        "{} / month, {} / year",
        monthly.display(currency),
        monthly.yearly().display(currency)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn prices_are_exact_decimals_not_floats() {
        assert_eq!(Amount::parse_price("12.5"), Ok(Amount(12_500_000)));
        assert_eq!(Amount::parse_price("0.0125"), Ok(Amount(12_500)));
        assert_eq!(Amount::parse_price(".5"), Ok(Amount(500_000)));
        assert_eq!(Amount::parse_price("7"), Ok(Amount(7_000_000)));
        // 0.1 + 0.2 is 0.3 exactly, where f64 gives 0.30000000000000004.
        let a = Amount::from_toml(&toml::Value::Float(0.1)).unwrap();
        let b = Amount::from_toml(&toml::Value::Float(0.2)).unwrap();
        assert_eq!(a + b, Amount::parse_price("0.3").unwrap());
        assert_eq!(
            Amount::from_toml(&toml::Value::String("19.99".into())),
            Ok(Amount(19_990_000))
        );
        assert_eq!(
            Amount::from_toml(&toml::Value::Integer(150)),
            Ok(Amount(150_000_000))
        );
    }

    #[test]
    fn bad_prices_say_what_is_wrong() {
        assert!(Amount::parse_price("-1").unwrap_err().contains("negative"));
        assert!(
            Amount::parse_price("abc")
                .unwrap_err()
                .contains("not a price")
        );
        assert!(
            Amount::parse_price("1.2.3")
                .unwrap_err()
                .contains("not a price")
        );
        assert!(Amount::parse_price("").unwrap_err().contains("not a price"));
        assert!(
            Amount::parse_price("1.1234567")
                .unwrap_err()
                .contains("decimals")
        );
        assert!(
            Amount::parse_price("99999999999")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            Amount::from_toml(&toml::Value::Integer(-5))
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            Amount::from_toml(&toml::Value::Boolean(true))
                .unwrap_err()
                .contains("expected a price")
        );
    }

    #[test]
    fn amounts_are_written_with_the_code_and_thousands_separators() {
        let monthly = Amount::parse_price("1234.5").unwrap();
        assert_eq!(
            per_month_and_year(monthly, &usd()),
            "USD 1,234.50 / month, USD 14,814.00 / year"
        );
        assert_eq!(monthly.plain(&usd()), "1234.50");
        assert_eq!(Amount::ZERO.display(&usd()), "USD 0.00");
        assert_eq!(
            Amount::parse_price("1234567.891")
                .unwrap()
                .display(&Currency::parse("eur").unwrap()),
            "EUR 1,234,567.89"
        );
        assert_eq!(
            Amount::parse_price("999.995").unwrap().display(&usd()),
            "USD 1,000.00",
            "half away from zero"
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            Amount::parse_price("4500.5").unwrap().display(&jpy),
            "JPY 4,501"
        );
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Amount::parse_price("1.2345").unwrap().plain(&kwd), "1.235");
        assert_eq!(Amount(-1_500_000).plain(&usd()), "-1.50");
    }

    #[test]
    fn sums_and_years_are_exact_before_rounding() {
        // 3 000 seats at 0.003333 are 9.999 a month (written 10.00) and 119.988 a year (written
        // 119.99, not 10.00 x 12): rounding comes last.
        let price = Amount::parse_price("0.003333").unwrap();
        let total = price.times(3_000);
        assert_eq!(total.plain(&usd()), "10.00");
        assert_eq!(total.yearly().plain(&usd()), "119.99");
        let seats: Amount = (0..3).map(|_| Amount::parse_price("0.125").unwrap()).sum();
        assert_eq!(seats.plain(&usd()), "0.38");
    }

    #[test]
    fn currencies_are_checked_against_iso_4217() {
        assert_eq!(Currency::parse(" gbp ").unwrap().code, "GBP");
        assert_eq!(Currency::parse("JPY").unwrap().minor_digits, 0);
        let err = Currency::parse("US$").unwrap_err();
        assert!(
            err.contains("not an ISO 4217") && err.contains("USD"),
            "{err}"
        );
        assert!(Currency::parse("XXX").is_err(), "no-currency code refused");
        assert!(Currency::parse("DOLLARS").is_err());
    }

    #[test]
    fn a_license_without_a_price_has_no_worth() {
        let prices = Prices {
            currency: usd(),
            seat_monthly: BTreeMap::from([(
                "ServiceCloudVoicePsl".to_string(),
                Amount::parse_price("50").unwrap(),
            )]),
        };
        let worth = prices.seats_worth("ServiceCloudVoicePsl", 3).unwrap();
        assert_eq!(
            (worth.monthly.as_str(), worth.yearly.as_str()),
            ("150.00", "1800.00")
        );
        assert_eq!(prices.seats_worth("SalesConsoleUser", 3), None);
        let (monthly, unpriced) = prices.price_seats([
            (Some("ServiceCloudVoicePsl"), 2),
            (Some("SalesConsoleUser"), 1),
            (None, 1),
        ]);
        assert_eq!(
            (monthly.plain(&prices.currency).as_str(), unpriced),
            ("100.00", 2)
        );
        assert_eq!(
            prices.worth_clause(monthly, unpriced),
            ", worth USD 100.00 / month, USD 1,200.00 / year (2 seat(s) of unpriced licenses not \
             counted)"
        );
        assert_eq!(
            prices.unknown_licenses(["SalesConsoleUser"]),
            vec!["ServiceCloudVoicePsl".to_string()]
        );
    }
}
