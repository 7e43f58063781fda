//! What happens next after a scan: the org's mode, its window, whether it is open, when the fix
//! could next run and the daemon's schedule ([`NextInfo`], `report.json`'s `next` object).
//!
//! Owns: working that out from the config's window, mode and schedule at an instant given as data,
//! and its wording for people ([`NextInfo::sentences`]), which the terminal summary, `report.md`
//! and `report.html` share.
//! Must not: read the clock (the scan passes "now" in: the rehearsal clock in a debug build) or
//! the config file; say a fix will run when the window or the mode does not allow it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::Mode;
use crate::config::OrgSchedule;
use crate::window::Window;

/// Version of the `next` object; bumped on any change a consumer would notice.
pub const NEXT_VERSION: u32 = 1;

/// What happens next, as `report.json`'s `next` object. Instants are RFC 3339 UTC; each
/// `*_local` is the same instant on the org's clock (the window's time zone) with its offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextInfo {
    /// [`NEXT_VERSION`], so consumers can refuse a shape they do not know.
    pub version: u32,
    /// The instant this was worked out for (the scan's end).
    pub at: DateTime<Utc>,
    pub at_local: Option<String>,
    /// `dry-run` (a person confirms each apply at a terminal), `apply` (unattended changes
    /// allowed) or `approved` (unattended, only plans a person approved).
    pub mode: String,
    /// `scheduled`, `always_open` or `not_configured`.
    pub window: String,
    /// The window in one line, as `pslwarden window` describes it.
    pub window_description: String,
    /// IANA zone of a scheduled window; times are shown in UTC without one.
    pub time_zone: Option<String>,
    /// The window is open at `at`.
    pub open: bool,
    /// A batch of changes may start at `at` (open, and at least the cutoff before the close).
    pub batch_allowed: bool,
    /// When open: when the open span closes.
    pub closes_at: Option<DateTime<Utc>>,
    pub closes_at_local: Option<String>,
    /// The next opening after `at`.
    pub next_open: Option<DateTime<Utc>>,
    pub next_open_local: Option<String>,
    /// The plan has actions: there is something to fix.
    pub fix_needed: bool,
    /// The earliest instant the fix could run: `at` when a batch may start now, else the next
    /// opening. `None` when there is nothing to fix, or the window never opens.
    pub fix_can_run_at: Option<DateTime<Utc>>,
    pub fix_can_run_at_local: Option<String>,
    /// The fix runs without a person: mode `apply` and an `[org.schedule]` apply schedule.
    pub unattended: bool,
    /// `[org.schedule]` as written; `None` when the daemon has no schedule for the org.
    pub schedule: Option<ScheduleInfo>,
}

/// The daemon's schedules for the org, as written in the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInfo {
    pub scan: Option<String>,
    pub apply: Option<String>,
}

impl NextInfo {
    /// Works out what happens next at `now`.
    pub fn at(
        window: &Window,
        mode: Mode,
        schedule: &OrgSchedule,
        fix_needed: bool,
        now: DateTime<Utc>,
    ) -> NextInfo {
        let state = window.state_at(now);
        let tz = window.time_zone();
        let local = |t: Option<DateTime<Utc>>| t.map(|t| local_rfc3339(tz, t));
        let fix_can_run_at = match (fix_needed, window) {
            (false, _) | (true, Window::NotConfigured) => None,
            (true, _) if state.batch_allowed => Some(now),
            (true, _) => state.next_open,
        };
        let schedule_info =
            (schedule.scan.is_some() || schedule.apply.is_some()).then(|| ScheduleInfo {
                scan: schedule.scan.as_ref().map(|s| s.written.clone()),
                apply: schedule.apply.as_ref().map(|s| s.written.clone()),
            });
        NextInfo {
            version: NEXT_VERSION,
            at: now,
            at_local: local(Some(now)),
            mode: mode.as_str().to_string(),
            window: match window {
                Window::NotConfigured => "not_configured",
                Window::AlwaysOpen => "always_open",
                Window::Scheduled(_) => "scheduled",
            }
            .to_string(),
            window_description: window.describe(),
            time_zone: tz.map(|tz| tz.name().to_string()),
            open: state.open,
            batch_allowed: state.batch_allowed,
            closes_at: state.closes_at,
            closes_at_local: local(state.closes_at),
            next_open: state.next_open,
            next_open_local: local(state.next_open),
            fix_needed,
            fix_can_run_at,
            fix_can_run_at_local: local(fix_can_run_at),
            unattended: mode == Mode::Apply && schedule.apply.is_some(),
            schedule: schedule_info,
        }
    }

