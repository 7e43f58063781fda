//! Does an action touch the record its own facts are about?
//!
//! Owns: [`problem`], the one rule shared by the plan file check (before sign-in) and
//! `apply::verify` (right before acting): a delete of assignment X must rest on a fact that
//! assignment X exists and is the action's user's; a create must create what its facts say the
//! user lacks; an update must touch the record its facts read. Without it, an action re-targeted
//! by hand (or by a bug) would delete a record nothing in the plan justifies while its facts and
//! description still speak of another.
//!
//! Must not: read the org or the clock; whether the facts are still true is `apply::verify`'s
//! job, against a fresh read.

use std::collections::BTreeMap;

use super::{Fact, LICENSE_ASSIGNMENT, Op, PERMISSION_SET_ASSIGNMENT};

/// The parts of an action that say what it touches and why.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub op: Op,
    pub sobject: &'a str,
    /// The record deleted, updated, or (manual step) to be changed by the admin.
    pub record_id: Option<&'a str>,
    /// The fields a create or update writes.
    pub fields: &'a BTreeMap<String, String>,
    /// The user whose access the action changes: the facts must be about this user.
    pub user_id: &'a str,
    pub facts: &'a [Fact],
}

/// Why the action does not touch what its facts are about, or `None` when it does.
pub fn problem(t: &Target<'_>) -> Option<String> {
    let what = describe(t);
    match (t.op, t.sobject) {
        (Op::Delete | Op::Manual, PERMISSION_SET_ASSIGNMENT) => {
            let id = t.record_id?;
            // Context facts name the user's other assignments too: the one removed is the one
            // whose set the facts say needs the license.
            let needing: Vec<&str> = t
                .facts
                .iter()
                .filter_map(|f| match f {
                    Fact::PermissionSetNeedsLicense {
                        permission_set_id, ..
                    } => Some(permission_set_id.as_str()),
                    _ => None,
                })
                .collect();
            let named: Vec<(&str, &str, &str, Option<&str>)> = t
                .facts
                .iter()
                .filter_map(|f| match f {
                    Fact::UserHoldsPermissionSet {
                        user_id,
                        permission_set_id,
                        assignment_id,
                        via_group_id,
                    } if needing.contains(&permission_set_id.as_str()) => Some((
                        assignment_id.as_str(),
                        user_id.as_str(),
                        permission_set_id.as_str(),
                        via_group_id.as_deref(),
                    )),
                    _ => None,
                })
                .collect();
            match named.iter().find(|(a, ..)| *a == id) {
                None => {
                    let ids: Vec<&str> = named.iter().map(|(a, ..)| *a).collect();
                    Some(names_other(&what, "permission set assignment", &ids))
                }
                Some((_, user, ..)) if *user != t.user_id => Some(format!(
                    "{what} is for user {}, but its facts say assignment {id} is user {user}'s",
                    t.user_id
                )),
                Some((.., Some(group))) if t.op == Op::Delete => Some(format!(
                    "{what}: its facts say assignment {id} gives the set through permission set \
                     group {group}, and pslwarden never deletes a group assignment (a manual step)"
                )),
                Some(_) => None,
            }
        }
        (Op::Delete | Op::Manual, LICENSE_ASSIGNMENT) => {
            let id = t.record_id?;
            // Context facts name the user's other seats too: the one freed is the seat of the
            // license the facts say nothing else needs.
            let freed: Vec<&str> = t
                .facts
                .iter()
                .filter_map(|f| match f {
                    Fact::NothingElseNeedsLicense { license_id, .. } => Some(license_id.as_str()),
                    _ => None,
                })
                .collect();
            let named: Vec<(&str, &str)> = t
                .facts
                .iter()
                .filter_map(|f| match f {
                    Fact::UserHoldsSeat {
                        user_id,
                        license_id,
                        assignment_id,
                    } if freed.contains(&license_id.as_str()) => {
                        Some((assignment_id.as_str(), user_id.as_str()))
                    }
                    _ => None,
                })
                .collect();
            match named.iter().find(|(a, _)| *a == id) {
                None => {
                    let ids: Vec<&str> = named.iter().map(|(a, _)| *a).collect();
                    Some(names_other(&what, "license assignment", &ids))
                }
                Some((_, user)) if *user != t.user_id => Some(format!(
                    "{what} is for user {}, but its facts say seat {id} is user {user}'s",
                    t.user_id
                )),
                Some(_) => None,
            }
        }
        (Op::Manual, _) => None,
        (Op::Create, PERMISSION_SET_ASSIGNMENT) => create_problem(t, &what),
        (Op::Update, sobject)
            if sobject != PERMISSION_SET_ASSIGNMENT && sobject != LICENSE_ASSIGNMENT =>
        {
            update_problem(t, &what)
        }
        (op, sobject) => Some(format!(
            "{what}: pslwarden never makes a `{op}` of {sobject} records"
        )),
    }
}

