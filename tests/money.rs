//! Money end to end (issue 16): `[org.prices]` through the real binary against a simulator
//! served by the test: what each finding, license and the plan are worth in every scan output,
//! nothing money-related without prices, what an apply saved from the seats it actually freed,
//! and a config with two currencies refused at start.

use std::path::Path;

use serde_json::Value;
use sfsim::Faults;

use crate::apply::{INSIDE, cli, config, outcome};
use crate::support::newest_report_folder as newest_run;
use crate::support::{Sim, scratch_dir};

const VOICE_PSL: &str = "ServiceCloudVoicePsl";

/// The seed's Voice seat at 1 234.50 a month (so the thousands separator shows), and a license
/// the org does not have.
const PRICES: &str = r#"
[org.window]
always_open = true

[org.prices]
currency = "USD"

[org.prices.seat_monthly]
ServiceCloudVoicePsl = 1234.5
NoSuchLicense = "3.00"
"#;

const FINDING_WORTH: &str = "USD 1,234.50 / month, USD 14,814.00 / year";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The CSV's records as (header name → cell) maps.
fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.expect("record").iter().map(String::from))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priced_scan_shows_what_each_finding_license_and_the_plan_are_worth() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_priced_scan");
    let cfg = config(&dir, &sim, PRICES);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");

    // Terminal: the total, what the plan saves, the finding's and the license's worth, and
    // the warning naming the license the org lacks.
    assert!(
        stdout.contains(&format!(
            "Worth: {FINDING_WORTH} recoverable; the plan saves {FINDING_WORTH}"
        )),
        "{stdout}"
    );
    let finding_line = stdout
        .lines()
        .find(|l| l.contains("user2@seed-example.org"))
        .expect("the finding's row");
    assert!(
        finding_line.contains("USD 1,234.50") && finding_line.contains("USD 14,814.00"),
        "{finding_line}"
    );
    let voice_line = stdout
        .lines()
        .find(|l| l.starts_with(VOICE_PSL))
        .expect("the Voice license's row");
    assert!(voice_line.contains("USD 1,234.50"), "{voice_line}");
    assert!(
        stdout.contains("warning: [org.prices.seat_monthly] prices license(s) this org does not have: NoSuchLicense"),
        "{stdout}"
    );
    assert!(stderr.contains("NoSuchLicense"), "logged too: {stderr}");

    let run = newest_run(&dir);
    let report: Value = serde_json::from_str(&read(&run.join("report.json"))).expect("JSON");
    assert_eq!(report["schema_version"], 3);
    let money = &report["money"];
    assert_eq!(money["currency"], "USD");
    let finding = &money["findings"][0];
    assert_eq!(
        (&finding["finding"], &finding["psl"]),
        (&Value::from(0), &Value::from(VOICE_PSL))
    );
    assert_eq!(finding["worth"]["monthly"], "1234.50");
    assert_eq!(finding["worth"]["yearly"], "14814.00");
    assert_eq!(finding["worth"]["text"], FINDING_WORTH);
    let position = report["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .position(|row| row["psl"] == VOICE_PSL)
        .expect("Voice row");
    let voice = &money["licenses"][position];
    assert_eq!(voice["psl"], VOICE_PSL, "same position as ledger[]");
    assert_eq!(voice["seat_monthly"], "1234.50");
    assert_eq!(voice["recoverable"]["monthly"], "1234.50");
    assert_eq!(voice["freed_by_plan"]["yearly"], "14814.00");
    assert_eq!(money["totals"]["recoverable"]["yearly"], "14814.00");
    assert_eq!(money["totals"]["freed_by_plan"]["monthly"], "1234.50");
    assert_eq!(
        money["unknown_licenses"],
        serde_json::json!(["NoSuchLicense"])
    );

    let md = read(&run.join("report.md"));
    assert!(
        md.contains(&format!("What the plan would save: {FINDING_WORTH}.")),
        "{md}"
    );
    let md_finding = md
        .lines()
        .find(|l| l.contains("user2@seed-example.org"))
        .expect("finding row");
    assert!(md_finding.contains(FINDING_WORTH), "{md_finding}");
    assert!(
        md.lines()
            .any(|l| l.contains(VOICE_PSL) && l.contains("USD 14,814.00")),
        "{md}"
    );

    let rows = csv_rows(&read(&run.join("report.csv")));
    let csv_finding = rows
        .iter()
        .find(|r| r["row_type"] == "finding")
        .expect("finding row");
    assert_eq!(
        (
            csv_finding["currency"].as_str(),
            csv_finding["monthly"].as_str(),
            csv_finding["yearly"].as_str()
        ),
        ("USD", "1234.50", "14814.00")
    );
    let csv_voice = rows
        .iter()
        .find(|r| r["row_type"] == "license" && r["psl"] == VOICE_PSL)
        .expect("license row");
    assert_eq!(csv_voice["price_per_seat_monthly"], "1234.50");
    assert_eq!(csv_voice["plan_saves_monthly"], "1234.50");
    let total = rows
        .iter()
        .find(|r| r["row_type"] == "total")
        .expect("total row");
    assert_eq!(total["yearly"], "14814.00");
}

