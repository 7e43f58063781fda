//! `--format json` of `scan`, `doctor`, `apply` and `rollback`: one JSON document on stdout per
//! run, for scripts.
//!
//! Owns: the envelope around each command's outcome (`schema_version`, `command`, where the
//! report folder is) and its version, [`OUTPUT_SCHEMA_VERSION`]. The payloads are the
//! documents the commands already write (`report.json`, `apply.json`, ...), so a script reads
//! the same shape from stdout as from the folder.
//!
//! Must not: run anything or read files; it only renders outcomes it is given. Errors are not
//! rendered here: they go to stderr from `main` (a JSON line under `--log-format json`).

use serde::Serialize;

use super::apply::ApplyOutcome;
use super::doctor::DoctorReport;
use super::rollback::RollbackOutcome;
use super::scan::ScanOutcome;
use crate::apply::report::RunReport;
use crate::report::ScanReport;

/// Version of the envelope: bumped on any change a script would notice (a payload keeps its own
/// `schema_version` too).
pub const OUTPUT_SCHEMA_VERSION: u32 = 1;

/// `scan --format json`.
#[derive(Serialize)]
struct ScanJson<'a> {
    /// [`OUTPUT_SCHEMA_VERSION`].
    schema_version: u32,
    /// `"scan"`, so a script reading several outputs can tell them apart.
    command: &'static str,
    /// The run's report folder: every file of the run is in it.
    report_dir: String,
    /// The files written, by kind, so a script need not know their names.
    files: ScanFiles,
    /// `report.json`, whole.
    report: &'a ScanReport,
}

/// The report files of one scan.
#[derive(Serialize)]
struct ScanFiles {
    html: String,
    json: String,
    markdown: String,
    csv: String,
    snapshot: String,
    plan: String,
}

/// `doctor --format json`.
#[derive(Serialize)]
struct DoctorJson<'a> {
    schema_version: u32,
    command: &'static str,
    /// Every preflight check (`name`, `status`, `found`, `fix`), at the top so a script finds
    /// them without knowing the rest of the shape.
    checks: &'a [crate::preflight::judge::Check],
    /// What `doctor` found about the org and the sign-in.
    doctor: &'a DoctorReport,
}

/// `apply --format json` and `rollback --format json`.
#[derive(Serialize)]
struct RunJson<'a> {
    schema_version: u32,
    /// `"apply"` or `"rollback"`.
    command: &'static str,
    /// The run's report folder (`apply.*` or `rollback.*` in it).
    report_dir: String,
    /// `apply.json` / `rollback.json`, whole.
    run: &'a RunReport,
}

/// `apply --format json` when no run started: nothing approved (`mode = "approved"`), or the
/// wait for the window was stopped (`--when-open`). Nothing was changed; exit 0.
#[derive(Serialize)]
struct NoRunJson<'a> {
    schema_version: u32,
    /// `"apply"`.
    command: &'static str,
    /// Always `null`: no run, so no report folder.
    report_dir: Option<String>,
    /// Always `null`: no run.
    run: Option<()>,
    /// Why no run started: `"no_approval"` or `"stopped_waiting"`.
    status: &'static str,
    /// The sentence the text output prints.
    message: &'a str,
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

fn render(value: &impl Serialize) -> String {
    // Only strings, numbers, booleans and lists: serialising cannot fail.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| {
        serde_json::json!({ "schema_version": OUTPUT_SCHEMA_VERSION, "error": e.to_string() })
            .to_string()
    });
    s.push('\n');
    s
}

/// The JSON document of a scan.
pub fn scan(outcome: &ScanOutcome) -> String {
    let p = &outcome.paths;
    render(&ScanJson {
        schema_version: OUTPUT_SCHEMA_VERSION,
        command: "scan",
        report_dir: path(&p.dir),
        files: ScanFiles {
            html: path(&p.html),
            json: path(&p.json),
            markdown: path(&p.markdown),
            csv: path(&p.csv),
            snapshot: path(&p.snapshot),
            plan: path(&p.plan),
        },
        report: &outcome.report,
    })
}

/// The JSON document of `doctor`.
pub fn doctor(report: &DoctorReport) -> String {
    render(&DoctorJson {
        schema_version: OUTPUT_SCHEMA_VERSION,
        command: "doctor",
        checks: &report.checks,
        doctor: report,
    })
}

/// The JSON document of an apply run.
pub fn apply(outcome: &ApplyOutcome) -> String {
    render(&RunJson {
        schema_version: OUTPUT_SCHEMA_VERSION,
        command: "apply",
        report_dir: path(&outcome.dir),
        run: &outcome.report,
    })
}

/// The JSON document of a rollback run.
pub fn rollback(outcome: &RollbackOutcome) -> String {
    render(&RunJson {
        schema_version: OUTPUT_SCHEMA_VERSION,
        command: "rollback",
        report_dir: path(&outcome.dir),
        run: &outcome.report,
    })
}

/// The JSON document of an `apply` that started no run (`status`: `"no_approval"` or
/// `"stopped_waiting"`), so a script always reads one document.
pub fn apply_not_run(status: &'static str, message: &str) -> String {
    render(&NoRunJson {
        schema_version: OUTPUT_SCHEMA_VERSION,
        command: "apply",
        report_dir: None,
        run: None,
        status,
        message,
    })
}
