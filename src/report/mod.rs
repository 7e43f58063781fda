//! The scan report: the run's outcome as data, and its renderers.
//!
//! Owns: [`ScanReport`] (the versioned `report.json` schema, documented in the README) and the
//! pure renderers of it — [`json`], [`markdown`], [`csv`], [`html`] — plus [`write::write_report_dir`],
//! the one function here that touches the file system.
//! Must not: compute findings or seats (it renders what the rules, ledger and plan decided).

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod write;

use serde::{Deserialize, Serialize};

use crate::ledger::LedgerRow;
use crate::plan::Plan;
use crate::rules::{Finding, RuleOutcome, RuleStatus};

/// Version of the `report.json` schema. Bump on any change a consumer would notice.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The banner every report and output about a simulated org carries (scan reports, apply and
/// rollback reports, the apply summary), so a demo is never read as a real org's numbers.
pub const SIMULATED_ORG_NOTICE: &str =
    "SIMULATED ORG: these numbers come from a simulator (sfsim), not from a real Salesforce org.";

/// Everything one scan concluded, as written to `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    /// [`REPORT_SCHEMA_VERSION`], so consumers can refuse a schema they do not know.
    pub schema_version: u32,
    /// Which pslwarden wrote it.
    pub tool: ToolInfo,
    /// When and how the run happened.
    pub run: RunInfo,
    /// The org and whether it is affected by the Voice double consumption.
    pub org: OrgInfo,
    /// Each rule's verdict and notes, findings counted.
    pub rules: Vec<RuleSummary>,
    /// Every finding of every rule, in rule order.
    pub findings: Vec<Finding>,
    /// Seats per license before and after the fix.
    pub ledger: Vec<LedgerRow>,
    /// The remediation plan (dry run: nothing was changed).
    pub plan: Plan,
    /// API calls this scan used, and the org's daily usage after it.
    pub api: ApiInfo,
}

/// The program that wrote the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// One run's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// RFC 3339 UTC; also the report folder's name (in its compact form).
    pub started_at: String,
    pub finished_at: String,
    /// `dry-run`: a scan never changes the org.
    pub mode: String,
    /// `org` when fetched live, or the path of the replayed snapshot file.
    pub snapshot_source: String,
}

/// The org scanned.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgInfo {
    /// Name in the pslwarden config.
    pub name: String,
    /// 18-character org id.
    pub org_id: String,
    /// The org's own name in Salesforce.
    pub org_name: String,
    pub api_version: String,
    /// True when the Voice permission set consumes the Salesforce Voice User license, i.e. the
    /// org can double-consume seats (the `scv-double-consumption` rule applies).
    pub affected: bool,
    /// `applies`, `not_applicable` or `undetermined`, with the rule's explanation in `notes`.
    pub affected_status: RuleStatus,
    /// Why the org is (not) affected, in sentences.
    pub notes: Vec<String>,
    /// True when the org is a simulator (the built-in demo or `[org.simulator]`), not a real
    /// Salesforce org: every rendering says so, so a demo report is never taken for production.
    /// Absent in reports written before it existed, which were never simulated by config.
    #[serde(default)]
    pub simulated: bool,
}

/// One rule's verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleSummary {
    pub rule: String,
    pub status: RuleStatus,
    pub findings: usize,
    /// Seats the rule's findings would free.
    pub recoverable_seats: u32,
    pub notes: Vec<String>,
}

/// API usage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiInfo {
    /// REST calls this scan made (token requests excluded: Salesforce does not count them).
    pub calls: u64,
    /// Query pages fetched (first pages included); with five per composite call, the fewest
    /// API calls that can read them is `ceil(query_pages / 5)`. 0 for a replayed snapshot.
    #[serde(default)]
    pub query_pages: u64,
    /// The org's daily usage after the scan, from `Sforce-Limit-Info`, when known.
    pub daily_used: Option<u64>,
    pub daily_max: Option<u64>,
}

impl RuleSummary {
    /// Summarises one rule's outcome.
    pub fn of(outcome: &RuleOutcome) -> Self {
        RuleSummary {
            rule: outcome.rule.clone(),
            status: outcome.status,
            findings: outcome.findings.len(),
            recoverable_seats: outcome.findings.iter().map(|f| f.recoverable_seats).sum(),
            notes: outcome.notes.clone(),
        }
    }
}

impl ScanReport {
    /// Seats all findings would free.
    pub fn recoverable_seats(&self) -> u32 {
        self.findings.iter().map(|f| f.recoverable_seats).sum()
    }
}
