//! `[org.prices]` checked together with the money keys `[org.usage]` has always had
//! (`currency`, `telephony_rates`, `destination_rates`): one currency per org, prices as exact
//! decimals ([`Amount`]), seat prices by license, SCV minute and telephony rates.
//!
//! Owns: which place wins (`[org.prices]` is the home; the old `[org.usage]` keys keep working),
//! the refusals (two currencies, a rate table written in both places, a price without any
//! currency in `[org.prices]`), and each price's range and spelling, with file, line and key.
//!
//! Must not: know the org's licenses (an unknown license name is a scan-time warning, not a
//! config error: the config is checked before any network call), or read anything.

use std::collections::BTreeMap;

use toml::Spanned;

use super::{Checker, ConfigError, RawPrices, RawUsage, line_of};
use crate::money::{Amount, Currency, Prices};

/// The money of one org, checked.
#[derive(Debug, Clone)]
pub(super) struct CheckedMoney {
    /// Seat prices for scans, applies and metrics; `None` without any `seat_monthly` entry, so
    /// no output shows money.
    pub seats: Option<Prices>,
    /// The currency of the usage rates (`[org.prices]`, else `[org.usage]`), if either names one.
    pub usage_currency: Option<Currency>,
    /// Telephony price per minute by call type, from whichever place has them (still unchecked
    /// against the call types: `usage` knows them), with the key to name in an error.
    pub telephony: Vec<(String, Amount, std::ops::Range<usize>, String)>,
    /// Telephony price per minute by destination prefix, likewise.
    pub destination: Vec<(String, Amount, std::ops::Range<usize>, String)>,
    /// Price of one SCV minute.
    pub scv_minute: Option<Amount>,
}

impl Checker {
    /// Checks `[org.prices]` and the money keys of `[org.usage]` (`prefix` is `org[name]`).
    pub(super) fn prices(
        &self,
        raw: Option<&Spanned<RawPrices>>,
        usage: &RawUsage,
        prefix: &str,
    ) -> Result<CheckedMoney, ConfigError> {
        let empty = RawPrices::default();
        let prices = raw.map_or(&empty, |p| p.get_ref());
        let key = |k: &str| format!("{prefix}.prices.{k}");
        let usage_key = |k: &str| format!("{prefix}.usage.{k}");
        let currency_of = |v: &Spanned<String>, k: String| {
            Currency::parse(v.get_ref()).map_err(|m| self.invalid(v.span(), &k, m))
        };
        let new_currency = prices
            .currency
            .as_ref()
            .map(|c| currency_of(c, key("currency")))
            .transpose()?;
        let old_currency = usage
            .currency
            .as_ref()
            .map(|c| currency_of(c, usage_key("currency")))
            .transpose()?;
        if let (Some(new), Some(old), Some(new_at), Some(old_at)) = (
            &new_currency,
            &old_currency,
            &prices.currency,
            &usage.currency,
        ) && new != old
        {
            return Err(self.invalid(
                new_at.span(),
                &key("currency"),
                format!(
                    "two currencies for one org: `{}` is \"{new}\" (line {}) but `{}` is \"{old}\" \
                     (line {}); an org's prices are in one currency: remove `[org.usage] \
                     currency` (its rates belong to `[org.prices]` now) or make them equal",
                    key("currency"),
                    line_of(&self.origin.text, new_at.span().start),
                    usage_key("currency"),
                    line_of(&self.origin.text, old_at.span().start),
                ),
            ));
        }
        let currency = new_currency.or(old_currency);

        let price = |v: &Spanned<toml::Value>, k: &str| {
            Amount::from_toml(v.get_ref()).map_err(|m| self.invalid(v.span(), k, m))
        };
        // A price written under `[org.prices]` needs a currency there or in `[org.usage]`:
        // pslwarden does not guess one for new keys.
        let first_price_span = prices
            .seat_monthly
            .values()
            .chain(prices.telephony.values())
            .chain(prices.destination.values())
            .chain(prices.scv_minute.iter())
            .map(|v| v.span())
            .next();
        if let (None, Some(span)) = (&currency, first_price_span) {
            return Err(self.invalid(
                span,
                &key("currency"),
                "prices need a currency: add `currency = \"USD\"` (an ISO 4217 code) to \
                 [org.prices]",
            ));
        }

        let mut seat_monthly = BTreeMap::new();
        for (psl, v) in &prices.seat_monthly {
            let k = format!("{}.{psl}", key("seat_monthly"));
            if psl.trim().is_empty() {
                return Err(self.invalid(v.span(), &k, "a license DeveloperName is needed here"));
            }
            seat_monthly.insert(psl.clone(), price(v, &k)?);
        }
        let scv_minute = prices
            .scv_minute
            .as_ref()
            .map(|v| price(v, &key("scv_minute")))
            .transpose()?;

        let telephony = self.rate_table(
            (&prices.telephony, key("telephony")),
            (&usage.telephony_rates, usage_key("telephony_rates")),
        )?;
        let destination = self.rate_table(
            (&prices.destination, key("destination")),
            (&usage.destination_rates, usage_key("destination_rates")),
        )?;

        Ok(CheckedMoney {
            seats: match (&currency, seat_monthly.is_empty()) {
                (Some(currency), false) => Some(Prices {
                    currency: currency.clone(),
                    seat_monthly,
                }),
                _ => None,
            },
            usage_currency: currency,
            telephony,
            destination,
            scv_minute,
        })
    }

