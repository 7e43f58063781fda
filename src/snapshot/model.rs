//! The org snapshot: the license facts of one org at one moment, as plain serializable data.
//!
//! Owns: the domain types the rules, the ledger and the plan read (DOMAIN.md §2 fields in
//! snake_case), the snapshot file's schema version, and reading a saved snapshot back
//! (`scan --snapshot FILE` replays one offline).
//!
//! Must not: know the Salesforce wire format (nested `attributes`, relationship objects, paging),
//! fetch anything, or read the clock: the caller fetches, converts wire records into these types,
//! and passes `taken_at` in.

use serde::{Deserialize, Serialize};

/// The snapshot schema this build writes and reads. Bump it when a field changes meaning or is
/// removed, so an old saved snapshot is refused with a clear message instead of misread.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// A saved snapshot could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, truncated, or a field missing or of the wrong type.
    #[error(
        "the snapshot is not a valid pslwarden snapshot ({0}). It may be truncated or edited by \
         hand: use the snapshot.json of another run, or run `scan` against the org again"
    )]
    Malformed(#[source] serde_json::Error),
    /// Written by another version of pslwarden.
    #[error(
        "the snapshot has schema version {found}, this pslwarden reads version {supported}: \
         run `scan` against the org again to take a new snapshot"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
}

/// The license facts of one org at one moment.
///
/// # Contract: a snapshot may be partial
///
/// The snapshot is taken with targeted queries, so it does NOT hold every assignment in the org.
/// Consumers must only draw conclusions that the data below guarantees; whoever fills a snapshot
/// must provide at least this:
///
/// * `licenses`: every permission set license of the org (the ledger lists them all, and a
///   license missing here makes its assignments unjudgeable).
/// * `permission_sets`: every permission set whose `LicenseId` is one of those licenses, plus
///   every set named in the config (the Voice permission set, the contact-center sets, a
///   replacement set), even when it is not linked to a license.
/// * `group_components`: every component whose permission set is one of those sets, and
///   `groups`: every group those components belong to.
/// * `license_assignments`: every assignment of every license the enabled rules judge
///   (`orphan-psl`: all licenses except its exceptions; `scv-double-consumption`: the two Voice
///   licenses).
/// * `permission_set_assignments`: for every user in `license_assignments`, ALL of that user's
///   assignments of the sets above, direct or through a group (a group assignment is the one whose
///   `permission_set_group_id` is one of `groups`). A missing one makes a needed seat look wasted,
///   and the plan would delete it.
///   Also the assignments of a configured replacement set by those users, so the plan does not
///   create one that exists (Salesforce would answer `DUPLICATE_VALUE`).
/// * `users`: every assignee of those license assignments.
/// * `call_centers`: every contact center (there are few).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSnapshot {
    /// [`SNAPSHOT_SCHEMA_VERSION`] at the time of writing; checked when a saved snapshot is read.
    pub schema_version: u32,
    /// `Organization.Id`, so a saved snapshot or plan cannot be mistaken for another org's.
    pub org_id: String,
    /// `Organization.Name`, for reports.
    pub org_name: String,
    /// When the snapshot was taken (RFC 3339, UTC), passed in by the caller: the data is only
    /// true as of this moment.
    pub taken_at: String,
    /// REST API version the data was read with, e.g. `"65.0"`; field meanings can change between
    /// versions.
    pub api_version: String,
    /// Assignees of the license assignments below.
    pub users: Vec<User>,
    /// Licensed permission sets and the sets named in config.
    pub permission_sets: Vec<PermissionSet>,
    /// Every permission set license of the org.
    pub licenses: Vec<PermissionSetLicense>,
    /// Assignments of the permission sets above (directly or through a group).
    pub permission_set_assignments: Vec<PermissionSetAssignment>,
    /// Seats: one record per user per license.
    pub license_assignments: Vec<PermissionSetLicenseAssignment>,
    /// Groups that contain one of the permission sets above.
    pub groups: Vec<PermissionSetGroup>,
    /// Which permission sets those groups contain.
    pub group_components: Vec<PermissionSetGroupComponent>,
    /// Contact centers, to say which one a user is in and what kind it is.
    pub call_centers: Vec<CallCenter>,
    /// Natterbox's per-user license records, when its rule pack ran (`None`: not looked for;
    /// older snapshots have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub natterbox: Option<NatterboxData>,
}

/// What the Natterbox pack found in the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatterboxData {
    /// The pack's object (`nbavs__User__c`), and whether the org has it as the pack expects.
    pub object: String,
    /// `None` when present and read; otherwise why not (package not installed, fields differ).
    pub absent: Option<String>,
    /// One per user license record; `fields` holds each of the pack's checkbox fields.
    pub records: Vec<NatterboxRecord>,
    /// The package's seats (`PackageLicense`), when the org reports them.
    pub package: Option<PackageSeats>,
}

