//! The `idle-voice-seat` rule end to end: `mocks/fixtures/scan-idle-voice.json` (agents with and
//! without calls, a recent login, a new user, three exceptions, a deactivated agent; dates around
//! the as-of day 2026-06-30, see mocks/README.md) scanned, applied and rolled back through the
//! real binary, with the rehearsal clock at that day.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sfsim::Org;

use crate::apply::{cli, config, outcome};
use crate::support::newest_report_json as latest_report;
use crate::support::{Sim, repo_root, scratch_dir};

/// The fixture's as-of day, 23:00 UTC: the idle period is 2026-05-01T23:00Z .. this instant.
const AS_OF: &str = "2026-06-30T23:00:00Z";

const VOICE_PSL: &str = "ServiceCloudVoicePsl";
const PARTNER_PSL: &str = "ServiceCloudVoiceExternalTelephonyPsl";

/// The exceptions the fixture plants (a supervisor set, a supervisors' group, a lead agent).
const EXCEPTIONS: &str = "except_usernames = [\"lead.agent@idle-voice.example.org\"]\n\
    except_permission_sets = [\"Contact_Center_Supervisor\"]\n\
    except_permission_set_groups = [\"Voice_Supervisors\"]\n";

fn fixture() -> PathBuf {
    repo_root().join("mocks/fixtures/scan-idle-voice.json")
}

async fn sim() -> Sim {
    Sim::with(Org::from_fixture_file(&fixture()).expect("idle fixture loads")).await
}

/// A config with an always-open window and `[org.idle]` holding `idle` (keys).
fn idle_config(dir: &Path, sim: &Sim, idle: &str) -> PathBuf {
    config(
        dir,
        sim,
        &format!("[org.window]\nalways_open = true\n[org.idle]\n{EXCEPTIONS}{idle}"),
    )
}

