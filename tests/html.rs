//! The scan report's HTML page as people read it: `pslwarden scan` (the real binary) against a
//! simulated org over HTTP, then the rendered `report.html` read back.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sfsim::generate::{GenerateOptions, generate};
use sha2::{Digest, Sha256};

use crate::scan::config_for;
use crate::support::{pslwarden, repo_root, scratch_dir, text};

/// Scans the org of `cfg` (exit 0 or 2: clean or findings) and returns its report.html.
fn scan_page(dir: &Path, cfg: &Path) -> String {
    let out = pslwarden(dir, &["--config", cfg.to_str().expect("utf8"), "scan"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let base = dir.join("reports/sim");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("no reports in {}: {e}", base.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    runs.sort();
    let run = runs.pop().expect("a report folder");
    std::fs::read_to_string(run.join("report.html")).expect("report.html")
}

/// A fixture written into `dir` from `fixture` (JSON), with the connected app's public key file
/// made absolute so the copy loads from anywhere. Returns its path.
fn write_fixture(dir: &Path, mut fixture: Value) -> PathBuf {
    let app = &mut fixture["_org"]["connected_app"];
    if let Some(relative) = app["jwt_public_key_file"].as_str() {
        let absolute = repo_root().join("mocks/fixtures").join(relative);
        app["jwt_public_key_file"] = absolute.display().to_string().into();
    }
    let path = dir.join("fixture.json");
    std::fs::write(&path, fixture.to_string()).expect("write fixture");
    path
}

/// The part of `html` from the first `from` to the next `to` after it.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in the page"));
    let rest = &html[start..];
    &rest[..rest.find(to).map_or(rest.len(), |end| end + to.len())]
}

/// Standard base64 (RFC 4648 §4), to check the policy's hashes independently of the tool.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The 300-user generated org (seed 7): six double consumers (one of them through a group, so
/// a manual step), three orphaned seats, 24 licenses of which most have no finding.
fn generated_org(dir: &Path) -> PathBuf {
    let generated = generate(&GenerateOptions {
        users: 300,
        seed: 7,
        ..GenerateOptions::default()
    });
    assert_eq!(generated.expected.double_consumption_user_ids.len(), 6);
    let fixture = write_fixture(dir, generated.fixture);
    let cfg = config_for(dir, fixture.to_str().expect("utf8"), "");
    // The generated org signs in a user of its own domain.
    let text = std::fs::read_to_string(&cfg).expect("config").replace(
        "pslwarden.integration@seed-example.org",
        "pslwarden.integration@scv-scale-7.example.com",
    );
    std::fs::write(&cfg, text).expect("config");
    cfg
}

#[test]
fn the_page_is_self_contained_under_a_strict_content_security_policy() {
    let dir = scratch_dir("html_csp");
    let cfg = config_for(&dir, "seed-example.json", "");
    let html = scan_page(&dir, &cfg);
    let policy = between(
        &html,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"",
        "\">",
    );
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        policy.contains("base-uri 'none'; form-action 'none'"),
        "{policy}"
    );
    // Every inline style and script is allowed by its own hash, and nothing else is.
    let mut inline = 0;
    for (open, close) in [("<style>", "</style>"), ("<script>", "</script>")] {
        for part in html.split(open).skip(1) {
            let body = part.split(close).next().expect("closed");
            let hash = format!("'sha256-{}'", base64(&Sha256::digest(body.as_bytes())));
            assert!(
                policy.contains(&hash),
                "{open} not in the policy: {body:.80}"
            );
            inline += 1;
        }
    }
    assert_eq!(policy.matches("'sha256-").count(), inline, "{policy}");
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script>").count()
    );
    // Nothing loads from anywhere.
    for outside in [
        "http://", "https://", "src=", "@import", "<link", "<iframe", "<img",
    ] {
        assert!(!html.contains(outside), "the page holds {outside}");
    }
    for reference in html.split("href=").skip(1) {
        assert!(reference.starts_with("\"#"), "href={reference:.40}");
    }
    for reference in html.split("url(").skip(1) {
        assert!(reference.starts_with('#'), "url({reference:.40}");
    }
}

#[test]
fn only_licenses_with_findings_are_charted_with_a_legend_and_all_are_in_the_table() {
    let dir = scratch_dir("html_charts");
    let cfg = generated_org(&dir);
    let html = scan_page(&dir, &cfg);
    let charts = between(&html, "<h2 id=\"charts\">", "</section>");
    let ledger = between(&html, "<h2 id=\"ledger\">", "</section>");
    // Four licenses have findings (the Voice license and three orphaned seats' licenses).
    assert_eq!(
        charts.matches("<figure class=\"chart\">").count(),
        4,
        "{charts}"
    );
    assert!(charts.contains("<code>ServiceCloudVoicePsl</code>"));
    assert!(
        !charts.contains("ServiceCloudVoiceExternalTelephonyPsl"),
        "no finding on it"
    );
    assert!(!charts.contains("EinsteinBotsPsl"), "no finding on it");
    assert!(
        charts.contains("The other 20 are in the table below."),
        "{charts}"
    );
    // The table keeps every license.
    assert_eq!(ledger.matches("<tr><td><code>").count(), 24, "{ledger}");
    assert!(ledger.contains("<code>EinsteinBotsPsl</code>"));
    // A legend names each hatching drawn, and the bought line.
    let legend = between(charts, "<ul class=\"legend\"", "</ul>");
    let drawn = between(charts, "<div class=\"charts\">", "</section>");
    for (pattern, words) in [
        ("hatch-freed", "Freed by the plan"),
        (
            "hatch-admin",
            "Freed only after the admin&#39;s manual step",
        ),
        (
            "hatch-orphans",
            "Orphaned: freed only if reclaim_orphan_seats is on",
        ),
    ] {
        assert!(
            drawn.contains(&format!("fill=\"url(#{pattern})\"")),
            "{pattern} drawn in a chart"
        );
        assert!(
            legend.contains(&format!("url(#{pattern})")) && legend.contains(words),
            "{pattern} in the legend: {legend}"
        );
    }
    assert!(legend.contains("Seats bought"), "{legend}");
}

