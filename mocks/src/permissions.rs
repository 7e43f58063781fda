//! What the session's user may do, computed the way Salesforce does: the union of the user's
//! profile permission set (`PermissionSet` with `IsOwnedByProfile` and the user's `ProfileId`) and
//! every permission set assigned to them (directly, or as a component of an assigned group).
//! Each set carries Salesforce's `Permissions*` user-permission fields and `ObjectPermissions`
//! children (`PermissionsRead/Create/Edit/Delete` per `SobjectType`).
//!
//! Owns the access rules (which permission reads or writes which object; see `can`). It reads
//! the store and never changes it; the API layer and `Dml` ask it before acting.
//!
//! A fixture that has no profile permission set for the user (no `PermissionSet` with
//! `IsOwnedByProfile: true` and that `ProfileId`) models no permissions for them: the user is
//! treated as a System Administrator, so fixtures written before permissions were modelled behave
//! as before.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::store::Store;

/// The user permissions the simulator models, by their `PermissionSet` / `UserPermissionAccess`
/// field names. A fixture may set any of them on a permission set.
pub const USER_PERMISSIONS: [&str; 7] = [
    "PermissionsApiEnabled",
    "PermissionsViewSetup",
    "PermissionsAssignPermissionSets",
    "PermissionsManageUsers",
    "PermissionsViewAllUsers",
    "PermissionsViewAllData",
    "PermissionsModifyAllData",
];

/// The `ObjectPermissions` flags the simulator models.
pub const OBJECT_PERMISSIONS: [&str; 4] = [
    "PermissionsRead",
    "PermissionsCreate",
    "PermissionsEdit",
    "PermissionsDelete",
];

/// What an API call wants to do with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Create,
    Edit,
    Delete,
}

/// One object's CRUD flags from `ObjectPermissions`.
#[derive(Debug, Clone, Copy, Default)]
struct Crud {
    read: bool,
    create: bool,
    edit: bool,
    delete: bool,
}

/// The effective permissions of one user.
#[derive(Debug, Clone, Default)]
pub struct Effective {
    /// True when the fixture models no permissions for this user (no profile permission set):
    /// everything is allowed, as for a System Administrator.
    unrestricted: bool,
    /// `Permissions*` user permissions granted by any of the user's sets.
    user: BTreeSet<String>,
    /// CRUD per lowercased object name, OR-ed over the user's sets.
    objects: BTreeMap<String, Crud>,
    /// Lowercased `Object.Field` names that some `FieldPermissions` record in the org governs;
    /// only these can be hidden (see [`Effective::can_read_field`]).
    governed_fields: BTreeSet<String>,
    /// Lowercased `Object.Field` names one of the user's sets may read.
    readable_fields: BTreeSet<String>,
}

fn text<'m>(fields: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    fields.get(name).and_then(Value::as_str)
}

fn flag(fields: &Map<String, Value>, name: &str) -> bool {
    fields.get(name).and_then(Value::as_bool) == Some(true)
}

impl Effective {
    /// Everything allowed (internal writes, unknown users).
    pub fn unrestricted() -> Effective {
        Effective {
            unrestricted: true,
            ..Effective::default()
        }
    }

