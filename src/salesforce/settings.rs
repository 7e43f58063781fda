//! Checked connection settings for one org: what the client needs to sign in and talk to it.
//!
//! Owns: the shape of "how to sign in". `config` builds these once at start-up from the raw TOML
//! (resolving secrets from env vars or files), so the client never reads files or env itself.

use std::time::Duration;

use crate::secret::Secret;

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
        /// `aud` claim; Salesforce wants the login host (defaults to `login_url`).
        audience: String,
        /// PEM private key (PKCS#8 or PKCS#1).
        private_key_pem: Secret,
    },
    /// Client credentials flow, on the org's My Domain URL.
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
}

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time up to `max_delay`.
    pub base_delay: Duration,
    /// Cap on one delay.
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
