//! `mode = "approved"`: which plan an unattended apply may carry out, and what it records.
//!
//! Owns: expiring approvals, closing a plan no open approval drives, picking the approval to
//! carry out (an unfinished one first, then the oldest pending), and linking the run to it.
//!
//! Must not: apply anything itself. The chosen plan goes through `apply`'s usual path: the gate,
//! the drift re-check (a plan whose facts changed is re-planned and only steps that still hold
//! are applied), the caps, the journal.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::apply::ApplyError;
use crate::approval::{Approval, ApprovalStatus};
use crate::config::OrgSettings;
use crate::plan::Plan;
use crate::state::{RunId, StateError, StateStore};

/// The approval this run carries out.
pub(super) struct Driving {
    pub approval: Approval,
    /// The approved plan, when no earlier run stored it yet (`None`: the stored plan of the
    /// approval is continued).
    pub plan_file: Option<(PathBuf, Plan)>,
}

/// Expires what is due, closes an unfinished plan no open approval drives, and picks the
/// approval to carry out. Refuses when there is none (nothing changed).
pub(super) fn choose(
    store: &mut StateStore,
    org: &OrgSettings,
    org_id: &str,
    now: DateTime<Utc>,
) -> Result<Driving, ApplyError> {
    for expired in store.expire_approvals(&org.name, now)? {
        tracing::info!(
            approval = expired.id,
            "approval {} expired ({}): it is not applied",
            expired.id,
            expired.expires_at
        );
    }
    if let Some(open) = store.open_plan(&org.name)? {
        match store.approval_of_plan(open.id)? {
            Some(approval) if approval.status.is_open() => {
                return Ok(Driving {
                    approval,
                    plan_file: None,
                });
            }
            _ => {
                tracing::warn!(
                    plan = open.id,
                    "plan {} was left unfinished but nobody approved it; in mode = \"approved\" \
                     it is closed, not continued",
                    open.id
                );
                store.close_plan(
                    open.id,
                    "not approved: in mode = \"approved\" only approved plans are carried out",
                )?;
            }
        }
    }
    let Some(approval) = store
        .approvals(Some(&org.name))?
        .into_iter()
        .find(|a| a.status == ApprovalStatus::Pending)
    else {
        return Err(ApplyError::NothingApproved {
            org: org.name.clone(),
        });
    };
    let label = PathBuf::from(format!("approval {}", approval.id));
    if approval.org_id != org_id {
        return Err(ApplyError::ForeignPlan {
            path: label,
            plan_org_id: approval.org_id.clone(),
            org: org.name.clone(),
            org_id: org_id.to_string(),
        });
    }
    Ok(Driving {
        plan_file: Some((label, approval.plan.clone())),
        approval,
    })
}

/// Links the run to its approval, and marks the approval applied when its plan is finished.
/// Returns the approval as it now stands.
pub(super) fn after_run(
    store: &mut StateStore,
    approval: &Approval,
    run: RunId,
) -> Result<Option<Approval>, StateError> {
    if let Some(plan) = store.run(run)?.and_then(|r| r.plan_id) {
        store.link_approval_run(approval.id, run, plan)?;
        if store.plan(plan)?.status == "finished" {
            store.set_approval_status(approval.id, ApprovalStatus::Applied)?;
        }
    }
    store.approval(approval.id)
}
