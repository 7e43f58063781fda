//! Configuration: the TOML file, parsed once into checked settings.
//!
//! Owns: the config file's format ([`RawConfig`], serde structs of TOML) and its validation into
//! [`Settings`]. Every error names the file, the line and the key, and says what to do. Secrets
//! are not in the file: the file names an environment variable or a file that holds each one, and
//! [`OrgSettings::connection_settings`] reads them (so `config/example.toml` parses on a machine
//! that has none of them, and a command touching one org needs only that org's secrets).
//!
//! Must not: connect to anything, or keep a secret anywhere but in a [`Secret`].

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::apply::gate::{ApplyLimits, MAX_BATCH_SIZE, Mode};
use crate::daemon::schedule::{CronSchedule, OrgSchedule};
use crate::plan::PlanOptions;
use crate::rules::RuleContext;
use crate::salesforce::settings::{
    AuthFlow, ConnectionSettings, DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, is_safe_for_secrets,
    is_shared_login_host,
};
use crate::secret::Secret;
use crate::usage::UsageSettings;
use crate::window::{self, ClockTime, ClosedDay, Schedule, ScheduleSpec, Window};

mod daemon;
pub use daemon::{
    DEFAULT_KEEP_REPORTS, DEFAULT_LISTEN, DaemonSettings, RawDaemon, RawWebhook, WebhookSpec,
};

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
// Raw config: exactly what the TOML says.
// ---------------------------------------------------------------------------------------------

/// The config file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Settings shared by every org unless the org overrides them.
    #[serde(default)]
    pub defaults: RawDefaults,
    /// One block per Salesforce org.
    #[serde(default, rename = "org")]
    pub orgs: Vec<Spanned<RawOrg>>,
    /// `[daemon]`: the long-running agent (`pslwarden daemon`).
    #[serde(default)]
    pub daemon: Option<Spanned<RawDaemon>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    /// When the daemon scans the org.
    pub scan: Option<Spanned<String>>,
    /// When the daemon tries to apply (inside the window only).
    pub apply: Option<Spanned<String>>,
}

/// `[defaults]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    /// REST API version without the `v`, e.g. "65.0".
    pub api_version: Option<Spanned<String>>,
    /// Where reports are written; relative paths resolve against the config file's folder.
    pub reports_dir: Option<String>,
    /// The state store (SQLite: runs, plans, the journal of every change); relative paths resolve
    /// against the config file's folder. Org locks are files beside it.
    pub state_path: Option<String>,
    /// HTTP behaviour for every org.
    #[serde(default)]
    pub http: RawHttp,
}

/// `[defaults.http]` or `[org.http]`.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// Per-request timeout in seconds.
    pub timeout_seconds: Option<Spanned<u64>>,
    /// Attempts per request for transient failures, the first included.
    pub max_attempts: Option<Spanned<u32>>,
    /// First retry delay in milliseconds; doubles up to `max_delay_ms`.
    pub base_delay_ms: Option<u64>,
    /// Cap on one retry delay in milliseconds.
    pub max_delay_ms: Option<u64>,
    /// Largest response body read, in MiB (default 64): a larger or endless answer is an error.
    pub max_response_mib: Option<Spanned<u64>>,
}

/// `[[org]]`: one org.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrg {
    /// Short name used on the command line (`--org NAME`) and in report paths.
    pub name: Spanned<String>,
    /// Overrides `defaults.api_version`.
    pub api_version: Option<Spanned<String>>,
    /// How to sign in.
    pub auth: Spanned<RawAuth>,
    /// Present only for the built-in simulated org: pslwarden starts `sfsim` in-process.
    pub simulator: Option<RawSimulator>,
    /// Overrides `defaults.http`.
    #[serde(default)]
    pub http: RawHttp,
    /// `[org.rules]`: names and classifications the rules use, when the org differs from the
    /// standard (see [`RuleContext`]).
    #[serde(default)]
    pub rules: RuleContext,
    /// `[org.plan]`: choices about the fix (see [`PlanOptions`]).
    #[serde(default)]
    pub plan: PlanOptions,
    /// `[org.window]`: when the org may be changed. Absent: never (see [`Window::NotConfigured`]).
    pub window: Option<Spanned<RawWindow>>,
    /// `"dry-run"` (default), `"apply"` or `"approved"`: whether `apply --yes` and the scheduler
    /// may change the org without a person confirming at a terminal (`approved`: only plans a
    /// person approved beforehand).
    pub mode: Option<Spanned<String>>,
    /// `[org.apply]`: safety caps and batch size.
    #[serde(default)]
    pub apply: RawApply,
    /// `[org.schedule]`: when the daemon scans and applies.
    #[serde(default)]
    pub schedule: RawSchedule,
    /// `[org.usage]`: how `pslwarden usage` counts and prices voice minutes.
    #[serde(default)]
    pub usage: RawUsage,
    /// `[org.natterbox]`: the Natterbox license policy pack.
    #[serde(default)]
    pub natterbox: RawNatterbox,
}

/// `[org.natterbox]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNatterbox {
    /// Whether scans look for the package (default true; a describe call per scan).
    pub enabled: Option<bool>,
    /// A rule pack file (default: the pack built in, `config/rules/natterbox.toml`).
    pub pack: Option<Spanned<String>>,
    /// Ids of the pack's rules whose fixes `apply` may make (default none).
    pub fix: Option<Vec<Spanned<String>>>,
}

/// `[org.usage]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsage {
    /// IANA zone days are counted in (default: the window's zone, else UTC).
    pub time_zone: Option<Spanned<String>>,
    /// The prepaid SCV minutes left on `balance_as_of`.
    pub prepaid_scv_minutes: Option<Spanned<f64>>,
    /// The date of that balance, "YYYY-MM-DD".
    pub balance_as_of: Option<Spanned<toml::Value>>,
    /// Currency of the rates, for reports (default "USD").
    pub currency: Option<Spanned<String>>,
    /// Whether agent-to-agent `InternalCall` legs carry telephony minutes (default false).
    pub internal_calls_telephony: Option<bool>,
    /// How a transfer out of SCV shows: "no_agent" (default) or "never".
    pub transfer_out: Option<Spanned<String>>,
    /// Telephony price per minute by call type.
    #[serde(default)]
    pub telephony_rates: std::collections::BTreeMap<String, Spanned<f64>>,
    /// Telephony price per minute of outbound legs by destination prefix ("+44").
    #[serde(default)]
    pub destination_rates: std::collections::BTreeMap<String, Spanned<f64>>,
}

