//! `report.html`'s view model: the scan report turned into the plain values
//! `templates/scan.html` prints (sentences, numbers, chart geometry, rows grouped by kind).
//!
//! Owns: [`ScanPage`] and how it is built from a [`ScanReport`]; which licenses get a chart, how
//! findings group into one table per kind, which plan steps are manual.
//! Must not: build markup (the templates do, and escape every value through `Inert`), or
//! compute seats or findings (it shows what the report says).

use askama::Template;

use super::chart::{self, Part, SeatChart};
use super::kinds;
use super::layout::{Layout, SORT_SCRIPT};
use crate::ledger::LedgerRow;
use crate::money::Worth;
use crate::report::ScanReport;
use crate::report::markdown::{status_word, verdict};
use crate::report::money::MoneyReport;
use crate::rules::{RuleStatus, Severity};

/// The scan page's own CSS (verdict, run facts, bars, plan steps), next to the shared one.
const SCAN_STYLE: &str = include_str!("../../../templates/scan.css");

/// Text that may break only after `_`, `.` or `@` (long API names such as
/// `nbavs__Natterbox_User__c`), never inside a word: the template puts `<wbr>` between parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakable {
    /// The text cut after each run of `_`, `.` or `@`; joined, exactly the original.
    pub parts: Vec<String>,
}

impl Breakable {
    pub fn new(text: &str) -> Self {
        let separator = |c: char| matches!(c, '_' | '.' | '@');
        let mut parts = Vec::new();
        let mut part = String::new();
        let mut chars = text.chars().peekable();
        while let Some(ch) = chars.next() {
            part.push(ch);
            if separator(ch) && chars.peek().is_some_and(|next| !separator(*next)) {
                parts.push(std::mem::take(&mut part));
            }
        }
        parts.push(part);
        Self { parts }
    }
}

/// The verdict box at the top.
pub struct VerdictView {
    /// `verdict-affected`, `verdict-clear` or `verdict-unknown` (scan.css), with the headline
    /// saying the same in words.
    pub class: &'static str,
    pub headline: &'static str,
    pub explanation: String,
    pub notes: Vec<String>,
}

/// The summary section.
pub struct SummaryView {
    pub findings: usize,
    pub recoverable: u32,
    /// What the plan frees and what needs someone first.
    pub seats_sentence: String,
    pub actions: usize,
    pub over_allocations: Vec<String>,
    pub what_ifs: Vec<String>,
    /// Descriptions of the plan's manual steps.
    pub admin_steps: Vec<String>,
}

/// One license's chart with its caption.
pub struct ChartView {
    pub psl: Breakable,
    pub label: String,
    /// Set when more seats are used than bought: the caption flags it.
    pub over: Option<String>,
    pub chart: SeatChart,
}

/// One entry of the chart legend.
pub struct LegendItem {
    pub class: &'static str,
    pub pattern: Option<&'static str>,
    pub label: &'static str,
}

/// One row of the seats-per-license table.
pub struct LedgerView {
    pub psl: Breakable,
    pub label: String,
    pub total: u32,
    pub used: u32,
    pub over_allocated: bool,
    /// Free, consumed by findings, freed by the plan, needs the admin, orphans, idle agents,
    /// free after fix, assignable after fix: in the table's column order.
    pub numbers: [u32; 8],
    /// Seats the findings could free by any route (the ledger's `recoverable`).
    pub recoverable: u32,
    /// Price per seat, then what its recoverable, freed-by-plan and needs-the-admin seats are
    /// worth: the cells of the "what the seats are worth" table, `None` for a license without a
    /// price (shown as "unpriced", never 0). Empty when the license is not in that table: no
    /// prices at all, or no price and no findings.
    pub money: Vec<Option<MoneyCell>>,
}

/// One amount in a table cell: per month on the first line, per year on the second (and in
/// the title, for a pointer).
pub struct MoneyCell {
    pub monthly: String,
    pub yearly: Option<String>,
}

impl MoneyCell {
    fn of(worth: &Worth) -> Self {
        MoneyCell {
            monthly: worth.monthly_text.clone(),
            yearly: Some(worth.yearly_text.clone()),
        }
    }
}

