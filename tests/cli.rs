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

// ---- No silent demo (issue 13) ---------------------------------------------------------------

/// Runs the binary in `cwd` with `PSLWARDEN_CONFIG` set to `config`.
fn pslwarden_with_env_config(
    cwd: &std::path::Path,
    config: &str,
    args: &[&str],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pslwarden"))
        .args(args)
        .current_dir(cwd)
        .env("PSLWARDEN_CONFIG", config)
        .env_remove("RUST_LOG")
        .output()
        .expect("run pslwarden")
}

/// The only report folder under `dir/reports/<org>/`.
fn only_report_dir(dir: &std::path::Path, org: &str) -> std::path::PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir(dir.join("reports").join(org))
        .expect("reports/<org> exists")
        .map(|e| e.expect("dir entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

#[test]
fn the_builtin_demo_says_so_and_marks_every_report_and_the_apply_output() {
    let dir = scratch_dir("demo_marked");
    let out = pslwarden(&dir, &["apply", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.contains("built-in simulated org"), "{stderr}");
    assert!(
        first.contains("--config"),
        "how to use a real org: {stderr}"
    );
    assert!(stdout.starts_with("SIMULATED ORG"), "{stdout}");
    let run = only_report_dir(&dir, "seed-demo");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("report.json")).expect("report.json"))
            .expect("JSON");
    assert_eq!(report["org"]["simulated"], true, "{}", report["org"]);
    let apply: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("apply.json")).expect("apply.json"))
            .expect("JSON");
    assert_eq!(apply["simulated"], true);
    for file in ["report.md", "report.html", "apply.md"] {
        let body = std::fs::read_to_string(run.join(file)).expect("report file");
        assert!(
            body.contains("SIMULATED ORG"),
            "{file} is not marked:\n{body}"
        );
    }
}

#[test]
fn every_command_on_the_demo_says_so_on_stderr() {
    let dir = scratch_dir("demo_every_command");
    for args in [
        &["doctor"][..],
        &["licenses"],
        &["window"],
        &["history"],
        &["scan"],
    ] {
        let out = pslwarden(&dir, args);
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        assert!(
            stderr.contains("built-in simulated org"),
            "{args:?} ran on the demo silently: {stderr}"
        );
        if args == ["scan"] {
            assert!(stdout.starts_with("SIMULATED ORG"), "{stdout}");
        }
    }
}

