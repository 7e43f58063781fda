//! The rules: pure functions from an [`OrgSnapshot`] to findings (seats consumed for nothing).
//!
//! Owns: the rule interface ([`Rule`], [`RuleOutcome`], [`Finding`], [`Evidence`]), the rule
//! settings ([`RuleContext`]), the snapshot lookups every rule shares ([`SnapshotIndex`]), the
//! Voice detection helpers ([`find_voice_permission_set`], [`classify_call_center`]) and the
//! built-in rules, one module each.
//!
//! Must not: do I/O, read the clock, or assume the snapshot holds every record of the org (see
//! the contract on [`OrgSnapshot`]): a rule concludes only from what that contract guarantees.
//!
//! A new rule (for instance a Natterbox license-policy pack read from a TOML file) is one module
//! with a type that implements [`Rule`] and carries its own data (parsed by the caller), added to
//! the list the caller evaluates; nothing here changes. Its findings reuse [`Finding`] with its
//! own `rule` and `kind` strings, so reports, the ledger and the plan handle them unchanged.
//!
//! [`OrgSnapshot`]: crate::snapshot::model::OrgSnapshot

mod context;
mod detect;
pub mod idle_voice_seat;
mod index;
pub mod natterbox;
pub mod orphan_psl;
pub mod scv_double_consumption;
#[cfg(test)]
pub(crate) mod testkit;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use context::{
    CONFIG_TABLE, DEFAULT_AMAZON_PERMISSION_SETS, DEFAULT_IDLE_AFTER_DAYS,
    DEFAULT_PARTNER_PERMISSION_SETS, DEFAULT_PARTNER_PSL, DEFAULT_VOICE_PSL, IdleSettings,
    RuleContext,
};
pub use detect::{VoicePermissionSet, classify_call_center, find_voice_permission_set};
pub use idle_voice_seat::IdleVoiceSeat;
pub use index::{Holding, SnapshotIndex};
pub use orphan_psl::OrphanPsl;
pub use scv_double_consumption::ScvDoubleConsumption;

/// One rule: a pure function of the snapshot and the rule settings.
pub trait Rule: Send + Sync {
    /// Stable identifier (`scv-double-consumption`), used in findings, reports and config.
    fn id(&self) -> &'static str;

    /// One sentence saying what the rule looks for, for reports.
    fn description(&self) -> &'static str;

    /// Whether a seat an earlier rule in the list already reports is left out of this rule's
    /// findings (one finding per seat: the more specific rule, earlier in the list, wins).
    fn defers_to_earlier_rules(&self) -> bool {
        false
    }

    /// Judges the snapshot. An `Err` is a problem the admin must fix before the rule can say
    /// anything (a config naming something the org does not have); everything else, including
    /// "this org is not affected", is an [`RuleOutcome`].
    fn evaluate(
        &self,
        index: &SnapshotIndex<'_>,
        ctx: &RuleContext,
    ) -> Result<RuleOutcome, RuleError>;
}

/// The built-in rules, in report order.
pub fn builtin_rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(ScvDoubleConsumption), Box::new(OrphanPsl)]
}

/// The rules `ctx` turns on beyond the built-in ones, after them: `idle-voice-seat` when
/// `[org.idle]` is configured.
pub fn configured_rules(ctx: &RuleContext) -> Vec<Box<dyn Rule>> {
    let mut rules = builtin_rules();
    if ctx.idle.is_some() {
        rules.push(Box::new(IdleVoiceSeat));
    }
    rules
}

