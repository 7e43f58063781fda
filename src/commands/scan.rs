//! `pslwarden scan`: take a snapshot (or replay a saved one), run the rules, work out the ledger
//! and the plan, and write the dry-run report. Never changes the org.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::{CommandError, now_rfc3339, render_table};
use crate::config::{OrgSettings, Settings};
use crate::connect::connect;
use crate::ledger::{LedgerRow, compute_ledger};
use crate::plan::{LICENSE_ASSIGNMENT, Op, Plan, build_plan};
use crate::report::write::{ReportPaths, write_report_dir};
use crate::report::{ApiInfo, OrgInfo, RuleSummary, RunInfo, ScanReport, ToolInfo};
use crate::rules::{
    RuleOutcome, RuleStatus, SnapshotIndex, all_findings, builtin_rules, evaluate_all,
    scv_double_consumption,
};
use crate::snapshot::{FetchProgress, FetchStats, OrgSnapshot, fetch_snapshot};

/// What the user asked of `scan`.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Replay this saved snapshot instead of signing in.
    pub snapshot: Option<PathBuf>,
    /// Also save the plan here.
    pub plan_out: Option<PathBuf>,
}

/// The outcome of a scan: the report and where it was written.
#[derive(Debug)]
pub struct ScanOutcome {
    pub report: ScanReport,
    pub paths: ReportPaths,
    /// How the snapshot was fetched (`None` when replayed from a file).
    pub fetch: Option<FetchStats>,
}

