//! The daemon's status page end to end: the real binary as a long-running child against a
//! simulator served by the test; `/`, `/api/status` and the report files read over HTTP as a
//! browser or a script would (and, for paths a client would normalise, as raw HTTP/1.1).
//!
//! Waits poll with a generous deadline; no test asserts on how long anything took.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Sim, scratch_dir};

const TOKEN_ENV: &str = "PSLWARDEN_TEST_STATUS_TOKEN";
const TOKEN: &str = "status-page-token-for-tests-only";

/// London's weeknight window, 22:00 to 05:00.
const NIGHT_WINDOW: &str = r#"
[org.window]
time_zone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "05:00"
crosses_midnight = true
"#;

/// A schedule that does not fire while a test runs (1 January, midnight).
const NEVER_SOON: &str = "0 0 0 1 1 *";

fn config(dir: &Path, sim: &Sim, token: bool, tables: &str) -> PathBuf {
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, config_text(sim, token, tables)).unwrap();
    cfg
}

fn config_text(sim: &Sim, token: bool, tables: &str) -> String {
    let head = format!(
        "\n[daemon]\nlisten = \"127.0.0.1:0\"\n{}",
        if token {
            format!("status_token_env = \"{TOKEN_ENV}\"\n")
        } else {
            String::new()
        }
    );
    crate::apply::config_text(sim, &head, tables)
}

/// A running daemon: its base URL (`http://addr`) and stderr file.
struct Daemon {
    child: Option<Child>,
    base: String,
    stderr: PathBuf,
}

impl Daemon {
    fn command(dir: &Path, cfg: &Path, clock: &str, token: Option<&str>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pslwarden"));
        cmd.args(["--config", cfg.to_str().unwrap(), "daemon"])
            .current_dir(dir)
            .env_remove("PSLWARDEN_CONFIG")
            .env("RUST_LOG", "pslwarden=info")
            .env("PSLWARDEN_FAKE_CLOCK", clock)
            .stdin(Stdio::null());
        match token {
            Some(t) => cmd.env(TOKEN_ENV, t),
            None => cmd.env_remove(TOKEN_ENV),
        };
        cmd
    }

