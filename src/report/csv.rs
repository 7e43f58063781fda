//! `report.csv`: the report for spreadsheets, one row per finding, one per plan action and one
//! per license (the seat ledger).
//!
//! Owns: the CSV text and its column set ([`COLUMNS`]), and [`to_csv`], the one writer of every
//! CSV file pslwarden makes (`report.csv`, `usage.csv`): the `csv` crate's writer, RFC 4180 with
//! CRLF after every record (the last too), fields quoted only when they hold a comma, a quote or
//! a line break, quotes doubled.
//! Must not: let a cell be read as a formula: usernames and names come from the org, so a cell
//! starting with `=`, `+`, `-`, `@` (or a tab or carriage return, which some spreadsheets skip
//! before such a character) gets a leading `'`, which spreadsheets show and do not evaluate.

use super::ScanReport;
use crate::plan::Op;

/// The header row. `row_type` tells the kinds of rows apart (`finding`, `action`, `license`);
/// columns that do not apply to a row's kind are empty. The seat columns are the ledger's (see
/// `crate::ledger`), on `license` rows only.
pub const COLUMNS: [&str; 23] = [
    "row_type",
    "finding",
    "rule",
    "kind",
    "severity",
    "user_id",
    "username",
    "user_active",
    "psl",
    "recoverable_seats",
    "op",
    "sobject",
    "record_id",
    "description",
    "total",
    "used",
    "free",
    "over_allocated",
    "freed_by_plan",
    "needs_admin",
    "needs_orphan_reclaim",
    "needs_idle_reclaim",
    "free_after_fix",
];

/// The columns added after [`COLUMNS`] only when `[org.prices]` priced the report (so a report
/// without prices has no money column at all): the currency; on `finding` rows what its
/// recoverable seats are worth, on `license` rows what its recoverable seats are worth and what
/// the plan saves; one `total` row sums the priced licenses (its `description` names the
/// unpriced ones). Amounts are plain decimals at the currency's minor unit ("1234.50").
pub const MONEY_COLUMNS: [&str; 5] = [
    "currency",
    "price_per_seat_monthly",
    "monthly",
    "yearly",
    "plan_saves_monthly",
];

/// A row from (column, value) pairs; every other column stays empty. Money columns are kept
/// only when `with_money`.
fn row(cells: &[(&str, String)], with_money: bool) -> Vec<String> {
    let width = COLUMNS.len() + if with_money { MONEY_COLUMNS.len() } else { 0 };
    let mut out = vec![String::new(); width];
    for (name, value) in cells {
        let index = COLUMNS
            .iter()
            .chain(MONEY_COLUMNS.iter())
            .position(|c| c == name)
            .expect("a column of COLUMNS or MONEY_COLUMNS");
        if index < width {
            out[index] = value.clone();
        }
    }
    out
}

