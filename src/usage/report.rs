//! The usage report as data ([`UsageReport`], `usage.json`) and its renderings: `usage.csv` (one
//! row per call), `usage.md` and the terminal summary. `usage.html` is [`super::html`]'s.
//!
//! Must not: do I/O or read the clock.

use crate::report::number::{grouped, grouped_decimal};
use std::fmt::Write as _;

use serde::Serialize;

use super::billing::Billing;
use super::compute::{CALL_TYPES, DataIssue, Usage, UsageRules};
use crate::report::csv::to_csv;

/// The `usage.json` schema version.
pub const USAGE_SCHEMA_VERSION: u32 = 1;

/// The whole usage report.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub schema_version: u32,
    /// Org name in the config and `Organization.Id`.
    pub org: String,
    pub org_id: String,
    /// The org is a simulator (sfsim), not a real Salesforce org: the Markdown and the page say
    /// so, so a demo's minutes are never read as a real org's. Set by the command after
    /// [`UsageReport::new`].
    pub simulated: bool,
    /// The period, `[from, to)` (RFC 3339 UTC), and how it was asked for.
    pub period: Period,
    /// The counting choices in force (`[org.usage]`).
    pub rules: UsageRules,
    pub totals: TotalsLine,
    /// Per call type: calls and SCV minutes by the call's first segment; telephony minutes by
    /// each leg's own type.
    pub by_type: Vec<GroupLine>,
    pub by_queue: Vec<GroupLine>,
    pub by_day: Vec<GroupLine>,
    pub billing: Billing,
    /// Records the rules had to count by a fallback, or leave out.
    pub data_quality: Vec<DataIssue>,
    /// `VoiceCall` fields this org lacks or names differently (from its describe), and what the
    /// report does without them. Set by the command after [`UsageReport::new`].
    pub field_notes: Vec<String>,
    /// Every call of the period.
    pub calls: Vec<super::compute::CallUsage>,
    /// REST calls made and query pages read.
    pub api_calls: u64,
    pub query_pages: u64,
}

/// The report's period.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub from: String,
    pub to: String,
    /// The zone days are counted in.
    pub time_zone: String,
    /// As asked: `2026-01` or `2026-01-01..2026-01-31`.
    pub label: String,
}

/// Totals of the period.
#[derive(Debug, Clone, Serialize)]
pub struct TotalsLine {
    pub calls: u64,
    pub segments: u64,
    pub scv_seconds: i64,
    pub scv_minutes: f64,
    pub telephony_minutes: i64,
}

/// One row of a breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct GroupLine {
    /// The call type, queue or day.
    pub key: String,
    pub calls: u64,
    pub scv_minutes: f64,
    pub telephony_minutes: i64,
}