    /// What happens next in sentences for people, times on the org's clock with the UTC instant
    /// beside them. Plain text: each renderer escapes it for its format.
    pub fn sentences(&self) -> Vec<String> {
        let tz: Option<Tz> = self.time_zone.as_deref().and_then(|z| z.parse().ok());
        let when = |t: DateTime<Utc>| shown(tz, t);
        let mut out = Vec::new();
        out.push(match self.mode.as_str() {
            "approved" => "The org's mode is approved: only plans a person approved with \
                           pslwarden approve are carried out (apply --yes or the daemon), inside \
                           its window; nothing else changes."
                .to_string(),
            "apply" => "The org's mode is apply: pslwarden may change it unattended (apply \
                        --yes or the daemon), inside its window."
                .to_string(),
            _ => "The org's mode is dry-run: nothing changes unattended; a person applies the \
                  plan with pslwarden apply and confirms at a terminal, inside the window."
                .to_string(),
        });
        let window = match self.window.as_str() {
            "not_configured" => "No window is configured ([org.window]): the org is never open, \
                                 so no fix can run until one is added."
                .to_string(),
            "always_open" => format!("Window: always open; now is {}.", when(self.at)),
            _ => {
                let mut s = format!(
                    "Window: {}. It is {} now ({})",
                    self.window_description,
                    if self.open { "open" } else { "closed" },
                    when(self.at)
                );
                match (self.open, self.closes_at, self.next_open) {
                    (true, Some(close), _) => s.push_str(&format!("; it closes {}", when(close))),
                    (true, None, _) => s.push_str("; it does not close within the next 400 days"),
                    (false, _, Some(open)) => s.push_str(&format!("; it opens {}", when(open))),
                    (false, _, None) => s.push_str("; it does not open within the next 400 days"),
                }
                if self.open && !self.batch_allowed {
                    s.push_str(", too soon for a new batch (the cutoff)");
                }
                s.push('.');
                s
            }
        };
        out.push(window);
        out.push(match (self.fix_needed, self.fix_can_run_at) {
            (false, _) => "Nothing to fix: the plan is empty.".to_string(),
            (true, None) => "The fix cannot run: the window never opens.".to_string(),
            (true, Some(t)) if t == self.at => "The fix could run now.".to_string(),
            (true, Some(t)) => format!("The fix could next run {}.", when(t)),
        });
        match &self.schedule {
            Some(schedule) => {
                let mut s = String::from("Daemon schedule:");
                if let Some(scan) = &schedule.scan {
                    s.push_str(&format!(" scan \"{scan}\""));
                }
                if let Some(apply) = &schedule.apply {
                    if schedule.scan.is_some() {
                        s.push(',');
                    }
                    s.push_str(&format!(" apply \"{apply}\""));
                }
                s.push_str(if self.mode == "approved" && schedule.apply.is_some() {
                    "; the first apply tick inside the window carries out approved plans only."
                } else if self.unattended {
                    "; the first apply tick inside the window runs the fix."
                } else if schedule.apply.is_some() {
                    "; its apply ticks change nothing while the mode is dry-run."
                } else {
                    "; no apply schedule, so the daemon never runs the fix."
                });
                out.push(s);
            }
            None => out.push("No daemon schedule ([org.schedule]) for this org.".to_string()),
        }
        out
    }
}

/// `t` on the org's clock with its offset, or UTC when the window has no zone.
fn local_rfc3339(tz: Option<Tz>, t: DateTime<Utc>) -> String {
    match tz {
        Some(tz) => t.with_timezone(&tz).to_rfc3339(),
        None => t.to_rfc3339(),
    }
}