/// `[org.apply]`: the caps one run of `apply` keeps to (see [`ApplyLimits`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApply {
    /// Most actions one run carries out.
    pub max_actions: Option<Spanned<i64>>,
    /// Most users one run changes, as a share (0 < x <= 1) of the org's Voice seats in use.
    pub max_voice_user_share: Option<Spanned<f64>>,
    /// Floor of the user cap, for small orgs.
    pub min_users_per_run: Option<Spanned<i64>>,
    /// Share (0 <= x < 1) of the daily API requests that must remain for a batch to start.
    pub min_api_headroom: Option<Spanned<f64>>,
    /// Records per write call (1..=1000).
    pub batch_size: Option<Spanned<i64>>,
}

/// `[org.window]`: either `always_open = true` alone, or a schedule. Every value keeps its span
/// so [`Checker::window`] can point at the line at fault.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// A sandbox or the simulated org: open at every instant. Excludes every other key.
    pub always_open: Option<Spanned<bool>>,
    /// IANA zone name, e.g. "Europe/London": the clock every time and date below is read on.
    pub time_zone: Option<Spanned<String>>,
    /// Days the window starts on: "mon" .. "sun" (or full names).
    pub days: Option<Spanned<Vec<Spanned<String>>>>,
    /// Local opening time, "HH:MM".
    pub start: Option<Spanned<String>>,
    /// Local closing time, "HH:MM"; "24:00" for the end of the day.
    pub end: Option<Spanned<String>>,
    /// The window closes on the day after it starts (end not after start, e.g. 22:00–05:00).
    pub crosses_midnight: Option<Spanned<bool>>,
    /// A 24-hour window, said explicitly: `start == end` alone is as likely a slip (end not yet
    /// edited) as a wish to be open all day, so it is refused without this.
    pub all_day: Option<Spanned<bool>>,
    /// No batch starts when fewer minutes than this remain before the close.
    pub cutoff_minutes: Option<Spanned<u32>>,
    /// Local dates the window stays shut: "YYYY-MM-DD" strings or TOML dates.
    pub blackout_dates: Option<Vec<Spanned<toml::Value>>>,
    /// An ICS or plain (one YYYY-MM-DD per line) file of holidays, relative to the config file.
    pub holidays_file: Option<Spanned<String>>,
}

impl RawWindow {
    /// The schedule keys that are set, to refuse them next to `always_open = true`.
    fn schedule_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut keys = Vec::new();
        let mut s = |name: &'static str, span: Option<Range<usize>>| {
            if let Some(span) = span {
                keys.push((name, span));
            }
        };
        s("time_zone", self.time_zone.as_ref().map(Spanned::span));
        s("days", self.days.as_ref().map(Spanned::span));
        s("start", self.start.as_ref().map(Spanned::span));
        s("end", self.end.as_ref().map(Spanned::span));
        s(
            "crosses_midnight",
            self.crosses_midnight.as_ref().map(Spanned::span),
        );
        s(
            "cutoff_minutes",
            self.cutoff_minutes.as_ref().map(Spanned::span),
        );
        s("all_day", self.all_day.as_ref().map(Spanned::span));
        s(
            "blackout_dates",
            self.blackout_dates
                .as_ref()
                .and_then(|d| d.first())
                .map(Spanned::span),
        );
        s(
            "holidays_file",
            self.holidays_file.as_ref().map(Spanned::span),
        );
        keys
    }
}

/// `[org.simulator]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulator {
    /// sfsim fixture (see `mocks/README.md`), relative to the config file's folder.
    pub fixture: Spanned<String>,
}

/// `[org.auth]`: the sign-in flow, chosen by `flow`, and its keys. One flat table (not a serde
/// enum) so every value keeps its span for error messages; [`check`] refuses keys that do not
/// belong to the chosen flow. Each secret is named by `<secret>_env` (an environment variable) or
/// `<secret>_file` (a file); writing the secret itself is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    /// `jwt`, `client_credentials`, `refresh_token`, `access_token` or `sf_cli`.
    pub flow: Spanned<String>,
    /// sf_cli: the alias or username of an existing `sf org login` (`--target-org`).
    pub target_org: Option<Spanned<String>>,
    /// sf_cli: the `sf` program, when it is not `sf` on PATH (a path is relative to the config).
    pub sf_path: Option<Spanned<String>>,
    /// Token endpoint host: login.salesforce.com, test.salesforce.com or the My Domain URL.
    /// Optional only for a simulated org (the simulator's own URL is used).
    pub login_url: Option<Spanned<String>>,
    /// JWT: the connected app's consumer key (`iss`).
    pub consumer_key: Option<Spanned<String>>,
    /// JWT: the integration user (`sub`).
    pub username: Option<Spanned<String>>,
    /// JWT: the `aud` claim. Default: https://test.salesforce.com for a sandbox login URL
    /// (test.salesforce.com, `*.sandbox.my.salesforce.com`), else https://login.salesforce.com,
    /// switching once to the other if Salesforce calls it invalid.
    pub audience: Option<Spanned<String>>,
    /// client_credentials / refresh_token: the connected app's consumer key.
    pub client_id: Option<Spanned<String>>,
    /// access_token: the org's instance URL.
    pub instance_url: Option<Spanned<String>>,
    pub private_key_env: Option<Spanned<String>>,
    pub private_key_file: Option<Spanned<String>>,
    pub client_secret_env: Option<Spanned<String>>,
    pub client_secret_file: Option<Spanned<String>>,
    pub refresh_token_env: Option<Spanned<String>>,
    pub refresh_token_file: Option<Spanned<String>>,
    pub access_token_env: Option<Spanned<String>>,
    pub access_token_file: Option<Spanned<String>>,
    /// The next four exist only to refuse an inline secret with a helpful message.
    pub private_key: Option<Spanned<toml::Value>>,
    pub client_secret: Option<Spanned<toml::Value>>,
    pub refresh_token: Option<Spanned<toml::Value>>,
    pub access_token: Option<Spanned<toml::Value>>,
}