/// The `<tr>` of `html` that contains `needle`, from after `after` on.
fn row_with<'a>(html: &'a str, after: &str, needle: &str) -> &'a str {
    let start = html
        .find(after)
        .unwrap_or_else(|| panic!("{after} not in the page"));
    html[start..]
        .split("<tr")
        .find(|row| row.contains(needle))
        .and_then(|row| row.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row with {needle} after {after}:\n{html}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priced_report_html_shows_each_finding_license_the_total_and_the_plan_saving() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_priced_html");
    let cfg = config(&dir, &sim, PRICES);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let html = read(&newest_run(&dir).join("report.html"));

    // The finding's row: a month, and the year under it.
    let finding = row_with(&html, "id=\"findings\"", "user2@seed-example.org");
    assert!(
        finding.contains(">USD 1,234.50<br><span class=\"muted\">USD 14,814.00 / year</span>"),
        "{finding}"
    );
    // The Voice license's row: price, recoverable, freed by the plan, needs the admin (none).
    let license = row_with(&html, "id=\"worth\"", &format!("<code>{VOICE_PSL}</code>"));
    assert_eq!(license.matches("USD 1,234.50").count(), 3, "{license}");
    assert_eq!(
        license.matches("USD 14,814.00 / year").count(),
        4,
        "{license}"
    );
    assert!(license.contains("USD 0.00"), "{license}");
    // The seed's two other licenses have no price and no findings: left out, and said so.
    assert!(
        html.contains("2 license(s) without a price and without findings are left out."),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<strong>Recoverable seats: worth {FINDING_WORTH}.</strong>"
        )),
        "the total: {html}"
    );
    let plan = &html[html.find("id=\"plan\"").expect("plan section")..];
    assert!(
        plan.contains(&format!("What the plan would save: {FINDING_WORTH}.")),
        "{plan}"
    );
    assert!(
        html.contains("prices license(s) this org does not have: NoSuchLicense"),
        "the warning: {html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_of_an_unpriced_license_is_counted_unpriced_in_report_html_not_as_zero() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_unpriced_html");
    let cfg = config(
        &dir,
        &sim,
        "[org.window]\nalways_open = true\n\n[org.prices]\ncurrency = \"EUR\"\n\n\
         [org.prices.seat_monthly]\nSomeOtherLicense = 10\n",
    );
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let html = read(&newest_run(&dir).join("report.html"));
    let finding = row_with(&html, "id=\"findings\"", "user2@seed-example.org");
    assert!(
        finding.contains("unpriced") && !finding.contains("EUR"),
        "{finding}"
    );
    // Its license is in the worth table, unpriced: no amount in its row.
    let license = row_with(&html, "id=\"worth\"", &format!("<code>{VOICE_PSL}</code>"));
    assert!(
        license.contains("unpriced") && !license.contains("EUR"),
        "{license}"
    );
    assert!(
        html.contains(&format!(
            "Recoverable seats: worth EUR 0.00 / month, EUR 0.00 / year; 1 license unpriced \
             ({VOICE_PSL})"
        )),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_prices_no_output_shows_money() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_no_prices");
    let cfg = config(&dir, &sim, "[org.window]\nalways_open = true\n");
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let run = newest_run(&dir);
    let mut outputs = vec![("terminal".to_string(), stdout)];
    for file in ["report.json", "report.md", "report.csv", "report.html"] {
        outputs.push((file.to_string(), read(&run.join(file))));
    }
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    outputs.push(("apply terminal".to_string(), stdout));
    let apply_run = newest_run(&dir);
    for file in ["apply.json", "apply.md", "apply.html"] {
        outputs.push((file.to_string(), read(&apply_run.join(file))));
    }
    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["rollback", "--run", "1", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    outputs.push(("rollback terminal".to_string(), stdout));
    let rollback_run = newest_run(&dir);
    for file in ["rollback.json", "rollback.md", "rollback.html"] {
        outputs.push((file.to_string(), read(&rollback_run.join(file))));
    }
    for (name, text) in outputs {
        for money in [
            "USD",
            "/ month",
            "/ year",
            "\"money\"",
            "\"saving\"",
            "Worth",
            "currency",
        ] {
            assert!(!text.contains(money), "{name} shows `{money}`:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_reports_the_saving_of_the_seats_it_freed_and_rollback_what_they_cost_again() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_apply_saving");
    let cfg = config(&dir, &sim, PRICES);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        sim.sim.org.used_licenses(VOICE_PSL),
        Some(1),
        "one seat freed"
    );
    assert!(
        stdout.contains(&format!(
            "Saved {FINDING_WORTH} (1 seat(s) freed and read back as gone)"
        )),
        "{stdout}"
    );
    let run = newest_run(&dir);
    let apply: Value = serde_json::from_str(&read(&run.join("apply.json"))).expect("JSON");
    assert_eq!(apply["schema_version"], 2);
    assert_eq!(apply["saving"]["seats"], 1);
    assert_eq!(apply["saving"]["worth"]["monthly"], "1234.50");
    assert!(read(&run.join("apply.md")).contains(FINDING_WORTH));
    let html = read(&run.join("apply.html"));
    assert!(
        html.contains(&format!(
            "<strong>Seats freed and read back: 1, saving {FINDING_WORTH}</strong>"
        )),
        "{html}"
    );

    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["rollback", "--run", "1", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "The 1 seat(s) taken back cost {FINDING_WORTH} again"
        )),
        "{stdout}"
    );
    let html = read(&newest_run(&dir).join("rollback.html"));
    assert!(
        html.contains(&format!(
            "<strong>Seats taken back: 1, costing {FINDING_WORTH} again</strong>"
        )),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_salesforce_keeps_because_still_needed_is_not_counted_as_saved() {
    let sim = Sim::seed().await;
    // As in `apply::a_seat_delete_refused_because_still_needed_is_skipped_with_the_reason`:
    // seed 14 makes the Voice set's unassignment fail, so Salesforce refuses the seat delete.
    sim.sim.org.set_faults(Faults {
        seed: 14,
        lock_row_rate: 0.5,
        ..Faults::default()
    });
    let dir = scratch_dir("money_apply_still_needed");
    let cfg = config(&dir, &sim, PRICES);
    let (_, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["apply", "--yes"]).await);
    assert_eq!(
        sim.sim.org.used_licenses(VOICE_PSL),
        Some(2),
        "nothing freed"
    );
    assert!(
        stdout.contains("Salesforce kept the seat"),
        "the seat was skipped: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Saved USD 0.00 / month, USD 0.00 / year (0 seat(s) freed"),
        "the plan's seat is not counted: {stdout}"
    );
    let apply: Value =
        serde_json::from_str(&read(&newest_run(&dir).join("apply.json"))).expect("JSON");
    assert_eq!(apply["saving"]["seats"], 0);
    assert_eq!(apply["saving"]["worth"]["monthly"], "0.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_currencies_are_refused_at_start_naming_both_places() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_two_currencies");
    let cfg = config(
        &dir,
        &sim,
        "[org.usage]\ncurrency = \"GBP\"\n\n[org.prices]\ncurrency = \"EUR\"\n\
         [org.prices.seat_monthly]\nServiceCloudVoicePsl = 50\n",
    );
    let calls_before = sim.sim.org.stats().api_calls;
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_ne!(code, Some(0), "{stdout}");
    assert!(
        stderr.contains("org[sim].prices.currency")
            && stderr.contains("org[sim].usage.currency")
            && stderr.contains("\"EUR\"")
            && stderr.contains("\"GBP\""),
        "{stderr}"
    );
    assert_eq!(
        sim.sim.org.stats().api_calls,
        calls_before,
        "nothing was read"
    );
    assert!(!dir.join("reports").exists(), "no report written");
}