/// A create of a permission set assignment: exactly the user and the set its facts name.
fn create_problem(t: &Target<'_>, what: &str) -> Option<String> {
    let assignee = t.fields.get("AssigneeId").map(String::as_str);
    let set = t.fields.get("PermissionSetId").map(String::as_str);
    let (Some(assignee), Some(set)) = (assignee, set) else {
        return Some(format!(
            "{what} does not name both AssigneeId and PermissionSetId"
        ));
    };
    if t.fields.len() != 2 {
        return Some(format!(
            "{what} sets fields besides AssigneeId and PermissionSetId"
        ));
    }
    if assignee != t.user_id {
        return Some(format!(
            "{what} assigns user {assignee}, but the action is for user {}",
            t.user_id
        ));
    }
    let lacks = t.facts.iter().any(|f| {
        matches!(f, Fact::UserLacksPermissionSet { user_id, permission_set_id }
            if user_id == assignee && permission_set_id == set)
    });
    let no_seat = t.facts.iter().any(|f| {
        matches!(f, Fact::PermissionSetNeedsNoSeat { permission_set_id, .. }
            if permission_set_id == set)
    });
    if lacks && no_seat {
        None
    } else {
        Some(format!(
            "{what} assigns permission set {set} to {assignee}, but its facts are about another \
             set or user"
        ))
    }
}

/// An update: of the record its facts read, with checkbox values only.
fn update_problem(t: &Target<'_>, what: &str) -> Option<String> {
    let Some(id) = t.record_id else {
        return Some(format!("{what} names no record"));
    };
    if t.fields.is_empty() || t.fields.values().any(|v| v != "true" && v != "false") {
        return Some(format!(
            "{what} does not set checkbox fields to true or false"
        ));
    }
    let mut read = t.facts.iter().filter_map(|f| match f {
        Fact::FieldIs {
            object, record_id, ..
        } => Some((object.as_str(), record_id.as_str())),
        _ => None,
    });
    let mut any = false;
    for (object, record_id) in read.by_ref() {
        any = true;
        if object != t.sobject || record_id != id {
            return Some(format!(
                "{what}, but its facts are about {object} {record_id}"
            ));
        }
    }
    (!any).then(|| format!("{what} rests on no fact about the record it changes"))
}

/// "action deletes X, but its facts name Y" (or name none).
fn names_other(what: &str, kind: &str, ids: &[&str]) -> String {
    if ids.is_empty() {
        format!("{what}, but none of its facts names the {kind} to remove")
    } else {
        format!(
            "{what}, but its facts are about {kind} {} instead",
            ids.join(", ")
        )
    }
}

