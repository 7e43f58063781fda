//! Money and balance: the prepaid SCV minutes left, the burn rate, the projected run-out date,
//! the telephony cost estimate from per-minute rates, and the SCV minutes' cost at the
//! configured minute price. Costs are summed exactly ([`Amount`]) and become JSON numbers only
//! at the end, as `usage.json` has always had them.
//!
//! Must not: fetch or read the clock; "now" comes in.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::compute::Usage;
use crate::money::{Amount, Currency};

/// `[org.usage]` balance and the usage prices of `[org.prices]` (or, as before, `[org.usage]`),
/// checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// Telephony price per minute by call type key (`inbound`, `outbound`, ...).
    pub rates: BTreeMap<String, Amount>,
    /// Per-minute prices of outbound-like legs by destination prefix (`+44`), longest first.
    pub destination_rates: Vec<(String, Amount)>,
    /// Price of one SCV minute (`[org.prices] scv_minute`), if configured.
    pub scv_minute: Option<Amount>,
    /// Currency of the prices: the configured one, else USD (what `[org.usage]` always assumed
    /// for rates written without a currency).
    pub currency: Currency,
    /// The prepaid SCV minutes left on a date (as Setup shows them), if configured.
    pub balance: Option<Balance>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            rates: BTreeMap::new(),
            destination_rates: Vec::new(),
            scv_minute: None,
            currency: Currency::parse("USD").expect("USD is an ISO 4217 code"),
            balance: None,
        }
    }
}

/// A known SCV minute balance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Balance {
    /// Minutes left at the start of `as_of` (the usage time zone's midnight).
    pub minutes: f64,
    pub as_of: NaiveDate,
}

/// What the report says about money and the balance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Billing {
    /// SCV minutes a day, over the period's elapsed days.
    pub scv_minutes_per_day: f64,
    /// Days the burn rate was taken over.
    pub days_elapsed: i64,
    /// SCV minutes used from the balance date to the end of the period (or now).
    pub scv_minutes_since_balance: Option<f64>,
    /// The balance left at the end of the period (or now).
    pub balance_left: Option<f64>,
    /// When the balance runs out at the current burn rate.
    pub projected_run_out: Option<NaiveDate>,
    /// The day usage went past the balance, when it already did.
    pub exhausted_on: Option<NaiveDate>,
    /// Telephony cost estimate of the period, when rates are configured.
    pub telephony_cost: Option<f64>,
    /// The estimate by call type of the leg.
    pub telephony_cost_by_type: BTreeMap<String, f64>,
    /// Telephony minutes no configured rate covers (not in the estimate).
    pub unpriced_telephony_minutes: i64,
    /// What the period's SCV minutes cost at `[org.prices] scv_minute`, when it is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scv_cost: Option<f64>,
    /// The same costs as exact amounts, for the text outputs (not in `usage.json`, which keeps
    /// the numbers above).
    #[serde(skip)]
    pub exact: ExactCosts,
    pub currency: String,
}

/// The costs of a period as exact amounts, with their currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactCosts {
    pub currency: Option<Currency>,
    pub telephony: Option<Amount>,
    pub scv: Option<Amount>,
}

/// Call types whose legs go out to a number, priced by destination when a prefix matches.
const OUTBOUND_LIKE: [&str; 3] = ["outbound", "callback", "transfer"];

/// The price of one leg's minute, if any rate covers it.
fn rate_for(pricing: &Pricing, call_type: &str, to_number: Option<&str>) -> Option<Amount> {
    if OUTBOUND_LIKE.contains(&call_type)
        && let Some(number) = to_number
    {
        let digits: String = number
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        if let Some((_, rate)) = pricing
            .destination_rates
            .iter()
            .find(|(prefix, _)| digits.starts_with(prefix.as_str()))
        {
            return Some(*rate);
        }
    }
    pricing.rates.get(call_type).copied()
}

