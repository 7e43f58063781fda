//! Query paging over real HTTP: sfsim's cursors as strict as Salesforce's (ten per user, the
//! oldest released; `batchSize` a clamped hint; opaque locators; short pages), and pslwarden's
//! snapshot paging staying exact and cheap against them.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;
use sfsim::generate::{GenerateOptions, generate};
use sfsim::{Org, Paging};

use crate::support::Sim;

/// A generated org of `users` users (about 4.7 permission set assignments each).
fn generated(users: usize) -> Org {
    let g = generate(&GenerateOptions {
        users,
        seed: 3,
        ..Default::default()
    });
    Org::from_fixture_str(&g.fixture.to_string(), Path::new(".")).expect("generated org loads")
}

/// A simulator of a generated org whose paging is pinned to `paging`, whatever SFSIM_PAGING says.
async fn sim_with(users: usize, paging: Paging) -> Sim {
    let sim = Sim::with(generated(users)).await;
    sim.sim.org.set_paging(paging);
    sim
}

/// GET a `nextRecordsUrl` (a path from the instance root).
async fn follow(sim: &Sim, next: &str) -> (u16, Value) {
    sim.send(sim.http.get(format!("{}{next}", sim.sim.url)))
        .await
}

fn next_of(page: &Value) -> String {
    page["nextRecordsUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("a nextRecordsUrl in {page}"))
        .to_string()
}

fn ids(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .expect("records[]")
        .iter()
        .map(|r| r["Id"].as_str().expect("Id").to_string())
        .collect()
}

const PSA: &str = "SELECT Id FROM PermissionSetAssignment";

#[tokio::test]
async fn an_eleventh_open_cursor_releases_the_oldest() {
    let sim = sim_with(
        100,
        Paging {
            default_batch: 200,
            ..Paging::default()
        },
    )
    .await;
    let mut nexts = Vec::new();
    for _ in 0..11 {
        let (status, page) = sim.query(PSA).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["done"], false);
        nexts.push(next_of(&page));
    }
    let (status, body) = follow(&sim, &nexts[0]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR", "{body}");
    assert!(body[0]["message"].is_string(), "{body}");
    for next in &nexts[1..] {
        let (status, page) = follow(&sim, next).await;
        assert_eq!(status, 200, "{next}: {page}");
    }
}

#[tokio::test]
async fn the_batch_size_header_is_a_hint_clamped_to_200_through_2000() {
    let sim = sim_with(600, Paging::default()).await;
    let rows = |value: &'static str| {
        let request = sim
            .http
            .get(sim.url("query"))
            .query(&[("q", PSA)])
            .header("Sforce-Query-Options", value);
        async { sim.send(request).await }
    };
    for (header, expected) in [
        ("batchSize=5", 200),
        ("batchSize=300", 300),
        ("batchSize=99999", 2000),
    ] {
        let (status, page) = rows(header).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            page["totalSize"].as_u64().unwrap() > 2000,
            "{}",
            page["totalSize"]
        );
        assert_eq!(ids(&page).len(), expected, "{header}");
    }
    let (_, page) = sim.query(PSA).await;
    assert_eq!(ids(&page).len(), 2000, "no header: Salesforce's 2000");
}

