//! Drift: are the facts each planned action relies on still true, right before it runs?
//!
//! Owns: judging every [`Fact`] of the plan against a fresh (user-scoped) snapshot, and the rule
//! that a finding's actions stand or fall together: when one action of a finding drifted, every
//! pending action of that finding is skipped, with the reason of the first drift.
//!
//! Also owns the last check that an action touches the record its facts are about
//! ([`crate::plan::target`]) and that, in the fresh read, that record is still the user's: a
//! plan re-targeted after it was made (a stored plan, or a bug) never deletes a record its facts
//! do not justify.
//!
//! Must not: do I/O. The fresh snapshot comes in as a [`SnapshotIndex`].
//!
//! "Already done" is not drift: a seat that vanished because an earlier action of the same
//! finding unassigned the set that needed it (Salesforce removes the seat itself) is the goal
//! met, and the action is recorded as done.

use std::collections::{BTreeMap, HashSet};

use crate::plan::target::{self, Target};
use crate::plan::{Fact, LICENSE_ASSIGNMENT, Op, PERMISSION_SET_ASSIGNMENT};
use crate::rules::SnapshotIndex;

/// A pending action, as the verifier needs it.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    pub op: Op,
    pub sobject: &'a str,
    pub record_id: Option<&'a str>,
    /// The fields a create or update writes: they must be what the facts are about.
    pub fields: &'a BTreeMap<String, String>,
    /// The user whose access changes: the record touched must be theirs.
    pub user_id: &'a str,
    /// The finding it fixes: actions of one finding stand or fall together.
    pub finding: usize,
    pub facts: &'a [Fact],
}

/// What to do with one pending action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every fact holds: carry it out.
    Keep,
    /// A fact no longer holds (or one of its finding's): never carry it out.
    Skip(String),
    /// The org is already as the action wants, because of an earlier action of its finding.
    AlreadyDone(String),
}

/// The plan's context the verifier needs beyond the pending actions.
#[derive(Debug, Default)]
pub struct PlanContext<'a> {
    /// Permission set assignments the plan deletes (done or pending): they do not count as
    /// "still needing the license" for the seat deletes after them.
    pub removed_assignments: HashSet<&'a str>,
    /// Findings with an action already done (in an earlier run or batch).
    pub findings_with_done: HashSet<usize>,
}

