//! `apply --when-open`: checks what can be checked now, waits for the org's window, then applies
//! exactly as `apply` does.
//!
//! Owns: the checks before the wait (who may run it, the state store, a plan file's digest and
//! org), the wait itself (a countdown spinner when `terminal` shows progress, a log line every few
//! minutes otherwise) and
//! leaving it on Ctrl-C or SIGTERM having changed nothing.
//!
//! Must not: change the org while waiting, or decide the window itself (`gate::check` does, with
//! the same clock the run uses: the rehearsal clock in tests).

use chrono::{DateTime, Duration, Utc};

use super::{ApplyOptions, ApplyOutcome, Prompt, read_plan_file, run, sign_in, trigger_for};
use crate::apply::ApplyError;
use crate::apply::clock::Clock;
use crate::apply::gate::{self, Decision};
use crate::config::Mode;
use crate::config::{OrgSettings, Settings};
use crate::state::StateStore;

/// How often a log line says the wait goes on when there is no terminal.
const LOG_EVERY: Duration = Duration::minutes(5);

/// How `--when-open` ended.
#[derive(Debug)]
pub enum WhenOpen {
    /// The window opened and the apply ran.
    Applied(Box<ApplyOutcome>),
    /// Ctrl-C or SIGTERM while waiting: nothing was changed.
    Interrupted,
}

/// Runs `apply --when-open`; while waiting, a countdown on stderr when the process shows
/// progress (see [`crate::terminal`]), else a log line every few minutes.
pub async fn run_when_open(
    settings: &Settings,
    org: &OrgSettings,
    options: &ApplyOptions,
    clock: &dyn Clock,
    prompt: Option<Prompt<'_>>,
) -> Result<WhenOpen, ApplyError> {
    // Everything that would refuse later is checked now, so nobody waits all evening for an
    // error.
    let trigger = trigger_for(org, options.yes, prompt)?;
    if org.mode == Mode::Approved && trigger == "unattended" && options.plan.is_some() {
        return Err(ApplyError::PlanFileInApprovedMode {
            org: org.name.clone(),
        });
    }
    drop(StateStore::open(&settings.state_path)?);
    if let Some(path) = &options.plan {
        let (path, plan) = read_plan_file(path)?;
        let (_session, org_id) = sign_in(org).await?;
        if plan.org_id != org_id {
            return Err(ApplyError::ForeignPlan {
                path,
                plan_org_id: plan.org_id,
                org: org.name.clone(),
                org_id,
            });
        }
    }
    if !wait_for_window(org, clock).await? {
        return Ok(WhenOpen::Interrupted);
    }
    Ok(WhenOpen::Applied(Box::new(
        run(settings, org, options, clock, prompt).await?,
    )))
}

/// Waits until a batch may start; `Ok(false)` when interrupted.
async fn wait_for_window(org: &OrgSettings, clock: &dyn Clock) -> Result<bool, ApplyError> {
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| ApplyError::Command(Box::new(crate::commands::CommandError::from(e))))?;
    let mut last_log: Option<DateTime<Utc>> = None;
    // Cleared when this function returns, whichever way.
    let countdown = crate::progress::Spinner::new();
    loop {
        let now = clock.now();
        let words = |t| super::window_words(org, t);
        if let Decision::Go = gate::check(&org.window, now, None, &org.apply, &words) {
            drop(countdown);
            tracing::info!("the window of org `{}` is open: applying", org.name);
            return Ok(true);
        }
        let report = super::super::window::run(org, now);
        let Some(opens) = report.next_open.filter(|t| *t > now) else {
            // Open but past the cutoff: the next opening is the one after this span.
            if report.open {
                if let Some(next) = report.next_open {
                    tracing::debug!(%next, "inside the cutoff; waiting for the next opening");
                }
            } else {
                return Err(ApplyError::WindowClosed {
                    org: org.name.clone(),
                    words: format!("{}; --when-open has nothing to wait for", report.summary),
                });
            }
            if !pause(&mut sigterm).await {
                return Ok(false);
            }
            continue;
        };
        let local = report
            .next_open_local
            .clone()
            .unwrap_or_else(|| opens.to_rfc3339());
        let left = opens - now;
        if countdown.is_shown() {
            countdown.set_message(format!(
                "waiting for the window of org `{}`: opens {local} (in {}) — Ctrl-C to stop",
                org.name,
                human(left)
            ));
        } else if last_log.is_none_or(|t| now - t >= LOG_EVERY) {
            tracing::info!(
                "waiting for the window of org `{}`: it opens {local} (in {}); Ctrl-C or SIGTERM \
                 stops the wait without changing anything",
                org.name,
                human(left)
            );
            last_log = Some(now);
        }
        if !pause(&mut sigterm).await {
            drop(countdown);
            tracing::info!("stopped while waiting for the window: nothing was changed");
            return Ok(false);
        }
    }
}

/// One second of waiting (the countdown's tick; the rehearsal clock moves at each reading), or
/// `false` on Ctrl-C or SIGTERM.
async fn pause(sigterm: &mut tokio::signal::unix::Signal) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => true,
        _ = tokio::signal::ctrl_c() => false,
        _ = sigterm.recv() => false,
    }
}

/// "7 h 57 min", "3 min 10 s".
fn human(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {sec:02} s")
    } else {
        format!("{sec} s")
    }
}
