//! Text from the org is inert in every output: a user whose username and name hold HTML,
//! Markdown, terminal escape sequences and Slack pings goes through `scan`, `apply`, `rollback`,
//! `history` and a daemon's Slack webhook, and no output carries the raw bytes.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sfsim::Org;

use crate::apply::{INSIDE, cli, config, outcome};
use crate::support::newest_report_folder as newest_report;
use crate::support::{Sim, repo_root, scratch_dir, seed_fixture};

/// HTML, Markdown, an OSC retitle ended by BEL, a CSI screen clear, a Slack channel ping and a
/// disguised Slack link.
const HOSTILE: &str =
    "<script>alert(1)</script>|*x*\u{1b}]0;pwned\u{7}\u{1b}[2J<!channel><https://evil|ok>";
/// The terminal escape part as every output spells it out.
const SPELLED: &str = "\\u001b]0;pwned\\u0007\\u001b[2J";

const ALWAYS_OPEN: &str = "\n[org.window]\nalways_open = true\n";

/// The seed example with User-2's username and name replaced by [`HOSTILE`].
fn hostile_org() -> Org {
    let mut fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(seed_fixture()).unwrap()).unwrap();
    let user2 = fixture["User"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["Username"] == "user2@seed-example.org")
        .expect("the seed has User-2");
    user2["Username"] = HOSTILE.into();
    user2["Name"] = HOSTILE.into();
    Org::from_fixture_str(&fixture.to_string(), &repo_root().join("mocks/fixtures"))
        .expect("hostile fixture loads")
}

/// No terminal control character and no raw hostile text in `shown`, whatever the format.
fn assert_no_raw(what: &str, shown: &str) {
    for raw in ['\u{1b}', '\u{7}'] {
        assert!(!shown.contains(raw), "{what} holds a raw {raw:?}:\n{shown}");
    }
    assert!(
        !shown.contains(HOSTILE),
        "{what} holds the raw text:\n{shown}"
    );
}

/// Markdown: the hostile text is backslash-escaped prose, or a code span (where CommonMark reads
/// no HTML and no emphasis) with its pipe escaped; never raw HTML or a pipe that splits a cell.
fn assert_inert_markdown(what: &str, md: &str) {
    assert_no_raw(what, md);
    // In a code span as is; in prose with its brackets backslash-escaped.
    assert!(
        md.contains(SPELLED) || md.contains("\\u001b\\]0;pwned\\u0007\\u001b\\[2J"),
        "{what} spells out the escapes:\n{md}"
    );
    for line in md.lines().filter(|l| l.contains("<script>")) {
        assert!(
            line.contains("`<script>alert(1)</script>\\|*x*"),
            "{what}: raw HTML outside a code span: {line}"
        );
    }
    assert!(
        !md.contains("<!channel><https://evil|ok>"),
        "{what} has an unescaped pipe:\n{md}"
    );
}

/// HTML: the hostile text as entities, its escapes spelled out; no element of its own.
fn assert_inert_html(what: &str, html: &str) {
    assert_no_raw(what, html);
    assert!(!html.contains("<script>alert"), "{what}:\n{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;|*x*\\u001b]0;pwned"),
        "{what} shows the username as text:\n{html}"
    );
}

