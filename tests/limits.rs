//! Salesforce's request limits, end to end: orgs whose id lists make queries longer than a
//! request URI may be (16 384 bytes; sfsim answers 414 like Salesforce) are scanned and applied
//! by the real binary, which cuts every `IN (...)` list to fit.

use serde_json::{Value, json};
use sfsim::Org;

use crate::apply::{INSIDE, cli, config, outcome};
use crate::support::{Sim, repo_root, scratch_dir};

const VOICE_PSL: &str = "ServiceCloudVoicePsl";

/// Licensed permission sets added to the seed: each id costs 28 bytes in an encoded `IN` list,
/// so one list of all of them (≈ 20 000 bytes) is over the URI limit.
const CATALOG_SETS: usize = 700;

/// The seed example plus a permission set license with `CATALOG_SETS` permission sets on it,
/// none assigned: the findings are the seed's, but every query over the licensed sets is long.
fn seed_with_a_large_catalog() -> Org {
    let fixtures = repo_root().join("mocks/fixtures");
    let text = std::fs::read_to_string(fixtures.join("seed-example.json")).expect("seed");
    let mut fixture: Value = serde_json::from_str(&text).expect("seed JSON");
    let id = |prefix: &str, n: usize| {
        sfsim::ids::to_id18(&format!("{prefix}{n:012}")).expect("a valid id")
    };
    let psl = id("0PL", 900_000);
    fixture["PermissionSetLicense"]
        .as_array_mut()
        .expect("licenses")
        .push(json!({
            "Id": psl, "DeveloperName": "CatalogPsl", "MasterLabel": "Catalog",
            "TotalLicenses": 10, "Status": "Active", "ExpirationDate": null
        }));
    let sets = fixture["PermissionSet"].as_array_mut().expect("sets");
    for n in 0..CATALOG_SETS {
        sets.push(json!({
            "Id": id("0PS", 900_000 + n), "Name": format!("Catalog_Set_{n:04}"),
            "Label": format!("Catalog set {n}"), "LicenseId": psl, "IsOwnedByProfile": false,
            "PermissionSetGroupId": null, "NamespacePrefix": null, "IsCustom": true
        }));
    }
    Org::from_fixture_str(&fixture.to_string(), &fixtures).expect("the large catalog loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_an_org_with_hundreds_of_licensed_sets_cuts_its_queries_to_fit() {
    let sim = Sim::with(seed_with_a_large_catalog()).await;
    let dir = scratch_dir("limits_scan_catalog");
    let cfg = config(&dir, &sim, "");
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    // The seed's one double consumer is found as without the catalog.
    let reports = dir.join("reports/sim");
    let run = std::fs::read_dir(&reports)
        .expect("a report folder")
        .map(|e| e.expect("entry").path())
        .max()
        .expect("one run");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    let users: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "scv-double-consumption")
        .filter_map(|f| f["username"].as_str())
        .collect();
    assert_eq!(users.len(), 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_on_an_org_with_hundreds_of_licensed_sets_rereads_and_frees_the_seat() {
    let sim = Sim::with(seed_with_a_large_catalog()).await;
    let dir = scratch_dir("limits_apply_catalog");
    let cfg = config(&dir, &sim, "[org.window]\nalways_open = true\n");
    assert_eq!(sim.sim.org.used_licenses(VOICE_PSL), Some(2));
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(sim.sim.org.used_licenses(VOICE_PSL), Some(1), "{stdout}");
}

#[test]
fn the_catalog_is_long_enough_to_break_one_list() {
    // Guards the tests above: with fewer sets one IN list would still fit and they would
    // prove nothing.
    let ids: Vec<String> = (0..CATALOG_SETS)
        .map(|n| format!("0PS{:012}AAA", 900_000 + n))
        .collect();
    let soql = format!(
        "SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId IN ({})",
        pslwarden::snapshot::soql::soql_list(&ids)
    );
    assert!(pslwarden::snapshot::soql::url_bytes(&soql) > 16_384);
}
