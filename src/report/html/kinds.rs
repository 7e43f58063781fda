//! What each kind of finding means, said once above its table instead of on every row.
//!
//! Owns: [`describe`], the one table of per-kind sentences keyed by the finding's `rule` and
//! `kind`, with a generic fallback for kinds it does not know; and [`detail`], what differs from
//! one row of a kind to the next.
//! Must not: be the only place a finding's meaning is kept: `Finding::summary` stays whole in
//! report.json, report.md and report.csv, and an unknown kind (a rule added later) shows it on
//! every row, so nothing is lost when this table lags behind the rules.

use crate::rules::{Evidence, Finding, idle_voice_seat, orphan_psl, scv_double_consumption};

/// The words above one kind's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindText {
    /// Short heading for the kind's table.
    pub title: String,
    /// One sentence that holds for every row of the kind.
    pub sentence: String,
    /// False for a kind this table does not know: its rows then show each finding's own
    /// summary, since nothing here says what they have in common.
    pub known: bool,
}

/// One known kind: `(rule, kind, title, sentence)`.
const KNOWN: &[(&str, &str, &str, &str)] = &[
    (
        scv_double_consumption::ID,
        scv_double_consumption::KIND,
        "Voice seats consumed twice",
        "Each user below holds a seat of the partner telephony license and a Service Cloud Voice \
         seat that only the auto-assigned Salesforce Voice permission set needs. Removing that \
         permission set, then the seat, frees the seat; when another set the user holds also \
         needs the seat, the row says so and counts 0 seats.",
    ),
    (
        orphan_psl::ID,
        orphan_psl::KIND_ACTIVE,
        "Orphaned seats of active users",
        "Each active user below holds a seat of a permission set license that no permission set \
         or permission set group they hold needs. Removing the seat assignment frees it without \
         taking any access away; the plan does so only when `reclaim_orphan_seats` is on.",
    ),
    (
        orphan_psl::ID,
        orphan_psl::KIND_INACTIVE,
        "Orphaned seats of deactivated users",
        "Each deactivated user below still holds a seat of a permission set license that \
         nothing they hold needs. Nobody at work loses anything when it goes; the plan removes \
         it only when `reclaim_orphan_seats` is on.",
    ),
    (
        idle_voice_seat::ID,
        idle_voice_seat::KIND_ACTIVE,
        "Idle Voice seats",
        "Each agent below holds a Service Cloud Voice seat but was the agent on no voice call in \
         the period `[org.idle]` sets (new users and the configured exceptions are never \
         listed). Reclaiming the seat removes their contact-center permission sets, so they can \
         no longer take calls; rollback gives both back. The plan does so only when \
         `[org.idle] reclaim = true`, and a call taken after the scan cancels that agent's fix.",
    ),
    (
        idle_voice_seat::ID,
        idle_voice_seat::KIND_DEACTIVATED,
        "Voice seats of deactivated users",
        "Each deactivated user below still holds a Service Cloud Voice seat. Nobody at work loses \
         anything when it goes; the plan removes it only when `[org.idle] reclaim = true`, and \
         rollback gives it back.",
    ),
];

/// The words for findings of `rule` / `kind`. Natterbox findings carry their pack rule's id as
/// `kind`, so any kind of the `natterbox` rule gets the Natterbox sentence.
pub fn describe(rule: &str, kind: &str) -> KindText {
    if let Some((_, _, title, sentence)) = KNOWN
        .iter()
        .find(|(known_rule, known_kind, _, _)| *known_rule == rule && *known_kind == kind)
    {
        return KindText {
            title: (*title).to_string(),
            sentence: (*sentence).to_string(),
            known: true,
        };
    }
    if rule == crate::rules::natterbox::ID {
        return KindText {
            title: format!("Natterbox licenses: policy rule {kind}"),
            sentence: format!(
                "Each user below has a Natterbox license record that breaks the license policy's \
                 rule `{kind}`; each row says what the record holds and why that is wrong."
            ),
            // The policy's explanation is only in each finding's summary: keep it on the rows.
            known: false,
        };
    }
    KindText {
        title: if rule == kind {
            format!("Findings of rule {rule}")
        } else {
            format!("Findings of rule {rule} ({kind})")
        },
        sentence: format!(
            "Findings of the rule `{rule}`, kind `{kind}`; each row says what was found and why."
        ),
        known: false,
    }
}

