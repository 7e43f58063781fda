//! The daemon's status page: `/` (one self-contained HTML page), `/api/status` (the same facts
//! as versioned JSON) and `/reports/{org}/{folder}/{file}` (the files of the org's report folders,
//! read-only), on the listener of `/healthz` and `/metrics`.
//!
//! Owns: gathering each org's status ([`gather`]: mode and window at the daemon's clock, the last
//! scan from its `report.json`, the daemon's last jobs, the state store's last runs, the newest
//! report folders), its renderings, the report-file route's path checks, and the optional bearer
//! token ([`routes`]). The HTML itself is [`page`].
//!
//! Must not: change anything. Every route answers GET and HEAD only; nothing here writes a file,
//! the state store or an org (the store is opened only when its file already exists). A file is
//! served only when its canonical path lies in `reports_dir/<org>/<run folder>/`, so neither
//! `..`, an encoded `..`, an absolute path nor a symlink can reach outside. The org's text
//! (usernames, org name, messages) goes into the page only through [`crate::text::html`], and the
//! page loads nothing from anywhere (the scan report's Content-Security-Policy and style).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::retention::is_run_folder;

mod page;

use super::Shared;
use super::metrics::OrgMetrics;
use crate::approval::{ApprovalSummary, try_pending_approvals};
use crate::config::{OrgSettings, Settings};
use crate::report::ScanReport;
use crate::report::next::NextInfo;
use crate::secret::Secret;
use crate::state::StateStore;

/// Version of `/api/status`; bumped on any change a consumer would notice.
pub const STATUS_VERSION: u32 = 1;

/// Runs shown per org, newest first.
const RUNS_SHOWN: usize = 10;

/// Report folders whose files are linked per org, newest first.
const FOLDERS_SHOWN: usize = 2;

/// `/api/status`: every org's status at one instant.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    /// [`STATUS_VERSION`], so consumers can refuse a shape they do not know.
    pub version: u32,
    /// The daemon's clock when this was gathered (the rehearsal clock in a debug build).
    pub generated_at: DateTime<Utc>,
    /// Which pslwarden answers.
    pub tool_version: &'static str,
    /// The orgs in config order.
    pub orgs: Vec<OrgStatus>,
}

/// One org's status.
#[derive(Debug, Serialize)]
pub struct OrgStatus {
    /// Name in the config.
    pub name: String,
    /// `dry-run` or `apply`, as configured.
    pub mode: String,
    /// The org is the built-in or a configured simulator (sfsim): the page says so in a banner,
    /// so a demo's numbers are never read as a real org's.
    pub simulated: bool,
    /// Mode, window now, next opening (with `*_local` on the org's clock), schedule: the same
    /// object as `report.json`'s `next`, worked out at `generated_at`.
    pub next: NextInfo,
    /// `next` in sentences for people.
    pub next_sentences: Vec<String>,
    /// The newest scan's report, when one is on disk.
    pub last_scan: Option<LastScan>,
    /// How this daemon's last scan and apply jobs ended (since it started).
    pub jobs: Vec<JobStatus>,
    /// Approvals not yet finished (`pending`, `in_progress`) and unexpired at `generated_at`,
    /// in approval order, each with the command that revokes it while it has not started.
    pub approvals: Vec<ApprovalSummary>,
    /// The command that approves the last scan's plan, when it has actions and no open
    /// approval is of it.
    pub approve_command: Option<String>,
    /// The state store's newest runs of this org, newest first.
    pub runs: Vec<RunView>,
    /// The newest report folders and their files.
    pub reports: Vec<ReportFolder>,
    /// What could not be read (a damaged report.json, an unreadable store), in sentences.
    pub problems: Vec<String>,
}

