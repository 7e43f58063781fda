//! Rule `scv-double-consumption` (DOMAIN.md §1, issue 3 §Rules 1): partner-telephony users who
//! also consume a Salesforce Voice User seat because the licensed Voice permission set was
//! auto-assigned to them.
//!
//! Owns: the org check (is the Voice permission set linked to the Voice license?) and the per-user
//! test. A user is reported when they hold the Voice permission set (directly or through a
//! group), a Partner Telephony seat, a Voice seat, and no Amazon contact-center set that needs the
//! Voice license (directly or through a group).
//!
//! Must not: read anything but the snapshot and the settings. Snapshot needs (beyond the
//! [`OrgSnapshot`] contract): the Voice and Partner licenses, every set linked to the Voice
//! license, the sets named in the settings, every Voice-license seat with its user, those users'
//! Partner seats and their assignments of the sets above (directly or through groups).
//!
//! [`OrgSnapshot`]: crate::snapshot::model::OrgSnapshot

use std::collections::{HashMap, HashSet};

use crate::snapshot::model::{PermissionSet, PermissionSetLicense, PermissionSetLicenseAssignment};

use super::detect::{VoicePermissionSet, classify_call_center, find_voice_permission_set};
use super::index::set_ref;
use super::{
    CONFIG_TABLE, CallCenterKind, Evidence, Finding, Holding, Rule, RuleContext, RuleError,
    RuleOutcome, RuleStatus, Severity, SnapshotIndex,
};

/// The rule's id.
pub const ID: &str = "scv-double-consumption";

/// The kind of its findings.
pub const KIND: &str = "double-consumption";

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScvDoubleConsumption;

