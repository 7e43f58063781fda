//! `report.md`: the report for chat and email.
//!
//! Owns: the Markdown text of a report (verdict, summary, seat ledger with the what-if, findings,
//! plan, notes) and the verdict wording the HTML report shares ([`verdict`]).
//! Must not: let the org's text (usernames, names, labels, notes) change the document's
//! structure: every such text goes through [`text`] (prose) or [`code`] (identifiers in tables),
//! both from [`crate::text`],
//! so a `|` cannot split a table cell and a `<` cannot open an HTML tag in a Markdown viewer.

use super::number::grouped;
use std::fmt::Write as _;

use super::{OrgInfo, ScanReport};
use crate::rules::RuleStatus;

/// The verdict on the org, for reports: a short headline and a sentence explaining it.
pub(crate) fn verdict(org: &OrgInfo) -> (&'static str, &'static str) {
    match org.affected_status {
        RuleStatus::Applies => (
            "Affected",
            "the Salesforce Voice permission set needs a Salesforce Voice User seat in this org, \
             so partner-telephony users added to an Amazon Connect contact center can consume a \
             seat for nothing.",
        ),
        RuleStatus::NotApplicable => (
            "Not affected",
            "the Salesforce Voice permission set takes no Salesforce Voice User seat in this org, \
             so its users cannot double-consume seats.",
        ),
        RuleStatus::Undetermined => (
            "Undetermined",
            "pslwarden could not tell whether this org is affected; the notes below say what to \
             configure.",
        ),
    }
}

/// The report as Markdown (GitHub-flavoured tables), ending with a newline.
pub fn render(report: &ScanReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; `let _` keeps the sections readable.
    let _ = write_report(&mut out, report);
    out
}

fn write_report(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let org = &report.org;
    let (headline, explanation) = verdict(org);
    writeln!(
        out,
        "# pslwarden scan: {} ({})\n",
        text(&org.name),
        text(&org.org_name)
    )?;
    if org.simulated {
        writeln!(out, "> **{}**\n", crate::report::SIMULATED_ORG_NOTICE)?;
    }
    writeln!(out, "**{headline}**: {explanation}\n")?;
    for note in &org.notes {
        writeln!(out, "- {}", text(note))?;
    }
    if !org.notes.is_empty() {
        out.push('\n');
    }
    let mode = if report.run.mode == "dry-run" {
        "**dry run: nothing was changed in the org**".to_string()
    } else {
        format!("mode {}", text(&report.run.mode))
    };
    writeln!(
        out,
        "Org id {}, API {}, scanned {} to {}, snapshot from {}, {} {}; {mode}.\n",
        text(&org.org_id),
        text(&org.api_version),
        text(&report.run.started_at),
        text(&report.run.finished_at),
        text(&report.run.snapshot_source),
        text(&report.tool.name),
        text(&report.tool.version),
    )?;

    write_next(out, report)?;
    write_summary(out, report)?;
    write_ledger(out, report)?;
    write_findings(out, report)?;
    write_plan(out, report)?;
    write_rule_notes(out, report)?;

    writeln!(out, "## API usage\n")?;
    write!(
        out,
        "{} API call(s) made by this scan",
        grouped(report.api.calls)
    )?;
    match (report.api.daily_used, report.api.daily_max) {
        (Some(used), Some(max)) => writeln!(
            out,
            "; the org's daily usage is {} of {}.",
            grouped(used),
            grouped(max)
        )?,
        _ => writeln!(out, ".")?,
    }
    Ok(())
}

fn write_next(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let Some(next) = &report.next else {
        return Ok(());
    };
    writeln!(out, "## What happens next\n")?;
    for sentence in next.sentences() {
        writeln!(out, "- {}", text(&sentence))?;
    }
    out.push('\n');
    Ok(())
}

