//! Lookups over one snapshot that every rule (and the plan) shares, built once per run.
//!
//! Owns: [`SnapshotIndex`] and the one definition of "a user holds a permission set": directly, or
//! as a member of a permission set group the user is assigned.
//!
//! Must not: decide anything about licenses being wasted (the rules do), or change the snapshot.

use std::collections::HashMap;

use crate::snapshot::model::{
    CallCenter, OrgSnapshot, PermissionSet, PermissionSetAssignment, PermissionSetGroup,
    PermissionSetLicense, PermissionSetLicenseAssignment, User,
};

use super::{
    CallCenterKind, CallCenterRef, GroupRef, HeldLicense, HeldPermissionSet, PermissionSetRef,
};

/// A permission set a user holds, and how.
#[derive(Debug, Clone, Copy)]
pub struct Holding<'a> {
    /// The assignment that gives it: the set's own, or the user's assignment of a group.
    pub assignment: &'a PermissionSetAssignment,
    /// The set held.
    pub permission_set_id: &'a str,
    /// The set's record, when the snapshot has it (it has every licensed one).
    pub permission_set: Option<&'a PermissionSet>,
    /// The group the set comes through, if any.
    pub via_group: Option<&'a str>,
}

impl<'a> Holding<'a> {
    /// The license the held set needs, if known.
    pub fn license_id(&self) -> Option<&'a str> {
        self.permission_set
            .and_then(|set| set.license_id.as_deref())
    }

    /// The set's name for reports and config: API name, or the id when unknown.
    pub fn name(&self) -> String {
        match self.permission_set {
            Some(set) => set.qualified_name(),
            None => self.permission_set_id.to_string(),
        }
    }
}

/// Lookups by id (and by name where config names things) over one snapshot.
pub struct SnapshotIndex<'a> {
    /// The indexed snapshot, for rules that scan whole lists in snapshot order.
    snapshot: &'a OrgSnapshot,
    /// By `Id`: findings name users, assignments point at them.
    users: HashMap<&'a str, &'a User>,
    /// By `Id`: assignments and components point at sets.
    permission_sets: HashMap<&'a str, &'a PermissionSet>,
    /// By `Id`: sets and seats point at licenses.
    licenses: HashMap<&'a str, &'a PermissionSetLicense>,
    /// By `DeveloperName`: config names licenses.
    licenses_by_name: HashMap<&'a str, &'a PermissionSetLicense>,
    /// By `Id`, to name groups in evidence and manual steps.
    groups: HashMap<&'a str, &'a PermissionSetGroup>,
    /// Group id to the ids of its member sets, in snapshot order.
    group_members: HashMap<&'a str, Vec<&'a str>>,
    /// By assignee: what each user holds.
    assignments_by_user: HashMap<&'a str, Vec<&'a PermissionSetAssignment>>,
    /// By assignee: each user's seats.
    license_assignments_by_user: HashMap<&'a str, Vec<&'a PermissionSetLicenseAssignment>>,
    /// By `Id`: `User.call_center_id` points at centers.
    call_centers: HashMap<&'a str, &'a CallCenter>,
}