impl RawAuth {
    /// Keys that are set, with their spans, for refusing those foreign to the flow.
    fn present_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut keys = Vec::new();
        let mut s = |name: &'static str, span: Option<Range<usize>>| {
            if let Some(span) = span {
                keys.push((name, span));
            }
        };
        s("login_url", self.login_url.as_ref().map(Spanned::span));
        s(
            "consumer_key",
            self.consumer_key.as_ref().map(Spanned::span),
        );
        s("username", self.username.as_ref().map(Spanned::span));
        s("audience", self.audience.as_ref().map(Spanned::span));
        s("target_org", self.target_org.as_ref().map(Spanned::span));
        s("sf_path", self.sf_path.as_ref().map(Spanned::span));
        s("client_id", self.client_id.as_ref().map(Spanned::span));
        s(
            "instance_url",
            self.instance_url.as_ref().map(Spanned::span),
        );
        s(
            "private_key_env",
            self.private_key_env.as_ref().map(Spanned::span),
        );
        s(
            "private_key_file",
            self.private_key_file.as_ref().map(Spanned::span),
        );
        s(
            "client_secret_env",
            self.client_secret_env.as_ref().map(Spanned::span),
        );
        s(
            "client_secret_file",
            self.client_secret_file.as_ref().map(Spanned::span),
        );
        s(
            "refresh_token_env",
            self.refresh_token_env.as_ref().map(Spanned::span),
        );
        s(
            "refresh_token_file",
            self.refresh_token_file.as_ref().map(Spanned::span),
        );
        s(
            "access_token_env",
            self.access_token_env.as_ref().map(Spanned::span),
        );
        s(
            "access_token_file",
            self.access_token_file.as_ref().map(Spanned::span),
        );
        keys
    }
}

/// One secret's three possible keys as written: `<name>_env`, `<name>_file`, and `<name>` itself
/// (refused).
struct SecretKeys<'a> {
    name: &'static str,
    env: &'a Option<Spanned<String>>,
    file: &'a Option<Spanned<String>>,
    inline: &'a Option<Spanned<toml::Value>>,
}

impl<'a> SecretKeys<'a> {
    fn new(
        name: &'static str,
        env: &'a Option<Spanned<String>>,
        file: &'a Option<Spanned<String>>,
        inline: &'a Option<Spanned<toml::Value>>,
    ) -> Self {
        SecretKeys {
            name,
            env,
            file,
            inline,
        }
    }
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

/// One org, checked.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    /// Unique short name.
    pub name: String,
    /// REST API version without the `v`.
    pub api_version: String,
    /// How to sign in; secrets still referenced, not read.
    pub auth: AuthSpec,
    /// The simulated org to start in-process, for the demo and tests.
    pub simulator: Option<SimulatorSpec>,
    /// Retry behaviour for transient failures.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Largest response body read from the org.
    pub max_response_bytes: u64,
    /// What the rules need to know about this org.
    pub rules: RuleContext,
    /// The admin's choices about the fix.
    pub plan: PlanOptions,
    /// When the org may be changed; [`Window::NotConfigured`] (never) without `[org.window]`.
    pub window: Window,
    /// Whether unattended changes are allowed.
    pub mode: Mode,
    /// Caps and batch size of `apply`.
    pub apply: ApplyLimits,
    /// When the daemon scans and applies.
    pub schedule: OrgSchedule,
    /// How voice minutes are counted and priced.
    pub usage: UsageSettings,
    /// The Natterbox pack scans run (`None`: turned off).
    pub natterbox: Option<std::sync::Arc<crate::rules::natterbox::Pack>>,
    /// Ids of the pack's rules whose fixes `apply` may make.
    pub natterbox_fixes: std::collections::BTreeSet<String>,
    /// Where this org was configured, to locate secret errors.
    origin: Origin,
}

/// The source text of the config, for turning spans into line numbers in late errors.
#[derive(Debug, Clone)]
struct Origin {
    path: PathBuf,
    text: std::sync::Arc<str>,
    base_dir: PathBuf,
}

/// The built-in simulated org.
#[derive(Debug, Clone)]
pub enum SimulatorSpec {
    /// A fixture file on disk.
    Fixture(PathBuf),
    /// The seed example compiled into the binary (no config file present).
    BuiltinSeed,
}

/// Sign-in settings with secrets still unresolved.
#[derive(Debug, Clone)]
pub enum AuthSpec {
    Jwt {
        login_url: Option<String>,
        consumer_key: String,
        username: String,
        audience: Option<String>,
        private_key: SecretSpec,
    },
    ClientCredentials {
        login_url: Option<String>,
        client_id: String,
        client_secret: SecretSpec,
    },
    RefreshToken {
        login_url: Option<String>,
        client_id: String,
        client_secret: Option<SecretSpec>,
        refresh_token: SecretSpec,
    },
    AccessToken {
        instance_url: Option<String>,
        access_token: SecretSpec,
    },
    /// The session of an existing `sf org login`; no secret in the config at all.
    SfCli {
        target_org: String,
        program: PathBuf,
    },
}

/// Where to read one secret from.
#[derive(Debug, Clone)]
pub enum SecretSpec {
    Env {
        var: String,
        key: String,
        span: Range<usize>,
    },
    File {
        path: PathBuf,
        key: String,
        span: Range<usize>,
    },
    /// Compiled into the binary: only the demo-only key of the built-in simulated org.
    Builtin(&'static str),
}

/// The built-in demo fixture and its demo-only key pair, so a fresh machine needs no file.
pub mod builtin {
    /// The seed example of DOMAIN.md §1.
    pub const SEED_FIXTURE: &str = include_str!("../mocks/fixtures/seed-example.json");
    /// Demo-only private key: it signs in to the simulator and nothing else.
    pub const DEMO_PRIVATE_KEY: &str = include_str!("../mocks/keys/demo-only-jwt-private.pem");
    /// The matching public key, given to the simulator.
    pub const DEMO_PUBLIC_KEY: &str = include_str!("../mocks/keys/demo-only-jwt-public.pem");
    /// Consumer key and user of the seed fixture's connected app.
    pub const DEMO_CONSUMER_KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
    pub const DEMO_USERNAME: &str = "pslwarden.integration@seed-example.org";
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
                    Ok(Settings::builtin_demo())
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

