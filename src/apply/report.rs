//! What one run of `apply` or `rollback` did, as data ([`RunReport`], saved as `apply.json` or
//! `rollback.json`) and as text for the terminal and for Markdown (`apply.md`).
//!
//! Must not: do I/O or read the clock; the command writes the files.

use serde::Serialize;

use crate::state::{ActionStatus, RunId, RunKind, RunStatus, StoredAction};

/// The report schema version of `apply.json` / `rollback.json`.
pub const RUN_REPORT_SCHEMA_VERSION: u32 = 1;

/// One run's report.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema_version: u32,
    /// Org name in the config.
    pub org: String,
    /// `Organization.Id`.
    pub org_id: String,
    /// The org is a simulator, not a real Salesforce org: the text, Markdown and JSON say so.
    pub simulated: bool,
    pub run_id: RunId,
    pub kind: RunKind,
    pub status: RunStatus,
    /// `terminal` (confirmed by a person) or `unattended` (`--yes`).
    pub trigger: String,
    pub started_at: String,
    pub finished_at: String,
    /// Why the run stopped early or failed, what is left; `None` when it simply finished.
    pub message: Option<String>,
    /// The plan carried out: its id in the state store and where it came from.
    pub plan_id: Option<i64>,
    pub plan_source: Option<String>,
    /// The run continued a plan an earlier run left unfinished.
    pub resumed: bool,
    /// How the plan was checked against the org right before acting.
    pub plan_check: Vec<String>,
    /// Every action this run decided, in plan order.
    pub actions: Vec<ActionLine>,
    /// Actions of the plan still waiting for a later run.
    pub left_for_next_run: usize,
    /// Seats per license: what the journal says this run freed (or re-took) and what the org's
    /// own count says.
    pub seats: Vec<SeatLine>,
    /// Steps a fresh plan would add that the given plan did not have: not applied.
    pub new_since_plan: Vec<String>,
    /// REST calls of this run (token requests excluded) and composite write calls.
    pub api_calls: u64,
    pub write_calls: u32,
    /// Daily API usage after the run, when the org reported it.
    pub daily_api_used: Option<u64>,
    pub daily_api_max: Option<u64>,
}

/// One action as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ActionLine {
    pub seq: u32,
    pub op: String,
    pub sobject: String,
    /// The record deleted, or the record created.
    pub record_id: Option<String>,
    pub user_id: String,
    pub username: String,
    pub description: String,
    pub status: ActionStatus,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub batch: Option<u32>,
}

impl ActionLine {
    pub fn of(a: &StoredAction) -> Self {
        ActionLine {
            seq: a.seq,
            op: a.op.to_string(),
            sobject: a.sobject.clone(),
            record_id: a.result_id.clone().or_else(|| a.record_id.clone()),
            user_id: a.user_id.clone(),
            username: a.username.clone(),
            description: a.description.clone(),
            status: a.status,
            outcome: a.outcome.clone(),
            reason: a.reason.clone(),
            batch: a.batch,
        }
    }
}

/// Seats of one license before and after the run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SeatLine {
    /// `DeveloperName`.
    pub psl: String,
    pub psl_id: String,
    pub total: u32,
    /// `UsedLicenses` right before the first batch and after the last.
    pub used_before: u32,
    pub used_after: u32,
    /// Seats the journal says this run freed (negative for a rollback, which takes them back).
    pub expected_change: i64,
    /// `used_before - used_after`, as Salesforce counts.
    pub actual_change: i64,
}

impl RunReport {
    fn count(&self, status: ActionStatus) -> usize {
        self.actions.iter().filter(|a| a.status == status).count()
    }

