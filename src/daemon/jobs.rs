//! One job of one org: a scan or an apply, through the same entry points as the CLI, then the
//! metrics, the notifications and the report retention.
//!
//! Must not: decide about the window itself. `apply` does, at run time, in the org's time zone,
//! and refuses outside it (which is reported as `window_closed`, not as a failure).

use std::collections::BTreeSet;

use chrono::Utc;

use super::Shared;
use super::metrics::{JobEnd, JobKind, JobStatus, LicenseSeats};
use super::notify::{self, Event};
use crate::apply::ApplyError;
use crate::commands::apply::ApplyOptions;
use crate::commands::scan::ScanOptions;
use crate::state::{ActionStatus, StateError, StateStore};

/// Runs the job and records how it ended.
pub async fn run_job(shared: &Shared, org_name: &str, kind: JobKind) -> JobEnd {
    let started = std::time::Instant::now();
    let settings = shared.settings();
    let end = match settings.org(Some(org_name)) {
        // The org left the config in a reload after the tick was sent.
        Err(e) => JobEnd {
            status: JobStatus::Failed,
            run_id: None,
            message: Some(e.to_string()),
        },
        Ok(org) => match kind {
            JobKind::Scan => scan(shared, &settings, org).await,
            JobKind::Apply => apply(shared, &settings, org).await,
        },
    };
    match end.status {
        JobStatus::Failed => tracing::error!(
            status = end.status.as_str(),
            run = end.run_id,
            "{kind} failed: {}",
            end.message.as_deref().unwrap_or("")
        ),
        JobStatus::DryRunMode => tracing::warn!(
            status = end.status.as_str(),
            "{kind} skipped: {}",
            end.message.as_deref().unwrap_or("")
        ),
        _ => tracing::info!(
            status = end.status.as_str(),
            run = end.run_id,
            "{kind} ended{}",
            end.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
    }
    if end.status == JobStatus::Failed {
        let event = Event::failure(
            org_name,
            kind.as_str(),
            end.message.as_deref().unwrap_or(""),
        );
        notify::send(&shared.http, &shared.webhooks(), &event).await;
    }
    match super::retention::prune_reports(
        &settings.reports_dir,
        org_name,
        settings.daemon.keep_reports,
    ) {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "old report folders removed (keep_reports)"),
        Err(e) => tracing::warn!(error = %e, "cannot remove old report folders"),
    }
    shared
        .metrics
        .job_ended(org_name, kind, Utc::now(), started.elapsed(), end.clone());
    end
}

async fn scan(
    shared: &Shared,
    settings: &crate::config::Settings,
    org: &crate::config::OrgSettings,
) -> JobEnd {
    let outcome = match crate::commands::scan::run(settings, org, &ScanOptions::default()).await {
        Ok(o) => o,
        Err(e) => {
            return JobEnd {
                status: JobStatus::Failed,
                run_id: None,
                message: Some(e.to_string()),
            };
        }
    };
    let report = &outcome.report;
    shared.metrics.update(&org.name, |m| {
        m.findings = Some(report.findings.len() as u64);
        let seats = report.seat_totals();
        m.recoverable_seats = Some(u64::from(seats.recoverable()));
        m.seats_freed_by_plan = Some(u64::from(seats.freed_by_plan));
        m.seats_needing_admin = Some(u64::from(seats.needs_admin));
        m.over_allocated_licenses = Some(report.over_allocations().len() as u64);
        m.licenses = LicenseSeats::from_report(report, org.prices.as_ref());
        m.api_calls += report.api.calls;
        m.api_daily_used = report.api.daily_used.or(m.api_daily_used);
        m.api_daily_max = report.api.daily_max.or(m.api_daily_max);
    });
    // Findings not reported by the previous scan of this org get a notification.
    let keys: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| {
            (
                format!(
                    "{}|{}|{}",
                    f.rule,
                    f.user_id,
                    f.license_assignment_id.as_deref().unwrap_or(&f.psl)
                ),
                format!("{} ({}, {})", f.username, f.rule, f.psl),
            )
        })
        .collect();
    let state_key = format!("daemon.findings.{}", org.name);
    let new: Vec<String> = match remember_findings(settings, &state_key, &keys) {
        Ok(new) => new,
        Err(e) => {
            tracing::warn!(error = %e, "cannot compare with the previous scan's findings");
            Vec::new()
        }
    };
    if !new.is_empty() && org.mode == crate::config::Mode::Approved {
        let event = Event::approval_needed(
            &org.name,
            new.len(),
            report.findings.len(),
            &outcome.paths.html.display().to_string(),
        );
        notify::send(&shared.http, &shared.webhooks(), &event).await;
    }
    if !new.is_empty() {
        let event = Event::findings(
            &org.name,
            &new,
            report.findings.len(),
            report.recoverable_seats(),
            &outcome.paths.html.display().to_string(),
        );
        notify::send(&shared.http, &shared.webhooks(), &event).await;
    }
    JobEnd {
        status: JobStatus::Completed,
        run_id: None,
        message: Some(format!(
            "{} finding(s), {} new, {} recoverable seat(s); report {}",
            report.findings.len(),
            new.len(),
            report.recoverable_seats(),
            outcome.paths.dir.display()
        )),
    }
}

