//! The real `pslwarden` binary, end to end over HTTP against the simulated org.

use crate::support::rogue::{Reply, Rogue};
use crate::support::{pslwarden, repo_root, scratch_dir, text};

fn seat(licenses: &serde_json::Value, psl: &str) -> (i64, i64) {
    let l = licenses["licenses"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["psl"] == psl))
        .unwrap_or_else(|| panic!("{psl} missing from {licenses}"));
    (
        l["total"].as_i64().expect("total"),
        l["used"].as_i64().expect("used"),
    )
}

#[test]
fn licenses_with_no_config_shows_the_seed_orgs_seats() {
    // An empty working directory: no config/pslwarden.toml, so the built-in simulated org is used.
    let dir = scratch_dir("licenses_no_config");
    let out = pslwarden(&dir, &["licenses", "--format", "json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(seat(&json, "ServiceCloudVoicePsl"), (2, 2));
    assert_eq!(seat(&json, "ServiceCloudVoiceExternalTelephonyPsl"), (1, 1));
}

#[test]
fn licenses_with_the_repo_config_uses_the_fixture_file() {
    let out = pslwarden(repo_root(), &["licenses"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("ServiceCloudVoicePsl "))
        .unwrap_or_else(|| panic!("no ServiceCloudVoicePsl row in:\n{stdout}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    // PSL, label words..., total, used, free, status
    assert_eq!(
        &cells[cells.len() - 4..],
        &["2", "2", "0", "Active"],
        "{line}"
    );
}

#[test]
fn doctor_signs_in_and_names_org_user_and_usage() {
    let dir = scratch_dir("doctor");
    let out = pslwarden(&dir, &["doctor"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("00D5g000004SeedEAC"), "{stdout}");
    assert!(
        stdout.contains("pslwarden.integration@seed-example.org"),
        "{stdout}"
    );
    assert!(stdout.contains("v65.0"), "{stdout}");
    assert!(stdout.contains("daily requests used"), "{stdout}");
    assert!(stdout.contains("simulated"), "{stdout}");
}

#[test]
fn verbose_logs_never_show_the_private_key_or_token() {
    let dir = scratch_dir("doctor_verbose");
    let out = pslwarden(&dir, &["-vv", "doctor"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let key = std::fs::read_to_string(repo_root().join("mocks/keys/demo-only-jwt-private.pem"))
        .expect("demo key");
    let key_body = key.lines().nth(1).expect("key body line");
    for output in [&stdout, &stderr] {
        assert!(!output.contains(key_body), "private key leaked");
        assert!(!output.contains("demo-only-client-secret"));
        // Salesforce access tokens (and the simulator's) look like `<org id>!AQ...`.
        assert!(!output.contains("!AQ"), "access token leaked:\n{output}");
    }
}

#[test]
fn a_bad_config_fails_at_start_naming_file_line_and_key() {
    let dir = scratch_dir("bad_config");
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        "[[org]]\nname = \"prod\"\n[org.auth]\nflow = \"jwt\"\nlogin_url = \"login.salesforce.com\"\n\
         consumer_key = \"k\"\nusername = \"u\"\nprivate_key_env = \"K\"\n",
    )
    .expect("write config");
    let out = pslwarden(&dir, &["--config", cfg.to_str().expect("utf8"), "doctor"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.toml:5:"), "{stderr}");
    assert!(stderr.contains("login_url"), "{stderr}");
}

#[test]
fn a_usage_error_exits_1_not_2() {
    let out = pslwarden(repo_root(), &["licenses", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_example_config_parses() {
    let settings = pslwarden::config::Settings::from_file(&repo_root().join("config/example.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = settings.orgs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["prod", "emea", "uat", "dev"]);
}

#[test]
fn client_credentials_on_a_shared_login_server_fails_at_start_with_the_fix() {
    let dir = scratch_dir("cc_login_host");
    let cfg = dir.join("cc.toml");
    std::fs::write(
        &cfg,
        "[[org]]\nname = \"emea\"\n[org.auth]\nflow = \"client_credentials\"\n\
         login_url = \"https://test.salesforce.com\"\nclient_id = \"3MVG9abc\"\n\
         client_secret_env = \"CC_SECRET\"\n",
    )
    .expect("write config");
    let out = pslwarden(&dir, &["--config", cfg.to_str().expect("utf8"), "doctor"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cc.toml:5: `org[emea].auth.login_url`"),
        "{stderr}"
    );
    assert!(stderr.contains("My Domain URL"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_stops_the_binary_at_the_configured_size_limit() {
    let rogue = Rogue::start(|_| Reply::Endless).await;
    let dir = scratch_dir("endless_answer");
    let cfg = dir.join("rogue.toml");
    std::fs::write(
        &cfg,
        format!(
            "[defaults.http]\nmax_response_mib = 2\nmax_attempts = 1\n[[org]]\nname = \"rogue\"\n\
             [org.auth]\nflow = \"access_token\"\ninstance_url = \"{}\"\n\
             access_token_env = \"ROGUE_TOKEN\"\n",
            rogue.url
        ),
    )
    .expect("write config");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pslwarden"))
            .args(["--config", cfg.to_str().expect("utf8"), "doctor"])
            .current_dir(&dir)
            .env_remove("PSLWARDEN_CONFIG")
            .env_remove("RUST_LOG")
            .env("ROGUE_TOKEN", "00Dx!AQready")
            .output()
            .expect("run pslwarden")
    })
    .await
    .expect("joined");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("GET /services/data/v65.0/ was too large"),
        "{stderr}"
    );
    assert!(stderr.contains("limit of 2 MiB"), "{stderr}");
    assert!(stderr.contains("max_response_mib"), "{stderr}");
}
