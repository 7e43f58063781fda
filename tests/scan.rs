//! `pslwarden scan` end to end: the real binary, the simulated org over HTTP, the report files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{pslwarden, repo_root, scratch_dir, text};

/// A config for the simulated org loaded from `fixture`, reports under `dir/reports`, with extra
/// TOML appended to the org block (e.g. `[org.rules]`).
pub(crate) fn config_for(dir: &Path, fixture: &str, extra: &str) -> PathBuf {
    let root = repo_root();
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[defaults]
reports_dir = "reports"

[[org]]
name = "sim"

[org.simulator]
fixture = "{fixture}"

[org.auth]
flow = "jwt"
consumer_key = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg"
username = "pslwarden.integration@seed-example.org"
private_key_file = "{key}"
{extra}
"#,
            fixture = root.join("mocks/fixtures").join(fixture).display(),
            key = root.join("mocks/keys/demo-only-jwt-private.pem").display(),
        ),
    )
    .expect("write config");
    cfg
}

/// Runs `scan --detailed-exitcode` and returns (exit code, stdout, stderr).
fn scan(dir: &Path, cfg: &Path, more: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec![
        "--config",
        cfg.to_str().expect("utf8 path"),
        "scan",
        "--detailed-exitcode",
    ];
    args.extend_from_slice(more);
    let out = pslwarden(dir, &args);
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

/// The one report folder written under `dir/reports/sim`.
fn report_dir(dir: &Path) -> PathBuf {
    let base = dir.join("reports/sim");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("no reports in {}: {e}", base.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    runs.sort();
    runs.pop().expect("a report folder")
}

fn report_json(dir: &Path) -> Value {
    let path = report_dir(dir).join("report.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("report.json")).expect("JSON")
}

fn findings(report: &Value) -> Vec<(String, String, bool)> {
    report["findings"]
        .as_array()
        .expect("findings[]")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["username"].as_str().expect("username").to_string(),
                f["user_active"].as_bool().expect("user_active"),
            )
        })
        .collect()
}

fn ledger_row<'a>(report: &'a Value, psl: &str) -> &'a Value {
    report["ledger"]
        .as_array()
        .expect("ledger[]")
        .iter()
        .find(|l| l["psl"] == psl)
        .unwrap_or_else(|| panic!("no ledger row for {psl}"))
}

