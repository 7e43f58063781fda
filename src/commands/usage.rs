//! `pslwarden usage`: SCV minutes against telephony minutes for a period, from `VoiceCall`.
//!
//! The period is local days in the usage time zone (`[org.usage] time_zone`, else the window's,
//! else UTC): `--month YYYY-MM`, or `--from DATE --to DATE` (both days included), or the current
//! month so far. With a prepaid balance configured, the calls from its date on are read too, so
//! "balance left" is right whatever period is asked. Reads only; never changes the org.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::CommandError;
use crate::config::{OrgSettings, Settings};
use crate::connect::connect;
use crate::usage::billing::bill;
use crate::usage::compute::compute;
use crate::usage::report::{Period, UsageReport};
use crate::window::day_start;

/// Which days to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodArg {
    /// `--month YYYY-MM`.
    Month(i32, u32),
    /// `--from DATE --to DATE`, both included.
    Days(NaiveDate, NaiveDate),
    /// Neither: the current month, to date.
    ThisMonth,
}

/// Parses `--month`: `YYYY-MM`.
pub fn parse_month(text: &str) -> Result<(i32, u32), String> {
    let bad = || format!("`{text}` is not a month: write YYYY-MM, e.g. 2026-01");
    let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if (1..=12).contains(&m) && (2000..=2999).contains(&y) {
        Ok((y, m))
    } else {
        Err(bad())
    }
}

/// Parses `--from` / `--to`: `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    crate::window::parse_date(text.trim())
        .ok_or_else(|| format!("`{text}` is not a date: write YYYY-MM-DD, e.g. 2026-01-31"))
}

/// What `usage` wrote.
#[derive(Debug)]
pub struct UsageOutcome {
    pub report: UsageReport,
    pub dir: PathBuf,
}

/// The usage time zone of `org`.
pub fn usage_zone(org: &OrgSettings) -> Tz {
    org.usage
        .time_zone
        .or_else(|| org.window.time_zone())
        .unwrap_or(chrono_tz::UTC)
}

/// `[from, to)` and a label, for a period asked at `now`.
pub fn resolve_period(
    period: &PeriodArg,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>, String), String> {
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
    let next_month = |y: i32, m: u32| if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let (from_day, to_day, label) = match period {
        PeriodArg::Month(y, m) => {
            let (ny, nm) = next_month(*y, *m);
            (
                first_of(*y, *m).ok_or("bad month")?,
                first_of(ny, nm).ok_or("bad month")?,
                format!("{y:04}-{m:02}"),
            )
        }
        PeriodArg::Days(from, to) => {
            if to < from {
                return Err(format!(
                    "--to {to} is before --from {from}: give the first and the last day of the \
                     period"
                ));
            }
            (*from, *to + Duration::days(1), format!("{from}..{to}"))
        }
        PeriodArg::ThisMonth => {
            let today = now.with_timezone(&tz).date_naive();
            let (ny, nm) = next_month(today.year(), today.month());
            (
                first_of(today.year(), today.month()).ok_or("bad month")?,
                first_of(ny, nm).ok_or("bad month")?,
                format!("{:04}-{:02} (to date)", today.year(), today.month()),
            )
        }
    };
    Ok((day_start(tz, from_day), day_start(tz, to_day), label))
}

/// Reads the period's calls and writes the usage report.
pub async fn run(
    settings: &Settings,
    org: &OrgSettings,
    period: &PeriodArg,
    now: DateTime<Utc>,
) -> Result<UsageOutcome, CommandError> {
    let tz = usage_zone(org);
    let (from, to, label) = resolve_period(period, tz, now).map_err(CommandError::Usage)?;
    let balance_from = org.usage.pricing.balance.map(|b| day_start(tz, b.as_of));
    let read_from = balance_from.map_or(from, |b| b.min(from));
    let read_to = to.max(balance_from.unwrap_or(to));
    let session = connect(org).await?;
    let client = &session.client;
    let calls_before = client.calls_made();
    let bar = crate::progress::FetchBar::new(format!("org `{}`", org.name));
    let (segments, stats, field_notes) =
        crate::snapshot::fetch::fetch_voice_calls(client, read_from, read_to, &bar.sink())
            .await
            .map_err(|source| CommandError::Fetch {
                org: org.name.clone(),
                source,
            })?;
    drop(bar);
    let all = compute(&segments, &org.usage.rules, tz, read_from);
    drop(segments);
    // Without a balance the calls read are exactly the period's: no copy of them is needed.
    let (in_period, since_balance) = match balance_from {
        None => (all, None),
        Some(b) => (all.within(from, to), Some(all.within(b, to.max(b)))),
    };
    let billing = bill(
        &in_period,
        since_balance.as_ref(),
        &org.usage.pricing,
        from,
        to,
        now,
    );
    let identity = client
        .token_identity()
        .map_err(|source| CommandError::Salesforce {
            org: org.name.clone(),
            source,
        })?;
    let mut report = UsageReport::new(
        &org.name,
        &identity.org_id,
        Period {
            from: from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            to: to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            time_zone: tz.name().to_string(),
            label,
        },
        &org.usage.rules,
        in_period,
        billing,
        client.calls_made() - calls_before,
        stats.pages,
    );
    report.field_notes = field_notes;
    report.simulated = org.is_simulated();
    let started = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let dir = crate::report::write::write_run_files(
        &settings.reports_dir,
        &org.name,
        &started,
        None,
        &[
            ("usage.json", &report.render_json()),
            ("usage.csv", &report.render_csv()),
            ("usage.md", &report.render_markdown()),
            ("usage.html", &report.render_html()),
        ],
    )
    .map_err(|e| CommandError::Scan(e.into()))?;
    Ok(UsageOutcome { report, dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_day_ranges_are_local_days() {
        let london: Tz = "Europe/London".parse().unwrap();
        let now = Utc::now();
        let (from, to, label) = resolve_period(&PeriodArg::Month(2026, 7), london, now).unwrap();
        assert_eq!(
            from.to_rfc3339(),
            "2026-06-30T23:00:00+00:00",
            "BST midnight"
        );
        assert_eq!(to.to_rfc3339(), "2026-07-31T23:00:00+00:00");
        assert_eq!(label, "2026-07");
        let (from, to, _) = resolve_period(
            &PeriodArg::Days(
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            ),
            chrono_tz::UTC,
            now,
        )
        .unwrap();
        assert_eq!(
            (from.to_rfc3339(), to.to_rfc3339()),
            (
                "2026-01-01T00:00:00+00:00".to_string(),
                "2026-02-01T00:00:00+00:00".to_string()
            )
        );
        assert!(
            resolve_period(
                &PeriodArg::Days(
                    NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
                    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                ),
                chrono_tz::UTC,
                now
            )
            .is_err()
        );
        assert!(parse_month("2026-13").is_err());
        assert_eq!(parse_month("2026-01"), Ok((2026, 1)));
    }
}
