//! The status page's HTML: one self-contained document per daemon, a section per org
//! (`templates/status.html` on the shared `base.html`).
//!
//! Owns: [`render_html`], the page's view of a [`StatusDoc`] (instants shown on each org's
//! clock, window words) and its extra style (`templates/status.css`).
//! Must not: gather anything (it renders a [`StatusDoc`]), load anything from anywhere (the
//! Content-Security-Policy allows only its two inline styles, no script), or print the org's
//! text other than through the templates' escaper ([`crate::report::html::Inert`]).

use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{OrgStatus, ReportFolder, StatusDoc};
use crate::report::html::Layout;

/// Extra style of the status page, after the shared one; both hashes go into the policy.
const PAGE_STYLE: &str = include_str!("../../../templates/status.css");

/// The status as one HTML page: no script, the reports' look, nothing loaded from anywhere.
pub fn render_html(doc: &StatusDoc) -> String {
    let page = StatusPage {
        layout: Layout::new("pslwarden status", doc.orgs.iter().any(|o| o.simulated))
            .with_style(PAGE_STYLE),
        generated_at: utc(doc.generated_at),
        tool_version: doc.tool_version,
        orgs: doc.orgs.iter().map(OrgView::of).collect(),
    };
    // Rendering into a String fails only if a value's Display does; none of ours do.
    page.render()
        .unwrap_or_else(|e| format!("status page could not be rendered: {e}"))
}

/// `templates/status.html`'s data.
#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage<'a> {
    /// Title, SIMULATED ORG banner (any simulated org), style and policy.
    layout: Layout,
    /// When the status was gathered, in UTC.
    generated_at: String,
    /// Which pslwarden answers.
    tool_version: &'a str,
    /// One section per org, in config order.
    orgs: Vec<OrgView<'a>>,
}

/// One org's section, with instants already on the org's clock.
struct OrgView<'a> {
    name: &'a str,
    mode: &'a str,
    /// Banner in the section too: with several orgs, the page banner alone would not say which.
    simulated: bool,
    /// `open` or `closed`: the word and the CSS class.
    window_state: &'static str,
    /// The window in words.
    window: String,
    closes_at: Option<String>,
    next_open: Option<String>,
    next_sentences: &'a [String],
    last_scan: Option<ScanView<'a>>,
    approvals: Vec<ApprovalView<'a>>,
    approve_command: Option<&'a str>,
    jobs: Vec<JobView<'a>>,
    runs: Vec<RunRow<'a>>,
    reports: &'a [ReportFolder],
    problems: &'a [String],
}

/// The newest scan, as the page shows it.
struct ScanView<'a> {
    when: String,
    folder: &'a str,
    org_name: &'a str,
    verdict: &'a str,
    findings: usize,
    recoverable_seats: u32,
    seats_freed_by_plan: u32,
    seats_needing_admin: u32,
    seats_needing_orphan_reclaim: u32,
    seats_needing_idle_reclaim: u32,
    worth: Option<&'a str>,
    plan_actions: usize,
    plan_digest: &'a str,
}

/// One pending approval's row.
struct ApprovalView<'a> {
    id: i64,
    status: &'a str,
    approved_by: &'a str,
    approved_at: String,
    expires_at: String,
    actions: u64,
    seats: u64,
    /// Users left out, comma-separated.
    excluded: String,
    digest: &'a str,
    revoke_command: Option<&'a str>,
}

/// One job's row.
struct JobView<'a> {
    kind: &'a str,
    ended_at: String,
    status: &'a str,
    run_id: Option<i64>,
    message: &'a str,
}

/// One run's row.
struct RunRow<'a> {
    id: i64,
    kind: &'a str,
    trigger: &'a str,
    started_at: String,
    status: &'a str,
    done: u64,
    failed: u64,
    skipped: u64,
    needs_admin: u64,
    seats: u64,
    message: &'a str,
}

