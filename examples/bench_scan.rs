//! The scan benchmark: `pslwarden scan` against generated orgs served by `sfsim`, each in its own
//! process, so the wall time and peak memory are the scan's alone.
//!
//! ```sh
//! cargo build --release --workspace --bins --examples
//! target/release/examples/bench_scan --users 10000,100000 --latency-ms 0,20
//! target/release/examples/bench_scan --users 100000 --latency-ms 0,20 --apply
//! ```
//!
//! For each org size, added latency and paging mode it prints: wall time and peak RSS of the scan
//! process, API calls made (the simulator's own count), the fewest API calls that could read the
//! org (its query pages at full batches, five per composite call, as the `default` mode reads
//! them) and the ratio, and findings found vs planted. `--paging default,strict` (the default)
//! picks the simulator's paging modes: `default` is Salesforce's usual paging, `strict` serves
//! with `--locators opaque --short-pages`, where pages must be followed one `nextRecordsUrl` at
//! a time.
//!
//! With `--usage N` it measures `pslwarden usage` on the same orgs grown by N generated
//! `VoiceCall` records (over the 120 days before `sfsim generate --as-of 2026-05-01`, read whole
//! with `usage --from 2026-01-01 --to 2026-04-30`): wall time, peak RSS, API calls, query pages,
//! calls and segments counted, and the minutes.
//!
//! With `--idle N` it measures `pslwarden scan` with the `idle-voice-seat` rule on (`[org.idle]`
//! with the generator's exception names) on the same orgs grown by N generated `VoiceCall`
//! records spread over the last 120 days, with idle agents planted (`sfsim generate
//! --voice-calls N`): wall time, peak RSS, API calls, query pages, and idle seats found vs the
//! planted `idle_voice_seat_user_ids`.
//!
//! With `--apply` it measures `pslwarden apply --yes` instead (its scan, the re-read of the
//! plan's users, the batches and the check of the seats afterwards, in an always-open window
//! with the caps lifted): wall time, peak RSS, API calls, write calls, records deleted and
//! deleted per write call, and seats freed as the journal and as the org count them.
//! A benchmark, not a test: it asserts nothing, it measures.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Consumer key and client secret of the demo connected app the generated orgs carry.
const DEMO_CLIENT_ID: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
const DEMO_CLIENT_SECRET: &str = "demo-only-client-secret";

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_scan: {e}");
        std::process::exit(1);
    }
}

fn arg_list(args: &[String], name: &str, default: &str) -> Result<Vec<u64>, String> {
    let value = args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
        .unwrap_or(default);
    value
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name}: `{v}` is not a whole number"))
        })
        .collect()
}

