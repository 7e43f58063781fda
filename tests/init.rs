//! `pslwarden init` end to end: the real binary writes an `[[org]]` block from flags, the
//! config loader and `window` / `doctor` accept it, an existing config keeps every byte, and
//! bad answers (duplicate name, unknown time zone, an inline secret) write nothing.

use std::path::Path;

use crate::sfcli::{ALIAS, fake_sf, run, tokens};
use crate::support::{Sim, pslwarden, scratch_dir, text};

/// Runs `pslwarden --config <cfg> init <args>` (stdin is not a terminal: flags only).
fn init(dir: &Path, cfg: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["--config", cfg.to_str().expect("utf8"), "init"];
    all.extend_from_slice(args);
    let out = pslwarden(dir, &all);
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

const JWT_FLAGS: &[&str] = &[
    "--org-name",
    "prod",
    "--flow",
    "jwt",
    "--login-url",
    "https://login.salesforce.com",
    "--client-id",
    "3MVG9exampleConsumerKey",
    "--username",
    "pslwarden@example.com",
    "--key-file",
    "keys/prod-jwt.key",
    "--time-zone",
    "Europe/London",
    "--days",
    "mon,tue,wed,thu,fri",
    "--window-start",
    "22:00",
    "--window-end",
    "05:00",
    "--yes",
];

#[test]
fn init_writes_a_config_the_loader_and_window_accept() {
    let dir = scratch_dir("init_new_config");
    let cfg = dir.join("config/pslwarden.toml");
    let (code, stdout, stderr) = init(&dir, &cfg, JWT_FLAGS);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Created"), "{stdout}");
    let settings = pslwarden::config::Settings::from_file(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let org = settings.org(Some("prod")).expect("org prod");
    assert_eq!(org.mode, pslwarden::config::Mode::DryRun);
    let written = std::fs::read_to_string(&cfg).expect("read");
    assert!(
        written.contains("private_key_file = \"keys/prod-jwt.key\""),
        "{written}"
    );
    let out = pslwarden(
        &dir,
        &[
            "--config",
            cfg.to_str().expect("utf8"),
            "window",
            "--org",
            "prod",
            "--at",
            "2026-03-11T23:00:00Z",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("open"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sf_cli_org_from_init_passes_doctor() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("init_sf_cli_doctor");
    let bin = fake_sf(&dir, &sim.sim.url, &tokens(&sim, 2).await);
    let cfg = dir.join("pslwarden.toml");
    let (code, stdout, stderr) = init(
        &dir,
        &cfg,
        &[
            "--org-name",
            "cli",
            "--flow",
            "sf_cli",
            "--target-org",
            ALIAS,
            "--time-zone",
            "America/New_York",
            "--yes",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let out = run(&dir, &cfg, &bin, &["doctor", "--org", "cli"]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("pslwarden.integration@seed-example.org"),
        "{stdout}"
    );
    sim.sim.stop().await;
}

/// An existing config with comments, odd spacing and no final newline.
const EXISTING: &str = "# our pslwarden config -- keep these notes\n[defaults]\n\
    reports_dir  =  \"reports\"   # local\n\n[[org]]\nname = \"uat\"\n[org.auth]\n\
    flow = \"access_token\"\ninstance_url = \"https://acme--uat.sandbox.my.salesforce.com\"\n\
    access_token_env = \"UAT_TOKEN\"";

#[test]
fn init_appends_to_an_existing_config_without_touching_its_bytes() {
    let dir = scratch_dir("init_existing_config");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, EXISTING).expect("write");
    let (code, stdout, stderr) = init(&dir, &cfg, JWT_FLAGS);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let written = std::fs::read_to_string(&cfg).expect("read");
    assert!(written.starts_with(EXISTING), "{written}");
    let settings = pslwarden::config::Settings::from_file(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = settings.orgs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["uat", "prod"]);
}

#[test]
fn a_duplicate_org_name_is_refused_and_nothing_is_written() {
    let dir = scratch_dir("init_duplicate");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, EXISTING).expect("write");
    let mut flags = JWT_FLAGS.to_vec();
    flags[1] = "uat";
    let (code, stdout, stderr) = init(&dir, &cfg, &flags);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("already named `uat`"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&cfg).expect("read"), EXISTING);
}

#[test]
fn an_unknown_time_zone_is_refused_with_the_iana_hint() {
    let dir = scratch_dir("init_bad_zone");
    let cfg = dir.join("pslwarden.toml");
    let mut flags = JWT_FLAGS.to_vec();
    flags[13] = "Europe/Londn";
    let (code, stdout, stderr) = init(&dir, &cfg, &flags);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("--time-zone"), "{stderr}");
    assert!(stderr.contains("IANA"), "{stderr}");
    assert!(
        stderr.contains("did you mean \"Europe/London\""),
        "{stderr}"
    );
    assert!(!cfg.exists(), "nothing may be written");
}

#[test]
fn an_inline_secret_is_refused_and_never_echoed() {
    let dir = scratch_dir("init_inline_secret");
    let cfg = dir.join("pslwarden.toml");
    let mut flags = JWT_FLAGS.to_vec();
    flags.extend_from_slice(&["--secret", "hunter2-consumer-secret"]);
    let (code, stdout, stderr) = init(&dir, &cfg, &flags);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("never writes a secret"), "{stderr}");
    assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"));
    assert!(!cfg.exists(), "nothing may be written");
}
