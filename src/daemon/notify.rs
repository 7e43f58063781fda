//! Notifications: a webhook per configured endpoint, Slack-compatible (`{"text": ...}`) or a
//! generic JSON event, on new findings, on apply results and on failures.
//!
//! Owns: the events ([`Event`]), their wording and JSON shape (pure), and sending with retries
//! ([`WEBHOOK_RETRY`], on the shared backoff of `salesforce::retry`, honouring a receiver's
//! `Retry-After`). A failing webhook is retried, then logged; it never stops or fails a run.
//!
//! Must not: put a secret in a message, or org text into a Slack message unescaped
//! ([`crate::text::slack`]). Messages carry org names, counts, usernames and record
//! ids only; the webhook URL itself (a secret for Slack) is never logged.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::Retryable;
use serde::Serialize;

use crate::salesforce::RetryPolicy;
use crate::salesforce::retry::{self, Wait};

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

/// How a webhook delivery is retried, on the same backoff as the Salesforce calls
/// ([`retry::backoff`]): three attempts, the first retry after about half a second. A receiver's
/// `Retry-After` (on 429 or 503) of up to `max_delay` is waited out as asked; a longer one gives
/// up at once, so one slow receiver cannot hold up the night's job. 30 s keeps the worst case
/// (two waits and three 10 s timeouts) inside systemd's default 90 s stop timeout.
pub const WEBHOOK_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(30),
};

/// Why one delivery attempt failed, as the retry loop needs it.
#[derive(Debug)]
struct Undelivered {
    /// For the log: `HTTP 429`, `timed out`, ... (never reqwest's text, which can hold the URL).
    why: String,
    /// Another attempt may help: no answer, or 408, 429 or 5xx. Any other refusal (400, 404, a
    /// revoked Slack hook's 403...) will be the same a second later.
    retry: bool,
    /// The wait the receiver asked for in `Retry-After` (read on 429 and 503 only).
    asked: Option<Duration>,
}

/// One POST of `body` to `hook`.
async fn deliver_once(
    http: &reqwest::Client,
    hook: &Webhook,
    body: &serde_json::Value,
) -> Result<(), Undelivered> {
    let sent = http
        .post(hook.url.expose())
        .timeout(Duration::from_secs(10))
        .json(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let status = r.status().as_u16();
            let asked = matches!(status, 429 | 503)
                .then(|| retry::retry_after_header(r.headers()))
                .flatten();
            Err(Undelivered {
                why: format!("HTTP {status}"),
                retry: matches!(status, 408 | 429) || status >= 500,
                asked,
            })
        }
        Err(e) => Err(Undelivered {
            why: if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            }
            .to_string(),
            retry: true,
            asked: None,
        }),
    }
}

/// The webhook's host, for log lines: the rest of the URL (a Slack hook's path is its token)
/// is never logged.
fn host_of(hook: &Webhook) -> String {
    url::Url::parse(hook.url.expose())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the webhook's host".to_string())
}

/// Sends `event` to every webhook that wants it. Never fails: problems are logged.
pub async fn send(http: &reqwest::Client, webhooks: &[Webhook], event: &Event) {
    for hook in webhooks.iter().filter(|w| w.events.contains(&event.kind())) {
        let body = &event.body(hook.format);
        let host = host_of(hook);
        let sent = &AtomicU32::new(0);
        let attempt = move || async move {
            sent.fetch_add(1, Ordering::Relaxed);
            deliver_once(http, hook, body).await
        };
        let result = attempt
            .retry(retry::backoff(&WEBHOOK_RETRY))
            .when(|u: &Undelivered| u.retry)
            .adjust(|u: &Undelivered, proposed| {
                let wait = retry::next_wait(&WEBHOOK_RETRY, proposed, u.asked);
                if let Wait::TooLong { asked, cap } = wait {
                    tracing::warn!(webhook = hook.index, event = event.event, why = %u.why,
                        "webhook host {host} asked to wait {} before trying again \
                         (Retry-After), longer than the {} a webhook delivery may wait; \
                         giving up on this message so the job goes on",
                        retry::seconds(asked), retry::seconds(cap));
                }
                wait.duration()
            })
            .notify(|u: &Undelivered, delay| {
                let attempt = sent.load(Ordering::Relaxed);
                if u.asked == Some(delay) {
                    tracing::info!(webhook = hook.index, attempt, why = %u.why,
                        "webhook host {host} asked to wait {} (Retry-After); waiting as asked, \
                         then retrying", retry::seconds(delay));
                } else {
                    tracing::info!(webhook = hook.index, attempt, why = %u.why, ?delay,
                        "webhook failed; retrying");
                }
            })
            .await;
        let attempts = sent.load(Ordering::Relaxed);
        match result {
            Ok(()) => {
                tracing::debug!(
                    webhook = hook.index,
                    event = event.event,
                    attempts,
                    "webhook sent"
                );
            }
            Err(u) => {
                let times = if attempts == 1 {
                    "once".to_string()
                } else {
                    format!("{attempts} times")
                };
                tracing::warn!(webhook = hook.index, event = event.event, why = %u.why,
                    "webhook failed {times}; the run goes on without it");
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