fn write_summary(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    writeln!(out, "## Summary\n")?;
    // The ledger counts each seat once even when two findings name it, so its sums are totals.
    let seats = report.seat_totals();
    writeln!(
        out,
        "- {} finding(s), {} seat(s) recoverable: {}. {} plan action(s).",
        grouped(report.findings.len()),
        grouped(seats.recoverable()),
        text(&seats.sentence()),
        grouped(report.plan.actions.len())
    )?;
    let per_license: Vec<String> = report
        .ledger
        .iter()
        .filter(|row| row.freed_by_plan > 0)
        .map(|row| format!("{} {}", text(&row.psl), grouped(row.freed_by_plan)))
        .collect();
    if !per_license.is_empty() {
        writeln!(
            out,
            "- Seats the plan frees per license: {}.",
            per_license.join(", ")
        )?;
    }
    if let Some(money) = &report.money {
        writeln!(out, "- {}.", text(&money.totals.sentence()))?;
        if let Some(warning) = super::money::unknown_licenses_warning(&money.unknown_licenses) {
            writeln!(out, "- **Warning**: {}.", text(&warning))?;
        }
    }
    for over in report.over_allocations() {
        writeln!(out, "- **Over-allocated**: {}.", text(&over))?;
    }
    out.push('\n');
    if !report.rules.is_empty() {
        writeln!(out, "| Rule | Status | Findings | Recoverable seats |")?;
        writeln!(out, "|---|---|---:|---:|")?;
        for rule in &report.rules {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&rule.rule),
                status_word(rule.status),
                grouped(rule.findings),
                grouped(rule.recoverable_seats)
            )?;
        }
        out.push('\n');
    }
    Ok(())
}

fn write_ledger(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    writeln!(out, "## Seats per license\n")?;
    if report.ledger.is_empty() {
        writeln!(out, "No permission set license in the snapshot.\n")?;
        return Ok(());
    }
    // Money columns only with prices; an unpriced license's cells are "-", never 0.
    let (money_head, money_rule) = if report.money.is_some() {
        (
            " Price per seat / month | Recoverable / month | Recoverable / year | Plan saves / \
             month | Needs the admin / month |",
            "---:|---:|---:|---:|---:|",
        )
    } else {
        ("", "")
    };
    writeln!(
        out,
        "| License | Label | Total | Used | Free | Consumed by findings | Freed by the plan | \
         Needs the admin | Orphans (reclaim off) | Idle agents (reclaim off) | Free after fix | \
         Assignable after fix |{money_head}"
    )?;
    writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|{money_rule}"
    )?;
    for row in &report.ledger {
        let money_cells = report.money.as_ref().map_or_else(String::new, |money| {
            let priced = money.license(&row.psl);
            let cell = |w: Option<&crate::money::Worth>, yearly: bool| {
                w.map_or_else(
                    || "-".to_string(),
                    |w| {
                        if yearly {
                            w.yearly_text.clone()
                        } else {
                            w.monthly_text.clone()
                        }
                    },
                )
            };
            format!(
                " {} | {} | {} | {} | {} |",
                priced
                    .and_then(|m| m.seat_monthly_text.clone())
                    .unwrap_or_else(|| "-".to_string()),
                cell(priced.and_then(|m| m.recoverable.as_ref()), false),
                cell(priced.and_then(|m| m.recoverable.as_ref()), true),
                cell(priced.and_then(|m| m.freed_by_plan.as_ref()), false),
                cell(priced.and_then(|m| m.needs_admin.as_ref()), false),
            )
        });
        writeln!(
            out,
            "| {} | {} | {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} |{money_cells}",
            code(&row.psl),
            text(&row.label),
            grouped(row.total),
            grouped(row.used),
            if row.over_allocated {
                " **over-allocated**"
            } else {
                ""
            },
            grouped(row.free),
            grouped(row.consumed_by_findings),
            grouped(row.freed_by_plan),
            grouped(row.needs_admin),
            grouped(row.needs_orphan_reclaim),
            grouped(row.needs_idle_reclaim),
            grouped(row.free_after_fix),
            grouped(row.assignable_after_fix)
        )?;
    }
    out.push('\n');
    // The what-if only says something new where a fix could free a seat.
    let what_ifs: Vec<String> = report
        .ledger
        .iter()
        .filter(|row| row.recoverable > 0)
        .map(|row| row.what_if())
        .collect();
    if !what_ifs.is_empty() {
        writeln!(out, "What the fix allows:\n")?;
        for what_if in what_ifs {
            writeln!(out, "- {}", text(&what_if))?;
        }
        out.push('\n');
    }
    let steps: Vec<&crate::plan::Action> = report.admin_steps().collect();
    if !steps.is_empty() {
        writeln!(
            out,
            "Needs the admin ({} manual step(s); apply leaves these fixes whole to you, and their \
             seats are not counted as freed):\n",
            grouped(steps.len())
        )?;
        for step in steps {
            writeln!(out, "- needs the admin: {}", text(&step.description))?;
        }
        out.push('\n');
    }
    Ok(())
}

