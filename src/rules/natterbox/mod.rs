//! The Natterbox license policy: a rule pack (data, see [`pack`]) run over the per-user license
//! records of Natterbox's managed package, cross-checked with the users' Salesforce Voice seats.
//!
//! Owns: [`NatterboxRule`], which judges each record by every rule of the pack, and the fix
//! proposals (set or clear one checkbox) of the rules that have one.
//!
//! Must not: assume the package is installed (the fetch describes the org first; without it the
//! rule says "skipped"), or change anything: a fix is a proposal the plan turns into an action
//! only when the org's config lists the rule in `[org.natterbox] fix`.

pub mod pack;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use pack::{FixSpec, Pack, PackError, PackRule, PackSeverity, RuleKind};

use super::{
    Evidence, Finding, HeldLicense, Rule, RuleContext, RuleError, RuleOutcome, RuleStatus,
    Severity, SnapshotIndex,
};
use crate::snapshot::model::NatterboxRecord;

/// The rule id of Natterbox findings (each finding's `kind` is the pack rule's id).
pub const ID: &str = "natterbox";

/// A proposed change of one checkbox of a Natterbox record, with the values it relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldFix {
    /// The object (`nbavs__User__c`) and record to update.
    pub object: String,
    pub record_id: String,
    /// The checkbox field and the value to give it.
    pub field: String,
    pub value: bool,
    /// The pack's name of that license, for messages.
    pub license: String,
    /// Field values that make the rule broken now (the fix relies on them; apply checks them
    /// again): the field to change holds `!value`, and the rule's trigger holds.
    pub expects: Vec<(String, bool)>,
    /// Whether the org's config turned this rule's fix on.
    pub enabled: bool,
}

/// The pack as a [`Rule`].
pub struct NatterboxRule {
    /// The checked pack.
    pub pack: Arc<Pack>,
    /// Rule ids whose fixes the plan may carry out.
    pub fixes: BTreeSet<String>,
}

impl NatterboxRule {
    fn held(&self, record: &NatterboxRecord, license: &str) -> bool {
        self.pack
            .licenses
            .get(license)
            .and_then(|field| record.fields.get(field))
            .copied()
            .unwrap_or(false)
    }

    fn field(&self, license: &str) -> String {
        self.pack.licenses.get(license).cloned().unwrap_or_default()
    }

    fn label(&self, license: &str) -> String {
        format!("{}:{license}", self.pack.namespace)
    }
}

fn severity(s: PackSeverity) -> Severity {
    match s {
        PackSeverity::Error => Severity::High,
        PackSeverity::Warning => Severity::Medium,
        PackSeverity::Info => Severity::Low,
    }
}

impl Rule for NatterboxRule {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "Natterbox license policy (the rule pack), cross-checked with the Salesforce Voice seats"
    }

    fn evaluate(
        &self,
        index: &SnapshotIndex<'_>,
        _ctx: &RuleContext,
    ) -> Result<RuleOutcome, RuleError> {
        let snapshot = index.snapshot();
        let Some(data) = &snapshot.natterbox else {
            let mut outcome = RuleOutcome::new(ID, RuleStatus::Undetermined);
            outcome
                .notes
                .push("the Natterbox records were not read for this snapshot".to_string());
            return Ok(outcome);
        };
        if let Some(why) = &data.absent {
            let mut outcome = RuleOutcome::new(ID, RuleStatus::NotApplicable);
            outcome.notes.push(format!(
                "skipped: {why}; the Natterbox pack found nothing to check"
            ));
            return Ok(outcome);
        }
        let mut outcome = RuleOutcome::new(ID, RuleStatus::Applies);
        outcome.notes.push(format!(
            "checked {} Natterbox user record(s) against {} rule(s) of {}",
            data.records.len(),
            self.pack.rules.len(),
            self.pack.source
        ));
        let mut records: Vec<&NatterboxRecord> = data.records.iter().collect();
        records.sort_by(|a, b| a.username.cmp(&b.username).then(a.id.cmp(&b.id)));
        for rule in &self.pack.rules {
            for record in &records {
                for finding in self.judge(index, rule, record) {
                    outcome.findings.push(finding);
                }
            }
        }
        let orphans = records.iter().filter(|r| r.user_id.is_none()).count();
        if orphans > 0 {
            outcome.notes.push(format!(
                "{orphans} Natterbox record(s) point at no user; the seat cross-checks skip them"
            ));
        }
        if let Some(seats) = &data.package {
            let holders: BTreeSet<&str> = records
                .iter()
                .filter(|r| r.fields.values().any(|v| *v))
                .map(|r| r.user_id.as_deref().unwrap_or(r.id.as_str()))
                .collect();
            if seats.allowed >= 0 && holders.len() as i64 > seats.allowed {
                outcome.notes.push(format!(
                    "over-assigned: {} users hold a Natterbox license, but the {} package has {} \
                     seat(s) (PackageLicense)",
                    holders.len(),
                    self.pack.namespace,
                    seats.allowed
                ));
            } else if seats.allowed >= 0 && seats.used > seats.allowed {
                outcome.notes.push(format!(
                    "over-assigned: Salesforce counts {} of the {} package's {} seat(s) used",
                    seats.used, self.pack.namespace, seats.allowed
                ));
            } else {
                outcome.notes.push(format!(
                    "package seats: {} user(s) hold a Natterbox license; the package has {} \
                     ({} used)",
                    holders.len(),
                    if seats.allowed < 0 {
                        "a licence for the whole org".to_string()
                    } else {
                        format!("{} seat(s)", seats.allowed)
                    },
                    seats.used
                ));
            }
        }
        Ok(outcome)
    }
}

