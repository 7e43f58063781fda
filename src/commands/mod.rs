//! The CLI's subcommands. Each is an async function of checked settings that returns its outcome
//! or a typed error; `main` prints and maps errors to exit codes in one place.

pub mod apply;
pub mod approvals;
pub mod approve;
pub mod doctor;
pub mod history;
pub mod init;
pub mod licenses;
pub mod output;
pub mod rollback;
pub mod scan;
pub mod usage;
pub mod window;

use crate::config::SelectOrgError;
use crate::connect::ConnectError;
use crate::salesforce::SfError;

/// Anything a command can fail with. The exit code for each is decided in `main`.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    SelectOrg(#[from] SelectOrgError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("org `{org}`: {source}")]
    Salesforce { org: String, source: SfError },
    #[error(transparent)]
    Scan(#[from] scan::ScanError),
    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),
    #[error("{0}")]
    Usage(String),
    #[error("reading org `{org}` failed: {source}")]
    Fetch {
        org: String,
        source: crate::snapshot::FetchError,
    },
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// The current instant as RFC 3339 UTC to the second: how runs and reports are stamped.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Output format for commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// JSON for scripts (stable field names).
    Json,
}

// The table renderer lives in `report` (below both `commands` and `apply`) so `apply`'s run
// report can use it without importing `commands`.
pub(crate) use crate::report::table::render_table;
