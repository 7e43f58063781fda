//! Rule `orphan-psl`: seats (permission set license assignments) that nothing the user holds
//! needs, for every license except the configured exceptions (licenses that are license-only by
//! design). Deactivated users' seats are a kind of their own, reported apart from active users'.
//!
//! Owns: that test and its two finding kinds.
//!
//! Must not: report a seat it cannot judge. Snapshot needs (the [`OrgSnapshot`] contract): every
//! license; every seat of every non-exception license with its user; and for each of those users
//! ALL their assignments of every set linked to a license, directly or through a group (with the
//! groups' components). A missing assignment makes a needed seat look orphaned. A seat whose
//! license or user is missing from the snapshot is skipped and counted in a note.
//!
//! [`OrgSnapshot`]: crate::snapshot::model::OrgSnapshot

use std::collections::{BTreeSet, HashMap};

use super::index::set_ref;
use super::{
    Evidence, Finding, Holding, PermissionSetRef, Rule, RuleContext, RuleError, RuleOutcome,
    RuleStatus, Severity, SnapshotIndex,
};

/// The rule's id.
pub const ID: &str = "orphan-psl";

/// Kind of a seat no assigned set needs, held by an active user.
pub const KIND_ACTIVE: &str = "orphan-seat";

/// Kind of a seat no assigned set needs, held by a deactivated user. Apart because deactivating
/// a user does not free their seats for most licenses, and because the fix does not touch anyone
/// at work.
pub const KIND_INACTIVE: &str = "orphan-seat-inactive-user";

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrphanPsl;

