//! Carrying out a fix plan: gated by the org's window, journaled, resumable and reversible.
//!
//! * [`gate`]: the safety caps, the unattended-mode switch and the per-batch decision (pure).
//! * [`verify`]: drift — do each action's facts still hold right before it runs (pure).
//! * [`engine`]: batches, intent before and outcome after every write call, reconciliation.
//! * [`clock`]: the instant the gate sees (the system clock; a rehearsal clock in debug builds).
//! * [`report`]: what a run did, for the terminal, `apply.json` and `apply.md`.
//! * [`html`]: the same as a page, `apply.html` / `rollback.html`.
//!
//! The commands `apply`, `rollback` and `history` (in [`crate::commands`]) put these together
//! with the state store ([`crate::state`]).
//!
//! Architecture invariant: only [`engine::execute`] sends writes to an org, and only after
//! [`gate::check`] allowed the batch and the state store committed the batch's intent; nothing
//! is deleted whose fields are not journaled first.

pub mod clock;
pub mod engine;
pub mod gate;
pub mod html;
pub mod report;
pub mod verify;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::plan::{LICENSE_ASSIGNMENT, Op, PERMISSION_SET_ASSIGNMENT};
use crate::salesforce::SfError;
use crate::snapshot::{FetchError, OrgSnapshot};
use crate::state::StateError;