impl UsageReport {
    /// Assembles the report from the period's usage and billing.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        org: &str,
        org_id: &str,
        period: Period,
        rules: &UsageRules,
        usage: Usage,
        billing: Billing,
        api_calls: u64,
        query_pages: u64,
    ) -> UsageReport {
        let by_type = CALL_TYPES
            .iter()
            .filter_map(|t| {
                let calls = usage.by_type.get(t);
                let telephony = usage.telephony_by_segment_type.get(t).copied();
                if calls.is_none() && telephony.is_none() {
                    return None;
                }
                Some(GroupLine {
                    key: t.to_string(),
                    calls: calls.map_or(0, |c| c.calls),
                    scv_minutes: calls.map_or(0.0, |c| c.scv_minutes()),
                    telephony_minutes: telephony.unwrap_or(0),
                })
            })
            .collect();
        let line = |key: String, t: &super::compute::Totals| GroupLine {
            key,
            calls: t.calls,
            scv_minutes: t.scv_minutes(),
            telephony_minutes: t.telephony_minutes,
        };
        UsageReport {
            schema_version: USAGE_SCHEMA_VERSION,
            org: org.to_string(),
            org_id: org_id.to_string(),
            simulated: false,
            period,
            rules: rules.clone(),
            totals: TotalsLine {
                calls: usage.total.calls,
                segments: usage.total.segments,
                scv_seconds: usage.total.scv_seconds,
                scv_minutes: usage.total.scv_minutes(),
                telephony_minutes: usage.total.telephony_minutes,
            },
            by_type,
            by_queue: usage
                .by_queue
                .iter()
                .map(|(k, t)| line(k.clone(), t))
                .collect(),
            by_day: usage
                .by_day
                .iter()
                .map(|(k, t)| line(k.to_string(), t))
                .collect(),
            billing,
            data_quality: usage.data_quality,
            field_notes: Vec::new(),
            calls: usage.calls,
            api_calls,
            query_pages,
        }
    }

    pub fn render_json(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// One row per call (RFC 4180, CRLF, formula-guarded: [`to_csv`]).
    pub fn render_csv(&self) -> String {
        let rows: Vec<[String; 9]> = self
            .calls
            .iter()
            .map(|c| {
                [
                    c.id.clone(),
                    c.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    c.day.to_string(),
                    c.call_type.to_string(),
                    c.queue.clone().unwrap_or_default(),
                    c.segments.len().to_string(),
                    c.scv_seconds.to_string(),
                    format!("{:.2}", c.scv_seconds as f64 / 60.0),
                    c.telephony_minutes.to_string(),
                ]
            })
            .collect();
        to_csv(
            &[
                "call_id",
                "start",
                "day",
                "call_type",
                "queue",
                "segments",
                "scv_seconds",
                "scv_minutes",
                "telephony_minutes",
            ],
            &rows,
        )
    }

    /// An exact cost for people ("GBP 1,234.50"); the float only for a report read back
    /// without its exact amounts (never the case for one just computed).
    fn money(&self, exact: Option<crate::money::Amount>, value: f64) -> String {
        match (exact, &self.billing.exact.currency) {
            (Some(amount), Some(currency)) => amount.display(currency),
            _ => format!("{} {value:.2}", self.billing.currency),
        }
    }

    /// Sentences about the balance and the cost, shared by every rendering.
    pub(super) fn billing_lines(&self) -> Vec<String> {
        let b = &self.billing;
        let mut lines = vec![format!(
            "Burn rate: {:.1} SCV minutes a day (over {} day(s))",
            b.scv_minutes_per_day, b.days_elapsed
        )];
        match (b.balance_left, b.exhausted_on, b.projected_run_out) {
            (Some(left), Some(day), _) => lines.push(format!(
                "Prepaid SCV minutes: exhausted on {day} ({} minutes over)",
                grouped_decimal(-left, 1)
            )),
            (Some(left), None, Some(day)) => lines.push(format!(
                "Prepaid SCV minutes left: {}; at this rate they run out on {day}",
                grouped_decimal(left, 1)
            )),
            (Some(left), None, None) => lines.push(format!(
                "Prepaid SCV minutes left: {}",
                grouped_decimal(left, 1)
            )),
            (None, ..) => lines.push(
                "Prepaid SCV balance: not configured (`prepaid_scv_minutes` and \
                 `balance_as_of` in [org.usage])"
                    .to_string(),
            ),
        }
        match b.telephony_cost {
            Some(cost) => {
                let mut line = format!(
                    "Telephony cost estimate: {}",
                    self.money(b.exact.telephony, cost)
                );
                if b.unpriced_telephony_minutes > 0 {
                    line.push_str(&format!(
                        " ({} telephony minute(s) have no configured rate and are not in it)",
                        grouped(b.unpriced_telephony_minutes)
                    ));
                }
                lines.push(line);
            }
            None => lines.push(
                "Telephony cost estimate: no rates configured ([org.prices.telephony])".to_string(),
            ),
        }
        // Only with a configured minute price: never a made-up one.
        if let Some(cost) = b.scv_cost {
            lines.push(format!(
                "SCV minutes cost: {} ({:.1} SCV minutes at [org.prices] scv_minute)",
                self.money(b.exact.scv, cost),
                self.totals.scv_minutes
            ));
        }
        lines
    }

    /// The terminal summary.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "Org `{}` ({}) — usage {} ({} to {}, days in {})\n",
            self.org,
            self.org_id,
            self.period.label,
            self.period.from,
            self.period.to,
            self.period.time_zone
        );
        out.push_str(&format!(
            "{} call(s), {} segment(s): {} SCV minutes, {} telephony minutes\n",
            grouped(self.totals.calls),
            grouped(self.totals.segments),
            grouped_decimal(self.totals.scv_minutes, 1),
            grouped(self.totals.telephony_minutes)
        ));
        for line in self.billing_lines() {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
        let rows: Vec<Vec<String>> = self
            .by_type
            .iter()
            .map(|g| {
                vec![
                    g.key.clone(),
                    grouped(g.calls),
                    grouped_decimal(g.scv_minutes, 1),
                    grouped(g.telephony_minutes),
                ]
            })
            .collect();
        out.push_str(&crate::commands::render_table(
            &["Type", "Calls", "SCV min", "Telephony min"],
            &rows,
            &[false, true, true, true],
        ));
        if !self.data_quality.is_empty() {
            out.push_str(&format!(
                "\n{} data-quality finding(s): see the report\n",
                grouped(self.data_quality.len())
            ));
        }
        for note in &self.field_notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out
    }

    /// `usage.md`.
    pub fn render_markdown(&self) -> String {
        // Keys and details come from the org's VoiceCall records (see `crate::text`).
        let md = crate::text::markdown;
        let mut out = format!(
            "# Voice minutes: org {}, {}\n\n- Org id: {}\n- Period: {} to {} (days in {})\n- \
             Calls: {}, segments: {}\n- **SCV minutes: {}** (each call rounded up to 10 s)\n- \
             **Telephony minutes: {}** (each leg rounded up to a minute)\n",
            crate::text::markdown_code(&self.org),
            self.period.label,
            crate::text::markdown_code(&self.org_id),
            self.period.from,
            self.period.to,
            self.period.time_zone,
            grouped(self.totals.calls),
            grouped(self.totals.segments),
            grouped_decimal(self.totals.scv_minutes, 1),
            grouped(self.totals.telephony_minutes)
        );
        if self.simulated {
            out.insert_str(
                out.find('\n').map_or(0, |i| i + 2),
                &format!("> **{}**\n\n", crate::report::SIMULATED_ORG_NOTICE),
            );
        }
        for line in self.billing_lines() {
            out.push_str(&format!("- {}\n", md(&line)));
        }
        let table = |out: &mut String, title: &str, rows: &[GroupLine]| {
            let _ = write!(
                out,
                "\n## {title}\n\n| {title} | Calls | SCV minutes | Telephony minutes |\n|---|---:|---:|---:|\n"
            );
            for g in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md(&g.key),
                    grouped(g.calls),
                    grouped_decimal(g.scv_minutes, 1),
                    grouped(g.telephony_minutes)
                );
            }
        };
        table(&mut out, "Call type", &self.by_type);
        table(&mut out, "Queue", &self.by_queue);
        table(&mut out, "Day", &self.by_day);
        out.push_str("\n## Data quality\n\n");
        for note in &self.field_notes {
            let _ = writeln!(out, "- {}", md(note));
        }
        if !self.field_notes.is_empty() {
            out.push('\n');
        }
        if self.data_quality.is_empty() {
            out.push_str("Every record had what the counting rules need.\n");
        } else {
            out.push_str("| Record | Issue | How it was counted |\n|---|---|---|\n");
            for d in &self.data_quality {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    md(&d.record_id),
                    d.issue,
                    md(&d.detail)
                );
            }
        }
        out
    }
}
