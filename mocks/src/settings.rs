//! The org-wide settings of a simulated org (the fixture's `_org` section once parsed): identity,
//! API versions and limits, session timeout, the connected app that may sign in, and the two
//! switches that model Salesforce's license automation.
//!
//! Owns only the domain type and its defaults. The JSON shape of `_org` lives in `fixture.rs`;
//! nothing here reads files or talks HTTP. Secrets stay out of `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Org-wide settings, as `Org::settings()` hands them to tests and to the demo.
#[derive(Clone, PartialEq, Eq)]
pub struct OrgSettings {
    /// 18-character `00D` id: part of every `id` URL and access token the sim hands out.
    pub organization_id: String,
    /// `Organization.Name`, shown by `SELECT Name FROM Organization`.
    pub name: String,
    /// `Organization.IsSandbox`: clients pick test.salesforce.com vs login.salesforce.com from it.
    pub is_sandbox: bool,
    /// `Organization.OrganizationType`, e.g. "Enterprise Edition".
    pub organization_type: String,
    /// `Organization.InstanceName`, e.g. "CS42"; cosmetic.
    pub instance_name: String,
    /// API versions served under `/services/data/vNN.N/`; any other version answers 404.
    pub api_versions: Vec<String>,
    /// Daily API request allowance; requests beyond it answer 403 `REQUEST_LIMIT_EXCEEDED`.
    pub daily_api_limit: u64,
    /// Idle time after which an access token stops working (401 `INVALID_SESSION_ID`).
    pub session_timeout_seconds: u64,
    /// Username of the integration user pslwarden is expected to run as (informational).
    pub integration_user: Option<String>,
    /// The pre-Spring '24 behaviour that hands out the licensed Voice permission set.
    pub voice_auto_assign: VoiceAutoAssign,
    /// Whether deleting a permission set assignment also removes the PSL assignment nobody needs
    /// any more (Salesforce's default today; the exceptions are modelled in the store).
    pub auto_remove_psl_on_unassign: bool,
    /// Seats (`PermissionSetLicenseAssign`) skip the Recycle Bin, so deleting one again answers
    /// `INVALID_CROSS_REFERENCE_KEY` instead of `ENTITY_IS_DELETED`. Salesforce does not document
    /// which a real org answers; the switch lets tests check the client survives both.
    pub seats_deleted_for_good: bool,
    /// The connected app allowed at the token endpoint; `None` refuses every grant.
    pub connected_app: Option<ConnectedApp>,
}

/// How query results are paged: the latitude Salesforce's documentation leaves a server, made
/// switchable so clients can be tested against the strict end of it. Not part of `_org` (a
/// fixture describes an org's data, this a server's behaviour): set it with `Org::set_paging`,
/// the `sfsim serve` flags, or the `SFSIM_PAGING` environment variable ([`Paging::from_env`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paging {
    /// Only a `nextRecordsUrl` the server handed out is accepted: a `<locator>-<offset>` the
    /// client computed itself answers `INVALID_QUERY_LOCATOR` (the locator format is not a
    /// documented contract).
    pub opaque_locators: bool,
    /// Seed of the short-page generator: when set, some pages hold fewer rows than the batch
    /// size (Salesforce allows it), chosen deterministically from the seed, the cursor and the
    /// offset; `done`, `totalSize` and `nextRecordsUrl` stay truthful.
    pub short_pages: Option<u64>,
    /// Rows per page when the request carries no `Sforce-Query-Options: batchSize` (Salesforce:
    /// 2000); lower it to make small results span pages. Clamped to 200..=2000.
    pub default_batch: usize,
    /// Releases the cursor read by the Nth page fetch after the first pages (counted over the
    /// whole org, once), as if its user had opened ten more: its next `nextRecordsUrl` answers
    /// `INVALID_QUERY_LOCATOR`. For testing a client's recovery.
    pub release_cursor_at: Option<u64>,
}

/// The environment variable read by [`Paging::from_env`].
pub const PAGING_ENV: &str = "SFSIM_PAGING";

impl Default for Paging {
    fn default() -> Self {
        Paging {
            opaque_locators: false,
            short_pages: None,
            default_batch: 2000,
            release_cursor_at: None,
        }
    }
}

impl Paging {
    /// Parses a comma-separated list of modes: `opaque`, `short-pages` or `short-pages=SEED`,
    /// `batch=N`, `release=N`; `default` or an empty text is the default (Salesforce's usual behaviour).
    pub fn parse(spec: &str) -> Result<Paging, String> {
        let mut paging = Paging::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                None if part == "default" => {}
                None if part == "opaque" => paging.opaque_locators = true,
                None if part == "short-pages" => paging.short_pages = Some(1),
                Some(("short-pages", seed)) => {
                    paging.short_pages = Some(seed.trim().parse().map_err(|_| {
                        format!("short-pages={seed}: the seed must be a whole number")
                    })?)
                }
                Some(("release", n)) => {
                    paging.release_cursor_at = Some(
                        n.trim()
                            .parse()
                            .map_err(|_| format!("release={n}: must be a whole number"))?,
                    )
                }
                Some(("batch", n)) => {
                    paging.default_batch = n
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("batch={n}: must be a whole number"))?
                        .clamp(200, 2000)
                }
                _ => {
                    return Err(format!(
                        "unknown paging mode `{part}`: expected a comma-separated list of \
                         `opaque`, `short-pages[=SEED]`, `batch=N`, `release=N` or `default`"
                    ));
                }
            }
        }
        Ok(paging)
    }

    /// The paging modes named by `SFSIM_PAGING` (the default when unset), so a whole test suite
    /// can run against the strict modes; an unreadable value is an error naming the variable.
    pub fn from_env() -> Result<Paging, String> {
        match std::env::var(PAGING_ENV) {
            Ok(spec) => Paging::parse(&spec).map_err(|e| format!("{PAGING_ENV}: {e}")),
            Err(std::env::VarError::NotPresent) => Ok(Paging::default()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{PAGING_ENV}: the value is not valid UTF-8"))
            }
        }
    }

    /// True when nothing differs from Salesforce's usual paging.
    pub fn is_default(&self) -> bool {
        *self == Paging::default()
    }
}