/// "Tue 2026-01-06 22:00 GMT (2026-01-06T22:00:00Z)", or the UTC instant alone without a zone.
fn shown(tz: Option<Tz>, t: DateTime<Utc>) -> String {
    let utc = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match tz {
        Some(tz) => format!(
            "{} ({utc})",
            t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
        ),
        None => format!("{} UTC", t.format("%a %Y-%m-%d %H:%M")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CronSchedule;
    use crate::window::{ClockTime, Schedule, ScheduleSpec};
    use chrono::Weekday;

    fn london_nights() -> Window {
        Window::Scheduled(
            Schedule::new(ScheduleSpec {
                time_zone: "Europe/London".parse().unwrap(),
                days: vec![
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                ],
                start: ClockTime::from_hm(22, 0).unwrap(),
                end: ClockTime::from_hm(5, 0).unwrap(),
                crosses_midnight: true,
                cutoff_minutes: 15,
                closed_days: Vec::new(),
            })
            .unwrap(),
        )
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_closed_window_says_when_the_fix_could_next_run_in_local_time_and_utc() {
        // Tuesday 2026-07-07 14:00 UTC is 15:00 BST: closed until 22:00 BST (21:00 UTC).
        let next = NextInfo::at(
            &london_nights(),
            Mode::DryRun,
            &OrgSchedule::default(),
            true,
            t("2026-07-07T14:00:00Z"),
        );
        assert!(!next.open);
        assert_eq!(next.fix_can_run_at, Some(t("2026-07-07T21:00:00Z")));
        assert_eq!(
            next.fix_can_run_at_local.as_deref(),
            Some("2026-07-07T22:00:00+01:00")
        );
        let text = next.sentences().join(" ");
        assert!(text.contains("The org's mode is dry-run"), "{text}");
        assert!(
            text.contains("closed now (Tue 2026-07-07 15:00 BST (2026-07-07T14:00:00Z))"),
            "{text}"
        );
        assert!(
            text.contains("could next run Tue 2026-07-07 22:00 BST (2026-07-07T21:00:00Z)"),
            "{text}"
        );
        assert!(text.contains("No daemon schedule"), "{text}");
    }

    #[test]
    fn an_open_window_in_apply_mode_with_a_schedule_runs_unattended_now() {
        let schedule = OrgSchedule {
            scan: Some(CronSchedule::parse("every 15 minutes").unwrap()),
            apply: Some(CronSchedule::parse("0 30 22 * * Mon-Fri").unwrap()),
        };
        let now = t("2026-01-05T23:00:00Z");
        let next = NextInfo::at(&london_nights(), Mode::Apply, &schedule, true, now);
        assert!(next.open && next.batch_allowed && next.unattended);
        assert_eq!(next.fix_can_run_at, Some(now));
        assert_eq!(next.closes_at, Some(t("2026-01-06T05:00:00Z")));
        let text = next.sentences().join(" ");
        assert!(text.contains("The fix could run now."), "{text}");
        assert!(
            text.contains("apply \"0 30 22 * * Mon-Fri\"; the first apply tick"),
            "{text}"
        );
    }

    #[test]
    fn no_window_means_no_fix_and_no_plan_means_nothing_to_fix() {
        let now = t("2026-01-05T23:00:00Z");
        let next = NextInfo::at(
            &Window::NotConfigured,
            Mode::Apply,
            &OrgSchedule::default(),
            true,
            now,
        );
        assert_eq!(next.fix_can_run_at, None);
        assert!(next.sentences().join(" ").contains("never open"));
        let next = NextInfo::at(
            &Window::AlwaysOpen,
            Mode::DryRun,
            &OrgSchedule::default(),
            false,
            now,
        );
        assert_eq!(next.fix_can_run_at, None);
        let text = next.sentences().join(" ");
        assert!(text.contains("Nothing to fix"), "{text}");
        assert!(text.contains("Mon 2026-01-05 23:00 UTC"), "{text}");
    }
}