    /// One rate table written in `[org.prices]` (`new`) or, as before, in `[org.usage]` (`old`),
    /// not both: two tables could disagree, and the admin would not know which one counts.
    #[allow(clippy::type_complexity)]
    fn rate_table(
        &self,
        new: (&BTreeMap<String, Spanned<toml::Value>>, String),
        old: (&BTreeMap<String, Spanned<toml::Value>>, String),
    ) -> Result<Vec<(String, Amount, std::ops::Range<usize>, String)>, ConfigError> {
        if let (Some(n), Some(o)) = (new.0.values().next(), old.0.values().next()) {
            return Err(self.invalid(
                n.span(),
                &new.1,
                format!(
                    "rates are written twice: in `{}` (line {}) and in `{}` (line {}): keep \
                     `{}` only",
                    new.1,
                    line_of(&self.origin.text, n.span().start),
                    old.1,
                    line_of(&self.origin.text, o.span().start),
                    new.1
                ),
            ));
        }
        let (table, key) = if new.0.is_empty() { old } else { new };
        table
            .iter()
            .map(|(name, v)| {
                let k = format!("{key}.{name}");
                Amount::from_toml(v.get_ref())
                    .map(|amount| (name.clone(), amount, v.span(), key.clone()))
                    .map_err(|m| self.invalid(v.span(), &k, m))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{ConfigError, Settings};
    use crate::money::Amount;

    use crate::config::tests::JWT_ORG as ORG;

    fn parse(tables: &str) -> Result<Settings, ConfigError> {
        Settings::from_str(
            &format!("{ORG}{tables}"),
            Path::new("/nowhere/pslwarden.toml"),
        )
    }

    fn error(tables: &str) -> (usize, String, String) {
        match parse(tables) {
            Err(ConfigError::Invalid {
                line, key, message, ..
            }) => (line, key, message),
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }

    #[test]
    fn seat_prices_are_read_exactly_by_license() {
        let settings = parse(
            "[org.prices]\ncurrency = \"eur\"\n[org.prices.seat_monthly]\n\
             ServiceCloudVoicePsl = 50.1\nSalesConsoleUser = \"12.345\"\n",
        )
        .expect("valid");
        let prices = settings.orgs[0].prices.as_ref().expect("prices");
        assert_eq!(prices.currency.code, "EUR");
        assert_eq!(
            prices.seat_monthly("ServiceCloudVoicePsl"),
            Some(Amount::parse_price("50.1").unwrap())
        );
        assert_eq!(
            prices.seat_monthly("SalesConsoleUser"),
            Some(Amount::parse_price("12.345").unwrap())
        );
        assert_eq!(settings.orgs[0].usage.pricing.currency.code, "EUR");
    }

    #[test]
    fn no_prices_means_no_money() {
        let settings = parse("").expect("valid");
        assert!(settings.orgs[0].prices.is_none());
        let settings = parse("[org.prices]\ncurrency = \"USD\"\n").expect("valid");
        assert!(
            settings.orgs[0].prices.is_none(),
            "a currency alone prices nothing"
        );
    }

    #[test]
    fn two_currencies_are_refused_naming_both_places() {
        let (line, key, message) = error(
            "[org.usage]\ncurrency = \"USD\"\n[org.prices]\ncurrency = \"EUR\"\n\
             [org.prices.seat_monthly]\nServiceCloudVoicePsl = 50\n",
        );
        assert_eq!(key, "org[prod].prices.currency");
        assert_eq!(line, 13);
        assert!(
            message.contains("org[prod].usage.currency")
                && message.contains("\"USD\" (line 11)")
                && message.contains("\"EUR\" (line 13)"),
            "{message}"
        );
    }

    #[test]
    fn bad_prices_and_currencies_name_their_line_and_key() {
        let (line, key, message) = error("[org.prices]\ncurrency = \"DOLLAR\"\n");
        assert_eq!((line, key.as_str()), (11, "org[prod].prices.currency"));
        assert!(message.contains("ISO 4217"), "{message}");

        let (line, key, message) = error(
            "[org.prices]\ncurrency = \"USD\"\n[org.prices.seat_monthly]\n\
             ServiceCloudVoicePsl = -5\n",
        );
        assert_eq!(
            (line, key.as_str()),
            (13, "org[prod].prices.seat_monthly.ServiceCloudVoicePsl")
        );
        assert!(message.contains("negative"), "{message}");

        let (_, key, message) = error("[org.prices.seat_monthly]\nServiceCloudVoicePsl = 50\n");
        assert_eq!(key, "org[prod].prices.currency");
        assert!(message.contains("need a currency"), "{message}");
    }

    #[test]
    fn usage_rates_are_read_from_either_place_but_not_both() {
        let old = parse(
            "[org.usage]\ncurrency = \"GBP\"\n[org.usage.telephony_rates]\ninbound = 0.002\n",
        )
        .expect("the old keys still work");
        let pricing = &old.orgs[0].usage.pricing;
        assert_eq!(pricing.currency.code, "GBP");
        assert_eq!(
            pricing.rates["inbound"],
            Amount::parse_price("0.002").unwrap()
        );
        let new = parse(
            "[org.prices]\ncurrency = \"GBP\"\nscv_minute = 0.005\n[org.prices.telephony]\n\
             inbound = 0.002\n[org.prices.destination]\n\"+44\" = 0.02\n",
        )
        .expect("the new keys work");
        let pricing = &new.orgs[0].usage.pricing;
        assert_eq!(pricing.rates, old.orgs[0].usage.pricing.rates);
        assert_eq!(
            pricing.scv_minute,
            Some(Amount::parse_price("0.005").unwrap())
        );
        assert_eq!(pricing.destination_rates[0].0, "+44");

        let (_, key, message) = error(
            "[org.usage.telephony_rates]\ninbound = 0.002\n[org.prices]\ncurrency = \"GBP\"\n\
             [org.prices.telephony]\ninbound = 0.003\n",
        );
        assert_eq!(key, "org[prod].prices.telephony");
        assert!(message.contains("written twice"), "{message}");
        let (_, key, message) =
            error("[org.prices]\ncurrency = \"GBP\"\n[org.prices.telephony]\nvoicemail = 0.003\n");
        assert_eq!(key, "org[prod].prices.telephony");
        assert!(message.contains("unknown call type"), "{message}");
    }
}
