//! `report.json`: the report for machines, in the versioned schema of [`ScanReport`].
//!
//! Owns: the JSON text of a report (pretty, with a trailing newline, so it diffs and `cat`s
//! cleanly). Must not: add, rename or drop fields on the way out: the schema is [`ScanReport`]'s
//! serde shape, documented in the README, and versioned by [`REPORT_SCHEMA_VERSION`].
//!
//! [`REPORT_SCHEMA_VERSION`]: super::REPORT_SCHEMA_VERSION

use super::ScanReport;

/// The report as pretty-printed JSON, ending with a newline.
pub fn render(report: &ScanReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect(
        "a report holds only strings, numbers, booleans, lists and string-keyed maps, which \
         always serialize",
    );
    text.push('\n');
    text
}

/// A small report built from the seed org, shared by the renderers' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::ledger::compute_ledger;
    use crate::plan::{PlanOptions, build_plan};
    use crate::report::{
        ApiInfo, OrgInfo, REPORT_SCHEMA_VERSION, RuleSummary, RunInfo, ScanReport, ToolInfo,
    };
    use crate::rules::testkit::{self, CONSOLE_PSL, USER3};
    use crate::rules::{
        RuleContext, RuleStatus, SnapshotIndex, all_findings, builtin_rules, evaluate_all,
        scv_double_consumption,
    };

    /// Seat of User-3 that no permission set needs: the orphan finding of [`report`].
    pub const ORPHAN_SEAT: &str = "2LA000000000010GAA";

    /// The seed org plus an orphaned console seat of User-3: two findings (User-2's double
    /// consumption, User-3's orphan seat), three plan actions, three ledger rows.
    pub fn report() -> ScanReport {
        let mut snapshot = testkit::seed();
        snapshot
            .license_assignments
            .push(testkit::seat(ORPHAN_SEAT, USER3, CONSOLE_PSL));
        // Salesforce counts that seat as used.
        snapshot
            .licenses
            .iter_mut()
            .filter(|license| license.id == CONSOLE_PSL)
            .for_each(|license| license.used += 1);
        let index = SnapshotIndex::new(&snapshot);
        let outcomes =
            evaluate_all(&index, &RuleContext::default(), &builtin_rules()).expect("evaluates");
        let findings = all_findings(&outcomes);
        // Orphan seats get an action too, so the report has actions of two findings.
        let options = PlanOptions {
            reclaim_orphan_seats: true,
            ..PlanOptions::default()
        };
        let plan = build_plan(&index, &findings, &options).expect("plan");
        let voice = outcomes
            .iter()
            .find(|o| o.rule == scv_double_consumption::ID)
            .expect("the double-consumption rule ran");
        ScanReport {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: ToolInfo {
                name: "pslwarden".into(),
                version: "0.1.0".into(),
            },
            run: RunInfo {
                started_at: "2026-11-23T03:15:00Z".into(),
                finished_at: "2026-11-23T03:15:02Z".into(),
                mode: "dry-run".into(),
                snapshot_source: "org".into(),
            },
            org: OrgInfo {
                name: "seed".into(),
                org_id: snapshot.org_id.clone(),
                org_name: snapshot.org_name.clone(),
                api_version: snapshot.api_version.clone(),
                affected: voice.status == RuleStatus::Applies,
                affected_status: voice.status,
                notes: voice.notes.clone(),
                simulated: false,
            },
            rules: outcomes.iter().map(RuleSummary::of).collect(),
            ledger: compute_ledger(&snapshot, &findings, &plan, &[testkit::VOICE_PS]),
            findings,
            plan,
            api: ApiInfo {
                calls: 3,
                query_pages: 2,
                daily_used: Some(120),
                daily_max: Some(15_000),
            },
            next: Some(crate::report::next::NextInfo::at(
                &crate::window::Window::AlwaysOpen,
                crate::config::Mode::DryRun,
                &crate::config::OrgSchedule::default(),
                true,
                "2026-11-23T03:15:02Z".parse().expect("an instant"),
            )),
            money: None,
        }
    }

    /// Renames the user of finding `position` everywhere the report names them, as an org
    /// could (usernames are the org's data, not pslwarden's).
    pub fn rename_user(report: &mut ScanReport, position: usize, username: &str) {
        let finding = &mut report.findings[position];
        let old = std::mem::replace(&mut finding.username, username.to_string());
        finding.summary = finding.summary.replace(&old, username);
        for action in report
            .plan
            .actions
            .iter_mut()
            .filter(|a| a.finding == position)
        {
            action.username = username.to_string();
            action.description = action.description.replace(&old, username);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::report;
    use super::*;
    use crate::plan::Op;
    use crate::rules::testkit::{USER2, USER2_VOICE_ASSIGNMENT};
    use serde_json::Value;

    #[test]
    fn the_json_reads_back_as_the_same_report() {
        let report = report();
        let text = render(&report);
        assert!(text.ends_with("}\n"), "{text}");
        let back: ScanReport = serde_json::from_str(&text).expect("reads back");
        // ScanReport has no PartialEq (its shape is the lead's); equal JSON is equal data.
        assert_eq!(render(&back), text);
        assert_eq!(back.findings, report.findings);
        assert_eq!(back.ledger, report.ledger);
        assert_eq!(back.plan, report.plan);
    }

    #[test]
    fn the_issue_fields_are_at_their_documented_paths() {
        let value: Value = serde_json::from_str(&render(&report())).expect("json");
        assert_eq!(value["schema_version"], 3);
        assert!(value.get("money").is_none(), "no prices, no money section");
        assert_eq!(value["org"]["affected"], true);

        let finding = &value["findings"][0];
        assert_eq!(finding["rule"], "scv-double-consumption");
        assert_eq!(finding["user_id"], USER2);
        assert_eq!(finding["username"], "user2@seed-example.org");
        assert_eq!(finding["psl"], "ServiceCloudVoicePsl");
        assert_eq!(finding["recoverable_seats"], 1);

        let voice = value["ledger"]
            .as_array()
            .expect("ledger is a list")
            .iter()
            .find(|row| row["psl"] == "ServiceCloudVoicePsl")
            .expect("voice row");
        assert_eq!(
            (&voice["total"], &voice["used"], &voice["recoverable"]),
            (&Value::from(2), &Value::from(2), &Value::from(1))
        );

        let action = &value["plan"]["actions"][0];
        assert_eq!(action["op"], Op::Delete.to_string());
        assert_eq!(action["sobject"], "PermissionSetAssignment");
        assert_eq!(action["id"], USER2_VOICE_ASSIGNMENT);
    }
}
