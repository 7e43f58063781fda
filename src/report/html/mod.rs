//! `report.html`: the report for people, one self-contained file that reads in any browser with
//! no network.
//!
//! Owns: the HTML document (verdict, a seat chart per license as inline SVG, the ledger, a
//! findings table sortable by its column headers, the plan, the notes), its inline style and
//! script, and [`escape`].
//! Must not: reference anything outside the file (no CSS, script, font or image by URL; the
//! document's Content-Security-Policy forbids loading any), or put the org's text (usernames,
//! names, labels, notes) into the document without [`escape`]. The tables are complete without
//! the script: it only adds sorting.

use std::fmt::Write as _;

use super::ScanReport;
use super::markdown::{status_word, verdict};
use crate::ledger::LedgerRow;
use crate::rules::{RuleStatus, Severity};

mod layout;

#[cfg(test)]
pub(crate) use layout::assert_self_contained;
pub use layout::{Inert, Layout, SORT_SCRIPT, STYLE, csp_hash};

/// The page's style, inline; its hash goes into the Content-Security-Policy.
const SCAN_STYLE: &str = r#"
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1200px; padding: 1.5rem; }
h1 { margin-bottom: .25rem; }
.muted { color: var(--muted); }
.verdict { border: 2px solid var(--line); border-left-width: .6rem; padding: .5rem 1rem; margin: 1rem 0; }
.verdict h2 { margin: .25rem 0; }
.verdict-affected { border-color: #cf222e; background: #fff5f5; }
.verdict-clear { border-color: #1a7f37; background: #f4fff6; }
.verdict-unknown { border-color: #9a6700; background: #fffbea; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.run dt { font-weight: 600; }
dl.run dd { margin: 0; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em;
  overflow-wrap: anywhere; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer;
  color: inherit; text-align: inherit; }
th button::after { content: " \2195"; color: var(--muted); }
th[aria-sort="ascending"] button::after { content: " \2191"; }
th[aria-sort="descending"] button::after { content: " \2193"; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.chart { margin: 0; border: 1px solid var(--line); padding: .5rem; }
figure.chart figcaption { font-weight: 600; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.bar-used { fill: #57606a; }
.bar-free { fill: #ffffff; stroke: #57606a; }
.bar-freed { stroke: #1a7f37; }
.total-mark { stroke: #cf222e; stroke-width: 2; }
.over { color: #cf222e; font-weight: 600; }
.admin { border-left: .4rem solid #9a6700; background: #fffbea; padding: .25rem .75rem; }
details summary { cursor: pointer; }
ul.evidence, ul.facts { margin: .25rem 0; padding-left: 1.2rem; }
@media print { th button::after { content: ""; } details { display: block; } }
"#;

/// The sorting script, inline; its hash goes into the Content-Security-Policy. It turns each
/// header of a `table.sortable` into a button that sorts the rows by that column (again to
/// reverse); a cell's `data-sort` overrides its text as the key, and a header's
/// `data-type="number"` sorts numerically.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  function key(cell) {
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "number";
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
"#;

/// Text made safe for HTML element content and double- or single-quoted attribute values (see
/// [`crate::text::html`]).
pub fn escape(raw: &str) -> String {
    crate::text::html(raw)
}

/// The report as one HTML document with everything inline.
pub fn render(report: &ScanReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; `let _` keeps the sections readable.
    let _ = write_document(&mut out, report);
    out
}

fn write_document(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let org = &report.org;
    // Nothing may load from anywhere, and only this file's own style and script may run, so
    // even text that escaped escaping could neither run a script nor call out.
    let policy = format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'",
        csp_hash(SCAN_STYLE),
        csp_hash(SCRIPT)
    );
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">")?;
    writeln!(out, "<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        // Our own text: single quotes and base64 only, nothing to escape inside `"`.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>pslwarden seat report: {} ({})</title>",
        escape(&org.name),
        escape(&report.run.started_at)
    )?;
    writeln!(out, "<style>{SCAN_STYLE}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")?;
    writeln!(out, "<header>")?;
    writeln!(
        out,
        "<h1>Seat report: {} <span class=\"muted\">({})</span></h1>",
        escape(&org.name),
        escape(&org.org_name)
    )?;
    if org.simulated {
        writeln!(
            out,
            "<p class=\"simulated\"><strong>{}</strong></p>",
            escape(crate::report::SIMULATED_ORG_NOTICE)
        )?;
    }
    write_verdict(out, report)?;
    write_run(out, report)?;
    writeln!(out, "</header>")?;
    writeln!(out, "<main>")?;
    write_next(out, report)?;
    write_summary(out, report)?;
    write_charts(out, report)?;
    write_ledger(out, report)?;
    write_findings(out, report)?;
    write_plan(out, report)?;
    write_rules(out, report)?;
    writeln!(out, "</main>")?;
    writeln!(
        out,
        "<footer class=\"muted\"><p>Written by {} {}. Machine-readable copies: report.json, \
         report.csv; the data it rests on: snapshot.json; the plan: plan.json.</p></footer>",
        escape(&report.tool.name),
        escape(&report.tool.version)
    )?;
    writeln!(out, "<script>{SCRIPT}</script>")?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

fn write_verdict(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let org = &report.org;
    let (headline, explanation) = verdict(org);
    let class = match org.affected_status {
        RuleStatus::Applies => "verdict-affected",
        RuleStatus::NotApplicable => "verdict-clear",
        RuleStatus::Undetermined => "verdict-unknown",
    };
    writeln!(
        out,
        "<section class=\"verdict {class}\" aria-labelledby=\"verdict\">"
    )?;
    writeln!(out, "<h2 id=\"verdict\">{headline}</h2>")?;
    writeln!(out, "<p>{}</p>", escape(&capitalised(explanation)))?;
    write_list(out, &org.notes, "")?;
    writeln!(out, "</section>")
}

fn write_run(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let run = &report.run;
    let mode = if run.mode == "dry-run" {
        "dry run: nothing was changed in the org".to_string()
    } else {
        run.mode.clone()
    };
    let api = match (report.api.daily_used, report.api.daily_max) {
        (Some(used), Some(max)) => format!(
            "{} call(s) by this scan; the org's daily usage is {used} of {max}",
            report.api.calls
        ),
        _ => format!("{} call(s) by this scan", report.api.calls),
    };
    writeln!(out, "<dl class=\"run\">")?;
    for (term, value) in [
        ("Org id", report.org.org_id.as_str()),
        ("API version", report.org.api_version.as_str()),
        ("Started", run.started_at.as_str()),
        ("Finished", run.finished_at.as_str()),
        ("Mode", mode.as_str()),
        ("Snapshot", run.snapshot_source.as_str()),
        ("API usage", api.as_str()),
    ] {
        writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(value))?;
    }
    writeln!(out, "</dl>")
}

fn write_next(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let Some(next) = &report.next else {
        return Ok(());
    };
    writeln!(out, "<section aria-labelledby=\"next\">")?;
    writeln!(out, "<h2 id=\"next\">What happens next</h2>")?;
    write_list(out, &next.sentences(), "")?;
    writeln!(out, "</section>")
}

fn write_summary(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    // The ledger counts each seat once even when two findings name it, so its sums are totals.
    let seats = report.seat_totals();
    writeln!(out, "<section aria-labelledby=\"summary\">")?;
    writeln!(out, "<h2 id=\"summary\">Summary</h2>")?;
    writeln!(
        out,
        "<p>{} finding(s), {} seat(s) recoverable: {}. {} plan action(s).</p>",
        report.findings.len(),
        seats.recoverable(),
        escape(&seats.sentence()),
        report.plan.actions.len()
    )?;
    let over = report.over_allocations();
    if !over.is_empty() {
        writeln!(out, "<p class=\"over\">Over-allocated:</p>")?;
        write_list(out, &over, "over")?;
    }
    let what_ifs: Vec<String> = report
        .ledger
        .iter()
        .filter(|row| row.recoverable > 0)
        .map(LedgerRow::what_if)
        .collect();
    if !what_ifs.is_empty() {
        writeln!(out, "<p>What the fix allows:</p>")?;
        write_list(out, &what_ifs, "")?;
    }
    let steps: Vec<String> = report
        .admin_steps()
        .map(|step| format!("needs the admin: {}", step.description))
        .collect();
    if !steps.is_empty() {
        writeln!(out, "<div class=\"admin\">")?;
        writeln!(
            out,
            "<p>Needs the admin: {} manual step(s). Apply leaves these fixes whole to you, and \
             their seats are not counted as freed.</p>",
            steps.len()
        )?;
        write_list(out, &steps, "")?;
        writeln!(out, "</div>")?;
    }
    writeln!(out, "</section>")
}

fn write_charts(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    if report.ledger.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section aria-labelledby=\"charts\">")?;
    writeln!(out, "<h2 id=\"charts\">Seats before and after the fix</h2>")?;
    writeln!(out, "<div class=\"charts\">")?;
    for (n, row) in report.ledger.iter().enumerate() {
        write_chart(out, n, row)?;
    }
    writeln!(out, "</div>")?;
    writeln!(out, "</section>")
}

/// Geometry of a seat chart, in SVG user units.
const CHART_WIDTH: f64 = 560.0;
const BAR_X: f64 = 80.0;
const BAR_WIDTH: f64 = 300.0;
const BAR_HEIGHT: f64 = 20.0;

/// One license's seats as two horizontal bars, before and after the fix: used seats filled,
/// free seats empty, seats the fix frees hatched, the number bought marked by a line. Every
/// number is also written out, so the chart reads without colour (and a screen reader gets the
/// same sentences from `<title>` and `<desc>`).
fn write_chart(out: &mut String, n: usize, row: &LedgerRow) -> std::fmt::Result {
    let used_after = row.used.saturating_sub(row.freed_by_plan);
    let freed = row.used - used_after;
    // Seats that come free only after someone acts, said in words next to the bars.
    let mut pending = Vec::new();
    if row.needs_admin > 0 {
        pending.push(format!(
            "{} more after the admin's manual steps",
            row.needs_admin
        ));
    }
    if row.needs_orphan_reclaim > 0 {
        pending.push(format!(
            "{} more if reclaim_orphan_seats is on",
            row.needs_orphan_reclaim
        ));
    }
    let pending = if pending.is_empty() {
        String::new()
    } else {
        format!(" ({})", pending.join("; "))
    };
    let over = if row.over_allocated {
        format!(" ({} over)", row.used - row.total)
    } else {
        String::new()
    };
    // An over-assigned license (used > total) still fits: the scale is whichever is larger.
    let scale = f64::from(row.total.max(row.used).max(1));
    let width = |seats: u32| f64::from(seats) / scale * BAR_WIDTH;
    let before = format!(
        "Before: {} of {} used, {} free{over}.",
        row.used, row.total, row.free
    );
    let after = format!(
        "After the fix: {used_after} of {} used, {} free ({freed} freed by the plan){pending}.",
        row.total, row.free_after_fix
    );
    let title = format!("{} seats before and after the fix", row.psl);

    writeln!(out, "<figure class=\"chart\">")?;
    writeln!(
        out,
        "<figcaption><code>{}</code> <span class=\"muted\">{}</span>{}</figcaption>",
        escape(&row.psl),
        escape(&row.label),
        if row.over_allocated {
            format!(
                " <span class=\"over\">over-allocated: {} used of {} bought</span>",
                row.used, row.total
            )
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "<svg role=\"img\" aria-labelledby=\"chart-{n}-title chart-{n}-desc\" width=\"{CHART_WIDTH}\" \
         height=\"92\" viewBox=\"0 0 {CHART_WIDTH} 92\">"
    )?;
    writeln!(
        out,
        "<title id=\"chart-{n}-title\">{}</title>",
        escape(&title)
    )?;
    writeln!(
        out,
        "<desc id=\"chart-{n}-desc\">{} {}</desc>",
        escape(&before),
        escape(&after)
    )?;
    writeln!(
        out,
        "<defs><pattern id=\"freed-{n}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <rect width=\"3\" height=\"6\" fill=\"#1a7f37\"/></pattern></defs>"
    )?;

    let bars: [(&str, f64, u32, u32, String); 2] = [
        (
            "Before",
            8.0,
            row.used,
            0,
            format!("{} used, {} free{over}", row.used, row.free),
        ),
        (
            "After fix",
            40.0,
            used_after,
            freed,
            format!(
                "{used_after} used, {} free ({freed} freed{})",
                row.free_after_fix,
                if row.needs_admin > 0 {
                    format!(", {} need the admin", row.needs_admin)
                } else {
                    String::new()
                }
            ),
        ),
    ];
    for (label, y, used, freed, caption) in bars {
        let used_w = width(used);
        let freed_w = width(freed);
        let text_y = y + 14.0;
        writeln!(out, "<text x=\"0\" y=\"{text_y}\">{label}</text>")?;
        writeln!(
            out,
            "<rect class=\"bar-free\" x=\"{BAR_X}\" y=\"{y}\" width=\"{BAR_WIDTH}\" height=\"{BAR_HEIGHT}\"/>"
        )?;
        if used_w > 0.0 {
            writeln!(
                out,
                "<rect class=\"bar-used\" x=\"{BAR_X}\" y=\"{y}\" width=\"{:.1}\" height=\"{BAR_HEIGHT}\"/>",
                used_w
            )?;
        }
        if freed_w > 0.0 {
            writeln!(
                out,
                "<rect class=\"bar-freed\" fill=\"url(#freed-{n})\" x=\"{:.1}\" y=\"{y}\" \
                 width=\"{:.1}\" height=\"{BAR_HEIGHT}\"/>",
                BAR_X + used_w,
                freed_w
            )?;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{text_y}\">{}</text>",
            BAR_X + BAR_WIDTH + 10.0,
            escape(&caption)
        )?;
    }
    let total_x = BAR_X + width(row.total);
    writeln!(
        out,
        "<line class=\"total-mark\" x1=\"{total_x:.1}\" y1=\"2\" x2=\"{total_x:.1}\" y2=\"66\"/>"
    )?;
    writeln!(
        out,
        "<text x=\"{total_x:.1}\" y=\"82\" text-anchor=\"middle\">{} bought</text>",
        row.total
    )?;
    writeln!(out, "</svg>")?;
    writeln!(out, "</figure>")
}

fn write_ledger(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    writeln!(out, "<section aria-labelledby=\"ledger\">")?;
    writeln!(out, "<h2 id=\"ledger\">Seats per license</h2>")?;
    if report.ledger.is_empty() {
        writeln!(out, "<p>No permission set license in the snapshot.</p>")?;
        return writeln!(out, "</section>");
    }
    writeln!(out, "<table>")?;
    writeln!(
        out,
        "<caption>Seats per permission set license, before and after the fix</caption>"
    )?;
    write_header(
        out,
        &[
            ("License", false),
            ("Label", false),
            ("Total", true),
            ("Used", true),
            ("Free", true),
            ("Consumed by findings", true),
            ("Freed by the plan", true),
            ("Needs the admin", true),
            ("Orphans (reclaim off)", true),
            ("Free after fix", true),
            ("Assignable after fix", true),
        ],
    )?;
    writeln!(out, "<tbody>")?;
    for row in &report.ledger {
        write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td>",
            escape(&row.psl),
            escape(&row.label)
        )?;
        write!(out, "<td class=\"num\">{}</td>", row.total)?;
        if row.over_allocated {
            write!(
                out,
                "<td class=\"num over\">{} <span>over-allocated</span></td>",
                row.used
            )?;
        } else {
            write!(out, "<td class=\"num\">{}</td>", row.used)?;
        }
        for number in [
            row.free,
            row.consumed_by_findings,
            row.freed_by_plan,
            row.needs_admin,
            row.needs_orphan_reclaim,
            row.free_after_fix,
            row.assignable_after_fix,
        ] {
            write!(out, "<td class=\"num\">{number}</td>")?;
        }
        // The what-if sentences are in the summary: a wide column here would push the table
        // off the page.
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</section>")
}

fn write_findings(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    writeln!(out, "<section aria-labelledby=\"findings\">")?;
    writeln!(out, "<h2 id=\"findings\">Findings</h2>")?;
    if report.findings.is_empty() {
        writeln!(out, "<p>No findings: no seat is consumed for nothing.</p>")?;
        return writeln!(out, "</section>");
    }
    writeln!(out, "<table class=\"sortable\">")?;
    writeln!(
        out,
        "<caption>Seats consumed for nothing, one row per finding</caption>"
    )?;
    write_header(
        out,
        &[
            ("#", true),
            ("Rule", false),
            ("Kind", false),
            ("Severity", false),
            ("User", false),
            ("User id", false),
            ("Active", false),
            ("License", false),
            ("Seats", true),
            ("Summary", false),
            ("Evidence", false),
        ],
    )?;
    writeln!(out, "<tbody>")?;
    for (position, finding) in report.findings.iter().enumerate() {
        let (severity, rank) = match finding.severity {
            Severity::High => ("high", 3),
            Severity::Medium => ("medium", 2),
            Severity::Low => ("low", 1),
        };
        write!(
            out,
            "<tr><td class=\"num\">{position}</td><td>{}</td><td>{}</td>\
             <td data-sort=\"{rank}\">{severity}</td><td>{}</td><td><code>{}</code></td>\
             <td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>",
            escape(&finding.rule),
            escape(&finding.kind),
            escape(&finding.username),
            escape(&finding.user_id),
            if finding.user_active { "yes" } else { "no" },
            escape(&finding.psl),
            finding.recoverable_seats,
            escape(&finding.summary),
        )?;
        let evidence: Vec<String> = finding.evidence.iter().map(ToString::to_string).collect();
        write_details(out, &evidence, "record", "evidence")?;
        writeln!(out, "</td></tr>")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</section>")
}

fn write_plan(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let plan = &report.plan;
    writeln!(out, "<section aria-labelledby=\"plan\">")?;
    writeln!(out, "<h2 id=\"plan\">Plan</h2>")?;
    if plan.actions.is_empty() {
        writeln!(out, "<p>No change planned.</p>")?;
    } else {
        writeln!(
            out,
            "<p>{} action(s), in the order they would run. Each lists the facts it relies on, \
             checked again before it runs. Digest of those facts: <code>{}</code>.</p>",
            plan.actions.len(),
            escape(&plan.digest)
        )?;
        writeln!(out, "<table>")?;
        writeln!(out, "<caption>Plan actions, in order</caption>")?;
        write_header(
            out,
            &[
                ("Step", true),
                ("Op", false),
                ("sObject", false),
                ("Record id", false),
                ("Finding", true),
                ("User", false),
                ("Description", false),
                ("Facts", false),
            ],
        )?;
        writeln!(out, "<tbody>")?;
        for (step, action) in plan.actions.iter().enumerate() {
            write!(
                out,
                "<tr><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>\
                 <td class=\"num\">{}</td><td>{}</td><td>{}</td><td>",
                step + 1,
                action.op,
                escape(&action.sobject),
                action.id.as_deref().map_or_else(
                    || "-".to_string(),
                    |id| format!("<code>{}</code>", escape(id))
                ),
                action.finding,
                escape(&action.username),
                escape(&action.description),
            )?;
            let facts: Vec<String> = action.facts.iter().map(ToString::to_string).collect();
            write_details(out, &facts, "fact", "facts")?;
            writeln!(out, "</td></tr>")?;
        }
        writeln!(out, "</tbody>")?;
        writeln!(out, "</table>")?;
    }
    if !plan.notes.is_empty() {
        writeln!(out, "<h3>Plan notes</h3>")?;
        write_list(out, &plan.notes, "")?;
    }
    writeln!(out, "</section>")
}

fn write_rules(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    if report.rules.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section aria-labelledby=\"rules\">")?;
    writeln!(out, "<h2 id=\"rules\">Rules and notes</h2>")?;
    writeln!(out, "<table>")?;
    writeln!(out, "<caption>Each rule's verdict</caption>")?;
    write_header(
        out,
        &[
            ("Rule", false),
            ("Status", false),
            ("Findings", true),
            ("Recoverable seats", true),
            ("Notes", false),
        ],
    )?;
    writeln!(out, "<tbody>")?;
    for rule in &report.rules {
        write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>",
            escape(&rule.rule),
            status_word(rule.status),
            rule.findings,
            rule.recoverable_seats
        )?;
        write_list(out, &rule.notes, "")?;
        writeln!(out, "</td></tr>")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</section>")
}

/// A `<thead>` of `(label, numeric)` columns.
fn write_header(out: &mut String, columns: &[(&str, bool)]) -> std::fmt::Result {
    write!(out, "<thead><tr>")?;
    for (label, numeric) in columns {
        if *numeric {
            write!(
                out,
                "<th scope=\"col\" class=\"num\" data-type=\"number\">{}</th>",
                escape(label)
            )?;
        } else {
            write!(out, "<th scope=\"col\">{}</th>", escape(label))?;
        }
    }
    writeln!(out, "</tr></thead>")
}

fn write_list(out: &mut String, items: &[String], class: &str) -> std::fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    if class.is_empty() {
        writeln!(out, "<ul>")?;
    } else {
        writeln!(out, "<ul class=\"{class}\">")?;
    }
    for item in items {
        writeln!(out, "<li>{}</li>", escape(item))?;
    }
    writeln!(out, "</ul>")
}

/// A collapsed list, open to read without any script.
fn write_details(out: &mut String, items: &[String], noun: &str, class: &str) -> std::fmt::Result {
    if items.is_empty() {
        return write!(out, "-");
    }
    let plural = if items.len() == 1 { "" } else { "s" };
    write!(
        out,
        "<details><summary>{} {noun}{plural}</summary>",
        items.len()
    )?;
    write_list(out, items, class)?;
    write!(out, "</details>")
}

fn capitalised(sentence: &str) -> String {
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;

    const HOSTILE: &str = "<script>alert(1)</script>";

    #[test]
    fn escape_neutralises_every_markup_character() {
        assert_eq!(escape(HOSTILE), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(
            escape(r#"a&b "c" 'd'"#),
            "a&amp;b &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(escape("user2@seed-example.org"), "user2@seed-example.org");
    }

    #[test]
    fn a_hostile_username_is_shown_not_run() {
        let mut report = fixture::report();
        fixture::rename_user(&mut report, 0, HOSTILE);
        report.org.notes.push(format!("note {HOSTILE}"));
        report.ledger[0].label = format!("label {HOSTILE}");
        let html = render(&report);
        assert!(!html.contains(HOSTILE), "unescaped org text in the page");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // The page's own script is the only one.
        assert_eq!(html.matches("<script").count(), 1);
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let html = render(&fixture::report());
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("src="), "no resource is loaded by URL");
        assert!(!html.contains("@import"));
        for reference in html.split("href=").skip(1) {
            assert!(reference.starts_with("\"#"), "href={reference:.40}");
        }
        for reference in html.split("url(").skip(1) {
            assert!(reference.starts_with('#'), "url({reference:.40}");
        }
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_style_and_script() {
        let html = render(&fixture::report());
        assert!(html.contains(&format!("style-src '{}'", csp_hash(SCAN_STYLE))));
        assert!(html.contains(&format!("<style>{SCAN_STYLE}</style>")));
        assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
    }

    #[test]
    fn one_seat_chart_per_license_with_its_numbers_in_words() {
        let report = fixture::report();
        let html = render(&report);
        assert_eq!(html.matches("<svg").count(), report.ledger.len());
        assert_eq!(
            html.matches("<title id=\"chart-").count(),
            report.ledger.len()
        );
        assert!(
            html.contains(
                "Before: 2 of 2 used, 0 free. After the fix: 1 of 2 used, 1 free (1 freed by the \
                 plan)."
            ),
            "{html}"
        );
    }

    #[test]
    fn an_over_assigned_license_still_draws_inside_the_chart() {
        let mut report = fixture::report();
        report.ledger[0].used = 5;
        report.ledger[0].total = 2;
        report.ledger[0].over_allocated = true;
        let html = render(&report);
        let chart = html.split("<svg").nth(1).expect("first chart");
        assert!(chart.contains("5 used, 0 free (3 over)"), "{chart}");
        assert!(
            html.contains("over-allocated: 5 used of 2 bought"),
            "the caption flags it"
        );
        // Used spans the whole bar; the total mark sits at 2/5 of it.
        assert!(chart.contains("width=\"300.0\""), "{chart}");
        assert!(chart.contains("x1=\"200.0\""), "{chart}");
    }

    #[test]
    fn the_findings_table_lists_each_finding_and_is_sortable() {
        let report = fixture::report();
        let html = render(&report);
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("<table class=\"sortable\">"));
        assert!(html.contains("<td>user2@seed-example.org</td>"));
        assert!(html.contains("<th scope=\"col\">User</th>"));
        assert!(!html.contains("<th>"), "every header has a scope");
        // Sorting keys for the severity column rank it rather than spell it.
        assert!(html.contains("<td data-sort=\"3\">high</td>"));
        let rows = html
            .split("<table class=\"sortable\">")
            .nth(1)
            .and_then(|t| t.split("</table>").next())
            .expect("findings table")
            .matches("<tr><td")
            .count();
        assert_eq!(rows, report.findings.len());
    }

    #[test]
    fn the_verdict_heads_the_page() {
        let mut report = fixture::report();
        let html = render(&report);
        assert!(html.contains("<h2 id=\"verdict\">Affected</h2>"));
        report.org.affected = false;
        report.org.affected_status = RuleStatus::NotApplicable;
        let html = render(&report);
        assert!(html.contains("<h2 id=\"verdict\">Not affected</h2>"));
    }
}