/// Judges every pending action against `fresh`.
pub fn verify(
    fresh: &SnapshotIndex<'_>,
    pending: &[Pending<'_>],
    ctx: &PlanContext<'_>,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = pending
        .iter()
        .map(|action| judge(fresh, action, ctx))
        .collect();
    // A finding's first drift skips all of its pending actions.
    let mut first_drift: BTreeMap<usize, String> = BTreeMap::new();
    for (action, verdict) in pending.iter().zip(&verdicts) {
        if let Verdict::Skip(reason) = verdict
            && action.op != Op::Manual
        {
            first_drift
                .entry(action.finding)
                .or_insert_with(|| reason.clone());
        }
    }
    // A fix with a manual step (a set that comes through a group) is left whole to the admin:
    // half of it would change the user's access without freeing the seat.
    let manual: HashSet<usize> = pending
        .iter()
        .filter(|a| a.op == Op::Manual)
        .map(|a| a.finding)
        .collect();
    for (action, verdict) in pending.iter().zip(verdicts.iter_mut()) {
        if matches!(verdict, Verdict::Skip(_)) {
            continue;
        }
        if manual.contains(&action.finding) {
            *verdict = Verdict::Skip(
                "this fix has a manual step (a permission set that comes through a group), so \
                 the whole fix is left to the admin: see the manual steps in the report"
                    .to_string(),
            );
        } else if let Some(reason) = first_drift.get(&action.finding) {
            *verdict = Verdict::Skip(format!("another step of this fix drifted: {reason}"));
        }
    }
    verdicts
}

fn judge(fresh: &SnapshotIndex<'_>, action: &Pending<'_>, ctx: &PlanContext<'_>) -> Verdict {
    if action.op == Op::Manual {
        return Verdict::Skip("a manual step: the admin does it (see its description)".into());
    }
    // A rollback step carries no facts (its record comes from the journal): nothing to match.
    if !action.facts.is_empty() {
        let t = Target {
            op: action.op,
            sobject: action.sobject,
            record_id: action.record_id,
            fields: action.fields,
            user_id: action.user_id,
            facts: action.facts,
        };
        if let Some(why) = target::problem(&t) {
            return Verdict::Skip(format!(
                "the plan's step does not match its own facts: {why}"
            ));
        }
        if let Some(why) = fresh_owner_problem(fresh, action) {
            return Verdict::Skip(why);
        }
    }
    for fact in action.facts {
        if let Err(drift) = holds(fresh, fact, ctx) {
            // The record this action deletes is gone: done already when an earlier step of the
            // same fix made Salesforce remove it; drift otherwise.
            let own_record_gone = match fact {
                Fact::UserHoldsSeat { assignment_id, .. }
                | Fact::UserHoldsPermissionSet { assignment_id, .. } => {
                    action.op == Op::Delete && action.record_id == Some(assignment_id.as_str())
                }
                _ => false,
            };
            if own_record_gone
                && action.sobject == LICENSE_ASSIGNMENT
                && ctx.findings_with_done.contains(&action.finding)
            {
                return Verdict::AlreadyDone(
                    "Salesforce removed the seat itself when the permission set that needed it \
                     was unassigned"
                        .to_string(),
                );
            }
            return Verdict::Skip(drift);
        }
    }
    Verdict::Keep
}

/// In the fresh read, the record a delete touches must still be the action's user's (and of the
/// kind the sObject says): the facts are about it, so this is the same record they judged.
fn fresh_owner_problem(fresh: &SnapshotIndex<'_>, action: &Pending<'_>) -> Option<String> {
    if action.op != Op::Delete {
        return None;
    }
    let id = action.record_id?;
    let snapshot = fresh.snapshot();
    let owner = match action.sobject {
        PERMISSION_SET_ASSIGNMENT => snapshot
            .permission_set_assignments
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.assignee_id.as_str()),
        LICENSE_ASSIGNMENT => snapshot
            .license_assignments
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.assignee_id.as_str()),
        _ => None,
    };
    match owner {
        Some(owner) if owner != action.user_id => Some(format!(
            "{} {id} belongs to {} now, not to {}, whom the plan names",
            action.sobject,
            user_name(fresh, owner),
            user_name(fresh, action.user_id)
        )),
        // Gone: the facts say so, and whether that is drift or done.
        _ => None,
    }
}