impl Rule for OrphanPsl {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "permission set license seats that no permission set or group the user holds needs"
    }

    fn evaluate(
        &self,
        index: &SnapshotIndex<'_>,
        ctx: &RuleContext,
    ) -> Result<RuleOutcome, RuleError> {
        let snapshot = index.snapshot();
        let mut outcome = RuleOutcome::new(ID, RuleStatus::Applies);
        for name in &ctx.orphan_psl_exceptions {
            if index.license_named(name).is_none() {
                outcome.notes.push(format!(
                    "exception {name} names no permission set license of this org (match is on \
                     DeveloperName)"
                ));
            }
        }

        let mut holdings_cache: HashMap<&str, Vec<Holding<'_>>> = HashMap::new();
        let mut unknown_licenses = BTreeSet::new();
        let mut unknown_users = 0usize;
        let mut excepted = 0usize;
        for seat in &snapshot.license_assignments {
            let Some(license) = index.license(&seat.license_id) else {
                unknown_licenses.insert(seat.license_id.as_str());
                continue;
            };
            if ctx.orphan_psl_exceptions.contains(&license.developer_name) {
                excepted += 1;
                continue;
            }
            let Some(user) = index.user(&seat.assignee_id) else {
                unknown_users += 1;
                continue;
            };
            let holdings = holdings_cache
                .entry(user.id.as_str())
                .or_insert_with(|| index.holdings(&user.id));
            if holdings
                .iter()
                .any(|h| h.license_id() == Some(license.id.as_str()))
            {
                continue;
            }
            let held: Vec<PermissionSetRef> = holdings
                .iter()
                .filter(|h| h.license_id().is_some())
                .map(|h| match h.permission_set {
                    Some(set) => set_ref(set),
                    None => PermissionSetRef {
                        id: h.permission_set_id.to_string(),
                        name: h.name(),
                    },
                })
                .collect();
            let (kind, severity, whose) = if user.is_active {
                (KIND_ACTIVE, Severity::Medium, "")
            } else {
                (KIND_INACTIVE, Severity::Low, "deactivated user ")
            };
            outcome.findings.push(Finding {
                rule: ID.to_string(),
                kind: kind.to_string(),
                severity,
                user_id: user.id.clone(),
                username: user.username.clone(),
                user_active: user.is_active,
                psl: license.developer_name.clone(),
                psl_id: license.id.clone(),
                license_assignment_id: Some(seat.id.clone()),
                unassign_first: Vec::new(),
                recoverable_seats: 1,
                summary: format!(
                    "{whose}{} holds a {} seat that no permission set or group they hold needs \
                     (1 seat recoverable)",
                    user.username, license.developer_name
                ),
                evidence: vec![
                    Evidence::HoldsLicense(index.held_license(seat)),
                    Evidence::NothingNeedsLicense {
                        license: license.developer_name.clone(),
                        held,
                    },
                ],
                field_fix: None,
            });
        }

        // Active users first, then deactivated ones: the report lists them apart.
        outcome.findings.sort_by(|a, b| {
            (!a.user_active, &a.user_id, &a.psl).cmp(&(!b.user_active, &b.user_id, &b.psl))
        });
        let inactive = outcome.findings.iter().filter(|f| !f.user_active).count();
        outcome.notes.push(format!(
            "{} orphaned seat(s) of active users, {inactive} of deactivated users",
            outcome.findings.len() - inactive
        ));
        if excepted > 0 {
            outcome.notes.push(format!(
                "{excepted} seat(s) of exception licenses ({}) not judged",
                ctx.orphan_psl_exceptions.join(", ")
            ));
        }
        if !unknown_licenses.is_empty() {
            outcome.notes.push(format!(
                "seats of licenses missing from the snapshot were not judged: {}",
                unknown_licenses.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if unknown_users > 0 {
            outcome.notes.push(format!(
                "{unknown_users} seat(s) of users missing from the snapshot were not judged"
            ));
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::{self, *};
    use crate::snapshot::model::OrgSnapshot;

    fn run(snapshot: &OrgSnapshot, ctx: &RuleContext) -> RuleOutcome {
        OrphanPsl
            .evaluate(&SnapshotIndex::new(snapshot), ctx)
            .expect("the rule judges the org")
    }

    /// The seed plus a Sales Console seat for User-3, whom no set needs it for.
    fn seed_with_orphan() -> OrgSnapshot {
        let mut snapshot = testkit::seed();
        snapshot
            .license_assignments
            .push(testkit::seat("2LA000000000010GAA", USER3, CONSOLE_PSL));
        snapshot
    }

    #[test]
    fn the_seed_example_has_no_orphan_seat() {
        let outcome = run(&testkit::seed(), &RuleContext::default());
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    }

    #[test]
    fn a_seat_nothing_needs_is_found() {
        let outcome = run(&seed_with_orphan(), &RuleContext::default());
        assert_eq!(outcome.findings.len(), 1);
        let finding = &outcome.findings[0];
        assert_eq!(
            (finding.user_id.as_str(), finding.psl.as_str()),
            (USER3, "SalesConsoleUser")
        );
        assert_eq!(finding.kind, KIND_ACTIVE);
        assert_eq!(
            finding.license_assignment_id.as_deref(),
            Some("2LA000000000010GAA")
        );
        assert_eq!(finding.recoverable_seats, 1);
    }

    #[test]
    fn a_seat_needed_only_through_a_group_is_not_orphaned() {
        let mut snapshot = testkit::seed();
        testkit::move_voice_into_group(&mut snapshot, USER2);
        let outcome = run(&snapshot, &RuleContext::default());
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    }

    #[test]
    fn losing_the_only_set_that_needs_a_seat_orphans_it() {
        let mut snapshot = testkit::seed();
        snapshot
            .permission_set_assignments
            .retain(|a| a.id != USER2_VOICE_ASSIGNMENT);
        let outcome = run(&snapshot, &RuleContext::default());
        let seats: Vec<_> = outcome
            .findings
            .iter()
            .map(|f| f.license_assignment_id.as_deref())
            .collect();
        assert_eq!(seats, [Some(USER2_SCV_SEAT)]);
    }

    #[test]
    fn exception_licenses_are_never_reported() {
        let ctx = RuleContext {
            orphan_psl_exceptions: vec!["SalesConsoleUser".into()],
            ..RuleContext::default()
        };
        let outcome = run(&seed_with_orphan(), &ctx);
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
        assert!(
            outcome.notes.iter().any(|n| n.contains("exception")),
            "{:?}",
            outcome.notes
        );
    }

    #[test]
    fn deactivated_users_are_reported_apart_after_active_ones() {
        let mut snapshot = seed_with_orphan();
        snapshot.users.push(testkit::user(
            "005000000000005AAA",
            "gone@seed-example.org",
            false,
            None,
        ));
        snapshot.license_assignments.insert(
            0,
            testkit::seat("2LA000000000011GAA", "005000000000005AAA", CONSOLE_PSL),
        );
        let outcome = run(&snapshot, &RuleContext::default());
        let kinds: Vec<(&str, bool)> = outcome
            .findings
            .iter()
            .map(|f| (f.kind.as_str(), f.user_active))
            .collect();
        assert_eq!(kinds, [(KIND_ACTIVE, true), (KIND_INACTIVE, false)]);
        assert!(outcome.findings[1].severity < outcome.findings[0].severity);
    }

    #[test]
    fn a_seat_of_a_user_missing_from_the_snapshot_is_not_judged() {
        let mut snapshot = seed_with_orphan();
        snapshot.users.retain(|u| u.id != USER3);
        let outcome = run(&snapshot, &RuleContext::default());
        assert!(outcome.findings.is_empty());
        assert!(
            outcome.notes.iter().any(|n| n.contains("missing")),
            "{:?}",
            outcome.notes
        );
    }
}