/// Evaluates `rules` in order over `index` (build it once per snapshot: the plan reuses it);
/// stops at the first rule error. A rule that [defers](Rule::defers_to_earlier_rules) loses the
/// findings whose seat an earlier rule reports, with a note saying how many.
pub fn evaluate_all(
    index: &SnapshotIndex<'_>,
    ctx: &RuleContext,
    rules: &[Box<dyn Rule>],
) -> Result<Vec<RuleOutcome>, RuleError> {
    let mut outcomes: Vec<RuleOutcome> = Vec::with_capacity(rules.len());
    for rule in rules {
        let mut outcome = rule.evaluate(index, ctx)?;
        if rule.defers_to_earlier_rules() {
            let earlier: std::collections::HashMap<&str, &str> = outcomes
                .iter()
                .flat_map(|o| o.findings.iter())
                .filter_map(|f| {
                    f.license_assignment_id
                        .as_deref()
                        .map(|seat| (seat, f.rule.as_str()))
                })
                .collect();
            let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
            outcome.findings.retain(|f| {
                match f
                    .license_assignment_id
                    .as_deref()
                    .and_then(|seat| earlier.get(seat))
                {
                    Some(rule) => {
                        *by_rule.entry(rule).or_default() += 1;
                        false
                    }
                    None => true,
                }
            });
            for (rule, n) in by_rule {
                outcome.notes.push(format!(
                    "{n} seat(s) left out: already reported by {rule}, whose fix covers them"
                ));
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Every finding of `outcomes`, in order: the list the ledger and the plan take (plan actions
/// refer to findings by their position in it).
pub fn all_findings(outcomes: &[RuleOutcome]) -> Vec<Finding> {
    outcomes
        .iter()
        .flat_map(|outcome| outcome.findings.iter().cloned())
        .collect()
}

/// A rule cannot judge the org until the admin fixes something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A permission set named in the config is not in the org.
    #[error(
        "`{setting}` in the [{table}] config names permission set `{name}`, which does not exist \
         in the org: use the set's API name (Setup > Permission Sets > API Name, with the \
         namespace as `prefix__Name` for a managed package), or remove the setting to use the \
         default"
    )]
    UnknownPermissionSet {
        table: &'static str,
        setting: &'static str,
        name: String,
    },
    /// A permission set license named in the config (or its default) is not in the org.
    #[error(
        "the org has no permission set license with DeveloperName `{name}` (`{setting}` in the \
         [{table}] config): Service Cloud Voice is not set up in this org, so there is nothing to \
         check; or the license has another DeveloperName there (Setup > Company Information > \
         Permission Set Licenses), which `{setting}` must then name"
    )]
    UnknownLicense {
        table: &'static str,
        setting: &'static str,
        name: String,
    },
}

/// Whether the org is exposed to what the rule looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// The rule could judge the org; its findings (maybe none) are complete.
    Applies,
    /// The org cannot have the problem ("not affected"); the notes say why.
    NotApplicable,
    /// The rule could not decide; the notes say what to configure.
    Undetermined,
}

/// What one rule concluded about the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// [`Rule::id`] of the rule that produced this outcome.
    pub rule: String,
    /// For `org.affected` in the report: only `Applies` means the org is exposed.
    pub status: RuleStatus,
    /// The seats consumed for nothing, sorted so that two runs over one snapshot match.
    pub findings: Vec<Finding>,
    /// Plain sentences for the admin: why the org is not affected, what was detected, what
    /// was skipped and why.
    pub notes: Vec<String>,
}

impl RuleOutcome {
    /// An outcome with no findings and no notes yet.
    pub fn new(rule: &str, status: RuleStatus) -> Self {
        RuleOutcome {
            rule: rule.to_string(),
            status,
            findings: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// How much a finding matters to the admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A seat of a deactivated user: real money, but nobody is blocked.
    Low,
    /// A seat paid for nothing.
    Medium,
    /// A seat paid for nothing that blocks giving the license to someone who needs it.
    High,
}

impl Severity {
    /// `severity` for a finding about a user who is `active` or not: a deactivated user's
    /// finding is [`Severity::Low`] whatever the rule says, since nobody is blocked by it (the
    /// seat still costs money, so it stays reported).
    pub fn for_user(severity: Severity, active: bool) -> Severity {
        if active { severity } else { Severity::Low }
    }
}

/// One seat consumed for nothing, by one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// [`Rule::id`] of the rule that found it.
    pub rule: String,
    /// Finer than `rule` where a rule reports cases apart (e.g. `orphan-psl` keeps deactivated
    /// users' seats apart from active users').
    pub kind: String,
    /// For sorting and highlighting in reports.
    pub severity: Severity,
    /// The user consuming the seat (`User.Id`).
    pub user_id: String,
    /// `User.Username`, what the admin searches for in Setup.
    pub username: String,
    /// `User.IsActive`: deactivated users are reported apart.
    pub user_active: bool,
    /// `DeveloperName` of the license whose seat is consumed.
    pub psl: String,
    /// Id of that license, for the ledger and the plan.
    pub psl_id: String,
    /// The seat (`PermissionSetLicenseAssign.Id`) that would be freed, when there is one.
    pub license_assignment_id: Option<String>,
    /// What the user must lose before the seat can go: Salesforce refuses to remove a license
    /// while an assigned set needs it, and wants those sets removed first.
    pub unassign_first: Vec<HeldPermissionSet>,
    /// Seats the fix frees: 0 when something else the user holds still needs the seat.
    pub recoverable_seats: u32,
    /// One sentence for the admin.
    pub summary: String,
    /// The records the conclusion rests on.
    pub evidence: Vec<Evidence>,
    /// For a Natterbox finding whose rule has a fix: the record change that repairs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_fix: Option<natterbox::FieldFix>,
}

/// A permission set a user holds, and through which assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPermissionSet {
    /// The `PermissionSetAssignment` that gives it: the set's own, or the group's.
    pub assignment_id: String,
    /// The set.
    pub permission_set_id: String,
    /// Its API name (`prefix__Name` when namespaced), or its id when the snapshot lacks it.
    pub permission_set: String,
    /// `DeveloperName` of the license the set needs, if that license is in the snapshot.
    pub license: Option<String>,
    /// Set when the user holds the set only as a member of this group: removing it is then a
    /// change to the group or to the user's group assignment, not a single unassignment.
    pub via_group: Option<GroupRef>,
}

