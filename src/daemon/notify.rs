//! Notifications: a webhook per configured endpoint, Slack-compatible (`{"text": ...}`) or a
//! generic JSON event, on new findings, on apply results and on failures.
//!
//! Owns: the events ([`Event`]), their wording and JSON shape (pure), and sending with retries.
//! A failing webhook is retried, then logged; it never stops or fails a run.
//!
//! Must not: put a secret in a message, or org text into a Slack message unescaped
//! ([`crate::text::slack`]). Messages carry org names, counts, usernames and record
//! ids only; the webhook URL itself (a secret for Slack) is never logged.

use std::time::Duration;

use serde::Serialize;

// The webhook spec types are config (what the file asks for); they live there so config never
// imports the daemon. Re-exported for this module's users.
pub use crate::config::{EventKind, Webhook, WebhookFormat};

/// Something worth telling people, with its facts.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `findings`, `apply`, `failure`, or `approval_needed`, `approval_applied`,
    /// `approval_expired` (webhooks subscribe to these three as `approval`).
    pub event: &'static str,
    /// Org name in the config.
    pub org: String,
    /// One line for people.
    pub summary: String,
    /// Details by event (counts, run id, seats per license, the error text).
    pub details: serde_json::Value,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        if self.event.starts_with("approval_") {
            return EventKind::Approval;
        }
        EventKind::parse(self.event).unwrap_or(EventKind::Failure)
    }

    /// A scan of an org in `mode = "approved"` found new findings: someone must approve.
    pub fn approval_needed(org: &str, new: usize, total: usize, report: &str) -> Event {
        let command = format!("pslwarden approve --org {org} --latest");
        Event {
            event: "approval_needed",
            org: org.to_string(),
            summary: format!(
                "pslwarden: org `{org}` has {new} new finding(s) ({total} in all) waiting for an \
                 approval; review {report} and run `{command}`"
            ),
            details: serde_json::json!({
                "new": new,
                "findings": total,
                "report": report,
                "command": command,
            }),
        }
    }

    /// An approval's plan was carried out to its end.
    pub fn approval_applied(org: &str, approval: &crate::approval::Approval) -> Event {
        Event {
            event: "approval_applied",
            org: org.to_string(),
            summary: format!(
                "pslwarden: approval {} of org `{org}` (by {}, {}) was carried out in run(s) {}",
                approval.id,
                approval.approved_by,
                approval.approved_at,
                approval
                    .runs
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            details: serde_json::json!({
                "approval": approval.summary(),
            }),
        }
    }

    /// An approval expired before it was carried out (or finished).
    pub fn approval_expired(org: &str, approval: &crate::approval::Approval) -> Event {
        Event {
            event: "approval_expired",
            org: org.to_string(),
            summary: format!(
                "pslwarden: approval {} of org `{org}` (by {}, {}) expired at {} before it was \
                 carried out; nothing more of it will be applied. Approve again with `pslwarden \
                 approve --org {org} --latest`",
                approval.id, approval.approved_by, approval.approved_at, approval.expires_at
            ),
            details: serde_json::json!({
                "approval": approval.summary(),
            }),
        }
    }

    /// New findings of a scan.
    pub fn findings(
        org: &str,
        new: &[String],
        total: usize,
        recoverable: u32,
        report: &str,
    ) -> Event {
        let shown: Vec<&str> = new.iter().take(10).map(String::as_str).collect();
        Event {
            event: EventKind::Findings.as_str(),
            org: org.to_string(),
            summary: format!(
                "pslwarden: org `{org}` has {} new finding(s) ({total} in all, {recoverable} \
                 recoverable seat(s)): {}{}",
                new.len(),
                shown.join("; "),
                if new.len() > shown.len() { "; ..." } else { "" }
            ),
            details: serde_json::json!({
                "new": new,
                "findings": total,
                "recoverable_seats": recoverable,
                "report": report,
            }),
        }
    }

    /// The outcome of an apply or rollback run that did something.
    pub fn run_result(org: &str, report: &crate::apply::report::RunReport) -> Event {
        let freed: i64 = report.seats.iter().map(|s| s.expected_change).sum();
        // Steps left to the admin are not drift: counted apart, as in apply's own output.
        let count = |status| {
            report
                .actions
                .iter()
                .filter(|a| a.status == status && !a.needs_admin)
                .count()
        };
        let for_admin = report.actions.iter().filter(|a| a.needs_admin).count();
        use crate::state::ActionStatus::{Done, Failed, Skipped};
        Event {
            event: EventKind::Apply.as_str(),
            org: org.to_string(),
            summary: format!(
                "pslwarden: {} run {} of org `{org}` {}: {} done, {} failed, {} skipped, \
                 {for_admin} need the admin, {freed} seat(s) freed{}{}",
                report.kind.as_str(),
                report.run_id,
                report.status,
                count(Done),
                count(Failed),
                count(Skipped),
                report
                    .saving
                    .as_ref()
                    .map(|s| format!(". {}", s.sentence(report.kind)))
                    .unwrap_or_default(),
                report
                    .message
                    .as_deref()
                    .map(|m| format!(" — {m}"))
                    .unwrap_or_default()
            ),
            details: serde_json::json!({
                "run_id": report.run_id,
                "kind": report.kind,
                "status": report.status,
                "seats": report.seats,
                "saving": report.saving,
                "left_for_next_run": report.left_for_next_run,
            }),
        }
    }

    /// A job that failed.
    pub fn failure(org: &str, job: &str, error: &str) -> Event {
        Event {
            event: EventKind::Failure.as_str(),
            org: org.to_string(),
            summary: format!("pslwarden: {job} of org `{org}` failed: {error}"),
            details: serde_json::json!({ "job": job, "error": error }),
        }
    }

    /// The body for a webhook of `format`.
    pub fn body(&self, format: WebhookFormat) -> serde_json::Value {
        match format {
            // Slack reads `<...>` as pings and links: the org's text must not ping `<!channel>` or
            // disguise a link, so the whole sentence (which holds no markup of ours) is escaped.
            WebhookFormat::Slack => {
                serde_json::json!({ "text": crate::text::slack(&self.summary) })
            }
            WebhookFormat::Json => serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

/// Attempts per webhook per event.
const ATTEMPTS: u32 = 3;

/// Sends `event` to every webhook that wants it. Never fails: problems are logged.
pub async fn send(http: &reqwest::Client, webhooks: &[Webhook], event: &Event) {
    for hook in webhooks.iter().filter(|w| w.events.contains(&event.kind())) {
        let body = event.body(hook.format);
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let sent = http
                .post(hook.url.expose())
                .timeout(Duration::from_secs(10))
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(webhook = hook.index, event = event.event, "webhook sent");
                    break;
                }
                outcome => {
                    // The error text of reqwest can hold the URL: only the status is logged.
                    let why = match outcome {
                        Ok(r) => format!("HTTP {}", r.status().as_u16()),
                        Err(e) if e.is_timeout() => "timed out".to_string(),
                        Err(e) if e.is_connect() => "connection failed".to_string(),
                        Err(_) => "request failed".to_string(),
                    };
                    if attempt == ATTEMPTS {
                        tracing::warn!(
                            webhook = hook.index,
                            event = event.event,
                            %why,
                            "webhook failed {ATTEMPTS} times; the run goes on without it"
                        );
                    } else {
                        tracing::info!(webhook = hook.index, attempt, %why, "webhook failed; retrying");
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_gets_text_and_json_gets_the_event() {
        let e = Event::failure("prod", "apply", "sign-in refused");
        assert_eq!(
            e.body(WebhookFormat::Slack),
            serde_json::json!({"text": "pslwarden: apply of org `prod` failed: sign-in refused"})
        );
        let json = e.body(WebhookFormat::Json);
        assert_eq!(json["event"], "failure");
        assert_eq!(json["details"]["job"], "apply");
    }

    #[test]
    fn slack_text_cannot_ping_or_disguise_a_link() {
        let e = Event::failure("prod", "apply", "user <!channel> <https://evil|ok> & co");
        let text = e.body(WebhookFormat::Slack)["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            text.ends_with("user &lt;!channel&gt; &lt;https://evil|ok&gt; &amp; co"),
            "{text}"
        );
        // The JSON event is data for scripts: the text stays as the org wrote it.
        let json = e.body(WebhookFormat::Json);
        assert!(json["summary"].as_str().unwrap().contains("<!channel>"));
    }

    #[test]
    fn a_long_list_of_new_findings_is_cut_in_the_sentence() {
        let new: Vec<String> = (0..15).map(|i| format!("user{i}")).collect();
        let e = Event::findings("prod", &new, 15, 15, "r");
        assert!(e.summary.contains("15 new finding(s)"));
        assert!(e.summary.ends_with("; ..."), "{}", e.summary);
        assert_eq!(e.details["new"].as_array().unwrap().len(), 15);
    }
}