    /// The built-in demo: the seed example org, simulated, signed in with the JWT flow.
    pub fn builtin_demo() -> Settings {
        Settings {
            source: None,
            reports_dir: PathBuf::from("reports"),
            state_path: PathBuf::from("state/pslwarden.sqlite"),
            daemon: DaemonSettings::defaults(builtin_origin()),
            orgs: vec![OrgSettings {
                name: "seed-demo".to_string(),
                api_version: DEFAULT_API_VERSION.to_string(),
                auth: AuthSpec::Jwt {
                    login_url: None,
                    consumer_key: builtin::DEMO_CONSUMER_KEY.to_string(),
                    username: builtin::DEMO_USERNAME.to_string(),
                    audience: None,
                    private_key: SecretSpec::Builtin(builtin::DEMO_PRIVATE_KEY),
                },
                simulator: Some(SimulatorSpec::BuiltinSeed),
                retry: RetryPolicy::default(),
                request_timeout: Duration::from_secs(60),
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                rules: RuleContext::default(),
                plan: PlanOptions::default(),
                // The simulated org is a sandbox: always open, so the demo can apply.
                window: Window::AlwaysOpen,
                mode: Mode::Apply,
                apply: ApplyLimits::default(),
                schedule: OrgSchedule {
                    scan: CronSchedule::parse(DEMO_SCAN_SCHEDULE).ok(),
                    apply: CronSchedule::parse(DEMO_APPLY_SCHEDULE).ok(),
                },
                usage: UsageSettings::default(),
                natterbox: Some(std::sync::Arc::new(crate::rules::natterbox::Pack::builtin())),
                natterbox_fixes: Default::default(),
                origin: builtin_origin(),
            }],
        }
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

/// Where the built-in demo's settings "come from", for messages.
fn builtin_origin() -> Origin {
    Origin {
        path: PathBuf::from("(built-in demo config)"),
        text: "".into(),
        base_dir: PathBuf::from("."),
    }
}

/// The built-in demo's schedules: a scan every minute, an apply attempt every five.
pub const DEMO_SCAN_SCHEDULE: &str = "0 * * * * *";
pub const DEMO_APPLY_SCHEDULE: &str = "30 */5 * * * *";

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

/// A secret could not be read. Names the config key and the variable or file, never the value.
#[derive(Debug, thiserror::Error)]
#[error("{config}:{line}: `{key}`: {message}")]
pub struct SecretError {
    pub config: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl OrgSettings {
    /// True when the org is a simulator (the built-in one, or `[org.simulator]` in a config):
    /// every report and output about it says so, so nobody mistakes it for a real org.
    pub fn is_simulated(&self) -> bool {
        self.simulator.is_some()
    }

    /// Reads this org's secrets and builds the client's settings. `sim_url` is the base URL of
    /// the in-process simulator, for a simulated org.
    pub fn connection_settings(
        &self,
        sim_url: Option<&str>,
    ) -> Result<ConnectionSettings, SecretError> {
        let url_or_sim = |url: &Option<String>| -> String {
            url.clone()
                .or_else(|| sim_url.map(str::to_string))
                .unwrap_or_default()
        };
        let auth = match &self.auth {
            AuthSpec::Jwt {
                login_url,
                consumer_key,
                username,
                audience,
                private_key,
            } => {
                let login_url = url_or_sim(login_url);
                AuthFlow::Jwt {
                    audience: audience.clone(),
                    login_url,
                    consumer_key: consumer_key.clone(),
                    username: username.clone(),
                    private_key_pem: self.read_secret(private_key)?,
                }
            }
            AuthSpec::ClientCredentials {
                login_url,
                client_id,
                client_secret,
            } => AuthFlow::ClientCredentials {
                login_url: url_or_sim(login_url),
                client_id: client_id.clone(),
                client_secret: self.read_secret(client_secret)?,
            },
            AuthSpec::RefreshToken {
                login_url,
                client_id,
                client_secret,
                refresh_token,
            } => AuthFlow::RefreshToken {
                login_url: url_or_sim(login_url),
                client_id: client_id.clone(),
                client_secret: client_secret
                    .as_ref()
                    .map(|s| self.read_secret(s))
                    .transpose()?,
                refresh_token: self.read_secret(refresh_token)?,
            },
            AuthSpec::AccessToken {
                instance_url,
                access_token,
            } => AuthFlow::AccessToken {
                instance_url: url_or_sim(instance_url),
                access_token: self.read_secret(access_token)?,
            },
            AuthSpec::SfCli {
                target_org,
                program,
            } => AuthFlow::SfCli {
                target_org: target_org.clone(),
                program: program.clone(),
            },
        };
        Ok(ConnectionSettings {
            api_version: self.api_version.clone(),
            auth,
            retry: self.retry.clone(),
            request_timeout: self.request_timeout,
            max_response_bytes: self.max_response_bytes,
        })
    }

    fn read_secret(&self, spec: &SecretSpec) -> Result<Secret, SecretError> {
        read_secret(&self.origin, spec)
    }
}

/// Reads one secret, naming the config line of its key (never its value) when it fails.
fn read_secret(origin: &Origin, spec: &SecretSpec) -> Result<Secret, SecretError> {
    let fail = |key: &str, span: &Range<usize>, message: String| SecretError {
        config: origin.path.clone(),
        line: line_of(&origin.text, span.start),
        key: key.to_string(),
        message,
    };
    match spec {
        SecretSpec::Builtin(value) => Ok(Secret::new(*value)),
        SecretSpec::Env { var, key, span } => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
            Ok(_) => Err(fail(
                key,
                span,
                format!("environment variable {var} is empty: set it to the secret"),
            )),
            Err(_) => Err(fail(
                key,
                span,
                format!(
                    "environment variable {var} is not set: export it before running pslwarden"
                ),
            )),
        },
        SecretSpec::File { path, key, span } => match std::fs::read_to_string(path) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
            Ok(_) => Err(fail(key, span, format!("{} is empty", path.display()))),
            Err(e) => Err(fail(
                key,
                span,
                format!("cannot read {}: {e}", path.display()),
            )),
        },
    }
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

    /// Checks one secret's keys: exactly one of `_env` / `_file` when `required`, at most one
    /// otherwise, and never the secret itself.
    fn secret(
        &self,
        keys: SecretKeys<'_>,
        prefix: &str,
        auth_span: Range<usize>,
        required: bool,
    ) -> Result<Option<SecretSpec>, ConfigError> {
        let name = keys.name;
        if let Some(inline) = keys.inline {
            return Err(self.invalid(
                inline.span(),
                &format!("{prefix}.{name}"),
                format!(
                    "a secret must not be written in the config file: put it in an environment \
                     variable named by `{name}_env`, or in a file readable only by pslwarden named \
                     by `{name}_file`"
                ),
            ));
        }
        match (keys.env, keys.file) {
            (Some(_), Some(file)) => Err(self.invalid(
                file.span(),
                &format!("{prefix}.{name}_file"),
                format!("give either `{name}_env` or `{name}_file`, not both"),
            )),
            (Some(var), None) => {
                let var_name = var.get_ref().trim();
                let valid = !var_name.is_empty()
                    && var_name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(self.invalid(
                        var.span(),
                        &format!("{prefix}.{name}_env"),
                        "must be the NAME of an environment variable (letters, digits, _), not the secret itself",
                    ));
                }
                Ok(Some(SecretSpec::Env {
                    var: var_name.to_string(),
                    key: format!("{prefix}.{name}_env"),
                    span: var.span(),
                }))
            }
            (None, Some(path)) => Ok(Some(SecretSpec::File {
                path: resolve(&self.origin.base_dir, path.get_ref()),
                key: format!("{prefix}.{name}_file"),
                span: path.span(),
            })),
            (None, None) if required => Err(self.invalid(
                auth_span,
                &format!("{prefix}.{name}_env"),
                format!(
                    "missing `{name}_env` (an environment variable holding the {}) or \
                     `{name}_file` (a file holding it)",
                    name.replace('_', " ")
                ),
            )),
            (None, None) => Ok(None),
        }
    }

