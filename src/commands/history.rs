//! `pslwarden history [--run ID]`: the runs in the state store and what each changed.
//!
//! Reads the state store only: no sign-in, no lock, works while another run goes on.

use serde::Serialize;

use super::{Format, render_table};
use crate::apply::ApplyError;
use crate::config::Settings;
use std::collections::BTreeMap;

use crate::approval::ApprovalRef;
use crate::state::{RunId, RunOverview, StateStore, StoredAction, StoredRun};

/// The answer of `history`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum History {
    /// Every run, oldest first.
    Runs {
        runs: Vec<RunOverview>,
        /// The approval that drove each run that one drove (`mode = "approved"`), by run id.
        approvals: BTreeMap<RunId, ApprovalRef>,
    },
    /// One run with every action it decided.
    Run {
        run: Box<StoredRun>,
        actions: Vec<StoredAction>,
        /// The approval that drove it, if one did.
        approval: Option<ApprovalRef>,
    },
}

/// The approval that drove `run`, if any.
fn approval_of(store: &StateStore, run: RunId) -> Result<Option<ApprovalRef>, ApplyError> {
    Ok(match store.approval_of_run(run)? {
        Some(id) => store.approval(id)?.map(|a| a.reference()),
        None => None,
    })
}

/// Reads the history, of one org when `org` is given.
pub fn run(
    settings: &Settings,
    org: Option<&str>,
    run: Option<i64>,
) -> Result<History, ApplyError> {
    let store = StateStore::open(&settings.state_path)?;
    match run {
        None => {
            let runs = store.overview(org)?;
            let mut approvals = BTreeMap::new();
            for r in &runs {
                if let Some(a) = approval_of(&store, r.run.id)? {
                    approvals.insert(r.run.id, a);
                }
            }
            Ok(History::Runs { runs, approvals })
        }
        Some(id) => {
            let run = store.run(id)?.ok_or(ApplyError::UnknownRun(id))?;
            let actions = store.run_actions(id)?;
            Ok(History::Run {
                approval: approval_of(&store, id)?,
                run: Box::new(run),
                actions,
            })
        }
    }
}

impl History {
    /// Renders for the terminal or for scripts.
    pub fn render(&self, format: Format) -> String {
        if format == Format::Json {
            let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
            s.push('\n');
            return s;
        }
        match self {
            History::Runs { runs, .. } if runs.is_empty() => {
                "No runs yet: `pslwarden apply` records its runs here.\n".to_string()
            }
            History::Runs { runs, approvals } => {
                let rows: Vec<Vec<String>> = runs
                    .iter()
                    .map(|r| {
                        vec![
                            r.run.id.to_string(),
                            r.run.org.clone(),
                            r.run.kind.to_string(),
                            r.run.started_at.clone(),
                            r.run.status.to_string(),
                            r.done.to_string(),
                            r.failed.to_string(),
                            r.skipped.to_string(),
                            r.needs_admin.to_string(),
                            r.seats.to_string(),
                            approvals
                                .get(&r.run.id)
                                .map(|a| format!("approval {} by {}; ", a.id, a.approved_by))
                                .unwrap_or_default()
                                + r.run.message.as_deref().unwrap_or_default(),
                        ]
                    })
                    .collect();
                let mut out = render_table(
                    &[
                        "Run",
                        "Org",
                        "Kind",
                        "Started",
                        "Status",
                        "Done",
                        "Failed",
                        "Skipped",
                        "Needs admin",
                        "Seats",
                        "Note",
                    ],
                    &rows,
                    &[
                        true, false, false, false, false, true, true, true, true, true, false,
                    ],
                );
                out.push_str("\n`pslwarden history --run ID` shows what one run changed.\n");
                out
            }
            History::Run {
                run,
                actions,
                approval,
            } => {
                let mut out = format!(
                    "Run {} — {} of org `{}` ({}), {} by {}; started {}, finished {}: {}\n",
                    run.id,
                    run.kind,
                    crate::text::terminal(&run.org),
                    crate::text::terminal(&run.org_id),
                    run.kind,
                    run.trigger,
                    run.started_at,
                    run.finished_at.as_deref().unwrap_or("-"),
                    run.status
                );
                if let Some(m) = &run.message {
                    out.push_str(&format!("{}\n", crate::text::terminal(m)));
                }
                if let Some(a) = approval {
                    out.push_str(&format!("{}\n", crate::text::terminal(&a.describe())));
                }
                out.push('\n');
                let rows: Vec<Vec<String>> = actions
                    .iter()
                    .map(|a| {
                        // A manual step is the admin's: the journal closes it as skipped,
                        // but no run ever had it to do.
                        let manual = a.op == crate::plan::Op::Manual;
                        let status = if manual {
                            "needs the admin".to_string()
                        } else {
                            a.status.to_string()
                        };
                        let outcome = if manual {
                            String::new()
                        } else {
                            a.outcome.clone().unwrap_or_default()
                        };
                        vec![
                            a.seq.to_string(),
                            status,
                            a.op.to_string(),
                            a.sobject.clone(),
                            a.result_id
                                .clone()
                                .or_else(|| a.record_id.clone())
                                .unwrap_or_default(),
                            a.username.clone(),
                            outcome,
                            a.restored_by
                                .map(|r| format!("rolled back by run {r}"))
                                .or_else(|| a.reason.clone())
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                out.push_str(&render_table(
                    &[
                        "#", "Status", "Op", "Object", "Record", "User", "Outcome", "Note",
                    ],
                    &rows,
                    &[true, false, false, false, false, false, false, false],
                ));
                out
            }
        }
    }
}
