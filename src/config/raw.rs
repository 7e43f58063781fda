//! The config file as written: serde structs of the TOML ([`RawConfig`] and its parts), with
//! spans so every later error can name its line.
//!
//! Owns: the file's shape (keys, types, `deny_unknown_fields`) and which keys of a table were
//! written (for "does not belong here" checks).
//!
//! Must not: judge values (the `Checker` in `config` and its children does), read secrets, or
//! be used past loading: the rest of the program sees only checked settings.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::RawDaemon;
use crate::plan::PlanOptions;
use crate::rules::RuleContext;

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
    pub base_delay_ms: Option<Spanned<u64>>,
    /// Cap on one retry delay in milliseconds, and the longest `Retry-After` waited out.
    pub max_delay_ms: Option<Spanned<u64>>,
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
    /// `[org.window]`: when the org may be changed. Absent: never (see [`Window::NotConfigured`](crate::window::Window::NotConfigured)).
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
    /// `[org.prices]`: what seats and voice minutes cost; absent, no output shows money.
    pub prices: Option<Spanned<RawPrices>>,
    /// `[org.idle]`: the `idle-voice-seat` rule (absent: the rule does not run).
    pub idle: Option<Spanned<RawIdle>>,
}

/// `[org.prices]` as written. Prices are TOML numbers or decimal strings ("12.50"), checked
/// into exact [`crate::money::Amount`]s.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    /// ISO 4217 code of every price here (and of `[org.usage]`'s rates).
    pub currency: Option<Spanned<String>>,
    /// Price per seat per month by license DeveloperName.
    #[serde(default)]
    pub seat_monthly: std::collections::BTreeMap<String, Spanned<toml::Value>>,
    /// Price of one Service Cloud Voice minute (for `pslwarden usage`).
    pub scv_minute: Option<Spanned<toml::Value>>,
    /// Telephony price per minute by call type (the new home of `[org.usage.telephony_rates]`).
    #[serde(default)]
    pub telephony: std::collections::BTreeMap<String, Spanned<toml::Value>>,
    /// Telephony price per minute of outbound legs by destination prefix (the new home of
    /// `[org.usage.destination_rates]`).
    #[serde(default)]
    pub destination: std::collections::BTreeMap<String, Spanned<toml::Value>>,
}

/// `[org.idle]` as written (checked by `config::idle`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdle {
    /// Days without a call as agent before a Voice seat is idle (default 60).
    pub after_days: Option<Spanned<i64>>,
    /// A login within this many days spares the seat (default: logins are not looked at).
    pub also_last_login_days: Option<Spanned<i64>>,
    /// Whether `apply` may take idle seats back (default false: reported only).
    pub reclaim: Option<bool>,
    /// `DeveloperName`s of the licenses judged (default the two Voice licenses).
    pub licenses: Option<Spanned<Vec<Spanned<String>>>>,
    /// Usernames never reported.
    pub except_usernames: Option<Vec<Spanned<String>>>,
    /// Permission set API names whose holders are never reported.
    pub except_permission_sets: Option<Vec<Spanned<String>>>,
    /// Permission set group `DeveloperName`s whose holders are never reported.
    pub except_permission_set_groups: Option<Vec<Spanned<String>>>,
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
    pub telephony_rates: std::collections::BTreeMap<String, Spanned<toml::Value>>,
    /// Telephony price per minute of outbound legs by destination prefix ("+44").
    #[serde(default)]
    pub destination_rates: std::collections::BTreeMap<String, Spanned<toml::Value>>,
}

/// `[org.apply]`: the caps one run of `apply` keeps to (see [`ApplyLimits`](crate::config::ApplyLimits)).
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
/// so [`Checker::window`](super::Checker::window) can point at the line at fault.
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
    pub(super) fn schedule_keys(&self) -> Vec<(&'static str, Range<usize>)> {
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
/// enum) so every value keeps its span for error messages; [`check`](super::check) refuses keys that do not
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
    pub(super) fn present_keys(&self) -> Vec<(&'static str, Range<usize>)> {
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
