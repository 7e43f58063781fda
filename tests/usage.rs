//! `pslwarden usage` end to end: the real binary against the simulated org of
//! `mocks/fixtures/voice-calls.json` (the seed's billing scenarios as VoiceCall records, each
//! tagged by its `VendorCallKey`), checked to the minute.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{pslwarden, repo_root, scratch_dir, text};

fn fixture() -> PathBuf {
    repo_root().join("mocks/fixtures/voice-calls.json")
}

fn config(dir: &Path, usage: &str) -> PathBuf {
    crate::scan::config_for(dir, "voice-calls.json", usage)
}

/// The fixture's scenario tag of each record id.
fn scenarios() -> BTreeMap<String, String> {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    fixture["VoiceCall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Id"].as_str().unwrap().to_string(),
                r["VendorCallKey"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs `usage` with `args` and returns the written usage.json.
fn usage(dir: &Path, cfg: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--config", cfg.to_str().unwrap(), "usage"];
    all.extend_from_slice(args);
    let out = pslwarden(dir, &all);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let reports = dir.join("reports/sim");
    let folder = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    for file in ["usage.csv", "usage.md", "usage.html"] {
        assert!(folder.join(file).is_file(), "{file} written");
    }
    serde_json::from_str(&std::fs::read_to_string(folder.join("usage.json")).unwrap()).unwrap()
}

const RATES: &str = r#"
[org.usage]
time_zone = "Europe/London"
prepaid_scv_minutes = 1000
balance_as_of = "2026-01-01"

[org.usage.telephony_rates]
inbound = 0.002
outbound = 0.01
callback = 0.01
transfer = 0.01
consult = 0.002

[org.usage.destination_rates]
"+44" = 0.02
"#;

#[test]
fn the_seeds_billing_scenarios_count_to_the_minute() {
    let dir = scratch_dir("usage_scenarios");
    let cfg = config(&dir, RATES);
    let report = usage(&dir, &cfg, &["--month", "2026-01"]);
    let tags = scenarios();
    let by_scenario: BTreeMap<String, (i64, i64)> = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                tags[c["id"].as_str().unwrap()].clone(),
                (
                    c["scv_seconds"].as_i64().unwrap(),
                    c["telephony_minutes"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    // (SCV seconds, telephony minutes)
    assert_eq!(by_scenario["inbound-ivr-queue-talk"], (600, 10));
    assert_eq!(by_scenario["abandoned-after-message"], (60, 1));
    assert_eq!(by_scenario["talk-then-consult"], (600, 15));
    assert_eq!(by_scenario["outbound"], (300, 5));
    assert_eq!(by_scenario["ten-minutes-three-seconds"], (610, 11));
    assert_eq!(by_scenario["transfer-out-of-scv"], (300, 15));
    assert_eq!(by_scenario["internal"], (90, 0));
    assert!(
        !by_scenario.contains_key("previous-period"),
        "a call begun in December belongs to December"
    );
    assert_eq!(report["totals"]["calls"], 11);
    assert_eq!(report["totals"]["telephony_minutes"], 66);
    assert_eq!(report["totals"]["scv_seconds"], 3030);
    // 42 inbound minutes at 0.002, 5 consult at 0.002, 5 + 4 to +44 at 0.02, 10 transfer
    // minutes to +1 at the transfer rate 0.01.
    let cost = report["billing"]["telephony_cost"].as_f64().unwrap();
    assert!((cost - 0.374).abs() < 1e-9, "{cost}");
    assert!((report["billing"]["balance_left"].as_f64().unwrap() - 949.5).abs() < 1e-9);
    assert!(report["billing"]["projected_run_out"].is_string());
    let queue = report["by_queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "Sales")
        .unwrap();
    assert_eq!(queue["telephony_minutes"], 11);
}

#[test]
fn bad_records_are_counted_by_the_documented_rule_and_listed() {
    let dir = scratch_dir("usage_data_quality");
    let cfg = config(&dir, RATES);
    let report = usage(&dir, &cfg, &["--from", "2026-01-08", "--to", "2026-01-08"]);
    let tags = scenarios();
    let issues: Vec<(String, String)> = report["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                tags[d["record_id"].as_str().unwrap()].clone(),
                d["issue"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        issues.contains(&("bad-end-before-start".into(), "end_before_start".into())),
        "{issues:?}"
    );
    assert!(
        issues.contains(&("bad-no-duration".into(), "no_duration".into())),
        "{issues:?}"
    );
    assert!(
        issues.contains(&("bad-nothing".into(), "no_duration".into())),
        "{issues:?}"
    );
    // Counted, never dropped: the 8th holds the callback and the three bad records.
    assert_eq!(report["totals"]["calls"], 4);
    let md = std::fs::read_to_string(
        std::fs::read_dir(dir.join("reports/sim"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .max()
            .unwrap()
            .join("usage.md"),
    )
    .unwrap();
    assert!(
        md.contains("## Data quality") && md.contains("end_before_start"),
        "{md}"
    );
}

/// The newest `usage.html` under `dir`, after a `usage --month 2026-01` run of the fixture.
fn january_page(name: &str) -> String {
    let dir = scratch_dir(name);
    let cfg = config(&dir, "");
    usage(&dir, &cfg, &["--month", "2026-01"]);
    let folder = std::fs::read_dir(dir.join("reports/sim"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    std::fs::read_to_string(folder.join("usage.html")).unwrap()
}

/// The page's chart, parsed: the inline `<svg>` is well-formed XML.
fn chart_of(html: &str) -> roxmltree::Document<'_> {
    let start = html.find("<svg").expect("an inline SVG chart");
    let end = html[start..].find("</svg>").expect("closed") + start + "</svg>".len();
    roxmltree::Document::parse(&html[start..end]).unwrap_or_else(|e| panic!("SVG: {e}"))
}

/// A number attribute of an SVG element.
fn num(node: roxmltree::Node, name: &str) -> f64 {
    node.attribute(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} of {node:?}"))
}

/// The day slots of the chart, by day.
fn day_slots<'a>(chart: &'a roxmltree::Document<'a>) -> BTreeMap<String, roxmltree::Node<'a, 'a>> {
    chart
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("day"))
        .map(|n| (n.attribute("data-day").unwrap().to_string(), n))
        .collect()
}

/// The bar of `class` in a day slot: (x, y, width, height).
fn bar(slot: roxmltree::Node, class: &str) -> (f64, f64, f64, f64) {
    let rect = slot
        .children()
        .find(|n| n.has_tag_name("rect") && n.attribute("class") == Some(class))
        .unwrap_or_else(|| panic!("a {class} bar in {:?}", slot.attribute("data-day")));
    (
        num(rect, "x"),
        num(rect, "y"),
        num(rect, "width"),
        num(rect, "height"),
    )
}

#[test]
fn the_html_report_is_self_contained_with_a_daily_chart_as_wide_as_the_page() {
    let html = january_page("usage_html");
    assert!(html.contains("<svg") && html.contains("telephony minutes</title>"));
    assert!(html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src="),
        "nothing loads from anywhere"
    );
    assert!(
        !html.contains("<script"),
        "no script: the chart is plain SVG"
    );
    assert!(html.contains("no rates configured"), "no rates: says so");
    let chart = chart_of(&html);
    let svg = chart.root_element();
    assert_eq!(svg.attribute("width"), Some("100%"), "as wide as the page");
    assert!(svg.attribute("viewBox").is_some(), "scales with the page");
    // The legend is page text above the chart, not SVG text that a narrow box could cut off.
    let legend = &html[html.find("<ul class=\"legend\">").expect("a legend")..];
    let legend = &legend[..legend.find("</ul>").unwrap()];
    assert!(
        legend.contains("SCV minutes") && legend.contains("Telephony minutes"),
        "{legend}"
    );
}

#[test]
fn scv_and_telephony_minutes_of_a_day_stand_side_by_side_not_stacked() {
    let html = january_page("usage_html_grouped");
    let chart = chart_of(&html);
    let days = day_slots(&chart);
    // 5 January: 21.0 SCV minutes and 26 telephony minutes.
    let (sx, sy, sw, sh) = bar(days["2026-01-05"], "bar-scv");
    let (tx, ty, tw, th) = bar(days["2026-01-05"], "bar-tel");
    assert!(
        sx + sw <= tx,
        "side by side, not on one x: scv {sx}+{sw}, telephony {tx}"
    );
    assert!(
        (sy + sh - (ty + th)).abs() < 0.2,
        "both stand on the baseline: one does not start where the other ends"
    );
    assert!(sh > 0.0 && th > sh, "26 minutes stand taller than 21");
    assert!(
        ((th / sh) - 26.0 / 21.0).abs() < 0.02,
        "heights to scale: {th} / {sh}"
    );
    assert!(tw > 0.0);
}

#[test]
fn the_y_axis_counts_minutes_in_round_steps() {
    let html = january_page("usage_html_axis");
    let chart = chart_of(&html);
    let axis = chart
        .descendants()
        .find(|n| n.attribute("class") == Some("axis y-axis"))
        .expect("a y-axis");
    let ticks: Vec<(f64, f64)> = axis
        .children()
        .filter(|n| n.attribute("class") == Some("tick"))
        .map(|n| {
            (
                n.text().unwrap().replace(',', "").parse().unwrap(),
                num(n, "y"),
            )
        })
        .collect();
    let values: Vec<f64> = ticks.iter().map(|t| t.0).collect();
    // The busiest day has 26 telephony minutes: 0 to 30 in steps of 10.
    assert_eq!(values, [0.0, 10.0, 20.0, 30.0], "{ticks:?}");
    assert!(
        ticks.windows(2).all(|w| w[1].1 < w[0].1),
        "larger values higher up: {ticks:?}"
    );
    let unit = axis
        .children()
        .find(|n| n.attribute("class") == Some("unit"))
        .expect("an axis title");
    assert_eq!(unit.text(), Some("minutes"));
}

#[test]
fn every_day_of_the_period_has_a_slot_and_a_day_without_calls_shows_zero() {
    let html = january_page("usage_html_days");
    let chart = chart_of(&html);
    let days = day_slots(&chart);
    assert_eq!(days.len(), 31, "{:?}", days.keys().collect::<Vec<_>>());
    // 3 January had no calls: zero bars and a zero mark on the baseline, saying so.
    let quiet = days["2026-01-03"];
    assert_eq!(quiet.attribute("data-calls"), Some("0"));
    assert_eq!(bar(quiet, "bar-scv").3, 0.0);
    assert_eq!(bar(quiet, "bar-tel").3, 0.0);
    let mark = quiet
        .descendants()
        .find(|n| n.attribute("class") == Some("zero"))
        .expect("a zero mark");
    assert_eq!(
        mark.children()
            .find(|n| n.has_tag_name("title"))
            .and_then(|t| t.text()),
        Some("2026-01-03: no calls")
    );
    let busy = days["2026-01-05"];
    assert!(
        busy.descendants()
            .all(|n| n.attribute("class") != Some("zero"))
    );
}

#[test]
fn a_simulated_orgs_usage_report_says_so() {
    let dir = scratch_dir("usage_simulated");
    let cfg = config(&dir, "");
    usage(&dir, &cfg, &["--month", "2026-01"]);
    let folder = std::fs::read_dir(dir.join("reports/sim"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).unwrap();
    assert!(read("usage.html").contains("SIMULATED ORG"));
    assert!(read("usage.md").contains("SIMULATED ORG"));
    let json: Value = serde_json::from_str(&read("usage.json")).unwrap();
    assert_eq!(json["simulated"], true);
}

#[test]
fn a_bad_usage_option_fails_at_start_with_its_line() {
    let dir = scratch_dir("usage_bad_config");
    let cfg = config(&dir, "[org.usage.telephony_rates]\nvoicemail = 0.01\n");
    let out = pslwarden(&dir, &["--config", cfg.to_str().unwrap(), "usage"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("pslwarden.toml:") && stderr.contains("unknown call type `voicemail`"),
        "{stderr}"
    );
    let out = pslwarden(
        &dir,
        &[
            "--config",
            config(&dir, "").to_str().unwrap(),
            "usage",
            "--from",
            "2026-02-01",
            "--to",
            "2026-01-01",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("before --from"), "{stderr}");
}

#[test]
fn an_org_naming_voice_call_fields_differently_still_gets_its_report() {
    // `voice-calls-renamed.json`: the same calls in an org whose VoiceCall has `ToNumber` for
    // `ToPhoneNumber` and no `QueueName` at all.
    let dir = scratch_dir("usage_renamed_fields");
    let cfg = crate::scan::config_for(&dir, "voice-calls-renamed.json", RATES);
    let report = usage(&dir, &cfg, &["--month", "2026-01"]);
    assert_eq!(report["totals"]["calls"], 11);
    assert_eq!(report["totals"]["telephony_minutes"], 66);
    assert_eq!(report["totals"]["scv_seconds"], 3030);
    // The +44 destination rate still applies: the numbers were read from ToNumber.
    let cost = report["billing"]["telephony_cost"].as_f64().unwrap();
    assert!((cost - 0.374).abs() < 1e-9, "{cost}");
    let notes: Vec<&str> = report["field_notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("read from ToNumber")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("QueueName") && n.contains("no breakdown by queue")),
        "{notes:?}"
    );
    assert!(
        report["by_queue"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["key"] != "Sales")
    );
}

#[test]
fn a_voice_call_object_without_its_start_field_is_a_clear_error() {
    let dir = scratch_dir("usage_missing_start");
    let mut fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    fixture["_org"]["voice_call_fields"] = serde_json::json!({"CallStartDateTime": null});
    for call in fixture["VoiceCall"].as_array_mut().unwrap() {
        call.as_object_mut().unwrap().remove("CallStartDateTime");
    }
    // Written beside the test's config; the demo key then needs its full path.
    fixture["_org"]["connected_app"]["jwt_public_key_file"] = repo_root()
        .join("mocks/keys/demo-only-jwt-public.pem")
        .to_str()
        .unwrap()
        .into();
    let path = dir.join("voice-calls-without-start.json");
    std::fs::write(&path, fixture.to_string()).unwrap();
    let cfg = crate::scan::config_for(&dir, path.to_str().unwrap(), RATES);
    let out = pslwarden(
        &dir,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "usage",
            "--month",
            "2026-01",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("VoiceCall has no call start field (CallStartDateTime)"),
        "{stderr}"
    );
    assert!(!dir.join("reports/sim").exists(), "no report written");
}
