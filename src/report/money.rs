//! What a scan's findings and fixes are worth: [`MoneyReport`], the `money` section of
//! `report.json` (absent without `[org.prices]`), which every rendering of the report reads.
//!
//! Owns: pricing the ledger's seats (recoverable, freed by the plan, needing the admin, orphans
//! left alone) and each finding's recoverable seats, per month and per year; the totals with
//! the licenses left unpriced; the sentences the renderers share; and
//! [`recoverable_monthly_cost`] for the metrics.
//!
//! Must not: count seats (the ledger's one definition is priced as it is, see
//! [`crate::ledger`]), know any rule (a finding is priced from its `psl` and
//! `recoverable_seats` only, whatever its kind), or make up a price: a license without one
//! has `null` money and is counted in `unpriced_licenses`.

use serde::{Deserialize, Serialize};

use super::ScanReport;
use crate::ledger::LedgerRow;
use crate::money::{Amount, Prices, Worth};
use crate::rules::Finding;

/// The money of a scan, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoneyReport {
    /// ISO 4217 code of every amount below.
    pub currency: String,
    /// Decimals the amounts are written with (2 for USD, 0 for JPY).
    pub minor_digits: u32,
    /// One per finding, in the order of `findings[]` (same position).
    pub findings: Vec<FindingMoney>,
    /// One per license, in the order of `ledger[]` (same position).
    pub licenses: Vec<LicenseMoney>,
    /// Over every license with a price.
    pub totals: MoneyTotals,
    /// License names priced in `[org.prices.seat_monthly]` that the org does not have (a typo,
    /// or a license this org lacks): warned about, otherwise ignored.
    pub unknown_licenses: Vec<String>,
}

/// What one finding's recoverable seats are worth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingMoney {
    /// Position in `findings[]`.
    pub finding: usize,
    /// The finding's license.
    pub psl: String,
    /// The finding's `recoverable_seats`.
    pub recoverable_seats: u32,
    /// `recoverable_seats` at the license's price; `null` when the license has no price.
    pub worth: Option<Worth>,
}

/// One license's seats, priced (every field `null` when the license has no price).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenseMoney {
    /// `DeveloperName`, as `ledger[].psl`.
    pub psl: String,
    /// The configured price of one seat per month (plain decimal), or `null`.
    pub seat_monthly: Option<String>,
    /// The same for people ("USD 1,234.50"), or `null`.
    pub seat_monthly_text: Option<String>,
    /// `ledger[].recoverable` seats, priced.
    pub recoverable: Option<Worth>,
    /// `ledger[].freed_by_plan` seats, priced: what the plan saves on this license.
    pub freed_by_plan: Option<Worth>,
    /// `ledger[].needs_admin` seats, priced.
    pub needs_admin: Option<Worth>,
    /// `ledger[].needs_orphan_reclaim` seats, priced.
    pub needs_orphan_reclaim: Option<Worth>,
}

/// Totals over the priced licenses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoneyTotals {
    /// Every recoverable seat, by any route.
    pub recoverable: Worth,
    /// What the plan saves when `apply` carries it out.
    pub freed_by_plan: Worth,
    /// Seats freed only after the admin's manual steps.
    pub needs_admin: Worth,
    /// Orphaned seats freed only if `reclaim_orphan_seats` is turned on.
    pub needs_orphan_reclaim: Worth,
    /// Licenses with seats the findings consume but no price: their seats are in no total.
    pub unpriced_licenses: Vec<String>,
}

impl MoneyTotals {
    /// " (2 licenses unpriced)", or nothing when every license with findings has a price.
    pub fn unpriced_note(&self) -> String {
        match self.unpriced_licenses.len() {
            0 => String::new(),
            1 => format!(" (1 license unpriced: {})", self.unpriced_licenses[0]),
            n => format!(
                " ({n} licenses unpriced: {})",
                self.unpriced_licenses.join(", ")
            ),
        }
    }

