//! `apply.html` and `rollback.html` end to end: the real binary applies and rolls back against a
//! simulator served by the test, and the pages written beside `apply.md` / `rollback.md` say what
//! ran and what became of each action.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::apply::{INSIDE, cli, config, outcome, scan_then_user2_leaves_the_center};
use crate::support::{Sim, scratch_dir, text};

const ALWAYS_OPEN: &str = "[org.window]\nalways_open = true\n";

/// Every file named `name` under `dir`, in path order (report folders sort by time).
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(find(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The one `name` under `dir/reports`, checked to sit beside `beside` with the same private
/// permissions, and its text.
fn page(dir: &Path, name: &str, beside: &str) -> String {
    let pages = find(&dir.join("reports"), name);
    assert_eq!(pages.len(), 1, "{pages:?}");
    let folder = pages[0].parent().unwrap();
    assert!(folder.join(beside).is_file(), "{name} beside {beside}");
    let mode = std::fs::metadata(&pages[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{name} is private like {beside}");
    std::fs::read_to_string(&pages[0]).unwrap()
}

/// The page's own policy, and nothing loaded from anywhere.
fn assert_self_contained(html: &str) {
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src="),
        "nothing loads from anywhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_html_lists_a_skipped_action_with_its_reason_and_the_mode_and_window() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("run_pages_skipped");
    let cfg = config(&dir, &sim, ALWAYS_OPEN);
    // User-2 leaves the Amazon contact center after the scan: the plan's actions drifted.
    let plan = scan_then_user2_leaves_the_center(&sim, &dir, &cfg).await;
    let (code, stdout, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            INSIDE,
            &["apply", "--yes", "--plan", plan.to_str().unwrap()],
        )
        .await,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");

    let html = page(&dir, "apply.html", "apply.md");
    assert_self_contained(&html);
    assert!(html.contains("<dt>Mode</dt><dd>apply</dd>"), "{html}");
    assert!(
        html.contains("<dt>Window</dt><dd>always open</dd>"),
        "{html}"
    );
    let skipped_row = html
        .lines()
        .find(|l| l.contains("badge-plain\">skipped</span>"))
        .unwrap_or_else(|| panic!("a skipped action: {html}"));
    assert!(
        skipped_row.contains("user2@seed-example.org")
            && skipped_row.contains("left contact center"),
        "the skip says why: {skipped_row}"
    );
    assert!(
        !html.contains("pslwarden rollback --org"),
        "nothing was done: nothing to roll back"
    );
    assert!(html.contains("pslwarden history --org sim --run 1"));
    assert!(
        !html.contains("SIMULATED ORG"),
        "a served org, not a simulator config"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_html_is_written_beside_rollback_md() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("run_pages_rollback");
    let cfg = config(&dir, &sim, ALWAYS_OPEN);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let applied = page(&dir, "apply.html", "apply.md");
    assert!(applied.contains("badge-good\">done</span>"), "{applied}");
    assert!(
        applied.contains("<pre class=\"command\">pslwarden rollback --org sim --run 1</pre>"),
        "the way back: {applied}"
    );

    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["rollback", "--run", "1", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let html = page(&dir, "rollback.html", "rollback.md");
    assert_self_contained(&html);
    assert!(html.contains("Rollback run 2: sim"), "{html}");
    assert!(html.contains("<h2>Seats taken back</h2>"), "{html}");
    assert!(html.contains("badge-good\">done</span>"), "{html}");
    assert!(html.contains("(rollback of run 1)"), "{html}");
    assert!(
        !html.contains("pslwarden rollback --org"),
        "no undo of an undo"
    );
}

#[test]
fn the_builtin_demos_apply_page_is_marked_simulated() {
    let dir = scratch_dir("run_pages_demo");
    let out = crate::support::pslwarden(&dir, &["apply", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let html = page(&dir, "apply.html", "apply.md");
    assert!(
        html.contains("<p class=\"simulated\" role=\"note\"><strong>SIMULATED ORG"),
        "{html}"
    );
}