/// The page's money lines, present only with `[org.prices]`.
pub struct MoneyView {
    /// "worth USD X / month, USD Y / year; 1 license unpriced: ...".
    pub totals: String,
    /// Further sentences: what needs the admin or `reclaim_orphan_seats` is worth.
    pub more: Vec<String>,
    /// What the plan would save, in a sentence.
    pub plan_saves: String,
    /// Priced license names the org does not have: a warning.
    pub unknown: Option<String>,
}

/// Findings of one kind: one sentence for all of them, then a row each.
pub struct KindGroup {
    pub rule: String,
    pub kind: String,
    pub title: String,
    pub sentence: String,
    /// False when the table of kinds does not know the kind: the last column then holds each
    /// finding's whole summary.
    pub known: bool,
    pub rows: Vec<FindingRow>,
}

/// One finding's row: what differs from the other findings of its kind.
pub struct FindingRow {
    /// Position in the report's findings, as plan steps refer to it.
    pub position: usize,
    pub severity: &'static str,
    /// Sort key of the severity (high first when sorted descending).
    pub rank: u8,
    pub username: String,
    pub user_id: String,
    pub active: &'static str,
    pub psl: Breakable,
    pub seats: u32,
    /// What the seats are worth; `None` when the license has no price (or no prices at all:
    /// then the page has no worth column, see [`ScanPage::money`]).
    pub worth: Option<MoneyCell>,
    pub detail: String,
    pub evidence: Vec<String>,
}

/// One plan step.
pub struct ActionRow {
    pub step: usize,
    /// A manual step: pslwarden leaves it to the admin. Marked in words and style.
    pub manual: bool,
    pub op: String,
    pub sobject: Breakable,
    pub id: Option<String>,
    pub finding: usize,
    pub username: String,
    pub description: String,
    pub facts: Vec<String>,
}

/// One rule's verdict.
pub struct RuleRow {
    pub rule: String,
    pub status: &'static str,
    pub findings: usize,
    pub recoverable_seats: u32,
    pub notes: Vec<String>,
}

/// The whole page, as `templates/scan.html` prints it.
#[derive(Template)]
#[template(path = "scan.html")]
pub struct ScanPage {
    pub layout: Layout,
    /// Name in the pslwarden config, and the org's own name.
    pub org_name: String,
    pub org_label: String,
    pub verdict: VerdictView,
    /// Term and value of each run fact.
    pub run: Vec<(&'static str, String)>,
    /// What happens next, in sentences (none for an old report).
    pub next: Vec<String>,
    pub summary: SummaryView,
    /// The money lines; `None` without prices, and then no amount or money column shows.
    pub money: Option<MoneyView>,
    pub charts: Vec<ChartView>,
    /// Licenses in the table but without a chart.
    pub uncharted: usize,
    pub legend: Vec<LegendItem>,
    pub axis: chart::Axis,
    pub ledger: Vec<LedgerView>,
    /// Licenses left out of the "what the seats are worth" table (no price, no findings).
    pub unpriced_hidden: usize,
    pub kinds: Vec<KindGroup>,
    pub findings: usize,
    pub plan_digest: String,
    pub actions: Vec<ActionRow>,
    pub manual_steps: usize,
    pub plan_notes: Vec<String>,
    pub rules: Vec<RuleRow>,
}

impl ScanPage {
    /// Chart geometry the template needs as constants.
    pub fn chart_width(&self) -> f64 {
        chart::WIDTH
    }
    pub fn chart_height(&self) -> f64 {
        chart::HEIGHT
    }
    pub fn total_y1(&self) -> f64 {
        chart::TOTAL_Y1
    }
    pub fn total_y2(&self) -> f64 {
        chart::TOTAL_Y2
    }
    pub fn total_label_y(&self) -> f64 {
        chart::TOTAL_LABEL_Y
    }