/// One Natterbox per-user license record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatterboxRecord {
    /// The record's id: what a fix updates.
    pub id: String,
    /// The User it belongs to (its lookup field).
    pub user_id: Option<String>,
    /// That user's `Username` and `IsActive`, for reports.
    pub username: Option<String>,
    pub user_active: Option<bool>,
    /// Checkbox field → checked.
    pub fields: std::collections::BTreeMap<String, bool>,
}

/// A managed package's seats (`PackageLicense`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSeats {
    /// `AllowedLicenses`: -1 means the whole org (site licence).
    pub allowed: i64,
    /// `UsedLicenses`, Salesforce's count.
    pub used: i64,
    /// `Status` (`Active`, `Trial`, ...).
    pub status: Option<String>,
}

impl OrgSnapshot {
    /// An empty snapshot of the current schema version, to be filled by the fetcher (or a test).
    pub fn new(
        org_id: impl Into<String>,
        org_name: impl Into<String>,
        taken_at: impl Into<String>,
        api_version: impl Into<String>,
    ) -> Self {
        OrgSnapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            org_id: org_id.into(),
            org_name: org_name.into(),
            taken_at: taken_at.into(),
            api_version: api_version.into(),
            users: Vec::new(),
            permission_sets: Vec::new(),
            licenses: Vec::new(),
            permission_set_assignments: Vec::new(),
            license_assignments: Vec::new(),
            groups: Vec::new(),
            group_components: Vec::new(),
            call_centers: Vec::new(),
            natterbox: None,
        }
    }

    /// Reads a saved snapshot (the text of a `snapshot.json`), refusing other schema versions.
    pub fn from_json(text: &str) -> Result<Self, SnapshotError> {
        // The version is read on its own first, so a snapshot from another version says so
        // instead of failing on whichever field changed.
        #[derive(Deserialize)]
        struct VersionOnly {
            schema_version: u32,
        }
        let version: VersionOnly = serde_json::from_str(text).map_err(SnapshotError::Malformed)?;
        if version.schema_version != SNAPSHOT_SCHEMA_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                found: version.schema_version,
                supported: SNAPSHOT_SCHEMA_VERSION,
            });
        }
        serde_json::from_str(text).map_err(SnapshotError::Malformed)
    }

    /// The snapshot as pretty JSON, the form saved with every run.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a snapshot holds only strings, numbers and booleans, which always serialize")
    }
}

/// `User`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `Id` (18 characters).
    pub id: String,
    /// `Username`: what an admin searches for in Setup.
    pub username: String,
    /// `Name`: for reports.
    pub name: String,
    /// `IsActive`: wasted seats of deactivated users are reported apart from active ones.
    pub is_active: bool,
    /// `CallCenterId`: the contact center the user is in (at most one), evidence for findings.
    pub call_center_id: Option<String>,
}

/// `PermissionSet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSet {
    /// `Id`.
    pub id: String,
    /// `Name`: the API name, stable across label changes; what config refers to.
    pub name: String,
    /// `Label`: for reports.
    pub label: String,
    /// `LicenseId`: the license this set needs (a permission set license, or a user license);
    /// a user holding the set needs a seat of that license.
    pub license_id: Option<String>,
    /// `IsOwnedByProfile`: a profile's hidden set, never the Voice permission set.
    pub is_owned_by_profile: bool,
    /// `PermissionSetGroupId`: set on a group's aggregated permission set, which is never the
    /// Voice permission set either.
    pub permission_set_group_id: Option<String>,
    /// `NamespacePrefix`: a managed package's sets are named `prefix__Name` in config.
    pub namespace_prefix: Option<String>,
    /// `IsCustom`: standard (Salesforce-provided) versus admin-made, for reports.
    pub is_custom: bool,
}

impl PermissionSet {
    /// The name config uses: `Name`, prefixed with `NamespacePrefix__` for a managed package's set.
    pub fn qualified_name(&self) -> String {
        match &self.namespace_prefix {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}__{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Whether config's `name` designates this set (`Name`, or `prefix__Name` when namespaced).
    pub fn is_named(&self, name: &str) -> bool {
        match &self.namespace_prefix {
            Some(prefix) if !prefix.is_empty() => name
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_prefix("__"))
                .is_some_and(|rest| rest == self.name),
            _ => name == self.name,
        }
    }
}

/// `PermissionSetLicense` (read-only in Salesforce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetLicense {
    /// `Id`.
    pub id: String,
    /// `DeveloperName`: stable, unlike the label ("Service Cloud Voice" became "Salesforce
    /// Voice"); what config and reports name a license by.
    pub developer_name: String,
    /// `MasterLabel`: for reports.
    pub label: String,
    /// `TotalLicenses`: seats bought.
    pub total: u32,
    /// `UsedLicenses`: seats taken, as Salesforce counts them (the snapshot may not hold every
    /// assignment, so this is never recomputed from it).
    pub used: u32,
    /// `Status` (`Active`, `Disabled`), for reports.
    pub status: String,
    /// `ExpirationDate` (`YYYY-MM-DD`), for reports.
    pub expiration_date: Option<String>,
}

