//! `pslwarden daemon` end to end: the real binary as a long-running child process against a
//! simulator and a webhook receiver served by the test, driven by its schedules and by signals,
//! observed through `/metrics`, the webhooks, the simulator's counters and the state store.
//!
//! Waits poll with a generous deadline (they wait for cron ticks, a second apart); no test
//! asserts on how long anything took.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pslwarden::state::{ActionStatus, RunStatus, StateStore};
use serde_json::Value;
use sfsim::{Faults, Org};

use crate::support::{Sim, repo_root, scratch_dir};

const WEBHOOK_ENV: &str = "PSLWARDEN_TEST_WEBHOOK";
const SLACK_ENV: &str = "PSLWARDEN_TEST_SLACK";

/// Bodies the test's webhook receiver got, by path (`/json`, `/slack`).
pub(crate) type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on loopback; returns its base URL.
pub(crate) async fn receiver() -> (String, Received) {
    use axum::extract::{Path as UrlPath, State};
    let got: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/{kind}",
            axum::routing::post(
                |State(got): State<Received>,
                 UrlPath(kind): UrlPath<String>,
                 axum::Json(body): axum::Json<Value>| async move {
                    got.lock().unwrap().push((kind, body));
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// The `[daemon]` tables of every daemon test: a free port, retention, both webhooks.
const DAEMON: &str = r#"
[daemon]
listen = "127.0.0.1:0"
keep_reports = 4

[[daemon.webhook]]
url_env = "PSLWARDEN_TEST_WEBHOOK"
format = "json"

[[daemon.webhook]]
url_env = "PSLWARDEN_TEST_SLACK"
events = ["apply", "failure"]
"#;

/// The daemon's config for the org served by `sim`; `org_tables` are appended to the org.
pub(crate) fn config(dir: &Path, sim: &Sim, org_tables: &str) -> PathBuf {
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, config_text(sim, org_tables)).unwrap();
    cfg
}

pub(crate) fn config_text(sim: &Sim, org_tables: &str) -> String {
    crate::apply::config_text(sim, DAEMON, org_tables)
}

/// A running daemon child: its metrics URL and its stderr file.
pub(crate) struct Daemon {
    /// Taken by `stop`.
    child: Option<Child>,
    pub(crate) metrics: String,
    stderr: PathBuf,
}

impl Daemon {
    /// Starts `pslwarden daemon` and waits for its first line (the endpoint's address).
    pub(crate) async fn start(dir: &Path, cfg: &Path, hooks: &str, clock: Option<&str>) -> Daemon {
        let stderr = dir.join("daemon.stderr");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pslwarden"));
        cmd.args(["--config", cfg.to_str().unwrap(), "daemon"])
            .current_dir(dir)
            .env_remove("PSLWARDEN_CONFIG")
            .env("RUST_LOG", "pslwarden=info")
            .env(WEBHOOK_ENV, format!("{hooks}/json"))
            .env(SLACK_ENV, format!("{hooks}/slack"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        match clock {
            Some(c) => cmd.env("PSLWARDEN_FAKE_CLOCK", c),
            None => cmd.env_remove("PSLWARDEN_FAKE_CLOCK"),
        };
        let mut child = cmd.spawn().expect("start the daemon");
        let line = crate::support::first_line(child.stdout.take().unwrap()).await;
        let metrics = line
            .split_whitespace()
            .find(|w| w.ends_with("/metrics"))
            .unwrap_or_else(|| panic!("no metrics URL in {line:?}"))
            .to_string();
        Daemon {
            child: Some(child),
            metrics,
            stderr,
        }
    }

    pub(crate) async fn metrics(&self) -> String {
        reqwest::get(&self.metrics)
            .await
            .expect("metrics answer")
            .text()
            .await
            .unwrap()
    }

    /// The value of one metric line (`name{labels}`), if present.
    pub(crate) async fn value(&self, series: &str) -> Option<f64> {
        self.metrics().await.lines().find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
    }

    /// Waits until `series` reaches at least `at_least`.
    pub(crate) async fn wait_for(&self, series: &str, at_least: f64) {
        for _ in 0..600 {
            if self.value(series).await.is_some_and(|v| v >= at_least) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{series} never reached {at_least}\n{}\n{}",
            self.metrics().await,
            self.log()
        );
    }

    pub(crate) fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let pid = self.child.as_ref().expect("running").id() as libc::pid_t;
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "signal sent");
    }

    /// Sends SIGTERM and waits for the exit code.
    pub(crate) async fn stop(mut self) -> (Option<i32>, String) {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take().expect("running");
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        (status.code(), self.log())
    }

    pub(crate) fn log(&self) -> String {
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

async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..600 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

pub(crate) const ALWAYS_OPEN: &str = "\n[org.window]\nalways_open = true\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_scans_fixes_the_seed_once_reloads_on_sighup_and_tells_the_webhooks() {
    let sim = Sim::seed().await;
    let (hooks, got) = receiver().await;
    let dir = scratch_dir("daemon_seed");
    let scan_only = format!("{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\n");
    let cfg = config(&dir, &sim, &scan_only);
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;

    // Scans find User-2 and tell the JSON webhook, once.
    daemon
        .wait_for("pslwarden_findings{org=\"sim\"}", 1.0)
        .await;
    daemon
        .wait_for(
            "pslwarden_runs_total{org=\"sim\",kind=\"scan\",status=\"completed\"}",
            3.0,
        )
        .await;
    {
        let got = got.lock().unwrap();
        let findings: Vec<&Value> = got
            .iter()
            .filter(|(k, b)| k == "json" && b["event"] == "findings")
            .map(|(_, b)| b)
            .collect();
        assert_eq!(findings.len(), 1, "new findings are told once: {got:?}");
        assert!(
            findings[0]["details"]["new"][0]
                .as_str()
                .unwrap()
                .contains("user2@seed-example.org")
        );
        assert!(
            !got.iter().any(|(k, _)| k == "slack"),
            "the Slack hook only wants apply and failure events"
        );
    }
    assert_eq!(sim.sim.org.stats().write_calls, 0, "scans never write");

    // SIGHUP with an apply schedule added: the seed is fixed, once.
    let with_apply = format!("{scan_only}apply = \"* * * * * *\"\n");
    std::fs::write(&cfg, config_text(&sim, &with_apply)).unwrap();
    daemon.signal(libc::SIGHUP);
    daemon
        .wait_for(
            "pslwarden_runs_total{org=\"sim\",kind=\"apply\",status=\"completed\"}",
            3.0,
        )
        .await;
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(1));
    assert_eq!(
        sim.sim.org.stats().write_calls,
        2,
        "one unassignment and one seat: fixed once, not twice"
    );
    assert_eq!(
        daemon
            .value("pslwarden_seats_freed_total{org=\"sim\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        daemon.value("pslwarden_window_open{org=\"sim\"}").await,
        Some(1.0)
    );
    assert!(
        daemon
            .value("pslwarden_api_daily_remaining{org=\"sim\"}")
            .await
            .is_some_and(|v| v > 0.0)
    );
    wait_until("the apply result reaches both webhooks", || {
        let got = got.lock().unwrap();
        got.iter().any(|(k, b)| {
            k == "slack"
                && b["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("1 seat(s) freed"))
        }) && got
            .iter()
            .any(|(k, b)| k == "json" && b["event"] == "apply")
    })
    .await;
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("config reloaded"), "{log}");
    assert!(
        !log.contains("demo-only") && !log.contains("BEGIN PRIVATE KEY"),
        "no secret in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_window_closed_scheduled_applies_do_nothing_and_say_why() {
    let sim = Sim::seed().await;
    let (hooks, got) = receiver().await;
    let dir = scratch_dir("daemon_window_closed");
    let tables = r#"
[org.window]
time_zone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "05:00"
crosses_midnight = true

[org.schedule]
apply = "* * * * * *"
"#;
    let cfg = config(&dir, &sim, tables);
    // Tuesday 14:00 in London, and it stays that time.
    let daemon = Daemon::start(&dir, &cfg, &hooks, Some("2026-01-06T14:00:00Z")).await;
    daemon
        .wait_for(
            "pslwarden_runs_total{org=\"sim\",kind=\"apply\",status=\"window_closed\"}",
            2.0,
        )
        .await;
    assert_eq!(
        daemon.value("pslwarden_window_open{org=\"sim\"}").await,
        Some(0.0)
    );
    // The window opens at 22:00 London time that day: 2026-01-06T22:00:00Z.
    assert_eq!(
        daemon
            .value("pslwarden_window_next_open_timestamp_seconds{org=\"sim\"}")
            .await,
        Some(1_767_736_800.0)
    );
    assert_eq!(
        daemon
            .value("pslwarden_last_run_success{org=\"sim\",kind=\"apply\"}")
            .await,
        Some(1.0),
        "a closed window is not a failure"
    );
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("outside the window") && log.contains("opens Tue 22:00"),
        "{log}"
    );
    let stats = sim.sim.org.stats();
    assert_eq!((stats.write_calls, stats.api_calls), (0, 0));
    assert!(got.lock().unwrap().is_empty(), "nothing to tell");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_apply_finishes_the_batch_exits_0_and_the_next_start_resumes() {
    let g = sfsim::generate::generate(&sfsim::generate::GenerateOptions {
        users: 600,
        seed: 7,
        affected_fraction: 0.1,
        voice_calls: 0,
    });
    let org = Org::from_fixture_str(&g.fixture.to_string(), Path::new(".")).unwrap();
    let sim = Sim::with(org).await;
    let (hooks, _got) = receiver().await;
    let dir = scratch_dir("daemon_sigterm");
    let tables = format!(
        "{ALWAYS_OPEN}\n[org.apply]\nbatch_size = 4\nmax_voice_user_share = 1.0\n\n[org.schedule]\napply = \"* * * * * *\"\n"
    );
    let cfg = config(&dir, &sim, &tables);
    let state = dir.join("state/pslwarden.sqlite");
    // Slow answers, so the run is mid-way when the signal comes.
    sim.sim.org.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;
    wait_until("some actions are done", || {
        StateStore::open(&state)
            .ok()
            .and_then(|s| s.plan_actions(1).ok())
            .is_some_and(|a| a.iter().filter(|a| a.status == ActionStatus::Done).count() >= 8)
    })
    .await;
    // The run is still going at the next ticks: they are skipped, not started twice.
    daemon
        .wait_for(
            "pslwarden_ticks_skipped_total{org=\"sim\",kind=\"apply\"}",
            1.0,
        )
        .await;
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
    sim.sim.org.set_faults(Faults::default());

    let store = StateStore::open(&state).unwrap();
    let actions = store.plan_actions(1).unwrap();
    assert!(
        actions.iter().all(|a| a.status != ActionStatus::Intent),
        "the batch in flight was journaled"
    );
    let left = actions
        .iter()
        .filter(|a| a.status == ActionStatus::Planned)
        .count();
    assert!(left > 0, "the signal came mid-run");
    let run = store.run(1).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Stopped, "{run:?}");
    assert!(run.message.unwrap_or_default().contains("shutting down"));
    drop(store);

    // `daemon --once` (the next start) finishes the plan.
    let out = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let cfg = cfg.clone();
        let hooks = hooks.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_pslwarden"))
                .args(["--config", cfg.to_str().unwrap(), "daemon", "--once"])
                .current_dir(&dir)
                .env_remove("PSLWARDEN_CONFIG")
                .env_remove("PSLWARDEN_FAKE_CLOCK")
                .env(WEBHOOK_ENV, format!("{hooks}/json"))
                .env(SLACK_ENV, format!("{hooks}/slack"))
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let (stdout, stderr) = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let store = StateStore::open(&state).unwrap();
    let actions = store.plan_actions(1).unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a.status == ActionStatus::Done || a.op == pslwarden::plan::Op::Manual),
        "{actions:?}"
    );
    assert!(store.open_plan("sim").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_with_a_broken_config_keeps_the_old_one_running() {
    let sim = Sim::seed().await;
    let (hooks, _got) = receiver().await;
    let dir = scratch_dir("daemon_bad_reload");
    let tables = format!("{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\n");
    let cfg = config(&dir, &sim, &tables);
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;
    let series = "pslwarden_runs_total{org=\"sim\",kind=\"scan\",status=\"completed\"}";
    daemon.wait_for(series, 1.0).await;
    std::fs::write(&cfg, "[[org]\nname = \"broken").unwrap();
    daemon.signal(libc::SIGHUP);
    let before = daemon.value(series).await.unwrap_or(0.0);
    daemon.wait_for(series, before + 2.0).await;
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("config reload refused") && log.contains("pslwarden.toml"),
        "{log}"
    );
}

#[test]
fn a_daemon_with_nothing_scheduled_says_so() {
    let dir = scratch_dir("daemon_nothing");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[org]]\nname = \"x\"\n[org.simulator]\nfixture = \"{}\"\n[org.auth]\nflow = \"jwt\"\n\
             consumer_key = \"k\"\nusername = \"u\"\nprivate_key_file = \"k.pem\"\n",
            crate::support::seed_fixture().display()
        ),
    )
    .unwrap();
    let out = crate::support::pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "daemon"]);
    let (_, stderr) = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("[org.schedule]"), "{stderr}");
}

