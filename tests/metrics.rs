//! `/metrics` as a scraper reads it: the real daemon against the simulator, its answer fetched
//! over HTTP and parsed with `prometheus-parse` (a Prometheus text parser), then checked by
//! name and label.
//!
//! The exposition is OpenMetrics text. `prometheus-parse` reads it with two limits this module
//! works around: it skips `# EOF` and `# UNIT` lines as comments (so the test checks `# EOF`
//! itself), and it reads a counter's `x_total` samples as untyped because OpenMetrics declares
//! the family as `x` (so the test checks the `# TYPE` line of each counter itself).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::daemon::{ALWAYS_OPEN, Daemon, config, config_text, receiver};
use crate::support::{Sim, scratch_dir};
use prometheus_parse::{Sample, Scrape, Value};

/// One scrape: the response's content type, its text, and the parsed samples.
struct Scraped {
    content_type: String,
    text: String,
    samples: Vec<Sample>,
}

impl Scraped {
    async fn fetch(daemon: &Daemon) -> Scraped {
        let response = reqwest::get(&daemon.metrics).await.expect("metrics answer");
        assert!(response.status().is_success(), "{}", response.status());
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.unwrap();
        let samples = Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .expect("a Prometheus text parser reads /metrics")
            .samples;
        Scraped {
            content_type,
            text,
            samples,
        }
    }

    /// The samples named `name` whose labels include all of `labels`.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .collect()
    }

    /// The value of the one sample named `name` with exactly `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self
            .find(name, labels)
            .into_iter()
            .filter(|s| s.labels.len() == labels.len())
            .collect();
        assert_eq!(found.len(), 1, "one {name}{labels:?} in\n{}", self.text);
        match &found[0].value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{name}{labels:?} is not a number: {other:?}"),
        }
    }

    /// `# TYPE family kind` is declared.
    fn declares(&self, family: &str, kind: &str) -> bool {
        self.text
            .lines()
            .any(|l| l == format!("# TYPE {family} {kind}"))
    }
}

/// The statuses each kind of job can end with, as the README lists them.
const SCAN_STATUSES: [&str; 2] = ["completed", "failed"];
const APPLY_STATUSES: [&str; 7] = [
    "completed",
    "stopped",
    "window_closed",
    "dry_run_mode",
    "no_approval",
    "org_busy",
    "failed",
];

