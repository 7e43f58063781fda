//! `pslwarden apply`: carries out the fix inside the org's window.
//!
//! The order of one run, each step refusing before anything is changed when it fails:
//! 1. unattended (`--yes` or no terminal) needs `mode = "apply"`; the state store opens (a locked
//!    or foreign one is refused); a plan file is read and checked; the org lock is taken;
//! 2. the window gate: outside the window nothing happens, not even a sign-in;
//! 3. sign in; a plan file made for another org is refused; runs whose process died are
//!    reconciled against the org;
//! 4. the plan: an unfinished one of the org is continued; otherwise the plan file, or a scan;
//! 5. the facts of every pending action are read again (only the plan's users) and drifted
//!    actions are skipped with their reason; a plan file whose facts changed is re-planned, and
//!    only its steps the fresh plan still has are applied;
//! 6. the safety caps pick whole findings for this run; a person confirms at a terminal (unless
//!    `--yes`); the fields of every record to delete are journaled;
//! 7. the engine runs the batches, the gate before each; then the seats are read again and the
//!    report says what the journal expected and what the org counts.

mod approved;
pub mod when_open;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::now_rfc3339;
use super::scan::{ScanOptions, evaluate, scan_connected};
use crate::apply::clock::Clock;
use crate::apply::engine::{self, RunCtx};
use crate::apply::gate::{self, CapItem, Decision, select_within_caps};
use crate::apply::report::{
    ActionLine, NEEDS_ADMIN, RUN_REPORT_SCHEMA_VERSION, RunReport, SeatLine,
};
use crate::apply::verify::{self, Pending, PlanContext, Verdict};
use crate::apply::{ApplyError, restore_fields, same_step, update_restore_fields};
use crate::config::Mode;
use crate::config::{OrgSettings, Settings};
use crate::connect::{OrgSession, connect};
use crate::plan::{LICENSE_ASSIGNMENT, Op, Plan};
use crate::report::number::grouped;
use crate::rules::{Finding, SnapshotIndex};
use crate::snapshot::{PermissionSetLicense, fetch::fetch_snapshot_of_users, probe};
use crate::state::{
    ActionId, ActionStatus, NewAction, NewFinding, NewPlan, OrgLock, Outcome, PlanId, RunId,
    RunKind, RunStatus, StateStore, StoredAction,
};

/// What the user asked of `apply`.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Apply this saved plan (`scan --plan-out`) instead of scanning first.
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation (needs `mode = "apply"`).
    pub yes: bool,
    /// Carry out at most this many actions (never more than the config's `max_actions`).
    pub max_actions: Option<usize>,
    /// Set by the daemon when it is asked to stop: the run stops before its next batch.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Asks the person at the terminal; `Ok(true)` means go.
pub type Prompt<'a> = &'a (dyn Fn(&str) -> std::io::Result<bool> + Sync);

/// What `apply` did and where its report is.
#[derive(Debug)]
pub struct ApplyOutcome {
    pub report: RunReport,
    pub dir: PathBuf,
    /// The approval the run carried out (`mode = "approved"`), as it stands after the run.
    pub approval: Option<crate::approval::Approval>,
}

/// The window in words at `t`, for refusals and stops.
pub fn window_words(org: &OrgSettings, t: DateTime<Utc>) -> String {
    super::window::run(org, t).summary
}

/// Who asked: `terminal` (a person confirms) or `unattended` (`--yes`); refused when neither is
/// possible or allowed.
pub fn trigger_for(
    org: &OrgSettings,
    yes: bool,
    prompt: Option<Prompt<'_>>,
) -> Result<&'static str, ApplyError> {
    if yes {
        if !matches!(org.mode, Mode::Apply | Mode::Approved) {
            return Err(ApplyError::NotUnattended {
                org: org.name.clone(),
                mode: org.mode.as_str(),
            });
        }
        Ok("unattended")
    } else if prompt.is_some() {
        Ok("terminal")
    } else {
        Err(ApplyError::NoTerminal)
    }
}

