//! When to try a request again, and how long to wait first.
//!
//! Owns: exponential backoff with full jitter (`RetryPolicy`), and the rule of which failures are
//! worth another attempt for which kind of request. Must not sleep or send anything itself: the
//! client's request loop does, so this stays a set of pure functions.

use std::time::Duration;

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

/// The upper bound of the wait before retry number `retry` (1 = the first retry):
/// `base_delay * 2^(retry-1)`, capped at `max_delay`.
pub(crate) fn delay_cap(policy: &RetryPolicy, retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(31);
    policy
        .base_delay
        .checked_mul(1u32 << exponent)
        .map_or(policy.max_delay, |d| d.min(policy.max_delay))
}

/// Full jitter: a uniformly random wait in `[0, cap]`, so many clients that failed together do
/// not come back together. `unit` is the random draw in `[0, 1)`.
pub(crate) fn jittered(cap: Duration, unit: f64) -> Duration {
    cap.mul_f64(unit.clamp(0.0, 1.0))
}

/// The wait before retry number `retry`, randomised.
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    jittered(delay_cap(policy, retry), fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::error::{ApiError, MalformedResponse, TransportError};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }

    #[test]
    fn delay_doubles_from_the_base() {
        let p = policy();
        assert_eq!(delay_cap(&p, 1), Duration::from_millis(500));
        assert_eq!(delay_cap(&p, 2), Duration::from_millis(1000));
        assert_eq!(delay_cap(&p, 3), Duration::from_millis(2000));
    }

    #[test]
    fn delay_is_capped_even_for_absurd_retry_counts() {
        let p = policy();
        assert_eq!(delay_cap(&p, 8), Duration::from_secs(30));
        assert_eq!(delay_cap(&p, u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn jitter_stays_within_zero_and_the_cap() {
        let cap = Duration::from_secs(4);
        assert_eq!(jittered(cap, 0.0), Duration::ZERO);
        assert_eq!(jittered(cap, 0.5), Duration::from_secs(2));
        assert!(jittered(cap, 7.0) <= cap);
        for retry in 1..10 {
            assert!(backoff(&policy(), retry) <= delay_cap(&policy(), retry));
        }
    }

    #[test]
    fn zero_attempts_in_config_still_sends_once() {
        let p = RetryPolicy {
            max_attempts: 0,
            ..policy()
        };
        assert_eq!(max_attempts(&p), 1);
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
