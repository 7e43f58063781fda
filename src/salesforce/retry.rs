//! When to try a request again, and how long to wait first: the one backoff policy of every
//! HTTP retry in pslwarden (Salesforce sign-ins and API calls, and webhook deliveries).
//!
//! Owns: the `backon` policy built from a [`RetryPolicy`] ([`backoff`]), the rule of which
//! Salesforce failures are worth another attempt for which kind of request ([`is_retryable`]),
//! reading a server's `Retry-After` ([`parse_retry_after`]) and deciding between the backoff,
//! the server's wait and giving up ([`next_wait`]). Must not sleep or send anything itself: the
//! callers run `backon`'s loop with these pieces, so this stays a set of pure functions.

use std::time::{Duration, SystemTime};

use backon::ExponentialBuilder;

use super::error::{ApiErrorCode, MalformedKind, SfError, TransportKind};
use super::settings::RetryPolicy;

/// How much of a failed request may safely be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryMode {
    /// Reads and deletes: sending twice does no harm (a second delete of a record reports
    /// `ENTITY_IS_DELETED`, which counts as done), so every transient failure is retried.
    Safe,
    /// Creates and other writes: only failures that prove nothing was applied are retried
    /// (no connection was made, or the whole call was refused on a row lock). A 5xx or a timeout
    /// leaves the outcome unknown, and resending could double a record.
    UnsentOnly,
}

/// Attempts allowed by the policy; at least one, whatever the config says.
pub(crate) fn max_attempts(policy: &RetryPolicy) -> u32 {
    policy.max_attempts.max(1)
}

/// The backoff of `policy` for `backon`: the first retry waits about `base_delay`, each later one
/// twice the one before, up to `max_delay`; at most `max_attempts - 1` retries. Jitter spreads
/// each wait over `[step, 2 × step)` so clients that failed together do not come back together;
/// [`next_wait`] then caps the result at `max_delay`.
pub(crate) fn backoff(policy: &RetryPolicy) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(policy.base_delay)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_max_times(max_attempts(policy) as usize - 1)
        .with_jitter()
}

/// What to do after a failure that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Wait this long (the policy's backoff), then try again.
    Backoff(Duration),
    /// Wait as long as the server asked in `Retry-After`, then try again.
    AsAsked(Duration),
    /// The server asked for a wait longer than the policy allows (`max_delay`): stop now rather
    /// than hold up the night's job; the caller logs who asked for how long.
    TooLong { asked: Duration, cap: Duration },
    /// The policy's attempts are used up.
    Exhausted,
}

impl Wait {
    /// The wait for `backon`'s `adjust`: `None` stops retrying.
    pub(crate) fn duration(self) -> Option<Duration> {
        match self {
            Wait::Backoff(d) | Wait::AsAsked(d) => Some(d),
            Wait::TooLong { .. } | Wait::Exhausted => None,
        }
    }
}

/// Decides the wait before the next attempt from the policy's proposal (`None`: no attempts
/// left) and the server's `Retry-After`, if it sent one. A server's wait replaces the backoff
/// (it knows when it will be back), unless it is longer than `max_delay`.
pub(crate) fn next_wait(
    policy: &RetryPolicy,
    proposed: Option<Duration>,
    asked: Option<Duration>,
) -> Wait {
    let Some(proposed) = proposed else {
        return Wait::Exhausted;
    };
    match asked {
        Some(asked) if asked > policy.max_delay => Wait::TooLong {
            asked,
            cap: policy.max_delay,
        },
        Some(asked) => Wait::AsAsked(asked),
        None => Wait::Backoff(proposed.min(policy.max_delay)),
    }
}

