//! The fix plan: the ordered Salesforce changes that free the seats the findings name, each with
//! the facts it relies on, under a digest of the whole.
//!
//! Owns: [`Plan`], [`Action`], [`Fact`], [`build_plan`] (a pure function of the snapshot, the
//! findings and [`PlanOptions`]). The digest and the plan file format (`--plan-out FILE`) are in
//! [`file`]; whether an action's facts name the record it touches is in [`target`].
//!
//! Must not: change anything (applying a plan is `apply`'s job, inside the window gate), or
//! change permission set groups: a Voice permission set that comes through a group is a `manual`
//! step with its explanation, because editing a group changes every member's access.
//!
//! Order: every permission set assignment delete comes before every license assignment delete
//! (Salesforce's order: first remove what needs the license, then the seat); replacement creates
//! sit between them. Apply re-checks each action's facts right before running it, and refuses
//! a plan file whose digest no longer matches its content.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rules::{
    Evidence, Finding, SnapshotIndex, idle_voice_seat, natterbox, orphan_psl,
    scv_double_consumption,
};
use crate::snapshot::model::PermissionSet;

pub mod file;
pub mod target;

pub use file::PlanFileError;

/// The plan file schema this build writes and reads. Version 2: the digest covers every action
/// whole and the org id (version 1's covered the facts only), and the file carries per-part
/// digests that say what was edited.
pub const PLAN_SCHEMA_VERSION: u32 = 2;

/// The config table [`PlanOptions`] is read from; error messages name it.
pub const CONFIG_TABLE: &str = "org.plan";

/// sObject of a permission set assignment.
pub const PERMISSION_SET_ASSIGNMENT: &str = "PermissionSetAssignment";

/// sObject of a permission set license assignment (a seat).
pub const LICENSE_ASSIGNMENT: &str = "PermissionSetLicenseAssign";

/// What the admin chose about fixes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanOptions {
    /// API name of a license-free permission set with the access the Voice permission set gave
    /// (the Amazon Connect single sign-on), assigned in its place so users keep signing in.
    /// It must exist in the org and need no permission set license.
    pub replacement_permission_set: Option<String>,
    /// Whether `orphan-psl` findings get a seat delete (they are reported either way). Off by
    /// default: a seat nothing needs may still be wanted (a user about to get a set, a license
    /// checked directly by a feature), so reclaiming them is the admin's explicit choice.
    pub reclaim_orphan_seats: bool,
    /// Whether `idle-voice-seat` findings get their fix: `[org.idle] reclaim`, set by the config
    /// loader (not a key of `[org.plan]`). Off by default: an idle agent may be on leave, and
    /// taking their Voice access away is the admin's explicit choice.
    #[serde(skip)]
    pub reclaim_idle_seats: bool,
}

/// The plan cannot be built as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The replacement set is not in the org.
    #[error(
        "`replacement_permission_set` in the [{CONFIG_TABLE}] config names permission set \
         `{name}`, which does not exist in the org: create it (without a license, granting the \
         Amazon Connect single sign-on the Voice permission set gave), correct its API name \
         (`prefix__Name` for a managed package's set), or remove the setting"
    )]
    UnknownReplacement { name: String },
    /// The replacement set needs a license, so assigning it would take a seat again.
    #[error(
        "`replacement_permission_set` in the [{CONFIG_TABLE}] config names permission set \
         `{name}`, which needs the permission set license {license}: assigning it would take a \
         seat again. Name a permission set without a license"
    )]
    ReplacementNeedsLicense { name: String, license: String },
    /// Several sets answer to the name (a malformed snapshot).
    #[error(
        "`replacement_permission_set` in the [{CONFIG_TABLE}] config names `{name}`, which \
         matches {count} permission sets: use the `prefix__Name` form to pick one"
    )]
    AmbiguousReplacement { name: String, count: usize },
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Delete the record `id`.
    Delete,
    /// Create a record of `sobject` with `fields`.
    Create,
    /// A change pslwarden does not make: the admin does it, as `description` explains.
    Manual,
    /// Set fields of the record `id` (a Natterbox license checkbox) to `fields`.
    Update,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Delete => "delete",
            Op::Create => "create",
            Op::Manual => "manual",
            Op::Update => "update",
        })
    }
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Delete, create, or a manual step.
    pub op: Op,
    /// The sObject touched ([`PERMISSION_SET_ASSIGNMENT`] or [`LICENSE_ASSIGNMENT`]).
    pub sobject: String,
    /// The record deleted (or, for a manual step, the record the admin must change).
    pub id: Option<String>,
    /// The fields of a created record, by Salesforce field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Position of the finding this action fixes in the findings the plan was built from.
    pub finding: usize,
    /// Rule of that finding.
    pub rule: String,
    /// The user whose access changes.
    pub user_id: String,
    /// Their username, for reports.
    pub username: String,
    /// One sentence for the admin (for a manual step: what to do and why pslwarden does not).
    pub description: String,
    /// What must still be true for the action to be right; apply re-checks them.
    pub facts: Vec<Fact>,
}