/// (username without the domain, kind) of the idle rule's findings.
fn idle_found(report: &Value) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "idle-voice-seat")
        .map(|f| {
            let user = f["username"].as_str().unwrap();
            (
                user.split('@').next().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The finding of `user` (name before the `@`).
fn finding_of<'a>(report: &'a Value, user: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["username"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{user}@"))
        })
        .unwrap_or_else(|| panic!("a finding for {user}"))
}

/// (AssigneeId, PermissionSetId) of every assignment and (AssigneeId, PermissionSetLicenseId)
/// of every seat.
type Pairs = BTreeSet<(String, String)>;
fn assignments(org: &Org) -> (Pairs, Pairs) {
    let pairs = |object: &str, b: &str| -> Pairs {
        org.records(object)
            .iter()
            .map(|r| {
                (
                    r["AssigneeId"].as_str().unwrap_or_default().to_string(),
                    r[b].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    (
        pairs("PermissionSetAssignment", "PermissionSetId"),
        pairs("PermissionSetLicenseAssign", "PermissionSetLicenseId"),
    )
}

const IDLE: &str = "idle-voice-seat";
/// The standard profile's own permission set every fixture user holds.
const PROFILE_SET: &str = "0PS000000000100GAA";
const DEACTIVATED: &str = "idle-voice-seat-deactivated-user";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_finds_exactly_the_planted_idle_agents_with_their_evidence() {
    let sim = sim().await;
    let dir = scratch_dir("idle_scan");
    let cfg = idle_config(&dir, &sim, "");
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let report = latest_report(&dir);
    assert_eq!(
        idle_found(&report),
        set(&[
            ("agent.oldcalls", IDLE),
            ("agent.nocalls", IDLE),
            ("agent.recentlogin", IDLE),
            ("agent.deactivated", DEACTIVATED),
        ]),
        "not the active, new or excepted agents"
    );
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        4,
        "no other rule reports anything here"
    );
    let old = finding_of(&report, "agent.oldcalls");
    assert_eq!(old["psl"], PARTNER_PSL);
    let evidence = old["evidence"].as_array().unwrap();
    assert!(
        evidence.contains(&json!({
            "type": "no_call_since",
            "since": "2026-05-01T23:00:00Z",
            "last_call": {"at": "2026-04-10T14:30:00Z", "call_type": "Inbound"}
        })),
        "{evidence:?}"
    );
    assert!(
        evidence.contains(&json!({"type": "last_login", "at": "2026-04-10T08:30:00Z"})),
        "{evidence:?}"
    );
    assert!(
        evidence.iter().any(|e| e["type"] == "in_call_center"),
        "{evidence:?}"
    );
    assert!(
        evidence.iter().any(|e| e["type"] == "holds_license"),
        "{evidence:?}"
    );
    let none = finding_of(&report, "agent.nocalls");
    assert!(
        none["summary"]
            .as_str()
            .unwrap()
            .contains("no call as agent on record"),
        "{none}"
    );
    assert!(
        none["summary"].as_str().unwrap().contains("no more calls"),
        "what the agent loses: {none}"
    );
    // Reported only: `reclaim` is off, so the plan says so and the ledger counts the seats apart.
    assert!(
        report["plan"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["rule"] != IDLE)
    );
    let voice = report["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["psl"] == VOICE_PSL)
        .unwrap();
    assert_eq!(voice["needs_idle_reclaim"], 3, "{voice}");
    assert!(stdout.contains("idle"), "{stdout}");
    // The page explains the kind once (what the agent would lose) and gives each row its evidence.
    let folder = std::fs::read_dir(dir.join("reports/sim"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("report.html").is_file())
        .max()
        .unwrap();
    let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
    let md = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(md.contains("Idle agents (reclaim off)"), "{md}");
    assert!(stdout.contains("Idle (reclaim off)"), "{stdout}");
    assert!(html.contains("Idle Voice seats"), "{html}");
    // The seat chart and table count the idle seats as their own route, so the parts add up.
    assert!(
        html.contains("Idle agents: freed only if [org.idle] reclaim is on")
            && html.contains("Idle agents (reclaim off)"),
        "{html}"
    );
    assert_eq!(
        html.matches("can no longer take calls").count(),
        1,
        "{html}"
    );
    assert!(html.contains("(last call 2026-04-10, Inbound)"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recent_login_spares_the_seat_only_with_also_last_login_days() {
    let sim = sim().await;
    let dir = scratch_dir("idle_login");
    let cfg = idle_config(&dir, &sim, "also_last_login_days = 30\n");
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        idle_found(&latest_report(&dir)),
        set(&[
            ("agent.oldcalls", IDLE),
            ("agent.nocalls", IDLE),
            ("agent.deactivated", DEACTIVATED),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_calls_costs_one_describe_and_one_composite_call_per_query_shape() {
    let sim = sim().await;
    let dir = scratch_dir("idle_calls");
    let plain = config(&dir, &sim, "[org.window]\nalways_open = true\n");
    let before = sim.sim.org.stats().api_calls;
    let (code, stdout, stderr) = outcome(&cli(&dir, &plain, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let without = sim.sim.org.stats().api_calls - before;
    let cfg = idle_config(&dir, &sim, "");
    let before = sim.sim.org.stats().api_calls;
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let with = sim.sim.org.stats().api_calls - before;
    // The VoiceCall describe, one composite call of activity aggregates (the seat holders fit
    // one chunk), one of evidence aggregates for the idle ones: never a call row.
    assert_eq!(with, without + 3, "with {with}, without {without}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reclaim_off_apply_changes_nothing() {
    let sim = sim().await;
    let dir = scratch_dir("idle_reclaim_off");
    let cfg = idle_config(&dir, &sim, "");
    let before = assignments(&sim.sim.org);
    let writes = sim.sim.org.stats().write_calls;
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(sim.sim.org.stats().write_calls, writes, "{stdout}");
    assert_eq!(assignments(&sim.sim.org), before);
    assert_eq!(sim.sim.org.used_licenses(VOICE_PSL), Some(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reclaim_on_apply_frees_the_idle_seats_and_rollback_restores_them() {
    let sim = sim().await;
    let dir = scratch_dir("idle_reclaim_on");
    let cfg = idle_config(
        &dir,
        &sim,
        "reclaim = true\n[org.apply]\nmax_voice_user_share = 1.0\n",
    );
    let before = assignments(&sim.sim.org);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let apply_md = std::fs::read_dir(dir.join("reports/sim"))
        .unwrap()
        .map(|e| e.unwrap().path().join("apply.md"))
        .find(|p| p.is_file())
        .expect("apply.md");
    let apply_md = std::fs::read_to_string(apply_md).unwrap();
    assert!(
        apply_md.contains("they can no longer take calls in the contact center"),
        "the apply report says what the agents lose: {apply_md}"
    );
    // agent.nocalls, agent.recentlogin, agent.deactivated (Voice); agent.oldcalls (partner).
    assert_eq!(sim.sim.org.used_licenses(VOICE_PSL), Some(4), "{stdout}");
    assert_eq!(sim.sim.org.used_licenses(PARTNER_PSL), Some(1), "{stdout}");
    let user = |n: u32| format!("005{n:012}AAA");
    let (sets, seats) = assignments(&sim.sim.org);
    for idle in [3, 4, 5, 10] {
        assert!(
            !seats.iter().any(|(u, _)| *u == user(idle)),
            "user {idle} keeps no seat"
        );
        // Only the profile's own set is left: every set needing the license went first.
        assert!(
            sets.iter()
                .filter(|(u, _)| *u == user(idle))
                .all(|(_, set)| set == PROFILE_SET),
            "user {idle} keeps no contact-center set: {sets:?}"
        );
    }
    for kept in [2, 6, 7, 8, 9] {
        assert!(
            seats.iter().any(|(u, _)| *u == user(kept)),
            "user {kept} keeps their seat"
        );
    }

    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, AS_OF, &["rollback", "--run", "1", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        assignments(&sim.sim.org),
        before,
        "sets and seats as before"
    );
    assert_eq!(sim.sim.org.used_licenses(VOICE_PSL), Some(7));
    assert_eq!(sim.sim.org.used_licenses(PARTNER_PSL), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_taken_after_the_scan_cancels_that_agents_fix_only() {
    let sim = sim().await;
    let dir = scratch_dir("idle_call_after_scan");
    let cfg = idle_config(
        &dir,
        &sim,
        "reclaim = true\n[org.apply]\nmax_voice_user_share = 1.0\n",
    );
    let plan = dir.join("plan.json");
    let (code, stdout, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            AS_OF,
            &["scan", "--plan-out", plan.to_str().unwrap()],
        )
        .await,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    // agent.nocalls takes a call after the scan (written by the telephony integration).
    let fields = json!({
        "UserId": "005000000000004AAA",
        "CallStartDateTime": "2026-06-30T22:30:00Z",
        "CallType": "Inbound"
    });
    sim.sim
        .org
        .insert("VoiceCall", fields.as_object().unwrap())
        .expect("call recorded");
    let (code, stdout, stderr) = outcome(
        &cli(
            &dir,
            &cfg,
            AS_OF,
            &["apply", "--yes", "--plan", plan.to_str().unwrap()],
        )
        .await,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("took a call as agent"), "{stdout}");
    let (_, seats) = assignments(&sim.sim.org);
    assert!(
        seats.iter().any(|(u, _)| u == "005000000000004AAA"),
        "agent.nocalls keeps the seat"
    );
    assert!(
        !seats.iter().any(|(u, _)| u == "005000000000005AAA"),
        "agent.recentlogin's seat is freed"
    );
    assert_eq!(sim.sim.org.used_licenses(VOICE_PSL), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_read_on_voice_calls_the_rule_is_skipped_with_a_note_and_the_scan_goes_on() {
    let seed = crate::support::seed_fixture();
    let mut fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(&seed).unwrap()).unwrap();
    let perms = fixture["ObjectPermissions"].as_array_mut().unwrap();
    let before = perms.len();
    perms.retain(|p| p["SobjectType"] != "VoiceCall");
    assert!(perms.len() < before, "the seed grants read on VoiceCall");
    let org = Org::from_fixture_str(&fixture.to_string(), seed.parent().unwrap()).unwrap();
    let sim = Sim::with(org).await;
    let dir = scratch_dir("idle_no_access");
    let cfg = idle_config(&dir, &sim, "");
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let report = latest_report(&dir);
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == IDLE)
        .expect("the idle rule's outcome");
    assert_eq!(rule["status"], "undetermined", "{rule}");
    assert!(
        rule["notes"][0]
            .as_str()
            .unwrap()
            .contains("cannot read VoiceCall"),
        "{rule}"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "scv-double-consumption"),
        "the other rules still judge the org"
    );
}

/// The user ids of the idle rule's findings of `kind`, sorted.
fn idle_user_ids(report: &Value, kind: &str) -> Vec<String> {
    let ids: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == IDLE && f["kind"] == kind)
        .map(|f| f["user_id"].as_str().unwrap().to_string())
        .collect();
    ids.into_iter().collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_org_yields_exactly_its_planted_idle_agents() {
    let g = sfsim::generate::generate(&sfsim::generate::GenerateOptions {
        users: 1_500,
        seed: 11,
        affected_fraction: 0.02,
        voice_calls: 20_000,
    });
    let expected = g.expected.clone();
    assert!(
        !expected.idle_voice_seat_user_ids.is_empty()
            && !expected.idle_voice_seat_recent_login_user_ids.is_empty(),
        "the generator planted idle agents"
    );
    let org = Org::from_fixture_str(&g.fixture.to_string(), Path::new(".")).unwrap();
    let sim = Sim::with(org).await;
    let dir = scratch_dir("idle_generated");
    // The generator's exception names; its as-of day is 2026-06-30.
    let cfg = config(
        &dir,
        &sim,
        "[org.window]\nalways_open = true\n[org.idle]\n\
         except_permission_sets = [\"Contact_Center_Supervisor\"]\n\
         except_permission_set_groups = [\"Voice_Supervisors\"]\n",
    );
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let report = latest_report(&dir);
    assert_eq!(
        idle_user_ids(&report, IDLE),
        sorted(&expected.idle_voice_seat_user_ids)
    );
    assert_eq!(
        idle_user_ids(&report, DEACTIVATED),
        sorted(&expected.idle_voice_seat_deactivated_user_ids)
    );

    // With `also_last_login_days = 30` the recent logins are spared.
    let dir = scratch_dir("idle_generated_login");
    let cfg = config(
        &dir,
        &sim,
        "[org.window]\nalways_open = true\n[org.idle]\nalso_last_login_days = 30\n\
         except_permission_sets = [\"Contact_Center_Supervisor\"]\n\
         except_permission_set_groups = [\"Voice_Supervisors\"]\n",
    );
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, AS_OF, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let spared: BTreeSet<&String> = expected
        .idle_voice_seat_recent_login_user_ids
        .iter()
        .collect();
    let still: Vec<String> = sorted(&expected.idle_voice_seat_user_ids)
        .into_iter()
        .filter(|id| !spared.contains(id))
        .collect();
    assert_eq!(idle_user_ids(&latest_report(&dir), IDLE), still);
}