/// Every file named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(find(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_username_is_inert_in_scan_apply_rollback_and_history() {
    let sim = Sim::with(hostile_org()).await;
    let dir = scratch_dir("inert_cli");
    let cfg = config(&dir, &sim, ALWAYS_OPEN);

    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_no_raw("scan's terminal output", &format!("{stdout}{stderr}"));
    assert!(stdout.contains(SPELLED), "{stdout}");
    let report = newest_report(&dir);
    let read = |name: &str| std::fs::read_to_string(report.join(name)).unwrap();
    assert_inert_markdown("report.md", &read("report.md"));
    let html = read("report.html");
    assert_no_raw("report.html", &html);
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;|*x*\\u001b]0;pwned"),
        "{html}"
    );
    let csv = read("report.csv");
    assert_no_raw("report.csv", &csv);
    assert!(csv.contains(SPELLED), "{csv}");
    let json = read("report.json");
    assert_no_raw("report.json", &json);
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert!(
        parsed["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["username"] == HOSTILE),
        "report.json keeps the username as data: {json}"
    );

    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_no_raw("apply's terminal output", &format!("{stdout}{stderr}"));
    let apply_md = find(&dir.join("reports"), "apply.md");
    assert_eq!(apply_md.len(), 1, "{apply_md:?}");
    let md = std::fs::read_to_string(&apply_md[0]).unwrap();
    assert_inert_markdown("apply.md", &md);
    assert!(
        !md.contains("<script>"),
        "apply.md names users in prose:\n{md}"
    );
    assert!(
        md.contains("\\<script\\>alert(1)\\</script\\>\\|\\*x\\*"),
        "apply.md escapes the username:\n{md}"
    );
    let html = std::fs::read_to_string(apply_md[0].with_file_name("apply.html")).unwrap();
    assert_inert_html("apply.html", &html);

    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["history"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_no_raw("history", &format!("{stdout}{stderr}"));
    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["history", "--run", "1"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_no_raw("history --run", &format!("{stdout}{stderr}"));
    assert!(stdout.contains(SPELLED), "history shows the user: {stdout}");

    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["rollback", "--run", "1", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_no_raw("rollback's terminal output", &format!("{stdout}{stderr}"));
    let rollback_md = find(&dir.join("reports"), "rollback.md");
    assert_eq!(rollback_md.len(), 1, "{rollback_md:?}");
    let md = std::fs::read_to_string(&rollback_md[0]).unwrap();
    assert_inert_markdown("rollback.md", &md);
    assert!(!md.contains("<script>"), "{md}");
    let html = std::fs::read_to_string(rollback_md[0].with_file_name("rollback.html")).unwrap();
    assert_inert_html("rollback.html", &html);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_username_cannot_ping_or_disguise_a_link_in_slack() {
    use axum::extract::State;
    use std::sync::{Arc, Mutex};
    let sim = Sim::with(hostile_org()).await;
    let dir = scratch_dir("inert_slack");
    // A Slack webhook receiver on loopback.
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app =
        axum::Router::new()
            .route(
                "/slack",
                axum::routing::post(
                    |State(got): State<Arc<Mutex<Vec<Value>>>>,
                     axum::Json(body): axum::Json<Value>| async move {
                        got.lock().unwrap().push(body);
                        "ok"
                    },
                ),
            )
            .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/slack", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let head = "[daemon]\nlisten = \"127.0.0.1:0\"\n\n[[daemon.webhook]]\nurl_env = \
                \"PSLWARDEN_TEST_INERT_SLACK\"\nevents = [\"findings\"]\n";
    let tables = format!("{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\n");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, crate::apply::config_text(&sim, head, &tables)).unwrap();
    let run_dir = dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pslwarden"))
            .args(["--config", cfg.to_str().unwrap(), "daemon", "--once"])
            .current_dir(&run_dir)
            .env_remove("PSLWARDEN_CONFIG")
            .env("RUST_LOG", "pslwarden=info")
            .env("PSLWARDEN_TEST_INERT_SLACK", hook)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (code, stdout, stderr) = outcome(&out);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_no_raw("the daemon's output and log", &format!("{stdout}{stderr}"));

    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1, "one findings message: {got:?}");
    let text = got[0]["text"].as_str().expect("Slack text");
    assert_no_raw("the Slack message", text);
    assert!(!text.contains('<') && !text.contains('>'), "{text}");
    assert!(
        text.contains("&lt;!channel&gt;&lt;https://evil|ok&gt;"),
        "escaped for Slack: {text}"
    );
    assert!(text.contains(SPELLED), "{text}");
}