/// Why a scan failed, beyond the common errors.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read snapshot file {path}: {source}")]
    SnapshotRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "snapshot file {path} is not a pslwarden snapshot: {source}. Use a snapshot.json from a \
         report folder (reports/<org>/<time>/snapshot.json)"
    )]
    SnapshotParse {
        path: PathBuf,
        source: crate::snapshot::SnapshotError,
    },
    #[error("taking the snapshot of org `{org}` failed: {source}")]
    Fetch {
        org: String,
        source: crate::snapshot::FetchError,
    },
    #[error("org `{org}`: {source}")]
    Rules {
        org: String,
        source: crate::rules::RuleError,
    },
    #[error("org `{org}`: {source}")]
    Plan {
        org: String,
        source: crate::plan::PlanError,
    },
    #[error(transparent)]
    Report(#[from] crate::report::write::ReportError),
    #[error("cannot write the plan to {path}: {source}")]
    PlanOut {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Runs the scan for `org`.
pub async fn run(
    settings: &Settings,
    org: &OrgSettings,
    options: &ScanOptions,
) -> Result<ScanOutcome, CommandError> {
    let started_at = now_rfc3339();
    let (snapshot, source, fetch, api) = match &options.snapshot {
        Some(path) => (
            read_snapshot(path)?,
            path.display().to_string(),
            None,
            ApiInfo {
                calls: 0,
                query_pages: 0,
                daily_used: None,
                daily_max: None,
            },
        ),
        None => {
            let session = connect(org).await?;
            return scan_connected(settings, org, &session.client, options, started_at, 0).await;
        }
    };
    finish(
        settings, org, options, snapshot, started_at, source, fetch, api,
    )
}

/// Scans through a client that is already signed in (`apply` scans before it acts, on the
/// same session). The report counts the client's calls after the first `calls_before`.
pub async fn scan_connected(
    settings: &Settings,
    org: &OrgSettings,
    client: &crate::salesforce::Client,
    options: &ScanOptions,
    started_at: String,
    calls_before: u64,
) -> Result<ScanOutcome, CommandError> {
    let progress = progress_printer();
    let extra: Vec<String> = org
        .plan
        .replacement_permission_set
        .iter()
        .cloned()
        .collect();
    let (snapshot, stats) = fetch_snapshot(
        client,
        &org.rules,
        &extra,
        org.natterbox.as_deref(),
        started_at.clone(),
        &progress,
    )
    .await
    .map_err(|source| ScanError::Fetch {
        org: org.name.clone(),
        source,
    })?;
    finish_progress();
    let usage = client.api_usage();
    let api = ApiInfo {
        calls: client.calls_made() - calls_before,
        query_pages: stats.pages,
        daily_used: usage.map(|u| u.used),
        daily_max: usage.map(|u| u.max),
    };
    let source = "org".to_string();
    let fetch = Some(stats);
    finish(
        settings, org, options, snapshot, started_at, source, fetch, api,
    )
}

/// Judges the snapshot and writes the report folder.
#[allow(clippy::too_many_arguments)]
fn finish(
    settings: &Settings,
    org: &OrgSettings,
    options: &ScanOptions,
    snapshot: OrgSnapshot,
    started_at: String,
    source: String,
    fetch: Option<FetchStats>,
    api: ApiInfo,
) -> Result<ScanOutcome, CommandError> {
    let (outcomes, ledger, plan) = evaluate(org, &snapshot)?;
    let report = assemble(
        org, &snapshot, started_at, source, outcomes, ledger, plan, api,
    );
    let paths = write_report_dir(&settings.reports_dir, &org.name, &report, &snapshot)
        .map_err(ScanError::from)?;
    if let Some(path) = &options.plan_out {
        write_plan(path, &report.plan)?;
    }
    Ok(ScanOutcome {
        report,
        paths,
        fetch,
    })
}

/// Rules, ledger and plan: pure, over the snapshot.
pub fn evaluate(
    org: &OrgSettings,
    snapshot: &OrgSnapshot,
) -> Result<(Vec<RuleOutcome>, Vec<LedgerRow>, Plan), ScanError> {
    let index = SnapshotIndex::new(snapshot);
    let mut rules = builtin_rules();
    if let Some(pack) = &org.natterbox {
        rules.push(Box::new(crate::rules::natterbox::NatterboxRule {
            pack: pack.clone(),
            fixes: org.natterbox_fixes.clone(),
        }));
    }
    let outcomes = evaluate_all(&index, &org.rules, &rules).map_err(|source| ScanError::Rules {
        org: org.name.clone(),
        source,
    })?;
    let findings = all_findings(&outcomes);
    let ledger = compute_ledger(snapshot, &findings);
    let plan = build_plan(&index, &findings, &org.plan).map_err(|source| ScanError::Plan {
        org: org.name.clone(),
        source,
    })?;
    Ok((outcomes, ledger, plan))
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    org: &OrgSettings,
    snapshot: &OrgSnapshot,
    started_at: String,
    snapshot_source: String,
    outcomes: Vec<RuleOutcome>,
    ledger: Vec<LedgerRow>,
    plan: Plan,
    api: ApiInfo,
) -> ScanReport {
    let scv = outcomes
        .iter()
        .find(|o| o.rule == scv_double_consumption::ID);
    let affected_status = scv.map_or(RuleStatus::Undetermined, |o| o.status);
    ScanReport {
        schema_version: crate::report::REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "pslwarden".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        run: RunInfo {
            started_at,
            finished_at: now_rfc3339(),
            mode: "dry-run".to_string(),
            snapshot_source,
        },
        org: OrgInfo {
            name: org.name.clone(),
            org_id: snapshot.org_id.clone(),
            org_name: snapshot.org_name.clone(),
            api_version: snapshot.api_version.clone(),
            affected: affected_status == RuleStatus::Applies,
            affected_status,
            notes: scv.map(|o| o.notes.clone()).unwrap_or_default(),
            simulated: org.is_simulated(),
        },
        rules: outcomes.iter().map(RuleSummary::of).collect(),
        findings: all_findings(&outcomes),
        ledger,
        plan,
        api,
    }
}

fn read_snapshot(path: &Path) -> Result<OrgSnapshot, ScanError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScanError::SnapshotRead {
        path: path.to_path_buf(),
        source,
    })?;
    OrgSnapshot::from_json(&text).map_err(|source| ScanError::SnapshotParse {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the plan next to nothing else: a temp file renamed into place, never half-written.
fn write_plan(path: &Path, plan: &Plan) -> Result<(), ScanError> {
    let fail = |source| ScanError::PlanOut {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("json.partial");
    // The plan names users and their licenses: 0600 like the report folder's own copy.
    let mut file = crate::private_fs::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(fail)?;
    std::io::Write::write_all(&mut file, plan.to_json_pretty().as_bytes()).map_err(fail)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(fail)
}

/// A one-line progress bar on stderr while pages are fetched, only when stderr is a terminal.
fn progress_printer() -> impl Fn(FetchProgress) + Sync {
    let tty = std::io::stderr().is_terminal();
    move |p: FetchProgress| {
        if tty && p.pages_total > 0 {
            let width = 30usize;
            let filled =
                ((p.pages_done.min(p.pages_total) * width as u64) / p.pages_total) as usize;
            eprint!(
                "\rfetching [{}{}] {}/{} pages",
                "#".repeat(filled),
                " ".repeat(width - filled),
                p.pages_done,
                p.pages_total
            );
        }
    }
}

fn finish_progress() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

impl ScanOutcome {
    /// The short terminal summary.
    pub fn render_summary(&self) -> String {
        let r = &self.report;
        let verdict = match r.org.affected_status {
            RuleStatus::Applies => {
                "affected: the Voice permission set consumes a Salesforce Voice User seat"
            }
            RuleStatus::NotApplicable => {
                "not affected by the Voice permission set double consumption"
            }
            RuleStatus::Undetermined => "undetermined: see the notes in the report",
        };
        let mut out = format!("Org `{}` ({}) — {verdict}\n", r.org.name, r.org.org_id);
        let seats_planned = r
            .plan
            .actions
            .iter()
            .filter(|a| a.op == Op::Delete && a.sobject == LICENSE_ASSIGNMENT)
            .count();
        out.push_str(&format!(
            "{} finding(s), {} recoverable seat(s); the plan frees {seats_planned} seat(s) in {} \
             action(s) (dry run: nothing was changed)\n\n",
            r.findings.len(),
            r.recoverable_seats(),
            r.plan.actions.len()
        ));
        let rows: Vec<Vec<String>> = r
            .ledger
            .iter()
            .filter(|l| l.consumed_by_findings > 0 || l.psl.starts_with("ServiceCloudVoice"))
            .map(|l| {
                vec![
                    l.psl.clone(),
                    l.total.to_string(),
                    l.used.to_string(),
                    l.free.to_string(),
                    l.recoverable.to_string(),
                    l.free_after_fix.to_string(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            out.push_str(&render_table(
                &[
                    "PSL",
                    "Total",
                    "Used",
                    "Free",
                    "Recoverable",
                    "Free after fix",
                ],
                &rows,
                &[false, true, true, true, true, true],
            ));
            out.push('\n');
        }
        if !r.findings.is_empty() {
            let rows: Vec<Vec<String>> = r
                .findings
                .iter()
                .take(20)
                .map(|f| {
                    vec![
                        if f.rule == crate::rules::natterbox::ID {
                            format!("{}:{}", f.rule, f.kind)
                        } else {
                            f.rule.clone()
                        },
                        f.username.clone(),
                        if f.user_active { "yes" } else { "no" }.to_string(),
                        f.psl.clone(),
                        f.recoverable_seats.to_string(),
                    ]
                })
                .collect();
            out.push_str(&render_table(
                &["Rule", "User", "Active", "PSL", "Seats"],
                &rows,
                &[false, false, false, false, true],
            ));
            if r.findings.len() > 20 {
                out.push_str(&format!(
                    "... and {} more in the report\n",
                    r.findings.len() - 20
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!("Report: {}\n", self.paths.html.display()));
        out
    }
}
