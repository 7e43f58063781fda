//! `pslwarden scan`: take a snapshot (or replay a saved one), run the rules, work out the ledger
//! and the plan, and write the dry-run report. Never changes the org.

use std::path::{Path, PathBuf};

use super::{CommandError, now_rfc3339, render_table};
use crate::config::{OrgSettings, Settings};
use crate::connect::connect;
use crate::ledger::{LedgerRow, compute_ledger};
use crate::plan::{Plan, build_plan};
use crate::report::money::{price_scan, unknown_licenses_warning};
use crate::report::next::NextInfo;
use crate::report::number::grouped;
use crate::report::write::{ReportPaths, write_report_dir};
use crate::report::{ApiInfo, OrgInfo, RuleSummary, RunInfo, ScanReport, ToolInfo};
use crate::rules::{
    RuleOutcome, RuleStatus, SnapshotIndex, VoicePermissionSet, all_findings, configured_rules,
    evaluate_all, find_voice_permission_set, scv_double_consumption,
};
use crate::snapshot::{FetchStats, OrgSnapshot, fetch_snapshot};

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
        "snapshot file {path} cannot be replayed: {source} (a run's snapshot is \
         reports/<org>/<time>/snapshot.json)"
    )]
    SnapshotParse {
        path: PathBuf,
        source: crate::snapshot::SnapshotError,
    },
    #[error(transparent)]
    ForeignSnapshot(Box<ForeignSnapshot>),
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
    /// The rehearsal clock's setting is malformed (the message names the variable).
    #[error("{0}")]
    Clock(String),
    #[error("cannot write the plan to {path}: {source}")]
    PlanOut {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A replayed snapshot is of another org than the one named.
#[derive(Debug, thiserror::Error)]
#[error(
    "snapshot file {path} is of org {snapshot_org_id} ({snapshot_org_name}), but org `{org}` is \
     {org_id} (as read live on {seen_at}, report {report}): a snapshot is replayed only under the \
     org it was taken from. Pass the right --org, or use that org's snapshot.json"
)]
pub struct ForeignSnapshot {
    pub path: PathBuf,
    pub snapshot_org_id: String,
    pub snapshot_org_name: String,
    /// The org named (`--org`, or the only one) and its id as last read live.
    pub org: String,
    pub org_id: String,
    /// When and where that id was read, so the admin can check it.
    pub seen_at: String,
    pub report: PathBuf,
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
            read_snapshot(settings, org, path)?,
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
    let bar = crate::progress::FetchBar::new(format!("org `{}`", org.name));
    let extra: Vec<String> = org
        .plan
        .replacement_permission_set
        .iter()
        .cloned()
        .collect();
    // The idle rule's period ends at the window gate's "now", so a rehearsal clock
    // (`PSLWARDEN_FAKE_CLOCK`, debug builds) moves it like it moves the window.
    // Read only when the rule runs: a stepped rehearsal clock moves at each reading.
    let idle_as_of = match &org.rules.idle {
        Some(_) => crate::apply::clock::from_env()
            .map_err(ScanError::Clock)?
            .now(),
        None => chrono::Utc::now(),
    };
    let (snapshot, stats) = fetch_snapshot(
        client,
        &org.rules,
        &extra,
        org.natterbox.as_deref(),
        started_at.clone(),
        idle_as_of,
        &bar.sink(),
    )
    .await
    .map_err(|source| ScanError::Fetch {
        org: org.name.clone(),
        source,
    })?;
    drop(bar);
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
    // "Now" for what happens next is the window gate's clock, so a rehearsal
    // (`PSLWARDEN_FAKE_CLOCK`, debug builds) sees the same window as `apply` would.
    let now = crate::apply::clock::from_env()
        .map_err(ScanError::Clock)?
        .now();
    let report = assemble(
        org, &snapshot, started_at, source, outcomes, ledger, plan, api, now,
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
    let mut rules = configured_rules(&org.rules);
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
    let plan = build_plan(&index, &findings, &org.plan).map_err(|source| ScanError::Plan {
        org: org.name.clone(),
        source,
    })?;
    let not_offered = voice_set_ids(snapshot, &org.rules);
    let ledger = compute_ledger(snapshot, &findings, &plan, &not_offered);
    Ok((outcomes, ledger, plan))
}

/// The Voice permission set (or, undetermined, every set that could be it): the what-if does
/// not offer it, since giving it is what wastes the seats. The rules already checked the config.
fn voice_set_ids<'a>(snapshot: &'a OrgSnapshot, ctx: &crate::rules::RuleContext) -> Vec<&'a str> {
    match find_voice_permission_set(snapshot, ctx) {
        Ok(VoicePermissionSet::Linked { permission_set, .. }) => vec![permission_set.id.as_str()],
        Ok(VoicePermissionSet::Ambiguous { candidates }) => {
            candidates.iter().map(|set| set.id.as_str()).collect()
        }
        _ => Vec::new(),
    }
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
    now: chrono::DateTime<chrono::Utc>,
) -> ScanReport {
    let scv = outcomes
        .iter()
        .find(|o| o.rule == scv_double_consumption::ID);
    let findings = all_findings(&outcomes);
    let money = price_scan(org.prices.as_ref(), &findings, &ledger);
    if let Some(warning) = money
        .as_ref()
        .and_then(|m| unknown_licenses_warning(&m.unknown_licenses))
    {
        tracing::warn!(org = %org.name, "{warning}");
    }
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
        findings,
        ledger,
        next: Some(NextInfo::at(
            &org.window,
            org.mode,
            &org.schedule,
            !plan.actions.is_empty(),
            now,
        )),
        plan,
        api,
        money,
    }
}