    /// The sentence every text output uses: what is recoverable, what the plan saves.
    pub fn sentence(&self) -> String {
        let mut text = format!(
            "Worth: {} recoverable; the plan saves {}",
            self.recoverable.text, self.freed_by_plan.text
        );
        if !is_zero(&self.needs_admin) {
            text.push_str(&format!(
                "; {} more once the admin has made the manual steps",
                self.needs_admin.text
            ));
        }
        if !is_zero(&self.needs_orphan_reclaim) {
            text.push_str(&format!(
                "; {} more if `reclaim_orphan_seats` is turned on",
                self.needs_orphan_reclaim.text
            ));
        }
        text.push_str(&self.unpriced_note());
        text
    }
}

/// True when a worth is nothing (written "0.00", "0").
fn is_zero(worth: &Worth) -> bool {
    worth.monthly.chars().all(|c| matches!(c, '0' | '.' | '-'))
}

/// Prices the scan's findings and ledger; `None` without prices, so nothing shows money.
pub fn price_scan(
    prices: Option<&Prices>,
    findings: &[Finding],
    ledger: &[LedgerRow],
) -> Option<MoneyReport> {
    let prices = prices?;
    let findings_psl: Vec<String> = findings.iter().map(|f| f.psl.clone()).collect();
    let findings = findings
        .iter()
        .enumerate()
        .map(|(position, f)| FindingMoney {
            finding: position,
            psl: f.psl.clone(),
            recoverable_seats: f.recoverable_seats,
            worth: prices.seats_worth(&f.psl, f.recoverable_seats),
        })
        .collect();
    let mut sums = [Amount::ZERO; 4];
    let mut unpriced_licenses = Vec::new();
    let licenses = ledger
        .iter()
        .map(|row| {
            let price = prices.seat_monthly(&row.psl);
            let seats = [
                row.recoverable,
                row.freed_by_plan,
                row.needs_admin,
                row.needs_orphan_reclaim,
            ];
            match price {
                Some(price) => {
                    for (sum, n) in sums.iter_mut().zip(seats) {
                        *sum += price.times(i64::from(n));
                    }
                }
                None if row.consumed_by_findings > 0 => unpriced_licenses.push(row.psl.clone()),
                None => {}
            }
            let worth = |n: u32| price.map(|p| prices.worth(p.times(i64::from(n))));
            LicenseMoney {
                psl: row.psl.clone(),
                seat_monthly: price.map(|p| p.plain(&prices.currency)),
                seat_monthly_text: price.map(|p| p.display(&prices.currency)),
                recoverable: worth(row.recoverable),
                freed_by_plan: worth(row.freed_by_plan),
                needs_admin: worth(row.needs_admin),
                needs_orphan_reclaim: worth(row.needs_orphan_reclaim),
            }
        })
        .collect();
    Some(MoneyReport {
        currency: prices.currency.code.clone(),
        minor_digits: prices.currency.minor_digits,
        findings,
        licenses,
        totals: MoneyTotals {
            recoverable: prices.worth(sums[0]),
            freed_by_plan: prices.worth(sums[1]),
            needs_admin: prices.worth(sums[2]),
            needs_orphan_reclaim: prices.worth(sums[3]),
            unpriced_licenses,
        },
        // Known: the org's licenses, and whatever a finding names (a Natterbox license).
        unknown_licenses: prices.unknown_licenses(
            ledger
                .iter()
                .map(|row| row.psl.as_str())
                .chain(findings_psl.iter().map(String::as_str)),
        ),
    })
}

/// The warning for priced license names the org lacks, when there are any.
pub fn unknown_licenses_warning(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| {
        format!(
            "[org.prices.seat_monthly] prices license(s) this org does not have: {} (check the \
             DeveloperName with `pslwarden licenses`; ignored until the org has it)",
            names.join(", ")
        )
    })
}

/// Recoverable monthly cost per license of a scan (`psl`, amount in the currency's units), for
/// the gauge `pslwarden_monthly_cost_recoverable{org,psl}`: priced licenses only, so an
/// unpriced one has no series rather than a made-up 0. Empty without prices.
pub fn recoverable_monthly_cost(
    report: &ScanReport,
    prices: Option<&Prices>,
) -> Vec<(String, f64)> {
    let Some(prices) = prices else {
        return Vec::new();
    };
    report
        .ledger
        .iter()
        .filter_map(|row| {
            prices.seat_monthly(&row.psl).map(|price| {
                (
                    row.psl.clone(),
                    price.times(i64::from(row.recoverable)).to_f64(),
                )
            })
        })
        .collect()
}