/// Refuses when the window does not allow a batch now. Reads nothing from the org.
pub fn window_precheck(org: &OrgSettings, clock: &dyn Clock) -> Result<(), ApplyError> {
    let words = |t| window_words(org, t);
    match gate::check(&org.window, clock.now(), None, &org.apply, &words) {
        Decision::Go => Ok(()),
        Decision::Stop(reason) => Err(ApplyError::WindowClosed {
            org: org.name.clone(),
            words: reason.to_string(),
        }),
    }
}

/// Runs `apply` for `org`.
pub async fn run(
    settings: &Settings,
    org: &OrgSettings,
    options: &ApplyOptions,
    clock: &dyn Clock,
    prompt: Option<Prompt<'_>>,
) -> Result<ApplyOutcome, ApplyError> {
    let trigger = trigger_for(org, options.yes, prompt)?;
    // Unattended in approved mode: only an approved plan is carried out (see `approved`).
    let approved_mode = org.mode == Mode::Approved && trigger == "unattended";
    if approved_mode && options.plan.is_some() {
        return Err(ApplyError::PlanFileInApprovedMode {
            org: org.name.clone(),
        });
    }
    let mut store = StateStore::open(&settings.state_path)?;
    let mut plan_file = options
        .plan
        .as_ref()
        .map(|path| read_plan_file(path))
        .transpose()?;
    let _lock = OrgLock::acquire(&settings.state_path, &org.name)?;
    window_precheck(org, clock)?;

    let (session, org_id) = sign_in(org).await?;
    let client = &session.client;
    if let Some((path, plan)) = &plan_file
        && plan.org_id != org_id
    {
        return Err(ApplyError::ForeignPlan {
            path: path.clone(),
            plan_org_id: plan.org_id.clone(),
            org: org.name.clone(),
            org_id,
        });
    }
    engine::recover_crashed_runs(client, &mut store, &org.name).await?;
    let driving = if approved_mode {
        let chosen = approved::choose(&mut store, org, &org_id, clock.now())?;
        plan_file = chosen.plan_file;
        Some(chosen.approval)
    } else {
        None
    };
    let open = store.open_plan(&org.name)?;
    if let Some(p) = &open
        && p.org_id != org_id
    {
        return Err(ApplyError::StoredPlanOrg {
            org: org.name.clone(),
            plan: p.id,
            stored_org_id: p.org_id.clone(),
            org_id,
        });
    }
    let started_at = now_rfc3339();
    let run_id = store.start_run(
        &org.name,
        &org_id,
        open.as_ref().map(|p| p.id),
        RunKind::Apply,
        trigger,
        &started_at,
    )?;
    let mut run = Run {
        settings,
        org,
        session: &session,
        store: &mut store,
        clock,
        prompt: if options.yes { None } else { prompt },
        id: run_id,
        org_id,
        trigger,
        started_at,
        calls_at_start: client.calls_made(),
        approval: driving.as_ref().map(crate::approval::Approval::reference),
    };
    let mut result = run.carry_out(options, open.map(|p| p.id), plan_file).await;
    if let Some(approval) = &driving {
        // Linked whatever the outcome: a run that failed half-way still acted for it.
        match approved::after_run(run.store, approval, run_id) {
            Ok(now) => {
                if let Ok(outcome) = &mut result {
                    outcome.approval = now;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot link run {run_id} to its approval"),
        }
    }
    match result {
        Ok(outcome) => Ok(outcome),
        // Recorded as stopped by the run itself: nobody said go.
        Err(ApplyError::Declined) => Err(ApplyError::Declined),
        Err(error) => {
            let message = error.to_string();
            if let Err(journal) =
                run.store
                    .finish_run(run_id, RunStatus::Failed, Some(&message), None)
            {
                tracing::warn!(%journal, "could not mark run {run_id} failed");
            }
            Err(error)
        }
    }
}

/// Signs in to the org; returns the session and the org's id.
pub async fn sign_in(org: &OrgSettings) -> Result<(OrgSession, String), ApplyError> {
    let session = connect(org)
        .await
        .map_err(|e| ApplyError::Command(Box::new(super::CommandError::from(e))))?;
    let org_id = session
        .client
        .token_identity()
        .map_err(|source| ApplyError::Salesforce {
            org: org.name.clone(),
            source,
        })?
        .org_id;
    Ok((session, org_id))
}

fn read_plan_file(path: &Path) -> Result<(PathBuf, Plan), ApplyError> {
    let text = std::fs::read_to_string(path).map_err(|source| ApplyError::PlanRead {
        path: path.to_path_buf(),
        source,
    })?;
    let plan = Plan::from_json(&text).map_err(|source| ApplyError::PlanFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((path.to_path_buf(), plan))
}

/// One apply run in progress.
struct Run<'a> {
    settings: &'a Settings,
    org: &'a OrgSettings,
    session: &'a OrgSession,
    store: &'a mut StateStore,
    clock: &'a dyn Clock,
    /// `None` for `--yes`.
    prompt: Option<Prompt<'a>>,
    id: RunId,
    org_id: String,
    trigger: &'static str,
    started_at: String,
    calls_at_start: u64,
    /// The approval this run carries out, named in its report.
    approval: Option<crate::approval::ApprovalRef>,
}

/// What the run decided before sending anything, for the report.
#[derive(Default)]
struct Checked {
    plan_check: Vec<String>,
    new_since_plan: Vec<String>,
}

impl Run<'_> {
    async fn carry_out(
        &mut self,
        options: &ApplyOptions,
        open: Option<PlanId>,
        plan_file: Option<(PathBuf, Plan)>,
    ) -> Result<ApplyOutcome, ApplyError> {
        let client = &self.session.client;
        let mut checked = Checked::default();
        let mut report_dir: Option<PathBuf> = None;
        let resumed = open.is_some();
        // 4. The plan.
        let (plan_id, plan_source, file_plan) = match open {
            Some(id) => {
                let stored = self.store.plan(id)?;
                checked.plan_check.push(format!(
                    "continuing plan {id} (from {}, {}) that an earlier run left unfinished",
                    stored.source, stored.created_at
                ));
                if let Some((path, _)) = &plan_file {
                    checked.plan_check.push(format!(
                        "the plan file {} was not used: an unfinished plan is finished first; \
                         run apply again with it once this one is done",
                        path.display()
                    ));
                }
                (id, stored.source, None)
            }
            None => {
                let (plan, findings, source) = match plan_file {
                    Some((path, plan)) => (plan, Vec::new(), path.display().to_string()),
                    None => {
                        let scanned = scan_connected(
                            self.settings,
                            self.org,
                            client,
                            &ScanOptions::default(),
                            now_rfc3339(),
                            client.calls_made(),
                        )
                        .await
                        .map_err(|e| ApplyError::Command(Box::new(e)))?;
                        report_dir = Some(scanned.paths.dir.clone());
                        (
                            scanned.report.plan,
                            scanned.report.findings,
                            "scan".to_string(),
                        )
                    }
                };
                let from_file = source != "scan";
                let id = self.store_plan(&plan, &findings, &source)?;
                self.store.set_run_plan(self.id, id)?;
                (id, source, from_file.then_some(plan))
            }
        };

        // 5. Facts again, right before acting.
        let all = self.store.plan_actions(plan_id)?;
        let pending: Vec<&StoredAction> = all
            .iter()
            .filter(|a| a.status == ActionStatus::Planned)
            .collect();
        let mut keep: Vec<&StoredAction> = Vec::new();
        let mut licenses_before: Vec<PermissionSetLicense> = Vec::new();
        let mut fresh_snapshot = None;
        if !pending.is_empty() {
            let users: BTreeSet<String> = pending.iter().map(|a| a.user_id.clone()).collect();
            let users: Vec<String> = users.into_iter().collect();
            let extra: Vec<String> = self
                .org
                .plan
                .replacement_permission_set
                .iter()
                .cloned()
                .collect();
            // Natterbox records are read again only when an update relies on them: no describe
            // and no query for a plan of seats alone.
            let natterbox = self
                .org
                .natterbox
                .as_deref()
                .filter(|_| pending.iter().any(|a| a.op == Op::Update));
            // An idle fix relies on "no call since the scan": the targets' calls since the
            // earliest such period start are read again (one bounded aggregate per chunk).
            let calls = pending
                .iter()
                .flat_map(|a| a.facts.iter())
                .filter_map(|f| match f {
                    crate::plan::Fact::NoCallSince { since, .. } => {
                        DateTime::parse_from_rfc3339(since).ok()
                    }
                    _ => None,
                })
                .map(|t| t.with_timezone(&Utc))
                .min()
                .map(|since| crate::snapshot::CallsWindow {
                    as_of: Utc::now(),
                    since,
                    evidence: false,
                });
            let bar = crate::progress::FetchBar::new(format!(
                "org `{}`, re-reading {} user(s)",
                self.org.name,
                grouped(users.len())
            ));
            let (fresh, _) = fetch_snapshot_of_users(
                client,
                &self.org.rules,
                &extra,
                natterbox,
                crate::snapshot::fetch::UsersToReread {
                    user_ids: &users,
                    calls,
                },
                now_rfc3339(),
                &bar.sink(),
            )
            .await
            .map_err(|source| ApplyError::Fetch {
                org: self.org.name.clone(),
                source,
            })?;
            drop(bar);
            let verdicts = {
                let index = SnapshotIndex::new(&fresh);
                let ctx = PlanContext {
                    removed_assignments: verify::removed_assignments(
                        all.iter()
                            .filter(|a| {
                                !matches!(a.status, ActionStatus::Skipped | ActionStatus::Failed)
                            })
                            .map(|a| (a.op, a.sobject.as_str(), a.record_id.as_deref())),
                    ),
                    findings_with_done: all
                        .iter()
                        .filter(|a| a.status == ActionStatus::Done)
                        .map(|a| a.finding)
                        .collect(),
                };
                let judged: Vec<Pending<'_>> = pending
                    .iter()
                    .map(|a| Pending {
                        op: a.op,
                        sobject: &a.sobject,
                        record_id: a.record_id.as_deref(),
                        fields: &a.fields,
                        user_id: &a.user_id,
                        finding: a.finding,
                        facts: &a.facts,
                    })
                    .collect();
                verify::verify(&index, &judged, &ctx)
            };
            let mut skips: Vec<(ActionId, String)> = Vec::new();
            let mut for_admin: Vec<(ActionId, String)> = Vec::new();
            let mut already: Vec<Outcome> = Vec::new();
            let mut already_restores = Vec::new();
            // A fix with a manual step is the admin's whole: not drift, and said so.
            let manual_fixes: BTreeSet<usize> = all
                .iter()
                .filter(|a| a.op == Op::Manual)
                .map(|a| a.finding)
                .collect();
            for (a, verdict) in pending.iter().zip(verdicts) {
                match verdict {
                    Verdict::Keep => keep.push(a),
                    Verdict::Skip(_) if manual_fixes.contains(&a.finding) => {
                        for_admin.push((a.id, needs_admin_reason(a)));
                    }
                    Verdict::Skip(reason) => skips.push((a.id, reason)),
                    Verdict::AlreadyDone(reason) => {
                        // Gone before this read: its fields come from the plan's own facts, so
                        // a rollback can still re-create it.
                        if let Some(fields) = seat_fields_from_facts(a) {
                            already_restores.push((a.id, fields));
                        }
                        already.push(Outcome {
                            action: a.id,
                            status: ActionStatus::Done,
                            outcome: "already_gone".into(),
                            reason: Some(reason),
                            result_id: None,
                        });
                    }
                }
            }
            self.store.set_restore(&already_restores)?;
            let drifted = skips.len();
            if let Some(file_plan) = &file_plan {
                self.replan(file_plan, &fresh, &mut keep, &mut skips, &mut checked)?;
            }
            checked.plan_check.push(format!(
                "read the facts of {} pending action(s) again for {} user(s): {} still hold, {} \
                 drifted (skipped), {} need the admin (manual steps, not done by pslwarden), {} \
                 already done",
                pending.len(),
                users.len(),
                pending.len() - drifted - for_admin.len() - already.len(),
                drifted,
                for_admin.len(),
                already.len()
            ));
            self.store.skip(self.id, &skips)?;
            self.store.skip(self.id, &for_admin)?;
            self.store.record(self.id, &already)?;
            licenses_before = fresh.licenses.clone();
            fresh_snapshot = Some(fresh);
        }

        // 6. Caps, confirmation, journal of what would be deleted.
        let voice_seats: u64 = licenses_before
            .iter()
            .filter(|l| {
                l.developer_name == self.org.rules.voice_psl
                    || l.developer_name == self.org.rules.partner_psl
            })
            .map(|l| u64::from(l.used))
            .sum();
        let max_actions = options.max_actions.map_or(self.org.apply.max_actions, |n| {
            n.min(self.org.apply.max_actions)
        });
        let items: Vec<CapItem<'_>> = keep
            .iter()
            .map(|a| CapItem {
                finding: a.finding,
                user_id: &a.user_id,
            })
            .collect();
        let (positions, cap_note) =
            select_within_caps(&items, max_actions, self.org.apply.user_cap(voice_seats));
        let mut chosen: Vec<StoredAction> = positions.iter().map(|&i| keep[i].clone()).collect();
        if let Some(prompt) = self.prompt
            && !chosen.is_empty()
        {
            let question = self.confirmation_text(&chosen, cap_note.as_deref(), &licenses_before);
            let yes = prompt(&question).unwrap_or(false);
            if !yes {
                if !resumed {
                    // A plan nobody confirmed is closed, so the next apply scans afresh.
                    let declined: Vec<(ActionId, String)> = self
                        .store
                        .plan_actions(plan_id)?
                        .into_iter()
                        .filter(|a| a.status == ActionStatus::Planned)
                        .map(|a| (a.id, "not confirmed at the terminal".to_string()))
                        .collect();
                    self.store.skip(self.id, &declined)?;
                    self.store.finish_plan_if_done(plan_id)?;
                }
                self.store.finish_run(
                    self.id,
                    RunStatus::Stopped,
                    Some("not confirmed at the terminal: nothing was changed"),
                    None,
                )?;
                return Err(ApplyError::Declined);
            }
        }
        if let Some(fresh) = &fresh_snapshot {
            let mut restores = Vec::new();
            let mut unjournaled = Vec::new();
            for a in &chosen {
                let journaled = match a.op {
                    Op::Delete => a
                        .record_id
                        .as_deref()
                        .and_then(|id| restore_fields(fresh, &a.sobject, id)),
                    Op::Update => a.record_id.as_deref().and_then(|id| {
                        update_restore_fields(fresh, &a.sobject, id, a.fields.keys())
                    }),
                    _ => continue,
                };
                match journaled {
                    Some(fields) => restores.push((a.id, fields)),
                    None => unjournaled.push((
                        a.id,
                        "its fields could not be read to journal it, so it is not changed"
                            .to_string(),
                    )),
                }
            }
            self.store.set_restore(&restores)?;
            if !unjournaled.is_empty() {
                self.store.skip(self.id, &unjournaled)?;
                chosen.retain(|a| !unjournaled.iter().any(|(id, _)| *id == a.id));
            }
        }

        // 7. The batches, then the seats again.
        let words = |t| window_words(self.org, t);
        let executed = {
            let mut ctx = RunCtx {
                client,
                store: self.store,
                org: self.org,
                clock: self.clock,
                run: self.id,
                window_words: &words,
                cancel: options.cancel.as_deref(),
            };
            engine::execute(&mut ctx, &chosen).await?
        };
        let licenses_after = if chosen.is_empty() {
            licenses_before.clone()
        } else {
            probe::read_licenses(client)
                .await
                .map_err(|source| ApplyError::Fetch {
                    org: self.org.name.clone(),
                    source,
                })?
        };
        let actions = self.store.run_actions(self.id)?;
        let seats = seat_lines(&licenses_before, &licenses_after, &actions, RunKind::Apply);
        let left = self
            .store
            .plan_actions(plan_id)?
            .iter()
            .filter(|a| a.status == ActionStatus::Planned)
            .count();
        self.store.finish_plan_if_done(plan_id)?;
        let mut notes = Vec::new();
        if let Some(stop) = &executed.stop {
            notes.push(format!("stopped before the next batch: {stop}"));
        }
        if let Some(cap) = cap_note.filter(|_| left > 0) {
            notes.push(cap);
        }
        if left > 0 {
            notes.push(format!(
                "{left} action(s) are left for the next run inside the window (run apply again)"
            ));
        }
        let status = if left > 0 || executed.stop.is_some() {
            RunStatus::Stopped
        } else {
            RunStatus::Completed
        };
        let message = (!notes.is_empty()).then(|| notes.join("; "));
        let report = self.report(ReportParts {
            status,
            message,
            plan_id,
            plan_source,
            resumed,
            checked,
            actions: &actions,
            left,
            seats,
            write_calls: executed.batches,
        });
        self.store.finish_run(
            self.id,
            status,
            report.message.as_deref(),
            Some(&summary_json(&report)),
        )?;
        let dir = crate::report::write::write_run_files(
            &self.settings.reports_dir,
            &self.org.name,
            &self.started_at,
            report_dir.as_deref(),
            &[
                ("apply.json", &report.render_json()),
                ("apply.md", &report.render_markdown()),
                ("apply.html", &report.render_html()),
            ],
        )?;
        Ok(ApplyOutcome {
            report,
            dir,
            approval: None,
        })
    }

    fn store_plan(
        &mut self,
        plan: &Plan,
        findings: &[Finding],
        source: &str,
    ) -> Result<PlanId, ApplyError> {
        let finding_rows: Vec<NewFinding<'_>> = findings
            .iter()
            .enumerate()
            .map(|(position, f)| NewFinding {
                position,
                rule: &f.rule,
                kind: &f.kind,
                user_id: &f.user_id,
                username: &f.username,
                psl: &f.psl,
                recoverable_seats: f.recoverable_seats,
                summary: &f.summary,
            })
            .collect();
        let actions: Vec<NewAction> = plan
            .actions
            .iter()
            .map(|a| NewAction {
                action: a.clone(),
                undoes: None,
            })
            .collect();
        let created_at = now_rfc3339();
        Ok(self.store.create_plan(
            &NewPlan {
                org: &self.org.name,
                org_id: &self.org_id,
                kind: RunKind::Apply,
                digest: &plan.digest,
                source,
                snapshot_taken_at: &plan.snapshot_taken_at,
                created_at: &created_at,
                rollback_of_run: None,
                notes: &plan.notes,
            },
            &finding_rows,
            &actions,
        )?)
    }

    /// A plan file is applied only as far as a fresh plan agrees with it: when the facts under
    /// it changed (its digest no longer matches the org), its steps the fresh plan lacks are
    /// skipped, and steps only the fresh plan has are reported, not applied.
    fn replan(
        &self,
        file_plan: &Plan,
        fresh: &crate::snapshot::OrgSnapshot,
        keep: &mut Vec<&StoredAction>,
        skips: &mut Vec<(ActionId, String)>,
        checked: &mut Checked,
    ) -> Result<(), ApplyError> {
        let (_, _, fresh_plan) = evaluate(self.org, fresh).map_err(|e| ApplyError::Replan {
            org: self.org.name.clone(),
            detail: e.to_string(),
        })?;
        if fresh_plan.digest == file_plan.digest {
            checked.plan_check.push(format!(
                "the org still matches the plan file: a fresh plan's digest equals the file's \
                 ({})",
                short(&file_plan.digest)
            ));
            return Ok(());
        }
        checked.plan_check.push(format!(
            "the org changed since the plan file was made (digest {} now {}): re-planned on \
             fresh data; only steps the fresh plan still has are applied",
            short(&file_plan.digest),
            short(&fresh_plan.digest)
        ));
        keep.retain(|a| {
            let still = fresh_plan.actions.iter().any(|f| {
                same_step(
                    (f.op, &f.sobject, f.id.as_deref(), &f.fields),
                    (a.op, &a.sobject, a.record_id.as_deref(), &a.fields),
                )
            });
            if !still {
                skips.push((
                    a.id,
                    "a fresh plan of the org as it is now no longer has this step".to_string(),
                ));
            }
            still
        });
        for f in &fresh_plan.actions {
            let known = file_plan.actions.iter().any(|a| {
                same_step(
                    (f.op, &f.sobject, f.id.as_deref(), &f.fields),
                    (a.op, &a.sobject, a.id.as_deref(), &a.fields),
                )
            });
            if !known {
                checked.new_since_plan.push(f.description.clone());
            }
        }
        Ok(())
    }

    fn confirmation_text(
        &self,
        chosen: &[StoredAction],
        cap_note: Option<&str>,
        licenses: &[PermissionSetLicense],
    ) -> String {
        let users: BTreeSet<&str> = chosen.iter().map(|a| a.username.as_str()).collect();
        let seat_deletes: Vec<&StoredAction> = chosen
            .iter()
            .filter(|a| a.op == Op::Delete && a.sobject == LICENSE_ASSIGNMENT)
            .collect();
        let seats = seat_deletes.len();
        let mut text = format!(
            "pslwarden is about to change org `{}` ({}): {} action(s) for {} user(s), freeing \
             {seats} seat(s){}.\nWhile it runs, these agents may fail single sign-on to Amazon \
             Connect.\n",
            self.org.name,
            self.org_id,
            chosen.len(),
            users.len(),
            self.seats_worth(&seat_deletes, licenses)
        );
        for a in chosen.iter().take(10) {
            text.push_str(&format!("  - {}\n", a.description));
        }
        if chosen.len() > 10 {
            text.push_str(&format!("  ... and {} more\n", chosen.len() - 10));
        }
        if let Some(note) = cap_note {
            text.push_str(&format!("Not in this run: {note}.\n"));
        }
        text.push_str(&format!(
            "Window: {}\n",
            window_words(self.org, self.clock.now())
        ));
        text
    }

    /// ", worth USD 50.00 / month, USD 600.00 / year" for the seats these deletes would free,
    /// by each seat's license (from its `user_holds_seat` fact); empty without prices.
    fn seats_worth(
        &self,
        seat_deletes: &[&StoredAction],
        licenses: &[PermissionSetLicense],
    ) -> String {
        let Some(prices) = &self.org.prices else {
            return String::new();
        };
        let names = seat_deletes.iter().map(|a| {
            let license_id = seat_fields_from_facts(a)
                .and_then(|fields| fields.get("PermissionSetLicenseId").cloned());
            let name = licenses
                .iter()
                .find(|l| Some(&l.id) == license_id.as_ref())
                .map(|l| l.developer_name.as_str());
            (name, 1)
        });
        let (monthly, unpriced) = prices.price_seats(names);
        prices.worth_clause(monthly, unpriced)
    }

    fn report(&self, parts: ReportParts<'_>) -> RunReport {
        let usage = self.session.client.api_usage();
        RunReport {
            schema_version: RUN_REPORT_SCHEMA_VERSION,
            org: self.org.name.clone(),
            org_id: self.org_id.clone(),
            simulated: self.org.is_simulated(),
            run_id: self.id,
            kind: RunKind::Apply,
            status: parts.status,
            trigger: self.trigger.to_string(),
            mode: self.org.mode.as_str().to_string(),
            window: self.org.window.describe(),
            started_at: self.started_at.clone(),
            finished_at: now_rfc3339(),
            message: parts.message,
            plan_id: Some(parts.plan_id),
            plan_source: Some(parts.plan_source),
            approval: self.approval.clone(),
            resumed: parts.resumed,
            plan_check: parts.checked.plan_check,
            actions: parts.actions.iter().map(ActionLine::of).collect(),
            left_for_next_run: parts.left,
            saving: crate::apply::report::RunSaving::of(
                self.org.prices.as_ref(),
                &parts.seats,
                RunKind::Apply,
            ),
            seats: parts.seats,
            new_since_plan: parts.checked.new_since_plan,
            api_calls: self
                .session
                .client
                .calls_made()
                .saturating_sub(self.calls_at_start),
            write_calls: parts.write_calls,
            daily_api_used: usage.map(|u| u.used),
            daily_api_max: usage.map(|u| u.max),
        }
    }
}

struct ReportParts<'a> {
    status: RunStatus,
    message: Option<String>,
    plan_id: PlanId,
    plan_source: String,
    resumed: bool,
    checked: Checked,
    actions: &'a [StoredAction],
    left: usize,
    seats: Vec<SeatLine>,
    write_calls: u32,
}

