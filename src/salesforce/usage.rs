//! API usage as Salesforce reports it on every response (`Sforce-Limit-Info: api-usage=N/M`).
//!
//! Owns: the parsed usage value and the header parser. Must not make requests or decide policy
//! (whether there is enough headroom to act is the caller's call).

use std::fmt;

/// The org's rolling 24-hour API request usage, as of the latest response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ApiUsage {
    /// Requests used in the rolling 24-hour window (across every integration of the org).
    pub used: u64,
    /// The org's daily request allowance.
    pub max: u64,
}

impl ApiUsage {
    /// Requests left before Salesforce answers `REQUEST_LIMIT_EXCEEDED`.
    pub fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }
}

impl fmt::Display for ApiUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} daily API requests used", self.used, self.max)
    }
}

/// Name of the response header that carries the usage.
pub(crate) const LIMIT_INFO_HEADER: &str = "sforce-limit-info";

/// Parses `api-usage=N/M` out of a `Sforce-Limit-Info` value. The header may carry other
/// comma-separated entries (e.g. `per-app-api-usage=17/250(appName=x)`), which are skipped.
pub(crate) fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    value.split(',').find_map(|entry| {
        let (key, rest) = entry.trim().split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("api-usage") {
            return None;
        }
        let (used, max) = rest.trim().split_once('/')?;
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            max: max.trim().parse().ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_api_usage() {
        assert_eq!(
            parse_limit_info("api-usage=25/15000"),
            Some(ApiUsage {
                used: 25,
                max: 15000
            })
        );
    }

    #[test]
    fn finds_api_usage_among_per_app_entries() {
        let usage = parse_limit_info("per-app-api-usage=17/250(appName=sample), api-usage=18/5000");
        assert_eq!(
            usage,
            Some(ApiUsage {
                used: 18,
                max: 5000
            })
        );
    }

    #[test]
    fn ignores_garbage_instead_of_failing() {
        assert_eq!(parse_limit_info("api-usage=lots/many"), None);
        assert_eq!(parse_limit_info(""), None);
        assert_eq!(parse_limit_info("per-app-api-usage=1/2"), None);
    }

    #[test]
    fn remaining_never_underflows() {
        let over = ApiUsage {
            used: 15010,
            max: 15000,
        };
        assert_eq!(over.remaining(), 0);
    }
}
