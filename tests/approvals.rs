//! Approvals end to end: `approve`, `approvals [revoke]`, `mode = "approved"` in `apply --yes` and
//! the daemon's apply job, and `apply --when-open`, with the rehearsal clock
//! (`PSLWARDEN_FAKE_CLOCK`) standing at the afternoon or inside the night window.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pslwarden::plan::Op;
use pslwarden::state::{ActionStatus, StateStore};
use serde_json::Value;
use sfsim::Org;

use crate::apply::{cli, config_text, outcome};
use crate::support::{Sim, scratch_dir};

const LICENSE_ASSIGNMENT: &str = "PermissionSetLicenseAssign";
const VOICE_PSL: &str = "ServiceCloudVoicePsl";

/// London weeknights 22:00–05:00; the daemon's apply job is configured (its tick is run by
/// `daemon --once`), no scan job.
const NIGHTS: &str = r#"
[org.window]
time_zone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "05:00"
crosses_midnight = true
cutoff_minutes = 15

[org.apply]
max_voice_user_share = 1.0

[org.schedule]
apply = "0 5 22 * * *"
"#;

/// Tuesday 2026-01-06 in London (GMT): 14:00, 15:00 (window closed) and 22:05 (open).
const AT_14: &str = "2026-01-06T14:00:00Z";
const AT_15: &str = "2026-01-06T15:00:00Z";
const AT_2205: &str = "2026-01-06T22:05:00Z";

/// An org where several users each hold a seat for nothing.
fn several_findings() -> Org {
    let g = sfsim::generate::generate(&sfsim::generate::GenerateOptions {
        users: 40,
        seed: 7,
        affected_fraction: 0.2,
        voice_calls: 0,
    });
    Org::from_fixture_str(&g.fixture.to_string(), Path::new(".")).expect("generated org loads")
}

/// The config of [`crate::apply::config`] with `mode`.
fn config(dir: &Path, sim: &Sim, mode: &str) -> PathBuf {
    let cfg = dir.join("pslwarden.toml");
    let text =
        config_text(sim, "", NIGHTS).replace("mode = \"apply\"", &format!("mode = \"{mode}\""));
    std::fs::write(&cfg, text).expect("write config");
    cfg
}