impl<'a> OrgView<'a> {
    fn of(org: &'a OrgStatus) -> Self {
        let tz: Option<Tz> = org.next.time_zone.as_deref().and_then(|z| z.parse().ok());
        let window = match org.next.window.as_str() {
            "not_configured" => "never open (no [org.window])".to_string(),
            "always_open" => "always open".to_string(),
            _ => org.next.window_description.clone(),
        };
        OrgView {
            name: &org.name,
            mode: &org.mode,
            simulated: org.simulated,
            window_state: if org.next.open { "open" } else { "closed" },
            window,
            closes_at: org.next.closes_at.map(|t| local(tz, t)),
            next_open: org.next.next_open.map(|t| local(tz, t)),
            next_sentences: &org.next_sentences,
            last_scan: org.last_scan.as_ref().map(|scan| ScanView {
                when: local_text(tz, &scan.started_at),
                folder: &scan.folder,
                org_name: &scan.org_name,
                verdict: &scan.verdict,
                findings: scan.findings,
                recoverable_seats: scan.recoverable_seats,
                seats_freed_by_plan: scan.seats_freed_by_plan,
                seats_needing_admin: scan.seats_needing_admin,
                seats_needing_orphan_reclaim: scan.seats_needing_orphan_reclaim,
                seats_needing_idle_reclaim: scan.seats_needing_idle_reclaim,
                // The row is labelled "Worth" already; the sentence starts with the same word.
                worth: scan
                    .worth
                    .as_deref()
                    .map(|w| w.strip_prefix("Worth: ").unwrap_or(w)),
                plan_actions: scan.plan_actions,
                plan_digest: &scan.plan_digest,
            }),
            approvals: org
                .approvals
                .iter()
                .map(|a| ApprovalView {
                    id: a.id,
                    status: a.status.as_str(),
                    approved_by: &a.approved_by,
                    approved_at: local_text(tz, &a.approved_at),
                    expires_at: local_text(tz, &a.expires_at),
                    actions: a.actions,
                    seats: a.seats,
                    excluded: a.excluded.join(", "),
                    digest: &a.digest,
                    revoke_command: a.revoke_command.as_deref(),
                })
                .collect(),
            approve_command: org.approve_command.as_deref(),
            jobs: org
                .jobs
                .iter()
                .map(|job| JobView {
                    kind: job.kind,
                    ended_at: local(tz, job.ended_at),
                    status: job.status,
                    run_id: job.run_id,
                    message: job.message.as_deref().unwrap_or(""),
                })
                .collect(),
            runs: org
                .runs
                .iter()
                .map(|r| RunRow {
                    id: r.id,
                    kind: &r.kind,
                    trigger: &r.trigger,
                    started_at: local_text(tz, &r.started_at),
                    status: &r.status,
                    done: r.done,
                    failed: r.failed,
                    skipped: r.skipped,
                    needs_admin: r.needs_admin,
                    seats: r.seats,
                    message: r.message.as_deref().unwrap_or(""),
                })
                .collect(),
            reports: &org.reports,
            problems: &org.problems,
        }
    }
}

/// "Tue 2026-01-06 22:00 GMT (2026-01-06T22:00:00Z)" on the org's clock, UTC without a zone.
fn local(tz: Option<Tz>, t: DateTime<Utc>) -> String {
    match tz {
        Some(tz) => format!(
            "{} ({})",
            t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z"),
            utc(t)
        ),
        None => utc(t),
    }
}

/// An RFC 3339 text as [`local`] shows it; unchanged when it is not one.
fn local_text(tz: Option<Tz>, t: &str) -> String {
    DateTime::parse_from_rfc3339(t)
        .map(|t| local(tz, t.with_timezone(&Utc)))
        .unwrap_or_else(|_| t.to_string())
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::super::{JobStatus, STATUS_VERSION};
    use super::*;
    use crate::report::next::NextInfo;

    #[test]
    fn the_page_escapes_org_text_and_allows_only_its_styles() {
        let doc = StatusDoc {
            version: STATUS_VERSION,
            generated_at: Utc::now(),
            tool_version: "0",
            orgs: vec![OrgStatus {
                name: "prod".into(),
                mode: "apply".into(),
                simulated: true,
                next: NextInfo::at(
                    &crate::window::Window::AlwaysOpen,
                    crate::config::Mode::Apply,
                    &Default::default(),
                    false,
                    Utc::now(),
                ),
                next_sentences: vec![],
                last_scan: None,
                approvals: vec![],
                approve_command: None,
                jobs: vec![JobStatus {
                    kind: "apply",
                    ended_at: Utc::now(),
                    status: "failed",
                    run_id: None,
                    message: Some("<script>alert(1)</script>".into()),
                }],
                runs: vec![],
                reports: vec![],
                problems: vec![],
            }],
        };
        let html = render_html(&doc);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("script-src 'none'"));
        assert!(html.contains(&crate::report::html::csp_hash(PAGE_STYLE)));
        assert!(html.contains(crate::report::SIMULATED_ORG_NOTICE), "{html}");
    }
}