impl Rule for ScvDoubleConsumption {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "partner-telephony users who also consume a Salesforce Voice User seat through the \
         auto-assigned Salesforce Voice permission set"
    }

    fn evaluate(
        &self,
        index: &SnapshotIndex<'_>,
        ctx: &RuleContext,
    ) -> Result<RuleOutcome, RuleError> {
        let snapshot = index.snapshot();
        let detection = find_voice_permission_set(snapshot, ctx)?;
        check_configured_sets_exist(
            index,
            "amazon_permission_sets",
            ctx.amazon_permission_sets.as_deref(),
        )?;
        check_configured_sets_exist(
            index,
            "partner_permission_sets",
            ctx.partner_permission_sets.as_deref(),
        )?;
        let voice_psl =
            index
                .license_named(&ctx.voice_psl)
                .ok_or_else(|| RuleError::UnknownLicense {
                    table: CONFIG_TABLE,
                    setting: "voice_psl",
                    name: ctx.voice_psl.clone(),
                })?;

        let (voice, mut outcome) = match detection {
            VoicePermissionSet::Linked {
                permission_set,
                configured,
            } => {
                let mut outcome = RuleOutcome::new(ID, RuleStatus::Applies);
                outcome.notes.push(format!(
                    "affected: the Salesforce Voice permission set {} ({}) needs a {} seat, so \
                     every user it is auto-assigned to takes one",
                    permission_set.qualified_name(),
                    if configured {
                        "named in config"
                    } else {
                        "detected"
                    },
                    voice_psl.developer_name
                ));
                (permission_set, outcome)
            }
            VoicePermissionSet::NotLinked { permission_set } => {
                let mut outcome = RuleOutcome::new(ID, RuleStatus::NotApplicable);
                outcome.notes.push(format!(
                    "not affected: the Salesforce Voice permission set {} needs no {} seat \
                     (Service Cloud Voice was enabled after Spring '24)",
                    permission_set.qualified_name(),
                    voice_psl.developer_name
                ));
                return Ok(outcome);
            }
            VoicePermissionSet::NoneFound => {
                let mut outcome = RuleOutcome::new(ID, RuleStatus::NotApplicable);
                outcome.notes.push(format!(
                    "not affected: no permission set other than the contact-center sets needs a \
                     {} seat, so no auto-assigned Salesforce Voice permission set takes one \
                     (orgs that enabled Service Cloud Voice after Spring '24 have it without \
                     that license)",
                    voice_psl.developer_name
                ));
                return Ok(outcome);
            }
            VoicePermissionSet::Ambiguous { candidates } => {
                let mut outcome = RuleOutcome::new(ID, RuleStatus::Undetermined);
                let names: Vec<String> =
                    candidates.iter().map(|set| set.qualified_name()).collect();
                outcome.notes.push(format!(
                    "undetermined: several permission sets could be the Salesforce Voice \
                     permission set ({}); name the right one in `voice_permission_set` in the \
                     [{CONFIG_TABLE}] config",
                    names.join(", ")
                ));
                return Ok(outcome);
            }
        };

        let Some(partner_psl) = index.license_named(&ctx.partner_psl) else {
            outcome.notes.push(format!(
                "the org has no {} license, so no user can hold a partner seat as well: nothing \
                 to report (if it has another DeveloperName, name it in `partner_psl` in the \
                 [{CONFIG_TABLE}] config)",
                ctx.partner_psl
            ));
            return Ok(outcome);
        };

        let amazon_names = ctx.amazon_permission_sets();
        // Only the Amazon sets that really need the Voice license justify a Voice seat.
        let amazon_sets: Vec<&PermissionSet> = snapshot
            .permission_sets
            .iter()
            .filter(|set| {
                set.license_id.as_deref() == Some(voice_psl.id.as_str())
                    && amazon_names.iter().any(|name| set.is_named(name))
            })
            .collect();
        let judge = Judge {
            index,
            call_center_kinds: snapshot
                .call_centers
                .iter()
                .map(|center| (center.id.as_str(), classify_call_center(center, ctx)))
                .collect(),
            voice,
            voice_psl,
            partner_psl,
            amazon_ids: amazon_sets.iter().map(|set| set.id.as_str()).collect(),
            amazon_sets,
            partner_names: ctx.partner_permission_sets(),
        };

        let mut seen = HashSet::new();
        let mut missing_users = 0usize;
        for voice_seat in snapshot
            .license_assignments
            .iter()
            .filter(|seat| seat.license_id == voice_psl.id)
        {
            if !seen.insert(voice_seat.assignee_id.as_str()) {
                continue;
            }
            match judge.judge(voice_seat) {
                Verdict::Fine => {}
                Verdict::UserMissing => missing_users += 1,
                Verdict::Wasted(finding) => outcome.findings.push(*finding),
            }
        }
        if missing_users > 0 {
            outcome.notes.push(format!(
                "{missing_users} user(s) with a {} seat are missing from the snapshot and were \
                 not judged",
                voice_psl.developer_name
            ));
        }
        outcome.findings.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(outcome)
    }
}

/// What the rule concluded about one holder of a Voice seat.
enum Verdict {
    /// Not double-consuming.
    Fine,
    /// Double-consuming by the records, but the user is missing from the snapshot.
    UserMissing,
    /// Double-consuming.
    Wasted(Box<Finding>),
}

/// The org-level facts the per-user test needs, found once.
struct Judge<'s, 'a> {
    /// Lookups over the snapshot.
    index: &'s SnapshotIndex<'a>,
    /// Every contact center's kind, classified once (settings are parsed, users are many).
    call_center_kinds: HashMap<&'a str, CallCenterKind>,
    /// The licensed Salesforce Voice permission set.
    voice: &'a PermissionSet,
    /// The license the Voice set needs.
    voice_psl: &'a PermissionSetLicense,
    /// The Partner Telephony license.
    partner_psl: &'a PermissionSetLicense,
    /// The Amazon contact-center sets that need the Voice license, for evidence.
    amazon_sets: Vec<&'a PermissionSet>,
    /// Their ids: holding one justifies the Voice seat.
    amazon_ids: HashSet<&'a str>,
    /// The partner contact-center set names, to list the partner sets held in evidence.
    partner_names: Vec<&'s str>,
}