#[test]
fn an_org_the_demo_does_not_have_is_an_error_not_the_demo() {
    let dir = scratch_dir("demo_unknown_org");
    let out = pslwarden(&dir, &["scan", "--org", "prod"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("`prod`"), "{stderr}");
    assert!(stderr.contains("no config file"), "{stderr}");
    assert!(stderr.contains("--config"), "{stderr}");
    assert!(
        !dir.join("reports").exists(),
        "the demo was scanned instead"
    );
}

#[test]
fn pslwarden_config_naming_a_missing_file_fails_instead_of_using_the_demo() {
    let dir = scratch_dir("env_config_missing");
    for value in ["missing.toml", ""] {
        let out = pslwarden_with_env_config(&dir, value, &["scan"]);
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{value:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        assert!(stderr.contains("PSLWARDEN_CONFIG"), "{stderr}");
        assert!(
            !stderr.contains("built-in simulated org `seed-demo` ("),
            "{stderr}"
        );
        assert!(
            !dir.join("reports").exists(),
            "the demo was scanned instead"
        );
    }
}

#[test]
fn a_simulated_org_in_a_real_config_is_marked_simulated() {
    let dir = scratch_dir("config_simulated_org");
    let root = repo_root();
    let config = dir.join("sim.toml");
    std::fs::write(
        &config,
        format!(
            "[defaults]\nreports_dir = \"reports\"\nstate_path = \"state/s.sqlite\"\n\n\
             [[org]]\nname = \"staging\"\nmode = \"apply\"\n\
             [org.simulator]\nfixture = {fixture:?}\n\
             [org.auth]\nflow = \"jwt\"\n\
             consumer_key = \"3MVG9demoOnlyConsumerKeyForTheSimulatedOrg\"\n\
             username = \"pslwarden.integration@seed-example.org\"\n\
             private_key_file = {key:?}\n\
             [org.window]\nalways_open = true\n",
            fixture = root.join("mocks/fixtures/seed-example.json"),
            key = root.join("mocks/keys/demo-only-jwt-private.pem"),
        ),
    )
    .expect("write config");
    let out = pslwarden(&dir, &["--config", "sim.toml", "scan"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("`staging`"), "{stderr}");
    assert!(stderr.contains("simulated org"), "{stderr}");
    assert!(stderr.contains("sim.toml"), "{stderr}");
    let run = only_report_dir(&dir, "staging");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("report.json")).expect("report.json"))
            .expect("JSON");
    assert_eq!(report["org"]["simulated"], true);
    let md = std::fs::read_to_string(run.join("report.md")).expect("report.md");
    assert!(md.contains("SIMULATED ORG"), "{md}");
}

// ---- Every command speaks JSON for scripts (issue 13) ----------------------------------------

/// stdout parsed as one JSON document, with the command's output envelope checked.
fn envelope(out: &std::process::Output, command: &str) -> serde_json::Value {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{command}: stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(json["schema_version"], 1, "{json}");
    assert_eq!(json["command"], command, "{json}");
    json
}

#[test]
fn scan_doctor_apply_and_rollback_print_json_for_scripts() {
    let dir = scratch_dir("json_everywhere");
    let scan = envelope(&pslwarden(&dir, &["scan", "--format", "json"]), "scan");
    assert_eq!(scan["report"]["schema_version"], 3);
    assert_eq!(scan["report"]["findings"].as_array().map(Vec::len), Some(1));
    let report_json = dir.join(scan["files"]["json"].as_str().expect("files.json"));
    assert!(report_json.is_file(), "{}", report_json.display());

    let doctor = envelope(&pslwarden(&dir, &["doctor", "--format", "json"]), "doctor");
    assert_eq!(doctor["doctor"]["org_id"], "00D5g000004SeedEAC");
    assert_eq!(doctor["doctor"]["simulated"], true);

    let apply = envelope(
        &pslwarden(&dir, &["apply", "--yes", "--format", "json"]),
        "apply",
    );
    assert_eq!(apply["run"]["status"], "completed", "{apply}");
    assert_eq!(apply["run"]["kind"], "apply");
    assert!(
        dir.join(apply["report_dir"].as_str().expect("dir"))
            .join("apply.json")
            .is_file()
    );
    let run = apply["run"]["run_id"].as_i64().expect("run id").to_string();

    let rollback = envelope(
        &pslwarden(
            &dir,
            &["rollback", "--run", &run, "--yes", "--format", "json"],
        ),
        "rollback",
    );
    assert_eq!(rollback["run"]["kind"], "rollback", "{rollback}");
}

#[test]
fn with_json_logs_the_final_error_is_a_json_line_too() {
    let dir = scratch_dir("json_final_error");
    let out = pslwarden(&dir, &["--log-format", "json", "scan", "--org", "prod"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let last = lines.last().expect("an error line");
    assert_eq!(last["level"], "ERROR", "{last}");
    assert_eq!(last["fields"]["exit_code"], 1, "{last}");
    let message = last["fields"]["message"].as_str().expect("message");
    assert!(message.contains("`prod`"), "{message}");
}

#[test]
fn with_json_logs_the_demo_notice_is_a_json_line() {
    let dir = scratch_dir("json_demo_notice");
    let out = pslwarden(
        &dir,
        &["--log-format", "json", "licenses", "--format", "json"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let first: serde_json::Value = serde_json::from_str(stderr.lines().next().expect("a line"))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    assert_eq!(first["level"], "WARN", "{first}");
    let message = first["fields"]["message"].as_str().expect("message");
    assert!(message.contains("built-in simulated org"), "{message}");
}

// ---- Files with org data are private (issue 13) ----------------------------------------------

#[test]
fn the_state_store_lock_files_and_reports_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = scratch_dir("private_files");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pslwarden"));
    cmd.args(["apply", "--yes"])
        .current_dir(&dir)
        .env_remove("PSLWARDEN_CONFIG")
        .env_remove("RUST_LOG");
    // SAFETY: umask(2) is async-signal-safe and only changes the child's own mask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let out = cmd.output().expect("run pslwarden");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let mut checked = 0;
    let mut walk = vec![dir.join("state"), dir.join("reports")];
    while let Some(path) = walk.pop() {
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
            walk.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        checked += 1;
    }
    assert!(dir.join("state/pslwarden.sqlite").is_file());
    assert!(dir.join("state/pslwarden.sqlite.seed-demo.lock").is_file());
    // state/, the store, the lock; reports/, the org, the run, its eight files.
    assert!(checked >= 14, "only {checked} paths");
}

#[test]
fn with_json_logs_a_usage_error_is_a_json_line_too() {
    let out = pslwarden(
        repo_root(),
        &["--log-format", "json", "licenses", "--format", "yaml"],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stderr.trim())
        .unwrap_or_else(|e| panic!("not one JSON line ({e}): {stderr}"));
    assert_eq!(line["level"], "ERROR");
    let message = line["fields"]["message"].as_str().expect("message");
    assert!(message.contains("yaml"), "{message}");
}

/// The deployment files build the production binary and run it the way their comments say: the
/// Docker build context leaves out build output, run data and history; the image is built
/// without the built-in demo org and exposes the daemon's default port; the systemd units start
/// without a secrets file and point at documentation the repository ships.
#[test]
fn the_deployment_files_build_for_production() {
    let root = repo_root();
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let ignore = read(".dockerignore");
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for entry in ["target/", "reports/", "state/", ".git"] {
        assert!(
            ignored.contains(&entry),
            "{entry} missing from .dockerignore"
        );
    }

    let dockerfile = read("config/deploy/Dockerfile");
    let build = dockerfile
        .lines()
        .find(|l| l.starts_with("RUN cargo build"))
        .expect("a cargo build step");
    assert!(
        build.contains("--no-default-features") && build.contains("--locked"),
        "{build}"
    );
    let port = pslwarden::config::DEFAULT_LISTEN
        .rsplit(':')
        .next()
        .unwrap();
    assert!(
        dockerfile
            .lines()
            .any(|l| l.trim() == format!("EXPOSE {port}")),
        "EXPOSE {port} missing from the Dockerfile"
    );

    for unit in ["pslwarden.service", "pslwarden-once.service"] {
        let text = read(&format!("config/deploy/{unit}"));
        let env_files: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("EnvironmentFile="))
            .collect();
        assert!(
            !env_files.is_empty() && env_files.iter().all(|f| f.starts_with('-')),
            "{unit}: EnvironmentFile must be optional (`-`): {env_files:?}"
        );
        let docs: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("Documentation=file:///usr/share/doc/pslwarden/"))
            .collect();
        assert!(!docs.is_empty(), "{unit}: no Documentation=");
        for doc in docs {
            // The install step copies README.md and docs/*.md flat into /usr/share/doc/pslwarden.
            assert!(
                root.join(doc).is_file() || root.join("docs").join(doc).is_file(),
                "{unit}: Documentation= names {doc}, which the repository does not have"
            );
        }
    }
}