    /// A required secret (see [`Checker::secret`]).
    fn required_secret(
        &self,
        keys: SecretKeys<'_>,
        prefix: &str,
        auth_span: Range<usize>,
    ) -> Result<SecretSpec, ConfigError> {
        self.secret(keys, prefix, auth_span, true)?
            .ok_or_else(|| self.invalid(0..0, prefix, "missing secret"))
    }

    /// Checks `[org.http]` over `[defaults.http]`: retry policy, timeout, response size limit.
    fn http(
        &self,
        org: &RawHttp,
        defaults: &RawHttp,
        prefix: &str,
    ) -> Result<(RetryPolicy, Duration, u64), ConfigError> {
        let timeout = org
            .timeout_seconds
            .as_ref()
            .or(defaults.timeout_seconds.as_ref());
        let timeout = match timeout {
            Some(t) if *t.get_ref() == 0 || *t.get_ref() > 600 => {
                return Err(self.invalid(
                    t.span(),
                    &format!("{prefix}.http.timeout_seconds"),
                    "must be between 1 and 600 seconds",
                ));
            }
            Some(t) => Duration::from_secs(*t.get_ref()),
            None => Duration::from_secs(60),
        };
        let mut retry = RetryPolicy::default();
        if let Some(a) = org.max_attempts.as_ref().or(defaults.max_attempts.as_ref()) {
            if *a.get_ref() == 0 || *a.get_ref() > 20 {
                return Err(self.invalid(
                    a.span(),
                    &format!("{prefix}.http.max_attempts"),
                    "must be between 1 and 20",
                ));
            }
            retry.max_attempts = *a.get_ref();
        }
        if let Some(ms) = org.base_delay_ms.or(defaults.base_delay_ms) {
            retry.base_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = org.max_delay_ms.or(defaults.max_delay_ms) {
            retry.max_delay = Duration::from_millis(ms);
        }
        let max_response_bytes = match org
            .max_response_mib
            .as_ref()
            .or(defaults.max_response_mib.as_ref())
        {
            Some(m) if *m.get_ref() == 0 || *m.get_ref() > MAX_RESPONSE_MIB => {
                return Err(self.invalid(
                    m.span(),
                    &format!("{prefix}.http.max_response_mib"),
                    format!("must be between 1 and {MAX_RESPONSE_MIB} (MiB)"),
                ));
            }
            Some(m) => *m.get_ref() * 1024 * 1024,
            None => DEFAULT_MAX_RESPONSE_BYTES,
        };
        Ok((retry, timeout, max_response_bytes))
    }
}

impl Checker {
    /// Checks `[org.window]` into a [`Window`]; reads the holidays file, so a bad one fails at
    /// start, not when the window is first asked.
    fn window(
        &self,
        raw: Option<&Spanned<RawWindow>>,
        prefix: &str,
    ) -> Result<Window, ConfigError> {
        let Some(table) = raw else {
            return Ok(Window::NotConfigured);
        };
        let w = table.get_ref();
        let key = |k: &str| format!("{prefix}.window.{k}");
        if let Some(always) = &w.always_open
            && *always.get_ref()
        {
            if let Some((k, span)) = w.schedule_keys().into_iter().next() {
                return Err(self.invalid(
                    span,
                    &key(k),
                    "`always_open = true` stands alone (it is meant for a sandbox): remove the \
                     schedule keys, or remove `always_open` to use the schedule",
                ));
            }
            return Ok(Window::AlwaysOpen);
        }
        let missing = |k: &str, example: &str| {
            self.invalid(
                table.span(),
                &key(k),
                format!(
                    "missing `{k}` ({example}); a window needs time_zone, days, start and end, \
                     or `always_open = true` for a sandbox"
                ),
            )
        };
        let tz_raw = w
            .time_zone
            .as_ref()
            .ok_or_else(|| missing("time_zone", "an IANA name such as \"Europe/London\""))?;
        let time_zone = window::parse_time_zone(tz_raw.get_ref())
            .map_err(|m| self.invalid(tz_raw.span(), &key("time_zone"), m))?;
        let days_raw = w
            .days
            .as_ref()
            .ok_or_else(|| missing("days", "e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]"))?;
        let mut days = Vec::new();
        for d in days_raw.get_ref() {
            let day = window::parse_weekday(d.get_ref()).ok_or_else(|| {
                self.invalid(
                    d.span(),
                    &key("days"),
                    format!(
                        "`{}` is not a day: use mon, tue, wed, thu, fri, sat or sun",
                        d.get_ref()
                    ),
                )
            })?;
            days.push(day);
        }
        let time = |v: &Option<Spanned<String>>, k: &str, example: &str| {
            let v = v.as_ref().ok_or_else(|| missing(k, example))?;
            ClockTime::parse(v.get_ref()).map_err(|m| self.invalid(v.span(), &key(k), m))
        };
        let start = time(&w.start, "start", "local opening time, e.g. \"22:00\"")?;
        let end = time(&w.end, "end", "local closing time, e.g. \"05:00\"")?;
        let all_day = w.all_day.as_ref().is_some_and(|a| *a.get_ref());
        match (start == end, all_day, &w.end, &w.all_day) {
            (true, false, Some(end_raw), _) => {
                return Err(self.invalid(
                    end_raw.span(),
                    &key("end"),
                    format!(
                        "start and end are both {start}: for a window open 24 hours from {start} \
                         say so with `all_day = true`; otherwise set `end` to the closing time"
                    ),
                ));
            }
            (false, true, _, Some(all_day_raw)) => {
                return Err(self.invalid(
                    all_day_raw.span(),
                    &key("all_day"),
                    format!(
                        "`all_day = true` is a 24-hour window from `start`, so `end` must equal \
                         it ({start}); remove `all_day` for a {start}–{end} window"
                    ),
                ));
            }
            _ => {}
        }
        let mut closed_days = Vec::new();
        for d in w.blackout_dates.iter().flatten() {
            let date = match d.get_ref() {
                toml::Value::String(s) => window::parse_date(s.trim()),
                toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                    window::parse_date(&dt.to_string())
                }
                _ => None,
            };
            let date = date.ok_or_else(|| {
                self.invalid(
                    d.span(),
                    &key("blackout_dates"),
                    format!(
                        "`{}` is not a date: write \"YYYY-MM-DD\" (a local date in time_zone)",
                        d.get_ref()
                    ),
                )
            })?;
            closed_days.push(ClosedDay {
                date,
                why: "blackout date".to_string(),
            });
        }
        if let Some(file) = &w.holidays_file {
            closed_days.extend(self.holidays(file, &key("holidays_file"))?);
        }
        let spec = ScheduleSpec {
            time_zone,
            days,
            start,
            end,
            // A 24-hour window ends on the next day at its start time.
            crosses_midnight: all_day || w.crosses_midnight.as_ref().is_some_and(|c| *c.get_ref()),
            cutoff_minutes: w
                .cutoff_minutes
                .as_ref()
                .map_or(window::DEFAULT_CUTOFF_MINUTES, |c| *c.get_ref()),
            closed_days,
        };
        Schedule::new(spec).map(Window::Scheduled).map_err(|e| {
            let span = match e.key() {
                "days" => Some(days_raw.span()),
                "start" => w.start.as_ref().map(Spanned::span),
                "end" => w.end.as_ref().map(Spanned::span),
                "crosses_midnight" => w.crosses_midnight.as_ref().map(Spanned::span),
                "cutoff_minutes" => w.cutoff_minutes.as_ref().map(Spanned::span),
                _ => None,
            };
            // A default cutoff that does not fit a short window is still the cutoff's fault.
            self.invalid(span.unwrap_or_else(|| table.span()), &key(e.key()), e)
        })
    }