/// The `report.json` files the daemon's scans wrote under `dir`.
fn reports(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.join("reports")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "report.json") {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_with_counters_at_zero_before_a_run_and_the_ledger_after_a_scan() {
    let sim = Sim::seed().await;
    let (hooks, _got) = receiver().await;
    let dir = scratch_dir("metrics_parse");
    // A scan once a year at New Year's midnight: none runs while the test looks.
    let yearly = format!("{ALWAYS_OPEN}\n[org.schedule]\nscan = \"0 0 0 1 1 *\"\n");
    let cfg = config(&dir, &sim, &yearly);
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;

    // Before any run.
    let before = Scraped::fetch(&daemon).await;
    assert_eq!(
        before.content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(before.text.ends_with("# EOF\n"), "{}", before.text);
    assert!(
        before.samples.iter().all(|s| s.labels.get("job").is_none()),
        "no `job` label (Prometheus sets its own): {}",
        before.text
    );
    assert_eq!(
        before.value(
            "pslwarden_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert!(
        before.declares("pslwarden_runs", "counter"),
        "{}",
        before.text
    );
    for (kind, statuses) in [("scan", &SCAN_STATUSES[..]), ("apply", &APPLY_STATUSES[..])] {
        for status in statuses {
            let labels = [("org", "sim"), ("kind", kind), ("status", status)];
            assert_eq!(before.value("pslwarden_runs_total", &labels), 0.0);
            assert_eq!(before.value("pslwarden_last_run_status", &labels), 0.0);
        }
        let none = [("org", "sim"), ("kind", kind), ("status", "none")];
        assert_eq!(before.value("pslwarden_last_run_status", &none), 1.0);
        let org_kind = [("org", "sim"), ("kind", kind)];
        assert_eq!(
            before.value("pslwarden_ticks_skipped_total", &org_kind),
            0.0
        );
        assert_eq!(
            before.value("pslwarden_job_duration_seconds_count", &org_kind),
            0.0
        );
    }
    for counter in ["pslwarden_seats_freed", "pslwarden_api_calls"] {
        assert!(before.declares(counter, "counter"), "{}", before.text);
        let total = format!("{counter}_total");
        assert_eq!(before.value(&total, &[("org", "sim")]), 0.0);
    }
    assert!(before.find("pslwarden_license_seats", &[]).is_empty());

    // A scan every second from now on.
    let every_second = format!("{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\n");
    std::fs::write(&cfg, config_text(&sim, &every_second)).unwrap();
    daemon.signal(libc::SIGHUP);
    daemon
        .wait_for(
            "pslwarden_runs_total{org=\"sim\",kind=\"scan\",status=\"completed\"}",
            1.0,
        )
        .await;
    let after = Scraped::fetch(&daemon).await;

    // The state set: exactly one status at 1, and it is how the scan ended.
    let scan_states = after.find(
        "pslwarden_last_run_status",
        &[("org", "sim"), ("kind", "scan")],
    );
    assert_eq!(scan_states.len(), 1 + SCAN_STATUSES.len(), "{}", after.text);
    let on: Vec<&str> = scan_states
        .iter()
        .filter(|s| matches!(s.value, Value::Gauge(v) if v == 1.0))
        .map(|s| s.labels.get("status").unwrap())
        .collect();
    assert_eq!(on, ["completed"], "{}", after.text);

    // The histogram: the parser groups `_bucket` by `le`; `_sum` and `_count` are beside it.
    let scan = [("org", "sim"), ("kind", "scan")];
    let histogram = after.find("pslwarden_job_duration_seconds", &scan);
    assert_eq!(histogram.len(), 1, "{}", after.text);
    let Value::Histogram(buckets) = &histogram[0].value else {
        panic!("not a histogram: {:?}", histogram[0]);
    };
    let inf = buckets
        .iter()
        .find(|b| b.less_than == f64::INFINITY)
        .expect("a +Inf bucket");
    let count = after.value("pslwarden_job_duration_seconds_count", &scan);
    assert!(count >= 1.0, "{}", after.text);
    assert!(inf.count >= count, "{}", after.text);
    assert!(after.value("pslwarden_job_duration_seconds_sum", &scan) >= 0.0);

    // The license seats are the ledger of a scan's report.json (scans never write, so every
    // scan of the seed has the same ledger).
    let report = reports(&dir)
        .into_iter()
        .next()
        .expect("the scan wrote report.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let ledger = report["ledger"].as_array().expect("a ledger");
    assert!(!ledger.is_empty());
    let mut seen = BTreeMap::new();
    for row in ledger {
        let psl = row["psl"].as_str().unwrap();
        for state in ["total", "used", "recoverable"] {
            let labels = [("org", "sim"), ("psl", psl), ("state", state)];
            let value = after.value("pslwarden_license_seats", &labels);
            assert_eq!(Some(value), row[state].as_f64(), "{psl} {state}");
            seen.insert((psl.to_string(), state), value);
        }
    }
    assert_eq!(
        after.find("pslwarden_license_seats", &[]).len(),
        seen.len(),
        "one series per ledger row and state: {}",
        after.text
    );
    let voice = [
        ("org", "sim"),
        ("psl", "ServiceCloudVoicePsl"),
        ("state", "recoverable"),
    ];
    assert!(
        after.value("pslwarden_license_seats", &voice) >= 1.0,
        "the seed wastes a Voice seat: {}",
        after.text
    );
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recoverable_monthly_cost_is_the_reports_per_priced_license() {
    let sim = Sim::seed().await;
    let (hooks, _got) = receiver().await;
    let dir = scratch_dir("metrics_money");
    // The Voice seat priced (with a sub-cent part, which the gauge keeps), another license of
    // the seed left unpriced: it must have no cost series, not a 0.
    let priced = format!(
        "{ALWAYS_OPEN}\n[org.schedule]\nscan = \"* * * * * *\"\n\n[org.prices]\n\
         currency = \"EUR\"\n\n[org.prices.seat_monthly]\nServiceCloudVoicePsl = \"75.125\"\n"
    );
    let cfg = config(&dir, &sim, &priced);
    let daemon = Daemon::start(&dir, &cfg, &hooks, None).await;
    daemon
        .wait_for(
            "pslwarden_runs_total{org=\"sim\",kind=\"scan\",status=\"completed\"}",
            1.0,
        )
        .await;
    let scraped = Scraped::fetch(&daemon).await;
    assert!(
        scraped.declares("pslwarden_monthly_cost_recoverable", "gauge"),
        "{}",
        scraped.text
    );
    let report = reports(&dir)
        .into_iter()
        .next()
        .expect("the scan wrote report.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let money = report["money"]["licenses"].as_array().expect("priced");
    let mut priced_licenses = 0;
    for license in money {
        let psl = license["psl"].as_str().unwrap();
        let labels = [("org", "sim"), ("psl", psl), ("currency", "EUR")];
        match license["recoverable"]["monthly"].as_str() {
            Some(monthly) => {
                priced_licenses += 1;
                let value = scraped.value("pslwarden_monthly_cost_recoverable", &labels);
                let expected: f64 = monthly.parse().unwrap();
                // The report rounds to cents; the gauge is the exact amount.
                assert!(
                    (value - expected).abs() < 0.01,
                    "{psl}: {value} vs {monthly}"
                );
            }
            None => assert!(
                scraped
                    .find("pslwarden_monthly_cost_recoverable", &[("psl", psl)])
                    .is_empty(),
                "no series for unpriced {psl}: {}",
                scraped.text
            ),
        }
    }
    assert_eq!(priced_licenses, 1, "{money:?}");
    assert_eq!(
        scraped.value(
            "pslwarden_monthly_cost_recoverable",
            &[
                ("org", "sim"),
                ("psl", "ServiceCloudVoicePsl"),
                ("currency", "EUR")
            ]
        ),
        75.125,
        "one recoverable Voice seat: {}",
        scraped.text
    );
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "{log}");
}
