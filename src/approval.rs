//! Approvals: a person's "yes" to exactly one plan (by its digest), recorded now and carried out
//! by a later apply inside the org's window (`mode = "approved"`).
//!
//! Owns: the approval's domain types ([`Approval`], [`ApprovalStatus`], [`ApprovalSummary`]),
//! narrowing a plan to the fixes a person approved ([`narrow_plan`]) and the read the daemon's
//! status page makes ([`pending_approvals`]). The SQL lives in `state::approvals`.
//!
//! Must not: talk to an org, read the clock, or apply anything. Deciding when an approval runs is
//! `commands::apply`'s; this module only says what was approved.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::plan::{LICENSE_ASSIGNMENT, Op, Plan};
use crate::state::{RunId, StateError, StateStore};

/// Id of an approval row.
pub type ApprovalId = i64;

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Approved, not yet started by an apply.
    Pending,
    /// An apply started it; caps or the window's end left steps for a later run.
    InProgress,
    /// Every approved step is decided (done, skipped for drift, or failed).
    Applied,
    /// Its expiry passed before it was finished; what is left is never applied.
    Expired,
    /// A person revoked it before it started.
    Revoked,
}

impl ApprovalStatus {
    /// The spelling stored in the database and shown in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::InProgress => "in_progress",
            ApprovalStatus::Applied => "applied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Revoked => "revoked",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::InProgress,
            ApprovalStatus::Applied,
            ApprovalStatus::Expired,
            ApprovalStatus::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Still to be carried out (when unexpired).
    pub fn is_open(self) -> bool {
        matches!(self, ApprovalStatus::Pending | ApprovalStatus::InProgress)
    }
}

impl std::fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run report names the approval that drove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalRef {
    pub id: ApprovalId,
    pub approved_by: String,
    pub approved_at: String,
    pub expires_at: String,
}

impl ApprovalRef {
    /// "Approval 3 by ana at 2026-03-02T14:00:00Z".
    pub fn describe(&self) -> String {
        format!(
            "Approval {} by {} at {} (expires {})",
            self.id, self.approved_by, self.approved_at, self.expires_at
        )
    }
}

/// An approval to record.
#[derive(Debug, Clone)]
pub struct NewApproval<'a> {
    /// Config name of the org; approvals are listed and applied per org.
    pub org: &'a str,
    /// The plan as approved: only the approved fixes, the original digest (see [`narrow_plan`]).
    pub plan: &'a Plan,
    /// Where the plan came from (file path or report folder), for listings.
    pub source: &'a str,
    /// Users whose fixes the person left out, for listings and reports.
    pub excluded: &'a [String],
    /// Who approved (`--by`, else the OS user).
    pub approved_by: &'a str,
    /// RFC 3339 UTC, from the run's clock (the rehearsal clock in tests).
    pub approved_at: &'a str,
    /// RFC 3339 UTC; after it the approval is never applied.
    pub expires_at: &'a str,
}

/// A stored approval.
#[derive(Debug, Clone, Serialize)]
pub struct Approval {
    pub id: ApprovalId,
    pub org: String,
    /// The org the plan was made for; an apply in another org refuses it.
    pub org_id: String,
    /// The digest of the plan's facts as scanned: the apply re-checks the org against it.
    pub digest: String,
    pub source: String,
    pub excluded: Vec<String>,
    pub approved_by: String,
    pub approved_at: String,
    pub expires_at: String,
    pub status: ApprovalStatus,
    /// When the status last changed (RFC 3339).
    pub status_at: String,
    /// The stored plan an apply made of it, once one started.
    pub plan_id: Option<i64>,
    /// Counts of the approved plan, for listings without reading the plan.
    pub actions: u64,
    pub users: u64,
    pub seats: u64,
    /// The runs it drove, oldest first.
    pub runs: Vec<RunId>,
    /// The approved plan itself (not listed in JSON output: it can be large).
    #[serde(skip)]
    pub plan: Plan,
}

/// What the status page and `approvals` list show of one approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalSummary {
    pub id: ApprovalId,
    pub org: String,
    pub status: ApprovalStatus,
    pub approved_by: String,
    pub approved_at: String,
    pub expires_at: String,
    /// Approved actions, users they touch, and seats they free.
    pub actions: u64,
    pub users: u64,
    pub seats: u64,
    /// Users whose fixes were left out.
    pub excluded: Vec<String>,
    /// Short digest of the approved plan's facts.
    pub digest: String,
    /// The runs it drove so far.
    pub runs: Vec<RunId>,
    /// The command that revokes it (only while it has not started).
    pub revoke_command: Option<String>,
}

impl Approval {
    /// How reports name it.
    pub fn reference(&self) -> ApprovalRef {
        ApprovalRef {
            id: self.id,
            approved_by: self.approved_by.clone(),
            approved_at: self.approved_at.clone(),
            expires_at: self.expires_at.clone(),
        }
    }

    /// The summary shown in listings and on the status page.
    pub fn summary(&self) -> ApprovalSummary {
        ApprovalSummary {
            id: self.id,
            org: self.org.clone(),
            status: self.status,
            approved_by: self.approved_by.clone(),
            approved_at: self.approved_at.clone(),
            expires_at: self.expires_at.clone(),
            actions: self.actions,
            users: self.users,
            seats: self.seats,
            excluded: self.excluded.clone(),
            digest: self.digest.get(..12).unwrap_or(&self.digest).to_string(),
            runs: self.runs.clone(),
            revoke_command: (self.status == ApprovalStatus::Pending)
                .then(|| format!("pslwarden approvals revoke {}", self.id)),
        }
    }
}