    /// Reads and parses a holidays file; errors name the config key and the file's own line.
    fn holidays(&self, file: &Spanned<String>, key: &str) -> Result<Vec<ClosedDay>, ConfigError> {
        let path = resolve(&self.origin.base_dir, file.get_ref());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            self.invalid(
                file.span(),
                key,
                format!("cannot read holidays file {}: {e}", path.display()),
            )
        })?;
        let holidays = window::parse_holidays(&text).map_err(|e| {
            self.invalid(
                file.span(),
                key,
                format!("{}:{}: {}", path.display(), e.line, e.message),
            )
        })?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(holidays
            .into_iter()
            .map(|h| ClosedDay {
                date: h.date,
                why: match h.name {
                    Some(name) => format!("holiday: {name} ({file_name})"),
                    None => format!("holiday ({file_name})"),
                },
            })
            .collect())
    }
}

impl Checker {
    /// Checks `mode`.
    fn mode(&self, raw: Option<&Spanned<String>>, prefix: &str) -> Result<Mode, ConfigError> {
        match raw.map(|m| (m.get_ref().trim(), m.span())) {
            None | Some(("dry-run", _)) => Ok(Mode::DryRun),
            Some(("apply", _)) => Ok(Mode::Apply),
            Some(("approved", _)) => Ok(Mode::Approved),
            Some((other, span)) => Err(self.invalid(
                span,
                &format!("{prefix}.mode"),
                format!(
                    "unknown mode `{other}`: use \"dry-run\" (changes only after a person \
                     confirms at a terminal), \"apply\" (apply --yes and the scheduler may \
                     change the org inside its window) or \"approved\" (they carry out only \
                     plans approved with `pslwarden approve`)"
                ),
            )),
        }
    }

    /// Checks `[org.apply]` into [`ApplyLimits`].
    fn apply(&self, raw: &RawApply, prefix: &str) -> Result<ApplyLimits, ConfigError> {
        let key = |k: &str| format!("{prefix}.apply.{k}");
        let mut limits = ApplyLimits::default();
        let whole = |v: &Spanned<i64>, k: &str, lo: i64, hi: i64| -> Result<usize, ConfigError> {
            let n = *v.get_ref();
            if (lo..=hi).contains(&n) {
                Ok(n as usize)
            } else {
                Err(self.invalid(
                    v.span(),
                    &key(k),
                    format!("must be a whole number from {lo} to {hi}, not {n}"),
                ))
            }
        };
        if let Some(v) = &raw.max_actions {
            limits.max_actions = whole(v, "max_actions", 1, 1_000_000)?;
        }
        if let Some(v) = &raw.min_users_per_run {
            limits.min_users_per_run = whole(v, "min_users_per_run", 0, 1_000_000)?;
        }
        if let Some(v) = &raw.batch_size {
            limits.batch_size = whole(v, "batch_size", 1, MAX_BATCH_SIZE as i64)?;
        }
        if let Some(v) = &raw.max_voice_user_share {
            let x = *v.get_ref();
            if !(x > 0.0 && x <= 1.0) {
                return Err(self.invalid(
                    v.span(),
                    &key("max_voice_user_share"),
                    format!(
                        "must be a share above 0 and at most 1 (0.2 = a fifth of the org's Voice \
                         seats), not {x}"
                    ),
                ));
            }
            limits.max_voice_user_share = x;
        }
        if let Some(v) = &raw.min_api_headroom {
            let x = *v.get_ref();
            if !(0.0..1.0).contains(&x) {
                return Err(self.invalid(
                    v.span(),
                    &key("min_api_headroom"),
                    format!(
                        "must be a share from 0 to below 1 (0.1 = stop when under a tenth of the \
                         daily API requests remain), not {x}"
                    ),
                ));
            }
            limits.min_api_headroom = x;
        }
        Ok(limits)
    }
}

impl Checker {
    /// Checks `[org.schedule]`.
    fn schedule(&self, raw: &RawSchedule, prefix: &str) -> Result<OrgSchedule, ConfigError> {
        let one = |v: &Option<Spanned<String>>, k: &str| {
            v.as_ref()
                .map(|v| {
                    CronSchedule::parse(v.get_ref())
                        .map_err(|m| self.invalid(v.span(), &format!("{prefix}.schedule.{k}"), m))
                })
                .transpose()
        };
        Ok(OrgSchedule {
            scan: one(&raw.scan, "scan")?,
            apply: one(&raw.apply, "apply")?,
        })
    }