/// Reads a saved snapshot (its digest and references checked by the model) and checks it is
/// `org`'s, as far as `org`'s id is known offline; says on stderr whose it is (stdout is the
/// summary, and other commands' formats).
fn read_snapshot(
    settings: &Settings,
    org: &OrgSettings,
    path: &Path,
) -> Result<OrgSnapshot, ScanError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScanError::SnapshotRead {
        path: path.to_path_buf(),
        source,
    })?;
    let snapshot = OrgSnapshot::from_json(&text).map_err(|source| ScanError::SnapshotParse {
        path: path.to_path_buf(),
        source,
    })?;
    let whose = format!(
        "replayed snapshot of org {} ({}), taken {}",
        snapshot.org_id, snapshot.org_name, snapshot.taken_at
    );
    let note = match last_live_org_id(&settings.reports_dir, &org.name) {
        Some(seen) if seen.org_id != snapshot.org_id => {
            return Err(ScanError::ForeignSnapshot(Box::new(ForeignSnapshot {
                path: path.to_path_buf(),
                snapshot_org_id: snapshot.org_id.clone(),
                snapshot_org_name: snapshot.org_name.clone(),
                org: org.name.clone(),
                org_id: seen.org_id,
                seen_at: seen.started_at,
                report: seen.report,
            })));
        }
        Some(_) => format!("{whose}: org `{}` has this id", org.name),
        None => format!(
            "{whose}. Org `{}` has never been read live into {}, so its id is not known here \
             and was NOT compared: make sure this is its snapshot",
            org.name,
            settings.reports_dir.display()
        ),
    };
    eprintln!("note: {note}");
    Ok(snapshot)
}

/// What a live read said an org's id was.
struct SeenOrgId {
    org_id: String,
    started_at: String,
    report: PathBuf,
}

/// How many of an org's newest report folders are searched for a live read.
const REPORTS_SEARCHED: usize = 50;

