//! The usage report as data ([`UsageReport`], `usage.json`) and its renderings: `usage.csv` (one
//! row per call), `usage.md`, and `usage.html` (self-contained, with a daily stacked chart of both
//! kinds of minutes), plus the terminal summary.
//!
//! Must not: do I/O or read the clock.

use crate::report::number::{grouped, grouped_decimal};
use std::fmt::Write as _;

use serde::Serialize;

use super::billing::Billing;
use super::compute::{CALL_TYPES, DataIssue, Usage, UsageRules};
use crate::report::csv::to_csv;
use crate::report::html::{csp_hash, escape};

/// The `usage.json` schema version.
pub const USAGE_SCHEMA_VERSION: u32 = 1;

/// The whole usage report.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub schema_version: u32,
    /// Org name in the config and `Organization.Id`.
    pub org: String,
    pub org_id: String,
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
    fn billing_lines(&self) -> Vec<String> {
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

    /// `usage.html`: one self-contained page (no script, no network), with the daily chart.
    pub fn render_html(&self) -> String {
        const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2733}\
            table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccd;\
            padding:.25rem .6rem;text-align:right}td:first-child,th:first-child{text-align:left}\
            .scv{fill:#2f6db5}.tel{fill:#e08a2e}.muted{color:#667}svg text{font-size:10px;fill:#445}";
        let policy = format!(
            "default-src 'none'; style-src '{}'; base-uri 'none'; form-action 'none'",
            csp_hash(STYLE)
        );
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta \
             http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n<title>pslwarden voice \
             minutes: {org} ({label})</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>Voice \
             minutes: {org} <span class=\"muted\">{label}</span></h1>\n<p>{from} to {to}, days in \
             {tz}. {calls} call(s), {segments} segment(s): <strong>{scv:.1} SCV minutes</strong>, \
             <strong>{tel} telephony minutes</strong>.</p>\n<ul>\n",
            org = escape(&self.org),
            label = escape(&self.period.label),
            from = escape(&self.period.from),
            to = escape(&self.period.to),
            tz = escape(&self.period.time_zone),
            calls = self.totals.calls,
            segments = self.totals.segments,
            scv = self.totals.scv_minutes,
            tel = self.totals.telephony_minutes,
        );
        for line in self.billing_lines() {
            let _ = writeln!(out, "<li>{}</li>", escape(&line));
        }
        out.push_str("</ul>\n<h2>Minutes a day</h2>\n");
        self.write_chart(&mut out);
        let table = |out: &mut String, title: &str, rows: &[GroupLine]| {
            let _ = writeln!(
                out,
                "<h2>By {}</h2>\n<table><thead><tr><th>{title}</th><th>Calls</th><th>SCV \
                 minutes</th><th>Telephony minutes</th></tr></thead><tbody>",
                title.to_ascii_lowercase()
            );
            for g in rows {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
                    escape(&g.key),
                    g.calls,
                    g.scv_minutes,
                    g.telephony_minutes
                );
            }
            out.push_str("</tbody></table>\n");
        };
        table(&mut out, "Call type", &self.by_type);
        table(&mut out, "Queue", &self.by_queue);
        table(&mut out, "Day", &self.by_day);
        out.push_str("<h2>Data quality</h2>\n");
        if self.data_quality.is_empty() {
            out.push_str("<p>Every record had what the counting rules need.</p>\n");
        } else {
            out.push_str(
                "<table><thead><tr><th>Record</th><th>Issue</th><th>How it was counted</th></tr>\
                 </thead><tbody>\n",
            );
            for d in &self.data_quality {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&d.record_id),
                    d.issue,
                    escape(&d.detail)
                );
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</body>\n</html>\n");
        out
    }

    /// A stacked bar a day: SCV minutes below, telephony minutes above, numbers in titles.
    fn write_chart(&self, out: &mut String) {
        let days = &self.by_day;
        if days.is_empty() {
            out.push_str("<p class=\"muted\">No calls in the period.</p>\n");
            return;
        }
        let (height, bar, gap, left) = (180.0, 14.0, 4.0, 40.0);
        let max = days
            .iter()
            .map(|d| d.scv_minutes + d.telephony_minutes as f64)
            .fold(1.0_f64, f64::max);
        let width = left + days.len() as f64 * (bar + gap) + 10.0;
        let _ = writeln!(
            out,
            "<svg role=\"img\" aria-label=\"SCV and telephony minutes a day\" width=\"{width:.0}\" \
             height=\"{:.0}\" viewBox=\"0 0 {width:.0} {:.0}\">",
            height + 40.0,
            height + 40.0
        );
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"12\">{max:.0}</text><text x=\"0\" y=\"{:.0}\">0</text>",
            height + 4.0
        );
        for (i, d) in days.iter().enumerate() {
            let x = left + i as f64 * (bar + gap);
            let scv_h = d.scv_minutes / max * height;
            let tel_h = d.telephony_minutes as f64 / max * height;
            let _ = writeln!(
                out,
                "<rect class=\"scv\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar}\" height=\"{scv_h:.1}\">\
                 <title>{}: {:.1} SCV minutes</title></rect><rect class=\"tel\" x=\"{x:.1}\" \
                 y=\"{:.1}\" width=\"{bar}\" height=\"{tel_h:.1}\"><title>{}: {} telephony \
                 minutes</title></rect>",
                height - scv_h,
                escape(&d.key),
                d.scv_minutes,
                height - scv_h - tel_h,
                escape(&d.key),
                d.telephony_minutes
            );
            if i % 7 == 0 {
                let _ = writeln!(
                    out,
                    "<text x=\"{x:.1}\" y=\"{:.0}\">{}</text>",
                    height + 16.0,
                    escape(d.key.get(5..).unwrap_or(&d.key))
                );
            }
        }
        let _ = writeln!(
            out,
            "<rect class=\"scv\" x=\"{left}\" y=\"{:.0}\" width=\"10\" height=\"10\"/><text \
             x=\"{:.0}\" y=\"{:.0}\">SCV minutes</text><rect class=\"tel\" x=\"{:.0}\" y=\"{:.0}\" \
             width=\"10\" height=\"10\"/><text x=\"{:.0}\" y=\"{:.0}\">telephony minutes</text>",
            height + 26.0,
            left + 14.0,
            height + 35.0,
            left + 100.0,
            height + 26.0,
            left + 114.0,
            height + 35.0
        );
        out.push_str("</svg>\n");
    }
}