#[tokio::test]
async fn opaque_locators_accept_only_the_next_records_url_handed_out() {
    let sim = sim_with(
        100,
        Paging {
            opaque_locators: true,
            default_batch: 200,
            ..Paging::default()
        },
    )
    .await;
    let (_, first) = sim.query(PSA).await;
    let next = next_of(&first);
    let base = next.rsplit_once('-').expect("<locator>-<offset>").0;
    let (status, body) = follow(&sim, &format!("{base}-400")).await;
    assert_eq!(status, 400, "a computed offset: {body}");
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR");
    let (status, second) = follow(&sim, &next).await;
    assert_eq!(status, 200, "{second}");
    let (status, third) = follow(&sim, &next_of(&second)).await;
    assert_eq!(
        status, 200,
        "the one handed out with the second page: {third}"
    );

    // Transparent (the default): the same computed offset is a page.
    sim.sim.org.set_paging(Paging {
        default_batch: 200,
        ..Paging::default()
    });
    let (_, first) = sim.query(PSA).await;
    let base = next_of(&first)
        .rsplit_once('-')
        .expect("shape")
        .0
        .to_string();
    let (status, page) = follow(&sim, &format!("{base}-400")).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn short_pages_stay_truthful_and_the_chain_holds_every_row_once() {
    let sim = sim_with(
        300,
        Paging {
            opaque_locators: true,
            short_pages: Some(5),
            default_batch: 200,
            release_cursor_at: None,
        },
    )
    .await;
    let (_, first) = sim.query(PSA).await;
    let total = first["totalSize"].as_u64().expect("totalSize") as usize;
    let mut seen = ids(&first);
    let mut lengths = vec![seen.len()];
    let mut page = first;
    while page["done"] == false {
        let (status, next) = follow(&sim, &next_of(&page)).await;
        assert_eq!(status, 200, "{next}");
        assert_eq!(next["totalSize"], total);
        lengths.push(ids(&next).len());
        seen.extend(ids(&next));
        page = next;
    }
    assert!(
        page.get("nextRecordsUrl").is_none_or(Value::is_null),
        "{page}"
    );
    assert_eq!(seen.len(), total, "page lengths {lengths:?}");
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        total,
        "no row twice"
    );
    let short = lengths[..lengths.len() - 1]
        .iter()
        .filter(|n| **n < 200)
        .count();
    assert!(short > 0, "some pages are short: {lengths:?}");
    assert!(lengths.iter().all(|n| *n > 0 && *n <= 200), "{lengths:?}");
}

// ---- pslwarden against those modes, through the real binary ----

use crate::apply::{INSIDE, cli, config, outcome};
use crate::support::scratch_dir;
use sfsim::generate::Expected;

/// A served generated org in `paging`, and what was planted in it.
async fn planted(
    users: usize,
    fraction: f64,
    voice_calls: usize,
    paging: Paging,
) -> (Sim, Expected) {
    let g = generate(&GenerateOptions {
        users,
        seed: 5,
        affected_fraction: fraction,
        voice_calls,
    });
    let org = Org::from_fixture_str(&g.fixture.to_string(), Path::new(".")).expect("loads");
    let sim = Sim::with(org).await;
    sim.sim.org.set_paging(paging);
    (sim, g.expected)
}

/// Runs `pslwarden <args>` with `tables` in the org block; returns the newest report folder.
async fn run(sim: &Sim, name: &str, tables: &str, args: &[&str]) -> std::path::PathBuf {
    let dir = scratch_dir(name);
    let cfg = config(&dir, sim, tables);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, args).await);
    assert!(
        matches!(code, Some(0) | Some(2)),
        "{code:?}\n{stdout}\n{stderr}"
    );
    std::fs::read_dir(dir.join("reports/sim"))
        .expect("reports")
        .map(|e| e.expect("entry").path())
        .max()
        .expect("a report folder")
}

fn read(path: std::path::PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).expect("report")).expect("JSON")
}

