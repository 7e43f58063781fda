//! The clock the window gate reads.
//!
//! Owns: [`Clock`], the system clock, and the rehearsal clock of debug builds.
//!
//! `PSLWARDEN_FAKE_CLOCK=START[,step=DURATION]` (e.g. `2026-01-05T04:30:00Z,step=10m`) makes the
//! gate see START at its first check and step further at each later one, so a test can have a
//! window close between two batches without waiting for a real night. Only debug builds read it:
//! a release binary always uses the system clock, so no environment setting can move a
//! production org's window.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// The environment variable of the rehearsal clock (debug builds only).
pub const FAKE_CLOCK_ENV: &str = "PSLWARDEN_FAKE_CLOCK";

/// Where the gate gets "now" from.
pub trait Clock: Send + Sync {
    /// The instant of one gate check.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at an instant and moves by a fixed step at every reading.
#[derive(Debug)]
pub struct SteppedClock {
    /// The next reading.
    next: Mutex<DateTime<Utc>>,
    /// Added after each reading.
    step: Duration,
}

impl SteppedClock {
    pub fn new(start: DateTime<Utc>, step: Duration) -> Self {
        SteppedClock {
            next: Mutex::new(start),
            step,
        }
    }

    /// Parses `START[,step=DURATION]`; DURATION is a number with `s`, `m` or `h`.
    pub fn parse(text: &str) -> Result<SteppedClock, String> {
        let mut parts = text.split(',');
        let start = parts.next().unwrap_or_default().trim();
        let start = DateTime::parse_from_rfc3339(start)
            .map_err(|e| format!("{FAKE_CLOCK_ENV}: `{start}` is not an RFC 3339 instant ({e})"))?
            .with_timezone(&Utc);
        let mut step = Duration::zero();
        for part in parts {
            let Some(value) = part.trim().strip_prefix("step=") else {
                return Err(format!(
                    "{FAKE_CLOCK_ENV}: unknown part `{part}` (only step=...)"
                ));
            };
            let (number, unit) = value.split_at(value.len().saturating_sub(1));
            let n: i64 = number
                .parse()
                .map_err(|_| format!("{FAKE_CLOCK_ENV}: `{value}` is not a duration like 10m"))?;
            step = match unit {
                "s" => Duration::seconds(n),
                "m" => Duration::minutes(n),
                "h" => Duration::hours(n),
                _ => return Err(format!("{FAKE_CLOCK_ENV}: `{value}`: use s, m or h")),
            };
        }
        Ok(SteppedClock::new(start, step))
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> DateTime<Utc> {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let now = *next;
        *next = now + self.step;
        now
    }
}

/// The gate's clock for this process: the system clock, or in a debug build the rehearsal
/// clock when [`FAKE_CLOCK_ENV`] is set.
pub fn from_env() -> Result<Box<dyn Clock>, String> {
    if cfg!(debug_assertions)
        && let Ok(text) = std::env::var(FAKE_CLOCK_ENV)
    {
        tracing::warn!(
            clock = %text,
            "{FAKE_CLOCK_ENV} is set: the window gate uses a rehearsal clock (debug build only)"
        );
        return Ok(Box::new(SteppedClock::parse(&text)?));
    }
    Ok(Box::new(SystemClock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stepped_clock_moves_at_each_reading() {
        let clock = SteppedClock::parse("2026-01-05T04:30:00Z,step=10m").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2026-01-05T04:30:00+00:00");
        assert_eq!(clock.now().to_rfc3339(), "2026-01-05T04:40:00+00:00");
        assert!(SteppedClock::parse("tomorrow").is_err());
        assert!(SteppedClock::parse("2026-01-05T04:30:00Z,step=10d").is_err());
    }
}
