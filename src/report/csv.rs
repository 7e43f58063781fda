//! `report.csv`: the report for spreadsheets, one row per finding and one per plan action.
//!
//! Owns: the CSV text (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote
//! or a line break, quotes doubled) and its column set ([`COLUMNS`]).
//! Must not: let a cell be read as a formula: usernames and names come from the org, so a cell
//! starting with `=`, `+`, `-`, `@` (or a tab or carriage return, which some spreadsheets skip
//! before such a character) gets a leading `'`, which spreadsheets show and do not evaluate.

use super::ScanReport;

/// The header row. `row_type` tells the two kinds of rows apart; columns that do not apply to a
/// row's kind are empty.
pub const COLUMNS: [&str; 14] = [
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
];

/// The report as CSV: the header, then one `finding` row per finding (in report order), then one
/// `action` row per plan action (in execution order).
pub fn render(report: &ScanReport) -> String {
    let mut out = String::new();
    push_row(&mut out, &COLUMNS.map(String::from));
    for (position, finding) in report.findings.iter().enumerate() {
        push_row(
            &mut out,
            &[
                "finding".to_string(),
                position.to_string(),
                finding.rule.clone(),
                finding.kind.clone(),
                severity_word(finding.severity).to_string(),
                finding.user_id.clone(),
                finding.username.clone(),
                finding.user_active.to_string(),
                finding.psl.clone(),
                finding.recoverable_seats.to_string(),
                String::new(),
                String::new(),
                finding.license_assignment_id.clone().unwrap_or_default(),
                finding.summary.clone(),
            ],
        );
    }
    for action in &report.plan.actions {
        // The license comes from the action's finding, so a spreadsheet can filter actions by
        // license too; a plan from another findings list simply leaves it empty.
        let psl = report
            .findings
            .get(action.finding)
            .map(|finding| finding.psl.clone())
            .unwrap_or_default();
        push_row(
            &mut out,
            &[
                "action".to_string(),
                action.finding.to_string(),
                action.rule.clone(),
                String::new(),
                String::new(),
                action.user_id.clone(),
                action.username.clone(),
                String::new(),
                psl,
                String::new(),
                action.op.to_string(),
                action.sobject.clone(),
                action.id.clone().unwrap_or_default(),
                action.description.clone(),
            ],
        );
    }
    out
}

fn severity_word(severity: crate::rules::Severity) -> &'static str {
    match severity {
        crate::rules::Severity::Low => "low",
        crate::rules::Severity::Medium => "medium",
        crate::rules::Severity::High => "high",
    }
}

fn push_row(out: &mut String, cells: &[String; COLUMNS.len()]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(cell));
    }
    out.push_str("\r\n");
}

/// One field: formula-guarded, then quoted if RFC 4180 requires it.
pub(crate) fn field(raw: &str) -> String {
    // Control characters and bidi overrides from the org are spelled out (line breaks and tabs
    // stay: quoting keeps them inside the cell), so `cat report.csv` cannot steer a terminal.
    let raw = &crate::text::terminal_block(raw);
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_string()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;

    /// Splits CSV text into records of fields, per RFC 4180, to check what a reader sees.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(ch) = chars.next() {
            match (quoted, ch) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, _) => field.push(ch),
                (false, '"') => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') => {
                    assert_eq!(chars.next(), Some('\n'), "CR without LF outside quotes");
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, _) => field.push(ch),
            }
        }
        assert!(record.is_empty() && field.is_empty(), "last line not ended");
        records
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
            1 + report.findings.len() + report.plan.actions.len()
        );
        let types: Vec<&str> = records[1..]
            .iter()
            .map(|r| r[column("row_type")].as_str())
            .collect();
        assert_eq!(types, ["finding", "finding", "action", "action", "action"]);
        assert!(records.iter().all(|r| r.len() == COLUMNS.len()));
        let first = &records[1];
        assert_eq!(first[column("username")], "user2@seed-example.org");
        assert_eq!(first[column("psl")], "ServiceCloudVoicePsl");
        assert_eq!(first[column("recoverable_seats")], "1");
        let last = &records[records.len() - 1];
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
            1 + report.findings.len() + report.plan.actions.len()
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
            assert_eq!(field(raw), guarded);
        }
    }
}