/// Counts of a plan: actions, distinct users, seats freed.
pub fn plan_counts(plan: &Plan) -> (u64, u64, u64) {
    let users: BTreeSet<&str> = plan.actions.iter().map(|a| a.user_id.as_str()).collect();
    let seats = plan
        .actions
        .iter()
        .filter(|a| a.op == Op::Delete && a.sobject == LICENSE_ASSIGNMENT)
        .count();
    (plan.actions.len() as u64, users.len() as u64, seats as u64)
}

/// The org's approvals still to be carried out (pending or in progress), oldest first, for the
/// daemon's status page. A store that cannot be read gives an empty list and a warning in the
/// log: the page shows what it can.
pub fn pending_approvals(store: &StateStore, org: &str) -> Vec<ApprovalSummary> {
    match store.approvals(Some(org)) {
        Ok(list) => list
            .iter()
            .filter(|a| a.status.is_open())
            .map(Approval::summary)
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, org, "cannot read the approvals");
            Vec::new()
        }
    }
}

/// The same as [`pending_approvals`], with the store's error for callers that report it.
pub fn try_pending_approvals(
    store: &StateStore,
    org: &str,
) -> Result<Vec<ApprovalSummary>, StateError> {
    Ok(store
        .approvals(Some(org))?
        .iter()
        .filter(|a| a.status.is_open())
        .map(Approval::summary)
        .collect())
}

/// A username given to `--exclude-user`/`--only-user` that no fix of the plan touches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no fix in the plan is for user `{username}` (given to --{flag}); the plan's users are: \
     {known}. Check the spelling against the report"
)]
pub struct UnknownUser {
    pub username: String,
    pub flag: &'static str,
    pub known: String,
}

/// The plan narrowed to whole fixes: a fix (all actions of one finding) is dropped when any of
/// its actions is for an excluded user, or, when `only` is not empty, when none is for a user in
/// `only`. The digest stays the scanned one, so an apply compares the org with what was
/// reviewed; steps are kept in the plan's order. Names are compared case-insensitively, as
/// Salesforce usernames are.
pub fn narrow_plan(plan: &Plan, exclude: &[String], only: &[String]) -> Result<Plan, UnknownUser> {
    let known: BTreeSet<String> = plan
        .actions
        .iter()
        .map(|a| a.username.to_lowercase())
        .collect();
    for (flag, names) in [("exclude-user", exclude), ("only-user", only)] {
        if let Some(missing) = names.iter().find(|n| !known.contains(&n.to_lowercase())) {
            return Err(UnknownUser {
                username: missing.clone(),
                flag,
                known: known.iter().cloned().collect::<Vec<_>>().join(", "),
            });
        }
    }
    let lower =
        |names: &[String]| -> BTreeSet<String> { names.iter().map(|n| n.to_lowercase()).collect() };
    let (exclude, only) = (lower(exclude), lower(only));
    let findings: BTreeSet<usize> = plan.actions.iter().map(|a| a.finding).collect();
    let kept: BTreeSet<usize> = findings
        .into_iter()
        .filter(|f| {
            let users: Vec<String> = plan
                .actions
                .iter()
                .filter(|a| a.finding == *f)
                .map(|a| a.username.to_lowercase())
                .collect();
            !users.iter().any(|u| exclude.contains(u))
                && (only.is_empty() || users.iter().any(|u| only.contains(u)))
        })
        .collect();
    let mut narrowed = plan.clone();
    narrowed.actions.retain(|a| kept.contains(&a.finding));
    Ok(narrowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, PERMISSION_SET_ASSIGNMENT};

    fn action(finding: usize, username: &str, sobject: &str) -> Action {
        Action {
            op: Op::Delete,
            sobject: sobject.into(),
            id: Some(format!("0Pa{finding}")),
            fields: Default::default(),
            finding,
            rule: "r".into(),
            user_id: format!("005{finding}"),
            username: username.into(),
            description: "d".into(),
            facts: Vec::new(),
        }
    }

    fn plan() -> Plan {
        let actions = vec![
            action(0, "a@x.org", PERMISSION_SET_ASSIGNMENT),
            action(0, "a@x.org", LICENSE_ASSIGNMENT),
            action(1, "b@x.org", LICENSE_ASSIGNMENT),
            action(2, "c@x.org", LICENSE_ASSIGNMENT),
        ];
        Plan {
            schema_version: crate::plan::PLAN_SCHEMA_VERSION,
            org_id: "00D".into(),
            snapshot_taken_at: "t".into(),
            digest: Plan::digest_of(&actions),
            actions,
            notes: Vec::new(),
        }
    }

    #[test]
    fn excluding_a_user_drops_their_whole_fix_and_keeps_the_digest() {
        let p = plan();
        let n = narrow_plan(&p, &["A@x.org".into()], &[]).unwrap();
        assert_eq!(n.actions.len(), 2);
        assert!(n.actions.iter().all(|a| a.username != "a@x.org"));
        assert_eq!(n.digest, p.digest);
        assert_eq!(plan_counts(&n), (2, 2, 2));
        let only = narrow_plan(&p, &[], &["c@x.org".into()]).unwrap();
        assert_eq!(only.actions.len(), 1);
        let err = narrow_plan(&p, &["nobody@x.org".into()], &[]).unwrap_err();
        assert_eq!(err.flag, "exclude-user");
    }
}
