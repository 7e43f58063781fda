//! `flow = "sf_cli"` end to end: the real binary takes the session of a stand-in `sf` program
//! (a shell script first on PATH that prints `sf org display --json` answers holding tokens the
//! test got from its simulator), re-runs it when the session expires, and explains an unknown
//! alias or a missing `sf`. No network call beyond loopback.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use sfsim::Faults;

use crate::support::{Sim, scratch_dir, sign_in, text};

/// The alias the stand-in CLI knows.
pub(crate) const ALIAS: &str = "myorg";

/// Writes `dir/bin/sf`: logs its arguments to `dir/bin/calls.log`, answers an unknown alias with
/// the CLI's `NamedOrgNotFound` error, else the Nth call with the Nth token of `dir/bin/tokenN`.
pub(crate) fn fake_sf(dir: &Path, instance_url: &str, tokens: &[String]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for (i, token) in tokens.iter().enumerate() {
        std::fs::write(bin.join(format!("token{}", i + 1)), token).expect("token file");
    }
    let script = format!(
        r#"#!/bin/sh
here="$(dirname "$0")"
echo "$*" >> "$here/calls.log"
if [ "$4" != "{ALIAS}" ]; then
  printf '%s\n' '{{"status":1,"name":"NamedOrgNotFound","message":"No authorization information found for '"$4"'.","exitCode":1}}'
  exit 1
fi
n=$(wc -l < "$here/calls.log" | tr -d ' ')
tok=$(cat "$here/token$n")
printf '{{"status":0,"result":{{"id":"00D000000000001AAA","accessToken":"%s","instanceUrl":"{instance_url}","username":"integration@example.org","connectedStatus":"Connected"}},"warnings":["This command will expose sensitive information."]}}\n' "$tok"
"#
    );
    let path = bin.join("sf");
    std::fs::write(&path, script).expect("write fake sf");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// A config with one org signing in through the sf CLI.
fn config(dir: &Path, target_org: &str) -> PathBuf {
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nreports_dir = \"reports\"\n\n[[org]]\nname = \"cli\"\n\n[org.auth]\n\
             flow = \"sf_cli\"\ntarget_org = \"{target_org}\"\n"
        ),
    )
    .expect("write config");
    cfg
}

/// Runs the binary with `path` as its whole PATH.
pub(crate) async fn run(dir: &Path, cfg: &Path, path: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "--config".to_string(),
        cfg.to_str().expect("utf8").to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    let (dir, path) = (dir.to_path_buf(), path.to_path_buf());
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pslwarden"))
            .args(&all)
            .current_dir(&dir)
            .env_remove("PSLWARDEN_CONFIG")
            .env_remove("RUST_LOG")
            .env("PATH", format!("{}:/usr/bin:/bin", path.display()))
            .output()
            .expect("run pslwarden")
    })
    .await
    .expect("joined")
}

/// Fresh tokens from the simulator, one per expected `sf` run.
pub(crate) async fn tokens(sim: &Sim, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(sign_in(&sim.http, &sim.sim.url).await);
    }
    out
}

fn calls(bin: &Path) -> Vec<String> {
    std::fs::read_to_string(bin.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sf_cli_session_signs_in_and_is_taken_again_after_it_expires() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("sfcli_signs_in");
    let tokens = tokens(&sim, 40).await;
    let bin = fake_sf(&dir, &sim.sim.url, &tokens);
    let cfg = config(&dir, ALIAS);
    sim.sim.org.set_faults(Faults {
        expire_session_every: Some(3),
        ..Faults::default()
    });
    let out = run(&dir, &cfg, &bin, &["scan"]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let expired = sim
        .sim
        .org
        .stats()
        .faults_injected
        .get("session_expired")
        .copied()
        .unwrap_or(0);
    assert!(expired > 0, "the test needs the session to expire");
    let calls = calls(&bin);
    assert!(
        calls.len() as u64 > expired,
        "sf ran once to sign in and again after each of {expired} expiries: {calls:?}"
    );
    assert!(
        calls
            .iter()
            .all(|c| c == "org display --target-org myorg --json"),
        "{calls:?}"
    );
    for token in &tokens {
        assert!(!stdout.contains(token.as_str()) && !stderr.contains(token.as_str()));
    }
    assert!(dir.join("reports/cli").is_dir(), "{stdout}");
    sim.sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_the_sf_cli_does_not_know_is_a_clear_error() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("sfcli_unknown_alias");
    let bin = fake_sf(&dir, &sim.sim.url, &tokens(&sim, 1).await);
    let cfg = config(&dir, "prod-typo");
    let out = run(&dir, &cfg, &bin, &["doctor"]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("NamedOrgNotFound"), "{stderr}");
    assert!(
        stderr.contains("No authorization information found for prod-typo"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sf org login web --alias prod-typo"),
        "{stderr}"
    );
    sim.sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_sf_program_says_to_install_it_or_set_sf_path() {
    let dir = scratch_dir("sfcli_missing");
    let empty = dir.join("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");
    let cfg = config(&dir, ALIAS);
    let out = run(&dir, &cfg, &empty, &["doctor"]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the Salesforce CLI program `sf` could not be run"),
        "{stderr}"
    );
    assert!(stderr.contains("not installed or not on PATH"), "{stderr}");
    assert!(stderr.contains("sf_path"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sf_path_runs_that_program_when_sf_is_not_on_path() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("sfcli_sf_path");
    fake_sf(&dir, &sim.sim.url, &tokens(&sim, 2).await);
    let cfg = config(&dir, ALIAS);
    let mut text_cfg = std::fs::read_to_string(&cfg).expect("read");
    // Relative to the config file's folder, like every path in the config.
    text_cfg.push_str("sf_path = \"bin/sf\"\n");
    std::fs::write(&cfg, text_cfg).expect("write");
    let empty = dir.join("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = run(&dir, &cfg, &empty, &["doctor"]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(calls(&dir.join("bin")).len(), 1);
    sim.sim.stop().await;
}