/// Scans and returns the report folder's plan.json path and its plan.
async fn scan(dir: &Path, cfg: &Path) -> (PathBuf, Value) {
    let (code, stdout, stderr) = outcome(&cli(dir, cfg, AT_14, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let org_dir = dir.join("reports/sim");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&org_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    let path = folders.pop().unwrap().join("plan.json");
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, plan)
}

/// (username, record id) of every seat the plan deletes.
fn seat_deletes(plan: &Value) -> Vec<(String, String)> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["op"] == "delete" && a["sobject"] == LICENSE_ASSIGNMENT)
        .map(|a| {
            (
                a["username"].as_str().unwrap().to_string(),
                a["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Ids of the seats (license assignments) the org holds.
fn seats(org: &Org) -> BTreeSet<String> {
    org.records(LICENSE_ASSIGNMENT)
        .iter()
        .filter_map(|r| r["Id"].as_str().map(str::to_string))
        .collect()
}

fn store(dir: &Path) -> StateStore {
    StateStore::open(&dir.join("state/pslwarden.sqlite")).expect("state store opens")
}

async fn approvals_json(dir: &Path, cfg: &Path, clock: &str) -> Vec<Value> {
    let (code, stdout, stderr) =
        outcome(&cli(dir, cfg, clock, &["approvals", "--format", "json"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("approvals JSON");
    v["approvals"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_at_14_is_not_applied_at_15_and_is_applied_at_22_05_minus_the_excluded_user() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_night");
    let cfg = config(&dir, &sim, "approved");
    let (plan_path, plan) = scan(&dir, &cfg).await;
    let deletes = seat_deletes(&plan);
    assert!(
        deletes.len() >= 2,
        "the test needs two seats to free: {deletes:?}"
    );
    let excluded = deletes[0].0.clone();

    let (code, stdout, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            AT_14,
            &[
                "approve",
                "--plan",
                plan_path.to_str().unwrap(),
                "--exclude-user",
                &excluded,
                "--by",
                "ana",
                "--yes",
            ],
        )
        .await,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Approval 1 recorded by ana"), "{stdout}");
    assert!(
        stdout.contains("the window next opens Tue 2026-01-06 22:00 GMT"),
        "the opening in London time: {stdout}"
    );

    // The 15:00 tick: the window is closed, nothing is read or written.
    let before = sim.sim.org.stats();
    let (code, _, stderr) = outcome(&cli(&dir, &cfg, AT_15, &["daemon", "--once"]).await);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("outside the window"), "{stderr}");
    assert_eq!(sim.sim.org.stats().write_calls, before.write_calls);
    assert_eq!(
        approvals_json(&dir, &cfg, AT_15).await[0]["status"],
        "pending"
    );

    // The 22:05 tick applies the approved fixes, and none of the excluded user's.
    let (code, _, stderr) = outcome(&cli(&dir, &cfg, AT_2205, &["daemon", "--once"]).await);
    assert_eq!(code, Some(0), "{stderr}");
    let left = seats(&sim.sim.org);
    for (username, id) in &deletes {
        if *username == excluded {
            assert!(left.contains(id), "the excluded user keeps seat {id}");
        } else {
            assert!(
                !left.contains(id),
                "{username}'s seat {id} is freed\n{stderr}"
            );
        }
    }

    let store = store(&dir);
    let run = store.approval(1).unwrap().unwrap().runs[0];
    let actions = store.run_actions(run).unwrap();
    assert!(actions.iter().all(|a| a.username != excluded));
    assert!(
        actions
            .iter()
            .all(|a| a.op != Op::Delete || a.status == ActionStatus::Done)
    );
    let listed = approvals_json(&dir, &cfg, AT_2205).await;
    assert_eq!(listed[0]["status"], "applied", "{listed:?}");
    assert_eq!(listed[0]["runs"][0], run);
    // The run's report names the approval.
    let report = std::fs::read_dir(dir.join("reports/sim"))
        .unwrap()
        .map(|e| e.unwrap().path().join("apply.json"))
        .find(|p| p.is_file())
        .expect("an apply report");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["approval"]["id"], 1);
    assert_eq!(report["approval"]["approved_by"], "ana");
    let (code, stdout, _) =
        outcome(&cli(&dir, &cfg, AT_2205, &["history", "--run", &run.to_string()]).await);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("Approval 1 by ana at 2026-01-06T14:00:00Z"),
        "{stdout}"
    );

    // A second night has nothing approved left: nothing changes.
    let before = sim.sim.org.stats();
    let (code, _, stderr) = outcome(&cli(&dir, &cfg, AT_2205, &["daemon", "--once"]).await);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("no pending, unexpired approval"),
        "{stderr}"
    );
    assert_eq!(sim.sim.org.stats().write_calls, before.write_calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_revoked_approvals_are_never_applied() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_expired_revoked");
    let cfg = config(&dir, &sim, "approved");
    scan(&dir, &cfg).await;
    let approve = |expires: &'static str| {
        let (dir, cfg) = (dir.clone(), cfg.clone());
        async move {
            let out = cli(
                &dir,
                &cfg,
                AT_14,
                &["approve", "--latest", "--expires", expires, "--yes"],
            )
            .await;
            let (code, stdout, stderr) = outcome(&out);
            assert_eq!(code, Some(0), "{stdout}\n{stderr}");
        }
    };
    approve("2h").await; // expires at 16:00, before the window opens
    approve("7d").await; // revoked below
    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, AT_14, &["approvals", "revoke", "2"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Approval 2 of org `sim` revoked"),
        "{stdout}"
    );
    let (code, _, stderr) = outcome(&cli(&dir, &cfg, AT_14, &["approvals", "revoke", "2"]).await);
    assert_eq!(code, Some(1), "revoked twice");
    assert!(
        stderr.contains("approval 2 is revoked, not pending"),
        "{stderr}"
    );

    let before = sim.sim.org.stats();
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AT_2205, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("no pending, unexpired approval"),
        "{stdout}"
    );
    assert_eq!(sim.sim.org.stats().write_calls, before.write_calls);
    let statuses: Vec<Value> = approvals_json(&dir, &cfg, AT_2205)
        .await
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(statuses, vec!["expired", "revoked"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_mode_without_an_approval_changes_nothing() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_none");
    let cfg = config(&dir, &sim, "approved");
    let before = seats(&sim.sim.org);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AT_2205, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("approve --org sim --latest"),
        "says how to approve: {stdout}"
    );
    assert_eq!(sim.sim.org.stats().write_calls, 0);
    assert_eq!(seats(&sim.sim.org), before);
    // A script asking for JSON gets one JSON document saying why no run started.
    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, AT_2205, &["apply", "--yes", "--format", "json"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(json["command"], "apply", "{json}");
    assert_eq!(json["status"], "no_approval", "{json}");
    assert!(json["run"].is_null(), "{json}");
    assert_eq!(sim.sim.org.stats().write_calls, 0);
    // A plan file is not a way around the approval.
    let (code, _, stderr) =
        outcome(&cli(&dir, &cfg, AT_2205, &["apply", "--yes", "--plan", "x.json"]).await);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("--plan is not used"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_open_waits_for_the_window_then_applies() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_when_open");
    let cfg = config(&dir, &sim, "apply");
    let used = sim.sim.org.used_licenses(VOICE_PSL).unwrap();
    // Two minutes before the opening; each reading of the rehearsal clock moves it 30 s.
    let (code, stdout, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            "2026-01-06T21:58:00Z,step=30s",
            &["apply", "--when-open", "--yes"],
        )
        .await,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("waiting for the window of org `sim`: it opens 2026-01-06T22:00:00+00:00"),
        "{stderr}"
    );
    assert!(stdout.contains("completed"), "{stdout}");
    assert!(
        sim.sim.org.used_licenses(VOICE_PSL).unwrap() < used,
        "seats freed: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_waiting_for_the_window_exits_0_having_changed_nothing() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_when_open_sigterm");
    let cfg = config(&dir, &sim, "apply");
    let stderr_path = dir.join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pslwarden"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "apply",
            "--when-open",
            "--yes",
        ])
        .current_dir(&dir)
        .env_remove("PSLWARDEN_CONFIG")
        .env("RUST_LOG", "pslwarden=info")
        .env("PSLWARDEN_FAKE_CLOCK", AT_14)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start pslwarden");
    let mut waited = 0;
    while !std::fs::read_to_string(&stderr_path)
        .unwrap_or_default()
        .contains("waiting for the window")
    {
        waited += 1;
        assert!(waited < 600, "never waited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("nothing was changed"), "{stdout}");
    let stats = sim.sim.org.stats();
    assert_eq!((stats.write_calls, stats.api_calls), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_open_checks_a_plan_file_before_waiting() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_when_open_bad_plan");
    let cfg = config(&dir, &sim, "apply");
    let (plan_path, mut plan) = scan(&dir, &cfg).await;
    plan["actions"][0]["facts"] = serde_json::json!([]);
    let edited = dir.join("edited.json");
    std::fs::write(&edited, plan.to_string()).unwrap();
    // The clock stands at 14:00: a wait would never end, so a refusal proves the check came first.
    let (code, _, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            AT_14,
            &[
                "apply",
                "--when-open",
                "--yes",
                "--plan",
                edited.to_str().unwrap(),
            ],
        )
        .await,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("waiting for the window"), "{stderr}");
    assert!(stderr.contains("edited.json"), "{stderr}");
    drop(plan_path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_cut_by_the_caps_continues_in_the_next_run_where_it_stopped() {
    let sim = Sim::with(several_findings()).await;
    let dir = scratch_dir("approvals_continue");
    let cfg = config(&dir, &sim, "approved");
    scan(&dir, &cfg).await;
    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, AT_14, &["approve", "--latest", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let (code, stdout, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            AT_2205,
            &["apply", "--yes", "--max-actions", "2"],
        )
        .await,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Approval 1 by"),
        "the report names it: {stdout}"
    );
    let listed = approvals_json(&dir, &cfg, AT_2205).await;
    assert_eq!(listed[0]["status"], "in_progress", "{listed:?}");
    // Started: no longer revocable.
    let (code, _, stderr) = outcome(&cli(&dir, &cfg, AT_2205, &["approvals", "revoke", "1"]).await);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("in_progress, not pending"), "{stderr}");

    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AT_2205, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("continuing plan 1"), "{stdout}");
    let listed = approvals_json(&dir, &cfg, AT_2205).await;
    assert_eq!(listed[0]["status"], "applied", "{listed:?}");
    assert_eq!(listed[0]["runs"], serde_json::json!([1, 2]));
    // Every step of the approved plan was decided exactly once.
    let store = store(&dir);
    let actions = store.plan_actions(1).unwrap();
    assert!(actions.iter().all(|a| a.status != ActionStatus::Planned));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_tells_webhooks_an_approval_is_needed_applied_or_expired() {
    let sim = Sim::with(several_findings()).await;
    let (hooks, got) = crate::daemon::receiver().await;
    let dir = scratch_dir("approvals_webhooks");
    let head = "[daemon]\nlisten = \"127.0.0.1:0\"\n\n[[daemon.webhook]]\nurl_env = \
                \"PSLWARDEN_TEST_WEBHOOK\"\nformat = \"json\"\nevents = [\"approval\"]\n";
    let tables = NIGHTS.replace(
        "[org.schedule]\n",
        "[org.schedule]\nscan = \"0 0 13 * * *\"\n",
    );
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        config_text(&sim, head, &tables).replace("mode = \"apply\"", "mode = \"approved\""),
    )
    .unwrap();
    let once = |clock: &'static str| {
        let (dir, cfg, hooks) = (dir.clone(), cfg.clone(), hooks.clone());
        async move {
            let out = tokio::task::spawn_blocking(move || {
                Command::new(env!("CARGO_BIN_EXE_pslwarden"))
                    .args(["--config", cfg.to_str().unwrap(), "daemon", "--once"])
                    .current_dir(&dir)
                    .env_remove("PSLWARDEN_CONFIG")
                    .env("RUST_LOG", "pslwarden=info")
                    .env("PSLWARDEN_FAKE_CLOCK", clock)
                    .env("PSLWARDEN_TEST_WEBHOOK", format!("{hooks}/json"))
                    .stdin(Stdio::null())
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            let (code, stdout, stderr) = outcome(&out);
            assert_eq!(code, Some(0), "{stdout}\n{stderr}");
        }
    };
    let events = || -> Vec<String> {
        got.lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body["event"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // The scan finds what needs approving (and the apply has nothing approved yet).
    once(AT_14).await;
    assert_eq!(events(), vec!["approval_needed"]);
    let needed = got.lock().unwrap()[0].1.clone();
    assert_eq!(
        needed["details"]["command"],
        "pslwarden approve --org sim --latest"
    );
    // One approval expires unapplied, the next is carried out.
    for expires in ["1h", "7d"] {
        let (code, stdout, stderr) = outcome(
            &cli(
                &dir,
                &cfg,
                AT_14,
                &["approve", "--latest", "--yes", "--expires", expires],
            )
            .await,
        );
        assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    }
    once(AT_2205).await;
    let all = events();
    assert!(all.contains(&"approval_expired".to_string()), "{all:?}");
    assert!(all.contains(&"approval_applied".to_string()), "{all:?}");
}
