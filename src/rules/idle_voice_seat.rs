//! Rule `idle-voice-seat`: Voice seats of agents who take no calls. A holder of a judged Voice
//! license seat (`[org.idle] licenses`) is idle when they were the agent (`VoiceCall.UserId`)
//! on no call since the period's start (`after_days` before the scan), and, when
//! `also_last_login_days` is set, did not log in within that many days. A user created within
//! the period is never idle (no time to take calls yet); the configured exceptions (username,
//! permission set, permission set group) never are. A deactivated user's Voice seat is its own
//! kind, whatever their calls: they cannot take calls any more.
//!
//! One finding per seat. A seat `scv-double-consumption` or `orphan-psl` already reports is not
//! reported again (see [`super::evaluate_all`]): those rules are more specific (the seat is
//! wasted whatever the agent does), and their fix is the smaller change.
//!
//! Owns: that test, its two kinds, and the evidence (last call, last login, contact center,
//! sets and seats).
//!
//! Must not: read calls or the clock. The calls come in the snapshot's `voice_activity` (read
//! with aggregate queries by `snapshot::calls`), "now" is its `as_of`. Without them (not read,
//! or the org refused) the rule is `Undetermined` with the reason in a note.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{
    Evidence, Finding, Rule, RuleContext, RuleError, RuleOutcome, RuleStatus, Severity,
    SnapshotIndex, classify_call_center,
};
use crate::snapshot::model::User;

/// The rule's id.
pub const ID: &str = "idle-voice-seat";

/// Kind of an idle Voice seat of an active user.
pub const KIND_ACTIVE: &str = "idle-voice-seat";

/// Kind of a Voice seat held by a deactivated user: apart, because nobody at work loses
/// anything when it goes.
pub const KIND_DEACTIVATED: &str = "idle-voice-seat-deactivated-user";

/// What reclaiming an idle seat costs the agent, for every report.
pub const WHAT_THE_AGENT_LOSES: &str = "the agent loses their contact-center permission sets \
    and Voice seat, so they can no longer take or make calls in the contact center; `pslwarden \
    rollback` re-creates the seat and the assignments exactly as they were";

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdleVoiceSeat;