/// A permission set group, named for reports and manual steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// `PermissionSetGroup.Id`.
    pub id: String,
    /// Its `DeveloperName`, or its id when the snapshot lacks the group.
    pub name: String,
}

/// A permission set, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSetRef {
    /// `PermissionSet.Id`.
    pub id: String,
    /// Its API name (`prefix__Name` when namespaced).
    pub name: String,
}

/// A seat a user holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLicense {
    /// `PermissionSetLicenseAssign.Id`.
    pub assignment_id: String,
    /// The license.
    pub license_id: String,
    /// Its `DeveloperName`.
    pub license: String,
}

/// Which contact center a user is in, and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCenterRef {
    /// `CallCenter.Id`.
    pub id: String,
    /// `CallCenter.Name`, or the id when the snapshot lacks the center.
    pub name: String,
    /// Amazon Connect or partner telephony, as classified (config overrides first).
    pub kind: CallCenterKind,
}

/// The kind of a contact center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallCenterKind {
    /// Salesforce Voice with Amazon Connect: its users get the Voice permission set.
    Amazon,
    /// Partner telephony (a ConversationVendorInfo names the vendor).
    Partner,
    /// Neither could be told from its settings; config can name it.
    Unknown,
}

impl fmt::Display for CallCenterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallCenterKind::Amazon => "Amazon Connect",
            CallCenterKind::Partner => "partner telephony",
            CallCenterKind::Unknown => "unknown kind",
        })
    }
}

/// A call, named for evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRef {
    /// `CallStartDateTime` (RFC 3339).
    pub at: String,
    /// `CallType`, when the org has the field.
    pub call_type: Option<String>,
}

