//! The pure half of `doctor`'s preflight: what pslwarden needs from the integration user (the one
//! list, which `config/salesforce/`'s permission set must match) and the verdicts on what the
//! reads found. No I/O, no clock.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Mode;

/// Whether pslwarden needs something to read the org or to change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `scan`, `licenses`, `doctor`: every mode.
    Read,
    /// `apply` and `rollback`: an error with `mode = "apply"` or `"approved"`, a warning in
    /// dry-run mode.
    Write,
    /// `usage` only: a warning whatever the mode.
    Usage,
}

/// A user permission pslwarden needs.
#[derive(Debug, Clone, Copy)]
pub struct UserPermission {
    /// The `UserPermissionAccess` / `PermissionSet` field (`PermissionsApiEnabled`).
    pub field: &'static str,
    /// The Metadata API name in a `.permissionset-meta.xml` (`ApiEnabled`).
    pub metadata: &'static str,
    /// Its label in Setup.
    pub label: &'static str,
    pub need: Need,
    /// Why pslwarden needs it, for the admin.
    pub why: &'static str,
}

/// The user permissions, from the Object Reference's special access rules:
/// PermissionSetAssignment is readable with View Setup and Configuration (or Assign Permission
/// Sets, or Manage Users), PermissionSetLicenseAssign with View Setup and Configuration (or
/// Assign Permission Sets); assigning and unassigning permission sets needs Assign Permission
/// Sets, permission set licenses Manage Users (Salesforce Help, "Assign a Permission Set License
/// to a User").
pub const USER_PERMISSIONS: [UserPermission; 4] = [
    UserPermission {
        field: "PermissionsApiEnabled",
        metadata: "ApiEnabled",
        label: "API Enabled",
        need: Need::Read,
        why: "every call pslwarden makes goes through the REST API",
    },
    UserPermission {
        field: "PermissionsViewSetup",
        metadata: "ViewSetup",
        label: "View Setup and Configuration",
        need: Need::Read,
        why: "permission sets, licenses, their assignments and contact centers are setup objects",
    },
    UserPermission {
        field: "PermissionsAssignPermissionSets",
        metadata: "AssignPermissionSets",
        label: "Assign Permission Sets",
        need: Need::Write,
        why: "apply deletes (and rollback re-creates) permission set assignments",
    },
    UserPermission {
        field: "PermissionsManageUsers",
        metadata: "ManageUsers",
        label: "Manage Users",
        need: Need::Write,
        why: "apply deletes (and rollback re-creates) permission set license assignments",
    },
];

/// An object pslwarden reads or changes, with the describe flags and fields it needs.
#[derive(Debug, Clone, Copy)]
pub struct ObjectNeed {
    pub object: &'static str,
    /// `queryable` needed, and for what.
    pub read: Need,
    /// `createable` and `deletable` needed for apply and rollback.
    pub create_delete: bool,
    /// `updateable` needed for apply (Natterbox fixes).
    pub update: bool,
    /// Fields the SOQL selects: each must be in the describe (field-level security hides the
    /// others).
    pub fields: &'static [&'static str],
    /// Whether a permission set grants it through `<objectPermissions>` (standard and custom
    /// data objects); setup objects come with the user permissions instead.
    pub object_permission: bool,
}

