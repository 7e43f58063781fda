//! Every scan report says what happens next: the org's mode, its window in local time, whether it
//! is open, when the fix could next run and the daemon's schedule; with the window's clock moved
//! by `PSLWARDEN_FAKE_CLOCK`, through the real binary against the seed org.

use serde_json::Value;

use crate::apply::{INSIDE, cli, config, outcome};
use crate::support::newest_report_folder as newest_report;
use crate::support::{Sim, scratch_dir};

/// Weeknights in London, 22:00–05:00, and a daemon schedule.
const LONDON_NIGHTS_SCHEDULED: &str = r#"
[org.window]
time_zone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "05:00"
crosses_midnight = true
cutoff_minutes = 15

[org.schedule]
scan = "0 0 * * * *"
apply = "every 15 minutes"
"#;

/// Tuesday 2026-01-06 14:00 in London (GMT): the window is closed until 22:00.
const TUESDAY_AFTERNOON: &str = "2026-01-06T14:00:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_outside_the_window_says_when_the_fix_could_next_run_in_every_format() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("next_closed");
    let cfg = config(&dir, &sim, LONDON_NIGHTS_SCHEDULED);
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, TUESDAY_AFTERNOON, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let closed = "It is closed now (Tue 2026-01-06 14:00 GMT (2026-01-06T14:00:00Z)); it opens Tue \
                  2026-01-06 22:00 GMT (2026-01-06T22:00:00Z)";
    let when = "The fix could next run Tue 2026-01-06 22:00 GMT (2026-01-06T22:00:00Z).";
    assert!(stdout.contains("The org's mode is apply"), "{stdout}");
    assert!(
        stdout.contains("apply \"every 15 minutes\"; the first apply tick"),
        "{stdout}"
    );
    let report = newest_report(&dir);
    let read = |name: &str| std::fs::read_to_string(report.join(name)).unwrap();
    let (md, html) = (read("report.md"), read("report.html"));
    assert!(md.contains("## What happens next"), "{md}");
    assert!(
        html.contains("<h2 id=\"next\">What happens next</h2>"),
        "{html}"
    );
    for (what, text) in [
        ("terminal", &stdout),
        ("report.md", &md),
        ("report.html", &html),
    ] {
        assert!(text.contains(closed), "{what}: {text}");
        assert!(text.contains(when), "{what}: {text}");
        assert!(text.contains("mode is apply"), "{what}: {text}");
    }

    let json: Value = serde_json::from_str(&read("report.json")).unwrap();
    let next = &json["next"];
    assert_eq!(next["version"], 1, "{next}");
    assert_eq!(next["mode"], "apply");
    assert_eq!(next["window"], "scheduled");
    assert_eq!(next["time_zone"], "Europe/London");
    assert_eq!(next["at"], TUESDAY_AFTERNOON);
    assert_eq!(next["open"], false);
    assert_eq!(next["fix_needed"], true);
    assert_eq!(next["fix_can_run_at"], "2026-01-06T22:00:00Z");
    assert_eq!(next["fix_can_run_at_local"], "2026-01-06T22:00:00+00:00");
    assert_eq!(next["unattended"], true);
    assert_eq!(next["schedule"]["apply"], "every 15 minutes");
    assert_eq!(next["schedule"]["scan"], "0 0 * * * *");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_org_inside_its_window_could_be_fixed_now_by_a_person() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("next_open");
    let tables = LONDON_NIGHTS_SCHEDULED.replace(
        "[org.schedule]\nscan = \"0 0 * * * *\"\napply = \"every 15 minutes\"\n",
        "",
    );
    let cfg = config(&dir, &sim, &tables);
    // The helper writes `mode = "apply"`; this org stays in dry-run.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("mode = \"apply\"", "mode = \"dry-run\"");
    std::fs::write(&cfg, text).unwrap();
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["scan"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("The org's mode is dry-run"), "{stdout}");
    assert!(
        stdout.contains("It is open now (Mon 2026-01-05 23:00 GMT (2026-01-05T23:00:00Z)); it closes Tue 2026-01-06 05:00 GMT (2026-01-06T05:00:00Z)"),
        "{stdout}"
    );
    assert!(stdout.contains("The fix could run now."), "{stdout}");
    assert!(stdout.contains("No daemon schedule"), "{stdout}");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(newest_report(&dir).join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["next"]["mode"], "dry-run");
    assert_eq!(json["next"]["open"], true);
    assert_eq!(json["next"]["unattended"], false);
    assert_eq!(json["next"]["schedule"], Value::Null);
    assert_eq!(json["next"]["fix_can_run_at"], INSIDE);
}
