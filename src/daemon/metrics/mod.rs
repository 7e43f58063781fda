//! What the daemon knows about each org's jobs, for `/metrics` and the status page.
//!
//! Owns: [`Metrics`] (written by the jobs, read by the endpoint and the status page), the job
//! vocabulary ([`JobKind`], [`JobStatus`], [`JobEnd`]) and, in [`exposition`], its encoding as
//! OpenMetrics text through `prometheus-client`.
//!
//! Must not: hold secrets or usernames; only org and license names, counts, statuses and
//! instants. It does not decide anything: it records what the jobs report.

mod exposition;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::metrics::histogram::Histogram;

use crate::ledger::LedgerRow;
use crate::money::Prices;
use crate::report::ScanReport;
use crate::report::money::recoverable_monthly_cost;
use crate::state::RunStatus;

pub use exposition::{CONTENT_TYPE, render};

/// The kinds of jobs the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    Scan,
    Apply,
}

impl JobKind {
    /// Every kind, so each configured org shows a series per kind before its first job.
    pub const ALL: [JobKind; 2] = [JobKind::Scan, JobKind::Apply];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Scan => "scan",
            JobKind::Apply => "apply",
        }
    }

    /// The statuses a job of this kind can end with (see `jobs.rs`): a scan either completes
    /// or fails; an apply can also be stopped or refused by its gates.
    pub fn statuses(self) -> &'static [JobStatus] {
        match self {
            JobKind::Scan => &[JobStatus::Completed, JobStatus::Failed],
            JobKind::Apply => &[
                JobStatus::Completed,
                JobStatus::Stopped,
                JobStatus::WindowClosed,
                JobStatus::DryRunMode,
                JobStatus::NoApproval,
                JobStatus::OrgBusy,
                JobStatus::Failed,
            ],
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a job ended, as the metrics, the logs and the status page name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobStatus {
    /// Did all it set out to do.
    Completed,
    /// An apply the gate stopped (window, API headroom) or a cap left work for the next run.
    Stopped,
    /// An apply outside the org's window: nothing done, not a failure.
    WindowClosed,
    /// An apply refused because the org's mode is `dry-run`.
    DryRunMode,
    /// An `approved`-mode apply with no approved plan to carry out.
    NoApproval,
    /// An apply refused because another run holds the org.
    OrgBusy,
    /// An error ended it.
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Completed => "completed",
            JobStatus::Stopped => "stopped",
            JobStatus::WindowClosed => "window_closed",
            JobStatus::DryRunMode => "dry_run_mode",
            JobStatus::NoApproval => "no_approval",
            JobStatus::OrgBusy => "org_busy",
            JobStatus::Failed => "failed",
        }
    }
}

