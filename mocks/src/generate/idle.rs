//! Idle Voice seats in a generated org (with `--voice-calls`): who takes no calls, who logged in
//! when, who is new, who is exempt, and the exact lists a scan with the `idle-voice-seat` rule
//! must report (`Expected::idle_voice_seat_*`).
//!
//! Every date is relative to the as-of day (`--as-of`, midnight UTC) and kept clear of the
//! rule's boundaries, so the lists hold for a scan run at any time of that day: no call starts
//! 59 to 61 days before it (the 60-day period), no login 29 to 31 days before (the 30-day
//! recent-login mark), no `CreatedDate` 59 to 61 days before; "old" logins are at least 92 days
//! back. Exceptions use the fixture's names: the custom set `Contact_Center_Supervisor` and the
//! group `Voice_Supervisors` (whose one component, `Voice_Supervisor_Tools`, is unlicensed, so
//! no seat count changes).
//!
//! Must not: touch the org's random stream, ids already handed out, roles or seats: the
//! double-consumption and orphan lists and the seat counts stay exactly what they are without
//! `--voice-calls`. Its draws come from a stream of their own.

use std::collections::HashSet;

use super::*;

/// Its own random stream (see `STREAM_ORG`, `STREAM_CALLS`).
pub(super) const STREAM_IDLE: u64 = 0x6964_6C65_0000_0003;

/// The idle rule's default period and the bounds of the band kept free of calls around it.
pub(super) const PERIOD_DAYS: i64 = 60;
/// Calls start at least this many days before the as-of day (none on it or the day before, so
/// none is in the future of a scan that day).
pub(super) const FIRST_CALL_DAY: i64 = 2;
/// And at most this many.
pub(super) const LAST_CALL_DAY: i64 = 120;
/// Days before the as-of day on which no call starts: a scan any time that day agrees on
/// whether a call is inside the 60-day period.
pub(super) const QUIET_DAYS: std::ops::RangeInclusive<i64> = 59..=61;
/// The recent-login mark of `idle_voice_seat_recent_login_user_ids`.
const RECENT_LOGIN_DAYS: i64 = 30;

/// The exception names, as in `mocks/fixtures/scan-idle-voice.json`.
pub const SUPERVISOR_SET: &str = "Contact_Center_Supervisor";
/// The exempt permission set group.
pub const SUPERVISOR_GROUP: &str = "Voice_Supervisors";
/// The group's one (unlicensed) component.
const SUPERVISOR_GROUP_COMPONENT: &str = "Voice_Supervisor_Tools";

/// What a Voice-seat holder is planted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plant {
    /// Takes calls as drawn.
    Normal,
    /// Takes calls only before the period (62 to 120 days back).
    OldCalls,
    /// Takes no call at all.
    NoCalls,
    /// Created within the period; takes no call.
    New,
}

/// The idle plan of one org, decided before the calls are drawn.
pub(super) struct IdlePlan {
    /// Midnight UTC of the as-of day, in Unix seconds.
    pub(super) as_of: i64,
    /// What each active Voice-seat holder is planted as (users not listed are `Normal`).
    pub(super) plants: BTreeMap<String, Plant>,
}

impl IdlePlan {
    pub(super) fn plant(&self, user: &str) -> Plant {
        self.plants.get(user).copied().unwrap_or(Plant::Normal)
    }
}

/// One holder of a seat of either Voice license, as the builder placed them.
pub(super) struct SeatHolder {
    /// User id.
    pub(super) id: String,
    /// `IsActive`.
    pub(super) active: bool,
}

/// Midnight UTC of `day`, in Unix seconds.
pub(super) fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp())
}