    /// The effective permissions of `user_id` in `store`.
    pub fn of(store: &Store, user_id: &str) -> Effective {
        let Some(user) = store.live(user_id) else {
            return Effective::unrestricted();
        };
        let profile = text(&user.fields, "ProfileId").unwrap_or_default();
        let mut sets: BTreeSet<String> = store
            .live_rows("PermissionSet")
            .filter(|r| flag(&r.fields, "IsOwnedByProfile"))
            .filter(|r| {
                text(&r.fields, "ProfileId")
                    .is_some_and(|p| !profile.is_empty() && same(p, profile))
            })
            .filter_map(|r| text(&r.fields, "Id").map(str::to_string))
            .collect();
        if sets.is_empty() {
            return Effective::unrestricted();
        }
        let user_id = text(&user.fields, "Id").unwrap_or(user_id).to_string();
        let mut groups = BTreeSet::new();
        for row in store.live_rows_of_assignee("PermissionSetAssignment", &user_id) {
            if let Some(ps) = text(&row.fields, "PermissionSetId") {
                sets.insert(ps.to_string());
            }
            if let Some(group) = text(&row.fields, "PermissionSetGroupId") {
                groups.insert(group.to_string());
            }
        }
        if !groups.is_empty() {
            for row in store.live_rows("PermissionSetGroupComponent") {
                let in_group =
                    text(&row.fields, "PermissionSetGroupId").is_some_and(|g| groups.contains(g));
                if in_group && let Some(ps) = text(&row.fields, "PermissionSetId") {
                    sets.insert(ps.to_string());
                }
            }
        }
        let mut effective = Effective::default();
        for id in &sets {
            let Some(row) = store.live(id) else { continue };
            for name in USER_PERMISSIONS {
                if flag(&row.fields, name) {
                    effective.user.insert(name.to_string());
                }
            }
        }
        for row in store.live_rows("ObjectPermissions") {
            if !text(&row.fields, "ParentId").is_some_and(|p| sets.contains(p)) {
                continue;
            }
            let Some(object) = text(&row.fields, "SobjectType") else {
                continue;
            };
            let crud = effective
                .objects
                .entry(object.to_ascii_lowercase())
                .or_default();
            crud.read |= flag(&row.fields, "PermissionsRead");
            crud.create |= flag(&row.fields, "PermissionsCreate");
            crud.edit |= flag(&row.fields, "PermissionsEdit");
            crud.delete |= flag(&row.fields, "PermissionsDelete");
        }
        for row in store.live_rows("FieldPermissions") {
            let Some(field) = text(&row.fields, "Field") else {
                continue;
            };
            let field = field.to_ascii_lowercase();
            let granted = text(&row.fields, "ParentId").is_some_and(|p| sets.contains(p))
                && flag(&row.fields, "PermissionsRead");
            if granted {
                effective.readable_fields.insert(field.clone());
            }
            effective.governed_fields.insert(field);
        }
        effective
    }

    /// Field-level security: a field is hidden from the user when the fixture governs it (some
    /// `FieldPermissions` record names it, `Field` = `Object.Field`) and none of the user's sets
    /// grants `PermissionsRead` on it. Fields no record names stay visible, so a fixture only
    /// lists the fields it means to restrict. A hidden field is left out of describe and is
    /// `INVALID_FIELD` in SOQL, as in Salesforce.
    pub fn can_read_field(&self, object: &str, field: &str) -> bool {
        if self.unrestricted {
            return true;
        }
        let key = format!("{object}.{field}").to_ascii_lowercase();
        !self.governed_fields.contains(&key) || self.readable_fields.contains(&key)
    }

    /// Whether the user holds a user permission (`PermissionsApiEnabled`...).
    pub fn has(&self, permission: &str) -> bool {
        self.unrestricted || self.user.contains(permission)
    }

    /// The `UserPermissionAccess` row: every modelled permission, true or false.
    pub fn user_permission_access(&self) -> Map<String, Value> {
        USER_PERMISSIONS
            .iter()
            .map(|p| (p.to_string(), Value::Bool(self.has(p))))
            .collect()
    }

    fn crud(&self, object: &str) -> Crud {
        self.objects
            .get(&object.to_ascii_lowercase())
            .copied()
            .unwrap_or_default()
    }

