//! Configuration: the TOML file, parsed once into checked settings.
//!
//! Owns: loading ([`Settings::load`]), the checked [`Settings`], config errors, the `Checker`
//! core (locating errors by file, line and key) and the order of the checks. Every error names
//! the file, the line and the key, and says what to do. Secrets are not in the file: the file
//! names an environment variable or a file that holds each one, and
//! [`OrgSettings::connection_settings`] reads them (so `config/example.toml` parses on a machine
//! that has none of them, and a command touching one org needs only that org's secrets).
//! The parts live in children: `raw` (the TOML as written), `secret_ref` (secret references),
//! `auth` (`[org.auth]`, `[org.http]`, connection settings), `org` (the other per-org sections),
//! `idle` (`[org.idle]`), `prices` (`[org.prices]`), `daemon` (`[daemon]`), `schedule` (`[org.schedule]`'s cron checks), `apply_settings`
//! (`mode` and `[org.apply]`'s types) and `demo` (the built-in simulated org, cargo feature
//! `demo` only). Config imports neither `daemon` nor `apply`: they import these types from here.
//!
//! Must not: connect to anything, or keep a secret anywhere but in a [`Secret`](crate::secret::Secret).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::salesforce::settings::is_safe_for_secrets;

mod apply_settings;
mod auth;
mod daemon;
#[cfg(feature = "demo")]
mod demo;
mod idle;
mod org;
mod prices;
mod raw;
mod schedule;
mod secret_ref;
pub use apply_settings::{ApplyLimits, MAX_BATCH_SIZE, Mode};
pub use auth::AuthSpec;
pub use daemon::{
    DEFAULT_KEEP_REPORTS, DEFAULT_LISTEN, DaemonSettings, EventKind, RawDaemon, RawWebhook,
    Webhook, WebhookFormat, WebhookSpec,
};
#[cfg(feature = "demo")]
pub use demo::{DEMO_APPLY_SCHEDULE, DEMO_SCAN_SCHEDULE, builtin};
pub use org::{OrgSettings, SimulatorSpec};
pub use raw::{
    RawApply, RawAuth, RawConfig, RawDefaults, RawHttp, RawIdle, RawNatterbox, RawOrg, RawPrices,
    RawSchedule, RawSimulator, RawUsage, RawWindow,
};
pub use schedule::{CronSchedule, OrgSchedule};
pub use secret_ref::{SecretError, SecretSpec};
use secret_ref::{SecretKeys, read_secret};

/// The config file looked for when no `--config` is given, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/pslwarden.toml";

/// Salesforce REST API version used when the config names none (Winter '26).
pub const DEFAULT_API_VERSION: &str = "65.0";

/// A config problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}. Check the path given to --config.")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax or shape error (unknown key, wrong type, missing key); toml's message carries
    /// the line, column and a caret under the offending text.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// No config was given or found, and this build has no built-in simulated org to fall back
    /// on (built without the `demo` feature).
    #[error(
        "no config: pass --config FILE or set PSLWARDEN_CONFIG; this build has no built-in \
         simulated org"
    )]
    NoConfig,
    /// A value that parsed but is not valid.
    #[error("{path}:{line}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Checked settings: what the rest of the program uses.
// ---------------------------------------------------------------------------------------------

/// The whole configuration, checked.
#[derive(Debug)]
pub struct Settings {
    /// The file these settings came from (for messages), or `None` for the built-in demo.
    pub source: Option<PathBuf>,
    /// Where reports are written.
    pub reports_dir: PathBuf,
    /// The state store's SQLite file.
    pub state_path: PathBuf,
    /// Every configured org, in file order; names are unique.
    pub orgs: Vec<OrgSettings>,
    /// The daemon's endpoint, retention and webhooks.
    pub daemon: DaemonSettings,
}

/// The source text of the config, for turning spans into line numbers in late errors.
#[derive(Debug, Clone)]
struct Origin {
    path: PathBuf,
    text: std::sync::Arc<str>,
    base_dir: PathBuf,
}

