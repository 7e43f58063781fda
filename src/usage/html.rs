//! `usage.html`: the usage report for people, one self-contained page on the shared layout
//! (`templates/base.html`) filled by `templates/usage.html`, with the daily chart of
//! [`super::chart`].
//!
//! Owns: the page's view model (what the template prints, already worked out: the billing
//! sentences, the chart's geometry, every day of the period) and its own inline style.
//! Must not: reference anything outside the file (the policy forbids loading anything; the chart
//! is inline SVG, no script), print org text except through the template's escaper (queue names,
//! record ids and details come from the org's `VoiceCall` records), do I/O or read the clock.

use std::collections::BTreeMap;

use askama::Template;
use chrono::{DateTime, Duration, NaiveDate};
use chrono_tz::Tz;

use super::chart::{DailyChart, DayMinutes, daily_chart, days_between};
use super::report::{GroupLine, UsageReport};
use crate::report::html::Layout;

/// The page's own style beyond the shared stylesheet: the two colours of the minutes (blue and
/// orange stay apart for the common colour blindnesses), the chart at the page's width.
const PAGE_STYLE: &str = "\
figure.chart.wide { display: block; }
figure.chart.wide svg { display: block; width: 100%; height: auto; }
.bar-scv { fill: #2f6db5; }
.bar-tel { fill: #e08a2e; }
.swatch-scv { background: #2f6db5; }
.swatch-tel { background: #e08a2e; }
.zero { stroke: var(--ink); stroke-width: 2; }
.swatch-zero { display: inline-block; width: 1.6rem; height: 0; border-top: 2px solid var(--ink);
  flex: none; }
text.later { fill: #afb8c1; }
ul.billing { padding-left: 1.2rem; }";

/// What `templates/usage.html` prints.
#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage<'a> {
    /// Title, banner, policy: the shared frame.
    layout: Layout,
    report: &'a UsageReport,
    /// The balance and cost sentences, the same as in `usage.md` and the terminal summary.
    billing_lines: Vec<String>,
    /// Every day of the period, calls or not.
    chart: DailyChart,
    /// Some days of the period are still to come (a month asked "to date").
    has_later_days: bool,
    /// The three breakdown tables, titled.
    tables: [(&'static str, &'a [GroupLine]); 3],
}

impl UsageReport {
    /// `usage.html`.
    pub fn render_html(&self) -> String {
        let chart = self.chart();
        let page = UsagePage {
            layout: Layout::new(
                format!(
                    "pslwarden voice minutes: {} ({})",
                    self.org, self.period.label
                ),
                self.simulated,
            )
            .with_style(PAGE_STYLE),
            report: self,
            billing_lines: self.billing_lines(),
            has_later_days: chart.days.iter().any(|d| d.later),
            chart,
            tables: [
                ("Call type", &self.by_type),
                ("Queue", &self.by_queue),
                ("Day", &self.by_day),
            ],
        };
        // Rendering into a String fails only if a value's Display fails; ours cannot.
        page.render().unwrap_or_else(|e| {
            format!("<!DOCTYPE html><title>usage report</title><p>could not render: {e}</p>\n")
        })
    }

    /// The daily chart: every day of the period, the days with calls from `by_day`.
    fn chart(&self) -> DailyChart {
        let by_day: BTreeMap<NaiveDate, DayMinutes> = self
            .by_day
            .iter()
            .filter_map(|g| {
                let day = NaiveDate::parse_from_str(&g.key, "%Y-%m-%d").ok()?;
                Some((
                    day,
                    DayMinutes {
                        calls: g.calls,
                        scv_minutes: g.scv_minutes,
                        telephony_minutes: g.telephony_minutes as f64,
                    },
                ))
            })
            .collect();
        let days = self.period_days().unwrap_or_else(|| {
            // Not expected (the command writes both ends and a known zone); the days with calls
            // then still get their slots.
            match (by_day.keys().next(), by_day.keys().next_back()) {
                (Some(first), Some(last)) => days_between(*first, *last),
                _ => Vec::new(),
            }
        });
        let elapsed = usize::try_from(self.billing.days_elapsed).unwrap_or(days.len());
        daily_chart(&days, &by_day, elapsed)
    }

    /// Every local day of `[from, to)` in the period's zone.
    fn period_days(&self) -> Option<Vec<NaiveDate>> {
        let tz: Tz = self.period.time_zone.parse().ok()?;
        let from = DateTime::parse_from_rfc3339(&self.period.from).ok()?;
        let to = DateTime::parse_from_rfc3339(&self.period.to).ok()?;
        let first = from.with_timezone(&tz).date_naive();
        let last = (to - Duration::seconds(1)).with_timezone(&tz).date_naive();
        (first <= last).then(|| days_between(first, last))
    }
}

#[cfg(test)]
mod tests {
    use super::super::billing::Billing;
    use super::super::compute::{DataIssue, Usage, UsageRules};
    use super::super::report::Period;
    use super::*;

    fn report(org: &str, queue: &str) -> UsageReport {
        let mut report = UsageReport::new(
            org,
            "00D000000000001AAA",
            Period {
                from: "2026-01-01T00:00:00Z".into(),
                to: "2026-02-01T00:00:00Z".into(),
                time_zone: "Europe/London".into(),
                label: "2026-01".into(),
            },
            &UsageRules::default(),
            Usage::default(),
            Billing {
                days_elapsed: 31,
                currency: "USD".into(),
                ..Billing::default()
            },
            3,
            1,
        );
        report.by_queue.push(GroupLine {
            key: queue.into(),
            calls: 1,
            scv_minutes: 2.5,
            telephony_minutes: 3,
        });
        report.by_day.push(GroupLine {
            key: "2026-01-05".into(),
            calls: 1,
            scv_minutes: 2.5,
            telephony_minutes: 3,
        });
        report.data_quality.push(DataIssue {
            record_id: "0LQ<b>".into(),
            issue: "no_duration",
            detail: "counted as zero".into(),
        });
        report
    }

    #[test]
    fn the_page_is_self_contained_and_slots_every_day() {
        let html = report("sim", "Sales").render_html();
        crate::report::html::assert_self_contained(&html);
        assert_eq!(html.matches("<g class=\"day\"").count(), 31, "{html}");
        assert!(html.contains("2026-01-05: 2.5 SCV minutes</title>"));
        assert!(html.contains("2026-01-05: 3 telephony minutes</title>"));
        assert!(html.contains("2026-01-02: no calls</title>"));
        assert!(html.contains(">minutes</text>"));
        assert!(!html.contains("SIMULATED ORG"));
        assert!(html.contains("<td>0LQ&lt;b&gt;</td>"));
    }

    #[test]
    fn org_text_is_inert_and_a_simulated_org_is_marked() {
        let mut r = report("sim", "<script>alert(1)</script>\u{202e}");
        r.simulated = true;
        let html = r.render_html();
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\\u202e"));
        assert!(html.contains("SIMULATED ORG"));
    }
}