    /// Whether the user may do `access` on `object` (canonical name), before the schema's own
    /// limits (`createable`...) are applied. The rules, from the Object Reference's "Special
    /// Access Rules" and Salesforce Help:
    /// - `PermissionSetAssignment`: read with View Setup and Configuration, Assign Permission
    ///   Sets or Manage Users; create/delete with Assign Permission Sets;
    /// - `PermissionSetLicenseAssign`: read with View Setup and Configuration or Assign
    ///   Permission Sets; create/delete with Manage Users;
    /// - other setup objects (`PermissionSet`, `PermissionSetLicense`, `PermissionSetGroup`,
    ///   `PermissionSetGroupComponent`, `ObjectPermissions`, `CallCenter`, `PackageLicense`):
    ///   read with View Setup and Configuration; writes need Modify All Data;
    /// - `User`: read by everyone; edits need Manage Users;
    /// - `Organization`, `UserPermissionAccess`: read by everyone;
    /// - every other object (`VoiceCall`, `CallCenterRoutingMap`, custom objects): its
    ///   `ObjectPermissions` flag, or View All Data (read) / Modify All Data (writes).
    pub fn can(&self, object: &str, access: Access) -> bool {
        if self.unrestricted {
            return true;
        }
        let setup = self.has("PermissionsViewSetup");
        let assign = self.has("PermissionsAssignPermissionSets");
        let manage = self.has("PermissionsManageUsers");
        let modify_all = self.has("PermissionsModifyAllData");
        let write = access != Access::Read;
        match object {
            "PermissionSetAssignment" => match access {
                Access::Read => setup || assign || manage,
                _ => assign,
            },
            "PermissionSetLicenseAssign" => match access {
                Access::Read => setup || assign,
                _ => manage,
            },
            "PermissionSet"
            | "PermissionSetLicense"
            | "PermissionSetGroup"
            | "PermissionSetGroupComponent"
            | "ObjectPermissions"
            | "FieldPermissions"
            | "CallCenter"
            | "PackageLicense" => {
                if write {
                    modify_all
                } else {
                    setup
                }
            }
            "User" => !write || manage,
            "Organization" | "UserPermissionAccess" => !write,
            _ => {
                let crud = self.crud(object);
                match access {
                    Access::Read => crud.read || self.has("PermissionsViewAllData"),
                    Access::Create => crud.create || modify_all,
                    Access::Edit => crud.edit || modify_all,
                    Access::Delete => crud.delete || modify_all,
                }
            }
        }
    }
}

/// 15- and 18-character ids of the same record compare equal.
fn same(a: &str, b: &str) -> bool {
    a.get(..15) == b.get(..15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(records: Value) -> Store {
        let mut rows = Vec::new();
        for (object, list) in records.as_object().cloned().unwrap_or_default() {
            for r in list.as_array().cloned().unwrap_or_default() {
                rows.push((object.clone(), r.as_object().cloned().unwrap_or_default()));
            }
        }
        Store::from_records(rows)
    }

    fn org(profile_api: bool, set_perms: Value) -> Store {
        let mut set = json!({"Id": "0PS000000000002GAA", "IsOwnedByProfile": false});
        for (k, v) in set_perms.as_object().cloned().unwrap_or_default() {
            set[k] = v;
        }
        store(json!({
            "User": [{"Id": "005000000000001AAA", "ProfileId": "00e000000000001AAA"}],
            "PermissionSet": [
                {"Id": "0PS000000000001GAA", "IsOwnedByProfile": true,
                 "ProfileId": "00e000000000001AAA", "PermissionsApiEnabled": profile_api},
                set
            ],
            "PermissionSetAssignment": [
                {"Id": "0Pa000000000001CAA", "AssigneeId": "005000000000001AAA",
                 "PermissionSetId": "0PS000000000002GAA"}
            ],
            "ObjectPermissions": [
                {"Id": "110000000000001AAA", "ParentId": "0PS000000000002GAA",
                 "SobjectType": "VoiceCall", "PermissionsRead": true}
            ]
        }))
    }

    #[test]
    fn permissions_are_the_union_of_profile_and_assigned_sets() {
        let s = org(true, json!({"PermissionsViewSetup": true}));
        let e = Effective::of(&s, "005000000000001AAA");
        assert!(e.has("PermissionsApiEnabled"));
        assert!(e.has("PermissionsViewSetup"));
        assert!(!e.has("PermissionsAssignPermissionSets"));
        assert!(e.can("PermissionSetAssignment", Access::Read));
        assert!(!e.can("PermissionSetAssignment", Access::Delete));
        assert!(e.can("VoiceCall", Access::Read));
        assert!(!e.can("VoiceCall", Access::Delete));
    }

    #[test]
    fn a_permission_set_to_false_takes_it_away() {
        let s = org(false, json!({}));
        let e = Effective::of(&s, "005000000000001AAA");
        assert!(!e.has("PermissionsApiEnabled"));
        assert!(!e.can("PermissionSet", Access::Read));
        assert_eq!(
            e.user_permission_access()["PermissionsApiEnabled"],
            json!(false)
        );
    }

    #[test]
    fn a_user_without_a_profile_set_is_unrestricted() {
        let s = store(json!({"User": [{"Id": "005000000000001AAA"}]}));
        let e = Effective::of(&s, "005000000000001AAA");
        assert!(e.can("PermissionSetLicenseAssign", Access::Delete));
    }
}
