//! The CLI's subcommands. Each is an async function of checked settings that returns its outcome
//! or a typed error; `main` prints and maps errors to exit codes in one place.

pub mod apply;
pub mod approvals;
pub mod approve;
pub mod doctor;
pub mod history;
pub mod licenses;
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

/// Renders rows as an aligned text table with a header line.
pub(crate) fn render_table(header: &[&str], rows: &[Vec<String>], right_align: &[bool]) -> String {
    // Cells hold text from the org: each is shown on its line with no control character (and
    // is measured as shown, so the columns still line up).
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| crate::text::terminal(cell)).collect())
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let w = widths[i];
            let pad = w.saturating_sub(cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if right_align.get(i).copied().unwrap_or(false) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
