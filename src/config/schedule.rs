//! When the daemon wakes for an org: a scan schedule and an apply schedule, each a cron
//! expression with seconds or one of tokio-cron-scheduler's English phrases ("every 15 minutes").
//!
//! Owns: the `[org.schedule]` types and parsing and checking a schedule once, at start, so a typo fails with its config line
//! instead of never firing. The scheduler only wakes the agent: whether the org's window is open
//! is decided at run time in the org's time zone (the scheduler keeps a zone's offset from when a
//! job was made, so across a DST change it would fire an hour off).
//!
//! Must not: import `daemon` (which reads these settings) or run anything.

use tokio_cron_scheduler::Job;

/// A checked schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// As written in the config, for messages.
    pub written: String,
    /// The 6-field cron expression (seconds first) it means.
    pub cron: String,
}

impl CronSchedule {
    /// Checks `text`: a cron expression with seconds (`sec min hour dom month dow`, both dom and
    /// dow must match), or an English phrase the scheduler understands.
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        let written = text.trim().to_string();
        let refuse = || {
            format!(
                "`{written}` is not a schedule: write a cron expression with seconds, e.g. \
                 \"0 */15 * * * *\" (every 15 minutes) or \"0 30 22 * * Mon-Fri\", or an English \
                 phrase such as \"every 15 minutes\""
            )
        };
        // A crontab line (no seconds) would be misread; say how to write it.
        let with_seconds = format!("0 {written}");
        if written.split_whitespace().count() == 5
            && Job::new_async(with_seconds.as_str(), |_, _| Box::pin(async {})).is_ok()
        {
            return Err(format!(
                "`{written}` has 5 fields: pslwarden's schedules start with a seconds field, e.g. \
                 \"{with_seconds}\""
            ));
        }
        let cron = Job::schedule_to_cron(&written).map_err(|_| refuse())?;
        // Building a job parses the expression for real (the English path returns text only).
        Job::new_async(cron.as_str(), |_, _| Box::pin(async {})).map_err(|_| refuse())?;
        Ok(CronSchedule { written, cron })
    }
}

/// The schedules of one org (`[org.schedule]`); an absent one never fires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSchedule {
    /// When to scan (a dry run: never changes the org).
    pub scan: Option<CronSchedule>,
    /// When to try to apply (the window, the mode and the gate still decide).
    pub apply: Option<CronSchedule>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_with_seconds_and_english_phrases_parse() {
        assert_eq!(
            CronSchedule::parse("0 */15 * * * *").unwrap().cron,
            "0 */15 * * * *"
        );
        let english = CronSchedule::parse("every 15 minutes").unwrap();
        assert_eq!(english.written, "every 15 minutes");
        assert_eq!(english.cron.split_whitespace().count(), 6, "{english:?}");
    }

    #[test]
    fn a_five_field_crontab_line_says_to_add_seconds() {
        let err = CronSchedule::parse("*/15 * * * *").unwrap_err();
        assert!(err.contains("seconds field"), "{err}");
        assert!(err.contains("\"0 */15 * * * *\""), "{err}");
    }

    #[test]
    fn nonsense_is_refused_with_examples() {
        let err = CronSchedule::parse("whenever it suits").unwrap_err();
        assert!(err.contains("cron expression with seconds"), "{err}");
    }
}