#[test]
fn a_bad_schedule_fails_at_start_with_its_line() {
    let dir = scratch_dir("daemon_bad_schedule");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[org]]\nname = \"x\"\n[org.simulator]\nfixture = \"{}\"\n[org.auth]\nflow = \"jwt\"\n\
             consumer_key = \"k\"\nusername = \"u\"\nprivate_key_file = \"k.pem\"\n\
             [org.schedule]\napply = \"*/10 * * * *\"\n",
            crate::support::seed_fixture().display()
        ),
    )
    .unwrap();
    let out = crate::support::pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "daemon"]);
    let (_, stderr) = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("pslwarden.toml:11:") && stderr.contains("seconds field"),
        "{stderr}"
    );
}

#[test]
fn the_deployment_examples_configs_parse() {
    let dir = scratch_dir("daemon_deploy_examples");
    let yaml = std::fs::read_to_string(repo_root().join("config/deploy/k8s-cronjob.yaml")).unwrap();
    let mut toml = String::new();
    let mut inside = false;
    for line in yaml.lines() {
        if line.trim_end().ends_with("pslwarden.toml: |") {
            inside = true;
            continue;
        }
        if inside {
            if !line.is_empty() && !line.starts_with("    ") {
                break;
            }
            toml.push_str(line.strip_prefix("    ").unwrap_or(line));
            toml.push('\n');
        }
    }
    assert!(toml.contains("[org.schedule]"), "{toml}");
    let cfg = dir.join("k8s.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = crate::support::pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "window"]);
    let (stdout, stderr) = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("America/New_York"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_orgs_run_side_by_side_in_one_daemon() {
    let first = Sim::seed().await;
    let second = Sim::seed().await;
    let (hooks, _got) = receiver().await;
    let dir = scratch_dir("daemon_two_orgs");
    let one = config_text(
        &first,
        &format!(
            "{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\napply = \"* * * * * *\"\n"
        ),
    );
    // The second org: the same block under another name, against the second simulator.
    let org_block = &one[one.find("[[org]]").unwrap()..];
    let two = org_block
        .replace("name = \"sim\"", "name = \"other\"")
        .replace(&first.sim.url, &second.sim.url);
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, format!("{one}\n{two}")).unwrap();
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;
    for org in ["sim", "other"] {
        daemon
            .wait_for(
                &format!(
                    "pslwarden_runs_total{{org=\"{org}\",kind=\"apply\",status=\"completed\"}}"
                ),
                2.0,
            )
            .await;
    }
    assert_eq!(first.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(1));
    assert_eq!(
        second.sim.org.used_licenses("ServiceCloudVoicePsl"),
        Some(1)
    );
    assert_eq!(first.sim.org.stats().write_calls, 2);
    assert_eq!(second.sim.org.stats().write_calls, 2);
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_told_and_a_failing_webhook_never_stops_the_daemon() {
    let sim = Sim::seed().await;
    let (hooks, got) = receiver().await;
    let dir = scratch_dir("daemon_failures");
    // A port nothing listens on: the org cannot be reached, and neither can the Slack hook.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let text = config_text(
        &sim,
        &format!("{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\n"),
    )
    .replace(&sim.sim.url, &closed);
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, text).unwrap();
    let stderr = dir.join("daemon.stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pslwarden"))
        .args(["--config", cfg.to_str().unwrap(), "daemon"])
        .current_dir(&dir)
        .env_remove("PSLWARDEN_CONFIG")
        .env_remove("PSLWARDEN_FAKE_CLOCK")
        .env(WEBHOOK_ENV, format!("{hooks}/json"))
        .env(SLACK_ENV, format!("{closed}/slack"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    wait_until("a failure event reaches the JSON hook", || {
        got.lock()
            .unwrap()
            .iter()
            .any(|(k, b)| k == "json" && b["event"] == "failure" && b["details"]["job"] == "scan")
    })
    .await;
    wait_until("the Slack hook's failure is logged", || {
        std::fs::read_to_string(&stderr)
            .unwrap_or_default()
            .contains("webhook failed 3 times")
    })
    .await;
    // Still alive, still scanning.
    assert!(child.try_wait().unwrap().is_none(), "the daemon goes on");
    let failures_before = got
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, b)| b["event"] == "failure")
        .count();
    wait_until("another scan fails and is told", || {
        got.lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| b["event"] == "failure")
            .count()
            > failures_before
    })
    .await;
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let log = std::fs::read_to_string(&stderr).unwrap();
    assert!(
        !log.contains("/slack"),
        "a webhook URL is never logged: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_listen_address_needs_listen_public_and_is_warned_about() {
    let sim = Sim::seed().await;
    let (hooks, _got) = receiver().await;
    let dir = scratch_dir("daemon_listen_public");
    let cfg = dir.join("pslwarden.toml");
    let public = DAEMON.replace("127.0.0.1:0", "0.0.0.0:0");
    let schedule = "[org.schedule]\nscan = \"* * * * * *\"\n";
    std::fs::write(&cfg, crate::apply::config_text(&sim, &public, schedule)).unwrap();
    let out = crate::support::pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "daemon"]);
    let (_, stderr) = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`daemon.listen`"), "{stderr}");
    assert!(stderr.contains("listen_public = true"), "{stderr}");
    assert!(stderr.contains("pslwarden.toml:"), "{stderr}");

    let opted_in = public.replace(
        "listen = \"0.0.0.0:0\"",
        "listen = \"0.0.0.0:0\"\nlisten_public = true",
    );
    std::fs::write(&cfg, crate::apply::config_text(&sim, &opted_in, schedule)).unwrap();
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;
    assert!(daemon.metrics.contains("0.0.0.0"), "{}", daemon.metrics);
    // A finished scan: the daemon is past its start and stops cleanly on SIGTERM.
    daemon
        .wait_for(
            "pslwarden_runs_total{org=\"sim\",kind=\"scan\",status=\"completed\"}",
            1.0,
        )
        .await;
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
    let warning = log
        .lines()
        .find(|l| l.contains("listen_public = true"))
        .unwrap_or_else(|| panic!("no warning about the public address:\n{log}"));
    assert!(warning.contains("WARN"), "{warning}");
}