/// Every standard object pslwarden touches (the Natterbox object is added from the pack).
pub const OBJECTS: [ObjectNeed; 9] = [
    ObjectNeed {
        object: "PermissionSetAssignment",
        read: Need::Read,
        create_delete: true,
        update: false,
        fields: &[
            "Id",
            "AssigneeId",
            "PermissionSetId",
            "PermissionSetGroupId",
        ],
        object_permission: false,
    },
    ObjectNeed {
        object: "PermissionSetLicenseAssign",
        read: Need::Read,
        create_delete: true,
        update: false,
        fields: &["Id", "AssigneeId", "PermissionSetLicenseId"],
        object_permission: false,
    },
    ObjectNeed {
        object: "PermissionSet",
        read: Need::Read,
        create_delete: false,
        update: false,
        fields: &["Id", "Name", "Label", "LicenseId", "IsOwnedByProfile"],
        object_permission: false,
    },
    ObjectNeed {
        object: "PermissionSetLicense",
        read: Need::Read,
        create_delete: false,
        update: false,
        fields: &[
            "Id",
            "DeveloperName",
            "MasterLabel",
            "TotalLicenses",
            "UsedLicenses",
        ],
        object_permission: false,
    },
    ObjectNeed {
        object: "PermissionSetGroup",
        read: Need::Read,
        create_delete: false,
        update: false,
        fields: &["Id", "DeveloperName", "MasterLabel"],
        object_permission: false,
    },
    ObjectNeed {
        object: "PermissionSetGroupComponent",
        read: Need::Read,
        create_delete: false,
        update: false,
        fields: &["Id", "PermissionSetGroupId", "PermissionSetId"],
        object_permission: false,
    },
    ObjectNeed {
        object: "CallCenter",
        read: Need::Read,
        create_delete: false,
        update: false,
        fields: &["Id", "Name", "InternalName", "AdapterUrl", "CustomSettings"],
        object_permission: false,
    },
    ObjectNeed {
        object: "User",
        read: Need::Read,
        create_delete: false,
        update: false,
        fields: &["Id", "Username", "Name", "IsActive", "CallCenterId"],
        object_permission: false,
    },
    ObjectNeed {
        object: "VoiceCall",
        read: Need::Usage,
        create_delete: false,
        update: false,
        fields: &[
            "Id",
            "CallType",
            "CallStartDateTime",
            "CallEndDateTime",
            "CallDurationInSeconds",
        ],
        object_permission: true,
    },
];

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Something the org's mode needs is missing: doctor exits 1.
    Missing,
    /// Missing, but not needed by the org's mode (or only by `usage`).
    Warning,
}

/// One line of the preflight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What is checked, e.g. `permission: Assign Permission Sets`.
    pub name: String,
    pub status: Status,
    /// What the org answered.
    pub found: String,
    /// The Setup step or metadata change that fixes it; empty when ok.
    pub fix: String,
}

/// What the describes said about one object: `None` when the object is not visible at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectFound {
    pub queryable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub fields: Vec<String>,
}

/// Everything the reads found, the judge's only input besides the mode.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// `UserPermissionAccess` fields → value; `None` when it could not be read.
    pub user_permissions: Option<BTreeMap<String, bool>>,
    /// Why `UserPermissionAccess` could not be read, if so.
    pub user_permissions_error: Option<String>,
    /// Object → what its describe said (`None`: not visible to the user).
    pub objects: BTreeMap<String, Option<ObjectFound>>,
    /// The Natterbox object to check too (when enabled): name and fields.
    pub natterbox: Option<(String, Vec<String>)>,
    /// The org refused the API itself (`API_CURRENTLY_DISABLED`): the user lacks API Enabled and
    /// nothing else could be read.
    pub api_disabled: bool,
}

const PERMISSION_SET_FIX: &str = "deploy config/salesforce (sf project deploy start --source-dir \
     config/salesforce/force-app --target-org ALIAS) and assign the Pslwarden_Integration \
     permission set to the integration user (Setup > Users > the user > Permission Set \
     Assignments > Edit Assignments)";

/// The verdict for something needed for `need`, found or not, under `mode`.
fn verdict(ok: bool, need: Need, mode: Mode) -> Status {
    match (ok, need, mode) {
        (true, _, _) => Status::Ok,
        (false, Need::Read, _) | (false, Need::Write, Mode::Apply | Mode::Approved) => {
            Status::Missing
        }
        _ => Status::Warning,
    }
}

fn need_note(need: Need, mode: Mode) -> &'static str {
    match (need, mode) {
        (Need::Write, Mode::DryRun) => " (needed only when mode = \"apply\" or \"approved\")",
        (Need::Usage, _) => " (needed only by pslwarden usage)",
        _ => "",
    }
}

