//! The state store's record types: what callers hand in ([`NewPlan`], [`NewFinding`],
//! [`NewAction`], [`Outcome`]), what they read back ([`StoredPlan`], [`StoredAction`],
//! [`StoredRun`], [`RunOverview`]) and the statuses with their stored spellings.
//!
//! Must not: hold SQL or touch the database (the parent module does); the spellings here are
//! the only ones the database holds, so changing one is a schema change.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::{Fact, Op};

/// Ids of rows.
pub type PlanId = i64;
pub type RunId = i64;
pub type ActionId = i64;

/// What a run or a plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Carries out a fix plan.
    Apply,
    /// Re-creates what an earlier run deleted.
    Rollback,
}

/// How a run ended (or that it is still going, or died).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Going on now (or the process died: the next run marks it `interrupted`).
    Running,
    /// Everything it took on is decided (done, failed or skipped).
    Completed,
    /// The gate stopped it (window, API headroom) or a cap left work for the next run.
    Stopped,
    /// An error ended it; its intents were reconciled or are left for the next run.
    Failed,
    /// The process died while it ran; found and closed by a later run.
    Interrupted,
}

/// Where one action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Waiting for a run.
    Planned,
    /// Its write call is about to be or was sent; the outcome is not yet recorded.
    Intent,
    /// The org is as the action wanted.
    Done,
    /// Salesforce refused it; `reason` says why.
    Failed,
    /// Not carried out, and never will be; `reason` says why.
    Skipped,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:path => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The spelling stored in the database and shown in reports.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),* }
            }
            pub(super) fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($variant),)* _ => None }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(RunKind { RunKind::Apply => "apply", RunKind::Rollback => "rollback" });
text_enum!(RunStatus {
    RunStatus::Running => "running",
    RunStatus::Completed => "completed",
    RunStatus::Stopped => "stopped",
    RunStatus::Failed => "failed",
    RunStatus::Interrupted => "interrupted",
});
text_enum!(ActionStatus {
    ActionStatus::Planned => "planned",
    ActionStatus::Intent => "intent",
    ActionStatus::Done => "done",
    ActionStatus::Failed => "failed",
    ActionStatus::Skipped => "skipped",
});

pub(super) fn op_str(op: Op) -> &'static str {
    match op {
        Op::Delete => "delete",
        Op::Create => "create",
        Op::Manual => "manual",
        Op::Update => "update",
    }
}

pub(super) fn parse_op(text: &str) -> Option<Op> {
    match text {
        "delete" => Some(Op::Delete),
        "create" => Some(Op::Create),
        "manual" => Some(Op::Manual),
        "update" => Some(Op::Update),
        _ => None,
    }
}

/// A plan to store: its header.
#[derive(Debug, Clone)]
pub struct NewPlan<'a> {
    /// Org name in the config: plans and locks are per org.
    pub org: &'a str,
    /// `Organization.Id`: a plan is only ever continued on the org it was made for.
    pub org_id: &'a str,
    /// A fix plan or an undo plan.
    pub kind: RunKind,
    /// The fix plan's digest (for a rollback plan, a label of what it undoes).
    pub digest: &'a str,
    /// `scan`, the plan file's path, or `rollback of run N`.
    pub source: &'a str,
    /// When the data the plan rests on was read.
    pub snapshot_taken_at: &'a str,
    /// When the plan was stored.
    pub created_at: &'a str,
    /// For an undo plan: the run it undoes.
    pub rollback_of_run: Option<RunId>,
    /// The plan's notes (findings without actions, and why).
    pub notes: &'a [String],
}

/// A finding to store with its plan (what the history shows as "why").
#[derive(Debug, Clone)]
pub struct NewFinding<'a> {
    /// Position in the scan's findings: actions name their finding by it.
    pub position: usize,
    /// Rule id and finer kind, as in `report.json`.
    pub rule: &'a str,
    pub kind: &'a str,
    /// The user whose seat is wasted.
    pub user_id: &'a str,
    pub username: &'a str,
    /// `DeveloperName` of the license.
    pub psl: &'a str,
    /// Seats the fix frees.
    pub recoverable_seats: u32,
    /// One sentence for the admin.
    pub summary: &'a str,
}

