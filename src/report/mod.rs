//! The scan report: the run's outcome as data, and its renderers.
//!
//! Owns: [`ScanReport`] (the versioned `report.json` schema, documented in the README) and the
//! pure renderers of it — [`json`], [`markdown`], [`csv`], [`html`] — and [`next`] (what happens
//! next, worked out from the config at an instant given as data), plus [`write::write_report_dir`],
//! the one function here that touches the file system.
//! Must not: compute findings or seats (it renders what the rules, ledger and plan decided).

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod money;
pub mod next;
pub mod number;
pub mod table;
pub mod write;

use serde::{Deserialize, Serialize};

use crate::ledger::LedgerRow;
use crate::plan::Plan;
use crate::rules::{Finding, RuleOutcome, RuleStatus};

/// Version of the `report.json` schema. Bump on any change a consumer would notice.
pub const REPORT_SCHEMA_VERSION: u32 = 3;

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
    /// What happens next: mode, window, when the fix could run, the daemon's schedule. `None`
    /// only in a report written before it existed.
    #[serde(default)]
    pub next: Option<next::NextInfo>,
    /// What the findings and the plan are worth (schema 3), priced by `[org.prices]`; absent
    /// without prices, so no output shows money.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub money: Option<money::MoneyReport>,
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

/// The seats of every license, in the ledger's one definition (see [`crate::ledger`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatTotals {
    /// Seats the plan frees by itself.
    pub freed_by_plan: u32,
    /// Seats freed only after an admin's manual step.
    pub needs_admin: u32,
    /// Orphaned seats freed only if `reclaim_orphan_seats` is turned on.
    pub needs_orphan_reclaim: u32,
    /// Idle Voice seats freed only if `[org.idle] reclaim` is turned on.
    pub needs_idle_reclaim: u32,
}

impl SeatTotals {
    /// Every seat the findings could free.
    pub fn recoverable(&self) -> u32 {
        self.freed_by_plan + self.needs_admin + self.needs_orphan_reclaim + self.needs_idle_reclaim
    }

    /// One sentence for every output: what the plan frees, and what needs someone first.
    pub fn sentence(&self) -> String {
        use number::grouped;
        let mut text = format!(
            "the plan frees {} seat(s) by itself",
            grouped(self.freed_by_plan)
        );
        if self.needs_admin > 0 {
            text.push_str(&format!(
                "; {} more need(s) the admin first (manual steps)",
                grouped(self.needs_admin)
            ));
        }
        if self.needs_orphan_reclaim > 0 {
            text.push_str(&format!(
                "; {} orphaned seat(s) only if `reclaim_orphan_seats` is turned on",
                grouped(self.needs_orphan_reclaim)
            ));
        }
        if self.needs_idle_reclaim > 0 {
            text.push_str(&format!(
                "; {} idle Voice seat(s) only if `reclaim` is turned on in [org.idle]",
                grouped(self.needs_idle_reclaim)
            ));
        }
        text
    }
}

impl ScanReport {
    /// Seats all findings could free, each seat once (the ledger's `recoverable`, summed).
    pub fn recoverable_seats(&self) -> u32 {
        self.seat_totals().recoverable()
    }

    /// The ledger's routes to a free seat, summed over the licenses.
    pub fn seat_totals(&self) -> SeatTotals {
        self.ledger
            .iter()
            .fold(SeatTotals::default(), |total, row| SeatTotals {
                freed_by_plan: total.freed_by_plan + row.freed_by_plan,
                needs_admin: total.needs_admin + row.needs_admin,
                needs_orphan_reclaim: total.needs_orphan_reclaim + row.needs_orphan_reclaim,
                needs_idle_reclaim: total.needs_idle_reclaim + row.needs_idle_reclaim,
            })
    }

    /// The plan's manual steps: what the admin must do before those seats come free.
    pub fn admin_steps(&self) -> impl Iterator<Item = &crate::plan::Action> {
        self.plan
            .actions
            .iter()
            .filter(|a| a.op == crate::plan::Op::Manual)
    }

    /// One sentence per over-allocated license (`used > total`).
    pub fn over_allocations(&self) -> Vec<String> {
        self.ledger
            .iter()
            .filter_map(LedgerRow::over_allocation)
            .collect()
    }
}