/// The newest scan, from its `report.json`.
#[derive(Debug, Serialize)]
pub struct LastScan {
    /// Its report folder's name.
    pub folder: String,
    pub started_at: String,
    pub finished_at: String,
    /// The org's own name in Salesforce.
    pub org_name: String,
    /// `Affected`, `Not affected` or `Undetermined` (the report's verdict).
    pub verdict: String,
    pub findings: usize,
    /// Seats the findings could free, and by which route (the ledger's definition).
    pub recoverable_seats: u32,
    pub seats_freed_by_plan: u32,
    pub seats_needing_admin: u32,
    pub seats_needing_orphan_reclaim: u32,
    /// Idle Voice seats freed only with `[org.idle] reclaim = true`.
    pub seats_needing_idle_reclaim: u32,
    /// What the recoverable seats and the plan are worth, in the scan's own sentence; only when
    /// the scan was priced (`[org.prices]`), never a made-up amount.
    pub worth: Option<String>,
    /// Actions in its plan, and the plan's digest (what an approval names).
    pub plan_actions: usize,
    pub plan_digest: String,
}

/// How one of the daemon's jobs last ended.
#[derive(Debug, Serialize)]
pub struct JobStatus {
    /// `scan` or `apply`.
    pub kind: &'static str,
    pub ended_at: DateTime<Utc>,
    /// `completed`, `stopped`, `window_closed`, `dry_run_mode`, `org_busy`, `failed`.
    pub status: &'static str,
    /// The apply run's id, when there was a run.
    pub run_id: Option<i64>,
    pub message: Option<String>,
}

/// One run from the state store.
#[derive(Debug, Serialize)]
pub struct RunView {
    pub id: i64,
    /// `apply` or `rollback`.
    pub kind: String,
    /// `terminal` or `unattended`.
    pub trigger: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `running`, `completed`, `stopped`, `failed`, `interrupted`.
    pub status: String,
    pub message: Option<String>,
    /// Its actions by outcome, and the seats it removed (or re-created, for a rollback).
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Manual steps of its plan, left to the admin (not counted as skipped).
    pub needs_admin: u64,
    pub seats: u64,
}

/// One report folder and its files.
#[derive(Debug, Serialize)]
pub struct ReportFolder {
    /// The folder's name (`20261123T031500Z`).
    pub folder: String,
    pub files: Vec<ReportFile>,
}

/// One file of a report folder.
#[derive(Debug, Serialize)]
pub struct ReportFile {
    pub name: String,
    /// Where this daemon serves it (relative to its address).
    pub url: String,
    pub bytes: u64,
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/// What the status routes share.
#[derive(Clone)]
struct StatusState {
    shared: Arc<Shared>,
    /// SHA-256 of the bearer token the routes require; `None`: open. Only the digest is kept
    /// beside the request path, so the comparison is over fixed-length values.
    token_digest: Option<Arc<[u8; 32]>>,
}

/// The status routes (`/`, `/api/status`, `/reports/...`), GET and HEAD only (axum answers
/// 405 to any other method), behind the bearer token when one is configured.
pub fn routes(shared: Arc<Shared>, token: Option<&Secret>) -> axum::Router {
    use axum::routing::get;
    let state = StatusState {
        shared,
        token_digest: token.map(|t| Arc::new(digest(t.expose().as_bytes()))),
    };
    axum::Router::new()
        .route("/", get(page))
        .route("/api/status", get(api))
        .route("/reports/{org}/{folder}/{file}", get(report_file))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ))
        .with_state(state)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lets the request through when no token is configured or it carries
/// `Authorization: Bearer <token>`; otherwise 401. The comparison takes the same time wherever
/// the tokens differ: both are hashed to 32 bytes and every byte is compared.
async fn require_token(State(state): State<StatusState>, request: Request, next: Next) -> Response {
    let Some(expected) = &state.token_digest else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| digest(t.trim().as_bytes()));
    let matches = given.is_some_and(|given| {
        given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    });
    if matches {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Bearer realm=\"pslwarden\""),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "401: this page needs `Authorization: Bearer <token>`, the token in the variable named \
         by `status_token_env` in [daemon]\n",
    )
        .into_response()
}