    /// The page of `report`.
    pub fn new(report: &ScanReport) -> Self {
        let org = &report.org;
        let mut layout = Layout::new(
            format!(
                "pslwarden seat report: {} ({})",
                org.name, report.run.started_at
            ),
            org.simulated,
        )
        .with_style(SCAN_STYLE)
        .with_script(SORT_SCRIPT);
        layout.tool_name = report.tool.name.clone();
        layout.tool_version = report.tool.version.clone();

        let charts: Vec<ChartView> = report
            .ledger
            .iter()
            .filter(|row| chart::is_charted(row))
            .enumerate()
            .map(|(n, row)| ChartView {
                psl: Breakable::new(&row.psl),
                label: row.label.clone(),
                over: row
                    .over_allocated
                    .then(|| format!("over-allocated: {} used of {} bought", row.used, row.total)),
                chart: chart::seat_chart(n, row),
            })
            .collect();
        let legend = [
            Part::Used,
            Part::Free,
            Part::Freed,
            Part::NeedsAdmin,
            Part::Orphans,
            Part::Idle,
        ]
        .into_iter()
        .filter(|part| charts.iter().any(|c| c.chart.parts.contains(part)))
        .map(|part| LegendItem {
            class: part.class(),
            pattern: part.pattern(),
            label: part.label(),
        })
        .collect();

        let actions: Vec<ActionRow> = report
            .plan
            .actions
            .iter()
            .enumerate()
            .map(|(step, action)| ActionRow {
                step: step + 1,
                manual: action.op == crate::plan::Op::Manual,
                op: action.op.to_string(),
                sobject: Breakable::new(&action.sobject),
                id: action.id.clone(),
                finding: action.finding,
                username: action.username.clone(),
                description: action.description.clone(),
                facts: action.facts.iter().map(ToString::to_string).collect(),
            })
            .collect();

        Self {
            org_name: org.name.clone(),
            org_label: org.org_name.clone(),
            verdict: verdict_view(report),
            run: run_facts(report),
            next: report
                .next
                .as_ref()
                .map(|next| next.sentences())
                .unwrap_or_default(),
            summary: summary_view(report),
            money: report.money.as_ref().map(money_view),
            uncharted: report.ledger.len() - charts.len(),
            charts,
            legend,
            axis: chart::axis(),
            ledger: report
                .ledger
                .iter()
                .map(|row| LedgerView {
                    psl: Breakable::new(&row.psl),
                    label: row.label.clone(),
                    total: row.total,
                    used: row.used,
                    over_allocated: row.over_allocated,
                    numbers: [
                        row.free,
                        row.consumed_by_findings,
                        row.freed_by_plan,
                        row.needs_admin,
                        row.needs_orphan_reclaim,
                        row.needs_idle_reclaim,
                        row.free_after_fix,
                        row.assignable_after_fix,
                    ],
                    recoverable: row.recoverable,
                    money: ledger_money(report.money.as_ref(), row),
                })
                .collect(),
            unpriced_hidden: report.money.as_ref().map_or(0, |money| {
                report
                    .ledger
                    .iter()
                    .filter(|row| {
                        row.consumed_by_findings == 0
                            && money
                                .license(&row.psl)
                                .is_none_or(|l| l.seat_monthly.is_none())
                    })
                    .count()
            }),
            kinds: kind_groups(report),
            findings: report.findings.len(),
            plan_digest: report.plan.digest.clone(),
            manual_steps: actions.iter().filter(|a| a.manual).count(),
            actions,
            plan_notes: report.plan.notes.clone(),
            rules: report
                .rules
                .iter()
                .map(|rule| RuleRow {
                    rule: rule.rule.clone(),
                    status: status_word(rule.status),
                    findings: rule.findings,
                    recoverable_seats: rule.recoverable_seats,
                    notes: rule.notes.clone(),
                })
                .collect(),
            layout,
        }
    }
}

fn verdict_view(report: &ScanReport) -> VerdictView {
    let org = &report.org;
    let (headline, explanation) = verdict(org);
    VerdictView {
        class: match org.affected_status {
            RuleStatus::Applies => "verdict-affected",
            RuleStatus::NotApplicable => "verdict-clear",
            RuleStatus::Undetermined => "verdict-unknown",
        },
        headline,
        explanation: capitalised(explanation),
        notes: org.notes.clone(),
    }
}

fn run_facts(report: &ScanReport) -> Vec<(&'static str, String)> {
    let run = &report.run;
    let mode = if run.mode == "dry-run" {
        "dry run: nothing was changed in the org".to_string()
    } else {
        run.mode.clone()
    };
    let api = match (report.api.daily_used, report.api.daily_max) {
        (Some(used), Some(max)) => format!(
            "{} call(s) by this scan; the org's daily usage is {used} of {max}",
            report.api.calls
        ),
        _ => format!("{} call(s) by this scan", report.api.calls),
    };
    vec![
        ("Org id", report.org.org_id.clone()),
        ("API version", report.org.api_version.clone()),
        ("Started", run.started_at.clone()),
        ("Finished", run.finished_at.clone()),
        ("Mode", mode),
        ("Snapshot", run.snapshot_source.clone()),
        ("API usage", api),
    ]
}

fn summary_view(report: &ScanReport) -> SummaryView {
    // The ledger counts each seat once even when two findings name it, so its sums are totals.
    let seats = report.seat_totals();
    SummaryView {
        findings: report.findings.len(),
        recoverable: seats.recoverable(),
        seats_sentence: seats.sentence(),
        actions: report.plan.actions.len(),
        over_allocations: report.over_allocations(),
        what_ifs: report
            .ledger
            .iter()
            .filter(|row| row.recoverable > 0)
            .map(crate::ledger::LedgerRow::what_if)
            .collect(),
        admin_steps: report
            .admin_steps()
            .map(|step| step.description.clone())
            .collect(),
    }
}

/// The money cells of one ledger row: price per seat, recoverable, freed by the plan, needs
/// the admin. Empty without prices, and for a license with neither a price nor findings; a
/// license without a price has `None` in each.
fn ledger_money(money: Option<&MoneyReport>, row: &LedgerRow) -> Vec<Option<MoneyCell>> {
    let Some(money) = money else {
        return Vec::new();
    };
    let license = money.license(&row.psl);
    let priced = license.is_some_and(|l| l.seat_monthly.is_some());
    if !priced && row.consumed_by_findings == 0 {
        // Nothing to price and nothing wasted: a real org has dozens of such licenses.
        return Vec::new();
    }
    let Some(license) = license else {
        return vec![None, None, None, None];
    };
    let price = license.seat_monthly_text.as_ref().map(|text| MoneyCell {
        monthly: text.clone(),
        yearly: None,
    });
    let worth = |w: &Option<Worth>| w.as_ref().map(MoneyCell::of);
    vec![
        price,
        worth(&license.recoverable),
        worth(&license.freed_by_plan),
        worth(&license.needs_admin),
    ]
}

fn money_view(money: &MoneyReport) -> MoneyView {
    let totals = &money.totals;
    let mut line = format!("worth {}", totals.recoverable.text);
    match totals.unpriced_licenses.len() {
        0 => {}
        1 => line.push_str(&format!(
            "; 1 license unpriced ({}): its seats are in no amount",
            totals.unpriced_licenses[0]
        )),
        n => line.push_str(&format!(
            "; {n} licenses unpriced ({}): their seats are in no amount",
            totals.unpriced_licenses.join(", ")
        )),
    }
    let zero = |w: &Worth| w.monthly.chars().all(|c| matches!(c, '0' | '.'));
    let mut more = Vec::new();
    if !zero(&totals.needs_admin) {
        more.push(format!(
            "{} more once the admin has made the manual steps",
            totals.needs_admin.text
        ));
    }
    if !zero(&totals.needs_orphan_reclaim) {
        more.push(format!(
            "{} more if `reclaim_orphan_seats` is turned on",
            totals.needs_orphan_reclaim.text
        ));
    }
    MoneyView {
        totals: line,
        more,
        plan_saves: format!(
            "What the plan would save: {}{}",
            totals.freed_by_plan.text,
            totals.unpriced_note()
        ),
        unknown: crate::report::money::unknown_licenses_warning(&money.unknown_licenses),
    }
}

/// Findings grouped by `(rule, kind)`, groups in the order their first finding appears (the
/// report's rule order), rows in report order within a group.
fn kind_groups(report: &ScanReport) -> Vec<KindGroup> {
    let mut groups: Vec<KindGroup> = Vec::new();
    for (position, finding) in report.findings.iter().enumerate() {
        let index = match groups
            .iter()
            .position(|g| g.rule == finding.rule && g.kind == finding.kind)
        {
            Some(index) => index,
            None => {
                let text = kinds::describe(&finding.rule, &finding.kind);
                groups.push(KindGroup {
                    rule: finding.rule.clone(),
                    kind: finding.kind.clone(),
                    title: text.title,
                    sentence: text.sentence,
                    known: text.known,
                    rows: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let (severity, rank) = match finding.severity {
            Severity::High => ("high", 3),
            Severity::Medium => ("medium", 2),
            Severity::Low => ("low", 1),
        };
        groups[index].rows.push(FindingRow {
            position,
            severity,
            rank,
            username: finding.username.clone(),
            user_id: finding.user_id.clone(),
            active: if finding.user_active { "yes" } else { "no" },
            psl: Breakable::new(&finding.psl),
            seats: finding.recoverable_seats,
            worth: report
                .money
                .as_ref()
                .and_then(|m| m.finding(position))
                .map(MoneyCell::of),
            detail: kinds::detail(finding),
            evidence: finding.evidence.iter().map(ToString::to_string).collect(),
        });
    }
    groups
}

fn capitalised(sentence: &str) -> String {
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;

    #[test]
    fn names_break_only_after_underscores_dots_and_at_signs() {
        assert_eq!(
            Breakable::new("nbavs__Natterbox_User__c").parts,
            vec!["nbavs__", "Natterbox_", "User__", "c"]
        );
        assert_eq!(
            Breakable::new("ServiceCloudVoicePsl").parts,
            vec!["ServiceCloudVoicePsl"]
        );
        assert_eq!(Breakable::new("a._b").parts, vec!["a._", "b"]);
        assert_eq!(Breakable::new("").parts, vec![""]);
    }

    #[test]
    fn findings_group_by_kind_in_report_order() {
        let report = fixture::report();
        let page = ScanPage::new(&report);
        let grouped: usize = page.kinds.iter().map(|g| g.rows.len()).sum();
        assert_eq!(grouped, report.findings.len());
        assert_eq!(page.kinds.len(), 2, "double consumption and an orphan seat");
        assert_eq!(page.kinds[0].rule, "scv-double-consumption");
        assert!(page.kinds.iter().all(|g| g.known));
    }

    #[test]
    fn without_prices_the_page_has_no_money_and_with_them_unpriced_licenses_stay_unpriced() {
        let mut report = fixture::report();
        let page = ScanPage::new(&report);
        assert!(page.money.is_none());
        assert!(page.ledger.iter().all(|row| row.money.is_empty()));
        assert!(
            page.kinds
                .iter()
                .flat_map(|g| &g.rows)
                .all(|r| r.worth.is_none())
        );

        let prices = crate::money::Prices {
            currency: crate::money::Currency::parse("USD").unwrap(),
            seat_monthly: [(
                "ServiceCloudVoicePsl".to_string(),
                crate::money::Amount::parse_price("50").unwrap(),
            )]
            .into(),
        };
        report.money =
            crate::report::money::price_scan(Some(&prices), &report.findings, &report.ledger);
        let page = ScanPage::new(&report);
        let money = page.money.as_ref().expect("priced");
        assert!(
            money
                .totals
                .starts_with("worth USD 50.00 / month, USD 600.00 / year; 1 license unpriced"),
            "{}",
            money.totals
        );
        let rows: Vec<&FindingRow> = page.kinds.iter().flat_map(|g| &g.rows).collect();
        assert_eq!(
            rows[0].worth.as_ref().map(|c| c.monthly.as_str()),
            Some("USD 50.00")
        );
        assert!(rows[1].worth.is_none(), "the console seat has no price");
        let console = page
            .ledger
            .iter()
            .find(|row| row.psl.parts == ["SalesConsoleUser"])
            .expect("console row");
        assert_eq!(console.money.len(), 4, "unpriced but with findings: listed");
        assert!(console.money.iter().all(Option::is_none));
    }

    #[test]
    fn manual_steps_are_counted_and_flagged() {
        let mut report = fixture::report();
        report.plan.actions[0].op = crate::plan::Op::Manual;
        let page = ScanPage::new(&report);
        assert!(page.actions[0].manual);
        assert_eq!(page.manual_steps, 1);
        assert!(!page.actions[1].manual);
    }
}