/// A parsed RFC 3339 instant, `None` when absent or unreadable.
fn instant(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The date part of an RFC 3339 instant, for sentences.
fn day(text: &str) -> &str {
    text.get(..10).unwrap_or(text)
}

impl Rule for IdleVoiceSeat {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "Voice seats of agents who took no call in the period (and, if configured, did not log in)"
    }

    fn defers_to_earlier_rules(&self) -> bool {
        true
    }

    fn evaluate(
        &self,
        index: &SnapshotIndex<'_>,
        ctx: &RuleContext,
    ) -> Result<RuleOutcome, RuleError> {
        let Some(idle) = &ctx.idle else {
            let mut outcome = RuleOutcome::new(ID, RuleStatus::NotApplicable);
            outcome
                .notes
                .push("not turned on: add an [org.idle] table to the config".to_string());
            return Ok(outcome);
        };
        let snapshot = index.snapshot();
        let undetermined = |why: String| {
            let mut outcome = RuleOutcome::new(ID, RuleStatus::Undetermined);
            outcome.notes.push(why);
            Ok(outcome)
        };
        let Some(activity) = &snapshot.voice_activity else {
            return undetermined(
                "the snapshot holds no call data (taken without [org.idle]): scan the org again \
                 to judge idle Voice seats"
                    .to_string(),
            );
        };
        if let Some(why) = &activity.absent {
            return undetermined(format!("idle Voice seats not judged: {why}"));
        }
        let Some(as_of) = instant(Some(&activity.as_of)) else {
            return undetermined(format!(
                "the snapshot's call period end `{}` is not a date",
                activity.as_of
            ));
        };
        let new_since = as_of - Duration::days(i64::from(idle.after_days));
        let login_since = idle
            .also_last_login_days
            .map(|d| as_of - Duration::days(i64::from(d)));

        let mut outcome = RuleOutcome::new(ID, RuleStatus::Applies);
        let mut licenses = Vec::new();
        for name in &idle.licenses {
            match snapshot
                .licenses
                .iter()
                .find(|l| l.developer_name.eq_ignore_ascii_case(name))
            {
                Some(l) => licenses.push(l),
                None => outcome.notes.push(format!(
                    "license {name} ([org.idle] licenses) is not in this org (match is on \
                     DeveloperName)"
                )),
            }
        }
        for name in &idle.except_permission_sets {
            if index.permission_sets_named(name).is_empty() {
                outcome.notes.push(format!(
                    "exception permission set {name} is not in this org (use its API name)"
                ));
            }
        }
        let excepted_groups: HashSet<&str> = snapshot
            .groups
            .iter()
            .filter(|g| {
                idle.except_permission_set_groups
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&g.developer_name))
            })
            .map(|g| g.id.as_str())
            .collect();
        for name in &idle.except_permission_set_groups {
            if !snapshot
                .groups
                .iter()
                .any(|g| g.developer_name.eq_ignore_ascii_case(name))
            {
                outcome.notes.push(format!(
                    "exception permission set group {name} is not in this org (use its \
                     DeveloperName)"
                ));
            }
        }

        let looked_at: HashSet<&str> = activity.users.iter().map(String::as_str).collect();
        let (mut active_calls, mut new_users, mut recent_login, mut excepted) = (0, 0, 0, 0);
        let mut not_looked_at = BTreeSet::new();
        for license in licenses {
            for seat in snapshot
                .license_assignments
                .iter()
                .filter(|s| s.license_id == license.id)
            {
                let Some(user) = index.user(&seat.assignee_id) else {
                    not_looked_at.insert(seat.assignee_id.as_str());
                    continue;
                };
                if !looked_at.contains(user.id.as_str()) {
                    not_looked_at.insert(user.id.as_str());
                    continue;
                }
                let holdings = index.holdings(&user.id);
                let is_excepted = idle
                    .except_usernames
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(&user.username))
                    || holdings.iter().any(|h| {
                        h.permission_set.is_some_and(|set| {
                            idle.except_permission_sets.iter().any(|n| set.is_named(n))
                        }) || h.via_group.is_some_and(|g| excepted_groups.contains(g))
                    })
                    || index.holds_any_group(&user.id, &excepted_groups);
                if is_excepted {
                    excepted += 1;
                    continue;
                }
                if user.is_active {
                    if activity.last_call_in_period.contains_key(&user.id) {
                        active_calls += 1;
                        continue;
                    }
                    if instant(user.created_date.as_deref()).is_some_and(|c| c >= new_since) {
                        new_users += 1;
                        continue;
                    }
                    if let Some(since) = login_since
                        && instant(user.last_login_date.as_deref()).is_some_and(|l| l >= since)
                    {
                        recent_login += 1;
                        continue;
                    }
                }
                outcome.findings.push(finding(
                    index,
                    ctx,
                    user,
                    license,
                    seat,
                    &activity.since,
                    activity,
                ));
            }
        }
        outcome.findings.sort_by(|a, b| {
            (!a.user_active, &a.username, &a.psl).cmp(&(!b.user_active, &b.username, &b.psl))
        });
        let deactivated = outcome.findings.iter().filter(|f| !f.user_active).count();
        outcome.notes.push(format!(
            "{} idle Voice seat(s) of active users (no call as agent since {}), {deactivated} of \
             deactivated users; spared: {active_calls} with calls, {new_users} created within \
             {} days, {recent_login} with a recent login, {excepted} by exception",
            outcome.findings.len() - deactivated,
            day(&activity.since),
            idle.after_days
        ));
        if !outcome.findings.is_empty() {
            outcome
                .notes
                .push(format!("reclaiming an idle seat: {WHAT_THE_AGENT_LOSES}"));
        }
        if !not_looked_at.is_empty() {
            outcome.notes.push(format!(
                "{} seat holder(s) whose calls were not read were not judged",
                not_looked_at.len()
            ));
        }
        Ok(outcome)
    }
}

