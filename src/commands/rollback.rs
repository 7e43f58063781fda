//! `pslwarden rollback --run ID`: re-creates what an apply run deleted, from the journal.
//!
//! Order: the seats (permission set license assignments) first, then the permission set
//! assignments, then the replacement assignments the run created are removed again, so an agent
//! never loses access halfway. Only inside the window, through the same gate, journal and
//! engine as `apply`. A record that already exists again (`DUPLICATE_VALUE`) counts as restored.
//! Salesforce gives re-created records new ids; "restored" means the same user holds the same
//! permission set or seat again.

use std::path::PathBuf;

use super::apply::{
    Prompt, seat_lines, sign_in, summary_json, trigger_for, window_precheck, window_words,
};
use super::now_rfc3339;
use crate::apply::ApplyError;
use crate::apply::clock::Clock;
use crate::apply::engine::{self, RunCtx};
use crate::apply::report::{ActionLine, RUN_REPORT_SCHEMA_VERSION, RunReport};
use crate::config::{OrgSettings, Settings};
use crate::plan::{LICENSE_ASSIGNMENT, Op, PERMISSION_SET_ASSIGNMENT};
use crate::snapshot::probe;
use crate::state::{
    ActionStatus, NewAction, NewPlan, OrgLock, RunId, RunKind, RunStatus, StateStore, StoredAction,
};

/// What `rollback` did and where its report is.
#[derive(Debug)]
pub struct RollbackOutcome {
    pub report: RunReport,
    pub dir: PathBuf,
}

/// The undo of each change `run` made that is not undone yet, in the order they must run.
pub fn undo_actions(changed: &[StoredAction]) -> Vec<NewAction> {
    let undo =
        |a: &StoredAction, op: Op, record_id: Option<String>, fields, what: String| NewAction {
            action: crate::plan::Action {
                op,
                sobject: a.sobject.clone(),
                id: record_id,
                fields,
                finding: a.finding,
                rule: a.rule.clone(),
                user_id: a.user_id.clone(),
                username: a.username.clone(),
                description: what,
                facts: Vec::new(),
            },
            undoes: Some(a.id),
        };
    let pending: Vec<&StoredAction> = changed
        .iter()
        .filter(|a| a.status == ActionStatus::Done && a.restored_by.is_none())
        .collect();
    let mut out = Vec::new();
    // 1. Seats, 2. permission sets: re-create what was deleted.
    for sobject in [LICENSE_ASSIGNMENT, PERMISSION_SET_ASSIGNMENT] {
        for a in pending
            .iter()
            .filter(|a| a.op == Op::Delete && a.sobject == sobject)
        {
            if let Some(fields) = &a.restore {
                out.push(undo(
                    a,
                    Op::Create,
                    None,
                    fields.clone(),
                    format!(
                        "re-create the {} of {} that run {} deleted ({})",
                        if sobject == LICENSE_ASSIGNMENT {
                            "seat"
                        } else {
                            "permission set assignment"
                        },
                        a.username,
                        a.run_id.unwrap_or_default(),
                        a.record_id.as_deref().unwrap_or("?")
                    ),
                ));
            }
        }
    }
    // 3. Set back the fields the run updated (Natterbox licenses).
    for a in pending
        .iter()
        .filter(|a| a.op == Op::Update && a.outcome.as_deref() == Some("updated"))
    {
        if let Some(before) = &a.restore {
            out.push(undo(
                a,
                Op::Update,
                a.record_id.clone(),
                before.clone(),
                format!(
                    "set back {} of {} ({}) that run {} changed",
                    before.keys().cloned().collect::<Vec<_>>().join(", "),
                    a.username,
                    a.record_id.as_deref().unwrap_or("?"),
                    a.run_id.unwrap_or_default()
                ),
            ));
        }
    }
    // 4. Remove what the run created (a replacement assignment), now that the original is back.
    for a in pending.iter().filter(|a| {
        a.op == Op::Create && a.outcome.as_deref() == Some("created") && a.result_id.is_some()
    }) {
        out.push(undo(
            a,
            Op::Delete,
            a.result_id.clone(),
            Default::default(),
            format!(
                "remove the assignment {} that run {} created for {}",
                a.result_id.as_deref().unwrap_or("?"),
                a.run_id.unwrap_or_default(),
                a.username
            ),
        ));
    }
    out
}