/// What the row of `finding` says beyond user, license and seats: for a known kind, only what
/// differs from one user to the next; otherwise the finding's whole summary.
pub fn detail(finding: &Finding) -> String {
    if !describe(&finding.rule, &finding.kind).known {
        return finding.summary.clone();
    }
    if finding.rule == scv_double_consumption::ID {
        return double_consumption_detail(finding);
    }
    if finding.rule == idle_voice_seat::ID {
        return idle_detail(finding);
    }
    // Orphaned seats: what the user does hold, none of which needs the license.
    let held: Vec<&str> = finding
        .evidence
        .iter()
        .find_map(|evidence| match evidence {
            Evidence::NothingNeedsLicense { held, .. } => {
                Some(held.iter().map(|set| set.name.as_str()).collect())
            }
            _ => None,
        })
        .unwrap_or_default();
    if held.is_empty() {
        "holds no licensed permission set".to_string()
    } else {
        format!("holds {}, none of which needs it", held.join(", "))
    }
}

/// An idle seat's row: the last call and the last login, as the evidence has them.
fn idle_detail(finding: &Finding) -> String {
    let parts: Vec<String> = finding
        .evidence
        .iter()
        .filter(|evidence| {
            matches!(
                evidence,
                Evidence::NoCallSince { .. } | Evidence::LastCall(_) | Evidence::LastLogin { .. }
            )
        })
        .map(ToString::to_string)
        .collect();
    if parts.is_empty() {
        finding.summary.clone()
    } else {
        parts.join("; ")
    }
}

/// Which Voice set to remove (and whether through a group), or which other sets keep the seat.
fn double_consumption_detail(finding: &Finding) -> String {
    let voice: Vec<String> = finding
        .unassign_first
        .iter()
        .map(|held| match &held.via_group {
            Some(group) => format!(
                "{} (through permission set group {})",
                held.permission_set, group.name
            ),
            None => held.permission_set.clone(),
        })
        .collect();
    let voice = if voice.is_empty() {
        "the Voice permission set".to_string()
    } else {
        voice.join(", ")
    };
    if finding.recoverable_seats > 0 {
        return format!("remove {voice}, then the seat");
    }
    // The sets that still need the seat are the held sets of the evidence that are not the
    // Voice set itself.
    let keeping: Vec<&str> = finding
        .evidence
        .iter()
        .filter_map(|evidence| match evidence {
            Evidence::HoldsPermissionSet(held)
                if held.license.as_deref() == Some(finding.psl.as_str())
                    && !finding
                        .unassign_first
                        .iter()
                        .any(|voice| voice.assignment_id == held.assignment_id) =>
            {
                Some(held.permission_set.as_str())
            }
            _ => None,
        })
        .collect();
    if keeping.is_empty() {
        format!("no seat freed: something else the user holds also needs it ({voice})")
    } else {
        format!(
            "no seat freed: {} also need(s) the seat",
            keeping.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;

    #[test]
    fn known_kinds_have_their_own_sentence_and_unknown_ones_a_fallback() {
        let known = describe("orphan-psl", "orphan-seat");
        assert!(known.known && known.sentence.contains("no permission set"));
        let idle = describe("idle-voice-seat", "idle-voice-seat");
        assert!(idle.known && idle.sentence.contains("can no longer take calls"));
        let new_rule = describe("seat-hoarding", "seat-hoarding");
        assert!(!new_rule.known);
        assert_eq!(new_rule.title, "Findings of rule seat-hoarding");
        assert!(new_rule.sentence.contains("`seat-hoarding`"));
        let natterbox = describe("natterbox", "cti-needs-voice");
        assert!(natterbox.sentence.contains("`cti-needs-voice`"));
    }

    #[test]
    fn an_unknown_kind_keeps_each_findings_summary_on_its_row() {
        let mut finding = fixture::report().findings[0].clone();
        finding.rule = "seat-hoarding".into();
        finding.kind = "seat-hoarding".into();
        finding.summary = "user9 took no call since 2026-01-01".into();
        assert_eq!(detail(&finding), "user9 took no call since 2026-01-01");
    }

    #[test]
    fn an_idle_row_says_the_last_call_and_login_not_the_whole_summary() {
        let mut finding = fixture::report().findings[0].clone();
        finding.rule = idle_voice_seat::ID.into();
        finding.kind = idle_voice_seat::KIND_ACTIVE.into();
        finding.evidence = vec![
            Evidence::NoCallSince {
                since: "2026-05-01T00:00:00Z".into(),
                last_call: None,
            },
            Evidence::LastLogin { at: None },
        ];
        let text = detail(&finding);
        assert!(
            text.contains("no call as agent since 2026-05-01") && text.contains("never logged in"),
            "{text}"
        );
        assert!(!text.contains(&finding.summary), "{text}");
    }

    #[test]
    fn a_double_consumption_row_names_only_what_differs() {
        let finding = &fixture::report().findings[0];
        assert_eq!(finding.rule, scv_double_consumption::ID);
        let text = detail(finding);
        assert!(text.starts_with("remove "), "{text}");
        assert!(!text.contains(&finding.username), "{text}");
    }
}
