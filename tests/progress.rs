//! What people see on stderr and in the terminal summary: the fetch's progress bar (labelled,
//! cleared, hidden off a terminal, under `--log-format json` and in the daemon), `NO_COLOR`, and
//! counts with thousands separators (only where people read them).
//!
//! A terminal is a pseudo-terminal made by util-linux's `script` (in every Debian, `bsdutils`),
//! which runs the real binary with stdout and stderr on the terminal and copies what it drew.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::scan::config_for;
use crate::support::{pslwarden, scratch_dir, text};

/// Runs `pslwarden args` on a pseudo-terminal in `dir`, with `env` set (and `NO_COLOR`,
/// `RUST_LOG`, `PSLWARDEN_CONFIG` unset unless given), and returns everything it drew.
fn at_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_pslwarden"))
        .chain(args.iter().copied())
        .map(|a| {
            assert!(!a.contains('\''), "no quote in test arguments: {a}");
            format!("'{a}'")
        })
        .collect();
    let mut command = Command::new("script");
    command
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .env_remove("PSLWARDEN_CONFIG")
        .env("TERM", "xterm");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command
        .output()
        .expect("util-linux `script` runs (Debian: bsdutils)");
    let drawn = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pslwarden {args:?} failed at a terminal: {drawn}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drawn
}

/// Whether `s` holds an ANSI colour sequence (SGR: `ESC [ digits;... m`). The cursor and
/// erase sequences a bar is redrawn with are not colour.
fn has_colour(s: &str) -> bool {
    s.match_indices("\u{1b}[").any(|(i, _)| {
        let rest = &s[i + 2..];
        let params = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        rest[params..].starts_with('m')
    })
}

fn seed_config(dir: &Path) -> PathBuf {
    config_for(dir, "seed-example.json", "")
}

#[test]
fn off_a_terminal_stderr_has_no_bar_and_no_redraw() {
    let dir = scratch_dir("progress-off-terminal");
    let cfg = seed_config(&dir);
    let out = pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "scan"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    for (name, s) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!s.contains('\u{1b}'), "escape code on {name}: {s:?}");
        assert!(!s.contains('\r'), "carriage return on {name}: {s:?}");
    }
    assert!(!stderr.contains("pages"), "a bar on stderr: {stderr}");
}

#[test]
fn at_a_terminal_the_fetch_is_labelled_and_cleared_when_done() {
    let dir = scratch_dir("progress-at-terminal");
    let cfg = seed_config(&dir);
    let drawn = at_terminal(&dir, &["--config", cfg.to_str().unwrap(), "scan"], &[]);
    // Labelled with the org and what is read (the first round reads the licenses first).
    assert!(
        drawn.contains("org `sim`: reading permission set"),
        "no labelled bar: {drawn:?}"
    );
    assert!(drawn.contains(" pages"), "{drawn:?}");
    // Cleared: after the last drawing of the bar its line is erased, and the summary follows.
    let last = drawn.rfind(" pages").expect("a bar");
    let after = &drawn[last..];
    let summary = after.find("Org `sim`").expect("the summary after the bar");
    assert!(
        after[..summary].contains("\u{1b}[2K"),
        "the bar is not cleared before the summary: {after:?}"
    );
    assert!(
        !drawn[last + summary..].contains(" pages"),
        "a bar after the summary"
    );
}

#[test]
fn no_color_removes_the_colour_at_a_terminal() {
    let dir = scratch_dir("progress-no-color");
    let cfg = seed_config(&dir);
    let args = ["--config", cfg.to_str().unwrap(), "scan"];
    let coloured = at_terminal(&dir, &args, &[]);
    assert!(
        has_colour(&coloured),
        "colour expected at a terminal: {coloured:?}"
    );
    // https://no-color.org: present and not empty disables colour; empty counts as unset.
    let plain = at_terminal(&dir, &args, &[("NO_COLOR", "1")]);
    assert!(!has_colour(&plain), "colour despite NO_COLOR=1: {plain:?}");
    assert!(
        plain.contains(" pages"),
        "NO_COLOR keeps the bar, only without colour"
    );
    let empty = at_terminal(&dir, &args, &[("NO_COLOR", "")]);
    assert!(has_colour(&empty), "an empty NO_COLOR is as if unset");
}

#[test]
fn json_logs_and_the_daemon_draw_no_bar_even_at_a_terminal() {
    let dir = scratch_dir("progress-json-daemon");
    let cfg = config_for(
        &dir,
        "seed-example.json",
        "[org.schedule]\nscan = \"0 0 3 * * *\"\n",
    );
    let cfg = cfg.to_str().unwrap();
    let json = at_terminal(
        &dir,
        &["--config", cfg, "--log-format", "json", "scan"],
        &[],
    );
    assert!(json.contains("Org `sim`"), "the scan ran: {json:?}");
    assert!(
        !json.contains(" pages"),
        "a bar between JSON log lines: {json:?}"
    );
    let daemon = at_terminal(&dir, &["--config", cfg, "daemon", "--once"], &[]);
    let reports = std::fs::read_dir(dir.join("reports/sim"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        reports >= 2,
        "the daemon's run scanned (one report from the json scan, one from it): {daemon:?}"
    );
    assert!(
        !daemon.contains(" pages"),
        "a bar in the daemon: {daemon:?}"
    );
}

/// The seed org with a license of 12,345 seats.
fn big_license_config(dir: &Path) -> PathBuf {
    let seed = crate::support::seed_fixture();
    let mut fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(&seed).expect("seed fixture")).unwrap();
    let license = fixture["PermissionSetLicense"]
        .as_array_mut()
        .expect("licenses")
        .iter_mut()
        .find(|l| l["DeveloperName"] == "ServiceCloudVoicePsl")
        .expect("the Voice license");
    license["TotalLicenses"] = 12_345.into();
    // The fixture names its key relative to its own folder; this copy lives elsewhere.
    let key = crate::support::repo_root().join("mocks/keys/demo-only-jwt-public.pem");
    fixture["_org"]["connected_app"]["jwt_public_key_file"] = key.to_str().unwrap().into();
    let path = dir.join("big-license.json");
    std::fs::write(&path, fixture.to_string()).expect("write fixture");
    config_for(dir, path.to_str().unwrap(), "")
}