/// The report as CSV: the header, then one `finding` row per finding (in report order), one
/// `action` row per plan action (in execution order), and one `license` row per ledger row.
pub fn render(report: &ScanReport) -> String {
    let money = report.money.as_ref();
    let with_money = money.is_some();
    let currency = || {
        (
            "currency",
            money.map(|m| m.currency.clone()).unwrap_or_default(),
        )
    };
    let mut out: Vec<Vec<String>> = Vec::new();
    for (position, finding) in report.findings.iter().enumerate() {
        let worth = money.and_then(|m| m.finding(position));
        out.push(row(
            &[
                ("row_type", "finding".to_string()),
                ("finding", position.to_string()),
                ("rule", finding.rule.clone()),
                ("kind", finding.kind.clone()),
                ("severity", severity_word(finding.severity).to_string()),
                ("user_id", finding.user_id.clone()),
                ("username", finding.username.clone()),
                ("user_active", finding.user_active.to_string()),
                ("psl", finding.psl.clone()),
                ("recoverable_seats", finding.recoverable_seats.to_string()),
                (
                    "record_id",
                    finding.license_assignment_id.clone().unwrap_or_default(),
                ),
                ("description", finding.summary.clone()),
                currency(),
                (
                    "monthly",
                    worth.map(|w| w.monthly.clone()).unwrap_or_default(),
                ),
                (
                    "yearly",
                    worth.map(|w| w.yearly.clone()).unwrap_or_default(),
                ),
            ],
            with_money,
        ));
    }
    for action in &report.plan.actions {
        // The license comes from the action's finding, so a spreadsheet can filter actions by
        // license too; a plan from another findings list simply leaves it empty.
        let psl = report
            .findings
            .get(action.finding)
            .map(|finding| finding.psl.clone())
            .unwrap_or_default();
        let description = if action.op == Op::Manual {
            format!("needs the admin: {}", action.description)
        } else {
            action.description.clone()
        };
        out.push(row(
            &[
                ("row_type", "action".to_string()),
                ("finding", action.finding.to_string()),
                ("rule", action.rule.clone()),
                ("user_id", action.user_id.clone()),
                ("username", action.username.clone()),
                ("psl", psl),
                ("op", action.op.to_string()),
                ("sobject", action.sobject.clone()),
                ("record_id", action.id.clone().unwrap_or_default()),
                ("description", description),
            ],
            with_money,
        ));
    }
    for license in &report.ledger {
        let priced = money.and_then(|m| m.license(&license.psl));
        let recoverable = priced.and_then(|m| m.recoverable.as_ref());
        out.push(row(
            &[
                ("row_type", "license".to_string()),
                ("psl", license.psl.clone()),
                ("recoverable_seats", license.recoverable.to_string()),
                ("record_id", license.psl_id.clone()),
                (
                    "description",
                    license
                        .over_allocation()
                        .unwrap_or_else(|| license.what_if()),
                ),
                ("total", license.total.to_string()),
                ("used", license.used.to_string()),
                ("free", license.free.to_string()),
                ("over_allocated", license.over_allocated.to_string()),
                ("freed_by_plan", license.freed_by_plan.to_string()),
                ("needs_admin", license.needs_admin.to_string()),
                (
                    "needs_orphan_reclaim",
                    license.needs_orphan_reclaim.to_string(),
                ),
                ("needs_idle_reclaim", license.needs_idle_reclaim.to_string()),
                ("free_after_fix", license.free_after_fix.to_string()),
                currency(),
                (
                    "price_per_seat_monthly",
                    priced
                        .and_then(|m| m.seat_monthly.clone())
                        .unwrap_or_default(),
                ),
                (
                    "monthly",
                    recoverable.map(|w| w.monthly.clone()).unwrap_or_default(),
                ),
                (
                    "yearly",
                    recoverable.map(|w| w.yearly.clone()).unwrap_or_default(),
                ),
                (
                    "plan_saves_monthly",
                    priced
                        .and_then(|m| m.freed_by_plan.as_ref())
                        .map(|w| w.monthly.clone())
                        .unwrap_or_default(),
                ),
            ],
            with_money,
        ));
    }
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if let Some(money) = money {
        header.extend(MONEY_COLUMNS);
        let totals = &money.totals;
        out.push(row(
            &[
                ("row_type", "total".to_string()),
                ("description", totals.sentence()),
                currency(),
                ("monthly", totals.recoverable.monthly.clone()),
                ("yearly", totals.recoverable.yearly.clone()),
                ("plan_saves_monthly", totals.freed_by_plan.monthly.clone()),
            ],
            true,
        ));
    }
    to_csv(&header, &out)
}

fn severity_word(severity: crate::rules::Severity) -> &'static str {
    match severity {
        crate::rules::Severity::Low => "low",
        crate::rules::Severity::Medium => "medium",
        crate::rules::Severity::High => "high",
    }
}