    /// The terminal summary.
    pub fn render_text(&self) -> String {
        let verb = match self.kind {
            RunKind::Apply => "apply",
            RunKind::Rollback => "rollback",
        };
        let mut out = String::new();
        if self.simulated {
            out.push_str(crate::report::SIMULATED_ORG_NOTICE);
            out.push('\n');
        }
        out.push_str(&format!(
            "Org `{}` ({}) — {verb} run {}: {}\n",
            self.org, self.org_id, self.run_id, self.status
        ));
        out.push_str(&format!(
            "{} done, {} failed, {} skipped; {} left for the next run; {} write call(s), {} API \
             call(s)\n",
            self.count(ActionStatus::Done),
            self.count(ActionStatus::Failed),
            self.count(ActionStatus::Skipped),
            self.left_for_next_run,
            self.write_calls,
            self.api_calls
        ));
        if let Some(message) = &self.message {
            out.push_str(&format!("{message}\n"));
        }
        for line in &self.plan_check {
            out.push_str(&format!("check: {line}\n"));
        }
        if !self.seats.is_empty() {
            out.push('\n');
            let head = match self.kind {
                RunKind::Apply => "Seats freed",
                RunKind::Rollback => "Seats taken back",
            };
            let rows: Vec<Vec<String>> = self
                .seats
                .iter()
                .map(|s| {
                    let sign = if self.kind == RunKind::Rollback {
                        -1
                    } else {
                        1
                    };
                    vec![
                        s.psl.clone(),
                        s.total.to_string(),
                        s.used_before.to_string(),
                        s.used_after.to_string(),
                        (sign * s.expected_change).to_string(),
                        (sign * s.actual_change).to_string(),
                    ]
                })
                .collect();
            out.push_str(&crate::commands::render_table(
                &[
                    "PSL",
                    "Total",
                    "Used before",
                    "Used after",
                    &format!("{head} (journal)"),
                    &format!("{head} (org)"),
                ],
                &rows,
                &[false, true, true, true, true, true],
            ));
        }
        // Failures one by one (they need attention); skips counted by reason.
        let failed: Vec<&ActionLine> = self
            .actions
            .iter()
            .filter(|a| a.status == ActionStatus::Failed)
            .collect();
        let mut skipped: Vec<(&str, usize, &ActionLine)> = Vec::new();
        for a in self
            .actions
            .iter()
            .filter(|a| a.status == ActionStatus::Skipped)
        {
            let reason = a.reason.as_deref().unwrap_or("no reason recorded");
            match skipped.iter_mut().find(|(r, ..)| *r == reason) {
                Some((_, n, _)) => *n += 1,
                None => skipped.push((reason, 1, a)),
            }
        }
        if !failed.is_empty() || !skipped.is_empty() {
            out.push('\n');
        }
        for a in failed.iter().take(10) {
            out.push_str(&format!(
                "- [failed] {} — {}\n",
                a.description,
                a.reason.as_deref().unwrap_or("")
            ));
        }
        if failed.len() > 10 {
            out.push_str(&format!(
                "- ... and {} more failed (see the report)\n",
                failed.len() - 10
            ));
        }
        for (reason, n, first) in skipped.iter().take(10) {
            if *n == 1 {
                out.push_str(&format!("- [skipped] {} — {reason}\n", first.description));
            } else {
                out.push_str(&format!(
                    "- [skipped] {n} actions, e.g. for {}: {reason}\n",
                    first.username
                ));
            }
        }
        for step in self.new_since_plan.iter().take(10) {
            out.push_str(&format!("- [new, not applied] {step}\n"));
        }
        out
    }

    /// The Markdown report (`apply.md`): the summary, then every action.
    pub fn render_markdown(&self) -> String {
        let mut out = format!(
            "# pslwarden {} run {} — org `{}`\n\n",
            match self.kind {
                RunKind::Apply => "apply",
                RunKind::Rollback => "rollback",
            },
            self.run_id,
            self.org
        );
        if self.simulated {
            out.push_str(&format!(
                "> **{}**\n\n",
                crate::report::SIMULATED_ORG_NOTICE
            ));
        }
        out.push_str(&format!(
            "- Org id: `{}`\n- Status: **{}**\n- Started: {}\n- Finished: {}\n- Trigger: {}\n",
            self.org_id, self.status, self.started_at, self.finished_at, self.trigger
        ));
        if let Some(m) = &self.message {
            out.push_str(&format!("- Note: {}\n", md(m)));
        }
        if let Some(source) = &self.plan_source {
            out.push_str(&format!(
                "- Plan: {} ({}){}\n",
                self.plan_id.map(|p| format!("#{p}")).unwrap_or_default(),
                md(source),
                if self.resumed {
                    ", resumed from an earlier run"
                } else {
                    ""
                }
            ));
        }
        out.push_str(&format!(
            "- Left for the next run: {}\n- API calls: {} ({} write calls)\n\n",
            self.left_for_next_run, self.api_calls, self.write_calls
        ));
        if !self.plan_check.is_empty() {
            out.push_str("## Check before acting\n\n");
            for line in &self.plan_check {
                out.push_str(&format!("- {}\n", md(line)));
            }
            out.push('\n');
        }
        if !self.seats.is_empty() {
            out.push_str("## Seats\n\n| PSL | Total | Used before | Used after | Change (journal) | Change (org) |\n|---|---:|---:|---:|---:|---:|\n");
            for s in &self.seats {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    s.psl, s.total, s.used_before, s.used_after, s.expected_change, s.actual_change
                ));
            }
            out.push('\n');
        }
        out.push_str("## Actions\n\n| # | Status | Op | Object | Record | User | What | Why |\n|---:|---|---|---|---|---|---|---|\n");
        for a in &self.actions {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                a.seq,
                a.status,
                a.op,
                a.sobject,
                a.record_id.as_deref().unwrap_or(""),
                md(&a.username),
                md(&a.description),
                md(a.reason.as_deref().unwrap_or(""))
            ));
        }
        if !self.new_since_plan.is_empty() {
            out.push_str("\n## New since the plan (not applied: review with `pslwarden scan`)\n\n");
            for s in &self.new_since_plan {
                out.push_str(&format!("- {}\n", md(s)));
            }
        }
        out
    }

    /// `apply.json`.
    pub fn render_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .expect("a run report holds only strings, numbers and lists");
        s.push('\n');
        s
    }
}

/// Escapes text for a Markdown table cell.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