/// Why `apply` or `rollback` did not (fully) run. Each says whether anything was changed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(
        "org `{org}` has mode = \"{mode}\": an unattended apply (--yes, or no terminal to \
         confirm at) needs `mode = \"apply\"` in the org's [[org]] block. Nothing was changed"
    )]
    NotUnattended { org: String, mode: &'static str },
    #[error(
        "there is no terminal to confirm at and --yes was not given: run it at a terminal, or \
         pass --yes (with `mode = \"apply\"` in the org's config). Nothing was changed"
    )]
    NoTerminal,
    #[error("not confirmed: nothing was changed")]
    Declined,
    #[error(
        "org `{org}` has mode = \"approved\" and no pending, unexpired approval, so nothing was \
         changed. Review the latest report and approve it with `pslwarden approve --org {org} \
         --latest`"
    )]
    NothingApproved { org: String },
    #[error(
        "org `{org}` has mode = \"approved\": an unattended apply carries out only approved \
         plans, so --plan is not used. Approve the file first with `pslwarden approve --org {org} \
         --plan FILE`. Nothing was changed"
    )]
    PlanFileInApprovedMode { org: String },
    #[error("org `{org}` is outside its window, so nothing was changed: {words}")]
    WindowClosed { org: String, words: String },
    #[error("cannot read the plan file {path}: {source}")]
    PlanRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}. Nothing was changed")]
    PlanFile {
        path: PathBuf,
        source: crate::plan::PlanFileError,
    },
    #[error(
        "the plan file {path} is for org {plan_org_id}, but org `{org}` is {org_id}: a plan is \
         applied only to the org it was made for. Nothing was changed"
    )]
    ForeignPlan {
        path: PathBuf,
        plan_org_id: String,
        org: String,
        org_id: String,
    },
    #[error(
        "the state store holds an unfinished plan ({plan}) of org `{org}` made for org id \
         {stored_org_id}, but the org signed in to is {org_id}: has the config's org been \
         pointed at another Salesforce org? Nothing was changed"
    )]
    StoredPlanOrg {
        org: String,
        plan: i64,
        stored_org_id: String,
        org_id: String,
    },
    #[error("reading org `{org}` failed: {source}")]
    Fetch { org: String, source: FetchError },
    #[error("org `{org}`: {source}")]
    Salesforce { org: String, source: SfError },
    #[error(
        "org `{org}`: write call of batch {batch} failed: {source}. What the org did with that \
         batch was checked and journaled where possible; the next run checks the rest before \
         doing anything else"
    )]
    Write {
        org: String,
        batch: u32,
        source: SfError,
    },
    #[error("org `{org}`: the fresh plan could not be made: {detail}. Nothing was changed")]
    Replan { org: String, detail: String },
    #[error("no run {0} in the state store: see `pslwarden history`")]
    UnknownRun(i64),
    #[error("run {run} belongs to org `{run_org}`, not `{org}`: pass --org {run_org}")]
    RunOfOtherOrg {
        run: i64,
        run_org: String,
        org: String,
    },
    #[error("run {0} is a rollback; roll back the apply run it undid instead, or apply again")]
    RollbackOfRollback(i64),
    #[error("run {run} changed nothing, so there is nothing to roll back")]
    NothingToRollBack { run: i64 },
    #[error("run {run} was rolled back already (by run {by}); every change it made is restored")]
    AlreadyRolledBack { run: i64, by: i64 },
    #[error(
        "run {run} was made on org {run_org_id}, but org `{org}` is now {org_id}. Nothing was \
         changed"
    )]
    RollbackOrg {
        run: i64,
        run_org_id: String,
        org: String,
        org_id: String,
    },
    #[error(
        "org `{org}` still has an unfinished plan ({plan}); finish it with `pslwarden apply` \
         before rolling back, so the two never interleave"
    )]
    PlanOpen { org: String, plan: i64 },
    #[error(transparent)]
    Report(#[from] crate::report::write::ReportError),
    /// A failure of a command-layer step a run depends on (signing in, the scan a run starts
    /// with, installing the signal handler). Carried opaque — its message and source chain intact —
    /// because `apply` sits below `commands` and must not name its error type.
    #[error(transparent)]
    Command(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// The fields that re-create a record the plan deletes, from a fresh read of it, or `None` when
/// the fresh read does not have it (then it must not be deleted: it cannot be journaled).
pub fn restore_fields(
    fresh: &OrgSnapshot,
    sobject: &str,
    record_id: &str,
) -> Option<BTreeMap<String, String>> {
    if sobject == PERMISSION_SET_ASSIGNMENT {
        let a = fresh
            .permission_set_assignments
            .iter()
            .find(|a| a.id == record_id)?;
        let mut fields = BTreeMap::from([("AssigneeId".to_string(), a.assignee_id.clone())]);
        match &a.permission_set_group_id {
            Some(group) => fields.insert("PermissionSetGroupId".into(), group.clone()),
            None => fields.insert("PermissionSetId".into(), a.permission_set_id.clone()?),
        };
        if let Some(date) = &a.expiration_date {
            fields.insert("ExpirationDate".into(), date.clone());
        }
        Some(fields)
    } else if sobject == LICENSE_ASSIGNMENT {
        let s = fresh
            .license_assignments
            .iter()
            .find(|s| s.id == record_id)?;
        Some(BTreeMap::from([
            ("AssigneeId".to_string(), s.assignee_id.clone()),
            ("PermissionSetLicenseId".to_string(), s.license_id.clone()),
        ]))
    } else {
        None
    }
}

/// The current values of the fields an update changes, from a fresh read, so a rollback can set
/// them back; `None` when the fresh read does not have the record.
pub fn update_restore_fields<'a>(
    fresh: &OrgSnapshot,
    sobject: &str,
    record_id: &str,
    fields: impl IntoIterator<Item = &'a String>,
) -> Option<BTreeMap<String, String>> {
    let data = fresh.natterbox.as_ref().filter(|d| d.object == sobject)?;
    let record = data.records.iter().find(|r| r.id == record_id)?;
    Some(
        fields
            .into_iter()
            .map(|f| {
                (
                    f.clone(),
                    record.fields.get(f).copied().unwrap_or(false).to_string(),
                )
            })
            .collect(),
    )
}

/// Same action in two plans: same operation on the same record (or the same new record).
pub fn same_step(
    a: (Op, &str, Option<&str>, &BTreeMap<String, String>),
    b: (Op, &str, Option<&str>, &BTreeMap<String, String>),
) -> bool {
    a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3
}