/// A fact about the org an action relies on, as of the snapshot. Each renders as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// Assignment `assignment_id` gives the user the set (through the group, if any).
    UserHoldsPermissionSet {
        user_id: String,
        permission_set_id: String,
        assignment_id: String,
        via_group_id: Option<String>,
    },
    /// The set needs a seat of the license.
    PermissionSetNeedsLicense {
        permission_set_id: String,
        license_id: String,
    },
    /// The set needs no permission set license (`license_id`: none, or a user license).
    PermissionSetNeedsNoSeat {
        permission_set_id: String,
        license_id: Option<String>,
    },
    /// The user does not hold the set (so creating its assignment is not a duplicate).
    UserLacksPermissionSet {
        user_id: String,
        permission_set_id: String,
    },
    /// Seat `assignment_id` of the license is the user's.
    UserHoldsSeat {
        user_id: String,
        license_id: String,
        assignment_id: String,
    },
    /// The user is in the contact center.
    UserInCallCenter {
        user_id: String,
        call_center_id: String,
    },
    /// The user holds none of the sets (directly or through a group).
    UserHoldsNoneOf {
        user_id: String,
        permission_set_ids: Vec<String>,
    },
    /// Once the earlier actions ran, the licensed sets the user still holds are exactly
    /// `other_permission_set_ids`, and none of them needs the license.
    NothingElseNeedsLicense {
        user_id: String,
        license_id: String,
        other_permission_set_ids: Vec<String>,
    },
    /// The user took no call as agent (`VoiceCall.UserId`) starting at or after `since` (the
    /// idle period's start at the scan, RFC 3339): a call since then cancels the idle fix.
    NoCallSince { user_id: String, since: String },
    /// The checkbox `field` of record `record_id` (of `object`) holds `value`.
    FieldIs {
        object: String,
        record_id: String,
        field: String,
        value: bool,
    },
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fact::UserHoldsPermissionSet {
                user_id,
                permission_set_id,
                assignment_id,
                via_group_id,
            } => {
                write!(
                    f,
                    "assignment {assignment_id} exists and gives user {user_id} permission set \
                     {permission_set_id}"
                )?;
                match via_group_id {
                    Some(group) => write!(f, " through group {group}"),
                    None => Ok(()),
                }
            }
            Fact::PermissionSetNeedsLicense {
                permission_set_id,
                license_id,
            } => write!(
                f,
                "permission set {permission_set_id} needs license {license_id}"
            ),
            Fact::PermissionSetNeedsNoSeat {
                permission_set_id, ..
            } => {
                write!(
                    f,
                    "permission set {permission_set_id} needs no permission set license"
                )
            }
            Fact::UserLacksPermissionSet {
                user_id,
                permission_set_id,
            } => write!(
                f,
                "user {user_id} does not hold permission set {permission_set_id}"
            ),
            Fact::UserHoldsSeat {
                user_id,
                license_id,
                assignment_id,
            } => write!(
                f,
                "license assignment {assignment_id} exists and gives user {user_id} a seat of \
                 {license_id}"
            ),
            Fact::UserInCallCenter {
                user_id,
                call_center_id,
            } => write!(f, "user {user_id} is in contact center {call_center_id}"),
            Fact::UserHoldsNoneOf {
                user_id,
                permission_set_ids,
            } => write!(
                f,
                "user {user_id} holds none of permission sets {}",
                permission_set_ids.join(", ")
            ),
            Fact::FieldIs {
                object,
                record_id,
                field,
                value,
            } => write!(f, "{object} {record_id} has {field} = {value}"),
            Fact::NoCallSince { user_id, since } => {
                write!(f, "user {user_id} took no call as agent since {since}")
            }
            Fact::NothingElseNeedsLicense {
                user_id,
                license_id,
                other_permission_set_ids,
            } => {
                write!(
                    f,
                    "no other assigned permission set of user {user_id} needs {license_id}"
                )?;
                if !other_permission_set_ids.is_empty() {
                    write!(
                        f,
                        " (other licensed sets: {})",
                        other_permission_set_ids.join(", ")
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// The ordered fix for a set of findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// The org the plan is for: applying it to another org must be refused.
    pub org_id: String,
    /// When the snapshot the facts come from was taken.
    pub snapshot_taken_at: String,
    /// In execution order.
    pub actions: Vec<Action>,
    /// Findings that got no action, and why.
    pub notes: Vec<String>,
    /// SHA-256 (hex) of everything that acts or that the admin reads before saying yes: the org
    /// id and every action (op, sobject, record id, fields, which fix it belongs to, rule, user,
    /// description and facts), in order (see [`file`]). Not the notes nor `snapshot_taken_at`,
    /// so the same org gives the same digest at another time.
    pub digest: String,
}

/// Where an action goes in the plan's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Permission set assignments (and the group steps standing in for them).
    Unassign,
    /// Replacement assignments, once the licensed set is gone.
    Replace,
    /// Seats.
    FreeSeat,
    /// Natterbox license records, last (they touch no Salesforce seat).
    Update,
}

/// Builds the plan for `findings` (actions refer to them by position) over the snapshot `index`
/// was built from (the one the findings came from). Findings that free no seat, or whose rule's
/// fix is turned off, get a note instead of actions.
pub fn build_plan(
    index: &SnapshotIndex<'_>,
    findings: &[Finding],
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let snapshot = index.snapshot();
    let replacement = resolve_replacement(index, options)?;
    let mut staged: Vec<(Phase, Action)> = Vec::new();
    let mut notes = Vec::new();
    // What turning `reclaim` on would cost the agents, said once after their notes.
    let mut idle_reported_only = false;
    let mut deleted: HashSet<&str> = HashSet::new();

    for (position, finding) in findings.iter().enumerate() {
        if finding.rule == natterbox::ID {
            match &finding.field_fix {
                Some(fix) if fix.enabled => {
                    let mut fields = BTreeMap::new();
                    fields.insert(fix.field.clone(), fix.value.to_string());
                    staged.push((
                        Phase::Update,
                        Action {
                            op: Op::Update,
                            sobject: fix.object.clone(),
                            id: Some(fix.record_id.clone()),
                            fields,
                            finding: position,
                            rule: finding.rule.clone(),
                            user_id: finding.user_id.clone(),
                            username: finding.username.clone(),
                            description: format!(
                                "{} the Natterbox {} license of {} ({} {}: {} = {}) ({})",
                                if fix.value { "set" } else { "clear" },
                                fix.license,
                                finding.username,
                                fix.object,
                                fix.record_id,
                                fix.field,
                                fix.value,
                                finding.kind
                            ),
                            facts: fix
                                .expects
                                .iter()
                                .map(|(field, value)| Fact::FieldIs {
                                    object: fix.object.clone(),
                                    record_id: fix.record_id.clone(),
                                    field: field.clone(),
                                    value: *value,
                                })
                                .collect(),
                        },
                    ));
                }
                Some(fix) => notes.push(format!(
                    "finding {position} ({}, {}): a fix is available ({} {}) but off: list `{}` \
                     in [org.natterbox] fix to let apply make it",
                    finding.kind,
                    finding.username,
                    if fix.value { "set" } else { "clear" },
                    fix.license,
                    finding.kind
                )),
                None => notes.push(format!(
                    "finding {position} ({}, {}): no automatic fix; the admin decides (see its \
                     explanation)",
                    finding.kind, finding.username
                )),
            }
            continue;
        }
        let Some(seat_id) = finding.license_assignment_id.as_deref() else {
            notes.push(format!(
                "finding {position} ({}, {}): names no seat, nothing to delete",
                finding.rule, finding.username
            ));
            continue;
        };
        if finding.recoverable_seats == 0 {
            notes.push(format!(
                "finding {position} ({}, {}): the fix would free no seat, so no change is planned",
                finding.rule, finding.username
            ));
            continue;
        }
        if finding.rule == orphan_psl::ID && !options.reclaim_orphan_seats {
            notes.push(format!(
                "finding {position} ({}, {}): orphaned seats are reported only \
                 (`reclaim_orphan_seats` is off in the [{CONFIG_TABLE}] config)",
                finding.rule, finding.username
            ));
            continue;
        }
        if finding.rule == idle_voice_seat::ID && !options.reclaim_idle_seats {
            notes.push(format!(
                "finding {position} ({}, {}): idle Voice seats are reported only (`reclaim` is \
                 off in the [org.idle] config)",
                finding.rule, finding.username,
            ));
            idle_reported_only = true;
            continue;
        }
        if deleted.contains(seat_id) {
            notes.push(format!(
                "finding {position} ({}, {}): seat {seat_id} is already freed by an earlier action",
                finding.rule, finding.username
            ));
            continue;
        }
        let action =
            |op: Op, sobject: &str, id: Option<&str>, description: String, facts: Vec<Fact>| {
                Action {
                    op,
                    sobject: sobject.to_string(),
                    id: id.map(str::to_string),
                    fields: BTreeMap::new(),
                    finding: position,
                    rule: finding.rule.clone(),
                    user_id: finding.user_id.clone(),
                    username: finding.username.clone(),
                    description,
                    facts,
                }
            };
        let why = context_facts(finding, seat_id);

        // 1. Take away what needs the seat.
        let mut through_group = Vec::new();
        for held in &finding.unassign_first {
            let mut facts = vec![
                Fact::UserHoldsPermissionSet {
                    user_id: finding.user_id.clone(),
                    permission_set_id: held.permission_set_id.clone(),
                    assignment_id: held.assignment_id.clone(),
                    via_group_id: held.via_group.as_ref().map(|g| g.id.clone()),
                },
                Fact::PermissionSetNeedsLicense {
                    permission_set_id: held.permission_set_id.clone(),
                    license_id: finding.psl_id.clone(),
                },
            ];
            facts.extend(why.iter().cloned());
            let step = match &held.via_group {
                None => action(
                    Op::Delete,
                    PERMISSION_SET_ASSIGNMENT,
                    Some(&held.assignment_id),
                    format!(
                        "unassign permission set {} from {} (assignment {})",
                        held.permission_set, finding.username, held.assignment_id
                    ),
                    facts,
                ),
                Some(group) => {
                    through_group.push(group.name.clone());
                    action(
                        Op::Manual,
                        PERMISSION_SET_ASSIGNMENT,
                        Some(&held.assignment_id),
                        format!(
                            "{} holds permission set {} only through permission set group {} \
                             (assignment {}). pslwarden does not change groups, since that \
                             changes every member's access: remove {} from the group and assign \
                             the group's other permission sets directly, or take {} out of the \
                             group if none of its members needs it",
                            finding.username,
                            held.permission_set,
                            group.name,
                            held.assignment_id,
                            finding.username,
                            held.permission_set
                        ),
                        facts,
                    )
                }
            };
            staged.push((Phase::Unassign, step));
        }

        // 2. Give back the access, license-free.
        if let Some(set) = replacement.filter(|_| finding.rule == scv_double_consumption::ID) {
            let already = index
                .holdings(&finding.user_id)
                .iter()
                .any(|h| h.permission_set_id == set.id);
            if already {
                notes.push(format!(
                    "finding {position} ({}, {}): already holds the replacement permission set {}",
                    finding.rule,
                    finding.username,
                    set.qualified_name()
                ));
            } else {
                let mut step = action(
                    Op::Create,
                    PERMISSION_SET_ASSIGNMENT,
                    None,
                    format!(
                        "assign the license-free permission set {} to {}",
                        set.qualified_name(),
                        finding.username
                    ),
                    vec![
                        Fact::PermissionSetNeedsNoSeat {
                            permission_set_id: set.id.clone(),
                            license_id: set.license_id.clone(),
                        },
                        Fact::UserLacksPermissionSet {
                            user_id: finding.user_id.clone(),
                            permission_set_id: set.id.clone(),
                        },
                    ],
                );
                step.fields = BTreeMap::from([
                    ("AssigneeId".to_string(), finding.user_id.clone()),
                    ("PermissionSetId".to_string(), set.id.clone()),
                ]);
                staged.push((Phase::Replace, step));
            }
        }

        // 3. Free the seat, if nothing left needs it.
        let removed: HashSet<(&str, &str)> = finding
            .unassign_first
            .iter()
            .map(|h| (h.assignment_id.as_str(), h.permission_set_id.as_str()))
            .collect();
        let remaining: Vec<_> = index
            .holdings(&finding.user_id)
            .into_iter()
            .filter(|h| !removed.contains(&(h.assignment.id.as_str(), h.permission_set_id)))
            .filter(|h| h.license_id().is_some())
            .collect();
        let still_needing: Vec<String> = remaining
            .iter()
            .filter(|h| h.license_id() == Some(finding.psl_id.as_str()))
            .map(|h| h.name())
            .collect();
        if !still_needing.is_empty() {
            notes.push(format!(
                "finding {position} ({}, {}): seat {seat_id} stays, {} still need(s) {}",
                finding.rule,
                finding.username,
                still_needing.join(", "),
                finding.psl
            ));
            continue;
        }
        let mut other_ids: Vec<String> = remaining
            .iter()
            .map(|h| h.permission_set_id.to_string())
            .collect();
        other_ids.sort();
        other_ids.dedup();
        let facts = vec![
            Fact::UserHoldsSeat {
                user_id: finding.user_id.clone(),
                license_id: finding.psl_id.clone(),
                assignment_id: seat_id.to_string(),
            },
            Fact::NothingElseNeedsLicense {
                user_id: finding.user_id.clone(),
                license_id: finding.psl_id.clone(),
                other_permission_set_ids: other_ids,
            },
        ];
        let step = if through_group.is_empty() {
            deleted.insert(seat_id);
            action(
                Op::Delete,
                LICENSE_ASSIGNMENT,
                Some(seat_id),
                format!(
                    "delete the {} seat of {} (license assignment {seat_id}){}",
                    finding.psl,
                    finding.username,
                    if finding.rule == idle_voice_seat::ID {
                        "; an idle agent: they can no longer take calls in the contact center \
                         (rollback restores the seat and the sets)"
                    } else {
                        ""
                    }
                ),
                facts,
            )
        } else {
            action(
                Op::Manual,
                LICENSE_ASSIGNMENT,
                Some(seat_id),
                format!(
                    "after the group change above, delete the {} seat of {} (license assignment \
                     {seat_id}): Salesforce does not free a seat when a set is removed through a \
                     group ({}), and refuses to while the group still gives a set that needs it",
                    finding.psl,
                    finding.username,
                    through_group.join(", ")
                ),
                facts,
            )
        };
        staged.push((Phase::FreeSeat, step));
    }

    if idle_reported_only {
        notes.push(format!(
            "idle Voice seats: turning `reclaim` on lets apply take each seat back: {}",
            idle_voice_seat::WHAT_THE_AGENT_LOSES
        ));
    }
    // Stable: within a phase, actions keep the findings' order.
    staged.sort_by_key(|(phase, _)| *phase);
    let actions: Vec<Action> = staged.into_iter().map(|(_, action)| action).collect();
    Ok(Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        org_id: snapshot.org_id.clone(),
        snapshot_taken_at: snapshot.taken_at.clone(),
        digest: Plan::digest_of(&snapshot.org_id, &actions),
        actions,
        notes,
    })
}