/// CSV text (RFC 4180, CRLF) of a header and rows, every cell made safe by [`guard`] first.
/// The header is ours and written as is.
pub(crate) fn to_csv<R, C>(header: &[&str], rows: &[R]) -> String
where
    R: AsRef<[C]>,
    C: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    // Writing to memory has no I/O to fail, and every cell is a `str`, so the bytes are UTF-8:
    // neither `expect` below can fire.
    writer
        .write_record(header)
        .expect("writing CSV to memory cannot fail");
    for row in rows {
        let cells = row.as_ref().iter().map(|cell| guard(cell.as_ref()));
        writer
            .write_record(cells)
            .expect("writing CSV to memory cannot fail");
    }
    let bytes = writer
        .into_inner()
        .expect("flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

/// One cell's text made inert for a spreadsheet and a terminal; quoting is the writer's.
pub(crate) fn guard(raw: &str) -> String {
    // Control characters and bidi overrides from the org are spelled out (line breaks and tabs
    // stay: quoting keeps them inside the cell), so `cat report.csv` cannot steer a terminal.
    let raw = crate::text::terminal_block(raw);
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;

    /// The records a CSV reader (the `csv` crate's) sees, the header included.
    fn parse(text: &str) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|record| {
                let record = record.expect("a well-formed CSV record");
                record.iter().map(String::from).collect()
            })
            .collect()
    }

    fn column(name: &str) -> usize {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .expect("known column")
    }

    #[test]
    fn one_row_per_finding_and_per_action_under_a_header() {
        let report = fixture::report();
        let records = parse(&render(&report));
        assert_eq!(records[0], COLUMNS);
        assert_eq!(
            records.len(),
            1 + report.findings.len() + report.plan.actions.len() + report.ledger.len()
        );
        let types: Vec<&str> = records[1..]
            .iter()
            .map(|r| r[column("row_type")].as_str())
            .collect();
        assert_eq!(
            types,
            [
                "finding", "finding", "action", "action", "action", "license", "license", "license"
            ]
        );
        assert!(records.iter().all(|r| r.len() == COLUMNS.len()));
        let first = &records[1];
        assert_eq!(first[column("username")], "user2@seed-example.org");
        assert_eq!(first[column("psl")], "ServiceCloudVoicePsl");
        assert_eq!(first[column("recoverable_seats")], "1");
        let last = &records[records.len() - 1 - report.ledger.len()];
        assert_eq!(last[column("op")], "delete");
        assert_eq!(last[column("record_id")], fixture::ORPHAN_SEAT);
        assert_eq!(last[column("psl")], "SalesConsoleUser");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        let mut report = fixture::report();
        let nasty = "o\"brien, jr\nuser@x.org";
        fixture::rename_user(&mut report, 0, nasty);
        let text = render(&report);
        assert!(text.contains("\"o\"\"brien, jr\nuser@x.org\""), "{text}");
        let records = parse(&text);
        assert_eq!(records[1][column("username")], nasty);
        assert_eq!(
            records.len(),
            1 + report.findings.len() + report.plan.actions.len() + report.ledger.len()
        );
    }

    #[test]
    fn cells_that_spreadsheets_would_evaluate_are_defused() {
        let mut report = fixture::report();
        fixture::rename_user(&mut report, 0, "=HYPERLINK(\"http://x\",\"y\")");
        fixture::rename_user(&mut report, 1, "@SUM(1+1)");
        let records = parse(&render(&report));
        let usernames: Vec<&str> = records[1..]
            .iter()
            .map(|r| r[column("username")].as_str())
            .collect();
        assert_eq!(usernames[0], "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(usernames[1], "'@SUM(1+1)");
        for (raw, guarded) in [
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("\tx", "'\tx"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(guard(raw), guarded);
        }
    }

    #[test]
    fn a_cell_with_a_comma_a_quote_and_a_line_break_round_trips_through_a_csv_reader() {
        let mut report = fixture::report();
        // A line feed stays a line break in the cell (a carriage return would be spelled out as
        // `\u000d` by the org-text neutralising, like other control characters).
        let nasty = "Smith, \"Jo\"\nsecond line";
        fixture::rename_user(&mut report, 0, nasty);
        let text = render(&report);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().expect("header").iter().collect::<Vec<_>>(),
            COLUMNS
        );
        let first = reader
            .records()
            .next()
            .expect("a first row")
            .expect("a well-formed row");
        assert_eq!(first.len(), COLUMNS.len());
        assert_eq!(&first[column("username")], nasty);
        assert_eq!(&first[column("row_type")], "finding");
    }

    #[test]
    fn every_record_ends_in_crlf_and_nothing_else_breaks_a_line() {
        let report = fixture::report();
        let text = render(&report);
        let records = parse(&text);
        assert!(text.ends_with("\r\n"), "{text:?}");
        assert_eq!(text.matches("\r\n").count(), records.len(), "{text:?}");
        assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "{text:?}");
    }

    #[test]
    fn license_rows_carry_the_ledger_and_flag_over_allocation() {
        let mut report = fixture::report();
        report.ledger[0].used = 5;
        report.ledger[0].total = 2;
        report.ledger[0].over_allocated = true;
        let records = parse(&render(&report));
        let license = records
            .iter()
            .find(|r| r[column("row_type")] == "license")
            .expect("a license row");
        assert_eq!(license[column("over_allocated")], "true");
        assert!(
            license[column("description")].contains("over-allocated: 5 seats used of 2"),
            "{license:?}"
        );
        let voice = records
            .iter()
            .find(|r| {
                r[column("row_type")] == "license" && r[column("psl")] == "ServiceCloudVoicePsl"
            })
            .expect("voice row");
        assert_eq!(voice[column("freed_by_plan")], "1");
        assert_eq!(voice[column("needs_admin")], "0");
    }
}