    /// Starts the daemon and waits for its first line, which names the status page's address.
    async fn start(dir: &Path, cfg: &Path, clock: &str, token: Option<&str>) -> Daemon {
        let stderr = dir.join("daemon.stderr");
        let mut child = Self::command(dir, cfg, clock, token)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start the daemon");
        let line = crate::support::first_line(child.stdout.take().unwrap()).await;
        let base = line
            .split_whitespace()
            .find_map(|w| w.strip_suffix("/,"))
            .filter(|w| w.starts_with("http://"))
            .unwrap_or_else(|| {
                panic!(
                    "no status URL in {line:?}\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            })
            .to_string();
        Daemon {
            child: Some(child),
            base,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(self.url(path))
            .await
            .expect("the daemon answers")
    }

    async fn status(&self) -> Value {
        let r = self.get("/api/status").await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn page(&self) -> String {
        let r = self.get("/").await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "text/html; charset=utf-8"
        );
        r.text().await.unwrap()
    }

    /// Waits until `/api/status` satisfies `check`.
    async fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..600 {
            let status = self.status().await;
            if check(&status) {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "never happened: {what}\n{}\n{}",
            self.status().await,
            self.log()
        );
    }

    /// `method path` as raw HTTP/1.1, byte for byte (a client library would normalise `..`);
    /// returns the status code and body.
    async fn raw(&self, method: &str, path: &str, auth: Option<&str>) -> (u16, String) {
        let addr = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let auth = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let code = answer
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
        (code, answer)
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let pid = self.child.as_ref().expect("running").id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_follows_the_org_from_no_scan_to_findings_to_the_applied_fix() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("status_states");
    let never = format!("{NIGHT_WINDOW}\n[org.schedule]\nscan = \"{NEVER_SOON}\"\n");
    let cfg = config(&dir, &sim, false, &never);
    // Tuesday 23:00 in London: the window is open and closes at 05:00.
    let daemon = Daemon::start(&dir, &cfg, "2026-01-06T23:00:00Z", None).await;

    // Before any scan: the window and mode, and no scan, run or report.
    let status = daemon.status().await;
    assert_eq!(status["version"], 1);
    let org = &status["orgs"][0];
    assert_eq!(org["name"], "sim");
    assert_eq!(org["mode"], "apply");
    assert_eq!(org["next"]["open"], true);
    assert_eq!(org["next"]["closes_at_local"], "2026-01-07T05:00:00+00:00");
    assert!(org["last_scan"].is_null(), "{org}");
    assert_eq!(org["runs"], Value::Array(vec![]));
    assert_eq!(org["reports"], Value::Array(vec![]));
    let page = daemon.page().await;
    assert!(page.contains("No scan yet"), "{page}");
    assert!(page.contains("open now"), "{page}");
    assert!(page.contains("Wed 2026-01-07 05:00 GMT"), "{page}");
    assert!(
        !dir.join("state/pslwarden.sqlite").exists(),
        "reading the page created no state store"
    );

    // The daemon scans: the seed's finding, its seats and the report's files.
    let scanning = format!("{NIGHT_WINDOW}\n[org.schedule]\nscan = \"* * * * * *\"\n");
    std::fs::write(&cfg, config_text(&sim, false, &scanning)).unwrap();
    daemon.signal(libc::SIGHUP);
    let status = daemon
        .wait_for("a scan on the page", |s| {
            !s["orgs"][0]["last_scan"].is_null()
        })
        .await;
    let scan = &status["orgs"][0]["last_scan"];
    assert_eq!(scan["findings"], 1, "{scan}");
    assert_eq!(scan["recoverable_seats"], 1, "{scan}");
    assert_eq!(scan["verdict"], "Affected", "{scan}");
    let files = &status["orgs"][0]["reports"][0]["files"];
    let html_url = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "report.html")
        .map(|f| f["url"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("report.html linked: {files}"));
    let page = daemon.page().await;
    assert!(page.contains("<dt>Findings</dt><dd>1</dd>"), "{page}");
    assert!(page.contains(&format!("href=\"{html_url}\"")), "{page}");
    let report = daemon.get(&html_url).await;
    assert_eq!(report.status(), 200);
    assert_eq!(
        report.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    assert!(report.text().await.unwrap().contains("Seat report: sim"));
    assert_eq!(
        sim.sim.org.stats().write_calls,
        0,
        "the page changed nothing"
    );

    // The daemon applies: the run and its freed seat.
    let applying = format!("{scanning}apply = \"* * * * * *\"\n");
    std::fs::write(&cfg, config_text(&sim, false, &applying)).unwrap();
    daemon.signal(libc::SIGHUP);
    let status = daemon
        .wait_for("an applied run and the apply job on the page", |s| {
            s["orgs"][0]["runs"][0]["status"] == "completed"
                && s["orgs"][0]["jobs"]
                    .as_array()
                    .is_some_and(|jobs| jobs.iter().any(|j| j["kind"] == "apply"))
        })
        .await;
    let run = &status["orgs"][0]["runs"][0];
    assert_eq!(run["seats"], 1, "{run}");
    assert_eq!(run["trigger"], "unattended", "{run}");
    let page = daemon.page().await;
    assert!(page.contains("Last runs"), "{page}");
    assert!(page.contains("state-completed\">completed"), "{page}");
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(1));
    // The run's page is linked with the run's other files and served as HTML. (The run is
    // recorded as completed just before its report files are written.)
    let apply_html = |s: &Value| {
        s["orgs"][0]["reports"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["files"].as_array().into_iter().flatten())
            .find(|f| f["name"] == "apply.html")
            .and_then(|f| f["url"].as_str())
            .map(str::to_string)
    };
    let status = daemon
        .wait_for("apply.html among the run's files", |s| {
            apply_html(s).is_some()
        })
        .await;
    let apply_url = apply_html(&status).expect("listed");
    let page = daemon.page().await;
    assert!(page.contains(&format!("href=\"{apply_url}\"")), "{page}");
    let applied = daemon.get(&apply_url).await;
    assert_eq!(applied.status(), 200);
    assert!(applied.text().await.unwrap().contains("Apply run 1: sim"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_files_inside_the_report_folders_are_served_and_nothing_is_posted() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("status_files");
    let tables = format!("{NIGHT_WINDOW}\n[org.schedule]\nscan = \"{NEVER_SOON}\"\n");
    let cfg = config(&dir, &sim, false, &tables);
    let clock = "2026-01-06T14:00:00Z";
    let out = crate::apply::cli(&dir, &cfg, clock, &["scan"]).await;
    assert!(out.status.success(), "{:?}", crate::support::text(&out));
    // A state store beside the reports, as after any apply.
    drop(pslwarden::state::StateStore::open(&dir.join("state/pslwarden.sqlite")).unwrap());
    let org_dir = dir.join("reports/sim");
    let folder = std::fs::read_dir(&org_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .next()
        .expect("the scan's report folder");
    let secret_dir = dir.join("elsewhere");
    std::fs::create_dir_all(&secret_dir).unwrap();
    std::fs::write(secret_dir.join("report.json"), "{\"outside\": true}").unwrap();
    // Symlinks planted inside the reports folder, pointing out of it.
    std::os::unix::fs::symlink(
        dir.join("state/pslwarden.sqlite"),
        org_dir.join(&folder).join("leak.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret_dir, org_dir.join("20990101T000000Z")).unwrap();

    let daemon = Daemon::start(&dir, &cfg, clock, None).await;
    let page = daemon.page().await;
    // 14:00 on Tuesday in London: closed, opens at 22:00 that day.
    assert!(page.contains("closed now"), "{page}");
    assert!(page.contains("Tue 2026-01-06 22:00 GMT"), "{page}");
    assert!(
        !page.contains("leak.json"),
        "a symlink is not listed: {page}"
    );

    let good = format!("/reports/sim/{folder}/report.json");
    let (code, body) = daemon.raw("GET", &good, None).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("content-type: application/json"), "{body}");
    let (code, body) = daemon
        .raw("GET", &format!("/reports/sim/{folder}/report.md"), None)
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("content-type: text/markdown"), "{body}");
    let (code, _) = daemon.raw("HEAD", &good, None).await;
    assert_eq!(code, 200);

    for path in [
        "/reports/../state/pslwarden.sqlite".to_string(),
        "/reports/sim/../../state/pslwarden.sqlite".to_string(),
        "/reports/sim/%2e%2e/%2e%2e/state/pslwarden.sqlite".to_string(),
        "/reports/%2e%2e/state/pslwarden.sqlite".to_string(),
        format!("/reports/sim/{folder}/..%2f..%2f..%2fstate%2fpslwarden.sqlite"),
        format!("/reports/sim/{folder}/%2e%2e%2f%2e%2e%2f%2e%2e%2fpslwarden.toml"),
        "/reports/sim/%2Fetc/passwd".to_string(),
        format!("/reports/sim/{folder}/%2Fetc%2Fpasswd"),
        "/reports/%2Fetc/x/passwd".to_string(),
        format!("/reports/sim/{folder}/leak.json"),
        "/reports/sim/20990101T000000Z/report.json".to_string(),
        "/reports/other/20990101T000000Z/report.json".to_string(),
        "/state/pslwarden.sqlite".to_string(),
    ] {
        let (code, body) = daemon.raw("GET", &path, None).await;
        assert!(
            code == 404 || code == 400,
            "{path} was not refused: {code}\n{body}"
        );
        assert!(!body.contains("SQLite format"), "{path} leaked the store");
        assert!(!body.contains("outside"), "{path} followed a symlink out");
        assert!(!body.contains("[[org]]"), "{path} leaked the config");
    }

    for path in ["/", "/api/status", good.as_str()] {
        let (code, body) = daemon.raw("POST", path, None).await;
        assert_eq!(code, 405, "POST {path} refused: {body}");
        let (code, _) = daemon.raw("DELETE", path, None).await;
        assert_eq!(code, 405, "DELETE {path} refused");
    }
    assert_eq!(sim.sim.org.stats().write_calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_configured_the_page_needs_it_and_the_probes_do_not() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("status_token");
    let tables = format!("{NIGHT_WINDOW}\n[org.schedule]\nscan = \"{NEVER_SOON}\"\n");
    let cfg = config(&dir, &sim, true, &tables);
    let clock = "2026-01-06T14:00:00Z";

    // Checked at start: without the variable the daemon refuses to run, naming the key.
    let mut child = Daemon::command(&dir, &cfg, clock, None)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(status) = exited else {
        let _ = child.kill();
        panic!("the daemon started without its status token");
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    assert!(stderr.contains("daemon.status_token_env"), "{stderr}");
    assert!(stderr.contains(TOKEN_ENV), "{stderr}");

    let daemon = Daemon::start(&dir, &cfg, clock, Some(TOKEN)).await;
    for path in [
        "/",
        "/api/status",
        "/reports/sim/20260106T140000Z/report.json",
    ] {
        let (code, body) = daemon.raw("GET", path, None).await;
        assert_eq!(code, 401, "{path} without a token: {body}");
        assert!(body.contains("www-authenticate: Bearer"), "{body}");
        let (code, _) = daemon.raw("GET", path, Some("wrong-token")).await;
        assert_eq!(code, 401, "{path} with a wrong token");
    }
    let (code, body) = daemon.raw("GET", "/", Some(TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("pslwarden status"));
    let (code, body) = daemon.raw("GET", "/api/status", Some(TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    for probe in ["/healthz", "/metrics"] {
        let (code, _) = daemon.raw("GET", probe, None).await;
        assert_eq!(code, 200, "{probe} stays open");
    }
    assert!(!daemon.log().contains(TOKEN), "the token is never logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_approvals_are_listed_with_the_commands_to_approve_and_revoke() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("status_approvals");
    let tables = format!("{NIGHT_WINDOW}\n[org.schedule]\napply = \"{NEVER_SOON}\"\n");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        config_text(&sim, false, &tables).replace("mode = \"apply\"", "mode = \"approved\""),
    )
    .unwrap();
    let clock = "2026-01-06T14:00:00Z";
    let out = crate::apply::cli(&dir, &cfg, clock, &["scan"]).await;
    assert!(out.status.success(), "{:?}", crate::support::text(&out));
    let daemon = Daemon::start(&dir, &cfg, clock, None).await;

    // Scanned, not approved: the page says how to approve exactly this plan.
    let status = daemon.status().await;
    let org = &status["orgs"][0];
    assert_eq!(org["mode"], "approved");
    assert_eq!(org["approvals"], Value::Array(vec![]));
    let command = org["approve_command"]
        .as_str()
        .expect("a command to approve");
    assert!(
        command.starts_with("pslwarden approve --org sim --plan ")
            && command.ends_with("plan.json"),
        "{command}"
    );
    let page = daemon.page().await;
    assert!(page.contains("plan is not approved"), "{page}");

    // Approved: listed as pending with who approved and how to revoke; no approve command.
    let out = crate::apply::cli(
        &dir,
        &cfg,
        clock,
        &["approve", "--latest", "--by", "alice", "--yes"],
    )
    .await;
    assert!(out.status.success(), "{:?}", crate::support::text(&out));
    let status = daemon.status().await;
    let org = &status["orgs"][0];
    let approval = &org["approvals"][0];
    assert_eq!(approval["status"], "pending", "{org}");
    assert_eq!(approval["approved_by"], "alice", "{org}");
    let id = approval["id"].as_i64().expect("an id");
    assert_eq!(
        approval["revoke_command"],
        format!("pslwarden approvals revoke {id}")
    );
    assert!(org["approve_command"].is_null(), "{org}");
    let page = daemon.page().await;
    assert!(page.contains("alice"), "{page}");
    assert!(page.contains("The org&#39;s mode is approved"), "{page}");
    // Expires in seven days, shown on the org's clock.
    assert!(page.contains("Tue 2026-01-13 14:00 GMT"), "{page}");
    assert!(
        page.contains(&format!("pslwarden approvals revoke {id}")),
        "{page}"
    );

    // Revoked: gone from the page.
    let out = crate::apply::cli(&dir, &cfg, clock, &["approvals", "revoke", &id.to_string()]).await;
    assert!(out.status.success(), "{:?}", crate::support::text(&out));
    let status = daemon.status().await;
    assert_eq!(status["orgs"][0]["approvals"], Value::Array(vec![]));
    assert_eq!(sim.sim.org.stats().write_calls, 0);
}

/// A simulated org's numbers must never pass for a real org's: the status page says so in a
/// banner (and `/api/status` in a field), as every report does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_org_is_marked_on_the_status_page() {
    let dir = scratch_dir("status_simulated");
    let root = crate::support::repo_root();
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:0\"\n\n\
             [[org]]\nname = \"staging\"\nmode = \"dry-run\"\n\
             [org.simulator]\nfixture = {fixture:?}\n\
             [org.auth]\nflow = \"jwt\"\n\
             consumer_key = \"3MVG9demoOnlyConsumerKeyForTheSimulatedOrg\"\n\
             username = \"pslwarden.integration@seed-example.org\"\n\
             private_key_file = {key:?}\n\
             [org.window]\nalways_open = true\n\
             [org.schedule]\nscan = \"{NEVER_SOON}\"\n",
            fixture = root.join("mocks/fixtures/seed-example.json"),
            key = root.join("mocks/keys/demo-only-jwt-private.pem"),
        ),
    )
    .unwrap();
    let daemon = Daemon::start(&dir, &cfg, "2026-01-06T23:00:00Z", None).await;
    let status = daemon.status().await;
    assert_eq!(status["orgs"][0]["simulated"], true, "{status}");
    let page = daemon.page().await;
    assert!(
        page.contains("class=\"simulated\"") && page.contains("SIMULATED ORG"),
        "{page}"
    );
    // No prices, no money: not even an empty "Worth" line.
    assert!(!page.contains("<dt>Worth</dt>"), "{page}");
}

/// With `[org.prices]`, the last scan's worth is on the page and in `/api/status`, in the scan's
/// own words (the same amounts as its report).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priced_orgs_last_scan_says_what_it_is_worth() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("status_priced");
    let tables = format!(
        "{NIGHT_WINDOW}\n[org.schedule]\nscan = \"{NEVER_SOON}\"\n\
         [org.prices]\ncurrency = \"USD\"\n[org.prices.seat_monthly]\nServiceCloudVoicePsl = 50\n"
    );
    let cfg = config(&dir, &sim, false, &tables);
    let out = crate::support::pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "scan"]);
    let (stdout, stderr) = crate::support::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let daemon = Daemon::start(&dir, &cfg, "2026-01-06T23:00:00Z", None).await;
    let status = daemon.status().await;
    let worth = status["orgs"][0]["last_scan"]["worth"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        worth.contains("USD 50.00 / month, USD 600.00 / year recoverable"),
        "{status}"
    );
    let page = daemon.page().await;
    assert!(
        page.contains("<dt>Worth</dt>") && page.contains("USD 50.00 / month"),
        "{page}"
    );
}