/// Whether one fact still holds; the error says what changed.
fn holds(fresh: &SnapshotIndex<'_>, fact: &Fact, ctx: &PlanContext<'_>) -> Result<(), String> {
    match fact {
        Fact::UserHoldsPermissionSet {
            user_id,
            permission_set_id,
            assignment_id,
            via_group_id,
        } => {
            let holding = fresh.holdings(user_id).into_iter().find(|h| {
                h.assignment.id == *assignment_id && h.permission_set_id == permission_set_id
            });
            match holding {
                None => Err(format!(
                    "assignment {assignment_id} (permission set {} of {}) is already gone",
                    set_name(fresh, permission_set_id),
                    user_name(fresh, user_id)
                )),
                Some(h) if h.via_group != via_group_id.as_deref() => Err(format!(
                    "{} now holds permission set {} another way (through {})",
                    user_name(fresh, user_id),
                    set_name(fresh, permission_set_id),
                    h.via_group.unwrap_or("a direct assignment")
                )),
                Some(_) => Ok(()),
            }
        }
        Fact::PermissionSetNeedsLicense {
            permission_set_id,
            license_id,
        } => match fresh.permission_set(permission_set_id) {
            Some(set) if set.license_id.as_deref() == Some(license_id.as_str()) => Ok(()),
            Some(_) => Err(format!(
                "permission set {} no longer needs license {}",
                set_name(fresh, permission_set_id),
                license_name(fresh, license_id)
            )),
            None => Err(format!(
                "permission set {permission_set_id} is no longer linked to a license (or was deleted)"
            )),
        },
        Fact::PermissionSetNeedsNoSeat {
            permission_set_id, ..
        } => match fresh.permission_set(permission_set_id) {
            None => Err(format!(
                "the replacement permission set {permission_set_id} is no longer in the org"
            )),
            Some(set) => match set.license_id.as_deref() {
                Some(l) if fresh.license(l).is_some() || l.starts_with("0PL") => Err(format!(
                    "the replacement permission set {} now needs license {}",
                    set.qualified_name(),
                    license_name(fresh, l)
                )),
                _ => Ok(()),
            },
        },
        Fact::UserLacksPermissionSet {
            user_id,
            permission_set_id,
        } => match fresh
            .holdings(user_id)
            .into_iter()
            .find(|h| h.permission_set_id == permission_set_id)
        {
            Some(h) => Err(format!(
                "{} already holds permission set {} (assignment {})",
                user_name(fresh, user_id),
                set_name(fresh, permission_set_id),
                h.assignment.id
            )),
            None => Ok(()),
        },
        Fact::UserHoldsSeat {
            user_id,
            license_id,
            assignment_id,
        } => {
            let present = fresh
                .license_assignments(user_id)
                .iter()
                .any(|s| s.id == *assignment_id && s.license_id == *license_id);
            if present {
                Ok(())
            } else {
                Err(format!(
                    "seat {assignment_id} ({} of {}) is already gone",
                    license_name(fresh, license_id),
                    user_name(fresh, user_id)
                ))
            }
        }
        Fact::UserInCallCenter {
            user_id,
            call_center_id,
        } => match fresh.user(user_id) {
            None => Err(format!(
                "user {user_id} is no longer in the org's Voice data"
            )),
            Some(user) if user.call_center_id.as_deref() == Some(call_center_id.as_str()) => Ok(()),
            Some(user) => Err(format!(
                "{} left contact center {} (now {})",
                user.username,
                center_name(fresh, call_center_id),
                user.call_center_id.as_deref().map_or_else(
                    || "in none".to_string(),
                    |c| format!("in {}", center_name(fresh, c))
                )
            )),
        },
        Fact::UserHoldsNoneOf {
            user_id,
            permission_set_ids,
        } => match fresh
            .holdings(user_id)
            .into_iter()
            .find(|h| permission_set_ids.iter().any(|p| p == h.permission_set_id))
        {
            Some(h) => Err(format!(
                "{} now holds permission set {}, which needs the seat",
                user_name(fresh, user_id),
                h.name()
            )),
            None => Ok(()),
        },
        Fact::FieldIs {
            object,
            record_id,
            field,
            value,
        } => {
            let record = fresh
                .snapshot()
                .natterbox
                .as_ref()
                .filter(|d| d.object == *object)
                .and_then(|d| d.records.iter().find(|r| r.id == *record_id));
            match record {
                None => Err(format!(
                    "{object} {record_id} is gone (or no longer readable)"
                )),
                Some(r) => {
                    let now = r.fields.get(field).copied().unwrap_or(false);
                    if now == *value {
                        Ok(())
                    } else {
                        Err(format!(
                            "{} now has {field} = {now} (the plan expected {value})",
                            r.username.as_deref().unwrap_or(record_id)
                        ))
                    }
                }
            }
        }
        Fact::NoCallSince { user_id, since } => {
            // Only a fresh read that looked at this user's calls can confirm it; anything else
            // (calls not read, not readable) leaves the fix undone rather than guessed.
            let activity = fresh
                .snapshot()
                .voice_activity
                .as_ref()
                .filter(|a| a.absent.is_none() && a.since <= *since)
                .filter(|a| a.users.iter().any(|u| u == user_id));
            let Some(activity) = activity else {
                return Err(format!(
                    "the calls of {} since {since} could not be read again, so whether they                      took a call since the scan is unknown",
                    user_name(fresh, user_id)
                ));
            };
            match activity.last_call_in_period.get(user_id) {
                Some(at) if at.as_str() >= since.as_str() => Err(format!(
                    "{} took a call as agent at {at}, since the scan found them idle: they                      keep their Voice access",
                    user_name(fresh, user_id)
                )),
                _ => Ok(()),
            }
        }
        Fact::NothingElseNeedsLicense {
            user_id,
            license_id,
            ..
        } => {
            let needing = fresh.holdings(user_id).into_iter().find(|h| {
                h.license_id() == Some(license_id.as_str())
                    && !ctx.removed_assignments.contains(h.assignment.id.as_str())
            });
            match needing {
                Some(h) => Err(format!(
                    "{} now holds permission set {}, which needs license {}: the seat is needed",
                    user_name(fresh, user_id),
                    h.name(),
                    license_name(fresh, license_id)
                )),
                None => Ok(()),
            }
        }
    }
}