/// Judges the findings: one check per user permission, per object flag and per object's fields.
pub fn judge(found: &Findings, mode: Mode) -> Vec<Check> {
    let mut checks = Vec::new();
    for p in USER_PERMISSIONS {
        let value = if found.api_disabled && p.field == "PermissionsApiEnabled" {
            Some(false)
        } else {
            found
                .user_permissions
                .as_ref()
                .map(|m| m.get(p.field).copied().unwrap_or(false))
        };
        let status = verdict(value == Some(true), p.need, mode);
        let found_text = match (value, &found.user_permissions_error) {
            (Some(true), _) => format!("{} is granted", p.field),
            (Some(false), _) => format!("{} is not granted{}", p.field, need_note(p.need, mode)),
            (None, Some(e)) => format!("could not read UserPermissionAccess: {e}"),
            (None, None) => "could not read UserPermissionAccess".to_string(),
        };
        checks.push(Check {
            name: format!("permission: {}", p.label),
            status,
            found: found_text,
            fix: if status == Status::Ok {
                String::new()
            } else {
                format!(
                    "grant \"{}\" ({}; {}): {}, or add <userPermissions><enabled>true</enabled>\
                     <name>{}</name></userPermissions> to a permission set assigned to the user",
                    p.label, p.metadata, p.why, PERMISSION_SET_FIX, p.metadata
                )
            },
        });
    }
    let mut objects: Vec<Wanted> = OBJECTS.iter().map(Wanted::from).collect();
    if let Some((object, fields)) = &found.natterbox {
        objects.push(Wanted {
            object: object.clone(),
            read: Need::Read,
            create_delete: false,
            update: true,
            fields: fields.clone(),
            object_permission: true,
            optional: true,
        });
    }
    for need in &objects {
        checks.extend(judge_object(need, found.objects.get(&need.object), mode));
    }
    checks
}

/// [`ObjectNeed`] with owned names, so the pack's object can be judged the same way.
struct Wanted {
    object: String,
    read: Need,
    create_delete: bool,
    update: bool,
    fields: Vec<String>,
    object_permission: bool,
    /// A package's object: absent may mean not installed, which the scan tolerates (it skips
    /// the package's rules), so its absence is a warning.
    optional: bool,
}

impl From<&ObjectNeed> for Wanted {
    fn from(n: &ObjectNeed) -> Wanted {
        Wanted {
            object: n.object.to_string(),
            read: n.read,
            create_delete: n.create_delete,
            update: n.update,
            fields: n.fields.iter().map(|f| f.to_string()).collect(),
            object_permission: n.object_permission,
            optional: false,
        }
    }
}

fn object_fix(need: &Wanted, flag: &str) -> String {
    let object = &need.object;
    if need.object_permission {
        let allow = match flag {
            "queryable" => "allowRead",
            "updateable" => "allowEdit",
            "createable" => "allowCreate",
            _ => "allowDelete",
        };
        format!(
            "give the integration user {flag} on {object}: Setup > Permission Sets > \
             Pslwarden_Integration > Object Settings > {object} > Edit, or add \
             <objectPermissions><object>{object}</object><{allow}>true</{allow}></objectPermissions> \
             to the permission set"
        )
    } else {
        format!(
            "{object} is a setup object: its access comes with the user permissions above \
             (View Setup and Configuration to read; Assign Permission Sets / Manage Users to \
             change); {PERMISSION_SET_FIX}"
        )
    }
}