/// Decides who is planted as what: of the active seat holders about 8% take only old calls,
/// 8% none, 3% are new users.
pub(super) fn plan(holders: &[SeatHolder], as_of: NaiveDate, rng: &mut Rng) -> IdlePlan {
    let mut plants = BTreeMap::new();
    for holder in holders.iter().filter(|h| h.active) {
        let plant = match rng.weighted(&[81, 8, 8, 3]) {
            1 => Plant::OldCalls,
            2 => Plant::NoCalls,
            3 => Plant::New,
            _ => Plant::Normal,
        };
        if plant != Plant::Normal {
            plants.insert(holder.id.clone(), plant);
        }
    }
    IdlePlan {
        as_of: midnight(as_of),
        plants,
    }
}

/// What planting added, for the summary.
pub(super) struct Planted {
    /// Active seat holders who took no call in the period, are not new and not exempt (sorted).
    pub(super) idle: Vec<String>,
    /// Inactive seat holders (sorted).
    pub(super) deactivated: Vec<String>,
    /// Those in `idle` who logged in within 30 days (sorted).
    pub(super) recent_login: Vec<String>,
    /// Seat holders exempt by the supervisor set or group.
    pub(super) exempt: usize,
}

/// Writes the plan into the fixture: `LastLoginDate` and `CreatedDate` on every user, the
/// exception set, group, component and their assignments (ids from `ids`, which has handed out
/// every other id already); answers the exact lists. `in_period` are the users with a call in
/// the 60 days before the as-of day.
pub(super) fn apply(
    fixture: &mut Value,
    plan: &IdlePlan,
    holders: &[SeatHolder],
    in_period: &HashSet<String>,
    rng: &mut Rng,
    ids: &mut IdFactory,
) -> Planted {
    let day = 86_400;
    let at = |days_back: i64, rng: &mut Rng| {
        datetime(plan.as_of - days_back * day + rng.between(0, 86_399) as i64)
    };

    // Exceptions: a fifth of the planted idle holders, a fiftieth of the others, half by the set
    // and half by the group.
    let mut by_set: Vec<String> = Vec::new();
    let mut by_group: Vec<String> = Vec::new();
    for holder in holders.iter().filter(|h| h.active) {
        let share = match plan.plant(&holder.id) {
            Plant::OldCalls | Plant::NoCalls => 0.2,
            Plant::New | Plant::Normal => 0.02,
        };
        if rng.chance(share) {
            if rng.chance(0.5) {
                by_set.push(holder.id.clone());
            } else {
                by_group.push(holder.id.clone());
            }
        }
    }

    let mut recent: HashSet<String> = HashSet::new();
    let mut created_recently: HashSet<String> = HashSet::new();
    let integration = fixture["_org"]["integration_user"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(users) = fixture.get_mut("User").and_then(Value::as_array_mut) {
        for user in users.iter_mut() {
            let id = user["Id"].as_str().unwrap_or_default().to_string();
            let active = user["IsActive"].as_bool().unwrap_or(true);
            let plant = plan.plant(&id);
            let created_back = if plant == Plant::New {
                rng.between(2, 58) as i64
            } else {
                rng.between(400, 2500) as i64
            };
            // Days back of the last login; None: never logged in.
            let login_back: Option<i64> = if user["Username"].as_str() == Some(&integration) {
                Some(1)
            } else if !active {
                rng.chance(0.8).then(|| rng.between(92, 400) as i64)
            } else {
                match plant {
                    Plant::OldCalls | Plant::NoCalls => match rng.weighted(&[50, 30, 20]) {
                        0 => Some(rng.between(92, 300) as i64),
                        1 => Some(rng.between(1, 28) as i64),
                        _ => None,
                    },
                    Plant::New => rng
                        .chance(0.7)
                        .then(|| rng.between(1, (created_back - 1).max(1) as u64) as i64),
                    Plant::Normal => Some(rng.between(1, 20) as i64),
                }
            };
            let login_back = login_back.map(|d| d.min(created_back - 1).max(1));
            if let Some(back) = login_back {
                if back < RECENT_LOGIN_DAYS {
                    recent.insert(id.clone());
                }
                let login = at(back, rng);
                if let Value::Object(map) = user {
                    map.insert("LastLoginDate".into(), login.into());
                }
            }
            if created_back < PERIOD_DAYS {
                created_recently.insert(id.clone());
            }
            let created = at(created_back, rng);
            if let Value::Object(map) = user {
                map.insert("CreatedDate".into(), created.into());
            }
        }
    }

    let exempt_ids: HashSet<&str> = by_set.iter().chain(&by_group).map(String::as_str).collect();
    add_exceptions(fixture, &by_set, &by_group, ids);

    let mut planted = Planted {
        idle: Vec::new(),
        deactivated: Vec::new(),
        recent_login: Vec::new(),
        exempt: exempt_ids.len(),
    };
    for holder in holders {
        if !holder.active {
            planted.deactivated.push(holder.id.clone());
            continue;
        }
        let idle = !in_period.contains(&holder.id)
            && !created_recently.contains(&holder.id)
            && !exempt_ids.contains(holder.id.as_str());
        if idle {
            planted.idle.push(holder.id.clone());
            if recent.contains(&holder.id) {
                planted.recent_login.push(holder.id.clone());
            }
        }
    }
    planted.idle.sort();
    planted.deactivated.sort();
    planted.recent_login.sort();
    planted
}

/// The exception set, the group with its component and aggregated set, and the assignments.
fn add_exceptions(
    fixture: &mut Value,
    by_set: &[String],
    by_group: &[String],
    ids: &mut IdFactory,
) {
    let set_id = ids.next("0PS");
    let tools_id = ids.next("0PS");
    let aggregate_id = ids.next("0PS");
    let group_id = ids.next("0PG");
    let component_id = ids.next("0PM");
    let regular = |id: &str, name: &str, label: &str| {
        json!({"Id": id, "Name": name, "Label": label, "IsOwnedByProfile": false,
               "IsCustom": true, "Type": "Regular"})
    };
    let push = |fixture: &mut Value, object: &str, record: Value| {
        if let Some(records) = fixture.get_mut(object).and_then(Value::as_array_mut) {
            records.push(record);
        }
    };
    push(
        fixture,
        "PermissionSet",
        regular(
            &set_id,
            SUPERVISOR_SET,
            "Contact Center Supervisor (team leads)",
        ),
    );
    push(
        fixture,
        "PermissionSet",
        regular(
            &tools_id,
            SUPERVISOR_GROUP_COMPONENT,
            "Voice Supervisor Tools",
        ),
    );
    push(
        fixture,
        "PermissionSet",
        json!({"Id": aggregate_id, "Name": format!("{SUPERVISOR_GROUP}_Aggregate"),
               "Label": "Voice Supervisors (group)", "IsOwnedByProfile": false,
               "PermissionSetGroupId": group_id, "IsCustom": false, "Type": "Group"}),
    );
    push(
        fixture,
        "PermissionSetGroup",
        json!({"Id": group_id, "DeveloperName": SUPERVISOR_GROUP,
               "MasterLabel": "Voice Supervisors", "Status": "Updated"}),
    );
    push(
        fixture,
        "PermissionSetGroupComponent",
        json!({"Id": component_id, "PermissionSetGroupId": group_id,
               "PermissionSetId": tools_id}),
    );
    for user in by_set {
        push(
            fixture,
            "PermissionSetAssignment",
            record([
                ("Id", ids.next("0Pa").into()),
                ("AssigneeId", user.clone().into()),
                ("PermissionSetId", set_id.clone().into()),
            ]),
        );
    }
    for user in by_group {
        push(
            fixture,
            "PermissionSetAssignment",
            record([
                ("Id", ids.next("0Pa").into()),
                ("AssigneeId", user.clone().into()),
                ("PermissionSetId", aggregate_id.clone().into()),
                ("PermissionSetGroupId", group_id.clone().into()),
            ]),
        );
    }
}