impl Judge<'_, '_> {
    /// Judges the holder of `voice_seat`.
    fn judge(&self, voice_seat: &PermissionSetLicenseAssignment) -> Verdict {
        let index = self.index;
        let user_id = voice_seat.assignee_id.as_str();
        let holdings = index.holdings(user_id);
        let voice_holdings: Vec<&Holding<'_>> = holdings
            .iter()
            .filter(|h| h.permission_set_id == self.voice.id)
            .collect();
        if voice_holdings.is_empty() {
            return Verdict::Fine;
        }
        let Some(partner_seat) = index
            .license_assignments(user_id)
            .iter()
            .find(|seat| seat.license_id == self.partner_psl.id)
        else {
            return Verdict::Fine;
        };
        if holdings
            .iter()
            .any(|h| self.amazon_ids.contains(h.permission_set_id))
        {
            return Verdict::Fine;
        }
        let Some(user) = index.user(user_id) else {
            return Verdict::UserMissing;
        };
        // Another set (neither the Voice set nor an Amazon one) that needs the Voice license
        // keeps the seat taken after the fix.
        let voice_psl_id = Some(self.voice_psl.id.as_str());
        let still_needing: Vec<&Holding<'_>> = holdings
            .iter()
            .filter(|h| h.permission_set_id != self.voice.id && h.license_id() == voice_psl_id)
            .collect();

        let mut evidence: Vec<Evidence> = voice_holdings
            .iter()
            .map(|h| Evidence::HoldsPermissionSet(index.held_permission_set(h)))
            .collect();
        evidence.extend(
            holdings
                .iter()
                .filter(|h| {
                    h.license_id() == Some(self.partner_psl.id.as_str())
                        || h.permission_set.is_some_and(|set| {
                            self.partner_names.iter().any(|name| set.is_named(name))
                        })
                })
                .map(|h| Evidence::HoldsPermissionSet(index.held_permission_set(h))),
        );
        evidence.push(Evidence::HoldsLicense(index.held_license(partner_seat)));
        evidence.push(Evidence::HoldsLicense(index.held_license(voice_seat)));
        if let Some(center_id) = &user.call_center_id {
            evidence.push(Evidence::InCallCenter(index.call_center_ref(
                center_id,
                |center| {
                    self.call_center_kinds
                        .get(center.id.as_str())
                        .copied()
                        .unwrap_or(CallCenterKind::Unknown)
                },
            )));
        }
        evidence.push(Evidence::HoldsNoneOf {
            permission_sets: self.amazon_sets.iter().map(|set| set_ref(set)).collect(),
        });
        evidence.extend(
            still_needing
                .iter()
                .map(|h| Evidence::HoldsPermissionSet(index.held_permission_set(h))),
        );

        let voice_name = self.voice.qualified_name();
        let (voice_psl, partner_psl) = (
            &self.voice_psl.developer_name,
            &self.partner_psl.developer_name,
        );
        let summary = if still_needing.is_empty() {
            format!(
                "{} holds a {partner_psl} seat and a {voice_psl} seat but needs only the \
                 partner one: the Salesforce Voice permission set {voice_name} takes the \
                 {voice_psl} seat for nothing (1 seat recoverable)",
                user.username
            )
        } else {
            let names: Vec<String> = still_needing.iter().map(|h| h.name()).collect();
            format!(
                "{} holds a {partner_psl} seat and a {voice_psl} seat through the Salesforce \
                 Voice permission set {voice_name}, but {} also needs the {voice_psl} seat: \
                 removing the Voice permission set frees no seat (0 recoverable)",
                user.username,
                names.join(", ")
            )
        };
        Verdict::Wasted(Box::new(Finding {
            rule: ID.to_string(),
            kind: KIND.to_string(),
            // High: it blocks giving the seat to someone who needs it; unless the user is
            // deactivated, when nobody is blocked.
            severity: Severity::for_user(Severity::High, user.is_active),
            user_id: user.id.clone(),
            username: user.username.clone(),
            user_active: user.is_active,
            psl: voice_psl.clone(),
            psl_id: self.voice_psl.id.clone(),
            license_assignment_id: Some(voice_seat.id.clone()),
            unassign_first: voice_holdings
                .iter()
                .map(|h| index.held_permission_set(h))
                .collect(),
            recoverable_seats: u32::from(still_needing.is_empty()),
            summary,
            evidence,
            field_fix: None,
        }))
    }
}

