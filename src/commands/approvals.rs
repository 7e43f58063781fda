//! `pslwarden approvals`: lists the approvals in the state store (pending, in progress, applied,
//! expired, revoked) and `approvals revoke ID` revokes one that has not started.
//!
//! Must not: connect to an org. An approval past its expiry is shown as expired even before an
//! apply has marked it so (the listing compares with the clock it is given, and changes nothing).

use crate::report::number::grouped;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{CommandError, Format, render_table};
use crate::approval::{ApprovalId, ApprovalStatus, ApprovalSummary};
use crate::config::Settings;
use crate::state::StateStore;

fn open_store(settings: &Settings) -> Result<StateStore, CommandError> {
    StateStore::open(&settings.state_path)
        .map_err(|e| CommandError::Apply(crate::apply::ApplyError::State(e)))
}

/// The listing.
#[derive(Debug, Serialize)]
pub struct ApprovalsList {
    pub approvals: Vec<ApprovalSummary>,
}

/// Lists the approvals of `org` (or of every org).
pub fn list(
    settings: &Settings,
    org: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApprovalsList, CommandError> {
    let store = open_store(settings)?;
    let all = store
        .approvals(org)
        .map_err(|e| CommandError::Apply(crate::apply::ApplyError::State(e)))?;
    let approvals = all
        .iter()
        .map(|a| {
            let mut s = a.summary();
            let past = DateTime::parse_from_rfc3339(&a.expires_at).is_ok_and(|t| t <= now);
            if s.status.is_open() && past {
                s.status = ApprovalStatus::Expired;
                s.revoke_command = None;
            }
            s
        })
        .collect();
    Ok(ApprovalsList { approvals })
}

impl ApprovalsList {
    /// As a table or JSON.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self)
                    .expect("an approvals list holds only strings and numbers");
                text.push('\n');
                text
            }
            Format::Table => {
                if self.approvals.is_empty() {
                    return "No approvals. Record one with `pslwarden approve --latest`.\n".into();
                }
                let rows: Vec<Vec<String>> = self
                    .approvals
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.org.clone(),
                            a.status.to_string(),
                            a.approved_by.clone(),
                            a.approved_at.clone(),
                            a.expires_at.clone(),
                            grouped(a.actions),
                            grouped(a.seats),
                            a.excluded.join(","),
                            a.runs
                                .iter()
                                .map(|r| r.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                        ]
                    })
                    .collect();
                render_table(
                    &[
                        "ID", "ORG", "STATUS", "BY", "APPROVED", "EXPIRES", "ACTIONS", "SEATS",
                        "EXCLUDED", "RUNS",
                    ],
                    &rows,
                    &[
                        true, false, false, false, false, false, true, true, false, false,
                    ],
                )
            }
        }
    }
}

/// Revokes approval `id` if it has not started; says what happened.
pub fn revoke(settings: &Settings, id: ApprovalId) -> Result<String, CommandError> {
    let mut store = open_store(settings)?;
    let state = |e| CommandError::Apply(crate::apply::ApplyError::State(e));
    let Some(approval) = store.approval(id).map_err(state)? else {
        return Err(CommandError::Usage(format!(
            "there is no approval {id}; `pslwarden approvals` lists them"
        )));
    };
    if store.revoke_approval(id).map_err(state)? {
        Ok(format!(
            "Approval {id} of org `{}` revoked: it will never be applied.\n",
            approval.org
        ))
    } else {
        Err(CommandError::Usage(format!(
            "approval {id} is {}, not pending: only an approval that has not started can be \
             revoked{}",
            approval.status,
            if approval.status == ApprovalStatus::InProgress {
                " (an apply already changed the org for it; `pslwarden rollback --run ID` \
                 undoes a run)"
            } else {
                ""
            }
        )))
    }
}