fn write_findings(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    writeln!(out, "## Findings\n")?;
    if report.findings.is_empty() {
        writeln!(out, "No findings: no seat is consumed for nothing.\n")?;
        return Ok(());
    }
    let money = report.money.as_ref();
    writeln!(
        out,
        "| # | Rule | User | Active | License | Seats |{} Summary |",
        if money.is_some() { " Worth |" } else { "" }
    )?;
    writeln!(
        out,
        "|---:|---|---|---|---|---:|{}---|",
        if money.is_some() { "---:|" } else { "" }
    )?;
    for (position, finding) in report.findings.iter().enumerate() {
        let worth = money.map_or_else(String::new, |m| {
            format!(
                " {} |",
                m.finding(position)
                    .map_or_else(|| "-".to_string(), |w| w.text.clone())
            )
        });
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |{worth} {} |",
            position,
            code(&finding.rule),
            code(&finding.username),
            if finding.user_active { "yes" } else { "no" },
            code(&finding.psl),
            grouped(finding.recoverable_seats),
            text(&finding.summary)
        )?;
    }
    writeln!(
        out,
        "\nThe evidence of each finding is in report.html and report.json.\n"
    )?;
    Ok(())
}

fn write_plan(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let plan = &report.plan;
    writeln!(out, "## Plan\n")?;
    if plan.actions.is_empty() {
        writeln!(out, "No change planned.\n")?;
    } else {
        writeln!(
            out,
            "{} action(s), in the order they would run (digest {}):\n",
            grouped(plan.actions.len()),
            code(&plan.digest)
        )?;
        if let Some(money) = &report.money {
            writeln!(
                out,
                "What the plan would save: {}{}.\n",
                text(&money.totals.freed_by_plan.text),
                text(&money.totals.unpriced_note())
            )?;
        }
        writeln!(
            out,
            "| Step | Op | sObject | Record id | Finding | Description |"
        )?;
        writeln!(out, "|---:|---|---|---|---:|---|")?;
        for (step, action) in plan.actions.iter().enumerate() {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                step + 1,
                action.op,
                code(&action.sobject),
                action.id.as_deref().map_or_else(|| "-".to_string(), code),
                action.finding,
                text(&action.description)
            )?;
        }
        out.push('\n');
    }
    if !plan.notes.is_empty() {
        writeln!(out, "Plan notes:\n")?;
        for note in &plan.notes {
            writeln!(out, "- {}", text(note))?;
        }
        out.push('\n');
    }
    Ok(())
}

fn write_rule_notes(out: &mut String, report: &ScanReport) -> std::fmt::Result {
    let mut any = false;
    for rule in &report.rules {
        // The org's notes are already under the verdict.
        let notes: Vec<&String> = rule
            .notes
            .iter()
            .filter(|note| !report.org.notes.contains(note))
            .collect();
        if notes.is_empty() {
            continue;
        }
        if !any {
            writeln!(out, "## Rule notes\n")?;
            any = true;
        }
        writeln!(
            out,
            "### {} ({})\n",
            text(&rule.rule),
            status_word(rule.status)
        )?;
        for note in notes {
            writeln!(out, "- {}", text(note))?;
        }
        out.push('\n');
    }
    Ok(())
}

