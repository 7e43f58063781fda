//! One org's checked settings ([`OrgSettings`]) and the per-org checks other than sign-in:
//! the change window and its holidays file, `mode`, `[org.apply]`, `[org.schedule]`,
//! `[org.natterbox]` and `[org.usage]` (its money keys are checked with `[org.prices]` in
//! `prices`).
//!
//! Owns: the ranges and combinations these sections accept, and reading the files they name
//! (holidays, rule pack) at start, so a bad one fails before any network call.
//!
//! Must not: connect to anything or read secrets (`auth` and `secret_ref` do).

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::{ApplyLimits, CronSchedule, MAX_BATCH_SIZE, Mode, OrgSchedule};
use super::{
    AuthSpec, Checker, ConfigError, Origin, RawApply, RawNatterbox, RawSchedule, RawUsage,
    RawWindow, resolve,
};
use crate::plan::PlanOptions;
use crate::rules::RuleContext;
use crate::salesforce::settings::RetryPolicy;
use crate::usage::UsageSettings;
use crate::window::{self, ClockTime, ClosedDay, Schedule, ScheduleSpec, Window};

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
    /// Seat prices (`[org.prices]`); `None`: no output shows money.
    pub prices: Option<crate::money::Prices>,
    /// The Natterbox pack scans run (`None`: turned off).
    pub natterbox: Option<std::sync::Arc<crate::rules::natterbox::Pack>>,
    /// Ids of the pack's rules whose fixes `apply` may make.
    pub natterbox_fixes: std::collections::BTreeSet<String>,
    /// Where this org was configured, to locate secret errors.
    pub(super) origin: Origin,
}

/// The built-in simulated org.
#[derive(Debug, Clone)]
pub enum SimulatorSpec {
    /// A fixture file on disk.
    Fixture(PathBuf),
    /// The seed example compiled into the binary (no config file present); `demo` builds only.
    #[cfg(feature = "demo")]
    BuiltinSeed,
}

impl OrgSettings {
    /// True when the org is a simulator (the built-in one, or `[org.simulator]` in a config):
    /// every report and output about it says so, so nobody mistakes it for a real org.
    pub fn is_simulated(&self) -> bool {
        self.simulator.is_some()
    }
}

impl Checker {
    /// Checks `[org.window]` into a [`Window`]; reads the holidays file, so a bad one fails at
    /// start, not when the window is first asked.
    pub(super) fn window(
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
    pub(super) fn mode(
        &self,
        raw: Option<&Spanned<String>>,
        prefix: &str,
    ) -> Result<Mode, ConfigError> {
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
    pub(super) fn apply(&self, raw: &RawApply, prefix: &str) -> Result<ApplyLimits, ConfigError> {
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
    pub(super) fn schedule(
        &self,
        raw: &RawSchedule,
        prefix: &str,
    ) -> Result<OrgSchedule, ConfigError> {
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
    pub(super) fn natterbox(
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

    /// Checks `[org.usage]`; its rates and currency come checked in `money` (see
    /// [`super::prices`]).
    pub(super) fn usage(
        &self,
        raw: &RawUsage,
        money: &super::prices::CheckedMoney,
        prefix: &str,
    ) -> Result<UsageSettings, ConfigError> {
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
        let mut rates = std::collections::BTreeMap::new();
        for (name, amount, span, table) in &money.telephony {
            if !CALL_TYPES[..6].contains(&name.as_str()) {
                return Err(self.invalid(
                    span.clone(),
                    table,
                    format!(
                        "unknown call type `{name}`: use inbound, outbound, callback, transfer, \
                         consult or internal"
                    ),
                ));
            }
            rates.insert(name.clone(), *amount);
        }
        let mut destination_rates = Vec::new();
        for (prefix_text, amount, span, table) in &money.destination {
            let valid = prefix_text.starts_with('+')
                && prefix_text.len() > 1
                && prefix_text[1..].bytes().all(|b| b.is_ascii_digit());
            if !valid {
                return Err(self.invalid(
                    span.clone(),
                    table,
                    format!(
                        "`{prefix_text}` is not a destination prefix: write \"+\" and the country \
                         (and area) digits, e.g. \"+44\" or \"+1212\""
                    ),
                ));
            }
            destination_rates.push((prefix_text.clone(), *amount));
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
                scv_minute: money.scv_minute,
                currency: money
                    .usage_currency
                    .clone()
                    .unwrap_or_else(|| Pricing::default().currency),
                balance,
            },
        })
    }
}
