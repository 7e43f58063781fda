//! `pslwarden window`: an org's off-hours window at an instant, in words and in the org's local
//! time (`--format text`), or as data for scripts (`--format json`).
//!
//! Owns: the wording and the JSON shape of the answer. The answer itself comes from
//! [`crate::window`].
//!
//! Must not: connect to the org (the window is config alone, so the command works offline) or
//! read the clock: `main` passes `--at` or the current instant.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::OrgSettings;
use crate::window::{HORIZON_DAYS, Window, WindowState};

/// Output format of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WindowFormat {
    /// Sentences for people.
    Text,
    /// JSON for scripts (stable field names).
    Json,
}

/// How many closed days ahead the answer lists: enough to see the next holiday season coming.
const CLOSED_DAYS_SHOWN: usize = 5;

/// Parses `--at`: an RFC 3339 instant with its offset.
pub fn parse_at(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "`{text}` is not an RFC 3339 instant ({e}): write e.g. 2025-03-11T14:03:00Z or \
                 2025-03-11T14:03:00+01:00"
            )
        })
}

/// A closed day ahead, for the answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClosedDayAhead {
    /// Local date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Blackout date or which holiday.
    pub why: String,
}

/// The answer of `window` (stable JSON field names; instants in UTC, `*_local` in the org's zone
/// with its offset).
#[derive(Debug, Clone, Serialize)]
pub struct WindowReport {
    /// Org name from the config.
    pub org: String,
    /// `scheduled`, `always_open` or `not_configured`.
    pub window: &'static str,
    /// The window in one line.
    pub schedule: String,
    /// IANA zone of a scheduled window.
    pub time_zone: Option<String>,
    /// No batch starts when fewer minutes remain before the close.
    pub cutoff_minutes: i64,
    /// The instant asked about.
    pub at: DateTime<Utc>,
    /// `at` on the org's clock (scheduled windows only, as are the other `*_local`).
    pub at_local: Option<String>,
    /// The window is open at `at`.
    pub open: bool,
    /// A batch of changes may start now (open, and at least the cutoff before the close).
    pub batch_allowed: bool,
    /// When open: when the open span closes.
    pub closes_at: Option<DateTime<Utc>>,
    pub closes_at_local: Option<String>,
    /// The next opening after `at`.
    pub next_open: Option<DateTime<Utc>>,
    pub next_open_local: Option<String>,
    /// When the window opening at `next_open` closes.
    pub next_open_closes_at: Option<DateTime<Utc>>,
    pub next_open_closes_at_local: Option<String>,
    /// Blackout dates and holidays from the local date of `at` on, the first few.
    pub closed_days_ahead: Vec<ClosedDayAhead>,
    /// Why the window is in this state.
    pub reason: String,
    /// The whole answer in one sentence, as the text format prints it.
    pub summary: String,
}

/// The org's window at `at`.
pub fn run(org: &OrgSettings, at: DateTime<Utc>) -> WindowReport {
    let state = org.window.state_at(at);
    let tz = org.window.time_zone();
    let local =
        |t: Option<DateTime<Utc>>| tz.zip(t).map(|(tz, t)| t.with_timezone(&tz).to_rfc3339());
    let closed_days_ahead = match &org.window {
        Window::Scheduled(s) => {
            let today = at.with_timezone(&s.time_zone()).date_naive();
            s.closed_days()
                .filter(|(d, _)| *d >= today)
                .take(CLOSED_DAYS_SHOWN)
                .map(|(date, why)| ClosedDayAhead {
                    date,
                    why: why.to_string(),
                })
                .collect()
        }
        _ => Vec::new(),
    };
    WindowReport {
        org: org.name.clone(),
        window: match org.window {
            Window::NotConfigured => "not_configured",
            Window::AlwaysOpen => "always_open",
            Window::Scheduled(_) => "scheduled",
        },
        schedule: org.window.describe(),
        time_zone: tz.map(|tz| tz.name().to_string()),
        cutoff_minutes: org.window.cutoff().num_minutes(),
        at,
        at_local: local(Some(at)),
        open: state.open,
        batch_allowed: state.batch_allowed,
        closes_at: state.closes_at,
        closes_at_local: local(state.closes_at),
        next_open: state.next_open,
        next_open_local: local(state.next_open),
        next_open_closes_at: state.next_open_closes_at,
        next_open_closes_at_local: local(state.next_open_closes_at),
        closed_days_ahead,
        summary: summary(org, &state),
        reason: state.reason,
    }
}

