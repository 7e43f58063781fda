//! `[daemon]` of the config: the metrics endpoint's address, report retention and webhooks, as
//! written ([`RawDaemon`]) and checked ([`DaemonSettings`]).
//!
//! Owns: the rule that a non-loopback `listen` needs `listen_public = true`, and the webhook
//! checks. Webhook URLs are secrets: referenced here, read only by [`DaemonSettings::webhooks`].
//!
//! Must not: bind, connect or send anything; the daemon does that with these settings.

use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError, Origin, SecretKeys, SecretSpec, read_secret};
use crate::config::SecretError;
use crate::secret::Secret;

/// `[daemon]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    /// Address of the `/healthz` and `/metrics` endpoint, e.g. "127.0.0.1:9464".
    pub listen: Option<Spanned<String>>,
    /// The explicit yes to serving `/metrics` beyond this machine: a non-loopback `listen` is
    /// refused without it, because the metrics name orgs and count their users' seats.
    pub listen_public: Option<Spanned<bool>>,
    /// Report folders kept per org (the newest); 0 keeps all.
    pub keep_reports: Option<Spanned<i64>>,
    /// `[[daemon.webhook]]`: where notifications go.
    #[serde(default)]
    pub webhook: Vec<Spanned<RawWebhook>>,
    /// The environment variable holding the bearer token the status page (`/`, `/api/*`,
    /// `/reports/*`) requires; absent: the page is open like `/metrics`.
    pub status_token_env: Option<Spanned<String>>,
    /// Or the file holding it (a mounted secret).
    pub status_token_file: Option<Spanned<String>>,
    /// Refused: a token written in the file (accepted here only to refuse it without echoing
    /// the line, as a parse error would).
    pub status_token: Option<Spanned<toml::Value>>,
}

/// `[[daemon.webhook]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// The URL is a secret (Slack's carries a token): an environment variable or a file.
    pub url_env: Option<Spanned<String>>,
    pub url_file: Option<Spanned<String>>,
    /// Refused: a URL written in the file.
    pub url: Option<Spanned<toml::Value>>,
    /// "slack" (`{"text": ...}`, the default) or "json" (the event).
    pub format: Option<Spanned<String>>,
    /// Which events: "findings", "apply", "failure", "approval" (default all).
    pub events: Option<Vec<Spanned<String>>>,
}

/// `[daemon]`, checked.
#[derive(Debug, Clone)]
pub struct DaemonSettings {
    /// Where `/healthz` and `/metrics` listen.
    pub listen: std::net::SocketAddr,
    /// `listen` is not loopback and the admin said `listen_public = true`: the daemon warns at
    /// start that the metrics are reachable from other machines.
    pub listen_public: bool,
    /// Report folders kept per org; 0 keeps all.
    pub keep_reports: usize,
    /// Webhooks, URLs still referenced (read when the daemon starts or reloads).
    pub webhooks: Vec<WebhookSpec>,
    /// The status page's bearer token, still referenced (read when the daemon starts or
    /// reloads); `None`: the page needs no token.
    pub status_token: Option<SecretSpec>,
    /// Where they were configured, to locate secret errors.
    origin: Origin,
}

/// One webhook with its URL unresolved.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    pub url: SecretSpec,
    pub format: WebhookFormat,
    pub events: std::collections::BTreeSet<EventKind>,
}

/// The default metrics address: loopback only (the metrics name orgs and users' counts).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

/// Report folders kept per org by default.
pub const DEFAULT_KEEP_REPORTS: usize = 30;

impl DaemonSettings {
    pub(super) fn defaults(origin: Origin) -> DaemonSettings {
        DaemonSettings {
            listen: DEFAULT_LISTEN.parse().expect("a valid socket address"),
            listen_public: false,
            keep_reports: DEFAULT_KEEP_REPORTS,
            webhooks: Vec::new(),
            status_token: None,
            origin,
        }
    }

    /// Reads the status page's token (`None` when none is configured); a missing or empty
    /// variable names its config line.
    pub fn status_token(&self) -> Result<Option<Secret>, SecretError> {
        self.status_token
            .as_ref()
            .map(|spec| read_secret(&self.origin, spec))
            .transpose()
    }

    /// Reads every webhook's URL; a missing variable or file names its config line.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, SecretError> {
        self.webhooks
            .iter()
            .enumerate()
            .map(|(index, w)| {
                Ok(Webhook {
                    url: read_secret(&self.origin, &w.url)?,
                    format: w.format,
                    events: w.events.clone(),
                    index,
                })
            })
            .collect()
    }
}