/// Gathers the status off the async threads (it reads files and SQLite).
async fn gathered(shared: &Arc<Shared>) -> Result<StatusDoc, Response> {
    let settings = shared.settings();
    let metrics = shared.metrics.snapshot();
    let now = shared.clock.now();
    tokio::task::spawn_blocking(move || gather(&settings, &metrics, now))
        .await
        .map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot gather the status: {e}\n"),
            )
                .into_response()
        })
}

async fn page(State(state): State<StatusState>) -> Response {
    match gathered(&state.shared).await {
        Ok(doc) => {
            let html = page::render_html(&doc);
            let mut headers = common_headers();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            (headers, html).into_response()
        }
        Err(r) => r,
    }
}

async fn api(State(state): State<StatusState>) -> Response {
    match gathered(&state.shared).await {
        Ok(doc) => {
            let mut headers = common_headers();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            let body = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
            (headers, body).into_response()
        }
        Err(r) => r,
    }
}

/// Headers of every status answer: nothing cached, nothing sniffed, never framed.
fn common_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h
}

/// One file of a report folder, read-only; anything else is 404.
async fn report_file(
    State(state): State<StatusState>,
    UrlPath((org, folder, file)): UrlPath<(String, String, String)>,
) -> Response {
    let settings = state.shared.settings();
    let name = file.clone();
    // Canonicalising touches the disk: off the async threads.
    let resolved =
        tokio::task::spawn_blocking(move || resolve_report_file(&settings, &org, &folder, &name))
            .await
            .ok()
            .flatten();
    let Some(path) = resolved else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "404: not a file of a report folder (only /reports/<org>/<run folder>/<file> under \
             reports_dir is served)\n",
        )
            .into_response();
    };
    let Some(content_type) = content_type(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut headers = common_headers();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            // An HTML report carries its own strict policy in a meta tag; the header adds what
            // a meta tag cannot say. Everything else may run and load nothing.
            let policy = if content_type.starts_with("text/html") {
                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
            } else {
                "default-src 'none'; sandbox"
            };
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            );
            (headers, bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The file's content type by its extension; `None` for kinds a report folder does not hold.
fn content_type(file: &str) -> Option<&'static str> {
    let ext = file.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        _ => return None,
    })
}

/// The canonical path of `reports_dir/org/folder/file` when every part is what a report folder
/// holds (a configured org, a run folder's name, a plain file name) and the file, symlinks
/// resolved, is a regular file inside `reports_dir/org/folder`.
fn resolve_report_file(
    settings: &Settings,
    org: &str,
    folder: &str,
    file: &str,
) -> Option<PathBuf> {
    if !settings.orgs.iter().any(|o| o.name == org)
        || !is_run_folder(folder)
        || !is_plain_file_name(file)
        || content_type(file).is_none()
    {
        return None;
    }
    let root = std::fs::canonicalize(&settings.reports_dir).ok()?;
    let allowed = root.join(org).join(folder);
    let target =
        std::fs::canonicalize(settings.reports_dir.join(org).join(folder).join(file)).ok()?;
    // Canonical paths: a symlink anywhere on the way (the org's folder, the run folder, the
    // file) that points elsewhere fails this.
    if target.parent() != Some(allowed.as_path()) {
        return None;
    }
    std::fs::metadata(&target)
        .ok()
        .filter(|m| m.is_file())
        .map(|_| target)
}

/// A file name with no separator, no leading dot and nothing but `[A-Za-z0-9._-]`.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// Newest first: the stamp, then the numeric suffix.
fn newest_first(names: &mut [String]) {
    names.sort_by_key(|n| {
        let (stamp, n) = match n.split_once('-') {
            Some((stamp, k)) => (stamp.to_string(), k.parse::<u64>().unwrap_or(0)),
            None => (n.clone(), 0),
        };
        std::cmp::Reverse((stamp, n))
    });
}