impl<'a> SnapshotIndex<'a> {
    /// Indexes `snapshot`; linear in its size.
    pub fn new(snapshot: &'a OrgSnapshot) -> Self {
        let mut group_members: HashMap<&str, Vec<&str>> = HashMap::new();
        for component in &snapshot.group_components {
            group_members
                .entry(component.permission_set_group_id.as_str())
                .or_default()
                .push(component.permission_set_id.as_str());
        }
        let mut assignments_by_user: HashMap<&str, Vec<&PermissionSetAssignment>> = HashMap::new();
        for assignment in &snapshot.permission_set_assignments {
            assignments_by_user
                .entry(assignment.assignee_id.as_str())
                .or_default()
                .push(assignment);
        }
        let mut license_assignments_by_user: HashMap<&str, Vec<&PermissionSetLicenseAssignment>> =
            HashMap::new();
        for seat in &snapshot.license_assignments {
            license_assignments_by_user
                .entry(seat.assignee_id.as_str())
                .or_default()
                .push(seat);
        }
        SnapshotIndex {
            snapshot,
            users: snapshot.users.iter().map(|u| (u.id.as_str(), u)).collect(),
            permission_sets: snapshot
                .permission_sets
                .iter()
                .map(|s| (s.id.as_str(), s))
                .collect(),
            licenses: snapshot
                .licenses
                .iter()
                .map(|l| (l.id.as_str(), l))
                .collect(),
            licenses_by_name: snapshot
                .licenses
                .iter()
                .map(|l| (l.developer_name.as_str(), l))
                .collect(),
            groups: snapshot.groups.iter().map(|g| (g.id.as_str(), g)).collect(),
            group_members,
            assignments_by_user,
            license_assignments_by_user,
            call_centers: snapshot
                .call_centers
                .iter()
                .map(|c| (c.id.as_str(), c))
                .collect(),
        }
    }

