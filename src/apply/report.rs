//! What one run of `apply` or `rollback` did, as data ([`RunReport`], saved as `apply.json` or
//! `rollback.json`) and as text for the terminal and for Markdown (`apply.md`).
//!
//! Must not: do I/O or read the clock; the command writes the files. Must not put text from the
//! org (usernames, descriptions, reasons, the org's error messages) into the terminal text or the
//! Markdown without [`crate::text`]: a username can hold escape sequences, HTML or table pipes.

use serde::Serialize;

use crate::report::number::grouped;
use crate::state::{ActionStatus, RunId, RunKind, RunStatus, StoredAction};

/// The report schema version of `apply.json` / `rollback.json` (2: `saving`).
pub const RUN_REPORT_SCHEMA_VERSION: u32 = 2;

/// How a skip reason starts when the action is the admin's to do (a fix with a manual step),
/// not drift: every output says "needs the admin", never "drifted".
pub const NEEDS_ADMIN: &str = "needs the admin: ";

/// The tag of such an action in the terminal list.
const NEEDS_ADMIN_TAG: &str = "needs the admin";

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
    /// The org's configured `mode` (`dry-run`, `apply`, `approved`): whether changes needed a
    /// person at a terminal, or an approval.
    pub mode: String,
    /// The org's change window in one line, as `pslwarden window` describes it: when this run
    /// was allowed to write.
    pub window: String,
    pub started_at: String,
    pub finished_at: String,
    /// Why the run stopped early or failed, what is left; `None` when it simply finished.
    pub message: Option<String>,
    /// The plan carried out: its id in the state store and where it came from.
    pub plan_id: Option<i64>,
    pub plan_source: Option<String>,
    /// The approval that drove this run (`mode = "approved"`): id, who, when.
    pub approval: Option<crate::approval::ApprovalRef>,
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
    /// What the seats this run freed are worth (a rollback: what the seats it took back cost
    /// again), priced by `[org.prices]`; absent without prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saving: Option<RunSaving>,
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
    /// Skipped because the admin must do it (its fix has a manual step), not because the org
    /// drifted: shown apart, as "needs the admin".
    pub needs_admin: bool,
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
            needs_admin: a.status == ActionStatus::Skipped
                && a.reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with(NEEDS_ADMIN)),
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

/// What one run's freed seats are worth: from the journal's seats ([`SeatLine::expected_change`]:
/// seat deletes done and read back as gone), never from the plan, so a seat skipped because
/// Salesforce still needs it, or failed, or left for the next run, is not counted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunSaving {
    /// ISO 4217 code of the amounts.
    pub currency: String,
    /// Priced seats this run freed (a rollback: took back).
    pub seats: u32,
    /// Their price per month and per year.
    pub worth: crate::money::Worth,
    /// Seats freed of licenses without a price: in no amount.
    pub unpriced_seats: u32,
    /// Those licenses.
    pub unpriced_licenses: Vec<String>,
}

impl RunSaving {
    /// Prices the seat lines of a run; `None` without prices.
    pub fn of(
        prices: Option<&crate::money::Prices>,
        seats: &[SeatLine],
        kind: RunKind,
    ) -> Option<RunSaving> {
        let prices = prices?;
        let mut saving = RunSaving {
            currency: prices.currency.code.clone(),
            seats: 0,
            worth: prices.worth(crate::money::Amount::ZERO),
            unpriced_seats: 0,
            unpriced_licenses: Vec::new(),
        };
        let mut monthly = crate::money::Amount::ZERO;
        for line in seats {
            let n = match kind {
                RunKind::Apply => line.expected_change,
                RunKind::Rollback => -line.expected_change,
            };
            let n = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
            if n == 0 {
                continue;
            }
            match prices.seat_monthly(&line.psl) {
                Some(price) => {
                    saving.seats += n;
                    monthly += price.times(i64::from(n));
                }
                None => {
                    saving.unpriced_seats += n;
                    saving.unpriced_licenses.push(line.psl.clone());
                }
            }
        }
        saving.worth = prices.worth(monthly);
        Some(saving)
    }

    /// The sentence every output uses.
    pub fn sentence(&self, kind: RunKind) -> String {
        let mut text = match kind {
            RunKind::Apply => format!(
                "Saved {} ({} seat(s) freed and read back as gone)",
                self.worth.text, self.seats
            ),
            RunKind::Rollback => format!(
                "The {} seat(s) taken back cost {} again",
                self.seats, self.worth.text
            ),
        };
        if self.unpriced_seats > 0 {
            text.push_str(&format!(
                "; {} more seat(s) of unpriced license(s) {}",
                self.unpriced_seats,
                self.unpriced_licenses.join(", ")
            ));
        }
        text
    }
}

impl RunReport {
    fn count(&self, status: ActionStatus) -> usize {
        self.actions
            .iter()
            .filter(|a| a.status == status && !a.needs_admin)
            .count()
    }