/// One record a finding rests on. Each renders as a sentence (`Display`) for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// The user holds this permission set.
    HoldsPermissionSet(HeldPermissionSet),
    /// The user holds a seat of this license.
    HoldsLicense(HeldLicense),
    /// The user is in this contact center.
    InCallCenter(CallCenterRef),
    /// The user holds none of these permission sets (directly or through a group).
    HoldsNoneOf {
        /// The sets looked for; those missing from the org are not listed.
        permission_sets: Vec<PermissionSetRef>,
    },
    /// None of the licensed permission sets the user holds needs this license.
    NothingNeedsLicense {
        /// `DeveloperName` of the license.
        license: String,
        /// The licensed sets the user does hold (none of which needs it).
        held: Vec<PermissionSetRef>,
    },
    /// The user was the agent (`VoiceCall.UserId`) on no call since `since`; `last_call` is
    /// their latest before it (`None`: none on record).
    NoCallSince {
        /// The period's start (RFC 3339).
        since: String,
        last_call: Option<CallRef>,
    },
    /// The user's latest call as agent (in the period: a deactivated user who still called).
    LastCall(CallRef),
    /// The user's last login (`User.LastLoginDate`; `None`: never logged in).
    LastLogin { at: Option<String> },
    /// The user's Natterbox license record and the licenses it holds (the pack's names).
    NatterboxLicenses {
        /// The record (`nbavs__User__c`) and its object.
        record_id: String,
        object: String,
        /// The pack's keys of the licenses it holds.
        held: Vec<String>,
    },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::HoldsPermissionSet(held) => {
                write!(f, "holds permission set {}", held.permission_set)?;
                if let Some(license) = &held.license {
                    write!(f, " (needs {license})")?;
                }
                match &held.via_group {
                    Some(group) => write!(
                        f,
                        " through permission set group {} (assignment {})",
                        group.name, held.assignment_id
                    ),
                    None => write!(f, " (assignment {})", held.assignment_id),
                }
            }
            Evidence::HoldsLicense(seat) => {
                write!(
                    f,
                    "holds a {} seat (assignment {})",
                    seat.license, seat.assignment_id
                )
            }
            Evidence::InCallCenter(center) => {
                write!(f, "is in contact center {} ({})", center.name, center.kind)
            }
            Evidence::NoCallSince { since, last_call } => {
                write!(f, "took no call as agent since {}", date_part(since))?;
                match last_call {
                    Some(call) => {
                        write!(f, " (last call {}", date_part(&call.at))?;
                        if let Some(kind) = &call.call_type {
                            write!(f, ", {kind}")?;
                        }
                        f.write_str(")")
                    }
                    None => f.write_str(" (no call as agent on record)"),
                }
            }
            Evidence::LastCall(call) => {
                write!(f, "last call as agent {}", date_part(&call.at))?;
                match &call.call_type {
                    Some(kind) => write!(f, " ({kind})"),
                    None => Ok(()),
                }
            }
            Evidence::LastLogin { at } => match at {
                Some(at) => write!(f, "last logged in {}", date_part(at)),
                None => f.write_str("has never logged in"),
            },
            Evidence::HoldsNoneOf { permission_sets } => {
                write!(f, "holds none of {}", join_names(permission_sets))
            }
            Evidence::NatterboxLicenses {
                record_id,
                object,
                held,
            } => {
                if held.is_empty() {
                    write!(f, "holds no Natterbox license ({object} {record_id})")
                } else {
                    write!(
                        f,
                        "holds Natterbox {} ({object} {record_id})",
                        held.join(", ")
                    )
                }
            }
            Evidence::NothingNeedsLicense { license, held } => {
                if held.is_empty() {
                    write!(f, "holds no permission set that needs {license}")
                } else {
                    write!(
                        f,
                        "holds {}, none of which needs {license}",
                        join_names(held)
                    )
                }
            }
        }
    }
}

/// The `YYYY-MM-DD` of an RFC 3339 instant (the whole text when shorter).
fn date_part(text: &str) -> &str {
    text.get(..10).unwrap_or(text)
}

fn join_names(sets: &[PermissionSetRef]) -> String {
    if sets.is_empty() {
        return "(none in the org)".to_string();
    }
    sets.iter()
        .map(|set| set.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit;

    #[test]
    fn the_seed_org_yields_the_double_consumption_and_nothing_else() {
        let snapshot = testkit::seed();
        let index = SnapshotIndex::new(&snapshot);
        let outcomes =
            evaluate_all(&index, &RuleContext::default(), &builtin_rules()).expect("evaluates");
        let found: Vec<(&str, &str)> = outcomes
            .iter()
            .flat_map(|o| o.findings.iter())
            .map(|f| (f.rule.as_str(), f.username.as_str()))
            .collect();
        assert_eq!(
            found,
            [("scv-double-consumption", "user2@seed-example.org")]
        );
        assert_eq!(all_findings(&outcomes).len(), 1);
    }

    #[test]
    fn evidence_reads_as_a_sentence_naming_the_group() {
        let evidence = Evidence::HoldsPermissionSet(HeldPermissionSet {
            assignment_id: "0Pa000000000001AAA".into(),
            permission_set_id: "0PS000000000007GAA".into(),
            permission_set: "SalesforceVoicePermissionSet".into(),
            license: Some("ServiceCloudVoicePsl".into()),
            via_group: Some(GroupRef {
                id: "0PG000000000001AAA".into(),
                name: "VoiceAgents".into(),
            }),
        });
        assert_eq!(
            evidence.to_string(),
            "holds permission set SalesforceVoicePermissionSet (needs ServiceCloudVoicePsl) \
             through permission set group VoiceAgents (assignment 0Pa000000000001AAA)"
        );
    }
}
