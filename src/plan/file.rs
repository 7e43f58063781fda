//! The plan's digest and the plan file (`scan --plan-out FILE`, `apply --plan FILE`).
//!
//! Owns: [`Plan::digest_of`] (SHA-256 over everything in a plan that acts or that the admin
//! reads before saying yes), the file format with its per-part checks, and reading a file back:
//! another schema version, an edited file (saying what was changed), or an action whose facts
//! are about another record than the one it touches is refused.
//!
//! Must not: read the file system or the org (the caller reads the text; whether the facts still
//! hold is `apply::verify`'s job), or accept anything it cannot check: a file is used whole or
//! not at all.
//!
//! The digest is not a signature: whoever edits the file can recompute it. It makes a hand edit,
//! a truncation or a mix-up of two files evident, which is what an admin needs before `apply`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::target::{self, Target};
use super::{Action, Fact, Op, PLAN_SCHEMA_VERSION, Plan};
use crate::snapshot::model::list;

/// A saved plan could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON, truncated, or a field missing, unknown or of the wrong type.
    #[error(
        "the plan file is not a valid pslwarden plan ({0}); it may be truncated or edited: run \
         `scan` again with --plan-out"
    )]
    Malformed(#[source] serde_json::Error),
    /// Written by another version of pslwarden.
    #[error(
        "the plan file has schema version {found}, this pslwarden reads version {supported}: run \
         `scan` again with --plan-out"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    /// The content no longer matches the digest `scan` wrote.
    #[error(
        "the plan file was edited after `scan` wrote it: {}. A plan is applied only as `scan` \
         wrote it: run `scan` again with --plan-out rather than editing a plan",
        list(.differences)
    )]
    Edited { differences: Vec<String> },
    /// An action touches another record than the one its facts are about.
    #[error(
        "the plan file's steps do not match their own facts: {}. Run `scan` again with \
         --plan-out",
        list(.problems)
    )]
    Mistargeted { problems: Vec<String> },
}

/// What of one action the digest covers. `finding` is not here: which actions form one fix is
/// covered apart (see [`fixes`]), since a fresh plan of the same org numbers findings otherwise.
#[derive(Serialize)]
struct Covered<'a> {
    op: Op,
    sobject: &'a str,
    id: Option<&'a str>,
    fields: &'a BTreeMap<String, String>,
    rule: &'a str,
    user_id: &'a str,
    username: &'a str,
    description: &'a str,
    facts: &'a [Fact],
}

impl<'a> Covered<'a> {
    fn of(a: &'a Action) -> Self {
        Covered {
            op: a.op,
            sobject: &a.sobject,
            id: a.id.as_deref(),
            fields: &a.fields,
            rule: &a.rule,
            user_id: &a.user_id,
            username: &a.username,
            description: &a.description,
            facts: &a.facts,
        }
    }
}

/// The whole digest's input.
#[derive(Serialize)]
struct CoveredPlan<'a> {
    org_id: &'a str,
    /// Per action, which fix it belongs to, numbered by first appearance.
    fixes: Vec<usize>,
    actions: Vec<Covered<'a>>,
}

/// Which fix each action belongs to, numbered 0, 1, ... in order of first appearance: the same
/// grouping gives the same numbers whatever the findings' positions were.
fn fixes(actions: &[Action]) -> Vec<usize> {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    actions
        .iter()
        .map(|a| {
            let next = seen.len();
            *seen.entry(a.finding).or_insert(next)
        })
        .collect()
}

/// Per-part digests the file carries, so a refusal can say what was edited.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Checks {
    /// Of the org id.
    org_id: String,
    /// Of which actions form one fix.
    fixes: String,
    /// Of each action, in order.
    actions: Vec<String>,
}

impl Checks {
    fn of(plan_org_id: &str, actions: &[Action]) -> Self {
        Checks {
            org_id: short(&hash(&plan_org_id)),
            fixes: short(&hash(&fixes(actions))),
            actions: actions
                .iter()
                .map(|a| short(&hash(&Covered::of(a))))
                .collect(),
        }
    }
}

/// The file as written: the plan's fields, then the checks.
#[derive(Serialize)]
struct FileOut<'a> {
    schema_version: u32,
    org_id: &'a str,
    snapshot_taken_at: &'a str,
    actions: &'a [Action],
    notes: &'a [String],
    digest: &'a str,
    checks: Checks,
}

/// The file as read: nothing unknown is accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    schema_version: u32,
    org_id: String,
    snapshot_taken_at: String,
    actions: Vec<Action>,
    notes: Vec<String>,
    digest: String,
    checks: Checks,
}

impl Plan {
    /// SHA-256 (hex) of the org id and the actions (see [`Plan::digest`]).
    pub fn digest_of(org_id: &str, actions: &[Action]) -> String {
        hash(&CoveredPlan {
            org_id,
            fixes: fixes(actions),
            actions: actions.iter().map(Covered::of).collect(),
        })
    }