impl Checker {
    /// Checks `[daemon]` (absent: the defaults).
    pub(super) fn daemon(
        &self,
        raw: Option<&Spanned<RawDaemon>>,
    ) -> Result<DaemonSettings, ConfigError> {
        let mut daemon = DaemonSettings::defaults(self.origin.clone());
        let Some(raw) = raw else {
            return Ok(daemon);
        };
        let d = raw.get_ref();
        if let Some(listen) = &d.listen {
            daemon.listen = listen.get_ref().trim().parse().map_err(|_| {
                self.invalid(
                    listen.span(),
                    "daemon.listen",
                    format!(
                        "`{}` is not an address: write IP:PORT, e.g. \"{DEFAULT_LISTEN}\" (port 0 \
                         picks a free one)",
                        listen.get_ref()
                    ),
                )
            })?;
            let public = d.listen_public.as_ref().is_some_and(|p| *p.get_ref());
            if !daemon.listen.ip().is_loopback() && !public {
                return Err(self.invalid(
                    listen.span(),
                    "daemon.listen",
                    format!(
                        "`{}` is not a loopback address: /metrics names your orgs and counts their \
                         seats, so it is served beyond this machine only when you say so with \
                         `listen_public = true` in [daemon] (and keep it behind a firewall or \
                         network policy); otherwise use \"{DEFAULT_LISTEN}\"",
                        listen.get_ref().trim()
                    ),
                ));
            }
            daemon.listen_public = public && !daemon.listen.ip().is_loopback();
        }
        if let Some(keep) = &d.keep_reports {
            let n = *keep.get_ref();
            if !(0..=100_000).contains(&n) {
                return Err(self.invalid(
                    keep.span(),
                    "daemon.keep_reports",
                    "must be a whole number from 0 (keep all) to 100000",
                ));
            }
            daemon.keep_reports = n as usize;
        }
        for (i, hook) in d.webhook.iter().enumerate() {
            let w = hook.get_ref();
            let prefix = format!("daemon.webhook[{i}]");
            let url = self.required_secret(
                SecretKeys::new("url", &w.url_env, &w.url_file, &w.url),
                &prefix,
                hook.span(),
            )?;
            let format = match w.format.as_ref().map(|f| (f.get_ref().trim(), f.span())) {
                None | Some(("slack", _)) => WebhookFormat::Slack,
                Some(("json", _)) => WebhookFormat::Json,
                Some((other, span)) => {
                    return Err(self.invalid(
                        span,
                        &format!("{prefix}.format"),
                        format!("unknown format `{other}`: use \"slack\" or \"json\""),
                    ));
                }
            };
            let events = match &w.events {
                None => EventKind::all(),
                Some(list) => {
                    let mut events = std::collections::BTreeSet::new();
                    for e in list {
                        events.insert(EventKind::parse(e.get_ref()).ok_or_else(|| {
                            self.invalid(
                                e.span(),
                                &format!("{prefix}.events"),
                                format!(
                                    "unknown event `{}`: use \"findings\", \"apply\", \
                                     \"failure\" or \"approval\"",
                                    e.get_ref()
                                ),
                            )
                        })?);
                    }
                    events
                }
            };
            daemon.webhooks.push(WebhookSpec {
                url,
                format,
                events,
            });
        }
        // `_env` or `_file`; `status_token` itself is refused: the token is a secret.
        daemon.status_token = self.secret(
            SecretKeys::new(
                "status_token",
                &d.status_token_env,
                &d.status_token_file,
                &d.status_token,
            ),
            "daemon",
            raw.span(),
            false,
        )?;
        Ok(daemon)
    }
}

/// Which kind of news a webhook wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A scan found findings it had not found before.
    Findings,
    /// An apply run changed something (or tried and failed on some records).
    Apply,
    /// A job failed: sign-in, a refused write call, a broken state store.
    Failure,
    /// `mode = "approved"`: a scan found something to approve (`approval_needed`), an approval
    /// was carried out (`approval_applied`) or expired unapplied (`approval_expired`).
    Approval,
}

impl EventKind {
    pub fn parse(text: &str) -> Option<EventKind> {
        match text.trim() {
            "findings" => Some(EventKind::Findings),
            "apply" => Some(EventKind::Apply),
            "failure" => Some(EventKind::Failure),
            "approval" => Some(EventKind::Approval),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Findings => "findings",
            EventKind::Apply => "apply",
            EventKind::Failure => "failure",
            EventKind::Approval => "approval",
        }
    }

    /// Every kind, the default of a webhook.
    pub fn all() -> BTreeSet<EventKind> {
        [
            EventKind::Findings,
            EventKind::Apply,
            EventKind::Failure,
            EventKind::Approval,
        ]
        .into_iter()
        .collect()
    }
}

/// The body a webhook takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"text": "..."}`: Slack incoming webhooks, Mattermost, Teams workflows and most chats.
    Slack,
    /// The daemon's event itself as JSON, for scripts and alert routers.
    Json,
}

/// One configured webhook, its URL read (it is a secret: Slack's carries a token).
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Where to POST.
    pub url: Secret,
    pub format: WebhookFormat,
    /// What it is told about.
    pub events: BTreeSet<EventKind>,
    /// Its position in the config, to name it in logs without its URL.
    pub index: usize,
}
