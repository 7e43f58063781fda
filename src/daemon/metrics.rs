//! What the daemon knows about each org's jobs, and its rendering in the Prometheus text format
//! for `/metrics`.
//!
//! Owns: [`Metrics`] (updated by the jobs, read by the endpoint) and [`render`] (pure: the window
//! gauges are computed from the config at the instant of the scrape, so they are always current).
//!
//! Must not: hold secrets or usernames; only org names, counts, statuses and instants.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::config::Settings;

/// The kinds of jobs the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    Scan,
    Apply,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Scan => "scan",
            JobKind::Apply => "apply",
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a job ended, as the metrics and logs name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEnd {
    /// `completed`, `stopped`, `window_closed`, `dry_run_mode`, `no_approval`, `org_busy`, `failed`.
    pub status: &'static str,
    /// The apply run's id in the state store, when there was a run.
    pub run_id: Option<i64>,
    /// Why, in a sentence (logs only; metrics keep the status).
    pub message: Option<String>,
}

impl JobEnd {
    /// Whether the job did its job (a closed window is not a failure).
    pub fn ok(&self) -> bool {
        self.status != "failed"
    }
}

/// One org's numbers.
#[derive(Debug, Default, Clone)]
pub struct OrgMetrics {
    /// When each kind of job last ended, how, and its run id.
    pub last: BTreeMap<JobKind, (DateTime<Utc>, JobEnd)>,
    /// Jobs ended, by kind and status.
    pub runs: BTreeMap<(JobKind, &'static str), u64>,
    /// Ticks not run because the org's previous job was still going.
    pub skipped_busy: BTreeMap<JobKind, u64>,
    /// Findings and recoverable seats of the last scan.
    pub findings: Option<u64>,
    pub recoverable_seats: Option<u64>,
    /// Of those, the seats the plan frees by itself and those needing the admin's manual step
    /// (the ledger's definition), so a dashboard does not count manual fixes as freed.
    pub seats_freed_by_plan: Option<u64>,
    pub seats_needing_admin: Option<u64>,
    /// Licenses the last scan found used beyond their total.
    pub over_allocated_licenses: Option<u64>,
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

    /// Records the end of a job.
    pub fn job_ended(&self, org: &str, kind: JobKind, at: DateTime<Utc>, end: JobEnd) {
        self.update(org, |m| {
            *m.runs.entry((kind, end.status)).or_default() += 1;
            m.last.insert(kind, (at, end));
        });
    }

    /// A copy, for rendering without holding the lock.
    pub fn snapshot(&self) -> BTreeMap<String, OrgMetrics> {
        self.orgs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One sample: its labels (`a="x",b="y"`, or empty) and value.
type Sample = (String, f64);

/// `name="value"` with Prometheus escaping.
fn label(name: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{name}=\"{escaped}\"")
}

/// The Prometheus text exposition of `metrics`, with each configured org's window at `now`.
pub fn render(
    metrics: &BTreeMap<String, OrgMetrics>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<Sample>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
    };
    family(
        "pslwarden_up",
        "gauge",
        "1 while the daemon runs.",
        vec![(String::new(), 1.0)],
    );
    let orgs: Vec<&str> = settings.orgs.iter().map(|o| o.name.as_str()).collect();
    let per_org = |f: &dyn Fn(&OrgMetrics) -> Option<f64>| -> Vec<Sample> {
        orgs.iter()
            .filter_map(|org| {
                let m = metrics.get(*org)?;
                Some((label("org", org), f(m)?))
            })
            .collect()
    };
    let per_job = |f: &dyn Fn(&DateTime<Utc>, &JobEnd) -> Option<Sample>| -> Vec<Sample> {
        let mut rows = Vec::new();
        for org in &orgs {
            let Some(m) = metrics.get(*org) else { continue };
            for (kind, (at, end)) in &m.last {
                if let Some((extra, value)) = f(at, end) {
                    rows.push((
                        format!(
                            "{},{}{extra}",
                            label("org", org),
                            label("job", kind.as_str())
                        ),
                        value,
                    ));
                }
            }
        }
        rows
    };
    family(
        "pslwarden_last_run_timestamp_seconds",
        "gauge",
        "When the org's last job of this kind ended (Unix time).",
        per_job(&|at, _| Some((String::new(), at.timestamp() as f64))),
    );
    family(
        "pslwarden_last_run_success",
        "gauge",
        "1 when the org's last job of this kind did its work (a closed window counts), 0 when it failed.",
        per_job(&|_, end| Some((String::new(), if end.ok() { 1.0 } else { 0.0 }))),
    );
    family(
        "pslwarden_last_run_status",
        "gauge",
        "1 for the status of the org's last job of this kind: completed, stopped, window_closed, dry_run_mode, no_approval, org_busy or failed.",
        per_job(&|_, end| Some((format!(",{}", label("status", end.status)), 1.0))),
    );
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for org in &orgs {
        if let Some(m) = metrics.get(*org) {
            for ((kind, status), n) in &m.runs {
                runs.push((
                    format!(
                        "{},{},{}",
                        label("org", org),
                        label("job", kind.as_str()),
                        label("status", status)
                    ),
                    *n as f64,
                ));
            }
            for (kind, n) in &m.skipped_busy {
                skipped.push((
                    format!("{},{}", label("org", org), label("job", kind.as_str())),
                    *n as f64,
                ));
            }
        }
    }
    family(
        "pslwarden_runs_total",
        "counter",
        "Jobs ended, by org, kind and status.",
        runs,
    );
    family(
        "pslwarden_ticks_skipped_total",
        "counter",
        "Scheduled ticks not run because a job of the same kind was still running for the org.",
        skipped,
    );
    family(
        "pslwarden_findings",
        "gauge",
        "Findings of the org's last scan.",
        per_org(&|m| m.findings.map(|v| v as f64)),
    );
    family(
        "pslwarden_recoverable_seats",
        "gauge",
        "Seats the org's last scan found recoverable.",
        per_org(&|m| m.recoverable_seats.map(|v| v as f64)),
    );
    family(
        "pslwarden_seats_freed_by_plan",
        "gauge",
        "Seats the plan of the org's last scan frees by itself when applied.",
        per_org(&|m| m.seats_freed_by_plan.map(|v| v as f64)),
    );
    family(
        "pslwarden_seats_needing_admin",
        "gauge",
        "Seats of the org's last scan freed only after an admin's manual step.",
        per_org(&|m| m.seats_needing_admin.map(|v| v as f64)),
    );
    family(
        "pslwarden_over_allocated_licenses",
        "gauge",
        "Licenses the org's last scan found used beyond their total.",
        per_org(&|m| m.over_allocated_licenses.map(|v| v as f64)),
    );
    family(
        "pslwarden_seats_freed_total",
        "counter",
        "Seats freed by applies since the daemon started (journal count).",
        per_org(&|m| Some(m.seats_freed as f64)),
    );
    family(
        "pslwarden_api_calls_total",
        "counter",
        "REST calls the org's jobs made since the daemon started.",
        per_org(&|m| Some(m.api_calls as f64)),
    );
    family(
        "pslwarden_api_daily_used",
        "gauge",
        "The org's daily API requests used, as last reported by Salesforce.",
        per_org(&|m| m.api_daily_used.map(|v| v as f64)),
    );
    family(
        "pslwarden_api_daily_remaining",
        "gauge",
        "The org's daily API requests remaining, as last reported by Salesforce.",
        per_org(&|m| Some(m.api_daily_max?.saturating_sub(m.api_daily_used?) as f64)),
    );
    let mut open = Vec::new();
    let mut next = Vec::new();
    for org in &settings.orgs {
        let state = org.window.state_at(now);
        open.push((
            label("org", &org.name),
            if state.batch_allowed { 1.0 } else { 0.0 },
        ));
        if let Some(t) = state.next_open.filter(|_| !state.open) {
            next.push((label("org", &org.name), t.timestamp() as f64));
        }
    }
    family(
        "pslwarden_window_open",
        "gauge",
        "1 when the org's window is open now and a batch may start (cutoff included).",
        open,
    );
    family(
        "pslwarden_window_next_open_timestamp_seconds",
        "gauge",
        "When the org's closed window next opens (Unix time).",
        next,
    );
    out
}

// Uses the built-in demo's settings, which only `demo` builds carry.
#[cfg(all(test, feature = "demo"))]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_families_typed() {
        assert_eq!(label("org", "a\"b\\c\nd"), "org=\"a\\\"b\\\\c\\nd\"");
        let settings = Settings::builtin_demo();
        let metrics = Metrics::default();
        let now = Utc::now();
        metrics.job_ended(
            "seed-demo",
            JobKind::Apply,
            now,
            JobEnd {
                status: "completed",
                run_id: Some(1),
                message: None,
            },
        );
        metrics.update("seed-demo", |m| m.seats_freed += 1);
        metrics.update("seed-demo", |m| m.seats_needing_admin = Some(2));
        let text = render(&metrics.snapshot(), &settings, now);
        assert!(
            text.contains("pslwarden_seats_needing_admin{org=\"seed-demo\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE pslwarden_seats_freed_total counter"),
            "{text}"
        );
        assert!(
            text.contains("pslwarden_seats_freed_total{org=\"seed-demo\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "pslwarden_last_run_status{org=\"seed-demo\",job=\"apply\",status=\"completed\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("pslwarden_window_open{org=\"seed-demo\"} 1"),
            "{text}"
        );
    }
}
