//! `apply.html` and `rollback.html`: what one run did, for people, one self-contained page on the
//! shared layout (`templates/base.html`) filled by `templates/apply.html` (both kinds of run).
//!
//! Owns: the page's view model (each action's outcome word and why, seat changes signed as the
//! run's kind reads them, the journal and rollback commands) and its own inline style.
//! Must not: reference anything outside the file, print org text (usernames, descriptions,
//! reasons, the org's error messages) except through the template's escaper, do I/O or read the
//! clock; the command writes the file.

use askama::Template;

use super::report::{ActionLine, RunReport, RunSaving};
use crate::report::html::Layout;
use crate::state::{ActionStatus, RunKind};

/// The page's own style beyond the shared stylesheet.
const PAGE_STYLE: &str = "\
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.run dt { font-weight: 600; }
dl.run dd { margin: 0; }
.counts { font-size: 1.05em; }
.admin { border-left: .4rem solid var(--warn); background: #fffbea; padding: .25rem .75rem; }
pre.command { background: #f6f8fa; border: 1px solid var(--line); padding: .4rem .7rem;
  overflow-x: auto; }
td.why { overflow-wrap: break-word; min-width: 14rem; }
.saving { border-left: .4rem solid var(--good); background: #f4fff6; padding: .25rem .75rem; }";

/// What `templates/apply.html` prints.
#[derive(Template)]
#[template(path = "apply.html")]
struct RunPage<'a> {
    /// Title, banner, policy: the shared frame.
    layout: Layout,
    report: &'a RunReport,
    /// `Apply` or `Rollback`, for the heading.
    kind: &'static str,
    /// The run's overall status as a badge class: completed good, failed bad, otherwise warn.
    status_class: &'static str,
    done: usize,
    failed: usize,
    skipped: usize,
    needs_admin: usize,
    /// What the run's freed seats are worth (a rollback: what the seats taken back cost
    /// again), in a sentence; shown only when the report has `saving` (prices configured).
    saving_line: String,
    /// "Seats freed" for an apply, "Seats taken back" for a rollback.
    seats_head: &'static str,
    seats: Vec<SeatRow<'a>>,
    /// The admin's manual steps, one by one: pslwarden does not make them.
    manual: Vec<&'a str>,
    actions: Vec<ActionRow<'a>>,
    /// Where the journal of this run is read.
    journal_command: String,
    /// How to undo this run: an apply that changed something; `None` otherwise.
    rollback_command: Option<String>,
}

/// One license's seats, the change signed so that a positive number is what the heading says.
struct SeatRow<'a> {
    psl: &'a str,
    total: u32,
    used_before: u32,
    used_after: u32,
    journal: i64,
    org: i64,
}

/// One action as the page lists it.
struct ActionRow<'a> {
    line: &'a ActionLine,
    /// `done`, `failed`, `skipped`, `needs the admin` (or a state the run left it in).
    outcome: &'static str,
    /// The badge class of `outcome`.
    class: &'static str,
    /// Why it was skipped or failed, or what Salesforce answered.
    why: String,
}

impl ActionRow<'_> {
    fn of(line: &ActionLine) -> ActionRow<'_> {
        let (outcome, class) = if line.needs_admin {
            ("needs the admin", "badge-warn")
        } else {
            match line.status {
                ActionStatus::Done => ("done", "badge-good"),
                ActionStatus::Failed => ("failed", "badge-bad"),
                ActionStatus::Skipped => ("skipped", "badge-plain"),
                ActionStatus::Planned => ("not run", "badge-plain"),
                ActionStatus::Intent => ("outcome unknown", "badge-warn"),
            }
        };
        let why = if line.needs_admin && line.op == "manual" {
            // The step itself is the description; it is listed under "Needs the admin".
            "a manual step: the admin makes it (see Needs the admin)".to_string()
        } else {
            match (&line.reason, &line.outcome) {
                (Some(reason), _) => reason.clone(),
                (None, Some(outcome)) => outcome.clone(),
                (None, None) => String::new(),
            }
        };
        ActionRow {
            line,
            outcome,
            class,
            why,
        }
    }
}

impl RunReport {
    /// `apply.html` or `rollback.html`.
    pub fn render_html(&self) -> String {
        let (kind, seats_head, sign) = match self.kind {
            RunKind::Apply => ("Apply", "Seats freed", 1),
            RunKind::Rollback => ("Rollback", "Seats taken back", -1),
        };
        let count = |status: ActionStatus| {
            self.actions
                .iter()
                .filter(|a| a.status == status && !a.needs_admin)
                .count()
        };
        let anything_done = self.actions.iter().any(|a| a.status == ActionStatus::Done);
        let page = RunPage {
            layout: Layout::new(
                format!(
                    "pslwarden {} run {}: {}",
                    kind.to_lowercase(),
                    self.run_id,
                    self.org
                ),
                self.simulated,
            )
            .with_style(PAGE_STYLE),
            report: self,
            kind,
            status_class: match self.status.as_str() {
                "completed" => "badge-good",
                "failed" | "interrupted" => "badge-bad",
                _ => "badge-warn",
            },
            done: count(ActionStatus::Done),
            failed: count(ActionStatus::Failed),
            skipped: count(ActionStatus::Skipped),
            needs_admin: self.actions.iter().filter(|a| a.needs_admin).count(),
            saving_line: self
                .saving
                .as_ref()
                .map(|saving| saving_line(saving, self.kind))
                .unwrap_or_default(),
            seats_head,
            seats: self
                .seats
                .iter()
                .map(|s| SeatRow {
                    psl: &s.psl,
                    total: s.total,
                    used_before: s.used_before,
                    used_after: s.used_after,
                    journal: sign * s.expected_change,
                    org: sign * s.actual_change,
                })
                .collect(),
            manual: self
                .actions
                .iter()
                .filter(|a| a.needs_admin && a.op == "manual")
                .map(|a| a.description.as_str())
                .collect(),
            actions: self.actions.iter().map(ActionRow::of).collect(),
            // Org names are letters, digits, `-` and `_` (checked with the config): safe to
            // paste into a shell.
            journal_command: format!("pslwarden history --org {} --run {}", self.org, self.run_id),
            rollback_command: (self.kind == RunKind::Apply && anything_done).then(|| {
                format!(
                    "pslwarden rollback --org {} --run {}",
                    self.org, self.run_id
                )
            }),
        };
        // Rendering into a String fails only if a value's Display fails; ours cannot.
        page.render().unwrap_or_else(|e| {
            format!("<!DOCTYPE html><title>run report</title><p>could not render: {e}</p>\n")
        })
    }
}

