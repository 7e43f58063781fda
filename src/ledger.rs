//! The seat ledger: per permission set license, the seats bought, taken and free, how many the
//! findings consume, and how each of those can come back — which decides the seats free after
//! the fix and the what-if.
//!
//! Owns: [`LedgerRow`] and [`compute_ledger`], a pure function of the snapshot, the findings and
//! the plan. This is the one definition of "freed" every output uses (terminal, `report.json`,
//! HTML, Markdown, CSV, `apply`, metrics): a consumed seat is
//! - freed by the plan when the plan deletes it itself (`freed_by_plan`);
//! - freed only after an admin step when the plan's step for it is `manual` (`needs_admin`):
//!   `apply` leaves such fixes whole to the admin, so they are not in `free_after_fix`;
//! - recoverable only if `reclaim_orphan_seats` is turned on when it is an `orphan-psl` seat the
//!   plan leaves alone (`needs_orphan_reclaim`);
//! - recoverable only if `[org.idle] reclaim` is turned on when it is an `idle-voice-seat` seat
//!   the plan leaves alone (`needs_idle_reclaim`).
//!
//! Must not: recount seats from the snapshot's assignments (the snapshot is partial; `used` is
//! Salesforce's own count), or judge findings: it reads them only through their `psl_id`, seat,
//! `rule` and `recoverable_seats`, and reads the plan only through its seat actions.

use crate::report::number::grouped;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::plan::{LICENSE_ASSIGNMENT, Op, Plan};
use crate::rules::{Finding, idle_voice_seat, orphan_psl};
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
    /// `total - used`, never below zero (an over-allocated org shows 0 free and `used > total`).
    pub free: u32,
    /// `used > total`: the org uses more seats than it bought (licenses reduced, or a contract
    /// lapsed). Every output flags it, since `free` alone (0) would hide it.
    pub over_allocated: bool,
    /// Seats the findings say are consumed for nothing, each seat counted once.
    pub consumed_by_findings: u32,
    /// Of those, the seats the plan frees by itself when `apply` carries it out.
    pub freed_by_plan: u32,
    /// Seats whose fix needs an admin step first (a Voice permission set that comes through a
    /// permission set group): the plan's `manual` actions say what to do; not counted as freed.
    pub needs_admin: u32,
    /// Orphaned seats the plan leaves alone because `reclaim_orphan_seats` is off.
    pub needs_orphan_reclaim: u32,
    /// Idle Voice seats the plan leaves alone because `[org.idle] reclaim` is off.
    #[serde(default)]
    pub needs_idle_reclaim: u32,
    /// Every seat the findings could free by one of the routes above (their sum).
    pub recoverable: u32,
    /// Free seats once `apply` has carried out the plan: `total - (used - freed_by_plan)`, never
    /// below zero. Manual steps and unreclaimed orphans are not in it.
    pub free_after_fix: u32,
    /// The what-if: how many more users could be given a permission set needing this license
    /// after the fix (one seat each).
    pub assignable_after_fix: u32,
    /// The sets (among those in the snapshot) that need this license and that an admin would
    /// give a user, to name in the what-if. The auto-assigned Voice permission set is left out:
    /// giving it is what wastes the seats.
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
        let mut text = format!(
            "{}: {} free now, {} after the fix: {} more user(s) could be given {} ({} thanks to \
             the fix)",
            self.psl,
            grouped(self.free),
            grouped(self.free_after_fix),
            grouped(self.assignable_after_fix),
            sets,
            grouped(gained)
        );
        if self.needs_admin > 0 {
            text.push_str(&format!(
                "; {} more once the admin has made the manual steps",
                grouped(self.needs_admin)
            ));
        }
        if self.needs_orphan_reclaim > 0 {
            text.push_str(&format!(
                "; {} more if `reclaim_orphan_seats` is turned on",
                grouped(self.needs_orphan_reclaim)
            ));
        }
        text
    }

    /// The over-allocation as a sentence, when there is one.
    pub fn over_allocation(&self) -> Option<String> {
        self.over_allocated
            .then(|| over_allocation_text(&self.psl, self.used, self.total))
    }
}

