//! pslwarden: finds Service Cloud Voice permission set license seats consumed for nothing, and
//! reclaims them safely.
//!
//! # A tour of the modules
//!
//! The data flows one way (see `ARCHITECTURE.md` for the whole picture):
//!
//! * [`config`]: the TOML file, parsed once into checked settings. A bad config fails at start,
//!   with the file, line and key, never at 3 a.m.
//! * [`secret`]: the one type that holds secret text; it cannot be printed.
//! * [`salesforce`]: the only code that speaks HTTP to Salesforce: OAuth flows, token cache and
//!   renewal, SOQL query pages, sObject Collections, composite, retries, API-usage tracking.
//!   Knows nothing about licenses.
//! * [`connect`]: turns an org's settings into a signed-in [`salesforce::Client`], starting the
//!   built-in simulated org (`sfsim`) in-process when the org is a simulated one.
//! * [`snapshot`]: the only place that knows which SOQL to run; builds an [`snapshot::OrgSnapshot`]
//!   of plain, serializable records, saved with every run and replayable offline.
//! * [`rules`]: pure functions of the snapshot (no I/O, no clock), one module per rule; each
//!   returns findings with their evidence.
//! * [`ledger`]: seats per license before and after the fix, and the what-if.
//! * [`money`]: exact amounts, currencies and `[org.prices]`; what seats are worth.
//! * [`window`]: each org's off-hours window (pure: instants are passed in), DST rules included.
//! * [`plan`]: findings to ordered actions, each with the facts it relies on, under a digest.
//! * [`report`]: the run's report as data ([`report::ScanReport`]) and its renderers (JSON,
//!   Markdown, CSV, self-contained HTML).
//! * [`apply`]: carrying out a plan: the gate (window, caps, API headroom), drift checks, the
//!   batch engine with its journal and reconciliation, the run report.
//! * [`state`]: the SQLite state store (plans, runs, the journal, approvals) and the per-org lock.
//! * [`approval`]: a person's approval of one plan, carried out later in the window
//!   (`mode = "approved"`).
//! * [`daemon`]: scheduled scans and applies for many orgs, metrics, webhooks, signals.
//! * [`usage`]: Service Cloud Voice minutes vs telephony minutes from VoiceCall records (pure
//!   counting and billing, and the usage report).
//! * [`text`]: text from the org made inert for the terminal, logs, Markdown, HTML and Slack.
//! * [`commands`]: the CLI's subcommands (`scan`, `apply`, `rollback`, `history`, `doctor`,
//!   `licenses`, `window`; `daemon` lives in [`daemon`]), each a function of checked settings that returns an outcome; `main`
//!   only parses arguments and maps errors to exit codes.
//!
//! Architecture invariant: only `salesforce` does HTTP to an org; nothing else builds a URL.
//! Architecture invariant: `rules`, `ledger`, `plan` and the report renderers do no I/O.
//! Architecture invariant: only [`apply::engine::execute`] writes to an org, after the gate and
//! with the batch's intent committed; nothing is deleted that is not journaled first.

pub mod apply;
pub mod approval;
pub mod commands;
pub mod config;
pub mod connect;
pub mod daemon;
pub mod init;
pub mod ledger;
pub mod money;
pub mod plan;
pub mod preflight;
pub mod private_fs;
pub mod progress;
pub mod report;
pub mod rules;
pub mod salesforce;
pub mod secret;
pub mod snapshot;
pub mod state;
pub mod terminal;
pub mod text;
pub mod usage;
pub mod window;