fn judge_object(need: &Wanted, found: Option<&Option<ObjectFound>>, mode: Mode) -> Vec<Check> {
    let object = &need.object;
    let Some(Some(found)) = found else {
        let (status, note) = if need.optional {
            (
                Status::Warning,
                " (the package is not installed, or hidden: scan skips its rules)",
            )
        } else {
            (verdict(false, need.read, mode), need_note(need.read, mode))
        };
        return vec![Check {
            name: format!("object: {object}"),
            status,
            found: format!("{object} is not visible to the integration user{note}"),
            fix: object_fix(need, "queryable"),
        }];
    };
    let mut flags: Vec<(&str, bool, Need)> = vec![("queryable", found.queryable, need.read)];
    if need.create_delete {
        flags.push(("deletable", found.deletable, Need::Write));
        flags.push(("createable", found.createable, Need::Write));
    }
    if need.update {
        flags.push(("updateable", found.updateable, Need::Write));
    }
    let mut checks: Vec<Check> = flags
        .into_iter()
        .map(|(flag, ok, need_for)| {
            let status = verdict(ok, need_for, mode);
            Check {
                name: format!("object: {object} {flag}"),
                status,
                found: format!(
                    "describe says {flag} = {ok}{}",
                    if ok { "" } else { need_note(need_for, mode) }
                ),
                fix: if ok {
                    String::new()
                } else {
                    object_fix(need, flag)
                },
            }
        })
        .collect();
    let missing: Vec<&str> = need
        .fields
        .iter()
        .map(String::as_str)
        .filter(|f| !found.fields.iter().any(|g| g.eq_ignore_ascii_case(f)))
        .collect();
    let status = verdict(missing.is_empty(), need.read, mode);
    checks.push(Check {
        name: format!("fields: {object}"),
        status,
        found: if missing.is_empty() {
            format!(
                "all {} fields pslwarden selects are visible",
                need.fields.len()
            )
        } else {
            format!(
                "not visible to the integration user: {}{}",
                missing.join(", "),
                need_note(need.read, mode)
            )
        },
        fix: if missing.is_empty() {
            String::new()
        } else {
            format!(
                "give read access to {} on {object}: Setup > Permission Sets > \
                 Pslwarden_Integration > Object Settings > {object} > Field Permissions, or \
                 <fieldPermissions><field>{object}.FIELD</field><readable>true</readable>\
                 </fieldPermissions> in the permission set",
                missing.join(", ")
            )
        },
    });
    checks
}

/// True when any check the org's mode needs failed.
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_granted() -> Findings {
        let mut f = Findings {
            user_permissions: Some(
                USER_PERMISSIONS
                    .iter()
                    .map(|p| (p.field.to_string(), true))
                    .collect(),
            ),
            ..Findings::default()
        };
        for o in OBJECTS {
            f.objects.insert(
                o.object.to_string(),
                Some(ObjectFound {
                    queryable: true,
                    createable: true,
                    updateable: true,
                    deletable: true,
                    fields: o.fields.iter().map(|s| s.to_string()).collect(),
                }),
            );
        }
        f
    }

    #[test]
    fn everything_granted_passes() {
        let checks = judge(&all_granted(), Mode::Apply);
        assert!(checks.iter().all(|c| c.status == Status::Ok), "{checks:?}");
    }

    #[test]
    fn a_write_permission_is_a_warning_in_dry_run_and_missing_in_apply() {
        let mut f = all_granted();
        if let Some(m) = f.user_permissions.as_mut() {
            m.insert("PermissionsManageUsers".into(), false);
        }
        let dry = judge(&f, Mode::DryRun);
        let check = dry
            .iter()
            .find(|c| c.name == "permission: Manage Users")
            .expect("check");
        assert_eq!(check.status, Status::Warning);
        assert!(!failed(&dry));
        let apply = judge(&f, Mode::Apply);
        assert!(failed(&apply));
        assert!(
            apply
                .iter()
                .any(|c| c.fix.contains("<name>ManageUsers</name>"))
        );
    }

    #[test]
    fn a_hidden_field_fails_naming_it() {
        let mut f = all_granted();
        if let Some(Some(o)) = f.objects.get_mut("User") {
            o.fields.retain(|x| x != "CallCenterId");
        }
        let checks = judge(&f, Mode::DryRun);
        let c = checks
            .iter()
            .find(|c| c.name == "fields: User")
            .expect("check");
        assert_eq!(c.status, Status::Missing);
        assert!(c.found.contains("CallCenterId"));
    }
}