/// The sentence every output uses for a license used beyond its total.
pub fn over_allocation_text(psl: &str, used: u32, total: u32) -> String {
    format!(
        "{psl} is over-allocated: {} seats used of {} bought ({} over): buy seats or remove \
         assignments before giving it to anyone",
        grouped(used),
        grouped(total),
        grouped(used.saturating_sub(total))
    )
}

/// One row per license of the snapshot, in snapshot order. `plan` is the plan built from
/// `findings` (its actions refer to them by position); `not_offered` holds the ids of permission
/// sets the what-if must not name (the auto-assigned Voice permission set).
pub fn compute_ledger(
    snapshot: &OrgSnapshot,
    findings: &[Finding],
    plan: &Plan,
    not_offered: &[&str],
) -> Vec<LedgerRow> {
    // Seats by how the plan treats them: a seat deleted by one fix and manual in another is
    // freed (the delete frees it).
    let mut deleted: HashSet<&str> = HashSet::new();
    let mut manual: HashSet<&str> = HashSet::new();
    for action in plan
        .actions
        .iter()
        .filter(|a| a.sobject == LICENSE_ASSIGNMENT)
    {
        let Some(seat) = action.id.as_deref() else {
            continue;
        };
        match action.op {
            Op::Delete => {
                deleted.insert(seat);
            }
            Op::Manual => {
                manual.insert(seat);
            }
            Op::Create | Op::Update => {}
        }
    }
    snapshot
        .licenses
        .iter()
        .map(|license| {
            // Two rules may point at the same seat; it is one seat.
            let mut seats = HashSet::new();
            let (mut consumed, mut freed, mut admin, mut orphan, mut idle) =
                (0u32, 0u32, 0u32, 0u32, 0u32);
            for finding in findings.iter().filter(|f| f.psl_id == license.id) {
                let seat = finding
                    .license_assignment_id
                    .clone()
                    .unwrap_or_else(|| format!("user:{}", finding.user_id));
                if !seats.insert(seat.clone()) {
                    continue;
                }
                consumed = consumed.saturating_add(1);
                if deleted.contains(seat.as_str()) {
                    freed = freed.saturating_add(1);
                } else if manual.contains(seat.as_str()) {
                    admin = admin.saturating_add(1);
                } else if finding.rule == orphan_psl::ID && finding.recoverable_seats > 0 {
                    orphan = orphan.saturating_add(1);
                } else if finding.rule == idle_voice_seat::ID && finding.recoverable_seats > 0 {
                    idle = idle.saturating_add(1);
                }
            }
            let free = license.total.saturating_sub(license.used);
            let free_after_fix = license
                .total
                .saturating_sub(license.used.saturating_sub(freed));
            LedgerRow {
                psl: license.developer_name.clone(),
                psl_id: license.id.clone(),
                label: license.label.clone(),
                total: license.total,
                used: license.used,
                free,
                over_allocated: license.used > license.total,
                consumed_by_findings: consumed,
                freed_by_plan: freed,
                needs_admin: admin,
                needs_orphan_reclaim: orphan,
                needs_idle_reclaim: idle,
                recoverable: freed + admin + orphan + idle,
                free_after_fix,
                assignable_after_fix: free_after_fix,
                licensed_permission_sets: snapshot
                    .permission_sets
                    .iter()
                    .filter(|set| {
                        set.license_id.as_deref() == Some(license.id.as_str())
                            && !set.is_owned_by_profile
                            && set.permission_set_group_id.is_none()
                            && !not_offered.contains(&set.id.as_str())
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
    use crate::plan::{PlanOptions, build_plan};
    use crate::rules::testkit::{self, CONSOLE_PSL, USER2, USER3, VOICE_PS};
    use crate::rules::{RuleContext, SnapshotIndex, all_findings, builtin_rules, evaluate_all};

    /// The ledger of `snapshot` as scan computes it, with `options` for the plan.
    fn ledger_of(snapshot: &OrgSnapshot, options: &PlanOptions) -> Vec<LedgerRow> {
        let index = SnapshotIndex::new(snapshot);
        let outcomes =
            evaluate_all(&index, &RuleContext::default(), &builtin_rules()).expect("evaluates");
        let findings = all_findings(&outcomes);
        let plan = build_plan(&index, &findings, options).expect("plan");
        compute_ledger(snapshot, &findings, &plan, &[VOICE_PS])
    }

    fn seed_ledger() -> Vec<LedgerRow> {
        ledger_of(&testkit::seed(), &PlanOptions::default())
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
        assert_eq!((voice.freed_by_plan, voice.needs_admin), (1, 0));
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
    fn the_voice_permission_set_is_not_offered_in_the_what_if() {
        let ledger = seed_ledger();
        let voice = row(&ledger, "ServiceCloudVoicePsl");
        assert!(
            !voice
                .licensed_permission_sets
                .iter()
                .any(|s| s == "SalesforceVoicePermissionSet"),
            "{:?}",
            voice.licensed_permission_sets
        );
        assert!(!voice.what_if().contains("SalesforceVoicePermissionSet"));
    }

    #[test]
    fn a_fix_with_a_manual_step_is_not_counted_as_freed() {
        let mut snapshot = testkit::seed();
        testkit::move_voice_into_group(&mut snapshot, USER2);
        let ledger = ledger_of(&snapshot, &PlanOptions::default());
        let voice = row(&ledger, "ServiceCloudVoicePsl");
        assert_eq!(
            (voice.freed_by_plan, voice.needs_admin, voice.recoverable),
            (0, 1, 1)
        );
        assert_eq!(voice.free_after_fix, voice.free);
        assert!(
            voice.what_if().contains("1 more once the admin"),
            "{}",
            voice.what_if()
        );
    }

    #[test]
    fn an_orphan_seat_counts_as_freed_only_when_reclaiming_is_on() {
        let mut snapshot = testkit::seed();
        snapshot
            .license_assignments
            .push(testkit::seat("2LA000000000010GAA", USER3, CONSOLE_PSL));
        snapshot
            .licenses
            .iter_mut()
            .filter(|l| l.id == CONSOLE_PSL)
            .for_each(|l| l.used += 1);
        let off = ledger_of(&snapshot, &PlanOptions::default());
        let console = row(&off, "SalesConsoleUser");
        assert_eq!(
            (console.freed_by_plan, console.needs_orphan_reclaim),
            (0, 1)
        );
        assert_eq!(console.free_after_fix, console.free);
        let on = ledger_of(
            &snapshot,
            &PlanOptions {
                reclaim_orphan_seats: true,
                ..PlanOptions::default()
            },
        );
        let console = row(&on, "SalesConsoleUser");
        assert_eq!(
            (console.freed_by_plan, console.needs_orphan_reclaim),
            (1, 0)
        );
        assert_eq!(console.free_after_fix, console.free + 1);
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
        let index = SnapshotIndex::new(&snapshot);
        let outcomes =
            evaluate_all(&index, &RuleContext::default(), &builtin_rules()).expect("evaluates");
        let mut findings = all_findings(&outcomes);
        findings.push(findings[0].clone());
        let plan = build_plan(&index, &findings, &PlanOptions::default()).expect("plan");
        let ledger = compute_ledger(&snapshot, &findings, &plan, &[]);
        let voice = row(&ledger, "ServiceCloudVoicePsl");
        assert_eq!((voice.consumed_by_findings, voice.recoverable), (1, 1));
    }

    #[test]
    fn an_over_allocated_license_shows_no_free_seat_and_is_flagged() {
        let mut snapshot = testkit::seed();
        snapshot.licenses[0].used = 3;
        let plan =
            build_plan(&SnapshotIndex::new(&snapshot), &[], &PlanOptions::default()).expect("plan");
        let ledger = compute_ledger(&snapshot, &[], &plan, &[]);
        assert_eq!((ledger[0].free, ledger[0].free_after_fix), (0, 0));
        assert!(ledger[0].over_allocated);
        let text = ledger[0].over_allocation().expect("flagged");
        assert!(text.contains("over-allocated: 3 seats used of 2"), "{text}");
        assert!(!ledger[1].over_allocated);
    }
}