#[test]
fn usage_prices_scv_minutes_and_telephony_from_org_prices() {
    use crate::support::{pslwarden, text};
    let dir = scratch_dir("money_usage");
    // The rates of `usage::RATES`, written in their new home, plus an SCV minute price.
    let cfg = crate::scan::config_for(
        &dir,
        "voice-calls.json",
        r#"
[org.usage]
time_zone = "Europe/London"

[org.prices]
currency = "GBP"
scv_minute = 0.01

[org.prices.telephony]
inbound = 0.002
outbound = 0.01
callback = 0.01
transfer = 0.01
consult = 0.002

[org.prices.destination]
"+44" = 0.02
"#,
    );
    let out = pslwarden(
        &dir,
        &[
            "--config",
            cfg.to_str().expect("utf8"),
            "usage",
            "--month",
            "2026-01",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let run = newest_run(&dir);
    let report: Value = serde_json::from_str(&read(&run.join("usage.json"))).expect("JSON");
    assert_eq!(report["totals"]["scv_seconds"], 3030);
    // The same telephony cost as with the old `[org.usage]` keys (usage::RATES).
    let telephony = report["billing"]["telephony_cost"].as_f64().expect("cost");
    assert!((telephony - 0.374).abs() < 1e-9, "{telephony}");
    // 3 030 SCV seconds = 50.5 minutes at 0.01.
    let scv = report["billing"]["scv_cost"].as_f64().expect("scv cost");
    assert!((scv - 0.505).abs() < 1e-9, "{scv}");
    assert_eq!(report["billing"]["currency"], "GBP");
    for shown in [stdout, read(&run.join("usage.md"))] {
        assert!(
            shown.contains("Telephony cost estimate: GBP 0.37")
                && shown.contains("SCV minutes cost: GBP 0.51 (50.5 SCV minutes"),
            "{shown}"
        );
    }
    // The page shows both costs side by side, as the terminal and Markdown do.
    let html = read(&run.join("usage.html"));
    assert!(
        html.contains("<li>Telephony cost estimate: GBP 0.37</li>")
            && html.contains("<li>SCV minutes cost: GBP 0.51 (50.5 SCV minutes"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_says_what_the_approved_plan_would_save() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("money_approve");
    let cfg = config(&dir, &sim, PRICES);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let (code, stdout, stderr) =
        outcome(&cli(&dir, &cfg, INSIDE, &["approve", "--latest", "--yes"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("freeing 1 seat(s), worth {FINDING_WORTH}")),
        "{stdout}"
    );
}