/// Reads a `Retry-After` value (RFC 9110 §10.2.3): a number of seconds, or an HTTP-date (any of
/// its three formats) turned into the time left from `now` (zero when it is past). `None` for
/// anything else, so a garbled header falls back to the policy's backoff.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "very long": it must trip the cap, not vanish.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The `Retry-After` of an HTTP answer, if it has a readable one.
pub(crate) fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// A wait for people to read in a log line: `1s`, `90s`, `86400s`, `1.5s`.
pub(crate) fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Whether `err` from a request of kind `mode` deserves another attempt (the attempt budget is
/// checked by the caller). `REQUEST_LIMIT_EXCEEDED` never does: hammering an org that is out of
/// API requests only makes the outage longer for every other integration.
pub(crate) fn is_retryable(mode: RetryMode, err: &SfError) -> bool {
    match err {
        SfError::Transport(t) => match mode {
            RetryMode::Safe => true,
            RetryMode::UnsentOnly => t.kind == TransportKind::Connect,
        },
        SfError::Api(api) => match api.code {
            ApiErrorCode::RequestLimitExceeded => false,
            ApiErrorCode::UnableToLockRow => true,
            _ => {
                mode == RetryMode::Safe
                    && (api.status >= 500 || api.code == ApiErrorCode::ServerUnavailable)
            }
        },
        SfError::MalformedResponse(m) => mode == RetryMode::Safe && m.kind == MalformedKind::Syntax,
        _ => false,
    }
}

/// The `Retry-After` a Salesforce error carried, if any.
pub(crate) fn asked_wait(err: &SfError) -> Option<Duration> {
    match err {
        SfError::Api(api) => api.retry_after,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::error::{ApiError, MalformedResponse, TransportError};
    use backon::BackoffBuilder;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }

    #[test]
    fn the_backoff_doubles_from_the_base_within_its_jitter_and_stops_after_the_attempts() {
        let waits: Vec<Duration> = backoff(&policy()).build().collect();
        assert_eq!(waits.len(), 4, "5 attempts = 4 waits: {waits:?}");
        for (i, wait) in waits.iter().enumerate() {
            let step = Duration::from_millis(500) * (1 << i);
            assert!(*wait >= step && *wait < step * 2, "wait {i}: {wait:?}");
        }
    }

    #[test]
    fn the_backoff_never_waits_past_max_delay() {
        let p = RetryPolicy {
            max_attempts: 20,
            ..policy()
        };
        for proposed in backoff(&p).build() {
            let wait = next_wait(&p, Some(proposed), None);
            assert!(wait.duration().unwrap() <= p.max_delay, "{wait:?}");
        }
    }

    #[test]
    fn zero_attempts_in_config_still_sends_once() {
        let p = RetryPolicy {
            max_attempts: 0,
            ..policy()
        };
        assert_eq!(max_attempts(&p), 1);
        assert_eq!(backoff(&p).build().count(), 0);
    }

    #[test]
    fn a_servers_wait_replaces_the_backoff_unless_it_is_too_long() {
        let p = policy();
        let some = Some(Duration::from_millis(700));
        assert_eq!(
            next_wait(&p, some, Some(Duration::from_secs(3))),
            Wait::AsAsked(Duration::from_secs(3))
        );
        assert_eq!(
            next_wait(&p, some, Some(Duration::from_secs(3600))),
            Wait::TooLong {
                asked: Duration::from_secs(3600),
                cap: Duration::from_secs(30)
            }
        );
        assert_eq!(
            next_wait(&p, some, None),
            Wait::Backoff(Duration::from_millis(700))
        );
        // No attempts left: even a short wait asked for changes nothing.
        assert_eq!(
            next_wait(&p, None, Some(Duration::from_secs(1))),
            Wait::Exhausted
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 06:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 06:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        // RFC 850 and asctime forms are HTTP-dates too.
        assert_eq!(
            parse_retry_after("Wednesday, 02-Dec-26 06:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed Dec  2 06:00:05 2026", now),
            Some(Duration::from_secs(5))
        );
        // A date in the past: go now.
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 06:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert!(parse_retry_after("99999999999999999999999", now).unwrap() > policy().max_delay);
        for garbled in ["", "-1", "1.5", "soon", "Wed, 99 Foo 2026"] {
            assert_eq!(parse_retry_after(garbled, now), None, "{garbled:?}");
        }
    }

    #[test]
    fn waits_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(86_400)), "86400s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }

    fn api(status: u16, code: &str) -> SfError {
        SfError::Api(Box::new(ApiError::new(
            "GET",
            "/services/data/v65.0/query",
            status,
            ApiErrorCode::parse(code),
            "m".into(),
        )))
    }

    fn transport(kind: TransportKind) -> SfError {
        SfError::Transport(Box::new(TransportError {
            method: "POST".into(),
            endpoint: "/x".into(),
            host: "h".into(),
            kind,
            detail: "d".into(),
            attempts: 1,
        }))
    }

    #[test]
    fn request_limit_is_never_retried() {
        let err = api(403, "REQUEST_LIMIT_EXCEEDED");
        assert!(!is_retryable(RetryMode::Safe, &err));
        assert!(!is_retryable(RetryMode::UnsentOnly, &err));
    }

    #[test]
    fn server_errors_are_retried_for_reads_but_not_for_creates() {
        let err = api(503, "SERVER_UNAVAILABLE");
        assert!(is_retryable(RetryMode::Safe, &err));
        assert!(!is_retryable(RetryMode::UnsentOnly, &err));
    }

    #[test]
    fn row_locks_are_retried_for_every_kind_of_request() {
        let err = api(400, "UNABLE_TO_LOCK_ROW");
        assert!(is_retryable(RetryMode::Safe, &err));
        assert!(is_retryable(RetryMode::UnsentOnly, &err));
    }

    #[test]
    fn client_errors_are_not_retried() {
        assert!(!is_retryable(RetryMode::Safe, &api(400, "MALFORMED_QUERY")));
        assert!(!is_retryable(RetryMode::Safe, &api(404, "NOT_FOUND")));
    }

    #[test]
    fn creates_retry_only_when_no_connection_was_made() {
        assert!(is_retryable(
            RetryMode::UnsentOnly,
            &transport(TransportKind::Connect)
        ));
        assert!(!is_retryable(
            RetryMode::UnsentOnly,
            &transport(TransportKind::Timeout)
        ));
        assert!(is_retryable(
            RetryMode::Safe,
            &transport(TransportKind::Timeout)
        ));
    }

    #[test]
    fn broken_json_is_retried_on_reads_but_a_wrong_shape_is_not() {
        let broken = |kind| {
            SfError::MalformedResponse(Box::new(MalformedResponse {
                method: "GET".into(),
                endpoint: "/q".into(),
                status: 200,
                kind,
                detail: "d".into(),
                attempts: 1,
            }))
        };
        assert!(is_retryable(
            RetryMode::Safe,
            &broken(MalformedKind::Syntax)
        ));
        assert!(!is_retryable(
            RetryMode::Safe,
            &broken(MalformedKind::Shape)
        ));
        assert!(!is_retryable(
            RetryMode::UnsentOnly,
            &broken(MalformedKind::Syntax)
        ));
    }
}