/// `sfsim generate --as-of` for every generated org: its voice calls (with `--usage`) then
/// cover 2026-01-01..2026-04-29, which `bench_usage` reads whole.
const USAGE_AS_OF: &str = "2026-05-01";

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let users = arg_list(&args, "--users", "10000,100000")?;
    let latencies = arg_list(&args, "--latency-ms", "0,20")?;
    let seed = arg_list(&args, "--seed", "7")?[0];
    let apply = args.iter().any(|a| a == "--apply");
    let pagings: Vec<String> = args
        .iter()
        .position(|a| a == "--paging")
        .and_then(|i| args.get(i + 1))
        .map_or("default,strict", String::as_str)
        .split(',')
        .map(|m| m.trim().to_string())
        .collect();
    if let Some(bad) = pagings
        .iter()
        .find(|m| !["default", "strict"].contains(&m.as_str()))
    {
        return Err(format!("--paging: `{bad}` is not `default` or `strict`"));
    }
    let idle_calls = if args.iter().any(|a| a == "--idle") {
        Some(arg_list(&args, "--idle", "1000000")?[0])
    } else {
        None
    };
    let voice_calls = if args.iter().any(|a| a == "--usage") {
        Some(arg_list(&args, "--usage", "200000")?[0])
    } else {
        None
    };
    let bin_dir = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory")?
        .to_path_buf();
    let pslwarden = bin_dir.join("pslwarden");
    let sfsim = bin_dir.join("sfsim");
    for b in [&pslwarden, &sfsim] {
        if !b.is_file() {
            return Err(format!(
                "{} is missing: run `cargo build --release --workspace --bins --examples` first",
                b.display()
            ));
        }
    }
    let work = std::env::temp_dir().join(format!("pslwarden-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;

    if idle_calls.is_some() {
        println!(
            "| users | voice calls | latency ms | wall s (without the rule) | peak RSS MB | API calls (without the rule) | query pages | idle found/planted | deactivated found/planted | extra idle findings |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    } else if voice_calls.is_some() {
        println!(
            "| users | voice calls | latency ms | wall s | peak RSS MB | API calls | query pages | calls | segments | SCV minutes | telephony minutes |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    } else if apply {
        println!(
            "| users | latency ms | wall s | peak RSS MB | API calls | write calls | records deleted | deleted per write call | seats freed (journal) | seats freed (org) |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    } else {
        println!(
            "| users | paging | latency ms | wall s | peak RSS MB | API calls | min API calls | calls / min | query pages | double consumption found/planted | orphan seats found/planted | extra findings |"
        );
        println!("|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    for &n in &users {
        let fixture = work.join(format!("org-{n}.json"));
        // In a child process: the benchmark's own memory must stay small, because a child forked
        // from a large process reports the parent's pages in its peak RSS.
        let generated = Command::new(&sfsim)
            .args([
                "generate",
                "--users",
                &n.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .args([
                "--voice-calls",
                &idle_calls.or(voice_calls).unwrap_or(0).to_string(),
            ])
            // Usage: the calls fall in the 120 days before the as-of day, 2026-01-01..
            // 2026-04-29, the period `bench_usage` reads. Idle: the as-of day is today (the
            // generator's default), since a release scan's period ends at the real "now".
            .args(if idle_calls.is_some() {
                vec![]
            } else {
                vec!["--as-of", USAGE_AS_OF]
            })
            .arg("--out")
            .arg(&fixture)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run sfsim generate: {e}"))?;
        if !generated.success() {
            return Err(format!("sfsim generate failed: {generated}"));
        }
        let expected: serde_json::Value = read_json(&PathBuf::from(format!(
            "{}.expected.json",
            fixture.display()
        )))?;
        for &latency in &latencies {
            if let Some(n_calls) = idle_calls {
                let case = IdleCase {
                    users: n,
                    calls: n_calls,
                    latency_ms: latency,
                };
                println!(
                    "{}",
                    bench_idle(&pslwarden, &sfsim, &work, &fixture, &expected, &case)?
                );
                continue;
            }
            if let Some(n_calls) = voice_calls {
                let row = bench_usage(&pslwarden, &sfsim, &work, &fixture, n, n_calls, latency)?;
                println!("{row}");
                continue;
            } else if apply {
                println!(
                    "{}",
                    bench_apply(&pslwarden, &sfsim, &work, &fixture, n, latency)?
                );
                continue;
            }
            // The minimum comes from the default mode's pages (full batches); a strict run
            // alone uses its own pages, which overstates it.
            let mut minimum = None;
            for paging in &pagings {
                let case = Case {
                    users: n,
                    latency_ms: latency,
                    paging,
                };
                let (row, min) = bench_one(
                    &pslwarden, &sfsim, &work, &fixture, &expected, &case, minimum,
                )?;
                minimum = minimum.or(Some(min));
                println!("{row}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Kills the simulator when the case ends, however it ends.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One scan measurement: the org size, the added latency and the simulator's paging mode.
struct Case<'a> {
    users: u64,
    latency_ms: u64,
    /// `default` or `strict` (opaque locators and short pages).
    paging: &'a str,
}

/// `sfsim serve` flags of a paging mode.
fn paging_flags(paging: &str) -> &'static [&'static str] {
    if paging == "strict" {
        &["--locators", "opaque", "--short-pages"]
    } else {
        &[]
    }
}

/// Starts `sfsim serve` on the fixture and returns it with its base URL.
fn serve(
    sfsim: &Path,
    fixture: &Path,
    latency_ms: u64,
    paging: &[&str],
) -> Result<(Served, String), String> {
    let mut child = Command::new(sfsim)
        .args(["serve", "--fixture"])
        .arg(fixture)
        .args(paging)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--latency-ms",
            &latency_ms.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start sfsim: {e}"))?;
    let stdout = child.stdout.take().ok_or("sfsim has no stdout")?;
    let served = Served(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("sfsim did not print its URL: {line:?}"))?
        .to_string();
    Ok((served, url))
}

/// One scan; returns its table row and the fewest API calls its pages needed.
fn bench_one(
    pslwarden: &Path,
    sfsim: &Path,
    work: &Path,
    fixture: &Path,
    expected: &serde_json::Value,
    case: &Case<'_>,
    minimum: Option<u64>,
) -> Result<(String, u64), String> {
    let (users, latency_ms, paging) = (case.users, case.latency_ms, case.paging);
    let (served, url) = serve(sfsim, fixture, latency_ms, paging_flags(paging))?;
    let (case, config) = write_config(
        &work.join(format!("case-{users}-{latency_ms}-{paging}")),
        &url,
        "",
    )?;

    let (wall, max_rss_kb, stats) = measure(pslwarden, &config, &["scan"], &url)?;
    drop(served);

    let report_dir = latest_report(&case)?;
    let report = read_json(&report_dir.join("report.json"))?;
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let found_ids = |rule: &str, field: &str| -> Vec<String> {
        let mut ids: Vec<String> = findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .filter_map(|f| f[field].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids
    };
    let planted = |key: &str| -> Vec<String> {
        let mut ids: Vec<String> = expected[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let dc_found = found_ids("scv-double-consumption", "user_id");
    let dc_planted = planted("double_consumption_user_ids");
    let orphan_found = found_ids("orphan-psl", "license_assignment_id");
    let orphan_planted = planted("orphan_psl_assignment_ids");
    let matched = |found: &[String], planted: &[String]| {
        found.iter().filter(|id| planted.contains(id)).count()
    };
    let extra = (dc_found.len() - matched(&dc_found, &dc_planted))
        + (orphan_found.len() - matched(&orphan_found, &orphan_planted));
    let pages = report["api"]["query_pages"].as_u64().unwrap_or(0);
    // The five reference queries in one call, the rest of the pages five per composite call,
    // and the describe that looks for Natterbox.
    let own_minimum = 1 + pages.saturating_sub(5).div_ceil(5) + 1;
    let min = minimum.unwrap_or(own_minimum);
    let calls = stats["api_calls"].as_u64().unwrap_or(0);
    let row = format!(
        "| {users} | {paging} | {latency_ms} | {:.2} | {:.0} | {calls} | {min} | {:.2} | {pages} | {}/{} | {}/{} | {extra} |",
        wall.as_secs_f64(),
        max_rss_kb as f64 / 1024.0,
        calls as f64 / min.max(1) as f64,
        matched(&dc_found, &dc_planted),
        dc_planted.len(),
        matched(&orphan_found, &orphan_planted),
        orphan_planted.len(),
    );
    Ok((row, own_minimum))
}

/// One idle-rule case.
struct IdleCase {
    users: u64,
    calls: u64,
    latency_ms: u64,
}

/// `pslwarden scan` with `[org.idle]` on a generated org with planted idle agents; the exception
/// names are the generator's (`mocks/README.md`).
fn bench_idle(
    pslwarden: &Path,
    sfsim: &Path,
    work: &Path,
    fixture: &Path,
    expected: &serde_json::Value,
    case: &IdleCase,
) -> Result<String, String> {
    let (users, calls, latency_ms) = (case.users, case.calls, case.latency_ms);
    // The same org scanned without the rule first: what reading the calls adds.
    let (served, url) = serve(sfsim, fixture, latency_ms, &[])?;
    let (_, plain_config) =
        write_config(&work.join(format!("plain-{users}-{latency_ms}")), &url, "")?;
    let (plain_wall, _, plain_stats) = measure(pslwarden, &plain_config, &["scan"], &url)?;
    drop(served);
    let (served, url) = serve(sfsim, fixture, latency_ms, &[])?;
    let (case_dir, config) = write_config(
        &work.join(format!("idle-{users}-{latency_ms}")),
        &url,
        "[org.idle]\nexcept_permission_sets = [\"Contact_Center_Supervisor\"]\n\
         except_permission_set_groups = [\"Voice_Supervisors\"]\n",
    )?;
    let (wall, max_rss_kb, stats) = measure(pslwarden, &config, &["scan"], &url)?;
    drop(served);
    let report = read_json(&latest_report(&case_dir)?.join("report.json"))?;
    let found = |kind: &str| -> Vec<String> {
        let mut ids: Vec<String> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["kind"] == kind)
            .filter_map(|f| f["user_id"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let planted = |key: &str| -> Vec<String> {
        expected[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let (idle, idle_planted) = (
        found("idle-voice-seat"),
        planted("idle_voice_seat_user_ids"),
    );
    let (gone, gone_planted) = (
        found("idle-voice-seat-deactivated-user"),
        planted("idle_voice_seat_deactivated_user_ids"),
    );
    let hits = |f: &[String], p: &[String]| f.iter().filter(|id| p.contains(id)).count();
    let extra = idle.len() - hits(&idle, &idle_planted) + gone.len() - hits(&gone, &gone_planted);
    Ok(format!(
        "| {users} | {calls} | {latency_ms} | {:.2} ({:.2}) | {:.0} | {} ({}) | {} | {}/{} | {}/{} | {extra} |",
        wall.as_secs_f64(),
        plain_wall.as_secs_f64(),
        max_rss_kb as f64 / 1024.0,
        stats["api_calls"].as_u64().unwrap_or(0),
        plain_stats["api_calls"].as_u64().unwrap_or(0),
        report["api"]["query_pages"].as_u64().unwrap_or(0),
        hits(&idle, &idle_planted),
        idle_planted.len(),
        hits(&gone, &gone_planted),
        gone_planted.len(),
    ))
}

/// `pslwarden apply --yes` on a generated org: an always-open window, the caps lifted.
fn bench_apply(
    pslwarden: &Path,
    sfsim: &Path,
    work: &Path,
    fixture: &Path,
    users: u64,
    latency_ms: u64,
) -> Result<String, String> {
    let (served, url) = serve(sfsim, fixture, latency_ms, &[])?;
    let (case, config) = write_config(
        &work.join(format!("apply-{users}-{latency_ms}")),
        &url,
        "mode = \"apply\"\n\n[org.window]\nalways_open = true\n\n[org.apply]\nmax_actions = 1000000\n\
         max_voice_user_share = 1.0\n",
    )?;
    let (wall, max_rss_kb, stats) = measure(pslwarden, &config, &["apply", "--yes"], &url)?;
    drop(served);
    let report_dir = latest_report(&case)?;
    let report = read_json(&report_dir.join("apply.json"))?;
    let actions = report["actions"].as_array().cloned().unwrap_or_default();
    let deleted = actions
        .iter()
        .filter(|a| a["op"] == "delete" && a["status"] == "done" && a["outcome"] == "deleted")
        .count();
    let writes = stats["write_calls"].as_u64().unwrap_or(0);
    let freed = |key: &str| -> i64 {
        report["seats"]
            .as_array()
            .map(|rows| rows.iter().filter_map(|r| r[key].as_i64()).sum())
            .unwrap_or(0)
    };
    Ok(format!(
        "| {users} | {latency_ms} | {:.2} | {:.0} | {} | {writes} | {deleted} | {:.0} | {} | {} |",
        wall.as_secs_f64(),
        max_rss_kb as f64 / 1024.0,
        stats["api_calls"],
        deleted as f64 / writes.max(1) as f64,
        freed("expected_change"),
        freed("actual_change"),
    ))
}

/// `pslwarden usage` over all the generated calls (2026-01-01..2026-04-30).
fn bench_usage(
    pslwarden: &Path,
    sfsim: &Path,
    work: &Path,
    fixture: &Path,
    users: u64,
    voice_calls: u64,
    latency_ms: u64,
) -> Result<String, String> {
    let (served, url) = serve(sfsim, fixture, latency_ms, &[])?;
    let (case, config) = write_config(&work.join(format!("usage-{users}-{latency_ms}")), &url, "")?;
    let (wall, max_rss_kb, stats) = measure(
        pslwarden,
        &config,
        &["usage", "--from", "2026-01-01", "--to", "2026-04-30"],
        &url,
    )?;
    drop(served);
    // Only the totals: a month's usage.json holds every call, and a parsed tree of it would
    // stay in this process's heap, which the next case's child would then count as its own.
    #[derive(serde::Deserialize)]
    struct Summary {
        totals: serde_json::Value,
        query_pages: u64,
    }
    let path = latest_report(&case)?.join("usage.json");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    drop(text);
    let t = &summary.totals;
    Ok(format!(
        "| {users} | {voice_calls} | {latency_ms} | {:.2} | {:.0} | {} | {} | {} | {} | {:.0} | {} |",
        wall.as_secs_f64(),
        max_rss_kb as f64 / 1024.0,
        stats["api_calls"],
        summary.query_pages,
        t["calls"],
        t["segments"],
        t["scv_minutes"].as_f64().unwrap_or(0.0),
        t["telephony_minutes"],
    ))
}

/// The case's config: the generated org at `url` (client credentials of the demo app), reports
/// and state in the case's folder, and `org_extra` (keys, then tables) in the org block.
/// Returns the (fresh, empty) case folder and the config's path.
fn write_config(case: &Path, url: &str, org_extra: &str) -> Result<(PathBuf, PathBuf), String> {
    let _ = std::fs::remove_dir_all(case);
    std::fs::create_dir_all(case).map_err(|e| e.to_string())?;
    let config = case.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[defaults]\nreports_dir = \"reports\"\nstate_path = \"state/pslwarden.sqlite\"\n\n\
             [[org]]\nname = \"bench\"\n{org_extra}\n[org.auth]\nflow = \"client_credentials\"\n\
             login_url = \"{url}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\n\
             client_secret_env = \"PSLWARDEN_BENCH_SECRET\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    Ok((case.to_path_buf(), config))
}

/// Runs `pslwarden --config CONFIG ARGS` against the simulator at `url`; returns its wall time,
/// peak RSS (KiB) and the simulator's counters afterwards.
fn measure(
    pslwarden: &Path,
    config: &Path,
    args: &[&str],
    url: &str,
) -> Result<(std::time::Duration, i64, serde_json::Value), String> {
    let started = Instant::now();
    let child = Command::new(pslwarden)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("PSLWARDEN_BENCH_SECRET", DEMO_CLIENT_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start pslwarden: {e}"))?;
    let (status, max_rss_kb) = wait_with_rusage(child)?;
    let wall = started.elapsed();
    if !status.success() {
        return Err(format!("pslwarden {} failed: {status}", args.join(" ")));
    }
    let stats = http_get_json(&format!("{url}/__sim/stats"))?;
    Ok((wall, max_rss_kb, stats))
}

/// The newest report folder of the case's org.
fn latest_report(case: &Path) -> Result<PathBuf, String> {
    std::fs::read_dir(case.join("reports/bench"))
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .max()
        .ok_or_else(|| "no report written".to_string())
}

/// Waits for `child` and returns its exit status and peak resident set size in KiB.
fn wait_with_rusage(child: Child) -> Result<(std::process::ExitStatus, i64), String> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, waited once
    // (std's `Child` is not waited on afterwards: it is forgotten below).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    if rc < 0 {
        return Err(format!("wait4 failed: {}", std::io::Error::last_os_error()));
    }
    Ok((std::process::ExitStatus::from_raw(status), usage.ru_maxrss))
}

/// A tiny HTTP GET for the simulator's stats (loopback, plain HTTP).
fn http_get_json(url: &str) -> Result<serde_json::Value, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let body = reqwest::get(url)
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        serde_json::from_str(&body).map_err(|e| e.to_string())
    })
}