/// Sorted `field`s of the report's findings of `rule`.
fn found(report: &Value, rule: &str, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .expect("findings[]")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f[field].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

/// A scan's report; its findings must be exactly the planted ones.
async fn scan_finds_the_planted_set(sim: &Sim, expected: &Expected, name: &str) -> Value {
    let report = read(run(sim, name, "", &["scan"]).await.join("report.json"));
    assert_eq!(
        found(&report, "scv-double-consumption", "user_id"),
        expected.double_consumption_user_ids
    );
    assert_eq!(
        found(&report, "orphan-psl", "license_assignment_id"),
        expected.orphan_psl_assignment_ids
    );
    report
}

/// Seats `apply` frees by itself: one per planted double consumer, except those holding the
/// Voice set through a group (a manual step).
fn reclaimable(expected: &Expected) -> u64 {
    (expected.double_consumption_user_ids.len()
        - expected.double_consumption_via_group_user_ids.len()) as u64
}

const STRICT: Paging = Paging {
    opaque_locators: true,
    short_pages: Some(11),
    default_batch: 500,
    release_cursor_at: None,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_with_opaque_locators_and_short_pages_finds_exactly_what_was_planted() {
    let (sim, expected) = planted(1200, 0.05, 0, STRICT).await;
    scan_finds_the_planted_set(&sim, &expected, "paging_scan_strict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_salesforces_usual_paging_a_scan_makes_the_fewest_api_calls() {
    // Full pages of 500 (a batch size Salesforce may pick), so the big queries span pages.
    let usual = Paging {
        default_batch: 500,
        ..Paging::default()
    };
    let (sim, expected) = planted(1200, 0.05, 0, usual).await;
    let report = scan_finds_the_planted_set(&sim, &expected, "paging_scan_minimum").await;
    let pages = report["api"]["query_pages"].as_u64().expect("query_pages");
    // Round one: five small queries in one call; round two: its pages five to a call (no page
    // fetched twice); and the describe that looks for the Natterbox package.
    assert!(pages > 10, "several pages: {pages}");
    assert_eq!(
        report["api"]["calls"],
        1 + (pages - 5).div_ceil(5) + 1,
        "{pages} pages"
    );
    assert_eq!(
        sim.sim.org.stats().api_calls,
        1 + (pages - 5).div_ceil(5) + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_cursor_is_run_again_and_the_scan_stays_exact() {
    let paging = Paging {
        default_batch: 500,
        release_cursor_at: Some(1),
        ..Paging::default()
    };
    let (sim, expected) = planted(1200, 0.05, 0, paging).await;
    scan_finds_the_planted_set(&sim, &expected, "paging_scan_released").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_rereading_more_than_ten_paged_queries_keeps_its_cursors_and_frees_every_seat() {
    // Pages of 200 rows: each 300-user query of the re-read before acting spans pages, and the
    // plan's 1 250 users make 15 of them, more than the 10 cursors a user may keep open.
    let paging = Paging {
        default_batch: 200,
        ..Paging::default()
    };
    let (sim, expected) = planted(5000, 0.25, 0, paging).await;
    let before = sim
        .sim
        .org
        .used_licenses("ServiceCloudVoicePsl")
        .expect("Voice PSL");
    run(
        &sim,
        "paging_apply_cursors",
        "[org.window]\nalways_open = true\n[org.apply]\nmax_actions = 100000\nmax_voice_user_share = 1.0\n",
        &["apply", "--yes"],
    )
    .await;
    let after = sim
        .sim
        .org
        .used_licenses("ServiceCloudVoicePsl")
        .expect("Voice PSL");
    assert_eq!(
        before - after,
        reclaimable(&expected),
        "one Voice seat freed per planted double consumer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_with_opaque_locators_and_short_pages_frees_every_planted_seat() {
    let (sim, expected) = planted(800, 0.1, 0, STRICT).await;
    let before = sim
        .sim
        .org
        .used_licenses("ServiceCloudVoicePsl")
        .expect("Voice PSL");
    run(
        &sim,
        "paging_apply_strict",
        "[org.window]\nalways_open = true\n[org.apply]\nmax_actions = 100000\nmax_voice_user_share = 1.0\n",
        &["apply", "--yes"],
    )
    .await;
    let after = sim
        .sim
        .org
        .used_licenses("ServiceCloudVoicePsl")
        .expect("Voice PSL");
    assert_eq!(before - after, reclaimable(&expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_with_opaque_locators_and_short_pages_counts_what_usual_paging_counts() {
    let usage = "[org.usage]\ntime_zone = \"Europe/London\"\n";
    let mut totals = Vec::new();
    for (name, paging) in [
        ("paging_usage_default", Paging::default()),
        ("paging_usage_strict", STRICT),
    ] {
        let (sim, _) = planted(300, 0.02, 4000, paging).await;
        // `generate` spreads the calls over the 120 days before its as-of day (2026-06-30).
        let folder = run(
            &sim,
            name,
            usage,
            &["usage", "--from", "2026-03-01", "--to", "2026-06-30"],
        )
        .await;
        let report = read(folder.join("usage.json"));
        assert!(
            report["totals"]["calls"].as_u64().expect("calls") > 1000,
            "{}",
            report["totals"]
        );
        totals.push(report["totals"].clone());
    }
    assert_eq!(totals[0], totals[1]);
}