/// Auto-assignment of a permission set when a user joins an Amazon Connect contact center.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoiceAutoAssign {
    /// Off for orgs enabled after Spring '24, which are not affected by the double consumption.
    pub enabled: bool,
    /// `PermissionSet.Name` of the set to assign (the "Salesforce Voice Permission Set").
    pub permission_set: Option<String>,
}

/// The one connected app the simulated org trusts.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    /// `client_id` / JWT `iss`.
    pub consumer_key: String,
    /// `client_secret` for client_credentials (required) and refresh_token (checked if sent).
    pub client_secret: Option<String>,
    /// PEM of the RSA public key (or certificate) that verifies JWT bearer assertions.
    pub jwt_public_key_pem: Option<String>,
    /// Where the PEM came from, when it was a file, so tools can point users at it.
    pub jwt_public_key_file: Option<PathBuf>,
    /// Refresh tokens the org accepts, each mapped to the username it signs in as.
    pub refresh_tokens: BTreeMap<String, String>,
    /// Username the client_credentials flow runs as ("Run As" user); `None` refuses the flow.
    pub client_credentials_user: Option<String>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            organization_id: "00D000000000001EAA".to_string(),
            name: "sfsim Org".to_string(),
            is_sandbox: false,
            organization_type: "Enterprise Edition".to_string(),
            instance_name: "SFSIM1".to_string(),
            api_versions: ["62.0", "63.0", "64.0", "65.0", "66.0"]
                .iter()
                .map(|v| v.to_string())
                .collect(),
            daily_api_limit: 15_000,
            session_timeout_seconds: 7_200,
            integration_user: None,
            voice_auto_assign: VoiceAutoAssign::default(),
            auto_remove_psl_on_unassign: true,
            seats_deleted_for_good: false,
            connected_app: None,
        }
    }
}

impl OrgSettings {
    /// The newest served API version, used in URLs the sim builds on its own.
    pub fn latest_api_version(&self) -> &str {
        self.api_versions
            .iter()
            .max_by(|a, b| version_key(a).cmp(&version_key(b)))
            .map(String::as_str)
            .unwrap_or("65.0")
    }
}

/// Sort key for "NN.N" version strings (numeric, so "100.0" sorts after "65.0").
pub(crate) fn version_key(version: &str) -> (u32, u32) {
    let mut parts = version.split('.');
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor)
}

impl fmt::Debug for OrgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgSettings")
            .field("organization_id", &self.organization_id)
            .field("name", &self.name)
            .field("is_sandbox", &self.is_sandbox)
            .field("api_versions", &self.api_versions)
            .field("daily_api_limit", &self.daily_api_limit)
            .field("session_timeout_seconds", &self.session_timeout_seconds)
            .field("integration_user", &self.integration_user)
            .field("voice_auto_assign", &self.voice_auto_assign)
            .field(
                "auto_remove_psl_on_unassign",
                &self.auto_remove_psl_on_unassign,
            )
            .field("seats_deleted_for_good", &self.seats_deleted_for_good)
            .field("connected_app", &self.connected_app)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ConnectedApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectedApp")
            .field("consumer_key", &self.consumer_key)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .field(
                "jwt_public_key_pem",
                &self.jwt_public_key_pem.as_ref().map(|_| "<pem>"),
            )
            .field(
                "refresh_tokens",
                &format_args!("<{} redacted>", self.refresh_tokens.len()),
            )
            .field("client_credentials_user", &self.client_credentials_user)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let app = ConnectedApp {
            consumer_key: "key".into(),
            client_secret: Some("s3cret".into()),
            jwt_public_key_pem: None,
            jwt_public_key_file: None,
            refresh_tokens: [("5Aep-token".to_string(), "u@x".to_string())].into(),
            client_credentials_user: None,
        };
        let shown = format!("{app:?}");
        assert!(!shown.contains("s3cret"));
        assert!(!shown.contains("5Aep-token"));
    }

    #[test]
    fn paging_modes_parse_and_bad_ones_are_named() {
        assert_eq!(Paging::parse("").unwrap(), Paging::default());
        let p = Paging::parse("opaque, short-pages=7,batch=5").unwrap();
        assert!(p.opaque_locators);
        assert_eq!(p.short_pages, Some(7));
        assert_eq!(p.default_batch, 200);
        assert_eq!(Paging::parse("short-pages").unwrap().short_pages, Some(1));
        let err = Paging::parse("opaque,shrt").unwrap_err();
        assert!(err.contains("`shrt`"), "{err}");
    }

    #[test]
    fn latest_version_compares_numerically() {
        let settings = OrgSettings {
            api_versions: vec!["9.0".into(), "66.0".into(), "65.0".into()],
            ..OrgSettings::default()
        };
        assert_eq!(settings.latest_api_version(), "66.0");
    }
}