// ---------------------------------------------------------------------------------------------
// Gathering
// ---------------------------------------------------------------------------------------------

/// Every org's status at `now`, from the config, the daemon's job records, the report folders
/// and the state store. Reads only.
pub fn gather(
    settings: &Settings,
    metrics: &BTreeMap<String, OrgMetrics>,
    now: DateTime<Utc>,
) -> StatusDoc {
    // The store is one file for every org: opened once, and only when it exists (opening
    // creates it otherwise, and this page must not write).
    let mut problems_all = Vec::new();
    let store = if settings.state_path.is_file() {
        match StateStore::open(&settings.state_path) {
            Ok(store) => Some(store),
            Err(e) => {
                problems_all.push(format!("cannot read the state store: {e}"));
                None
            }
        }
    } else {
        None
    };
    let orgs = settings
        .orgs
        .iter()
        .map(|org| {
            let mut status = org_status(settings, org, metrics.get(&org.name), store.as_ref(), now);
            status.problems.extend(problems_all.iter().cloned());
            status
        })
        .collect();
    StatusDoc {
        version: STATUS_VERSION,
        generated_at: now,
        tool_version: env!("CARGO_PKG_VERSION"),
        orgs,
    }
}

fn org_status(
    settings: &Settings,
    org: &OrgSettings,
    metrics: Option<&OrgMetrics>,
    store: Option<&StateStore>,
    now: DateTime<Utc>,
) -> OrgStatus {
    let mut problems = Vec::new();
    let org_dir = settings.reports_dir.join(&org.name);
    let folders = run_folders(&org_dir, &mut problems);
    let mut last_scan = None;
    for folder in &folders {
        let json = org_dir.join(folder).join("report.json");
        // Not followed: a report.json that is a symlink may point anywhere.
        if !std::fs::symlink_metadata(&json).is_ok_and(|m| m.is_file()) {
            continue;
        }
        match read_report(&json) {
            Ok(report) => last_scan = Some(summarise(folder, &report)),
            Err(e) => problems.push(format!("cannot read {}: {e}", json.display())),
        }
        break;
    }
    let fix_needed = last_scan.as_ref().is_some_and(|s| s.plan_actions > 0);
    let next = NextInfo::at(&org.window, org.mode, &org.schedule, fix_needed, now);
    let jobs = metrics
        .map(|m| {
            m.last
                .iter()
                .map(|(kind, (at, end))| JobStatus {
                    kind: kind.as_str(),
                    ended_at: *at,
                    status: end.status.as_str(),
                    run_id: end.run_id,
                    message: end.message.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let runs = match store.map(|s| s.overview(Some(&org.name))) {
        None => Vec::new(),
        Some(Ok(all)) => all
            .into_iter()
            .rev()
            .take(RUNS_SHOWN)
            .map(|r| RunView {
                id: r.run.id,
                kind: r.run.kind.as_str().to_string(),
                trigger: r.run.trigger,
                started_at: r.run.started_at,
                finished_at: r.run.finished_at,
                status: r.run.status.as_str().to_string(),
                message: r.run.message,
                done: r.done,
                failed: r.failed,
                skipped: r.skipped,
                needs_admin: r.needs_admin,
                seats: r.seats,
            })
            .collect(),
        Some(Err(e)) => {
            problems.push(format!("cannot read the runs: {e}"));
            Vec::new()
        }
    };
    let approvals: Vec<ApprovalSummary> = match store.map(|s| try_pending_approvals(s, &org.name)) {
        None => Vec::new(),
        Some(Ok(list)) => list
            .into_iter()
            // The store marks an approval expired when an apply next looks; the page already
            // leaves it out once its time has passed.
            .filter(|a| DateTime::parse_from_rfc3339(&a.expires_at).map_or(true, |t| t > now))
            .collect(),
        Some(Err(e)) => {
            problems.push(format!("cannot read the approvals: {e}"));
            Vec::new()
        }
    };
    let approve_command = last_scan.as_ref().and_then(|scan| {
        let approved = approvals
            .iter()
            .any(|a| !a.digest.is_empty() && scan.plan_digest.starts_with(&a.digest));
        (scan.plan_actions > 0 && !approved).then(|| {
            let plan = org_dir.join(&scan.folder).join("plan.json");
            format!(
                "pslwarden approve --org {} --plan {}",
                org.name,
                plan.display()
            )
        })
    });
    let reports = folders
        .iter()
        .take(FOLDERS_SHOWN)
        .map(|folder| ReportFolder {
            folder: folder.clone(),
            files: folder_files(&org.name, &org_dir.join(folder), folder),
        })
        .collect();
    OrgStatus {
        name: org.name.clone(),
        mode: org.mode.as_str().to_string(),
        simulated: org.is_simulated(),
        next_sentences: next.sentences(),
        next,
        last_scan,
        jobs,
        approvals,
        approve_command,
        runs,
        reports,
        problems,
    }
}

/// The org's run folders, newest first (none when the folder does not exist yet).
fn run_folders(org_dir: &Path, problems: &mut Vec<String>) -> Vec<String> {
    let entries = match std::fs::read_dir(org_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(format!("cannot list {}: {e}", org_dir.display()));
            return Vec::new();
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_run_folder(n))
        .collect();
    newest_first(&mut names);
    names
}

/// The servable files of one run folder, by name.
fn folder_files(org: &str, dir: &Path, folder: &str) -> Vec<ReportFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<ReportFile> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // Not followed: a symlink is neither listed nor (see resolve_report_file) served
            // from outside.
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            (is_plain_file_name(&name) && content_type(&name).is_some()).then(|| ReportFile {
                url: format!("/reports/{org}/{folder}/{name}"),
                name,
                bytes: meta.len(),
            })
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

fn read_report(path: &Path) -> Result<ScanReport, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| e.to_string())
}

fn summarise(folder: &str, report: &ScanReport) -> LastScan {
    let seats = report.seat_totals();
    LastScan {
        folder: folder.to_string(),
        started_at: report.run.started_at.clone(),
        finished_at: report.run.finished_at.clone(),
        org_name: report.org.org_name.clone(),
        verdict: crate::report::markdown::verdict(&report.org).0.to_string(),
        findings: report.findings.len(),
        recoverable_seats: seats.recoverable(),
        seats_freed_by_plan: seats.freed_by_plan,
        seats_needing_admin: seats.needs_admin,
        seats_needing_orphan_reclaim: seats.needs_orphan_reclaim,
        seats_needing_idle_reclaim: seats.needs_idle_reclaim,
        worth: report.money.as_ref().map(|m| m.totals.sentence()),
        plan_actions: report.plan.actions.len(),
        plan_digest: report.plan.digest.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_run_folders_and_plain_names_pass() {
        assert!(is_run_folder("20261123T031500Z"));
        assert!(is_run_folder("20261123T031500Z-12"));
        for bad in [
            "..",
            "%2e%2e",
            "20261123T031500Z-",
            "2026112T031500Z",
            "/etc",
            "a/b",
        ] {
            assert!(!is_run_folder(bad), "{bad}");
        }
        assert!(is_plain_file_name("report.html"));
        for bad in ["..", ".hidden", "a/b", "a\\b", "", "x%2f"] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
        assert_eq!(
            content_type("report.md"),
            Some("text/markdown; charset=utf-8")
        );
        assert_eq!(content_type("pslwarden.sqlite"), None);
    }

    #[test]
    fn newest_folder_first_with_numeric_suffixes() {
        let mut names: Vec<String> = [
            "20261101T010000Z",
            "20261101T010000Z-10",
            "20261101T010000Z-9",
        ]
        .map(String::from)
        .to_vec();
        newest_first(&mut names);
        assert_eq!(names[0], "20261101T010000Z-10");
        assert_eq!(names[2], "20261101T010000Z");
    }
}