/// `PermissionSetAssignment`: a user holds a permission set, or a permission set group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetAssignment {
    /// `Id`: what the plan deletes.
    pub id: String,
    /// `AssigneeId`: the user.
    pub assignee_id: String,
    /// `PermissionSetId`. Salesforce always fills it (for a group assignment: the group's
    /// aggregated permission set); optional so that a record without it is still read.
    pub permission_set_id: Option<String>,
    /// `PermissionSetGroupId`: set when the user holds a whole group; the group's member sets
    /// then come from `group_components`.
    pub permission_set_group_id: Option<String>,
    /// `IsActive`, for reports. The rules count an assignment whether or not it is active: it
    /// exists, so a license it needs must not be taken away.
    pub is_active: bool,
    /// `ExpirationDate`, for reports.
    pub expiration_date: Option<String>,
}

/// `PermissionSetLicenseAssign`: one seat of a license taken by one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetLicenseAssignment {
    /// `Id`: what the plan deletes to free the seat.
    pub id: String,
    /// `AssigneeId`: the user.
    pub assignee_id: String,
    /// `PermissionSetLicenseId`: the license.
    pub license_id: String,
}

/// `PermissionSetGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetGroup {
    /// `Id`.
    pub id: String,
    /// `DeveloperName`: for reports and manual steps.
    pub developer_name: String,
    /// `MasterLabel`: what an admin sees in Setup.
    pub label: String,
}

/// `PermissionSetGroupComponent`: a group contains a permission set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetGroupComponent {
    /// `Id`.
    pub id: String,
    /// `PermissionSetGroupId`: the group.
    pub permission_set_group_id: String,
    /// `PermissionSetId`: the member set; a licensed member needs its license for every user
    /// holding the group.
    pub permission_set_id: String,
}

/// `CallCenter`: a contact center (Amazon Connect or partner telephony).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCenter {
    /// `Id`: what `User.call_center_id` points to.
    pub id: String,
    /// `Name`: what config overrides the classification by.
    pub name: String,
    /// `InternalName`: also accepted by the classification override.
    pub internal_name: String,
    /// `AdapterUrl`, for reports.
    pub adapter_url: Option<String>,
    /// `CustomSettings`: the settings text, which tells Amazon Connect centers from partner ones.
    pub custom_settings: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_snapshot_reads_back_identical() {
        let mut snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        snapshot.users.push(User {
            id: "005000000000001AAA".into(),
            username: "a@example.org".into(),
            name: "A".into(),
            is_active: true,
            call_center_id: None,
        });
        let read = OrgSnapshot::from_json(&snapshot.to_json_pretty()).expect("reads back");
        assert_eq!(read, snapshot);
    }

    #[test]
    fn a_truncated_snapshot_is_a_clear_error() {
        let snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        let text = snapshot.to_json_pretty();
        let error = OrgSnapshot::from_json(&text[..text.len() / 2]).expect_err("truncated");
        assert!(matches!(error, SnapshotError::Malformed(_)), "{error}");
        assert!(error.to_string().contains("truncated"), "{error}");
    }

    #[test]
    fn a_snapshot_of_another_schema_version_is_refused() {
        let mut snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        snapshot.schema_version = SNAPSHOT_SCHEMA_VERSION + 1;
        let error = OrgSnapshot::from_json(&snapshot.to_json_pretty()).expect_err("newer version");
        assert!(
            matches!(error, SnapshotError::UnsupportedVersion { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_managed_package_set_is_named_with_its_prefix() {
        let set = PermissionSet {
            id: "0PS000000000001AAA".into(),
            name: "Agent".into(),
            label: "Agent".into(),
            license_id: None,
            is_owned_by_profile: false,
            permission_set_group_id: None,
            namespace_prefix: Some("nbavs".into()),
            is_custom: false,
        };
        assert!(set.is_named("nbavs__Agent"));
        assert!(!set.is_named("Agent"));
        assert_eq!(set.qualified_name(), "nbavs__Agent");
    }
}