    /// The indexed snapshot.
    pub fn snapshot(&self) -> &'a OrgSnapshot {
        self.snapshot
    }

    /// A user by `Id`.
    pub fn user(&self, id: &str) -> Option<&'a User> {
        self.users.get(id).copied()
    }

    /// A permission set by `Id`.
    pub fn permission_set(&self, id: &str) -> Option<&'a PermissionSet> {
        self.permission_sets.get(id).copied()
    }

    /// The sets config's `name` designates (normally one; several only in a malformed snapshot).
    pub fn permission_sets_named(&self, name: &str) -> Vec<&'a PermissionSet> {
        self.snapshot
            .permission_sets
            .iter()
            .filter(|set| set.is_named(name))
            .collect()
    }

    /// A license by `Id`.
    pub fn license(&self, id: &str) -> Option<&'a PermissionSetLicense> {
        self.licenses.get(id).copied()
    }

    /// A license by `DeveloperName`.
    pub fn license_named(&self, developer_name: &str) -> Option<&'a PermissionSetLicense> {
        self.licenses_by_name.get(developer_name).copied()
    }

    /// A group by `Id`.
    pub fn group(&self, id: &str) -> Option<&'a PermissionSetGroup> {
        self.groups.get(id).copied()
    }

    /// A contact center by `Id`.
    pub fn call_center(&self, id: &str) -> Option<&'a CallCenter> {
        self.call_centers.get(id).copied()
    }

    /// The seats `user_id` holds, in snapshot order.
    pub fn license_assignments(&self, user_id: &str) -> &[&'a PermissionSetLicenseAssignment] {
        self.license_assignments_by_user
            .get(user_id)
            .map_or(&[], Vec::as_slice)
    }

    /// Every permission set `user_id` holds (among those the snapshot covers), directly or
    /// through a group, in snapshot order. A set held both ways appears once per way, because
    /// each way must be undone to take it away.
    pub fn holdings(&self, user_id: &str) -> Vec<Holding<'a>> {
        let Some(assignments) = self.assignments_by_user.get(user_id) else {
            return Vec::new();
        };
        let mut holdings = Vec::new();
        for assignment in assignments {
            let own_set = assignment.permission_set_id.as_deref();
            // A group assignment points at the group's aggregated set; its group id is on the
            // assignment, or failing that on the aggregated set itself.
            let group_id = assignment.permission_set_group_id.as_deref().or_else(|| {
                own_set
                    .and_then(|id| self.permission_set(id))
                    .and_then(|set| set.permission_set_group_id.as_deref())
            });
            match group_id {
                Some(group_id) => {
                    for member in self.group_members.get(group_id).into_iter().flatten() {
                        holdings.push(Holding {
                            assignment,
                            permission_set_id: member,
                            permission_set: self.permission_set(member),
                            via_group: Some(group_id),
                        });
                    }
                }
                None => {
                    if let Some(set_id) = own_set {
                        holdings.push(Holding {
                            assignment,
                            permission_set_id: set_id,
                            permission_set: self.permission_set(set_id),
                            via_group: None,
                        });
                    }
                }
            }
        }
        holdings
    }

    /// Whether `user_id` holds one of `groups` (permission set group ids) by a group
    /// assignment, whatever sets the group holds (a group of license-free sets gives no
    /// [`Holding`]).
    pub fn holds_any_group(&self, user_id: &str, groups: &std::collections::HashSet<&str>) -> bool {
        self.assignments_by_user
            .get(user_id)
            .into_iter()
            .flatten()
            .any(|a| {
                a.permission_set_group_id
                    .as_deref()
                    .is_some_and(|g| groups.contains(g))
            })
    }

    /// The report form of a holding.
    pub fn held_permission_set(&self, holding: &Holding<'_>) -> HeldPermissionSet {
        HeldPermissionSet {
            assignment_id: holding.assignment.id.clone(),
            permission_set_id: holding.permission_set_id.to_string(),
            permission_set: holding.name(),
            license: holding
                .license_id()
                .and_then(|id| self.license(id))
                .map(|license| license.developer_name.clone()),
            via_group: holding.via_group.map(|id| self.group_ref(id)),
        }
    }

    /// A group named for reports (its id when the snapshot lacks it).
    pub fn group_ref(&self, group_id: &str) -> GroupRef {
        GroupRef {
            id: group_id.to_string(),
            name: self
                .group(group_id)
                .map_or_else(|| group_id.to_string(), |g| g.developer_name.clone()),
        }
    }

    /// The report form of a seat.
    pub fn held_license(&self, seat: &PermissionSetLicenseAssignment) -> HeldLicense {
        HeldLicense {
            assignment_id: seat.id.clone(),
            license_id: seat.license_id.clone(),
            license: self
                .license(&seat.license_id)
                .map_or_else(|| seat.license_id.clone(), |l| l.developer_name.clone()),
        }
    }

    /// A contact center named and classified for reports.
    pub fn call_center_ref(
        &self,
        call_center_id: &str,
        kind: impl Fn(&CallCenter) -> CallCenterKind,
    ) -> CallCenterRef {
        match self.call_center(call_center_id) {
            Some(center) => CallCenterRef {
                id: center.id.clone(),
                name: center.name.clone(),
                kind: kind(center),
            },
            None => CallCenterRef {
                id: call_center_id.to_string(),
                name: call_center_id.to_string(),
                kind: CallCenterKind::Unknown,
            },
        }
    }
}

/// A permission set named for reports.
pub(crate) fn set_ref(set: &PermissionSet) -> PermissionSetRef {
    PermissionSetRef {
        id: set.id.clone(),
        name: set.qualified_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::{self, *};

    #[test]
    fn a_set_held_through_a_group_is_held_via_that_group() {
        let mut snapshot = testkit::seed();
        testkit::move_voice_into_group(&mut snapshot, USER2);
        let index = SnapshotIndex::new(&snapshot);
        let voice: Vec<_> = index
            .holdings(USER2)
            .into_iter()
            .filter(|h| h.permission_set_id == VOICE_PS)
            .collect();
        assert_eq!(voice.len(), 1);
        assert_eq!(voice[0].via_group, Some(VOICE_GROUP));
        assert_eq!(voice[0].assignment.id, GROUP_ASSIGNMENT);
        assert_eq!(voice[0].license_id(), Some(SCV_PSL));
    }

    #[test]
    fn a_user_without_assignments_holds_nothing() {
        let snapshot = testkit::seed();
        let index = SnapshotIndex::new(&snapshot);
        assert!(index.holdings("005000000000999AAA").is_empty());
        assert!(index.license_assignments("005000000000999AAA").is_empty());
    }
}
