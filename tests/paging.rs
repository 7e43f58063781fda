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