/// True when this build carries the built-in simulated org (cargo feature `demo`, on by default;
/// production builds use `--no-default-features`).
pub const HAS_BUILTIN_DEMO: bool = cfg!(feature = "demo");

/// The built-in demo's settings, when this build carries them: what [`without_config`] falls back
/// on.
#[cfg(feature = "demo")]
pub const BUILTIN_DEMO: Option<fn() -> Settings> = Some(Settings::builtin_demo);
#[cfg(not(feature = "demo"))]
pub const BUILTIN_DEMO: Option<fn() -> Settings> = None;

/// What a run uses when no config was given or found: the built-in demo (`demo`, when the build
/// has one), else an error saying how to give a config. A plain function of its input, so both
/// answers are tested whichever features the tests are built with.
pub fn without_config(demo: Option<fn() -> Settings>) -> Result<Settings, ConfigError> {
    match demo {
        Some(builtin_demo) => Ok(builtin_demo()),
        None => Err(ConfigError::NoConfig),
    }
}

impl Settings {
    /// Loads `path`, or — when `path` is `None` — the default config file if present in the
    /// working directory, else the built-in simulated org.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        match path {
            Some(p) => Settings::from_file(p),
            None => {
                let default = Path::new(DEFAULT_CONFIG_PATH);
                if default.is_file() {
                    Settings::from_file(default)
                } else {
                    without_config(BUILTIN_DEMO)
                }
            }
        }
    }

    /// Loads and checks one config file.
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Settings::from_str(&text, path)
    }

    /// Checks config text; `path` is where it came from (relative paths resolve against its folder).
    pub fn from_str(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let origin = Origin {
            path: path.to_path_buf(),
            text: text.into(),
            base_dir: base_dir.clone(),
        };
        check(raw, origin)
    }

    /// The org named `name`, or the only org when `name` is `None`.
    pub fn org(&self, name: Option<&str>) -> Result<&OrgSettings, SelectOrgError> {
        let names = || self.orgs.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
        match name {
            // Without a config file, a name the demo lacks means the admin meant a real org:
            // say that no config was found rather than fall back on the simulator.
            Some(n) => self.orgs.iter().find(|o| o.name == n).ok_or_else(|| {
                if self.is_builtin_demo() {
                    SelectOrgError::NoConfigForOrg {
                        name: n.to_string(),
                    }
                } else {
                    SelectOrgError::Unknown {
                        name: n.to_string(),
                        known: names(),
                    }
                }
            }),
            None => match self.orgs.as_slice() {
                [only] => Ok(only),
                [] => Err(SelectOrgError::NoOrgs),
                _ => Err(SelectOrgError::Ambiguous { known: names() }),
            },
        }
    }

    /// True for the built-in demo settings (no config file was found or given).
    pub fn is_builtin_demo(&self) -> bool {
        self.source.is_none()
    }

    /// Describes where the settings came from, for messages.
    pub fn source_label(&self) -> String {
        match &self.source {
            Some(p) => p.display().to_string(),
            None => "built-in demo config (no config/pslwarden.toml here)".to_string(),
        }
    }
}

/// `--org` did not pick exactly one org.
#[derive(Debug, thiserror::Error)]
pub enum SelectOrgError {
    #[error("no org named `{name}` in the config; configured orgs: {}", known.join(", "))]
    Unknown { name: String, known: Vec<String> },
    #[error(
        "no org named `{name}`: no config file was given or found (no --config, no \
         PSLWARDEN_CONFIG, no {DEFAULT_CONFIG_PATH} in the working directory), so the only org is \
         the built-in simulated org `seed-demo`. Pass the config that defines `{name}` with \
         --config FILE (start from config/example.toml)"
    )]
    NoConfigForOrg { name: String },
    #[error("the config has several orgs ({}): choose one with --org NAME", known.join(", "))]
    Ambiguous { known: Vec<String> },
    #[error("the config has no [[org]] block: add one (see config/example.toml)")]
    NoOrgs,
}