/// The org id of the newest report of `org` (under `reports_dir`) whose data was read from the
/// org, not replayed: the id pslwarden last signed in to under that name. `None` when there is
/// none; unreadable folders and reports are passed over (they only make the id unknown).
fn last_live_org_id(reports_dir: &Path, org: &str) -> Option<SeenOrgId> {
    #[derive(serde::Deserialize)]
    struct Head {
        run: RunHead,
        org: OrgHead,
    }
    #[derive(serde::Deserialize)]
    struct RunHead {
        started_at: String,
        snapshot_source: String,
    }
    #[derive(serde::Deserialize)]
    struct OrgHead {
        org_id: String,
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(reports_dir.join(org))
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    // Folder names are UTC stamps (`20260105T230000Z`, `...-2`): newest last once sorted.
    folders.sort();
    folders.iter().rev().take(REPORTS_SEARCHED).find_map(|dir| {
        let report = dir.join("report.json");
        let text = std::fs::read_to_string(&report).ok()?;
        let head: Head = serde_json::from_str(&text).ok()?;
        (head.run.snapshot_source == "org").then_some(SeenOrgId {
            org_id: head.org.org_id,
            started_at: head.run.started_at,
            report,
        })
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
        let mut out = format!(
            "Org `{}` ({}) — {verdict}\n",
            crate::text::terminal(&r.org.name),
            crate::text::terminal(&r.org.org_id)
        );
        let seats = r.seat_totals();
        out.push_str(&format!(
            "{} finding(s), {} recoverable seat(s): {}; {} plan action(s) (dry run: nothing was \
             changed)\n",
            grouped(r.findings.len()),
            grouped(seats.recoverable()),
            seats.sentence(),
            grouped(r.plan.actions.len())
        ));
        if let Some(money) = &r.money {
            out.push_str(&format!("{}\n", money.totals.sentence()));
            if let Some(warning) = unknown_licenses_warning(&money.unknown_licenses) {
                out.push_str(&format!("warning: {}\n", crate::text::terminal(&warning)));
            }
        }
        for over in r.over_allocations() {
            out.push_str(&format!("warning: {over}\n"));
        }
        out.push('\n');
        // Money columns only with prices; an unpriced license's cell is empty, never 0.
        let worth_cell = |w: Option<&crate::money::Worth>| {
            w.map_or_else(String::new, |w| w.monthly_text.clone())
        };
        let rows: Vec<Vec<String>> = r
            .ledger
            .iter()
            .filter(|l| {
                l.consumed_by_findings > 0
                    || l.over_allocated
                    || l.psl.starts_with("ServiceCloudVoice")
            })
            .map(|l| {
                let mut row = vec![
                    l.psl.clone(),
                    grouped(l.total),
                    if l.over_allocated {
                        format!("{} OVER", grouped(l.used))
                    } else {
                        grouped(l.used)
                    },
                    grouped(l.free),
                    grouped(l.freed_by_plan),
                    grouped(l.needs_admin),
                    grouped(l.needs_orphan_reclaim),
                    grouped(l.needs_idle_reclaim),
                    grouped(l.free_after_fix),
                ];
                if let Some(money) = &r.money {
                    let priced = money.license(&l.psl);
                    row.push(worth_cell(priced.and_then(|m| m.recoverable.as_ref())));
                    row.push(
                        priced
                            .and_then(|m| m.recoverable.as_ref())
                            .map_or_else(String::new, |w| w.yearly_text.clone()),
                    );
                }
                row
            })
            .collect();
        if !rows.is_empty() {
            let mut head = vec![
                "PSL",
                "Total",
                "Used",
                "Free",
                "Freed by plan",
                "Needs admin",
                "Orphans (reclaim off)",
                "Idle (reclaim off)",
                "Free after fix",
            ];
            let mut right = vec![false, true, true, true, true, true, true, true, true];
            if r.money.is_some() {
                head.extend(["Recoverable / month", "Recoverable / year"]);
                right.extend([true, true]);
            }
            out.push_str(&render_table(&head, &rows, &right));
            out.push('\n');
        }
        let steps: Vec<&crate::plan::Action> = r.admin_steps().collect();
        for step in steps.iter().take(10) {
            out.push_str(&format!("needs the admin: {}\n", step.description));
        }
        if steps.len() > 10 {
            out.push_str(&format!(
                "... and {} more manual step(s) in the report\n",
                grouped(steps.len() - 10)
            ));
        }
        if !steps.is_empty() {
            out.push('\n');
        }
        if !r.findings.is_empty() {
            let rows: Vec<Vec<String>> = r
                .findings
                .iter()
                .take(20)
                .enumerate()
                .map(|(position, f)| {
                    let mut row = vec![
                        if f.rule == crate::rules::natterbox::ID {
                            format!("{}:{}", f.rule, f.kind)
                        } else {
                            f.rule.clone()
                        },
                        f.username.clone(),
                        if f.user_active { "yes" } else { "no" }.to_string(),
                        f.psl.clone(),
                        grouped(f.recoverable_seats),
                    ];
                    if let Some(money) = &r.money {
                        let worth = money.finding(position);
                        row.push(worth_cell(worth));
                        row.push(worth.map_or_else(String::new, |w| w.yearly_text.clone()));
                    }
                    row
                })
                .collect();
            let mut head = vec!["Rule", "User", "Active", "PSL", "Seats"];
            let mut right = vec![false, false, false, false, true];
            if r.money.is_some() {
                head.extend(["Worth / month", "Worth / year"]);
                right.extend([true, true]);
            }
            out.push_str(&render_table(&head, &rows, &right));
            if r.findings.len() > 20 {
                out.push_str(&format!(
                    "... and {} more in the report\n",
                    grouped(r.findings.len() - 20)
                ));
            }
            out.push('\n');
        }
        if let Some(next) = &r.next {
            out.push_str("What happens next:\n");
            for sentence in next.sentences() {
                out.push_str(&format!("  {}\n", crate::text::terminal(&sentence)));
            }
            out.push('\n');
        }
        out.push_str(&format!("Report: {}\n", self.paths.html.display()));
        out
    }
}