fn describe(t: &Target<'_>) -> String {
    let verb = match t.op {
        Op::Delete => "deletes",
        Op::Create => "creates",
        Op::Manual => "asks the admin to change",
        Op::Update => "updates",
    };
    match t.record_id {
        Some(id) => format!("it {verb} {} {id}", t.sobject),
        None => format!("it {verb} a {}", t.sobject),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(assignment: &str, user: &str) -> Fact {
        Fact::UserHoldsPermissionSet {
            user_id: user.into(),
            permission_set_id: "0PS1".into(),
            assignment_id: assignment.into(),
            via_group_id: None,
        }
    }

    fn needs() -> Fact {
        Fact::PermissionSetNeedsLicense {
            permission_set_id: "0PS1".into(),
            license_id: "0PL1".into(),
        }
    }

    fn target<'a>(
        op: Op,
        sobject: &'a str,
        id: &'a str,
        fields: &'a BTreeMap<String, String>,
        facts: &'a [Fact],
    ) -> Target<'a> {
        Target {
            op,
            sobject,
            record_id: Some(id),
            fields,
            user_id: "005A",
            facts,
        }
    }

    #[test]
    fn a_delete_of_the_assignment_its_facts_name_is_fine() {
        let facts = [holds("0PaX", "005A"), needs()];
        let none = BTreeMap::new();
        let t = target(Op::Delete, PERMISSION_SET_ASSIGNMENT, "0PaX", &none, &facts);
        assert_eq!(problem(&t), None);
    }

    #[test]
    fn a_delete_of_another_assignment_than_its_facts_name_is_refused() {
        let facts = [holds("0PaY", "005A"), needs()];
        let none = BTreeMap::new();
        let t = target(Op::Delete, PERMISSION_SET_ASSIGNMENT, "0PaX", &none, &facts);
        let why = problem(&t).expect("re-targeted");
        assert!(why.contains("0PaX") && why.contains("0PaY"), "{why}");
    }

    #[test]
    fn an_assignment_named_only_as_context_is_not_a_target() {
        // The user's other set, named because it stays: deleting it is not what the facts ask.
        let other = Fact::UserHoldsPermissionSet {
            user_id: "005A".into(),
            permission_set_id: "0PS2".into(),
            assignment_id: "0PaZ".into(),
            via_group_id: None,
        };
        let facts = [holds("0PaX", "005A"), needs(), other];
        let none = BTreeMap::new();
        let t = target(Op::Delete, PERMISSION_SET_ASSIGNMENT, "0PaZ", &none, &facts);
        let why = problem(&t).expect("context, not target");
        assert!(why.contains("0PaZ") && why.contains("0PaX"), "{why}");
    }

    #[test]
    fn another_users_assignment_or_a_foreign_sobject_is_refused() {
        let facts = [holds("0PaX", "005B"), needs()];
        let none = BTreeMap::new();
        let t = target(Op::Delete, PERMISSION_SET_ASSIGNMENT, "0PaX", &none, &facts);
        assert!(problem(&t).expect("other user").contains("005B"));
        let t = target(Op::Delete, "User", "0PaX", &none, &facts);
        assert!(problem(&t).expect("user delete").contains("never"));
    }

    #[test]
    fn a_create_must_match_what_its_facts_say_is_missing() {
        let facts = [
            Fact::UserLacksPermissionSet {
                user_id: "005A".into(),
                permission_set_id: "0PS9".into(),
            },
            Fact::PermissionSetNeedsNoSeat {
                permission_set_id: "0PS9".into(),
                license_id: None,
            },
        ];
        let fields = BTreeMap::from([
            ("AssigneeId".to_string(), "005A".to_string()),
            ("PermissionSetId".to_string(), "0PS9".to_string()),
        ]);
        let t = Target {
            op: Op::Create,
            sobject: PERMISSION_SET_ASSIGNMENT,
            record_id: None,
            fields: &fields,
            user_id: "005A",
            facts: &facts,
        };
        assert_eq!(problem(&t), None);
        let mut other = fields.clone();
        other.insert("PermissionSetId".into(), "0PS1".into());
        let t = Target {
            fields: &other,
            ..t
        };
        assert!(problem(&t).is_some());
    }
}