/// An action to store, `planned`: a plan's action, and for a rollback the action it undoes.
#[derive(Debug, Clone)]
pub struct NewAction {
    /// What to do, to which record, for which finding, relying on which facts.
    pub action: crate::plan::Action,
    /// For a rollback action: the action whose change it undoes.
    pub undoes: Option<ActionId>,
}

/// A stored plan's header.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPlan {
    pub id: PlanId,
    /// As in [`NewPlan`].
    pub org: String,
    pub org_id: String,
    pub kind: RunKind,
    pub digest: String,
    pub source: String,
    pub snapshot_taken_at: String,
    pub created_at: String,
    pub rollback_of_run: Option<RunId>,
    /// `open` while actions are planned, `finished` once none is.
    pub status: String,
    pub notes: Vec<String>,
}

/// A stored action with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct StoredAction {
    pub id: ActionId,
    pub plan_id: PlanId,
    /// Position in the plan: the order actions run in.
    pub seq: u32,
    /// As in [`crate::plan::Action`] (`id` there is `record_id` here).
    pub op: Op,
    pub sobject: String,
    pub record_id: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub finding: usize,
    pub rule: String,
    pub user_id: String,
    pub username: String,
    pub description: String,
    pub facts: Vec<Fact>,
    /// Where it stands in the journal.
    pub status: ActionStatus,
    /// Why it was skipped or failed, or how it was done (e.g. "already gone").
    pub reason: Option<String>,
    /// The run that carried it out (or skipped it).
    pub run_id: Option<RunId>,
    /// The batch of that run it went in.
    pub batch: Option<u32>,
    /// For a delete: the deleted record's fields, to re-create it (journaled before the delete).
    pub restore: Option<BTreeMap<String, String>>,
    /// For a create: the new record's id.
    pub result_id: Option<String>,
    /// Short outcome code: `deleted`, `already_gone`, `created`, `already_present`, or the
    /// Salesforce error code.
    pub outcome: Option<String>,
    /// For a rollback action: the action it undoes.
    pub undoes: Option<ActionId>,
    /// The rollback run that undid this action.
    pub restored_by: Option<RunId>,
    /// When the journal last changed it.
    pub updated_at: String,
}

/// A stored run.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRun {
    pub id: RunId,
    /// Org name in the config, and `Organization.Id`.
    pub org: String,
    pub org_id: String,
    /// The plan it carried out (none when it failed before having one).
    pub plan_id: Option<PlanId>,
    pub kind: RunKind,
    /// `terminal` (a person confirmed) or `unattended` (`--yes`).
    pub trigger: String,
    /// RFC 3339 UTC; `finished_at` is empty while it runs.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    /// Why it stopped or failed, or what is left.
    pub message: Option<String>,
    /// The run's summary as JSON (seats expected and actually freed, API calls), once finished.
    pub summary: Option<serde_json::Value>,
}

/// A run with the counts of what it did, for `history`.
#[derive(Debug, Clone, Serialize)]
pub struct RunOverview {
    #[serde(flatten)]
    pub run: StoredRun,
    /// Its actions by status.
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Manual steps of its plan: left to the admin, never carried out by a run.
    pub needs_admin: u64,
    /// Seats (license assignments) this run removed, or re-created for a rollback.
    pub seats: u64,
}

/// An action's outcome, as recorded after its write call.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The action it is about.
    pub action: ActionId,
    /// `done` or `failed` (reconciliation may also say `done`).
    pub status: ActionStatus,
    /// Short code, as [`StoredAction::outcome`].
    pub outcome: String,
    /// Salesforce's errors, or how the goal was met.
    pub reason: Option<String>,
    /// A created record's id.
    pub result_id: Option<String>,
}