/// "Seats freed and read back: 1, saving USD 50.00 / month, USD 600.00 / year", or for a
/// rollback what the seats taken back cost again; unpriced seats named after.
fn saving_line(saving: &RunSaving, kind: RunKind) -> String {
    let mut line = match kind {
        RunKind::Apply => format!(
            "Seats freed and read back: {}, saving {}",
            saving.seats, saving.worth.text
        ),
        RunKind::Rollback => format!(
            "Seats taken back: {}, costing {} again",
            saving.seats, saving.worth.text
        ),
    };
    if saving.unpriced_seats > 0 {
        line.push_str(&format!(
            "; {} more seat(s) of unpriced license(s) {}, in no amount",
            saving.unpriced_seats,
            saving.unpriced_licenses.join(", ")
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::super::report::{RUN_REPORT_SCHEMA_VERSION, SeatLine};
    use super::*;
    use crate::state::RunStatus;

    fn action(seq: u32, status: ActionStatus, username: &str, reason: Option<&str>) -> ActionLine {
        ActionLine {
            seq,
            op: "delete".into(),
            sobject: "PermissionSetLicenseAssign".into(),
            record_id: Some(format!("2LA00000000000{seq}AAA")),
            user_id: "005000000000002AAA".into(),
            username: username.into(),
            description: format!("free the seat of {username}"),
            status,
            outcome: None,
            reason: reason.map(str::to_string),
            batch: Some(1),
            needs_admin: false,
        }
    }

    fn report(kind: RunKind, simulated: bool) -> RunReport {
        RunReport {
            schema_version: RUN_REPORT_SCHEMA_VERSION,
            org: "sim".into(),
            org_id: "00D000000000001AAA".into(),
            simulated,
            run_id: 7,
            kind,
            status: RunStatus::Completed,
            trigger: "unattended".into(),
            mode: "apply".into(),
            window: "always open".into(),
            started_at: "2026-01-05T22:00:00Z".into(),
            finished_at: "2026-01-05T22:00:03Z".into(),
            message: None,
            plan_id: Some(3),
            plan_source: Some("fresh scan".into()),
            approval: None,
            resumed: false,
            plan_check: vec![],
            actions: vec![
                action(1, ActionStatus::Done, "a@x.org", None),
                action(
                    2,
                    ActionStatus::Skipped,
                    "<script>alert(1)</script>@x.org",
                    Some("the user holds the seat again"),
                ),
            ],
            left_for_next_run: 0,
            saving: None,
            seats: vec![SeatLine {
                psl: "ServiceCloudVoicePsl".into(),
                psl_id: "0PL000000000001AAA".into(),
                total: 10,
                used_before: 8,
                used_after: 7,
                expected_change: 1,
                actual_change: 1,
            }],
            new_since_plan: vec![],
            api_calls: 9,
            write_calls: 1,
            daily_api_used: None,
            daily_api_max: None,
        }
    }

    #[test]
    fn an_apply_page_lists_outcomes_seats_and_the_way_back() {
        let html = report(RunKind::Apply, true).render_html();
        crate::report::html::assert_self_contained(&html);
        assert!(html.contains("SIMULATED ORG"));
        assert!(html.contains("badge-good\">done<"), "{html}");
        assert!(html.contains("badge-plain\">skipped<"));
        assert!(html.contains("the user holds the seat again"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@x.org"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("pslwarden rollback --org sim --run 7"));
        assert!(html.contains("pslwarden history --org sim --run 7"));
        assert!(html.contains("<dd>apply</dd>") && html.contains("<dd>always open</dd>"));
    }

    #[test]
    fn a_rollback_page_counts_seats_taken_back() {
        let mut r = report(RunKind::Rollback, false);
        r.seats[0].expected_change = -1;
        r.seats[0].actual_change = -1;
        let html = r.render_html();
        assert!(!html.contains("SIMULATED ORG"));
        assert!(html.contains("Seats taken back"));
        assert!(
            !html.contains("pslwarden rollback --org"),
            "no undo of an undo"
        );
        assert!(
            html.contains("<td class=\"num\">1</td><td class=\"num\">1</td></tr>"),
            "{html}"
        );
    }
}