/// Runs `rollback` of `run` for `org`.
pub async fn run(
    settings: &Settings,
    org: &OrgSettings,
    run: RunId,
    yes: bool,
    clock: &dyn Clock,
    prompt: Option<Prompt<'_>>,
) -> Result<RollbackOutcome, ApplyError> {
    let trigger = trigger_for(org, yes, prompt)?;
    let mut store = StateStore::open(&settings.state_path)?;
    let target = store.run(run)?.ok_or(ApplyError::UnknownRun(run))?;
    if target.org != org.name {
        return Err(ApplyError::RunOfOtherOrg {
            run,
            run_org: target.org,
            org: org.name.clone(),
        });
    }
    if target.kind == RunKind::Rollback {
        return Err(ApplyError::RollbackOfRollback(run));
    }
    let _lock = OrgLock::acquire(&settings.state_path, &org.name)?;
    window_precheck(org, clock)?;
    let (session, org_id) = sign_in(org).await?;
    let client = &session.client;
    if org_id != target.org_id {
        return Err(ApplyError::RollbackOrg {
            run,
            run_org_id: target.org_id,
            org: org.name.clone(),
            org_id,
        });
    }
    engine::recover_crashed_runs(client, &mut store, &org.name).await?;
    // A plan left open is continued if it is this rollback's; any other waits for apply.
    let (plan_id, resumed) = match store.open_plan(&org.name)? {
        Some(p) if p.rollback_of_run == Some(run) => (p.id, true),
        Some(p) => {
            return Err(ApplyError::PlanOpen {
                org: org.name.clone(),
                plan: p.id,
            });
        }
        None => {
            let changed = store.run_actions(run)?;
            if !changed.iter().any(|a| a.status == ActionStatus::Done) {
                return Err(ApplyError::NothingToRollBack { run });
            }
            let undo = undo_actions(&changed);
            if undo.is_empty() {
                let by = changed
                    .iter()
                    .filter_map(|a| a.restored_by)
                    .max()
                    .unwrap_or_default();
                return Err(ApplyError::AlreadyRolledBack { run, by });
            }
            let label = format!("rollback of run {run}");
            let created_at = now_rfc3339();
            let id = store.create_plan(
                &NewPlan {
                    org: &org.name,
                    org_id: &org_id,
                    kind: RunKind::Rollback,
                    digest: &label,
                    source: &label,
                    snapshot_taken_at: &target.started_at,
                    created_at: &created_at,
                    rollback_of_run: Some(run),
                    notes: &[],
                },
                &[],
                &undo,
            )?;
            (id, false)
        }
    };
    let started_at = now_rfc3339();
    let rollback_run = store.start_run(
        &org.name,
        &org_id,
        Some(plan_id),
        RunKind::Rollback,
        trigger,
        &started_at,
    )?;
    let calls_at_start = client.calls_made();
    let result = async {
        let chosen: Vec<StoredAction> = store
            .plan_actions(plan_id)?
            .into_iter()
            .filter(|a| a.status == ActionStatus::Planned)
            .collect();
        if let Some(prompt) = prompt.filter(|_| !yes)
            && !chosen.is_empty()
        {
            let mut question = format!(
                "pslwarden is about to roll back run {run} in org `{}` ({org_id}): {} change(s).\n",
                org.name,
                chosen.len()
            );
            for a in chosen.iter().take(10) {
                question.push_str(&format!("  - {}\n", a.description));
            }
            question.push_str(&format!("Window: {}\n", window_words(org, clock.now())));
            if !prompt(&question).unwrap_or(false) {
                store.finish_run(
                    rollback_run,
                    RunStatus::Stopped,
                    Some("not confirmed at the terminal: nothing was changed"),
                    None,
                )?;
                return Err(ApplyError::Declined);
            }
        }
        // A replacement assignment to remove is journaled with the fields that made it, an update
        // with the values the apply run set.
        let restores: Vec<_> = chosen
            .iter()
            .filter(|a| matches!(a.op, Op::Delete | Op::Update))
            .filter_map(|a| {
                let original = a.undoes?;
                Some((a.id, original))
            })
            .collect();
        let originals = store.run_actions(run)?;
        let restores: Vec<_> = restores
            .into_iter()
            .filter_map(|(id, original)| {
                originals
                    .iter()
                    .find(|o| o.id == original)
                    .map(|o| (id, o.fields.clone()))
            })
            .collect();
        store.set_restore(&restores)?;
        let before = probe::read_licenses(client)
            .await
            .map_err(|source| ApplyError::Fetch {
                org: org.name.clone(),
                source,
            })?;
        let words = |t| window_words(org, t);
        let executed = {
            let mut ctx = RunCtx {
                client,
                store: &mut store,
                org,
                clock,
                run: rollback_run,
                window_words: &words,
                cancel: None,
            };
            engine::execute(&mut ctx, &chosen).await?
        };
        let after = probe::read_licenses(client)
            .await
            .map_err(|source| ApplyError::Fetch {
                org: org.name.clone(),
                source,
            })?;
        let actions = store.run_actions(rollback_run)?;
        let left = store
            .plan_actions(plan_id)?
            .iter()
            .filter(|a| a.status == ActionStatus::Planned)
            .count();
        store.finish_plan_if_done(plan_id)?;
        let mut notes = Vec::new();
        if let Some(stop) = &executed.stop {
            notes.push(format!("stopped before the next batch: {stop}"));
        }
        if left > 0 {
            notes.push(format!(
                "{left} change(s) are left: run `pslwarden rollback --run {run}` again inside \
                 the window"
            ));
        }
        let status = if left > 0 {
            RunStatus::Stopped
        } else {
            RunStatus::Completed
        };
        let usage = client.api_usage();
        let seats = seat_lines(&before, &after, &actions, RunKind::Rollback);
        let report = RunReport {
            approval: None,
            schema_version: RUN_REPORT_SCHEMA_VERSION,
            org: org.name.clone(),
            org_id: org_id.clone(),
            simulated: org.is_simulated(),
            run_id: rollback_run,
            kind: RunKind::Rollback,
            status,
            trigger: trigger.to_string(),
            mode: org.mode.as_str().to_string(),
            window: org.window.describe(),
            started_at: started_at.clone(),
            finished_at: now_rfc3339(),
            message: (!notes.is_empty()).then(|| notes.join("; ")),
            plan_id: Some(plan_id),
            plan_source: Some(format!("rollback of run {run}")),
            resumed,
            plan_check: Vec::new(),
            saving: crate::apply::report::RunSaving::of(
                org.prices.as_ref(),
                &seats,
                RunKind::Rollback,
            ),
            seats,
            actions: actions.iter().map(ActionLine::of).collect(),
            left_for_next_run: left,
            new_since_plan: Vec::new(),
            api_calls: client.calls_made().saturating_sub(calls_at_start),
            write_calls: executed.batches,
            daily_api_used: usage.map(|u| u.used),
            daily_api_max: usage.map(|u| u.max),
        };
        store.finish_run(
            rollback_run,
            status,
            report.message.as_deref(),
            Some(&summary_json(&report)),
        )?;
        let dir = crate::report::write::write_run_files(
            &settings.reports_dir,
            &org.name,
            &started_at,
            None,
            &[
                ("rollback.json", &report.render_json()),
                ("rollback.md", &report.render_markdown()),
                ("rollback.html", &report.render_html()),
            ],
        )?;
        Ok(RollbackOutcome { report, dir })
    }
    .await;
    if let Err(error) = &result
        && !matches!(error, ApplyError::Declined)
        && let Err(journal) = store.finish_run(
            rollback_run,
            RunStatus::Failed,
            Some(&error.to_string()),
            None,
        )
    {
        tracing::warn!(%journal, "could not mark run {rollback_run} failed");
    }
    result
}