/// The replacement set, checked: in the org, one of it, and needing no permission set license.
fn resolve_replacement<'a>(
    index: &SnapshotIndex<'a>,
    options: &PlanOptions,
) -> Result<Option<&'a PermissionSet>, PlanError> {
    let Some(name) = &options.replacement_permission_set else {
        return Ok(None);
    };
    let named = index.permission_sets_named(name);
    let set = match named.as_slice() {
        [] => return Err(PlanError::UnknownReplacement { name: name.clone() }),
        [set] => *set,
        _ => {
            return Err(PlanError::AmbiguousReplacement {
                name: name.clone(),
                count: named.len(),
            });
        }
    };
    if let Some(license_id) = &set.license_id {
        // Permission set license ids start with 0PL; a user-license link (100...) takes no seat.
        let license = index.license(license_id);
        if license.is_some() || license_id.starts_with("0PL") {
            return Err(PlanError::ReplacementNeedsLicense {
                name: name.clone(),
                license: license.map_or_else(|| license_id.clone(), |l| l.developer_name.clone()),
            });
        }
    }
    Ok(Some(set))
}

/// The facts a finding rests on besides the sets to remove and the seat itself: what the first
/// actions of its fix rely on.
fn context_facts(finding: &Finding, seat_id: &str) -> Vec<Fact> {
    let removed: HashSet<&str> = finding
        .unassign_first
        .iter()
        .map(|h| h.assignment_id.as_str())
        .collect();
    finding
        .evidence
        .iter()
        .filter_map(|evidence| match evidence {
            Evidence::HoldsPermissionSet(held)
                if !removed.contains(held.assignment_id.as_str()) =>
            {
                Some(Fact::UserHoldsPermissionSet {
                    user_id: finding.user_id.clone(),
                    permission_set_id: held.permission_set_id.clone(),
                    assignment_id: held.assignment_id.clone(),
                    via_group_id: held.via_group.as_ref().map(|g| g.id.clone()),
                })
            }
            Evidence::HoldsLicense(seat) if seat.assignment_id != seat_id => {
                Some(Fact::UserHoldsSeat {
                    user_id: finding.user_id.clone(),
                    license_id: seat.license_id.clone(),
                    assignment_id: seat.assignment_id.clone(),
                })
            }
            Evidence::InCallCenter(center) => Some(Fact::UserInCallCenter {
                user_id: finding.user_id.clone(),
                call_center_id: center.id.clone(),
            }),
            Evidence::HoldsNoneOf { permission_sets } => Some(Fact::UserHoldsNoneOf {
                user_id: finding.user_id.clone(),
                permission_set_ids: permission_sets.iter().map(|s| s.id.clone()).collect(),
            }),
            // An idle seat is taken back only while the agent still takes no call: a call since
            // the period's start (that is, since the scan) cancels the fix at apply. A
            // deactivated user's seat does not rest on their calls.
            Evidence::NoCallSince { since, .. } if finding.user_active => Some(Fact::NoCallSince {
                user_id: finding.user_id.clone(),
                since: since.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The license of the seat `action` deletes (its `user_holds_seat` fact's `license_id`), when
/// it deletes a seat: what money is counted on (a plan names licenses by id only).
pub fn seat_license(action: &Action) -> Option<&str> {
    if action.op != Op::Delete || action.sobject != LICENSE_ASSIGNMENT {
        return None;
    }
    action.facts.iter().find_map(|fact| match fact {
        Fact::UserHoldsSeat {
            license_id,
            assignment_id,
            ..
        } if action.id.as_deref() == Some(assignment_id.as_str()) => Some(license_id.as_str()),
        _ => None,
    })
}

/// Seats the plan's own deletes would free, by license id: the plan's worth, priced by the
/// caller (`apply`'s confirmation, `approve`), when every action succeeds.
pub fn seats_by_license<'a>(
    actions: impl IntoIterator<Item = &'a Action>,
) -> BTreeMap<String, u32> {
    let mut seats = BTreeMap::new();
    for license in actions.into_iter().filter_map(seat_license) {
        *seats.entry(license.to_string()).or_insert(0u32) += 1;
    }
    seats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::{self, *};
    use crate::rules::{RuleContext, all_findings, builtin_rules, evaluate_all};
    use crate::snapshot::model::OrgSnapshot;

    fn plan_for(snapshot: &OrgSnapshot, options: &PlanOptions) -> Result<Plan, PlanError> {
        let index = SnapshotIndex::new(snapshot);
        let outcomes =
            evaluate_all(&index, &RuleContext::default(), &builtin_rules()).expect("evaluates");
        build_plan(&index, &all_findings(&outcomes), options)
    }

    fn steps(plan: &Plan) -> Vec<(Op, &str, Option<&str>)> {
        plan.actions
            .iter()
            .map(|a| (a.op, a.sobject.as_str(), a.id.as_deref()))
            .collect()
    }

    #[test]
    fn the_seed_plan_unassigns_the_voice_set_then_frees_the_seat() {
        let plan = plan_for(&testkit::seed(), &PlanOptions::default()).expect("plan");
        assert_eq!(
            steps(&plan),
            [
                (
                    Op::Delete,
                    PERMISSION_SET_ASSIGNMENT,
                    Some(USER2_VOICE_ASSIGNMENT)
                ),
                (Op::Delete, LICENSE_ASSIGNMENT, Some(USER2_SCV_SEAT)),
            ]
        );
        assert!(
            plan.actions
                .iter()
                .all(|a| a.user_id == USER2 && a.finding == 0)
        );
        let facts: Vec<String> = plan.actions[0].facts.iter().map(Fact::to_string).collect();
        assert!(
            facts
                .iter()
                .any(|f| f.contains(&format!("is in contact center {AMAZON_CC}"))),
            "{facts:?}"
        );
        assert!(
            plan.actions[1]
                .facts
                .iter()
                .any(|f| matches!(f, Fact::NothingElseNeedsLicense { .. })),
            "{:?}",
            plan.actions[1].facts
        );
        assert!(plan.digest_matches());
    }

    #[test]
    fn a_voice_set_through_a_group_gives_manual_steps() {
        let mut snapshot = testkit::seed();
        testkit::move_voice_into_group(&mut snapshot, USER2);
        let plan = plan_for(&snapshot, &PlanOptions::default()).expect("plan");
        assert_eq!(
            steps(&plan),
            [
                (
                    Op::Manual,
                    PERMISSION_SET_ASSIGNMENT,
                    Some(GROUP_ASSIGNMENT)
                ),
                (Op::Manual, LICENSE_ASSIGNMENT, Some(USER2_SCV_SEAT)),
            ]
        );
        assert!(plan.actions[0].description.contains("VoiceAgents"));
    }

    #[test]
    fn all_assignment_deletes_come_before_seat_deletes() {
        let mut snapshot = testkit::seed();
        // A second affected user, like User-2.
        snapshot.users.push(testkit::user(
            "005000000000006AAA",
            "user5@seed-example.org",
            true,
            Some(AMAZON_CC),
        ));
        snapshot.permission_set_assignments.extend([
            testkit::assignment("0Pa000000000060CAA", "005000000000006AAA", PARTNER_AGENT),
            testkit::assignment("0Pa000000000061CAA", "005000000000006AAA", VOICE_PS),
        ]);
        snapshot.license_assignments.extend([
            testkit::seat("2LA000000000060GAA", "005000000000006AAA", PARTNER_PSL),
            testkit::seat("2LA000000000061GAA", "005000000000006AAA", SCV_PSL),
        ]);
        let plan = plan_for(&snapshot, &PlanOptions::default()).expect("plan");
        let sobjects: Vec<&str> = plan.actions.iter().map(|a| a.sobject.as_str()).collect();
        assert_eq!(
            sobjects,
            [
                PERMISSION_SET_ASSIGNMENT,
                PERMISSION_SET_ASSIGNMENT,
                LICENSE_ASSIGNMENT,
                LICENSE_ASSIGNMENT
            ]
        );
    }

    #[test]
    fn a_configured_replacement_is_created_between_the_deletes() {
        let mut snapshot = testkit::seed();
        snapshot.permission_sets.push(testkit::permission_set(
            "0PS000000000020GAA",
            "AmazonConnectSso",
            None,
        ));
        let options = PlanOptions {
            replacement_permission_set: Some("AmazonConnectSso".into()),
            ..PlanOptions::default()
        };
        let plan = plan_for(&snapshot, &options).expect("plan");
        let ops: Vec<Op> = plan.actions.iter().map(|a| a.op).collect();
        assert_eq!(ops, [Op::Delete, Op::Create, Op::Delete]);
        assert_eq!(
            plan.actions[1].fields,
            BTreeMap::from([
                ("AssigneeId".to_string(), USER2.to_string()),
                (
                    "PermissionSetId".to_string(),
                    "0PS000000000020GAA".to_string()
                ),
            ])
        );
    }

    #[test]
    fn a_replacement_the_org_lacks_is_a_clear_error() {
        let options = PlanOptions {
            replacement_permission_set: Some("AmazonConnectSso".into()),
            ..PlanOptions::default()
        };
        let error = plan_for(&testkit::seed(), &options).expect_err("unknown replacement");
        assert_eq!(
            error,
            PlanError::UnknownReplacement {
                name: "AmazonConnectSso".into()
            }
        );
        assert!(error.to_string().contains("`AmazonConnectSso`"), "{error}");
    }

    #[test]
    fn a_licensed_replacement_is_refused() {
        let options = PlanOptions {
            replacement_permission_set: Some("ContactCenterAgent".into()),
            ..PlanOptions::default()
        };
        let error = plan_for(&testkit::seed(), &options).expect_err("licensed replacement");
        assert!(
            matches!(error, PlanError::ReplacementNeedsLicense { .. }),
            "{error}"
        );
    }

    #[test]
    fn the_digest_is_stable_for_the_same_facts() {
        let first = plan_for(&testkit::seed(), &PlanOptions::default()).expect("plan");
        let mut later = testkit::seed();
        later.taken_at = "2026-02-01T02:00:00Z".into();
        let second = plan_for(&later, &PlanOptions::default()).expect("plan");
        assert_eq!(first.digest, second.digest);
        assert_eq!(first.digest.len(), 64);
    }

    #[test]
    fn the_digest_changes_when_a_fact_changes() {
        let first = plan_for(&testkit::seed(), &PlanOptions::default()).expect("plan");
        let mut moved = testkit::seed();
        moved
            .users
            .iter_mut()
            .filter(|u| u.id == USER2)
            .for_each(|u| u.call_center_id = Some("04v000000000002AAA".into()));
        let second = plan_for(&moved, &PlanOptions::default()).expect("plan");
        assert_eq!(steps(&first), steps(&second));
        assert_ne!(first.digest, second.digest);
    }

    #[test]
    fn a_saved_plan_reads_back_and_an_edited_one_is_refused() {
        let plan = plan_for(&testkit::seed(), &PlanOptions::default()).expect("plan");
        let text = plan.to_json_pretty();
        assert_eq!(Plan::from_json(&text).expect("reads back"), plan);
        let edited = text.replace(USER2_SCV_SEAT, "2LA000000000099GAA");
        let error = Plan::from_json(&edited).expect_err("edited");
        assert!(
            matches!(&error, PlanFileError::Edited { differences }
                if differences.iter().any(|d| d.contains("action 2"))),
            "{error}"
        );
        assert!(
            error.to_string().contains("the plan file was edited"),
            "{error}"
        );
        assert!(matches!(
            Plan::from_json(&text[..40]),
            Err(PlanFileError::Malformed(_))
        ));
    }

    #[test]
    fn a_re_targeted_action_is_refused_even_with_a_recomputed_digest() {
        let mut plan = plan_for(&testkit::seed(), &PlanOptions::default()).expect("plan");
        // Whoever edits the file can recompute the digest; the facts still betray the edit.
        plan.actions[0].id = Some("0Pa000000000099CAA".into());
        plan.digest = Plan::digest_of(&plan.org_id, &plan.actions);
        let error = Plan::from_json(&plan.to_json_pretty()).expect_err("re-targeted");
        assert!(
            matches!(error, PlanFileError::Mistargeted { .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("0Pa000000000099CAA")
                && error.to_string().contains(USER2_VOICE_ASSIGNMENT),
            "{error}"
        );
    }

    #[test]
    fn a_reordered_plan_says_which_action_moved() {
        let plan = plan_for(&testkit::seed(), &PlanOptions::default()).expect("plan");
        let mut value: serde_json::Value =
            serde_json::from_str(&plan.to_json_pretty()).expect("json");
        value["actions"].as_array_mut().expect("actions").swap(0, 1);
        let error = Plan::from_json(&value.to_string()).expect_err("reordered");
        assert!(
            error.to_string().contains("was action 2 in the order"),
            "{error}"
        );
    }

    #[test]
    fn orphan_seats_are_freed_only_when_turned_on() {
        let mut snapshot = testkit::seed();
        snapshot
            .license_assignments
            .push(testkit::seat("2LA000000000010GAA", USER3, CONSOLE_PSL));
        let on = PlanOptions {
            reclaim_orphan_seats: true,
            ..PlanOptions::default()
        };
        let plan = plan_for(&snapshot, &on).expect("plan");
        assert_eq!(
            steps(&plan).last(),
            Some(&(Op::Delete, LICENSE_ASSIGNMENT, Some("2LA000000000010GAA")))
        );
        let plan = plan_for(&snapshot, &PlanOptions::default()).expect("plan");
        assert_eq!(plan.actions.len(), 2);
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("reclaim_orphan_seats")),
            "{:?}",
            plan.notes
        );
    }
}