    /// Checks `[org.natterbox]`: loads and checks the pack now, so a broken one fails at start.
    #[allow(clippy::type_complexity)]
    fn natterbox(
        &self,
        raw: &RawNatterbox,
        prefix: &str,
    ) -> Result<
        (
            Option<std::sync::Arc<crate::rules::natterbox::Pack>>,
            std::collections::BTreeSet<String>,
        ),
        ConfigError,
    > {
        use crate::rules::natterbox::Pack;
        let key = |k: &str| format!("{prefix}.natterbox.{k}");
        if raw.enabled == Some(false) {
            return Ok((None, Default::default()));
        }
        let pack = match &raw.pack {
            None => Pack::builtin(),
            Some(file) => {
                let path = resolve(&self.origin.base_dir, file.get_ref());
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.invalid(
                        file.span(),
                        &key("pack"),
                        format!("cannot read the rule pack {}: {e}", path.display()),
                    )
                })?;
                Pack::parse(&text, &path.display().to_string())
                    .map_err(|e| self.invalid(file.span(), &key("pack"), e))?
            }
        };
        let mut fixes = std::collections::BTreeSet::new();
        for id in raw.fix.iter().flatten() {
            let name = id.get_ref().trim();
            match pack.rule(name) {
                Some(rule) if rule.fix.is_some() => {
                    fixes.insert(name.to_string());
                }
                Some(_) => {
                    return Err(self.invalid(
                        id.span(),
                        &key("fix"),
                        format!("rule `{name}` of {} has no fix to turn on", pack.source),
                    ));
                }
                None => {
                    let with_fix: Vec<&str> = pack
                        .rules
                        .iter()
                        .filter(|r| r.fix.is_some())
                        .map(|r| r.id.as_str())
                        .collect();
                    return Err(self.invalid(
                        id.span(),
                        &key("fix"),
                        format!(
                            "{} has no rule `{name}`; rules with a fix: {}",
                            pack.source,
                            with_fix.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok((Some(std::sync::Arc::new(pack)), fixes))
    }

    /// Checks `[org.usage]`.
    fn usage(&self, raw: &RawUsage, prefix: &str) -> Result<UsageSettings, ConfigError> {
        use crate::usage::billing::{Balance, Pricing};
        use crate::usage::compute::{CALL_TYPES, TransferOut, UsageRules};
        let key = |k: &str| format!("{prefix}.usage.{k}");
        let time_zone = raw
            .time_zone
            .as_ref()
            .map(|tz| {
                window::parse_time_zone(tz.get_ref())
                    .map_err(|m| self.invalid(tz.span(), &key("time_zone"), m))
            })
            .transpose()?;
        let transfer_out = match raw
            .transfer_out
            .as_ref()
            .map(|t| (t.get_ref().trim(), t.span()))
        {
            None | Some(("no_agent", _)) => TransferOut::NoAgent,
            Some(("never", _)) => TransferOut::Never,
            Some((other, span)) => {
                return Err(self.invalid(
                    span,
                    &key("transfer_out"),
                    format!(
                        "unknown value `{other}`: use \"no_agent\" (a Transfer segment without an \
                         agent has left Service Cloud Voice) or \"never\""
                    ),
                ));
            }
        };
        let price = |v: &Spanned<f64>, k: &str| -> Result<f64, ConfigError> {
            let x = *v.get_ref();
            if x.is_finite() && x >= 0.0 {
                Ok(x)
            } else {
                Err(self.invalid(v.span(), &key(k), "must be a price per minute, 0 or more"))
            }
        };
        let mut rates = std::collections::BTreeMap::new();
        for (name, v) in &raw.telephony_rates {
            if !CALL_TYPES[..6].contains(&name.as_str()) {
                return Err(self.invalid(
                    v.span(),
                    &key("telephony_rates"),
                    format!(
                        "unknown call type `{name}`: use inbound, outbound, callback, transfer, \
                         consult or internal"
                    ),
                ));
            }
            rates.insert(name.clone(), price(v, "telephony_rates")?);
        }
        let mut destination_rates = Vec::new();
        for (prefix_text, v) in &raw.destination_rates {
            let valid = prefix_text.starts_with('+')
                && prefix_text.len() > 1
                && prefix_text[1..].bytes().all(|b| b.is_ascii_digit());
            if !valid {
                return Err(self.invalid(
                    v.span(),
                    &key("destination_rates"),
                    format!(
                        "`{prefix_text}` is not a destination prefix: write \"+\" and the country \
                         (and area) digits, e.g. \"+44\" or \"+1212\""
                    ),
                ));
            }
            destination_rates.push((prefix_text.clone(), price(v, "destination_rates")?));
        }
        // Longest prefix first, so "+1212" wins over "+1".
        destination_rates.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let balance = match (&raw.prepaid_scv_minutes, &raw.balance_as_of) {
            (None, None) => None,
            (Some(minutes), Some(date)) => {
                let m = *minutes.get_ref();
                if !(m.is_finite() && m >= 0.0) {
                    return Err(self.invalid(
                        minutes.span(),
                        &key("prepaid_scv_minutes"),
                        "must be a number of minutes, 0 or more",
                    ));
                }
                let text = match date.get_ref() {
                    toml::Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                };
                let as_of = window::parse_date(&text).ok_or_else(|| {
                    self.invalid(
                        date.span(),
                        &key("balance_as_of"),
                        format!("`{text}` is not a date: write \"YYYY-MM-DD\""),
                    )
                })?;
                Some(Balance { minutes: m, as_of })
            }
            (Some(v), None) => {
                return Err(self.invalid(
                    v.span(),
                    &key("balance_as_of"),
                    "`prepaid_scv_minutes` needs `balance_as_of`: the date Salesforce showed that \
                     balance",
                ));
            }
            (None, Some(v)) => {
                return Err(self.invalid(
                    v.span(),
                    &key("prepaid_scv_minutes"),
                    "`balance_as_of` needs `prepaid_scv_minutes`: the balance on that date",
                ));
            }
        };
        Ok(UsageSettings {
            time_zone,
            rules: UsageRules {
                internal_calls_telephony: raw.internal_calls_telephony.unwrap_or(false),
                transfer_out,
            },
            pricing: Pricing {
                rates,
                destination_rates,
                currency: raw
                    .currency
                    .as_ref()
                    .map_or_else(|| "USD".to_string(), |c| c.get_ref().trim().to_string()),
                balance,
            },
        })
    }
}

/// Largest `http.max_response_mib` accepted (4 GiB): beyond that the limit protects nothing.
const MAX_RESPONSE_MIB: u64 = 4096;

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
        let auth_key = format!("{prefix}.auth");
        let need_url = |url: &Option<String>, key: &str| -> Result<(), ConfigError> {
            if url.is_none() && simulator.is_none() {
                Err(c.invalid(
                    org.auth.span(),
                    &format!("{auth_key}.{key}"),
                    format!("missing `{key}`: the org's login or My Domain URL (https://...)"),
                ))
            } else {
                Ok(())
            }
        };
        let span = org.auth.span();
        let a = org.auth.get_ref();
        let flow = a.flow.get_ref().as_str();
        let allowed: &[&str] = match flow {
            "jwt" => &[
                "login_url",
                "consumer_key",
                "username",
                "audience",
                "private_key_env",
                "private_key_file",
            ],
            "client_credentials" => &[
                "login_url",
                "client_id",
                "client_secret_env",
                "client_secret_file",
            ],
            "refresh_token" => &[
                "login_url",
                "client_id",
                "client_secret_env",
                "client_secret_file",
                "refresh_token_env",
                "refresh_token_file",
            ],
            "access_token" => &["instance_url", "access_token_env", "access_token_file"],
            "sf_cli" => &["target_org", "sf_path"],
            other => {
                return Err(c.invalid(
                    a.flow.span(),
                    &format!("{auth_key}.flow"),
                    format!(
                        "unknown flow `{other}`: use jwt, client_credentials, refresh_token, access_token or sf_cli"
                    ),
                ));
            }
        };
        // Inline secrets first: the most important thing to tell the user about.
        for (name, inline) in [
            ("private_key", &a.private_key),
            ("client_secret", &a.client_secret),
            ("refresh_token", &a.refresh_token),
            ("access_token", &a.access_token),
        ] {
            c.secret(
                SecretKeys::new(name, &None, &None, inline),
                &auth_key,
                span.clone(),
                false,
            )?;
        }
        if let Some((key, key_span)) = a
            .present_keys()
            .into_iter()
            .find(|(k, _)| !allowed.contains(k))
        {
            return Err(c.invalid(
                key_span,
                &format!("{auth_key}.{key}"),
                format!(
                    "`{key}` does not belong to flow `{flow}`; its keys are: {}",
                    allowed.join(", ")
                ),
            ));
        }
        let required = |v: &Option<Spanned<String>>, key: &str| -> Result<String, ConfigError> {
            match v {
                Some(v) => c.non_empty(v, &format!("{auth_key}.{key}")),
                None => Err(c.invalid(
                    span.clone(),
                    &format!("{auth_key}.{key}"),
                    format!("missing `{key}`, needed by flow `{flow}`"),
                )),
            }
        };
        let auth = match flow {
            "jwt" => {
                let login_url = c.url(&a.login_url, &format!("{auth_key}.login_url"))?;
                need_url(&login_url, "login_url")?;
                AuthSpec::Jwt {
                    login_url,
                    consumer_key: required(&a.consumer_key, "consumer_key")?,
                    username: required(&a.username, "username")?,
                    audience: c.url(&a.audience, &format!("{auth_key}.audience"))?,
                    private_key: c.required_secret(
                        SecretKeys::new(
                            "private_key",
                            &a.private_key_env,
                            &a.private_key_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
            "client_credentials" => {
                let login_url = c.url(&a.login_url, &format!("{auth_key}.login_url"))?;
                need_url(&login_url, "login_url")?;
                if let (Some(url), Some(raw)) = (&login_url, &a.login_url)
                    && is_shared_login_host(url)
                {
                    return Err(c.invalid(
                        raw.span(),
                        &format!("{auth_key}.login_url"),
                        format!(
                            "`{url}` is a shared login server, and Salesforce refuses the client \
                             credentials flow there (\"request not supported on this domain\"): \
                             use the org's My Domain URL, e.g. \
                             https://<your-domain>.my.salesforce.com (Setup > My Domain)"
                        ),
                    ));
                }
                AuthSpec::ClientCredentials {
                    login_url,
                    client_id: required(&a.client_id, "client_id")?,
                    client_secret: c.required_secret(
                        SecretKeys::new(
                            "client_secret",
                            &a.client_secret_env,
                            &a.client_secret_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
            "refresh_token" => {
                let login_url = c.url(&a.login_url, &format!("{auth_key}.login_url"))?;
                need_url(&login_url, "login_url")?;
                AuthSpec::RefreshToken {
                    login_url,
                    client_id: required(&a.client_id, "client_id")?,
                    client_secret: c.secret(
                        SecretKeys::new(
                            "client_secret",
                            &a.client_secret_env,
                            &a.client_secret_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                        false,
                    )?,
                    refresh_token: c.required_secret(
                        SecretKeys::new(
                            "refresh_token",
                            &a.refresh_token_env,
                            &a.refresh_token_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
            "sf_cli" => {
                let target_org = required(&a.target_org, "target_org")?;
                if target_org.starts_with('-') {
                    return Err(c.invalid(
                        a.target_org.as_ref().map_or(span.clone(), Spanned::span),
                        &format!("{auth_key}.target_org"),
                        "an alias or username cannot start with `-`: use the name shown by \
                         `sf org list`",
                    ));
                }
                let program = match &a.sf_path {
                    None => PathBuf::from("sf"),
                    Some(raw) => {
                        let value = c.non_empty(raw, &format!("{auth_key}.sf_path"))?;
                        // A bare name is looked up on PATH like a shell would; a path is
                        // relative to the config file, like every other path in it.
                        if value.contains('/') || value.contains('\\') {
                            resolve(&c.origin.base_dir, &value)
                        } else {
                            PathBuf::from(value)
                        }
                    }
                };
                AuthSpec::SfCli {
                    target_org,
                    program,
                }
            }
            _ => {
                let instance_url = c.url(&a.instance_url, &format!("{auth_key}.instance_url"))?;
                need_url(&instance_url, "instance_url")?;
                AuthSpec::AccessToken {
                    instance_url,
                    access_token: c.required_secret(
                        SecretKeys::new(
                            "access_token",
                            &a.access_token_env,
                            &a.access_token_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
        };
        let (retry, request_timeout, max_response_bytes) =
            c.http(&org.http, &raw.defaults.http, &prefix)?;
        let window = c.window(org.window.as_ref(), &prefix)?;
        let mode = c.mode(org.mode.as_ref(), &prefix)?;
        let apply = c.apply(&org.apply, &prefix)?;
        let schedule = c.schedule(&org.schedule, &prefix)?;
        let usage = c.usage(&org.usage, &prefix)?;
        let (natterbox, natterbox_fixes) = c.natterbox(&org.natterbox, &prefix)?;
        orgs.push(OrgSettings {
            name,
            api_version,
            auth,
            simulator,
            retry,
            request_timeout,
            max_response_bytes,
            rules: org.rules.clone(),
            plan: org.plan.clone(),
            window,
            mode,
            apply,
            schedule,
            usage,
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

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_str(text, Path::new("/nowhere/pslwarden.toml"))
    }

    const JWT_ORG: &str = r#"
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