/// A rule status as the reports word it.
pub(crate) fn status_word(status: RuleStatus) -> &'static str {
    match status {
        RuleStatus::Applies => "applies",
        RuleStatus::NotApplicable => "not applicable",
        RuleStatus::Undetermined => "undetermined",
    }
}

/// Prose from the org, made inert (see [`crate::text::markdown`]).
fn text(raw: &str) -> String {
    crate::text::markdown(raw)
}

/// An identifier as a code span for a table cell (see [`crate::text::markdown_code`]).
fn code(raw: &str) -> String {
    crate::text::markdown_code(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture::{self, ORPHAN_SEAT};
    use crate::rules::testkit::USER2_SCV_SEAT;

    #[test]
    fn it_states_the_verdict_and_that_nothing_was_changed() {
        let md = render(&fixture::report());
        assert!(md.starts_with("# pslwarden scan: seed (Seed Example (simulated))\n"));
        assert!(
            md.contains("**Affected**: the Salesforce Voice permission set"),
            "{md}"
        );
        assert!(
            md.contains("**dry run: nothing was changed in the org**"),
            "{md}"
        );
    }

    #[test]
    fn a_not_affected_org_says_so() {
        let mut report = fixture::report();
        report.org.affected = false;
        report.org.affected_status = RuleStatus::NotApplicable;
        let md = render(&report);
        assert!(md.contains("**Not affected**"), "{md}");
        assert!(!md.contains("**Affected**"), "{md}");
    }

    #[test]
    fn the_findings_ledger_and_plan_are_table_rows() {
        let md = render(&fixture::report());
        assert!(
            md.contains(
                "| 0 | `scv-double-consumption` | `user2@seed-example.org` | yes | \
                 `ServiceCloudVoicePsl` | 1 |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| `ServiceCloudVoicePsl` | ServiceCloudVoicePsl | 2 | 2 | 0 | 1 | 1 | 0 | 0 | 0 | 1 | 1 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("1 more user(s) could be given"),
            "the what-if is missing: {md}"
        );
        let seat_step =
            format!("| 2 | delete | `PermissionSetLicenseAssign` | `{USER2_SCV_SEAT}` | 0 |");
        assert!(md.contains(&seat_step), "{md}");
        assert!(md.contains(&format!("`{ORPHAN_SEAT}`")), "{md}");
    }

    #[test]
    fn a_pipe_in_a_username_stays_inside_its_cell() {
        let mut report = fixture::report();
        fixture::rename_user(&mut report, 0, "evil|user@x.org");
        let md = render(&report);
        let row = md
            .lines()
            .find(|line| line.starts_with("| 0 |"))
            .expect("finding row");
        assert!(row.contains("`evil\\|user@x.org`"), "{row}");
        // Every unescaped pipe is a cell border: 7 columns, 8 borders, as in the header.
        let borders = |line: &str| line.replace("\\|", "").matches('|').count();
        assert_eq!(borders(row), 8, "{row}");
    }

    #[test]
    fn org_text_cannot_open_html_or_break_a_line() {
        let mut report = fixture::report();
        report.org.notes = vec!["<script>alert(1)</script>\n# not a heading".into()];
        let md = render(&report);
        assert!(
            md.contains("- \\<script\\>alert(1)\\</script\\> # not a heading\n"),
            "{md}"
        );
        assert!(!md.contains("<script>"), "{md}");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("plain"), "`plain`");
    }

    #[test]
    fn an_empty_scan_says_there_is_nothing_to_do() {
        let mut report = fixture::report();
        report.findings.clear();
        report.plan.actions.clear();
        let md = render(&report);
        assert!(md.contains("No findings"), "{md}");
        assert!(md.contains("No change planned."), "{md}");
    }
}