    /// The actions left to the admin.
    fn for_admin(&self) -> impl Iterator<Item = &ActionLine> {
        self.actions.iter().filter(|a| a.needs_admin)
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
            term(&self.org),
            term(&self.org_id),
            self.run_id,
            self.status
        ));
        out.push_str(&format!(
            "{} done, {} failed, {} skipped, {} need the admin; {} left for the next run; {} \
             write call(s), {} API call(s)\n",
            grouped(self.count(ActionStatus::Done)),
            grouped(self.count(ActionStatus::Failed)),
            grouped(self.count(ActionStatus::Skipped)),
            grouped(self.for_admin().count()),
            grouped(self.left_for_next_run),
            grouped(self.write_calls),
            grouped(self.api_calls)
        ));
        if let Some(message) = &self.message {
            out.push_str(&format!("{}\n", term(message)));
        }
        if let Some(a) = &self.approval {
            out.push_str(&format!("{}\n", term(&a.describe())));
        }
        for line in &self.plan_check {
            out.push_str(&format!("check: {}\n", term(line)));
        }
        if let Some(saving) = &self.saving {
            out.push_str(&format!("{}\n", term(&saving.sentence(self.kind))));
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
                        grouped(s.total),
                        grouped(s.used_before),
                        grouped(s.used_after),
                        grouped(sign * s.expected_change),
                        grouped(sign * s.actual_change),
                    ]
                })
                .collect();
            out.push_str(&crate::report::table::render_table(
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
            .filter(|a| a.status == ActionStatus::Skipped && !a.needs_admin)
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
                term(&a.description),
                term(a.reason.as_deref().unwrap_or(""))
            ));
        }
        if failed.len() > 10 {
            out.push_str(&format!(
                "- ... and {} more failed (see the report)\n",
                grouped(failed.len() - 10)
            ));
        }
        for (reason, n, first) in skipped.iter().take(10) {
            if *n == 1 {
                out.push_str(&format!(
                    "- [skipped] {} — {}\n",
                    term(&first.description),
                    term(reason)
                ));
            } else {
                out.push_str(&format!(
                    "- [skipped] {} actions, e.g. for {}: {}\n",
                    grouped(*n),
                    term(&first.username),
                    term(reason)
                ));
            }
        }
        // Manual steps one by one: each is something the admin has to go and do.
        let manual: Vec<&ActionLine> = self.for_admin().filter(|a| a.op == "manual").collect();
        for a in manual.iter().take(10) {
            out.push_str(&format!("- [{NEEDS_ADMIN_TAG}] {}\n", a.description));
        }
        if manual.len() > 10 {
            out.push_str(&format!(
                "- ... and {} more manual step(s) (see the report)\n",
                grouped(manual.len() - 10)
            ));
        }
        for step in self.new_since_plan.iter().take(10) {
            out.push_str(&format!("- [new, not applied] {}\n", term(step)));
        }
        out
    }

    /// The Markdown report (`apply.md`): the summary, then every action.
    pub fn render_markdown(&self) -> String {
        let mut out = format!(
            "# pslwarden {} run {} — org {}\n\n",
            match self.kind {
                RunKind::Apply => "apply",
                RunKind::Rollback => "rollback",
            },
            self.run_id,
            code(&self.org)
        );
        if self.simulated {
            out.push_str(&format!(
                "> **{}**\n\n",
                crate::report::SIMULATED_ORG_NOTICE
            ));
        }
        out.push_str(&format!(
            "- Org id: {}\n- Status: **{}**\n- Started: {}\n- Finished: {}\n- Trigger: {}\n",
            code(&self.org_id),
            self.status,
            md(&self.started_at),
            md(&self.finished_at),
            md(&self.trigger)
        ));
        if let Some(m) = &self.message {
            out.push_str(&format!("- Note: {}\n", md(m)));
        }
        if let Some(a) = &self.approval {
            out.push_str(&format!("- {}\n", md(&a.describe())));
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
        if let Some(saving) = &self.saving {
            out.push_str(&format!("- **{}**\n", md(&saving.sentence(self.kind))));
        }
        out.push_str(&format!(
            "- Left for the next run: {}\n- API calls: {} ({} write calls)\n\n",
            grouped(self.left_for_next_run),
            grouped(self.api_calls),
            grouped(self.write_calls)
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
                    code(&s.psl),
                    grouped(s.total),
                    grouped(s.used_before),
                    grouped(s.used_after),
                    grouped(s.expected_change),
                    grouped(s.actual_change)
                ));
            }
            out.push('\n');
        }
        let manual: Vec<&ActionLine> = self.for_admin().filter(|a| a.op == "manual").collect();
        if !manual.is_empty() {
            out.push_str(&format!(
                "## Needs the admin\n\n{} manual step(s): pslwarden does not make them, and their \
                 seats stay taken until the admin has.\n\n",
                grouped(manual.len())
            ));
            for a in &manual {
                out.push_str(&format!("- needs the admin: {}\n", md(&a.description)));
            }
            out.push('\n');
        }
        out.push_str("## Actions\n\n| # | Status | Op | Object | Record | User | What | Why |\n|---:|---|---|---|---|---|---|---|\n");
        for a in &self.actions {
            let status = if a.needs_admin {
                NEEDS_ADMIN_TAG.to_string()
            } else {
                a.status.to_string()
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                a.seq,
                status,
                a.op,
                code(&a.sobject),
                a.record_id.as_deref().map(code).unwrap_or_default(),
                md(&a.username),
                md(&a.description),
                if a.needs_admin && a.op == "manual" {
                    // The step itself is the description; it is listed under "Needs the admin".
                    "a manual step: the admin makes it (see Needs the admin)".to_string()
                } else {
                    md(a.reason.as_deref().unwrap_or(""))
                }
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

/// Org text as Markdown prose: escaped, on one line (see [`crate::text::markdown`]).
fn md(text: &str) -> String {
    crate::text::markdown(text)
}

/// An identifier as a Markdown code span (see [`crate::text::markdown_code`]).
fn code(text: &str) -> String {
    crate::text::markdown_code(text)
}

/// Org text for the terminal, on its line (see [`crate::text::terminal`]).
fn term(text: &str) -> String {
    crate::text::terminal(text)
}