fn user_name(fresh: &SnapshotIndex<'_>, id: &str) -> String {
    fresh
        .user(id)
        .map_or_else(|| format!("user {id}"), |u| u.username.clone())
}

fn set_name(fresh: &SnapshotIndex<'_>, id: &str) -> String {
    fresh
        .permission_set(id)
        .map_or_else(|| id.to_string(), |s| s.qualified_name())
}

fn license_name(fresh: &SnapshotIndex<'_>, id: &str) -> String {
    fresh
        .license(id)
        .map_or_else(|| id.to_string(), |l| l.developer_name.clone())
}

fn center_name(fresh: &SnapshotIndex<'_>, id: &str) -> String {
    fresh
        .call_center(id)
        .map_or_else(|| id.to_string(), |c| c.name.clone())
}

/// Every assignment id the plan's permission set assignment deletes target.
pub fn removed_assignments<'a>(
    actions: impl IntoIterator<Item = (Op, &'a str, Option<&'a str>)>,
) -> HashSet<&'a str> {
    actions
        .into_iter()
        .filter(|(op, sobject, _)| *op == Op::Delete && *sobject == PERMISSION_SET_ASSIGNMENT)
        .filter_map(|(_, _, id)| id)
        .collect()
}

/// Test helper: the verdicts on every action of `plan` against `fresh`, as an apply would judge
/// them (with `done_findings` already carried out), in plan order.
#[cfg(test)]
pub(crate) fn judge_plan(
    plan: &crate::plan::Plan,
    fresh: &crate::snapshot::model::OrgSnapshot,
    done_findings: &[usize],
) -> Vec<Verdict> {
    let pending: Vec<Pending<'_>> = plan
        .actions
        .iter()
        .map(|a| Pending {
            op: a.op,
            sobject: &a.sobject,
            record_id: a.id.as_deref(),
            fields: &a.fields,
            user_id: &a.user_id,
            finding: a.finding,
            facts: &a.facts,
        })
        .collect();
    let ctx = PlanContext {
        removed_assignments: removed_assignments(
            plan.actions
                .iter()
                .map(|a| (a.op, a.sobject.as_str(), a.id.as_deref())),
        ),
        findings_with_done: done_findings.iter().copied().collect(),
    };
    verify(&SnapshotIndex::new(fresh), &pending, &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, build_plan};
    use crate::rules::testkit;
    use crate::rules::{RuleContext, all_findings, builtin_rules, evaluate_all};
    use crate::snapshot::model::OrgSnapshot;

    fn seed_plan(snapshot: &OrgSnapshot) -> Plan {
        let index = SnapshotIndex::new(snapshot);
        let outcomes =
            evaluate_all(&index, &RuleContext::default(), &builtin_rules()).expect("rules");
        build_plan(&index, &all_findings(&outcomes), &Default::default()).expect("plan")
    }

    #[test]
    fn an_unchanged_org_keeps_every_action() {
        let snapshot = testkit::seed();
        let plan = seed_plan(&snapshot);
        assert!(!plan.actions.is_empty());
        assert!(
            judge_plan(&plan, &snapshot, &[])
                .iter()
                .all(|v| *v == Verdict::Keep)
        );
    }

    #[test]
    fn a_user_who_left_the_contact_center_is_skipped_with_the_reason() {
        let snapshot = testkit::seed();
        let plan = seed_plan(&snapshot);
        let mut fresh = snapshot.clone();
        let user = plan.actions[0].user_id.clone();
        fresh
            .users
            .iter_mut()
            .filter(|u| u.id == user)
            .for_each(|u| u.call_center_id = None);
        let verdicts = judge_plan(&plan, &fresh, &[]);
        assert!(
            matches!(&verdicts[0], Verdict::Skip(r) if r.contains("left contact center")),
            "{verdicts:?}"
        );
        assert!(
            verdicts.iter().all(|v| matches!(v, Verdict::Skip(_))),
            "the whole fix stands or falls together: {verdicts:?}"
        );
    }

    #[test]
    fn a_licensed_set_given_since_the_scan_keeps_the_seat() {
        let snapshot = testkit::seed();
        let plan = seed_plan(&snapshot);
        let user = plan.actions[0].user_id.clone();
        let agent = snapshot
            .permission_sets
            .iter()
            .find(|s| s.name == "ContactCenterAgent")
            .expect("agent set")
            .id
            .clone();
        let mut fresh = snapshot.clone();
        fresh.permission_set_assignments.push(testkit::assignment(
            "0Pa00000000NEW1AAA",
            &user,
            &agent,
        ));
        let verdicts = judge_plan(&plan, &fresh, &[]);
        assert!(
            verdicts
                .iter()
                .all(|v| matches!(v, Verdict::Skip(r) if r.contains("ContactCenterAgent"))),
            "{verdicts:?}"
        );
    }

    #[test]
    fn a_seat_gone_after_the_unassignment_is_already_done_not_drift() {
        let snapshot = testkit::seed();
        let plan = seed_plan(&snapshot);
        let seat = plan
            .actions
            .iter()
            .find(|a| a.sobject == LICENSE_ASSIGNMENT)
            .expect("a seat delete")
            .clone();
        let unassign = plan.actions[0].id.clone().expect("psa id");
        let mut fresh = snapshot.clone();
        fresh
            .permission_set_assignments
            .retain(|a| a.id != unassign);
        fresh
            .license_assignments
            .retain(|s| Some(&s.id) != seat.id.as_ref());
        let only_seat = Plan {
            actions: vec![seat.clone()],
            ..plan.clone()
        };
        assert!(matches!(
            judge_plan(&only_seat, &fresh, &[seat.finding])[0],
            Verdict::AlreadyDone(_)
        ));
        // Gone without this plan's doing: drift.
        assert!(matches!(
            &judge_plan(&only_seat, &fresh, &[])[0],
            Verdict::Skip(r) if r.contains("already gone")
        ));
    }

    #[test]
    fn an_action_re_targeted_at_another_record_is_skipped() {
        let snapshot = testkit::seed();
        let mut plan = seed_plan(&snapshot);
        let user = plan.actions[0].user_id.clone();
        let other = snapshot
            .permission_set_assignments
            .iter()
            .find(|a| a.assignee_id == user && Some(&a.id) != plan.actions[0].id.as_ref())
            .expect("another assignment of the user")
            .id
            .clone();
        plan.actions[0].id = Some(other.clone());
        let verdicts = judge_plan(&plan, &snapshot, &[]);
        assert!(
            matches!(&verdicts[0], Verdict::Skip(r) if r.contains(&other) && r.contains("own facts")),
            "{verdicts:?}"
        );
        assert!(
            verdicts.iter().all(|v| matches!(v, Verdict::Skip(_))),
            "{verdicts:?}"
        );
    }

    #[test]
    fn a_record_that_now_belongs_to_another_user_is_skipped() {
        let snapshot = testkit::seed();
        let plan = seed_plan(&snapshot);
        let target = plan.actions[0].id.clone().expect("psa id");
        let mut fresh = snapshot.clone();
        let someone_else = fresh
            .users
            .iter()
            .find(|u| u.id != plan.actions[0].user_id)
            .expect("another user")
            .id
            .clone();
        fresh
            .permission_set_assignments
            .iter_mut()
            .filter(|a| a.id == target)
            .for_each(|a| a.assignee_id = someone_else.clone());
        let verdicts = judge_plan(&plan, &fresh, &[]);
        assert!(
            matches!(&verdicts[0], Verdict::Skip(r) if r.contains("belongs to")),
            "{verdicts:?}"
        );
    }
}