/// A set list the admin wrote must name sets the org has; the defaults need not all exist.
fn check_configured_sets_exist(
    index: &SnapshotIndex<'_>,
    setting: &'static str,
    names: Option<&[String]>,
) -> Result<(), RuleError> {
    for name in names.unwrap_or_default() {
        if index.permission_sets_named(name).is_empty() {
            return Err(RuleError::UnknownPermissionSet {
                table: CONFIG_TABLE,
                setting,
                name: name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::GroupRef;
    use crate::rules::testkit::{self, *};
    use crate::snapshot::model::OrgSnapshot;

    fn run(snapshot: &OrgSnapshot, ctx: &RuleContext) -> RuleOutcome {
        ScvDoubleConsumption
            .evaluate(&SnapshotIndex::new(snapshot), ctx)
            .expect("the rule judges the org")
    }

    fn users(outcome: &RuleOutcome) -> Vec<&str> {
        outcome
            .findings
            .iter()
            .map(|f| f.user_id.as_str())
            .collect()
    }

    #[test]
    fn the_seed_example_finds_only_user_2_with_one_seat() {
        let outcome = run(&testkit::seed(), &RuleContext::default());
        assert_eq!(outcome.status, RuleStatus::Applies);
        assert_eq!(users(&outcome), [USER2]);
        let finding = &outcome.findings[0];
        assert_eq!(finding.recoverable_seats, 1);
        assert_eq!(finding.psl, "ServiceCloudVoicePsl");
        assert_eq!(finding.username, "user2@seed-example.org");
        assert_eq!(
            finding.license_assignment_id.as_deref(),
            Some(USER2_SCV_SEAT)
        );
        assert_eq!(finding.unassign_first.len(), 1);
        assert_eq!(
            finding.unassign_first[0].assignment_id,
            USER2_VOICE_ASSIGNMENT
        );
        assert!(finding.evidence.iter().any(|e| matches!(
            e,
            Evidence::InCallCenter(c) if c.id == AMAZON_CC && c.kind == CallCenterKind::Amazon
        )));
        assert!(finding.evidence.iter().any(|e| matches!(
            e,
            Evidence::HoldsLicense(seat) if seat.license == "ServiceCloudVoiceExternalTelephonyPsl"
        )));
    }

    #[test]
    fn an_org_enabled_after_spring_24_is_not_affected() {
        let mut snapshot = testkit::seed();
        testkit::set_named(&mut snapshot, "SalesforceVoicePermissionSet").license_id = None;
        let outcome = run(&snapshot, &RuleContext::default());
        assert_eq!(outcome.status, RuleStatus::NotApplicable);
        assert!(outcome.findings.is_empty());
        assert!(
            outcome.notes[0].starts_with("not affected"),
            "{:?}",
            outcome.notes
        );
    }

    #[test]
    fn a_user_holding_amazon_and_partner_sets_needs_both_seats() {
        let mut snapshot = testkit::seed();
        snapshot
            .permission_set_assignments
            .push(testkit::assignment("0Pa000000000050CAA", USER2, CC_AGENT));
        let outcome = run(&snapshot, &RuleContext::default());
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    }

    #[test]
    fn an_amazon_set_held_through_a_group_counts() {
        let mut snapshot = testkit::seed();
        snapshot
            .groups
            .push(crate::snapshot::model::PermissionSetGroup {
                id: "0PG000000000002AAA".into(),
                developer_name: "AmazonAgents".into(),
                label: "Amazon Agents".into(),
            });
        snapshot
            .group_components
            .push(crate::snapshot::model::PermissionSetGroupComponent {
                id: "0PM000000000002AAA".into(),
                permission_set_group_id: "0PG000000000002AAA".into(),
                permission_set_id: CC_AGENT.into(),
            });
        let mut group_assignment =
            testkit::assignment("0Pa000000000051CAA", USER2, "0PS000000000201GAA");
        group_assignment.permission_set_group_id = Some("0PG000000000002AAA".into());
        snapshot.permission_set_assignments.push(group_assignment);
        let outcome = run(&snapshot, &RuleContext::default());
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    }

    #[test]
    fn the_voice_set_through_a_group_is_found_with_the_group() {
        let mut snapshot = testkit::seed();
        testkit::move_voice_into_group(&mut snapshot, USER2);
        let outcome = run(&snapshot, &RuleContext::default());
        assert_eq!(users(&outcome), [USER2]);
        let held = &outcome.findings[0].unassign_first;
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].assignment_id, GROUP_ASSIGNMENT);
        assert_eq!(
            held[0].via_group,
            Some(GroupRef {
                id: VOICE_GROUP.into(),
                name: "VoiceAgents".into()
            })
        );
    }

    #[test]
    fn an_inactive_affected_user_is_reported_as_inactive() {
        let mut snapshot = testkit::seed();
        snapshot
            .users
            .iter_mut()
            .filter(|u| u.id == USER2)
            .for_each(|u| u.is_active = false);
        let outcome = run(&snapshot, &RuleContext::default());
        assert_eq!(users(&outcome), [USER2]);
        assert!(!outcome.findings[0].user_active);
        assert_eq!(outcome.findings[0].recoverable_seats, 1);
        assert_eq!(outcome.findings[0].severity, Severity::Low);
    }

    #[test]
    fn several_candidate_voice_sets_ask_for_config() {
        let mut snapshot = testkit::seed();
        snapshot.permission_sets.push(testkit::permission_set(
            "0PS000000000009GAA",
            "CustomVoiceAccess",
            Some(SCV_PSL),
        ));
        let outcome = run(&snapshot, &RuleContext::default());
        assert_eq!(outcome.status, RuleStatus::Undetermined);
        assert!(outcome.findings.is_empty());
        assert!(
            outcome.notes[0].contains("voice_permission_set"),
            "{:?}",
            outcome.notes
        );
        assert!(
            outcome.notes[0].contains("CustomVoiceAccess"),
            "{:?}",
            outcome.notes
        );

        let ctx = RuleContext {
            voice_permission_set: Some("SalesforceVoicePermissionSet".into()),
            ..RuleContext::default()
        };
        assert_eq!(users(&run(&snapshot, &ctx)), [USER2]);
    }

    #[test]
    fn a_user_without_a_partner_seat_is_not_reported() {
        let mut snapshot = testkit::seed();
        snapshot
            .license_assignments
            .retain(|seat| !(seat.assignee_id == USER2 && seat.license_id == PARTNER_PSL));
        assert!(run(&snapshot, &RuleContext::default()).findings.is_empty());
    }

    #[test]
    fn another_set_needing_the_voice_seat_leaves_nothing_recoverable() {
        let mut snapshot = testkit::seed();
        snapshot.permission_sets.push(testkit::permission_set(
            "0PS000000000009GAA",
            "CustomVoiceAccess",
            Some(SCV_PSL),
        ));
        snapshot
            .permission_set_assignments
            .push(testkit::assignment(
                "0Pa000000000052CAA",
                USER2,
                "0PS000000000009GAA",
            ));
        let ctx = RuleContext {
            voice_permission_set: Some("SalesforceVoicePermissionSet".into()),
            ..RuleContext::default()
        };
        let outcome = run(&snapshot, &ctx);
        assert_eq!(users(&outcome), [USER2]);
        assert_eq!(outcome.findings[0].recoverable_seats, 0);
        assert!(outcome.findings[0].summary.contains("CustomVoiceAccess"));
    }

    #[test]
    fn an_org_without_the_partner_license_has_no_finding() {
        let mut snapshot = testkit::seed();
        snapshot.licenses.retain(|l| l.id != PARTNER_PSL);
        let outcome = run(&snapshot, &RuleContext::default());
        assert_eq!(outcome.status, RuleStatus::Applies);
        assert!(outcome.findings.is_empty());
    }

    #[test]
    fn a_configured_amazon_set_the_org_lacks_is_an_error() {
        let ctx = RuleContext {
            amazon_permission_sets: Some(vec!["ContactCenterAgnet".into()]),
            ..RuleContext::default()
        };
        let error = ScvDoubleConsumption
            .evaluate(&SnapshotIndex::new(&testkit::seed()), &ctx)
            .expect_err("misspelt set");
        assert!(error.to_string().contains("ContactCenterAgnet"), "{error}");
    }
}
