//! The seat ledger: per permission set license, the seats bought, taken and free, how many the
//! findings consume and the fix recovers, and what that allows afterwards.
//!
//! Owns: [`LedgerRow`] and [`compute_ledger`], a pure function of the snapshot and the findings.
//!
//! Must not: recount seats from the snapshot's assignments (the snapshot is partial; `used` is
//! Salesforce's own count), or know what any rule means: it reads findings only through their
//! `psl_id`, seat and `recoverable_seats`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::rules::Finding;
use crate::snapshot::model::OrgSnapshot;

/// One license's seats, before and after the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// `DeveloperName` of the license.
    pub psl: String,
    /// Its id, to join with findings and plans.
    pub psl_id: String,
    /// `MasterLabel`, as Setup shows it.
    pub label: String,
    /// Seats bought (`TotalLicenses`).
    pub total: u32,
    /// Seats taken (`UsedLicenses`), as Salesforce counts them.
    pub used: u32,
    /// `total - used`, never below zero (an over-assigned org shows 0 free and `used > total`).
    pub free: u32,
    /// Seats the findings say are consumed for nothing, each seat counted once.
    pub consumed_by_findings: u32,
    /// Of those, the seats the fix frees.
    pub recoverable: u32,
    /// Free seats once the fix has run.
    pub free_after_fix: u32,
    /// The what-if: how many more users could be given a permission set needing this license
    /// after the fix (one seat each).
    pub assignable_after_fix: u32,
    /// The sets (among those in the snapshot) that need this license, to name in the what-if.
    pub licensed_permission_sets: Vec<String>,
}

impl LedgerRow {
    /// The what-if as a sentence, for reports.
    pub fn what_if(&self) -> String {
        let sets = if self.licensed_permission_sets.is_empty() {
            "a permission set that needs it".to_string()
        } else {
            self.licensed_permission_sets.join(" / ")
        };
        let gained = self.free_after_fix.saturating_sub(self.free);
        format!(
            "{}: {} free now, {} after the fix: {} more user(s) could be given {} ({} thanks to \
             the fix)",
            self.psl, self.free, self.free_after_fix, self.assignable_after_fix, sets, gained
        )
    }
}

/// One row per license of the snapshot, in snapshot order.
pub fn compute_ledger(snapshot: &OrgSnapshot, findings: &[Finding]) -> Vec<LedgerRow> {
    snapshot
        .licenses
        .iter()
        .map(|license| {
            // Two rules may point at the same seat; it is one seat.
            let mut seats = HashSet::new();
            let mut consumed = 0u32;
            let mut recoverable = 0u32;
            for finding in findings.iter().filter(|f| f.psl_id == license.id) {
                let seat = finding
                    .license_assignment_id
                    .clone()
                    .unwrap_or_else(|| format!("user:{}", finding.user_id));
                if seats.insert(seat) {
                    consumed = consumed.saturating_add(1);
                    recoverable = recoverable.saturating_add(finding.recoverable_seats.min(1));
                }
            }
            let free = license.total.saturating_sub(license.used);
            let free_after_fix = license
                .total
                .saturating_sub(license.used.saturating_sub(recoverable));
            LedgerRow {
                psl: license.developer_name.clone(),
                psl_id: license.id.clone(),
                label: license.label.clone(),
                total: license.total,
                used: license.used,
                free,
                consumed_by_findings: consumed,
                recoverable,
                free_after_fix,
                assignable_after_fix: free_after_fix,
                licensed_permission_sets: snapshot
                    .permission_sets
                    .iter()
                    .filter(|set| {
                        set.license_id.as_deref() == Some(license.id.as_str())
                            && !set.is_owned_by_profile
                            && set.permission_set_group_id.is_none()
                    })
                    .map(|set| set.qualified_name())
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit;
    use crate::rules::{RuleContext, SnapshotIndex, all_findings, builtin_rules, evaluate_all};

    fn seed_ledger() -> Vec<LedgerRow> {
        let snapshot = testkit::seed();
        let outcomes = evaluate_all(
            &SnapshotIndex::new(&snapshot),
            &RuleContext::default(),
            &builtin_rules(),
        )
        .expect("evaluates");
        compute_ledger(&snapshot, &all_findings(&outcomes))
    }

    fn row<'a>(ledger: &'a [LedgerRow], psl: &str) -> &'a LedgerRow {
        ledger
            .iter()
            .find(|r| r.psl == psl)
            .expect("row of the license")
    }

    #[test]
    fn the_seed_recovers_one_voice_seat_so_user_3_can_be_given_one() {
        let ledger = seed_ledger();
        let voice = row(&ledger, "ServiceCloudVoicePsl");
        assert_eq!((voice.total, voice.used, voice.free), (2, 2, 0));
        assert_eq!((voice.consumed_by_findings, voice.recoverable), (1, 1));
        assert_eq!((voice.free_after_fix, voice.assignable_after_fix), (1, 1));
        assert!(
            voice
                .licensed_permission_sets
                .contains(&"ContactCenterAgent".to_string())
        );
        assert!(
            voice.what_if().contains("1 more user(s) could be given"),
            "{}",
            voice.what_if()
        );
    }

    #[test]
    fn the_seed_partner_seats_are_untouched() {
        let ledger = seed_ledger();
        let partner = row(&ledger, "ServiceCloudVoiceExternalTelephonyPsl");
        assert_eq!(
            (partner.free, partner.recoverable, partner.free_after_fix),
            (0, 0, 0)
        );
        assert_eq!(ledger.len(), 3);
    }

    #[test]
    fn a_seat_found_twice_is_counted_once() {
        let snapshot = testkit::seed();
        let outcomes = evaluate_all(
            &SnapshotIndex::new(&snapshot),
            &RuleContext::default(),
            &builtin_rules(),
        )
        .expect("evaluates");
        let mut findings = all_findings(&outcomes);
        findings.push(findings[0].clone());
        let ledger = compute_ledger(&snapshot, &findings);
        let voice = row(&ledger, "ServiceCloudVoicePsl");
        assert_eq!((voice.consumed_by_findings, voice.recoverable), (1, 1));
    }

    #[test]
    fn an_over_assigned_license_shows_no_free_seat() {
        let mut snapshot = testkit::seed();
        snapshot.licenses[0].used = 3;
        let ledger = compute_ledger(&snapshot, &[]);
        assert_eq!((ledger[0].free, ledger[0].free_after_fix), (0, 0));
    }
}
