//! The gate: whether the next batch of changes may start, checked before every batch.
//!
//! Owns: the choice of which actions one run may take on under its safety caps
//! ([`select_within_caps`]) and the per-batch decision ([`check`]): window open with its cutoff,
//! API headroom.
//!
//! Must not: read the clock, talk to the org or touch the state store. The instant, the API usage
//! and the counts come in as arguments, so every decision is reproducible in a unit test.
//! (The per-org lock is the fourth part of the gate; it is held for the whole run, see
//! [`crate::state::OrgLock`].)

use chrono::{DateTime, Utc};

// Defined with the config they are read from (config must not import apply); re-exported as
// part of the gate's vocabulary.
use crate::config::ApplyLimits;
use crate::salesforce::ApiUsage;
use crate::window::Window;

/// One action as the caps see it.
#[derive(Debug, Clone, Copy)]
pub struct CapItem<'a> {
    /// The finding it belongs to: a finding's actions are taken or left together.
    pub finding: usize,
    /// The user it changes.
    pub user_id: &'a str,
}

/// Which actions (by position in `items`) fit in one run, taking whole findings in order; and,
/// when some are left, why.
pub fn select_within_caps(
    items: &[CapItem<'_>],
    max_actions: usize,
    max_users: usize,
) -> (Vec<usize>, Option<String>) {
    use std::collections::{BTreeMap, HashSet};
    // Findings in the order they first appear, with their actions.
    let mut order: Vec<usize> = Vec::new();
    let mut by_finding: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let entry = by_finding.entry(item.finding).or_default();
        if entry.is_empty() {
            order.push(item.finding);
        }
        entry.push(i);
    }
    let mut chosen = Vec::new();
    let mut users: HashSet<&str> = HashSet::new();
    let mut left = None;
    for finding in order {
        let positions = &by_finding[&finding];
        let new_users: HashSet<&str> = positions
            .iter()
            .map(|&i| items[i].user_id)
            .filter(|u| !users.contains(u))
            .collect();
        if chosen.len() + positions.len() > max_actions {
            left = Some(format!(
                "the run's cap of {max_actions} actions (`max_actions` in [org.apply]) is reached"
            ));
            break;
        }
        if users.len() + new_users.len() > max_users {
            left = Some(format!(
                "the run's cap of {max_users} users (`max_voice_user_share` / \
                 `min_users_per_run` in [org.apply]) is reached"
            ));
            break;
        }
        users.extend(new_users);
        chosen.extend_from_slice(positions);
    }
    chosen.sort_unstable();
    (chosen, left)
}

/// What the gate says before a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The batch may start.
    Go,
    /// Stop the run here; the reason says why and, for the window, when it next opens.
    Stop(StopReason),
}

/// Why the gate stopped a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The window is closed, or too close to its close for a new batch.
    Window(String),
    /// Too few daily API requests remain.
    ApiHeadroom(String),
    /// The process is shutting down (SIGTERM): the batch in flight was finished and journaled.
    Shutdown,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Window(m) | StopReason::ApiHeadroom(m) => f.write_str(m),
            StopReason::Shutdown => f.write_str(
                "pslwarden is shutting down: the batch in flight was finished and journaled, and \
                 the next run continues the plan",
            ),
        }
    }
}

/// Decides whether a batch may start at `now`. `window_words` turns the window state into the
/// sentence the admin reads (it lives with the `window` command's wording).
pub fn check(
    window: &Window,
    now: DateTime<Utc>,
    usage: Option<ApiUsage>,
    limits: &ApplyLimits,
    window_words: &(dyn Fn(DateTime<Utc>) -> String + Sync),
) -> Decision {
    let state = window.state_at(now);
    if !state.batch_allowed {
        return Decision::Stop(StopReason::Window(window_words(now)));
    }
    if let Some(usage) = usage
        && usage.max > 0
    {
        let remaining = usage.remaining();
        let floor = (usage.max as f64 * limits.min_api_headroom).ceil() as u64;
        if remaining < floor {
            return Decision::Stop(StopReason::ApiHeadroom(format!(
                "only {remaining} of the org's {} daily API requests remain, under the {:.0}% \
                 kept for its other integrations (`min_api_headroom` in [org.apply]); the rest \
                 waits for the next run",
                usage.max,
                limits.min_api_headroom * 100.0
            )));
        }
    }
    Decision::Go
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(spec: &[(usize, &'static str)]) -> Vec<CapItem<'static>> {
        spec.iter()
            .map(|&(finding, user_id)| CapItem { finding, user_id })
            .collect()
    }

    #[test]
    fn caps_take_whole_findings_in_order() {
        // Finding 0: two actions for u1; finding 1: two for u2; finding 2: one for u3.
        let all = items(&[(0, "u1"), (1, "u2"), (0, "u1"), (1, "u2"), (2, "u3")]);
        let (chosen, left) = select_within_caps(&all, 3, 10);
        assert_eq!(chosen, vec![0, 2], "finding 1 would exceed 3 actions");
        assert!(left.unwrap().contains("max_actions"));
        let (chosen, left) = select_within_caps(&all, 100, 2);
        assert_eq!(chosen, vec![0, 1, 2, 3]);
        assert!(left.unwrap().contains("users"));
        let (chosen, left) = select_within_caps(&all, 100, 100);
        assert_eq!(chosen.len(), 5);
        assert!(left.is_none());
    }

    #[test]
    fn the_user_cap_has_a_floor_for_small_orgs() {
        let limits = ApplyLimits::default();
        assert_eq!(limits.user_cap(2), 10);
        assert_eq!(limits.user_cap(1000), 200);
    }

    #[test]
    fn a_closed_window_or_low_headroom_stops_the_batch() {
        let limits = ApplyLimits::default();
        let now = Utc::now();
        let words = |_| "closed".to_string();
        assert_eq!(
            check(&Window::NotConfigured, now, None, &limits, &words),
            Decision::Stop(StopReason::Window("closed".into()))
        );
        assert_eq!(
            check(&Window::AlwaysOpen, now, None, &limits, &words),
            Decision::Go
        );
        let low = ApiUsage {
            used: 14_000,
            max: 15_000,
        };
        assert!(matches!(
            check(&Window::AlwaysOpen, now, Some(low), &limits, &words),
            Decision::Stop(StopReason::ApiHeadroom(m)) if m.contains("1000 of the org's 15000")
        ));
        let fine = ApiUsage {
            used: 100,
            max: 15_000,
        };
        assert_eq!(
            check(&Window::AlwaysOpen, now, Some(fine), &limits, &words),
            Decision::Go
        );
    }
}