/// The fields of a seat, from the `user_holds_seat` fact of the action that deletes it.
fn seat_fields_from_facts(a: &StoredAction) -> Option<std::collections::BTreeMap<String, String>> {
    a.facts.iter().find_map(|fact| match fact {
        crate::plan::Fact::UserHoldsSeat {
            user_id,
            license_id,
            assignment_id,
        } if a.record_id.as_deref() == Some(assignment_id.as_str()) => {
            Some(std::collections::BTreeMap::from([
                ("AssigneeId".to_string(), user_id.clone()),
                ("PermissionSetLicenseId".to_string(), license_id.clone()),
            ]))
        }
        _ => None,
    })
}

/// Why an action of a fix with a manual step is left to the admin, in the words every output
/// uses ("needs the admin: ..."): the manual step's own description, or for the fix's other
/// actions, that the fix is left whole.
fn needs_admin_reason(a: &StoredAction) -> String {
    if a.op == Op::Manual {
        format!("{NEEDS_ADMIN}{}", a.description)
    } else {
        format!(
            "{NEEDS_ADMIN}this fix has a manual step (a permission set that comes through a \
             group), so it is left whole to the admin: {}",
            a.description
        )
    }
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Seats per license: the journal's expected change (seat assignments this run removed, or
/// re-created for a rollback) against the org's own count before and after.
pub fn seat_lines(
    before: &[PermissionSetLicense],
    after: &[PermissionSetLicense],
    actions: &[StoredAction],
    kind: RunKind,
) -> Vec<SeatLine> {
    let mut lines = Vec::new();
    for b in before {
        let Some(a) = after.iter().find(|a| a.id == b.id) else {
            continue;
        };
        let journal: i64 = actions
            .iter()
            .filter(|x| x.status == ActionStatus::Done && x.sobject == LICENSE_ASSIGNMENT)
            .filter(|x| match kind {
                RunKind::Apply => x.op == Op::Delete,
                RunKind::Rollback => x.op == Op::Create && x.outcome.as_deref() == Some("created"),
            })
            .filter(|x| {
                let fields = if x.op == Op::Delete {
                    x.restore.as_ref()
                } else {
                    Some(&x.fields)
                };
                fields
                    .and_then(|f| f.get("PermissionSetLicenseId"))
                    .is_some_and(|id| *id == b.id)
            })
            .count() as i64;
        let expected = match kind {
            RunKind::Apply => journal,
            RunKind::Rollback => -journal,
        };
        let actual = i64::from(b.used) - i64::from(a.used);
        if expected != 0 || actual != 0 {
            lines.push(SeatLine {
                psl: b.developer_name.clone(),
                psl_id: b.id.clone(),
                total: a.total,
                used_before: b.used,
                used_after: a.used,
                expected_change: expected,
                actual_change: actual,
            });
        }
    }
    lines
}

/// What the state store keeps of a run's report.
pub fn summary_json(report: &RunReport) -> serde_json::Value {
    serde_json::json!({
        "seats": report.seats,
        "saving": report.saving,
        "left_for_next_run": report.left_for_next_run,
        "api_calls": report.api_calls,
        "write_calls": report.write_calls,
        "plan_check": report.plan_check,
    })
}