/// `base/rel` with `.` and `..` resolved lexically, so messages show `reports/x`, not
/// `config/../reports/x`. An absolute `rel` stands alone.
fn resolve(base: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in base.join(rel).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// 1-based line number of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at.min(text.len()))
        .map(|s| s.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// Collects located errors; the first is reported (the user fixes one thing at a time, and the
/// next run points at the next).
struct Checker {
    origin: Origin,
}

impl Checker {
    fn invalid(&self, span: Range<usize>, key: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            path: self.origin.path.clone(),
            line: line_of(&self.origin.text, span.start),
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    fn api_version(&self, v: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let s = v.get_ref().trim().trim_start_matches('v');
        let ok = s
            .split_once('.')
            .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
        if ok {
            Ok(s.to_string())
        } else {
            Err(self.invalid(
                v.span(),
                key,
                format!(
                    "`{}` is not an API version: write it like \"65.0\"",
                    v.get_ref()
                ),
            ))
        }
    }

    fn url(&self, v: &Option<Spanned<String>>, key: &str) -> Result<Option<String>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        let text = v.get_ref().trim().trim_end_matches('/');
        match url::Url::parse(text) {
            Ok(u) if is_safe_for_secrets(&u) => Ok(Some(text.to_string())),
            Ok(_) => Err(self.invalid(
                v.span(),
                key,
                "must be an https:// URL (plain http is accepted only for loopback test servers)",
            )),
            Err(e) => Err(self.invalid(
                v.span(),
                key,
                format!("`{}` is not a URL ({e})", v.get_ref()),
            )),
        }
    }

    fn non_empty(&self, v: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let s = v.get_ref().trim();
        if s.is_empty() {
            Err(self.invalid(v.span(), key, "must not be empty"))
        } else {
            Ok(s.to_string())
        }
    }
}

fn check(raw: RawConfig, origin: Origin) -> Result<Settings, ConfigError> {
    let c = Checker { origin };
    let default_version = match &raw.defaults.api_version {
        Some(v) => c.api_version(v, "defaults.api_version")?,
        None => DEFAULT_API_VERSION.to_string(),
    };
    let reports_dir = resolve(
        &c.origin.base_dir,
        raw.defaults.reports_dir.as_deref().unwrap_or("reports"),
    );
    let mut orgs: Vec<OrgSettings> = Vec::new();
    for (i, spanned) in raw.orgs.iter().enumerate() {
        let org = spanned.get_ref();
        let prefix = format!("org[{i}]");
        let name = c.non_empty(&org.name, &format!("{prefix}.name"))?;
        if !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            return Err(c.invalid(
                org.name.span(),
                &format!("{prefix}.name"),
                "use letters, digits, - and _ only (it becomes part of report paths)",
            ));
        }
        if orgs.iter().any(|o| o.name == name) {
            return Err(c.invalid(
                org.name.span(),
                &format!("{prefix}.name"),
                format!("another org is already named `{name}`: names must be unique"),
            ));
        }
        let prefix = format!("org[{name}]");
        let api_version = match &org.api_version {
            Some(v) => c.api_version(v, &format!("{prefix}.api_version"))?,
            None => default_version.clone(),
        };
        let simulator = match &org.simulator {
            Some(s) => {
                let path = resolve(&c.origin.base_dir, s.fixture.get_ref());
                if !path.is_file() {
                    return Err(c.invalid(
                        s.fixture.span(),
                        &format!("{prefix}.simulator.fixture"),
                        format!("no fixture file at {}", path.display()),
                    ));
                }
                Some(SimulatorSpec::Fixture(path))
            }
            None => None,
        };
        let auth = c.auth(org, simulator.as_ref(), &prefix)?;
        let (retry, request_timeout, max_response_bytes) =
            c.http(&org.http, &raw.defaults.http, &prefix)?;
        let window = c.window(org.window.as_ref(), &prefix)?;
        let mode = c.mode(org.mode.as_ref(), &prefix)?;
        let apply = c.apply(&org.apply, &prefix)?;
        let schedule = c.schedule(&org.schedule, &prefix)?;
        let money = c.prices(org.prices.as_ref(), &org.usage, &prefix)?;
        let usage = c.usage(&org.usage, &money, &prefix)?;
        let (natterbox, natterbox_fixes) = c.natterbox(&org.natterbox, &prefix)?;
        let mut rules = org.rules.clone();
        rules.idle = org
            .idle
            .as_ref()
            .map(|idle| c.idle(idle.get_ref(), &prefix))
            .transpose()?;
        let mut plan = org.plan.clone();
        plan.reclaim_idle_seats = rules.idle.as_ref().is_some_and(|i| i.reclaim);
        orgs.push(OrgSettings {
            name,
            api_version,
            auth,
            simulator,
            retry,
            request_timeout,
            max_response_bytes,
            rules,
            plan,
            window,
            mode,
            apply,
            schedule,
            usage,
            prices: money.seats,
            natterbox,
            natterbox_fixes,
            origin: c.origin.clone(),
        });
    }
    let state_path = resolve(
        &c.origin.base_dir,
        raw.defaults
            .state_path
            .as_deref()
            .unwrap_or("state/pslwarden.sqlite"),
    );
    let daemon = c.daemon(raw.daemon.as_ref())?;
    Ok(Settings {
        source: Some(c.origin.path.clone()),
        reports_dir,
        state_path,
        daemon,
        orgs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Window;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_str(text, Path::new("/nowhere/pslwarden.toml"))
    }

    /// One valid JWT org, for the config tests here and in the child modules.
    pub(super) const JWT_ORG: &str = r#"
[[org]]
name = "prod"
[org.auth]
flow = "jwt"
login_url = "https://login.salesforce.com"
consumer_key = "3MVG9abc"
username = "agent@example.com"
private_key_env = "SF_KEY"
"#;

    const CLIENT_CREDENTIALS_ORG: &str = r#"
[[org]]
name = "emea"
[org.auth]
flow = "client_credentials"
login_url = "https://acme.my.salesforce.com"
client_id = "3MVG9abc"
client_secret_env = "SF_SECRET"
"#;

    #[test]
    fn the_status_token_is_named_by_a_variable_never_written_in_the_file() {
        let ok = format!("[daemon]\nstatus_token_env = \"PSLW_STATUS\"\n{JWT_ORG}");
        let settings = parse(&ok).unwrap();
        assert!(settings.daemon.status_token.is_some());
        assert!(parse(JWT_ORG).unwrap().daemon.status_token.is_none());
        let bad = format!("[daemon]\nstatus_token_env = \"not a name!\"\n{JWT_ORG}");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(
            err.starts_with("/nowhere/pslwarden.toml:2: `daemon.status_token_env`"),
            "{err}"
        );
        let inline = format!("[daemon]\nstatus_token = \"s3cret\"\n{JWT_ORG}");
        let err = parse(&inline).unwrap_err().to_string();
        assert!(err.contains("`daemon.status_token`"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn client_credentials_on_a_shared_login_server_is_refused_with_the_fix() {
        assert!(parse(CLIENT_CREDENTIALS_ORG).is_ok());
        for shared in [
            "https://login.salesforce.com",
            "https://test.salesforce.com/",
        ] {
            let text = CLIENT_CREDENTIALS_ORG.replace("https://acme.my.salesforce.com", shared);
            let err = parse(&text).unwrap_err().to_string();
            assert!(
                err.starts_with("/nowhere/pslwarden.toml:6: `org[emea].auth.login_url`"),
                "{err}"
            );
            assert!(
                err.contains("request not supported on this domain"),
                "{err}"
            );
            assert!(err.contains("My Domain URL"), "{err}");
        }
        let loopback = CLIENT_CREDENTIALS_ORG
            .replace("https://acme.my.salesforce.com", "http://127.0.0.1:4000");
        assert!(
            parse(&loopback).is_ok(),
            "a loopback test server counts as My Domain"
        );
    }

    #[test]
    fn plain_http_to_ipv6_loopback_is_accepted() {
        let text = JWT_ORG.replace("https://login.salesforce.com", "http://[::1]:4000");
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn an_unset_audience_stays_unset_for_the_client_to_choose() {
        let s = parse(JWT_ORG).unwrap();
        let AuthSpec::Jwt { audience, .. } = &s.org(None).unwrap().auth else {
            panic!("jwt")
        };
        assert_eq!(audience, &None);
        let set = JWT_ORG.replace(
            "private_key_env",
            "audience = \"https://test.salesforce.com\"\nprivate_key_env",
        );
        let s = parse(&set).unwrap();
        let AuthSpec::Jwt { audience, .. } = &s.org(None).unwrap().auth else {
            panic!("jwt")
        };
        assert_eq!(audience.as_deref(), Some("https://test.salesforce.com"));
    }

    #[test]
    fn the_response_size_limit_defaults_to_64_mib_and_is_checked() {
        let s = parse(JWT_ORG).unwrap();
        assert_eq!(s.org(None).unwrap().max_response_bytes, 64 * 1024 * 1024);
        let set = format!("[defaults.http]\nmax_response_mib = 8\n{JWT_ORG}");
        assert_eq!(
            parse(&set).unwrap().org(None).unwrap().max_response_bytes,
            8 * 1024 * 1024
        );
        let zero = format!("[defaults.http]\nmax_response_mib = 0\n{JWT_ORG}");
        let err = parse(&zero).unwrap_err().to_string();
        assert!(err.starts_with("/nowhere/pslwarden.toml:2:"), "{err}");
        assert!(err.contains("http.max_response_mib"), "{err}");
    }

    #[test]
    fn retry_delays_are_checked_and_name_their_line() {
        let set = format!("[defaults.http]\nbase_delay_ms = 200\nmax_delay_ms = 9000\n{JWT_ORG}");
        let org = parse(&set).unwrap().org(None).unwrap().clone();
        assert_eq!(org.retry.base_delay, std::time::Duration::from_millis(200));
        assert_eq!(org.retry.max_delay, std::time::Duration::from_secs(9));
        let hours = format!("[defaults.http]\nmax_delay_ms = 7200000\n{JWT_ORG}");
        let err = parse(&hours).unwrap_err().to_string();
        assert!(err.starts_with("/nowhere/pslwarden.toml:2:"), "{err}");
        assert!(err.contains("http.max_delay_ms"), "{err}");
        assert!(err.contains("between 1 and 600000"), "{err}");
        let upside_down =
            format!("[defaults.http]\nbase_delay_ms = 5000\nmax_delay_ms = 100\n{JWT_ORG}");
        let err = parse(&upside_down).unwrap_err().to_string();
        assert!(err.starts_with("/nowhere/pslwarden.toml:2:"), "{err}");
        assert!(err.contains("http.base_delay_ms"), "{err}");
        assert!(err.contains("max_delay_ms (100 ms)"), "{err}");
    }

    #[test]
    fn a_jwt_org_parses_with_defaults() {
        let s = parse(JWT_ORG).unwrap();
        let org = s.org(None).unwrap();
        assert_eq!(org.name, "prod");
        assert_eq!(org.api_version, DEFAULT_API_VERSION);
        assert!(matches!(org.auth, AuthSpec::Jwt { .. }));
    }

    #[test]
    fn an_inline_secret_is_refused_with_its_line() {
        let text = JWT_ORG.replace(
            "private_key_env = \"SF_KEY\"",
            "private_key = \"-----BEGIN\"",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("must not be written in the config file"),
            "{err}"
        );
        assert!(err.contains(":9:"), "{err}");
        assert!(!err.contains("-----BEGIN\n"), "{err}");
    }

    #[test]
    fn an_unknown_key_names_the_key_and_line() {
        let text = JWT_ORG.replace("name = \"prod\"", "name = \"prod\"\nmood = \"sunny\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("mood"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn a_bad_url_names_file_line_and_key() {
        let text = JWT_ORG.replace("https://login.salesforce.com", "login.salesforce.com");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("/nowhere/pslwarden.toml:6:"), "{err}");
        assert!(err.contains("auth.login_url"), "{err}");
    }

    #[test]
    fn plain_http_is_refused_for_a_real_host() {
        let text = JWT_ORG.replace(
            "https://login.salesforce.com",
            "http://login.salesforce.com",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("https://"), "{err}");
    }

    #[test]
    fn duplicate_org_names_are_refused() {
        let text = format!("{JWT_ORG}{JWT_ORG}");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("already named `prod`"), "{err}");
    }

    #[test]
    fn an_unknown_flow_is_refused() {
        let text = JWT_ORG.replace("flow = \"jwt\"", "flow = \"password\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("password"), "{err}");
    }

    #[test]
    fn a_missing_env_secret_names_the_variable_not_a_value() {
        let s = parse(&JWT_ORG.replace("SF_KEY", "PSLWARDEN_TEST_SURELY_UNSET_VAR")).unwrap();
        let err = s.orgs[0].connection_settings(None).unwrap_err().to_string();
        assert!(
            err.contains("PSLWARDEN_TEST_SURELY_UNSET_VAR is not set"),
            "{err}"
        );
        assert!(err.contains(":9:"), "{err}");
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder_cleanly() {
        assert_eq!(
            resolve(Path::new("config"), "../reports"),
            PathBuf::from("reports")
        );
        assert_eq!(resolve(Path::new(""), "../x"), PathBuf::from("../x"));
        assert_eq!(
            resolve(Path::new("/etc/p"), "/var/r"),
            PathBuf::from("/var/r")
        );
        assert_eq!(
            resolve(Path::new("a/b"), "./c/../d"),
            PathBuf::from("a/b/d")
        );
    }

    const WINDOW: &str = r#"
[org.window]
time_zone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "05:00"
crosses_midnight = true
cutoff_minutes = 20
blackout_dates = ["2025-12-24", 2025-12-31]
"#;

    fn window_error(window: &str) -> String {
        parse(&format!("{JWT_ORG}{window}"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_org_without_a_window_is_never_open() {
        let s = parse(JWT_ORG).unwrap();
        assert!(matches!(s.orgs[0].window, Window::NotConfigured));
    }

    #[test]
    fn a_window_parses_with_its_blackout_dates() {
        let s = parse(&format!("{JWT_ORG}{WINDOW}")).unwrap();
        let Window::Scheduled(w) = &s.orgs[0].window else {
            panic!("not scheduled: {:?}", s.orgs[0].window);
        };
        assert_eq!(w.time_zone(), chrono_tz::Europe::London);
        assert_eq!(
            (w.start().to_string(), w.end().to_string()),
            ("22:00".into(), "05:00".into())
        );
        assert!(w.crosses_midnight());
        assert_eq!(w.cutoff().num_minutes(), 20);
        let closed: Vec<String> = w.closed_days().map(|(d, _)| d.to_string()).collect();
        assert_eq!(closed, ["2025-12-24", "2025-12-31"]);
    }

    #[test]
    fn an_unknown_time_zone_names_line_key_and_a_likely_fix() {
        let err = window_error(&WINDOW.replace("Europe/London", "Europe/Londn"));
        assert!(err.starts_with("/nowhere/pslwarden.toml:12:"), "{err}");
        assert!(err.contains("org[prod].window.time_zone"), "{err}");
        assert!(err.contains("Europe/London"), "{err}");
    }

    #[test]
    fn end_before_start_needs_crosses_midnight() {
        let err = window_error(&WINDOW.replace("crosses_midnight = true\n", ""));
        assert!(err.contains(":15:"), "{err}");
        assert!(err.contains("window.end"), "{err}");
        assert!(err.contains("crosses_midnight = true"), "{err}");
    }

    #[test]
    fn always_open_refuses_schedule_keys_beside_it() {
        let err = window_error("[org.window]\nalways_open = true\nstart = \"22:00\"\n");
        assert!(err.contains(":12:"), "{err}");
        assert!(err.contains("window.start"), "{err}");
        let s = parse(&format!("{JWT_ORG}[org.window]\nalways_open = true\n")).unwrap();
        assert!(matches!(s.orgs[0].window, Window::AlwaysOpen));
    }

    #[test]
    fn window_value_errors_point_at_their_line() {
        let err = window_error(&WINDOW.replace("\"fri\"]", "\"fry\"]"));
        assert!(
            err.contains(":13:") && err.contains("`fry` is not a day"),
            "{err}"
        );
        let err = window_error(&WINDOW.replace("\"22:00\"", "\"10pm\""));
        assert!(err.contains(":14:") && err.contains("HH:MM"), "{err}");
        let err = window_error(&WINDOW.replace("2025-12-31]", "\"31/12/2025\"]"));
        assert!(err.contains(":18:") && err.contains("31/12/2025"), "{err}");
        let err = window_error(&WINDOW.replace("cutoff_minutes = 20", "cutoff_minutes = 600"));
        assert!(
            err.contains(":17:") && err.contains("window of 420 min"),
            "{err}"
        );
        let err = window_error("[org.window]\ntime_zone = \"UTC\"\n");
        assert!(err.contains("missing `days`"), "{err}");
    }

    #[test]
    fn a_holidays_file_is_read_at_start_and_its_errors_name_file_and_line() {
        let dir =
            std::env::temp_dir().join(format!("pslwarden-config-holidays-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("holidays.txt");
        std::fs::write(&file, "2025-12-25 # Christmas Day\n").unwrap();
        let with_file = format!(
            "{WINDOW}holidays_file = \"{}\"\n",
            file.display().to_string().replace('\\', "/")
        );
        let s = parse(&format!("{JWT_ORG}{with_file}")).unwrap();
        let Window::Scheduled(w) = &s.orgs[0].window else {
            panic!("not scheduled");
        };
        let whys: Vec<&str> = w.closed_days().map(|(_, why)| why).collect();
        assert!(
            whys.contains(&"holiday: Christmas Day (holidays.txt)"),
            "{whys:?}"
        );
        std::fs::write(&file, "2025-12-25\n2025-13-01\n").unwrap();
        let err = window_error(&with_file);
        assert!(
            err.contains(":19:") && err.contains("window.holidays_file"),
            "{err}"
        );
        assert!(err.contains("holidays.txt:2:"), "{err}");
        std::fs::remove_file(&file).unwrap();
        let err = window_error(&with_file);
        assert!(err.contains("cannot read holidays file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_a_config_a_build_without_the_demo_says_how_to_give_one() {
        let err = without_config(None).unwrap_err();
        assert!(matches!(err, ConfigError::NoConfig), "{err:?}");
        assert_eq!(
            err.to_string(),
            "no config: pass --config FILE or set PSLWARDEN_CONFIG; this build has no built-in \
             simulated org"
        );
    }

    #[cfg(feature = "demo")]
    #[test]
    fn without_a_config_a_build_with_the_demo_uses_the_builtin_org() {
        let settings = without_config(Some(Settings::builtin_demo)).unwrap();
        assert!(settings.is_builtin_demo());
        assert_eq!(settings.orgs[0].name, "seed-demo");
        assert!(BUILTIN_DEMO.is_some() && HAS_BUILTIN_DEMO);
    }

    #[cfg(feature = "demo")]
    #[test]
    fn the_builtin_demo_is_always_open() {
        assert!(matches!(
            Settings::builtin_demo().orgs[0].window,
            Window::AlwaysOpen
        ));
    }

    #[test]
    fn several_orgs_need_an_explicit_choice() {
        let text = format!("{JWT_ORG}{}", JWT_ORG.replace("\"prod\"", "\"sandbox\""));
        let s = parse(&text).unwrap();
        assert!(matches!(s.org(None), Err(SelectOrgError::Ambiguous { .. })));
        assert_eq!(s.org(Some("sandbox")).unwrap().name, "sandbox");
        assert!(matches!(
            s.org(Some("x")),
            Err(SelectOrgError::Unknown { .. })
        ));
    }
}