impl MoneyReport {
    /// The money of finding `position`, when its license is priced.
    pub fn finding(&self, position: usize) -> Option<&Worth> {
        self.findings.get(position).and_then(|f| f.worth.as_ref())
    }

    /// The money of the ledger row of `psl`.
    pub fn license(&self, psl: &str) -> Option<&LicenseMoney> {
        self.licenses.iter().find(|l| l.psl == psl)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::money::Currency;
    use crate::report::json::fixture::report;

    fn prices(entries: &[(&str, &str)]) -> Prices {
        Prices {
            currency: Currency::parse("USD").unwrap(),
            seat_monthly: entries
                .iter()
                .map(|(k, v)| (k.to_string(), Amount::parse_price(v).unwrap()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn findings_licenses_and_totals_are_priced_from_the_ledger() {
        let r = report();
        let p = prices(&[("ServiceCloudVoicePsl", "1234.5"), ("Unheard", "1")]);
        let money = price_scan(Some(&p), &r.findings, &r.ledger).expect("priced");
        // Finding 0: User-2's Voice seat.
        assert_eq!(
            money.finding(0).map(|w| w.text.as_str()),
            Some("USD 1,234.50 / month, USD 14,814.00 / year")
        );
        // Finding 1: the console orphan, unpriced: no money, never 0.
        assert_eq!(money.finding(1), None);
        let voice = money.license("ServiceCloudVoicePsl").expect("row");
        assert_eq!(voice.seat_monthly.as_deref(), Some("1234.50"));
        assert_eq!(
            voice.freed_by_plan.as_ref().map(|w| w.yearly.as_str()),
            Some("14814.00")
        );
        assert_eq!(money.license("SalesConsoleUser").unwrap().recoverable, None);
        assert_eq!(money.totals.recoverable.monthly, "1234.50");
        assert_eq!(money.totals.unpriced_licenses, vec!["SalesConsoleUser"]);
        assert!(
            money
                .totals
                .sentence()
                .ends_with("(1 license unpriced: SalesConsoleUser)"),
            "{}",
            money.totals.sentence()
        );
        assert_eq!(money.unknown_licenses, vec!["Unheard"]);
        assert_eq!(
            recoverable_monthly_cost(&r, Some(&p)),
            vec![("ServiceCloudVoicePsl".to_string(), 1234.5)]
        );
    }

    #[test]
    fn the_priced_markdown_and_csv_tables_keep_their_shape() {
        let mut r = report();
        let p = prices(&[("ServiceCloudVoicePsl", "50")]);
        r.money = price_scan(Some(&p), &r.findings, &r.ledger);
        let md = crate::report::markdown::render(&r);
        // Every row of a table has as many cells as its header.
        for table in md.split("\n\n").filter(|t| t.starts_with('|')) {
            let cells: Vec<usize> = table.lines().map(|l| l.matches(" | ").count()).collect();
            let head = table.lines().next().unwrap_or_default();
            assert!(
                table
                    .lines()
                    .skip(2)
                    .all(|l| l.matches(" | ").count() == cells[0]),
                "{head}\n{table}"
            );
        }
        assert!(
            md.contains("| USD 50.00 | USD 50.00 | USD 600.00 | USD 50.00 | USD 0.00 |"),
            "{md}"
        );
        let csv = crate::report::csv::render(&r);
        let widths: Vec<usize> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv.as_bytes())
            .records()
            .map(|rec| rec.expect("record").len())
            .collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{widths:?}");
        assert!(
            csv.lines().last().unwrap_or_default().starts_with("total,"),
            "{csv}"
        );
    }

    #[test]
    fn without_prices_there_is_no_money() {
        let r = report();
        assert_eq!(price_scan(None, &r.findings, &r.ledger), None);
        assert!(recoverable_monthly_cost(&r, None).is_empty());
    }
}