/// The finding for one idle seat: what the fix removes (every set the user holds that needs
/// this license, then the seat) and the evidence.
fn finding(
    index: &SnapshotIndex<'_>,
    ctx: &RuleContext,
    user: &User,
    license: &crate::snapshot::model::PermissionSetLicense,
    seat: &crate::snapshot::model::PermissionSetLicenseAssignment,
    since: &str,
    activity: &crate::snapshot::model::VoiceActivity,
) -> Finding {
    let holdings = index.holdings(&user.id);
    let needing: Vec<_> = holdings
        .iter()
        .filter(|h| h.license_id() == Some(license.id.as_str()))
        .map(|h| index.held_permission_set(h))
        .collect();
    // A deactivated user is reported whatever their calls: one with a call in the period gets
    // that call as evidence instead of "no call since".
    let in_period = activity.last_call_in_period.get(&user.id);
    let last_call = match in_period {
        Some(at) => Some(super::CallRef {
            at: at.clone(),
            call_type: None,
        }),
        None => activity
            .last_call_before
            .get(&user.id)
            .map(|c| super::CallRef {
                at: c.at.clone(),
                call_type: c.call_type.clone(),
            }),
    };
    let mut evidence = vec![
        match (in_period, &last_call) {
            (Some(_), Some(call)) => Evidence::LastCall(call.clone()),
            _ => Evidence::NoCallSince {
                since: since.to_string(),
                last_call: last_call.clone(),
            },
        },
        Evidence::LastLogin {
            at: user.last_login_date.clone(),
        },
    ];
    if let Some(center) = &user.call_center_id {
        evidence.push(Evidence::InCallCenter(
            index.call_center_ref(center, |c| classify_call_center(c, ctx)),
        ));
    }
    evidence.extend(
        holdings
            .iter()
            .filter(|h| h.license_id().is_some())
            .map(|h| Evidence::HoldsPermissionSet(index.held_permission_set(h))),
    );
    evidence.extend(
        index
            .license_assignments(&user.id)
            .iter()
            .map(|s| Evidence::HoldsLicense(index.held_license(s))),
    );
    let last = match &last_call {
        Some(c) => format!(
            "last call {}{}",
            day(&c.at),
            c.call_type
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        ),
        None => "no call as agent on record".to_string(),
    };
    let (kind, severity, summary) = if user.is_active {
        (
            KIND_ACTIVE,
            Severity::Medium,
            format!(
                "{} holds a {} seat but took no call as agent since {} ({last}); 1 seat \
                 recoverable. Reclaiming it takes their contact-center access (no more calls); \
                 rollback restores it",
                user.username,
                license.developer_name,
                day(since)
            ),
        )
    } else {
        (
            KIND_DEACTIVATED,
            Severity::Low,
            format!(
                "deactivated user {} still holds a {} seat ({last}); 1 seat recoverable \
                 (rollback restores it)",
                user.username, license.developer_name
            ),
        )
    };
    Finding {
        rule: ID.to_string(),
        kind: kind.to_string(),
        severity,
        user_id: user.id.clone(),
        username: user.username.clone(),
        user_active: user.is_active,
        psl: license.developer_name.clone(),
        psl_id: license.id.clone(),
        license_assignment_id: Some(seat.id.clone()),
        unassign_first: needing,
        // Everything needing the seat goes first, so the seat always comes back: by the plan's
        // delete, or after the admin's group change when a set comes through a group.
        recoverable_seats: 1,
        summary,
        evidence,
        field_fix: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::{Fact, LICENSE_ASSIGNMENT, Op, PERMISSION_SET_ASSIGNMENT, PlanOptions};
    use crate::rules::testkit::{self, *};
    use crate::rules::{IdleSettings, all_findings, configured_rules, evaluate_all};
    use crate::snapshot::model::{LastCall, OrgSnapshot, VoiceActivity};

    const AS_OF: &str = "2026-06-30T23:00:00Z";
    const SINCE: &str = "2026-05-01T23:00:00Z";

    /// The seed, with the calls of every Voice seat holder read and none in the period; User-1
    /// last called in March, User-2 never.
    fn seed_with_calls() -> OrgSnapshot {
        let mut s = testkit::seed();
        for u in &mut s.users {
            u.created_date = Some("2024-01-01T00:00:00Z".into());
        }
        s.voice_activity = Some(VoiceActivity {
            as_of: AS_OF.into(),
            since: SINCE.into(),
            absent: None,
            users: vec![USER1.into(), USER2.into()],
            last_call_in_period: BTreeMap::new(),
            last_call_before: BTreeMap::from([(
                USER1.to_string(),
                LastCall {
                    at: "2026-03-02T10:00:00Z".into(),
                    call_type: Some("Inbound".into()),
                },
            )]),
        });
        s
    }

    fn ctx(idle: IdleSettings) -> RuleContext {
        RuleContext {
            idle: Some(idle),
            ..RuleContext::default()
        }
    }

    fn findings(s: &OrgSnapshot, ctx: &RuleContext) -> Vec<Finding> {
        let index = SnapshotIndex::new(s);
        let outcomes = evaluate_all(&index, ctx, &configured_rules(ctx)).expect("evaluates");
        all_findings(&outcomes)
            .into_iter()
            .filter(|f| f.rule == ID)
            .collect()
    }

    fn seats(found: &[Finding]) -> Vec<(&str, &str, &str)> {
        found
            .iter()
            .map(|f| (f.username.as_str(), f.psl.as_str(), f.kind.as_str()))
            .collect()
    }

    #[test]
    fn agents_without_calls_are_idle_with_their_evidence_and_a_seat_reported_once() {
        let s = seed_with_calls();
        let found = findings(&s, &ctx(IdleSettings::default()));
        // User-2's Voice User seat is scv-double-consumption's: only their partner seat here.
        assert_eq!(
            seats(&found),
            [
                (
                    "user1@seed-example.org",
                    "ServiceCloudVoicePsl",
                    KIND_ACTIVE
                ),
                (
                    "user2@seed-example.org",
                    "ServiceCloudVoiceExternalTelephonyPsl",
                    KIND_ACTIVE
                ),
            ]
        );
        let user1 = &found[0];
        let unassign: Vec<&str> = user1
            .unassign_first
            .iter()
            .map(|h| h.permission_set.as_str())
            .collect();
        assert_eq!(
            unassign,
            ["ContactCenterAgent", "SalesforceVoicePermissionSet"]
        );
        let evidence: Vec<String> = user1.evidence.iter().map(ToString::to_string).collect();
        assert_eq!(
            evidence[..3],
            [
                "took no call as agent since 2026-05-01 (last call 2026-03-02, Inbound)",
                "has never logged in",
                "is in contact center Amazon Connect Contact Center (Amazon Connect)",
            ]
        );
        assert!(
            user1.summary.contains("last call 2026-03-02, Inbound"),
            "{}",
            user1.summary
        );
        assert!(
            found[1].summary.contains("no call as agent on record"),
            "{}",
            found[1].summary
        );
        assert_eq!(user1.recoverable_seats, 1);
    }

    #[test]
    fn a_call_in_the_period_a_new_user_and_a_recent_login_spare_the_seat() {
        let mut s = seed_with_calls();
        let activity = s.voice_activity.as_mut().unwrap();
        activity
            .last_call_in_period
            .insert(USER1.into(), "2026-06-01T09:00:00Z".into());
        s.users[2].created_date = Some("2026-06-20T00:00:00Z".into());
        assert!(findings(&s, &ctx(IdleSettings::default())).is_empty());

        let mut s = seed_with_calls();
        s.users[1].last_login_date = Some("2026-06-29T08:00:00Z".into());
        let default = findings(&s, &ctx(IdleSettings::default()));
        assert_eq!(default.len(), 2, "a login alone does not spare the seat");
        let with_login = findings(
            &s,
            &ctx(IdleSettings {
                also_last_login_days: Some(30),
                ..IdleSettings::default()
            }),
        );
        assert_eq!(
            seats(&with_login),
            [(
                "user2@seed-example.org",
                "ServiceCloudVoiceExternalTelephonyPsl",
                KIND_ACTIVE
            )]
        );
    }

    #[test]
    fn exceptions_by_username_permission_set_and_group_spare_the_seat() {
        let s = seed_with_calls();
        let by_name = findings(
            &s,
            &ctx(IdleSettings {
                except_usernames: vec!["USER1@seed-example.org".into()],
                ..IdleSettings::default()
            }),
        );
        assert_eq!(by_name.len(), 1);
        let by_set = findings(
            &s,
            &ctx(IdleSettings {
                except_permission_sets: vec!["ContactCenterAgent".into()],
                ..IdleSettings::default()
            }),
        );
        assert_eq!(by_set.len(), 1);
        assert_eq!(by_set[0].username, "user2@seed-example.org");
        let mut grouped = seed_with_calls();
        testkit::move_voice_into_group(&mut grouped, USER1);
        let by_group = findings(
            &grouped,
            &ctx(IdleSettings {
                except_permission_set_groups: vec!["VoiceAgents".into()],
                ..IdleSettings::default()
            }),
        );
        assert_eq!(by_group.len(), 1);
        assert_eq!(by_group[0].username, "user2@seed-example.org");
    }

    #[test]
    fn a_deactivated_users_voice_seat_is_its_own_kind_whatever_their_calls() {
        let mut s = seed_with_calls();
        s.users[1].is_active = false;
        s.voice_activity
            .as_mut()
            .unwrap()
            .last_call_in_period
            .insert(USER1.into(), "2026-06-01T09:00:00Z".into());
        let found = findings(&s, &ctx(IdleSettings::default()));
        let user1 = found.iter().find(|f| f.user_id == USER1).expect("reported");
        assert_eq!(user1.kind, KIND_DEACTIVATED);
        assert_eq!(user1.severity, Severity::Low);
        assert_eq!(
            user1.evidence[0].to_string(),
            "last call as agent 2026-06-01",
            "not \"no call since\": they did call"
        );
        assert!(
            user1.summary.contains("last call 2026-06-01"),
            "{}",
            user1.summary
        );
    }

    #[test]
    fn without_call_data_the_rule_says_why_and_finds_nothing() {
        let mut s = seed_with_calls();
        s.voice_activity.as_mut().unwrap().absent = Some("no VoiceCall access".into());
        let index = SnapshotIndex::new(&s);
        let outcome = IdleVoiceSeat
            .evaluate(&index, &ctx(IdleSettings::default()))
            .expect("evaluates");
        assert_eq!(outcome.status, RuleStatus::Undetermined);
        assert!(outcome.findings.is_empty());
        assert!(
            outcome.notes[0].contains("no VoiceCall access"),
            "{:?}",
            outcome.notes
        );
    }

    #[test]
    fn the_fix_is_planned_only_when_reclaim_is_on_and_rests_on_no_call_since_the_scan() {
        let s = seed_with_calls();
        let ctx = ctx(IdleSettings::default());
        let index = SnapshotIndex::new(&s);
        let all = all_findings(&evaluate_all(&index, &ctx, &configured_rules(&ctx)).unwrap());
        let off = crate::plan::build_plan(&index, &all, &PlanOptions::default()).unwrap();
        assert!(
            off.actions.iter().all(|a| a.rule != ID),
            "{:?}",
            off.actions
        );
        assert!(
            off.notes
                .iter()
                .any(|n| n.contains("idle Voice seats are reported only")),
            "{:?}",
            off.notes
        );
        let on = crate::plan::build_plan(
            &index,
            &all,
            &PlanOptions {
                reclaim_idle_seats: true,
                ..PlanOptions::default()
            },
        )
        .unwrap();
        let user1: Vec<(Op, &str, Option<&str>)> = on
            .actions
            .iter()
            .filter(|a| a.rule == ID && a.user_id == USER1)
            .map(|a| (a.op, a.sobject.as_str(), a.id.as_deref()))
            .collect();
        assert_eq!(
            user1,
            [
                (
                    Op::Delete,
                    PERMISSION_SET_ASSIGNMENT,
                    Some("0Pa000000000005CAA")
                ),
                (
                    Op::Delete,
                    PERMISSION_SET_ASSIGNMENT,
                    Some("0Pa000000000006CAA")
                ),
                (Op::Delete, LICENSE_ASSIGNMENT, Some("2LA000000000001GAA")),
            ]
        );
        let first = on.actions.iter().find(|a| a.rule == ID).unwrap();
        assert!(
            first
                .facts
                .iter()
                .any(|f| matches!(f, Fact::NoCallSince { since, .. } if since == SINCE)),
            "{:?}",
            first.facts
        );
    }

    #[test]
    fn at_apply_a_call_since_the_scan_or_unreadable_calls_cancel_that_users_fix() {
        use crate::apply::verify::{Verdict, judge_plan};
        let s = seed_with_calls();
        let ctx = ctx(IdleSettings::default());
        let index = SnapshotIndex::new(&s);
        let all = all_findings(&evaluate_all(&index, &ctx, &configured_rules(&ctx)).unwrap());
        let options = PlanOptions {
            reclaim_idle_seats: true,
            ..PlanOptions::default()
        };
        let plan = crate::plan::build_plan(&index, &all, &options).unwrap();
        let judge = |fresh: &OrgSnapshot| -> Vec<(String, Verdict)> {
            let verdicts = judge_plan(&plan, fresh, &[]);
            plan.actions
                .iter()
                .zip(verdicts)
                .filter(|(a, _)| a.rule == ID)
                .map(|(a, v)| (a.user_id.clone(), v))
                .collect()
        };
        assert!(judge(&s).iter().all(|(_, v)| *v == Verdict::Keep));

        let mut called = s.clone();
        called
            .voice_activity
            .as_mut()
            .unwrap()
            .last_call_in_period
            .insert(USER1.into(), "2026-07-01T09:00:00Z".into());
        for (user, verdict) in judge(&called) {
            if user == USER1 {
                assert!(
                    matches!(&verdict, Verdict::Skip(r) if r.contains("took a call as agent at 2026-07-01T09:00:00Z")),
                    "{verdict:?}"
                );
            } else {
                assert_eq!(verdict, Verdict::Keep);
            }
        }

        let mut unread = s.clone();
        unread.voice_activity = None;
        assert!(
            judge(&unread).iter().all(
                |(_, v)| matches!(v, Verdict::Skip(r) if r.contains("could not be read again"))
            ),
        );
    }
}