impl NatterboxRule {
    /// The findings of one rule on one record.
    fn judge(
        &self,
        index: &SnapshotIndex<'_>,
        rule: &PackRule,
        record: &NatterboxRecord,
    ) -> Vec<Finding> {
        let held: Vec<String> = self
            .pack
            .licenses
            .keys()
            .filter(|k| self.held(record, k))
            .cloned()
            .collect();
        let seats = |psls: &[String]| -> Vec<HeldLicense> {
            let Some(user) = &record.user_id else {
                return Vec::new();
            };
            index
                .license_assignments(user)
                .iter()
                .filter_map(|seat| {
                    let license = index.license(&seat.license_id)?;
                    psls.contains(&license.developer_name)
                        .then(|| index.held_license(seat))
                })
                .collect()
        };
        let broken: Option<(String, String, Vec<HeldLicense>)> = match &rule.kind {
            RuleKind::Implies { when, then } => {
                (self.held(record, when) && !self.held(record, then)).then(|| {
                    (
                        when.clone(),
                        format!("holds {when} without {then}"),
                        Vec::new(),
                    )
                })
            }
            RuleKind::Excludes { licenses } => {
                let both: Vec<&String> = licenses.iter().filter(|l| self.held(record, l)).collect();
                (both.len() > 1).then(|| {
                    (
                        both[0].clone(),
                        format!(
                            "holds {}, which exclude each other",
                            both.iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                        Vec::new(),
                    )
                })
            }
            RuleKind::Disabled { license } => self
                .held(record, license)
                .then(|| (license.clone(), format!("holds {license}"), Vec::new())),
            RuleKind::RequiresAny { when, any_of } => {
                let have: Vec<&String> = when.iter().filter(|w| self.held(record, w)).collect();
                (!have.is_empty() && !any_of.iter().any(|a| self.held(record, a))).then(|| {
                    (
                        have[0].clone(),
                        format!(
                            "holds {} without {}",
                            have.iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            any_of.join(" or ")
                        ),
                        Vec::new(),
                    )
                })
            }
            RuleKind::RequiresPsl { when, psl } => (self.held(record, when)
                && record.user_id.is_some()
                && seats(psl).is_empty())
            .then(|| {
                (
                    when.clone(),
                    format!("holds {when} without a seat of {}", psl.join(" or ")),
                    Vec::new(),
                )
            }),
            RuleKind::ExcludesPsl { when, psl } => {
                let taken = if self.held(record, when) {
                    seats(psl)
                } else {
                    Vec::new()
                };
                (!taken.is_empty()).then(|| {
                    (
                        when.clone(),
                        format!(
                            "holds {when} and a {} seat",
                            taken
                                .iter()
                                .map(|s| s.license.as_str())
                                .collect::<Vec<_>>()
                                .join(" and a ")
                        ),
                        taken,
                    )
                })
            }
        };
        let Some((license, what, taken)) = broken else {
            return Vec::new();
        };
        let username = record
            .username
            .clone()
            .unwrap_or_else(|| format!("(Natterbox record {} without a user)", record.id));
        let evidence = vec![Evidence::NatterboxLicenses {
            record_id: record.id.clone(),
            object: self.pack.object.clone(),
            held: held.clone(),
        }];
        let fix = rule.fix.as_ref().map(|fix| {
            let mut expects = vec![(self.field(&fix.license), !fix.value)];
            if let RuleKind::Implies { when, then } = &rule.kind {
                let other = if fix.license == *then { when } else { then };
                expects.push((self.field(other), fix.license == *then));
            }
            FieldFix {
                object: self.pack.object.clone(),
                record_id: record.id.clone(),
                field: self.field(&fix.license),
                value: fix.value,
                license: fix.license.clone(),
                expects,
                enabled: self.fixes.contains(&rule.id),
            }
        });
        let user_active = record.user_active.unwrap_or(true);
        let base = Finding {
            rule: ID.to_string(),
            kind: rule.id.clone(),
            severity: Severity::for_user(severity(rule.severity), user_active),
            user_id: record.user_id.clone().unwrap_or_default(),
            username: username.clone(),
            user_active,
            psl: self.label(&license),
            psl_id: record.id.clone(),
            license_assignment_id: None,
            unassign_first: Vec::new(),
            recoverable_seats: 0,
            summary: format!("{username} {what}: {}", rule.explanation),
            evidence,
            field_fix: fix,
        };
        if taken.is_empty() {
            return vec![base];
        }
        // One finding a seat: each is a seat paid for an interface the user cannot use.
        taken
            .into_iter()
            .map(|seat| {
                let mut f = base.clone();
                f.psl = seat.license.clone();
                f.psl_id = seat.license_id.clone();
                f.license_assignment_id = Some(seat.assignment_id.clone());
                f.evidence.push(Evidence::HoldsLicense(seat));
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit;
    use crate::snapshot::model::{NatterboxData, NatterboxRecord};

    fn record(id: &str, user: &str, held: &[&str]) -> NatterboxRecord {
        let pack = Pack::builtin();
        NatterboxRecord {
            id: id.into(),
            user_id: Some(user.into()),
            username: Some(format!("{user}@example.org")),
            user_active: Some(true),
            fields: pack
                .licenses
                .iter()
                .map(|(k, f)| (f.clone(), held.contains(&k.as_str())))
                .collect(),
        }
    }

    fn run(records: Vec<NatterboxRecord>) -> Vec<(String, String)> {
        let mut snapshot = testkit::seed();
        snapshot.natterbox = Some(NatterboxData {
            object: "nbavs__User__c".into(),
            absent: None,
            records,
            package: None,
        });
        let index = SnapshotIndex::new(&snapshot);
        let rule = NatterboxRule {
            pack: Arc::new(Pack::builtin()),
            fixes: BTreeSet::new(),
        };
        rule.evaluate(&index, &RuleContext::default())
            .unwrap()
            .findings
            .into_iter()
            .map(|f| (f.kind, f.username))
            .collect()
    }

    #[test]
    fn a_user_obeying_every_rule_has_no_finding() {
        assert_eq!(
            run(vec![record("a1", "u1", &["freedom", "cti", "pbx"])]),
            vec![]
        );
    }

    #[test]
    fn each_broken_rule_is_one_finding() {
        let found = run(vec![
            record("a1", "u1", &["freedom", "pbx"]),
            record("a2", "u2", &["freedom", "cti", "scv", "pbx"]),
            record("a3", "u3", &["pci"]),
        ]);
        let kinds: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert!(kinds.contains(&"freedom-needs-cti"), "{found:?}");
        assert!(kinds.contains(&"freedom-excludes-scv"), "{found:?}");
        assert!(kinds.contains(&"pci-not-in-use"), "{found:?}");
        assert!(kinds.contains(&"scv-needs-partner-psl"), "{found:?}");
    }

    #[test]
    fn an_org_without_the_package_is_skipped_and_says_so() {
        let mut snapshot = testkit::seed();
        snapshot.natterbox = Some(NatterboxData {
            object: "nbavs__User__c".into(),
            absent: Some("the org has no nbavs__User__c object".into()),
            records: Vec::new(),
            package: None,
        });
        let index = SnapshotIndex::new(&snapshot);
        let rule = NatterboxRule {
            pack: Arc::new(Pack::builtin()),
            fixes: BTreeSet::new(),
        };
        let outcome = rule.evaluate(&index, &RuleContext::default()).unwrap();
        assert_eq!(outcome.status, RuleStatus::NotApplicable);
        assert!(outcome.findings.is_empty());
        assert!(
            outcome.notes[0].starts_with("skipped:"),
            "{:?}",
            outcome.notes
        );
    }
}