#[test]
fn each_kind_of_finding_is_explained_once_and_rows_keep_what_differs() {
    let dir = scratch_dir("html_kinds");
    let cfg = generated_org(&dir);
    let html = scan_page(&dir, &cfg);
    let findings = between(&html, "<h2 id=\"findings\">", "</section>");
    let double = between(findings, "<h3 id=\"kind-1\">", "</table>");
    assert!(double.contains("Voice seats consumed twice"), "{double}");
    assert_eq!(
        findings
            .matches("only the auto-assigned Salesforce Voice permission set needs")
            .count(),
        1,
        "the kind's sentence, once"
    );
    assert_eq!(
        double.matches("<tr><td class=\"num\">").count(),
        6,
        "{double}"
    );
    // The 40-word summary of each finding is not repeated on every row ...
    assert!(!findings.contains("takes the ServiceCloudVoicePsl seat for nothing"));
    // ... while what differs from user to user is: the user and, for the one whose Voice set
    // comes through a group, which group.
    assert!(double.contains("harper.miller156@scv-scale-7.example.com"));
    assert!(double.contains("(through permission set group SCV_Voice_Access), then the seat"));
    let orphans = between(findings, "<h3 id=\"kind-2\">", "</table>");
    assert!(
        orphans.contains("Orphaned seats of active users"),
        "{orphans}"
    );
    assert_eq!(
        findings
            .matches("no permission set or permission set group they hold needs")
            .count(),
        1
    );
    assert_eq!(orphans.matches("<tr><td class=\"num\">").count(), 3);
}

#[test]
fn a_manual_plan_step_is_labelled_and_styled_apart_from_automatic_ones() {
    let dir = scratch_dir("html_manual");
    let cfg = config_for(&dir, "scan-voice-via-group.json", "");
    let html = scan_page(&dir, &cfg);
    let plan = between(&html, "<h2 id=\"plan\">", "</section>");
    let manual: Vec<&str> = plan
        .split("<tr class=\"manual\">")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap_or(""))
        .collect();
    assert!(!manual.is_empty(), "{plan}");
    for row in &manual {
        assert!(row.contains("manual: needs the admin"), "{row}");
    }
    // Automatic steps carry their own label; no row is marked both ways.
    for row in plan.split("<tr class=\"auto\">").skip(1) {
        let row = row.split("</tr>").next().unwrap_or("");
        assert!(
            row.contains(">automatic<") && !row.contains("needs the admin"),
            "{row}"
        );
    }
    // The summary says how many steps need the admin, with the same label.
    assert!(html.contains(&format!(
        "Needs the admin: {} manual step(s).",
        manual.len()
    )));
}

#[test]
fn long_api_names_wrap_only_after_separators_never_mid_word() {
    let dir = scratch_dir("html_wbr");
    let cfg = generated_org(&dir);
    let html = scan_page(&dir, &cfg);
    assert!(
        html.contains("<code>SalesforceCPQ_<wbr>CPQStandardPerm</code>"),
        "the orphaned CPQ seat's license may break only after its underscore"
    );
    for css in ["break-all", "overflow-wrap: anywhere", "word-break"] {
        assert!(!html.contains(css), "{css} breaks names mid-word");
    }
    assert!(
        html.contains("<div class=\"scroll\"><table"),
        "wide tables scroll"
    );
}

#[test]
fn a_hostile_username_is_shown_as_text_in_the_findings_table() {
    const HOSTILE: &str = "<img src=x onerror=alert(1)>\"'&\u{202e}gro.live";
    let dir = scratch_dir("html_hostile");
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("mocks/fixtures/seed-example.json"))
            .expect("seed"),
    )
    .expect("JSON");
    let user2 = fixture["User"]
        .as_array_mut()
        .expect("users")
        .iter_mut()
        .find(|u| u["Username"] == "user2@seed-example.org")
        .expect("the seed has User-2");
    user2["Username"] = HOSTILE.into();
    let fixture = write_fixture(&dir, fixture);
    let cfg = config_for(&dir, fixture.to_str().expect("utf8"), "");
    let html = scan_page(&dir, &cfg);
    assert!(!html.contains("<img"), "markup from the org");
    assert!(!html.contains('\u{202e}'), "a raw bidi override");
    let escaped = "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;\\u202egro.live";
    let findings = between(&html, "<h2 id=\"findings\">", "</section>");
    assert!(
        findings.contains(&format!("<span class=\"nowrap\">{escaped}</span>")),
        "{findings}"
    );
    assert!(!html.contains("&amp;lt;"), "escaped twice");
}