#[test]
fn counts_have_separators_where_people_read_them_and_plain_digits_for_programs() {
    let dir = scratch_dir("progress-separators");
    let cfg = big_license_config(&dir);
    let cfg = cfg.to_str().unwrap();

    let out = pslwarden(&dir, &["--config", cfg, "scan"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("ServiceCloudVoicePsl "))
        .unwrap_or_else(|| panic!("the license's row: {stdout}"));
    // Total 12,345, used 2, free 12,343.
    assert!(
        row.contains("12,345") && row.contains("12,343"),
        "no separators in the summary table: {row}"
    );

    let folder = std::fs::read_dir(dir.join("reports/sim"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .expect("a report folder");
    let md = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(md.contains("| 12,345 |"), "no separators in report.md");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("report.json")).unwrap())
            .unwrap();
    let ledger = json["ledger"].as_array().expect("ledger");
    assert!(
        ledger.iter().any(|l| l["total"] == 12_345),
        "report.json keeps numbers as numbers"
    );
    for file in ["report.json", "report.csv"] {
        let body = std::fs::read_to_string(folder.join(file)).unwrap();
        assert!(!body.contains("12,345"), "{file} has a separator");
    }

    let table = pslwarden(&dir, &["--config", cfg, "licenses"]);
    let (stdout, _) = text(&table);
    assert!(stdout.contains("12,345"), "licenses table: {stdout}");
    let json = pslwarden(&dir, &["--config", cfg, "licenses", "--format", "json"]);
    let (stdout, _) = text(&json);
    assert!(
        stdout.contains("12345") && !stdout.contains("12,345"),
        "licenses JSON: {stdout}"
    );
}

#[test]
fn at_a_terminal_apply_labels_its_re_read_and_usage_its_calls() {
    let dir = scratch_dir("progress-apply-usage");
    let cfg = config_for(
        &dir,
        "seed-example.json",
        "\n[org.window]\nalways_open = true\n",
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen("name = \"sim\"\n", "name = \"sim\"\nmode = \"apply\"\n", 1),
    )
    .unwrap();
    let drawn = at_terminal(
        &dir,
        &["--config", cfg.to_str().unwrap(), "apply", "--yes"],
        &[],
    );
    assert!(drawn.contains("completed"), "{drawn:?}");
    // The scan before acting, then the re-read of the users the plan changes.
    assert!(drawn.contains("org `sim`: reading"), "{drawn:?}");
    assert!(
        drawn.contains("org `sim`, re-reading 1 user(s): reading"),
        "no bar for the re-read: {drawn:?}"
    );

    let dir = scratch_dir("progress-usage");
    let cfg = config_for(&dir, "voice-calls.json", "");
    let drawn = at_terminal(
        &dir,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "usage",
            "--month",
            "2026-01",
        ],
        &[],
    );
    assert!(
        drawn.contains("org `sim`: reading voice calls"),
        "no bar for usage: {drawn:?}"
    );
}

#[test]
fn at_a_terminal_the_when_open_countdown_is_a_spinner_cleared_when_the_window_opens() {
    let dir = scratch_dir("progress-when-open");
    let window = "\n[org.window]\ntime_zone = \"Europe/London\"\ndays = [\"tue\"]\nstart = \"22:00\"\nend = \
                  \"05:00\"\ncrosses_midnight = true\n";
    let cfg = config_for(&dir, "seed-example.json", window);
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen("name = \"sim\"\n", "name = \"sim\"\nmode = \"apply\"\n", 1),
    )
    .unwrap();
    // A minute before the opening; each reading of the rehearsal clock moves it 30 s.
    let drawn = at_terminal(
        &dir,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "apply",
            "--when-open",
            "--yes",
        ],
        &[("PSLWARDEN_FAKE_CLOCK", "2026-01-06T21:59:00Z,step=30s")],
    );
    let waiting = drawn
        .find("waiting for the window of org `sim`: opens")
        .unwrap_or_else(|| panic!("no countdown: {drawn:?}"));
    let opened = drawn.find("applying").expect("the window opened");
    assert!(waiting < opened, "{drawn:?}");
    assert!(
        drawn[waiting..opened].contains("\u{1b}[2K"),
        "the countdown's line is cleared before the apply goes on: {drawn:?}"
    );
    assert!(drawn.contains("completed"), "{drawn:?}");
}