    /// Whether [`Plan::digest`] still matches the plan.
    pub fn digest_matches(&self) -> bool {
        self.digest == Plan::digest_of(&self.org_id, &self.actions)
    }

    /// Reads a saved plan, refusing another schema version, an edited file, or an action whose
    /// facts are about another record than the one it touches.
    pub fn from_json(text: &str) -> Result<Plan, PlanFileError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            schema_version: u32,
        }
        let version: VersionOnly = serde_json::from_str(text).map_err(PlanFileError::Malformed)?;
        if version.schema_version != PLAN_SCHEMA_VERSION {
            return Err(PlanFileError::UnsupportedVersion {
                found: version.schema_version,
                supported: PLAN_SCHEMA_VERSION,
            });
        }
        let file: FileIn = serde_json::from_str(text).map_err(PlanFileError::Malformed)?;
        let plan = Plan {
            schema_version: file.schema_version,
            org_id: file.org_id,
            snapshot_taken_at: file.snapshot_taken_at,
            actions: file.actions,
            notes: file.notes,
            digest: file.digest,
        };
        let now = Checks::of(&plan.org_id, &plan.actions);
        if !plan.digest_matches() || now != file.checks {
            return Err(PlanFileError::Edited {
                differences: differences(&plan, &file.checks, &now),
            });
        }
        let problems: Vec<String> = plan
            .actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let t = Target {
                    op: a.op,
                    sobject: &a.sobject,
                    record_id: a.id.as_deref(),
                    fields: &a.fields,
                    user_id: &a.user_id,
                    facts: &a.facts,
                };
                let why = if a.facts.is_empty() && a.op != Op::Manual {
                    Some("it rests on no facts".to_string())
                } else {
                    target::problem(&t)
                };
                why.map(|why| format!("action {} {why}", i + 1))
            })
            .collect();
        if !problems.is_empty() {
            return Err(PlanFileError::Mistargeted { problems });
        }
        Ok(plan)
    }

    /// The plan as pretty JSON with its checks, the form `--plan-out` saves.
    pub fn to_json_pretty(&self) -> String {
        let file = FileOut {
            schema_version: self.schema_version,
            org_id: &self.org_id,
            snapshot_taken_at: &self.snapshot_taken_at,
            actions: &self.actions,
            notes: &self.notes,
            digest: &self.digest,
            checks: Checks::of(&self.org_id, &self.actions),
        };
        serde_json::to_string_pretty(&file)
            .expect("a plan holds only strings, numbers and lists, which always serialize")
    }
}

/// What was changed, from the checks `scan` wrote (`was`) and those of the content (`now`).
fn differences(plan: &Plan, was: &Checks, now: &Checks) -> Vec<String> {
    let mut out = Vec::new();
    if was.org_id != now.org_id {
        out.push(format!(
            "the org id was changed (it now reads {})",
            plan.org_id
        ));
    }
    if was.actions.len() != now.actions.len() {
        out.push(format!(
            "`scan` wrote {} action(s), the file now has {}",
            was.actions.len(),
            now.actions.len()
        ));
    }
    for (i, (action, digest)) in plan.actions.iter().zip(&now.actions).enumerate() {
        if was.actions.get(i) == Some(digest) {
            continue;
        }
        let step = format!(
            "action {} ({} {} {})",
            i + 1,
            action.op,
            action.sobject,
            action.id.as_deref().unwrap_or("-")
        );
        match was.actions.iter().position(|d| d == digest) {
            Some(j) => out.push(format!(
                "{step} was action {} in the order `scan` wrote",
                j + 1
            )),
            None => out.push(format!(
                "{step} is not as `scan` wrote it: its op, sobject, record id, fields, facts, user \
                 or description was changed"
            )),
        }
    }
    if was.fixes != now.fixes && out.is_empty() {
        out.push(
            "which steps belong to the same fix (their `finding` numbers) was changed".to_string(),
        );
    }
    if out.is_empty() {
        out.push("its `digest` or `checks` were changed".to_string());
    }
    out
}

/// SHA-256 (hex) of the canonical JSON of `value`: serde_json writes struct fields in
/// declaration order and maps here are B-tree maps. Streamed into the hash, so a plan of 100 000
/// actions needs no second copy in memory.
fn hash(value: &impl Serialize) -> String {
    let mut hasher = HashWriter(Sha256::new());
    serde_json::to_writer(&mut hasher, value)
        .expect("plans hold only strings, numbers and lists, and hashing cannot fail");
    hasher
        .0
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The first 16 hex digits: enough to tell parts apart, short enough for every action.
fn short(digest: &str) -> String {
    digest[..16].to_string()
}

/// Feeds serialized bytes straight into the hash.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