/// Stores this scan's finding keys and returns the descriptions of those the previous scan did
/// not have.
fn remember_findings(
    settings: &crate::config::Settings,
    state_key: &str,
    keys: &[(String, String)],
) -> Result<Vec<String>, StateError> {
    let mut store = StateStore::open(&settings.state_path)?;
    let before: BTreeSet<String> = store
        .get_value(state_key)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    let now: BTreeSet<&String> = keys.iter().map(|(k, _)| k).collect();
    store.set_value(
        state_key,
        &serde_json::to_string(&now).unwrap_or_else(|_| "[]".into()),
    )?;
    Ok(keys
        .iter()
        .filter(|(k, _)| !before.contains(k))
        .map(|(_, description)| description.clone())
        .collect())
}

async fn apply(
    shared: &Shared,
    settings: &crate::config::Settings,
    org: &crate::config::OrgSettings,
) -> JobEnd {
    if org.mode == crate::config::Mode::Approved {
        // Expired on every tick, window open or not, so the news goes out when it happens.
        let now = shared.clock.now();
        let expired = StateStore::open(&settings.state_path)
            .and_then(|mut store| store.expire_approvals(&org.name, now));
        match expired {
            Ok(list) => {
                for approval in &list {
                    let event = Event::approval_expired(&org.name, approval);
                    notify::send(&shared.http, &shared.webhooks(), &event).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot expire approvals"),
        }
    }
    let options = ApplyOptions {
        yes: true,
        cancel: Some(shared.shutting_down.clone()),
        ..ApplyOptions::default()
    };
    let result =
        crate::commands::apply::run(settings, org, &options, shared.clock.as_ref(), None).await;
    match result {
        Ok(outcome) => {
            let report = &outcome.report;
            let freed: i64 = report.seats.iter().map(|s| s.expected_change).sum();
            shared.metrics.update(&org.name, |m| {
                m.seats_freed += freed.max(0) as u64;
                m.api_calls += report.api_calls;
                m.api_daily_used = report.daily_api_used.or(m.api_daily_used);
                m.api_daily_max = report.daily_api_max.or(m.api_daily_max);
            });
            let changed = report
                .actions
                .iter()
                .any(|a| matches!(a.status, ActionStatus::Done | ActionStatus::Failed));
            if changed {
                let event = Event::run_result(&org.name, report);
                notify::send(&shared.http, &shared.webhooks(), &event).await;
            }
            if let Some(approval) = outcome
                .approval
                .as_ref()
                .filter(|a| a.status == crate::approval::ApprovalStatus::Applied)
            {
                let event = Event::approval_applied(&org.name, approval);
                notify::send(&shared.http, &shared.webhooks(), &event).await;
            }
            JobEnd {
                status: JobStatus::from(report.status),
                run_id: Some(report.run_id),
                message: Some(format!(
                    "run {}: {} action(s) decided, {freed} seat(s) freed, {} left{}",
                    report.run_id,
                    report.actions.len(),
                    report.left_for_next_run,
                    report
                        .message
                        .as_deref()
                        .map(|m| format!("; {m}"))
                        .unwrap_or_default()
                )),
            }
        }
        Err(ApplyError::WindowClosed { words, .. }) => JobEnd {
            status: JobStatus::WindowClosed,
            run_id: None,
            message: Some(format!("nothing done, outside the window: {words}")),
        },
        Err(e @ ApplyError::NothingApproved { .. }) => JobEnd {
            status: JobStatus::NoApproval,
            run_id: None,
            message: Some(e.to_string()),
        },
        Err(e @ ApplyError::NotUnattended { .. }) => JobEnd {
            status: JobStatus::DryRunMode,
            run_id: None,
            message: Some(e.to_string()),
        },
        Err(e @ ApplyError::State(StateError::OrgBusy { .. })) => JobEnd {
            status: JobStatus::OrgBusy,
            run_id: None,
            message: Some(e.to_string()),
        },
        Err(e) => JobEnd {
            status: JobStatus::Failed,
            run_id: None,
            message: Some(e.to_string()),
        },
    }
}
