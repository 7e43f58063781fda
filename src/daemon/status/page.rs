//! The status page's HTML: one self-contained document per daemon, a section per org.
//!
//! Owns: the page's markup and its extra style ([`render_html`]), and how instants are shown on
//! each org's clock.
//! Must not: gather anything (it renders a [`StatusDoc`]), load anything from anywhere (the
//! Content-Security-Policy allows only its two inline styles, no script), or put the org's text
//! into the page without [`crate::text::html`].

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{OrgStatus, StatusDoc};
use crate::report::html::{STYLE, csp_hash};
use crate::text::html as esc;

/// Extra style of the status page, after the scan report's; both hashes go into the policy.
const PAGE_STYLE: &str = r#"
section.org { border-top: 2px solid var(--line); margin-top: 1.5rem; }
.state { display: inline-block; padding: 0 .4rem; border: 1px solid var(--line); font-weight: 600; }
.state-open, .state-completed { border-color: #1a7f37; color: #1a7f37; }
.state-closed, .state-stopped, .state-window_closed, .state-dry_run_mode { border-color: #9a6700; color: #9a6700; }
.state-failed, .state-interrupted { border-color: #cf222e; color: #cf222e; }
ul.files { columns: 2; }
"#;

/// The status as one HTML page: no script, the scan report's look, nothing loaded from anywhere.
pub fn render_html(doc: &StatusDoc) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_page(&mut out, doc);
    out
}

fn write_page(out: &mut String, doc: &StatusDoc) -> std::fmt::Result {
    let policy = format!(
        "default-src 'none'; style-src '{}' '{}'; script-src 'none'; base-uri 'none'; \
         form-action 'none'",
        csp_hash(STYLE),
        csp_hash(PAGE_STYLE)
    );
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    // Refreshes itself: the page is for leaving open on a screen.
    writeln!(out, "<meta http-equiv=\"refresh\" content=\"60\">")?;
    writeln!(out, "<title>pslwarden status</title>")?;
    writeln!(out, "<style>{STYLE}</style>\n<style>{PAGE_STYLE}</style>")?;
    writeln!(out, "</head>\n<body>\n<header>")?;
    writeln!(out, "<h1>pslwarden status</h1>")?;
    writeln!(
        out,
        "<p class=\"muted\">As of {} (the daemon's clock), pslwarden {}. {} org(s). Also as JSON: \
         <a href=\"/api/status\">/api/status</a>; metrics: <a href=\"/metrics\">/metrics</a>. \
         This page changes nothing and refreshes every minute.</p>",
        esc(&utc(doc.generated_at)),
        esc(doc.tool_version),
        doc.orgs.len()
    )?;
    writeln!(out, "</header>\n<main>")?;
    for org in &doc.orgs {
        write_org(out, org)?;
    }
    writeln!(out, "</main>\n</body>\n</html>")
}

fn write_org(out: &mut String, org: &OrgStatus) -> std::fmt::Result {
    let tz: Option<Tz> = org.next.time_zone.as_deref().and_then(|z| z.parse().ok());
    writeln!(out, "<section class=\"org\" id=\"org-{}\">", esc(&org.name))?;
    writeln!(out, "<h2>{}</h2>", esc(&org.name))?;
    writeln!(out, "<dl class=\"run\">")?;
    writeln!(out, "<dt>Mode</dt><dd>{}</dd>", esc(&org.mode))?;
    let window = match org.next.window.as_str() {
        "not_configured" => "never open (no [org.window])".to_string(),
        "always_open" => "always open".to_string(),
        _ => org.next.window_description.clone(),
    };
    let (word, class) = if org.next.open {
        ("open", "open")
    } else {
        ("closed", "closed")
    };
    writeln!(
        out,
        "<dt>Window</dt><dd><span class=\"state state-{class}\">{word} now</span> {}</dd>",
        esc(&window)
    )?;
    if let Some(close) = org.next.closes_at {
        writeln!(out, "<dt>Closes</dt><dd>{}</dd>", esc(&local(tz, close)))?;
    }
    if let Some(open) = org.next.next_open {
        writeln!(
            out,
            "<dt>Next opening</dt><dd>{}</dd>",
            esc(&local(tz, open))
        )?;
    }
    writeln!(out, "</dl>")?;
    writeln!(out, "<h3>What happens next</h3>\n<ul>")?;
    for s in &org.next_sentences {
        writeln!(out, "<li>{}</li>", esc(s))?;
    }
    writeln!(out, "</ul>")?;
    write_last_scan(out, org, tz)?;
    write_approvals(out, org, tz)?;
    write_jobs(out, org, tz)?;
    write_runs(out, org, tz)?;
    write_reports(out, org)?;
    if !org.problems.is_empty() {
        writeln!(out, "<h3>Could not read</h3>\n<ul class=\"admin\">")?;
        for p in &org.problems {
            writeln!(out, "<li>{}</li>", esc(p))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

fn write_last_scan(out: &mut String, org: &OrgStatus, tz: Option<Tz>) -> std::fmt::Result {
    writeln!(out, "<h3>Last scan</h3>")?;
    let Some(scan) = &org.last_scan else {
        return writeln!(
            out,
            "<p class=\"muted\">No scan yet: no report.json under this org's reports folder.</p>"
        );
    };
    let when = local_text(tz, &scan.started_at);
    writeln!(out, "<dl class=\"run\">")?;
    writeln!(
        out,
        "<dt>When</dt><dd>{} <span class=\"muted\">(folder {})</span></dd>",
        esc(&when),
        esc(&scan.folder)
    )?;
    writeln!(
        out,
        "<dt>Org</dt><dd>{} — {}</dd>",
        esc(&scan.org_name),
        esc(&scan.verdict)
    )?;
    writeln!(out, "<dt>Findings</dt><dd>{}</dd>", scan.findings)?;
    writeln!(
        out,
        "<dt>Recoverable seats</dt><dd>{} ({} freed by the plan, {} after an admin's manual \
         step, {} only with reclaim_orphan_seats)</dd>",
        scan.recoverable_seats,
        scan.seats_freed_by_plan,
        scan.seats_needing_admin,
        scan.seats_needing_orphan_reclaim
    )?;
    writeln!(
        out,
        "<dt>Plan</dt><dd>{} action(s), digest <code>{}</code></dd>",
        scan.plan_actions,
        esc(&scan.plan_digest)
    )?;
    writeln!(out, "</dl>")
}

fn write_approvals(out: &mut String, org: &OrgStatus, tz: Option<Tz>) -> std::fmt::Result {
    writeln!(out, "<h3>Pending approvals</h3>")?;
    if org.approvals.is_empty() {
        writeln!(out, "<p class=\"muted\">None.</p>")?;
    } else {
        writeln!(
            out,
            "<table>\n<thead><tr><th class=\"num\">Id</th><th>Status</th><th>Approved by</th>\
             <th>At</th><th>Expires</th><th class=\"num\">Actions</th><th class=\"num\">Seats</th>\
             <th>Left out</th><th>Plan</th><th>Revoke with</th></tr></thead>\n<tbody>"
        )?;
        for a in &org.approvals {
            writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td>\
                 <td>{}</td></tr>",
                a.id,
                esc(a.status.as_str()),
                esc(&a.approved_by),
                esc(&local_text(tz, &a.approved_at)),
                esc(&local_text(tz, &a.expires_at)),
                a.actions,
                a.seats,
                esc(&a.excluded.join(", ")),
                esc(&a.digest),
                a.revoke_command
                    .as_deref()
                    .map(|c| format!("<code>{}</code>", esc(c)))
                    .unwrap_or_default()
            )?;
        }
        writeln!(out, "</tbody>\n</table>")?;
    }
    if let Some(command) = &org.approve_command {
        writeln!(
            out,
            "<p class=\"admin\">The last scan's plan is not approved. After reviewing it, approve \
             it with <code>{}</code>{}</p>",
            esc(command),
            if org.mode == "approved" {
                "; the next apply tick inside the window carries it out."
            } else {
                " (an approval is carried out only when the org's mode is approved)."
            }
        )?;
    }
    Ok(())
}

fn write_jobs(out: &mut String, org: &OrgStatus, tz: Option<Tz>) -> std::fmt::Result {
    writeln!(out, "<h3>This daemon's last jobs</h3>")?;
    if org.jobs.is_empty() {
        return writeln!(
            out,
            "<p class=\"muted\">No job has ended since the daemon started.</p>"
        );
    }
    writeln!(
        out,
        "<table>\n<thead><tr><th>Job</th><th>Ended</th><th>Outcome</th><th>Run</th>\
         <th>Details</th></tr></thead>\n<tbody>"
    )?;
    for job in &org.jobs {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><span class=\"state state-{}\">{}</span></td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            job.kind,
            esc(&local(tz, job.ended_at)),
            job.status,
            job.status,
            job.run_id.map(|r| r.to_string()).unwrap_or_default(),
            esc(job.message.as_deref().unwrap_or(""))
        )?;
    }
    writeln!(out, "</tbody>\n</table>")
}

fn write_runs(out: &mut String, org: &OrgStatus, tz: Option<Tz>) -> std::fmt::Result {
    writeln!(out, "<h3>Last runs</h3>")?;
    if org.runs.is_empty() {
        return writeln!(
            out,
            "<p class=\"muted\">No apply or rollback run in the state store.</p>"
        );
    }
    writeln!(
        out,
        "<table>\n<thead><tr><th class=\"num\">Run</th><th>Kind</th><th>Trigger</th>\
         <th>Started</th><th>Outcome</th><th class=\"num\">Done</th><th class=\"num\">Failed</th>\
         <th class=\"num\">Skipped</th><th class=\"num\">Seats</th><th>Message</th></tr></thead>\n\
         <tbody>"
    )?;
    for r in &org.runs {
        writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><span class=\"state state-{}\">{}</span></td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td>{}</td></tr>",
            r.id,
            esc(&r.kind),
            esc(&r.trigger),
            esc(&local_text(tz, &r.started_at)),
            esc(&r.status),
            esc(&r.status),
            r.done,
            r.failed,
            r.skipped,
            r.seats,
            esc(r.message.as_deref().unwrap_or(""))
        )?;
    }
    writeln!(out, "</tbody>\n</table>")
}

fn write_reports(out: &mut String, org: &OrgStatus) -> std::fmt::Result {
    writeln!(out, "<h3>Latest report folders</h3>")?;
    if org.reports.is_empty() {
        return writeln!(out, "<p class=\"muted\">None yet.</p>");
    }
    for folder in &org.reports {
        writeln!(
            out,
            "<p><code>{}</code></p>\n<ul class=\"files\">",
            esc(&folder.folder)
        )?;
        for f in &folder.files {
            writeln!(
                out,
                "<li><a href=\"{}\">{}</a> <span class=\"muted\">({} bytes)</span></li>",
                esc(&f.url),
                esc(&f.name),
                f.bytes
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    Ok(())
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
                next: NextInfo::at(
                    &crate::window::Window::AlwaysOpen,
                    crate::apply::gate::Mode::Apply,
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
        assert!(html.contains(&csp_hash(PAGE_STYLE)));
    }
}