#[test]
fn the_seed_example_finds_only_user_2_and_one_recoverable_seat() {
    let dir = scratch_dir("scan_seed");
    let cfg = config_for(&dir, "seed-example.json", "");
    let (code, stdout, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "findings → exit 2\n{stdout}\n{stderr}");
    let report = report_json(&dir);
    assert_eq!(report["org"]["affected"], true);
    assert_eq!(
        findings(&report),
        [(
            "scv-double-consumption".to_string(),
            "user2@seed-example.org".to_string(),
            true
        )]
    );
    assert_eq!(report["findings"][0]["psl"], "ServiceCloudVoicePsl");
    assert_eq!(report["findings"][0]["recoverable_seats"], 1);
    let scv = ledger_row(&report, "ServiceCloudVoicePsl");
    assert_eq!(
        (scv["total"].as_u64(), scv["used"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(scv["recoverable"], 1);
    // The what-if: after the fix, one more user (User-3) can be given Contact Center Agent.
    assert_eq!(scv["assignable_after_fix"], 1);
    let actions: Vec<(String, String, String)> = report["plan"]["actions"]
        .as_array()
        .expect("plan.actions[]")
        .iter()
        .map(|a| {
            (
                a["op"].as_str().expect("op").to_string(),
                a["sobject"].as_str().expect("sobject").to_string(),
                a["id"].as_str().expect("id").to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (
                "delete".to_string(),
                "PermissionSetAssignment".to_string(),
                "0Pa000000000008CAA".to_string()
            ),
            (
                "delete".to_string(),
                "PermissionSetLicenseAssign".to_string(),
                "2LA000000000003GAA".to_string()
            ),
        ]
    );
    assert!(stdout.contains("user2@seed-example.org"), "{stdout}");
    assert!(stdout.contains("report.html"), "{stdout}");
    // Nine small queries, five per composite call: two API calls is the minimum possible; and
    // one describe, which finds that the org has no Natterbox package.
    assert_eq!(report["api"]["calls"], 3);
    let natterbox = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "natterbox")
        .expect("the Natterbox pack ran");
    assert_eq!(natterbox["status"], "not_applicable");
    assert!(
        natterbox["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("skipped: the org has no nbavs__User__c object"),
        "{natterbox}"
    );
}

#[test]
fn the_report_folder_holds_every_format() {
    let dir = scratch_dir("scan_files");
    let cfg = config_for(&dir, "seed-example.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let run = report_dir(&dir);
    for file in [
        "report.json",
        "report.md",
        "report.csv",
        "report.html",
        "snapshot.json",
        "plan.json",
    ] {
        let len = std::fs::metadata(run.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .len();
        assert!(len > 0, "{file} is empty");
    }
    let html = std::fs::read_to_string(run.join("report.html")).expect("html");
    assert!(html.contains("<svg"), "seat charts are inline SVG");
    assert!(!html.contains("src=\"http"), "no network resources");
}

#[test]
fn an_org_enabled_after_spring_24_is_not_affected() {
    let dir = scratch_dir("scan_after_spring24");
    let cfg = config_for(&dir, "scan-after-spring24.json", "");
    let (code, stdout, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(0), "no findings → exit 0\n{stdout}\n{stderr}");
    let report = report_json(&dir);
    assert_eq!(report["org"]["affected"], false);
    assert!(findings(&report).is_empty());
    assert!(stdout.contains("not affected"), "{stdout}");
}

#[test]
fn a_user_holding_both_contact_center_kinds_needs_both_seats() {
    let dir = scratch_dir("scan_both_kinds");
    let cfg = config_for(&dir, "scan-both-kinds.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let users: Vec<String> = findings(&report_json(&dir))
        .into_iter()
        .map(|(_, u, _)| u)
        .collect();
    assert_eq!(users, ["user2@seed-example.org"], "user4 holds both kinds");
}

#[test]
fn the_voice_set_through_a_group_is_found_and_planned_as_a_manual_step() {
    let dir = scratch_dir("scan_group");
    let cfg = config_for(&dir, "scan-voice-via-group.json", "");
    let (code, stdout, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    // Issue 13: the manual fix is not counted as freed, anywhere.
    assert!(
        stdout.contains("the plan frees 0 seat(s) by itself; 1 more need(s) the admin first"),
        "{stdout}"
    );
    assert!(
        stdout.contains("needs the admin: user2@seed-example.org"),
        "{stdout}"
    );
    let report = report_json(&dir);
    let voice = ledger_row(&report, "ServiceCloudVoicePsl");
    assert_eq!(
        (&voice["freed_by_plan"], &voice["needs_admin"]),
        (&Value::from(0), &Value::from(1)),
        "{voice}"
    );
    assert_eq!(voice["free_after_fix"], voice["free"], "{voice}");
    let md = std::fs::read_to_string(report_dir(&dir).join("report.md")).expect("report.md");
    assert!(
        md.contains("- needs the admin: user2@seed-example.org"),
        "{md}"
    );
    assert_eq!(
        findings(&report),
        [(
            "scv-double-consumption".to_string(),
            "user2@seed-example.org".to_string(),
            true
        )]
    );
    let ops: Vec<&str> = report["plan"]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["op"].as_str().expect("op"))
        .collect();
    assert!(ops.contains(&"manual"), "{ops:?}");
    assert!(
        !ops.contains(&"delete"),
        "nothing deleted automatically: {ops:?}"
    );
}

#[test]
fn an_orphan_seat_is_reported_but_not_reclaimed_by_default() {
    let dir = scratch_dir("scan_orphan");
    let cfg = config_for(&dir, "scan-orphan-psl.json", "");
    let (code, stdout, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    // User-2's Voice seat is planned; User-3's orphan seat is only reported.
    assert!(
        stdout.contains("2 recoverable seat(s): the plan frees 1 seat(s) by itself; 1 orphaned seat(s) only if `reclaim_orphan_seats` is turned on"),
        "{stdout}"
    );
    let report = report_json(&dir);
    let found = findings(&report);
    assert!(
        found.contains(&(
            "orphan-psl".to_string(),
            "user3@seed-example.org".to_string(),
            true
        )),
        "{found:?}"
    );
    let orphan_deletes = report["plan"]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["rule"] == "orphan-psl")
        .count();
    assert_eq!(orphan_deletes, 0);
}

#[test]
fn an_inactive_affected_user_is_flagged_inactive() {
    let dir = scratch_dir("scan_inactive");
    let cfg = config_for(&dir, "scan-inactive-user.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        findings(&report_json(&dir)),
        [(
            "scv-double-consumption".to_string(),
            "user2@seed-example.org".to_string(),
            false
        )]
    );
}

#[test]
fn a_saved_snapshot_replays_offline_with_the_same_findings() {
    let dir = scratch_dir("scan_replay");
    let cfg = config_for(&dir, "seed-example.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let first = report_json(&dir);
    let snapshot = report_dir(&dir).join("snapshot.json");
    // A config whose org cannot be reached proves no sign-in happens.
    let offline = dir.join("offline.toml");
    std::fs::write(
        &offline,
        "[defaults]\nreports_dir = \"reports\"\n[[org]]\nname = \"sim\"\n[org.auth]\nflow = \"access_token\"\n\
         instance_url = \"https://unreachable.invalid\"\naccess_token_env = \"PSLWARDEN_TEST_UNSET_TOKEN\"\n",
    )
    .expect("write config");
    let (code, stdout, stderr) = scan(
        &dir,
        &offline,
        &["--snapshot", snapshot.to_str().expect("utf8")],
    );
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    let second = report_json(&dir);
    assert_eq!(findings(&first), findings(&second));
    assert_eq!(first["plan"]["digest"], second["plan"]["digest"]);
    assert_eq!(second["api"]["calls"], 0);
}

#[test]
fn a_truncated_snapshot_file_is_a_clear_error() {
    let dir = scratch_dir("scan_bad_snapshot");
    let cfg = config_for(&dir, "seed-example.json", "");
    let bad = dir.join("snapshot.json");
    std::fs::write(&bad, "{\"schema_version\": 1, \"org_id\": \"00D").expect("write");
    let (code, _, stderr) = scan(&dir, &cfg, &["--snapshot", bad.to_str().expect("utf8")]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("snapshot.json"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (code, _, stderr) = scan(&dir, &cfg, &["--snapshot", "/nonexistent/snap.json"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/snap.json"), "{stderr}");
}

#[test]
fn a_config_naming_a_missing_permission_set_is_a_clear_error() {
    let dir = scratch_dir("scan_unknown_set");
    let cfg = config_for(
        &dir,
        "seed-example.json",
        "[org.rules]\nvoice_permission_set = \"NoSuchVoiceSet\"\n",
    );
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("NoSuchVoiceSet"), "{stderr}");
}

#[test]
fn an_org_without_service_cloud_voice_is_a_clear_error() {
    let dir = scratch_dir("scan_no_voice");
    let cfg = config_for(&dir, "scan-no-voice.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("ServiceCloudVoicePsl"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn plan_out_saves_the_plan_with_its_digest() {
    let dir = scratch_dir("scan_plan_out");
    let cfg = config_for(&dir, "seed-example.json", "");
    let plan_path = dir.join("plan-for-tonight.json");
    let (code, _, stderr) = scan(
        &dir,
        &cfg,
        &["--plan-out", plan_path.to_str().expect("utf8")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    let text = std::fs::read_to_string(&plan_path).expect("plan file written");
    let plan = pslwarden::plan::Plan::from_json(&text).expect("a valid plan");
    assert_eq!(plan.actions.len(), 2);
    assert_eq!(report_json(&dir)["plan"]["digest"], plan.digest.as_str());
}

/// The seed org with the Voice license cut to one seat while two are used: over-allocated.
fn over_allocated_fixture(dir: &Path) -> PathBuf {
    let root = repo_root();
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("mocks/fixtures/seed-example.json")).expect("seed"),
    )
    .expect("seed JSON");
    fixture["_org"]["connected_app"]["jwt_public_key_file"] = Value::from(
        root.join("mocks/keys/demo-only-jwt-public.pem")
            .display()
            .to_string(),
    );
    for license in fixture["PermissionSetLicense"]
        .as_array_mut()
        .expect("licenses")
    {
        if license["DeveloperName"] == "ServiceCloudVoicePsl" {
            license["TotalLicenses"] = Value::from(1);
        }
    }
    let path = dir.join("over-allocated.json");
    std::fs::write(&path, fixture.to_string()).expect("write fixture");
    path
}

/// Issue 13: a license used beyond its total is flagged in the terminal, report.json, .md,
/// .csv, .html and `licenses` (table and JSON).
#[test]
fn an_over_allocated_license_is_flagged_in_every_output() {
    let dir = scratch_dir("scan_over_allocated");
    let fixture = over_allocated_fixture(&dir);
    let cfg = config_for(&dir, fixture.to_str().expect("utf8"), "");
    let (code, stdout, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let flag = "ServiceCloudVoicePsl is over-allocated: 2 seats used of 1 bought";
    assert!(stdout.contains(&format!("warning: {flag}")), "{stdout}");
    let report = report_json(&dir);
    let voice = ledger_row(&report, "ServiceCloudVoicePsl");
    assert_eq!(voice["over_allocated"], true, "{voice}");
    assert_eq!(
        ledger_row(&report, "SalesConsoleUser")["over_allocated"],
        false
    );
    let folder = report_dir(&dir);
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).expect(name);
    assert!(
        read("report.md").contains("**Over-allocated**"),
        "report.md"
    );
    assert!(
        read("report.md").contains("2 **over-allocated**"),
        "report.md"
    );
    let csv = read("report.csv");
    assert!(
        csv.lines().any(|l| l.starts_with("license,")
            && l.contains("ServiceCloudVoicePsl")
            && l.contains(",true,")),
        "{csv}"
    );
    let html = read("report.html");
    assert!(
        html.contains("over-allocated: 2 used of 1 bought"),
        "report.html"
    );
    assert!(html.contains(flag), "report.html");

    let out = pslwarden(
        &dir,
        &[
            "--config",
            cfg.to_str().expect("utf8"),
            "licenses",
            "--format",
            "json",
        ],
    );
    let (json, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let json: Value = serde_json::from_str(&json).expect("JSON");
    let voice = json["licenses"]
        .as_array()
        .expect("licenses")
        .iter()
        .find(|l| l["psl"] == "ServiceCloudVoicePsl")
        .expect("voice");
    assert_eq!(voice["over_allocated"], true, "{voice}");
    let out = pslwarden(&dir, &["--config", cfg.to_str().expect("utf8"), "licenses"]);
    let (table, _) = text(&out);
    assert!(table.contains(&format!("warning: {flag}")), "{table}");
}

/// Issue 13: the what-if never offers the Voice permission set itself (giving it is what wastes
/// the seats).
#[test]
fn the_what_if_does_not_offer_the_voice_permission_set() {
    let dir = scratch_dir("scan_what_if");
    let cfg = config_for(&dir, "seed-example.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let report = report_json(&dir);
    let sets: Vec<&str> = ledger_row(&report, "ServiceCloudVoicePsl")["licensed_permission_sets"]
        .as_array()
        .expect("sets")
        .iter()
        .map(|s| s.as_str().expect("name"))
        .collect();
    assert!(sets.contains(&"ContactCenterAgent"), "{sets:?}");
    assert!(!sets.contains(&"SalesforceVoicePermissionSet"), "{sets:?}");
    let md = std::fs::read_to_string(report_dir(&dir).join("report.md")).expect("md");
    let what_if = md
        .lines()
        .find(|l| l.contains("more user(s) could be given"))
        .expect("a what-if line");
    assert!(
        !what_if.contains("SalesforceVoicePermissionSet"),
        "{what_if}"
    );
}

/// Issue 13: a deactivated user's finding is not `high` severity (nobody is blocked by it).
#[test]
fn an_inactive_users_finding_is_not_high_severity() {
    let dir = scratch_dir("scan_inactive_severity");
    let cfg = config_for(&dir, "scan-inactive-user.json", "");
    let (code, _, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let report = report_json(&dir);
    let finding = &report["findings"][0];
    assert_eq!(finding["user_active"], false);
    assert_ne!(finding["severity"], "high", "{finding}");
    let csv = std::fs::read_to_string(report_dir(&dir).join("report.csv")).expect("csv");
    assert!(
        !csv.lines()
            .any(|l| l.starts_with("finding,") && l.contains(",high,")),
        "{csv}"
    );
}

#[test]
fn sets_tied_to_a_user_license_are_not_taken_for_permission_set_licenses() {
    // `scan-user-license.json`: the orphan-seat org, with the profile set tied to the
    // `Salesforce` user license and User-3 holding `Platform_Reports`, tied to the `Salesforce
    // Platform` user license (PermissionSet.LicenseId may name either kind of license).
    let dir = scratch_dir("scan_user_license");
    let cfg = config_for(&dir, "scan-user-license.json", "");
    let (code, stdout, stderr) = scan(&dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 recoverable seat(s): the plan frees 1 seat(s) by itself"),
        "{stdout}"
    );
    let report = report_json(&dir);
    let found = findings(&report);
    assert!(
        found.contains(&(
            "orphan-psl".to_string(),
            "user3@seed-example.org".to_string(),
            true
        )),
        "User-3's seat is still nobody's need: {found:?}"
    );
    let mut ledger: Vec<&str> = report["ledger"]
        .as_array()
        .expect("ledger[]")
        .iter()
        .filter_map(|l| l["psl"].as_str())
        .collect();
    ledger.sort_unstable();
    assert_eq!(
        ledger,
        vec![
            "SalesConsoleUser",
            "ServiceCloudVoiceExternalTelephonyPsl",
            "ServiceCloudVoicePsl"
        ],
        "user licenses are no ledger rows"
    );
    let orphan = report["findings"]
        .as_array()
        .expect("findings[]")
        .iter()
        .find(|f| f["rule"] == "orphan-psl")
        .expect("the orphan finding");
    let evidence = orphan["evidence"].to_string();
    assert!(
        !evidence.contains("Platform_Reports") && !evidence.contains("100000000000002AAA"),
        "a set on a user license is not a licensed set the user holds: {evidence}"
    );
}

/// A live scan of the seed fixture in `dir`; returns the config and its saved snapshot's text.
fn live_snapshot(dir: &Path) -> (PathBuf, String) {
    let cfg = config_for(dir, "seed-example.json", "");
    let (code, _, stderr) = scan(dir, &cfg, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let text = std::fs::read_to_string(report_dir(dir).join("snapshot.json")).expect("snapshot");
    (cfg, text)
}

/// The snapshot `text` changed by `change`, written as pslwarden writes one (with its digest).
fn rewritten(text: &str, change: impl Fn(&mut pslwarden::snapshot::OrgSnapshot)) -> String {
    let mut snapshot: pslwarden::snapshot::OrgSnapshot =
        serde_json::from_str(text).expect("a snapshot");
    change(&mut snapshot);
    snapshot.to_json_pretty()
}

#[test]
fn a_snapshot_edited_by_hand_is_refused() {
    let dir = scratch_dir("scan_edited_snapshot");
    let (cfg, text) = live_snapshot(&dir);
    // User-2 turned into an inactive user by hand.
    let mut value: Value = serde_json::from_str(&text).expect("json");
    for user in value["users"].as_array_mut().expect("users") {
        if user["id"] == "005000000000003AAA" {
            user["is_active"] = Value::Bool(false);
        }
    }
    let edited = dir.join("edited-snapshot.json");
    std::fs::write(&edited, value.to_string()).expect("write");
    let (code, stdout, stderr) = scan(&dir, &cfg, &["--snapshot", edited.to_str().expect("utf8")]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("edited-snapshot.json") && stderr.contains("the snapshot was edited"),
        "{stderr}"
    );
}

#[test]
fn a_snapshot_referring_to_records_it_lacks_is_refused() {
    let dir = scratch_dir("scan_dangling_snapshot");
    let (cfg, text) = live_snapshot(&dir);
    // User-2 dropped, their seats kept; and an assignment of a set the snapshot lacks.
    let dangling = rewritten(&text, |s| {
        s.users.retain(|u| u.id != "005000000000003AAA");
        s.permission_sets.retain(|p| p.id != "0PS000000000005GAA");
    });
    let file = dir.join("dangling.json");
    std::fs::write(&file, dangling).expect("write");
    let (code, stdout, stderr) = scan(&dir, &cfg, &["--snapshot", file.to_str().expect("utf8")]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("dangling.json") && stderr.contains("not consistent"),
        "{stderr}"
    );
    assert!(
        stderr.contains("user 005000000000003AAA, who is not in `users`")
            && stderr.contains("permission set 0PS000000000005GAA, which is not in"),
        "{stderr}"
    );
}

#[test]
fn another_orgs_snapshot_is_refused_and_an_unknown_orgs_says_whose_it_is() {
    let dir = scratch_dir("scan_foreign_snapshot");
    let (cfg, text) = live_snapshot(&dir);
    let foreign = rewritten(&text, |s| {
        s.org_id = "00D000000000099AAA".into();
        s.org_name = "Another Org".into();
    });
    let file = dir.join("foreign.json");
    std::fs::write(&file, &foreign).expect("write");
    let (code, stdout, stderr) = scan(&dir, &cfg, &["--snapshot", file.to_str().expect("utf8")]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("foreign.json")
            && stderr.contains("is of org 00D000000000099AAA (Another Org)")
            && stderr.contains("org `sim` is 00D5g000004SeedEAC"),
        "{stderr}"
    );
    // Its own snapshot replays, saying whose it is.
    let own = dir.join("own.json");
    std::fs::write(&own, &text).expect("write");
    let (code, stdout, stderr) = scan(&dir, &cfg, &["--snapshot", own.to_str().expect("utf8")]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("org `sim` has this id"), "{stderr}");

    // Where the org was never read live, the id cannot be compared: the summary says so.
    let elsewhere = scratch_dir("scan_foreign_snapshot_unknown");
    let cfg = config_for(&elsewhere, "seed-example.json", "");
    let (code, stdout, stderr) = scan(
        &elsewhere,
        &cfg,
        &["--snapshot", file.to_str().expect("utf8")],
    );
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("replayed snapshot of org 00D000000000099AAA (Another Org)")
            && stderr.contains("NOT compared"),
        "{stderr}"
    );
}