/// Bills `period` (the report's calls, from `from` to `to`) with `since_balance` (every call
/// from the balance date to `to`), at instant `now`; `day_of` gives a local day's start.
pub fn bill(
    period: &Usage,
    since_balance: Option<&Usage>,
    pricing: &Pricing,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Billing {
    let end = to.min(now).max(from);
    let days = ((end - from).num_seconds() as f64 / 86_400.0)
        .ceil()
        .max(1.0) as i64;
    let per_day = period.total.scv_minutes() / days as f64;
    let mut billing = Billing {
        scv_minutes_per_day: per_day,
        days_elapsed: days,
        currency: pricing.currency.code.clone(),
        exact: ExactCosts {
            currency: Some(pricing.currency.clone()),
            ..ExactCosts::default()
        },
        ..Billing::default()
    };
    if let Some(price) = pricing.scv_minute {
        // Seconds times the minute price, over 60: exact to a millionth.
        let cost = Amount::from_micros(price.times(period.total.scv_seconds).micros() / 60);
        billing.scv_cost = Some(cost.to_f64());
        billing.exact.scv = Some(cost);
    }
    if let (Some(balance), Some(used)) = (pricing.balance, since_balance) {
        let spent = used.total.scv_minutes();
        let left = balance.minutes - spent;
        billing.scv_minutes_since_balance = Some(spent);
        billing.balance_left = Some(left);
        if left <= 0.0 {
            let mut running = 0.0;
            for (day, totals) in &used.by_day {
                running += totals.scv_minutes();
                if running > balance.minutes {
                    billing.exhausted_on = Some(*day);
                    break;
                }
            }
        } else if per_day > 0.0 {
            let last_day = end.date_naive().max(balance.as_of);
            let days_left = (left / per_day).floor() as i64;
            billing.projected_run_out = last_day.checked_add_signed(Duration::days(days_left));
        }
    }
    if !pricing.rates.is_empty() || !pricing.destination_rates.is_empty() {
        let mut cost = Amount::ZERO;
        let mut by_type: BTreeMap<String, Amount> = BTreeMap::new();
        for call in &period.calls {
            for leg in &call.segments {
                if leg.telephony_minutes == 0 {
                    continue;
                }
                match rate_for(pricing, leg.call_type, leg.to_number.as_deref()) {
                    Some(rate) => {
                        let c = rate.times(leg.telephony_minutes);
                        cost += c;
                        *by_type.entry(leg.call_type.to_string()).or_default() += c;
                    }
                    None => billing.unpriced_telephony_minutes += leg.telephony_minutes,
                }
            }
        }
        billing.telephony_cost = Some(cost.to_f64());
        billing.telephony_cost_by_type =
            by_type.into_iter().map(|(k, v)| (k, v.to_f64())).collect();
        billing.exact.telephony = Some(cost);
    }
    billing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::compute::{Segment, UsageRules, compute};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn call(id: &str, kind: &str, start: &str, seconds: i64, to: Option<&str>) -> Segment {
        let start = at(start);
        Segment {
            id: id.into(),
            call_type: Some(kind.into()),
            duration_seconds: Some(seconds),
            start: Some(start),
            end: Some(start + Duration::seconds(seconds)),
            previous_id: None,
            next_id: None,
            queue: None,
            user_id: Some("005A".into()),
            to_number: to.map(str::to_string),
        }
    }

    #[test]
    fn balance_burn_rate_run_out_and_cost_by_destination() {
        let segments = vec![
            call("A", "Inbound", "2026-01-01T09:00:00Z", 600, None),
            call(
                "B",
                "Outbound",
                "2026-01-02T09:00:00Z",
                300,
                Some("+44 20 7946 0000"),
            ),
            call(
                "C",
                "Outbound",
                "2026-01-03T09:00:00Z",
                120,
                Some("+15550001111"),
            ),
        ];
        let usage = compute(
            &segments,
            &UsageRules::default(),
            chrono_tz::UTC,
            at("2026-01-01T00:00:00Z"),
        );
        let price = |s: &str| Amount::parse_price(s).unwrap();
        let pricing = Pricing {
            rates: BTreeMap::from([
                ("inbound".into(), price("0.002")),
                ("outbound".into(), price("0.01")),
            ]),
            destination_rates: vec![("+44".into(), price("0.02"))],
            scv_minute: Some(price("0.005")),
            balance: Some(Balance {
                minutes: 100.0,
                as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            }),
            ..Pricing::default()
        };
        let from = at("2026-01-01T00:00:00Z");
        let to = at("2026-01-11T00:00:00Z");
        let b = bill(
            &usage,
            Some(&usage),
            &pricing,
            from,
            to,
            at("2026-02-01T00:00:00Z"),
        );
        // 10 + 5 + 2 = 17 SCV minutes over 10 days.
        assert!((b.scv_minutes_per_day - 1.7).abs() < 1e-9, "{b:?}");
        assert_eq!(b.balance_left, Some(83.0));
        // 83 / 1.7 = 48.8 days after 2026-01-11.
        assert_eq!(b.projected_run_out, NaiveDate::from_ymd_opt(2026, 2, 28));
        // 10 min inbound at 0.002, 5 min to +44 at 0.02, 2 min to +1 at the outbound rate 0.01.
        let cost = b.telephony_cost.unwrap();
        assert!((cost - (0.02 + 0.10 + 0.02)).abs() < 1e-9, "{cost}");
        assert_eq!(
            b.exact.telephony,
            Some(price("0.14")),
            "exact, not a float sum"
        );
        assert_eq!(b.unpriced_telephony_minutes, 0);
        // 17 SCV minutes at 0.005.
        assert_eq!(b.exact.scv, Some(price("0.085")));
    }

    #[test]
    fn an_exhausted_balance_names_the_day() {
        let segments = vec![
            call("A", "Inbound", "2026-01-01T09:00:00Z", 600, None),
            call("B", "Inbound", "2026-01-02T09:00:00Z", 600, None),
        ];
        let usage = compute(
            &segments,
            &UsageRules::default(),
            chrono_tz::UTC,
            at("2026-01-01T00:00:00Z"),
        );
        let pricing = Pricing {
            balance: Some(Balance {
                minutes: 15.0,
                as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            }),
            ..Pricing::default()
        };
        let b = bill(
            &usage,
            Some(&usage),
            &pricing,
            at("2026-01-01T00:00:00Z"),
            at("2026-01-03T00:00:00Z"),
            at("2026-01-03T00:00:00Z"),
        );
        assert_eq!(b.balance_left, Some(-5.0));
        assert_eq!(b.exhausted_on, NaiveDate::from_ymd_opt(2026, 1, 2));
        assert_eq!(b.telephony_cost, None, "no rates, no estimate");
    }
}