impl From<RunStatus> for JobStatus {
    /// The status of the run an apply returns. A returned run has ended, so `running` or
    /// `interrupted` would mean it did not finish properly: counted as failed.
    fn from(status: RunStatus) -> JobStatus {
        match status {
            RunStatus::Completed => JobStatus::Completed,
            RunStatus::Stopped => JobStatus::Stopped,
            RunStatus::Failed | RunStatus::Running | RunStatus::Interrupted => JobStatus::Failed,
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEnd {
    /// The metrics' and the logs' word for it.
    pub status: JobStatus,
    /// The apply run's id in the state store, when there was a run.
    pub run_id: Option<i64>,
    /// Why, in a sentence (logs and status page only; metrics keep the status).
    pub message: Option<String>,
}

impl JobEnd {
    /// Whether the job did its job (a closed window is not a failure).
    pub fn ok(&self) -> bool {
        self.status != JobStatus::Failed
    }
}

/// One license's seats in an org's last scan, from the ledger (`crate::ledger`), which is the
/// one definition of these numbers every report uses. A per-(org, license) metric adds a field
/// here and one `family` over `per_license` in `exposition`.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenseSeats {
    /// The license's `DeveloperName` (the `psl` label).
    pub psl: String,
    /// Seats bought (`TotalLicenses`).
    pub total: u32,
    /// Seats taken, as Salesforce counts them (`UsedLicenses`).
    pub used: u32,
    /// Seats the findings could free (the ledger's `recoverable`).
    pub recoverable: u32,
    /// What those seats cost a month at `[org.prices]` (see
    /// [`crate::report::money::recoverable_monthly_cost`]), with the currency: `None` for a
    /// license without a price, which then has no cost series rather than a made-up 0.
    pub recoverable_monthly_cost: Option<MonthlyCost>,
}

/// An amount per month, in the units of `currency` (a plain number, as Prometheus wants).
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyCost {
    pub amount: f64,
    /// ISO 4217 code: the gauge's `currency` label.
    pub currency: String,
}

impl LicenseSeats {
    /// One entry per ledger row, in ledger order, without money.
    pub fn from_ledger(ledger: &[LedgerRow]) -> Vec<LicenseSeats> {
        ledger
            .iter()
            .map(|row| LicenseSeats {
                psl: row.psl.clone(),
                total: row.total,
                used: row.used,
                recoverable: row.recoverable,
                recoverable_monthly_cost: None,
            })
            .collect()
    }

    /// One entry per ledger row of `report`, the priced licenses with what their recoverable
    /// seats cost a month at `prices` (none without prices).
    pub fn from_report(report: &ScanReport, prices: Option<&Prices>) -> Vec<LicenseSeats> {
        let mut seats = LicenseSeats::from_ledger(&report.ledger);
        let Some(prices) = prices else {
            return seats;
        };
        let costs: BTreeMap<String, f64> = recoverable_monthly_cost(report, Some(prices))
            .into_iter()
            .collect();
        for license in &mut seats {
            license.recoverable_monthly_cost = costs.get(&license.psl).map(|amount| MonthlyCost {
                amount: *amount,
                currency: prices.currency.code.clone(),
            });
        }
        seats
    }
}

/// One org's numbers since the daemon started.
#[derive(Debug, Default, Clone)]
pub struct OrgMetrics {
    /// When each kind of job last ended, and how (also shown on the status page).
    pub last: BTreeMap<JobKind, (DateTime<Utc>, JobEnd)>,
    /// Jobs ended, by kind and status.
    pub runs: BTreeMap<(JobKind, JobStatus), u64>,
    /// Ticks not run because the org's previous job of the same kind was still going.
    pub skipped_busy: BTreeMap<JobKind, u64>,
    /// How long each kind of job took. A clone shares the buckets (the crate's handle), which
    /// is what a snapshot taken for one scrape needs.
    pub durations: BTreeMap<JobKind, Histogram>,
    /// Findings and recoverable seats of the last scan.
    pub findings: Option<u64>,
    pub recoverable_seats: Option<u64>,
    /// Of those, the seats the plan frees by itself and those needing the admin's manual step
    /// (the ledger's definition), so a dashboard does not count manual fixes as freed.
    pub seats_freed_by_plan: Option<u64>,
    pub seats_needing_admin: Option<u64>,
    /// Licenses the last scan found used beyond their total.
    pub over_allocated_licenses: Option<u64>,
    /// Each license's seats in the last scan (empty before the first scan).
    pub licenses: Vec<LicenseSeats>,
    /// Seats freed by applies since the daemon started (the journal's count).
    pub seats_freed: u64,
    /// REST calls made by the org's jobs since the daemon started.
    pub api_calls: u64,
    /// The org's daily API usage as last reported.
    pub api_daily_used: Option<u64>,
    pub api_daily_max: Option<u64>,
}

/// Shared by the jobs (writers) and the endpoint (reader).
#[derive(Debug, Default)]
pub struct Metrics {
    orgs: Mutex<BTreeMap<String, OrgMetrics>>,
}

impl Metrics {
    /// Changes one org's numbers.
    pub fn update(&self, org: &str, f: impl FnOnce(&mut OrgMetrics)) {
        let mut orgs = self.orgs.lock().unwrap_or_else(|p| p.into_inner());
        f(orgs.entry(org.to_string()).or_default());
    }

    /// Records the end of a job that took `took`.
    pub fn job_ended(
        &self,
        org: &str,
        kind: JobKind,
        at: DateTime<Utc>,
        took: Duration,
        end: JobEnd,
    ) {
        self.update(org, |m| {
            *m.runs.entry((kind, end.status)).or_default() += 1;
            m.durations
                .entry(kind)
                .or_insert_with(exposition::duration_histogram)
                .observe(took.as_secs_f64());
            m.last.insert(kind, (at, end));
        });
    }

    /// A copy, for rendering without holding the lock.
    pub fn snapshot(&self) -> BTreeMap<String, OrgMetrics> {
        self.orgs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
