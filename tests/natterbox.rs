//! The Natterbox rule pack end to end: `mocks/fixtures/natterbox.json` (the seed org plus
//! Natterbox user license records that break each rule, and records that obey them all) scanned
//! through the real binary; a broken pack refused at start; fixes applied only when turned on,
//! through the window gate and the journal, and rolled back.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use sfsim::Org;

use crate::apply::{INSIDE, cli, config, outcome};
use crate::support::newest_report_json as latest_report;
use crate::support::{Sim, repo_root, scratch_dir};

fn fixture() -> PathBuf {
    repo_root().join("mocks/fixtures/natterbox.json")
}

async fn sim() -> Sim {
    Sim::with(Org::from_fixture_file(&fixture()).expect("natterbox fixture loads")).await
}

/// The record of `username` in the simulator.
fn record_of(org: &Org, username: &str) -> Value {
    let user = org
        .records("User")
        .into_iter()
        .find(|u| u["Username"] == username)
        .unwrap_or_else(|| panic!("user {username}"));
    org.records("nbavs__User__c")
        .into_iter()
        .find(|r| r["nbavs__User__c"] == user["Id"])
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pack_finds_each_broken_rule_and_nothing_on_obeying_users() {
    let sim = sim().await;
    let dir = scratch_dir("natterbox_findings");
    let cfg = config(&dir, &sim, "[org.window]\nalways_open = true\n");
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let report = latest_report(&dir);
    let found: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "natterbox")
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["username"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("freedom-needs-cti", "freedom.no.cti@seed-example.org"),
        ("cti-alone-is-legacy", "cti.alone@seed-example.org"),
        ("freedom-excludes-scv", "freedom.and.scv@seed-example.org"),
        ("pci-not-in-use", "pci.holder@seed-example.org"),
        ("interface-needs-pbx", "no.pbx@seed-example.org"),
        ("scv-needs-partner-psl", "freedom.and.scv@seed-example.org"),
        ("scv-needs-partner-psl", "scv.no.psl@seed-example.org"),
        ("freedom-with-voice-seat", "user1@seed-example.org"),
    ]
    .iter()
    .map(|(k, u)| (k.to_string(), u.to_string()))
    .collect();
    assert_eq!(found, expected);
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "natterbox")
        .unwrap();
    assert_eq!(rule["status"], "applies");
    assert!(
        rule["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("over-assigned: 9 users hold a Natterbox license, but the nbavs package has 8 seat(s)")),
        "{rule}"
    );
    // Fixes are off by default: proposed in the notes, never planned.
    let plan = &report["plan"];
    assert!(
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["op"] != "update")
    );
    assert!(
        plan["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("a fix is available (set cti) but off")),
        "{plan}"
    );
    assert_eq!(sim.sim.org.stats().write_calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turned_on_fixes_are_applied_in_the_window_and_rolled_back() {
    let sim = sim().await;
    let dir = scratch_dir("natterbox_fixes");
    let cfg = config(
        &dir,
        &sim,
        "[org.window]\nalways_open = true\n\n[org.natterbox]\nfix = [\"freedom-needs-cti\", \"pci-not-in-use\"]\n",
    );
    assert_eq!(
        record_of(&sim.sim.org, "freedom.no.cti@seed-example.org")["nbavs__CTI__c"],
        false
    );
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        record_of(&sim.sim.org, "freedom.no.cti@seed-example.org")["nbavs__CTI__c"],
        true
    );
    assert_eq!(
        record_of(&sim.sim.org, "pci.holder@seed-example.org")["nbavs__PCI__c"],
        false
    );
    // Other rules' records are untouched.
    assert_eq!(
        record_of(&sim.sim.org, "no.pbx@seed-example.org")["nbavs__PBX__c"],
        false
    );

    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["rollback", "--run", "1", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        record_of(&sim.sim.org, "freedom.no.cti@seed-example.org")["nbavs__CTI__c"],
        false
    );
    assert_eq!(
        record_of(&sim.sim.org, "pci.holder@seed-example.org")["nbavs__PCI__c"],
        true
    );
}

#[test]
fn a_malformed_pack_fails_at_load_with_file_line_and_rule() {
    let dir = scratch_dir("natterbox_bad_pack");
    let pack = dir.join("pack.toml");
    let builtin = std::fs::read_to_string(repo_root().join("config/rules/natterbox.toml")).unwrap();
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[org]]\nname = \"x\"\n[org.simulator]\nfixture = \"{}\"\n[org.auth]\nflow = \"jwt\"\n\
             consumer_key = \"k\"\nusername = \"u\"\nprivate_key_file = \"k.pem\"\n\
             [org.natterbox]\npack = \"pack.toml\"\n",
            fixture().display()
        ),
    )
    .unwrap();
    let cases = [
        (
            builtin.replace("kind = \"disabled\"", "kind = \"forbidden\""),
            "rule `pci-not-in-use`: unknown kind `forbidden`",
        ),
        (
            builtin.replace("then = \"cti\"", "then = \"freedom\""),
            "rule `freedom-needs-cti`: the rule references license `freedom` on both sides",
        ),
        (
            builtin.replace("license = \"pci\"", "license = \"pci\"\ncolour = \"red\""),
            "unknown field `colour`",
        ),
    ];
    for (text, says) in cases {
        std::fs::write(&pack, text).unwrap();
        let out = crate::support::pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "scan"]);
        let (_, stderr) = crate::support::text(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr.contains(says), "{stderr}");
        assert!(
            stderr.contains("pslwarden.toml:11:") && stderr.contains("pack.toml:"),
            "names the config line and the pack's own line: {stderr}"
        );
    }
}