/// "closed now (Tue 2025-03-11 14:03 Europe/London); opens Tue 22:00 (in 7 h 57 min), closes
/// Wed 05:00".
fn summary(org: &OrgSettings, state: &WindowState) -> String {
    let tz = match &org.window {
        Window::NotConfigured => {
            return format!(
                "never open: org `{}` has no [org.window], so apply refuses to change it; add one \
                 (see config/example.toml)",
                org.name
            );
        }
        Window::AlwaysOpen => return "open now: always open (always_open = true)".to_string(),
        Window::Scheduled(s) => s.time_zone(),
    };
    let now = state.at;
    let at = |t: DateTime<Utc>| local_label(tz, t, now);
    let mut out = format!(
        "{} now ({} {})",
        if state.open { "open" } else { "closed" },
        state.at.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
        tz.name()
    );
    let opens = |out: &mut String, prefix: &str| match state.next_open {
        Some(next) => {
            out.push_str(&format!(
                "{prefix}opens {} (in {})",
                at(next),
                in_words(next - now)
            ));
            if let Some(close) = state.next_open_closes_at {
                out.push_str(&format!(", closes {}", at(close)));
            }
        }
        None => out.push_str(&format!(
            "{prefix}does not open within the next {HORIZON_DAYS} days"
        )),
    };
    match (state.open, state.closes_at) {
        (true, None) => out.push_str(&format!(
            "; does not close within the next {HORIZON_DAYS} days"
        )),
        (true, Some(close)) => {
            out.push_str(&format!(
                "; closes {} (in {})",
                at(close),
                in_words(close - now)
            ));
            let cutoff = org.window.cutoff();
            if state.batch_allowed {
                if cutoff > Duration::zero() {
                    out.push_str(&format!("; batches may start until {}", at(close - cutoff)));
                }
            } else {
                out.push_str(&format!(
                    ": too close to the close for a new batch (cutoff {} min)",
                    cutoff.num_minutes()
                ));
                opens(&mut out, "; next ");
            }
        }
        (false, _) => opens(&mut out, "; "),
    }
    out
}

/// A local time relative to `now`: "Tue 22:00" within the coming week, with the date beyond it,
/// and the zone's abbreviation when the clock shows that time twice that night.
fn local_label(tz: Tz, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = t.with_timezone(&tz);
    let mut out = if t - now < Duration::days(6) {
        local.format("%a %H:%M").to_string()
    } else {
        local.format("%a %Y-%m-%d %H:%M").to_string()
    };
    if tz
        .from_local_datetime(&local.naive_local())
        .single()
        .is_none()
    {
        out.push_str(&local.format(" %Z").to_string());
    }
    out
}

/// "7 h 57 min", "2 d 3 h", "0 min"; rounded up to the minute, so "in 0 min" means now.
fn in_words(d: Duration) -> String {
    let minutes = (d.num_seconds().max(0) + 59) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} min"));
    }
    parts.join(" ")
}

impl WindowReport {
    /// Renders for the terminal or for scripts.
    pub fn render(&self, format: WindowFormat) -> String {
        match format {
            WindowFormat::Json => {
                let mut s = serde_json::to_string_pretty(self)
                    .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
                s.push('\n');
                s
            }
            WindowFormat::Text => {
                let mut out = format!("org {}: {}\n", self.org, self.summary);
                out.push_str(&format!("window: {}\n", self.schedule));
                out.push_str(&format!("why: {}\n", self.reason));
                if !self.closed_days_ahead.is_empty() {
                    let days: Vec<String> = self
                        .closed_days_ahead
                        .iter()
                        .map(|d| format!("{} ({})", d.date.format("%a %Y-%m-%d"), d.why))
                        .collect();
                    out.push_str(&format!("closed days ahead: {}\n", days.join(", ")));
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_days_hours_and_minutes_rounded_up() {
        assert_eq!(in_words(Duration::minutes(477)), "7 h 57 min");
        assert_eq!(in_words(Duration::seconds(61)), "2 min");
        assert_eq!(in_words(Duration::hours(51)), "2 d 3 h");
        assert_eq!(in_words(Duration::zero()), "0 min");
    }

    #[test]
    fn at_must_carry_its_offset() {
        assert_eq!(
            parse_at("2025-03-11T14:03:00+01:00").map(|t| t.to_rfc3339()),
            Ok("2025-03-11T13:03:00+00:00".to_string())
        );
        let err = parse_at("2025-03-11 14:03").unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
    }

    #[test]
    fn a_twice_shown_local_time_names_its_offset() {
        let tz = chrono_tz::America::New_York;
        let now = parse_at("2025-11-01T12:00:00Z").expect("instant");
        // 05:15Z is 01:15 EDT, shown again at 06:15Z as 01:15 EST.
        let first = parse_at("2025-11-02T05:15:00Z").expect("instant");
        assert_eq!(local_label(tz, first, now), "Sun 01:15 EDT");
        let plain = parse_at("2025-11-02T12:00:00Z").expect("instant");
        assert_eq!(local_label(tz, plain, now), "Sun 07:00");
    }
}
