//! Checked connection settings for one org: what the client needs to sign in and talk to it.
//!
//! Owns: the shape of "how to sign in", and the facts about Salesforce hosts both the config
//! check and the client need (which login hosts are sandboxes, which are not My Domain, which
//! hosts are loopback). `config` builds these once at start-up from the raw TOML (resolving
//! secrets from env vars or files), so the client never reads files or env itself.

use std::time::Duration;

use url::{Host, Url};

use crate::secret::Secret;

/// The JWT audience of a production org's login server.
pub const PRODUCTION_AUDIENCE: &str = "https://login.salesforce.com";
/// The JWT audience of a sandbox's login server.
pub const SANDBOX_AUDIENCE: &str = "https://test.salesforce.com";
/// Largest response body read by default (64 MiB): far above any documented Salesforce page
/// (2 000 query rows, 200 collection results), far below what would hurt a small host.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Everything the Salesforce client needs for one org.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// REST API version without the `v`, e.g. `"65.0"`.
    pub api_version: String,
    /// How to obtain an access token.
    pub auth: AuthFlow,
    /// Retry policy for transient failures (5xx, connection errors, `UNABLE_TO_LOCK_ROW`).
    pub retry: RetryPolicy,
    /// Per-request timeout, so a hung connection cannot stall a night run forever.
    pub request_timeout: Duration,
    /// Largest response body read from any answer (token endpoint included), so an endless or
    /// oversized answer is an error instead of unbounded memory.
    pub max_response_bytes: u64,
}

/// The supported OAuth 2.0 flows for unattended runs (DOMAIN.md §4).
#[derive(Debug, Clone)]
pub enum AuthFlow {
    /// JWT bearer: RS256 assertion signed with the connected app's private key.
    Jwt {
        /// Base URL of the token endpoint host (login.salesforce.com, test.salesforce.com, My Domain).
        login_url: String,
        /// Connected app consumer key (`iss`).
        consumer_key: String,
        /// Username to act as (`sub`).
        username: String,
        /// `aud` claim. `None`: the login server of the org's kind, guessed from `login_url`
        /// ([`default_audience`]), and the other one if Salesforce calls that one invalid.
        audience: Option<String>,
        /// PEM private key (PKCS#8 or PKCS#1).
        private_key_pem: Secret,
    },
    /// Client credentials flow, on the org's My Domain URL (Salesforce refuses it on
    /// login.salesforce.com and test.salesforce.com).
    ClientCredentials {
        login_url: String,
        client_id: String,
        client_secret: Secret,
    },
    /// Refresh token flow (token from a one-time interactive authorisation).
    RefreshToken {
        login_url: String,
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
    },
    /// A ready access token and instance URL (e.g. from `sf org display --json`). Cannot be
    /// renewed: an expired session is a clear error telling the user to fetch a new one.
    AccessToken {
        instance_url: String,
        access_token: Secret,
    },
    /// The session of an existing `sf org login`: the access token and instance URL printed by
    /// `sf org display --target-org <alias> --json`, run again whenever Salesforce rejects the
    /// session (the CLI refreshes its own token when it can).
    SfCli {
        /// The alias or username given to `--target-org`.
        target_org: String,
        /// The `sf` program: a bare name is looked up on PATH, a path is run as given.
        program: std::path::PathBuf,
    },
}

/// Exponential backoff with jitter, run by `backon` (`salesforce::retry::backoff` builds it; the
/// Salesforce calls and the webhooks share it).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time up to `max_delay`.
    pub base_delay: Duration,
    /// Cap on one delay, and the longest `Retry-After` a server may ask for: a longer one is not
    /// waited out (the request fails at once), so no job hangs on it.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// The JWT audience for a login URL: the sandbox login server for test.salesforce.com and
/// sandbox My Domains (`*.sandbox.my.salesforce.com`), else the production one. A loopback test
/// server gets the production one (the client tries the other if it is refused).
pub fn default_audience(login_url: &str) -> &'static str {
    let host = Url::parse(login_url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let host = host.trim_end_matches('.');
    if host == "test.salesforce.com" || host.ends_with(".sandbox.my.salesforce.com") {
        SANDBOX_AUDIENCE
    } else {
        PRODUCTION_AUDIENCE
    }
}

/// The other standard audience: the one to try when Salesforce calls `audience` invalid.
pub(crate) fn other_audience(audience: &str) -> &'static str {
    if audience.trim_end_matches('/') == SANDBOX_AUDIENCE {
        PRODUCTION_AUDIENCE
    } else {
        SANDBOX_AUDIENCE
    }
}

/// Whether a login URL is one of Salesforce's shared login servers rather than an org's My
/// Domain (client credentials need a My Domain). A loopback test server counts as a My Domain.
pub fn is_shared_login_host(login_url: &str) -> bool {
    Url::parse(login_url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| {
            matches!(
                h.trim_end_matches('.'),
                "login.salesforce.com" | "test.salesforce.com"
            )
        })
}

/// Whether a URL's host is this machine (127.0.0.0/8, `[::1]`, `localhost`): the only hosts a
/// bearer token or client secret may travel to over plain http.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether secrets may be sent to `url`: https anywhere, plain http only to loopback.
pub fn is_safe_for_secrets(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_login_hosts_get_the_sandbox_audience() {
        for url in [
            "https://test.salesforce.com",
            "https://acme--uat.sandbox.my.salesforce.com/",
            "https://TEST.salesforce.com",
        ] {
            assert_eq!(default_audience(url), SANDBOX_AUDIENCE, "{url}");
        }
        for url in [
            "https://login.salesforce.com",
            "https://acme.my.salesforce.com",
            "http://127.0.0.1:4000",
        ] {
            assert_eq!(default_audience(url), PRODUCTION_AUDIENCE, "{url}");
        }
        assert_eq!(other_audience(SANDBOX_AUDIENCE), PRODUCTION_AUDIENCE);
        assert_eq!(other_audience(PRODUCTION_AUDIENCE), SANDBOX_AUDIENCE);
    }

    #[test]
    fn shared_login_hosts_are_not_my_domains() {
        assert!(is_shared_login_host("https://login.salesforce.com/"));
        assert!(is_shared_login_host("https://test.salesforce.com"));
        assert!(!is_shared_login_host("https://acme.my.salesforce.com"));
        assert!(!is_shared_login_host("http://127.0.0.1:9"));
    }

    #[test]
    fn plain_http_is_safe_only_on_loopback() {
        let safe = |u: &str| is_safe_for_secrets(&Url::parse(u).unwrap());
        assert!(safe("https://example.com"));
        assert!(safe("http://127.0.0.1:9"));
        assert!(safe("http://127.8.0.1"));
        assert!(safe("http://[::1]:9"));
        assert!(safe("http://localhost:9"));
        assert!(!safe("http://example.invalid"));
        assert!(!safe("http://10.0.0.1"));
        assert!(!safe("http://[::2]"));
        assert!(!safe("ftp://127.0.0.1"));
    }
}
